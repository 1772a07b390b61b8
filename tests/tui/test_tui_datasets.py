"""Pilot tests: another dataset's class names in the app (digits panel, confusion matrix, mistakes, robustness),
a dataset that cannot be loaded offline (the next step shown, the error gone after switching back), and the Runs
screen at 80 columns (search trials told apart)."""
from __future__ import annotations

import dataclasses

from textual.widgets import DataTable

import data
from tui.app import make_app
from tui.screens.robustness import RobustnessScreen
from tui.session import load_splits
from tui.widgets.confusion import ConfusionPanel
from tui.widgets.digits import DigitsPanel

FASHION = data.SOURCES["fashion-mnist"].classes


async def test_fashion_classes_are_named_not_called_digits(tiny, helpers, tmp_path, ui):
    fashion = dataclasses.replace(tiny, name="fashion-mnist", classes=FASHION, noun="clothing images")
    app = make_app(helpers.small(epochs=1, patience=0), loader=lambda c: fashion, runs_root=tmp_path / "runs",
                   redraw_every=0.05)
    async with app.run_test(size=(150, 40)) as pilot:
        await ui.train_and_finish(pilot)
        digits = ui.text_of(app.query_one(DigitsPanel))
        assert "dev clothing images" in digits and "dev digits" not in digits
        assert any(name in digits for name in FASHION)  # captions name the classes
        matrix = ui.text_of(app.query_one(ConfusionPanel))
        assert "Trouser" in matrix and "Ankle boot" in matrix
        app.open_cell(1, 1)
        await pilot.pause()
        head = ui.text_of(app.screen.query_one("#cell-head"))
        assert "dev clothing images of class 1 Trouser predicted right" in head and "digit" not in head
        await pilot.press("escape")
        await pilot.pause()
        app.action_robustness()
        await ui.wait_for(pilot, lambda: isinstance(app.screen, RobustnessScreen), 10, "the robustness screen")
        await pilot.pause()
        assert "damaged test clothing images" in app.screen.query_one("#rob-left").border_title


async def test_a_dataset_not_cached_offline_shows_the_next_step_and_clears(tiny, helpers, tmp_path, monkeypatch, ui):
    """No network: fashion-mnist is not in the (empty) cache; the app says what to do, not "loading", and the
    error goes once mnist is back. No folder is left in the cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(cache))

    def loader(cfg):
        return tiny if cfg.data == "mnist" else load_splits(cfg)

    app = make_app(helpers.small(epochs=1), loader=loader, runs_root=tmp_path / "runs", redraw_every=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await ui.loaded(pilot)
        s.config = s.config.replace(data="fashion-mnist")
        s.load(s.config)
        await ui.wait_for(pilot, lambda: s.status.reason, 10, "the error")
        await pilot.pause()
        status = ui.text_of(app.query_one("#status"))
        assert "fashion-mnist is not downloaded yet" in s.status.reason
        assert "Next: when online, run `nn-tui data download fashion-mnist`" in s.status.reason
        assert "loading fashion-mnist" not in status and "loading fashion-mnist" not in s.status.note
        assert "Next: when online" in ui.shown(app, "error")
        s.config = s.config.replace(data="mnist")
        s.load(s.config)
        await ui.wait_for(pilot, lambda: s.state == "idle" and s.splits_key[0] == "mnist", 10, "mnist again")
        await pilot.pause()
        assert s.status.reason == "" and "not downloaded" not in ui.text_of(app.query_one("#status"))
    assert not (cache / "fashion-mnist").exists()


async def test_runs_screen_tells_search_trials_apart_at_80_columns(tiny, helpers, make_run, tmp_path, ui):
    root = tmp_path / "runs"
    search = root / "search-20261202-120000"
    search.mkdir(parents=True)
    (search / "search.json").write_text("{}")
    for k, lr in enumerate((0.1, 0.05), 1):
        run = make_run(root, lr=lr, epochs=1)
        run.rename(search / f"t0{k}-784-16-10")
    app = make_app(helpers.small(epochs=1), loader=lambda c: tiny, runs_root=root, redraw_every=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("r")
        await pilot.pause()
        table = app.screen.query_one("#runs", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels[1] == "run"  # first after the mark, where 80 columns show it whole
        names = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert sorted(names) == ["t01 search-20261202-120000", "t02 search-20261202-120000"]


async def test_the_settings_panel_says_what_it_leaves_out(tiny, helpers, tmp_path, ui):
    """At 100x30 the settings panel is shorter than its 21 rows: every setting is there (two columns), or a
    last line says how many more and how to see them."""
    from dataclasses import fields

    from engine import TrainConfig
    from tui.widgets.settings import SettingsPanel

    app = make_app(helpers.small(epochs=1), loader=lambda c: tiny, runs_root=tmp_path / "runs", redraw_every=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        panel = app.query_one(SettingsPanel)
        for _ in range(4):
            if app.query_one("#settings-box").has_class("-current"):
                break
            await pilot.press("v")
            await pilot.pause()
        await pilot.pause()
        assert panel.size.height < len(panel.rows)  # too short for one row a setting
        text = ui.text_of(panel)
        names = [f.name.replace("_", " ") for f in fields(TrainConfig) if f.name != "kernel"]
        lines = text.rstrip().splitlines()
        assert len(lines) <= panel.size.height
        shown = [n for n in names if any(line.startswith(n + " ") or f"  {n} " in line for line in lines)]
        if len(shown) < len(names):
            assert f"+{len(names) - len(shown)} more, e shows all" in lines[-1], (shown, lines[-1])


async def test_at_120_columns_the_status_uses_the_room_for_the_run_name(tiny, helpers, tmp_path, ui):
    """At 120x40 the status column widens (no empty columns beside the matrix) and the run's name reads whole."""
    app = make_app(helpers.small(epochs=1, patience=0), loader=lambda c: tiny, runs_root=tmp_path / "runs",
                   redraw_every=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await ui.train_and_finish(pilot)
        status = ui.text_of(app.query_one("#side-status"))
        assert f"run {app.session.run_dir.name}" in status and "…" not in status
        used = sum(app.query_one(f"#{b}").outer_size.width for b in ("side-status-box", "confusion-box", "digits-box"))
        assert used >= 118  # the three lower panels share the window's width
