"""`nn-tui train`: headless training with a progress bar, a line per epoch, and a run directory."""
from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..text import pct
from .console import console, load_data
from .options import add_train_options, config_from_args


def register(sub) -> None:
    p = sub.add_parser("train", help="train headless: progress, a line per epoch, test accuracy, saved model",
                       description="Train an MLP headless. Prints a line per epoch, then dev and test accuracy "
                                   "and the saved model's path. Ctrl+C stops after the current batch and keeps "
                                   "the best model (press it twice to abort).")
    add_train_options(p)
    p.add_argument("--out", metavar="DIR",
                        help="runs directory (default: the user data directory, or $NN_TUI_RUNS_DIR)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else there")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(run=run_train)


@contextmanager
def graceful_interrupt(control, con):
    """First Ctrl+C asks the loop to stop after this batch; a second one aborts."""
    def handler(signum, frame):
        if control.stopping:
            raise KeyboardInterrupt
        control.stop()
        con.print("[yellow]stopping after this batch (Ctrl+C again to abort)[/]")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def header_line(cfg, splits) -> str:
    sched = cfg.schedule + (f" every {cfg.decay_every} x{cfg.decay_rate:g}" if cfg.schedule == "step" else "")
    extras = [f"l2 {cfg.l2:g}" if cfg.l2 else "", f"dropout {cfg.dropout:g}" if cfg.dropout else "",
              f"augment {cfg.augment}" if cfg.augment else "", f"max-norm {cfg.max_norm:g}" if cfg.max_norm else ""]
    return (f"{splits.name}: {len(splits.train):,} train / {len(splits.dev):,} dev / {len(splits.test):,} test   "
            f"{cfg.spec()} {cfg.activation}   {cfg.optimizer} lr {cfg.lr:g}"
            + (f" momentum {cfg.momentum:g}" if cfg.optimizer != "sgd" else "")
            + f" {sched}   batch {cfg.batch_size}   up to {cfg.epochs} epochs"
            + (f", patience {cfg.patience} on {cfg.monitor}" if cfg.patience else "")
            + "".join("   " + e for e in extras if e))


EPOCH_HEAD = (f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  {'dev loss':>8}  {'dev acc':>8}  {'lr':>8}  "
              f"{'time':>6}")


def epoch_line(e) -> Text:
    line = Text(f"{e.epoch:>5}  {e.train_loss:>10.4f}  {pct(e.train_acc):>9}  {e.dev_loss:>8.4f}  "
                f"{pct(e.dev_acc):>8}  {e.lr:>8.5f}  {e.seconds:>5.1f}s")
    if e.improved:
        line.append("  *", style="green")
    return line


def run_train(args) -> int:
    from engine import BatchEnded, Control, EpochEnded, SettingsChanged
    from engine.runs import runs_dir, train_run

    cfg = config_from_args(args)
    quiet = args.quiet or args.json
    con = console(stderr=args.json)
    splits = load_data(cfg.data, cfg.dev_size, cfg.seed, con)
    control = Control()
    if not quiet:
        con.print(header_line(cfg, splits), style="dim")
        con.print(EPOCH_HEAD, style="bold")
    progress = Progress(TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                        TextColumn("{task.percentage:>3.0f}%  loss {task.fields[loss]:.4f}  acc {task.fields[acc]}  "
                                   "{task.fields[speed]:,.0f} samples/s"), TimeElapsedColumn(),
                        console=con, transient=True, disable=quiet)
    task = progress.add_task("train", total=cfg.epochs, epoch=1, epochs=cfg.epochs, loss=0.0, acc="-", speed=0)

    def listener(event):
        if isinstance(event, BatchEnded):
            progress.update(task, completed=event.progress, epoch=event.epoch, loss=event.loss,
                            acc=pct(event.accuracy), speed=event.samples_per_sec)
        elif isinstance(event, EpochEnded):
            progress.update(task, completed=event.epoch)
            if not quiet:
                progress.console.print(epoch_line(event))
        elif isinstance(event, SettingsChanged) and not quiet:
            progress.console.print(f"changed {event.changes} at epoch {event.epoch}, batch {event.batch}")

    root = Path(args.out) if args.out else runs_dir()
    with progress, graceful_interrupt(control, con):
        result, summary = train_run(splits, cfg, root, listener, control)
    if args.json:
        out = {k: summary.get(k) for k in ("test_accuracy", "dev_accuracy", "test_loss", "dev_loss", "epochs",
                                            "best_epoch", "seconds", "wall_seconds", "stop", "stop_reason",
                                            "run_dir", "model_path", "samples_per_sec", "spec", "data")}
        out["config"] = cfg.to_dict()
        print(json.dumps(out))
        return 0 if result.stop != "diverged" else 1
    style = {"diverged": "bold red", "stopped": "yellow"}.get(result.stop, "green")
    con.print(Text(result.reason, style=style))
    if result.best_epoch:
        con.print(f"best epoch {result.best_epoch}   dev accuracy [bold]{pct(summary['dev_accuracy'])}[/]   "
                  f"test accuracy [bold]{pct(summary['test_accuracy'])}[/] (test loss {summary['test_loss']:.4f})   "
                  f"training {summary['seconds']:.1f}s, {summary['samples_per_sec']:,.0f} samples/s")
        con.print(f"model saved: {summary['model_path']}")
    con.print(f"run directory: {summary['run_dir']}", style="dim")
    return 0 if result.stop != "diverged" else 1

