"""A small thread-safe steering wheel for a running training loop."""
from __future__ import annotations

import threading

from .config import FIELDS, LIVE, ConfigError


class Control:
    """Pause, resume, stop, or change live settings; the loop obeys between batches.

    Any thread may call pause / resume / stop / change; only the loop calls `take_changes`
    and `wait_if_paused`.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._running.set()
        self._pending: dict = {}
        self._stop = False
        self._dirty = False  # read without the lock in the hot loop: a stale False costs one batch

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop

    def stop(self) -> None:
        with self._lock:
            self._stop = True
        self._running.set()  # wake a paused loop so it can end

    def change(self, **settings) -> None:
        """Ask for new values of live settings (lr, l2, momentum, batch_size); checked here."""
        for name, value in settings.items():
            if name not in LIVE:
                raise ConfigError(f"{name} cannot change during a run (live settings: {', '.join(LIVE)})")
            FIELDS[name].check(value)
        with self._lock:
            self._pending.update(settings)
            self._dirty = True

    def take_changes(self) -> dict:
        """The loop collects the settings changed since it last asked."""
        if not self._dirty:
            return {}
        with self._lock:
            changes, self._pending, self._dirty = self._pending, {}, False
        return changes

    def wait_if_paused(self) -> None:
        """Block while paused (stop wakes it)."""
        self._running.wait()
