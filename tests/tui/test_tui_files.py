"""Saving a model (w) and opening one (o): the dialogs, the files, and refusals shown in the app."""
from __future__ import annotations

import json

from textual.widgets import Input, OptionList

import models
from tui.screens.files import OpenScreen, SaveScreen
from tui.widgets.confusion import ConfusionPanel
from tui.widgets.digits import DigitsPanel


async def type_path(pilot, path) -> None:
    """Put `path` in the focused path input (its last character typed) and press enter.

    Long temporary paths typed key by key would cost ~60 ms a key; the Input itself is Textual's.
    """
    box = pilot.app.screen.query_one("#path", Input)
    assert box.has_focus, "the dialog's path input should have the focus"
    text = str(path)
    box.value = text[:-1]
    box.cursor_position = len(box.value)
    await pilot.press(text[-1], "enter")
    assert box.value == text or not box.is_attached
    await pilot.pause()


async def test_w_saves_the_model_where_typed(app_factory, tmp_path, ui):
    app = app_factory(epochs=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        assert ui.keys(app)["w"] == "save"
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, SaveScreen)
        default = app.screen.query_one("#path", Input).value
        assert default.endswith(".npz") and "784-32-10" in default
        target = tmp_path / "saved" / "mine.npz"
        target.parent.mkdir()
        await type_path(pilot, target)
        assert not isinstance(app.screen, SaveScreen)
        assert "Saved" in ui.shown(app)
    assert target.is_file() and target.with_suffix(".json").is_file()
    model, meta = models.load(target)
    assert str(model.spec) == "784-32-10"
    assert meta["config"]["epochs"] == 2 and meta["data"] == "mnist-tiny"
    assert 0 < meta["metrics"]["test_accuracy"] <= 1


async def test_w_during_a_run_saves_the_best_epoch_so_far(app_factory, slow, tmp_path, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        assert "w" not in ui.keys(app)  # nothing to save before the first epoch ends
        await ui.epochs_done(pilot, 1)
        await pilot.press("space")
        assert ui.keys(app)["w"] == "save"
        await pilot.press("w")
        await pilot.pause()
        await type_path(pilot, tmp_path / "best.npz")
        assert "Saved" in ui.shown(app)
        await pilot.press("s")
        await ui.finished(pilot)
    model, meta = models.load(tmp_path / "best.npz")
    assert meta["metrics"]["epoch"] >= 1


async def test_w_escape_saves_nothing(app_factory, tmp_path, monkeypatch, ui):
    monkeypatch.chdir(tmp_path)  # where the default path points
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SaveScreen)
    assert not list(tmp_path.glob("*.npz"))


async def test_w_to_an_unwritable_place_is_an_error_message(app_factory, tmp_path, ui):
    app = app_factory(epochs=1)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        await pilot.press("w")
        await pilot.pause()
        await type_path(pilot, blocker / "model.npz")
        assert "Cannot save" in ui.shown(app, "error")
        assert app.is_running and app.session.state == "finished"


async def test_o_lists_recent_runs_and_opens_one(app_factory, ui):
    app = app_factory(epochs=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        run = app.session.run_dir
        await pilot.press("n")  # a clean board, then open the run's model
        assert app.query_one(ConfusionPanel).matrix is None
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpenScreen)
        options = screen.query_one(OptionList)
        assert options.option_count == 1
        label = str(options.get_option_at_index(0).prompt)
        assert run.name in label and "test" in label and "%" in label
        await pilot.press("tab")
        assert options.has_focus
        if options.highlighted is None:
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, OpenScreen)
        assert app.session.state == "model"
        assert app.query_one(ConfusionPanel).matrix.sum() == 300
        assert app.query_one(DigitsPanel).proba is not None
        assert "Opened model.npz: dev accuracy" in ui.shown(app)
        status = ui.text_of(app.query_one("#side-status"))
        assert "model" in status and "dev accuracy" in status
        assert set(ui.keys(app)) >= {"t", "n", "w", "o"}


async def test_o_opens_a_typed_path(app_factory, runs_root, tmp_path, ui):
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        copy = tmp_path / "copy.npz"
        models.save(copy, app.session.model, {"note": "copied"})
        await pilot.press("o")
        await pilot.pause()
        await type_path(pilot, copy)
        assert app.session.state == "model" and app.session.model_meta["note"] == "copied"
        assert "copy.npz" in ui.text_of(app.query_one("#side-status"))


async def test_o_with_no_runs_says_so(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        assert not app.screen.query(OptionList)
        assert "No saved runs yet." in [ui.text_of(s).strip() for s in app.screen.query(".dim")]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OpenScreen) and app.session.state == "idle"


async def test_o_refuses_a_bad_path_and_a_file_that_is_no_model(app_factory, tmp_path, ui):
    app = app_factory()
    junk = tmp_path / "junk.npz"
    junk.write_text("these are not weights")
    notes_json = tmp_path / "notes.json"
    notes_json.write_text(json.dumps({"hello": 1}))
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        for bad, why in ((tmp_path / "missing.npz", "no such file"), (junk, "not an .npz model file"),
                         (notes_json, "not an .npz model file"), (tmp_path, "a directory, not a regular file")):
            app.clear_notifications()
            await pilot.press("o")
            await pilot.pause()
            await type_path(pilot, bad)
            assert not isinstance(app.screen, OpenScreen)
            errors = ui.shown(app, "error")
            assert str(bad) in errors and why in errors, f"for {bad}: {errors!r}"
            assert app.is_running and app.session.state == "idle" and app.session.model is None


async def test_w_after_o_keeps_the_opened_models_own_settings(app_factory, app_data, tmp_path, ui):
    """A 784-16-10 model trained at lr 0.05, opened while the next run's settings are 784-32-10 at lr 0.1:
    saved, it keeps its own settings (it used to be saved with config.hidden [32], lr 0.1)."""
    from engine import TrainConfig
    from engine.runs import train_run

    cfg = TrainConfig(hidden=(16,), lr=0.05, epochs=1, batch_size=64, schedule="constant", patience=0)
    _, summary = train_run(app_data, cfg, tmp_path / "other")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("o")
        await pilot.pause()
        await type_path(pilot, summary["model_path"])
        assert "Opened model.npz" in ui.shown(app)
        await pilot.press("w")
        await pilot.pause()
        await type_path(pilot, tmp_path / "kept.npz")
        assert "Saved" in ui.shown(app)
    model, meta = models.load(tmp_path / "kept.npz")
    assert str(model.spec) == "784-16-10"
    assert meta["config"]["hidden"] == [16] and meta["config"]["lr"] == 0.05
