"""The Runs screen: every past run (damaged ones too); mark several to overlay their loss and accuracy
curves, or open one in the dashboard."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual_plotext import PlotextPlot

from engine.runs import RunInfo, list_runs

from ..compare import draw, rich_color, short_name
from ..text import change_points, changes_text, differing, labels, lineage, pct, run_cells, run_date, settings_text
from .help import HelpScreen


class CompareChart(PlotextPlot):
    """One metric ("loss" or "acc") of several runs overlaid; `legend` says which curve is which."""

    def __init__(self, metric: str, **kw):
        super().__init__(**kw)
        self.metric = metric
        self.series: list[tuple[str, list[dict]]] = []
        self.legend: list = []

    def show(self, series: list[tuple[str, list[dict]]], marks: list[list[float]] | None = None) -> None:
        self.series = series
        self.legend = draw(self.plt, series, self.metric, "both", color=True, marks=marks)
        self.refresh()


class RunsScreen(ModalScreen[None]):
    """Keys: space marks a run, enter opens it in the dashboard, u clears the marks, r reloads,
    p picture, esc back. Modal (covering the whole window), so only its own keys act."""

    DEFAULT_CSS = """
    RunsScreen { background: $background; }
    #runs-title { height: 1; padding: 0 1; background: $panel; }
    #runs-box { height: 40%; min-height: 5; }
    #runs { height: 1fr; }
    #compare-box { height: 1fr; }
    #compare-charts { height: 1fr; min-height: 8; }
    CompareChart { width: 1fr; height: 1fr; }
    #compare-legend { height: auto; max-height: 8; overflow-y: auto; }
    """
    AUTO_FOCUS = "#runs"
    BINDINGS = [
        Binding("escape", "back", "dashboard"),
        Binding("space", "mark", "mark"),
        Binding("u", "unmark", "clear marks"),
        Binding("r", "reload", "reload"),
        Binding("p", "app.screenshot", "picture", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self):
        super().__init__()
        self.runs: list[RunInfo] = []
        self.marked: list[Path] = []  # in the order they were marked

    def compose(self) -> ComposeResult:
        yield Static(id="runs-title")
        with Vertical(id="runs-box", classes="box"):
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        with Vertical(id="compare-box", classes="box"):
            with Horizontal(id="compare-charts"):
                yield CompareChart("loss", id="compare-loss")
                yield CompareChart("acc", id="compare-acc")
            yield Static(id="compare-legend")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#runs-box").border_title = "runs, newest first  space: mark  enter: open in dashboard"

    def on_screen_resume(self) -> None:
        """Also runs when the screen is first shown. (Filling the table in on_mount too would fill it
        twice before its first render, and textual 8.2.8 then draws every column at its label's width.)"""
        self.load()

    def load(self) -> None:
        root = self.app.session.runs_root
        self.runs = list(reversed(list_runs(root)))
        paths = {r.path for r in self.runs}
        self.marked = [p for p in self.marked if p in paths]
        damaged = sum(r.damaged for r in self.runs)
        title = Text.assemble(("Runs", "bold"), f"  {len(self.runs)} in {root}")
        if damaged:
            title.append(f", {damaged} damaged", style="red")
        self.query_one("#runs-title", Static).update(title)
        self.fill()
        self.compare()

    def fill(self) -> None:
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        for key, label in (("mark", "✓"), ("run", "run"), ("dev", "best dev"), ("test", "test"), ("epochs", "ep"),
                           ("time", "time"), ("ended", "ended"), ("date", "date"), ("settings", "settings")):
            table.add_column(label, key=key)
        for run in self.runs:
            bad = "red" if run.damaged else ""
            mark = str(self.marked.index(run.path) + 1) if run.path in self.marked else ""
            settings = Text(settings_text(run.differences(), sort=True), style="dim")
            if run.fork:
                settings.append(f"  {lineage(run)}", style="cyan")
            if run.changes:
                more = len(run.changes) - 2
                settings.append(f"  changed {changes_text(run.changes[:2], None)}"
                                + (f"; +{more} more (all listed below the charts)" if more > 0 else ""), style="yellow")
            if run.damaged:
                settings = Text("damaged: " + "; ".join(run.problems), style="red")
            name = Text(short_name(run), style=bad)
            if run.summary.get("search_winner"):
                name.append(" ★", style="yellow")
            *numbers, why = run_cells(run)
            table.add_row(Text(mark, style="bold yellow"), name, *numbers, Text(why, style=bad), run_date(run),
                          settings, key=str(run.path))
        if self.runs:
            table.move_cursor(row=min(row, len(self.runs) - 1))
        else:
            self.query_one("#compare-legend", Static).update(
                Text("No runs yet: train one (t on the dashboard) or run a search (x).", style="dim"))

    def current(self) -> RunInfo | None:
        table = self.query_one("#runs", DataTable)
        if not self.runs or table.cursor_row < 0:
            return None
        return self.runs[min(table.cursor_row, len(self.runs) - 1)]

    def chosen(self) -> list[RunInfo]:
        """The marked runs, in the order marked; else the run under the cursor (a preview)."""
        by_path = {r.path: r for r in self.runs}
        marked = [by_path[p] for p in self.marked if p in by_path]
        if marked:
            return marked
        run = self.current()
        return [run] if run is not None else []

    def compare(self) -> None:
        runs = self.chosen()
        if not runs:
            return
        names = [f"{chr(65 + i % 26)} {label}" for i, label in enumerate(labels(runs))]
        series = list(zip(names, [r.history for r in runs]))
        for chart in self.query(CompareChart):
            chart.show(series, [change_points(r) for r in runs])
        legend = Text()
        diffs = differing(runs)
        what = "marked" if self.marked else "under the cursor (space marks runs to compare)"
        legend.append(f"{len(runs)} run{'s' * (len(runs) > 1)} {what}\n", style="dim")
        chart = self.query_one("#compare-loss", CompareChart)
        for (label, samples, paint), run, diff in zip(chart.legend, runs, diffs):
            letter, _, rest = label.partition(" ")
            legend.append(f"{letter} ", style="bold")
            for sample, kind in samples:
                legend.append(sample, style=rich_color(paint))
                legend.append(f" {kind}  ")
            legend.append(f"{settings_text(diff, sort=True) if diff and len(runs) > 1 else short_name(run)}  ")
            legend.append(f"dev {pct(run.dev_acc)}, {run.epochs} epochs"
                          + (" (no epochs recorded)" if not run.history else ""), style="dim")
            if run.fork or run.changes:  # every change, named: the table lists only the first two
                legend.append("  │ " + "; ".join(filter(None, [lineage(run), changes_text(run.changes, None)])),
                              style=rich_color(paint))
            legend.append("\n")
        legend.rstrip()
        self.query_one("#compare-legend", Static).update(legend)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self.marked:
            self.compare()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        run = self.current()
        if run is not None and self.app.session.show_run(run.path):
            self.app.pop_screen()  # back to the dashboard, which shows that run

    def action_mark(self) -> None:
        run = self.current()
        if run is None:
            return
        if run.path in self.marked:
            self.marked.remove(run.path)
        else:
            self.marked.append(run.path)
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row
        self.fill()
        table.move_cursor(row=min(row + 1, len(self.runs) - 1))
        self.compare()

    def action_unmark(self) -> None:
        self.marked.clear()
        self.fill()
        self.compare()

    def action_reload(self) -> None:
        self.load()
        self.notify(f"{len(self.runs)} runs")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.app.BINDINGS))

    def action_back(self) -> None:
        self.app.pop_screen()
