"""The BLAS thread chooser: fed fake step timings (its clock is the training time they add up to)."""
from __future__ import annotations

import numpy as np
import pytest

from engine import TrainConfig, train
from engine import threads as th
from engine.events import BatchEnded, EpochEnded, ThreadsChosen
from models import MLP


def feed(chooser: th.Chooser, per_sample: dict, steps: int, batch: int = 100) -> list[int]:
    """Run `steps` fake steps, each taking per_sample[threads] seconds per sample; the counts used."""
    used = []
    for _ in range(steps):
        used.append(chooser.threads)
        cost = per_sample[chooser.threads]
        chooser.record((cost(chooser.clock) if callable(cost) else cost) * batch, batch)
    return used


def test_first_probe_times_each_count_and_keeps_the_faster():
    for fast in (1, 2):
        c = th.Chooser((1, 2), probe=4, warmup=1)
        used = feed(c, {fast: 1e-4, 3 - fast: 1.5e-4}, 10)
        assert used == [1] * 5 + [2] * 5  # 1 warm-up + 4 timed steps each
        assert c.threads == fast and not c.probing
        assert c.decisions[0].threads == fast and not c.decisions[0].switched
        assert c.decisions[0].timings == {fast: pytest.approx(1e-4), 3 - fast: pytest.approx(1.5e-4)}


def test_warmup_steps_are_not_counted():
    c = th.Chooser((1, 2), probe=3, warmup=2)
    for seconds in (9.0, 9.0, 1.0, 1.0, 1.0):  # two slow warm-up steps at 1 thread (threads waking up)
        c.record(seconds, 1)
    for _ in range(5):
        c.record(2.0, 1)
    assert c.threads == 1 and c.decisions[0].timings == {1: 1.0, 2: 2.0}


def test_a_count_that_becomes_clearly_faster_is_switched_to_at_the_next_check():
    c = th.Chooser((1, 2), probe=4, warmup=1, every=1.0, margin=0.15)
    feed(c, {1: 2e-4, 2: 1e-4}, 10)  # alone: 2 threads win
    assert c.threads == 2
    loaded = {1: 2e-4, 2: lambda clock: 1e-4 if clock < 0.5 else 5e-4}  # a busy process arrives
    used = feed(c, loaded, 200)
    assert c.threads == 1 and 1 in used[20:]
    switch = next(d for d in c.decisions if d.switched)
    assert switch.threads == 1 and switch.timings[2] > switch.timings[1]


def test_within_the_hysteresis_band_the_count_is_kept():
    c = th.Chooser((1, 2), probe=4, warmup=1, every=0.2, margin=0.15)
    feed(c, {1: 1.00e-4, 2: 0.95e-4}, 10)
    assert c.threads == 2
    feed(c, {1: 0.9e-4, 2: 1.0e-4}, 400)  # 1 thread now 10% faster: inside the 15% band, no flapping
    assert c.threads == 2 and len(c.decisions) > 3
    assert not any(d.switched for d in c.decisions)


def test_just_outside_the_band_it_switches_and_confirmed_checks_back_off():
    c = th.Chooser((1, 2), probe=4, warmup=1, every=0.2, most=1.0, margin=0.15)
    feed(c, {1: 1.0e-4, 2: 0.9e-4}, 10)
    feed(c, {1: 0.8e-4, 2: 1.0e-4}, 100)  # 20% faster
    assert c.threads == 1 and c.decisions[1].switched
    feed(c, {1: 0.8e-4, 2: 1.0e-4}, 3000)
    gaps = np.diff([d.at for d in c.decisions[1:]])
    assert gaps[-1] > 4 * gaps[0] and gaps.max() < 1.3  # doubling, capped near `most` (+ the probe itself)


def test_an_explicit_count_is_never_probed_nor_changed():
    c = th.Chooser((1, 2), fixed=2, every=0.01)
    assert feed(c, {1: 1e-6, 2: 1.0}, 100) == [2] * 100  # however slow 2 threads are
    assert c.decisions == [] and not c.probing


def test_one_core_means_nothing_to_choose():
    c = th.Chooser((1,))
    assert feed(c, {1: 1e-4}, 50) == [1] * 50 and c.decisions == []


def test_plan_honours_config_then_pin_then_environment(monkeypatch):
    for name in th.ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(th, "_pinned", None)
    auto, _ = th.plan(0)
    if auto.mode == "none":
        pytest.skip("no BLAS library found through threadpoolctl")
    assert auto.mode == "auto" and auto.chooser.fixed is None
    assert th.plan(3)[0].mode == "config" and th.plan(3)[0].chooser.fixed == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    env, blas = th.plan(0)
    assert env.mode == "env" and env.chooser.fixed == blas.threads
    assert th.plan(2)[0].mode == "config"  # a --threads option beats the environment
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(th, "_pinned", 1)
    assert th.plan(0)[0].mode == "pinned" and th.plan(0)[0].chooser.fixed == 1


def test_training_reports_the_count_in_use_and_restores_the_library(easy, monkeypatch):
    for name in th.ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(th, "_pinned", None)
    blas = th.Blas()
    if blas.threads is None:
        pytest.skip("no BLAS library found through threadpoolctl")
    before = blas.threads
    events = []
    cfg = TrainConfig(hidden=(32,), epochs=2, batch_size=10, seed=3, threads=1)
    result = train(MLP(cfg.spec()), *easy.args(), cfg, events.append)
    assert blas.threads == before
    assert result.threads == 1 and result.threads_mode == "config"
    assert result.summary()["threads"] == 1 and result.summary()["threads_mode"] == "config"
    assert all(h["threads"] == 1 for h in result.history)
    assert all(e.threads == 1 for e in events if isinstance(e, (BatchEnded, EpochEnded)))
    assert not any(isinstance(e, ThreadsChosen) for e in events)


def test_auto_training_probes_and_announces_its_choice(easy, monkeypatch):
    for name in th.ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(th, "_pinned", None)
    monkeypatch.setattr(th, "cores", lambda: 2)
    if th.Blas().threads is None:
        pytest.skip("no BLAS library found through threadpoolctl")
    events = []
    cfg = TrainConfig(hidden=(32,), epochs=1, batch_size=10, seed=3)
    result = train(MLP(cfg.spec()), *easy.args(), cfg, events.append)
    chosen = [e for e in events if isinstance(e, ThreadsChosen)]
    assert chosen and set(chosen[0].timings) == {1, 2} and not chosen[0].switched
    assert result.threads_mode == "auto" and result.threads == chosen[-1].threads


def test_the_thread_count_changes_only_rounding(easy):
    """OpenBLAS blocks its products differently per thread count, so bits differ (bit-for-bit runs need a
    fixed `threads`), but what is learned is the same to float32 rounding."""
    if th.Blas().threads is None:
        pytest.skip("no BLAS library found through threadpoolctl")
    weights = []
    for n in (1, 2):
        cfg = TrainConfig(hidden=(64, 32), epochs=2, batch_size=16, seed=5, threads=n)
        weights.append(train(MLP(cfg.spec()), *easy.args(), cfg).model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_a_count_clearly_losing_is_not_timed_to_the_end():
    """Beside a busy process two threads can be ten times slower: one timed step says enough."""
    c = th.Chooser((1, 2), probe=6, warmup=2)
    used = feed(c, {1: 1e-4, 2: 1e-3}, 20)
    assert used[:8] == [1] * 8 and used[8:11] == [2] * 3 and set(used[11:]) == {1}  # 2 warm-up + 1 timed
    assert c.decisions[0].threads == 1 and c.decisions[0].timings[2] == pytest.approx(1e-3)
    c = th.Chooser((1, 2), probe=6, warmup=2)
    used = feed(c, {1: 1e-4, 2: 1.5e-4}, 20)  # slower, but not by twice: timed in full
    assert used[8:16] == [2] * 8
