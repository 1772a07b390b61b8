"""Inside a conv net: each first-layer filter as a small image, and one digit's feature maps block by block
(after conv, 2x2 max-pool and activation), drawn with half-blocks, or an ASCII ramp without colour."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from engine.inspect import feature_maps, filters

from ..render import RAMP, digit_text, signed_text
from .explore import ExploreScreen


def map_text(a: np.ndarray, scale: float, color: bool) -> Text:
    """A feature map (h, w) as half-block cells (ceil(h / 2) lines of w): 0 black, `scale` white;
    signed maps (tanh) in blue (+) and red (-), scaled by their own largest |value|."""
    if (a < 0).any():
        return signed_text(a, color)
    grey = np.clip(a / (scale or 1.0) * 255, 0, 255).astype(np.uint8)
    if color:
        return digit_text(grey)
    if grey.shape[0] % 2:
        grey = np.vstack([grey, np.zeros((1, grey.shape[1]), np.uint8)])
    mean = (grey[0::2].astype(np.int32) + grey[1::2]) // 2  # the same ramp as the digits, two rows a line
    return Text("\n".join("".join(RAMP[v * len(RAMP) // 256] for v in row) for row in mean), no_wrap=True)


def tiles(blocks: list[Text], width: int, gap: int = 1) -> Text:
    """Equal-sized multi-line Texts side by side, as many to a row as fit in `width` cells, rows one line apart."""
    if not blocks:
        return Text()
    lines = [b.split("\n") for b in blocks]
    w = max(len(line) for block in lines for line in block)
    per_row = max(1, (width + gap) // (w + gap))
    out = Text(no_wrap=True, overflow="crop")
    for start in range(0, len(lines), per_row):
        row = lines[start:start + per_row]
        for i in range(max(len(b) for b in row)):
            for j, block in enumerate(row):
                piece = block[i] if i < len(block) else Text(" " * w)
                out.append_text(piece)
                out.append(" " * (w - len(piece) + (gap if j < len(row) - 1 else 0)))
            out.append("\n")
        if start + per_row < len(lines):
            out.append("\n")
    out.rstrip()
    return out


class ConvInsideScreen(ExploreScreen):
    """Takes a conv net and a Dataset (the dev split) whose digits it shows the feature maps of."""

    DEFAULT_CSS = """
    #conv-top { height: 17; }
    #conv-digit-box { width: 31; }
    #conv-filters-box { width: 1fr; }
    #conv-maps-box { height: 1fr; }
    """
    BINDINGS = [
        Binding("left", "block(-1)", "block -1"),
        Binding("right", "block(1)", "block +1"),
        Binding("up", "digit(-1)", "digit -1", show=False),
        Binding("down", "digit(1)", "digit +1"),
    ]

    def __init__(self, model, digits, block: int = 0, digit: int = 0):
        super().__init__()
        self.model, self.digits = model, digits
        self.blocks = len(model.spec.conv)
        self.block, self.digit = block % self.blocks, digit % len(digits)
        self.maps: list[np.ndarray] = []  # per block (c, h, w) for the digit shown

    def compose(self) -> ComposeResult:
        with Horizontal(id="conv-top"):
            with Vertical(id="conv-digit-box", classes="box"):
                yield Static(id="conv-digit")
            with VerticalScroll(id="conv-filters-box", classes="box", can_focus=False):
                yield Static(id="conv-filters")
        with VerticalScroll(id="conv-maps-box", classes="box", can_focus=False):
            yield Static(id="conv-maps")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show_digit()

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)  # tiles follow the boxes' widths

    def redraw(self) -> None:
        self.show_filters()
        self.show_maps()

    def width_of(self, box: str) -> int:
        return max(8, self.query_one(box).scrollable_content_region.width - 1)

    def show_filters(self) -> None:
        color, f = not self.app.no_color, filters(self.model)
        k = self.model.spec.kernel
        box = self.query_one("#conv-filters-box")
        box.border_title = f"layer 1: {len(f)} filters {k}x{k}" + (" · blue + red −" if color else " · + pos = neg")
        self.query_one("#conv-filters", Static).update(tiles([signed_text(w, color) for w in f],
                                                             self.width_of("#conv-filters-box")))

    def show_digit(self) -> None:
        i = self.digit
        self.maps = feature_maps(self.model, self.digits.x[i])
        proba = self.model.predict_proba(self.digits.x[i:i + 1])[0]
        label = "" if self.digits.labels is None else f", a {int(self.digits.labels[i])}"
        self.query_one("#conv-digit-box").border_title = f"dev digit {i}{label} · guess {int(proba.argmax())}"
        self.query_one("#conv-digit", Static).update(digit_text(self.digits.images[i], not self.app.no_color))
        self.redraw()

    def show_maps(self) -> None:
        b, color = self.block, not self.app.no_color
        maps = self.maps[b]
        c, h, w = maps.shape
        scale = float(maps.max())
        self.query_one("#conv-maps-box").border_title = (
            f"block {b + 1} of {self.blocks}: {c} maps {h}x{w} (conv, pool, {self.model.spec.activation}) "
            f"for digit {self.digit} · bright = strong · ←→ block")
        self.query_one("#conv-maps", Static).update(tiles([map_text(m, scale, color) for m in maps],
                                                          self.width_of("#conv-maps-box")))

    def action_block(self, step: int) -> None:
        self.block = (self.block + step) % self.blocks
        self.show_maps()

    def action_digit(self, step: int) -> None:
        self.digit = (self.digit + step) % len(self.digits)
        self.show_digit()
