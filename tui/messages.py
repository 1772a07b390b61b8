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


class SearchEvent(Message):
    """From the search thread: an engine.search event, a training event of trial run `run_id`,
    or the end of the search (`result`, or `error` when it failed)."""

    def __init__(self, event=None, run_id: int = 0, result=None, error: BaseException | None = None) -> None:
        super().__init__()
        self.event, self.run_id, self.result, self.error = event, run_id, result, error
