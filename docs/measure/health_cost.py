"""What the training-health probe costs on the default net (784-512-256-10, batch 128, one BLAS thread):
rounds of 100 plain steps and 100 probed steps, alternated, best of 7 each.

    flock /tmp/nn-bench.lock .venv/bin/python docs/measure/health_cost.py
"""
import time

import numpy as np

import data
from engine import TrainConfig, threads
from engine.health import EVERY, Probe
from engine.trainer import make_optimizer, step
from models import MLP

splits = data.load("mnist")
x, y = splits.train.x, splits.train.y
cfg = TrainConfig()
model = MLP(cfg.spec())
opt = make_optimizer(model, cfg)
probe = Probe(model)
buf = np.empty((128, 784), np.float32)
rng = np.random.default_rng(0)


def per_step(count: int, probed: bool) -> float:
    t = time.perf_counter()
    for _ in range(count):
        idx = rng.integers(0, len(x), 128)
        np.take(x, idx, axis=0, out=buf)
        step(model, opt, buf, y[idx], 0.01, probe if probed else None)
    return (time.perf_counter() - t) / count


with threads.pinned(1):
    per_step(20, False)
    per_step(20, True)
    plain, probed = [], []
    for _ in range(7):
        plain.append(per_step(100, False))
        probed.append(per_step(100, True))
p, q = min(plain), min(probed)
print(f"step {p * 1e3:.2f} ms, probed step {q * 1e3:.2f} ms: the probe costs {(q - p) / p:.1%} of a step; "
      f"sampled every {EVERY} batches: {(q - p) / p / EVERY:.2%} of training")
