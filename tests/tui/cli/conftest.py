"""Fixtures for the command-line tests: a small .npz of real MNIST digits and an isolated runs directory."""
from __future__ import annotations

import numpy as np
import pytest

import data


@pytest.fixture(scope="session")
def small_npz(tmp_path_factory):
    """2,000 training and 500 test digits of the bundled MNIST, in the Keras .npz layout."""
    s = data.load("mnist")
    path = tmp_path_factory.mktemp("npz") / "small.npz"
    np.savez(path, x_train=s.train.images[:2000], y_train=s.train.labels[:2000],
             x_test=s.test.images[:500], y_test=s.test.labels[:500])
    return path


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Runs and downloads go to tmp_path, never to the user's directories."""
    monkeypatch.setenv("NN_TUI_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path
