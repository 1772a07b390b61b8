"""Every training setting with its current value; live ones marked, pending ones shown. Rows that do not
fit the panel go into a second column when it is wide enough, else a last line says how many more and how
to see them (never cut without saying so)."""
from __future__ import annotations

from dataclasses import fields

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine import LIVE, TrainConfig

from ..text import show_value


class SettingsPanel(Static):
    rows: list[tuple[str, Text]] = []

    def show(self, running: TrainConfig | None, upcoming: TrainConfig) -> None:
        """`running`: the settings of the run in progress (None when idle); `upcoming`: the next run's."""
        rows = []
        current = running or upcoming
        for f in fields(TrainConfig):
            if f.name == "kernel" and not current.conv and not upcoming.conv:  # no conv layers: no kernel
                continue
            value = Text(show_value(getattr(current, f.name)) if f.name != "threads" or current.threads else "auto")
            if running is not None and f.name in LIVE:
                value.append(" live", style="green dim")
            if running is not None and getattr(upcoming, f.name) != getattr(running, f.name) and f.name not in LIVE:
                value.append(f" → {show_value(getattr(upcoming, f.name))} next run", style="yellow")
            rows.append((f.name.replace("_", " "), value))
        self.rows = rows
        self.draw()

    def on_resize(self) -> None:
        self.draw()

    def draw(self) -> None:
        rows, height, width = self.rows, self.size.height, self.size.width
        if not rows:
            return
        if not height or len(rows) <= height:
            self.update(grid([rows]))
            return
        half = -(-len(rows) // 2)
        needed = 2 * max(len(n) + 1 + v.cell_len for n, v in rows) + 3
        if half <= height and width >= needed:  # two columns side by side
            self.update(grid([rows[:half], rows[half:]]))
            return
        shown = max(height - 1, 0)
        rest = rows[shown:]
        table = grid([rows[:shown]])
        more = Text(f"+{len(rest)} more, e shows all: {', '.join(n for n, _ in rest)}", style="dim",
                    no_wrap=True, overflow="ellipsis")
        self.update(Group(table, more))


def grid(columns: list[list[tuple[str, Text]]]) -> Table:
    """Name-value pairs, one pair of columns per list, side by side."""
    table = Table.grid(padding=(0, 1))
    for k in range(len(columns)):
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True, min_width=0)
        if k < len(columns) - 1:
            table.add_column(width=1)
    for i in range(len(columns[0])):
        cells = []
        for k, col in enumerate(columns):
            name, value = col[i] if i < len(col) else ("", Text(""))
            cells += [name, value] + ([""] if k < len(columns) - 1 else [])
        table.add_row(*cells)
    return table
