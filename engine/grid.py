"""A search grid from text: each setting's comma list parsed once, here, for the command line and the app."""
from __future__ import annotations

from .config import ConfigError, TrainConfig, parse_value

FIXED = ("data", "dev_size")  # every trial must be ranked on the same dev set
SEARCHABLE = tuple(name for name in TrainConfig.__dataclass_fields__ if name not in FIXED)


def parse_values(name: str, text: str) -> list:
    """One setting's comma list -> its checked values, duplicates dropped.

    hidden: "64,128,256-128" -> [(64,), (128,), (256, 128)] (a '-' joins layers; with ';' as the
    separator, "256,128;512" works too); augment: "off;shift,rotate" (';' separates, augment has
    commas); choices: "sgd,adam"; numbers: "0,1e-4,1e-3".
    """
    flag = "--" + name.replace("_", "-")
    text = str(text).strip()
    if name in FIXED and name in TrainConfig.__dataclass_fields__:
        raise ConfigError(f"{flag} cannot be searched: every trial is ranked on the same dev set")
    if name not in SEARCHABLE:
        raise ConfigError(f"{flag}: not a training setting")
    if name == "augment":
        items = [t.strip() for t in text.split(";")]
    elif name == "hidden" and ";" in text:
        items = [t.strip() for t in text.split(";")]
    else:
        items = [t.strip() for t in text.split(",")]
    items = [t for t in items if t or name == "augment"]
    if not items:
        raise ConfigError(f"{flag}: give at least one value")
    values = []
    for item in items:
        value = parse_value(name, item)
        if value not in values:
            values.append(value)
    return values


def parse_space(texts: dict[str, str]) -> dict[str, list]:
    """{"hidden": "64,128", "l2": "0,1e-4"} -> {"hidden": [(64,), (128,)], "l2": [0.0, 0.0001]}; blanks skipped."""
    return {name: parse_values(name, text) for name, text in texts.items() if text is not None and str(text).strip()}


def parse_grid(texts: dict, base: TrainConfig) -> tuple[TrainConfig, dict[str, list]]:
    """(base config, search space) from {setting: text}: one value fixes a setting on `base`, several search it;
    None (a flag not given) is skipped, a blank text refused. `data` and `dev_size` are fixed as given.
    ConfigError names the bad setting."""
    fixed, space = {}, {}
    for name, text in texts.items():
        if text is None:
            continue
        if name in FIXED:
            fixed[name] = text
            continue
        values = parse_values(name, text)
        if len(values) == 1:
            fixed[name] = values[0]
        else:
            space[name] = values
    return base.replace(**fixed), space
