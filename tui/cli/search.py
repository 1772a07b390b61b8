"""`nn-tui search`: hyperparameter search headless, a live leaderboard, the winner tested once."""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from rich.table import Table
from rich.text import Text

from data.files import dumps
from engine import TrainConfig

from ..text import board_cells, duration, pct, settings_text, show_value
from .console import console, load_data
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
    p.add_argument("--out", metavar="DIR",
                        help="runs directory (default: the user data directory, or $NN_TUI_RUNS_DIR)")
    p.add_argument("--json", action="store_true",
                   help="print the result as one JSON object on stdout and nothing else there")
    p.set_defaults(run=run_search)


def space_from_args(args) -> tuple[TrainConfig, dict]:
    """(base config, search space) from comma-list flags: one value fixes a setting, several search it."""
    from dataclasses import fields

    from engine.grid import parse_grid

    texts = {f.name: getattr(args, f.name, None) for f in fields(TrainConfig)}
    return parse_grid(texts, TrainConfig(epochs=SEARCH_EPOCHS))


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
        table.add_row(*board_cells(row, names), style="bold green" if best else "")
    if running is not None:
        table.add_row("", str(running["index"]), *(show_value(running["changes"].get(n)) for n in names),
                      running["dev"], "", running["epoch"], "", "training", style="yellow")
    return table


def run_search(args) -> int:
    from engine import Control, EpochEnded
    from engine.runs import runs_dir
    from engine.search import TrialFinished, TrialStarted, grid_size, plan, search

    from .train import graceful_interrupt, header_line

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
                what = settings_text({n: row[n] for n in names}) if names else ""
                con.print(f"trial {event.index}/{event.total}  {what}  dev {pct(row['dev_acc'])}  "
                          f"{row['epochs']} epochs  {duration(row['seconds'])}  {row['stop']}")
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
        print(dumps(result.to_dict(), default=str))
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
