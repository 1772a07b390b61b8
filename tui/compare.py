"""Loss / accuracy curves of several runs on one plotext figure (the `nn-tui compare` chart and the app's Runs
screen draw with the same code)."""
from __future__ import annotations

import math

COLORS = ("cyan", "orange", "magenta", "green", "red", "blue", "yellow", "white")
# (dev, train) markers of each run, told apart without colour too; fhd's sextants are missing from many fonts
MARKERS = (("braille", "·"), ("hd", "+"), ("•", "x"), ("o", "*"), ("#", "-"), ("@", "="), ("%", ":"), ("&", "~"))
SAMPLE = {"braille": "⠉⠒", "hd": "▀▄"}


def short_name(run) -> str:
    """A run's name with what tells it apart first: a search trial (`search-20261202-143135/t03-784-32-10`)
    reads `t03 search-20261202-143135`, so trials of one search differ where a column is cut."""
    search, _, trial = run.name.partition("/")
    if trial and search.startswith("search-"):
        return f"{trial.split('-')[0]} {search}"
    return run.name


def rich_color(color: str | None) -> str:
    """A plotext colour name as a rich style."""
    return {"orange": "dark_orange", "white": "bright_white"}.get(color, color) if color else ""


def int_ticks(last: int, most: int = 8) -> list[int]:
    step = 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if last / step <= most:
            break
    return list(range(0, last + 1, step))


def draw(plt, runs: list[tuple[str, list[dict]]], metric: str, curves: str = "both", color: bool = True,
         title: str | None = None, marks: list[list[float]] | None = None,
         ) -> list[tuple[str, list[tuple[str, str]], str | None]]:
    """Overlay `metric` ("loss" or "acc") of several runs, given as (label, history), on plotext `plt`.

    `curves`: "dev", "train" or "both". Each run keeps one colour and its own markers, so the
    curves are told apart without colour too. Returns the legend: for each run (label, [(marker
    sample, "dev" or "train")], colour).
    `marks[i]`: epochs where run i was forked or changed live, drawn as vertical lines in its colour.
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
        for x in (marks[i] if marks and i < len(marks) else ()):
            plt.vline(x, paint)
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
