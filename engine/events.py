"""What the training loop tells its listeners: small immutable records of plain values.

Arrays in events are copies marked read-only, so a listener on another thread can keep them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Recording:
    """A run's directory exists: its best model so far will be at run_dir/model.npz."""

    run_dir: str


@dataclass(frozen=True)
class RunStarted:
    config: dict
    spec: str
    n_train: int
    n_dev: int
    batches_per_epoch: int
    start_epoch: int = 0  # a resumed or forked run starts after this epoch
    history: tuple = ()  # the epoch records it carries from its parent


@dataclass(frozen=True)
class BatchEnded:
    """Running means over the batches since the last BatchEnded."""

    epoch: int
    batch: int
    batches: int  # in this epoch, at the current batch size
    progress: float  # epochs done, as a float: 2.5 = halfway through epoch 3
    loss: float
    accuracy: float
    lr: float
    samples_per_sec: float
    threads: int = 0  # BLAS threads in use


@dataclass(frozen=True)
class EarlyStopping:
    monitor: str
    best: float
    best_epoch: int
    bad_epochs: int
    patience: int

    @property
    def text(self) -> str:
        if self.best_epoch == 0:
            return f"{self.monitor}: no epoch yet"
        patience = f"{self.bad_epochs}/{self.patience}" if self.patience else "off"
        return f"best {self.monitor} {self.best:.4f} at epoch {self.best_epoch}, patience {patience}"


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    dev_loss: float
    dev_acc: float
    lr: float
    seconds: float
    elapsed: float
    samples_per_sec: float
    early: EarlyStopping
    improved: bool
    confusion: np.ndarray = field(repr=False)  # dev, (10, 10) int64
    dev_proba: np.ndarray = field(repr=False)  # (n_dev, 10) float32
    health: dict = field(default_factory=dict)  # engine.health.Probe.record(): grad_norm_1, dead_1, loss_trend...
    threads: int = 0  # BLAS threads in use at the epoch's end

    def record(self) -> dict:
        """The JSON-friendly line written to metrics.jsonl."""
        return {"epoch": self.epoch, "train_loss": self.train_loss, "train_acc": self.train_acc,
                "dev_loss": self.dev_loss, "dev_acc": self.dev_acc, "lr": self.lr, "seconds": self.seconds,
                "elapsed": self.elapsed, "samples_per_sec": self.samples_per_sec,
                "best_epoch": self.early.best_epoch, "bad_epochs": self.early.bad_epochs, "threads": self.threads,
                **self.health}


@dataclass(frozen=True)
class SettingsChanged:
    """Live changes the loop applied, and where (after `batch` batches of `epoch`); `previous`: the values replaced."""

    changes: dict
    epoch: int
    batch: int
    previous: dict = field(default_factory=dict)

    def entries(self) -> list[dict]:
        """One record per setting: {epoch, batch, field, old, new}, as run files keep them."""
        return [{"epoch": self.epoch, "batch": self.batch, "field": k, "old": self.previous.get(k), "new": v}
                for k, v in self.changes.items()]


@dataclass(frozen=True)
class ThreadsChosen:
    """The thread chooser measured each BLAS thread count and kept `threads` (engine.threads.Chooser)."""

    threads: int
    timings: dict  # {threads: seconds per sample}
    switched: bool  # False for the first choice and for a check that kept the count
    epoch: int
    batch: int


@dataclass(frozen=True)
class Paused:
    epoch: int
    batch: int


@dataclass(frozen=True)
class Resumed:
    epoch: int
    batch: int


@dataclass(frozen=True)
class Finished:
    result: "object"  # engine.trainer.Result
