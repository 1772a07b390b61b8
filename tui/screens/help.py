"""The help screen: every key and what it does."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("t", "start training (a new run when the last one has ended)"),
    ("space", "pause / resume training"),
    ("s", "stop training; the best model so far is kept and saved in the run directory"),
    ("e", "edit settings: live ones (lr, l2, momentum, batch size) apply at the next batch"),
    ("n", "new run: clear the dashboard and start again from fresh weights"),
    ("w", "save the current model to a file"),
    ("o", "open a saved model to view its predictions"),
    ("d", "next sample of digits"),
    ("m", "mistakes only: show just the digits the network gets wrong"),
    ("v", "next panel (confusion, digits, settings) when the window is small"),
    ("c", "focus the confusion matrix: arrows pick a cell, enter lists its digits"),
    ("b", "the dev digits of the confusion cell under the cursor, most confident mistakes first"),
    ("g", "draw a digit (arrows, space, p pen, e eraser, x, c; or the mouse) and watch the guess"),
    ("i", "inside the network: a hidden unit's weights (left/right), activations, dead units"),
    ("k", "robustness to noise, rotation and shift; a confidence threshold for \"not sure\""),
    ("x", "experiments: define a hyperparameter grid, run the search, sort its leaderboard, open a trial"),
    ("r", "runs: every past run (damaged ones too); space marks runs to overlay their curves, enter opens one"),
    ("p", "picture: save an SVG screenshot of the current screen (dashboard, experiments, runs)"),
    ("?", "this help"),
    ("q", "quit (stops training cleanly, keeping the best model)"),
]


class HelpScreen(ModalScreen[None]):
    # the app's AUTO_FOCUS = None would leave nothing focused: arrows then could not scroll at 80x24
    AUTO_FOCUS = "#help"
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def __init__(self, keys=KEYS):
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table("key", "what it does", box=None, padding=(0, 2), title="nn-tui keys", title_justify="left")
        for key, text in self.keys:
            table.add_row(f"[b]{key}[/b]", text)
        with VerticalScroll(id="help"):
            yield Static(table)
            yield Static("\nCharts: grey = running mean of recent batches, ● train per epoch, ◆ dev per epoch. "
                         "Digits: true → predicted and the network's probability; ✗ marks a mistake. "
                         "Escape closes this help.", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
