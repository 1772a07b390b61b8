"""Failures are shown in the app (state, status panel, a notification), never as a traceback."""
from __future__ import annotations

import data
import tui.session
from tui.widgets.status import StatusPanel


def status_text(ui, app) -> str:
    return ui.text_of(app.query_one("#side-status", StatusPanel))


async def test_a_loader_that_fails_shows_the_error(app_factory, ui):
    def broken(cfg):
        raise data.DataError("digits.csv: line 3 has 12 values, expected 785")

    app = app_factory(loader=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_for(pilot, lambda: app.session.state == "error", 5, "the error state")
        assert "line 3 has 12 values" in ui.shown(app, "error")
        assert "line 3 has 12 values" in status_text(ui, app) and "error" in status_text(ui, app)
        assert "t" not in ui.keys(app) and "o" not in ui.keys(app)  # nothing to train on
        await pilot.press("t", "d", "m")  # keys that need data do nothing
        assert app.session.state == "error" and app.is_running
        await pilot.press("question_mark")  # the rest of the app still works
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


async def test_an_unexpected_loader_exception_is_shown_too(app_factory, ui):
    def broken(cfg):
        raise MemoryError("cannot allocate 188 MiB")

    app = app_factory(loader=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_for(pilot, lambda: app.session.state == "error", 5, "the error state")
        assert "MemoryError: cannot allocate 188 MiB" in ui.shown(app, "error")


async def test_reloading_data_that_fails_keeps_the_old_data(app_factory, tiny, ui):
    def sometimes(cfg):
        if cfg.seed:
            raise data.DataError("mnist: cache damaged")
        return tiny

    app = app_factory(loader=sometimes)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        app.session.edit({"seed": 3})  # as the editor would
        await ui.wait_for(pilot, lambda: "cache damaged" in ui.shown(app, "error"), 5, "the error message")
        assert app.session.state == "idle" and app.session.splits is tiny and app.is_running


async def test_an_engine_error_in_the_worker_is_a_notification(app_factory, monkeypatch, ui):
    def explode(*args, **kw):
        raise RuntimeError("matmul: shapes (64,784) and (785,32) not aligned")

    monkeypatch.setattr(tui.session, "train_run", explode)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        s = app.session
        await ui.wait_for(pilot, lambda: s.worker.is_finished and s.state != "training", 5, "the worker to fail")
        await pilot.pause()
        assert "RuntimeError: matmul: shapes" in ui.shown(app, "error")
        assert app.session.state == "idle" and app.is_running
        assert "RuntimeError" in status_text(ui, app)
        assert ui.keys(app)["t"] == "train"  # and one may try again
        monkeypatch.undo()
        await pilot.press("t")
        await ui.finished(pilot)
        assert app.session.state == "finished"


async def test_an_error_in_the_middle_of_a_run_is_a_notification(app_factory, monkeypatch, runs_root, ui):
    real = tui.session.train_run

    def listener_bomb(splits, cfg, root, listener, control):
        def wrapped(event):
            listener(event)
            if type(event).__name__ == "EpochEnded":
                raise FloatingPointError("overflow in exp")
        return real(splits, cfg, root, wrapped, control)

    monkeypatch.setattr(tui.session, "train_run", listener_bomb)
    app = app_factory(epochs=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        s = app.session
        await ui.wait_for(pilot, lambda: s.worker.is_finished and s.state != "training", 10, "the worker to fail")
        await pilot.pause()
        assert "FloatingPointError: overflow in exp" in ui.shown(app, "error")
        assert app.is_running and app.session.state == "idle"
        assert list(runs_root.glob("*/config.json"))  # the run directory is there for a post-mortem

