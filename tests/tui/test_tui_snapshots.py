"""Snapshots of the dashboard (pytest-textual-snapshot). Regenerate with `--snapshot-update`, then look at them.

Nothing here trains: times and speeds of a live run change from one machine to the next. The filled
dashboard is a run paused after 3 of 10 epochs, made of engine events with fixed numbers, posted as
the training thread would post them.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine import BatchEnded, EpochEnded, RunStarted
from engine.events import EarlyStopping, frozen
from tui.messages import EngineEvent
from tui.session import RunStatus, State

SIZES = [(80, 24), (100, 30)]  # 100x30: charts, status, confusion and digits together
ALL_SIZES = SIZES + [(150, 40)]  # 150x40: the wide layout, every panel at once


def ids(sizes):
    return [f"{w}x{h}" for w, h in sizes]


@pytest.fixture
def app(app_factory):
    return app_factory(epochs=10, patience=5)


def predictions(labels: np.ndarray) -> np.ndarray:
    """(n, 10) float32 probabilities: right but for every ninth digit, with varied confidence."""
    n = len(labels)
    pred = labels.astype(int).copy()
    wrong = np.arange(n) % 9 == 4
    pred[wrong] = (pred[wrong] + 3) % 10
    p = 0.55 + 0.44 * ((np.arange(n) * 37) % 100) / 100
    proba = np.tile(((1 - p) / 9)[:, None], (1, 10)).astype(np.float32)
    proba[np.arange(n), pred] = p
    return proba


def confusion(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    m = np.zeros((10, 10), np.int64)
    np.add.at(m, (labels.astype(int), proba.argmax(axis=1)), 1)
    return m


def loss_at(x: float) -> float:
    return 2.2 * math.exp(-1.6 * x) + 0.12 + 0.03 * math.sin(7 * x)


async def fill(pilot) -> None:
    """Wait for the data, then show a paused run after 3 of its 10 epochs, from fixed engine events."""
    app = pilot.app
    while app.session.state != "idle":
        await pilot.pause(0.05)
    cfg = app.session.config
    app.session.clear_board(cfg)
    app.session.run_config = cfg
    app.session.status = RunStatus(epochs=cfg.epochs, lr=cfg.lr, monitor=cfg.monitor, patience=cfg.patience,
                                   elapsed=75.0)
    app.session.state = State.PAUSED
    run = app.session.run_id
    n_dev = len(app.session.splits.dev)
    app.post_message(EngineEvent(RunStarted(cfg.to_dict(), str(cfg.spec()), 1000, n_dev, 16), run))
    for i in range(1, 55):  # batch reports up to 3.4 epochs
        x = i / 16
        loss = loss_at(x)
        batch = BatchEnded(int(x) + 1, i % 16 or 16, 16, x, loss, 1 - loss / 2.6, cfg.lr, 21500.0)
        app.session.inbox.append((run, batch))
    labels = app.session.splits.dev.labels
    proba = predictions(labels)
    m = confusion(labels, proba)
    last = float(np.trace(m) / n_dev)  # the matrix shown is epoch 3's: 89%
    for epoch, (dev_acc, best) in enumerate([(0.84, 1), (0.90, 2), (last, 2)], start=1):
        train_loss = loss_at(epoch)
        app.post_message(EngineEvent(EpochEnded(
            epoch, cfg.epochs, train_loss, 1 - train_loss / 2.6, train_loss + 0.05, dev_acc, cfg.lr, 0.05, 0.05 * epoch,
            20000.0, EarlyStopping(cfg.monitor, {1: 0.84, 2: 0.90}[best], best, epoch - best, cfg.patience),
            epoch == best, frozen(m), frozen(proba)), run))
    await pilot.pause()
    app.drain()
    await pilot.pause()


async def loaded(pilot) -> None:
    """Wait for the data and for the redraw timer's first tick, which gives the empty charts their titles."""
    while pilot.app.session.state != "idle" or not pilot.app.charts_drawn:
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=ids(SIZES))
def test_snapshot_idle_dashboard(snap_compare, app, size):
    """The dashboard once the data has loaded: empty charts, status idle, the confusion panel waiting."""
    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", ALL_SIZES, ids=ids(ALL_SIZES))
def test_snapshot_dashboard_during_a_run(snap_compare, app, size):
    """A run paused after epoch 3 of 10: charts, status (best 90.00% at epoch 2, patience 1/5 used),
    the confusion matrix of epoch 3 (89%); 100x30 shows thumbnails of the digits, 150x40 settings and health too."""
    assert snap_compare(app, terminal_size=size, run_before=fill)


def test_snapshot_digits_panel(snap_compare, app):
    """The digits with their predictions (v: the next panel), mistakes marked."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=fill, press=["v"])


def test_snapshot_editor_during_a_run(snap_compare, app):
    """The settings editor opened during the run: live settings marked, the learning rate selected."""
    async def edit(pilot):
        await fill(pilot)
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=edit)


def test_snapshot_help(snap_compare, app):
    """The help screen at 80x24, scrolled to its end (arrows and end scroll it): the last key is q."""
    async def help_(pilot):
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("end")

    assert snap_compare(app, terminal_size=(80, 24), run_before=help_)
