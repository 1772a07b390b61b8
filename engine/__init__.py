"""How a network learns: loss, optimizers, schedules, the training loop, metrics, runs (NumPy only)."""
from .config import FIELDS, LIVE, ConfigError, TrainConfig, parse_hidden
from .control import Control
from .events import (
                     BatchEnded,
                     EpochEnded,
                     Finished,
                     Paused,
                     Recording,
                     Resumed,
                     RunStarted,
                     SettingsChanged,
                     ThreadsChosen,
)
from .metrics import Evaluation, accuracy, confusion, evaluate, per_class
from .trainer import Result, train

__all__ = ["FIELDS", "LIVE", "ConfigError", "TrainConfig", "parse_hidden", "Control", "BatchEnded", "EpochEnded",
           "Finished", "Paused", "Recording", "Resumed", "RunStarted", "SettingsChanged", "ThreadsChosen", "Evaluation",
           "accuracy", "confusion", "evaluate", "per_class", "Result", "train"]
