"""Run records under faults (issue 11): races for one --out, offsets in `started`, stale temp files,
the umask, runs stopped before their first epoch, and NaN never written into JSON."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import data
from data.files import atomic_write, dumps
from engine import Control
from engine.runs import list_runs, new_run_dir, read_run, train_run, unique_dir, write_json
from engine.search import new_search_dir


def test_two_runs_at_once_never_share_a_directory(tmp_path, helpers):
    cfg, made, barrier = helpers.small(), [], threading.Barrier(12)

    def start():
        barrier.wait()
        made.append(new_run_dir(tmp_path, cfg, name="same-second"))

    threads = [threading.Thread(target=start) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(made) == 12 and len(set(made)) == 12
    expected = ["same-second"] + [f"same-second-{k}" for k in range(2, 13)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)


def test_a_name_taken_between_check_and_create_takes_the_next_suffix(tmp_path, monkeypatch):
    real = Path.mkdir
    raced = []

    def mkdir(self, *args, **kwargs):  # another process creates the directory just before we do
        if self.name == "run" and not raced:
            raced.append(True)
            real(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert unique_dir(tmp_path, "run") == tmp_path / "run-2"


def test_search_dirs_are_made_atomically_too(tmp_path):
    made = [new_search_dir(tmp_path) for _ in range(3)]
    assert len(set(made)) == 3 and all(p.is_dir() for p in made)


def test_a_started_time_with_a_utc_offset_does_not_break_the_listing(tmp_path, make_run):
    a, b = make_run(tmp_path), make_run(tmp_path)
    config = json.loads((a / "config.json").read_text())
    config["started"] = "2020-01-01T12:00:00+00:00"
    (a / "config.json").write_text(json.dumps(config))
    runs = list_runs(tmp_path)
    assert [r.path for r in runs] == [a, b]  # the one from 2020 sorts first, beside a naive local time
    assert runs[0].started.tzinfo is None and not runs[0].damaged


def test_stale_temp_files_of_a_run_are_cleaned_when_it_is_listed(tmp_path, make_run):
    run = make_run(tmp_path)
    stale, fresh = run / ".model.npz.abc123.tmp", run / ".model.npz.def456.tmp"
    stale.write_bytes(b"half a model")
    fresh.write_bytes(b"being written now")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    list_runs(tmp_path)
    assert not stale.exists() and fresh.exists()  # a write in progress is left alone


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_honour_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        atomic_write(tmp_path / "f.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == mode


def test_a_run_stopped_before_its_first_epoch_is_stopped_not_damaged(tmp_path, tiny, helpers):
    control = Control()
    control.stop()
    _, summary = train_run(tiny, helpers.small(), tmp_path, control=control)
    info = read_run(Path(summary["run_dir"]))
    assert info.stop == "stopped" and not info.damaged, info.problems


def test_nan_is_never_written_into_json(tmp_path):
    value = {"loss": float("nan"), "acc": np.float32("inf"), "list": [1.0, float("-inf")], "ok": 0.5}
    write_json(tmp_path / "s.json", value)
    text = (tmp_path / "s.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"loss": None, "acc": None, "list": [1.0, None], "ok": 0.5}
    assert json.loads(dumps({"x": np.float64("nan")})) == {"x": None}


def test_empty_test_split_is_refused_before_training(tmp_path, mnist):
    path = tmp_path / "no-test.npz"
    np.savez(path, x_train=mnist.train.images[:300], y_train=mnist.train.labels[:300],
             x_test=mnist.test.images[:0], y_test=mnist.test.labels[:0])
    with pytest.raises(data.DataError, match="x_test holds no images"):
        data.load(str(path), dev_size=50)
