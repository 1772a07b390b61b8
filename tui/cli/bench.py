"""`nn-tui bench`: the project's own speed reference."""
from __future__ import annotations

import platform
from contextlib import nullcontext

import numpy as np

from .console import console, load_data


def register(sub) -> None:
    p = sub.add_parser("bench", help="time the engine on standard MLPs and batch sizes",
                       description="Time training and inference of standard MLPs (784-128-10, 784-256-10, "
                                   "784-512-256-10, 784-800-10) at batch sizes 32/128/512 on MNIST: samples per "
                                   "second, seconds per epoch of 55,000, the full step as a multiple of its matrix "
                                   "products alone, peak memory. Output is stable so runs can be compared.")
    p.add_argument("--quick", action="store_true", help="10,000 samples per measurement instead of a full epoch")
    p.add_argument("--hidden", action="append", metavar="SIZES",
                   help="time only this architecture (repeatable), e.g. --hidden 512,256")
    p.add_argument("--batch-size", type=int, action="append", metavar="N",
                   help="time only this batch size (repeatable)")
    p.add_argument("--threads", type=int, help="BLAS threads (default: what the BLAS library chooses)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats, best kept (default 3)")
    p.set_defaults(run=run_bench)


HEAD = f"{'model':<16} {'batch':>5} {'train/s':>9} {'s/epoch':>8} {'floor':>7} {'ratio':>6} {'infer/s':>9} {'MB':>6}"


def blas_summary() -> str:
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return (f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture')} kernel, "
                    f"{pool.get('num_threads')} threads)")
    return "unknown BLAS"


def run_bench(args) -> int:
    from threadpoolctl import threadpool_limits

    from engine import FIELDS, ConfigError, parse_hidden
    from engine.bench import BATCHES, STANDARD, bench

    con = console()
    splits = load_data("mnist", 5000, 0, con)
    hidden = tuple(parse_hidden(h) for h in args.hidden) if args.hidden else STANDARD
    batches = tuple(args.batch_size) if args.batch_size else BATCHES
    samples = 10_000 if args.quick else None
    for b in batches:
        FIELDS["batch_size"].check(b)
        if b > (samples or len(splits.train)):
            raise ConfigError(f"--batch-size {b} is larger than the {samples or len(splits.train):,} samples timed")
    if args.repeats < 1:
        raise ConfigError(f"--repeats {args.repeats} must be at least 1")
    with threadpool_limits(args.threads) if args.threads else nullcontext():
        con.print(f"nn-tui bench   numpy {np.__version__}   {blas_summary()}   float32   "
                  f"python {platform.python_version()}   {platform.machine()}")
        con.print(HEAD, style="bold")
        with con.status("timing...") as status:
            for t in bench(splits.train.x, splits.train.y, splits.test.x, hidden, batches, samples, args.repeats,
                           lambda spec, b: status.update(f"timing {spec} at batch {b}...")):
                con.print(f"{t.spec:<16} {t.batch:>5} {t.train_samples_per_sec:>9,.0f} {t.epoch_seconds:>8.3f} "
                          f"{t.floor_seconds:>7.3f} {t.ratio:>5.2f}x {t.infer_samples_per_sec:>9,.0f} "
                          f"{t.peak_mb:>6.1f}")
        con.print("train/s, infer/s: samples per second. s/epoch: training seconds for 55,000 digits. floor: the "
                  "same steps' matrix products alone (same shapes, same BLAS), in s/epoch. ratio: s/epoch / floor. "
                  "MB: peak NumPy memory while training (tracemalloc).", style="dim")
    return 0

