"""Shared pieces for the experiments tests: a tiny slice of the bundled MNIST (in memory and as an .npz
file), small configs, runs made fast, and a test set that says when it is touched.

Helpers reach the tests through fixtures (plain test directories have no packages to import from).
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import data
from engine import TrainConfig
from engine.runs import train_run


@pytest.fixture(scope="session")
def mnist() -> data.Splits:
    return data.load("mnist")


class Watched(data.Dataset):
    """A Dataset that counts reads of its pixels and labels, and refuses them until `allow` is set."""

    def __init__(self, images, labels):
        super().__init__(images, labels)
        self.reads: list[str] = []
        self.allow = False

    def touched(self, what: str) -> None:
        if not self.allow:
            raise AssertionError(f"the test set's {what} was read before the winner was chosen")
        self.reads.append(what)

    @property
    def x(self):
        self.touched("x")
        return super().x

    @property
    def y(self):
        self.touched("y")
        return super().y


def tiny_splits(full: data.Splits, train=600, dev=200, test=200, watched=False) -> data.Splits:
    """The first digits of each split (already shuffled); with `watched` the test set is a Watched."""
    t = full.test.subset(np.arange(test))
    test_set = Watched(t.images, t.labels) if watched else t
    splits = data.Splits(full.train.subset(np.arange(train)), full.dev.subset(np.arange(dev)), test_set, "mnist-tiny")
    splits.train.x, splits.dev.x  # float32 once
    return splits


@pytest.fixture(scope="session")
def tiny(mnist) -> data.Splits:
    return tiny_splits(mnist)


@pytest.fixture
def watched(mnist) -> data.Splits:
    """Tiny splits whose test set raises if read before `splits.test.allow` is set."""
    return tiny_splits(mnist, watched=True)


def small(**changes) -> TrainConfig:
    base = dict(hidden=(16,), epochs=3, batch_size=64, lr=0.1, schedule="constant", patience=2, seed=0, dev_size=200)
    return TrainConfig(**{**base, **changes})


@pytest.fixture(scope="session")
def tiny_npz(mnist, tmp_path_factory):
    """An .npz dataset of 800 training and 200 test digits (use --dev-size 200)."""
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x_train=mnist.train.images[:800], y_train=mnist.train.labels[:800],
             x_test=mnist.test.images[:200], y_test=mnist.test.labels[:200])
    return path


@pytest.fixture
def make_run(tiny):
    """make_run(root, **config_changes) -> the run directory of a short real training run."""
    def make(root, **changes):
        _, summary = train_run(tiny, small(**changes), root, report_every=1.0)
        return Path(summary["run_dir"])
    return make


@pytest.fixture(scope="session")
def helpers():
    return SimpleNamespace(small=small, tiny_splits=tiny_splits, Watched=Watched)
