"""IDX readers (raw and gzip), MNIST directories, and every bad IDX input."""
import gzip

import numpy as np
import pytest

import data

# -- happy paths --------------------------------------------------------------

@pytest.mark.parametrize("name", ["imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"])
def test_read_idx_images_raw_and_gzip(files, digits, name):
    images, _ = digits.make(7)
    got = data.read_idx_images(files.idx(name, images))
    assert got.dtype == np.uint8 and got.shape == (7, 28, 28)
    np.testing.assert_array_equal(got, images)


@pytest.mark.parametrize("name", ["lbls-idx1-ubyte", "lbls-idx1-ubyte.gz"])
def test_read_idx_labels_raw_and_gzip(files, name):
    labels = np.array([0, 9, 3, 3, 7, 1], np.uint8)
    got = data.read_idx_labels(files.idx(name, labels))
    assert got.dtype == np.uint8 and got.shape == (6,)
    np.testing.assert_array_equal(got, labels)


def test_gzip_is_recognised_by_content_not_name(files, digits):
    images, _ = digits.make(3)
    path = files.idx("imgs-idx3-ubyte", images, gz=True)  # gzipped but named like a raw file
    np.testing.assert_array_equal(data.read_idx_images(path), images)


def test_empty_idx_file_is_read_as_zero_images(files):
    got = data.read_idx_images(files.idx("empty-idx3-ubyte", np.zeros((0, 28, 28), np.uint8)))
    assert got.shape == (0, 28, 28) and got.dtype == np.uint8


@pytest.mark.parametrize("spelling,gz", [
    ("-{kind}-ubyte", False),   # train-images-idx3-ubyte
    ("-{kind}-ubyte", True),    # train-images-idx3-ubyte.gz
    (".{kind}-ubyte", False),   # train-images.idx3-ubyte (the Kaggle / Windows spelling)
    (".{kind}-ubyte", True),    # train-images.idx3-ubyte.gz
])
def test_read_idx_dir_each_spelling(files, digits, spelling, gz):
    train, test = digits.make(12, seed=1), digits.make(5, seed=2)
    directory = files.mnist_dir("mnist", train, test, spelling, gz)
    got_train, got_test = data.read_idx_dir(directory)
    for got, (images, labels) in ((got_train, train), (got_test, test)):
        assert isinstance(got, data.Dataset)
        assert got.images.dtype == np.uint8 and got.images.shape == (len(images), 28, 28)
        assert got.labels.dtype == np.uint8 and got.labels.shape == (len(images),)
        np.testing.assert_array_equal(got.images, images)
        np.testing.assert_array_equal(got.labels, labels)


def test_read_idx_dir_mixed_compression(files, digits):
    (ti, tl), (vi, vl) = digits.make(6, seed=1), digits.make(4, seed=2)
    files.idx("d/train-images-idx3-ubyte.gz", ti)
    files.idx("d/train-labels.idx1-ubyte", tl)
    files.idx("d/t10k-images.idx3-ubyte.gz", vi)
    files.idx("d/t10k-labels-idx1-ubyte", vl)
    train, test = data.read_idx_dir(files.root / "d")
    np.testing.assert_array_equal(train.images, ti)
    np.testing.assert_array_equal(test.labels, vl)


# -- bad inputs ---------------------------------------------------------------

def _images(n=3):
    return np.arange(n * 28 * 28, dtype=np.int64).reshape(n, 28, 28).astype(np.uint8)


BAD_IMAGES = {
    # name: (file content, fragments the message must contain)
    "wrong magic": (b"\x12\x34\x08\x03" + bytes(12) + bytes(10), ["not an IDX file"]),
    "unknown dtype byte": (b"\x00\x00\x07\x03" + bytes(12), ["not an IDX file"]),
    "float dtype byte": ((0x0D03).to_bytes(4, "big") + (1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
                         + bytes(4 * 784), ["data type", "float", "0x0D"]),
    "two dimensions": ((0x0802).to_bytes(4, "big") + (3).to_bytes(4, "big") + (784).to_bytes(4, "big") + bytes(3 * 784),
                       ["2-dimensional", "expected images"]),
    "a labels file": ((0x0801).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(3),
                      ["holds labels", "expected images"]),
    "not 28x28": ((0x0803).to_bytes(4, "big") + (2).to_bytes(4, "big") + (28).to_bytes(4, "big")
                  + (27).to_bytes(4, "big") + bytes(2 * 28 * 27), ["28x27", "28x28"]),
    "truncated data": (None, ["truncated", "3 items"]),  # built below from a valid file
    "extra bytes": (None, ["5 bytes of unexpected data"]),
    "truncated header": ((0x0803).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"\x00\x00",
                         ["truncated header", "10 of 16"]),
    "shorter than a magic number": (b"\x00\x00", ["too short"]),
    "empty file": (b"", ["0 bytes", "too short"]),
}


def _bad_image_content(files, case):
    content, fragments = BAD_IMAGES[case]
    if case == "truncated data":
        content = files.idx_bytes(_images(3))[:-1]
    elif case == "extra bytes":
        content = files.idx_bytes(_images(3)) + b"extra"
    return content, fragments


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_idx_images(files, check_error, case, gz):
    content, fragments = _bad_image_content(files, case)
    path = files.write("bad-idx3-ubyte" + (".gz" if gz else ""), content, gz)
    check_error(lambda: data.read_idx_images(path), path, *fragments)


def test_header_is_checked_before_any_array_is_built(files, check_error):
    # A header claiming 4 billion images over a 16-byte file must fail on the size check, not on allocation.
    content = (0x0803).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    path = files.write("huge-idx3-ubyte", content)
    check_error(lambda: data.read_idx_images(path), path, "truncated", "4,294,967,295 items")


@pytest.mark.parametrize("case,content,fragments", [
    ("images file", (0x0803).to_bytes(4, "big") + (1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(784),
     ["holds images", "expected labels"]),
    ("wrong dtype", (0x0C01).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes(8), ["data type", "int"]),
    ("truncated", (0x0801).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(4), ["truncated"]),
    ("oversized", (0x0801).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(6), ["1 bytes of unexpected data"]),
    ("truncated header", (0x0801).to_bytes(4, "big") + b"\x00", ["truncated header"]),
])
def test_bad_idx_labels(files, check_error, case, content, fragments):
    path = files.write("bad-idx1-ubyte", content)
    check_error(lambda: data.read_idx_labels(path), path, *fragments)


@pytest.mark.parametrize("bad", [10, 255])
def test_labels_outside_0_9(files, check_error, bad):
    labels = np.array([1, 2, 3, bad, 4], np.uint8)
    path = files.idx("lbl-idx1-ubyte.gz", labels)
    check_error(lambda: data.read_idx_labels(path), path, f"label {bad}", "index 3", "outside 0-9")


def test_corrupt_gzip(files, digits, check_error):
    images, _ = digits.make(20)
    packed = bytearray(gzip.compress(files.idx_bytes(images), mtime=0))
    packed[len(packed) // 2] ^= 0xFF  # damage the deflate stream
    path = files.write("img-idx3-ubyte.gz", bytes(packed), gz=False)
    check_error(lambda: data.read_idx_images(path), path, "corrupt or truncated gzip")


def test_truncated_gzip(files, digits, check_error):
    images, _ = digits.make(20)
    packed = gzip.compress(files.idx_bytes(images), mtime=0)
    path = files.write("img-idx3-ubyte.gz", packed[: len(packed) // 2], gz=False)
    check_error(lambda: data.read_idx_images(path), path, "corrupt or truncated gzip")


def test_gzip_with_bad_crc(files, digits, check_error):
    images, _ = digits.make(2)
    packed = bytearray(gzip.compress(files.idx_bytes(images), mtime=0))
    packed[-8] ^= 0xFF  # CRC32 of the trailer
    path = files.write("img-idx3-ubyte.gz", bytes(packed), gz=False)
    check_error(lambda: data.read_idx_images(path), path, "gzip")


def test_missing_idx_file(tmp_path, check_error):
    path = tmp_path / "nope-idx3-ubyte"
    check_error(lambda: data.read_idx_images(path), path, "cannot read")


def test_directory_image_label_count_mismatch(files, digits, check_error):
    (ti, tl), test = digits.make(6, seed=1), digits.make(4, seed=2)
    directory = files.mnist_dir("d", (ti, tl[:5]), test)
    message = check_error(lambda: data.read_idx_dir(directory), directory / "train-images-idx3-ubyte",
                          "6 images", "5 labels")
    assert "train-labels-idx1-ubyte" in message


@pytest.mark.parametrize("missing", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_directory_missing_file(files, digits, check_error, missing):
    directory = files.mnist_dir("d", digits.make(6, seed=1), digits.make(4, seed=2))
    (directory / missing).unlink()
    check_error(lambda: data.read_idx_dir(directory), directory, f"no {missing}")


def test_directory_bad_file_is_named(files, digits, check_error):
    directory = files.mnist_dir("d", digits.make(6, seed=1), digits.make(4, seed=2), gz=True)
    bad = directory / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(files.idx_bytes(np.array([1, 2, 12, 3], np.uint8))))
    check_error(lambda: data.read_idx_dir(directory), bad, "label 12")
