"""`nn-tui search`: hyperparameter search headless, a live leaderboard, the winner tested once."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import fields
from pathlib import Path

from rich.table import Table
from rich.text import Text

from data.files import dumps
from engine import ConfigError, TrainConfig

from ..text import board_cells, clock, duration, pct, settings_text, show_value
from .args import number, seed, whole
from .console import console, load_data
from .options import add_train_options

SEARCH_EPOCHS = 20  # search's default: enough epochs for early stopping to decide


def register(sub) -> None:
    p = sub.add_parser(
        "search", help="hyperparameter search on Optuna: grid, random or TPE trials, workers, pruning, shared studies",
        description="Train every combination of the settings given as comma lists (e.g. --hidden 64,128,256 "
                    "--l2 0,1e-4,1e-3), or --trials N drawn by a sampler, where an axis may also be a range lo:hi "
                    "(--lr 1e-4:0.3; log scale for lr, l2, hidden and batch size; whole numbers for sizes). Each "
                    "trial trains with early stopping and is ranked on the dev set; only the winner is then "
                    "evaluated on the test set, once. The leaderboard (CSV and JSON), every trial's run and the "
                    "winner's model are saved in a search directory. Settings given once are fixed for every "
                    f"trial; --epochs defaults to {SEARCH_EPOCHS} here. Processes and machines running the same "
                    "command with one --storage and --study share the work, each trial run once. Ctrl+C stops "
                    "every worker after its current batch and still picks a winner; --resume continues.")
    add_train_options(p, multi=True)
    for action in p._actions:  # search's own default for --epochs
        if action.dest == "epochs":
            action.help = action.help.replace(f"(default {TrainConfig().epochs})", f"(default {SEARCH_EPOCHS} here)")
    g = p.add_argument_group("search")
    g.add_argument("--sampler", choices=("grid", "random", "tpe"),
                   help="grid: every combination (the default when every axis is a list); random: --trials N "
                        "random picks (the default with --trials); tpe: Optuna's TPE, --trials N guided by the "
                        "trials so far")
    g.add_argument("--trials", type=whole("--trials", 1), metavar="N",
                   help="how many trials random or tpe runs (default: the grid)")
    g.add_argument("--workers", type=whole("--workers", 1, 1024), default=1, metavar="N",
                   help="train N trials at once, each in its own process with one BLAS thread (default 1: in "
                        "this process)")
    g.add_argument("--prune", nargs="?", const="median", choices=("median", "halving"), metavar="median|halving",
                   help="stop hopeless trials early on their per-epoch dev metric: median (the default) stops a "
                        "trial behind the median of earlier trials at the same epoch, from epoch 2, once 2 trials "
                        "ended; halving keeps the best third at epochs 1, 3, 9, ...")
    g.add_argument("--storage", metavar="URL|FILE",
                   help="where the study lives: a file (an Optuna journal; default optuna.journal in the search "
                        "directory), sqlite:///FILE, or postgresql://user:pw@host/db to share it across machines")
    g.add_argument("--study", metavar="NAME",
                   help="the study's name in the storage (default: the search directory's name); a study of that "
                        "name with the same settings is joined")
    g.add_argument("--resume", nargs="?", const="", metavar="DIR",
                   help="continue a search (after Ctrl+C, a crash or kill -9) with its own settings: DIR, or the "
                        "newest search without DIR; with --storage and --study, that study. Lost trials run again")
    g.add_argument("--random", action="store_true", help="run the grid in random order")
    g.add_argument("--search-seed", type=seed("--search-seed"), default=0, metavar="N",
                   help="seed of the samplers (default 0)")
    g.add_argument("--budget", type=number("--budget", 0, open_low=True), metavar="SECONDS",
                   help="start no new trial after this much wall time (the running ones finish)")
    g.add_argument("--rank-by", choices=("dev_acc", "dev_loss"), default="dev_acc",
                   help="what ranks the trials on the dev set (default dev_acc)")
    g.add_argument("--out", metavar="DIR",
                   help="runs directory (default: the user data directory, or $NN_TUI_RUNS_DIR)")
    g.add_argument("--json", action="store_true",
                   help="print the result as one JSON object on stdout and nothing else there")
    p.set_defaults(run=run_search)


def space_from_args(args) -> tuple[TrainConfig, dict]:
    """(base config, search space) from comma-list flags: one value fixes a setting, several search it."""
    from engine.grid import parse_grid

    texts = {f.name: getattr(args, f.name, None) for f in fields(TrainConfig)}
    return parse_grid(texts, TrainConfig(epochs=SEARCH_EPOCHS))


def board_table(board: list[dict], names: list[str], total: int, running: dict | None = None) -> Table:
    """The leaderboard, best first (green; pruned and failed trials dim); `running`, the trials in progress
    (index -> their state), in yellow at the bottom."""
    running = running or {}
    workers = {r.get("worker") for r in board} | {r["worker"] for r in running.values()}
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
    if len(workers - {"", None}) > 1:
        table.add_column("worker")
    wide = len(table.columns)
    for row in board:
        style = "bold green" if row["rank"] == 1 and row.get("state", "complete") == "complete" else (
            "dim" if row.get("state") in ("pruned", "failed") else "")
        cells = board_cells(row, names)
        if row.get("state") == "failed" and row["stop"] not in ("stopped", "diverged"):
            cells[-1] = "failed" if row["stop"] in ("failed", "error") else row["stop"]
        table.add_row(*cells, *([row.get("worker", "")] if wide > len(cells) else []), style=style)
    for index in sorted(running):
        r = running[index]
        cells = ["", str(index), *(show_value(r["changes"].get(n)) for n in names), r["dev"], "", r["epoch"], "",
                 "training"]
        table.add_row(*cells, *([r["worker"]] if wide > len(cells) else []), style="yellow")
    return table


def progress_line(board: list[dict], total: int, running: int, started: float) -> Text:
    """A bar of the trials done, then how many run, were pruned or failed, the best so far and the time."""
    import time

    width = 24
    done = len(board)
    filled = round(width * done / total) if total else width
    text = Text("█" * filled, style="green")
    text.append("░" * (width - filled), style="dim")
    text.append(f" {done}/{total} trials")
    for label, n in (("running", running), ("pruned", sum(r.get("state") == "pruned" for r in board)),
                     ("failed", sum(r.get("state") == "failed" for r in board))):
        if n:
            text.append(f" · {n} {label}")
    best = next((r for r in board if r.get("state", "complete") == "complete"), None)
    if best is not None:
        text.append(f" · best {pct(best['dev_acc'])} (trial {best['trial']})")
    text.append(f" · {clock(time.monotonic() - started)}", style="dim")
    return text


def plan_from_args(args, root: Path) -> dict:
    """What to search: the flags, or (--resume) the settings a search directory or study was started with."""
    from engine.search import choose_sampler, latest_search, read_plan, space_from_json, study_plan

    if args.resume is None:
        base, space = space_from_args(args)
        sampler = choose_sampler(space, args.sampler, args.trials)  # ConfigError before any loading
        return {"base": base, "space": space, "sampler": sampler, "count": args.trials, "prune": args.prune,
                "rank_by": args.rank_by, "storage": args.storage, "study": args.study, "path": None,
                "source": base.data}
    given = [f.name for f in fields(TrainConfig) if getattr(args, f.name, None) is not None]
    given += [n for n in ("sampler", "trials", "prune") if getattr(args, n) is not None]
    if given:
        raise ConfigError(f"--resume continues a search with its own settings: drop --{given[0].replace('_', '-')}")
    if args.resume == "" and args.storage and args.study:
        saved, path, storage, study = study_plan(args.storage, args.study), None, args.storage, args.study
    else:
        path = Path(args.resume).expanduser() if args.resume else latest_search(root)
        saved = read_plan(path)
        storage, study = args.storage or saved["storage"], args.study or saved["study"]
        if "***" in storage:
            raise ConfigError(f"{path}: its storage's password is not saved: give --storage again")
    base = TrainConfig.from_dict(saved["base"])
    return {"base": base, "space": space_from_json(saved["space"]), "sampler": saved["sampler"],
            "count": saved.get("count"), "prune": saved.get("prune"), "rank_by": saved["rank_by"], "storage": storage,
            "study": study, "path": path, "source": saved.get("source") or base.data}


def run_search(args) -> int:
    import time

    from engine import Control
    from engine.runs import runs_dir
    from engine.search import SearchStarted, TrialFinished, TrialReported, TrialStarted, grid_size, search

    from .train import graceful_interrupt, header_lines

    root = Path(args.out) if args.out else runs_dir()
    job = plan_from_args(args, root)
    base, space, count = job["base"], job["space"], job["count"]
    quiet = args.json
    con = console(stderr=quiet)
    splits = load_data(job["source"], base.dev_size, base.seed, con)
    names = list(space)
    total = grid_size(space)
    if not quiet:
        first = base.replace(**{n: vs[0] for n, vs in space.items() if isinstance(vs, list)})
        for line in header_lines(first, splits):
            con.print(line, style="dim", soft_wrap=True)
        what = " × ".join(f"{n.replace('_', ' ')} {vs if not isinstance(vs, list) else ' | '.join(map(show_value, vs))}"
                          for n, vs in space.items())
        picked = (f"{total} combinations" + (" in random order" if args.random else "") if job["sampler"] == "grid"
                  else f"{count} picked at random of {total}" if job["sampler"] == "random" and total and count
                  else f"{total} in random order" if job["sampler"] == "random" and total
                  else f"{count} trials drawn by {job['sampler']}")
        con.print(f"searching {what or 'nothing (one trial)'}: {picked}"
                  + (f", budget {duration(args.budget)}" if args.budget else ""))
    state = {"board": [], "running": {}, "planned": count or total or 0, "started": time.monotonic()}
    control = Control()
    live = None

    def view():
        from rich.console import Group

        return Group(board_table(state["board"], names, state["planned"], state["running"]),
                     progress_line(state["board"], state["planned"], len(state["running"]), state["started"]))

    def listener(event):
        running = state["running"]
        if isinstance(event, SearchStarted):
            state["planned"] = event.trials
            if not quiet:
                pruning = {"median": "median pruning", "halving": "successive halving"}.get(event.prune, "no pruning")
                con.print(f"study {event.study} ({event.sampler}, {event.workers} worker"
                          f"{'s' * (event.workers > 1)}, {pruning}) in {event.storage}", style="dim", soft_wrap=True)
        elif isinstance(event, TrialStarted):
            running[event.index] = {"changes": event.changes, "dev": "...", "epoch": "", "worker": event.worker}
        elif isinstance(event, TrialReported) and event.index in running:
            running[event.index].update(epoch=f"ep {event.epoch}", dev=pct(event.dev_acc))
        elif isinstance(event, TrialFinished):
            state["board"] = list(event.board)
            running.pop(event.index, None)
            if not quiet and live is None:
                row = event.row
                what = settings_text({n: row[n] for n in names}) if names else ""
                ended = "pruned" if row.get("state") == "pruned" else row["stop"]
                con.print(f"trial {event.index}/{event.total}  {what}  dev {pct(row['dev_acc'])}  "
                          f"{row['epochs']} epochs  {duration(row['seconds'])}  {ended}"
                          + (f"  {row['worker']}" if args.workers > 1 else ""))
        else:
            return
        if live is not None:
            live.update(view())

    if con.is_terminal and not quiet:  # a live table; elsewhere (a pipe, a log) a line per trial
        from rich.live import Live

        live = Live(view(), console=con, refresh_per_second=4, transient=True)
    with graceful_interrupt(control, con), live or nullcontext():
        result = search(splits, base, space, count=count, shuffle=args.random, seed=args.search_seed,
                        budget=args.budget, root=root, listener=listener, control=control, rank_by=job["rank_by"],
                        sampler=job["sampler"], workers=args.workers, prune=job["prune"], storage=job["storage"],
                        study=job["study"], path=job["path"])
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
        if result.test_acc is not None:
            con.print(Text.assemble(f"dev accuracy {pct(w['dev_acc'])}   test accuracy ",
                                    (pct(result.test_acc), "bold"), f" (loss {result.test_loss:.4f}, measured once)"))
            con.print(f"model saved: {result.model_path}", soft_wrap=True)  # paths unbroken, to copy
    else:
        con.print(Text("no trial finished an epoch: no winner", style="bold red"))
    con.print(f"leaderboard: {result.path / 'leaderboard.csv'} (and .json)", style="dim", soft_wrap=True)
    if result.stop != "complete":
        con.print(f"continue it: nn-tui search --resume {result.path}", style="dim", soft_wrap=True)
    return 0 if result.winner else 1
