"""Messages the training thread posts to the app."""
from __future__ import annotations

from textual.message import Message


class EngineEvent(Message):
    """An engine event (engine.events.*) from the training thread of run `run_id`.

    BatchEnded events do not come this way: the thread appends them to a deque the
    app drains on its redraw timer, so a fast loop never floods the message queue.
    """

    def __init__(self, event, run_id: int) -> None:
        super().__init__()
        self.event = event
        self.run_id = run_id
