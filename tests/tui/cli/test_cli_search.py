"""`nn-tui search`, `runs`, `compare` and `plot`, end to end through tui.cli.main."""
from __future__ import annotations

import csv
import json
import re
import sys

import pytest

from tui.cli import main

ANSI = re.compile(r"\x1b\[")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def fits(text: str, width: int = 80) -> None:
    """Every line fits in `width` columns, except those that print a path (kept whole, to copy)."""
    wide = [line for line in text.splitlines() if len(line) > width and "/" not in line]
    assert not wide, f"{len(wide)} lines wider than {width} columns, e.g. {wide[0]!r}"


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("NN_TUI_RUNS_DIR", str(root))
    return root


def test_search_trains_the_grid_prints_the_board_and_saves_it(capsys, tiny_npz, runs_root):
    code, out, err = run_cli(capsys, "search", "--data", tiny_npz, "--dev-size", 200, "--hidden", "8,16",
                             "--l2", "0,1e-3", "--epochs", 2, "--batch-size", 64, "--out", runs_root)
    assert code == 0, err
    assert "searching hidden 8 | 16 × l2 0 | 0.001: 4 combinations" in out
    assert out.count("trial ") >= 4 and "leaderboard: 4 of 4 trials" in out
    assert "all 4 trials done" in out and "winner: trial" in out and "measured once" in out
    fits(out)
    assert not ANSI.search(out)
    [search_dir] = runs_root.iterdir()
    rows = list(csv.DictReader((search_dir / "leaderboard.csv").open()))
    assert len(rows) == 4 and rows[0]["rank"] == "1" and rows[0]["test_acc"]
    assert f"model saved: {search_dir / 'model.npz'}" in out
    board = json.loads((search_dir / "leaderboard.json").read_text())
    assert board["base"]["epochs"] == 2 and board["base"]["batch_size"] == 64 and board["searched"] == ["hidden", "l2"]


def test_random_trials_with_a_budget_and_json(capsys, tiny_npz, runs_root):
    code, out, err = run_cli(capsys, "search", "--data", tiny_npz, "--dev-size", 200, "--hidden", "8,16,24",
                             "--lr", "0.1,0.05", "--epochs", 1, "--trials", 3, "--random", "--budget", 3600, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["planned"] == 3 and result["done"] == 3 and result["stop"] == "complete"
    assert {r["trial"] for r in result["rows"]} == {1, 2, 3} and result["test_accuracy"] is not None
    assert result["search_dir"].startswith(str(runs_root))


def test_search_refuses_bad_values_in_one_line(capsys, runs_root):
    code, out, err = run_cli(capsys, "search", "--hidden", "8,16", "--l2", "0,abc")
    assert code == 1 and err.strip() == "nn-tui: error: --l2 'abc' is not a number" and "Traceback" not in err
    code, out, err = run_cli(capsys, "search", "--hidden", "8,16", "--dev-size", "100,200")  # one dev set for all
    assert code == 1 and err.strip() == "nn-tui: error: --dev-size '100,200' is not a number"


@pytest.fixture
def three_runs(runs_root, make_run):
    """Two finished runs (lr 0.1 and 0.01) and one damaged directory."""
    a = make_run(runs_root, lr=0.1, epochs=3)
    b = make_run(runs_root, lr=0.01, epochs=4, patience=0)
    bad = runs_root / "20990101-000000-damaged"
    bad.mkdir()
    (bad / "config.json").write_text('{"config": {"lr": 0.')
    return a, b, bad


def test_runs_lists_past_runs_and_marks_the_damaged_one(capsys, three_runs):
    a, b, bad = three_runs
    code, out, err = run_cli(capsys, "runs")
    assert code == 0, err
    assert "3 runs in" in out and "1 damaged" in out
    assert a.name in out and b.name in out and bad.name in out
    assert f"{bad.name} damaged:\n  config.json is not valid JSON" in out
    assert "lr 0.01" in out and "max epochs" in out and "%" in out
    fits(out)
    lines = out.splitlines()
    rows = [next(i for i, line in enumerate(lines) if line.split()[:1] == [r.name]) for r in (bad, b, a)]
    assert rows == sorted(rows) and rows[2] - rows[0] == 2  # newest first, like the app; one line a run
    assert "…" not in lines[rows[1]].split("%")[0]  # numbers whole; only the settings may be cut
    code, out, _ = run_cli(capsys, "runs", "--json")
    listed = {r["name"]: r for r in json.loads(out)}
    assert listed[bad.name]["damaged"] and not listed[a.name]["damaged"] and listed[b.name]["settings"]["lr"] == 0.01


def test_runs_names_search_trials_apart(capsys, runs_root):
    code, _, err = run_cli(capsys, "search", "--hidden", "8,16", "--l2", "0", "--epochs", "1", "--out", str(runs_root))
    assert code == 0, err
    code, out, _ = run_cli(capsys, "runs")
    names = [line.split()[0] + " " + line.split()[1] for line in out.splitlines() if line.startswith("t0")]
    assert len(names) == 2 and len(set(names)) == 2 and names[0].startswith("t02 search-")  # newest first


def test_runs_in_an_empty_directory(capsys, runs_root):
    code, out, _ = run_cli(capsys, "runs")
    assert code == 0 and "no runs in" in out


def test_compare_prints_a_table_and_both_charts_with_a_legend(capsys, three_runs):
    a, b, _ = three_runs
    code, out, err = run_cli(capsys, "compare", a.name, str(b))  # a name, and a path
    assert code == 0, err
    assert "2 runs; settings: those that differ between them" in out
    assert "loss" in out and "accuracy %" in out and "epoch" in out
    legend = [line for line in out.splitlines() if line.startswith(("A ", "B ")) and " dev " in line]
    assert len(legend) == 2 and "lr 0.1" in legend[0] and "lr 0.01" in legend[1]
    assert "dev" in legend[0] and "train" in legend[0]
    assert not ANSI.search(out)
    fits(out)


def test_compare_and_plot_say_which_run_is_unknown(capsys, three_runs):
    code, out, err = run_cli(capsys, "compare", three_runs[0].name, "no-such-run")
    assert code == 1 and "no run 'no-such-run'" in err and "Traceback" not in err


def test_compare_a_run_without_epochs(capsys, three_runs):
    a, _, bad = three_runs
    code, out, err = run_cli(capsys, "compare", a.name, bad.name)
    assert code == 0 and "no epochs recorded: " + bad.name in out


def test_plot_without_matplotlib_says_how_to_get_it(capsys, three_runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code, out, err = run_cli(capsys, "plot", three_runs[0].name, "--out", three_runs[0].parent / "x.png")
    assert code == 1
    assert err.strip() == "nn-tui: error: plotting to an image needs matplotlib: pip install 'nn-tui[plot]'"
    assert not (three_runs[0].parent / "x.png").exists()


def test_plot_writes_a_png(capsys, three_runs, tmp_path):
    pytest.importorskip("matplotlib")
    out_file = tmp_path / "pictures" / "training_metrics.png"
    code, out, err = run_cli(capsys, "plot", three_runs[0].name, three_runs[1].name, "--out", out_file)
    assert code == 0, err
    assert out_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"saved {out_file}" in out


def test_search_with_workers_pruning_a_range_and_resume(capsys, tiny_npz, runs_root):
    code, out, err = run_cli(capsys, "search", "--data", tiny_npz, "--dev-size", 200, "--hidden", 16,
                             "--lr", "0.1,0.05,1e-5", "--epochs", 5, "--patience", 0, "--prune", "--out", runs_root)
    assert code == 0, err
    assert "median pruning" in out and "all 3 trials done (1 pruned)" in out
    assert [line for line in out.splitlines() if "1e-05" in line and "pruned" in line]
    fits(out)
    code, out, err = run_cli(capsys, "search", "--data", tiny_npz, "--dev-size", 200, "--hidden", "8:32",
                             "--lr", "0.01:0.3", "--epochs", 2, "--sampler", "tpe", "--trials", 3, "--workers", 2,
                             "--json", "--out", runs_root)
    assert code == 0, err
    result = json.loads(out)
    assert result["sampler"] == "tpe" and result["workers"] == 2 and result["complete"] == 3
    assert {r["worker"] for r in result["rows"]} <= {"w1", "w2"} and result["test_accuracy"] is not None
    code, out, err = run_cli(capsys, "search", "--resume", result["search_dir"], "--out", runs_root)
    assert code == 0 and "all 3 trials done" in out  # nothing left: the board and the winner again


def test_search_refuses_bad_plans_and_resumes_in_one_line(capsys, tmp_path, runs_root):
    for argv, says in ((["--lr", "1e-3:0.3"], "a range (lo:hi) is sampled, not gridded"),
                       (["--lr", "0.1,0.2", "--sampler", "tpe"], "--sampler tpe needs --trials N"),
                       (["--resume", "--lr", "0.1"], "--resume continues a search with its own settings: drop --lr"),
                       (["--resume", str(tmp_path)], "not a search directory"),
                       (["--resume", "--out", str(tmp_path / "none")], "no search to resume")):
        code, out, err = run_cli(capsys, "search", *argv)
        assert code == 1 and err.startswith("nn-tui: error: ") and says in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1


def test_search_help_explains_each_search_option(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag in ("--sampler", "--trials", "--workers", "--prune", "--storage", "--study", "--resume"):
        assert flag in out
    assert "postgresql://" in out and "one BLAS thread" in out and "median" in out and "lo:hi" in out
