"""Training health: gradient norms, update/weight ratios, dead units and the loss trend, sampled
cheaply during an epoch; and plain-language alerts computed from the epoch records.

Alerts are pure functions of the records: they suggest, they never change a setting.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EVERY = 10  # sample every EVERY-th batch (and the first)
RELU_LIKE = ("ReLU", "LeakyReLU")


class Probe:
    """Per epoch, over the sampled batches: mean |dW| and |dW_step| / |W| of each weighted layer,
    units of each relu-like layer never active on any sampled row; over every batch, the loss trend."""

    def __init__(self, model):
        self.weighted = [layer for layer in model.layers if layer.params]
        self.acts = [layer for layer in model.layers if type(layer).__name__ in RELU_LIKE]
        self.w0 = [np.empty_like(layer.params[0]) for layer in self.weighted]
        self.reset()

    def reset(self) -> None:
        k = len(self.weighted)
        self.grad, self.ratio, self.samples = [0.0] * k, [0.0] * k, 0
        self.alive: list[np.ndarray | None] = [None] * len(self.acts)
        self.halves = [0.0, 0.0, 0.0, 0.0]  # loss sum and count in the first and second half of the epoch

    def loss(self, loss: float, m: int, progress: float) -> None:
        """Every batch: its mean loss over m samples, `progress` the epoch fraction done after it."""
        h = 0 if progress <= 0.5 else 2
        self.halves[h] += loss * m
        self.halves[h + 1] += m

    def before(self, scale: float) -> None:
        """After backward, before the update; the grads hold scale * dLoss/dW."""
        for i, layer in enumerate(self.weighted):
            g = layer.grads[0]
            self.grad[i] += math.sqrt(float(np.vdot(g, g))) / scale
            np.copyto(self.w0[i], layer.params[0])
        for i, act in enumerate(self.acts):
            active = (act.a > 0).any(axis=0)
            self.alive[i] = active if self.alive[i] is None else np.logical_or(self.alive[i], active, out=self.alive[i])

    def after(self) -> None:
        for i, layer in enumerate(self.weighted):
            w, w0 = layer.params[0], self.w0[i]
            norm = math.sqrt(float(np.vdot(w0, w0)))
            np.subtract(w, w0, out=w0)
            self.ratio[i] += math.sqrt(float(np.vdot(w0, w0))) / max(norm, 1e-12)
        self.samples += 1

    def record(self) -> dict:
        """The epoch's health as flat keys: grad_norm_1.., update_ratio_1.., dead_1.. (share), loss_trend."""
        out: dict = {}
        n = max(self.samples, 1)
        for i in range(len(self.weighted)):
            out[f"grad_norm_{i + 1}"] = self.grad[i] / n
            out[f"update_ratio_{i + 1}"] = self.ratio[i] / n
        for i, alive in enumerate(self.alive):
            if alive is not None:
                out[f"dead_{i + 1}"] = 1.0 - float(alive.mean())
        s1, n1, s2, n2 = self.halves
        out["loss_trend"] = (s2 / n2 - s1 / n1) / max(s1 / n1, 1e-12) if n1 and n2 else 0.0
        return out


def layer_values(record: dict, prefix: str) -> list[float]:
    """[record[prefix_1], record[prefix_2], ...] while present."""
    out, i = [], 1
    while f"{prefix}_{i}" in record:
        out.append(float(record[f"{prefix}_{i}"]))
        i += 1
    return out


@dataclass(frozen=True)
class Alert:
    kind: str  # "diverging" | "vanishing" | "dead" | "overfitting"
    epoch: int
    message: str
    suggestion: str

    @property
    def text(self) -> str:
        return f"{self.message}: {self.suggestion}"


RISE, JUMP = 0.05, 0.02  # rising loss: +5% and +0.02 two epochs running, or doubled
VANISH, DEAD, OVERFIT_DROP, OVERFIT_RISE = 1e-3, 0.5, 0.002, 0.1


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def alerts(history: list[dict], changes: list[dict] = (), latest_loss: float | None = None) -> list[Alert]:
    """What looks wrong in a run's epoch records (oldest first), and what to try; [] when healthy.

    `changes` are the run's live changes ({epoch, batch, field, old, new}); `latest_loss` the
    newest batch loss of a running epoch (a nan there counts as divergence).
    """
    out: list[Alert] = []
    last = history[-1] if history else {}
    epoch = int(last.get("epoch", 0))
    raised = [c for c in changes if c.get("field") == "lr" and _finite(c.get("old"), c.get("new"))
              and c["new"] > c["old"]]
    suggestion = "lr likely too high: undo the change / halve lr" if raised else "lr likely too high: halve lr"
    losses = [h.get("train_loss") for h in history[-3:]]
    rises = [b - a > JUMP and b > a * (1 + RISE) for a, b in zip(losses, losses[1:])] if _finite(*losses) else []
    if latest_loss is not None and not _finite(latest_loss) or last and not _finite(last.get("train_loss"),
                                                                                       last.get("dev_loss")):
        out.append(Alert("diverging", epoch, "loss is not finite", suggestion))
    elif rises and rises[-1] and (losses[-1] > 2 * losses[-2] or all(rises)):
        out.append(Alert("diverging", epoch, f"train loss rising ({losses[-2]:.3g} -> {losses[-1]:.3g})", suggestion))
    elif last and (low := min(history, key=lambda h: h["train_loss"])) and last["train_loss"] > max(
            2 * low["train_loss"], low["train_loss"] + JUMP):
        out.append(Alert("diverging", epoch, f"train loss {last['train_loss']:.3g}, up from {low['train_loss']:.3g} "
                                             f"at epoch {low['epoch']}", suggestion))
    grads = layer_values(last, "grad_norm")
    if len(grads) >= 2 and _finite(*grads) and grads[-1] > 0 and grads[0] < VANISH * grads[-1]:
        out.append(Alert("vanishing", epoch, f"gradients vanish in early layers (layer 1 gets "
                                             f"{grads[0] / grads[-1]:.1e} of the last layer's)",
                         "try relu with he init, fewer layers, or a higher lr"))
    for i, share in enumerate(layer_values(last, "dead"), 1):
        if share > DEAD:
            out.append(Alert("dead", epoch, f"{share:.0%} of layer {i}'s units are dead",
                             "lower the lr, or try leaky_relu"))
    out.extend(overfitting(history))
    return out


def overfitting(history: list[dict]) -> list[Alert]:
    """Dev accuracy fell two epochs running while train accuracy rose, or dev loss rose three running (10% above
    its lowest) while train loss fell."""
    recent = history[-4:]
    keys = ("dev_acc", "train_acc", "dev_loss", "train_loss")
    if len(recent) < 3 or not all(_finite(*(h.get(k) for k in keys)) for h in history):
        return []
    dev, train = [h["dev_acc"] for h in recent[-3:]], [h["train_acc"] for h in recent[-3:]]
    best = max(history, key=lambda h: h["dev_acc"])
    message = None
    if dev[0] > dev[1] > dev[2] and train[2] > train[0] and dev[2] < best["dev_acc"] - OVERFIT_DROP:
        message = "dev accuracy falling while train rises (overfitting)"
    loss, fit = [h["dev_loss"] for h in recent], [h["train_loss"] for h in recent]
    lowest = min(h["dev_loss"] for h in history)
    if (len(recent) == 4 and loss[0] < loss[1] < loss[2] < loss[3] and fit[3] < fit[0]
            and loss[3] > lowest * (1 + OVERFIT_RISE)):
        message = message or "dev loss rising while train loss falls (overfitting)"
    if message is None:
        return []
    return [Alert("overfitting", int(history[-1]["epoch"]), message,
                  f"the best epoch ({best['epoch']}) is kept; stop now? or add l2 / dropout / augment")]
