"""`nn-tui runs`, `compare` and `plot`: looking back at past runs, headless."""
from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from data.files import dumps

from ..compare import draw, rich_color, short_name
from ..text import change_points, changes_text, differing, labels, lineage, run_cells, run_date, settings_text
from .args import whole
from .console import console, die, use_color


def register(sub) -> None:
    r = sub.add_parser("runs", help="list past runs: settings, dev and test accuracy, epochs, time, why they ended",
                       description="List the runs in the runs directory, newest first (search trials included), "
                                   "one line a run. Damaged or unfinished run directories are listed with what is "
                                   "wrong. --json lists every run, oldest first.")
    r.add_argument("--out", "--runs-dir", dest="runs_dir", metavar="DIR",
                   help="runs directory (default: $NN_TUI_RUNS_DIR or the user data directory)")
    r.add_argument("--last", type=whole("--last", 1), default=30, metavar="N",
                   help="show the newest N runs (default 30)")
    r.add_argument("--all", action="store_true", help="show every run")
    r.add_argument("--json", action="store_true", help="print the list as JSON")
    r.set_defaults(run=run_runs)

    c = sub.add_parser("compare", help="table and chart of several runs' loss and accuracy curves",
                       description="Compare runs: a table of what differs and how they did, then their loss and "
                                   "accuracy per epoch overlaid in one chart each. RUN is a run directory, a name "
                                   "under the runs directory, or a unique part of one (see `nn-tui runs`).")
    c.add_argument("names", nargs="+", metavar="RUN", help="runs to compare")
    c.add_argument("--out", "--runs-dir", dest="runs_dir", metavar="DIR", help="runs directory to find names in")
    c.add_argument("--curves", choices=("both", "dev", "train"), default="both", help="which curves (default both)")
    c.add_argument("--width", type=whole("--width", 20, 10000), help="chart width in columns (default: the terminal's)")
    c.add_argument("--height", type=whole("--height", 4, 1000), default=16,
                   help="height of each chart in rows (default 16)")
    c.set_defaults(run=run_compare)

    pl = sub.add_parser("plot", help="save a run's accuracy and loss curves as a PNG (needs the plot extra)",
                        description="Write the accuracy (left) and loss (right) curves of one or more runs to a PNG "
                                    "with matplotlib, from the optional extra: pip install 'nn-tui[plot]'.")
    pl.add_argument("names", nargs="+", metavar="RUN", help="run directory, name, or unique part of a name")
    pl.add_argument("--out", dest="png", default="training_metrics.png", metavar="FILE",
                    help="image file (default training_metrics.png)")
    pl.add_argument("--runs-dir", dest="runs_dir", metavar="DIR", help="runs directory to find names in")
    pl.set_defaults(run=run_plot)


def root_of(args) -> Path:
    from engine.runs import runs_dir

    given = getattr(args, "runs_dir", None) or getattr(args, "out", None)
    return Path(given) if given else runs_dir()


def run_cell(run, settings: dict) -> Text:
    """The run's name (a ★ for a search winner), then its date and settings, dim, on the next line."""
    text = Text(run.name, style="bold red" if run.damaged else "bold")
    if run.summary.get("search_winner"):
        text.append(" ★", style="yellow")
    text.append(f"\n{run_date(run)}  ", style="dim")
    text.append(settings_text(settings, sort=True), style="dim")
    if run.fork:
        text.append("\n" + lineage(run), style="cyan")
    if run.changes:
        text.append("\nchanged " + changes_text(run.changes), style="yellow")
    if run.damaged:
        text.append("\ndamaged: " + "; ".join(run.problems), style="red")
    return text


def runs_table(runs, settings: list[dict], title: str, letters: bool = False) -> Table:
    table = Table(box=None, padding=(0, 1), header_style="bold", title=title or None, title_justify="left",
                  pad_edge=False)
    if letters:
        table.add_column("", no_wrap=True)
    table.add_column("run · date · settings", ratio=1, overflow="fold", min_width=24)
    table.add_column("dev", justify="right", no_wrap=True)
    table.add_column("test", justify="right", no_wrap=True)
    table.add_column("ep", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("ended", max_width=11, overflow="fold")
    for i, (run, diff) in enumerate(zip(runs, settings)):
        *numbers, why = run_cells(run)
        cells = [run_cell(run, diff), *numbers, Text(why, style="red" if run.damaged or run.stop == "diverged" else "")]
        table.add_row(*([chr(65 + i % 26)] if letters else []), *cells)
        if i < len(runs) - 1:
            table.add_row()
    return table


def run_runs(args) -> int:
    from engine.runs import list_runs

    root = root_of(args)
    con = console()
    runs = list_runs(root)
    if args.json:
        print(dumps([{"name": r.name, "path": str(r.path), "started": r.started.isoformat() if r.started else None,
                           "settings": r.differences(), "dev_accuracy": r.dev_acc, "test_accuracy": r.test_acc,
                           "epochs": r.epochs, "seconds": r.seconds, "stop": r.stop, "damaged": r.damaged,
                           "problems": r.problems, "fork": r.fork, "changes": r.changes} for r in runs],
                          default=str))
        return 0
    if not runs:
        con.print(f"no runs in {root} yet: `nn-tui train` or `nn-tui search` make some", soft_wrap=True)
        return 0
    shown = list(reversed(runs if args.all or args.last <= 0 else runs[-args.last:]))  # newest first
    damaged = sum(r.damaged for r in runs)
    title = f"{len(runs)} runs in {root}, newest first" + (f", {damaged} damaged" if damaged else "")
    if len(shown) < len(runs):
        title += f" (newest {len(shown)}; --all for every one)"
    con.print(title, soft_wrap=True)
    table, cut = list_table(shown, con.width)
    con.print(table)
    for run in shown:
        if run.damaged:
            con.print(Text(f"{short_name(run)} damaged:", style="red"))
            for problem in run.problems:
                con.print(Text(f"  {problem}", style="red"))
        for line in filter(None, (lineage(run), run.changes and "changed " + changes_text(run.changes, None))):
            con.print(Text(f"{short_name(run)}: {line}", style="cyan" if run.fork else "yellow"), soft_wrap=True)
    con.print("settings: those that differ from the defaults" + (", cut (…) to fit: a wider terminal or --json "
                                                              "shows them whole" if cut else "")
              + ". dev: best dev accuracy; ep: epochs run. Compare runs with `nn-tui compare RUN RUN`.",
              style="dim")
    return 0


def list_table(runs, width: int) -> tuple[Table, bool]:
    """One line a run: name, (date when there is room), dev, test, epochs, time, why it ended, settings (the rest
    of the width; whether any were cut)."""
    dated = width >= 110
    heads = ["run", *(["date"] if dated else []), "dev", "test", "ep", "time", "ended"]
    rows = []
    for run in runs:
        *numbers, why = run_cells(run)
        settings = "damaged (below)" if run.damaged else settings_text(run.differences(), sort=True)
        rows.append([Text(short_name(run), style="bold red" if run.damaged else ""),
                     *([Text(run_date(run))] if dated else []), *map(Text, numbers),
                     Text(why, style="red" if run.damaged or run.stop == "diverged" else ""),
                     Text(settings, style="dim")])
    widths = [max([len(h)] + [r[i].cell_len for r in rows]) for i, h in enumerate(heads)]
    room = max(width - sum(w + 2 for w in widths), 8)  # two spaces between columns
    cut = any(r[-1].cell_len > room for r in rows)
    table = Table(box=None, padding=(0, 1), header_style="bold", pad_edge=False)
    for head, w in zip(heads, widths):
        table.add_column(head, justify="left" if head in ("run", "date", "ended") else "right", no_wrap=True,
                         min_width=w)
    table.add_column("settings", no_wrap=True, overflow="ellipsis", max_width=room)
    for row in rows:
        table.add_row(*row)
    return table, cut


# -- compare ----------------------------------------------------------------

def resolve_all(names: list[str], root: Path):
    """RunInfo of each named run; RunError when one cannot be found."""
    from engine.runs import read_run, resolve_run

    runs = []
    for name in names:
        path = resolve_run(name, root)
        runs.append(read_run(path, root if root in path.resolve().parents or root in path.parents else None))
    return runs


def compare_text(runs, width: int, height: int, curves: str, color: bool) -> tuple[str, list]:
    """The two charts, loss then accuracy, as text (ANSI colours when `color`), and their legend."""
    import plotext as plt

    series = list(zip([f"{chr(65 + i % 26)} {label}" for i, label in enumerate(labels(runs))],
                      [r.history for r in runs]))
    out, legend = [], []
    for metric in ("loss", "acc"):
        plt.clear_figure()
        plt.plotsize(width, height)
        if not color:
            plt.theme("clear")
        legend = draw(plt, series, metric, curves, color, marks=[change_points(r) for r in runs])
        text = plt.build()
        out.append(text if color else plt.uncolorize(text))
    plt.clear_figure()
    return "\n".join(out), legend


def legend_text(legend, color: bool) -> Text:
    """One line per run: its letter, a sample of each of its curves, what sets it apart."""
    text = Text()
    for label, samples, paint in legend:
        letter, _, rest = label.partition(" ")
        text.append(f"{letter} ", style="bold")
        for sample, kind in samples:
            text.append(sample, style=rich_color(paint) if color else "")
            text.append(f" {kind}  ")
        text.append(rest + "\n")
    text.rstrip()
    return text


def run_compare(args) -> int:
    root = root_of(args)
    con = console()
    runs = resolve_all(args.names, root)  # RunError: one line from the command line
    if len(runs) > 26:
        return die("compare at most 26 runs at a time")
    diffs = differing(runs)
    con.print(runs_table(runs, diffs, f"{len(runs)} runs; settings: those that differ between them", letters=True))
    empty = [r.name for r in runs if not r.history]
    if empty:
        con.print(Text(f"no epochs recorded: {', '.join(empty)}", style="yellow"))
    if len(empty) == len(runs):
        return 1
    width = args.width or min(con.width, 120)
    color = use_color(con)
    text, legend = compare_text(runs, max(width, 40), max(args.height, 8), args.curves, color)
    con.print(Text.from_ansi(text) if color else Text(text), crop=False, overflow="ignore", no_wrap=True)
    con.print(legend_text(legend, color))
    if any(change_points(r) for r in runs):
        con.print("│ where a run was forked or changed live (in its colour)", style="dim")
    return 0


# -- plot -------------------------------------------------------------------

PLOT_HINT = "plotting to an image needs matplotlib: pip install 'nn-tui[plot]'"


def run_plot(args) -> int:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return die(PLOT_HINT)
    root = root_of(args)
    runs = resolve_all(args.names, root)
    if not any(r.history for r in runs):
        return die(f"no epochs recorded in {', '.join(r.name for r in runs)}: nothing to plot")
    names = labels(runs) if len(runs) > 1 else [""]
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, (run, name) in enumerate(zip(runs, names)):
        color = f"C{i % 10}"
        epochs = [h["epoch"] for h in run.history]
        for kind, style in (("train", "--"), ("dev", "-")):
            label = f"{name} {kind}".strip()
            acc_ax.plot(epochs, [100 * h.get(f"{kind}_acc", float("nan")) for h in run.history], style, color=color,
                        label=label, marker="o" if len(epochs) < 30 else None, markersize=3)
            loss_ax.plot(epochs, [h.get(f"{kind}_loss", float("nan")) for h in run.history], style, color=color,
                         label=label, marker="o" if len(epochs) < 30 else None, markersize=3)
    for ax, title, ylabel in ((acc_ax, "accuracy", "accuracy (%)"), (loss_ax, "loss", "cross-entropy loss")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(runs[0].name if len(runs) == 1 else f"{len(runs)} runs")
    fig.tight_layout()
    out = Path(args.png).expanduser()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120)
    except OSError as e:
        return die(f"cannot write {out}: {e.strerror or e}")
    finally:
        plt.close(fig)
    console().print(f"saved {out}", soft_wrap=True)
    return 0
