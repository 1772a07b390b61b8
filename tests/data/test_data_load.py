"""data.load on user paths, and the bundled MNIST (real data: counts, classes, checksum)."""
import gzip

import numpy as np
import pytest

import data
import data.sources

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# -- paths --------------------------------------------------------------------

def test_load_idx_directory(files, digits):
    train, test = digits.make(300, seed=1), digits.make(40, seed=2)
    directory = files.mnist_dir("my-digits", train, test, gz=True)
    s = data.load(directory, dev_size=50, seed=1)
    assert s.name == "my-digits"
    assert (len(s.train), len(s.dev), len(s.test)) == (250, 50, 40)
    np.testing.assert_array_equal(s.test.images, test[0])  # the official test set is kept whole
    assert np.intersect1d(digits.ids(s.train.images), digits.ids(s.dev.images)).size == 0


def test_load_accepts_str_path(files, digits):
    directory = files.mnist_dir("d", digits.make(100, seed=1), digits.make(10, seed=2))
    assert len(data.load(str(directory), dev_size=0.1).dev) == 10


def test_load_csv_split_by_fractions(files, digits):
    images, labels = digits.make(500, seed=5)
    path = files.csv("train.csv", images, labels)
    s = data.load(path, dev_size=0.1, test_size=0.2, seed=3)
    assert s.name == "train.csv"
    assert len(s.test) == 100 and len(s.dev) == 50 and len(s.train) == 350
    ids = [digits.ids(p.images) for p in (s.train, s.dev, s.test)]
    np.testing.assert_array_equal(np.sort(np.concatenate(ids)), np.arange(500))
    again = data.load(path, dev_size=0.1, test_size=0.2, seed=3)
    np.testing.assert_array_equal(digits.ids(again.dev.images), ids[1])


def test_load_directory_with_train_csv(files, digits):
    images, labels = digits.make(200)
    files.csv("kaggle/train.csv", images, labels)
    s = data.load(files.root / "kaggle", dev_size=20, test_size=20)
    assert (len(s.train), len(s.dev), len(s.test)) == (160, 20, 20)


def test_load_npz(files, digits):
    (xt, yt), (xv, yv) = digits.make(120, seed=1), digits.make(30, seed=2)
    path = files.npz("mnist.npz", x_train=xt, y_train=yt, x_test=xv, y_test=yv)
    s = data.load(path, dev_size=20)
    assert (len(s.train), len(s.dev), len(s.test)) == (100, 20, 30)
    np.testing.assert_array_equal(s.test.labels, yv)


def test_load_unlabeled_csv_is_refused(files, digits, check_error):
    images, _ = digits.make(50)
    path = files.csv("test.csv", images, None)
    check_error(lambda: data.load(path, dev_size=0.1), path, "no label column")


def test_load_unknown_path(tmp_path, check_error):
    path = tmp_path / "nowhere"
    check_error(lambda: data.load(path), path, "no such file or directory", "mnist")


def test_load_unknown_format(tmp_path, check_error):
    path = tmp_path / "digits.txt"
    path.write_text("1,2,3\n")
    check_error(lambda: data.load(path), path, "unknown format")


def test_load_empty_directory(tmp_path, check_error):
    check_error(lambda: data.load(tmp_path), tmp_path, "no MNIST IDX files")


def test_load_bad_dev_size(files, digits):
    directory = files.mnist_dir("d", digits.make(100, seed=1), digits.make(10, seed=2))
    with pytest.raises(data.DataError, match="dev size"):
        data.load(directory, dev_size=5000)  # the default is larger than this pool


def test_load_unknown_source_name_is_a_path(check_error, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    check_error(lambda: data.load("emnist"), "emnist", "no such file or directory")


# -- the bundled MNIST (real data) --------------------------------------------------

@pytest.fixture(scope="module")
def mnist():
    return data.load()


def test_bundled_mnist_counts_and_classes(mnist):
    assert mnist.name == "mnist"
    assert (len(mnist.train), len(mnist.dev), len(mnist.test)) == (55_000, 5_000, 10_000)
    for part in (mnist.train, mnist.dev, mnist.test):
        assert part.images.dtype == np.uint8 and part.images.shape[1:] == (28, 28)
        assert part.labels.dtype == np.uint8
    pool = mnist.train.class_counts() + mnist.dev.class_counts()
    assert pool.tolist() == MNIST_TRAIN_COUNTS
    assert mnist.test.class_counts().tolist() == MNIST_TEST_COUNTS
    expected_dev = np.array(MNIST_TRAIN_COUNTS) * 5000 / 60000
    assert np.all(np.abs(mnist.dev.class_counts() - expected_dev) <= 1)
    assert mnist.dev.class_counts().sum() == 5000


def test_bundled_mnist_checksum_mismatch(tmp_path, monkeypatch, check_error):
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).symlink_to(data.sources.BUNDLED / name)
    labels = bytearray(gzip.decompress((data.sources.BUNDLED / "train-labels-idx1-ubyte.gz").read_bytes()))
    labels[100] = (labels[100] + 1) % 10  # one label changed: still a valid IDX file, wrong content
    tampered = tmp_path / "train-labels-idx1-ubyte.gz"
    tampered.write_bytes(gzip.compress(bytes(labels)))
    monkeypatch.setattr(data.sources, "BUNDLED", tmp_path)
    check_error(lambda: data.load("mnist"), tampered, "checksum mismatch", "sha256")


def test_bundled_mnist_missing_file(tmp_path, monkeypatch, check_error):
    monkeypatch.setattr(data.sources, "BUNDLED", tmp_path)
    message = check_error(lambda: data.load("mnist"), tmp_path, "bundled mnist files are missing", "reinstall")
    assert "download" not in message  # downloading does nothing for a bundled source


def test_sources_name_their_classes_and_what_the_images_are(tmp_path, monkeypatch, files, digits):
    """Fashion-MNIST's label 1 is a trouser and its images are not digits; MNIST's are."""
    import dataclasses
    import hashlib

    from data.sources import PARTS, Remote

    mnist = data.load("mnist", dev_size=100)
    assert mnist.classes == tuple("0123456789") and mnist.noun == "digits"
    fashion = data.SOURCES["fashion-mnist"]
    assert fashion.classes[1] == "Trouser" and fashion.classes[9] == "Ankle boot" and fashion.noun == "clothing images"
    assert data.SOURCES["kmnist"].noun == "characters" and len(set(data.SOURCES["kmnist"].classes)) == 10
    # a downloaded copy (made here, with its digests) loads with the source's names
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(tmp_path / "cache"))
    (ti, tl), (vi, vl) = digits.make(60, seed=1), digits.make(20, seed=2)
    remotes = []
    for part, array in zip(PARTS, (ti, tl, vi, vl)):
        blob = gzip.compress(files.idx_bytes(array), mtime=0)
        (tmp_path / "cache" / "fashion-mnist").mkdir(parents=True, exist_ok=True)
        (tmp_path / "cache" / "fashion-mnist" / f"{part}.gz").write_bytes(blob)
        remotes.append(Remote(f"{part}.gz", ("http://127.0.0.1:9/",), hashlib.md5(blob).hexdigest()))
    monkeypatch.setitem(data.SOURCES, "fashion-mnist", dataclasses.replace(fashion, files=tuple(remotes)))
    splits = data.load("fashion-mnist", dev_size=10)
    assert splits.classes[1] == "Trouser" and splits.noun == "clothing images"
    assert data.load(str(files.mnist_dir("mine", (ti, tl), (vi, vl))), dev_size=10).noun == "digits"


@pytest.mark.parametrize("folder", ["fashion-mnist", "Fashion_MNIST", "FashionMNIST/raw"])
def test_a_folder_named_after_fashion_mnist_gets_its_class_names(files, digits, folder):
    """Copies are often recompressed (Debian's dataset-fashion-mnist is), so the folder's name is what tells."""
    (ti, tl), (vi, vl) = digits.make(60, seed=1), digits.make(20, seed=2)
    splits = data.load(str(files.mnist_dir(folder, (ti, tl), (vi, vl), gz=True)), dev_size=10)
    assert splits.classes[1] == "Trouser" and splits.noun == "clothing images"
    other = data.load(str(files.mnist_dir("fashion-mnist-and-more", (ti, tl), (vi, vl))), dev_size=10)
    assert other.classes == tuple("0123456789") and other.noun == "digits"
