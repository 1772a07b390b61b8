"""Shared pieces for the models tests: a numerical gradient checker and small networks."""
from __future__ import annotations

import numpy as np
import pytest

from models import MLP, Spec


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f() with respect to x, which f reads and we perturb in place."""
    grad = np.zeros(x.shape, np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_gradient(f, x: np.ndarray, analytic: np.ndarray, tol: float = 1e-6, eps: float = 1e-6) -> float:
    """Assert that `analytic` is dL/dx for L = f(), by central differences; returns the relative error.

    x must be float64 and be the very array f reads (it is nudged in place and put back).
    """
    assert x.dtype == np.float64, "check gradients in float64"
    analytic = np.asarray(analytic, np.float64)
    assert analytic.shape == x.shape, f"gradient shape {analytic.shape} != {x.shape}"
    numeric = numerical_gradient(f, x, eps)
    assert np.linalg.norm(numeric) > 1e-8, "the numerical gradient is zero: the check would prove nothing"
    error = float(np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric)))
    assert error < tol, f"relative gradient error {error:.3g} >= {tol:g}"
    return error


@pytest.fixture
def gradcheck():
    """check_gradient(f, x, analytic, tol=1e-6): the one gradient checker every test uses."""
    return check_gradient


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def small_spec():
    return Spec(inputs=12, hidden=(7, 5), classes=4, activation="tanh", init="xavier", seed=3)


@pytest.fixture
def digit_model():
    """A 784-16-10 float32 network with non-zero biases, as saved and loaded by checkpoints."""
    model = MLP(Spec(784, (16,), 10, "relu", "he", 0.0, seed=7))
    bias_rng = np.random.default_rng(8)
    for layer in model.dense:
        layer.b[...] = bias_rng.standard_normal(layer.b.shape).astype(np.float32)
    return model


@pytest.fixture
def digits(rng):
    """(50, 784) float32 in [0, 1]."""
    return rng.random((50, 784), dtype=np.float32)
