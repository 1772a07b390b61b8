"""Shared pieces for the engine tests: small generated digit-like data, configs, runs on a thread."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from engine import TrainConfig, train
from models import MLP


def separable(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x (n, 784) float32 in [0, 1], y (n,) int64: class k lights up its own band of 78 pixels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.random((n, 784), dtype=np.float32) * np.float32(0.3)
    for k in range(10):
        x[y == k, k * 78:(k + 1) * 78] += np.float32(0.7)
    return x, y


@dataclass
class Data:
    x: np.ndarray
    y: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray

    def args(self):
        return self.x, self.y, self.x_dev, self.y_dev


@pytest.fixture(scope="session")
def easy():
    """300 training and 100 dev samples of an easy ten-class problem."""
    x, y = separable(300, 1)
    x_dev, y_dev = separable(100, 2)
    return Data(x, y, x_dev, y_dev)


@pytest.fixture
def config():
    """TrainConfig with small, fast defaults; keyword arguments override."""
    def make(**changes) -> TrainConfig:
        base = dict(hidden=(16,), optimizer="momentum", lr=0.05, momentum=0.9, batch_size=32, epochs=3,
                    schedule="constant", patience=0, dev_size=100, seed=0)
        return TrainConfig(**{**base, **changes})
    return make


@pytest.fixture
def run(easy):
    """run(cfg, listener=None, control=None, report_every=0.1, model=None) -> (Result, model) on the easy data."""
    def go(cfg, listener=None, control=None, report_every=0.1, model=None):
        model = model or MLP(cfg.spec())
        result = train(model, *easy.args(), cfg, listener, control, report_every)
        return result, model
    return go


@dataclass
class Background:
    """A training run on its own thread, as the app runs it."""

    thread: threading.Thread
    results: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def join(self, timeout: float = 20):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the training thread did not finish"
        if self.errors:
            raise self.errors[0]
        return self.results[0]


@pytest.fixture
def background(easy):
    """background(cfg, listener, control, report_every=0) starts train() on a worker thread."""
    def start(cfg, listener, control, report_every=0.0, model=None):
        model = model or MLP(cfg.spec())
        bg = Background(None)

        def work():
            try:
                bg.results.append(train(model, *easy.args(), cfg, listener, control, report_every))
            except BaseException as e:  # surfaced by join()
                bg.errors.append(e)

        bg.thread = threading.Thread(target=work, daemon=True)
        bg.thread.start()
        return bg
    return start


class Recorder:
    """A listener that keeps every event (not a list: the trainer tests `listener or ...`)."""

    def __init__(self):
        self.all = []

    def __call__(self, event):
        self.all.append(event)

    def __getitem__(self, i):
        return self.all[i]

    def of(self, kind):
        return [e for e in self.all if isinstance(e, kind)]


@pytest.fixture
def events():
    return Recorder()
