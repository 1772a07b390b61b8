"""Dialogs for saving a model to a file and opening a saved one."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from rich.text import Text
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
    """Pick a model from the recent ones or type a path; `opener(path)` opens it and returns None, or the
    one-line reason it cannot, shown under the path: the dialog stays open with the text typed, to correct.
    Dismisses with the path opened, or None."""

    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, recent: list[tuple[Path, str]], opener: Callable[[Path], str | None] | None = None):
        super().__init__()
        self.recent = recent
        self.opener = opener or (lambda path: None)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("[b]Open model[/b]  type a path and press enter, or pick a recent model below.")
            yield OrderedInput(placeholder="path/to/model.npz", id="path")
            yield Static("", id="open-error")
            if self.recent:
                yield OptionList(*(Option(label, id=str(i)) for i, (_, label) in enumerate(self.recent)), id="recent")
            else:
                yield Static("No saved models yet.", classes="dim")
            yield Static("Tab moves between the path and the list; escape cancels.", classes="dim")

    def on_mount(self) -> None:
        if self.recent:  # tab then enter opens the newest (nothing was highlighted: enter did nothing)
            self.query_one(OptionList).highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.show_error("type the path of a .npz model, or pick one below")
            return
        self.try_open(Path(text).expanduser())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.try_open(self.recent[int(event.option.id)][0])

    def try_open(self, path: Path) -> None:
        problem = self.opener(path)
        if problem:
            self.show_error(problem)
            self.app.bell()
        else:
            self.dismiss(path)

    def show_error(self, text: str) -> None:
        self.query_one("#open-error", Static).update(Text(text, style="bold red", overflow="ellipsis", no_wrap=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#open-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
