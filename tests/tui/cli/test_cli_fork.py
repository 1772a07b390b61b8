"""`nn-tui train --fork`, `--keep-checkpoints`, and what `runs` and `compare` say about forks and live changes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.runs import read_run
from engine.threads import pinned
from tui.cli import main

TIMING = {"seconds", "elapsed", "samples_per_sec"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, small_npz, *extra) -> dict:
    code, out, err = run(capsys, "train", "--data", str(small_npz), "--hidden", "32", "--dev-size", "200",
                         "--schedule", "constant", "--dropout", "0.1", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def epochs(result) -> list[dict]:
    return [{k: v for k, v in h.items() if k not in TIMING} for h in read_run(Path(result["run_dir"])).history]


def test_a_2_epoch_run_forked_to_4_equals_a_4_epoch_run(capsys, small_npz):
    with pinned(1):  # OPENBLAS_NUM_THREADS=1
        straight = train(capsys, small_npz, "--epochs", "4")
        short = train(capsys, small_npz, "--epochs", "2")
        forked = train(capsys, small_npz, "--fork", Path(short["run_dir"]).name, "--epochs", "4")
    assert forked["fork"] == {"parent": short["run_dir"], "epoch": 2, "overrides": {"epochs": [2, 4]}}
    assert epochs(forked) == epochs(straight) and len(epochs(forked)) == 4  # every metric of epochs 3 and 4
    assert forked["test_accuracy"] == straight["test_accuracy"] and forked["changes"] == []


def test_fork_at_an_epoch_with_a_new_rate_and_runs_names_the_parent(capsys, small_npz):
    parent = train(capsys, small_npz, "--epochs", "3")
    name = Path(parent["run_dir"]).name
    child = train(capsys, small_npz, "--fork", f"{name}@2", "--lr", "0.01")
    assert child["epochs"] == 3 and child["config"]["lr"] == 0.01
    assert child["fork"]["overrides"] == {"lr": [0.1, 0.01]}
    code, out, _ = run(capsys, "runs")
    assert code == 0 and f"fork of {name} at epoch 2 (lr 0.1 -> 0.01)" in " ".join(out.split())
    code, out, _ = run(capsys, "runs", "--json")
    listed = {Path(r["path"]).name: r for r in json.loads(out)}
    assert listed[Path(child["run_dir"]).name]["fork"]["epoch"] == 2 and listed[name]["fork"] is None
    code, out, _ = run(capsys, "compare", name, Path(child["run_dir"]).name, "--width", "80")
    assert code == 0 and "fork of" in out


def test_keep_checkpoints_bounds_the_files(capsys, small_npz):
    result = train(capsys, small_npz, "--epochs", "4", "--keep-checkpoints", "1")
    kept = sorted(p.name for p in (Path(result["run_dir"]) / "checkpoints").iterdir())
    assert kept == sorted({"epoch-0004.npz", f"epoch-{result['best_epoch']:04d}.npz"})
    none = train(capsys, small_npz, "--epochs", "1", "--keep-checkpoints", "0")
    assert not (Path(none["run_dir"]) / "checkpoints").exists()
    code, _, err = run(capsys, "train", "--fork", Path(none["run_dir"]).name)
    assert code == 1 and "has no checkpoints" in err


@pytest.mark.parametrize("extra,message", [
    (["@x"], "the epoch after @ must be a whole number"),
    (["@9"], "has no checkpoint of epoch 9 (kept: 0, 1, 2)"),
    (["@1", "--hidden", "64"], "--hidden cannot change in a fork"),
    (["", "--epochs", "2"], "it has trained 2 epochs of 2; give --epochs above 2"),
])
def test_bad_forks_are_one_line(capsys, small_npz, extra, message):
    parent = train(capsys, small_npz, "--epochs", "2")
    code, _, err = run(capsys, "train", "--fork", Path(parent["run_dir"]).name + extra[0], *extra[1:])
    assert code == 1 and message in err and err.count("\n") == 1


def test_train_prints_an_alert_once_with_what_to_try(capsys, small_npz):
    code, out, _ = run(capsys, "train", "--data", str(small_npz), "--hidden", "32,32,32,32,32,32,32,32",
                       "--activation", "sigmoid", "--init", "xavier", "--epochs", "2", "--dev-size", "200")
    out = " ".join(out.split())  # lines wrap at the console's width
    assert code == 0
    assert out.count("⚠ gradients vanish in early layers") == 1 and "try relu with he init" in out
