"""The settings editor (e): validation as you type, applying when idle, and changing settings mid-run."""
from __future__ import annotations

import json

from textual.widgets import DataTable, Input

from tui.screens.editor import NAMES, EditScreen
from tui.widgets.settings import SettingsPanel


async def open_editor(pilot) -> EditScreen:
    await pilot.press("e")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, EditScreen)
    return screen


async def go_to(pilot, screen: EditScreen, name: str) -> None:
    """Move the table's cursor to a setting: with the arrow keys when it is near, else directly."""
    table = screen.query_one(DataTable)
    rows = NAMES.index(name) - table.cursor_row
    if abs(rows) <= 4:
        await pilot.press(*(["down"] * rows if rows > 0 else ["up"] * -rows))
    else:
        table.move_cursor(row=NAMES.index(name))
        await pilot.pause()
    assert screen.current == name


async def type_value(pilot, screen: EditScreen, text: str) -> None:
    """With the setting's input focused, replace its text by typing `text`."""
    box = screen.query_one(Input)
    assert box.has_focus
    box.value = ""
    await pilot.press(*text)


def error_text(ui, screen: EditScreen) -> str:
    return ui.text_of(screen.query_one("#editor-error")).strip()


async def test_editor_refuses_an_out_of_range_lr_and_applies_a_valid_one(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        screen = await open_editor(pilot)
        assert screen.current == "lr"  # the editor opens on the learning rate
        assert screen.query_one(DataTable).has_focus
        await pilot.press("enter")
        box = screen.query_one(Input)
        assert box.has_focus and box.value == "0.1"

        await type_value(pilot, screen, "50")
        await pilot.pause()
        assert "out of range" in error_text(ui, screen) and "(0, 10]" in error_text(ui, screen)
        await pilot.press("enter")  # refused: the value stays, the input keeps the focus
        assert screen.values["lr"] == 0.1 and box.has_focus
        assert "out of range" in error_text(ui, screen)

        await type_value(pilot, screen, "abc")
        await pilot.pause()
        assert "not a number" in error_text(ui, screen)

        await type_value(pilot, screen, "0.05")
        await pilot.pause()
        assert error_text(ui, screen) == ""
        await pilot.press("enter")
        assert screen.values["lr"] == 0.05
        # accepted, and said so; the cursor stays on the row just edited (it used to jump to the next one)
        assert screen.query_one(DataTable).has_focus and screen.current == "lr"
        assert error_text(ui, screen) == "lr 0.1 → 0.05 accepted; a applies, esc asks"

        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        assert app.session.config.lr == 0.05
        assert "lr 0.05" in str(app.query_one("#title").content)
        assert ui.notes(app) == ["lr 0.1 → 0.05: for the next run"]  # what changed, in one line


async def test_editor_escape_cancels(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        screen = await open_editor(pilot)
        await pilot.press("enter")
        await type_value(pilot, screen, "0.3")
        await pilot.press("escape")  # leaves the value being typed, back to the table
        assert screen.query_one(DataTable).has_focus and screen.values["lr"] == 0.1
        await pilot.press("escape")  # nothing accepted: escape closes at once
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen) and app.session.config.lr == 0.1


async def test_enter_twice_edits_the_same_row_and_never_another(app_factory, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        screen = await open_editor(pilot)
        await pilot.press("enter")
        await type_value(pilot, screen, "0.3")
        await pilot.press("enter")  # accepted
        await pilot.press("enter")  # edits lr again, not the next row
        assert screen.validator.name == "lr" and screen.query_one(Input).value == "0.3"
        await type_value(pilot, screen, "0.2")
        await pilot.press("enter")
        changed = {k: v for k, v in screen.values.items() if v != getattr(screen.config, k)}
        assert changed == {"lr": 0.2}


async def test_escape_with_accepted_edits_asks_apply_discard_or_keep_editing(app_factory, ui):
    from tui.screens.editor import LeaveScreen

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        screen = await open_editor(pilot)
        await pilot.press("enter")
        await type_value(pilot, screen, "0.3")
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveScreen)
        assert "Apply these changes? lr 0.3" in ui.text_of(app.screen.query_one("#leave-what"))
        await pilot.press("escape")  # keep editing: the edit is still there
        await pilot.pause()
        assert app.screen is screen and screen.values["lr"] == 0.3
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")  # discard
        await pilot.pause()
        assert not isinstance(app.screen, (EditScreen, LeaveScreen)) and app.session.config.lr == 0.1
        screen = await open_editor(pilot)
        await pilot.press("enter")
        await type_value(pilot, screen, "0.3")
        await pilot.press("enter", "escape")
        await pilot.pause()
        await pilot.press("a")  # apply
        await pilot.pause()
        assert not isinstance(app.screen, (EditScreen, LeaveScreen)) and app.session.config.lr == 0.3
        assert "lr 0.1 → 0.3: for the next run" in ui.shown(app)


async def test_editor_cycles_choices_and_edits_the_architecture(app_factory, loader, ui):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        screen = await open_editor(pilot)
        await go_to(pilot, screen, "optimizer")
        await pilot.press("right")
        assert screen.values["optimizer"] == "nesterov"
        await go_to(pilot, screen, "hidden")
        await pilot.press("enter")
        await type_value(pilot, screen, "64,x")
        await pilot.pause()
        assert "layer sizes" in error_text(ui, screen)
        await type_value(pilot, screen, "64,32")
        await pilot.press("enter")
        await go_to(pilot, screen, "seed")  # part of the data split: the data reload
        await pilot.press("enter")
        await type_value(pilot, screen, "7")
        await pilot.press("enter", "a")
        await pilot.pause()
        cfg = app.session.config
        assert cfg.optimizer == "nesterov" and cfg.hidden == (64, 32) and cfg.seed == 7
        await ui.loaded(pilot)
        assert len(loader.calls) == 2 and loader.calls[-1].seed == 7
        title = str(app.query_one("#title").content)
        assert "784-64-32-10" in title and "nesterov" in title


async def test_changing_the_learning_rate_mid_run(app_factory, slow, runs_root, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        await ui.epochs_done(pilot, 1)
        await pilot.press("space")  # pause first: the change then lands at a known batch
        assert app.session.state == "paused"
        screen = await open_editor(pilot)
        assert screen.running
        assert "live" in screen.label("lr").plain and "next run" in screen.label("epochs").plain
        await pilot.press("enter")
        await type_value(pilot, screen, "0.02")
        await pilot.press("enter", "a")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        assert app.session.config.lr == 0.02
        assert app.session.run_config.lr == 0.1  # not yet: the loop takes it at its next batch
        assert "lr 0.1 → 0.02 at the next batch" in ui.shown(app)
        title = ui.text_of(app.query_one("#title"))  # the header shows it already, as pending
        assert "lr 0.02" in title and "(next batch)" in title, title

        epoch = ui.completed(app)  # epochs ended before the change
        await pilot.press("space")
        await ui.wait_for(pilot, lambda: app.session.run_config.lr == 0.02, 5, "SettingsChanged to reach the app")
        assert f"lr 0.02 applied at epoch {epoch + 1}" in ui.shown(app)
        await pilot.pause()
        title = ui.text_of(app.query_one("#title"))
        assert "lr 0.02" in title and "next batch" not in title, title
        await ui.epochs_done(pilot, epoch + 1)
        assert app.session.status.lr == 0.02
        assert "0.02" in ui.text_of(app.query_one("#side-status"))
        await pilot.press("s")
        await ui.finished(pilot)
    [run] = list(runs_root.iterdir())
    lrs = [json.loads(line)["lr"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert lrs[:epoch] == [0.1] * epoch and lrs[epoch:] and set(lrs[epoch:]) == {0.02}


async def test_a_setting_for_the_next_run_leaves_the_running_one_alone(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t", "space")
        assert app.session.state == "paused"
        screen = await open_editor(pilot)
        await go_to(pilot, screen, "epochs")
        await pilot.press("enter")
        await type_value(pilot, screen, "7")
        await pilot.press("enter", "a")
        await pilot.pause()
        assert "epochs 50 → 7: will apply to the next run" in ui.shown(app, "warning")
        assert app.session.config.epochs == 7 and app.session.run_config.epochs == 50
        await pilot.press("v", "v")  # the settings panel
        settings = ui.text_of(app.query_one(SettingsPanel))
        assert "50 → 7 next run" in settings
        assert app.session.status.epochs == 50
        await pilot.press("s")
        await ui.finished(pilot)
        assert app.session.worker.result[1]["stop"] == "stopped"


async def test_keys_arriving_in_one_read_apply_in_order(app_factory, ui):
    """`50` then ⌫ ⌫ 7 in one read (fast typing, SSH) gives `7`, not `5` as a bare Textual 8.2.8 Input does:
    the bytes go through the terminal driver's own parser and every key is posted before any is handled."""
    from textual._xterm_parser import XTermParser

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        screen = await open_editor(pilot)
        await pilot.press("enter")
        box = screen.query_one(Input)
        await type_value(pilot, screen, "50")
        for chunk, expected in (("\x7f\x7f7", "7"), ("\x1b[D3\x1b[C\x7f9", "39"), ("\x1b[H\x7f1\x1b[3~", "19")):
            for key in XTermParser().feed(chunk):  # what the linux driver does with one read from the terminal
                app.post_message(key)
            await pilot.pause()
            assert box.value == expected, chunk


async def test_the_header_shows_the_live_lr_and_batch_size_after_a_change(app_factory, slow, ui):
    app = app_factory(epochs=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        await pilot.press("t")
        await ui.epochs_done(pilot, 1)
        screen = await open_editor(pilot)
        await pilot.press("enter")
        await type_value(pilot, screen, "0.02")
        await pilot.press("enter")
        await go_to(pilot, screen, "batch_size")
        await pilot.press("enter")
        await type_value(pilot, screen, "32")
        await pilot.press("enter", "a")
        await pilot.pause()
        await ui.wait_for(pilot, lambda: app.session.run_config.lr == 0.02, 5, "SettingsChanged to reach the app")
        await pilot.pause()
        title = ui.text_of(app.query_one("#title"))
        assert "lr 0.02" in title and "batch 32" in title, title
        await pilot.press("s")
        await ui.finished(pilot)
        title = ui.text_of(app.query_one("#title"))
        assert "lr 0.02" in title and "batch 32" in title, title
