"""Sample dev digits drawn with half-block cells, each with true label, prediction and probability."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

from ..render import digits_row


class DigitsPanel(Widget):
    """A grid of digits; `next_page` shows others, `mistakes_only` keeps the wrong ones."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.images: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.proba: np.ndarray | None = None
        self.mistakes_only = False
        self.start = 0
        self.shown = 0

    def set_data(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels, self.proba, self.start = images, labels, None, 0
        self.refresh()

    def set_proba(self, proba: np.ndarray | None) -> None:
        self.proba = proba
        self.refresh()

    def indices(self) -> np.ndarray:
        if self.images is None:
            return np.arange(0)
        if self.mistakes_only and self.proba is not None:
            return np.flatnonzero(self.proba.argmax(axis=1) != self.labels)
        return np.arange(len(self.images))

    def next_page(self) -> None:
        self.start += max(self.shown, 1)
        self.refresh()

    def toggle_mistakes(self) -> bool:
        self.mistakes_only = not self.mistakes_only
        self.start = 0
        self.refresh()
        return self.mistakes_only

    def layout_for(self, width: int, height: int) -> tuple[int, int, int]:
        """(scale, columns, rows) that fit: full-size digits when at least three fit, else half-size."""
        for scale in (1, 2):
            w, h = 28 // scale + 2, 14 // scale + 1
            cols, rows = (width + 2) // w, (height - 1) // h
            if scale == 2 or cols * rows >= 3:
                return scale, max(cols, 0), max(rows, 0)
        raise AssertionError

    def render(self) -> Text:
        if self.images is None:
            return Text("Loading digits...", style="dim")
        pool = self.indices()
        if not len(pool):
            return Text("No mistakes on the dev set." if self.mistakes_only else "No digits.", style="dim")
        scale, cols, rows = self.layout_for(self.size.width, self.size.height)
        count = cols * rows
        if count == 0:
            return Text("(too small)", style="dim")
        self.start %= len(pool)
        chosen = np.roll(pool, -self.start)[:count]
        self.shown = len(chosen)
        color = not self.app.no_color
        out = Text(no_wrap=True, overflow="crop")
        head = "mistakes only" if self.mistakes_only else "dev digits"
        out.append(f"{head} {self.start + 1}-{self.start + len(chosen)} of {len(pool):,}   "
                   f"true→predicted prob{' · ✗ wrong' if self.proba is not None else ''}\n", style="dim")
        for row in range(0, len(chosen), cols):
            idx = chosen[row:row + cols]
            out.append_text(digits_row(self.images[idx], [self.caption(i, scale) for i in idx], color, scale))
            out.append("\n")
        out.rstrip()
        return out

    def caption(self, i: int, scale: int) -> Text:
        true = int(self.labels[i])
        if self.proba is None:
            return Text(f"label {true}", style="dim")
        pred = int(self.proba[i].argmax())
        p = float(self.proba[i, pred])
        ok = pred == true
        short = scale > 1
        body = f"{true}→{pred} {100 * p:.0f}%" if short else f"{true} → {pred}  {100 * p:.1f}%"
        return Text(body + ("" if ok else " ✗"), style="green" if ok else "bold red")
