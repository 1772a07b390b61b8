"""Optimizer steps against textbook formulas, the periodic flush of tiny state, max-norm."""
from __future__ import annotations

import numpy as np
import pytest

from engine.optim import FLUSH_EVERY, OPTIMIZERS, SGD, TINY, Adam, Momentum, Nesterov, clip_norms

MU, L2, LRS = 0.8, 0.01, (0.1, 0.05, 0.2)  # a new rate each step: it applies to the new gradient


class Reference:
    """The rules as written in textbooks, on copies, one parameter at a time."""

    def __init__(self, name, params, decay):
        self.name, self.decay = name, decay
        self.p = [p.copy() for p in params]
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads, lr):
        self.t += 1
        for i, (p, g) in enumerate(zip(self.p, grads)):
            g = g + L2 * p if self.decay[i] else g.copy()
            if self.name == "sgd":
                p -= lr * g
            elif self.name == "momentum":  # the velocity carries lr * g (Sutskever et al. 2013)
                self.m[i] = MU * self.m[i] + lr * g
                p -= self.m[i]
            elif self.name == "nesterov":
                self.m[i] = MU * self.m[i] + lr * g
                p -= lr * g + MU * self.m[i]
            elif self.name == "adam":
                b1, b2, eps = MU, 0.999, 1e-8
                self.m[i] = b1 * self.m[i] + (1 - b1) * g
                self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
                m_hat = self.m[i] / (1 - b1 ** self.t)
                v_hat = self.v[i] / (1 - b2 ** self.t)
                p -= lr * m_hat / (np.sqrt(v_hat) + eps)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_steps_match_the_reference(name):
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((5, 4)), rng.standard_normal(4)]
    decay = [True, False]
    grads = [np.zeros_like(p) for p in params]
    opt = OPTIMIZERS[name](params, grads, decay, momentum=MU, l2=L2)
    ref = Reference(name, params, decay)
    for lr in LRS:
        new = [rng.standard_normal(p.shape) for p in params]
        for g, n in zip(grads, new):
            g[...] = n  # the optimizer holds these arrays
        ref.step(new, lr)
        opt.update(lr)
        for p, want in zip(params, ref.p):
            np.testing.assert_allclose(p, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov"])
def test_gradients_scaled_by_the_loss_give_the_same_steps(name):
    """The trainer hands these optimizers lr * g (the loss scales it for free): same result."""
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((5, 4)), rng.standard_normal(4)]
    twins = [p.copy() for p in params]
    grads, twin_grads = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    a = OPTIMIZERS[name](params, grads, [True, False], momentum=MU, l2=L2)
    b = OPTIMIZERS[name](twins, twin_grads, [True, False], momentum=MU, l2=L2)
    assert a.takes_scaled
    for lr in LRS:
        new = [rng.standard_normal(p.shape) for p in params]
        for g, t, n in zip(grads, twin_grads, new):
            g[...], t[...] = n, lr * n
        a.update(lr)
        b.update(lr, scaled=True)
    for p, q in zip(params, twins):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_float32_stays_float32_and_in_place(name):
    W = np.ones((3, 2), np.float32)
    g = np.full((3, 2), 0.5, np.float32)
    opt = OPTIMIZERS[name]([W], [g], [True], momentum=0.9, l2=0.1)
    opt.update(0.01)
    assert W.dtype == np.float32 and (W < 1).all()


def test_a_first_sgd_step_by_hand():
    W, b = np.array([[1.0, 2.0]]), np.array([3.0])
    gW, gb = np.array([[0.5, -0.5]]), np.array([1.0])
    SGD([W, b], [gW, gb], [True, False], l2=0.1).update(0.1)
    np.testing.assert_allclose(W, [[1 - 0.1 * (0.5 + 0.1), 2 - 0.1 * (-0.5 + 0.2)]])
    np.testing.assert_allclose(b, [3 - 0.1 * 1.0])


@pytest.mark.parametrize("cls", [Momentum, Nesterov, Adam])
def test_the_periodic_flush_zeros_tiny_state(cls):
    W = np.zeros((2, 2), np.float32)
    g = np.zeros_like(W)
    opt = cls([W], [g], [True], momentum=0.9)
    for s in opt.state:
        s[...] = [[1e-33, 1.0], [2e-33, 0.5]]  # below and above TINY
    for _ in range(FLUSH_EVERY - 1):
        g[...] = 0
        opt.update(0.0)
    assert all(s[0, 0] != 0 and s[1, 0] != 0 for s in opt.state), "nothing flushed before the period"
    g[...] = 0
    opt.update(0.0)
    assert opt.steps == FLUSH_EVERY
    for s in opt.state:
        assert s[0, 0] == 0 and s[1, 0] == 0
        assert abs(s[0, 1]) > TINY and abs(s[1, 1]) > TINY  # real state survives


def test_adam_state_holds_both_moments():
    W = np.zeros(3)
    opt = Adam([W], [np.zeros(3)], [False])
    assert len(opt.state) == 2 and opt.state[0] is opt.m[0] and opt.state[1] is opt.v[0]


def test_clip_norms_caps_column_norms():
    W = np.zeros((3, 3), np.float32)
    W[:, 0] = [0.3, 0.4, 0.0]  # norm 0.5
    W[:, 1] = [0.0, 3.0, 4.0]  # norm 5
    W[:, 2] = [6.0, 0.0, 8.0]  # norm 10
    before = W.copy()
    clip_norms([W], 2.0)
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), [0.5, 2.0, 2.0], rtol=1e-6)
    np.testing.assert_array_equal(W[:, 0], before[:, 0])  # under the limit: untouched
    np.testing.assert_allclose(W[:, 1:] / np.linalg.norm(W[:, 1:], axis=0),
                               before[:, 1:] / np.linalg.norm(before[:, 1:], axis=0), rtol=1e-6)  # same direction
    assert W.dtype == np.float32


def test_clip_norms_leaves_zero_columns_alone():
    W = np.zeros((4, 2))
    clip_norms([W], 1.0)
    assert np.isfinite(W).all() and not W.any()
