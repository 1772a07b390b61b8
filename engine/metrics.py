"""Accuracy, confusion matrix and per-class precision / recall / F1."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .losses import cross_entropy


def accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(y == pred)) if len(y) else 0.0


def confusion(y: np.ndarray, pred: np.ndarray, k: int = 10) -> np.ndarray:
    """(k, k) int64 counts; row = true class, column = predicted class."""
    return np.bincount(y.astype(np.int64) * k + pred, minlength=k * k).reshape(k, k)


def per_class(conf: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, f1 and support (k,) from a confusion matrix (0 where undefined)."""
    tp = np.diag(conf).astype(np.float64)
    predicted, actual = conf.sum(axis=0), conf.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual}


@dataclass(frozen=True)
class Evaluation:
    """A model's results on one labeled set."""

    loss: float
    accuracy: float
    confusion: np.ndarray  # (10, 10) int64
    proba: np.ndarray  # (n, 10) float32

    @property
    def pred(self) -> np.ndarray:
        return self.proba.argmax(axis=1)


def evaluate(model, x: np.ndarray, y: np.ndarray) -> Evaluation:
    """Loss, accuracy, confusion and probabilities of `model` on x (n, 784) float32, y (n,)."""
    proba = model.predict_proba(x)
    pred = proba.argmax(axis=1)
    return Evaluation(cross_entropy(proba, y), accuracy(y, pred), confusion(y, pred, proba.shape[1]), proba)
