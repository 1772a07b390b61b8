"""Every training setting, its range, and whether it can change while a run is going."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from data.errors import UserError
from models import ACTIVATIONS, INITS, KERNELS, Spec

from . import optim

OPTIMIZERS = tuple(optim.OPTIMIZERS)
SCHEDULES = ("constant", "step", "cosine")
MONITORS = ("dev_acc", "dev_loss")
ACTIVATION_NAMES = tuple(ACTIVATIONS)
INIT_NAMES = INITS
CONV_LR = 0.05  # the learning rate a conv net gets when none is given (0.1 overfits c32-c64 by epoch 7: 99.01%)
CONV_DROPOUT = 0.5  # and its dropout on the dense hidden units (c32-c64-128, 12 epochs: 99.40% test, 99.12% without)
LIVE = ("lr", "l2", "momentum", "batch_size")  # applied at the next batch of a running run


class ConfigError(UserError):
    """A setting out of range or of the wrong kind, with a one-line reason naming it."""


@dataclass(frozen=True)
class Field:
    name: str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    open_low: bool = False  # low itself is not allowed
    integer: bool = False

    def check(self, value) -> None:
        flag = "--" + self.name.replace("_", "-")
        if self.choices:
            if value not in self.choices:
                raise ConfigError(f"{flag} {value!r} is not one of {', '.join(self.choices)}")
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{flag} {value!r} is not a number")
        if not math.isfinite(value):  # nan passes every comparison below
            raise ConfigError(f"{flag} {value!r} is not a finite number")
        if self.integer and not float(value).is_integer():
            raise ConfigError(f"{flag} {value:g} must be a whole number")
        if self.low is not None and (value < self.low or self.open_low and value == self.low):
            raise ConfigError(f"{flag} {value:g} is out of range: {self.range_text()}")
        if self.high is not None and value > self.high:
            raise ConfigError(f"{flag} {value:g} is out of range: {self.range_text()}")

    def range_text(self) -> str:
        if self.choices:
            return " | ".join(self.choices)
        left = "(" if self.open_low else "["
        return f"{left}{plain(self.low)}, {plain(self.high)}]"


def plain(x: float) -> str:
    """A bound as people write it: 4294967295 and 10000000, not 4.29497e+09 and 1e+07; 0.999 stays."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


FIELDS = {f.name: f for f in (
    Field("lr", "learning rate", 0, 10, open_low=True),
    Field("momentum", "momentum (momentum, nesterov) or Adam's beta1", 0, 0.999),
    Field("batch_size", "mini-batch size", 1, 65536, integer=True),
    Field("epochs", "most epochs to train", 1, 10000, integer=True),
    Field("l2", "L2 penalty on weights", 0, 1),
    Field("dropout", "dropout rate on hidden units", 0, 0.9),
    Field("patience", "epochs without improvement before stopping (0: never stop early)", 0, 10000, integer=True),
    Field("min_delta", "smallest change that counts as an improvement", 0, 1),
    Field("dev_size", "dev set size: a count, or a fraction below 1", 0, 1e7, open_low=True),
    Field("seed", "random seed (init, shuffling, splits)", 0, 2**32 - 1, integer=True),
    Field("max_norm", "max L2 norm of each unit's incoming weights (0: off)", 0, 1000),
    Field("threads", "BLAS threads (0: chosen by timing the run's own steps)", 0, 256, integer=True),
    Field("decay_every", "step schedule: epochs between decays", 1, 10000, integer=True),
    Field("decay_rate", "step schedule: factor applied at each decay", 0, 1, open_low=True),
    Field("optimizer", "update rule", choices=OPTIMIZERS),
    Field("schedule", "learning-rate schedule", choices=SCHEDULES),
    Field("monitor", "metric early stopping watches", choices=MONITORS),
    Field("activation", "hidden activation", choices=ACTIVATION_NAMES),
    Field("init", "weight initialisation", choices=INIT_NAMES),
    Field("kernel", "conv kernel side (3 or 5)", 3, 5, integer=True),
)}


@dataclass(frozen=True)
class TrainConfig:
    """All settings of one run. The defaults reach 98% on MNIST in a few seconds."""

    data: str = "mnist"
    hidden: tuple[int, ...] = (512, 256)
    conv: tuple[int, ...] = ()  # channels of each conv -> pool -> activation block, before the hidden layers
    kernel: int = 5
    activation: str = "relu"
    init: str = "he"
    dropout: float = 0.0
    optimizer: str = "momentum"
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 128
    epochs: int = 5
    l2: float = 0.0
    schedule: str = "cosine"
    decay_every: int = 5
    decay_rate: float = 0.5
    patience: int = 5
    min_delta: float = 0.0
    monitor: str = "dev_acc"
    seed: int = 0
    dev_size: float = 5000
    augment: str = ""
    max_norm: float = 0.0
    threads: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", parse_hidden(self.hidden))
        object.__setattr__(self, "conv", parse_conv(self.conv))
        for name, f in FIELDS.items():
            f.check(getattr(self, name))
            if f.integer:  # 3.0 passes the check; the loop needs 3
                object.__setattr__(self, name, int(getattr(self, name)))
        if self.kernel not in KERNELS:
            raise ConfigError(f"--kernel {self.kernel} must be one of {', '.join(map(str, KERNELS))}")
        parse_augment(self.augment)  # validates the text

    def spec(self, inputs: int = 784, classes: int = 10) -> Spec:
        return Spec(inputs, self.hidden, classes, self.activation, self.init, self.dropout, self.seed,
                    self.conv, self.kernel)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["conv"] = list(self.conv)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}")
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)


def parse_value(name: str, text: str):
    """One setting's value from text (a form field, a grid cell) -> its typed, checked value; ConfigError if bad."""
    text = str(text).strip()
    if name == "hidden":
        return parse_hidden(text)
    if name == "conv":
        return parse_conv(text)
    if name == "augment":
        value = "" if text.lower() in ("", "off", "none") else text
        parse_augment(value)
        return value
    if name == "data":
        if not text:
            raise ConfigError("--data must name a source or a path")
        return text
    f = FIELDS[name]
    if name == "kernel" and text not in ("3", "5"):
        raise ConfigError(f"--kernel {text!r} must be one of {', '.join(map(str, KERNELS))}")
    if f.choices:
        f.check(text)
        return text
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--{name.replace('_', '-')} {text!r} is not a number") from None
    f.check(value)
    return int(value) if f.integer else value


def show_value(value) -> str:
    """A setting's value as text, the inverse of parse_value: hidden (128, 64) -> 128-64 (one notation for
    layers everywhere, so a comma always separates candidates in a grid), floats with %g, '' -> off."""
    if isinstance(value, (tuple, list)):
        return "-".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value != "" else "off"


def parse_hidden(value) -> tuple[int, ...]:
    """`"256,128"`, `"256-128"`, `128`, `[256, 128]` or `""` / `"none"` (no hidden layer) -> (256, 128).

    Every part must be a positive whole number: `-5`, `16,-8` and `,,,` are refused, not reinterpreted.
    """
    if isinstance(value, str):
        text = value.strip()
        parts = [] if text.lower() in ("", "none") else [p.strip() for p in text.replace("-", ",").split(",")]
        if not all(p.isdigit() for p in parts):
            raise ConfigError(f"--hidden {value!r} must be layer sizes: positive whole numbers such as 128 or 256-128")
        value = [int(p) for p in parts]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"--hidden {value!r:.40} must be layer sizes: positive whole numbers such as 128 or 256-128")
    sizes = tuple(int(v) for v in value)
    if len(sizes) > 8 or any(not 1 <= s <= 8192 for s in sizes):
        raise ConfigError(f"--hidden {show_value(sizes)}: up to 8 layers of 1-8192 units")
    return sizes


def parse_conv(value) -> tuple[int, ...]:
    """`"32,64"`, `32`, `[32, 64]` or `""` / `"off"` (no conv blocks: an MLP) -> (32, 64)."""
    if isinstance(value, str):
        text = value.strip().lower()
        parts = [] if text in ("off", "none") else [p for p in text.replace("-", ",").replace(" ", "").split(",") if p]
        try:
            value = [int(p.lstrip("c")) for p in parts]
        except ValueError:
            raise ConfigError(f"--conv {value!r} must be channel counts such as 32,64 (or off)") from None
    elif isinstance(value, int):
        value = [value]
    channels = tuple(int(v) for v in value)
    if len(channels) > 4 or any(not 1 <= c <= 512 for c in channels):
        raise ConfigError(f"--conv {','.join(map(str, channels))}: up to 4 blocks of 1-512 channels")
    return channels


AUGMENT_DEFAULTS = {"shift": 2.0, "rotate": 10.0, "noise": 0.1}
AUGMENT_LIMITS = {"shift": 8.0, "rotate": 45.0, "noise": 1.0}


def parse_augment(text: str) -> dict[str, float]:
    """`"shift,rotate=15,noise=0.05"` -> {"shift": 2.0, "rotate": 15.0, "noise": 0.05}; "" -> {}."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in AUGMENT_DEFAULTS:
            raise ConfigError(f"--augment {name!r} is not one of {', '.join(AUGMENT_DEFAULTS)}")
        try:
            strength = float(value) if value else AUGMENT_DEFAULTS[name]
        except ValueError:
            raise ConfigError(f"--augment {part!r}: strength must be a number") from None
        if not 0 <= strength <= AUGMENT_LIMITS[name]:
            raise ConfigError(f"--augment {name}={strength:g} is out of range: [0, {AUGMENT_LIMITS[name]:g}]")
        out[name] = strength
    return out
