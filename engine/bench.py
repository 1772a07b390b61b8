"""Timing the engine: training and inference throughput, and each step against its matrix-product floor."""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from models import MLP, Spec

from .config import TrainConfig
from .trainer import make_optimizer, step

STANDARD = ((128,), (256,), (512, 256), (800,))
BATCHES = (32, 128, 512)


@dataclass(frozen=True)
class Timing:
    spec: str
    batch: int
    train_samples_per_sec: float
    epoch_seconds: float  # for `epoch` samples
    floor_seconds: float  # the matrix products of the same steps alone
    infer_samples_per_sec: float
    peak_mb: float

    @property
    def ratio(self) -> float:
        """Full step time as a multiple of the matrix products alone."""
        return self.epoch_seconds / self.floor_seconds


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def time_training(model: MLP, x: np.ndarray, y: np.ndarray, batch: int, samples: int, repeats: int) -> float:
    """Seconds to train on `samples` digits: the trainer's own step on shuffled, gathered batches."""
    opt = make_optimizer(model, TrainConfig(optimizer="momentum", lr=0.01))
    rng = np.random.default_rng(0)
    buf = np.empty((batch, x.shape[1]), np.float32)
    steps = samples // batch

    def run(count: int = steps):
        order = rng.permutation(len(x))
        for i in range(count):
            idx = order[(i * batch) % (len(x) - batch):][:batch]
            np.take(x, idx, axis=0, out=buf)
            step(model, opt, buf, y[idx], 0.01)

    run(min(20, steps))  # warm up: buffers, BLAS threads
    return _best_of(run, repeats)


def time_floor(sizes: tuple[int, ...], batch: int, samples: int, repeats: int) -> float:
    """Seconds for only the matrix products of `samples // batch` training steps (same shapes, same BLAS)."""
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes[:-1], sizes[1:])]
    acts = [rng.random((batch, s), dtype=np.float32) for s in sizes]
    grads = [np.empty_like(a) for a in acts]
    dW = [np.empty_like(w) for w in W]
    steps = samples // batch

    def run():
        for _ in range(steps):
            for i, w in enumerate(W):
                np.matmul(acts[i], w, out=acts[i + 1])
            for i in range(len(W) - 1, -1, -1):
                np.matmul(acts[i].T, grads[i + 1], out=dW[i])
                if i:
                    np.matmul(grads[i + 1], W[i].T, out=grads[i])

    run()
    return _best_of(run, repeats)


def time_inference(model: MLP, x: np.ndarray, repeats: int) -> float:
    model.predict_proba(x[:1000])
    return _best_of(lambda: model.predict_proba(x), repeats)


def peak_memory(model_spec: Spec, x: np.ndarray, y: np.ndarray, batch: int) -> float:
    """Peak MB allocated through NumPy while building a model and training 5 steps (tracemalloc)."""
    tracemalloc.start()
    try:
        model = MLP(model_spec)
        opt = make_optimizer(model, TrainConfig(optimizer="momentum", lr=0.01))
        buf = np.empty((batch, x.shape[1]), np.float32)
        for i in range(5):
            np.take(x, np.arange(i * batch, (i + 1) * batch) % len(x), axis=0, out=buf)
            step(model, opt, buf, y[:batch], 0.01)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, hidden=STANDARD, batches=BATCHES,
          samples: int | None = None, repeats: int = 3, progress=None):
    """Yield a Timing per (architecture, batch size), training on x (n, 784) float32, y (n,)."""
    samples = samples or len(x)
    for h in hidden:
        spec = Spec(x.shape[1], h, 10)
        for b in batches:
            if progress:
                progress(str(spec), b)
            model = MLP(spec)
            t_train = time_training(model, x, y, b, samples, repeats)
            t_floor = time_floor(spec.sizes, b, samples, repeats)
            t_infer = time_inference(model, x_test, repeats)
            steps_samples = (samples // b) * b
            yield Timing(str(spec), b, steps_samples / t_train, t_train * len(x) / steps_samples,
                         t_floor * len(x) / steps_samples, len(x_test) / t_infer, peak_memory(spec, x, y, b))
