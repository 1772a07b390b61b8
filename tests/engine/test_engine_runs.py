"""engine.runs read back: listing runs survives damaged and half-written directories; histories for charts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.runs import RunError, list_runs, load_history, read_run, resolve_run, train_run
from engine.search import parse_space, search


@pytest.fixture(scope="module")
def good(tiny, helpers, tmp_path_factory):
    """One finished run, copied by the tests that damage it."""
    root = tmp_path_factory.mktemp("good")
    _, summary = train_run(tiny, helpers.small(epochs=3, lr=0.05, optimizer="sgd"), root)
    return Path(summary["run_dir"])


def copy_run(good, root, name="run"):
    target = root / name
    shutil.copytree(good, target)
    return target


def test_an_empty_or_missing_runs_directory_lists_nothing(tmp_path):
    assert list_runs(tmp_path) == [] and list_runs(tmp_path / "nowhere") == []


def test_a_finished_run_reads_back_whole(good, tmp_path):
    run = copy_run(good, tmp_path)
    (tmp_path / "notes.txt").write_text("not a run")  # files beside runs are ignored
    [info] = list_runs(tmp_path)
    assert info.path == run and info.name == "run" and not info.damaged and info.problems == []
    assert info.epochs == 3 and len(info.history) == 3 and info.stop == "max-epochs"
    assert info.dev_acc == pytest.approx(json.loads((run / "summary.json").read_text())["dev_accuracy"])
    assert 0 < info.test_acc <= 1 and info.seconds > 0 and info.started is not None
    assert info.differences()["optimizer"] == "sgd" and info.differences()["lr"] == 0.05
    assert "seed" not in info.differences()  # same as the default
    history = load_history(run)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert {"train_loss", "dev_loss", "train_acc", "dev_acc"} <= set(history[0])


def break_config_json(run):
    (run / "config.json").write_text('{"config": {"lr": ')


def drop_config_json(run):
    (run / "config.json").unlink()


def unknown_setting(run):
    config = json.loads((run / "config.json").read_text())
    config["config"]["warp_speed"] = 9
    (run / "config.json").write_text(json.dumps(config))


def cut_metrics(run):
    text = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text(text[: len(text) - 40])  # the last line cut mid-record


def garble_metrics(run):
    lines = (run / "metrics.jsonl").read_text().splitlines()
    lines[1] = "\x00\x00garbage"
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def drop_metrics(run):
    (run / "metrics.jsonl").unlink()


def drop_summary(run):  # a run killed before it ended
    (run / "summary.json").unlink()


def break_summary(run):
    (run / "summary.json").write_text("[1, 2")


def summary_not_an_object(run):
    (run / "summary.json").write_text("[1, 2]")


def drop_model(run):
    (run / "model.npz").unlink()


def garble_model(run):
    (run / "model.npz").write_bytes(b"not a zip at all")


def empty_dir(run):
    shutil.rmtree(run)
    run.mkdir()


def binary_json(run):
    (run / "config.json").write_bytes(b"\xff\xfe\x00binary")


DAMAGE = {
    break_config_json: "config.json is not valid JSON",
    drop_config_json: "no config.json",
    unknown_setting: "unknown setting 'warp_speed'",
    cut_metrics: "metrics.jsonl: last line cut short",
    garble_metrics: "metrics.jsonl: 1 unreadable line (first: 2)",
    drop_metrics: "no metrics.jsonl",
    drop_summary: "no summary.json (still running, or interrupted)",
    break_summary: "summary.json is not valid JSON",
    summary_not_an_object: "summary.json is not a JSON object",
    drop_model: "model.npz is missing",
    garble_model: "model.npz is damaged (not a zip archive)",
    empty_dir: "no config.json",
    binary_json: "config.json is not valid JSON",
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=lambda f: f.__name__)
def test_a_damaged_run_is_listed_as_damaged_never_a_crash(good, tmp_path, damage):
    fine = copy_run(good, tmp_path, "a-fine-run")
    bad = copy_run(good, tmp_path, "b-damaged-run")
    damage(bad)
    runs = {r.name: r for r in list_runs(tmp_path)}
    assert set(runs) == {"a-fine-run", "b-damaged-run"}
    assert not runs["a-fine-run"].damaged and runs["a-fine-run"].path == fine
    info = runs["b-damaged-run"]
    assert info.damaged and any(DAMAGE[damage] in p for p in info.problems), info.problems
    # every property a listing shows still answers
    info.dev_acc, info.test_acc, info.epochs, info.seconds, info.stop, info.reason, info.started, info.differences()


def test_a_cut_last_line_keeps_the_epochs_before_it(good, tmp_path):
    run = copy_run(good, tmp_path)
    cut_metrics(run)
    assert [h["epoch"] for h in load_history(run)] == [1, 2]
    assert [h["epoch"] for h in read_run(run).history] == [1, 2]


def test_an_unfinished_run_still_shows_its_best_dev_accuracy(good, tmp_path):
    run = copy_run(good, tmp_path)
    drop_summary(run)
    info = read_run(run)
    assert info.stop == "unfinished" and info.test_acc is None
    assert info.dev_acc == max(h["dev_acc"] for h in info.history) and info.epochs == 3


def test_search_trials_are_listed_under_their_search(tiny, helpers, tmp_path):
    result = search(tiny, helpers.small(epochs=1), parse_space({"hidden": "8,16"}), root=tmp_path)
    names = [r.name for r in list_runs(tmp_path)]
    assert names == [f"{result.path.name}/t01-784-8-10", f"{result.path.name}/t02-784-16-10"]
    winner = next(r for r in list_runs(tmp_path) if r.summary.get("search_winner"))
    assert winner.test_acc == result.test_acc and winner.search == result.path.name


def test_runs_are_found_by_path_name_or_a_unique_part(good, tmp_path):
    a = copy_run(good, tmp_path, "20260101-120000-784-16-10")
    b = copy_run(good, tmp_path, "20260102-120000-784-16-10")
    assert resolve_run(str(a), tmp_path) == a
    assert resolve_run("20260102-120000-784-16-10", tmp_path) == b
    assert resolve_run("0101", tmp_path) == a
    with pytest.raises(RunError, match="matches 2 runs"):
        resolve_run("784-16-10", tmp_path)
    with pytest.raises(RunError, match="no run 'nope'"):
        resolve_run("nope", tmp_path)
