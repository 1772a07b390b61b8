"""MNIST-style preprocessing: crop, longer side to 20 px, centre of mass on (14, 14); MNIST digits unchanged."""
from __future__ import annotations

import numpy as np
import pytest

from data.preprocess import BOX, CENTRE, bounding_box, centre_of_mass, resample_matrix, resize, to_mnist


def blob(h: int, w: int, shape=(60, 80), at=(5, 7), value=255) -> np.ndarray:
    img = np.zeros(shape)
    img[at[0]:at[0] + h, at[1]:at[1] + w] = value
    return img


def box_size(img) -> tuple[int, int]:
    top, bottom, left, right = bounding_box(img)
    return bottom - top, right - left


@pytest.mark.parametrize("h, w", [(40, 10), (10, 40), (30, 30), (5, 3), (3, 1), (21, 20), (1, 1)])
def test_longer_side_becomes_20_keeping_the_aspect(h, w):
    out = to_mnist(blob(h, w))
    assert out.dtype == np.uint8 and out.shape == (28, 28)
    bh, bw = box_size(out)
    assert max(bh, bw) == BOX
    assert min(bh, bw) == max(1, round(min(h, w) * BOX / max(h, w)))


@pytest.mark.parametrize("seed", range(6))
def test_centre_of_mass_goes_to_the_middle(seed):
    rng = np.random.default_rng(seed)
    img = np.zeros((50, 50))
    for _ in range(4):  # a few strokes of random size and place, anywhere
        r, c = rng.integers(0, 40, 2)
        img[r:r + rng.integers(2, 10), c:c + rng.integers(2, 10)] = rng.integers(80, 256)
    out = to_mnist(img)
    r, c = centre_of_mass(out)
    assert abs(r - CENTRE) <= 0.5 + 1e-9 and abs(c - CENTRE) <= 0.5 + 1e-9


def test_where_the_digit_was_drawn_does_not_matter():
    a, b = blob(12, 7, at=(0, 0)), blob(12, 7, at=(40, 60))
    np.testing.assert_array_equal(to_mnist(a), to_mnist(b))


def test_lopsided_digit_stays_whole_inside_the_field():
    """Mass far to one side would push the box out of 28x28: it is kept inside, no ink lost."""
    img = np.zeros((20, 20))
    img[:, :2] = 255  # a heavy bar on the left...
    img[0, 2:] = 10  # ...and a faint line that makes the box 20 wide
    out = to_mnist(img)
    assert box_size(out) == (20, 20)
    assert out.sum() == pytest.approx(img.sum(), rel=0.01)


def test_blank_image_gives_a_blank_digit():
    assert not to_mnist(np.zeros((10, 10))).any()
    assert bounding_box(np.zeros((3, 3))) is None


def test_mnist_digits_come_back_unchanged(small):
    """MNIST was made this way: nearly every test digit is a fixed point (the rest have a 19 px box)."""
    images = small.test.images
    same = [np.array_equal(to_mnist(im), im) for im in images]
    assert sum(same) >= len(images) - 2
    for im, ok in zip(images, same):
        if not ok:
            assert max(box_size(im)) != BOX


def test_resampling_keeps_the_mean_brightness():
    for n_in, n_out in [(7, 3), (3, 7), (40, 20), (20, 20), (1, 5)]:
        m = resample_matrix(n_in, n_out)
        np.testing.assert_allclose(m.sum(axis=1), 1)  # every output pixel is a weighted mean
    np.testing.assert_array_equal(resample_matrix(5, 5), np.eye(5))
    img = np.random.default_rng(0).random((40, 60))
    assert resize(img, (20, 30)).mean() == pytest.approx(img.mean())  # exact halving: area averages


def test_grey_image_of_any_dtype():
    out = to_mnist(blob(30, 20, value=1.0) * 255.0)
    assert out.max() == 255
    with pytest.raises(ValueError):
        to_mnist(np.zeros((4, 4, 3)))
