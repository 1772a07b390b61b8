"""TrainConfig validation, parse_hidden, and the learning-rate schedules."""
from __future__ import annotations

import math

import pytest

from engine import FIELDS, LIVE, ConfigError, TrainConfig, parse_hidden
from engine.schedule import learning_rate
from models import Spec


@pytest.mark.parametrize("name, value, flag", [
    ("lr", 0, "--lr"),
    ("lr", 100, "--lr"),
    ("lr", -0.1, "--lr"),
    ("lr", math.nan, "--lr"),
    ("lr", math.inf, "--lr"),
    ("lr", "0.1", "--lr"),
    ("momentum", 1, "--momentum"),
    ("batch_size", 0, "--batch-size"),
    ("batch_size", True, "--batch-size"),
    ("dropout", 0.95, "--dropout"),
    ("optimizer", "rmsprop", "--optimizer"),
    ("schedule", "linear", "--schedule"),
    ("monitor", "train_acc", "--monitor"),
    ("activation", "swish", "--activation"),
    ("epochs", 2.5, "--epochs"),
    ("epochs", 0, "--epochs"),
    ("decay_rate", 0, "--decay-rate"),
    ("dev_size", 0, "--dev-size"),
    ("l2", 2, "--l2"),
    ("augment", "blur", "--augment"),
    ("hidden", "abc", "--hidden"),
])
def test_out_of_range_values_name_the_flag(name, value, flag):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{name: value})
    assert flag in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name, value", [
    ("lr", 10), ("lr", 1e-6), ("momentum", 0), ("momentum", 0.999), ("dropout", 0.9), ("batch_size", 1),
    ("l2", 0), ("dev_size", 0.1), ("decay_rate", 1), ("optimizer", "adam"), ("schedule", "step"),
])
def test_edge_values_are_accepted(name, value):
    assert getattr(TrainConfig(**{name: value}), name) == value


def test_whole_floats_become_ints():
    cfg = TrainConfig(epochs=3.0, batch_size=64.0, patience=2.0)
    assert (cfg.epochs, cfg.batch_size, cfg.patience) == (3, 64, 2)
    assert all(type(v) is int for v in (cfg.epochs, cfg.batch_size, cfg.patience))


@pytest.mark.parametrize("value, want", [
    ("256,128", (256, 128)), ("256-128", (256, 128)), (" 64 , 32 ", (64, 32)), (128, (128,)), ([64], (64,)),
    ((256, 128), (256, 128)), ("", ()),
])
def test_parse_hidden_accepts(value, want):
    assert parse_hidden(value) == want


@pytest.mark.parametrize("value", ["abc", "128,x", "0", "9000", [0], "1,1,1,1,1,1,1,1,1"])
def test_parse_hidden_rejects(value):
    with pytest.raises(ConfigError, match="--hidden"):
        parse_hidden(value)


def test_config_round_trip_and_spec():
    cfg = TrainConfig(hidden="64,32", activation="tanh", init="xavier", dropout=0.2, seed=4, lr=0.01)
    assert cfg.hidden == (64, 32)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.spec() == Spec(784, (64, 32), 10, "tanh", "xavier", 0.2, 4)
    assert cfg.replace(lr=0.5).lr == 0.5
    with pytest.raises(ConfigError):
        cfg.replace(lr=50)


def test_unknown_setting():
    with pytest.raises(ConfigError, match="'speed'"):
        TrainConfig.from_dict({"speed": 11})


def test_live_settings_are_fields():
    assert set(LIVE) <= set(FIELDS)


# -- schedules --------------------------------------------------------------------------------


def test_constant():
    assert [learning_rate("constant", 0.1, p, 10) for p in (0, 3.3, 10, 20)] == [0.1] * 4


def test_step():
    at = [learning_rate("step", 0.8, p, 20, decay_every=5, decay_rate=0.5) for p in (0, 4.99, 5, 9.9, 10, 17)]
    assert at == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.2, 0.1])


def test_cosine():
    at = [learning_rate("cosine", 0.2, p, 10) for p in (0, 2.5, 5, 7.5, 10, 12)]
    want = [0.2, 0.1 * (1 + math.cos(math.pi / 4)), 0.1, 0.1 * (1 - math.cos(math.pi / 4)), 0, 0]
    assert at == pytest.approx(want, abs=1e-12)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="linear"):
        learning_rate("linear", 0.1, 0, 1)
