"""`nn-tui train`: headless training with a progress bar, a line per epoch, and a run directory."""
from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from data.files import dumps

from ..text import changes_text, patience_note, pct, threads
from .args import whole
from .console import console, load_data
from .options import add_train_options, config_from_args


def register(sub) -> None:
    p = sub.add_parser("train", help="train headless: progress, a line per epoch, test accuracy, saved model",
                       description="Train a network (an MLP, or a conv net with --conv) headless. Prints a "
                                   "line per epoch, then dev and test accuracy and the saved model's path. Ctrl+C "
                                   "stops after the current batch and keeps the best model (press it twice to abort).")
    add_train_options(p)
    p.add_argument("--out", metavar="DIR",
                        help="runs directory (default: the user data directory, or $NN_TUI_RUNS_DIR)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else there")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.add_argument("--fork", metavar="RUN[@EPOCH]",
                   help="start from RUN's checkpoint at EPOCH (default its last) with its settings there, overridden "
                        "by the options given: --epochs 10 continues to 10, --lr 0.01 branches with a new rate. "
                        "Same settings and BLAS threads: the same numbers as the run itself")
    p.add_argument("--keep-checkpoints", type=whole("--keep-checkpoints", 0, 100000), default=None, metavar="N",
                   help="checkpoints kept in the run directory: the last N epochs, the best, and the one before the "
                        "latest live change (default 5; 0: none, and the run cannot be forked)")
    p.set_defaults(run=run_train)


def fork_from(text: str, root: Path):
    """`RUN` or `RUN@EPOCH` -> engine.runs.Fork (RunError / ConfigError when it cannot be had)."""
    from engine import ConfigError
    from engine.runs import fork_point, resolve_run

    name, at, epoch = text.rpartition("@") if "@" in text else (text, "", "")
    if at and not epoch.isdigit():
        raise ConfigError(f"--fork {text!r}: the epoch after @ must be a whole number, e.g. RUN@2")
    return fork_point(resolve_run(name, root), int(epoch) if at else None)


@contextmanager
def graceful_interrupt(control, con):
    """First Ctrl+C (or SIGTERM, as `kill` and service managers send) asks the loop to stop after this
    batch, keeping the best model and writing the summary; a second one aborts."""
    def handler(signum, frame):
        if control.stopping:
            raise KeyboardInterrupt
        control.stop()
        con.print("[yellow]stopping after this batch (Ctrl+C again to abort)[/]")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def header_lines(cfg, splits) -> list[str]:
    """What is trained on what, in lines that each fit 80 columns for the usual settings: the data, the
    network and its optimizer, then the run's length and extras."""
    sched = cfg.schedule + (f" every {cfg.decay_every} x{cfg.decay_rate:g}" if cfg.schedule == "step" else "")
    extras = [f"l2 {cfg.l2:g}" if cfg.l2 else "", f"dropout {cfg.dropout:g}" if cfg.dropout else "",
              f"augment {cfg.augment}" if cfg.augment else "", f"max-norm {cfg.max_norm:g}" if cfg.max_norm else ""]
    return [f"{splits.name}: {len(splits.train):,} train / {len(splits.dev):,} dev / {len(splits.test):,} test "
            f"{splits.noun}",
            f"{cfg.spec()} {cfg.activation}   {cfg.optimizer} lr {cfg.lr:g}"
            + (f" momentum {cfg.momentum:g}" if cfg.optimizer != "sgd" else "") + f" {sched}   batch {cfg.batch_size}",
            f"up to {cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''}"
            + (f", patience {cfg.patience} on {cfg.monitor}" if cfg.patience else "")
            + "".join("   " + e for e in extras if e)]


EPOCH_HEAD = (f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  {'dev loss':>8}  {'dev acc':>8}  {'lr':>8}  "
              f"{'time':>6}")


def epoch_line(e) -> Text:
    line = Text(f"{e.epoch:>5}  {e.train_loss:>10.4f}  {pct(e.train_acc):>9}  {e.dev_loss:>8.4f}  "
                f"{pct(e.dev_acc):>8}  {e.lr:>8.5f}  {e.seconds:>5.1f}s")
    if e.improved:
        line.append("  *", style="green")
    return line


def run_train(args) -> int:
    from engine import BatchEnded, ConfigError, Control, EpochEnded, SettingsChanged
    from engine.health import alerts
    from engine.runs import KEEP, read_run, runs_dir, train_run

    root = Path(args.out) if args.out else runs_dir()
    keep = KEEP if args.keep_checkpoints is None else args.keep_checkpoints
    if keep < 0:
        raise ConfigError(f"--keep-checkpoints {keep}: must be 0 or more")
    fork = fork_from(args.fork, root) if args.fork else None
    if fork:
        wanted = config_from_args(args, fork.config)
        cfg = fork.settings(**{k: getattr(wanted, k) for k in wanted.to_dict()
                               if getattr(wanted, k) != getattr(fork.config, k)})
        if cfg.epochs <= fork.epoch:
            raise ConfigError(f"--fork {args.fork}: it has trained {fork.epoch} epochs of {cfg.epochs}; "
                              f"give --epochs above {fork.epoch} to train on")
        source = read_run(fork.parent).meta.get("source") or cfg.data
    else:
        cfg = config_from_args(args)
        source = cfg.data
    quiet = args.quiet or args.json
    con = console(stderr=args.json)
    splits = load_data(source, cfg.dev_size, cfg.seed, con)
    note = patience_note(cfg.epochs, cfg.patience)
    if note and (args.epochs is not None or args.patience is not None):  # the defaults are the user's to keep
        console(stderr=True).print(Text(f"nn-tui: warning: {note}", style="yellow"), soft_wrap=True)  # one line
    control = Control()
    if not quiet:
        if fork:
            changed = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in fork.record(cfg)["overrides"].items())
            con.print(f"fork of {fork.parent.name} at epoch {fork.epoch}" + (f": {changed}" if changed else ""),
                      style="cyan", soft_wrap=True)
        for line in header_lines(cfg, splits):
            con.print(line, style="dim", soft_wrap=True)
        con.print(EPOCH_HEAD, style="bold")
    progress = Progress(TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                        TextColumn("{task.percentage:>3.0f}%  loss {task.fields[loss]:.4f}  acc {task.fields[acc]}  "
                                   "{task.fields[speed]:,.0f} samples/s  {task.fields[threads]}"), TimeElapsedColumn(),
                        console=con, transient=True, disable=quiet)
    first = fork.epoch if fork else 0
    task = progress.add_task("train", total=cfg.epochs, completed=first, epoch=first + 1, epochs=cfg.epochs,
                             loss=0.0, acc="-", speed=0, threads="")

    history, changes, told = list(fork.history) if fork else [], list(fork.changes) if fork else [], set()

    def listener(event):
        if isinstance(event, BatchEnded):
            progress.update(task, completed=event.progress, epoch=event.epoch, loss=event.loss,
                            acc=pct(event.accuracy), speed=event.samples_per_sec, threads=threads(event.threads))
        elif isinstance(event, EpochEnded):
            progress.update(task, completed=event.epoch)
            history.append(event.record())
            if not quiet:
                progress.console.print(epoch_line(event))
                for alert in alerts(history, changes):
                    if alert.kind not in told:  # each kind of trouble once
                        told.add(alert.kind)
                        progress.console.print(Text(f"  ⚠ {alert.text}", style="yellow"))
        elif isinstance(event, SettingsChanged) and not quiet:
            changes.extend(event.entries())
            progress.console.print("changed " + changes_text(event.entries(), None))

    with progress, graceful_interrupt(control, con):
        result, summary = train_run(splits, cfg, root, listener, control, keep=keep, fork=fork)
    if args.json:
        out = {k: summary.get(k) for k in ("test_accuracy", "dev_accuracy", "test_loss", "dev_loss", "epochs",
                                            "best_epoch", "seconds", "wall_seconds", "stop", "stop_reason",
                                            "run_dir", "model_path", "samples_per_sec", "threads", "threads_mode",
                                            "spec", "data")}
        info = read_run(Path(summary["run_dir"]))
        out.update(config=info.config, changes=info.changes, fork=info.fork)
        print(dumps(out))
        return 0 if result.stop != "diverged" else 1
    style = {"diverged": "bold red", "stopped": "yellow"}.get(result.stop, "green")
    con.print(Text(result.reason, style=style))
    if result.best_epoch:
        con.print(f"best epoch {result.best_epoch}   dev accuracy [bold]{pct(summary['dev_accuracy'])}[/]   "
                  f"test accuracy [bold]{pct(summary['test_accuracy'])}[/] (test loss {summary['test_loss']:.4f})",
                  soft_wrap=True)
        con.print(f"training {summary['seconds']:.1f}s, {summary['samples_per_sec']:,.0f} samples/s, "
                  f"{threads(summary['threads'], summary['threads_mode'])}", soft_wrap=True)
        con.print(f"model saved: {summary['model_path']}", soft_wrap=True)
    con.print(f"run directory: {summary['run_dir']}", style="dim", soft_wrap=True)
    return 0 if result.stop != "diverged" else 1

