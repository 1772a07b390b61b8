"""Checkpoints, exact resume and fork, live changes in the run files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import data
from engine import Control, EpochEnded, TrainConfig
from engine.checkpoints import Checkpoint, CheckpointError, path_for, saved_epochs
from engine.runs import RunError, fork_point, read_run, train_run, undo_point
from engine.threads import pinned
from models import MLP

TIMING = {"seconds", "elapsed", "samples_per_sec"}


def untimed(history):
    return [{k: v for k, v in h.items() if k not in TIMING} for h in history]


@pytest.fixture(scope="module")
def splits(easy):
    """The easy problem as data.Splits (images rounded to uint8)."""
    def ds(x, y):
        return data.Dataset(np.round(x * 255).astype(np.uint8).reshape(-1, 28, 28), y.astype(np.uint8))

    return data.Splits(ds(easy.x, easy.y), ds(easy.x_dev, easy.y_dev), ds(easy.x_dev[:50], easy.y_dev[:50]), "easy")


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    with pinned(1):  # OPENBLAS_NUM_THREADS=1: the same sums in the same order
        yield


# everything that draws random numbers, and an optimizer with buffers
HARD = dict(hidden=(32, 16), optimizer="momentum", lr=0.05, momentum=0.9, batch_size=32, epochs=4,
            schedule="step", decay_every=1, decay_rate=0.7, patience=0, dev_size=100, seed=3, dropout=0.2,
            augment="shift,noise=0.05", max_norm=3.0)


def test_a_fork_at_epoch_2_reproduces_the_straight_run_bit_for_bit(splits, tmp_path):
    cfg = TrainConfig(**HARD)
    straight, _ = train_run(splits, cfg, tmp_path, keep=10, name="straight")
    short, summary = train_run(splits, cfg.replace(epochs=2), tmp_path, keep=10, name="short")
    fork = fork_point(summary["run_dir"])
    assert fork.epoch == 2 and fork.config == cfg.replace(epochs=2)
    forked, fsummary = train_run(splits, fork.settings(epochs=4), tmp_path, fork=fork, name="forked")
    assert [h["epoch"] for h in forked.history] == [1, 2, 3, 4]
    assert untimed(forked.history) == untimed(straight.history)  # health keys too
    assert any("grad" in k for k in forked.history[-1])
    assert all(np.array_equal(a, b) for a, b in zip(forked.model.params, straight.model.params))
    assert fsummary["best_epoch"] == straight.best_epoch and fsummary["test_accuracy"] == pytest.approx(
        train_run(splits, cfg, tmp_path, keep=0)[1]["test_accuracy"])
    info = read_run(fsummary["run_dir"])  # the files say where it came from and carry the parent's epochs
    assert info.fork == {"parent": summary["run_dir"], "epoch": 2, "overrides": {"epochs": [2, 4]}}
    assert untimed(info.history) == untimed(straight.history)
    assert info.config["epochs"] == 4


def test_adam_and_a_fork_of_a_4_epoch_run_at_2_with_the_default_cosine_schedule(splits, tmp_path):
    cfg = TrainConfig(**{**HARD, "optimizer": "adam", "lr": 0.003, "schedule": "cosine"})
    straight, summary = train_run(splits, cfg, tmp_path, keep=5)
    forked, _ = train_run(splits, cfg, tmp_path, fork=fork_point(summary["run_dir"], 2))
    assert untimed(forked.history) == untimed(straight.history)


def test_a_fork_with_a_new_rate_changes_what_follows_only(splits, tmp_path):
    cfg = TrainConfig(**HARD)
    straight, summary = train_run(splits, cfg, tmp_path, keep=5)
    fork = fork_point(summary["run_dir"], 2)
    forked, fsummary = train_run(splits, fork.settings(lr=0.01), tmp_path, fork=fork)
    assert untimed(forked.history[:2]) == untimed(straight.history[:2])
    assert forked.history[2]["train_loss"] != straight.history[2]["train_loss"]
    assert forked.history[2]["lr"] == pytest.approx(0.01 * 0.7 ** 3)  # the rate of its last batch
    info = read_run(fsummary["run_dir"])
    assert info.fork["overrides"] == {"lr": [0.05, 0.01]} and info.config["lr"] == 0.01


def test_checkpoints_keep_the_last_n_and_the_best(splits, tmp_path):
    # lr so high the dev accuracy peaks early: the best epoch is not among the last ones
    cfg = TrainConfig(**{**HARD, "epochs": 6, "schedule": "constant"})
    result, summary = train_run(splits, cfg, tmp_path, keep=2)
    run = summary["run_dir"]
    kept = saved_epochs(run)
    assert kept == sorted({5, 6, result.best_epoch})
    ckpt = Checkpoint.load(path_for(run, 6))
    assert ckpt.epoch == 6 and set(ckpt.buffers) == {"v"} and ckpt.counters["steps"] == 6 * 10
    assert {"order", "augment"} <= set(ckpt.rngs) and any(k.startswith("layer") for k in ckpt.rngs)  # dropout
    assert ckpt.settings == {"lr": 0.05, "l2": 0.0, "momentum": 0.9, "batch_size": 32}
    assert (ckpt.best is None) == (result.best_epoch == 6)
    assert not list((tmp_path / run).glob("checkpoints/.*"))  # no temporary file left behind
    _, summary = train_run(splits, cfg.replace(epochs=1), tmp_path, keep=0)
    assert saved_epochs(summary["run_dir"]) == []
    with pytest.raises(RunError, match="no checkpoints"):
        fork_point(summary["run_dir"])
    with pytest.raises(RunError, match=r"no checkpoint of epoch 3 \(kept: "):
        fork_point(run, 3)


def test_a_fork_refuses_another_architecture_or_data(splits, tmp_path):
    _, summary = train_run(splits, TrainConfig(**{**HARD, "epochs": 1}), tmp_path)
    fork = fork_point(summary["run_dir"])
    for change in ({"hidden": (8,)}, {"seed": 4}, {"activation": "tanh"}):
        with pytest.raises(ValueError, match="cannot change in a fork"):
            fork.settings(**change)
    with pytest.raises(CheckpointError, match="another architecture"):
        fork.checkpoint.fits(MLP(TrainConfig(hidden=(8,)).spec()), "dev_acc")


def test_damaged_checkpoints_are_refused_in_one_line(splits, tmp_path):
    _, summary = train_run(splits, TrainConfig(**{**HARD, "epochs": 1}), tmp_path)
    path = path_for(summary["run_dir"], 1)
    path.write_bytes(b"garbage")
    with pytest.raises(RunError, match="not a checkpoint"):
        fork_point(summary["run_dir"], 1)
    np.savez(path, meta=np.array(json.dumps({"format": "something else"})))
    with pytest.raises(RunError, match="not an nn-tui checkpoint"):
        fork_point(summary["run_dir"], 1)


class ChangeAt:
    """A listener that asks for live changes when an epoch ends (applied before the next batch)."""

    def __init__(self, control, at: dict[int, dict]):
        self.control, self.at = control, at

    def __call__(self, event):
        if isinstance(event, EpochEnded) and event.epoch in self.at:
            self.control.change(**self.at[event.epoch])


def test_live_changes_are_recorded_and_the_config_shows_the_settings_in_force(splits, tmp_path):
    control = Control()
    cfg = TrainConfig(**HARD)
    changes = ChangeAt(control, {1: {"lr": 0.02}, 3: {"batch_size": 64, "lr": 0.01}})
    _, summary = train_run(splits, cfg, tmp_path, changes, control, keep=5)
    info = read_run(summary["run_dir"])
    assert info.changes == [{"epoch": 2, "batch": 0, "field": "lr", "old": 0.05, "new": 0.02},
                            {"epoch": 4, "batch": 0, "field": "batch_size", "old": 32, "new": 64},
                            {"epoch": 4, "batch": 0, "field": "lr", "old": 0.02, "new": 0.01}]
    assert info.config["lr"] == 0.01 and info.config["batch_size"] == 64
    assert info.meta["initial_config"]["lr"] == 0.05
    model_meta = json.loads((info.path / "model.json").read_text())
    assert model_meta["config"]["lr"] == 0.01
    # a fork at epoch 2 starts with the settings in force then and inherits the changes before it
    fork = fork_point(info.path, 2)
    assert fork.config.lr == 0.02 and fork.config.batch_size == 32
    assert fork.changes == info.changes[:1]
    _, fsummary = train_run(splits, fork.config, tmp_path, fork=fork)
    assert read_run(fsummary["run_dir"]).changes == info.changes[:1]


def test_undo_a_change_rewinds_to_the_checkpoint_before_it(splits, tmp_path):
    """Undo = fork at the last checkpoint before the change with the settings in force there:
    the same model and curves as if the change had never been made."""
    cfg = TrainConfig(**HARD)
    control = Control()
    clean, clean_summary = train_run(splits, cfg, tmp_path, keep=0)
    bad, summary = train_run(splits, cfg, tmp_path, ChangeAt(control, {2: {"lr": 5.0}}), control)
    fork, change = undo_point(summary["run_dir"])
    assert change == {"epoch": 3, "batch": 0, "field": "lr", "old": 0.05, "new": 5.0}
    assert fork.epoch == 2 and fork.config.lr == 0.05
    undone, usummary = train_run(splits, fork.config, tmp_path, fork=fork)
    assert read_run(usummary["run_dir"]).fork["undoes"] == change
    assert untimed(undone.history) == untimed(clean.history) != untimed(bad.history)
    assert all(np.array_equal(a, b) for a, b in zip(undone.model.params, clean.model.params))
    with pytest.raises(RunError, match="no live change to undo"):
        undo_point(clean_summary["run_dir"])
    # a fork made after the change inherits it; undoing it there goes back to the parent's checkpoint
    _, child = train_run(splits, cfg.replace(lr=5.0), tmp_path, fork=fork_point(summary["run_dir"], 3))
    back, change = undo_point(child["run_dir"])
    assert back.parent == Path(summary["run_dir"]) and back.epoch == 2 and change["new"] == 5.0


def test_a_conv_net_forks_bit_for_bit_too(splits, tmp_path):
    """Checkpoints keep whatever parameters and optimizer buffers a model has: conv layers included."""
    cfg = TrainConfig(**{**HARD, "conv": (4,), "kernel": 3, "hidden": (16,), "epochs": 3})
    straight, summary = train_run(splits, cfg, tmp_path)
    assert len(Checkpoint.load(path_for(summary["run_dir"], 1)).params) == len(straight.model.params) == 6
    forked, _ = train_run(splits, cfg, tmp_path, fork=fork_point(summary["run_dir"], 1))
    assert untimed(forked.history) == untimed(straight.history)
    assert all(np.array_equal(a, b) for a, b in zip(forked.model.params, straight.model.params))
    with pytest.raises(ValueError, match="--conv cannot change in a fork"):
        fork_point(summary["run_dir"], 1).settings(conv=(8,))
