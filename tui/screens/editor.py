"""The hyperparameter editor: a modal table of every setting, each new value checked as it is typed.

One table and one input (not a widget per setting) so it opens in a few tens of milliseconds,
even while training competes for the CPU.
"""
from __future__ import annotations

from dataclasses import fields

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, DataTable, Input, Static

from engine import FIELDS, LIVE, ConfigError, TrainConfig
from engine.config import parse_value as parse_field  # text from the form -> the setting's value

from ..text import show_value
from ..widgets.inputs import OrderedInput

NAMES = [f.name for f in fields(TrainConfig)]
HINTS = {"hidden": "sizes, e.g. 256-128", "conv": "channels, e.g. 32-64 (none: MLP)", "kernel": "3 | 5",
         "data": "mnist, fashion-mnist, kmnist or a path",
         "augment": "shift,rotate,noise[=strength]"}


class FieldValidator(Validator):
    """Checks the text typed for setting `name` with `check(name, text)`, which raises ConfigError."""

    def __init__(self, check=None, name: str = "lr"):
        super().__init__()
        self.check = check or parse_field
        self.name = name

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(self.name, value)
        except ConfigError as e:
            return self.failure(str(e))
        return self.success()


def allowed(name: str) -> str:
    f = FIELDS.get(name)
    return HINTS.get(name) or (f.range_text() if f else "")


class EditScreen(ModalScreen[dict | None]):
    """Dismisses with {setting: new value} for the changed settings, or None when cancelled.

    Keys: arrows pick a setting, enter edits it (enter again accepts it and says so; the cursor stays on
    that row), left/right cycle a choice, `a` applies everything, escape leaves the value being typed, or
    closes the editor: with accepted edits not applied yet, it asks first (apply / discard / keep editing).
    """

    BINDINGS = [
        Binding("escape", "back", "cancel"),
        Binding("a", "apply", "apply"),
        Binding("ctrl+s", "apply", "apply", show=False),
        Binding("left", "cycle(-1)", "previous choice", show=False),
        Binding("right", "cycle(1)", "next choice", show=False),
    ]

    def __init__(self, config: TrainConfig, running: bool):
        super().__init__()
        self.config, self.running = config, running
        self.values = {name: getattr(config, name) for name in NAMES}
        self.validator = FieldValidator()

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            note = ("Training now: [green]live[/] settings apply at the next batch, the others to the next run."
                    if self.running else "Settings for the next run.")
            yield Static(f"[b]Edit settings[/b]  {note}", id="editor-note")
            yield DataTable(id="editor-table", cursor_type="row", zebra_stripes=True)
            yield OrderedInput(id="editor-input", validators=[self.validator],
                               placeholder="select a setting, press enter")
            yield Static("", id="editor-error")
            yield Static("↑↓ choose · enter edits, enter accepts · ←→ cycle a choice · a apply · esc close",
                         classes="dim")
            with Horizontal(id="editor-buttons"):
                yield Button("Apply (a)", variant="primary", id="apply")
                yield Button("Close (esc)", id="cancel")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("setting", key="setting")
        table.add_column("value", key="value")
        table.add_column("allowed", key="allowed")
        for name in NAMES:
            table.add_row(self.label(name), self.cell(name), Text(allowed(name), style="dim"), key=name)
        table.move_cursor(row=NAMES.index("lr"))
        table.focus()

    def label(self, name: str) -> Text:
        text = Text(name.replace("_", " "))
        if self.running:
            text.append(" live" if name in LIVE else " next run", style="green" if name in LIVE else "dim")
        return text

    def cell(self, name: str) -> Text:
        value = self.values[name]
        changed = value != getattr(self.config, name)
        return Text(show_value(value), style="bold yellow" if changed else "")

    @property
    def current(self) -> str:
        table = self.query_one(DataTable)
        return NAMES[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        name = NAMES[event.cursor_row]
        box = self.query_one(Input)
        self.validator.name = name
        value = self.values[name]
        box.value = value if name == "augment" else show_value(value)
        box.placeholder = f"{name.replace('_', ' ')}: {allowed(name)}"
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        self.show_error(result.failure_descriptions[0] if result is not None and not result.is_valid else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = self.validator.name
        try:
            value = parse_field(name, event.value)
        except ConfigError as e:
            self.show_error(str(e))
            self.app.bell()
            return
        self.set_value(name, value)
        self.query_one(DataTable).focus()  # the cursor stays on this row: the next enter edits it again

    def set_value(self, name: str, value) -> None:
        self.values[name] = value
        self.query_one(DataTable).update_cell(name, "value", self.cell(name))
        old = getattr(self.config, name)
        label = name.replace("_", " ")
        self.show_note(f"{label} {show_value(old)} → {show_value(value)} accepted; a applies, esc asks"
                       if value != old else f"{label} {show_value(value)}: unchanged")

    def show_error(self, text: str) -> None:
        self.query_one("#editor-error", Static).update(Text(text, style="bold red"))

    def show_note(self, text: str) -> None:
        """A one-line confirmation under the input (where errors show too)."""
        self.query_one("#editor-error", Static).update(Text(text, style="green"))

    def action_cycle(self, step: int) -> None:
        if not self.query_one(DataTable).has_focus:
            return
        f = FIELDS.get(self.current)
        if f is not None and f.choices:
            i = f.choices.index(self.values[f.name])
            self.set_value(f.name, f.choices[(i + step) % len(f.choices)])

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("apply", "cycle") and isinstance(self.focused, Input):
            return False  # typing: `a` and arrows belong to the input
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_apply() if event.button.id == "apply" else self.action_close()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()
            self.show_error("")
        else:
            self.action_close()

    def action_close(self) -> None:
        """Leave the editor: at once when nothing was changed, else after asking what to do with the edits."""
        changed = self.changed()
        if not changed:
            self.dismiss(None)
            return

        def answer(choice: str | None) -> None:
            if choice == "apply":
                self.action_apply()
            elif choice == "discard":
                self.dismiss(None)

        what = ", ".join(f"{k.replace('_', ' ')} {show_value(v)}" for k, v in changed.items())
        self.app.push_screen(LeaveScreen(what), answer)

    def changed(self) -> dict:
        return {k: v for k, v in self.values.items() if v != getattr(self.config, k)}

    def changes(self) -> dict:
        """The changed settings, checked together; ConfigError if they do not fit."""
        changed = self.changed()
        self.config.replace(**changed)
        return changed

    def action_apply(self) -> None:
        try:
            changed = self.changes()
        except ConfigError as e:
            self.show_error(str(e))
            self.app.bell()
            return
        self.dismiss(changed)


class LeaveScreen(ModalScreen[str | None]):
    """Asked when the editor is closed with accepted edits not applied: dismisses with apply, discard or None
    (keep editing)."""

    DEFAULT_CSS = """
    LeaveScreen { align: center middle; }
    #leave { width: 70; }
    #leave-buttons { height: 3; align-horizontal: right; }
    """

    AUTO_FOCUS = "#leave-apply"
    BINDINGS = [
        Binding("a", "choose('apply')", "apply"),
        Binding("d", "choose('discard')", "discard"),
        Binding("escape,k", "choose('')", "keep editing"),
    ]

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="leave"):
            yield Static(Text.assemble(("Apply these changes? ", "bold"), self.what), id="leave-what")
            with Horizontal(id="leave-buttons"):
                yield Button("Apply (a)", variant="primary", id="leave-apply")
                yield Button("Discard (d)", id="leave-discard")
                yield Button("Keep editing (esc)", id="leave-keep")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id.removeprefix("leave-").replace("keep", ""))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)
