"""Looking inside a trained model: hidden activations, first-layer weights (or a conv net's first-layer
filters and feature maps), dead units, robustness to damaged digits, confidence thresholds, and the
mistakes of one confusion cell."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .augment import affine

HIDDEN_ACTIVATIONS = ("ReLU", "LeakyReLU", "Tanh", "Sigmoid")
DAMAGE = {  # kind -> (strengths, unit) shown by default
    "noise": ((0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), "sd"),
    "rotate": ((0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0), "°"),
    "shift": ((0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0), "px"),
}
THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def activations(model, x: np.ndarray, chunk: int | None = None) -> list[np.ndarray]:
    """Hidden activations: one (n, units) float32 array per hidden dense layer, for x (n, 784) or (784,)."""
    x = np.asarray(x, np.float32).reshape(-1, model.spec.inputs)
    chunk = chunk or (256 if model.spec.conv else 4096)
    parts: list[list[np.ndarray]] = []
    for i in range(0, len(x), chunk):
        h, found, dense = x[i:i + chunk], [], not model.spec.conv
        for layer in model.layers:
            h = layer.forward(h)
            dense = dense or type(layer).__name__ == "Flatten"  # a conv block's activations are feature maps
            if dense and type(layer).__name__ in HIDDEN_ACTIVATIONS:
                found.append(h)
        parts.append(found)
    return [np.concatenate([p[k] for p in parts]) for k in range(len(model.spec.hidden))] if parts else []


def unit_weights(model, unit: int) -> np.ndarray:
    """(28, 28) float32: the first layer's incoming weights of hidden unit `unit`, as an image (MLPs only)."""
    W = model.dense[0].W
    if not 0 <= unit < W.shape[1]:
        raise IndexError(f"unit {unit} is outside 0..{W.shape[1] - 1}")
    side = int(round(np.sqrt(W.shape[0])))
    return W[:, unit].reshape(side, side).copy()


def filters(model) -> np.ndarray:
    """(f, k, k) float32: a conv net's first-layer filters, each as a small image."""
    conv = model.convs[0]
    k = conv.k
    return np.ascontiguousarray(conv.W.reshape(k, k, -1).transpose(2, 0, 1))


def feature_maps(model, x: np.ndarray) -> list[np.ndarray]:
    """A conv net's view of one digit x (784,): per conv block, (c, h, w) float32 after conv, pooling and
    activation (28x28 input: (32, 14, 14), then (64, 7, 7) for c32-c64)."""
    h = np.asarray(x, np.float32).reshape(1, model.spec.inputs)
    maps = []
    for layer in model.layers:
        if type(layer).__name__ == "Flatten":
            break
        h = layer.forward(h)
        if type(layer).__name__ in HIDDEN_ACTIVATIONS:  # the end of a block
            maps.append(np.ascontiguousarray(h[0].transpose(2, 0, 1)))
    return maps


def dead_units(model, x: np.ndarray) -> list[np.ndarray] | None:
    """Per hidden layer, (units,) bool: never active (output <= 0) on any row of x.

    Only relu-like units can die; None for tanh or sigmoid networks.
    """
    if model.spec.activation not in ("relu", "leaky_relu"):
        return None
    return [~(a > 0).any(axis=0) for a in activations(model, x)]


def dead_share(model, x: np.ndarray) -> float | None:
    """Share of all hidden relu units that are never active on x (None when not a relu network)."""
    dead = dead_units(model, x)
    if dead is None:
        return None
    return float(sum(d.sum() for d in dead) / sum(d.size for d in dead))


def damage(x: np.ndarray, kind: str, strength: float, seed: int = 0) -> np.ndarray:
    """x (n, 784) float32 in [0, 1] damaged at exactly `strength`; same seed, same damage.

    noise: Gaussian pixel noise of that standard deviation, clipped to [0, 1];
    rotate: turned by that many degrees, clockwise or anticlockwise at random;
    shift: moved by that many pixels in a random direction.
    """
    n = len(x)
    rng = np.random.default_rng([seed, list(DAMAGE).index(kind) if kind in DAMAGE else 99])
    if kind == "noise":
        out = x + rng.standard_normal(x.shape, dtype=np.float32) * np.float32(strength)
        return np.clip(out, 0, 1, out=out)
    zero = np.zeros(n, np.float32)
    if kind == "rotate":
        sign = np.where(rng.random(n) < 0.5, -1, 1).astype(np.float32)
        return affine(x, sign * np.float32(np.deg2rad(strength)), zero, zero)
    if kind == "shift":
        theta = rng.uniform(0, 2 * np.pi, n)
        dy, dx = (strength * np.sin(theta)).astype(np.float32), (strength * np.cos(theta)).astype(np.float32)
        return affine(x, zero, dy, dx)
    raise ValueError(f"unknown damage {kind!r}; choose from {', '.join(DAMAGE)}")


@dataclass(frozen=True)
class Curve:
    """Accuracy on damaged digits at each strength of one kind of damage."""

    kind: str
    unit: str
    strengths: tuple[float, ...]
    accuracy: tuple[float, ...]


def robustness(model, x: np.ndarray, y: np.ndarray, kinds: dict[str, tuple[float, ...]] | None = None,
               seed: int = 0) -> list[Curve]:
    """One Curve per kind of damage: accuracy of `model` on x (n, 784), y (n,) damaged at each strength."""
    kinds = kinds or {k: s for k, (s, _) in DAMAGE.items()}
    curves = []
    for kind, strengths in kinds.items():
        acc = tuple(float(np.mean(model.predict(damage(x, kind, s, seed)) == y)) for s in strengths)
        curves.append(Curve(kind, DAMAGE[kind][1], tuple(float(s) for s in strengths), acc))
    return curves


@dataclass(frozen=True)
class Threshold:
    """Answering only when the top probability is at least `t`."""

    t: float
    answered: int  # how many digits get an answer
    total: int
    correct: int  # how many of the answered ones are right

    @property
    def coverage(self) -> float:
        return self.answered / self.total if self.total else 0.0

    @property
    def accuracy(self) -> float | None:
        """Accuracy on the answered digits; None when none is answered."""
        return self.correct / self.answered if self.answered else None


def thresholds(proba: np.ndarray, y: np.ndarray, ts=THRESHOLDS) -> list[Threshold]:
    """For each threshold t: how many digits (proba (n, 10)) have max probability >= t, and how many
    of those are right."""
    top, right = proba.max(axis=1), proba.argmax(axis=1) == y
    return [Threshold(float(t), int((top >= t).sum()), len(y), int((right & (top >= t)).sum())) for t in ts]


def cell(proba: np.ndarray, y: np.ndarray, true: int, pred: int) -> np.ndarray:
    """Indices of the digits of class `true` predicted as `pred`, most confident first
    (for a diagonal cell, the least sure first: the near misses)."""
    guess = proba.argmax(axis=1)
    idx = np.flatnonzero((y == true) & (guess == pred))
    p = proba[idx, pred]
    order = np.argsort(p if true == pred else -p, kind="stable")
    return idx[order]


def top(proba: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The k likeliest classes of one digit's probabilities (10,), as (class, probability)."""
    order = np.argsort(-proba, kind="stable")[:k]
    return [(int(c), float(proba[c])) for c in order]
