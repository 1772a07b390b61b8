"""Pilot tests: the Experiments screen (grid, search, leaderboard), the Runs screen (list, mark, compare,
open) and the picture key."""
from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Input

import tui.app
from engine import Control
from tui.app import make_app
from tui.screens.experiments import ROWS, ExperimentsScreen
from tui.screens.runs import CompareChart, RunsScreen
from tui.widgets.charts import MetricChart


class SlowControl(Control):
    """Every batch sleeps a little, so a search lasts long enough to watch and steer."""

    def take_changes(self) -> dict:
        time.sleep(0.05)
        return super().take_changes()


@pytest.fixture
def app_factory(tiny, helpers, tmp_path):
    def build(**changes):
        cfg = helpers.small(**{"epochs": 2, "patience": 0, **changes})
        app = make_app(cfg, loader=lambda c: tiny, runs_root=tmp_path / "runs", redraw_every=0.05)
        app.screenshot_dir = tmp_path / "pictures"
        return app
    return build


async def wait_for(pilot, condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            s = getattr(pilot.app, "search_session", None)
            pytest.fail(f"timed out waiting for {what} (state={pilot.app.state!r}, note={pilot.app.status.note!r}, "
                        f"search: {s and (s.texts, s.total, s.note)})")
        await pilot.pause(0.05)


async def loaded(pilot):
    await wait_for(pilot, lambda: pilot.app.state == "idle" and pilot.app.splits is not None, 10, "the data")


def notes(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def set_row(pilot, name: str, text: str) -> None:
    """Choose a row of the grid, enter, replace its text, enter."""
    grid = pilot.app.screen.query_one("#grid", DataTable)
    grid.focus()
    grid.move_cursor(row=ROWS.index(name))
    await pilot.press("enter", "ctrl+a", "ctrl+k", *text, "enter")
    await pilot.pause()


def cells(table: DataTable, row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


async def test_experiments_screen_runs_a_grid_and_opens_a_trial(app_factory, tmp_path):
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("x")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        await set_row(pilot, "hidden", "8,16")
        await set_row(pilot, "l2", "0")
        await set_row(pilot, "lr", "0.1,abc")  # refused, with the reason shown
        assert "--lr 'abc' is not a number" in str(screen.query_one("#grid-error").render())
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert screen.session.texts["lr"] == "0.1" and screen.session.texts["hidden"] == "8,16"
        assert "the grid now: 2 trials" in str(screen.query_one("#search-status").render())

        await pilot.press("t")
        try:
            await wait_for(pilot, lambda: app.search_session.result is not None, 30, "the search to end")
        finally:
            app.control.stop()
        await pilot.pause()
        s = app.search_session
        assert [r["rank"] for r in s.board] == [1, 2] and s.result.stop == "complete"
        assert (s.path / "leaderboard.csv").is_file() and (s.path / "model.npz").is_file()
        table = screen.query_one("#board", DataTable)
        assert table.row_count == 2 and cells(table, 0)[0] == "★ 1"  # the best, highlighted
        assert "Search finished" in "\n".join(str(n.title) for n in app._notifications)
        assert app.state == "model" and app.model is not None  # the winner, open in the dashboard
        assert app.screen is screen  # the search ending does not take the board away

        await pilot.press("o")  # sort by trial number
        assert s.sort == "trial" and [cells(table, i)[1] for i in range(2)] == ["1", "2"]
        loser = next(r for r in s.board if r["rank"] == 2)
        table.focus()
        table.move_cursor(row=table.get_row_index(str(loser["trial"])))
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ExperimentsScreen)  # back on the dashboard, showing that trial
        assert app.state == "model" and app.model_meta["run_dir"] == loser["run_dir"]
        assert len(app.query_one("#loss", MetricChart).dev) == loser["epochs"]


async def test_the_dashboard_follows_the_current_trial_and_steers_the_search(app_factory, monkeypatch):
    monkeypatch.setattr(tui.app, "Control", SlowControl)  # about 1.5 s a trial
    app = app_factory(epochs=3)
    async with app.run_test(size=(100, 30)) as pilot:
        try:
            await loaded(pilot)
            await pilot.press("x")
            await pilot.pause()
            await set_row(pilot, "hidden", "8,16,24,32,40,48")
            await set_row(pilot, "l2", "0")
            await pilot.press("t")
            await wait_for(pilot, lambda: (app.search_session.current or {}).get("index", 0) >= 2, 30, "trial 2")
            await pilot.press("space")  # pauses the search (its running trial)
            assert app.state == "paused" and app.control.paused and isinstance(app.control, SlowControl)
            await pilot.press("escape")  # the dashboard shows the trial in progress
            await pilot.pause()
            trial = app.search_session.current
            assert trial is not None and app.run_config.hidden == tuple(trial["changes"]["hidden"])
            assert app.status.note.startswith(f"trial {trial['index']}/6")
            assert f"784-{app.run_config.hidden[0]}-10" in str(app.query_one("#title").render())
            await pilot.press("space")
            assert app.state == "training"
            await pilot.press("s")  # stops the search: the trial ends, no new one starts, a winner is picked
            await wait_for(pilot, lambda: app.search_session.result is not None, 20, "the search to stop")
            result = app.search_session.result
            assert result.stop == "stopped" and result.done < 6 and app.state == "model"
            assert "stopped by user" in app.status.reason
        finally:
            app.control.stop()  # never leave a paused search behind: the app waits for its thread on exit


async def test_runs_screen_lists_marks_compares_and_opens(app_factory, make_run, tmp_path):
    root = tmp_path / "runs"
    a = make_run(root, lr=0.1, epochs=2)
    b = make_run(root, lr=0.01, epochs=3)
    bad = root / "20990101-000000-half-written"
    bad.mkdir()
    (bad / "config.json").write_text('{"config": {')
    app = app_factory()
    async with app.run_test(size=(100, 34)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one("#runs", DataTable)
        assert table.row_count == 3
        row = {p: table.get_row_index(str(p)) for p in (a, b, bad)}
        assert "damaged" in cells(table, row[bad])
        assert "damaged: config.json is not valid JSON" in cells(table, row[bad])[-1]

        table.move_cursor(row=row[bad])
        await pilot.press("enter")  # no model: said so, nothing breaks
        await pilot.pause()
        assert app.screen is screen and "has no saved model" in notes(app)

        for path in (a, b):
            table.move_cursor(row=row[path])
            await pilot.press("space")
        assert screen.marked == [a, b]
        loss, acc = screen.query_one("#compare-loss", CompareChart), screen.query_one("#compare-acc", CompareChart)
        assert [label for label, _ in loss.series] == ["A lr 0.1, epochs 2", "B lr 0.01, epochs 3"]
        assert [len(h) for _, h in acc.series] == [2, 3]
        legend = str(screen.query_one("#compare-legend").render())
        assert "2 runs marked" in legend and "A ⠉⠒ dev" in legend and "B ▀▄ dev" in legend
        await pilot.press("u")
        assert screen.marked == [] and len(loss.series) == 1  # the run under the cursor, as a preview

        table.move_cursor(row=row[b])
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen) and app.state == "model"
        assert app.model_meta["run_dir"] == str(b) and len(app.query_one("#acc", MetricChart).dev) == 3


async def test_the_picture_key_saves_an_svg_of_the_current_screen(app_factory, tmp_path):
    app = app_factory()
    pictures = tmp_path / "pictures"
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("p")
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("p", "escape")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("p")
        saved = sorted(pictures.glob("*.svg"))
        assert [p.name.split("-")[2] for p in saved] == ["dashboard", "experiments", "runs"]
        assert all(p.read_text().lstrip().startswith("<svg") for p in saved)
        assert all(f"Screenshot saved: {p}" in notes(app) for p in saved)
        assert "Experiments" in (pictures / saved[1].name).read_text().replace("&#160;", " ")


async def test_help_lists_the_new_keys(app_factory):
    from tui.screens.help import KEYS

    keys = dict(KEYS)
    assert "experiments" in keys["x"] and "runs" in keys["r"] and "SVG screenshot" in keys["p"]
    app = app_factory()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert "SVG screenshot" in app.export_screenshot().replace("&#160;", " ")
