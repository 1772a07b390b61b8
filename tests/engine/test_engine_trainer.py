"""The training loop: learning, events, early stopping, divergence, determinism."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine import BatchEnded, EpochEnded, Finished, RunStarted, train
from models import MLP

TIMING = {"seconds", "elapsed", "samples_per_sec"}


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b))


def untimed(history):
    return [{k: v for k, v in h.items() if k not in TIMING} for h in history]


def test_learns_an_easy_problem_and_reports_it(run, config, events, easy):
    cfg = config(epochs=4)
    x_before = easy.x.copy()
    result, model = run(cfg, events)
    assert result.stop == "max-epochs" and result.reason == "max epochs (4) reached"
    assert result.epochs == 4 and len(result.history) == 4
    assert result.dev_acc >= 0.9
    assert result.model is model
    np.testing.assert_array_equal(easy.x, x_before)  # the training set is never written

    assert isinstance(events[0], RunStarted) and isinstance(events[-1], Finished)
    assert events[-1].result is result
    start = events[0]
    assert (start.n_train, start.n_dev, start.batches_per_epoch, start.spec) == (300, 100, 10, "784-16-10")
    assert start.config == cfg.to_dict()
    epochs = events.of(EpochEnded)
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    last = epochs[-1]
    assert last.confusion.shape == (10, 10) and last.confusion.sum() == 100
    assert last.dev_proba.shape == (100, 10)
    assert not last.confusion.flags.writeable and not last.dev_proba.flags.writeable
    assert last.train_loss < epochs[0].train_loss
    assert result.summary()["stop"] == "max-epochs"


def test_batch_events_every_batch_with_report_every_zero(run, config, events):
    run(config(epochs=2, batch_size=64), events, report_every=0)
    batches = events.of(BatchEnded)
    assert [(b.epoch, b.batch) for b in batches] == [(e, i) for e in (1, 2) for i in range(1, 6)]
    assert all(b.batches == 5 for b in batches)
    assert batches[4].progress == pytest.approx(1.0) and batches[2].progress == pytest.approx(192 / 300)
    assert all(0 <= b.accuracy <= 1 and b.loss > 0 and b.samples_per_sec > 0 for b in batches)


def test_schedule_reaches_the_batches(run, config, events):
    run(config(epochs=2, schedule="cosine", lr=0.1), events, report_every=0)
    lrs = [b.lr for b in events.of(BatchEnded)]
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] == pytest.approx(0, abs=1e-12)
    assert lrs[0] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * (32 / 300) / 2)))


@pytest.mark.parametrize("changes", [
    {"optimizer": "sgd", "lr": 0.5},
    {"optimizer": "nesterov"},
    {"optimizer": "adam", "lr": 0.005},
    {"activation": "tanh", "dropout": 0.2, "l2": 1e-4},
    {"activation": "sigmoid", "init": "xavier", "optimizer": "adam", "lr": 0.01},
    {"augment": "shift=1,noise=0.05", "hidden": (16, 8)},
])
def test_every_kind_of_run_learns(run, config, changes):
    result, _ = run(config(epochs=5, **changes))
    assert result.stop == "max-epochs"
    assert result.dev_acc >= 0.8, result.history


def test_max_norm_is_kept(run, config):
    _, model = run(config(max_norm=0.5, lr=0.2))
    for layer in model.dense:
        assert np.linalg.norm(layer.W, axis=0).max() <= 0.5 * (1 + 1e-5)


# -- early stopping ---------------------------------------------------------------------------


def test_early_stopping_restores_the_best_weights(run, config, easy, events):
    """Dev accuracy reaches 1.0 and cannot beat itself: the run stops `patience` epochs later."""
    saved = {}

    def listener(event):
        events(event)
        if isinstance(event, EpochEnded):
            saved[event.epoch] = model.get_weights()

    cfg = config(epochs=40, patience=2, lr=0.05)
    model = MLP(cfg.spec())
    result, _ = run(cfg, listener, model=model)

    assert result.stop == "early-stopped"
    assert f"early-stopped at epoch {result.epochs}" in result.reason
    assert f"best epoch {result.best_epoch}" in result.reason
    assert result.epochs == result.best_epoch + 2 < 40
    improved = [e.epoch for e in events.of(EpochEnded) if e.improved]
    assert improved[-1] == result.best_epoch
    assert same_weights(model.params, saved[result.best_epoch])
    assert not same_weights(model.params, saved[result.epochs]), "the weights moved after the best epoch"
    best = result.history[result.best_epoch - 1]
    assert (result.dev_acc, result.dev_loss) == (best["dev_acc"], best["dev_loss"])
    last = events.of(EpochEnded)[-1]
    assert (last.early.best_epoch, last.early.bad_epochs, last.early.patience) == (result.best_epoch, 2, 2)
    assert "patience 2/2" in last.early.text


def test_early_stopping_on_a_dev_set_that_cannot_be_learned(run, config, easy):
    """Random dev labels: whatever epoch happened to score best, those are the weights returned."""
    y_random = np.random.default_rng(9).integers(0, 10, len(easy.y_dev))
    best = {}

    def listener(event):
        if isinstance(event, EpochEnded) and event.improved:
            best["epoch"], best["weights"] = event.epoch, model.get_weights()

    cfg = config(epochs=60, patience=3)
    model = MLP(cfg.spec())
    result = train(model, easy.x, easy.y, easy.x_dev, y_random, cfg, listener)
    assert result.stop == "early-stopped"
    assert "early-stopped at epoch" in result.reason and "best epoch" in result.reason
    assert result.best_epoch == best["epoch"]
    assert same_weights(model.params, best["weights"])


def test_early_stopping_on_dev_loss_with_min_delta(run, config, events):
    result, _ = run(config(epochs=20, patience=3, monitor="dev_loss", min_delta=1.0), events)
    assert result.stop == "early-stopped"
    assert (result.best_epoch, result.epochs) == (1, 4)
    assert "dev_loss did not improve for 3 epochs" in result.reason
    assert [e.improved for e in events.of(EpochEnded)] == [True, False, False, False]


def test_patience_zero_never_stops_early(run, config):
    result, _ = run(config(epochs=8, patience=0))
    assert result.stop == "max-epochs" and result.epochs == 8


# -- divergence -------------------------------------------------------------------------------


def test_divergence_in_the_first_epoch(run, config, events, easy):
    cfg = config(optimizer="sgd", lr=10, hidden=(64, 64), epochs=5)
    model = MLP(cfg.spec())
    for p in model.params:
        p *= 1e4
    result, _ = run(cfg, events, model=model)
    assert result.stop == "diverged"
    assert result.reason.startswith("diverged: loss became")
    assert "at epoch 1" in result.reason
    assert result.epochs == 0 and result.best_epoch == 0 and math.isnan(result.dev_acc)
    assert all(np.isfinite(p).all() for p in model.params)
    assert np.isfinite(model.predict_proba(easy.x)).all(), "the returned model must still compute"
    assert isinstance(events[-1], Finished)
    assert not events.of(EpochEnded)


def test_divergence_later_returns_the_best_epoch(run, config):
    saved = {}

    def listener(event):
        if isinstance(event, EpochEnded) and event.epoch == 1:
            saved[1] = model.get_weights()
            for p in model.params:  # the loop thread is ours while we listen: make the next batch overflow
                p *= 1e30

    cfg = config(optimizer="sgd", lr=10, hidden=(64, 64), epochs=5)
    model = MLP(cfg.spec())
    result, _ = run(cfg, listener, model=model)
    assert result.stop == "diverged"
    assert result.reason.startswith("diverged: loss became") and "at epoch 2" in result.reason
    assert result.epochs == 1 and result.best_epoch == 1
    assert same_weights(model.params, saved[1])


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_run_bit_for_bit(run, config):
    """At a fixed BLAS thread count (OpenBLAS's products round differently at another count)."""
    cfg = config(epochs=3, dropout=0.2, augment="shift=1,rotate=5,noise=0.05", optimizer="adam", lr=0.005,
                 threads=1)
    (a, model_a), (b, model_b) = run(cfg), run(cfg)
    assert untimed(a.history) == untimed(b.history)
    assert same_weights(model_a.params, model_b.params)


def test_other_seed_other_run(run, config):
    cfg = config(epochs=2, dropout=0.2)
    a, model_a = run(cfg)
    b, model_b = run(cfg.replace(seed=1))
    assert not same_weights(model_a.params, model_b.params)
    assert untimed(a.history) != untimed(b.history)


def test_the_seed_also_drives_shuffling(run, config):
    """Same initial weights, another cfg.seed: the batches come in another order."""
    cfg = config(epochs=1)
    _, model_a = run(cfg, model=MLP(cfg.spec()))
    _, model_b = run(cfg.replace(seed=5), model=MLP(cfg.spec()))
    assert not same_weights(model_a.params, model_b.params)
