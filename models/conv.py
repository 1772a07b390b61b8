"""Convolution, 2x2 max-pooling and flattening, forward and backward side by side, float32.

Layout NHWC: x (n, h, w, c), so a pixel's c channels are one contiguous run and every copy below streams
(NCHW's innermost run is one image row of 14 floats: the patch copy of conv2 took 28 ms there, 6.5 ms in NHWC,
at batch 128 on 2 cores). A k x k 'same' convolution is lowered to matrix products one of two ways, chosen by
the input channels c; both were measured on conv2 of the MNIST net (32 -> 64 channels, 14x14, k = 5), per 64
images on one core:

- by patches (c < 8, the first layer): the product of the patches (n*h*w, k*k*c) with W (k*k*c, f). With
  k*k*c = 25 and f = 32 the products are small; the patches are built transposed, (k*k*c, n*h*w), in one copy
  from `sliding_window_view` of the zero-bordered input, where each row is a whole shifted image plane (a patch
  row of a 1-channel image is a run of 5 floats): forward 3.3 -> 1.8 ms, backward 2.6 -> 1.4 ms.
- by rows (c >= 8): P (n*h*w, k*c), each pixel's k neighbours along its row, times W rearranged as (k*c, k*f)
  gives for every kernel row i a partial output that k shifted adds fold together (the zero rows of the padding
  are never multiplied). Backward spreads the output gradient into the k shifted blocks G (n*h*w, k*f), whose
  zeros are fixed, so dW = P^T G and the gradient of P is G Wr^T, folded back along the rows' columns. By
  patches conv2 took 15 + 13 + 20 ms of products at 65-98 GFLOP/s (N = 64 and 32 are thin for the BLAS) and an
  80 MB patch buffer for the input gradient; by rows 3 x 11 ms at 113-117 GFLOP/s and 16 MB at most. The
  products and folds run 8 images at a time, so a product's output is folded while it is in the core's cache:
  one epoch of c32-c64-128-10 (`nn-tui bench`) 32.1 s in one piece, 28.4 s by 8 (4: 29.3, 16: 30.4).

Measured and not kept: the whole conv stack run 8 or 16 images at a time through twins of its layers (34.2 and
31.3 s against 29.0 s: more, smaller calls), and each block's max-pooling run inside the conv's chunks (27.8 s
either way).

Buffers are kept per layer, as the dense layers do, but in training mode only: evaluation allocates
afresh, so a forward pass from another thread (the app's drawing board) never overwrites a batch.
"""
from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .layers import Layer


class Conv2D(Layer):
    """y = conv(x, W) + b, k x k, stride 1, 'same' zero padding. x (n, h, w, c) -> (n, h, w, f); W (k*k*c, f)."""

    ROWS_FROM = 8  # input channels from which the row lowering is used (below, its product's k*c is too thin)
    CHUNK = 8  # images lowered, multiplied and folded at a time by rows, so the products are folded from cache

    def __init__(self, W: np.ndarray, b: np.ndarray, k: int, shape: tuple[int, int, int]):
        self.W, self.b, self.k, self.shape = W, b, k, shape  # shape: (h, w, c) of the input
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)
        self.params, self.grads = (W, b), (self.dW, self.db)
        self.lowering = self.lowering_for(shape[2])

    @classmethod
    def lowering_for(cls, channels: int) -> str:
        """How a layer with `channels` input channels becomes matrix products: "rows" or "patches"."""
        return "rows" if channels >= cls.ROWS_FROM else "patches"

    def twin(self) -> "Conv2D":
        other = Conv2D(self.W, self.b, self.k, self.shape)
        other.lowering = self.lowering
        return other

    def _zeros(self, name: str, shape: tuple[int, ...], dtype, train: bool) -> np.ndarray:
        """A zeroed array whose zeros are never written afterwards (borders): kept in training, fresh otherwise."""
        return self._buf(name, shape, dtype, fill=0) if train else np.zeros(shape, dtype)

    def _scratch(self, name: str, shape: tuple[int, ...], dtype, train: bool) -> np.ndarray:
        return self._buf(name, shape, dtype) if train else np.empty(shape, dtype)

    def _patches(self, x: np.ndarray, name: str, train: bool) -> np.ndarray:
        """x (n, h, w, c) -> patches (n*h*w, k*k*c), through a zero-bordered copy of x."""
        n, h, w, c = x.shape
        k, p = self.k, self.k // 2
        pad = self._zeros(name + "_pad", (n, h + 2 * p, w + 2 * p, c), x.dtype, train)
        cols = self._scratch(name + "_cols", (n, h, w, k, k, c), x.dtype, train)
        pad[:, p:p + h, p:p + w] = x
        np.copyto(cols, sliding_window_view(pad, (k, k), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3))
        return cols.reshape(n * h * w, k * k * c)

    def _taps(self, x: np.ndarray, train: bool) -> np.ndarray:
        """x (n, h, w, c) -> patches transposed, (k*k*c, n*h*w), copied from the zero-bordered x: for c = 1 each
        tap's row is a whole shifted image plane, where a patch row of a 1-channel image is a run of k floats."""
        n, h, w, c = x.shape
        k, p = self.k, self.k // 2
        pad = self._zeros("_xpad", (n, h + 2 * p, w + 2 * p, c), x.dtype, train)
        taps = self._scratch("_xtaps", (k, k, c, n, h, w), x.dtype, train)
        pad[:, p:p + h, p:p + w] = x
        np.copyto(taps, sliding_window_view(pad, (k, k), axis=(1, 2)).transpose(4, 5, 3, 0, 1, 2))
        return taps.reshape(k * k * c, n * h * w)

    def _rows(self, x: np.ndarray, train: bool) -> tuple[np.ndarray, np.ndarray]:
        """x padded left and right, (n, h, w + 2p, c), and the buffer for its rows lowering, (n, h, w, k, c)."""
        n, h, w, c = x.shape
        k, p = self.k, self.k // 2
        pad = self._zeros("_xpad", (n, h, w + 2 * p, c), x.dtype, train)
        pad[:, :, p:p + w] = x
        return pad, self._scratch("_xrows", (n, h, w, k, c), x.dtype, train)

    def _row_weights(self, train: bool) -> np.ndarray:
        """W as (k*c, k*f): row j*c + ci, column i*f + fo holds W[i, j, ci, fo] (kernel row i, column j)."""
        k, c, f = self.k, self.shape[2], self.W.shape[1]
        wr = self._scratch("_wr", (k, c, k, f), self.W.dtype, train)
        np.copyto(wr, self.W.reshape(k, k, c, f).transpose(1, 2, 0, 3))
        return wr.reshape(k * c, k * f)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        h, w, c = self.shape
        x = x.reshape(-1, h, w, c)
        n, f, k = len(x), self.W.shape[1], self.k
        if self.lowering == "patches":
            cols = self._taps(x, train)
            out = np.matmul(cols.T, self.W, out=self._scratch("_out", (n * h * w, f), x.dtype, train))
            out += self.b
            out = out.reshape(n, h, w, f)
        else:
            pad, cols = self._rows(x, train)
            wr = self._row_weights(train)
            out = self._scratch("_out", (n, h, w, f), x.dtype, train)
            q = self._scratch("_q", (min(n, self.CHUNK) * h * w, k * f), x.dtype, train)
            for s, e in _chunks(n, self.CHUNK):  # each chunk's products are folded while they are in the cache
                np.copyto(cols[s:e], sliding_window_view(pad[s:e], k, axis=2).transpose(0, 1, 2, 4, 3))
                qs = np.matmul(cols[s:e].reshape(-1, k * c), wr, out=q[:(e - s) * h * w])
                _shift_sum(qs.reshape(e - s, h, w, k, f), out[s:e], 1, 1, self.b)
            cols = cols.reshape(n * h * w, k * c)
            if train:
                self.wr = wr
        if train:  # evaluation keeps nothing and leaves a training batch's state alone
            self.cols = cols
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """g (n, h, w, f) -> dx (n, h, w, c); fills dW, db."""
        n, h, w, f = g.shape
        k, c = self.k, self.shape[2]
        ones = self._buf("_ones", (n * h * w,), g.dtype, fill=1)
        np.matmul(ones, g.reshape(n * h * w, f), out=self.db)  # a product sums faster than np.sum down the rows
        if self.lowering == "rows":
            b = min(n, self.CHUNK)
            gq = self._zeros("_gq", (b, h, w, k, f), g.dtype, True)
            dwr = self._buf("_dwr", (k * c, k * f), g.dtype)
            part = self._buf("_dwr_part", (k * c, k * f), g.dtype)
            drows = self._buf("_drows", (b * h * w, k * c), g.dtype) if need_input_grad else None
            dx = self._buf("_dx", (n, h, w, c), g.dtype) if need_input_grad else None
            cols = self.cols.reshape(n, h * w, k * c)
            for s, e in _chunks(n, self.CHUNK):
                gqs = _shift_spread(g[s:e], gq[:e - s], 1).reshape(-1, k * f)
                np.matmul(cols[s:e].reshape(-1, k * c).T, gqs, out=part if s else dwr)
                if s:
                    dwr += part
                if need_input_grad:
                    ds = np.matmul(gqs, self.wr.T, out=drows[:(e - s) * h * w])
                    _shift_sum(ds.reshape(e - s, h, w, k, c), dx[s:e], 2, -1)
            np.copyto(self.dW.reshape(k, k, c, f), dwr.reshape(k, c, k, f).transpose(2, 0, 1, 3))
            return dx
        g2 = g.reshape(n * h * w, f)
        np.matmul(self.cols, g2, out=self.dW)
        if not need_input_grad:
            return None
        flipped = self._buf("_flip", (k, k, f, c), self.W.dtype)  # W[k-1-i, k-1-j, c, f] as (i, j, f, c)
        np.copyto(flipped, self.W.reshape(k, k, c, f)[::-1, ::-1].transpose(0, 1, 3, 2))
        gcols = self._patches(g, "_g", True)
        dx = np.matmul(gcols, flipped.reshape(k * k * f, c), out=self._buf("_dx", (n * h * w, c), g.dtype))
        return dx.reshape(n, h, w, c)


def _chunks(n: int, size: int):
    """(start, end) of consecutive runs of `size` (the last may be shorter) covering range(n)."""
    return ((s, min(n, s + size)) for s in range(0, n, size))


@functools.lru_cache(maxsize=64)
def _shifts(k: int, size: int, axis: int, sign: int) -> tuple[tuple[tuple, tuple], ...]:
    """For _shift_sum: per off-centre i with d = sign * (i - k//2) in range, the index of out's rows [lo, hi)
    along `axis` and of q's rows [lo + d, hi + d) in block i (built once per shape: a chunk's folds are many)."""
    out = []
    for i in range(k):
        d = sign * (i - k // 2)
        if d == 0 or abs(d) >= size:
            continue
        lo, hi = max(0, -d), min(size, size - d)
        dst, src = [slice(None)] * 4, [slice(None)] * 3 + [i]
        dst[axis], src[axis] = slice(lo, hi), slice(lo + d, hi + d)
        out.append((tuple(dst), tuple(src)))
    return tuple(out)


def _shift_sum(q: np.ndarray, out: np.ndarray, axis: int, sign: int, bias: np.ndarray | None = None) -> np.ndarray:
    """out[.., y, ..] = sum over i of q[.., y + d, .., i, :] with d = sign * (i - k//2) along `axis` (1 rows,
    2 columns) of q (n, h, w, k, f), plus `bias`; terms that fall outside are zero padding."""
    k = q.shape[3]
    if bias is None:
        np.copyto(out, q[:, :, :, k // 2])
    else:
        np.add(q[:, :, :, k // 2], bias, out=out)
    for dst, src in _shifts(k, q.shape[axis], axis, sign):
        part = out[dst]
        np.add(part, q[src], out=part)
    return out


def _shift_spread(g: np.ndarray, q: np.ndarray, axis: int) -> np.ndarray:
    """The adjoint of _shift_sum with sign 1: q[.., y + d, .., i, :] = g[.., y, ..] where in range; q's other
    entries are zeros that are never written (q is kept zeroed from its allocation)."""
    k = q.shape[3]
    np.copyto(q[:, :, :, k // 2], g)
    for dst, src in _shifts(k, g.shape[axis], axis, 1):
        np.copyto(q[src], g[dst])
    return q


class MaxPool2D(Layer):
    """2x2 max-pooling, stride 2: x (n, h, w, c) -> (n, h//2, w//2, c); an odd last row or column is dropped.

    The gradient of each window goes to one input only, even on ties (MNIST's flat background ties
    everywhere): the first maximum in the order top-left, top-right, bottom-left, bottom-right. Forward keeps
    the winners as a one-hot mask of the input's shape, so backward is one product writing the whole input
    gradient at once (four strided writes and their two helpers before: with the cached shift indices below,
    an epoch of c32-c64-128-10 5% faster, 30.9 against 32.6 s, alternated).
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
            rt = np.greater(b, a, out=buf("_rt", shape, bool))
            rb = np.greater(e, d, out=buf("_rb", shape, bool))
            low = np.greater(bottom, top, out=buf("_low", shape, bool))
            m = self.mask = buf("_mask", (n, ho, 2, wo, 2, c), bool)  # one-hot: the winner of each window
            np.greater(rt, low, out=m[:, :, 0, :, 1])  # top-right: right on top, top row won
            np.logical_or(rt, low, out=m[:, :, 0, :, 0])
            np.logical_not(m[:, :, 0, :, 0], out=m[:, :, 0, :, 0])  # top-left: neither
            np.logical_and(rb, low, out=m[:, :, 1, :, 1])
            np.greater(low, rb, out=m[:, :, 1, :, 0])
            self.in_shape = x.shape
        return np.maximum(top, bottom, out=top)

    def backward(self, g: np.ndarray) -> np.ndarray:
        """g (n, h//2, w//2, c) -> dx (n, h, w, c), zero except at each window's chosen maximum."""
        n, h, w, c = self.in_shape
        ho, wo = h // 2, w // 2
        dx = self._buf("_dx", self.in_shape, g.dtype, fill=0)  # a dropped odd row stays zero
        np.multiply(g[:, :, None, :, None], self.mask, out=dx[:, :2 * ho, :2 * wo].reshape(self.mask.shape))
        return dx


class Flatten(Layer):
    """x (n, h, w, c) -> (n, h*w*c), and back for the gradient."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if train:
            self.in_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g.reshape(self.in_shape)
