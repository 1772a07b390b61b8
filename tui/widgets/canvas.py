"""A 28x28 drawing board in half-block cells: a cursor for the keyboard, the mouse where the terminal sends it."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from ..render import _GREY

SIDE = 28
CURSOR = {None: "rgb(255,60,60)", "paint": "rgb(60,220,60)", "erase": "rgb(255,200,0)"}


def brush(d: np.ndarray, radius: float) -> np.ndarray:
    """The soft round brush at distances d (pixels) from its centre: 1 inside a pixel, fading to 0 at `radius`."""
    return np.clip((radius - d) / (radius - 1), 0, 1) ** 0.8


class Canvas(Widget):
    """Pixels (28, 28) float32 in [0, 1], white ink on black. Posts Changed after every stroke."""

    DEFAULT_CSS = """
    Canvas { width: 28; height: 14; }
    """

    class Changed(Message):
        """The drawing changed. A newer one replaces one still queued: a fast mouse drag redraws once."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Canvas.Changed)

    def __init__(self, radius: float = 2.2, **kw):
        super().__init__(**kw)
        self.pixels = np.zeros((SIDE, SIDE), np.float32)
        self.cursor = (SIDE // 2, SIDE // 2)
        self.pen: str | None = None  # None, "paint" or "erase": what moving the cursor does
        self.radius = radius
        self.drag: str | None = None
        self.last: tuple[float, float] | None = None

    # -- drawing -----------------------------------------------------------

    def stamp(self, r: float, c: float, erase: bool = False) -> None:
        """The brush once, centred on (r, c) in pixels (fractions allowed)."""
        k = int(np.ceil(self.radius))
        r0, c0 = int(np.round(r)) - k, int(np.round(c)) - k
        top, left = max(r0, 0), max(c0, 0)
        bottom, right = min(r0 + 2 * k + 1, SIDE), min(c0 + 2 * k + 1, SIDE)
        if top >= bottom or left >= right:
            return
        rows, cols = np.mgrid[top:bottom, left:right]
        w = brush(np.hypot(rows - r, cols - c), self.radius).astype(np.float32)
        region = self.pixels[top:bottom, left:right]
        if erase:
            np.minimum(region, 1 - w, out=region)
        else:
            np.maximum(region, w, out=region)

    def line(self, a: tuple[float, float], b: tuple[float, float], erase: bool = False) -> None:
        """Stamps every half pixel from a to b: a stroke without gaps."""
        steps = max(1, int(np.ceil(2 * max(abs(b[0] - a[0]), abs(b[1] - a[1])))))
        for t in np.linspace(0, 1, steps + 1):
            self.stamp(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), erase)

    def changed(self) -> None:
        self.refresh()
        self.post_message(self.Changed())

    def paint(self) -> None:
        """Paint at the cursor with the soft brush."""
        self.stamp(*self.cursor)
        self.changed()

    def erase(self) -> None:
        """Erase around the cursor."""
        self.stamp(*self.cursor, erase=True)
        self.changed()

    def clear(self) -> None:
        self.pixels[:] = 0
        self.changed()

    def set_image(self, image: np.ndarray) -> None:
        """The whole board from a (28, 28) uint8 image, pixel by pixel."""
        self.pixels[:] = np.asarray(image, np.float32) / 255
        self.changed()

    def set_pixel(self, r: int, c: int, value: float) -> None:
        """One pixel to `value` in [0, 1]."""
        self.pixels[r, c] = min(max(value, 0.0), 1.0)
        self.changed()

    def move(self, dr: int, dc: int) -> None:
        """Move the cursor; with the pen down, draw (or erase) along the way."""
        r, c = self.cursor
        new = (min(max(r + dr, 0), SIDE - 1), min(max(c + dc, 0), SIDE - 1))
        self.cursor = new
        if self.pen:
            self.line((r, c), new, erase=self.pen == "erase")
            self.changed()
        else:
            self.refresh()

    def set_pen(self, pen: str | None) -> None:
        """None (moving only moves), "paint" or "erase" (moving draws or erases); a pen put down marks at once."""
        self.pen = pen
        if pen:
            self.stamp(*self.cursor, erase=pen == "erase")
            self.changed()
        else:
            self.refresh()

    def image(self) -> np.ndarray:
        """(28, 28) float64 in 0-255: what is drawn, for preprocessing."""
        return self.pixels.astype(np.float64) * 255

    # -- mouse -------------------------------------------------------------

    def at(self, event: events.MouseEvent) -> tuple[float, float] | None:
        """The pixel under the mouse: a cell is one pixel wide and two tall."""
        offset = event.get_content_offset(self)
        if offset is None and self.drag is None:
            return None
        y, x = event.pointer_y, event.pointer_x
        row = 2 * y + (0.5 if float(y).is_integer() else 0.0)
        return min(max(row, 0), SIDE - 1), min(max(float(int(x)), 0), SIDE - 1)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        point = self.at(event)
        if point is None:
            return
        self.drag = "erase" if event.button == 3 else "paint"
        self.capture_mouse()
        self.last = point
        self.cursor = (int(round(point[0])), int(point[1]))
        self.stamp(*point, erase=self.drag == "erase")
        self.changed()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.drag is None:
            return
        point = self.at(event)
        if point is None:
            return
        self.line(self.last or point, point, erase=self.drag == "erase")
        self.last = point
        self.cursor = (int(round(point[0])), int(point[1]))
        self.changed()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self.drag is not None:
            self.drag, self.last = None, None
            self.release_mouse()

    # -- showing -----------------------------------------------------------

    def render(self) -> Text:
        img = np.clip(self.pixels * 255, 0, 255).astype(np.uint8)
        cr, cc = self.cursor
        mark = CURSOR[self.pen]
        color = not self.app.no_color
        text = Text(no_wrap=True, overflow="crop")
        for row in range(0, SIDE, 2):
            for c in range(SIDE):
                top, bottom = _GREY[img[row, c]], _GREY[img[row + 1, c]]
                if c == cc and cr in (row, row + 1):
                    if not color:
                        text.append("+", style="reverse")
                        continue
                    top, bottom = (mark, bottom) if cr == row else (top, mark)
                if color:
                    text.append("▀", style=f"{top} on {bottom}")
                else:
                    v = (int(img[row, c]) + int(img[row + 1, c])) // 2
                    text.append(" .:-=+*#%@"[v * 10 // 256])
            if row < SIDE - 2:
                text.append("\n")
        return text
