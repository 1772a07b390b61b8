"""Issue 10's start-up: wall seconds from launching `nn-tui train` to its first batch, with the cache of
decoded arrays warm and with `NN_TUI_NO_CACHE=1` (gunzip and SHA-256 of the bundled IDX files on every
start), alternated. The first batch is when the run's config.json appears (the run directory is written
just before training starts); the parent polls for it every 2 ms.

    flock /tmp/nn-bench.lock .venv/bin/python docs/measure/startup.py --rounds 7
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NN_TUI = str(Path(sys.executable).with_name("nn-tui"))


def to_first_batch(no_cache: bool) -> float:
    env = dict(os.environ)
    env.pop("NN_TUI_NO_CACHE", None)
    if no_cache:
        env["NN_TUI_NO_CACHE"] = "1"
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([NN_TUI, "train", "--epochs", "1", "--quiet", "--out", out], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not list(Path(out).glob("*/config.json")):
                if proc.poll() is not None:
                    raise SystemExit("nn-tui train ended before its run directory appeared")
                time.sleep(0.002)
            return time.perf_counter() - t0
        finally:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    to_first_batch(False)  # fills the cache if it is cold
    got = {"cache": [], "no cache": []}
    for r in range(args.rounds):
        for name in (["cache", "no cache"] if r % 2 == 0 else ["no cache", "cache"]):
            got[name].append(to_first_batch(name == "no cache"))
    for name, v in got.items():
        print(f"{name:9} median {statistics.median(v):.2f} s ({min(v):.2f}-{max(v):.2f}), {len(v)} starts")
    print(f"cache / no cache = {statistics.median(got['cache']) / statistics.median(got['no cache']):.2f}x")


if __name__ == "__main__":
    main()
