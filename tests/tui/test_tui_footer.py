"""The footer shows the keys that work now, more of them in a wider window; a key that cannot work yet says
why in one line; in the confusion matrix's cursor the footer names its keys (arrows, enter, esc)."""
from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from tui.keys import FOOTER, KEYS, footer_keys


def footer(app) -> str:
    """The footer's text, as a person reads it."""
    return " ".join(f"{k.key_display} {k.description}" for k in app.screen.query(FooterKey))


def footer_keys_shown(app) -> list[str]:
    return [k.key_display for k in app.screen.query(FooterKey)]


async def settle(pilot) -> None:
    """The footer recomposes after the refresh that follows a change of state, size or focus."""
    for _ in range(3):
        await pilot.pause()


@pytest.mark.parametrize("key, why", [
    ("g", "no model yet: t trains, o opens one"),
    ("i", "no model yet: t trains, o opens one"),
    ("k", "no model yet: t trains, o opens one"),
    ("b", "no model yet: t trains, o opens one"),
    ("w", "no model yet: t trains, o opens one"),
    ("s", "nothing is training: t trains"),
    ("space", "nothing is training"),
    ("n", "the dashboard is clear"),
    ("f", "nothing to fork yet"),
    ("u", "no live change to undo"),
    ("m", "no predictions yet"),
    ("c", "no confusion matrix yet"),
])
async def test_a_key_that_needs_a_model_or_a_run_says_why(app_factory, ui, key, why):
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        await pilot.press(key)
        await pilot.pause()
        notes = ui.notes(app)
        assert len(notes) == 1 and why in notes[0], notes
        assert "\n" not in notes[0] and len(notes[0]) <= 37  # one line of a notice at 80 columns
        assert app.screen is app.screen_stack[0]  # nothing opened


async def test_the_footer_grows_with_the_width_and_follows_the_state(app_factory, ui):
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.loaded(pilot)
        await settle(pilot)
        idle = footer_keys_shown(app)
        assert {"t", "e", "o", "?", "q"} <= set(idle)
        assert not {"g", "i", "k", "b", "w", "s", "n"} & set(idle)  # they need a model or a run
        await ui.train_and_finish(pilot)
        await settle(pilot)
        small = footer_keys_shown(app)
        assert {"t", "w", "n", "o", "?", "q"} <= set(small)
        assert len(footer(app)) <= 80
        assert not {"x", "r", "p"} & set(small)  # only the essentials at 80 columns
        await pilot.resize_terminal(200, 30)
        await settle(pilot)
        wide = footer_keys_shown(app)
        assert {"g", "i", "k", "x", "r", "p", "c", "v"} <= set(wide), footer(app)
        assert len(footer(app)) <= 200
        await pilot.resize_terminal(200, 50)  # every panel shown: v has nothing to cycle
        await settle(pilot)
        assert {"g", "i", "k", "x", "r", "p", "c"} <= set(footer_keys_shown(app)) and "v" not in footer_keys_shown(app)


async def test_the_matrix_cursor_footer_names_arrows_enter_and_esc(app_factory, ui):
    app = app_factory(epochs=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.train_and_finish(pilot)
        await pilot.press("c")
        await settle(pilot)
        text = footer(app)
        assert text.startswith("←↑↓→ pick a cell enter its digits esc leave"), text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.focused is None and "esc leave" not in footer(app)


def test_footer_keys_keep_the_most_needed_within_the_width():
    usable = {b.action: (b.key, b.key_display or b.key, b.description) for b in KEYS if b.action in FOOTER}
    usable.pop("resume")
    narrow = [a for *_, a in footer_keys(usable, 40)]
    assert narrow == [a for a in (b.action for b in KEYS) if a in narrow]  # in the order of KEYS
    assert set(narrow) == set(FOOTER[:len(narrow)]) - {"resume"} or len(narrow) < 10
    assert len(footer_keys(usable, 200)) > len(footer_keys(usable, 80)) > len(narrow)
