"""The size of one checkpoint of a conv net (c32-c64-128-10, momentum SGD): its weights and momentum buffers.

    .venv/bin/python docs/measure/checkpoint_size.py
"""
import tempfile
from pathlib import Path

import numpy as np

from engine import TrainConfig
from engine.checkpoints import Checkpoint, path_for
from engine.trainer import Monitor, make_optimizer
from models import MLP

cfg = TrainConfig(conv=(32, 64), hidden=(128,))
model = MLP(cfg.spec())
opt = make_optimizer(model, cfg)
monitor = Monitor(cfg.monitor, cfg.patience, cfg.min_delta)
with tempfile.TemporaryDirectory() as folder:
    state = Checkpoint.capture(1, model, opt, {"order": np.random.default_rng(0)}, monitor, {"lr": cfg.lr}, 0.0)
    path = state.save(path_for(Path(folder), 1))
    print(f"{cfg.spec()}: {model.n_params():,} parameters, checkpoint {path.stat().st_size / 2**20:.2f} MB")
