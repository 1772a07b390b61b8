"""Pilot tests: the Experiments screen (grid, search, leaderboard), the Runs screen (list, mark, compare,
open) and the picture key."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

import models
from tui.app import make_app
from tui.screens.experiments import ROWS, ExperimentsScreen, WinnerScreen
from tui.screens.help import key_table
from tui.screens.runs import CompareChart, RunsScreen
from tui.widgets.charts import MetricChart


@pytest.fixture
def app_factory(tiny, helpers, tmp_path):
    """app_factory(control=Control, **config_changes) -> an app on the tiny slice, runs and pictures in tmp_path."""
    def build(control=None, **changes):
        cfg = helpers.small(**{"epochs": 2, "patience": 0, **changes})
        app = make_app(cfg, loader=lambda c: tiny, runs_root=tmp_path / "runs", redraw_every=0.05,
                       **({"control": control} if control else {}))
        app.screenshot_dir = tmp_path / "pictures"
        return app
    return build


async def loaded(pilot, ui):
    s = pilot.app.session
    await ui.wait_for(pilot, lambda: s.state == "idle" and s.splits is not None, 10, "the data")


async def set_row(pilot, name: str, text: str) -> None:
    """Choose a row of the grid, enter, replace its text, enter."""
    grid = pilot.app.screen.query_one("#grid", DataTable)
    grid.focus()
    grid.move_cursor(row=ROWS.index(name))
    await pilot.press("enter", "ctrl+a", "ctrl+k", *text, "enter")
    await pilot.pause()


def cells(table: DataTable, row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


async def test_experiments_screen_runs_a_grid_and_opens_a_trial(app_factory, tmp_path, ui):
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, ui)
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
        assert screen.search.texts["lr"] == "0.1" and screen.search.texts["hidden"] == "8,16"
        assert "the plan now: 2 trials, grid, 1 worker, no pruning" in str(screen.query_one("#search-status").render())

        await pilot.press("t")
        try:
            await ui.wait_for(pilot, lambda: app.session.search.result is not None, 30, "the search to end")
        finally:
            app.session.control.stop()
        await pilot.pause()
        s = app.session.search
        assert [r["rank"] for r in s.board] == [1, 2] and s.result.stop == "complete"
        assert (s.path / "leaderboard.csv").is_file() and (s.path / "model.npz").is_file()
        table = screen.query_one("#board", DataTable)
        assert table.row_count == 2 and cells(table, 0)[0] == "★ 1"  # the best, highlighted
        assert "Search finished" in "\n".join(str(n.title) for n in app._notifications)
        assert isinstance(app.screen, WinnerScreen)  # asked before the winner replaces the dashboard's model
        asked = str(app.screen.query_one("#winner").render())
        assert "use the winner on the dashboard" in asked and "keep current (an empty dashboard)" in asked
        assert app.session.model is None
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.state == "model" and app.session.model is not None  # the winner, open in the dashboard
        assert app.screen is screen  # the search ending does not take the board away

        await pilot.press("o")  # sort by trial number
        assert s.sort == "trial" and [cells(table, i)[1] for i in range(2)] == ["1", "2"]
        loser = next(r for r in s.board if r["rank"] == 2)
        table.focus()
        table.move_cursor(row=table.get_row_index(str(loser["trial"])))
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ExperimentsScreen)  # back on the dashboard, showing that trial
        assert app.session.state == "model" and app.session.model_meta["run_dir"] == loser["run_dir"]
        assert len(app.query_one("#loss", MetricChart).dev) == loser["epochs"]


async def test_a_study_with_two_workers_and_pruning_from_the_form(app_factory, ui):
    app = app_factory(epochs=4)
    async with app.run_test(size=(120, 34)) as pilot:
        await loaded(pilot, ui)
        await pilot.press("x")
        await pilot.pause()
        screen = app.screen
        await set_row(pilot, "hidden", "8")
        await set_row(pilot, "l2", "0")
        await set_row(pilot, "lr", "0.1,0.05,1e-5,0.08")
        await set_row(pilot, "workers", "2")
        await set_row(pilot, "prune", "sometimes")  # refused, with the reason shown
        assert "prune 'sometimes' is not one of off, median, halving" in str(screen.query_one("#grid-error").render())
        await pilot.press("escape")
        await set_row(pilot, "prune", "median")
        status = str(screen.query_one("#search-status").render())
        assert "the plan now: 4 trials, grid, 2 workers, median pruning" in status
        seen = []
        real = app.session.search_event

        def spy(event, run_id):
            real(event, run_id)
            seen.append((type(event).__name__, dict(app.session.search.live)))

        app.session.search_event = spy
        await pilot.press("t")
        try:
            await ui.wait_for(pilot, lambda: app.session.search.result is not None, 60, "the search to end")
        finally:
            app.session.control.stop()
        await pilot.pause()
        s = app.session.search
        assert s.result.stop == "complete" and len(s.board) == 4 and s.live == {}
        assert {r["worker"] for r in s.board} <= {"w1", "w2"} and s.result.extra["workers"] == 2
        assert any(name == "TrialStarted" and live for name, live in seen)  # other processes' trials, listed live
        assert "study search-" in s.study and "2 workers, median pruning" in s.study
        table = screen.query_one("#board", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        if len({r["worker"] for r in s.board}) > 1:
            assert "worker" in labels


async def test_the_dashboard_follows_the_current_trial_and_steers_the_search(app_factory, slow_control, ui):
    SlowControl = slow_control(0.05)  # about 1.5 s a trial
    app = app_factory(control=SlowControl, epochs=3)
    async with app.run_test(size=(100, 30)) as pilot:
        try:
            await loaded(pilot, ui)
            await pilot.press("x")
            await pilot.pause()
            await set_row(pilot, "hidden", "8,16,24,32,40,48")
            await set_row(pilot, "l2", "0")
            await pilot.press("t")
            await ui.wait_for(pilot, lambda: (app.session.search.current or {}).get("index", 0) >= 2, 30, "trial 2")
            await pilot.press("space")  # pauses the search (its running trial)
            control = app.session.control
            assert app.session.state == "paused" and control.paused and isinstance(control, SlowControl)
            await pilot.press("escape")  # the dashboard shows the trial in progress
            await pilot.pause()
            trial = app.session.search.current
            assert trial is not None and app.session.run_config.hidden == tuple(trial["changes"]["hidden"])
            assert app.session.status.note.startswith(f"trial {trial['index']}/6")
            assert f"784-{app.session.run_config.hidden[0]}-10" in str(app.query_one("#title").render())
            await pilot.press("space")
            assert app.session.state == "training"
            await pilot.press("s")  # stops the search: the trial ends, no new one starts, a winner is picked
            await ui.wait_for(pilot, lambda: app.session.search.result is not None, 20, "the search to stop")
            result = app.session.search.result
            await pilot.pause()
            assert isinstance(app.screen, WinnerScreen)  # asked on the dashboard too
            await pilot.press("u")
            await pilot.pause()
            assert result.stop == "stopped" and result.done < 6 and app.session.state == "model"
            assert "stopped by user" in app.session.status.reason
        finally:
            app.session.control.stop()  # never leave a paused search behind: the app waits for its thread on exit


async def test_w_after_a_search_saves_the_winner_with_its_own_settings(app_factory, tmp_path, ui):
    """Trial 2 (lr 1e-5) runs last and loses: the winner saved from the dashboard has trial 1's lr 0.1 (it used
    to get the last trial's settings)."""
    app = app_factory(epochs=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, ui)
        await pilot.press("x")
        await pilot.pause()
        await set_row(pilot, "hidden", "16")
        await set_row(pilot, "l2", "0")
        await set_row(pilot, "lr", "0.1,0.00001")
        await pilot.press("t")
        await ui.wait_for(pilot, lambda: app.session.search.result is not None, 30, "the search to end")
        await pilot.pause()
        await pilot.press("u")  # use the winner
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.session.search.result.winner["trial"] == 1
        await pilot.press("w")
        await pilot.pause()
        box = app.screen.query_one("#path", Input)
        box.value = str(tmp_path / "winner.npz")
        await pilot.press("enter")
        await pilot.pause()
    _, meta = models.load(tmp_path / "winner.npz")
    assert meta["config"]["lr"] == 0.1 and meta["config"]["hidden"] == [16]


async def test_runs_screen_lists_marks_compares_and_opens(app_factory, make_run, tmp_path, ui):
    root = tmp_path / "runs"
    a = make_run(root, lr=0.1, epochs=2)
    b = make_run(root, lr=0.01, epochs=3)
    bad = root / "20990101-000000-half-written"
    bad.mkdir()
    (bad / "config.json").write_text('{"config": {')
    app = app_factory()
    async with app.run_test(size=(100, 34)) as pilot:
        await loaded(pilot, ui)
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
        assert app.screen is screen and "has no saved model" in ui.shown(app)

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
        assert not isinstance(app.screen, RunsScreen) and app.session.state == "model"
        assert app.session.model_meta["run_dir"] == str(b) and len(app.query_one("#acc", MetricChart).dev) == 3


async def test_the_picture_key_saves_an_svg_of_the_current_screen(app_factory, tmp_path, ui):
    app = app_factory()
    pictures = tmp_path / "pictures"
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, ui)
        await pilot.press("p")
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("p", "escape")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("p")
        saved = sorted(pictures.glob("*.svg"))
        assert [p.name.split("-")[0] for p in saved] == ["dashboard", "experiments", "runs"]
        assert all(p.read_text().lstrip().startswith("<svg") for p in saved)
        assert all(p.name in ui.shown(app) for p in saved)
        assert "Experiments" in (pictures / saved[1].name).read_text().replace("&#160;", " ")


async def test_help_lists_the_new_keys(app_factory):
    keys = dict(key_table(make_app().BINDINGS))
    assert "experiments" in keys["x"] and "runs" in keys["r"] and "SVG screenshot" in keys["p"]
    app = app_factory()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert "SVG screenshot" in app.export_screenshot().replace("&#160;", " ")


async def test_the_experiments_screen_reads_at_80_columns(app_factory, ui):
    """At 80x24: the chosen row's hint in full (not a cut placeholder), how tab moves, short words for why a
    trial ended, an arrow that matches the order, whole columns left out (and named), never cut numbers;
    k keeps the dashboard as it was."""
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, ui)
        await pilot.press("x")
        await pilot.pause()
        screen = app.screen
        hint = str(screen.query_one("#grid-hint").render())
        assert "hidden sizes to try, comma-separated" in hint and "each one is a trial" in hint
        assert "hidden sizes" in cells(screen.query_one("#grid", DataTable), 0)[0]
        assert "tab: grid ⇄ board" in str(screen.query_one("#experiments-title").render())
        assert any(b.binding.key == "tab" and b.binding.show for b in screen.active_bindings.values())  # in the footer
        await set_row(pilot, "hidden", "8,16")
        await set_row(pilot, "l2", "0")
        await set_row(pilot, "lr", "0.1,0.05")
        await pilot.press("t")
        await ui.wait_for(pilot, lambda: app.session.search.result is not None, 60, "the search to end")
        await pilot.pause()
        assert isinstance(app.screen, WinnerScreen)
        await pilot.press("k")  # keep current: the dashboard had no model before
        await pilot.pause()
        assert app.screen is screen and app.session.model is None and app.session.state == "idle"
        table = screen.query_one("#board", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels[0] == "# ▲" and "ended" in labels and "test" in labels and "dev acc" in labels
        width = sum(c.get_render_width(table) for c in table.columns.values())
        assert width <= 80 - 32 - 2  # every column left fits beside the grid
        note = str(screen.query_one("#board-note").render())
        assert "not shown at this width: dev loss" in note
        for i in range(table.row_count):
            row = dict(zip(labels, cells(table, i)))
            assert row["ended"] in ("max ep", "early") and row["dev acc"].endswith("%")
        assert cells(table, 0)[labels.index("test")].endswith("%")  # the winner's test accuracy, whole
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("o")  # by trial: smallest first, so the arrow points up
        labels = [str(c.label) for c in table.columns.values()]
        assert "trial ▲" in labels
        await pilot.press("o")  # by dev acc: best first, the arrow points down
        labels = [str(c.label) for c in table.columns.values()]
        assert "dev acc ▼" in labels
