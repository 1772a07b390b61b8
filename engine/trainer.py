"""The training loop: shuffled mini-batches, live settings, early stopping, events."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from models import MLP, SpecError
from models.mlp import check_inputs

from .augment import Augmenter
from .checkpoints import Checkpoint, generators
from .config import TrainConfig, parse_augment
from .control import Control
from .events import (
    BatchEnded,
    EarlyStopping,
    EpochEnded,
    Finished,
    Paused,
    Resumed,
    RunStarted,
    SettingsChanged,
    ThreadsChosen,
    frozen,
)
from .health import EVERY, Probe
from .losses import softmax_cross_entropy
from .metrics import evaluate
from .optim import OPTIMIZERS, clip_norms
from .schedule import learning_rate
from .threads import plan as plan_threads

Listener = Callable[[object], None]


@dataclass
class Result:
    """How a run ended and what it reached; `model` holds the best weights."""

    model: MLP
    stop: str  # "max-epochs" | "early-stopped" | "stopped" | "diverged"
    reason: str  # one line for people
    epochs: int  # epochs completed
    best_epoch: int
    dev_acc: float  # at the best epoch
    dev_loss: float
    seconds: float  # training time, pauses excluded
    samples_per_sec: float
    history: list[dict] = field(default_factory=list)
    threads: int = 0  # BLAS threads in use at the end (0: no BLAS found)
    threads_mode: str = "auto"  # auto (by measurement) | config | pinned | env (OPENBLAS/OMP_NUM_THREADS) | none

    def summary(self) -> dict:
        return {"stop": self.stop, "stop_reason": self.reason, "epochs": self.epochs, "best_epoch": self.best_epoch,
                "dev_accuracy": self.dev_acc, "dev_loss": self.dev_loss, "seconds": self.seconds,
                "samples_per_sec": self.samples_per_sec, "threads": self.threads, "threads_mode": self.threads_mode}


class Monitor:
    """Early-stopping bookkeeping: best value, its epoch, epochs since, and the best weights."""

    def __init__(self, metric: str, patience: int, min_delta: float):
        self.metric, self.patience, self.min_delta = metric, patience, min_delta
        self.sign = 1.0 if metric == "dev_acc" else -1.0  # larger is better for accuracy
        self.best, self.best_epoch, self.bad, self.weights = -math.inf, 0, 0, None

    def update(self, epoch: int, value: float, model: MLP) -> bool:
        """Record an epoch's value; returns True when it is an improvement."""
        if self.sign * value > self.best + self.min_delta or self.best_epoch == 0:
            self.best, self.best_epoch, self.bad = self.sign * value, epoch, 0
            self.weights = model.get_weights()
            return True
        self.bad += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.patience > 0 and self.bad >= self.patience

    def state(self) -> EarlyStopping:
        return EarlyStopping(self.metric, self.sign * self.best if self.best_epoch else math.nan,
                             self.best_epoch, self.bad, self.patience)


def step(model: MLP, opt, xb: np.ndarray, yb: np.ndarray, lr: float, probe: Probe | None = None,
         twin: Twin | None = None) -> tuple[float, int]:
    """One mini-batch: forward, fused loss, backward, update. Returns (loss, correct); no update if the loss
    is not finite. A `probe` samples gradient norms, unit activity and the update's size on this batch.
    With a `twin`, the second half of the batch goes forward and back on it in another thread, at the same
    time as the first half here; the update is the sum of both halves' gradients, as one batch's. (The
    probe's steps are split too: a model whose batch shape changed would reallocate, and page in, its
    buffers, 160 MB of patches for c32-c64, twice every probed step.)"""
    scale = lr if opt.takes_scaled else 1.0
    if scale == 0:  # a cosine schedule's very last batch: gradients scaled by lr 0 say nothing of their size
        probe = None
    m = len(xb)
    if twin is None or m < 2:
        loss, correct = _forward_backward(model, xb, yb, scale)
    else:
        half = m // 2
        other = twin.pool.submit(_forward_backward, twin.model, xb[half:], yb[half:], scale * (m - half) / m)
        loss, correct = _forward_backward(model, xb[:half], yb[:half], scale * half / m)
        loss_b, correct_b = other.result()
        loss, correct = (loss * half + loss_b * (m - half)) / m, correct + correct_b
        if math.isfinite(loss):
            for g, h in zip(model.grads, twin.model.grads):
                g += h
    if math.isfinite(loss):
        if probe is not None:
            probe.before(scale)
        opt.update(lr, opt.takes_scaled)
        if probe is not None:
            probe.after()
    return loss, correct


def _forward_backward(model: MLP, xb: np.ndarray, yb: np.ndarray, scale: float) -> tuple[float, int]:
    """Fills the model's gradients for (xb, yb), each multiplied by `scale` / len(xb); returns (loss, correct)."""
    z = model.forward(xb, train=True)
    loss, correct = softmax_cross_entropy(z, yb, scale)
    if math.isfinite(loss):
        model.backward(z)
    return loss, correct


class Twin:
    """A conv net's second worker: a twin of the model (models.MLP.twin) and the thread it runs in.

    A conv net's step is half matrix products and half copies, pooling and elementwise work that NumPy
    runs on one core; so on two cores a conv net trains two half-batches at once, each with one BLAS
    thread, where an MLP (nearly all matrix products) gives BLAS both threads. For a conv net `threads`
    counts these workers: 1 runs the whole batch in the training thread, 2 the two halves at once."""

    def __init__(self, model: MLP):
        from concurrent.futures import ThreadPoolExecutor

        self.model = model.twin()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="nn-tui-twin")

    @staticmethod
    def blas_threads(threads: int) -> int:
        """BLAS threads per worker when a conv net runs on `threads` cores: the two workers share them."""
        return max(1, threads // 2)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def make_optimizer(model: MLP, cfg: TrainConfig):
    decay = [p.ndim == 2 for p in model.params]
    return OPTIMIZERS[cfg.optimizer](model.params, model.grads, decay, momentum=cfg.momentum, l2=cfg.l2)


def train(model: MLP, x: np.ndarray, y: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
          cfg: TrainConfig, listener: Listener | None = None, control: Control | None = None,
          report_every: float = 0.1, checkpoint: Callable[[Checkpoint], None] | None = None,
          start: Checkpoint | None = None) -> Result:
    """Train `model` in place on x (n, 784) float32, y (n,) and return how it went.

    Never touches a test set. Emits events to `listener`; obeys `control` between batches.
    The best weights by `cfg.monitor` on the dev set are restored at the end.
    `checkpoint` is handed the full training state before the first batch and after every epoch
    (to be written at once); `start` continues from such a state, with cfg's settings: given the
    same settings and BLAS threads, the epochs after it are those the first run would have trained.
    Running out of memory (a large network, a large batch) ends in SpecError, one line, not a MemoryError.
    """
    check_inputs(model.spec, x)
    try:
        return _train(model, x, y, x_dev, y_dev, cfg, listener, control, report_every, checkpoint, start)
    except MemoryError:
        raise SpecError(f"not enough memory to train the {model.spec} network ({model.spec.n_params():,} weights) "
                        f"with batches of {cfg.batch_size}: choose fewer or smaller layers") from None


def _train(model: MLP, x: np.ndarray, y: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
           cfg: TrainConfig, listener: Listener | None, control: Control | None, report_every: float,
           checkpoint: Callable[[Checkpoint], None] | None, start: Checkpoint | None) -> Result:
    emit = listener if listener is not None else (lambda event: None)
    control = control or Control()
    rng = np.random.default_rng([cfg.seed, 1])
    augment = Augmenter(parse_augment(cfg.augment), np.random.default_rng([cfg.seed, 2])) if cfg.augment else None
    opt = make_optimizer(model, cfg)
    twin = Twin(model) if model.spec.conv else None
    rngs = {"order": rng, **({"augment": augment.rng} if augment else {}), **generators(model),
            **({f"twin.{k}": g for k, g in generators(twin.model).items()} if twin else {})}
    probe = Probe(model)
    weights = [p for p in model.params if p.ndim == 2]
    base_lr, batch_size = cfg.lr, cfg.batch_size
    monitor = Monitor(cfg.monitor, cfg.patience, cfg.min_delta)
    n, history, first, offset = len(x), [], 1, 0.0
    if start is not None:
        start.restore(model, opt, rngs, monitor)
        history = [dict(h) for h in start.history if h["epoch"] <= start.epoch]
        first, offset = start.epoch + 1, start.elapsed
    initial = model.get_weights()  # put back if the run diverges before any epoch is evaluated
    stop, reason, done, pos = "max-epochs", "", first - 1, 0  # done: epochs completed and evaluated

    def settings() -> dict:
        return {"lr": base_lr, "l2": opt.l2, "momentum": opt.momentum, "batch_size": batch_size}

    def save(epoch: int, elapsed: float) -> None:
        if checkpoint is not None:
            checkpoint(Checkpoint.capture(epoch, model, opt, rngs, monitor, settings(), elapsed))

    emit(RunStarted(cfg.to_dict(), str(model.spec), n, len(x_dev), math.ceil(n / batch_size), first - 1,
                    tuple(history)))
    save(first - 1, offset)
    plan, blas = plan_threads(cfg.threads)
    chooser = plan.chooser

    def use(threads: int) -> None:
        if plan.mode != "none":
            blas.set(Twin.blas_threads(threads) if twin else threads)

    use(chooser.threads)
    x_buf: dict[int, np.ndarray] = {}
    t_run, paused = time.perf_counter() - offset, 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(first, cfg.epochs + 1):
            order = rng.permutation(n)
            t_epoch, paused_epoch = time.perf_counter(), 0.0
            pos = batch = 0
            epoch_loss = epoch_correct = 0.0
            win_loss = win_correct = win_n = 0.0
            t_report = time.perf_counter()
            lr = base_lr
            probe.reset()
            while pos < n:
                if control.stopping:
                    break
                if control.paused:
                    t_pause = time.perf_counter()
                    emit(Paused(epoch, batch))
                    control.wait_if_paused()
                    paused_epoch += time.perf_counter() - t_pause
                    emit(Resumed(epoch, batch))
                    t_report = time.perf_counter()
                    continue
                changes = control.take_changes()
                if changes:
                    previous = {k: v for k, v in settings().items() if k in changes}
                    base_lr = changes.get("lr", base_lr)
                    opt.l2 = changes.get("l2", opt.l2)
                    opt.momentum = changes.get("momentum", opt.momentum)
                    batch_size = int(changes.get("batch_size", batch_size))
                    emit(SettingsChanged(changes, epoch, batch, previous))
                t_step = time.perf_counter()
                idx = order[pos:pos + batch_size]
                pos += len(idx)
                batch += 1
                m = len(idx)
                xb = x_buf.get(m)
                if xb is None:
                    xb = x_buf[m] = np.empty((m, x.shape[1]), x.dtype)
                np.take(x, idx, axis=0, out=xb)
                yb = y[idx]
                lr = learning_rate(cfg.schedule, base_lr, epoch - 1 + pos / n, cfg.epochs, cfg.decay_every,
                                   cfg.decay_rate)
                loss, correct = step(model, opt, augment(xb) if augment else xb, yb, lr,
                                     probe if batch % EVERY == 1 else None, twin if chooser.threads > 1 else None)
                probe.loss(loss, m, pos / n)
                if not math.isfinite(loss):
                    stop, reason = "diverged", f"diverged: loss became {loss} at epoch {epoch}, batch {batch}"
                    break
                if cfg.max_norm:
                    clip_norms(weights, cfg.max_norm)
                decided = len(chooser.decisions)
                if chooser.record(time.perf_counter() - t_step, m) is not None:
                    use(chooser.threads)
                if len(chooser.decisions) > decided:
                    d = chooser.decisions[-1]
                    emit(ThreadsChosen(d.threads, d.timings, d.switched, epoch, batch))
                epoch_loss += loss * m
                epoch_correct += correct
                win_loss += loss * m
                win_correct += correct
                win_n += m
                now = time.perf_counter()
                if now - t_report >= report_every:
                    emit(BatchEnded(epoch, batch, batch + math.ceil((n - pos) / batch_size), epoch - 1 + pos / n,
                                    win_loss / win_n, win_correct / win_n, lr,
                                    pos / max(now - t_epoch - paused_epoch, 1e-9), chooser.threads))
                    win_loss = win_correct = win_n = 0.0
                    t_report = now
            paused += paused_epoch
            if stop == "diverged":
                break
            if pos < n:  # stopped before the epoch ended: a partial epoch is not evaluated
                stop = "stopped"
                break
            seconds = time.perf_counter() - t_epoch - paused_epoch
            dev = evaluate(model, x_dev, y_dev)
            improved = monitor.update(epoch, dev.accuracy if cfg.monitor == "dev_acc" else dev.loss, model)
            event = EpochEnded(epoch, cfg.epochs, epoch_loss / n, epoch_correct / n, dev.loss, dev.accuracy, lr,
                               seconds, time.perf_counter() - t_run - paused, n / seconds, monitor.state(), improved,
                               frozen(dev.confusion), frozen(dev.proba), probe.record(), threads=chooser.threads)
            history.append(event.record())
            done = epoch
            emit(event)
            save(epoch, event.elapsed)
            if control.stopping:
                stop = "stopped"
                break
            if monitor.exhausted:
                stop = "early-stopped"
                break
    if stop == "max-epochs":
        reason = f"max epochs ({cfg.epochs}) reached"
    elif stop == "early-stopped":
        reason = (f"early-stopped at epoch {done}, best epoch {monitor.best_epoch} "
                  f"({cfg.monitor} did not improve for {monitor.patience} epochs)")
    elif stop == "stopped":
        reason = ("stopped by user before the first epoch ended" if done == 0 and pos < n
                  else f"stopped by user during epoch {done + 1}" if 0 < pos < n
                  else f"stopped by user after epoch {done}")
    if plan.mode != "none":
        blas.restore()
    if twin:
        twin.close()
    if monitor.weights is not None:
        model.set_weights(monitor.weights)
    elif stop == "diverged":  # no epoch to go back to: the weights that blew up may be inf or nan
        model.set_weights(initial)
    best = next((h for h in history if h["epoch"] == monitor.best_epoch), None)
    total = time.perf_counter() - t_run - paused
    trained = sum(h["seconds"] for h in history[first - 1:])
    result = Result(model, stop, reason, done, monitor.best_epoch,
                    best["dev_acc"] if best else math.nan, best["dev_loss"] if best else math.nan,
                    total, n * (len(history) - first + 1) / trained if trained else 0.0, history, chooser.threads,
                    plan.mode)
    emit(Finished(result))
    return result
