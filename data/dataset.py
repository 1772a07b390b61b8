"""Datasets and their train / dev / test splits."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .errors import DataError

SIDE = 28
PIXELS = SIDE * SIDE
CLASSES = 10
DIGITS = tuple("0123456789")  # class names of digit sets: the label itself


@dataclass(eq=False)
class Dataset:
    """Digits as stored: images (n, 28, 28) uint8 0-255, labels (n,) uint8 0-9 or None."""

    images: np.ndarray
    labels: np.ndarray | None

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.shape[1:] != (SIDE, SIDE):
            raise ValueError(f"images must be uint8 (n, 28, 28), got {self.images.dtype} {self.images.shape}")
        if self.labels is not None and self.labels.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but labels of shape {self.labels.shape}")

    def __len__(self) -> int:
        return len(self.images)

    @cached_property
    def x(self) -> np.ndarray:
        """Images as (n, 784) float32 in [0, 1], converted once."""
        return np.multiply(self.images.reshape(len(self), PIXELS), np.float32(1 / 255), dtype=np.float32)

    @property
    def y(self) -> np.ndarray:
        """Labels (n,) uint8; raises DataError when the set is unlabeled."""
        if self.labels is None:
            raise DataError("this dataset has no labels")
        return self.labels

    def subset(self, index: np.ndarray) -> "Dataset":
        """The digits at `index` (an int array), as a new Dataset."""
        return Dataset(self.images[index], None if self.labels is None else self.labels[index])

    def class_counts(self) -> np.ndarray:
        """(10,) int64 number of digits of each class."""
        return np.bincount(self.y, minlength=CLASSES)


@dataclass(eq=False)
class Splits:
    """Train, dev and test sets drawn from one source: `name` to show, `source` to load it again
    (a source name, or the absolute path of the file or directory)."""

    train: Dataset
    dev: Dataset
    test: Dataset
    name: str = "mnist"
    source: str = ""
    classes: tuple[str, ...] = DIGITS  # what each label 0-9 stands for
    noun: str = "digits"  # what the images are, plural: "digits", "clothing images", "characters"

    def items(self):
        return (("train", self.train), ("dev", self.dev), ("test", self.test))


def _quotas(counts: np.ndarray, total: int) -> np.ndarray:
    """Split `total` over classes in proportion to `counts` (largest remainder)."""
    exact = counts * (total / counts.sum())
    q = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - q), kind="stable")
    q[order[: total - q.sum()]] += 1
    return np.minimum(q, counts)


def stratified_take(labels: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle, then take `size` indices with every class in proportion; return (taken, rest)."""
    order = rng.permutation(len(labels))
    quota = _quotas(np.bincount(labels, minlength=CLASSES), size)
    rank = np.empty(len(labels), np.int64)  # position of each shuffled index within its class
    shuffled = labels[order]
    for c in range(CLASSES):
        where = np.flatnonzero(shuffled == c)
        rank[where] = np.arange(len(where))
    taken = rank < quota[shuffled]
    # taking the first of each class bunches the leftovers by class near the front: reshuffle both
    return rng.permutation(order[taken]), rng.permutation(order[~taken])


def split_count(size: float, n: int, what: str = "dev") -> int:
    """A split size given as a count (>= 1) or a fraction (< 1) of n, checked."""
    if 0 < size < 1:
        count = round(size * n)
    elif size >= 1 and float(size).is_integer():
        count = int(size)
    else:
        count = -1
    if not 0 < count < n:
        raise DataError(f"{what} size {size:g} must be a fraction in (0, 1) or a count in 1..{n - 1}")
    return count


def split_pool(pool: Dataset, test: Dataset, dev_size: float, seed: int, name: str) -> Splits:
    """Official test set kept; dev drawn from the training pool, stratified, shuffled by `seed`."""
    rng = np.random.default_rng(seed)
    dev, train = stratified_take(pool.y, split_count(dev_size, len(pool)), rng)
    return Splits(pool.subset(train), pool.subset(dev), test, name)


def split_fractions(full: Dataset, dev_size: float, test_size: float, seed: int, name: str) -> Splits:
    """One labeled set cut into train / dev / test, stratified, shuffled by `seed`.

    Both sizes are counts, or fractions of the whole set when below 1.
    """
    rng = np.random.default_rng(seed)
    n_test, n_dev = split_count(test_size, len(full), "test"), split_count(dev_size, len(full))
    if n_test + n_dev >= len(full):
        raise DataError(f"dev ({n_dev:,}) and test ({n_test:,}) leave no training digits out of {len(full):,}")
    test, rest = stratified_take(full.y, n_test, rng)
    rest_set = full.subset(rest)
    dev, train = stratified_take(rest_set.y, n_dev, rng)
    return Splits(rest_set.subset(train), rest_set.subset(dev), full.subset(test), name)
