"""Train / dev / test splits: sizes, stratification, determinism, no overlap; Dataset basics."""
import numpy as np
import pytest

import data


@pytest.fixture
def pool(digits):
    images, labels = digits.make(1000, seed=3)
    return data.Dataset(images, labels)


@pytest.fixture
def official_test(digits):
    images, labels = digits.make(200, seed=4)
    return data.Dataset(images, labels)


def _assert_stratified(part: data.Dataset, whole: data.Dataset):
    """Each class's count in `part` is within 1 of its share of `whole`."""
    expected = whole.class_counts() * (len(part) / len(whole))
    got = part.class_counts()
    assert np.all(np.abs(got - expected) <= 1), f"{got} vs {expected.round(2)}"


def _assert_pairs_kept(part: data.Dataset, original: data.Dataset, digits):
    """Every image still has its own label (subsetting kept images and labels aligned)."""
    ids = digits.ids(part.images)
    np.testing.assert_array_equal(part.labels, original.labels[ids])
    np.testing.assert_array_equal(part.images, original.images[ids])


# -- split_pool (official test kept, dev drawn from the training pool) ------------

@pytest.mark.parametrize("dev_size,expected", [(100, 100), (0.2, 200), (1, 1), (999, 999), (0.05, 50)])
def test_split_pool_sizes(pool, official_test, dev_size, expected):
    s = data.split_pool(pool, official_test, dev_size, seed=0, name="gen")
    assert isinstance(s, data.Splits) and s.name == "gen"
    assert len(s.dev) == expected
    assert len(s.train) == len(pool) - expected
    assert s.test is official_test  # the official test set is kept as is
    assert [name for name, _ in s.items()] == ["train", "dev", "test"]


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
@pytest.mark.parametrize("dev_size", [37, 100, 0.3])
def test_split_pool_is_stratified(pool, official_test, seed, dev_size):
    s = data.split_pool(pool, official_test, dev_size, seed, "gen")
    _assert_stratified(s.dev, pool)
    _assert_stratified(s.train, pool)


def test_split_pool_partitions_the_pool(pool, official_test, digits):
    s = data.split_pool(pool, official_test, 150, seed=7, name="gen")
    train, dev = digits.ids(s.train.images), digits.ids(s.dev.images)
    assert len(np.unique(train)) == len(train) and len(np.unique(dev)) == len(dev)  # no duplicates
    assert np.intersect1d(train, dev).size == 0  # no overlap
    np.testing.assert_array_equal(np.sort(np.concatenate([train, dev])), np.arange(len(pool)))  # nothing lost
    _assert_pairs_kept(s.train, pool, digits)
    _assert_pairs_kept(s.dev, pool, digits)


def test_split_pool_is_deterministic_by_seed(pool, official_test, digits):
    a = data.split_pool(pool, official_test, 100, seed=5, name="gen")
    b = data.split_pool(pool, official_test, 100, seed=5, name="gen")
    c = data.split_pool(pool, official_test, 100, seed=6, name="gen")
    for part in ("train", "dev"):
        np.testing.assert_array_equal(digits.ids(getattr(a, part).images), digits.ids(getattr(b, part).images))
    assert not np.array_equal(np.sort(digits.ids(a.dev.images)), np.sort(digits.ids(c.dev.images)))
    assert not np.array_equal(digits.ids(a.train.images), digits.ids(c.train.images))


def test_split_pool_shuffles(pool, official_test, digits):
    s = data.split_pool(pool, official_test, 100, seed=0, name="gen")
    train = digits.ids(s.train.images)
    assert not np.all(np.diff(train) > 0), "train kept the file order"
    # Shuffled, not merely grouped by class: the first 100 training labels hold several classes.
    assert len(np.unique(s.train.labels[:100])) >= 5


@pytest.mark.parametrize("dev_size", [0, -5, -0.5, 1.5, 2.5, 1000, 1001, 10**9, 0.0001])
def test_split_pool_bad_dev_size(pool, official_test, dev_size):
    with pytest.raises(data.DataError, match="dev size"):
        data.split_pool(pool, official_test, dev_size, seed=0, name="gen")


# -- split_fractions (one labeled set cut in three) --------------------------------

def test_split_fractions_sizes(pool):
    s = data.split_fractions(pool, dev_size=0.1, test_size=0.2, seed=0, name="csv")
    assert len(s.test) == 200
    # both fractions are of the whole set
    assert len(s.dev) == 100
    assert len(s.train) == 700
    assert s.name == "csv"


def test_split_fractions_counts(pool):
    s = data.split_fractions(pool, dev_size=150, test_size=250, seed=0, name="csv")
    assert (len(s.train), len(s.dev), len(s.test)) == (600, 150, 250)


@pytest.mark.parametrize("seed", [0, 1, 99])
def test_split_fractions_stratified_and_disjoint(pool, digits, seed):
    s = data.split_fractions(pool, dev_size=0.15, test_size=0.15, seed=seed, name="csv")
    for part in (s.train, s.dev, s.test):
        _assert_stratified(part, pool)
        _assert_pairs_kept(part, pool, digits)
    train, dev, test = (digits.ids(p.images) for p in (s.train, s.dev, s.test))
    assert np.intersect1d(train, dev).size == 0
    assert np.intersect1d(train, test).size == 0
    assert np.intersect1d(dev, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, dev, test])), np.arange(len(pool)))


def test_split_fractions_deterministic_by_seed(pool, digits):
    a, b, c = (data.split_fractions(pool, 0.1, 0.1, seed, "csv") for seed in (3, 3, 4))
    for part in ("train", "dev", "test"):
        np.testing.assert_array_equal(digits.ids(getattr(a, part).images), digits.ids(getattr(b, part).images))
    assert not np.array_equal(np.sort(digits.ids(a.test.images)), np.sort(digits.ids(c.test.images)))


@pytest.mark.parametrize("dev_size,test_size,what", [(0.1, 0, "test size"), (0.1, 1000, "test size"),
                                                     (0.1, 1.2, "test size"), (0, 0.1, "dev size"),
                                                     (1000, 0.1, "dev size"), (900, 0.1, "no training digits")])
def test_split_fractions_bad_sizes(pool, dev_size, test_size, what):
    with pytest.raises(data.DataError, match=what):
        data.split_fractions(pool, dev_size, test_size, seed=0, name="csv")


def test_unlabeled_set_cannot_be_split(digits):
    images, _ = digits.make(50)
    unlabeled = data.Dataset(images, None)
    with pytest.raises(data.DataError, match="no labels"):
        data.split_fractions(unlabeled, 0.1, 0.1, seed=0, name="csv")


def test_rare_class_still_reaches_dev(digits):
    # 990 digits of class 9 and 10 of class 0: a 100-digit dev set gets exactly one 0.
    images, _ = digits.make(1000)
    labels = np.full(1000, 9, np.uint8)
    labels[::100] = 0
    s = data.split_pool(data.Dataset(images, labels), data.Dataset(images[:1], labels[:1]), 100, seed=0, name="g")
    assert s.dev.class_counts()[0] == 1 and s.dev.class_counts()[9] == 99


# -- Dataset ------------------------------------------------------------------------

def test_dataset_x_float32_once(digits):
    images, labels = digits.make(20)
    images[0] = 255
    images[1] = 0
    ds = data.Dataset(images, labels)
    x = ds.x
    assert x.dtype == np.float32 and x.shape == (20, 784)
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x[0].min() == 1.0 and x[1].max() == 0.0
    np.testing.assert_allclose(x, images.reshape(20, 784) / 255.0, rtol=0, atol=1e-6)
    assert ds.x is x  # converted once, not on every access


def test_dataset_basics(digits):
    images, labels = digits.make(30)
    ds = data.Dataset(images, labels)
    assert len(ds) == 30
    assert ds.y is labels
    np.testing.assert_array_equal(ds.class_counts(), np.bincount(labels, minlength=10))
    assert ds.class_counts().shape == (10,)
    sub = ds.subset(np.array([4, 2]))
    assert digits.ids(sub.images).tolist() == [4, 2] and sub.labels.tolist() == [labels[4], labels[2]]
    with pytest.raises(data.DataError, match="no labels"):
        data.Dataset(images, None).y


@pytest.mark.parametrize("images,labels", [
    (np.zeros((2, 28, 28), np.float32), None),
    (np.zeros((2, 28, 27), np.uint8), None),
    (np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.uint8)),
])
def test_dataset_rejects_wrong_arrays(images, labels):
    with pytest.raises(ValueError):
        data.Dataset(images, labels)
