"""engine.search: the plan, the leaderboard, the one look at the test set, the saved files, budget and stop."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import models
from engine import BatchEnded, ConfigError, Control, evaluate
from engine.search import (
    SearchFinished,
    SearchStarted,
    TrialFinished,
    TrialStarted,
    WinnerChosen,
    parse_space,
    parse_values,
    plan,
    search,
)

# -- the plan ----------------------------------------------------------------

def test_values_are_parsed_and_checked():
    assert parse_values("hidden", "64,128,256-128") == [(64,), (128,), (256, 128)]
    assert parse_values("hidden", "256,128;512") == [(256, 128), (512,)]
    assert parse_values("l2", "0, 1e-4,1e-3,0") == [0.0, 1e-4, 1e-3]  # duplicates dropped
    assert parse_values("batch_size", "32,64.0") == [32, 64] and isinstance(parse_values("epochs", "3")[0], int)
    assert parse_values("optimizer", "sgd,adam") == ["sgd", "adam"]
    assert parse_values("augment", "off;shift,rotate") == ["", "shift,rotate"]
    for name, text, says in (("l2", "0,abc", "--l2 'abc' is not a number"), ("lr", "0.1,0", "--lr 0 is out of range"),
                             ("optimizer", "sgd,rmsprop", "--optimizer 'rmsprop'"), ("hidden", "64,x", "--hidden"),
                             ("dev_size", "100,200", "cannot be searched"), ("epochs", "2.5", "whole number"),
                             ("lr", " , ", "at least one value")):
        with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace("[", r"\[")):
            parse_values(name, text)


def test_the_grid_is_every_combination_last_setting_fastest(helpers):
    base = helpers.small()
    space = parse_space({"hidden": "8,16", "l2": "0,1e-3,1e-2", "lr": ""})  # blank: not searched
    trials = plan(base, space)
    assert [t.index for t in trials] == list(range(1, 7))
    assert [(t.changes["hidden"], t.changes["l2"]) for t in trials] == [
        ((8,), 0.0), ((8,), 1e-3), ((8,), 1e-2), ((16,), 0.0), ((16,), 1e-3), ((16,), 1e-2)]
    assert all(t.config.hidden == t.changes["hidden"] and t.config.l2 == t.changes["l2"] for t in trials)
    assert all(t.config.epochs == base.epochs and t.config.lr == base.lr for t in trials)


def test_random_trials_are_distinct_reproducible_and_capped(helpers):
    base = helpers.small()
    space = parse_space({"hidden": "8,16,32", "l2": "0,1e-4,1e-3", "lr": "0.1,0.05"})
    picks = [tuple(sorted(t.changes.items())) for t in plan(base, space, count=5, seed=1)]
    assert len(picks) == len(set(picks)) == 5
    assert picks == [tuple(sorted(t.changes.items())) for t in plan(base, space, count=5, seed=1)]
    assert picks != [tuple(sorted(t.changes.items())) for t in plan(base, space, count=5, seed=2)]
    everything = plan(base, space, count=100, seed=1)  # more than the grid: each combination once
    assert len(everything) == 18 and len({tuple(sorted(t.changes.items())) for t in everything}) == 18
    shuffled = plan(base, space, shuffle=True, seed=3)
    assert len(shuffled) == 18 and [t.changes for t in shuffled] != [t.changes for t in plan(base, space)]


def test_a_bad_plan_is_refused_before_anything_trains(helpers):
    with pytest.raises(ConfigError, match="more than"):
        plan(helpers.small(), {"seed": list(range(200)), "lr": [0.1 * (i + 1) / 100 for i in range(100)]})
    with pytest.raises(ConfigError, match="--trials 0"):
        plan(helpers.small(), parse_space({"hidden": "8,16"}), count=0)
    with pytest.raises(ConfigError, match="--dropout"):  # each trial's whole config is checked up front
        plan(helpers.small(), {"dropout": [0.1, 0.95]})


# -- a real search on a tiny dataset ---------------------------------------------

def test_small_grid_ranks_on_dev_tests_only_the_winner_once_and_saves_everything(watched, helpers, tmp_path):
    events = []

    def listener(event):
        events.append(event)
        if isinstance(event, WinnerChosen):
            watched.test.allow = True  # from here on, and only from here, the test set may be read

    space = parse_space({"hidden": "8,32", "l2": "0,1e-2"})
    result = search(watched, helpers.small(epochs=3, patience=0), space, root=tmp_path, listener=listener,
                    report_every=1.0)

    # events: the order a UI follows
    kinds = [type(e) for e in events if type(e) in (SearchStarted, TrialStarted, TrialFinished, WinnerChosen,
                                                   SearchFinished)]
    assert kinds == [SearchStarted] + [TrialStarted, TrialFinished] * 4 + [WinnerChosen, SearchFinished]
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert [e.index for e in finished] == [1, 2, 3, 4]
    assert [r["trial"] for r in finished[-1].board] == [r["trial"] for r in result.board]

    # the leaderboard: best dev accuracy first (ties: lower dev loss), ranks 1..4
    board = result.board
    assert [r["rank"] for r in board] == [1, 2, 3, 4]
    assert [(-r["dev_acc"], r["dev_loss"]) for r in board] == sorted((-r["dev_acc"], r["dev_loss"]) for r in board)
    assert result.winner is board[0] and result.stop == "complete" and result.reason == "all 4 trials done"

    # the test set: read once (pixels and labels), for the winner, after every trial had ended
    assert watched.test.reads == ["x", "y"]
    assert sum(r["test_acc"] is not None for r in board) == 1
    model, meta = models.load(result.model_path)
    again = evaluate(model, watched.test.images.reshape(-1, 784).astype(np.float32) / 255, watched.test.labels)
    assert result.test_acc == pytest.approx(again.accuracy) and meta["metrics"]["test_accuracy"] == result.test_acc
    assert meta["config"]["hidden"] == list(board[0]["hidden"]) and meta["config"]["l2"] == board[0]["l2"]

    # the files
    path = result.path
    assert path.parent == tmp_path and path.name.startswith("search-")
    assert {p.name for p in path.iterdir() if p.is_file()} >= {"search.json", "leaderboard.csv", "leaderboard.json",
                                                               "model.npz", "model.json"}
    trials = sorted(p for p in path.iterdir() if p.is_dir())
    assert [p.name for p in trials] == ["t01-784-8-10", "t02-784-8-10", "t03-784-32-10", "t04-784-32-10"]
    for trial in trials:
        summary = json.loads((trial / "summary.json").read_text())
        assert (trial / "model.npz").is_file() and (trial / "metrics.jsonl").is_file()
        winner = trial.name == board[0]["run"]
        assert ("test_accuracy" in summary) == winner  # trials never evaluated on test; the winner marked after
    rows = list(csv.DictReader((path / "leaderboard.csv").open()))
    assert [int(r["trial"]) for r in rows] == [r["trial"] for r in board]
    assert list(rows[0])[:4] == ["rank", "trial", "hidden", "l2"] and rows[0]["hidden"] in ("8", "32")
    assert rows[0]["test_acc"] != "" and all(r["test_acc"] == "" for r in rows[1:])
    saved = json.loads((path / "leaderboard.json").read_text())
    assert saved["test_accuracy"] == result.test_acc and saved["winner"]["trial"] == board[0]["trial"]
    assert [r["trial"] for r in saved["rows"]] == [r["trial"] for r in board] and saved["done"] == saved["planned"] == 4
    assert json.loads((path / "search.json").read_text())["trials"][0] == {"hidden": [8], "l2": 0.0}


def test_ranking_by_dev_loss(tiny, helpers, tmp_path):
    result = search(tiny, helpers.small(epochs=2), parse_space({"lr": "0.3,0.01"}), root=tmp_path, rank_by="dev_loss")
    assert [r["dev_loss"] for r in result.board] == sorted(r["dev_loss"] for r in result.board)


def test_random_trials_with_a_budget_stop_starting_new_ones(tiny, helpers, tmp_path):
    now = [0.0]

    def listener(event):
        if isinstance(event, TrialFinished):
            now[0] += 100.0  # each trial "takes" 100 s

    space = parse_space({"hidden": "8,16,24", "l2": "0,1e-3"})
    result = search(tiny, helpers.small(epochs=1), space, count=4, seed=5, budget=150, root=tmp_path,
                    listener=listener, clock=lambda: now[0])
    assert result.stop == "budget" and result.done == 2 and result.planned == 4
    assert result.reason == "time budget of 150 s used up after 2 of 4 trials"
    assert result.winner is not None and result.test_acc is not None
    saved = json.loads((result.path / "leaderboard.json").read_text())
    assert saved["stop"] == "budget" and "budget" in saved["reason"] and len(saved["rows"]) == 2
    picked = [t.changes for t in plan(helpers.small(epochs=1), space, count=4, seed=5)][:2]
    assert sorted(r["trial"] for r in result.board) == [1, 2]
    by_trial = sorted(result.board, key=lambda r: r["trial"])
    assert [{"hidden": tuple(r["hidden"]), "l2": r["l2"]} for r in by_trial] == picked


def test_stopping_keeps_the_finished_trials_and_still_picks_a_winner(watched, helpers, tmp_path):
    control = Control()

    def listener(event):
        if isinstance(event, TrialFinished):
            control.stop()
        if isinstance(event, WinnerChosen):
            watched.test.allow = True

    result = search(watched, helpers.small(epochs=2), parse_space({"hidden": "8,16,24"}), root=tmp_path,
                    listener=listener, control=control)
    assert result.stop == "stopped" and result.done == 1 and result.reason == "stopped by user after 1 of 3 trials"
    assert result.winner["trial"] == 1 and watched.test.reads == ["x", "y"]


def test_no_epoch_finished_means_no_winner_and_no_look_at_the_test_set(watched, helpers, tmp_path):
    control = Control()

    def listener(event):
        if isinstance(event, BatchEnded):
            control.stop()

    result = search(watched, helpers.small(epochs=2), parse_space({"hidden": "8,16"}), root=tmp_path,
                    listener=listener, control=control, report_every=0.0)
    assert result.winner is None and result.test_acc is None and result.model_path is None
    assert result.stop == "stopped" and result.reason.startswith("stopped by user during trial 1")
    assert watched.test.reads == [] and not (result.path / "model.npz").exists()
    assert json.loads((result.path / "leaderboard.json").read_text())["winner"] is None


def test_bad_search_settings_are_refused(tiny, helpers, tmp_path):
    with pytest.raises(ConfigError, match="--budget"):
        search(tiny, helpers.small(), {}, budget=-1, root=tmp_path)
    with pytest.raises(ConfigError, match="--rank-by"):
        search(tiny, helpers.small(), {}, rank_by="test_acc", root=tmp_path)
    assert list(tmp_path.iterdir()) == []  # refused before a directory was made


def test_search_and_run_listing_need_no_ui_library_and_print_nothing(tmp_path):
    """engine.search and engine.runs import and work with textual, rich and plotext blocked, silently."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = textwrap.dedent(f"""
        import importlib.abc, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {{"textual", "rich", "plotext", "textual_plotext"}}:
                    raise ImportError(name + " is blocked")

        sys.meta_path.insert(0, Blocker())
        import numpy as np
        import data
        from engine import TrainConfig
        from engine.runs import list_runs
        from engine.search import parse_space, search

        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, 300).astype(np.uint8)
        sets = [data.Dataset(images[a:b], labels[a:b]) for a, b in ((0, 200), (200, 250), (250, 300))]
        splits = data.Splits(*sets, name="noise")
        cfg = TrainConfig(hidden=(8,), epochs=1, batch_size=50, schedule="constant")
        result = search(splits, cfg, parse_space({{"lr": "0.1,0.01"}}), root={str(tmp_path)!r})
        assert result.done == 2 and len(list_runs({str(tmp_path)!r})) == 2
    """)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
