"""Steering a run from another thread: pause, resume, stop, live changes.

Training runs on a worker thread, as in the app; the test thread plays the user. Where the
order matters, the listener holds the loop (it runs on the loop's thread) until the test
thread has acted, so nothing depends on timing luck.
"""
from __future__ import annotations

import threading
import time

import pytest

from engine import BatchEnded, ConfigError, Control, EpochEnded, Finished, Paused, Resumed, SettingsChanged, train
from models import MLP

WAIT = 10  # seconds: generous upper bounds, never reached when things work


class Gate:
    """Holds the loop in its listener at one chosen event until the test thread lets it go."""

    def __init__(self, at):
        self.at = at  # event -> bool
        self.reached, self.release = threading.Event(), threading.Event()
        self.events, self.times = [], []

    def __call__(self, event):
        self.events.append(event)
        self.times.append(time.perf_counter())
        if not self.reached.is_set() and self.at(event):
            self.reached.set()
            self.release.wait(WAIT)

    def hold(self):
        assert self.reached.wait(WAIT), "the loop never reached the gate"

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]

    def index(self, kind):
        return next(i for i, e in enumerate(self.events) if isinstance(e, kind))

    def wait_for(self, kind):
        deadline = time.monotonic() + WAIT
        while not self.of(kind):
            assert time.monotonic() < deadline, f"no {kind.__name__} event"
            time.sleep(0.002)


def batch(n, epoch=1):
    return lambda e: isinstance(e, BatchEnded) and e.epoch == epoch and e.batch == n


def test_pause_blocks_the_loop_until_resume(background, config):
    control, gate = Control(), Gate(batch(1))
    bg = background(config(epochs=2), gate, control)
    gate.hold()
    control.pause()
    assert control.paused
    gate.release.set()
    gate.wait_for(Paused)
    batches = len(gate.of(BatchEnded))
    time.sleep(0.3)
    assert len(gate.of(BatchEnded)) == batches, "batches ran while paused"
    assert bg.thread.is_alive()
    t_resume = time.perf_counter()
    control.resume()
    result = bg.join()

    assert result.stop == "max-epochs" and result.epochs == 2
    paused, resumed = gate.index(Paused), gate.index(Resumed)
    assert paused < resumed
    assert gate.events[paused] == Paused(1, 1) and gate.events[resumed] == Resumed(1, 1)
    assert gate.times[resumed] >= t_resume and gate.times[resumed] - gate.times[paused] >= 0.3
    assert any(isinstance(e, BatchEnded) for e in gate.events[resumed:]), "training went on after resume"
    assert len(gate.of(BatchEnded)) == 20  # nothing skipped, nothing repeated
    total = gate.times[-1] - gate.times[0]
    assert result.seconds < total - 0.25, "time spent paused is not training time"


def test_pause_and_resume_flags():
    control = Control()
    control.pause()
    assert control.paused
    control.resume()
    assert not control.paused


def test_stop_during_an_epoch(background, config):
    control, gate = Control(), Gate(batch(3))
    bg = background(config(epochs=3), gate, control)
    gate.hold()
    control.stop()
    gate.release.set()
    result = bg.join()
    assert result.stop == "stopped"
    assert result.reason == "stopped by user before the first epoch ended"
    assert result.epochs == 0 and not result.history
    assert len(gate.of(BatchEnded)) == 3, "the loop stops before the next batch"
    assert not gate.of(EpochEnded)
    assert isinstance(gate.events[-1], Finished) and gate.events[-1].result is result


def test_stop_during_a_later_epoch(background, config):
    control, gate = Control(), Gate(batch(2, epoch=2))
    bg = background(config(epochs=3), gate, control)
    gate.hold()
    control.stop()
    gate.release.set()
    result = bg.join()
    assert (result.stop, result.epochs, len(result.history)) == ("stopped", 1, 1)
    assert result.reason == "stopped by user during epoch 2"


def test_stop_after_an_epoch(run, config):
    control = Control()

    def listener(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            control.stop()

    result, _ = run(config(epochs=5), listener, control)
    assert (result.stop, result.epochs) == ("stopped", 2)
    assert result.reason == "stopped by user after epoch 2"


def test_stop_wakes_a_paused_loop(background, config):
    control, gate = Control(), Gate(batch(2))
    bg = background(config(epochs=3), gate, control)
    gate.hold()
    control.pause()
    gate.release.set()
    gate.wait_for(Paused)
    control.stop()
    result = bg.join()
    assert result.stop == "stopped" and result.reason == "stopped by user before the first epoch ended"
    assert not gate.of(Resumed) or gate.index(Resumed) > gate.index(Paused)
    assert len(gate.of(BatchEnded)) == 2


def test_stop_while_paused_between_epochs(run, config):
    """Paused after the last batch of epoch 1, stopped before epoch 2 began: that is a stop."""
    control = Control()

    def listener(event):
        if isinstance(event, EpochEnded) and event.epoch == 1:
            control.pause()
        if isinstance(event, Paused):
            threading.Timer(0.05, control.stop).start()

    result, _ = run(config(epochs=3), listener, control)
    assert (result.stop, result.epochs) == ("stopped", 1)
    assert result.reason == "stopped by user after epoch 1"


def test_stop_before_the_run(run, config):
    control = Control()
    control.stop()
    result, _ = run(config(epochs=3), control=control)
    assert (result.stop, result.epochs) == ("stopped", 0)
    assert result.reason == "stopped by user before the first epoch ended"


def test_change_lr_mid_run(background, config):
    control, gate = Control(), Gate(batch(2))
    bg = background(config(epochs=2, lr=0.1, schedule="constant"), gate, control)
    gate.hold()
    control.change(lr=0.01)
    gate.release.set()
    result = bg.join()
    assert result.stop == "max-epochs"
    changed = gate.of(SettingsChanged)
    assert changed == [SettingsChanged({"lr": 0.01}, 1, 2, {"lr": 0.1})]
    at = gate.index(SettingsChanged)
    before = [e.lr for e in gate.events[:at] if isinstance(e, BatchEnded)]
    after = [e.lr for e in gate.events[at:] if isinstance(e, BatchEnded)]
    assert before == [0.1, 0.1] and len(after) == 18 and set(after) == {0.01}
    assert [e.lr for e in gate.of(EpochEnded)] == [0.01, 0.01]


def test_change_batch_size_mid_run(background, config):
    control, gate = Control(), Gate(batch(1))
    bg = background(config(epochs=2, batch_size=32), gate, control)
    gate.hold()
    control.change(batch_size=100, momentum=0.5, l2=0.001)
    gate.release.set()
    bg.join()
    assert gate.of(SettingsChanged)[0].changes == {"batch_size": 100, "momentum": 0.5, "l2": 0.001}
    epoch2 = [e for e in gate.of(BatchEnded) if e.epoch == 2]
    assert [(e.batch, e.batches) for e in epoch2] == [(1, 3), (2, 3), (3, 3)]
    first = [e for e in gate.of(BatchEnded) if e.epoch == 1]
    assert first[0].batches == 10 and first[1].batches == 4  # 32 seen, 268 left in batches of 100


@pytest.mark.parametrize("changes, words", [
    ({"lr": 0}, "--lr"),
    ({"lr": 100}, "--lr"),
    ({"lr": float("nan")}, "--lr"),
    ({"momentum": 1.5}, "--momentum"),
    ({"batch_size": 0}, "--batch-size"),
    ({"l2": "big"}, "--l2"),
    ({"epochs": 10}, "epochs cannot change during a run"),
    ({"optimizer": "adam"}, "optimizer cannot change"),
    ({"hidden": (8,)}, "hidden cannot change"),
    ({"lr": 0.05, "dropout": 0.5}, "dropout cannot change"),
])
def test_bad_changes_are_refused_and_nothing_is_queued(changes, words):
    control = Control()
    with pytest.raises(ConfigError, match=words):
        control.change(**changes)
    assert control.take_changes() == {}


def test_a_refused_change_leaves_the_run_alone(background, config):
    control, gate = Control(), Gate(batch(2))
    bg = background(config(epochs=1, lr=0.1), gate, control)
    gate.hold()
    with pytest.raises(ConfigError):
        control.change(lr=0.05, optimizer="adam")
    gate.release.set()
    result = bg.join()
    assert result.stop == "max-epochs"
    assert not gate.of(SettingsChanged)
    assert {e.lr for e in gate.of(BatchEnded)} == {0.1}


def test_changes_merge_until_taken():
    control = Control()
    control.change(lr=0.1)
    control.change(lr=0.2, l2=0.01)
    assert control.take_changes() == {"lr": 0.2, "l2": 0.01}
    assert control.take_changes() == {}


def test_control_from_many_threads_at_once(easy, config):
    """Pause / change / resume from several threads at once never breaks or wedges the loop.

    Each poker ends on resume(), so whatever the interleaving, the last word is "run".
    """
    control = Control()
    cfg = config(epochs=20)
    seen = []

    def poke(i):
        for _ in range(40):
            control.pause()
            time.sleep(0.0005)
            control.change(lr=0.01 * (i + 1))
            control.resume()
            time.sleep(0.002)

    pokers = [threading.Thread(target=poke, args=(i,), daemon=True) for i in range(3)]
    for t in pokers:
        t.start()
    result = train(MLP(cfg.spec()), *easy.args(), cfg, seen.append, control)
    for t in pokers:
        t.join(WAIT)
    assert result.stop == "max-epochs" and result.epochs == 20
    assert any(isinstance(e, SettingsChanged) for e in seen)
    assert sum(isinstance(e, Paused) for e in seen) == sum(isinstance(e, Resumed) for e in seen)
