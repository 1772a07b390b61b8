"""Softmax cross-entropy, fused and numerically stable, and the L2 penalty."""
from __future__ import annotations

import numpy as np


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray, scale: float = 1.0) -> tuple[float, int]:
    """Mean loss and number of correct argmaxes for logits z (n, k) and labels y (n,).

    z is overwritten with scale * dLoss/dz = scale * (softmax(z) - onehot(y)) / n, built by
    indexing (no one-hot array), so the caller passes it straight to backward. A scale of lr
    makes every gradient come out already multiplied by the learning rate, for free.
    """
    n = len(z)
    rows = np.arange(n)
    correct = int(np.count_nonzero(z.argmax(axis=1) == y))
    z -= z.max(axis=1, keepdims=True)
    picked = z[rows, y]  # copy of the true-class logits, shifted
    np.exp(z, out=z)
    total = z.sum(axis=1)
    loss = float(np.mean(np.log(total) - picked))
    z /= total[:, None]
    z[rows, y] -= 1
    z *= scale / n
    return loss, correct


def cross_entropy(proba: np.ndarray, y: np.ndarray) -> float:
    """Mean -log p(true class) for probabilities (n, k), clipped away from log(0)."""
    return float(-np.mean(np.log(np.maximum(proba[np.arange(len(y)), y], 1e-12))))


def l2_penalty(weights: list[np.ndarray], l2: float) -> float:
    """l2 / 2 * sum of squared weights (its gradient, l2 * W, is added by the optimizer)."""
    return 0.5 * l2 * sum(float(np.vdot(w, w)) for w in weights)
