"""What every test folder shares: slices of the bundled MNIST (and a test set that says when it is read), a tiny
trained model and its file, short real runs, a slowed-down Control, and Pilot helpers (wait_for, footer keys,
notifications, a widget's text).

Test folders are plain directories (no packages to import from), so helpers reach the tests as fixtures:
`ui` for the Pilot helpers, `helpers` for the data and config builders.
"""
from __future__ import annotations

import io
import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import data
import models
from engine import Control, TrainConfig, train
from engine.runs import train_run


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """One cache of decoded arrays for the session (the bundled MNIST is decoded once), in a temporary
    directory, never the user's; tests that need their own set it."""
    old = os.environ.get("NN_TUI_CACHE_DIR")
    os.environ["NN_TUI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("NN_TUI_CACHE_DIR", None)
    else:
        os.environ["NN_TUI_CACHE_DIR"] = old


# -- slices of the bundled MNIST -------------------------------------------------


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


def tiny_splits(full: data.Splits, train=600, dev=200, test=200, name="mnist-tiny", watched=False) -> data.Splits:
    """The first digits of each split (the splits are already shuffled), x made once; with `watched` the test
    set is a Watched (and its x is left alone)."""
    t = full.test.subset(np.arange(test))
    test_set = Watched(t.images, t.labels) if watched else t
    splits = data.Splits(full.train.subset(np.arange(train)), full.dev.subset(np.arange(dev)), test_set, name)
    for d in (splits.train, splits.dev) if watched else (d for _, d in splits.items()):
        d.x
    return splits


def small_config(**changes) -> TrainConfig:
    """A run of a few tenths of a second on the tiny slice."""
    base = dict(hidden=(16,), epochs=3, batch_size=64, lr=0.1, schedule="constant", patience=2, seed=0, dev_size=200)
    return TrainConfig(**{**base, **changes})


@pytest.fixture(scope="session")
def mnist() -> data.Splits:
    """The bundled MNIST, loaded once for the whole session."""
    return data.load("mnist")


@pytest.fixture(scope="session")
def slice_of(mnist):
    """slice_of(train, dev, test) -> Splits of that many digits of the bundled MNIST."""
    return lambda train, dev, test: tiny_splits(mnist, train, dev, test, name="mnist-slice")


@pytest.fixture(scope="session")
def tiny(mnist) -> data.Splits:
    """600 train, 200 dev, 200 test digits."""
    return tiny_splits(mnist)


@pytest.fixture
def watched(mnist) -> data.Splits:
    """Tiny splits whose test set raises if read before `splits.test.allow` is set."""
    return tiny_splits(mnist, watched=True)


@pytest.fixture(scope="session")
def small(mnist) -> data.Splits:
    """2,000 train, 500 dev, 500 test digits."""
    return tiny_splits(mnist, 2000, 500, 500, name="mnist-small")


SMALL_MODEL = dict(hidden=(32,), epochs=4, batch_size=64, lr=0.1, schedule="constant", patience=0, seed=0)


@pytest.fixture(scope="session")
def model(small) -> models.MLP:
    """784-32-10 relu trained for 4 epochs on the small slice (about 88% on its dev digits)."""
    cfg = TrainConfig(**SMALL_MODEL)
    net = models.MLP(cfg.spec())
    train(net, small.train.x, small.train.y, small.dev.x, small.dev.y, cfg)
    return net


@pytest.fixture(scope="session")
def model_file(model, tmp_path_factory) -> Path:
    """That model saved to a file, with its settings."""
    cfg = TrainConfig(**SMALL_MODEL)
    return models.save(tmp_path_factory.mktemp("model") / "tiny.npz", model, {"data": "mnist", "config": cfg.to_dict()})


@pytest.fixture(scope="session")
def tiny_npz(mnist, tmp_path_factory) -> Path:
    """An .npz dataset of 800 training and 200 test digits (use --dev-size 200)."""
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x_train=mnist.train.images[:800], y_train=mnist.train.labels[:800],
             x_test=mnist.test.images[:200], y_test=mnist.test.labels[:200])
    return path


@pytest.fixture
def make_run(tiny):
    """make_run(root, **config_changes) -> the run directory of a short real training run."""
    def make(root, **changes):
        _, summary = train_run(tiny, small_config(**changes), root, report_every=1.0)
        return Path(summary["run_dir"])
    return make


@pytest.fixture(scope="session")
def helpers():
    """helpers.small(**changes) -> a small TrainConfig; helpers.tiny_splits; helpers.Watched."""
    return SimpleNamespace(small=small_config, tiny_splits=tiny_splits, Watched=Watched)


# -- a run slow enough to steer -----------------------------------------------------


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
def slow_control():
    """slow_control(delay) -> a SlowControl class whose batches take `delay` seconds longer."""
    return lambda delay=SlowControl.delay: type("SlowControl", (SlowControl,), {"delay": delay})


# -- Pilot helpers --------------------------------------------------------------------


async def wait_for(pilot, condition, timeout: float = 20.0, what: str = "condition"):
    """Let the app run until condition() is true; fail clearly after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            session = getattr(pilot.app, "session", None)
            where = f" (state={session.state!r}, status={session.status!r})" if session else ""
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}{where}")
        await pilot.pause(0.05)


def notes(app) -> list[str]:
    """The text of every notification the app is showing."""
    return [str(n.message) for n in app._notifications]


def shown(app, severity: str | None = None) -> str:
    """All notifications (optionally of one severity) as one string, for `in` checks."""
    return "\n".join(str(n.message) for n in app._notifications if severity is None or n.severity == severity)


def text_of(widget) -> str:
    """What a widget renders, as plain text (no styles)."""
    from rich.console import Console
    from textual.widgets import Static

    console = Console(width=max(widget.size.width, 120), color_system=None, record=True, file=io.StringIO())
    console.print(widget.content if isinstance(widget, Static) else widget.render())
    return console.export_text()


def keys(app) -> dict[str, str]:
    """Active (shown) key -> action on the current screen, as the footer sees them."""
    return {key: b.binding.action for key, b in app.screen.active_bindings.items()}


@pytest.fixture
def ui():
    """Helpers for Pilot tests: ui.wait_for, ui.notes, ui.shown, ui.text_of, ui.keys (tests/tui adds more)."""
    return SimpleNamespace(wait_for=wait_for, notes=notes, shown=shown, text_of=text_of, keys=keys)
