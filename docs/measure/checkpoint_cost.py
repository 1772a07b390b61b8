"""What a checkpoint costs: file size, and the time per epoch spent writing it (capture, .npz, fsync'd atomic
write, pruning) against the epoch's training time; one BLAS thread, MNIST. Settings as key=value arguments.

    flock /tmp/nn-bench.lock .venv/bin/python docs/measure/checkpoint_cost.py epochs=3
"""
import sys
import tempfile
import time
from pathlib import Path

import data
from engine import TrainConfig, runs, threads
from engine.checkpoints import path_for, saved_epochs

spent = []
original = runs.Recorder.checkpoint


def timed(self, state):
    t = time.perf_counter()
    original(self, state)
    spent.append((state.epoch, time.perf_counter() - t))


runs.Recorder.checkpoint = timed
given = dict(a.split("=", 1) for a in sys.argv[1:])
cfg = TrainConfig(epochs=int(given.pop("epochs", 3)), **{k: int(v) if v.isdigit() else v for k, v in given.items()})
splits = data.load(cfg.data, cfg.dev_size, cfg.seed)
with tempfile.TemporaryDirectory() as root, threads.pinned(1):
    result, summary = runs.train_run(splits, cfg, Path(root), keep=5)
    run = Path(summary["run_dir"])
    sizes = {e: path_for(run, e).stat().st_size for e in saved_epochs(run)}
    model = (run / "model.npz").stat().st_size
print(f"{cfg.spec()} {cfg.optimizer}: " + ", ".join(f"epoch {e}: {s / 2**20:.2f} MB" for e, s in sizes.items())
      + f" (model.npz {model / 2**20:.2f} MB)")
for (e, s), h in zip(spent[1:], result.history):
    print(f"epoch {e}: training {h['seconds']:.2f} s, checkpoint {s * 1000:.0f} ms ({s / h['seconds']:.1%})")
