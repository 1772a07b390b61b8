"""Run records: one directory per run with config.json, metrics.jsonl, model.npz (+ .json), summary.json."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

import models
from models import MLP, atomic_write

from .config import TrainConfig
from .events import EpochEnded, Finished
from .metrics import Evaluation, per_class


def runs_dir() -> Path:
    """$NN_TUI_RUNS_DIR, else `runs` in the user's data directory."""
    if os.environ.get("NN_TUI_RUNS_DIR"):
        return Path(os.environ["NN_TUI_RUNS_DIR"])
    import platformdirs

    return Path(platformdirs.user_data_dir("nn-tui")) / "runs"


def write_json(path: Path, value: dict) -> None:
    atomic_write(path, (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode())


def new_run_dir(root: Path, cfg: TrainConfig, label: str = "") -> Path:
    """A fresh directory named by time and architecture, e.g. 20261122-141503-784-512-256-10."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{cfg.spec()}" + (f"-{label}" if label else "")
    path, k = root / name, 1
    while path.exists():
        k += 1
        path = root / f"{name}-{k}"
    path.mkdir(parents=True)
    return path


class Recorder:
    """Listens to a training run and keeps its directory up to date.

    The best model so far is saved at every improving epoch, so a crash or Ctrl+C
    still leaves it on disk; `finish` writes the final model and summary.json.
    """

    def __init__(self, path: Path, cfg: TrainConfig, model: MLP, data_name: str, extra: dict | None = None):
        self.path, self.cfg, self.model, self.data_name = Path(path), cfg, model, data_name
        self.started = time.time()
        self.config = {"config": cfg.to_dict(), "spec": str(model.spec), "data": data_name,
                       "started": datetime.now().isoformat(timespec="seconds"), **(extra or {})}
        write_json(self.path / "config.json", self.config)
        self.metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8")
        self.history: list[dict] = []

    @property
    def model_path(self) -> Path:
        return self.path / "model.npz"

    def __call__(self, event) -> None:
        if isinstance(event, EpochEnded):
            record = event.record()
            self.history.append(record)
            self.metrics.write(json.dumps(record) + "\n")
            self.metrics.flush()
            if event.improved:
                self.save_model({"epoch": event.epoch, "dev_accuracy": event.dev_acc, "dev_loss": event.dev_loss})
        elif isinstance(event, Finished):
            self.metrics.close()

    def save_model(self, metrics: dict) -> Path:
        meta = {"data": self.data_name, "config": self.cfg.to_dict(), "metrics": metrics,
                "run_dir": str(self.path), "saved": datetime.now().isoformat(timespec="seconds")}
        return models.save(self.model_path, self.model, meta)

    def finish(self, result, test: Evaluation | None = None) -> dict:
        """Save the best model and summary.json; returns the summary."""
        if not self.metrics.closed:
            self.metrics.close()
        summary = {**result.summary(), "data": self.data_name, "spec": str(self.model.spec),
                   "run_dir": str(self.path), "wall_seconds": time.time() - self.started}
        if test is not None:
            summary.update(test_accuracy=test.accuracy, test_loss=test.loss,
                           test_confusion=test.confusion.tolist(),
                           test_recall=per_class(test.confusion)["recall"].round(4).tolist())
        if result.best_epoch:
            summary["model_path"] = str(self.save_model(
                {k: summary[k] for k in ("dev_accuracy", "dev_loss", "test_accuracy", "test_loss", "best_epoch") if k in summary}))
        else:
            summary["model_path"] = None
        write_json(self.path / "summary.json", summary)
        return summary


def train_run(splits, cfg: TrainConfig, root: Path | None = None, listener=None, control=None,
              test: bool = True, label: str = "", report_every: float = 0.1):
    """Build the model, train it with a Recorder, evaluate the test split once; (result, summary).

    `splits` is a data.Splits. With test=False the test split is never touched (search uses
    that: only the winner meets the test set).
    """
    from .metrics import evaluate
    from .trainer import train

    model = MLP(cfg.spec())
    recorder = Recorder(new_run_dir(root or runs_dir(), cfg, label), cfg, model, splits.name,
                        {"sizes": {k: len(d) for k, d in splits.items()}})

    def both(event):
        recorder(event)
        if listener:
            listener(event)

    result = train(model, splits.train.x, splits.train.y, splits.dev.x, splits.dev.y, cfg, both, control,
                   report_every=report_every)
    evaluation = evaluate(model, splits.test.x, splits.test.y) if test and result.best_epoch else None
    return result, recorder.finish(result, evaluation)
