"""`nn-tui bench`: the project's own speed reference."""
from __future__ import annotations

import platform
import subprocess
import sys
import time
from contextlib import contextmanager, nullcontext

import numpy as np

from .args import whole
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
    p.add_argument("--batch-size", type=whole("--batch-size", 1, 65536), action="append", metavar="N",
                   help="time only this batch size (repeatable)")
    p.add_argument("--conv", metavar="CHANNELS",
                   help="time a conv net instead: conv blocks of these channels, e.g. 32,64 (then --hidden "
                        "defaults to 128, --batch-size to 128), with each layer's share of the step")
    p.add_argument("--kernel", type=int, default=5, help="conv kernel side, 3 or 5 (default 5)")
    p.add_argument("--threads", type=whole("--threads", 1, 1024),
                   help="BLAS threads (default: what the BLAS library chooses)")
    p.add_argument("--repeats", type=whole("--repeats", 1, 1000), default=3,
                   help="timed repeats, best kept (default 3)")
    p.add_argument("--load", action="store_true",
                   help="train alone and beside a busy process (started and stopped by the bench) at 1 thread, "
                        "all cores and the count chosen by timing; prints each loaded/alone ratio "
                        "(default: 784-512-256-10 at batch 128)")
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
    from engine.bench import BATCHES, STANDARD, bench, layer_shares
    from engine.config import parse_conv, parse_value

    conv = parse_conv(args.conv) if args.conv else ()
    kernel = parse_value("kernel", str(args.kernel))
    con = console()
    splits = load_data("mnist", 5000, 0, con)
    hidden = tuple(parse_hidden(h) for h in args.hidden) if args.hidden else ((128,),) if conv else STANDARD
    batches = tuple(args.batch_size) if args.batch_size else (128,) if conv else BATCHES
    samples = 10_000 if args.quick else None
    if args.load:
        hidden = hidden if args.hidden else ((512, 256),)
        batches = batches if args.batch_size else (128,)
    for b in batches:
        FIELDS["batch_size"].check(b)
        if b > (samples or len(splits.train)):
            raise ConfigError(f"--batch-size {b} is larger than the {samples or len(splits.train):,} samples timed")
    if args.repeats < 1:
        raise ConfigError(f"--repeats {args.repeats} must be at least 1")
    if args.load:
        return run_load(con, splits, hidden, batches, samples, args.repeats)
    with threadpool_limits(args.threads) if args.threads else nullcontext():
        con.print(f"nn-tui bench   numpy {np.__version__}   {blas_summary()}   float32   "
                  f"python {platform.python_version()}   {platform.machine()}")
        con.print(HEAD, style="bold")
        with con.status("timing...") as status:
            timed = []
            for t in bench(splits.train.x, splits.train.y, splits.test.x, hidden, batches, samples, args.repeats,
                           lambda spec, b: status.update(f"timing {spec} at batch {b}..."), conv, kernel):
                con.print(f"{t.spec:<16} {t.batch:>5} {t.train_samples_per_sec:>9,.0f} {t.epoch_seconds:>8.3f} "
                          f"{t.floor_seconds:>7.3f} {t.ratio:>5.2f}x {t.infer_samples_per_sec:>9,.0f} "
                          f"{t.peak_mb:>6.1f}")
                timed.append(t)
            if conv:
                from models import MLP, Spec

                for h, b in [(h, b) for h in hidden for b in batches]:
                    spec = Spec(784, h, 10, conv=conv, kernel=kernel)
                    status.update(f"timing the layers of {spec} at batch {b}...")
                    shares = layer_shares(MLP(spec), splits.train.x, splits.train.y, b)
                    con.print(f"{spec} at batch {b}, share of the step (forward + backward):", style="bold")
                    con.print("   ".join(f"{name} {share:.0%}" for name, share in shares if share >= 0.005))
        con.print("train/s, infer/s: samples per second. s/epoch: training seconds for 55,000 digits. floor: the "
                  "same steps' matrix products alone (same shapes, same BLAS), in s/epoch. ratio: s/epoch / floor. "
                  "MB: peak NumPy memory while training (tracemalloc).", style="dim")
    return 0



@contextmanager
def busy_process():
    """Another process spinning on a core while the block runs; always stopped, Ctrl+C included."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.2)  # spinning before the timing starts
        yield proc
    finally:
        proc.kill()
        proc.wait()


LOAD_HEAD = f"{'model':<16} {'batch':>5} {'threads':>7} {'alone/s':>9} {'loaded/s':>9} {'loaded/alone':>12}"


def run_load(con, splits, hidden, batches, samples, repeats) -> int:
    from engine.bench import load_bench

    con.print(f"nn-tui bench --load   numpy {np.__version__}   {blas_summary()}   float32   "
              f"python {platform.python_version()}   {platform.machine()}")
    con.print(LOAD_HEAD, style="bold")
    rows = []
    with con.status("timing...") as status:
        for t in load_bench(splits.train.x, splits.train.y, busy_process, hidden, batches, samples, repeats,
                            lambda spec, b, c: status.update(f"timing {spec} at batch {b}, {c} threads...")):
            rows.append(t)
            con.print(f"{t.spec:<16} {t.batch:>5} {t.threads:>7} {t.alone:>9,.0f} {t.loaded:>9,.0f} "
                      f"{t.ratio:>11.2f}x")
            if t.threads == "auto":
                same = [r for r in rows if (r.spec, r.batch) == (t.spec, t.batch) and r.threads != "auto"]
                con.print(f"{'':<30}auto / best fixed count: alone {t.alone / max(r.alone for r in same):.2f}x, "
                          f"loaded {t.loaded / max(r.loaded for r in same):.2f}x", style="dim")
    con.print("alone/s, loaded/s: training samples per second alone and beside one busy process "
              "(`python -c 'while True: pass'`, started and stopped by the bench), best of the repeats. auto: "
              "the count chosen by timing the run's own steps, as `nn-tui train` does.", style="dim")
    return 0
