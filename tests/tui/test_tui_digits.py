"""The digits panel: full-size digits where they fit, thumbnails where space is short, captions that fit."""
from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from tui.widgets.digits import DigitsPanel


class Digits(App):
    CSS = "DigitsPanel { width: 1fr; height: 1fr; }"

    def __init__(self, mnist, proba: bool = True):
        super().__init__()
        self.mnist, self.with_proba = mnist, proba

    def compose(self) -> ComposeResult:
        yield DigitsPanel()

    def on_mount(self) -> None:
        dev = self.mnist.dev
        panel = self.query_one(DigitsPanel)
        panel.set_data(dev.images[:40], dev.labels[:40])
        if self.with_proba:
            proba = np.full((40, 10), 0.01, np.float32)
            pred = dev.labels[:40].astype(int).copy()
            pred[1] = (pred[1] + 1) % 10  # one mistake
            proba[np.arange(40), pred] = 0.91
            panel.set_proba(proba)


def rows(panel: DigitsPanel) -> list[str]:
    console = panel.app.console
    return ["".join(s.text for s in line)
            for line in console.render_lines(panel.render(), console.options.update_width(panel.size.width))]


@pytest.mark.parametrize("size, scale", [((64, 31), 1), ((48, 17), 2), ((22, 13), 3), ((18, 11), 4)])
async def test_the_largest_digits_of_which_three_fit(mnist, size, scale):
    app = Digits(mnist)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        panel = app.query_one(DigitsPanel)
        chosen, cols, lines = panel.layout_for(*panel.size)
        assert chosen == scale and cols * lines >= 3 and panel.shown == cols * lines
        text = rows(panel)
        assert all(len(line.rstrip()) <= size[0] for line in text)  # nothing wider than the panel
        assert len(text) <= size[1]
        captions = [line for line in text if "→" in line]
        assert captions and "✗" in "".join(captions)  # the mistake is marked even on a thumbnail
        assert text[0].startswith(("dev digits 1-", "1-"))


async def test_thumbnails_let_digits_sit_beside_the_matrix_at_100x30(mnist):
    """The space the dashboard leaves for digits at 100x30 (about 19 columns by 13 rows) shows four."""
    app = Digits(mnist)
    async with app.run_test(size=(19, 13)) as pilot:
        await pilot.pause()
        panel = app.query_one(DigitsPanel)
        assert panel.shown >= 4
        assert sum("▀" in line for line in rows(panel)) >= 8  # two rows of thumbnails, drawn in half blocks
