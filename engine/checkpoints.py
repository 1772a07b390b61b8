"""Training checkpoints: everything needed to continue a run exactly, one .npz per epoch.

A checkpoint holds the model's parameters, the optimizer's buffers and counters, the state of
every random generator the run draws from (batch order, augmentation, dropout), the early-stopping
bookkeeping (with the best weights when they are not this epoch's), and the live settings in force.
Arrays only, metadata as JSON inside (never pickle); written atomically.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data.files import Npz
from models import CheckpointError, atomic_write

FORMAT, VERSION = "nn-tui-checkpoint", 1
FOLDER = "checkpoints"
NAME = re.compile(r"^epoch-(\d+)\.npz$")


def generators(model) -> dict[str, np.random.Generator]:
    """The random generators a model's layers own, by name ("layer3.rng"), whatever the layer types."""
    return {f"layer{i}.{name}": value for i, layer in enumerate(model.layers)
            for name, value in vars(layer).items() if isinstance(value, np.random.Generator)}


SCRATCH = ("params", "grads", "tmp", "state", "decay")


def buffers(opt) -> dict[str, list[np.ndarray]]:
    """The optimizer's arrays that carry over between steps (v; m and v; ...), by attribute name."""
    return {k: v for k, v in vars(opt).items() if k not in SCRATCH and isinstance(v, list) and v
            and all(isinstance(a, np.ndarray) for a in v)}


def counters(opt) -> dict[str, int]:
    """The optimizer's step counters (steps, Adam's t)."""
    return {k: v for k, v in vars(opt).items() if isinstance(v, int) and not isinstance(v, bool)}


@dataclass
class Checkpoint:
    """The state at the end of `epoch` (0: before the first batch)."""

    epoch: int
    params: list[np.ndarray]
    buffers: dict[str, list[np.ndarray]]
    counters: dict[str, int]
    rngs: dict[str, dict]  # name -> bit_generator.state
    monitor: dict  # metric, best, best_epoch, bad
    settings: dict  # the live settings in force (lr, l2, momentum, batch_size)
    elapsed: float = 0.0  # training seconds up to this epoch
    best: list[np.ndarray] | None = None  # the monitor's best weights when best_epoch != epoch
    history: list[dict] = field(default_factory=list)  # filled by the caller for a resume

    @classmethod
    def capture(cls, epoch, model, opt, rngs, monitor, settings, elapsed) -> "Checkpoint":
        """References, not copies: write it before the next batch changes them."""
        best = monitor.weights if monitor.weights is not None and monitor.best_epoch != epoch else None
        return cls(epoch, model.params, buffers(opt), counters(opt),
                   {k: g.bit_generator.state for k, g in rngs.items()},
                   {"metric": monitor.metric, "best": monitor.best, "best_epoch": monitor.best_epoch,
                    "bad": monitor.bad},
                   dict(settings), elapsed, best)

    def fits(self, model, metric: str) -> None:
        """Refuse (CheckpointError) a model of another architecture, or early stopping on another metric."""
        params = model.params
        if len(params) != len(self.params) or any(p.shape != q.shape for p, q in zip(params, self.params)):
            have = ", ".join(str(p.shape) for p in self.params)
            raise CheckpointError(f"the checkpoint of epoch {self.epoch} holds parameters {have}: another architecture")
        if metric != self.monitor["metric"]:
            raise CheckpointError(f"--monitor cannot change in a fork (the run watched {self.monitor['metric']})")

    def restore(self, model, opt, rngs, monitor) -> None:
        """Put this state back into a freshly built model, optimizer, generators and monitor.

        Buffers and generators the new run does not have (another optimizer, no augmentation) are skipped;
        a different architecture is refused.
        """
        self.fits(model, monitor.metric)
        model.set_weights(self.params)
        for name, arrays in buffers(opt).items():
            saved = self.buffers.get(name)
            if saved is not None and [a.shape for a in saved] == [a.shape for a in arrays]:
                for a, s in zip(arrays, saved):
                    a[...] = s
        for name in counters(opt):
            if name in self.counters:
                setattr(opt, name, int(self.counters[name]))
        for name, g in rngs.items():
            if name in self.rngs:
                g.bit_generator.state = self.rngs[name]
        m = self.monitor
        monitor.best, monitor.best_epoch, monitor.bad = m["best"], m["best_epoch"], m["bad"]
        if monitor.best_epoch:
            monitor.weights = [np.array(w) for w in (self.best if self.best is not None else self.params)]

    def save(self, path: Path) -> Path:
        arrays = {f"param{i}": p for i, p in enumerate(self.params)}
        arrays.update({f"buf.{k}.{i}": a for k, v in self.buffers.items() for i, a in enumerate(v)})
        arrays.update({f"best{i}": p for i, p in enumerate(self.best or [])})
        meta = {"format": FORMAT, "version": VERSION, "epoch": self.epoch, "counters": self.counters,
                "rngs": self.rngs, "monitor": self.monitor, "settings": self.settings, "elapsed": self.elapsed}
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
        atomic_write(path, buffer.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        path = Path(path)
        try:
            with Npz(path, CheckpointError, "a checkpoint") as z:  # headers checked before each array is read
                arrays = {k: z.array(k) for k in z.names}
            meta = json.loads(str(arrays.pop("meta")))
        except CheckpointError:
            raise
        except (ValueError, KeyError) as e:
            raise CheckpointError(f"{path}: not a readable checkpoint ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise CheckpointError(f"{path}: not an nn-tui checkpoint of version {VERSION}")

        def series(prefix: str) -> list[np.ndarray]:
            out = []
            while f"{prefix}{len(out)}" in arrays:
                out.append(arrays[f"{prefix}{len(out)}"])
            return out

        names = sorted({k.split(".")[1] for k in arrays if k.startswith("buf.")})
        try:
            return cls(int(meta["epoch"]), series("param"), {n: series(f"buf.{n}.") for n in names},
                       dict(meta["counters"]), dict(meta["rngs"]), dict(meta["monitor"]), dict(meta["settings"]),
                       float(meta["elapsed"]), series("best") or None)
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: checkpoint metadata incomplete ({e})") from None


def path_for(run_dir: Path, epoch: int) -> Path:
    return Path(run_dir) / FOLDER / f"epoch-{epoch:04d}.npz"


def saved_epochs(run_dir: Path) -> list[int]:
    """Epochs with a checkpoint in run_dir, ascending."""
    try:
        names = [NAME.match(p.name) for p in (Path(run_dir) / FOLDER).iterdir()]
    except OSError:
        return []
    return sorted(int(m.group(1)) for m in names if m)


def prune(run_dir: Path, keep: int, *also: int) -> list[int]:
    """Delete all but the last `keep` checkpoints and those of the epochs `also`; returns the epochs kept."""
    epochs = saved_epochs(run_dir)
    kept = set(epochs[-keep:] if keep else []) | set(also)
    for e in epochs:
        if e not in kept:
            path_for(run_dir, e).unlink(missing_ok=True)
    return [e for e in epochs if e in kept]
