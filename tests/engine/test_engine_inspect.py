"""engine.inspect: activations, unit weights, dead units, damage and robustness, thresholds, cells."""
from __future__ import annotations

import numpy as np
import pytest

import models
from engine.inspect import (
    DAMAGE,
    activations,
    cell,
    damage,
    dead_share,
    dead_units,
    robustness,
    thresholds,
    top,
    unit_weights,
)


def crafted(hidden=(6, 4), activation="relu") -> models.MLP:
    net = models.MLP(models.Spec(hidden=hidden, activation=activation, seed=3))
    return net


def test_activations_match_a_hand_computed_forward(small):
    net = crafted()
    x = small.dev.x[:7]
    a1, a2 = activations(net, x)
    W1, b1 = net.dense[0].W, net.dense[0].b
    W2, b2 = net.dense[1].W, net.dense[1].b
    h1 = np.maximum(x @ W1 + b1, 0)
    np.testing.assert_allclose(a1, h1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a2, np.maximum(h1 @ W2 + b2, 0), rtol=1e-5, atol=1e-6)
    assert [a.shape for a in activations(net, x[0])] == [(1, 6), (1, 4)]  # one digit (784,) works too
    assert len(activations(net, x, chunk=3)[0]) == 7  # chunks join up


def test_unit_weights_is_the_units_column_as_an_image():
    net = crafted()
    w = unit_weights(net, 2)
    assert w.shape == (28, 28)
    np.testing.assert_array_equal(w.reshape(-1), net.dense[0].W[:, 2])
    with pytest.raises(IndexError):
        unit_weights(net, 6)


def test_dead_units_on_a_crafted_model(small):
    """Units whose weights and bias can only give <= 0 on [0, 1] inputs never fire: found exactly."""
    net = crafted()
    first, second = net.dense[0], net.dense[1]
    first.W[:, [1, 4]] = -np.abs(first.W[:, [1, 4]])  # negative weights on non-negative pixels...
    first.b[[1, 4]] = -0.1  # ...and a negative bias: never above 0
    first.W[:, [0, 2, 3, 5]] = np.abs(first.W[:, [0, 2, 3, 5]])
    first.b[[0, 2, 3, 5]] = 0.1  # always firing
    second.W[:, 3] = -np.abs(second.W[:, 3])
    second.b[3] = -1.0  # layer 2 unit 3 dead too (its inputs are >= 0)
    second.W[:, :3] = np.abs(second.W[:, :3])
    second.b[:3] = 0.1
    dead = dead_units(net, small.dev.x)
    assert list(np.flatnonzero(dead[0])) == [1, 4]
    assert list(np.flatnonzero(dead[1])) == [3]
    assert dead_share(net, small.dev.x) == pytest.approx(3 / 10)


def test_only_relu_like_units_can_die(small):
    assert dead_units(crafted(activation="tanh"), small.dev.x[:10]) is None
    assert dead_share(crafted(activation="sigmoid"), small.dev.x[:10]) is None
    assert dead_units(crafted(activation="leaky_relu"), small.dev.x[:10]) is not None


def test_threshold_table(model, small):
    proba = model.predict_proba(small.dev.x)
    rows = thresholds(proba, small.dev.y, (0.0, 0.5, 0.8, 0.9, 0.99, 1.01))
    coverage = [r.coverage for r in rows]
    assert coverage[0] == 1.0 and coverage == sorted(coverage, reverse=True)  # never answers more as t rises
    assert rows[-1].answered == 0 and rows[-1].accuracy is None
    assert rows[0].accuracy == pytest.approx(float(np.mean(proba.argmax(1) == small.dev.y)))
    sure = [r.accuracy for r in rows[:-1]]
    assert sure == sorted(sure)  # on this model, surer answers are right more often
    assert sure[-1] > sure[0] + 0.05
    # counts by hand for t = 0.9
    top1 = proba.max(1)
    assert rows[3].answered == int((top1 >= 0.9).sum())
    assert rows[3].correct == int(((top1 >= 0.9) & (proba.argmax(1) == small.dev.y)).sum())


def test_damage_is_exact_and_repeatable(small):
    x = small.test.x[:50]
    for kind in DAMAGE:
        np.testing.assert_allclose(damage(x, kind, 0.0), x, atol=1e-6)  # strength 0: unchanged
        np.testing.assert_array_equal(damage(x, kind, 3.0 if kind != "noise" else 0.2),
                                      damage(x, kind, 3.0 if kind != "noise" else 0.2))
    # a shift of 2 moves every digit's centre of mass by 2 pixels, each in its own direction
    moved = damage(x, "shift", 2.0, seed=5)
    grid = np.indices((28, 28)).reshape(2, -1)
    com = lambda imgs: (imgs @ grid.T) / imgs.sum(1, keepdims=True)  # noqa: E731
    distance = np.linalg.norm(com(moved) - com(x), axis=1)
    assert np.mean(np.abs(distance - 2) < 0.05) >= 0.9  # all but digits pushed partly off the edge
    turned = damage(x, "rotate", 90.0).reshape(-1, 28, 28)
    quarter = np.stack([np.rot90(im, k) for im in x.reshape(-1, 28, 28) for k in (1, -1)]).reshape(-1, 2, 28, 28)
    assert all(min(np.abs(t - q).max() for q in pair) < 1e-4 for t, pair in zip(turned, quarter))  # ±90° exactly
    noisy = damage(x, "noise", 0.3)
    assert np.all((noisy >= 0) & (noisy <= 1))
    assert 0.08 < np.abs(noisy - x).mean() < 0.2  # sd 0.3, half of it clipped away on the black background
    with pytest.raises(ValueError):
        damage(x, "blur", 1.0)


def test_robustness_falls_with_strength(model, small):
    x, y = small.test.x, small.test.y
    curves = robustness(model, x, y, {"noise": (0.0, 0.3, 0.6), "rotate": (0.0, 20.0, 45.0, 70.0),
                                      "shift": (0.0, 2.0, 4.0, 6.0)})
    clean = float(np.mean(model.predict(x) == y))
    for c in curves:
        assert c.accuracy[0] == pytest.approx(clean)
        assert all(b <= a + 0.01 for a, b in zip(c.accuracy, c.accuracy[1:])), c  # falls (within noise)
        assert c.accuracy[-1] < c.accuracy[0] - 0.15, c
    assert [c.kind for c in curves] == ["noise", "rotate", "shift"]


def test_cell_lists_that_cell_most_confident_first(model, small):
    proba, y = model.predict_proba(small.dev.x), small.dev.y
    pred = proba.argmax(1)
    conf = np.bincount(y.astype(int) * 10 + pred, minlength=100).reshape(10, 10)
    for t in range(10):
        for p in range(10):
            idx = cell(proba, y, t, p)
            assert sorted(idx) == sorted(np.flatnonzero((y == t) & (pred == p)))
            assert len(idx) == conf[t, p]
            sure = proba[idx, p]
            assert list(sure) == sorted(sure, reverse=t != p)  # mistakes: surest first; right: least sure first
    assert top(np.array([0.1, 0.6, 0.05, 0.25, 0, 0, 0, 0, 0, 0]), 3) == [(1, 0.6), (3, 0.25), (0, 0.1)]
