"""The hyperparameter editor: a modal form, every value checked before it is accepted."""
from __future__ import annotations

from dataclasses import fields

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from engine import FIELDS, LIVE, ConfigError, TrainConfig
from engine.augment import parse_augment
from engine.config import parse_hidden

from ..widgets.settings import show_value


class FieldValidator(Validator):
    """Checks one setting's text with the engine's own rules."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_field(self.name, value)
        except ConfigError as e:
            return self.failure(str(e))
        return self.success()


def parse_field(name: str, text: str):
    """Text from the form -> the setting's value, or ConfigError."""
    text = text.strip()
    if name == "hidden":
        return parse_hidden(text)
    if name == "augment":
        parse_augment(text)
        return text
    if name == "data":
        if not text:
            raise ConfigError("--data must name a source or a path")
        return text
    f = FIELDS[name]
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--{name.replace('_', '-')} {text!r} is not a number") from None
    if f.integer:
        if not value.is_integer():
            raise ConfigError(f"--{name.replace('_', '-')} {text} must be a whole number")
        value = int(value)
    f.check(value)
    return value


class EditScreen(ModalScreen[dict | None]):
    """Dismisses with {setting: new value} for the changed settings, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "cancel"), Binding("ctrl+s", "apply", "apply")]

    def __init__(self, config: TrainConfig, running: bool):
        super().__init__()
        self.config, self.running = config, running

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            note = ("Training: settings marked live apply at the next batch; the others apply to the next run."
                    if self.running else "Settings for the next run.")
            yield Static(f"[b]Edit settings[/b]  {note}  Enter or ctrl+s applies, escape cancels.", id="editor-note")
            with VerticalScroll(id="editor-form"):
                for f in fields(TrainConfig):
                    name = f.name
                    value = getattr(self.config, name)
                    live = name in LIVE
                    label = name.replace("_", " ") + (" (live)" if live and self.running else "")
                    with Horizontal(classes="editor-row"):
                        yield Label(label, classes="editor-label")
                        field = FIELDS.get(name)
                        if field is not None and field.choices:
                            yield Select([(c, c) for c in field.choices], value=value, allow_blank=False,
                                         id=f"f-{name}", classes="editor-input")
                        else:
                            yield Input(show_value(value) if name != "augment" else value, id=f"f-{name}",
                                        validators=[FieldValidator(name)], classes="editor-input",
                                        placeholder="off" if name == "augment" else "")
                        yield Label(field.range_text() if field and not field.choices else "", classes="editor-range")
            yield Static("", id="editor-error")
            with Horizontal(id="editor-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#f-lr", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        error = self.query_one("#editor-error", Static)
        if result is not None and not result.is_valid:
            error.update(f"[red]{result.failure_descriptions[0]}[/red]")
        else:
            error.update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def collect(self) -> dict:
        """The changed settings, checked one by one and then together; ConfigError on the first bad one."""
        changes = {}
        for f in fields(TrainConfig):
            widget = self.query_one(f"#f-{f.name}")
            value = widget.value if isinstance(widget, Select) else parse_field(f.name, widget.value)
            if value != getattr(self.config, f.name):
                changes[f.name] = value
        self.config.replace(**changes)  # cross-checks the whole config
        return changes

    def action_apply(self) -> None:
        try:
            changes = self.collect()
        except ConfigError as e:
            self.query_one("#editor-error", Static).update(f"[red]{e}[/red]")
            self.app.bell()
            return
        self.dismiss(changes)
