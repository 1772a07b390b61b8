"""Inside the network: what a first-layer unit looks for (its weights as a 28x28 image), how the
hidden units answer one digit, and how many relu units never fire at all."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from engine.inspect import activations, dead_units, unit_weights

from ..render import _GREY, _signed_style, digit_text, signed_text
from .explore import ExploreScreen

GRID = 64  # units per grid row by default
MARK = "rgb(255,40,40)"


def cell_style(v: float, signed: bool) -> str:
    return _signed_style(v) if signed else _GREY[int(np.clip(v, 0, 1) * 255)]


def activation_grid(a: np.ndarray, mark: int | None, color: bool, width: int = GRID, half: bool = False) -> list[Text]:
    """One layer's activations (units,) as lines of cells, `width` units a line, scaled by the largest |value|:
    grey for relu-like layers, blue (+) / red (-) for signed ones. Unit `mark` is flagged in red.

    With `half`, two units share a cell (top and bottom half-blocks): twice as many in the same lines.
    """
    n = len(a)
    width = min(width, n)
    rows = -(-n // width)
    rows += rows % 2 if half else 0
    scale = float(np.abs(a).max()) or 1.0
    signed = bool((a < 0).any())
    grid = np.full(rows * width, np.nan)
    grid[:n] = a / scale
    grid = grid.reshape(rows, width)
    ramp = " .:-=+*#%@"
    lines = []
    for r in range(0, rows, 2 if half else 1):
        line = Text(no_wrap=True, overflow="crop")
        for c in range(width):
            units = (r * width + c, (r + 1) * width + c) if half else (r * width + c,)
            values = [grid[u // width, c] for u in units]
            if not color:
                seen = [abs(v) for v in values if not np.isnan(v)]
                line.append("X" if mark in units else ramp[int(np.mean(seen) * 9.99)] if seen else " ")
            elif half:
                top, bottom = (MARK if u == mark else "black" if np.isnan(v) else cell_style(v, signed)
                               for u, v in zip(units, values))
                line.append("▀", style=f"{top} on {bottom}")
            elif np.isnan(values[0]):
                line.append(" ")
            else:
                line.append("◆" if units[0] == mark else " ", style=f"bold {MARK} on {cell_style(values[0], signed)}")
        lines.append(line)
    return lines


class InsideScreen(ExploreScreen):
    """Takes the model and a Dataset (the dev split) to find dead units and to show activations for."""

    DEFAULT_CSS = """
    #inside-top { height: 15; }
    #inside-weights-box, #inside-digit-box { width: 30; }
    #inside-info-box { width: 1fr; }
    #inside-acts-box { height: 1fr; }
    """
    BINDINGS = [
        Binding("left", "unit(-1)", "unit -1"),
        Binding("right", "unit(1)", "unit +1"),
        Binding("up", "digit(-1)", "digit -1", show=False),
        Binding("down", "digit(1)", "digit +1"),
        Binding("s", "strongest", "strongest"),
        Binding("d", "dead", "next dead"),
    ]

    def __init__(self, model, digits, unit: int = 0, digit: int = 0):
        super().__init__()
        self.model, self.digits = model, digits
        self.units = model.spec.hidden[0]
        self.unit, self.digit = unit % self.units, digit % len(digits)
        first = activations(model, digits.x)[0]
        self.fire_rate = (first > 0).mean(axis=0)  # (units,) share of dev digits each unit answers
        self.dead = dead_units(model, digits.x)  # per layer (units,) bool, None when not relu-like
        self.acts: list[np.ndarray] = []

    @property
    def dead_share(self) -> float | None:
        if self.dead is None:
            return None
        return sum(int(d.sum()) for d in self.dead) / sum(d.size for d in self.dead)

    def compose(self) -> ComposeResult:
        with Horizontal(id="inside-top"):
            with Vertical(id="inside-weights-box", classes="box"):
                yield Static(id="inside-weights")
            with Vertical(id="inside-digit-box", classes="box"):
                yield Static(id="inside-digit")
            with Vertical(id="inside-info-box", classes="box"):
                yield Static(id="inside-info")
        with VerticalScroll(id="inside-acts-box", classes="box", can_focus=False):  # scrolls to the marked unit
            yield Static(id="inside-acts")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#inside-info-box").border_title = "unit and digit"
        self.show_digit()

    def on_resize(self) -> None:
        self.call_after_refresh(self.show_unit)  # the activation grid follows the box's width

    def show_digit(self) -> None:
        i = self.digit
        self.acts = [a[0] for a in activations(self.model, self.digits.x[i])]
        label = "" if self.digits.labels is None else f", a {int(self.digits.labels[i])}"
        self.query_one("#inside-digit-box").border_title = f"dev digit {i}{label}"
        self.query_one("#inside-digit", Static).update(digit_text(self.digits.images[i], not self.app.no_color))
        self.show_unit()

    def show_unit(self) -> None:
        u, color = self.unit, not self.app.no_color
        w = unit_weights(self.model, u)
        self.query_one("#inside-weights-box").border_title = f"unit {u}: its weights"
        self.query_one("#inside-weights", Static).update(signed_text(w, color))
        self.query_one("#inside-info", Static).update(self.info(w))
        acts = Text(no_wrap=True, overflow="crop")
        box = self.query_one("#inside-acts-box")
        room = box.scrollable_content_region.height or 6
        width = max(16, (box.scrollable_content_region.width or GRID + 4) - 4)
        half = sum(-(-len(a) // width) for a in self.acts) > room  # two units a cell when one a cell does not fit
        for k, a in enumerate(self.acts):
            for j, line in enumerate(activation_grid(a, u if k == 0 else None, color, width, half)):
                acts.append(f"L{k + 1} " if j == 0 else "   ", style="bold")
                acts.append_text(line)
                acts.append("\n")
        acts.rstrip()
        self.query_one("#inside-acts-box").border_title = (
            f"hidden activations for digit {self.digit}: bright = strong, {'red' if half else '◆'} = unit {u}")
        self.query_one("#inside-acts", Static).update(acts)
        # big layers: keep the mark in view
        box.scroll_to(y=max(0, u // width // (2 if half else 1) - 1), animate=False)

    def info(self, w: np.ndarray) -> Text:
        """Short lines (the box is 20 columns wide at 80x24)."""
        u, a = self.unit, self.acts[0]
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"unit {u} of {self.units}\n", style="bold")
        t.append("blue +   red −\n" if not self.app.no_color else "+ pos   = neg\n", style="dim")
        t.append(f"max |w| {float(np.abs(w).max()):.3f}\n")
        t.append(f"fires: {100 * self.fire_rate[u]:.0f}% of dev\n")
        if self.dead is not None and self.dead[0][u]:
            t.append("DEAD: never fires\n", style="bold red")
        proba = self.model.predict_proba(self.digits.x[self.digit:self.digit + 1])[0]
        guess = int(proba.argmax())
        t.append(f"\nthis digit: {a[u]:.2f}\n")
        t.append(f"rank {int((a > a[u]).sum()) + 1} of {len(a)}\n")
        t.append(f"guess {guess} ({100 * float(proba[guess]):.0f}%)\n\n")
        if self.dead is None:
            t.append(f"{self.model.spec.activation}: cannot die", style="dim")
        else:
            n_dead, total = sum(int(d.sum()) for d in self.dead), sum(d.size for d in self.dead)
            t.append("dead relu units\n", style="bold")
            t.append(f"{n_dead}/{total} ({100 * n_dead / total:.1f}%)", style="red" if n_dead else "green")
        return t

    def action_unit(self, step: int) -> None:
        self.unit = (self.unit + step) % self.units
        self.show_unit()

    def action_digit(self, step: int) -> None:
        self.digit = (self.digit + step) % len(self.digits)
        self.show_digit()

    def action_strongest(self) -> None:
        """Jump to the first-layer unit that answers this digit most strongly."""
        self.unit = int(np.argmax(self.acts[0]))
        self.show_unit()

    def action_dead(self) -> None:
        """Jump to the next dead unit of the first layer."""
        if self.dead is None or not self.dead[0].any():
            self.notify("No dead units in the first layer." if self.dead is not None else
                        f"A {self.model.spec.activation} network has no dead units.", timeout=3)
            return
        dead = np.flatnonzero(self.dead[0])
        later = dead[dead > self.unit]
        self.unit = int(later[0] if len(later) else dead[0])
        self.show_unit()
