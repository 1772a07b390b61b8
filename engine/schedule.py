"""Learning-rate schedules as a function of training progress measured in epochs (a float)."""
from __future__ import annotations

import math


def learning_rate(schedule: str, base: float, progress: float, epochs: int,
                  decay_every: int = 5, decay_rate: float = 0.5) -> float:
    """The rate after `progress` epochs: constant, step (x decay_rate every decay_every), or cosine to 0."""
    if schedule == "constant":
        return base
    if schedule == "step":
        return base * decay_rate ** math.floor(progress / decay_every)
    if schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * min(progress / epochs, 1.0)))
    raise ValueError(f"unknown schedule {schedule!r}")
