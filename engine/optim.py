"""Optimizers: in-place updates over lists of parameters and their gradients.

`decay[i]` says whether parameter i is a weight matrix (gets L2 and max-norm) or a bias.
Every update runs in preallocated buffers; the gradients are used as scratch space.
"""
from __future__ import annotations

import numpy as np

FLUSH_EVERY, TINY = 50, 1e-30


class SGD:
    """W -= lr * (g + l2 * W)."""

    takes_scaled = True  # accepts gradients already multiplied by lr (the loss scales them for free)

    def __init__(self, params, grads, decay, momentum: float = 0.0, l2: float = 0.0):
        self.params, self.grads, self.decay = list(params), list(grads), list(decay)
        self.momentum, self.l2 = momentum, l2
        self.tmp = [np.empty_like(p) for p in self.params]
        self.state: list[np.ndarray] = []  # arrays that decay geometrically between updates
        self.steps = 0

    def update(self, lr: float, scaled: bool = False) -> None:
        """One step of the rule, then every FLUSH_EVERY steps set near-zero state to zero.

        A decaying momentum entry otherwise spends ~150 steps as a subnormal float, and
        arithmetic on subnormals is so slow it cost a quarter of the whole step on MNIST.
        """
        self.step(lr, scaled)
        self.steps += 1
        if self.steps % FLUSH_EVERY == 0:
            for s in self.state:
                s[np.abs(s) < TINY] = 0

    def regularize(self, scale: float = 1.0) -> None:
        """g += scale * l2 * W for every weight matrix."""
        if self.l2:
            for p, g, t, d in zip(self.params, self.grads, self.tmp, self.decay):
                if d:
                    g += np.multiply(p, self.l2 * scale, out=t)

    def prepare(self, lr: float, scaled: bool) -> None:
        """Turn the grads into lr * (g + l2 * W); `scaled` says they already hold lr * g."""
        if scaled:
            self.regularize(lr)
        else:
            self.regularize()
            for g in self.grads:
                g *= lr

    def step(self, lr: float, scaled: bool = False) -> None:
        self.prepare(lr, scaled)
        for p, g in zip(self.params, self.grads):
            p -= g


class Momentum(SGD):
    """v = mu * v + lr * g; W -= v. (With a constant rate the same steps as v = mu * v + g;
    W -= lr * v; a new rate acts on new gradients, so a changed rate eases in.)"""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.v = [np.zeros_like(p) for p in self.params]
        self.state = self.v

    def step(self, lr: float, scaled: bool = False) -> None:
        self.prepare(lr, scaled)
        for p, g, v in zip(self.params, self.grads, self.v):
            v *= self.momentum
            v += g
            p -= v


class Nesterov(Momentum):
    """v = mu * v + lr * g; W -= lr * g + mu * v."""

    def step(self, lr: float, scaled: bool = False) -> None:
        self.prepare(lr, scaled)
        for p, g, v, t in zip(self.params, self.grads, self.v, self.tmp):
            v *= self.momentum
            v += g
            g += np.multiply(v, self.momentum, out=t)
            p -= g


class Adam(SGD):
    """Adam with bias correction; `momentum` is beta1."""

    beta2, eps = 0.999, 1e-8
    takes_scaled = False

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.state = self.m + self.v
        self.t = 0

    def step(self, lr: float, scaled: bool = False) -> None:
        self.regularize()
        self.t += 1
        b1, b2 = self.momentum, self.beta2
        c2 = np.sqrt(1 - b2 ** self.t)
        lr_t = lr * c2 / (1 - b1 ** self.t)
        eps_t = self.eps * c2
        for p, g, m, v, t in zip(self.params, self.grads, self.m, self.v, self.tmp):
            m += np.multiply(np.subtract(g, m, out=t), 1 - b1, out=t)  # m = b1 m + (1 - b1) g
            np.square(g, out=g)
            v += np.multiply(np.subtract(g, v, out=g), 1 - b2, out=g)  # v = b2 v + (1 - b2) g^2
            np.sqrt(v, out=t)
            t += eps_t
            np.divide(m, t, out=t)
            t *= lr_t
            p -= t


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}


def clip_norms(weights: list[np.ndarray], limit: float) -> None:
    """Max-norm: scale each unit's incoming weights (a column of W) to L2 norm <= limit."""
    for W in weights:
        norms = np.sqrt(np.einsum("ij,ij->j", W, W))
        W *= np.minimum(1, limit / np.maximum(norms, 1e-12)).astype(W.dtype)
