"""A conv net through every headless command: train, eval, predict (and --image), runs, compare, search, bench."""
from __future__ import annotations

import json

import numpy as np

import models
from tui.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def train_cnn(capsys, small_npz, *extra):
    code, out, err = run(capsys, "train", "--data", small_npz, "--conv", "4,8", "--kernel", "3", "--hidden", "16",
                         "--epochs", "3", "--dev-size", "200", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_train_a_cnn_then_eval_predict_runs_and_compare(capsys, small_npz, isolated, tmp_path):
    result = train_cnn(capsys, small_npz)
    assert result["test_accuracy"] > 0.5 and "c4-c8-16-10-k3" in result["run_dir"]
    model, meta = models.load(result["model_path"])
    assert str(model.spec) == "c4-c8-16-10-k3" and meta["version"] == 2 and len(model.convs) == 2
    config = json.loads((isolated / "runs" / result["run_dir"].split("/")[-1] / "config.json").read_text())
    assert config["config"]["conv"] == [4, 8] and config["config"]["kernel"] == 3

    code, out, _ = run(capsys, "eval", result["model_path"])
    assert code == 0 and f"{100 * result['test_accuracy']:.2f}%" in out

    code, out, _ = run(capsys, "predict", result["model_path"], "--count", "3", "--seed", "1")
    assert code == 0 and out.count("→") >= 3

    digit = np.zeros((40, 30), np.uint8)
    digit[8:32, 13:17] = 255  # a one
    scan = tmp_path / "one.pgm"
    scan.write_bytes(b"P5\n30 40\n255\n" + digit.tobytes())
    code, out, err = run(capsys, "predict", result["model_path"], "--image", scan)
    assert code == 0, err
    assert sum(f"{d} " in out for d in range(10)) >= 5  # the ten probabilities

    other = train_cnn(capsys, small_npz, "--seed", "1")
    code, out, _ = run(capsys, "runs")
    assert code == 0 and out.count("c4-c8-16-10-k3") >= 2
    code, out, err = run(capsys, "compare", result["run_dir"], other["run_dir"])
    assert code == 0, err
    assert "conv" in out or "c4-c8" in out


def test_search_with_conv_as_a_grid_axis(capsys, small_npz, isolated):
    code, out, err = run(capsys, "search", "--data", small_npz, "--dev-size", "200", "--conv", "off;4",
                         "--kernel", "3", "--hidden", "16", "--epochs", "1", "--batch-size", "64")
    assert code == 0, err
    assert "conv" in out and "2 combinations" in out and "winner: trial" in out


def test_bench_a_cnn_prints_its_floor_and_layer_shares(capsys):
    code, out, err = run(capsys, "bench", "--quick", "--conv", "4", "--kernel", "3", "--hidden", "16",
                         "--repeats", "1")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("c4-16-10-k3"))
    assert row.split()[1] == "128" and row.split()[5].endswith("x")  # the ratio; its size is load-dependent
    assert "share of the step" in out and "Conv2D" in out and "MaxPool2D" in out and "%" in out


def test_bad_conv_options_are_one_line(capsys):
    for argv, words in [(["train", "--conv", "4,x"], "--conv '4,x'"), (["train", "--kernel", "4", "--conv", "4"],
                                                                      "--kernel '4'"),
                        (["bench", "--conv", "4", "--kernel", "7"], "--kernel")]:
        code, _, err = run(capsys, *argv)
        assert code == 1 and words in err and err.count("\n") == 1, err


def test_a_conv_net_gets_its_own_lr_and_dropout_unless_given():
    from tui.cli import build_parser
    from tui.cli.options import config_from_args

    parser = build_parser()
    conv = config_from_args(parser.parse_args(["train", "--conv", "32,64"]))
    assert (conv.lr, conv.dropout) == (0.05, 0.5)
    given = config_from_args(parser.parse_args(["train", "--conv", "32,64", "--dropout", "0", "--lr", "0.1"]))
    assert (given.lr, given.dropout) == (0.1, 0.0)
    mlp = config_from_args(parser.parse_args(["train"]))
    assert (mlp.lr, mlp.dropout) == (0.1, 0.0)
