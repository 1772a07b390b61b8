"""The dev-set confusion matrix: counts coloured by rate, per-class recall, a movable cell cursor."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from data import DIGITS


class ConfusionPanel(Widget, can_focus=True):
    """Rows are true classes, columns predicted ones. Arrows move the cursor; enter opens that cell."""

    BINDINGS = [
        Binding("up", "move(-1, 0)", "up", show=False),
        Binding("down", "move(1, 0)", "down", show=False),
        Binding("left", "move(0, -1)", "left", show=False),
        Binding("right", "move(0, 1)", "right", show=False),
        Binding("enter", "choose", "open cell", show=False),
    ]

    cursor = reactive((4, 9))

    class CellChosen(Message):
        """The person asked to see the digits of class `true` predicted as `pred`."""

        def __init__(self, true: int, pred: int) -> None:
            super().__init__()
            self.true, self.pred = true, pred

    def __init__(self, **kw):
        super().__init__(**kw)
        self.matrix: np.ndarray | None = None
        self.class_names: tuple[str, ...] = DIGITS

    def set_classes(self, classes: tuple[str, ...]) -> None:
        """What each label stands for: named classes (Fashion-MNIST's `Trouser`) are named beside their rows."""
        self.class_names = tuple(classes)
        self.refresh()

    def class_label(self, c: int) -> str:
        return str(c) if self.class_names == DIGITS or c >= len(self.class_names) else f"{c} {self.class_names[c]}"

    def set_matrix(self, matrix: np.ndarray | None) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix)
        self.refresh()

    def action_move(self, dr: int, dc: int) -> None:
        r, c = self.cursor
        self.cursor = ((r + dr) % 10, (c + dc) % 10)

    def action_choose(self) -> None:
        if self.matrix is not None:
            self.post_message(self.CellChosen(*self.cursor))

    def render(self) -> Text:
        m = self.matrix
        if m is None:
            return Text("No predictions yet: train (t) or open a model (o).", style="dim")
        k = len(m)
        width = max(3, len(str(int(m.max())))) + 1
        text = Text(no_wrap=True, overflow="crop")
        text.append("t\\p".rjust(3), style="dim")
        for c in range(k):
            text.append(str(c).rjust(width), style="bold")
        text.append(" recall\n", style="dim")
        totals = m.sum(axis=1)
        for r in range(k):
            text.append(str(r).rjust(3), style="bold")
            for c in range(k):
                n = int(m[r, c])
                rate = n / totals[r] if totals[r] else 0.0
                if r == c:
                    style = "bold green"
                elif n == 0:
                    style = "dim"
                elif rate >= 0.02:
                    style = "bold white on red"
                elif rate >= 0.005:
                    style = "bold red"
                else:
                    style = "yellow"
                if self.has_focus and (r, c) == self.cursor:
                    style += " reverse"
                cell = "·" if n == 0 and r != c else str(n)
                text.append(" " * (width - len(cell)))
                text.append(cell, style=style)
            recall = m[r, r] / totals[r] if totals[r] else 0.0
            shade = "green" if recall >= 0.98 else "yellow" if recall >= 0.95 else "red"
            text.append(f" {100 * recall:5.1f}%", style=shade)
            if self.class_names != DIGITS and r < len(self.class_names):
                text.append(f" {self.class_names[r]}", style="dim")
            text.append("\n")
        if self.has_focus:
            r, c = self.cursor
            text.append(f"cursor: true {self.class_label(r)}, predicted {self.class_label(c)} ({int(m[r, c])})"
                        " - enter to see them", style="dim")
        else:
            text.append(f"dev accuracy {100 * np.trace(m) / max(m.sum(), 1):.2f}%", style="dim")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
