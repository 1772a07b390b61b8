"""Robustness and doubt: accuracy on test digits damaged by noise, rotation and shift, and a confidence
threshold below which the network says "not sure", with how many it still answers and how well."""
from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker
from textual_plotext import PlotextPlot

from engine.inspect import DAMAGE, THRESHOLDS, Curve, robustness, thresholds

from .explore import ExploreScreen

COLORS = {"noise": "cyan", "rotate": "orange", "shift": "magenta"}  # plotext's names
STYLES = {"noise": "cyan", "rotate": "dark_orange", "shift": "magenta"}  # rich's names for the same
LEVEL = "a level: noise sd 0.1, 10° turn, 1 px shift"


class RobustnessScreen(ExploreScreen):
    """Takes the model, the test Dataset (the first `limit` digits are damaged) and the dev Dataset
    (for the threshold table). The curves are measured in a thread; the screen stays responsive."""

    DEFAULT_CSS = """
    #rob-left { width: 1fr; }
    #rob-right { width: 36; }
    #rob-chart { height: 1fr; min-height: 8; }
    #rob-table { height: 5; }
    #rob-thresholds { height: auto; }
    #rob-note { height: 1fr; padding-right: 1; }
    """
    BINDINGS = [
        Binding("up,minus", "threshold(-1)", "lower t"),
        Binding("down,plus,equals_sign", "threshold(1)", "higher t"),
    ]

    def __init__(self, model, test, dev, limit: int = 2000, seed: int = 0):
        super().__init__()
        self.model, self.seed = model, seed
        self.test = test if len(test) <= limit else test.subset(range(limit))
        self.dev_size = len(dev)
        self.table = thresholds(model.predict_proba(dev.x), dev.y)
        self.chosen = THRESHOLDS.index(0.9) if 0.9 in THRESHOLDS else len(self.table) // 2
        self.curves: list[Curve] | None = None

    @property
    def noun(self) -> str:
        """What the images are: digits, clothing images, characters (the session's dataset says)."""
        splits = getattr(getattr(self.app, "session", None), "splits", None)
        return getattr(splits, "noun", "digits")

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="rob-left", classes="box"):
                yield PlotextPlot(id="rob-chart")
                yield Static(Text(f"Measuring on {len(self.test):,} test {self.noun}...", style="dim"), id="rob-table")
            with Vertical(id="rob-right", classes="box"):
                yield Static(id="rob-thresholds")
                yield Static(id="rob-note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#rob-left").border_title = f"accuracy on {len(self.test):,} damaged test {self.noun}"
        self.query_one("#rob-right").border_title = "doubt: answer only when sure"
        self.show_thresholds()
        self.measure()

    @work(thread=True, exclusive=True, exit_on_error=False, group="robustness")
    def measure(self) -> list[Curve]:
        """In a thread: one strength at a time, so closing the screen stops it soon."""
        worker, curves = get_current_worker(), []
        x, y = self.test.x, self.test.y
        for kind, (strengths, unit) in DAMAGE.items():
            acc = []
            for s in strengths:
                if worker.is_cancelled:
                    return curves
                acc.append(robustness(self.model, x, y, {kind: (s,)}, self.seed)[0].accuracy[0])
            curves.append(Curve(kind, unit, strengths, tuple(acc)))
        return curves

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "robustness":
            return
        if event.state == WorkerState.SUCCESS:
            self.curves = event.worker.result
            self.show_curves()
        elif event.state == WorkerState.ERROR:
            self.query_one("#rob-table", Static).update(Text(f"Could not measure: {event.worker.error}", style="red"))

    def show_curves(self) -> None:
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("accuracy % by damage level")
        levels = list(range(len(self.curves[0].strengths))) if self.curves else []
        for c in self.curves:
            plt.plot(levels, [100 * a for a in c.accuracy], marker="braille", color=COLORS[c.kind], label=c.kind)
        plt.ylim(0, 100)
        plt.xticks(levels)
        plt.xlabel("level")
        plot.refresh()
        table = Text(no_wrap=True, overflow="crop")
        table.append("level " + "".join(f"{k:>5}" for k in levels) + "\n", style="dim")
        for c in self.curves:
            table.append(f"{c.kind:<6}", style=STYLES[c.kind])
            table.append("".join(f"{100 * a:5.1f}" for a in c.accuracy) + "\n")
        table.append(LEVEL, style="dim")
        self.query_one("#rob-table", Static).update(table)

    def show_thresholds(self) -> None:
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"on {self.dev_size:,} dev {self.noun}\n", style="dim")
        text.append("     t  answers   right\n", style="bold")
        for k, row in enumerate(self.table):
            acc = "      -" if row.accuracy is None else f"{100 * row.accuracy:6.2f}%"
            line = f"{'▶' if k == self.chosen else ' '} {row.t:5.3f}  {100 * row.coverage:5.1f}%  {acc}\n"
            text.append(line, style="bold reverse" if k == self.chosen else "")
        row, base = self.table[self.chosen], self.table[0]
        unsure = row.total - row.answered
        self.query_one("#rob-thresholds", Static).update(text)
        note = Text(f"At t = {row.t:g} the network answers {row.answered:,} ({100 * row.coverage:.1f}%) and says "
                    f"\"not sure\" on {unsure:,}. ")
        if row.accuracy is not None:
            note.append(f"{100 * row.accuracy:.2f}% of its answers are right", style="bold")
            note.append(f" ({100 * base.accuracy:.2f}% with no threshold)." if base.accuracy is not None else ".")
        note.append("  ↑↓ move t", style="dim")
        self.query_one("#rob-note", Static).update(note)

    def action_threshold(self, step: int) -> None:
        self.chosen = min(max(self.chosen + step, 0), len(self.table) - 1)
        self.show_thresholds()
