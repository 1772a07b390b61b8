"""Shared pieces for the TUI tests: the app's slice of the bundled MNIST, small configs, an app factory
(whose Control the `slow` fixture slows down), one BLAS thread, helpers that wait for the training thread
without sleeping blindly, and a host app for screens tested on their own. The rest is in tests/conftest.py.

Helpers reach the tests through the `ui` fixture (plain test directories have no packages to import from).
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from textual.app import App

import data
from engine import Control, TrainConfig, threads
from tui.app import NNTuiApp, make_app


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread while these tests run. OpenBLAS threads spin between the small matrix products
    of a tiny run, so the process never looks idle and every Pilot key press (which waits for an idle
    CPU, up to 1 s twice) takes 2 s; on a 2-core CI machine they also starve the UI thread."""
    with threads.pinned(1):  # and the engine's thread chooser keeps it
        yield


@pytest.fixture(scope="session")
def app_data(mnist, helpers) -> data.Splits:
    """1,000 train, 300 dev, 300 test digits: what the app trains on in these tests."""
    return helpers.tiny_splits(mnist, 1000, 300, 300)


@pytest.fixture
def loader(app_data):
    """loader(cfg) -> the app's tiny splits; every call's config is kept in `loader.calls`."""
    def load(cfg: TrainConfig) -> data.Splits:
        load.calls.append(cfg)
        return app_data
    load.calls = []
    return load


def small_config(**changes) -> TrainConfig:
    base = dict(hidden=(32,), epochs=3, batch_size=64, lr=0.1, schedule="constant", patience=0, seed=0)
    return TrainConfig(**{**base, **changes})


@pytest.fixture
def runs_root(tmp_path):
    return tmp_path / "runs"


@pytest.fixture
def controls():
    """The Control class the apps of a test get (the `slow` fixture swaps in a slow one)."""
    return SimpleNamespace(cls=Control)


@pytest.fixture
def app_factory(loader, runs_root, controls):
    """app_factory(loader=None, cls=NNTuiApp, **config_changes) -> an app on the tiny data, runs under runs_root."""
    def build(loader=loader, cls=NNTuiApp, **changes) -> NNTuiApp:
        if cls is NNTuiApp:
            app = make_app(small_config(**changes), loader=loader, runs_root=runs_root, control=controls.cls)
        else:
            app = cls(small_config(**changes), loader, runs_root, control=controls.cls)
        app.animation_level = "none"  # as TEXTUAL_ANIMATIONS=none: Pilot waits out every animated scroll
        return app
    return build


@pytest.fixture
def slow(controls, slow_control):
    """Make the app's runs slow (about 0.35 s an epoch on the tiny data); returns the SlowControl class."""
    controls.cls = slow_control()
    return controls.cls


@pytest.fixture
def ui(ui):
    """The root helpers (ui.wait_for, ui.notes, ui.shown, ui.text_of, ui.keys) and the app's own: ui.loaded,
    ui.finished, ui.epochs_done, ui.completed, ui.train_and_finish."""
    wait_for = ui.wait_for

    async def loaded(pilot) -> None:
        """Wait until the data has loaded and the app is idle."""
        s = pilot.app.session
        await wait_for(pilot, lambda: s.state == "idle" and s.splits is not None, 10, "the data to load")

    async def finished(pilot, timeout: float = 30.0) -> None:
        """Wait until the training worker has ended and the app has taken its result."""
        s = pilot.app.session
        await wait_for(pilot, lambda: s.worker is not None and s.worker.is_finished and not s.state.busy,
                       timeout, "the run to end")
        await pilot.pause()

    def completed(app) -> int:
        """Epochs of the current run whose end (EpochEnded) the app has shown."""
        return len(app.query_one("#loss").dev)

    async def epochs_done(pilot, n: int = 1, timeout: float = 20.0) -> None:
        """Wait until the app has shown the end of epoch `n` of the current run."""
        await wait_for(pilot, lambda: completed(pilot.app) >= n, timeout, f"epoch {n} to end")

    async def train_and_finish(pilot) -> None:
        """Load, press t, wait for the run to end."""
        await loaded(pilot)
        await pilot.press("t")
        await finished(pilot)

    return SimpleNamespace(**vars(ui), loaded=loaded, finished=finished, epochs_done=epochs_done,
                           completed=completed, train_and_finish=train_and_finish)


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
