"""What fits where: charts, status, confusion and digits together from 100x30, everything from 150x40,
80x24 reaching every panel with v; the status says which dev is last and which best, and how a run ended."""
from __future__ import annotations

import time

import pytest
from test_tui_snapshots import fill

from tui.app import VIEWS
from tui.session import RunStatus, State
from tui.widgets.charts import MetricChart
from tui.widgets.status import StatusPanel


def shown(app) -> set[str]:
    return {name for name in ("status-box", "side-status-box", *VIEWS) if app.query_one(f"#{name}").display
            and app.query_one(f"#{name}").region.area}


@pytest.mark.parametrize("size, expected", [
    ((80, 24), {"side-status-box", "confusion-box"}),
    ((100, 30), {"side-status-box", "confusion-box", "digits-box"}),
    ((150, 40), {"status-box", *VIEWS}),
])
async def test_panels_shown_at_each_size(app_factory, size, expected):
    app = app_factory(epochs=10, patience=5)
    async with app.run_test(size=size) as pilot:
        await fill(pilot)
        assert shown(app) == expected
        for chart in app.query(MetricChart):
            assert chart.region.height >= 7  # a legend row and at least four rows of plot
            assert chart.best_at == 2  # the monitored best epoch, starred on both
        if size == (100, 30):
            assert app.query_one("#digits").shown >= 4  # thumbnails beside the matrix
            await pilot.press("v")
            assert shown(app) == {"side-status-box", "confusion-box", "settings-box"}
            await pilot.press("v", "v")
            assert "digits-box" in shown(app)


async def test_80x24_reaches_every_panel_with_v(app_factory):
    app = app_factory(epochs=10, patience=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill(pilot)
        seen = set()
        for _ in VIEWS:
            seen |= shown(app) & set(VIEWS)
            await pilot.press("v")
        assert seen == set(VIEWS)


async def test_status_names_the_last_epoch_and_how_the_run_ended(app_factory, ui):
    app = app_factory(epochs=10, patience=5)
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot)
        text = ui.text_of(app.query_one("#side-status", StatusPanel))
        assert "dev @3" in text and "best acc 90.00% @ epoch 2" in text
        panel = app.query_one("#side-status", StatusPanel)
        for stop, word in (("early-stopped", "early-stopped 3/10"), ("stopped", "stopped 3/10"),
                           ("max-epochs", "finished 3/10")):
            st = RunStatus(epoch=3, epochs=10, progress=3.0, elapsed=4.0, best=0.9, best_epoch=2, patience=1,
                           reason="early stop: no improvement of dev_acc in the last 1 epoch (best 90.00% at epoch 2)",
                           stop=stop)
            panel.show(st, State.FINISHED)
            await pilot.pause()
            text = ui.text_of(panel)
            assert word in text and "progress" not in text
            assert "(best 90.00% at" in text.replace("\n", " ").replace("  ", " ") or "epoch 2)" in text


async def test_elapsed_is_training_time_and_an_eta_shows(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        await ui.epochs_done(pilot, 1)
        await pilot.press("space")
        paused_at = app.session.training_seconds()
        await pilot.pause(1.5)
        assert app.session.training_seconds() == pytest.approx(paused_at)  # the clock stops while paused
        await pilot.press("space")
        app.session.drain()
        # the 1.5 s pause is not in the training time (the status may lag the engine by an epoch's
        # drawing, so it is compared with the wall clock since the run started, not with paused_at)
        assert app.session.status.elapsed < time.monotonic() - app.session.t_start - 1.0
        app.show_status()
        await pilot.pause()
        assert "~" in ui.text_of(app.query_one("#side-status", StatusPanel))  # time left at this pace
        await pilot.press("s")
        await ui.finished(pilot)
        assert "stopped" in ui.text_of(app.query_one("#side-status", StatusPanel))


async def test_the_last_epochs_numbers_name_that_epoch_not_the_running_one(app_factory, ui):
    app = app_factory(epochs=10, patience=5)
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot)
        panel = app.query_one("#side-status", StatusPanel)
        last = {"epoch": 3, "train_loss": 0.2, "train_acc": 0.9, "dev_loss": 0.3, "dev_acc": 0.88}
        panel.show(RunStatus(epoch=4, epochs=10, progress=3.5, elapsed=7.0, last=last), State.TRAINING)
        await pilot.pause()
        text = ui.text_of(panel)
        assert "dev @3" in text and "training 4/10" in text and "~" in text  # ETA: 7 s for 3.5 epochs
