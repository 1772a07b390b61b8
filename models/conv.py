"""Convolution, 2x2 max-pooling and flattening, forward and backward side by side, float32.

Layout NHWC: x (n, h, w, c). A k x k 'same' convolution is one matrix product of the patches
(n*h*w, k*k*c) with W (k*k*c, f). `sliding_window_view` of the zero-padded input gives the patches
without copying; the one copy is into the patch buffer in (n, h, w, ki, kj, c) order, whose innermost
run is a pixel's c channels (128 bytes for c = 32), so the copy streams, the reshape that feeds the
product is free, and the product writes NHWC straight back. Measured on 2 cores: that copy took 6.5 ms
for conv2 of the MNIST net at batch 128 (NCHW's innermost run is one image row of 14 floats; 25
slice assignments took 28 ms). The input gradient is the 'same' convolution of the output gradient
with the flipped kernel, lowered the same way: scattering the patch gradients back (col2im) with 25
strided adds took 98 ms, longer than its product.

Buffers are kept per layer, as the dense layers do, but in training mode only: evaluation allocates
afresh, so a forward pass from another thread (the app's drawing board) never overwrites a batch.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .layers import Layer


class Conv2D(Layer):
    """y = conv(x, W) + b, k x k, stride 1, 'same' zero padding. x (n, h, w, c) -> (n, h, w, f); W (k*k*c, f)."""

    def __init__(self, W: np.ndarray, b: np.ndarray, k: int, shape: tuple[int, int, int]):
        self.W, self.b, self.k, self.shape = W, b, k, shape  # shape: (h, w, c) of the input
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)
        self.params, self.grads = (W, b), (self.dW, self.db)

    def twin(self) -> "Conv2D":
        return Conv2D(self.W, self.b, self.k, self.shape)

    def _patches(self, x: np.ndarray, name: str, train: bool) -> np.ndarray:
        """x (n, h, w, c) -> patches (n*h*w, k*k*c), through a zero-bordered copy of x."""
        n, h, w, c = x.shape
        k, p = self.k, self.k // 2
        shape = (n, h + 2 * p, w + 2 * p, c)
        if train:
            pad = self.__dict__.get(name + "_pad")
            if pad is None or pad.shape != shape or pad.dtype != x.dtype:  # borders are zeroed once, then never written
                pad = self.__dict__[name + "_pad"] = np.zeros(shape, x.dtype)
            cols = self._buf(name + "_cols", (n, h, w, k, k, c), x.dtype)
        else:
            pad, cols = np.zeros(shape, x.dtype), np.empty((n, h, w, k, k, c), x.dtype)
        pad[:, p:p + h, p:p + w] = x
        np.copyto(cols, sliding_window_view(pad, (k, k), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3))
        return cols.reshape(n * h * w, k * k * c)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        h, w, c = self.shape
        x = x.reshape(-1, h, w, c)
        n, f = len(x), self.W.shape[1]
        cols = self._patches(x, "_x", train)
        out = np.matmul(cols, self.W, out=self._buf("_out", (n * h * w, f), x.dtype) if train else None)
        out += self.b
        self.cols = cols if train else None
        return out.reshape(n, h, w, f)

    def backward(self, g: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """g (n, h, w, f) -> dx (n, h, w, c); fills dW, db."""
        n, h, w, f = g.shape
        g2 = g.reshape(n * h * w, f)
        np.matmul(self.cols.T, g2, out=self.dW)
        np.sum(g2, axis=0, out=self.db)
        if not need_input_grad:
            return None
        k, c = self.k, self.shape[2]
        flipped = self._buf("_flip", (k, k, f, c), self.W.dtype)  # W[k-1-i, k-1-j, c, f] as (i, j, f, c)
        np.copyto(flipped, self.W.reshape(k, k, c, f)[::-1, ::-1].transpose(0, 1, 3, 2))
        gcols = self._patches(g, "_g", True)
        dx = np.matmul(gcols, flipped.reshape(k * k * f, c), out=self._buf("_dx", (n * h * w, c), g.dtype))
        return dx.reshape(n, h, w, c)


class MaxPool2D(Layer):
    """2x2 max-pooling, stride 2: x (n, h, w, c) -> (n, h//2, w//2, c); an odd last row or column is dropped.

    The gradient of each window goes to one input only, even on ties (MNIST's flat background ties
    everywhere): the first maximum in the order top-left, top-right, bottom-left, bottom-right.
    """

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        n, h, w, c = x.shape
        ho, wo = h // 2, w // 2
        a, b = x[:, 0:2 * ho:2, 0:2 * wo:2], x[:, 0:2 * ho:2, 1:2 * wo:2]
        d, e = x[:, 1:2 * ho:2, 0:2 * wo:2], x[:, 1:2 * ho:2, 1:2 * wo:2]
        shape = (n, ho, wo, c)
        buf = self._buf if train else (lambda name, s, dtype: np.empty(s, dtype))
        top = np.maximum(a, b, out=buf("_out", shape, x.dtype))
        bottom = np.maximum(d, e, out=buf("_tmp", shape, x.dtype))
        if train:  # which input won: right over left, bottom over top (strictly, so ties go first)
            self.right_top = np.greater(b, a, out=buf("_rt", shape, bool))
            self.right_bottom = np.greater(e, d, out=buf("_rb", shape, bool))
            self.low = np.greater(bottom, top, out=buf("_low", shape, bool))
            self.in_shape = x.shape
        return np.maximum(top, bottom, out=top)

    def backward(self, g: np.ndarray) -> np.ndarray:
        """g (n, h//2, w//2, c) -> dx (n, h, w, c), zero except at each window's chosen maximum."""
        n, h, w, c = self.in_shape
        ho, wo = h // 2, w // 2
        dx = self.__dict__.get("_dx")
        if dx is None or dx.shape != self.in_shape or dx.dtype != g.dtype:  # a dropped odd row stays zero
            dx = self._dx = np.zeros(self.in_shape, g.dtype)
        low = np.multiply(g, self.low, out=self._buf("_glow", g.shape, g.dtype))
        high = np.subtract(g, low, out=self._buf("_ghigh", g.shape, g.dtype))
        for part, right, i in ((high, self.right_top, 0), (low, self.right_bottom, 1)):
            r = np.multiply(part, right, out=dx[:, i:2 * ho:2, 1:2 * wo:2])
            np.subtract(part, r, out=dx[:, i:2 * ho:2, 0:2 * wo:2])
        return dx


class Flatten(Layer):
    """x (n, h, w, c) -> (n, h*w*c), and back for the gradient."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if train:
            self.in_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g.reshape(self.in_shape)
