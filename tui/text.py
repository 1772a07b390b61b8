"""Formatting shared by the command line and the app: one notation for everything both show.

Percentages, durations, speeds, setting values (layers always joined by '-', as in 784-512-256-10, so a
comma only ever separates grid candidates), settings summaries, why a run ended, leaderboard and run rows.
Plain strings only: callers add the styles.
"""
from __future__ import annotations

import math

from engine.config import show_value
from engine.runs import RunInfo

__all__ = ["pct", "duration", "clock", "speed", "count", "show_value", "setting", "ordered", "settings_text",
           "ended", "differing", "labels", "board_cells", "run_cells", "run_date", "change_text", "changes_text",
           "lineage", "change_points", "threads", "class_label", "patience_note"]

PRIORITY = ("lr", "hidden", "conv", "kernel", "optimizer", "l2", "batch_size", "dropout", "activation", "schedule",
            "momentum", "patience", "epochs")
SHORT = {"hidden": "hidden", "batch_size": "batch", "optimizer": "", "schedule": "", "activation": "",
         "momentum": "momentum", "dropout": "dropout", "patience": "patience", "monitor": "monitor",
         "min_delta": "min-delta", "decay_every": "decay every", "decay_rate": "decay", "max_norm": "max-norm",
         "dev_size": "dev"}
ENDED = {"max-epochs": "max epochs", "early-stopped": "early stop", "stopped": "stopped", "diverged": "diverged",
         "unfinished": "unfinished"}


def pct(value: float | None) -> str:
    """0.9814 -> 98.14%; None or nan -> -."""
    return "-" if value is None or value != value else f"{100 * value:.2f}%"


def class_label(classes, c: int) -> str:
    """What label `c` stands for: `7` for digits, `1 Trouser` where the dataset names its classes."""
    name = classes[c] if classes is not None and c < len(classes) else str(c)
    return name if name == str(c) else f"{c} {name}"


def patience_note(epochs: int, patience: int) -> str | None:
    """Why early stopping cannot trigger, when it cannot: it stops after `patience` epochs without
    improvement, so at epoch patience + 1 at the soonest."""
    if 0 < patience and epochs <= patience:
        return (f"patience {patience} with {epochs} epoch{'s' if epochs != 1 else ''}: early stopping can never "
                f"trigger (its soonest is epoch {patience + 1}); lower --patience or raise --epochs")
    return None


def duration(seconds: float | None) -> str:
    """How long a run took: 4.8s, 1:18, 1:02:03; None or nan -> -."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def clock(seconds: float) -> str:
    """Time elapsed, as a ticking clock: 0:05, 12:34, 1:02:03."""
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def speed(samples_per_sec: float) -> str:
    """61300 -> 61.3k/s, 850 -> 850/s."""
    return f"{samples_per_sec / 1000:.1f}k/s" if samples_per_sec >= 1000 else f"{samples_per_sec:.0f}/s"


THREAD_MODES = {"auto": "chosen by timing", "config": "as set", "pinned": "as pinned", "none": "no BLAS found"}


def threads(n: int, mode: str = "") -> str:
    """BLAS threads in use: `1 thread`, `2 threads (chosen by timing)`, `1 thread (OPENBLAS_NUM_THREADS)`."""
    if mode == "env":
        from engine.threads import explicit_env

        why = explicit_env() or "environment"
    else:
        why = THREAD_MODES.get(mode, "")
    text = "? threads" if not n else f"{n} thread" + "s" * (n != 1)
    return f"{text} ({why})" if why else text


def count(n: int) -> str:
    """55000 -> 55k, 4200 -> 4,200: short enough for the title bar at 80 columns."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def setting(name: str, value) -> str:
    """`lr 0.1`, `hidden 128-64`, `sgd`, `cosine lr` (a choice mostly speaks for itself)."""
    if name == "optimizer" and value == "momentum":
        return "sgd+momentum"
    if name == "schedule":
        return f"{value} lr"
    label = SHORT.get(name, name.replace("_", " "))
    return f"{label} {show_value(value)}" if label else show_value(value)


def ordered(changes: dict) -> dict:
    """The most telling settings first (lr, hidden, optimizer, l2, ...), the rest by name."""
    return dict(sorted(changes.items(), key=lambda kv: (PRIORITY.index(kv[0]) if kv[0] in PRIORITY else 99, kv[0])))


def settings_text(changes: dict, limit: int | None = None, sort: bool = False) -> str:
    """`lr 0.1, hidden 128-64, sgd`; `sort` puts the most telling first."""
    items = [setting(k, v) for k, v in (ordered(changes) if sort else changes).items()]
    if limit is not None and len(items) > limit:
        items = items[:limit] + [f"+{len(items) - limit} more"]
    return ", ".join(items) if items else "defaults"


def ended(run: RunInfo) -> str:
    """Why a run ended, in a word or two; `damaged` when more than the summary is missing or broken."""
    if any(not p.startswith("no summary.json") for p in run.problems):
        return "damaged"
    text = ENDED.get(run.stop, run.stop)
    if run.stop == "early-stopped" and run.summary.get("best_epoch"):
        text += f" (best {run.summary['best_epoch']})"
    return text


def differing(runs: list[RunInfo]) -> list[dict]:
    """For each run, the settings in which the runs differ from one another (most telling first)."""
    keys = sorted({k for r in runs for k in r.config}, key=lambda k: (PRIORITY.index(k) if k in PRIORITY else 99, k))
    varied = [k for k in keys if len({repr(r.config.get(k)) for r in runs}) > 1]
    return [{k: r.config.get(k) for k in varied if k in r.config} for r in runs]


def labels(runs: list[RunInfo], limit: int = 3) -> list[str]:
    """Short legend labels: the settings that tell the runs apart, else their names."""
    diffs = differing(runs)
    out = [settings_text(d, limit) if d else "" for d in diffs]
    if len(set(out)) < len(out) or not all(out):
        out = [r.path.name[-24:] for r in runs]
    if len(set(out)) < len(out):
        out = [f"{i + 1}: {o}" for i, o in enumerate(out)]
    return out


def board_cells(row: dict, names: list[str]) -> list[str]:
    """A leaderboard row: rank, trial, each searched setting, dev acc, dev loss, best/epochs, time, ended."""
    loss, stop = row.get("dev_loss"), row.get("stop", "")
    return [str(row["rank"]), str(row["trial"]), *("" if row.get(n) is None else show_value(row[n]) for n in names),
            pct(row["dev_acc"]), f"{loss:.4f}" if loss == loss and loss is not None else "-",
            f"{row['best_epoch']}/{row['epochs']}", duration(row["seconds"]), ENDED.get(stop, stop)]


def run_cells(run: RunInfo) -> list[str]:
    """A run listing's numbers: best dev accuracy, test accuracy, epochs, time, why it ended."""
    return [pct(run.dev_acc), pct(run.test_acc), str(run.epochs), duration(run.seconds), ended(run)]


def run_date(run: RunInfo) -> str:
    """22 Nov 02:44 (the run's name has the year); ? when unknown."""
    return run.started.strftime("%d %b %H:%M") if run.started else "?"


def change_text(change: dict) -> str:
    """`lr 0.1 -> 5 at epoch 3 batch 12` (after its 12th batch; batch 0: as the epoch began)."""
    name = SHORT.get(change.get("field", ""), str(change.get("field", "")).replace("_", " ")) or change.get("field")
    old, new = (show_value(change.get(k)) for k in ("old", "new"))
    return f"{name} {old} -> {new} at epoch {change.get('epoch', '?')} batch {change.get('batch', 0)}"


def changes_text(changes: list[dict], limit: int | None = 4) -> str:
    """Live changes in order, `; `-separated (the first `limit`, then how many more)."""
    items = [change_text(c) for c in changes]
    if limit is not None and len(items) > limit:
        items = items[:limit] + [f"+{len(items) - limit} more"]
    return "; ".join(items)


def lineage(run: RunInfo) -> str:
    """`fork of NAME at epoch 2 (lr 0.1 -> 0.01)`, or "" for a run started from scratch."""
    fork = run.fork
    if not fork:
        return ""
    overrides = {k: v for k, v in (fork.get("overrides") or {}).items() if isinstance(v, list) and len(v) == 2}
    changed = ", ".join(f"{SHORT.get(k, k.replace('_', ' ')) or k} {show_value(a)} -> {show_value(b)}"
                        for k, (a, b) in overrides.items())
    parent = str(fork.get("parent", "?")).rstrip("/").rsplit("/", 1)[-1]
    undone = f", undoing {change_text(fork['undoes'])}" if isinstance(fork.get("undoes"), dict) else ""
    return f"fork of {parent} at epoch {fork['epoch']}" + (f" ({changed})" if changed else "") + undone


def change_points(run: RunInfo) -> list[float]:
    """Where a run's fork and live changes fall on an epoch axis (2.5: halfway through epoch 3), for chart marks."""
    points = [float(run.fork["epoch"])] if run.fork else []
    n = (run.meta.get("sizes") or {}).get("train") if isinstance(run.meta.get("sizes"), dict) else None
    batch = (run.meta.get("initial_config") or run.config).get("batch_size", 128)
    for c in run.changes:
        epoch, done = c.get("epoch"), c.get("batch", 0)
        if not isinstance(epoch, int):
            continue
        fraction = min(done * batch / n, 1.0) if isinstance(n, int) and n > 0 and isinstance(done, int) else 0.0
        points.append(epoch - 1 + fraction)
        if c.get("field") == "batch_size" and isinstance(c.get("new"), int):
            batch = c["new"]
    return points
