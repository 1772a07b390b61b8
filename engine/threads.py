"""How many BLAS threads a run uses: chosen by timing the run's own steps, unless someone chose.

OpenBLAS threads spin at every barrier, so two threads on two cores are fast alone and several
times slower beside a busy process, while one thread stays steady. `Chooser` is the pure logic
(fed step timings, its clock is the training time they add up to); `Blas` sets the count through
threadpoolctl; `plan` decides between the two for a run.
"""
from __future__ import annotations

import os
import statistics
from contextlib import contextmanager
from dataclasses import dataclass

ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
_pinned: int | None = None  # pin(n): an explicit choice for every later run in this process


@dataclass(frozen=True)
class Decision:
    """One probe's outcome: seconds per sample measured for each count, and the count kept."""

    at: float  # training seconds when it was taken
    timings: dict  # {threads: seconds per sample (median)}
    threads: int
    switched: bool


class Chooser:
    """Picks the faster BLAS thread count from step timings, with hysteresis.

    Feed it every step with `record(seconds, samples)`; `threads` is the count the next step must
    use. It first probes each count in `counts` (`warmup` steps dropped, then `probe` timed), keeps
    the fastest, then every `every` seconds of training probes the others against the current
    count's recent steps and switches only when one is faster by more than `margin` (0.15: 15%
    less time per sample). A count whose timed steps are all over `give_up` times slower than one already
    measured stops being probed at once. A check that confirms the current count doubles the interval (up to
    `most` seconds); a switch resets it. `fixed` is an explicit choice: never probed, never changed.
    """

    def __init__(self, counts=(1, 2), fixed: int | None = None, probe: int = 6, warmup: int = 2,
                 every: float = 4.0, most: float = 32.0, margin: float = 0.15, give_up: float = 2.0):
        self.counts = tuple(sorted(set(counts)))
        self.fixed, self.probe, self.warmup, self.margin = fixed, probe, warmup, margin
        self.every, self.most, self.give_up = every, most, give_up
        self.clock = 0.0  # seconds of training recorded so far
        self.decisions: list[Decision] = []
        self.interval = every
        self.recent: list[float] = []  # seconds per sample of the current count's latest steps
        if fixed is not None or len(self.counts) < 2:
            self.threads, self.queue = fixed if fixed is not None else self.counts[0], []
        else:
            self.queue = list(self.counts)  # counts still to probe, the one being probed first
            self.threads = self.queue[0]
        self.probed: dict[int, float] = {}
        self.samples: list[float] = []  # timed steps of the probe under way
        self.skip = warmup
        self.next_check = 0.0

    @property
    def probing(self) -> bool:
        return bool(self.queue)

    def record(self, seconds: float, samples: int) -> int | None:
        """One step of `samples` took `seconds` at `self.threads`; returns the new count when it changes."""
        self.clock += seconds
        per = seconds / max(samples, 1)
        before = self.threads
        if self.queue:
            if self.skip:
                self.skip -= 1
            else:
                self.samples.append(per)
            # a count already twice as slow as one measured is not timed further: under load a probe at two
            # threads can cost ten times a step at one, and it has lost whatever the remaining steps say
            losing = self.probed and self.samples and min(self.samples) > self.give_up * min(self.probed.values())
            if len(self.samples) >= self.probe or losing:
                self.probed[self.queue.pop(0)] = statistics.median(self.samples)
                self.samples, self.skip = [], self.warmup
                if self.queue:
                    self.threads = self.queue[0]
                else:
                    self._decide()
        elif self.fixed is None and len(self.counts) > 1:
            self.recent = (self.recent + [per])[-self.probe:]
            if self.clock >= self.next_check and len(self.recent) >= self.probe:
                self.probed = {self.threads: statistics.median(self.recent)}
                self.queue = [c for c in self.counts if c != self.threads]
                self.threads, self.skip, self.samples = self.queue[0], self.warmup, []
        return self.threads if self.threads != before else None

    def _decide(self) -> None:
        first = not self.decisions
        current = None if first else self.decisions[-1].threads
        best = min(self.probed, key=lambda c: (self.probed[c], c))
        if not first and best != current and self.probed[best] > (1 - self.margin) * self.probed[current]:
            best = current  # within the hysteresis band: keep what we had
        switched = not first and best != current
        self.decisions.append(Decision(self.clock, dict(self.probed), best, switched))
        self.interval = self.every if first or switched else min(self.interval * 2, self.most)
        self.next_check = self.clock + self.interval
        self.threads, self.recent = best, []


def explicit_env() -> str | None:
    """The thread variable the user set (OPENBLAS_NUM_THREADS or OMP_NUM_THREADS), if any."""
    return next((name for name in ENV if os.environ.get(name, "").strip()), None)


def pin(threads: int | None) -> None:
    """Make `threads` the explicit choice of every later run in this process (None: choose again).

    For worker processes (search runs one BLAS thread per worker): call `pin(1)` once at start.
    """
    global _pinned
    _pinned = threads
    if threads:
        Blas().set(threads)


@contextmanager
def pinned(threads: int):
    """`pin(threads)` for the block, then the previous choice and count back (tests, benchmarks)."""
    previous, blas = _pinned, Blas()
    before = blas.threads
    pin(threads)
    try:
        yield
    finally:
        pin(previous)
        if before:
            blas.set(before)


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Blas:
    """The BLAS libraries NumPy loaded, through threadpoolctl. No BLAS found: `threads` is None."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController

        self.controller = ThreadpoolController().select(user_api="blas")
        self.original = self.threads

    @property
    def threads(self) -> int | None:
        info = self.controller.info()
        return info[0]["num_threads"] if info else None

    def set(self, threads: int) -> None:
        for lib in self.controller.lib_controllers:
            lib.set_num_threads(threads)

    def restore(self) -> None:
        if self.original is not None:
            self.set(self.original)


@dataclass(frozen=True)
class Plan:
    """How a run gets its thread count: `mode` is "auto", "config", "pinned", "env" or "none" (no BLAS)."""

    mode: str
    chooser: Chooser


def plan(requested: int = 0) -> tuple[Plan, Blas]:
    """The chooser for a run asking for `requested` threads (0: choose by measurement), and the BLAS it drives."""
    blas = Blas()
    if blas.threads is None:
        return Plan("none", Chooser(fixed=0)), blas
    if requested:
        return Plan("config", Chooser(fixed=requested)), blas
    if _pinned:
        return Plan("pinned", Chooser(fixed=_pinned)), blas
    if explicit_env():
        return Plan("env", Chooser(fixed=blas.threads)), blas
    return Plan("auto", Chooser(counts=(1, cores()))), blas


@contextmanager
def run_threads(requested: int = 0):
    """Sets the BLAS to the plan's first count for the run, yields the Plan, restores the count after."""
    p, blas = plan(requested)
    try:
        if p.mode != "none":
            blas.set(p.chooser.threads)
        yield p, blas
    finally:
        if p.mode != "none":
            blas.restore()
