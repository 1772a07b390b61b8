"""Sample dev images (digits, clothing, characters) in half-block cells: true label, prediction, probability."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

from data import DIGITS

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
        self.class_names: tuple[str, ...] = DIGITS  # what each label stands for
        self.noun = "digits"  # what the images are: "digits", "clothing images", "characters"

    def set_data(self, images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...] = DIGITS,
                 noun: str = "digits") -> None:
        self.images, self.labels, self.proba, self.start = images, labels, None, 0
        self.class_names, self.noun = tuple(classes), noun
        self.refresh()

    def class_name(self, c: int) -> str:
        """`7` for a digit; the class's name (`Trouser`) where the dataset names its classes."""
        return self.class_names[c] if c < len(self.class_names) else str(c)

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

    # (scale, cell width, cell height): full size 28x14 cells, half 14x7, thumbnails 9x5 and 7x4; a caption
    # row under each, two columns between
    SIZES = ((1, 28, 14), (2, 14, 7), (3, 9, 5), (4, 7, 4))

    def layout_for(self, width: int, height: int) -> tuple[int, int, int]:
        """(scale, columns, rows) that fit below the header line: the largest digits of which at least
        three fit (thumbnails when space is short), else as many of the smallest as fit."""
        for scale, w, h in self.SIZES:
            cols, rows = (width + 2) // (w + 2), (height - 1) // (h + 1)
            if cols * rows >= 3 or scale == self.SIZES[-1][0]:
                return scale, max(cols, 0), max(rows, 0)
        raise AssertionError

    def render(self) -> Text:
        if self.images is None:
            return Text("Loading the data...", style="dim")
        pool = self.indices()
        if not len(pool):
            return Text("No mistakes on the dev set." if self.mistakes_only else f"No {self.noun}.", style="dim")
        width = self.size.width
        scale, cols, rows = self.layout_for(width, self.size.height)
        count = cols * rows
        if count == 0:
            return Text(f"(too small for {self.noun}: {width}x{self.size.height})", style="dim")
        self.start %= len(pool)
        chosen = np.roll(pool, -self.start)[:count]
        self.shown = len(chosen)
        color = not self.app.no_color
        out = Text(no_wrap=True, overflow="crop")
        head = "mistakes only" if self.mistakes_only else f"dev {self.noun}"
        span = f"{self.start + 1}-{self.start + len(chosen)} of {len(pool):,}"
        key = f"true→predicted prob{' · ✗ wrong' if self.proba is not None else ''}"
        for line in (f"{head} {span}   {key}", f"{head} {span}", span):
            if len(line) <= width:
                break
        out.append(line + "\n", style="dim")
        cell = self.SIZES[scale - 1][1]
        for row in range(0, len(chosen), cols):
            idx = chosen[row:row + cols]
            out.append_text(digits_row(self.images[idx], [self.caption(i, scale, cell) for i in idx], color, scale))
            out.append("\n")
        out.rstrip()
        return out

    def caption(self, i: int, scale: int, width: int = 28) -> Text:
        """`7 → 1  60.0% ✗` under a full-size digit; shorter forms that fit `width` under smaller ones."""
        true = int(self.labels[i])
        named = self.class_names != DIGITS
        if self.proba is None:
            forms = ([self.class_name(true)] if named else []) + [f"label {true}", f"{true}"]
            return Text(next((t for t in forms if len(t) <= width), forms[-1]), style="dim")
        pred = int(self.proba[i].argmax())
        p = 100 * float(self.proba[i, pred])
        ok = pred == true
        mark = "" if ok else " ✗"
        t, q = self.class_name(true), self.class_name(pred)
        words = [f"{t} → {q} {p:.0f}%{mark}", f"{t}→{q} {p:.0f}%{mark.strip()}", f"{t}→{q}{mark.strip()}",
                 (f"{t}{mark}" if ok else f"→{q}{mark}")] if named else []
        forms = words + ([f"{true} → {pred}  {p:.1f}%{mark}"] if scale == 1 else []) + [
            f"{true}→{pred} {p:.0f}%{mark}", f"{true}→{pred} {p:.0f}%{mark.strip()}", f"{true}→{pred}{mark.strip()}"]
        body = next((f for f in forms if len(f) <= width), forms[-1])
        return Text(body, style="green" if ok else "bold red")
