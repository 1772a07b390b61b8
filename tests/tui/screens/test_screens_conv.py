"""Inside a conv net at 80x24: first-layer filters, a digit's feature maps block by block, with and without colour;
the other explore screens take a conv net as they take an MLP."""
from __future__ import annotations

import numpy as np
import pytest

import models
from engine.inspect import feature_maps
from tui.screens.draw import DrawScreen
from tui.screens.inside_conv import ConvInsideScreen, map_text, tiles
from tui.screens.mistakes import MistakesScreen
from tui.screens.robustness import RobustnessScreen

SIZE = (80, 24)


@pytest.fixture(scope="module")
def cnn():
    net = models.MLP(models.Spec(784, (16,), 10, conv=(6, 12), kernel=5, seed=3))
    for layer in net.convs:
        layer.b[...] = 0.05
    return net


def fits(screen, *selectors) -> None:
    for sel in selectors:
        region = screen.query_one(sel).region
        assert region.width > 0 and region.height > 0, sel
        assert region.right <= SIZE[0] and region.bottom <= SIZE[1], (sel, region)


def plain(screen, sel) -> str:
    return str(screen.query_one(sel).render())


async def test_filters_and_feature_maps_block_by_block(host, cnn, small):
    async with host(ConvInsideScreen(cnn, small.dev)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await pilot.pause()
        assert "6 filters 5x5" in screen.query_one("#conv-filters-box").border_title
        assert "block 1 of 2: 6 maps 14x14" in screen.query_one("#conv-maps-box").border_title
        want = feature_maps(cnn, small.dev.x[0])
        assert all(np.array_equal(a, b) for a, b in zip(screen.maps, want))
        await pilot.press("right")
        assert screen.block == 1 and "12 maps 7x7" in screen.query_one("#conv-maps-box").border_title
        await pilot.press("right")
        assert screen.block == 0  # wraps around
        await pilot.press("down")
        assert screen.digit == 1 and "dev digit 1" in screen.query_one("#conv-digit-box").border_title
        np.testing.assert_array_equal(screen.maps[0], feature_maps(cnn, small.dev.x[1])[0])
        maps_lines = plain(screen, "#conv-maps").split("\n")
        assert len(maps_lines) >= 7 and max(len(line) for line in maps_lines) <= SIZE[0]
        fits(screen, "#conv-digit", "#conv-filters-box", "#conv-maps-box")


async def test_without_colour_the_maps_are_an_ascii_ramp(host, cnn, small, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    async with host(ConvInsideScreen(cnn, small.dev)).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await pilot.pause()
        assert pilot.app.no_color
        text = plain(screen, "#conv-maps") + plain(screen, "#conv-filters")
        assert "▀" not in text and set(text) - set(" .:-=+*#%@\n")  == set()
        assert any(ch in text for ch in ":-=+*#%@")


def test_map_text_and_tiles():
    a = np.zeros((4, 6), np.float32)
    a[0, 0] = 2.0
    t = map_text(a, 2.0, color=False)
    assert str(t).split("\n") == ["=     ", "      "]  # half white (mean of the two rows) in the corner
    grid = tiles([Text_ for Text_ in (map_text(a, 2.0, False),) * 5], width=20)
    lines = str(grid).split("\n")
    assert lines[0] == "=      =      =     " and lines[2] == "" and lines[3].startswith("=      =")


async def test_the_other_explore_screens_take_a_conv_net(host, cnn, small):
    for screen in (DrawScreen(cnn, small.dev), MistakesScreen(cnn, small.dev, 3, 5),
                   RobustnessScreen(cnn, small.test, small.dev)):
        async with host(screen).run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert pilot.app.screen is screen
