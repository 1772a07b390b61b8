"""Fork and undo in the app, the marks of live changes on the charts, the health panel and alerts."""
from __future__ import annotations

import numpy as np
import pytest

from engine import TrainConfig
from engine.runs import read_run, train_run
from tui.app import VIEWS
from tui.text import lineage
from tui.widgets.charts import MetricChart
from tui.widgets.health import HealthPanel

pytestmark = pytest.mark.usefixtures("slow")  # ~0.35 s an epoch: time to steer


def untimed(history):
    return [{k: v for k, v in h.items() if k not in ("seconds", "elapsed", "samples_per_sec")} for h in history]


@pytest.fixture
def slow(controls, slow_control):
    """Runs slow enough (0.1 s a batch) that epoch 2 is still under way when the test sees epoch 1 end."""
    controls.cls = slow_control(0.1)
    return controls.cls


async def change_lr_during_epoch_2(pilot, ui, lr=5.0):
    """Tests calling it take the `slow` fixture: on a fast machine a 3-epoch run on the tiny data can end
    before the change reaches it."""
    app = pilot.app
    await ui.loaded(pilot)
    await pilot.press("t")
    await ui.epochs_done(pilot, 1)
    app.session.edit({"lr": lr})  # what the editor's enter does: a live change at the next batch
    await ui.wait_for(pilot, lambda: app.session.changes, 10, "the change to apply")


async def test_a_live_change_is_marked_on_the_charts_in_the_status_and_the_run_files(app_factory, ui, runs_root, slow):
    app = app_factory(epochs=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await change_lr_during_epoch_2(pilot, ui)
        change = app.session.changes[0]
        assert (change["field"], change["old"], change["new"], change["epoch"]) == ("lr", 0.1, 5.0, 2)
        for chart in app.query(MetricChart):
            assert len(chart.marks) == 1 and 1 <= chart.marks[0][0] < 2  # during epoch 2
        assert "lr 5" in str(app.query_one("#title").content)  # the header shows the settings in force
        assert app.session.status.change == "lr 0.1 -> 5"
        assert any("u undoes it" in n for n in ui.notes(app))
        await ui.finished(pilot)
        info = read_run(app.session.run_dir)
        assert info.changes == [change] and info.config["lr"] == 5.0


async def test_undo_brings_back_the_model_without_the_change(app_factory, ui, app_data, tmp_path, slow):
    app = app_factory(epochs=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await change_lr_during_epoch_2(pilot, ui)
        parent = app.session.run_dir
        assert "undo" in ui.keys(app).values() or app.check_action("undo", ())
        await pilot.press("u")
        await ui.wait_for(pilot, lambda: app.session.run_dir not in (None, parent), 10, "the branch to start")
        assert app.session.config.lr == 0.1  # the editor shows the settings before the change
        await ui.finished(pilot)
        branch = read_run(app.session.run_dir)
        assert branch.fork["epoch"] == 1 and branch.fork["parent"] == str(parent) and branch.changes == []
        assert branch.fork["undoes"] == read_run(parent).changes[-1]
        assert ", undoing lr 0.1 -> 5 at epoch 2 batch " in lineage(branch)
        assert read_run(parent).changes  # the run with the change is kept, whole
        started = TrainConfig.from_dict(read_run(parent).meta["initial_config"])  # the settings before the change
        clean, _ = train_run(app_data, started, tmp_path, keep=0)
        assert untimed(branch.history) == untimed(clean.history)
        assert all(np.array_equal(a, b) for a, b in zip(app.session.model.params, clean.model.params))
        marks = app.query_one("#loss", MetricChart).marks
        assert [x for x, _ in marks] == [1.0]  # where the branch starts


async def test_fork_continues_a_finished_run_in_a_branch(app_factory, ui):
    app = app_factory(epochs=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        parent = app.session.run_dir
        await pilot.press("f")
        await ui.wait_for(pilot, lambda: app.session.run_dir not in (None, parent), 10, "the branch to start")
        await ui.finished(pilot)
        branch = read_run(app.session.run_dir)
        assert branch.fork == {"parent": str(parent), "epoch": 2, "overrides": {"epochs": [2, 4]}}
        assert [h["epoch"] for h in branch.history] == [1, 2, 3, 4]
        assert untimed(branch.history[:2]) == untimed(read_run(parent).history)
        assert len(app.query_one("#acc", MetricChart).dev) == 4  # the parent's epochs, then the branch's


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_the_health_panel_and_an_alert_fit(app_factory, ui, size, slow):
    app = app_factory(epochs=3)
    async with app.run_test(size=size) as pilot:
        await change_lr_during_epoch_2(pilot, ui, lr=9.0)
        await ui.finished(pilot)
        if size == (80, 24):
            app.view = VIEWS.index("health-box")
            await pilot.pause()
        panel = app.query_one(HealthPanel)
        assert panel.region.area and panel.region.right <= size[0] and panel.region.bottom <= size[1]
        text = " ".join(ui.text_of(panel).split())
        assert [a.kind for a in app.session.alerts][:1] == ["diverging"]
        assert app.session.alerts[0].message in text and "undo the change" in text
        assert "alert" in ui.text_of(app.query_one("#status" if app.wide else "#side-status"))
        if size == (160, 50):
            assert "|grad|" in text and "layer" in text
