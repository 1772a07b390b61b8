"""Keras-style .npz files: the layout, its variants, and what must be refused."""
import os

import numpy as np
import pytest

import data


def _keras(digits, n_train=8, n_test=5):
    (xt, yt), (xv, yv) = digits.make(n_train, seed=1), digits.make(n_test, seed=2)
    return dict(x_train=xt, y_train=yt, x_test=xv, y_test=yv)


def test_keras_layout(files, digits):
    arrays = _keras(digits)
    train, test = data.read_npz(files.npz("mnist.npz", **arrays))
    for got, part in ((train, "train"), (test, "test")):
        assert got.images.dtype == np.uint8 and got.images.shape == arrays[f"x_{part}"].shape
        assert got.labels.dtype == np.uint8
        np.testing.assert_array_equal(got.images, arrays[f"x_{part}"])
        np.testing.assert_array_equal(got.labels, arrays[f"y_{part}"])


def test_flat_784_variant_and_wide_label_dtype(files, digits):
    arrays = _keras(digits)
    flat = dict(arrays, x_train=arrays["x_train"].reshape(-1, 784), x_test=arrays["x_test"].reshape(-1, 784),
                y_train=arrays["y_train"].astype(np.int64))
    train, test = data.read_npz(files.npz("flat.npz", **flat))
    assert train.images.shape == (8, 28, 28) and test.images.shape == (5, 28, 28)
    np.testing.assert_array_equal(train.images, arrays["x_train"])
    assert train.labels.dtype == np.uint8
    np.testing.assert_array_equal(train.labels, arrays["y_train"])


def test_float_images_in_0_1_are_scaled(files, digits):
    arrays = _keras(digits)
    scaled = dict(arrays, x_train=arrays["x_train"].astype(np.float32) / 255)
    train, _ = data.read_npz(files.npz("float.npz", **scaled))
    assert train.images.dtype == np.uint8
    np.testing.assert_array_equal(train.images, arrays["x_train"])


@pytest.mark.parametrize("drop", ["x_train", "y_train", "x_test", "y_test"])
def test_missing_key(files, digits, check_error, drop):
    arrays = _keras(digits)
    del arrays[drop]
    path = files.npz("partial.npz", **arrays)
    check_error(lambda: data.read_npz(path), path, "missing", drop)


class _Trap:
    """Unpickling this creates a directory: proof that someone ran pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_object_array_is_refused_never_unpickled(files, digits, check_error, tmp_path):
    marker = str(tmp_path / "unpickled")
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(marker)
    arrays = dict(_keras(digits), y_train=trap)
    path = files.npz("trap.npz", **arrays)
    check_error(lambda: data.read_npz(path), path, "Python objects")
    assert not os.path.exists(marker), "the .npz was unpickled"


def test_not_a_zip(files, check_error):
    path = files.root / "text.npz"
    path.write_text("x_train,y_train\n1,2\n")
    message = check_error(lambda: data.read_npz(path), path, "not")
    assert "pickle" not in message  # a text file is not "Python objects"


def test_plain_npy_named_npz(files, check_error):
    path = files.root / "one.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros((2, 28, 28), np.uint8))
    check_error(lambda: data.read_npz(path), path, "not")


def test_truncated_npz(files, digits, check_error):
    path = files.npz("cut.npz", **_keras(digits))
    path.write_bytes(path.read_bytes()[:-200])
    check_error(lambda: data.read_npz(path), path, "not")


def test_missing_npz(tmp_path, check_error):
    path = tmp_path / "none.npz"
    check_error(lambda: data.read_npz(path), path)


@pytest.mark.parametrize("change,fragments", [
    (lambda a: dict(a, y_test=np.array([1, 2, 10, 3, 4], np.uint8)), ["y_test", "outside 0-9"]),
    (lambda a: dict(a, y_train=a["y_train"][:-1]), ["x_train has 8 images", "y_train has 7 labels"]),
    (lambda a: dict(a, x_train=a["x_train"][:, :27, :]), ["x_train", "shape"]),
    (lambda a: dict(a, x_test=a["x_test"].astype(np.int32) * 2), ["x_test", "outside 0-255"]),
    (lambda a: dict(a, y_train=a["y_train"].astype(np.float32)), ["y_train", "integers"]),
], ids=["label-10", "count-mismatch", "not-28x28", "pixel-range", "float-labels"])
def test_bad_npz_content(files, digits, check_error, change, fragments):
    path = files.npz("bad.npz", **change(_keras(digits)))
    check_error(lambda: data.read_npz(path), path, *fragments)
