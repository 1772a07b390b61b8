"""Layers with explicit forward and backward, written for float32 speed.

Shapes: x (n, i) -> (n, o). In training mode a layer keeps what its backward needs
and writes into buffers it owns, reused while the batch size stays the same, so a
training step allocates nothing large. Activations work in place on their input;
the Dense layer below them never needs its output again. Dropout writes into a buffer
of its own: the activation below it keeps its output for backward (tanh, sigmoid).
"""
from __future__ import annotations

import numpy as np


class Layer:
    params: tuple[np.ndarray, ...] = ()
    grads: tuple[np.ndarray, ...] = ()

    def _buf(self, name: str, shape: tuple[int, ...], dtype, fill: float | None = None) -> np.ndarray:
        """A scratch array owned by this layer, reallocated only when the shape changes. With `fill`, it holds
        that value when allocated, for entries the layer never writes (zero borders, a row of ones)."""
        buf = self.__dict__.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self.__dict__[name] = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
        return buf

    def twin(self) -> "Layer":
        """The same layer for a second thread: the same parameter arrays, its own buffers and gradients."""
        return type(self)()


class Dense(Layer):
    """y = x @ W + b, W (i, o), b (o,)."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W, self.b = W, b
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)
        self.params, self.grads = (W, b), (self.dW, self.db)

    def twin(self) -> "Dense":
        return Dense(self.W, self.b)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if not train:
            return x @ self.W + self.b
        self.x = x
        out = np.matmul(x, self.W, out=self._buf("_out", (len(x), self.W.shape[1]), self.W.dtype))
        out += self.b
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        np.matmul(self.x.T, g, out=self.dW)
        np.sum(g, axis=0, out=self.db)
        if need_input_grad:
            return np.matmul(g, self.W.T, out=self._buf("_dx", self.x.shape, g.dtype))
        return None


class ReLU(Layer):
    def forward(self, z, train=False):
        np.maximum(z, 0, out=z)
        self.a = z if train else None  # backward needs the output; evaluation keeps nothing
        return z

    def backward(self, g):
        return np.multiply(g, np.greater(self.a, 0, out=self._buf("_mask", g.shape, bool)), out=g)


class LeakyReLU(Layer):
    def __init__(self, slope: float = 0.01):
        self.slope = slope

    def twin(self) -> "LeakyReLU":
        return LeakyReLU(self.slope)

    def forward(self, z, train=False):
        scaled = np.multiply(z, self.slope, out=self._buf("_tmp", z.shape, z.dtype) if train else None)
        np.maximum(z, scaled, out=z)
        self.a = z if train else None
        return z

    def backward(self, g):
        # slope where a <= 0, else 1: a > 0 gives 1, (a <= 0) * slope fills the rest
        d = np.greater(self.a, 0, out=self._buf("_tmp", g.shape, g.dtype))
        d *= 1 - self.slope
        d += self.slope
        return np.multiply(g, d, out=g)


class Tanh(Layer):
    def forward(self, z, train=False):
        np.tanh(z, out=z)
        self.a = z if train else None
        return z

    def backward(self, g):
        d = np.square(self.a, out=self._buf("_tmp", g.shape, g.dtype))
        np.subtract(1, d, out=d)
        return np.multiply(g, d, out=g)


class Sigmoid(Layer):
    def forward(self, z, train=False):
        # 1 / (1 + exp(-z)), via tanh to stay finite for any z
        np.multiply(z, 0.5, out=z)
        np.tanh(z, out=z)
        z += 1
        z *= 0.5
        self.a = z if train else None
        return z

    def backward(self, g):
        d = np.subtract(1, self.a, out=self._buf("_tmp", g.shape, g.dtype))
        d *= self.a
        return np.multiply(g, d, out=g)


class Dropout(Layer):
    """Inverted dropout: keeps each unit with probability 1 - rate and scales it by 1 / (1 - rate)."""

    def __init__(self, rate: float, rng: np.random.Generator):
        self.rate, self.rng, self.mask = rate, rng, None

    def twin(self) -> "Dropout":
        """Its own generator, spawned from this one's seed (this one's stream is not drawn from)."""
        return Dropout(self.rate, np.random.default_rng(self.rng.bit_generator.seed_seq.spawn(1)[0]))

    def forward(self, x, train=False):
        if not train or self.rate == 0:
            self.mask = None
            return x
        keep = 1 - self.rate
        u = self.rng.random(x.shape, dtype=np.float32, out=self._buf("_u", x.shape, np.float32))
        mask = np.less(u, keep, out=self._buf("_keep", x.shape, bool))
        self.mask = np.multiply(mask, x.dtype.type(1 / keep), out=self._buf("_mask", x.shape, x.dtype))
        return np.multiply(x, self.mask, out=self._buf("_out", x.shape, x.dtype))

    def backward(self, g):
        return g if self.mask is None else np.multiply(g, self.mask, out=g)


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid}
