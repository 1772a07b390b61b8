"""Pilot tests of the explore screens at 80x24, keyboard first: draw a digit, a confusion cell's digits,
inside the network, robustness and doubt; and their keys in the dashboard."""
from __future__ import annotations

import time

import numpy as np
import pytest
from textual.widgets import DataTable

from engine import TrainConfig
from engine.inspect import dead_share
from tui.app import make_app
from tui.screens.draw import DrawScreen
from tui.screens.inside import InsideScreen
from tui.screens.mistakes import MistakesScreen
from tui.screens.robustness import RobustnessScreen
from tui.widgets.confusion import ConfusionPanel

SIZE = (80, 24)
EXPLORE_KEYS = {"b": "browse_cell", "g": "draw", "i": "inside", "k": "robustness"}


async def until(pilot, condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def keys(app) -> dict[str, str]:
    return {key: b.binding.action for key, b in app.screen.active_bindings.items()}


def fits(screen, *selectors) -> None:
    """Each widget is laid out with some room and wholly inside the 80x24 window."""
    for sel in selectors:
        region = screen.query_one(sel).region
        assert region.width > 0 and region.height > 0, sel
        assert region.right <= SIZE[0] and region.bottom <= SIZE[1], (sel, region)


# -- drawing -----------------------------------------------------------------------------------------

async def test_a_stroke_drawn_with_keys_changes_the_canvas_and_the_probabilities(host, model):
    async with host(DrawScreen(model)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert screen.proba is None and not screen.canvas.pixels.any()
        await pilot.press("p", *["up"] * 8)  # pen down, a vertical stroke
        first = screen.canvas.pixels.copy()
        assert first.sum() > 20 and screen.proba is not None
        p1 = screen.proba.copy()
        assert p1.sum() == pytest.approx(1, abs=1e-5)
        await pilot.press("p", "left", "left", "left", "left", "left", "space", "right", "space")  # lift, move, dab
        assert screen.canvas.pixels.sum() > first.sum()
        assert not np.allclose(screen.proba, p1)
        await pilot.press("e", "right", "right", "e")  # the eraser along two pixels
        assert screen.canvas.pixels.sum() < first.sum() + 50
        await pilot.press("left", "space", "x")  # paint, then erase, at the cursor
        r, c = screen.canvas.cursor
        assert screen.canvas.pen is None and screen.canvas.pixels[r, c] == 0
        await pilot.press("c")
        assert not screen.canvas.pixels.any() and screen.proba is None
        fits(screen, "#board", "#draw-seen", "#draw-proba", "#draw-status")


async def test_test_digits_drawn_pixel_by_pixel_get_the_models_prediction(host, model, small):
    """A test digit is already MNIST-normalised, so the board's preprocessing gives it back unchanged:
    drawn where it was or pushed into the top-left corner, the network sees the same digit."""
    async with host(DrawScreen(model)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        for i in range(8):
            image = small.test.images[i]
            rows, cols = np.nonzero(image)
            direct = model.predict_proba(small.test.x[i:i + 1])[0]
            for dr, dc in ((0, 0), (-rows.min(), -cols.min())):
                screen.canvas.clear()
                for r, c in zip(rows, cols):
                    screen.canvas.set_pixel(r + dr, c + dc, image[r, c] / 255)
                await pilot.pause()
                np.testing.assert_array_equal(screen.seen, image)
                assert screen.proba.argmax() == direct.argmax()
                np.testing.assert_allclose(screen.proba, direct, atol=1e-6)


async def test_the_mouse_draws_and_its_right_button_erases(host, model):
    async with host(DrawScreen(model)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await pilot.mouse_down("#board", offset=(8, 3))
        for x in range(9, 20):
            await pilot.hover("#board", offset=(x, 3))
        await pilot.mouse_up("#board", offset=(20, 3))
        ink = screen.canvas.pixels
        assert ink[6:8, 8:20].min() > 0.9  # cell row 3 is pixel rows 6 and 7
        assert screen.proba is not None
        before = ink.sum()
        await pilot.mouse_down("#board", offset=(12, 3), button=3)
        await pilot.mouse_up("#board", offset=(12, 3))
        assert screen.canvas.pixels.sum() < before and screen.canvas.pixels[6:8, 12].max() == 0


async def test_a_dev_digit_can_be_copied_onto_the_board(host, model, small):
    async with host(DrawScreen(model, small.dev)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await pilot.press("n")
        np.testing.assert_array_equal(screen.seen, small.dev.images[0])
        assert screen.proba.argmax() == model.predict(small.dev.x[:1])[0]


# -- the dashboard's keys and the confusion cell ---------------------------------------------------

def table_rows(screen: MistakesScreen) -> np.ndarray:
    """The dev indices in the cell's table, top to bottom."""
    table = screen.query_one(DataTable)
    return np.array([int(table.coordinate_to_cell_key((r, 0)).row_key.value) for r in range(table.row_count)], int)


@pytest.fixture
def app_with(small, tmp_path):
    def build(model_path=None, epochs=2):
        cfg = TrainConfig(hidden=(32,), epochs=epochs, batch_size=64, lr=0.1, schedule="constant", patience=0)
        return make_app(cfg, loader=lambda c: small, runs_root=tmp_path / "runs", model_path=model_path,
                        redraw_every=0.05)
    return build


async def test_selecting_a_confusion_cell_lists_exactly_its_dev_digits(app_with, model_file, small):
    app = app_with(model_file)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.state == "model", what="the model to open")
        panel = app.query_one(ConfusionPanel)
        matrix = panel.matrix.copy()
        off = matrix - np.diag(np.diag(matrix))
        t, p = np.unravel_index(off.argmax(), off.shape)  # the commonest mistake
        r, c = panel.cursor
        await pilot.press("c", *(["down"] * (t - r) if t >= r else ["up"] * (r - t)),
                          *(["right"] * (p - c) if p >= c else ["left"] * (c - p)))
        assert panel.cursor == (t, p)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MistakesScreen) and (screen.true, screen.pred) == (t, p)
        pred = app.session.model.predict(small.dev.x)
        expected = np.flatnonzero((small.dev.y == t) & (pred == p))
        listed = table_rows(screen)
        assert sorted(listed) == sorted(expected) and len(listed) == matrix[t, p] >= 2
        assert list(listed) == list(screen.indices)
        sure = screen.proba[listed, p]
        assert list(sure) == sorted(sure, reverse=True)  # most confident mistakes first
        assert f"dev digit {listed[0]}" in screen.query_one("#cell-digit-box").border_title
        await pilot.press("down")
        assert f"dev digit {listed[1]}" in screen.query_one("#cell-digit-box").border_title
        fits(screen, "#cell-table", "#cell-digit")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]
        await pilot.press("b")  # the same cell, from the key
        await pilot.pause()
        assert isinstance(app.screen, MistakesScreen) and sorted(table_rows(app.screen)) == sorted(expected)


async def test_explore_keys_only_with_a_model(app_with, model_file):
    app = app_with()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.state == "idle", what="the data to load")
        assert not set(EXPLORE_KEYS) & set(keys(app))
        await pilot.press("g", "i", "k", "b")
        assert app.screen is app.screen_stack[0]
        app.session.open(model_file)
        await pilot.pause()
        shown = keys(app)
        assert all(shown.get(k) == action for k, action in EXPLORE_KEYS.items())
        for key, kind in (("g", DrawScreen), ("i", InsideScreen), ("k", RobustnessScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, kind)
            assert app.screen.model is app.session.model
            assert "train" not in keys(app).values()  # modal: the dashboard's keys cannot act beneath
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.screen_stack[0]


async def test_after_a_run_the_matrix_is_the_kept_models(app_with, small):
    """The best epoch's weights are restored at the end: the matrix (and so each cell's count) is theirs."""
    app = app_with(epochs=3)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.state == "idle", what="the data to load")
        await pilot.press("t")
        await until(pilot, lambda: app.session.state == "finished", timeout=30, what="the run to end")
        assert app.session.summary["best_epoch"] < 3, "this run should peak before its last epoch (dev 80%, 87%, 85%)"
        pred = app.session.model.predict(small.dev.x)
        expected = np.bincount(small.dev.y.astype(int) * 10 + pred, minlength=100).reshape(10, 10)
        np.testing.assert_array_equal(app.query_one(ConfusionPanel).matrix, expected)
        assert "draw" in keys(app).values()


# -- inside the network, robustness -----------------------------------------------------------------

async def test_inside_the_network(host, model, small):
    async with host(InsideScreen(model, small.dev)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert screen.unit == 0 and "unit 0" in screen.query_one("#inside-weights-box").border_title
        await pilot.press("right", "right", "left")
        assert screen.unit == 1 and "unit 1" in screen.query_one("#inside-weights-box").border_title
        await pilot.press("left", "left")
        assert screen.unit == model.spec.hidden[0] - 1  # wraps around
        await pilot.press("down")
        assert screen.digit == 1
        np.testing.assert_allclose(screen.acts[0], np.maximum(small.dev.x[1] @ model.dense[0].W + model.dense[0].b, 0),
                                   rtol=1e-5, atol=1e-5)
        await pilot.press("s")
        assert screen.unit == int(np.argmax(screen.acts[0]))
        assert screen.dead_share == pytest.approx(dead_share(model, small.dev.x))
        info = str(screen.query_one("#inside-info").render())
        n_dead = int(round(screen.dead_share * model.spec.hidden[0]))
        assert f"{n_dead}/{model.spec.hidden[0]}" in info
        fits(screen, "#inside-weights", "#inside-digit", "#inside-info", "#inside-acts")


async def test_robustness_and_doubt(host, model, small):
    async with host(RobustnessScreen(model, small.test, small.dev, limit=300)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await until(pilot, lambda: screen.curves is not None, what="the curves")
        assert [c.kind for c in screen.curves] == ["noise", "rotate", "shift"]
        for c in screen.curves:
            assert c.accuracy[-1] < c.accuracy[0]
        table = str(screen.query_one("#rob-table").render())
        assert "rotate" in table and f"{100 * screen.curves[1].accuracy[0]:5.1f}" in table
        start = screen.chosen
        await pilot.press("down", "down")
        assert screen.chosen == start + 2
        row = screen.table[screen.chosen]
        note = str(screen.query_one("#rob-note").render())
        assert f"t = {row.t:g}" in note and f"{row.answered:,}" in note
        await pilot.press(*["up"] * 20)
        assert screen.chosen == 0 and screen.table[0].coverage == 1.0
        fits(screen, "#rob-chart", "#rob-table", "#rob-thresholds", "#rob-note")
