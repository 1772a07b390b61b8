"""Runs side by side: short texts for run listings and loss / accuracy curves of several runs on one
plotext figure (the `nn-tui compare` chart and the app's Runs screen draw with the same code)."""
from __future__ import annotations

import math

from engine.runs import RunInfo
from engine.search import show

COLORS = ("cyan", "orange", "magenta", "green", "red", "blue", "yellow", "white")
# (dev, train) markers of each run, told apart without colour too; fhd's sextants are missing from many fonts
MARKERS = (("braille", "·"), ("hd", "+"), ("•", "x"), ("o", "*"), ("#", "-"), ("@", "="), ("%", ":"), ("&", "~"))
SAMPLE = {"braille": "⠉⠒", "hd": "▀▄"}
PRIORITY = ("lr", "hidden", "optimizer", "l2", "batch_size", "dropout", "activation", "schedule", "momentum",
            "patience", "epochs")
SHORT = {"hidden": "hidden", "batch_size": "batch", "optimizer": "", "schedule": "", "activation": "",
         "momentum": "momentum", "dropout": "dropout", "patience": "patience", "monitor": "monitor",
         "min_delta": "min-delta",
         "decay_every": "decay every", "decay_rate": "decay", "max_norm": "max-norm", "dev_size": "dev"}
ENDED = {"max-epochs": "max epochs", "early-stopped": "early stop", "stopped": "stopped", "diverged": "diverged",
         "unfinished": "unfinished"}


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def setting(name: str, value) -> str:
    """`lr 0.1`, `hidden 128-64`, `sgd`, `cosine lr` (a choice mostly speaks for itself)."""
    if name == "optimizer" and value == "momentum":
        return "sgd+momentum"
    if name == "schedule":
        return f"{value} lr"
    label = SHORT.get(name, name.replace("_", " "))
    return f"{label} {show(value)}" if label else show(value)


def ordered(changes: dict) -> dict:
    """The most telling settings first (lr, hidden, optimizer, l2, ...), the rest by name."""
    return dict(sorted(changes.items(), key=lambda kv: (PRIORITY.index(kv[0]) if kv[0] in PRIORITY else 99, kv[0])))


def settings_text(changes: dict, limit: int | None = None, sort: bool = False) -> str:
    """`lr 0.1, hidden 128-64, sgd`; `sort` puts the most telling first."""
    items = [setting(k, v) for k, v in (ordered(changes) if sort else changes).items()]
    if limit is not None and len(items) > limit:
        items = items[:limit] + [f"+{len(items) - limit} more"]
    return ", ".join(items) if items else "defaults"


def rich_color(color: str | None) -> str:
    """A plotext colour name as a rich style."""
    return {"orange": "dark_orange", "white": "bright_white"}.get(color, color) if color else ""


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


def int_ticks(last: int, most: int = 8) -> list[int]:
    step = 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if last / step <= most:
            break
    return list(range(0, last + 1, step))


def draw(plt, runs: list[tuple[str, list[dict]]], metric: str, curves: str = "both", color: bool = True,
         title: str | None = None) -> list[tuple[str, list[tuple[str, str]], str | None]]:
    """Overlay `metric` ("loss" or "acc") of several runs, given as (label, history), on plotext `plt`.

    `curves`: "dev", "train" or "both". Each run keeps one colour and its own markers, so the
    curves are told apart without colour too. Returns the legend: for each run (label, [(marker
    sample, "dev" or "train")], colour).
    The legend is not drawn inside the plot, where it would hide the first epochs' curves.
    """
    percent = metric == "acc"
    plt.clear_data()
    plt.title(title or ("accuracy %" if percent else "loss"))
    plt.xlabel("epoch")
    values, legend, last = [], [], 1
    kinds = ("dev", "train") if curves == "both" else (curves,)
    for i, (label, history) in enumerate(runs):
        paint = COLORS[i % len(COLORS)] if color else None
        samples = []
        legend.append((label, samples, paint))
        for kind in kinds:
            points = [(h["epoch"], h.get(f"{kind}_{metric}")) for h in history]
            points = [(e, 100 * v if percent else v) for e, v in points
                      if isinstance(v, (int, float)) and math.isfinite(v)]
            marker = MARKERS[i % len(MARKERS)][kind == "train"]
            samples.append((SAMPLE.get(marker, marker * 2), kind))
            if not points:
                continue
            values += [v for _, v in points]
            last = max(last, points[-1][0])
            xs, ys = [e for e, _ in points], [v for _, v in points]
            style = {"color": paint} if paint else {}
            (plt.scatter if len(xs) == 1 else plt.plot)(xs, ys, marker=marker, **style)
    if values:
        low, high = min(values), max(values)
        if percent:
            pad = max((high - low) * 0.05, 0.2)
            plt.ylim(max(low - pad, 0), min(high + pad, 100))
        else:
            plt.ylim(0, max(high, 1e-3) * 1.05)
    plt.xlim(0, last)
    plt.xticks(int_ticks(last))
    return legend
