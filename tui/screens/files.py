"""Dialogs for saving a model to a file and opening a saved one."""
from __future__ import annotations

import os
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..widgets.inputs import OrderedInput


class SaveScreen(ModalScreen[Path | None]):
    """Asks where to save; dismisses with the path, or None."""

    AUTO_FOCUS = "#path"  # the app sets AUTO_FOCUS = None, which modal screens inherit: focus the path to type it
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, default: Path):
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("[b]Save model[/b]  a .npz file (weights) with its .json (settings, metrics) beside it.")
            yield OrderedInput(str(self.default), id="path")
            yield Static("Enter saves, escape cancels.", classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text and (text.endswith(("/", os.sep)) or Path(text).expanduser().is_dir()):
            text = str(Path(text).expanduser() / self.default.name)  # "runs/" or ".": in that folder
        self.dismiss(Path(text).expanduser() if text else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class OpenScreen(ModalScreen[Path | None]):
    """Pick a model from recent runs or type a path; dismisses with the path, or None."""

    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, recent: list[tuple[Path, str]]):
        super().__init__()
        self.recent = recent

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("[b]Open model[/b]  type a path and press enter, or pick a recent run below.")
            yield OrderedInput(placeholder="path/to/model.npz", id="path")
            if self.recent:
                yield OptionList(*(Option(label, id=str(i)) for i, (_, label) in enumerate(self.recent)), id="recent")
            else:
                yield Static("No saved runs yet.", classes="dim")
            yield Static("Tab moves between the path and the list; escape cancels.", classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(Path(text).expanduser() if text else None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.recent[int(event.option.id)][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
