"""Issue 10: training speed inside the app against headless `nn-tui train`, both beside one busy process
(`python3 -c "while True: pass"`), alternated. The app runs in a detached tmux window (100x30 unless
--size), `t` starts the default run; each side's samples/s comes from the run's summary.json.

    flock /tmp/nn-bench.lock .venv/bin/python docs/measure/app_load.py --rounds 3
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


def summary(runs: Path, timeout: float = 180) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = list(runs.glob("*/summary.json"))
        if found:
            time.sleep(0.3)
            return json.loads(found[0].read_text())
        time.sleep(0.2)
    raise SystemExit(f"no summary.json under {runs} after {timeout:.0f} s")


def headless(runs: Path) -> dict:
    subprocess.run([NN_TUI, "train", "--quiet", "--out", str(runs)], check=True, capture_output=True)
    return summary(runs)


def app(runs: Path, size: str) -> dict:
    cols, rows = size.split("x")
    name = f"appload{os.getpid()}"
    env = f"NN_TUI_RUNS_DIR={runs}"
    extra = os.environ.get("APPENV", "")  # more VAR=value for the app, e.g. to try a setting
    subprocess.run(["tmux", "new", "-d", "-s", name, "-x", cols, "-y", rows, f"env {env} {extra} {NN_TUI}"],
                   check=True)
    try:
        end = time.monotonic() + 60
        while "t train" not in subprocess.run(["tmux", "capture-pane", "-p", "-t", name],
                                              capture_output=True, text=True).stdout:
            if time.monotonic() > end:
                raise SystemExit("the app did not show its footer in 60 s")
            time.sleep(0.2)
        time.sleep(1)
        subprocess.run(["tmux", "send-keys", "-t", name, "t"], check=True)
        return summary(runs)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", name, "q"])
        time.sleep(1)
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", default="100x30")
    ap.add_argument("--alone", action="store_true", help="no busy process")
    args = ap.parse_args()
    got = {"headless": [], "app": []}
    busy = None if args.alone else subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                order = ["headless", "app"] if r % 2 == 0 else ["app", "headless"]
                for side in order:
                    runs = Path(tmp, f"{side}{r}")
                    s = headless(runs) if side == "headless" else app(runs, args.size)
                    got[side].append(s["samples_per_sec"])
                    print(f"round {r + 1} {side:8} {s['samples_per_sec']:8.0f} samples/s"
                          f"  threads {s.get('threads')}  test {s.get('test_accuracy', 0):.2%}", flush=True)
    finally:
        if busy:
            busy.kill()
            busy.wait()
    h, a = statistics.median(got["headless"]), statistics.median(got["app"])
    print(f"median: headless {h:.0f}, app {a:.0f} samples/s; app / headless = {a / h:.2f}x"
          f" ({'alone' if args.alone else 'beside a busy process'}, {args.size}; target >= 0.9x)")


if __name__ == "__main__":
    main()
