"""Draw a digit: a 28x28 board, the drawing as the network sees it, and its ten probabilities live."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from data.preprocess import to_mnist

from ..render import digit_text, proba_text
from ..widgets.canvas import Canvas
from .explore import ExploreScreen

PEN = {None: "pen up: arrows move", "paint": "pen down: arrows draw", "erase": "eraser down: arrows erase"}


class DrawScreen(ExploreScreen):
    """Takes the model (never one being trained) and, optionally, digits to copy onto the board (`n`)."""

    DEFAULT_CSS = """
    #draw-main { height: 16; }
    #draw-board-box, #draw-seen-box { width: 31; }
    #draw-proba-box { width: 1fr; }
    #draw-seen, #draw-proba { height: 1fr; }
    """
    BINDINGS = [
        Binding("up", "move(-1, 0)", "up", show=False),
        Binding("down", "move(1, 0)", "down", show=False),
        Binding("left", "move(0, -1)", "left", show=False),
        Binding("right", "move(0, 1)", "right", show=False),
        Binding("space", "paint", "paint"),
        Binding("x", "erase", "erase"),
        Binding("p", "pen('paint')", "pen"),
        Binding("e", "pen('erase')", "eraser"),
        Binding("c", "clear", "clear"),
        Binding("n", "sample", "a dev digit"),
    ]

    def __init__(self, model, digits=None):
        super().__init__()
        self.model, self.digits = model, digits
        self.seen: np.ndarray = np.zeros((28, 28), np.uint8)  # the board after MNIST-style preprocessing
        self.proba: np.ndarray | None = None  # (10,) once something is drawn
        self.sample_at = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="draw-main"):
            with Vertical(id="draw-board-box", classes="box"):
                yield Canvas(id="board")
            with Vertical(id="draw-seen-box", classes="box"):
                yield Static(id="draw-seen")
            with Vertical(id="draw-proba-box", classes="box"):
                yield Static(id="draw-proba")
        yield Static(id="draw-status", classes="note")
        yield Static("Arrows move; space paints, x erases where the cursor is; p (e) puts the pen (eraser) "
                     "down or lifts it; c clears. Mouse: left draws, right erases.", classes="note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#draw-board-box").border_title = "draw here"
        self.query_one("#draw-seen-box").border_title = "as the network sees it"
        self.query_one("#draw-proba-box").border_title = "probabilities"
        self.update()

    @property
    def canvas(self) -> Canvas:
        return self.query_one("#board", Canvas)

    def on_canvas_changed(self, message: Canvas.Changed) -> None:
        self.update()

    def update(self) -> None:
        """Preprocess the board as MNIST was, ask the network, show both."""
        canvas = self.canvas
        self.seen = to_mnist(canvas.image())
        color = not self.app.no_color
        if self.seen.any():
            x = np.multiply(self.seen.reshape(1, -1), np.float32(1 / 255), dtype=np.float32)
            self.proba = self.model.predict_proba(x)[0]
            self.query_one("#draw-seen", Static).update(digit_text(self.seen, color))
            self.query_one("#draw-proba", Static).update(proba_text(self.proba, 8, color))
        else:
            self.proba = None
            self.query_one("#draw-seen", Static).update(Text("Nothing drawn yet.", style="dim"))
            self.query_one("#draw-proba", Static).update(Text("Draw a digit.", style="dim"))
        self.show_status()

    def show_status(self) -> None:
        r, c = self.canvas.cursor
        text = Text(f"cursor row {r:2d} col {c:2d}   {PEN[self.canvas.pen]}")
        if self.proba is not None:
            guess = int(self.proba.argmax())
            text.append("   the network says ")
            text.append(str(guess), style="bold green")
            text.append(f" ({100 * float(self.proba[guess]):.1f}%)")
        self.query_one("#draw-status", Static).update(text)

    def action_move(self, dr: int, dc: int) -> None:
        self.canvas.move(dr, dc)
        self.show_status()

    def action_paint(self) -> None:
        self.canvas.paint()

    def action_erase(self) -> None:
        self.canvas.erase()

    def action_pen(self, pen: str) -> None:
        """Put the pen (or the eraser) down, or lift it when it is already down."""
        self.canvas.set_pen(None if self.canvas.pen == pen else pen)
        self.show_status()

    def action_clear(self) -> None:
        self.canvas.clear()

    def action_sample(self) -> None:
        if self.digits is None or not len(self.digits):
            self.notify("No digits to copy from.", severity="warning")
            return
        i = self.sample_at % len(self.digits)
        self.sample_at += 1
        self.canvas.set_image(self.digits.images[i])
        label = "" if self.digits.labels is None else f" (a {int(self.digits.labels[i])})"
        self.notify(f"Dev digit {i}{label} copied onto the board: edit it and watch the guess.", timeout=3)
