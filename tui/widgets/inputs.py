"""A text Input whose own editing keys keep their place among typed characters.

Textual 8.2.8 inserts a printable key in `Input._on_key`, but a bound key (backspace, arrows,
delete, enter...) only runs when the event has bubbled up to the app, one message queue per
ancestor. Keys that arrive in one read (fast typing, SSH, paste of a macro) are posted together, so a
character typed after a backspace is inserted before the backspace runs: `50`, keys ⌫ ⌫ 7 gives `5`.
Running the Input's own bindings here, where the character is inserted, keeps the order.
Upstream: Textualize/textual#6605; see docs/textual-backspace-report.md.
"""
from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedInput(Input):
    """`Input` that runs its own key bindings when the key arrives, not after it bubbled to the app."""

    async def _on_key(self, event: events.Key) -> None:
        # priority bindings were checked by the app before the key reached us; ours come first in the chain
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)
