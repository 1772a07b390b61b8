"""Issue 12's speed ratio: one epoch of `nn-tui train --conv 32,64 --hidden 128` against the same net in
PyTorch CPU (../shared/bench/torch_cnn_ref.py, 2 threads, a scratch virtual environment, never a dependency),
run back to back and alternating, so a slow spell of the machine hits both alike. Dropout is off on both
sides (the reference has none). Prints each run's training seconds, the medians and their ratio.

    flock /tmp/nn-bench.lock .venv/bin/python docs/measure/conv_torch.py --rounds 3 --torch /tmp/torchenv/bin/python
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

NN_TUI = str(Path(sys.executable).with_name("nn-tui"))
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "bench" / "torch_cnn_ref.py"


def nn_tui(out: str, conv: str, hidden: str) -> float:
    proc = subprocess.run([NN_TUI, "train", "--json", "--out", out, "--conv", conv, "--hidden", hidden,
                           "--epochs", "1", "--dropout", "0"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)["seconds"]


def torch(python: str, reference: str, conv: str, hidden: str) -> float:
    proc = subprocess.run([python, reference, "--epochs", "1", "--threads", "2", "--conv", conv, "--hidden", hidden],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["s_per_epoch"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--torch", default="/tmp/torchenv/bin/python", help="a Python with torch installed")
    ap.add_argument("--reference", default=str(REFERENCE))
    ap.add_argument("--conv", default="32,64")
    ap.add_argument("--hidden", default="128")
    args = ap.parse_args()
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as out:
        for r in range(args.rounds):
            first_ours = r % 2 == 0
            for side in ("nn-tui", "torch") if first_ours else ("torch", "nn-tui"):
                if side == "nn-tui":
                    ours.append(nn_tui(out, args.conv, args.hidden))
                    secs = ours[-1]
                else:
                    theirs.append(torch(args.torch, args.reference, args.conv, args.hidden))
                    secs = theirs[-1]
                print(f"round {r + 1} {side:6} {secs:6.2f} s/epoch", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"\nmedian s/epoch: nn-tui {a:.2f} ({min(ours):.2f}-{max(ours):.2f}), "
          f"PyTorch {b:.2f} ({min(theirs):.2f}-{max(theirs):.2f}); nn-tui / PyTorch {a / b:.2f}x")


if __name__ == "__main__":
    main()
