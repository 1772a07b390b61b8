"""Training health in the epoch records, and alerts: each raised by a crafted run, silent on a healthy one."""
from __future__ import annotations

import math

import numpy as np
import pytest

import data
from engine import Control, EpochEnded, TrainConfig, train
from engine.health import Alert, alerts
from models import MLP


def kinds(history, changes=(), latest=None):
    return [a.kind for a in alerts(history, changes, latest)]


def every_prefix(history):
    """The alerts the dashboard would have shown after each epoch."""
    return {h["epoch"]: kinds(history[:i + 1]) for i, h in enumerate(history)}


def test_each_epoch_record_carries_health_per_layer(run, config):
    result, model = run(config(hidden=(32, 16), epochs=2))
    record = result.history[-1]
    grads = [k for k in record if "grad" in k]
    assert grads == ["grad_norm_1", "grad_norm_2", "grad_norm_3"]  # one per weight matrix
    assert all(record[k] > 0 and math.isfinite(record[k]) for k in grads)
    assert 0 < record["update_ratio_1"] < 0.1
    assert 0 <= record["dead_1"] <= 1 and 0 <= record["dead_2"] <= 1 and "dead_3" not in record
    assert record["loss_trend"] < 0  # the loss falls within the epoch of an easy problem


def test_a_healthy_run_raises_no_alert(run, config):
    result, _ = run(config(epochs=6))
    assert all(v == [] for v in every_prefix(result.history).values())


def test_vanishing_gradients_in_a_deep_sigmoid_net(run, config):
    result, _ = run(config(hidden=(32,) * 8, activation="sigmoid", init="xavier", epochs=2))
    found = alerts(result.history)
    assert [a.kind for a in found] == ["vanishing"] and "early layers" in found[0].message


def test_most_units_of_a_layer_dead(run, config):
    model = MLP(config().spec())
    model.dense[0].b[:13] = -50  # 13 of 16 units never fire, and so never learn
    result, _ = run(config(), model=model)
    found = alerts(result.history)
    assert [a.kind for a in found] == ["dead"] and found[0].message.startswith("81% of layer 1")
    assert result.history[-1]["dead_1"] == pytest.approx(13 / 16)


def test_a_too_high_rate_set_live_says_undo_the_change(run, config):
    control = Control()

    def raise_lr(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            control.change(lr=3.0)

    result, _ = run(config(epochs=4), raise_lr, control)
    changes = [{"epoch": 3, "batch": 0, "field": "lr", "old": 0.05, "new": 3.0}]
    seen = every_prefix(result.history)
    assert seen[1] == seen[2] == []
    found = alerts(result.history[:3], changes)
    assert found[0].kind == "diverging" and found[0].suggestion == "lr likely too high: undo the change / halve lr"
    assert alerts(result.history[:3])[0].suggestion == "lr likely too high: halve lr"


def test_non_finite_values_alert(run, config):
    result, _ = run(config(epochs=2))
    assert kinds(result.history, latest=float("nan")) == ["diverging"]
    broken = [*result.history[:1], {**result.history[1], "train_loss": float("inf")}]
    assert kinds(broken) == ["diverging"] and alerts(broken)[0].message == "loss is not finite"


@pytest.fixture(scope="module")
def small_mnist():
    full = data.load("mnist")
    return full.train.x[:500], full.train.y[:500], full.dev.x[:500], full.dev.y[:500]


def test_overfitting_when_a_big_net_memorises_500_digits(small_mnist):
    cfg = TrainConfig(hidden=(256,), lr=0.1, epochs=25, schedule="constant", patience=0, batch_size=32)
    result = train(MLP(cfg.spec()), *small_mnist, cfg)
    seen = every_prefix(result.history)
    assert all(v == [] for e, v in seen.items() if e <= 10)  # healthy while it still learns
    found = alerts(result.history)
    assert [a.kind for a in found] == ["overfitting"]
    assert f"the best epoch ({result.best_epoch}) is kept; stop now?" in found[0].suggestion


def test_dev_accuracy_falling_while_train_rises_is_overfitting():
    rows = [(1, 0.90, 0.90), (2, 0.95, 0.93), (3, 0.97, 0.92), (4, 0.99, 0.91)]
    history = [{"epoch": e, "train_acc": t, "dev_acc": d, "train_loss": 1 - t, "dev_loss": 1 - d} for e, t, d in rows]
    assert alerts(history) == [Alert("overfitting", 4, "dev accuracy falling while train rises (overfitting)",
                                     "the best epoch (2) is kept; stop now? or add l2 / dropout / augment")]
    assert alerts(history[:3]) == []  # one fall is noise
    history[3]["train_acc"] = 0.89
    assert alerts(history) == []


def test_alerts_never_change_a_setting(run, config):
    cfg = config(epochs=2)
    result, _ = run(cfg)
    before = [dict(h) for h in result.history]
    alerts(result.history, [{"epoch": 1, "batch": 0, "field": "lr", "old": 0.1, "new": 5}])
    assert result.history == before and cfg == config(epochs=2)
    assert np.isfinite([v for h in result.history for v in h.values()]).all()


def test_a_probed_step_at_learning_rate_zero_is_not_measured():
    """A cosine schedule reaches lr 0 on the run's last batch; a probe there divided by zero (seen as every
    trial of `nn-tui search --dev-size 1000` failing)."""
    from engine import TrainConfig
    from engine.health import Probe
    from engine.trainer import make_optimizer, step
    from models import MLP

    rng = np.random.default_rng(0)
    cfg = TrainConfig(hidden=(8,))
    model = MLP(cfg.spec())
    probe = Probe(model)
    loss, _ = step(model, make_optimizer(model, cfg), rng.random((16, 784), dtype=np.float32),
                   rng.integers(0, 10, 16), 0.0, probe)
    assert np.isfinite(loss) and probe.samples == 0
