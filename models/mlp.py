"""A network built from a spec: [Conv2D -> 2x2 max-pool -> activation] per conv block, Flatten, then
Dense -> activation (-> dropout) ... -> Dense logits. No conv blocks: the multilayer perceptron.

Pooling comes before the activation in a block: every activation here is monotone, so
act(max(x)) = max(act(x)) with the same winner, and the activation touches a quarter of the values.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from data.errors import UserError

from .conv import Conv2D, Flatten, MaxPool2D
from .layers import ACTIVATIONS, Dense, Dropout

INITS = ("he", "xavier")
KERNELS = (3, 5)


class SpecError(UserError):
    """An architecture that cannot be built, with a one-line reason."""


@dataclass(frozen=True)
class Spec:
    """What a network is: conv channels and kernel, dense sizes, activation, weight init, dropout rate, seed.

    With conv blocks the inputs are one square grey image (inputs = side * side); `sizes` are the
    dense layers' sizes, starting from the flattened last block.
    """

    inputs: int = 784
    hidden: tuple[int, ...] = (128,)
    classes: int = 10
    activation: str = "relu"
    init: str = "he"
    dropout: float = 0.0
    seed: int = 0
    conv: tuple[int, ...] = ()
    kernel: int = 5
    sizes: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "conv", tuple(int(c) for c in self.conv))
        if any(c < 1 for c in self.conv):
            raise SpecError(f"conv channels must be positive, got {','.join(map(str, self.conv))}")
        if self.kernel not in KERNELS:
            raise SpecError(f"kernel {self.kernel} must be one of {', '.join(map(str, KERNELS))}")
        flat = self.inputs
        if self.conv:
            side = self.side
            if side * side != self.inputs:
                raise SpecError(f"conv blocks need a square image, {self.inputs} inputs are not one")
            for i in range(len(self.conv)):
                if side < 2:
                    raise SpecError(f"{len(self.conv)} conv blocks pool a {self.side}x{self.side} image below 1x1")
                side //= 2
            flat = side * side * self.conv[-1]
        object.__setattr__(self, "sizes", (flat, *self.hidden, self.classes))
        if any(s < 1 for s in (self.inputs, *self.sizes[1:])):
            raise SpecError(f"layer sizes must be positive, got {'-'.join(map(str, self.sizes))}")
        if self.activation not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.activation!r}; choose from {', '.join(ACTIVATIONS)}")
        if self.init not in INITS:
            raise SpecError(f"unknown init {self.init!r}; choose from {', '.join(INITS)}")
        if not 0 <= self.dropout < 1:
            raise SpecError(f"dropout {self.dropout} must be in [0, 1)")

    @property
    def side(self) -> int:
        """The input image's side (28 for 784 inputs)."""
        return int(round(self.inputs ** 0.5))

    def shapes(self) -> list[tuple[int, ...]]:
        """Every parameter's shape, in the order of `MLP.params`."""
        shapes, c = [], 1
        for f in self.conv:
            shapes += [(self.kernel * self.kernel * c, f), (f,)]
            c = f
        return shapes + [s for a, b in zip(self.sizes[:-1], self.sizes[1:]) for s in ((a, b), (b,))]

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("sizes")
        d["hidden"] = list(self.hidden)
        if not self.conv:  # an MLP's metadata stays exactly as before conv blocks existed
            d.pop("conv")
            d.pop("kernel")
        else:
            d["conv"] = list(self.conv)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Spec":
        names = ("inputs", "hidden", "classes", "activation", "init", "dropout", "seed", "conv", "kernel")
        return cls(**{k: d[k] for k in names if k in d})

    def __str__(self) -> str:
        """784-128-10 for an MLP; c32-c64-128-10 for conv blocks of 32 and 64 channels, 5x5 (c32-c64-128-10-k3: 3x3)."""
        if not self.conv:
            return "-".join(map(str, self.sizes))
        name = "-".join([*(f"c{c}" for c in self.conv), *map(str, self.sizes[1:])])
        return name if self.kernel == 5 else f"{name}-k{self.kernel}"

    def n_params(self) -> int:
        """Weights and biases of the network this spec builds."""
        return sum(int(np.prod(s)) for s in self.shapes())


def check_inputs(spec: Spec, x: np.ndarray) -> None:
    """SpecError unless x (n, inputs) has as many features per row as the network takes."""
    width = x.shape[1] if x.ndim == 2 else None
    if width != spec.inputs:
        got = f"{width} values per digit" if width is not None else f"an array of shape {x.shape}"
        raise SpecError(f"the {spec} network takes {spec.inputs} inputs per digit, but was given {got}"
                        + (" (28x28 digits have 784)" if spec.inputs != 784 else ""))


class MLP:
    """Layers in order; `params` and `grads` line up one to one."""

    def __init__(self, spec: Spec, dtype=np.float32):
        self.spec = spec
        rng = np.random.default_rng(spec.seed)
        self.layers = []
        if spec.conv:
            conv_rng = np.random.default_rng([spec.seed, 7])  # apart from the dense layers' draws
            k, side, c = spec.kernel, spec.side, 1
            for f in spec.conv:
                W = self._init(conv_rng, k * k * c, k * k * f, (k * k * c, f), dtype)
                self.layers += [Conv2D(W, np.zeros(f, dtype), k, (side, side, c)), MaxPool2D(),
                                ACTIVATIONS[spec.activation]()]
                side, c = side // 2, f
            self.layers.append(Flatten())
        for i, (fan_in, fan_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
            if spec.init == "he":
                scale = np.sqrt(2.0 / fan_in)
            else:  # xavier (Glorot normal)
                scale = np.sqrt(2.0 / (fan_in + fan_out))
            try:
                W = np.empty((fan_in, fan_out), dtype)
                rows = max(1, (1 << 17) // fan_out)  # float64 draws 1 MiB of rows at a time: never a full copy
                for r in range(0, fan_in, rows):
                    W[r:r + rows] = rng.standard_normal((min(rows, fan_in - r), fan_out)) * scale
                layer = Dense(W, np.zeros(fan_out, dtype))
            except MemoryError:
                need = spec.n_params() * np.dtype(dtype).itemsize * 2  # weights and their gradients
                raise SpecError(f"the {spec} network needs {need / 2**30:.1f} GiB for its weights and gradients; "
                                "not enough memory: choose fewer or smaller layers") from None
            self.layers.append(layer)
            if i < len(spec.hidden):
                self.layers.append(ACTIVATIONS[spec.activation]())
                if spec.dropout:
                    self.layers.append(Dropout(spec.dropout, np.random.default_rng([spec.seed, i])))

    def _init(self, rng, fan_in: int, fan_out: int, shape: tuple[int, int], dtype) -> np.ndarray:
        if self.spec.init == "he":
            scale = np.sqrt(2.0 / fan_in)
        else:  # xavier (Glorot normal)
            scale = np.sqrt(2.0 / (fan_in + fan_out))
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def twin(self) -> "MLP":
        """A second copy of the network for another thread: the very same parameter arrays (an update of
        one is an update of both), its own layers' buffers, gradients and dropout generators."""
        other = object.__new__(MLP)
        other.spec, other.layers = self.spec, [layer.twin() for layer in self.layers]
        return other

    @property
    def dense(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def convs(self) -> list[Conv2D]:
        return [layer for layer in self.layers if isinstance(layer, Conv2D)]

    @property
    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Logits (n, classes) for x (n, inputs); in training mode keeps what backward needs."""
        check_inputs(self.spec, x)
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, g: np.ndarray) -> None:
        """Fill every layer's grads from g = dLoss/dlogits (n, classes)."""
        for layer in reversed(self.layers[1:]):
            g = layer.backward(g)
        self.layers[0].backward(g, need_input_grad=False)

    def predict_proba(self, x: np.ndarray, chunk: int | None = None) -> np.ndarray:
        """Class probabilities (n, classes) float32, in chunks (smaller for conv nets: their patches are big)."""
        chunk = chunk or (256 if self.spec.conv else 4096)
        out = np.empty((len(x), self.spec.classes), np.float32)
        for i in range(0, len(x), chunk):
            z = self.forward(x[i:i + chunk])
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            out[i:i + chunk] = z
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted classes (n,) int64."""
        return self.predict_proba(x).argmax(axis=1)

    def get_weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Copy `weights` into the parameters in place (optimizer state keeps pointing at them)."""
        for p, w in zip(self.params, weights):
            p[...] = w

    def n_params(self) -> int:
        return sum(p.size for p in self.params)
