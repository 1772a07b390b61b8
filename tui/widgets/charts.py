"""Loss and accuracy charts: per-batch detail as a line, epoch means as points, x in epochs."""
from __future__ import annotations

import math

import numpy as np
from textual_plotext import PlotextPlot


def thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """At most `limit` points: averages of equal runs, so the line keeps its shape."""
    if len(xs) <= limit or limit < 2:
        return xs, ys
    edges = np.linspace(0, len(xs), limit + 1).astype(int)
    x, y = np.asarray(xs), np.asarray(ys)
    return ([float(x[a:b].mean()) for a, b in zip(edges[:-1], edges[1:]) if b > a],
            [float(y[a:b].mean()) for a, b in zip(edges[:-1], edges[1:]) if b > a])


class MetricChart(PlotextPlot):
    """One metric over training: batch running means, train per epoch, dev per epoch, and compared runs."""

    def __init__(self, title: str, percent: bool = False, **kw):
        super().__init__(**kw)
        self.title, self.percent = title, percent
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self.train: list[tuple[int, float]] = []
        self.dev: list[tuple[int, float]] = []
        self.epochs = 1
        self.dirty = True

    def reset(self, epochs: int) -> None:
        self.batch_x.clear()
        self.batch_y.clear()
        self.train.clear()
        self.dev.clear()
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

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        plt = self.plt
        plt.clear_data()
        width = max(self.size.width, 20)
        last = max([self.epochs, *(e for e, _ in self.dev), *(self.batch_x[-1:] or [0])])
        plt.xlim(0, max(last, 1))
        step = max(1, math.ceil(last / 6))
        plt.xticks(list(range(0, int(last) + 1, step)))
        plt.xlabel("epoch")
        # the legend takes three rows at the top left, where a run's first epochs are drawn: only on tall
        # charts; short ones say it in the title
        legend = self.size.height >= 14
        long_title = f"{self.title}  ⠤ batches ● train ◆ dev"
        plt.title(self.title if legend or len(long_title) > width - 8 else long_title)
        if self.batch_x:
            xs, ys = thin(self.batch_x, self.batch_y, 2 * width)
            plt.plot(xs, ys, marker="braille", color="gray", label="batches" if legend else None)
        if self.dev:  # a line through the dev points, then the points themselves
            plt.plot([e for e, _ in self.dev], [v for _, v in self.dev], marker="braille", color="orange")
            plt.scatter([e for e, _ in self.dev], [v for _, v in self.dev], marker="◆", color="orange",
                        label="dev" if legend else None)
        if self.train:
            plt.scatter([e for e, _ in self.train], [v for _, v in self.train], marker="●", color="cyan",
                        label="train" if legend else None)
        # y range from the settled part: skip the first tenth of batch points, whose early values squash the rest
        settled = self.batch_y[len(self.batch_y) // 10:] if len(self.batch_y) >= 20 else self.batch_y
        values = settled + [v for _, v in self.train + self.dev]
        if values:
            high = float(max(values))
            if self.percent:
                floor = float(np.percentile(settled, 5)) if settled else 100.0
                low = min([floor, *(v for _, v in self.train + self.dev)])
                pad = max((min(high, 100) - low) * 0.08, 0.2)
                plt.ylim(max(low - pad, 0), min(high + pad, 100))
            else:
                plt.ylim(0, max(high, 1e-3) * 1.05)
        self.refresh()
