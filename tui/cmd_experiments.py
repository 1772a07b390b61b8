"""`nn-tui search`, `runs`, `compare` and `plot`: hyperparameter search and looking back at runs, headless."""
from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import fields
from pathlib import Path

from rich.table import Table
from rich.text import Text

from engine import TrainConfig
from engine.runs import RunError

from .compare import differing, draw, duration, ended, labels, rich_color, settings_text
from .console import console, die, load_data, pct
from .options import add_train_options

SEARCH_EPOCHS = 20  # search's default: enough epochs for early stopping to decide


def register(sub) -> None:
    p = sub.add_parser(
        "search", help="hyperparameter search: every combination (or N random), ranked on dev",
        description="Train every combination of the settings given as comma lists (e.g. --hidden 64,128,256 "
                    "--l2 0,1e-4,1e-3), or --trials N random ones, each with early stopping. Trials are ranked "
                    "on the dev set; only the winner is then evaluated on the test set, once. The leaderboard "
                    "(CSV and JSON), every trial's run and the winner's model are saved in a search directory. "
                    f"Settings given once are fixed for every trial; --epochs defaults to {SEARCH_EPOCHS} here. "
                    "Ctrl+C stops the search after the current batch and still picks a winner.")
    add_train_options(p, multi=True)
    for action in p._actions:  # search's own default for --epochs
        if action.dest == "epochs":
            action.help = action.help.replace(f"(default {TrainConfig().epochs})", f"(default {SEARCH_EPOCHS} here)")
    p.add_argument("--trials", type=int, metavar="N", help="run N combinations picked at random (default: all)")
    p.add_argument("--random", action="store_true", help="random order (implied by --trials)")
    p.add_argument("--search-seed", type=int, default=0, metavar="N", help="seed of the random picks (default 0)")
    p.add_argument("--budget", type=float, metavar="SECONDS",
                   help="start no new trial after this much wall time (the running one finishes)")
    p.add_argument("--rank-by", choices=("dev_acc", "dev_loss"), default="dev_acc",
                   help="what ranks the trials on the dev set (default dev_acc)")
    p.add_argument("--out", metavar="DIR", help="runs directory (default: the user data directory, or $NN_TUI_RUNS_DIR)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout and nothing else there")
    p.set_defaults(run=run_search)

    r = sub.add_parser("runs", help="list past runs: settings, dev and test accuracy, epochs, time, why they ended",
                       description="List the runs in the runs directory, oldest first (search trials included). "
                                   "Damaged or unfinished run directories are listed with what is wrong.")
    r.add_argument("--out", "--runs-dir", dest="runs_dir", metavar="DIR", help="runs directory (default: $NN_TUI_RUNS_DIR "
                   "or the user data directory)")
    r.add_argument("--last", type=int, default=30, metavar="N", help="show the last N runs (default 30)")
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
    c.add_argument("--width", type=int, help="chart width in columns (default: the terminal's)")
    c.add_argument("--height", type=int, default=16, help="height of each chart in rows (default 16)")
    c.set_defaults(run=run_compare)

    pl = sub.add_parser("plot", help="save a run's accuracy and loss curves as a PNG (needs the plot extra)",
                        description="Write the accuracy (left) and loss (right) curves of one or more runs to a PNG "
                                    "with matplotlib, from the optional extra: pip install 'nn-tui[plot]'.")
    pl.add_argument("names", nargs="+", metavar="RUN", help="run directory, name, or unique part of a name")
    pl.add_argument("--out", dest="png", default="training_metrics.png", metavar="FILE",
                    help="image file (default training_metrics.png)")
    pl.add_argument("--runs-dir", dest="runs_dir", metavar="DIR", help="runs directory to find names in")
    pl.set_defaults(run=run_plot)


# -- search -----------------------------------------------------------------

def space_from_args(args) -> tuple[TrainConfig, dict]:
    """(base config, search space) from comma-list flags: one value fixes a setting, several search it."""
    from engine.search import parse_values

    fixed, space = {"epochs": SEARCH_EPOCHS}, {}
    for f in fields(TrainConfig):
        text = getattr(args, f.name, None)
        if text is None:
            continue
        if f.name in ("data", "dev_size"):
            fixed[f.name] = text
            continue
        values = parse_values(f.name, text)
        if len(values) == 1:
            fixed[f.name] = values[0]
        else:
            space[f.name] = values
    return TrainConfig().replace(**fixed), space


def board_table(board: list[dict], names: list[str], total: int, running: dict | None = None) -> Table:
    """The leaderboard, best first (green); `running`, the trial in progress, in yellow at the bottom."""
    table = Table(box=None, padding=(0, 1), header_style="bold", title_justify="left", pad_edge=False,
                  title=f"leaderboard: {len(board)} of {total} trials, best on dev first")
    table.add_column("#", justify="right")
    table.add_column("trial", justify="right")
    for name in names:
        table.add_column(name.replace("_", " "), overflow="fold")
    table.add_column("dev acc", justify="right")
    table.add_column("dev loss", justify="right")
    table.add_column("best/ep", justify="right")
    table.add_column("time", justify="right")
    table.add_column("ended")
    for row in board:
        best = row["rank"] == 1
        cells = [str(row["rank"]), str(row["trial"]), *(show_value(row.get(n)) for n in names),
                 pct(row["dev_acc"]), f"{row['dev_loss']:.4f}" if row["dev_loss"] == row["dev_loss"] else "-",
                 f"{row['best_epoch']}/{row['epochs']}", duration(row["seconds"]),
                 {"early-stopped": "early stop", "max-epochs": "max epochs"}.get(row["stop"], row["stop"])]
        table.add_row(*cells, style="bold green" if best else "")
    if running is not None:
        table.add_row("", str(running["index"]), *(show_value(running["changes"].get(n)) for n in names),
                      running["dev"], "", running["epoch"], "", "training", style="yellow")
    return table


def show_value(value) -> str:
    from engine.search import show

    return "" if value is None else show(value)


def run_search(args) -> int:
    from engine import Control, EpochEnded
    from engine.runs import runs_dir
    from engine.search import TrialFinished, TrialStarted, grid_size, plan, search

    from .cmd_train import graceful_interrupt, header_line

    base, space = space_from_args(args)
    count = args.trials
    trials = plan(base, space, count, args.random, args.search_seed)  # ConfigError before any loading
    quiet = args.json
    con = console(stderr=quiet)
    splits = load_data(base.data, base.dev_size, base.seed, con)
    names = list(space)
    if not quiet:
        con.print(header_line(trials[0].config, splits), style="dim")
        what = " × ".join(f"{n.replace('_', ' ')} {' | '.join(show_value(v) for v in vs)}" for n, vs in space.items())
        picked = (f"{len(trials)} picked at random of {grid_size(space)}" if count else
                  f"{len(trials)} combinations" + (" in random order" if args.random else ""))
        con.print(f"searching {what or 'nothing (one trial)'}: {picked}"
                  + (f", budget {duration(args.budget)}" if args.budget else ""))
    state = {"board": [], "running": None}
    control = Control()
    live = None

    def view():
        return board_table(state["board"], names, len(trials), state["running"])

    def listener(event):
        if isinstance(event, TrialStarted):
            state["running"] = {"index": event.index, "changes": event.changes, "dev": "...", "epoch": ""}
        elif isinstance(event, EpochEnded) and state["running"] is not None:
            state["running"]["epoch"] = f"{event.early.best_epoch}/{event.epoch}"
            state["running"]["dev"] = pct(event.dev_acc)
        elif isinstance(event, TrialFinished):
            state["board"], state["running"] = list(event.board), None
            if not quiet and live is None:
                row = event.row
                con.print(f"trial {event.index}/{event.total}  {settings_text({n: row[n] for n in names}) if names else ''}"
                          f"  dev {pct(row['dev_acc'])}  {row['epochs']} epochs  {duration(row['seconds'])}  {row['stop']}")
        else:
            return
        if live is not None:
            live.update(view())

    root = Path(args.out) if args.out else runs_dir()
    if con.is_terminal and not quiet:  # a live table; elsewhere (a pipe, a log) a line per trial
        from rich.live import Live

        live = Live(view(), console=con, refresh_per_second=4, transient=True)
    with graceful_interrupt(control, con), live or nullcontext():
        result = search(splits, base, space, count=count, shuffle=args.random, seed=args.search_seed,
                        budget=args.budget, root=root, listener=listener, control=control, rank_by=args.rank_by)
    if quiet:
        print(json.dumps(result.to_dict(), default=str))
        return 0 if result.winner else 1
    con.print(board_table(result.board, names, result.planned))
    style = {"budget": "yellow", "stopped": "yellow"}.get(result.stop, "green")
    con.print(Text(f"{result.reason} in {duration(result.seconds)}", style=style))
    if result.winner:
        w = result.winner
        con.print(Text.assemble("winner: trial ", str(w["trial"]),
                                f" ({settings_text({n: w[n] for n in names})})" if names else ""))
        con.print(Text.assemble(f"dev accuracy {pct(w['dev_acc'])}   test accuracy ", (pct(result.test_acc), "bold"),
                                f" (loss {result.test_loss:.4f}, measured once)"))
        con.print(f"model saved: {result.model_path}", soft_wrap=True)  # paths unbroken, to copy
    else:
        con.print(Text("no trial finished an epoch: no winner", style="bold red"))
    con.print(f"leaderboard: {result.path / 'leaderboard.csv'} (and .json)", style="dim", soft_wrap=True)
    return 0 if result.winner else 1


# -- runs -------------------------------------------------------------------

def root_of(args) -> Path:
    from engine.runs import runs_dir

    given = getattr(args, "runs_dir", None) or getattr(args, "out", None)
    return Path(given) if given else runs_dir()


def run_cell(run, settings: dict) -> Text:
    """The run's name (a ★ for a search winner), then its date and settings, dim, on the next line."""
    text = Text(run.name, style="bold red" if run.damaged else "bold")
    if run.summary.get("search_winner"):
        text.append(" ★", style="yellow")
    when = run.started.strftime("%d %b %H:%M") if run.started else "?"  # the name has the year
    text.append(f"\n{when}  ", style="dim")
    text.append(settings_text(settings, sort=True), style="dim")
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
        cells = [run_cell(run, diff), pct(run.dev_acc), pct(run.test_acc), str(run.epochs),
                 duration(run.seconds), Text(ended(run), style="red" if run.damaged or run.stop == "diverged" else "")]
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
        print(json.dumps([{"name": r.name, "path": str(r.path), "started": r.started.isoformat() if r.started else None,
                           "settings": r.differences(), "dev_accuracy": r.dev_acc, "test_accuracy": r.test_acc,
                           "epochs": r.epochs, "seconds": r.seconds, "stop": r.stop, "damaged": r.damaged,
                           "problems": r.problems} for r in runs], default=str))
        return 0
    if not runs:
        con.print(f"no runs in {root} yet: `nn-tui train` or `nn-tui search` make some", soft_wrap=True)
        return 0
    shown = runs if args.all or args.last <= 0 else runs[-args.last:]
    damaged = sum(r.damaged for r in runs)
    title = f"{len(runs)} runs in {root}" + (f", {damaged} damaged" if damaged else "")
    if len(shown) < len(runs):
        title += f" (last {len(shown)}; --all for every one)"
    con.print(title, soft_wrap=True)
    con.print(runs_table(shown, [r.differences() for r in shown], ""))
    con.print("settings: those that differ from the defaults. dev: best dev accuracy; ep: epochs run. "
              "Compare runs with `nn-tui compare RUN RUN`.", style="dim")
    return 0


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
        legend = draw(plt, series, metric, curves, color)
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
    from .console import use_color

    root = root_of(args)
    con = console()
    try:
        runs = resolve_all(args.names, root)
    except RunError as e:
        return die(str(e))
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
    try:
        runs = resolve_all(args.names, root)
    except RunError as e:
        return die(str(e))
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
