"""Conv nets through the same loop as the MLP: every setting, early stopping, pause, stop and live changes."""
from __future__ import annotations

import numpy as np
import pytest
from test_engine_control import Gate, batch

from engine import BatchEnded, ConfigError, Control, Paused, SettingsChanged, TrainConfig
from engine.grid import parse_grid
from models import MLP


@pytest.fixture
def cnn(config):
    def make(**changes):
        return config(**{"conv": (4,), "kernel": 3, "hidden": (16,), **changes})
    return make


@pytest.mark.parametrize("changes", [
    {},
    {"optimizer": "adam", "lr": 0.005, "kernel": 5},
    {"activation": "tanh", "dropout": 0.2, "l2": 1e-4, "conv": (4, 6)},
    {"augment": "shift=1,noise=0.05", "max_norm": 1.0, "schedule": "cosine", "optimizer": "nesterov"},
    {"activation": "leaky_relu", "optimizer": "sgd", "lr": 0.3, "hidden": ()},
])
def test_every_kind_of_cnn_run_learns(run, cnn, changes):
    cfg = cnn(epochs=5, **changes)
    result, model = run(cfg)
    assert model.convs and str(model.spec).startswith("c")
    assert result.stop == "max-epochs"
    assert result.dev_acc >= 0.8, result.history


def test_cnn_max_norm_holds_for_each_filter(run, cnn):
    _, model = run(cnn(max_norm=0.4, lr=0.2))
    for layer in model.convs + model.dense:
        assert np.linalg.norm(layer.W, axis=0).max() <= 0.4 * (1 + 1e-5)


def test_cnn_early_stopping_restores_the_best_weights(run, cnn, easy):
    cfg = cnn(epochs=30, patience=2)
    result, model = run(cfg)
    assert result.stop == "early-stopped" and result.best_epoch < result.epochs
    assert result.dev_acc == pytest.approx(float(np.mean(model.predict(easy.x_dev) == easy.y_dev)))


def test_cnn_pause_change_and_stop_mid_run(background, cnn):
    control, gate = Control(), Gate(batch(2))
    bg = background(cnn(epochs=3, batch_size=32), gate, control)
    gate.hold()
    control.change(batch_size=100, lr=0.02)
    gate.release.set()
    gate.wait_for(SettingsChanged)
    control.pause()
    gate.wait_for(Paused)
    control.stop()
    result = bg.join()
    assert result.stop == "stopped" and result.epochs == 0
    assert gate.of(SettingsChanged)[0].changes == {"batch_size": 100, "lr": 0.02}
    assert all(e.epoch == 1 for e in gate.of(BatchEnded))


def test_conv_settings_are_checked_and_not_live():
    assert TrainConfig(conv="32,64").conv == (32, 64) and TrainConfig(conv="off").conv == ()
    assert str(TrainConfig(conv=(32, 64), hidden=(128,)).spec()) == "c32-c64-128-10"
    assert TrainConfig.from_dict(TrainConfig(conv=(8,), kernel=3).to_dict()).conv == (8,)
    for bad, words in [({"kernel": 4}, "--kernel 4"), ({"conv": "32,x"}, "--conv"), ({"conv": (0,)}, "--conv")]:
        with pytest.raises(ConfigError, match=words):
            TrainConfig(**bad)
    with pytest.raises(ConfigError, match="conv cannot change"):
        Control().change(conv=(8,))


def test_conv_is_a_search_axis_separated_by_semicolons():
    base, space = parse_grid({"conv": "off;16,32;32,64", "kernel": "3,5"}, TrainConfig())
    assert space == {"conv": [(), (16, 32), (32, 64)], "kernel": [3, 5]}
    base, space = parse_grid({"conv": "32,64"}, TrainConfig())
    assert base.conv == (32, 64) and space == {}


def test_a_cnn_model_from_a_config_trains_in_float32(easy, cnn):
    model = MLP(cnn().spec())
    assert all(p.dtype == np.float32 for p in model.params)
    assert model.predict_proba(easy.x_dev).dtype == np.float32


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_two_half_batches_at_once_make_the_same_update_as_one_batch(optimizer):
    from engine.trainer import Twin, make_optimizer, step

    rng = np.random.default_rng(0)
    x, y = rng.random((9, 784), dtype=np.float32), rng.integers(0, 10, 9)
    cfg = TrainConfig(conv=(3,), kernel=3, hidden=(8,), optimizer=optimizer, lr=0.05)
    whole, halves = MLP(cfg.spec()), MLP(cfg.spec())
    opt_whole, opt_halves = make_optimizer(whole, cfg), make_optimizer(halves, cfg)
    twin = Twin(halves)
    try:
        for _ in range(3):
            loss_w, correct_w = step(whole, opt_whole, x, y, cfg.lr)
            loss_h, correct_h = step(halves, opt_halves, x, y, cfg.lr, twin=twin)
            assert loss_h == pytest.approx(loss_w, rel=1e-5) and correct_h == correct_w
    finally:
        twin.close()
    for a, b in zip(whole.params, halves.params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not np.allclose(whole.params[0], MLP(cfg.spec()).params[0])  # it did learn something


def test_a_cnn_on_two_threads_trains_two_half_batches_with_one_blas_thread_each(run, cnn):
    from threadpoolctl import threadpool_info

    seen = []

    def listen(event):
        if isinstance(event, BatchEnded):
            seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})

    result, _ = run(cnn(threads=2, epochs=1), listener=listen, report_every=0)
    assert result.threads == 2 and seen and all(s == {1} for s in seen)
