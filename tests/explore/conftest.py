"""Shared pieces for the explore tests: a slice of the bundled MNIST, a tiny model trained on it once,
that model saved to a file, and a host app that opens one screen (plain test directories have no
packages to import from, so helpers come as fixtures)."""
from __future__ import annotations

import numpy as np
import pytest
from textual.app import App

import data
import models
from engine import TrainConfig, train


@pytest.fixture(scope="session")
def small() -> data.Splits:
    """2,000 train, 500 dev, 500 test digits of the bundled MNIST (already shuffled splits); x made once."""
    full = data.load("mnist")
    splits = data.Splits(train=full.train.subset(np.arange(2000)), dev=full.dev.subset(np.arange(500)),
                         test=full.test.subset(np.arange(500)), name="mnist-small")
    for _, d in splits.items():
        d.x
    return splits


@pytest.fixture(scope="session")
def model(small) -> models.MLP:
    """784-32-10 relu trained for 4 epochs on the small slice (about 88% on its dev digits)."""
    cfg = TrainConfig(hidden=(32,), epochs=4, batch_size=64, lr=0.1, schedule="constant", patience=0, seed=0)
    net = models.MLP(cfg.spec())
    train(net, small.train.x, small.train.y, small.dev.x, small.dev.y, cfg)
    return net


@pytest.fixture(scope="session")
def model_file(model, tmp_path_factory):
    cfg = TrainConfig(hidden=(32,), epochs=4, batch_size=64, lr=0.1, schedule="constant", patience=0, seed=0)
    return models.save(tmp_path_factory.mktemp("model") / "tiny.npz", model, {"data": "mnist", "config": cfg.to_dict()})


class Host(App):
    """An empty app that opens one screen on start: screens tested on their own."""

    def __init__(self, screen):
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


@pytest.fixture
def host():
    """host(screen) -> an App whose first screen is `screen`; run it with `async with app.run_test(...)`."""
    return Host
