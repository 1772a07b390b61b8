"""Messages the worker threads post to the app (post_message is thread-safe); the session reads them."""
from __future__ import annotations

from textual.message import Message


class EngineEvent(Message):
    """An engine event (engine.events.* or engine.search.*) from the worker of run `run_id`.

    BatchEnded events do not come this way: the thread appends them to a deque the
    app drains on its redraw timer, so a fast loop never floods the message queue.
    """

    def __init__(self, event, run_id: int) -> None:
        super().__init__()
        self.event = event
        self.run_id = run_id


class DataLoaded(Message):
    """The splits of `key` (data, dev size, seed), loaded in a worker thread."""

    def __init__(self, splits, key: tuple) -> None:
        super().__init__()
        self.splits, self.key = splits, key
