"""Timing the engine: training and inference throughput, each step against its matrix-product floor, and
(for conv nets) each layer's share of the step."""
from __future__ import annotations

import time
import tracemalloc
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from models import MLP, Spec
from models.conv import Conv2D

from .config import TrainConfig
from .health import EVERY, Probe
from .threads import Blas, cores
from .threads import plan as plan_threads
from .trainer import Twin, make_optimizer, step

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


def best_times(runs: list, repeats: int) -> list[float]:
    """Each callable's best time over `repeats` rounds, run in turn within each round, so that a
    slow spell of the machine touches them all alike and their ratio stays fair."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            t = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def training_run(model: MLP, x: np.ndarray, y: np.ndarray, batch: int, samples: int, threads: int | None = None):
    """A callable training on `samples` digits: the trainer's own step on shuffled, gathered batches.

    `threads`: None leaves the BLAS as it is; 0 chooses the count per step as the trainer does (a fresh
    choice, probes included, on every call); a number sets it for the call.
    """
    opt = make_optimizer(model, TrainConfig(optimizer="momentum", lr=0.01))
    rng = np.random.default_rng(0)
    buf = np.empty((batch, x.shape[1]), np.float32)
    steps = samples // batch

    probe = Probe(model)
    twin = Twin(model) if model.spec.conv else None  # a conv net trains two half-batches at once, as train() does

    def run(count: int = steps):
        order = rng.permutation(len(x))
        chooser, blas = (None, None) if threads is None else plan_threads(threads)
        if blas is None and twin:
            blas = Blas()  # the workers share the cores the BLAS has now
        cores = chooser.chooser.threads if chooser else (blas.threads or 1) if blas else 1

        def use(n: int) -> None:
            if blas:
                blas.set(Twin.blas_threads(n) if twin else n)

        use(cores)
        for i in range(count):
            t = time.perf_counter()
            idx = order[(i * batch) % (len(x) - batch):][:batch]
            np.take(x, idx, axis=0, out=buf)
            step(model, opt, buf, y[idx], 0.01, probe if i % EVERY == 0 else None,  # health sampled as train() does
                 twin if cores > 1 else None)
            if chooser and chooser.chooser.record(time.perf_counter() - t, batch) is not None:
                cores = chooser.chooser.threads
                use(cores)
        if blas:
            blas.restore()

    run(min(20, steps))  # warm up: buffers, BLAS threads
    return run


def floor_run(x: np.ndarray, sizes: tuple[int, ...], batch: int, samples: int):
    """A callable doing only the matrix products of `samples // batch` training steps (same shapes, same BLAS).

    Each step reads the next `batch` rows of x, as a real step reads a fresh batch: a floor that
    multiplied one cached input over and over would be lower than any training step can reach.
    """
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes[:-1], sizes[1:])]
    acts = [np.empty((batch, s), np.float32) for s in sizes[1:]]
    grads = [rng.standard_normal((batch, s), dtype=np.float32) * 0.01 for s in sizes[1:]]
    dW = [np.empty_like(w) for w in W]
    steps = samples // batch

    def run():
        for k in range(steps):
            start = (k * batch) % (len(x) - batch)
            inputs = [x[start:start + batch], *acts]
            for i, w in enumerate(W):
                np.matmul(inputs[i], w, out=acts[i])
            for i in range(len(W) - 1, -1, -1):
                np.matmul(inputs[i].T, grads[i], out=dW[i])
                if i:
                    np.matmul(grads[i], W[i].T, out=grads[i - 1])

    run()
    return run


def conv_floor_run(spec: Spec, batch: int, samples: int):
    """The matrix products of a conv net's `samples // batch` training steps alone, as the layers lower them
    (models.conv.Conv2D): per conv layer the forward product, dW, and (except the first layer) dx; lowered by
    patches, (M, k*k*c) x (k*k*c, f) with dx from the output gradient's patches and the flipped kernel; by rows,
    (M, k*c) x (k*c, k*f) with dW and dx through the spread gradient (M, k*f). Then the dense layers' products."""
    rng = np.random.default_rng(0)
    k, side, c, prods = spec.kernel, spec.side, 1, []

    def product(a: tuple[int, int], b: tuple[int, int], transposed: bool = False) -> None:
        left = rng.random(a[::-1] if transposed else a, dtype=np.float32)
        prods.append((left.T if transposed else left, rng.random(b, dtype=np.float32),
                      np.empty((a[0], b[1]), np.float32)))

    for i, f in enumerate(spec.conv):
        m = batch * side * side
        if Conv2D.lowering_for(c) == "rows":
            product((m, k * c), (k * c, k * f))
            product((k * c, m), (m, k * f), transposed=True)
            if i:
                product((m, k * f), (k * f, k * c))
        else:
            product((m, k * k * c), (k * k * c, f), transposed=True)
            product((k * k * c, m), (m, f))
            if i:
                product((m, k * k * f), (k * k * f, c))
        side, c = side // 2, f
    for a, b in zip(spec.sizes[:-1], spec.sizes[1:]):
        x, W, g = (rng.random(s, dtype=np.float32) for s in ((batch, a), (a, b), (batch, b)))
        prods += [(x, W, np.empty((batch, b), np.float32)), (x.T, g, np.empty((a, b), np.float32)),
                  (g, W.T, np.empty((batch, a), np.float32))]
    steps = samples // batch

    def run():
        for _ in range(steps):
            for a, b, out in prods:
                np.matmul(a, b, out=out)

    run()
    return run


def layer_shares(model: MLP, x: np.ndarray, y: np.ndarray, batch: int, steps: int = 20) -> list[tuple[str, float]]:
    """(layer, fraction of the step) for forward + backward of each layer, and the loss + update, over `steps`
    training steps on fresh batches; the fractions add up to 1."""
    from .losses import softmax_cross_entropy

    opt = make_optimizer(model, TrainConfig(optimizer="momentum", lr=0.01))
    names = [f"{i + 1} {type(layer).__name__}" + (f" {layer.W.shape[1]}" if hasattr(layer, "W") else "")
             for i, layer in enumerate(model.layers)]
    spent = dict.fromkeys([*names, "loss + update"], 0.0)
    rng, buf = np.random.default_rng(1), np.empty((batch, x.shape[1]), np.float32)
    for s in range(steps + 2):  # two warm-up steps, not counted
        count = s >= 2
        np.take(x, rng.integers(0, len(x), batch), axis=0, out=buf)
        h = buf
        for name, layer in zip(names, model.layers):
            t = time.perf_counter()
            h = layer.forward(h, True)
            spent[name] += (time.perf_counter() - t) * count
        t = time.perf_counter()
        softmax_cross_entropy(h, y[:batch], 0.01)
        spent["loss + update"] += (time.perf_counter() - t) * count
        for i in range(len(model.layers) - 1, -1, -1):
            t = time.perf_counter()
            h = model.layers[i].backward(h, need_input_grad=False) if i == 0 else model.layers[i].backward(h)
            spent[names[i]] += (time.perf_counter() - t) * count
        t = time.perf_counter()
        opt.update(0.01, True)
        spent["loss + update"] += (time.perf_counter() - t) * count
    total = sum(spent.values())
    return [(name, t / total) for name, t in spent.items()]


def inference_run(model: MLP, x: np.ndarray):
    model.predict_proba(x[:1000])
    return lambda: model.predict_proba(x)


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
          samples: int | None = None, repeats: int = 3, progress=None, conv: tuple[int, ...] = (), kernel: int = 5):
    """Yield a Timing per (architecture, batch size), training on x (n, 784) float32, y (n,); with `conv`,
    every architecture gets those conv blocks in front."""
    samples = samples or len(x)
    for h in hidden:
        spec = Spec(x.shape[1], h, 10, conv=conv, kernel=kernel)
        for b in batches:
            if progress:
                progress(str(spec), b)
            model = MLP(spec)
            floor = conv_floor_run(spec, b, samples) if conv else floor_run(x, spec.sizes, b, samples)
            runs = [training_run(model, x, y, b, samples), floor, inference_run(model, x_test)]
            t_train, t_floor, t_infer = best_times(runs, repeats)
            steps_samples = (samples // b) * b
            yield Timing(str(spec), b, steps_samples / t_train, t_train * len(x) / steps_samples,
                         t_floor * len(x) / steps_samples, len(x_test) / t_infer, peak_memory(spec, x, y, b))


@dataclass(frozen=True)
class LoadTiming:
    spec: str
    batch: int
    threads: str  # "1", "2", ... or "auto"
    alone: float  # training samples per second
    loaded: float  # the same beside a busy process

    @property
    def ratio(self) -> float:
        return self.loaded / self.alone


def load_bench(x: np.ndarray, y: np.ndarray, busy, hidden=((512, 256),), batches=(128,), samples: int | None = None,
               repeats: int = 3, progress=None):
    """Yield a LoadTiming per (architecture, batch size, thread count): 1, all cores, and chosen as the trainer does.

    `busy()` is a context manager that keeps another process busy while it is open; alone and loaded
    rounds alternate, so a slow spell of the machine touches both alike. Best of `repeats` each.
    """
    samples = samples or len(x)
    counts = [str(c) for c in sorted({1, cores()})] + ["auto"]
    for h in hidden:
        spec = Spec(x.shape[1], h, 10)
        for b in batches:
            for c in counts:
                if progress:
                    progress(str(spec), b, c)
                run = training_run(MLP(spec), x, y, b, samples, 0 if c == "auto" else int(c))
                best = {"alone": float("inf"), "loaded": float("inf")}
                for _ in range(repeats):
                    for where in best:
                        with busy() if where == "loaded" else nullcontext():
                            t = time.perf_counter()
                            run()
                            best[where] = min(best[where], time.perf_counter() - t)
                done = (samples // b) * b
                yield LoadTiming(str(spec), b, c, done / best["alone"], done / best["loaded"])
