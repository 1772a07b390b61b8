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


async def test_w_during_a_run_saves_the_best_epoch_so_far(app_factory, controls, slow_control, tmp_path, ui):
    controls.cls = slow_control(0.1)  # 1.6 s an epoch: the first one is still going when t's press returns
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


async def test_w_escape_saves_nothing(app_factory, runs_root, tmp_path, monkeypatch, ui):
    monkeypatch.chdir(tmp_path)
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SaveScreen)
    assert not list(tmp_path.glob("*.npz")) and not list(runs_root.rglob("saved/*.npz"))


async def test_w_saves_under_the_runs_directory_by_default_and_o_lists_it(app_factory, runs_root, tmp_path,
                                                                          monkeypatch, ui):
    """The default place is the runs directory's saved/ folder, not the working directory; the notice says
    where in a short path; the open dialog lists the saved file first (it used to list run folders only)."""
    from engine.runs import list_runs

    monkeypatch.chdir(tmp_path)
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        await pilot.press("w")
        await pilot.pause()
        default = app.screen.query_one("#path", Input).value
        assert default.startswith(str(runs_root / "saved") + "/") and default.endswith(".npz")
        await pilot.press("enter")
        await pilot.pause()
        [saved] = (runs_root / "saved").glob("*.npz")
        assert f"Saved runs/saved/{saved.name}" in ui.notes(app)
        other = tmp_path / "elsewhere" / "mine.npz"
        other.parent.mkdir()
        await pilot.press("w")
        await pilot.pause()
        await type_path(pilot, other)
        assert other.is_file()
        await pilot.press("o")
        await pilot.pause()
        labels = [str(o.prompt) for o in app.screen.query_one(OptionList)._options]
        assert "mine.npz" in labels[0] and "saved with w" in labels[0] and "test" in labels[0], labels
        assert saved.name in labels[1] and app.session.run_dir.name in labels[2], labels
        await pilot.press("tab")
        await pilot.press("enter")  # the newest is highlighted already
        await pilot.pause()
        assert app.session.state == "model" and app.session.model_path == other.resolve()
    assert not list(tmp_path.glob("*.npz"))
    assert [r.name for r in list_runs(runs_root)] == [app.session.run_dir.name]  # saved/ is no run


async def test_p_saves_the_picture_under_the_runs_directory_without_the_notices(app_factory, runs_root,
                                                                                 tmp_path, monkeypatch, ui):
    monkeypatch.chdir(tmp_path)
    app = app_factory(epochs=1)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:  # toasts drawn, as for a person
        await ui.train_and_finish(pilot)
        app.notify("Notice-not-in-the-picture")
        await ui.wait_for(pilot, lambda: "Notice-not-in-the-picture" in app.export_screenshot(), 5, "the notice")
        await pilot.press("p")
        await ui.wait_for(pilot, lambda: list(runs_root.glob("screenshots/*.svg")), 5, "the picture")
        await pilot.pause()
        [picture] = runs_root.glob("screenshots/*.svg")
        text = picture.read_text().replace("&#160;", " ")
        assert "confusion" in text and "Notice-not-in-the-picture" not in text
        note = ui.notes(app)[-1]
        assert note == f"Saved runs/screenshots/{picture.name}" and len(note) < 60
        await pilot.pause()
        assert "Notice-not-in-the-picture" in app.export_screenshot()  # the notices are back on screen
    assert not list(tmp_path.glob("*.svg"))


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
        assert "No saved models yet." in [ui.text_of(s).strip() for s in app.screen.query(".dim")]
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
        await pilot.press("o")
        await pilot.pause()
        for bad, why in ((tmp_path / "missing.npz", "no such file"), (junk, "not an .npz model file"),
                         (notes_json, "not an .npz model file"), (tmp_path, "a directory, not a regular file")):
            await type_path(pilot, bad)
            # the dialog stays, with the path as typed and the reason under it, to correct and try again
            assert isinstance(app.screen, OpenScreen)
            assert app.screen.query_one("#path", Input).value == str(bad)
            error = ui.text_of(app.screen.query_one("#open-error")).strip()
            assert str(bad)[:20] in error and why in error, f"for {bad}: {error!r}"
            assert app.is_running and app.session.state == "idle" and app.session.model is None
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OpenScreen) and not ui.shown(app, "error")


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
