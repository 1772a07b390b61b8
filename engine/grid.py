"""A search grid from text: each setting's comma list (or range lo:hi) parsed once, here, for the command line
and the app."""
from __future__ import annotations

from dataclasses import dataclass

from .config import FIELDS, ConfigError, TrainConfig, parse_value

FIXED = ("data", "dev_size", "threads")  # every trial is ranked on the same dev set, and timed alike
SEARCHABLE = tuple(name for name in TrainConfig.__dataclass_fields__ if name not in FIXED)
LOG_SCALE = ("lr", "l2", "batch_size", "hidden")  # ranges of these are sampled on a log scale


@dataclass(frozen=True)
class Range:
    """A setting's range `lo:hi`, sampled (never gridded): log scale for lr, l2 and sizes, integers for sizes."""

    low: float
    high: float
    log: bool
    integer: bool

    def __str__(self) -> str:
        return f"{self.low:g}:{self.high:g}" + (" log" if self.log else "")


def check_name(name: str) -> str:
    """The setting's --flag; ConfigError if it cannot be searched."""
    flag = "--" + name.replace("_", "-")
    if name in FIXED:
        why = "every trial is timed alike" if name == "threads" else "every trial is ranked on the same dev set"
        raise ConfigError(f"{flag} cannot be searched: {why}")
    if name not in SEARCHABLE:
        raise ConfigError(f"{flag}: not a training setting")
    return flag


def parse_values(name: str, text: str) -> list:
    """One setting's comma list -> its checked values, duplicates dropped.

    hidden: "64,128,256-128" -> [(64,), (128,), (256, 128)] (a '-' joins layers; with ';' as the
    separator, "256,128;512" works too); augment: "off;shift,rotate" (';' separates, augment has
    commas); conv: "off;16,32;32,64" (';' separates: `--conv 32,64` is one architecture); choices:
    "sgd,adam"; numbers: "0,1e-4,1e-3".
    """
    flag = check_name(name)
    text = str(text).strip()
    if name in ("augment", "conv"):
        items = [t.strip() for t in text.split(";")]
    elif name == "hidden" and ";" in text:
        items = [t.strip() for t in text.split(";")]
    else:
        items = [t.strip() for t in text.split(",")]
    items = [t for t in items if t or name in ("augment", "conv")]
    if not items:
        raise ConfigError(f"{flag}: give at least one value")
    values = []
    for item in items:
        value = parse_value(name, item)
        if value not in values:
            values.append(value)
    return values


def parse_range(name: str, text: str) -> Range:
    """`lo:hi` -> a Range; lr and l2 (log scale) need lo > 0; hidden means one layer of lo..hi units."""
    flag = check_name(name)
    integer = name == "hidden" or name in FIELDS and FIELDS[name].integer
    if name == "augment" or name in FIELDS and FIELDS[name].choices:
        raise ConfigError(f"{flag} {text}: a range needs a numeric setting; list the values instead")
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"{flag} {text!r}: a range is lo:hi, e.g. 1e-4:0.3")
    lo, hi = (parse_value(name, p) for p in parts)
    lo, hi = (v[0] if isinstance(v, tuple) and len(v) == 1 else v for v in (lo, hi))
    if isinstance(lo, tuple) or isinstance(hi, tuple):
        raise ConfigError(f"{flag} {text}: a range of hidden sizes is one layer, e.g. 64:512")
    if not lo < hi:
        raise ConfigError(f"{flag} {text}: the low end must be below the high end")
    log = name in LOG_SCALE
    if log and lo <= 0:
        raise ConfigError(f"{flag} {text}: a log-scale range needs a low end above 0, e.g. 1e-6:{hi:g}")
    return Range(float(lo), float(hi), log, integer)


def parse_axis(name: str, text: str):
    """A comma list (-> list of values) or a range `lo:hi` (-> Range)."""
    return parse_range(name, text) if ":" in str(text) else parse_values(name, text)


def is_grid(space: dict) -> bool:
    """True when every axis is a list of values (no range)."""
    return not any(isinstance(v, Range) for v in space.values())


def parse_space(texts: dict[str, str]) -> dict[str, list | Range]:
    """{"hidden": "64,128", "lr": "1e-3:0.3"} -> {"hidden": [(64,), (128,)], "lr": Range(...)}; blanks skipped."""
    return {name: parse_axis(name, text) for name, text in texts.items() if text is not None and str(text).strip()}


def parse_grid(texts: dict, base: TrainConfig) -> tuple[TrainConfig, dict[str, list | Range]]:
    """(base config, search space) from {setting: text}: one value fixes a setting on `base`, several (or a
    range lo:hi) search it; None (a flag not given) is skipped, a blank text refused. `data`, `dev_size` and
    `threads` are fixed as given. ConfigError names the bad setting."""
    fixed, space = {}, {}
    for name, text in texts.items():
        if text is None:
            continue
        if name in FIXED:
            fixed[name] = text
            continue
        values = parse_axis(name, text)
        if isinstance(values, list) and len(values) == 1:
            fixed[name] = values[0]
        else:
            space[name] = values
    return base.replace(**fixed), space
