"""Issue 10's table: default `nn-tui train --json` (threads chosen by timing) against the same run forced
to one and to two BLAS threads, alone and beside one busy process (`python3 -c "while True: pass"`).
Runs alternate within each round, so a slow spell of the machine hits every setting alike; it prints the
training seconds of each run, the medians, the ratios the issue asks for and the test accuracies.

    flock /tmp/nn-bench.lock .venv/bin/python docs/measure/threads_train.py --rounds 5
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NN_TUI = str(Path(sys.executable).with_name("nn-tui"))
SETTINGS = {
    "default": {},
    "forced 1": {"OPENBLAS_NUM_THREADS": "1"},
    "forced 2": {"OPENBLAS_NUM_THREADS": "2"},
}


def train(env_extra: dict, out: str, extra: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_extra)
    proc = subprocess.run([NN_TUI, "train", "--json", "--out", out, *extra], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("extra", nargs="*", help="more options for nn-tui train (after --)")
    args = ap.parse_args()
    results = {(load, name): [] for load in ("alone", "loaded") for name in SETTINGS}
    with tempfile.TemporaryDirectory() as out:
        for r in range(args.rounds):
            for load in ("alone", "loaded"):
                busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "loaded" else None
                try:
                    if busy:
                        time.sleep(0.5)
                    order = list(SETTINGS) if r % 2 == 0 else list(reversed(SETTINGS))
                    for name in order:
                        res = train(SETTINGS[name], out, args.extra)
                        results[load, name].append(res)
                        print(f"round {r + 1} {load:6} {name:8} {res['seconds']:6.2f} s  threads {res['threads']}"
                              f" ({res['threads_mode']})  test {res['test_accuracy']:.2%}", flush=True)
                finally:
                    if busy:
                        busy.kill()
                        busy.wait()
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    print("\nmedian training seconds (min-max):")
    for (load, name), v in results.items():
        secs = [r["seconds"] for r in v]
        print(f"  {load:6} {name:8} {med[load, name]:6.2f} s ({min(secs):.2f}-{max(secs):.2f})")
    best_alone = min(med["alone", "forced 1"], med["alone", "forced 2"])
    print(f"alone:  default / better of forced 1 and 2 = {med['alone', 'default'] / best_alone:.2f}x (target <= 1.1x)")
    print(f"loaded: default / forced 1 = {med['loaded', 'default'] / med['loaded', 'forced 1']:.2f}x (target <= 1.2x);"
          f" forced 2 / forced 1 = {med['loaded', 'forced 2'] / med['loaded', 'forced 1']:.2f}x")
    accs = [r["test_accuracy"] for k, v in results.items() if k[1] == "default" for r in v]
    print(f"default test accuracy: {min(accs):.2%}-{max(accs):.2%}")


if __name__ == "__main__":
    main()
