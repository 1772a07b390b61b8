"""Spec validation and the MLP's structure, parameters and predictions."""
from __future__ import annotations

import numpy as np
import pytest

from models import MLP, Dense, Dropout, ReLU, Spec, SpecError, Tanh


@pytest.mark.parametrize("kwargs, words", [
    ({"hidden": (0,)}, "positive"),
    ({"classes": 0}, "positive"),
    ({"activation": "swish"}, "activation"),
    ({"init": "zeros"}, "init"),
    ({"dropout": 1.0}, "dropout"),
    ({"dropout": -0.1}, "dropout"),
])
def test_spec_rejects_bad_architectures(kwargs, words):
    with pytest.raises(SpecError, match=words):
        Spec(**kwargs)


def test_spec_round_trips_through_a_dict():
    spec = Spec(784, [64, 32], 10, "tanh", "xavier", 0.25, 9)
    assert spec.hidden == (64, 32) and spec.sizes == (784, 64, 32, 10)
    d = spec.to_dict()
    assert d["hidden"] == [64, 32] and "sizes" not in d
    assert Spec.from_dict(d) == spec
    assert Spec.from_dict({**d, "unrelated": 1}) == spec
    assert str(spec) == "784-64-32-10"


def test_layers_follow_the_spec():
    model = MLP(Spec(20, (8, 6), 3, "tanh", dropout=0.5))
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [Dense, Tanh, Dropout, Dense, Tanh, Dropout, Dense]
    assert [d.W.shape for d in model.dense] == [(20, 8), (8, 6), (6, 3)]
    assert len(model.params) == len(model.grads) == 6
    assert all(p.shape == g.shape for p, g in zip(model.params, model.grads))
    assert model.n_params() == 20 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3
    assert all(p.dtype == np.float32 for p in model.params)


def test_no_hidden_layer_is_softmax_regression():
    model = MLP(Spec(784, (), 10))
    assert [type(layer) for layer in model.layers] == [Dense]


@pytest.mark.parametrize("init, scale", [("he", lambda i, o: np.sqrt(2 / i)),
                                         ("xavier", lambda i, o: np.sqrt(2 / (i + o)))])
def test_init_scales(init, scale):
    model = MLP(Spec(784, (400,), 10, init=init, seed=1))
    W = model.dense[0].W
    assert abs(W.std() / scale(784, 400) - 1) < 0.02
    assert not model.dense[0].b.any()


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (MLP(Spec(30, (10,), 4, seed=s)) for s in (5, 5, 6))
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert not np.array_equal(a.params[0], c.params[0])


def test_training_forward_matches_inference_forward(rng):
    model = MLP(Spec(30, (10, 8), 4, "relu"))
    x = rng.random((6, 30), dtype=np.float32)
    before = x.copy()
    infer = model.forward(x)
    trained = model.forward(x, train=True).copy()
    np.testing.assert_allclose(trained, infer, rtol=1e-6)
    np.testing.assert_array_equal(x, before)  # the input is never written


def test_predict_proba_is_chunked_softmax(rng):
    model = MLP(Spec(30, (10,), 4, seed=2))
    x = rng.random((23, 30), dtype=np.float32)
    proba = model.predict_proba(x)
    assert proba.dtype == np.float32 and proba.shape == (23, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(proba, model.predict_proba(x, chunk=5), rtol=1e-5)  # BLAS may round per shape
    z = model.forward(x).astype(np.float64)
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(model.predict(x), proba.argmax(axis=1))


def test_get_and_set_weights(rng):
    model = MLP(Spec(30, (10,), 4))
    ids = [id(p) for p in model.params]
    saved = model.get_weights()
    saved[0][0, 0] += 1  # a copy, not a view
    assert model.params[0][0, 0] != saved[0][0, 0]
    new = [rng.standard_normal(p.shape).astype(np.float32) for p in model.params]
    model.set_weights(new)
    assert [id(p) for p in model.params] == ids, "set_weights must copy in place (the optimizer holds the arrays)"
    assert all(np.array_equal(p, w) for p, w in zip(model.params, new))


def test_relu_and_dense_reuse_their_buffers(rng):
    model = MLP(Spec(30, (10,), 4))
    x = rng.random((8, 30), dtype=np.float32)
    first = model.forward(x, train=True)
    second = model.forward(x, train=True)
    assert first is second  # same batch size: the same output buffer
    assert model.forward(x[:5], train=True).shape == (5, 4)
    assert isinstance(model.layers[1], ReLU)
