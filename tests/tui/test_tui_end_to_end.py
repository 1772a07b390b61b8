"""One real epoch on a slice of MNIST, trained inside the app, as a person would: press t and watch."""
from __future__ import annotations

import json
import re

import models
from engine import TrainConfig
from tui.app import make_app
from tui.widgets.confusion import ConfusionPanel


async def test_a_real_epoch_inside_the_app(slice_of, runs_root, ui):
    splits = slice_of(3000, 1000, 1000)  # one epoch reaches 85-89% dev accuracy whatever the seed
    cfg = TrainConfig(hidden=(64,), epochs=1, batch_size=32, lr=0.05, optimizer="momentum", schedule="constant",
                      patience=0, seed=0)
    app = make_app(cfg, loader=lambda c: splits, runs_root=runs_root)
    async with app.run_test(size=(100, 30)) as pilot:
        await ui.loaded(pilot)
        assert "mnist-slice 3k/1k/1k" in str(app.query_one("#title").content)
        await pilot.press("t")
        await ui.finished(pilot, timeout=60)
        assert app.session.state == "finished"

        status = ui.text_of(app.query_one("#side-status"))
        dev = re.search(r"dev @1\s+([\d.]+)%", status)  # the last epoch's dev accuracy
        assert dev, status
        assert float(dev.group(1)) > 80, status
        assert "finished 1/1" in status and "max epochs (1) reached" in status

        matrix = app.query_one(ConfusionPanel).matrix
        assert matrix.sum() == 1000 and matrix.trace() / 1000 > 0.8

    summary = json.loads((app.session.run_dir / "summary.json").read_text())
    assert summary["epochs"] == 1 and summary["best_epoch"] == 1
    assert summary["test_accuracy"] > 0.8 and summary["data"] == "mnist-slice"
    assert summary["spec"] == "784-64-10"
    model, meta = models.load(app.session.run_dir / "model.npz")
    assert str(model.spec) == "784-64-10" and meta["metrics"]["test_accuracy"] == summary["test_accuracy"]
