"""The help screen: every key and what it does."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_table(bindings) -> list[tuple[str, str]]:
    """(key, what it does) for each binding with a tooltip, in order; a key bound twice (space: pause and
    resume) once. The app's bindings are the one list: the footer, this help and the README's table."""
    rows: dict[str, str] = {}
    for b in bindings:
        if b.tooltip:
            rows.setdefault(b.key_display or b.key, b.tooltip)
    return list(rows.items())


class HelpScreen(ModalScreen[None]):
    # the app's AUTO_FOCUS = None would leave nothing focused: arrows then could not scroll at 80x24
    AUTO_FOCUS = "#help"
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def __init__(self, bindings):
        super().__init__()
        self.keys = key_table(bindings)

    def compose(self) -> ComposeResult:
        table = Table("key", "what it does", box=None, padding=(0, 2), title="nn-tui keys", title_justify="left")
        for key, text in self.keys:
            table.add_row(f"[b]{key}[/b]", text)
        with VerticalScroll(id="help"):
            yield Static(table)
            yield Static("\nCharts: grey = running mean of recent batches, ● train per epoch, ◆ dev per epoch. "
                         "Digits: true → predicted and the network's probability; ✗ marks a mistake. "
                         "The footer lists the keys that work now (more in a wider window); a key that "
                         "cannot work yet says why. Escape closes this help.", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
