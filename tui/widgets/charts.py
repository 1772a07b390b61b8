"""Loss and accuracy charts: per-batch detail as a line, epoch means as points, x in epochs.

The x axis spans the epochs run so far (growing to the run's maximum), ticks are round numbers, the
best dev epoch is starred, the per-batch line can be smoothed (a debiased exponential moving average,
the raw line faint behind) and the loss drawn on a log scale. The legend is a row of its own above the
plot, never over the curves. Marks (`add_mark`) flag moments such as a live change of a setting.
"""
from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
from rich.text import Text
from textual_plotext import PlotextPlot

RAW, SMOOTH, TRAIN, DEV, BEST, MARK = 240, 250, 6, 3, 2, 5  # 256-colour codes (plotext and rich alike)


def thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """At most `limit` points: averages of equal runs, so the line keeps its shape."""
    if len(xs) <= limit or limit < 2:
        return xs, ys
    edges = np.linspace(0, len(xs), limit + 1).astype(int)
    x, y = np.asarray(xs), np.asarray(ys)
    return ([float(x[a:b].mean()) for a, b in pairwise(edges) if b > a],
            [float(y[a:b].mean()) for a, b in pairwise(edges) if b > a])


def smooth(xs: list[float], ys: list[float], tau: float) -> list[float]:
    """Debiased exponential moving average of ys (n,) over xs (n,), time constant `tau` in x units.

    Points come at uneven x (one every 0.1 s, whatever the speed), so each step decays by
    exp(-dx / tau); dividing by the accumulated weight removes the pull towards 0 at the start
    (for even steps this is Adam's v / (1 - beta^t))."""
    out, num, den, last = [], 0.0, 0.0, None
    for x, y in zip(xs, ys):
        d = math.exp(-(x - last) / tau) if last is not None and tau > 0 else 0.0
        num, den, last = d * num + (1 - d) * y, d * den + (1 - d), x
        out.append(num / den if den > 0 else y)
    return out


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most about `count` ticks over `span`."""
    raw = max(span, 1e-12) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def nice_ticks(low: float, high: float, count: int) -> list[float]:
    """Round ticks inside [low, high], at most about `count` of them (at least the two ends' neighbours)."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    return [round(i * step, 12) for i in range(first, math.floor(high / step + 1e-9) + 1)]


def tick_label(value: float, step: float) -> str:
    """`value` with just the decimals `step` needs: 0.05 0.10 0.15, 96 97 98, 0.5 1.0 1.5."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    return f"{value:.{decimals}f}"


def log_ticks(low: float, high: float, count: int) -> list[float]:
    """Round values (1, 2, 5 per decade, thinned to about `count`) inside [low, high], both > 0."""
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        values = [m * 10 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
                  for m in mantissas if low <= m * 10 ** e <= high]
        if len(values) <= count:
            break
    if len(values) > count:  # many decades: every k-th one
        values = values[::math.ceil(len(values) / count)]
    return values or [low, high]


def log_label(value: float) -> str:
    return f"{value:g}" if value >= 1e-4 else f"{value:.0e}"


def epoch_axis(last: float) -> int:
    """Right end of the x axis: the epochs run so far (`last`, a float), rounded up, at least 1."""
    return max(1, math.ceil(last - 1e-9))


class MetricChart(PlotextPlot):
    """One metric over training: batch running means, train per epoch, dev per epoch, marks.

    Feed it with `reset(epochs)`, `add_batch(progress, value)`, `add_epoch(epoch, train, dev)` and
    `add_mark(progress, label)`; `redraw()` (UI thread) plots what changed. Progress is in epochs as a
    float (2.5 = halfway through epoch 3); `progress(epoch, batch, batches)` gives it from batch numbers.
    """

    DEFAULT_CSS = "MetricChart { padding-right: 2; }"  # the next chart's y labels never touch this one

    def __init__(self, title: str, percent: bool = False, **kw):
        super().__init__(**kw)
        self.title, self.percent = title, percent
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self.train: list[tuple[int, float]] = []
        self.dev: list[tuple[int, float]] = []
        self.marks: list[tuple[float, str]] = []
        self.best_at: int | None = None  # the epoch to star, when the app knows it
        self.epochs = 1
        self.smoothing = True  # the batch line drawn smoothed, the raw one faint behind
        self.log_scale = False  # log-scale y (the loss chart)
        self.dirty = True

    @staticmethod
    def progress(epoch: int, batch: int, batches: int) -> float:
        """Epochs done after `batch` of `batches` in (1-based) `epoch`, the x of `add_batch` and `add_mark`."""
        return epoch - 1 + batch / max(batches, 1)

    def reset(self, epochs: int) -> None:
        for series in (self.batch_x, self.batch_y, self.train, self.dev, self.marks):
            series.clear()
        self.best_at = None
        self.epochs = epochs
        self.dirty = True

    def add_batch(self, x: float, y: float) -> None:
        self.batch_x.append(x)
        self.batch_y.append(100 * y if self.percent else y)
        self.dirty = True

    def add_epoch(self, epoch: int, train: float, dev: float) -> None:
        scale = 100 if self.percent else 1
        self.train.append((epoch, scale * train))
        self.dev.append((epoch, scale * dev))
        self.dirty = True

    def add_mark(self, x: float, label: str) -> None:
        """A vertical mark at progress `x` (epochs, float), e.g. a live change of the learning rate."""
        self.marks.append((x, label))
        self.dirty = True

    def toggle_smoothing(self) -> bool:
        self.smoothing, self.dirty = not self.smoothing, True
        return self.smoothing

    def toggle_log(self) -> bool:
        self.log_scale, self.dirty = not self.log_scale, True
        return self.log_scale

    @property
    def best(self) -> tuple[int, float] | None:
        """(epoch, value) of the starred dev point: `best_at` when the app set it (the monitored metric's
        best epoch, whose weights are kept), else this chart's own best (highest accuracy, lowest loss;
        the first of ties)."""
        if not self.dev:
            return None
        if self.best_at is not None:
            return next(((e, v) for e, v in self.dev if e == self.best_at), None)
        if self.percent:
            return max(self.dev, key=lambda p: (p[1], -p[0]))
        return min(self.dev, key=lambda p: (p[1], p[0]))

    def last_x(self) -> float:
        return max([0.0, *(e for e, _ in self.dev), *self.batch_x[-1:]])

    def y_values(self) -> list[float]:
        """Values that decide the y range: skip the first tenth of batch points, whose early values
        squash the rest, but keep every epoch point."""
        settled = self.batch_y[len(self.batch_y) // 10:] if len(self.batch_y) >= 20 else self.batch_y
        return settled + [v for _, v in self.train + self.dev]

    def y_range(self) -> tuple[float, float] | None:
        values = self.y_values()
        if not values:
            return None
        high = float(max(values))
        if self.percent:
            settled = self.batch_y[len(self.batch_y) // 10:] if len(self.batch_y) >= 20 else self.batch_y
            floor = float(np.percentile(settled, 5)) if settled else 100.0
            low = min([floor, *(v for _, v in self.train + self.dev)])
            pad = max((min(high, 100) - low) * 0.08, 0.2)
            return max(low - pad, 0), min(high + pad, 100)
        if self.log_scale:
            positive = [v for v in values if v > 0]
            low = min(positive) if positive else 1e-3
            return low / 1.2, max(high, low * 1.01) * 1.2
        return 0.0, max(high, 1e-3) * 1.05

    # -- drawing -----------------------------------------------------------

    def make_legend(self, width: int) -> Text:
        """The legend row: the title, then one entry per series drawn, shortened to fit `width`."""
        best = self.best
        entries = []
        if self.batch_x:
            entries.append(("━" if self.smoothing else "⠤", ("smoothed" if self.smoothing else "batches", "batch"),
                            SMOOTH if self.smoothing else RAW))
        if self.train:
            entries.append(("●", ("train", "train"), TRAIN))
        if self.dev:
            entries.append(("◆", ("dev", "dev"), DEV))
        if best:
            entries.append(("★", (f"best @{best[0]}", f"{best[0]}"), BEST))
        if self.marks:
            entries.append(("┊", ("change" if len(self.marks) == 1 else "changes", ""), MARK))
        title = self.title + (" (log)" if self.log_scale else "")
        # full words two spaces apart, then one space, then short words (batches first), then marks only
        order = [0, len(entries) - 1, *range(len(entries) - 2, 0, -1)] if len(entries) > 1 else [0] * len(entries)
        forms = [("  ", set()), (" ", set())] + [(" ", set(order[:k])) for k in range(1, len(order) + 1)]
        for gap, short in [*forms, ("", None)]:
            text = Text(title, style="bold", no_wrap=True, overflow="crop")
            for i, (mark, words, color) in enumerate(entries):
                text.append(gap or " ")
                text.append(mark, style=f"color({color})")
                word = "" if short is None else words[1 if i in short else 0]
                if word:
                    text.append(("" if i in (short or ()) else " ") + word, style="dim")
            if text.cell_len <= width:
                return text
        return text

    def redraw(self) -> None:
        """Draw again if anything changed (the plot is built at render, for the size it has then)."""
        if self.dirty:
            self.dirty = False
            self.refresh()

    def plot(self, width: int, height: int) -> None:
        """Put the series on plotext's figure for a plot area of width x height cells."""
        plt = self.plt
        plt.clear_data()
        plt.xaxes(True, False)
        plt.yaxes(True, False)
        plt.xlabel("")
        plt.title("")
        right = epoch_axis(self.last_x())
        plt.xlim(0, right)
        step = max(1, int(nice_step(right, max(2, (width - 8) // 7))))
        plt.xticks(list(range(0, right + 1, step)))
        # y: round ticks, at most one every other row of the plot area
        rows = height - 2  # minus the x axis line and its labels
        span = self.y_range()
        log = self.log_scale and not self.percent
        tf = (lambda v: math.log10(max(v, 1e-12))) if log else (lambda v: v)
        if span:
            low, high = span
            plt.ylim(tf(low), tf(high))
            count = max(2, (rows + 1) // 2)
            if log:
                ticks = log_ticks(low, high, count)
                plt.yticks([tf(t) for t in ticks], [log_label(t) for t in ticks])
            else:
                ticks = nice_ticks(low, high, count)
                step_y = ticks[1] - ticks[0] if len(ticks) > 1 else nice_step(high - low, count)
                plt.yticks(ticks, [tick_label(t, step_y) for t in ticks])
        for x, _ in self.marks:
            if x <= right:
                plt.vline(x, color=MARK)
        if self.batch_x:
            xs, ys = self.batch_x, self.batch_y
            rx, ry = thin(xs, ys, 2 * width)
            if self.smoothing:  # the raw line faint, the smoothed one over it
                plt.plot(rx, [tf(v) for v in ry], marker="braille", color=RAW)
                sx, sy = thin(xs, smooth(xs, ys, tau=2 * right / width), 2 * width)  # tau: about two columns
                plt.plot(sx, [tf(v) for v in sy], marker="braille", color=SMOOTH)
            else:
                plt.plot(rx, [tf(v) for v in ry], marker="braille", color=SMOOTH)
        if self.dev:  # a line through the dev points, then the points themselves
            plt.plot([e for e, _ in self.dev], [tf(v) for _, v in self.dev], marker="braille", color=DEV)
            plt.scatter([e for e, _ in self.dev], [tf(v) for _, v in self.dev], marker="◆", color=DEV)
        if self.train:
            plt.scatter([e for e, _ in self.train], [tf(v) for _, v in self.train], marker="●", color=TRAIN)
        if self.best:
            plt.scatter([self.best[0]], [tf(self.best[1])], marker="★", color=BEST)

    def render(self) -> Text:
        """The legend row, then the plot one row shorter than the widget."""
        width, height = self.size.width, max(self.size.height - 1, 1)
        self.plot(max(width, 10), height)
        self._plot.plotsize(width, height)
        self._plot._set_size(width, height)  # as PlotextPlot.render does (textual-plotext issue 5)
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        out = self.make_legend(width)
        out.append("\n")
        out.append_text(Text.from_ansi(self._plot.build()))
        out.rstrip()
        return out
