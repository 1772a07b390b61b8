"""What the explore screens share: a full-window modal screen that closes with escape or q.

Modal, so the dashboard's keys (train, new run...) cannot act beneath it while it is open.
"""
from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen


class ExploreScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ExploreScreen {
        background: $background;
        align: left top;
    }
    ExploreScreen .box {
        border-top: solid $primary;
        border-title-color: $text-accent;
        border-title-align: left;
        padding: 0 0 0 1;
    }
    ExploreScreen .note {
        height: auto;
        color: $text-muted;
        padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q", "close", "close")]

    def action_close(self) -> None:
        self.dismiss(None)
