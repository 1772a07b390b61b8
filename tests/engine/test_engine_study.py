"""engine.search on Optuna: worker processes, studies shared through a journal file (or PostgreSQL),
resuming after kill -9, pruning, samplers, ranges, and the test split read only for the winner."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from engine import ConfigError, Control
from engine.search import (
    JOURNAL,
    Range,
    TrialFinished,
    TrialReported,
    TrialStarted,
    WinnerChosen,
    open_storage,
    parse_axis,
    parse_space,
    search,
)

ROOT = Path(__file__).resolve().parents[2]


def load(storage: str, name: str):
    import optuna

    return optuna.load_study(study_name=name, storage=open_storage(storage))


def params_of(t) -> tuple:
    return tuple(sorted({**t.system_attrs.get("fixed_params", {}), **t.params}.items()))


def states(study) -> list[str]:
    return sorted(t.state.name for t in study.get_trials(deepcopy=False))


def allow_test_when_chosen(splits, events=None):
    def listener(event):
        if events is not None:
            events.append(event)
        if isinstance(event, WinnerChosen):
            splits.test.allow = True
    return listener


# -- the plan ------------------------------------------------------------------------

def test_ranges_are_parsed_log_for_rates_and_sizes_integers_for_sizes():
    assert parse_axis("lr", "1e-4:0.3") == Range(1e-4, 0.3, log=True, integer=False)
    assert parse_axis("hidden", "32:256") == Range(32, 256, log=True, integer=True)
    assert parse_axis("dropout", "0:0.5") == Range(0, 0.5, log=False, integer=False)
    assert parse_axis("epochs", "2:8") == Range(2, 8, log=False, integer=True)
    assert parse_axis("l2", "0,1e-4") == [0.0, 1e-4]
    for name, text, says in (("l2", "0:1e-3", "log-scale range needs a low end above 0"),
                             ("lr", "0.3:0.1", "low end must be below"), ("optimizer", "sgd:adam", "numeric"),
                             ("lr", "1e-3:", "a range is lo:hi"), ("hidden", "64:256-128", "one layer"),
                             ("dropout", "0:0.95", "--dropout 0.95 is out of range")):
        with pytest.raises(ConfigError, match=says):
            parse_axis(name, text)


def test_samplers_are_checked_before_anything_trains(tiny, helpers, tmp_path):
    ranged = parse_space({"lr": "1e-3:0.3"})
    for kwargs, says in (({"space": ranged}, "a range .* needs --trials"),
                         ({"space": ranged, "sampler": "tpe"}, "needs --trials"),
                         ({"space": ranged, "sampler": "grid", "count": 3}, "grid"),
                         ({"space": ranged, "sampler": "cmaes", "count": 3}, "--sampler 'cmaes'"),
                         ({"space": ranged, "count": 3, "prune": "always"}, "--prune 'always'"),
                         ({"space": ranged, "count": 3, "workers": 0}, "--workers")):
        with pytest.raises(ConfigError, match=says):
            search(tiny, helpers.small(), root=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


# -- workers ---------------------------------------------------------------------------

def test_a_grid_of_four_with_two_workers_runs_each_trial_once_and_tests_only_the_winner(watched, helpers, tmp_path):
    events = []
    space = parse_space({"hidden": "8,32", "l2": "0,1e-2"})
    result = search(watched, helpers.small(epochs=3, patience=0), space, root=tmp_path, workers=2,
                    listener=allow_test_when_chosen(watched, events))
    study = load(str(result.path / JOURNAL), result.path.name)
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    assert len({params_of(t) for t in trials}) == 4  # the whole grid, each point once
    assert {t.user_attrs["worker"] for t in trials} <= {"w1", "w2"}
    assert len({t.user_attrs["pid"] for t in trials} - {os.getpid()}) >= 1  # trained in other processes
    assert result.stop == "complete" and result.done == 4 and [r["state"] for r in result.board] == ["complete"] * 4
    assert watched.test.reads == ["x", "y"] and result.winner["test_acc"] is not None
    assert sorted(e.index for e in events if isinstance(e, TrialFinished)) == [1, 2, 3, 4]
    assert sorted(e.index for e in events if isinstance(e, TrialStarted)) == [1, 2, 3, 4]
    assert any(isinstance(e, TrialReported) for e in events)
    rows = (result.path / "leaderboard.csv").read_text().splitlines()
    assert rows[0].startswith("rank,trial,hidden,l2,state,") and "worker" in rows[0]
    assert all(",complete," in r for r in rows[1:])
    assert sorted(p.name[:3] for p in result.path.iterdir() if p.is_dir()) == ["t01", "t02", "t03", "t04"]


def test_stopping_a_search_of_workers_keeps_finished_trials_and_a_resume_completes_it(tiny, helpers, tmp_path):
    control = Control()

    def listener(event):
        if isinstance(event, TrialFinished):
            control.stop()

    space = parse_space({"hidden": "8,16,24", "l2": "0,1e-3"})
    base = helpers.small(epochs=20, patience=0)
    first = search(tiny, base, space, root=tmp_path, workers=2, listener=listener, control=control)
    assert first.stop == "stopped" and first.count("complete") >= 1
    study = load(str(first.path / JOURNAL), first.path.name)
    assert "RUNNING" not in states(study)  # every worker ended its trial cleanly
    again = search(tiny, base, space, path=first.path, workers=2)
    complete = [t for t in study.get_trials() if t.state.name == "COMPLETE"]
    assert again.stop == "complete" and len(complete) == 6 and len({params_of(t) for t in complete}) == 6


def run_script(body: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(body)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))


SCRIPT = """
    import json, sys
    import data
    from engine import TrainConfig
    from engine.search import parse_space, search

    splits = data.load({npz!r}, dev_size=200)
    base = TrainConfig(hidden=(16,), epochs={epochs}, batch_size=64, lr=0.1, schedule="constant", patience=0,
                       dev_size=200)
    result = search(splits, base, parse_space({{"hidden": "8,16,24", "l2": {l2!r}}}), root={root!r},
                    storage={storage!r}, study="shared", workers=1, **{extra})
    print(json.dumps({{"stop": result.stop, "done": result.done}}))
"""


def test_two_processes_joining_one_study_through_a_journal_file_split_the_grid(tiny_npz, tmp_path):
    journal = str(tmp_path / "shared.journal")
    procs = [run_script(SCRIPT.format(npz=str(tiny_npz), epochs=30, root=str(tmp_path / f"p{k}"), storage=journal,
                                      l2="0,1e-3", extra="{}"), tmp_path) for k in (1, 2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert all(o[1] == "" for o in outs)  # nothing on stderr: the engine prints nothing
    study = load(journal, "shared")
    trials = study.get_trials()
    assert len(trials) == 6 and states(study) == ["COMPLETE"] * 6  # none run twice, none more than planned
    assert len({params_of(t) for t in trials}) == 6
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both processes trained some
    assert [json.loads(o[0])["stop"] for o in outs] == ["complete", "complete"]


def test_a_study_whose_worker_was_killed_resumes_and_runs_the_lost_trial_again(tiny_npz, tmp_path):
    journal = str(tmp_path / "study.journal")
    proc = run_script(SCRIPT.format(npz=str(tiny_npz), epochs=300, root=str(tmp_path / "a"), storage=journal,
                                    l2="0", extra="{}"), tmp_path)
    deadline = time.monotonic() + 60
    study = None
    while time.monotonic() < deadline:  # wait for one trial done and the next one training
        time.sleep(0.2)
        if not Path(journal).exists():
            continue
        study = study or load(journal, "shared")
        trials = study.get_trials()
        if any(t.state.name == "COMPLETE" for t in trials) and any(
                t.state.name == "RUNNING" and t.intermediate_values for t in trials):
            break
    else:
        proc.kill()
        pytest.fail("the search never got to its second trial")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    killed = [t for t in study.get_trials() if t.state.name == "RUNNING"]
    assert len(killed) == 1

    import data
    from engine import TrainConfig

    splits = data.load(str(tiny_npz), dev_size=200)
    base = TrainConfig(hidden=(16,), epochs=300, batch_size=64, lr=0.1, schedule="constant", patience=0, dev_size=200)
    result = search(splits, base, parse_space({"hidden": "8,16,24", "l2": "0"}), root=str(tmp_path / "b"),
                    storage=journal, study="shared", workers=1)
    trials = study.get_trials()
    lost = trials[killed[0].number]
    assert lost.state.name == "FAIL" and lost.user_attrs["stop"] == "lost"
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 3 and len({params_of(t) for t in complete}) == 3  # each grid point once
    assert any(t.user_attrs.get("retry_of") == lost.number + 1 for t in complete)
    assert result.stop == "complete" and result.count("failed") == 1 and result.winner["state"] == "complete"


# -- pruning ----------------------------------------------------------------------------

def test_pruning_stops_a_hopeless_trial_and_keeps_the_good_ones(tiny, helpers, tmp_path):
    space = parse_space({"lr": "0.1,0.05,1e-5"})
    result = search(tiny, helpers.small(epochs=6, patience=0), space, root=tmp_path, prune="median")
    by_lr = {r["lr"]: r for r in result.board}
    assert by_lr[1e-5]["state"] == "pruned" and by_lr[1e-5]["epochs"] == 2  # judged from epoch 2 on
    assert "pruned at epoch 2" in by_lr[1e-5]["reason"]
    assert by_lr[0.1]["state"] == by_lr[0.05]["state"] == "complete" and by_lr[0.1]["epochs"] == 6
    assert result.winner["lr"] in (0.1, 0.05) and "1 pruned" in result.reason
    summary = json.loads((Path(by_lr[1e-5]["run_dir"]) / "summary.json").read_text())
    assert summary["stop"] == "pruned" and summary["epochs"] == 2
    assert "pruned" in (result.path / "leaderboard.csv").read_text()


# -- samplers and the test split ------------------------------------------------------------

@pytest.mark.parametrize("sampler,axes,count", [("grid", {"hidden": "8,16"}, None),
                                                ("random", {"lr": "0.01:0.3", "hidden": "8:32"}, 3),
                                                ("tpe", {"lr": "0.01:0.3"}, 3)])
def test_the_test_split_is_read_only_for_the_winner_whatever_the_sampler(watched, helpers, tmp_path, sampler, axes,
                                                                          count):
    result = search(watched, helpers.small(epochs=2), parse_space(axes), root=tmp_path, sampler=sampler, count=count,
                    listener=allow_test_when_chosen(watched))
    assert result.done == (count or 2) and result.extra["sampler"] == sampler
    assert watched.test.reads == ["x", "y"]
    assert sum(r["test_acc"] is not None for r in result.board) == 1
    if sampler != "grid":
        assert all(0.01 <= r["lr"] <= 0.3 for r in result.board)
    if sampler == "random":
        assert all(isinstance(r["hidden"], list) and 8 <= r["hidden"][0] <= 32 for r in result.board)


def test_joining_a_study_with_another_plan_is_refused(tiny, helpers, tmp_path):
    journal = str(tmp_path / "s.journal")
    search(tiny, helpers.small(epochs=1), parse_space({"hidden": "8,16"}), root=tmp_path, storage=journal, study="x")
    with pytest.raises(ConfigError, match="another plan \\(space differs\\)"):
        search(tiny, helpers.small(epochs=1), parse_space({"hidden": "8,32"}), root=tmp_path, storage=journal,
               study="x")
    with pytest.raises(ConfigError, match="--storage"):
        search(tiny, helpers.small(epochs=1), parse_space({"hidden": "8,32"}), root=tmp_path, storage=str(tmp_path))


# -- PostgreSQL ---------------------------------------------------------------------------

POSTGRES = os.environ.get("NN_TUI_TEST_POSTGRES")


@pytest.mark.skipif(not POSTGRES, reason="set NN_TUI_TEST_POSTGRES to a PostgreSQL URL (e.g. "
                                         "postgresql://user:pw@127.0.0.1/db) to run the shared-study test")
def test_two_workers_share_a_study_on_postgresql(watched, helpers, tmp_path):
    name = f"nn-tui-test-{uuid.uuid4().hex[:8]}"
    space = parse_space({"hidden": "8,16", "l2": "0,1e-3"})
    result = search(watched, helpers.small(epochs=2), space, root=tmp_path, workers=2, storage=POSTGRES, study=name,
                    listener=allow_test_when_chosen(watched))
    study = load(POSTGRES, name)
    assert states(study) == ["COMPLETE"] * 4 and len({params_of(t) for t in study.get_trials()}) == 4
    assert result.stop == "complete" and watched.test.reads == ["x", "y"]
    assert "***" in result.extra["storage"] or "@" not in POSTGRES  # no password in the files


def test_an_sqlite_storage_and_passwords_kept_out_of_the_files(tiny, helpers, tmp_path):
    from engine.search import hide_password

    assert hide_password("postgresql://nntui:secret@db:5432/x") == "postgresql://nntui:***@db:5432/x"
    assert hide_password("postgresql://db/x") == "postgresql://db/x" and hide_password("/a/b.journal") == "/a/b.journal"
    url = f"sqlite:///{tmp_path / 'study.db'}"
    result = search(tiny, helpers.small(epochs=1), parse_space({"hidden": "8,16"}), root=tmp_path, storage=url,
                    study="lite")
    assert result.stop == "complete" and states(load(url, "lite")) == ["COMPLETE", "COMPLETE"]
    saved = json.loads((result.path / "search.json").read_text())
    assert saved["storage"] == url and saved["study"] == "lite" and not (result.path / JOURNAL).exists()
