"""The batch augmenter and its settings text; accuracy, confusion and per-class scores."""
from __future__ import annotations

import numpy as np
import pytest

from engine import ConfigError, accuracy, confusion, evaluate, per_class
from engine.augment import Augmenter
from engine.config import parse_augment
from models import MLP, Spec


def blobs(n, seed=0):
    """(n, 784) float32 images, each a small bright square somewhere near the middle."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.float32)
    for i, (r, c) in enumerate(rng.integers(9, 16, (n, 2))):
        x[i, r:r + 4, c:c + 3] = rng.uniform(0.5, 1.0)
    return x.reshape(n, 784)


def centre_of_mass(x):
    img = x.reshape(-1, 28, 28).astype(np.float64)
    total = img.sum(axis=(1, 2))
    idx = np.arange(28)
    return (img.sum(axis=2) @ idx) / total, (img.sum(axis=1) @ idx) / total


# -- parse_augment ----------------------------------------------------------------------------


def test_parse_augment():
    assert parse_augment("") == {} and parse_augment(None) == {}
    assert parse_augment("shift,rotate=15,noise=0.05") == {"shift": 2.0, "rotate": 15.0, "noise": 0.05}
    assert parse_augment(" shift = 3 , ") == {"shift": 3.0}


@pytest.mark.parametrize("text, words", [
    ("blur", "'blur' is not one of"),
    ("shift=far", "must be a number"),
    ("shift=9", "out of range"),
    ("rotate=-1", "out of range"),
    ("noise=2", "out of range"),
])
def test_parse_augment_errors(text, words):
    with pytest.raises(ConfigError, match=words) as info:
        parse_augment(text)
    assert "--augment" in str(info.value)


# -- Augmenter --------------------------------------------------------------------------------


def test_output_shape_dtype_and_range():
    x = blobs(40)
    x[:, :10] = 1.0  # a saturated edge
    out = Augmenter(parse_augment("shift,rotate,noise"), np.random.default_rng(0))(x)
    assert out.shape == (40, 784) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.array_equal(out, x)


def test_does_not_touch_its_input():
    x = blobs(10)
    before = x.copy()
    Augmenter(parse_augment("shift,rotate,noise"), np.random.default_rng(0))(x)
    np.testing.assert_array_equal(x, before)


def test_zero_strengths_leave_images_unchanged():
    x = blobs(12)
    aug = Augmenter({"shift": 0.0, "rotate": 0.0, "noise": 0.0}, np.random.default_rng(0))
    out = aug(x)
    np.testing.assert_array_equal(out, x)
    assert out is not x
    np.testing.assert_allclose(aug.warp(x), x, atol=1e-6)  # the warp itself is the identity at zero


def test_shift_moves_the_centre_of_mass_by_the_drawn_offset():
    # shift alone: whole-pixel offsets drawn as integers in [-3, 3]
    x, strength = blobs(30), 3.0
    out = Augmenter({"shift": strength}, np.random.default_rng(5))(x)
    dy, dx = np.random.default_rng(5).integers(-3, 4, (2, len(x)))  # the same draws
    (r0, c0), (r1, c1) = centre_of_mass(x), centre_of_mass(out)
    np.testing.assert_allclose(r1 - r0, dy, atol=1e-4)
    np.testing.assert_allclose(c1 - c0, dx, atol=1e-4)
    assert np.abs(r1 - r0).max() > 1  # it really moved something
    np.testing.assert_allclose(out.sum(axis=1), x.sum(axis=1), rtol=1e-4)  # nothing lost off the edge


def test_shift_with_rotation_moves_by_subpixel_offsets():
    x, strength = blobs(30), 3.0
    out = Augmenter({"shift": strength, "rotate": 1e-6}, np.random.default_rng(5))(x)
    replay = np.random.default_rng(5)  # the same draws, in the Augmenter's order: angle, then (dy, dx)
    replay.uniform(0, 0, len(x))
    dy, dx = replay.uniform(-strength, strength, (2, len(x)))
    (r0, c0), (r1, c1) = centre_of_mass(x), centre_of_mass(out)
    np.testing.assert_allclose(r1 - r0, dy, atol=0.05)
    np.testing.assert_allclose(c1 - c0, dx, atol=0.05)


def test_rotation_keeps_the_centre_and_the_ink():
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 13:15, 4:24] = 1.0  # a horizontal bar through the middle
    out = Augmenter({"rotate": 45.0}, np.random.default_rng(1))(x.reshape(1, 784)).reshape(28, 28)
    (r0, c0), (r1, c1) = centre_of_mass(x), centre_of_mass(out)
    assert abs(r1 - r0)[0] < 0.2 and abs(c1 - c0)[0] < 0.2
    assert out.sum() == pytest.approx(x.sum(), rel=0.02)
    assert not np.allclose(out, x[0], atol=0.1)


def test_noise_only_adds_clipped_noise():
    x = np.full((5, 784), 0.5, np.float32)
    out = Augmenter({"noise": 0.1}, np.random.default_rng(0))(x)
    assert 0.07 < float((out - x).std()) < 0.13
    assert abs(float((out - x).mean())) < 0.01


def test_same_seed_same_augmentation():
    x = blobs(8)
    a = Augmenter(parse_augment("shift,rotate,noise"), np.random.default_rng(3))(x)
    b = Augmenter(parse_augment("shift,rotate,noise"), np.random.default_rng(3))(x)
    np.testing.assert_array_equal(a, b)


# -- metrics ----------------------------------------------------------------------------------


def test_confusion_and_per_class_by_hand():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 2, 1])
    conf = confusion(y, pred, k=4)
    np.testing.assert_array_equal(conf, [[1, 1, 0, 0],
                                         [0, 2, 0, 0],
                                         [1, 1, 1, 0],
                                         [0, 0, 0, 0]])
    assert conf.dtype == np.int64
    scores = per_class(conf)
    np.testing.assert_allclose(scores["precision"], [1 / 2, 2 / 4, 1 / 1, 0])
    np.testing.assert_allclose(scores["recall"], [1 / 2, 2 / 2, 1 / 3, 0])
    p, r = np.array([0.5, 0.5, 1.0]), np.array([0.5, 1.0, 1 / 3])
    np.testing.assert_allclose(scores["f1"], [*(2 * p * r / (p + r)), 0])
    np.testing.assert_array_equal(scores["support"], [2, 2, 3, 0])
    assert accuracy(y, pred) == pytest.approx(4 / 7)
    assert accuracy(y[:0], pred[:0]) == 0.0


def test_evaluate():
    model = MLP(Spec(784, (8,), 10, seed=1))
    x = blobs(25)
    y = np.arange(25) % 10
    ev = evaluate(model, x, y)
    assert ev.proba.shape == (25, 10)
    np.testing.assert_array_equal(ev.pred, model.predict(x))
    assert ev.accuracy == pytest.approx(np.mean(ev.pred == y))
    assert ev.confusion.sum() == 25 and ev.confusion.shape == (10, 10)
    want = -np.mean(np.log(ev.proba[np.arange(25), y]))
    assert ev.loss == pytest.approx(want, rel=1e-5)
