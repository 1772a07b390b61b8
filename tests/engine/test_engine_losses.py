"""The fused softmax cross-entropy, cross_entropy on probabilities, and the L2 penalty.

(Their numerical gradient checks are in tests/models/test_models_gradients.py, beside the checker.)
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.losses import cross_entropy, l2_penalty, softmax_cross_entropy


def naive(z, y):
    """Textbook softmax, log and one-hot in float64."""
    z = np.asarray(z, np.float64)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(z.shape[1])[y]
    loss = -np.mean(np.log(p[np.arange(len(y)), y]))
    return loss, (p - onehot) / len(y), int((z.argmax(axis=1) == y).sum())


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_matches_the_naive_computation(dtype, rtol):
    rng = np.random.default_rng(0)
    z, y = (rng.standard_normal((20, 10)) * 4).astype(dtype), rng.integers(0, 10, 20)
    want_loss, want_grad, want_correct = naive(z, y)
    g = z.copy()
    loss, correct = softmax_cross_entropy(g, y)
    assert isinstance(loss, float) and isinstance(correct, int)
    assert loss == pytest.approx(want_loss, rel=rtol)
    assert correct == want_correct
    assert g.dtype == dtype, "the gradient stays in the logits' dtype (no float64 one-hot)"
    np.testing.assert_allclose(g, want_grad, rtol=rtol * 10, atol=rtol * 1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_logits(dtype):
    z = np.array([[1e4, 0, -1e4], [1e4, 0, -1e4], [-1e4, 1e4, 1e4], [5e3, 5e3, 5e3]], dtype)
    y = np.array([0, 1, 2, 1])
    loss, correct = softmax_cross_entropy(z, y)
    assert np.isfinite(loss) and np.isfinite(z).all()
    # row losses: 0, 1e4, log 2, log 3
    assert loss == pytest.approx((0 + 1e4 + np.log(2) + np.log(3)) / 4, rel=1e-6)
    assert correct == 1  # only row 0: ties go to the first class, which is not the label in rows 2 and 3
    np.testing.assert_allclose(z.sum(axis=1), 0, atol=1e-6)  # softmax - onehot sums to zero per row


def test_overwrites_its_input_with_the_gradient():
    z = np.array([[2.0, 1.0, 0.0]])
    original = z.copy()
    softmax_cross_entropy(z, np.array([0]))
    assert not np.array_equal(z, original)
    np.testing.assert_allclose(z, naive(original, np.array([0]))[1])


def test_cross_entropy_on_probabilities():
    p = np.array([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]], np.float32)
    assert cross_entropy(p, np.array([0, 2])) == pytest.approx(-(np.log(0.5) + np.log(0.7)) / 2, rel=1e-6)
    assert cross_entropy(p, np.array([2, 2])) == pytest.approx(-(np.log(1e-12) + np.log(0.7)) / 2, rel=1e-6)


def test_l2_penalty():
    W1, W2 = np.full((2, 3), 2.0), np.array([[1.0, -1.0]])
    assert l2_penalty([W1, W2], 0.1) == pytest.approx(0.5 * 0.1 * (6 * 4 + 2))
    assert l2_penalty([W1], 0.0) == 0.0
