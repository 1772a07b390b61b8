"""Every training setting with its current value; live ones marked, pending ones shown."""
from __future__ import annotations

from dataclasses import fields

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine import LIVE, TrainConfig

from ..text import show_value


class SettingsPanel(Static):
    def show(self, running: TrainConfig | None, upcoming: TrainConfig) -> None:
        """`running`: the settings of the run in progress (None when idle); `upcoming`: the next run's."""
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True)
        current = running or upcoming
        for f in fields(TrainConfig):
            if f.name == "kernel" and not current.conv and not upcoming.conv:  # no conv layers: no kernel
                continue
            value = Text(show_value(getattr(current, f.name)) if f.name != "threads" or current.threads else "auto")
            if running is not None and f.name in LIVE:
                value.append(" live", style="green dim")
            if running is not None and getattr(upcoming, f.name) != getattr(running, f.name) and f.name not in LIVE:
                value.append(f" → {show_value(getattr(upcoming, f.name))} next run", style="yellow")
            table.add_row(f.name.replace("_", " "), value)
        self.update(table)
