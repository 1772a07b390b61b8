"""Conv2D, MaxPool2D and Flatten: gradient checks, a loop convolution to compare with, ties, conv nets end to end."""
from __future__ import annotations

import numpy as np
import pytest

from engine.losses import softmax_cross_entropy
from models import MLP, Spec, SpecError
from models.conv import Conv2D, Flatten, MaxPool2D
from models.layers import Dropout


def projected(layer, x, R):
    """f() = sum(layer(x) * R): dL/dout = R."""
    return lambda: float(np.sum(layer.forward(x.copy(), train=True) * R))


def loop_conv(x, W, b, k):
    """Direct 'same' convolution (cross-correlation, as every framework means): x (n, h, w, c), W (k*k*c, f)."""
    n, h, w, c = x.shape
    f, p = W.shape[1], k // 2
    Wk = W.reshape(k, k, c, f)
    out = np.zeros((n, h, w, f))
    for s in range(n):
        for i in range(h):
            for j in range(w):
                for di in range(k):
                    for dj in range(k):
                        u, v = i + di - p, j + dj - p
                        if 0 <= u < h and 0 <= v < w:
                            out[s, i, j] += x[s, u, v] @ Wk[di, dj]
    return out + b


def make_conv(rng, k, c, f, h=6, w=5, dtype=np.float64, lowering=None):
    W = rng.standard_normal((k * k * c, f)).astype(dtype)
    layer = Conv2D(W, rng.standard_normal(f).astype(dtype), k, (h, w, c))
    if lowering == "rows by 1":  # one image per chunk: every buffer slice, every partial dW
        lowering, layer.CHUNK = "rows", 1
    layer.lowering = lowering or layer.lowering
    return layer


LOWERINGS = pytest.mark.parametrize("lowering", ["patches", "rows", "rows by 1"])


def test_conv_lowers_by_rows_from_eight_input_channels(rng):
    assert make_conv(rng, 5, 1, 2).lowering == "patches" and make_conv(rng, 5, 8, 2).lowering == "rows"
    assert make_conv(rng, 3, 32, 2).twin().lowering == "rows"


@LOWERINGS
@pytest.mark.parametrize("k,c,f,h,w", [(3, 1, 2, 6, 5), (3, 3, 4, 6, 5), (5, 1, 3, 6, 5), (5, 2, 5, 6, 5),
                                       (1, 3, 2, 6, 5), (5, 3, 2, 2, 7), (5, 2, 3, 7, 1), (3, 9, 4, 4, 4)])
def test_conv_forward_equals_a_loop_convolution(rng, lowering, k, c, f, h, w):
    layer = make_conv(rng, k, c, f, h, w, dtype=np.float32, lowering=lowering)
    x = rng.standard_normal((3, h, w, c)).astype(np.float32)
    want = loop_conv(x.astype(np.float64), layer.W.astype(np.float64), layer.b.astype(np.float64), k)
    for train in (True, False):
        got = layer.forward(x, train=train)
        assert got.shape == (3, h, w, f) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@LOWERINGS
def test_conv_accepts_flat_images_and_keeps_its_padding_zero(rng, lowering):
    layer = make_conv(rng, 5, 1, 2, h=4, w=4, lowering=lowering)
    x = rng.standard_normal((2, 16))
    first = layer.forward(x, train=True).copy()
    layer.forward(rng.standard_normal((2, 16)) * 100, train=True)  # reuses the padded buffer
    np.testing.assert_allclose(layer.forward(x, train=True), first)
    np.testing.assert_allclose(first, loop_conv(x.reshape(2, 4, 4, 1), layer.W, layer.b, 5))


@LOWERINGS
@pytest.mark.parametrize("k,c,f,h,w", [(3, 1, 2, 6, 5), (3, 3, 4, 6, 5), (5, 2, 3, 6, 5), (5, 1, 4, 6, 5),
                                       (5, 2, 2, 2, 6), (3, 2, 3, 5, 1)])
def test_conv_gradients(gradcheck, rng, lowering, k, c, f, h, w):
    layer = make_conv(rng, k, c, f, h, w, lowering=lowering)
    x, R = rng.standard_normal((2, h, w, c)), rng.standard_normal((2, h, w, f))
    fn = projected(layer, x, R)
    layer.forward(x.copy(), train=True)
    dx = layer.backward(R.copy()).copy()
    dW, db = layer.dW.copy(), layer.db.copy()
    gradcheck(fn, x, dx)
    gradcheck(fn, layer.W, dW)
    gradcheck(fn, layer.b, db)


@LOWERINGS
def test_conv_first_layer_skips_input_gradient(rng, lowering):
    layer = make_conv(rng, 3, 1, 2, lowering=lowering)
    layer.forward(rng.standard_normal((2, 6, 5, 1)), train=True)
    assert layer.backward(rng.standard_normal((2, 6, 5, 2)), need_input_grad=False) is None
    assert np.abs(layer.dW).sum() > 0


@pytest.mark.parametrize("h,w", [(4, 6), (5, 7)])
def test_maxpool_gradient(gradcheck, rng, h, w):
    layer = MaxPool2D()
    x = rng.permutation(2 * h * w * 3).reshape(2, h, w, 3) / 10.0  # distinct values: max is differentiable
    R = rng.standard_normal((2, h // 2, w // 2, 3))
    out = layer.forward(x.copy(), train=True)
    want = x[:, :h // 2 * 2, :w // 2 * 2].reshape(2, h // 2, 2, w // 2, 2, 3).max(axis=(2, 4))
    np.testing.assert_array_equal(out, want)
    dx = layer.backward(R.copy()).copy()
    gradcheck(projected(layer, x, R), x, dx)


def test_maxpool_sends_a_tied_gradient_to_one_input_only(rng):
    layer = MaxPool2D()
    x = np.zeros((3, 8, 8, 2), np.float32)  # MNIST's background: every window a four-way tie
    x[0, 2, 3, 1] = x[0, 3, 2, 1] = 5.0  # a two-way tie: top-right and bottom-left
    x[1, 5, 4, 0] = x[1, 5, 5, 0] = -1.0  # below the tied zeros of its window
    g = rng.uniform(1, 2, (3, 4, 4, 2)).astype(np.float32)
    layer.forward(x, train=True)
    dx = layer.backward(g.copy())
    windows = dx.reshape(3, 4, 2, 4, 2, 2)
    assert ((windows != 0).sum(axis=(2, 4)) == 1).all(), "each window's gradient goes to exactly one input"
    np.testing.assert_allclose(windows.sum(axis=(2, 4)), g)
    assert dx[0, 2, 3, 1] == g[0, 1, 1, 1] and dx[0, 3, 2, 1] == 0  # the first maximum in reading order
    assert dx[1, 4, 4, 0] == g[1, 2, 2, 0]  # a zero wins over the -1s
    assert (dx[2, 0::2, 0::2] == g[2]).all()  # a four-way tie: the top-left


def test_flatten_round_trip(gradcheck, rng):
    layer = Flatten()
    x, R = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 60))
    assert layer.forward(x, train=True).shape == (2, 60)
    gradcheck(projected(layer, x, R), x, layer.backward(R.copy()))
    assert layer.backward(R).shape == x.shape


def test_cnn_spec_names_and_shapes():
    spec = Spec(784, (128,), 10, conv=(32, 64), kernel=5)
    assert str(spec) == "c32-c64-128-10" and spec.sizes == (7 * 7 * 64, 128, 10)
    assert str(Spec(784, (), 10, conv=(8,), kernel=3)) == "c8-10-k3"
    assert str(Spec(784, (128,), 10)) == "784-128-10"
    assert Spec(784, (128,), 10).to_dict() == {"inputs": 784, "hidden": [128], "classes": 10, "activation": "relu",
                                               "init": "he", "dropout": 0.0, "seed": 0}
    assert Spec.from_dict(spec.to_dict()) == spec
    model = MLP(spec)
    assert [p.shape for p in model.params] == spec.shapes()
    assert spec.shapes()[:4] == [(25, 32), (32,), (800, 64), (64,)]
    for bad, match in [({"kernel": 4, "conv": (8,)}, "kernel"), ({"conv": (0,)}, "positive"),
                       ({"conv": (4,) * 5}, "below 1x1"), ({"inputs": 780, "conv": (4,)}, "square")]:
        with pytest.raises(SpecError, match=match):
            Spec(**{"inputs": 784, "hidden": (16,), **bad})


@pytest.mark.parametrize("activation,kernel,dropout,n", [("relu", 3, 0.0, 4), ("tanh", 5, 0.3, 4),
                                                       ("leaky_relu", 3, 0.0, 4), ("relu", 5, 0.3, 19)])
def test_cnn_gradients_end_to_end(gradcheck, rng, activation, kernel, dropout, n):
    spec = Spec(inputs=49, hidden=(5,), classes=3, activation=activation, dropout=dropout, seed=2,
                conv=(3, 2), kernel=kernel)  # 7x7 -> 3x3 (odd row dropped) -> 1x1
    model = MLP(spec, dtype=np.float64)
    for layer in model.dense + model.convs:
        layer.b[...] = rng.standard_normal(layer.b.shape) * 0.3
    x, y = rng.standard_normal((n, 49)), rng.integers(0, 3, n)

    def reset():  # the same dropout masks on every pass
        for i, layer in enumerate(model.layers):
            if hasattr(layer, "rate"):
                layer.rng = np.random.default_rng(100 + i)

    def loss():
        reset()
        return softmax_cross_entropy(model.forward(x, train=True), y)[0]

    reset()
    z = model.forward(x, train=True)
    softmax_cross_entropy(z, y)
    model.backward(z)
    analytic = [g.copy() for g in model.grads]
    assert len(analytic) == 8
    for p, g in zip(model.params, analytic):
        gradcheck(loss, p, g, tol=1e-5)


def test_cnn_predicts_the_same_in_chunks_and_in_training_mode(rng):
    model = MLP(Spec(784, (16,), 10, conv=(4, 8), kernel=5, seed=1))
    x = rng.random((300, 784), dtype=np.float32)
    proba = model.predict_proba(x)
    np.testing.assert_allclose(model.predict_proba(x, chunk=7), proba, rtol=1e-5, atol=1e-6)
    z = model.forward(x[:10], train=True)
    logp = np.log(proba[:10])
    np.testing.assert_allclose(z - z.max(1, keepdims=True), logp - logp.max(1, keepdims=True), rtol=1e-3, atol=1e-4)


def test_inside_a_cnn_filters_feature_maps_and_dense_activations(rng):
    from engine.inspect import activations, dead_share, feature_maps, filters

    model = MLP(Spec(784, (16,), 10, conv=(4, 8), kernel=5, seed=1))
    x = rng.random((5, 784), dtype=np.float32)
    f = filters(model)
    assert f.shape == (4, 5, 5)
    np.testing.assert_array_equal(f[2], model.convs[0].W[:, 2].reshape(5, 5))
    maps = feature_maps(model, x[0])
    assert [m.shape for m in maps] == [(4, 14, 14), (8, 7, 7)] and (maps[0] >= 0).all()
    flat = maps[1].transpose(1, 2, 0).reshape(-1)  # the last maps, flattened NHWC, are what the dense layers see
    d1, d2 = model.dense
    logits = np.maximum(flat @ d1.W + d1.b, 0) @ d2.W + d2.b
    np.testing.assert_allclose(logits, model.forward(x[:1])[0], rtol=1e-4, atol=1e-5)
    [hidden] = activations(model, x)
    assert hidden.shape == (5, 16) and 0 <= dead_share(model, x) <= 1


def test_a_twin_shares_the_weights_but_not_the_gradients_or_buffers(rng):
    model = MLP(Spec(hidden=(8,), conv=(3,), kernel=3, dropout=0.3, seed=1))
    twin = model.twin()
    assert all(p is q for p, q in zip(model.params, twin.params))
    assert not any(g is h for g, h in zip(model.grads, twin.grads))
    x = rng.random((4, 784), dtype=np.float32)
    model.forward(x, train=True)
    twin.forward(x[:2], train=True)
    assert model.layers[0].cols.shape[1] == 4 * 28 * 28  # the twin's batch did not replace the model's patches
    drops = [layer for layer in model.layers if isinstance(layer, Dropout)]
    twin_drops = [layer for layer in twin.layers if isinstance(layer, Dropout)]
    assert drops and drops[0].rng is not twin_drops[0].rng
    model.params[0][...] += 1  # an update of one is an update of both
    assert np.array_equal(model.params[0], twin.params[0])

