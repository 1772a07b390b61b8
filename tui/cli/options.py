"""Training options shared by `nn-tui`, `nn-tui train` and `nn-tui search`."""
from __future__ import annotations

import argparse
from dataclasses import fields

from engine import FIELDS, ConfigError, TrainConfig
from engine.config import CONV_DROPOUT, CONV_LR, parse_value, show_value
from engine.grid import FIXED

DEFAULTS = TrainConfig()


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def describe(name: str) -> str:
    """Help text: what the setting is, its range and its default."""
    default = getattr(DEFAULTS, name)
    if name == "hidden":
        return f"hidden layer sizes, e.g. 128 or 256-128 (default {show_value(default)})"
    if name == "lr":
        return f"learning rate; (0, 10] (default {default:g}, {CONV_LR:g} with --conv)"
    if name == "dropout":
        return f"dropout rate on the dense hidden units; [0, 0.9] (default {default:g}, {CONV_DROPOUT:g} with --conv)"
    if name == "conv":
        return ("conv blocks (conv k x k 'same' -> 2x2 max-pool -> activation) before the hidden layers: channels, "
                "e.g. 32,64 (default off: an MLP)")
    if name == "data":
        return ("source name (mnist, fashion-mnist, kmnist) or a path: MNIST directory, Kaggle .csv, .npz "
                "(default mnist)")
    if name == "augment":
        return "augmentation, e.g. shift,rotate,noise or shift=2,rotate=10,noise=0.1 (default off)"
    f = FIELDS[name]
    if f.choices:
        return f"{f.help}: {f.range_text()} (default {default})"
    # a no-break space keeps a range on one line of the help: [0, 4294967295], never "[0," then "4294967295]"
    bounds = f.range_text().replace(", ", ",\u00a0")
    return f"{f.help}; {bounds} (default {default:g})"


def add_train_options(parser: argparse.ArgumentParser, multi: bool = False) -> None:
    """One --flag per TrainConfig field; with multi=True numbers may be comma lists (for search)."""
    group = parser.add_argument_group("training settings")
    for f in fields(TrainConfig):
        metavar = f.name.upper().replace("_", "-")
        if multi and f.name not in FIXED:
            several = ("; several separated by ';', e.g. off;shift" if f.name == "augment"
                       else "; several separated by ';', e.g. off;16,32;32,64" if f.name == "conv"
                       else "; several separated by commas")
            text = describe(f.name) + several
            if f.name == "hidden":
                text = ("hidden layer sizes, a '-' joining layers: 128 or 256-128 (default 512-256); several: "
                        "64,128,256-128 (or with ';': 256,128;512)")
            group.add_argument(flag(f.name), dest=f.name, default=None, metavar=metavar + "[,...]", help=text)
        else:
            group.add_argument(flag(f.name), dest=f.name, type=setting(f.name), default=None, metavar=metavar,
                               help=describe(f.name))


def setting(name: str):
    """argparse type for one training setting: parsed and range-checked as the settings editor does."""
    def convert(text: str):
        try:
            return parse_value(name, text)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = name
    return convert


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The TrainConfig the flags ask for (flags not given keep `base`'s values); ConfigError if invalid."""
    chosen = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    config = (base or DEFAULTS).replace(**chosen)
    if base is None and config.conv:  # a conv net's own defaults (not for a fork)
        config = config.replace(**{k: v for k, v in (("lr", CONV_LR), ("dropout", CONV_DROPOUT)) if k not in chosen})
    return config
