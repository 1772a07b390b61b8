"""The app with a conv net: it trains one live, keys answer within 0.2 s while it trains, the title shows
its spec, and i opens the conv net's inside view."""
from __future__ import annotations

import time

from tui.screens.editor import EditScreen
from tui.screens.help import HelpScreen
from tui.screens.inside_conv import ConvInsideScreen

LATENCY = 0.2  # seconds from a key press to its effect, while a conv net trains


async def test_a_conv_net_trains_live_and_keys_answer_quickly(app_factory, ui):
    # 1000 epochs: still running when the keys come, on an idle machine too
    app = app_factory(conv=(8, 16), kernel=5, hidden=(16,), epochs=1000, batch_size=32)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        s = app.session
        assert "c8-c16-16-10" in ui.text_of(app.query_one("#title"))
        await pilot.press("t")
        await ui.wait_for(pilot, lambda: s.state.running and ui.completed(app) >= 1, 30, "a conv net's first epoch")
        assert s.run_config.conv == (8, 16)
        seen = {}  # what the key did -> when
        push, pause = app.push_screen, s.pause

        def timed_push(screen, *args, **kwargs):
            seen.setdefault(type(screen), time.perf_counter())
            return push(screen, *args, **kwargs)

        def timed_pause(*args, **kwargs):
            seen.setdefault("pause", time.perf_counter())
            return pause(*args, **kwargs)

        app.push_screen, s.pause = timed_push, timed_pause
        latencies = {}
        for key, effect in (("e", EditScreen), ("question_mark", HelpScreen), ("space", "pause")):
            t = time.perf_counter()
            await pilot.press(key)  # the key is sent first; Pilot then waits for the app to settle
            await ui.wait_for(pilot, lambda: effect in seen, 5, f"{key} to take effect")
            latencies[key] = seen[effect] - t
            if key != "space":
                await pilot.press("escape")
                await pilot.pause()
        assert s.control.paused and s.state.running
        assert max(latencies.values()) < LATENCY, latencies
        await pilot.press("s")
        await ui.finished(pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ConvInsideScreen)
        assert "block 1 of 2: 8 maps 14x14" in app.screen.query_one("#conv-maps-box").border_title
