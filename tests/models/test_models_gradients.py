"""Numerical gradient checks (central differences, float64) for every backward pass.

The loss and L2 checks live here too: they are the other half of the backward pass the
layers feed, and this file is the one place that owns the gradient checker.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.losses import l2_penalty, softmax_cross_entropy
from engine.optim import SGD
from models import MLP, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Spec, Tanh


def projected(layer, x, R, reset=None):
    """f() = sum(layer(x) * R), so dL/dout = R; `reset` runs before each forward (dropout masks)."""
    def f():
        if reset:
            reset()
        return float(np.sum(layer.forward(x.copy(), train=True) * R))
    return f


def input_gradient(layer, x, R, reset=None):
    if reset:
        reset()
    layer.forward(x.copy(), train=True)
    return layer.backward(R.copy()).copy()


def away_from_zero(rng, shape, low=0.1):
    """Values with |v| in [low, 2]: no kink of relu / leaky relu within eps."""
    return rng.uniform(low, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# -- the checker itself ---------------------------------------------------------------------


class SlightlyWrongTanh(Tanh):
    def backward(self, g):
        return super().backward(g) * 1.05


def test_checker_accepts_a_right_backward(gradcheck, rng):
    x, R = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    layer = Tanh()
    assert gradcheck(projected(layer, x, R), x, input_gradient(layer, x, R)) < 1e-8


def test_checker_fails_on_a_wrong_backward(gradcheck, rng):
    x, R = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    layer = SlightlyWrongTanh()
    with pytest.raises(AssertionError, match="relative gradient error"):
        gradcheck(projected(layer, x, R), x, input_gradient(layer, x, R))


def test_checker_refuses_a_vacuous_check(gradcheck, rng):
    x = rng.standard_normal((3, 3))
    with pytest.raises(AssertionError, match="zero"):
        gradcheck(lambda: 1.0, x, np.zeros_like(x))


# -- layers -----------------------------------------------------------------------------------


def test_dense_gradients(gradcheck, rng):
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    layer = Dense(W, b)
    x, R = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    f = projected(layer, x, R)
    layer.forward(x.copy(), train=True)
    dx = layer.backward(R.copy()).copy()
    dW, db = layer.dW.copy(), layer.db.copy()
    gradcheck(f, x, dx)
    gradcheck(f, layer.W, dW)
    gradcheck(f, layer.b, db)


def test_dense_first_layer_skips_input_gradient(rng):
    layer = Dense(rng.standard_normal((5, 3)), np.zeros(3))
    x = rng.standard_normal((4, 5))
    layer.forward(x, train=True)
    assert layer.backward(np.ones((4, 3)), need_input_grad=False) is None
    np.testing.assert_allclose(layer.dW, x.T @ np.ones((4, 3)))


@pytest.mark.parametrize("make", [ReLU, LeakyReLU, lambda: LeakyReLU(0.2), Tanh, Sigmoid],
                         ids=["relu", "leaky_relu", "leaky_relu_0.2", "tanh", "sigmoid"])
def test_activation_gradients(gradcheck, rng, make):
    x, R = away_from_zero(rng, (6, 7)), rng.standard_normal((6, 7))
    layer = make()
    gradcheck(projected(layer, x, R), x, input_gradient(layer, x, R))


def test_sigmoid_is_the_logistic_function_and_stays_finite():
    z = np.array([[-1000.0, -3.0, 0.0, 2.0, 1000.0]])
    expected = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
    np.testing.assert_allclose(Sigmoid().forward(z.copy()), expected, atol=1e-12)


def test_dropout_gradient_with_a_fixed_mask(gradcheck, rng):
    layer = Dropout(0.4, np.random.default_rng(0))

    def reset():
        layer.rng = np.random.default_rng(7)

    x, R = rng.standard_normal((8, 9)), rng.standard_normal((8, 9))
    dx = input_gradient(layer, x, R, reset)
    mask = layer.mask.copy()
    assert (mask == 0).any() and np.allclose(mask[mask > 0], 1 / 0.6), "the mask should drop and rescale"
    gradcheck(projected(layer, x, R, reset), x, dx)


@pytest.mark.parametrize("activation", [ReLU, LeakyReLU, Tanh, Sigmoid], ids=lambda a: a.__name__)
def test_activation_then_dropout_gradient(gradcheck, rng, activation):
    """Dropout must not clobber the output the activation keeps for its backward."""
    act, drop = activation(), Dropout(0.5, np.random.default_rng(0))

    class Pair:
        def forward(self, x, train=False):
            return drop.forward(act.forward(x, train), train)

        def backward(self, g):
            return act.backward(drop.backward(g))

    def reset():
        drop.rng = np.random.default_rng(11)

    x, R = away_from_zero(rng, (6, 8)), rng.standard_normal((6, 8))
    pair = Pair()
    gradcheck(projected(pair, x, R, reset), x, input_gradient(pair, x, R, reset))


def test_dropout_is_identity_when_not_training_and_keeps_the_mean():
    layer = Dropout(0.3, np.random.default_rng(0))
    x = np.ones((400, 50), np.float32)
    assert layer.forward(x, train=False) is x
    out = layer.forward(x.copy(), train=True)
    assert out.dtype == np.float32
    values = np.unique(out)
    assert len(values) == 2 and values[0] == 0 and np.isclose(values[1], 1 / 0.7)
    assert abs(out.mean() - 1) < 0.02  # inverted dropout: expectation unchanged
    assert abs((out == 0).mean() - 0.3) < 0.02


# -- loss and L2 ------------------------------------------------------------------------------


def test_softmax_cross_entropy_gradient(gradcheck, rng):
    z, y = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
    g = z.copy()
    softmax_cross_entropy(g, y)  # overwrites g with dLoss/dz
    gradcheck(lambda: softmax_cross_entropy(z.copy(), y)[0], z, g)


def test_l2_gradient_is_what_the_optimizer_adds(gradcheck, rng):
    l2 = 0.3
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    gW, gb = np.zeros_like(W), np.zeros_like(b)
    opt = SGD([W, b], [gW, gb], [True, False], l2=l2)
    opt.regularize()
    gradcheck(lambda: l2_penalty([W], l2), W, gW)
    assert not gb.any(), "biases get no L2"


# -- a whole network --------------------------------------------------------------------------


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_mlp_gradients_end_to_end(gradcheck, rng, activation, dropout):
    spec = Spec(inputs=12, hidden=(7, 5), classes=4, activation=activation, init="xavier", dropout=dropout, seed=3)
    model = MLP(spec, dtype=np.float64)
    assert all(p.dtype == np.float64 for p in model.params)
    for layer in model.dense:  # non-zero biases, so their gradients are exercised through the activations
        layer.b[...] = rng.standard_normal(layer.b.shape) * 0.3
    drops = [layer for layer in model.layers if isinstance(layer, Dropout)]
    assert len(drops) == (2 if dropout else 0)

    def reset():
        for i, layer in enumerate(drops):
            layer.rng = np.random.default_rng(100 + i)

    x, y = rng.standard_normal((9, 12)), rng.integers(0, 4, 9)

    def loss():
        reset()
        return softmax_cross_entropy(model.forward(x, train=True), y)[0]

    reset()
    z = model.forward(x, train=True)
    softmax_cross_entropy(z, y)
    model.backward(z)
    analytic = [g.copy() for g in model.grads]
    assert len(analytic) == len(model.params) == 6
    for p, g in zip(model.params, analytic):
        gradcheck(loss, p, g)
