"""Shared pieces for the TUI tests: a tiny slice of the bundled MNIST, small configs, an app factory,
a slowed-down engine to steer, one BLAS thread, and helpers that wait for the training thread without sleeping blindly.

Helpers reach the tests through the `ui` fixture (plain test directories have no packages to import from).
"""
from __future__ import annotations

import io
import time
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console
from textual.widgets import Static

import data
import tui.app
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
def mnist() -> data.Splits:
    """The bundled MNIST, loaded once for the whole session."""
    return data.load("mnist")


def tiny_splits(full: data.Splits, train: int, dev: int, test: int, name: str = "mnist-tiny") -> data.Splits:
    """The first `train`/`dev`/`test` digits of each split (the splits are already shuffled); x made once."""
    splits = data.Splits(train=full.train.subset(np.arange(train)), dev=full.dev.subset(np.arange(dev)),
                         test=full.test.subset(np.arange(test)), name=name)
    for _, d in splits.items():
        d.x
    return splits


@pytest.fixture(scope="session")
def tiny(mnist) -> data.Splits:
    """1,000 train, 300 dev, 300 test digits."""
    return tiny_splits(mnist, 1000, 300, 300)


@pytest.fixture(scope="session")
def slice_of(mnist):
    """slice_of(train, dev, test) -> Splits of that many digits of the bundled MNIST."""
    return lambda train, dev, test: tiny_splits(mnist, train, dev, test, name="mnist-slice")


@pytest.fixture
def loader(tiny):
    """loader(cfg) -> the tiny splits; every call's config is kept in `loader.calls`."""
    def load(cfg: TrainConfig) -> data.Splits:
        load.calls.append(cfg)
        return tiny
    load.calls = []
    return load


def small_config(**changes) -> TrainConfig:
    base = dict(hidden=(32,), epochs=3, batch_size=64, lr=0.1, schedule="constant", patience=0, seed=0)
    return TrainConfig(**{**base, **changes})


@pytest.fixture
def runs_root(tmp_path):
    return tmp_path / "runs"


@pytest.fixture
def app_factory(loader, runs_root):
    """app_factory(loader=None, cls=NNTuiApp, **config_changes) -> an app on the tiny data, runs under runs_root."""
    def build(loader=loader, cls=NNTuiApp, **changes) -> NNTuiApp:
        if cls is NNTuiApp:
            app = make_app(small_config(**changes), loader=loader, runs_root=runs_root)
        else:
            app = cls(small_config(**changes), loader, runs_root)
        app.animation_level = "none"  # as TEXTUAL_ANIMATIONS=none: Pilot waits out every animated scroll
        return app
    return build


class SlowControl(Control):
    """The engine's own Control, but every batch takes `delay` seconds longer (asleep, not busy).

    A run then lasts long enough to steer, and the test process stays idle enough for Pilot's
    key presses (which wait for the CPU to go quiet) to return at once. `batches` counts the
    batches the loop has started, so a test can see whether the engine is making progress.
    """

    delay = 0.02

    def __init__(self):
        super().__init__()
        self.batches = 0

    def take_changes(self) -> dict:  # the loop calls this once before every batch
        self.batches += 1
        time.sleep(self.delay)
        return super().take_changes()


@pytest.fixture
def slow(monkeypatch):
    """Make the app's runs slow (about 0.35 s an epoch on the tiny data); returns the SlowControl class."""
    monkeypatch.setattr(tui.app, "Control", SlowControl)
    return SlowControl


async def wait_for(pilot, condition, timeout: float = 20.0, what: str = "condition"):
    """Let the app run until condition() is true; fail clearly after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            app = pilot.app
            pytest.fail(f"timed out after {timeout:g} s waiting for {what} "
                        f"(state={app.state!r}, status={app.status!r})")
        await pilot.pause(0.05)


async def loaded(pilot) -> None:
    """Wait until the data has loaded and the app is idle."""
    app = pilot.app
    await wait_for(pilot, lambda: app.state == "idle" and app.splits is not None, 10, "the data to load")


async def finished(pilot, timeout: float = 30.0) -> None:
    """Wait until the training worker has ended and the app has taken its result."""
    app = pilot.app
    await wait_for(pilot, lambda: app.worker is not None and app.worker.is_finished
                   and app.state not in ("training", "paused", "stopping"), timeout, "the run to end")
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


def notes(app) -> list[str]:
    """The text of every notification the app is showing."""
    return [str(n.message) for n in app._notifications]


def shown(app, severity: str | None = None) -> str:
    """All notifications (optionally of one severity) as one string, for `in` checks."""
    return "\n".join(str(n.message) for n in app._notifications if severity is None or n.severity == severity)


def text_of(widget) -> str:
    """What a widget renders, as plain text (no styles)."""
    console = Console(width=max(widget.size.width, 120), color_system=None, record=True, file=io.StringIO())
    console.print(widget.content if isinstance(widget, Static) else widget.render())
    return console.export_text()


def keys(app) -> dict[str, str]:
    """Active (shown) key -> action on the current screen, as the footer sees them."""
    return {key: b.binding.action for key, b in app.screen.active_bindings.items()}


@pytest.fixture
def ui():
    """Helpers for Pilot tests: ui.wait_for, ui.loaded, ui.finished, ui.epochs_done, ui.completed, ui.train_and_finish,
    ui.notes, ui.shown, ui.text_of, ui.keys."""
    return SimpleNamespace(wait_for=wait_for, loaded=loaded, finished=finished, epochs_done=epochs_done,
                           completed=completed,
                           train_and_finish=train_and_finish, notes=notes, shown=shown, text_of=text_of, keys=keys)
