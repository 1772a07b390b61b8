"""Run records: one directory per run with config.json, metrics.jsonl, model.npz (+ .json), summary.json."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import models
from data.errors import UserError
from data.files import clean_temp, dumps
from models import MLP, atomic_write

from .checkpoints import Checkpoint, CheckpointError, path_for, prune, saved_epochs
from .config import FIELDS, ConfigError, TrainConfig
from .events import EpochEnded, Recording, SettingsChanged
from .metrics import Evaluation, per_class


def runs_dir() -> Path:
    """$NN_TUI_RUNS_DIR, else `runs` in the user's data directory."""
    if os.environ.get("NN_TUI_RUNS_DIR"):
        return Path(os.environ["NN_TUI_RUNS_DIR"])
    import platformdirs

    return Path(platformdirs.user_data_dir("nn-tui")) / "runs"


def write_json(path: Path, value: dict) -> None:
    atomic_write(path, (dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode())


def new_run_dir(root: Path, cfg: TrainConfig, label: str = "", name: str | None = None) -> Path:
    """A fresh directory named by time and architecture, e.g. 20261122-141503-784-512-256-10 (or `name`)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return unique_dir(root, name or f"{stamp}-{cfg.spec()}" + (f"-{label}" if label else ""))


def unique_dir(root: Path, name: str) -> Path:
    """root/name, or root/name-2, -3...: created atomically, so two runs started at once never share one."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path, k = root / name, 1
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            k += 1
            path = root / f"{name}-{k}"


def model_meta(data_name: str, source: str, cfg: TrainConfig, metrics: dict, **extra) -> dict:
    """The metadata saved with every model: the data (a name to show, a source to load it again),
    the settings, the metrics, and where it came from."""
    return {"data": data_name, "source": source or data_name, "config": cfg.to_dict(), "metrics": metrics,
            **extra, "saved": datetime.now().isoformat(timespec="seconds")}


KEEP = 5  # checkpoints a run keeps by default: the last KEEP epochs, and the best one


@dataclass
class Fork:
    """Where a fork starts: a run's checkpoint, the settings in force there, its history and live changes up to it."""

    parent: Path
    checkpoint: Checkpoint
    config: TrainConfig
    history: list[dict]
    changes: list[dict]
    undoes: dict | None = None  # the live change this fork undoes (undo_point)

    @property
    def epoch(self) -> int:
        return self.checkpoint.epoch

    def settings(self, **overrides) -> TrainConfig:
        """The parent's settings at the fork epoch with `overrides`; the data and the architecture stay."""
        fixed = [k for k in FIXED_IN_FORK if k in overrides and overrides[k] != getattr(self.config, k)]
        if fixed:
            raise ConfigError(f"--{fixed[0].replace('_', '-')} cannot change in a fork "
                              f"(a fork keeps its parent's data and architecture)")
        return self.config.replace(**overrides)

    def record(self, cfg: TrainConfig) -> dict:
        """What config.json says about the fork: parent, epoch, and each setting it changed (old, new)."""
        old, new = self.config.to_dict(), cfg.to_dict()
        return {"parent": str(self.parent), "epoch": self.epoch,
                "overrides": {k: [old[k], new[k]] for k in new if old[k] != new[k]},
                **({"undoes": self.undoes} if self.undoes else {})}


FIXED_IN_FORK = ("data", "conv", "kernel", "hidden", "activation", "init", "seed", "dev_size")


def fork_point(run: Path | str, epoch: int | None = None) -> Fork:
    """The fork of `run` at `epoch` (default: its last checkpoint); RunError when there is none."""
    run = Path(run)
    epochs = saved_epochs(run)
    if not epochs:
        raise RunError(f"{run.name} has no checkpoints (trained with --keep-checkpoints 0, or by an older nn-tui)")
    epoch = epochs[-1] if epoch is None else epoch
    if epoch not in epochs:
        raise RunError(f"{run.name} has no checkpoint of epoch {epoch} (kept: {', '.join(map(str, epochs))})")
    info = read_run(run)
    try:
        checkpoint = Checkpoint.load(path_for(run, epoch))
        cfg = TrainConfig.from_dict({**info.config, **checkpoint.settings})
    except CheckpointError as e:
        raise RunError(str(e)) from None
    except (TypeError, ValueError) as e:
        raise RunError(f"{run.name}: config.json cannot be used ({e})") from None
    history = [h for h in info.history if h["epoch"] <= epoch]
    if [h["epoch"] for h in history] != list(range(1, epoch + 1)):
        raise RunError(f"{run.name}: metrics.jsonl lacks epochs up to {epoch}")
    checkpoint.history = history
    return Fork(run, checkpoint, cfg, history, [c for c in info.changes if c.get("epoch", 0) <= epoch])


def undo_point(run: Path | str) -> tuple[Fork, dict]:
    """Where undoing `run`'s last live change goes back to: the last checkpoint before it, with the settings
    in force then (in the parent's directory when the change came with a fork); (fork, the change undone)."""
    run = Path(run)
    info = read_run(run)
    if not info.changes:
        raise RunError(f"{run.name} has no live change to undo")
    change = info.changes[-1]
    epoch = int(change["epoch"]) - 1  # its checkpoint is written at the end of that epoch, before the change
    source = run
    if info.fork and epoch < info.fork["epoch"]:  # a change the fork inherited: back in the parent
        source = Path(info.fork["parent"])
    point = fork_point(source, epoch)
    point.undoes = change
    return point, change


class Recorder:
    """Listens to a training run and keeps its directory up to date.

    The best model so far is saved at every improving epoch, so a crash or Ctrl+C
    still leaves it on disk; `finish` writes the final model and summary.json.
    config.json holds the settings in force and every live change ({epoch, batch, field, old, new});
    `checkpoint` writes the training state and keeps the last `keep` epochs, the best, and the last before
    the latest live change (for undo); keep=0 writes none.
    """

    def __init__(self, path: Path, cfg: TrainConfig, model: MLP, data_name: str, extra: dict | None = None,
                 source: str = "", keep: int = KEEP, fork: Fork | None = None):
        self.path, self.cfg, self.model, self.data_name, self.keep = Path(path), cfg, model, data_name, keep
        self.source = source or data_name  # what loads the same data again (an absolute path for files)
        self.started = time.time()
        self.initial = cfg.to_dict()
        self.changes = list(fork.changes) if fork else []
        self.config = {"config": cfg.to_dict(), "spec": str(model.spec), "data": data_name, "source": self.source,
                       "started": datetime.now().isoformat(timespec="seconds"), **(extra or {}),
                       **({"fork": fork.record(cfg)} if fork else {}), "changes": self.changes}
        write_json(self.path / "config.json", self.config)
        if fork:
            atomic_write(self.path / "metrics.jsonl", "".join(dumps(h) + "\n" for h in fork.history).encode())

    @property
    def model_path(self) -> Path:
        return self.path / "model.npz"

    def __call__(self, event) -> None:
        if isinstance(event, EpochEnded):
            with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as f:  # a line per epoch, closed at once
                f.write(dumps(event.record()) + "\n")
            if event.improved:
                self.save_model({"epoch": event.epoch, "dev_accuracy": event.dev_acc, "dev_loss": event.dev_loss})
        elif isinstance(event, SettingsChanged):
            self.changes.extend(event.entries())
            self.cfg = self.cfg.replace(**event.changes)
            self.config.update(config=self.cfg.to_dict(), initial_config=self.initial)
            write_json(self.path / "config.json", self.config)

    def checkpoint(self, state: Checkpoint) -> None:
        """Write the training state of an epoch (the trainer's `checkpoint` hook) and prune the old ones."""
        if self.keep:
            state.save(path_for(self.path, state.epoch))
            before = self.changes[-1]["epoch"] - 1 if self.changes else state.epoch  # what undo rewinds to
            prune(self.path, self.keep, state.monitor["best_epoch"], before)

    def save_model(self, metrics: dict) -> Path:
        meta = model_meta(self.data_name, self.source, self.cfg, metrics, run_dir=str(self.path))
        return models.save(self.model_path, self.model, meta)

    def finish(self, result, test: Evaluation | None = None) -> dict:
        """Save the best model and summary.json; returns the summary."""
        summary = {**result.summary(), "data": self.data_name, "spec": str(self.model.spec),
                   "run_dir": str(self.path), "wall_seconds": time.time() - self.started}
        if test is not None:
            summary.update(test_accuracy=test.accuracy, test_loss=test.loss,
                           test_confusion=test.confusion.tolist(),
                           test_recall=per_class(test.confusion)["recall"].round(4).tolist())
        if result.best_epoch:
            summary["model_path"] = str(self.save_model(
                {k: summary[k] for k in ("dev_accuracy", "dev_loss", "test_accuracy", "test_loss", "best_epoch")
                 if k in summary}))
        else:
            summary["model_path"] = None
        write_json(self.path / "summary.json", summary)
        return summary


def train_run(splits, cfg: TrainConfig, root: Path | None = None, listener=None, control=None,
              test: bool = True, label: str = "", report_every: float = 0.1, name: str | None = None,
              keep: int = KEEP, fork: Fork | None = None):
    """Build the model, train it with a Recorder, evaluate the test split once; (result, summary).

    `splits` is a data.Splits. With test=False the test split is never touched (search uses
    that: only the winner meets the test set). With `fork` the run starts from that checkpoint
    (cfg: usually fork.settings(...)), carries its history and records its parent.
    """
    from .metrics import evaluate
    from .trainer import train

    model = MLP(cfg.spec())
    if fork:
        try:
            fork.checkpoint.fits(model, cfg.monitor)
        except CheckpointError as e:
            raise RunError(str(e)) from None
    recorder = Recorder(new_run_dir(root or runs_dir(), cfg, label or ("fork" if fork else ""), name), cfg, model,
                        splits.name, {"sizes": {k: len(d) for k, d in splits.items()}}, source=splits.source,
                        keep=keep, fork=fork)

    def both(event):
        recorder(event)
        if listener:
            listener(event)

    both(Recording(str(recorder.path)))

    result = train(model, splits.train.x, splits.train.y, splits.dev.x, splits.dev.y, cfg, both, control,
                   report_every=report_every, checkpoint=recorder.checkpoint, start=fork.checkpoint if fork else None)
    evaluation = evaluate(model, splits.test.x, splits.test.y) if test and result.best_epoch else None
    return result, recorder.finish(result, evaluation)


# -- reading runs back ---------------------------------------------------------


class RunError(UserError):
    """A run that cannot be found or read, with a one-line reason."""


def read_history(path: Path) -> tuple[list[dict], str | None]:
    """The epoch records of metrics.jsonl, and what was wrong with the file (None when nothing).

    A run that was killed mid-write leaves a cut last line: it is skipped, the rest kept.
    """
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], "no metrics.jsonl"
    except OSError as e:
        return [], f"metrics.jsonl unreadable ({e.strerror or e})"
    lines = text.split("\n")
    records, bad = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("epoch"), int):
            records.append(record)
        else:
            bad.append(number)
    if not bad:
        return records, None
    if bad == [len(lines)] or bad == [len(lines) - 1] and not lines[-1].strip():
        return records, "metrics.jsonl: last line cut short"
    return records, f"metrics.jsonl: {len(bad)} unreadable line{'s' * (len(bad) > 1)} (first: {bad[0]})"


def load_history(run: Path | str) -> list[dict]:
    """The per-epoch records (epoch, train_loss, train_acc, dev_loss, dev_acc, lr, ...) of a run, for charts."""
    return read_history(Path(run) / "metrics.jsonl")[0]


def _read_json(path: Path) -> tuple[dict, str | None]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, f"no {path.name}"
    except (OSError, ValueError) as e:
        return {}, f"{path.name} is not valid JSON" if isinstance(e, ValueError) else f"{path.name} unreadable"
    if not isinstance(value, dict):
        return {}, f"{path.name} is not a JSON object"
    return value, None


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass
class RunInfo:
    """What a run directory holds, read without ever raising: `problems` says what is missing or broken."""

    path: Path
    name: str  # relative to the runs directory, e.g. search-20261122-141503/20261122-141510-784-64-10-t01
    config: dict = field(default_factory=dict)  # the TrainConfig settings (may be empty)
    meta: dict = field(default_factory=dict)  # the rest of config.json (spec, data, started, sizes)
    summary: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    search: str | None = None  # the search directory this run is a trial of

    @property
    def damaged(self) -> bool:
        return bool(self.problems)

    @property
    def started(self) -> datetime | None:
        try:
            when = datetime.fromisoformat(str(self.meta["started"]))
            # one with a UTC offset is shown in local time, so aware and naive times sort together
            return when.astimezone().replace(tzinfo=None) if when.tzinfo else when
        except (KeyError, ValueError, OverflowError, OSError):
            try:
                return datetime.fromtimestamp(self.path.stat().st_mtime)
            except OSError:
                return None

    @property
    def dev_acc(self) -> float | None:
        """Dev accuracy at the best epoch (from the summary, else the best epoch seen)."""
        value = _number(self.summary.get("dev_accuracy"))
        if value is not None and value == value:
            return value
        seen = [_number(h.get("dev_acc")) for h in self.history]
        seen = [v for v in seen if v is not None and v == v]
        return max(seen) if seen else None

    @property
    def test_acc(self) -> float | None:
        return _number(self.summary.get("test_accuracy"))

    @property
    def epochs(self) -> int:
        value = _number(self.summary.get("epochs"))
        return int(value) if value is not None else len(self.history)

    @property
    def seconds(self) -> float | None:
        value = _number(self.summary.get("seconds"))
        if value is None and self.history:
            value = _number(self.history[-1].get("elapsed"))
        return value

    @property
    def stop(self) -> str:
        """max-epochs | early-stopped | stopped | diverged | unfinished."""
        return str(self.summary.get("stop") or "unfinished")

    @property
    def reason(self) -> str:
        return str(self.summary.get("stop_reason") or ("; ".join(self.problems) if self.problems else ""))

    @property
    def spec(self) -> str:
        return str(self.meta.get("spec") or self.summary.get("spec") or "")

    @property
    def model_path(self) -> Path | None:
        path = self.path / "model.npz"
        return path if path.is_file() else None

    @property
    def changes(self) -> list[dict]:
        """Live changes, oldest first: {epoch, batch, field, old, new}; a fork's include its parent's before it."""
        value = self.meta.get("changes")
        return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []

    @property
    def fork(self) -> dict | None:
        """{parent: path, epoch, overrides: {setting: [old, new]}} for a fork, else None."""
        value = self.meta.get("fork")
        return value if isinstance(value, dict) and isinstance(value.get("epoch"), int) else None

    def train_config(self) -> TrainConfig | None:
        try:
            return TrainConfig.from_dict(self.config)
        except (TypeError, ValueError):
            return None

    def differences(self, base: dict | None = None) -> dict:
        """Settings that differ from `base` (default: the defaults)."""
        base = base if base is not None else TrainConfig().to_dict()
        return {k: v for k, v in self.config.items() if k in base and base[k] != v}


def read_run(path: Path, root: Path | None = None, search: str | None = None) -> RunInfo:
    """Everything a run directory says about its run; never raises."""
    path = Path(path)
    try:
        name = str(path.relative_to(root)) if root else path.name
    except ValueError:
        name = path.name
    info = RunInfo(path, name, search=search)
    clean_temp(path)  # what a killed save left behind (.model.npz.*.tmp)
    config, problem = _read_json(path / "config.json")
    if problem:
        info.problems.append(problem)
    settings = config.get("config")
    if isinstance(settings, dict):
        info.config = settings
        try:
            TrainConfig.from_dict(settings)
        except (TypeError, ValueError) as e:
            info.problems.append(f"config.json: {e}")
    elif not problem:
        info.problems.append("config.json has no settings")
    info.meta = {k: v for k, v in config.items() if k != "config"}
    info.history, history_problem = read_history(path / "metrics.jsonl")
    info.summary, problem = _read_json(path / "summary.json")
    if history_problem and not (history_problem == "no metrics.jsonl" and info.summary.get("epochs") == 0):
        info.problems.append(history_problem)  # a run stopped before its first epoch ended has none, rightly
    if problem:
        info.problems.append(problem + (" (still running, or interrupted)" if problem.startswith("no ") else ""))
    model = path / "model.npz"
    expected = bool(info.summary.get("model_path")) or any(h.get("best_epoch") == h.get("epoch") for h in info.history)
    if model.exists():
        import zipfile

        if not zipfile.is_zipfile(model):
            info.problems.append("model.npz is damaged (not a zip archive)")
    elif expected:
        info.problems.append("model.npz is missing")
    return info


def is_search_dir(path: Path) -> bool:
    return (path / "search.json").exists() or (path / "leaderboard.json").exists()


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


NOT_RUNS = ("saved", "screenshots")  # folders of the runs directory that the app fills (w, p): never runs


def list_runs(root: Path | str | None = None) -> list[RunInfo]:
    """Every run under the runs directory (search trials included), oldest first; damaged ones too."""
    root = Path(root) if root else runs_dir()
    runs = []
    for child in _subdirs(root):
        if child.name in NOT_RUNS:
            continue
        if is_search_dir(child):
            runs.extend(read_run(trial, root, search=child.name) for trial in _subdirs(child))
        else:
            runs.append(read_run(child, root))
    return sorted(runs, key=lambda r: (r.started or datetime.min, r.name))


def resolve_run(text: str, root: Path | str | None = None) -> Path:
    """A run directory from a path, a name under the runs directory, or an unambiguous part of a name."""
    root = Path(root) if root else runs_dir()
    for candidate in (Path(text).expanduser(), root / text):
        if candidate.is_dir():
            if not any((candidate / f).exists() for f in ("config.json", "metrics.jsonl", "summary.json")):
                raise RunError(f"{candidate}: not a run directory (no config.json, metrics.jsonl or summary.json)")
            return candidate
    names = [(r.name, r.path) for r in list_runs(root)]
    for test in (lambda n: Path(n).name == text, lambda n: n.endswith(text), lambda n: text in n):
        found = [p for n, p in names if test(n)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            shown = ", ".join(p.name for p in found[:4]) + (", ..." if len(found) > 4 else "")
            raise RunError(f"{text!r} matches {len(found)} runs ({shown}): give more of the name")
    raise RunError(f"no run {text!r} in {root} (see `nn-tui runs`)")


def model_data_settings(meta: dict, where: str) -> tuple[float, int]:
    """(dev_size, seed) a saved model's data was split with, checked (a tampered file gets one line)."""
    cfg = meta.get("config") or {}
    dev_size, seed = cfg.get("dev_size", 5000), cfg.get("seed", 0)
    try:
        FIELDS["dev_size"].check(dev_size)
        FIELDS["seed"].check(seed)
    except ConfigError as e:
        raise ConfigError(f"{where}: metadata config: {e}") from None
    return dev_size, int(seed)


def check_fits(model: MLP, dataset, where: str) -> None:
    """SpecError unless `model` reads `dataset`'s digits (784 pixels) and knows all its classes."""
    from models import SpecError

    pixels = dataset.images[0].size if len(dataset) else 784
    if model.spec.inputs != pixels:
        raise SpecError(f"{where}: the {model.spec} network takes {model.spec.inputs} inputs, "
                        f"these digits have {pixels} pixels")
    if dataset.labels is not None and len(dataset) and int(dataset.labels.max()) >= model.spec.classes:
        raise SpecError(f"{where}: the {model.spec} network knows {model.spec.classes} classes, "
                        f"these digits are labelled up to {int(dataset.labels.max())}")
