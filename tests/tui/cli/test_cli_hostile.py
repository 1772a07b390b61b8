"""The command line under hostile input (issue 11): argument types, seeds, --hidden, Ctrl+C while loading,
pipes closed early, non-runs, SIGTERM, models that do not fit the data. One line, exit 1, never a traceback."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from models import MLP, Spec, save
from tui.cli import main

ROOT = Path(__file__).resolve().parents[3]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 1, (code, out, err)
    assert err == f"nn-tui: error: {expected}\n", err
    assert "usage:" not in out + err and "Traceback" not in err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return save(tmp_path_factory.mktemp("m") / "m.npz", MLP(Spec(784, (8,), 10)))


# -- 6. argument types ---------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["train", "--epochs", "1.5"], "--epochs 1.5 must be a whole number"),
    (["train", "--lr", "fast"], "--lr 'fast' is not a number"),
    (["train", "--batch-size", "12.5"], "--batch-size 12.5 must be a whole number"),
    (["serve", "--port", "abc"], "--port 'abc' is not a whole number"),
    (["serve", "--port", "70000"], "--port 70000 is out of range: 1-65535"),
    (["train", "--optimiser", "adam"], "unknown option --optimiser; did you mean --optimizer?"),
    (["train", "--no-such-flag"], "unknown option --no-such-flag (see --help)"),
    (["--epochs", "1.5"], "--epochs 1.5 must be a whole number"),
])
def test_argument_types_are_one_line_and_exit_1(capsys, argv, expected):
    one_line(capsys, argv, expected)


def test_count_is_checked(capsys, model_file):
    one_line(capsys, ["predict", str(model_file), "--count", "abc"], "--count 'abc' is not a whole number")


def test_ranges_in_help_are_readable(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "[0, 4294967295]" in out and "e+09" not in out and "e+07" not in out


# -- 7. seeds outside training ------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["data", "info", "--seed", "-1"], "--seed -1 is out of range: 0-4294967295"),
    (["search", "--search-seed", "-1"], "--search-seed -1 is out of range: 0-4294967295"),
    (["data", "info", "--seed", "4294967296"], "--seed 4294967296 is out of range: 0-4294967295"),
])
def test_seeds_are_checked(capsys, argv, expected):
    one_line(capsys, argv, expected)


def test_predict_seed_is_checked(capsys, model_file):
    one_line(capsys, ["predict", str(model_file), "--seed", "-1"], "--seed -1 is out of range: 0-4294967295")


# -- 8. --hidden is never reinterpreted ----------------------------------------------------

@pytest.mark.parametrize("text", ["-5", "16,-8", ",,,", "16,,8", "8-"])
def test_bad_hidden_is_refused_in_the_cli_and_the_editor(capsys, text):
    from engine import ConfigError
    from engine.config import parse_value

    one_line(capsys, ["train", "--hidden", text],
             f"--hidden {text!r} must be layer sizes: positive whole numbers such as 128 or 256-128")
    with pytest.raises(ConfigError):
        parse_value("hidden", text)  # the settings editor's parser


def test_good_hidden_still_parses():
    from engine.config import parse_value

    assert parse_value("hidden", "256,128") == parse_value("hidden", "256-128") == (256, 128)
    assert parse_value("hidden", "") == parse_value("hidden", "none") == ()


# -- 13. Ctrl+C while the modules load -------------------------------------------------------

def test_ctrl_c_while_importing_is_one_word_not_a_traceback(tmp_path):
    """SIGINT arrives while NumPy is being imported (an import hook sends it): a word and exit 130."""
    script = textwrap.dedent("""
        import importlib.abc, os, signal, sys
        sys.argv[0] = "nn-tui"

        class Interrupt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "numpy":
                    os.kill(os.getpid(), signal.SIGINT)
                return None

        from tui.cli import main
        sys.meta_path.insert(0, Interrupt())
        sys.exit(main(["runs"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NN_TUI_RUNS_DIR": str(tmp_path)})
    assert done.returncode == 130 and done.stderr == "nn-tui: interrupted\n", done.stderr


# -- 14. piped into head ----------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["data", "info", "--samples", "400"], ["predict", "MODEL", "--count", "300"],
                                  ["runs", "--all"]])
def test_a_reader_that_stops_early_gets_a_quiet_exit_0(tmp_path, model_file, argv):
    runs = tmp_path / "runs"
    for i in range(60):  # enough runs that the listing outgrows the pipe
        (runs / f"r{i:02d}").mkdir(parents=True)
        (runs / f"r{i:02d}" / "config.json").write_text("{}")
    argv = [str(model_file) if a == "MODEL" else a for a in argv]
    env = {**os.environ, "NN_TUI_RUNS_DIR": str(runs), "COLUMNS": "100", "FORCE_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", *argv], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and err == "", err


# -- 15. silent exits and values -----------------------------------------------------------------

def test_compare_on_a_directory_that_is_no_run(capsys, tmp_path):
    (tmp_path / "holiday-photos").mkdir()
    one_line(capsys, ["compare", str(tmp_path / "holiday-photos")],
             f"{tmp_path / 'holiday-photos'}: not a run directory (no config.json, metrics.jsonl or summary.json)")


def test_bench_threads_must_be_positive(capsys):
    one_line(capsys, ["bench", "--threads", "-3"], "--threads -3 is out of range: 1-1024")


# -- models that do not fit the data -------------------------------------------------------------

def test_eval_of_a_model_for_other_inputs(capsys, tmp_path, small_npz):
    path = save(tmp_path / "wide.npz", MLP(Spec(1024, (8,), 10)), {"config": {"dev_size": 200}})
    one_line(capsys, ["eval", str(path), "--data", str(small_npz)],
             f"{path}: the 1024-8-10 network takes 1024 inputs, these digits have 784 pixels")


def test_app_refuses_a_model_for_other_inputs_before_the_screen_opens(capsys, tmp_path):
    path = save(tmp_path / "wide.npz", MLP(Spec(1024, (8,), 10)))
    one_line(capsys, ["--model", str(path)], f"{path}: the 1024-8-10 network takes 1024 inputs, digits have 784 pixels")


def test_tampered_metadata_is_one_line_in_eval(capsys, tmp_path, small_npz):
    import json

    import numpy as np

    path = save(tmp_path / "m.npz", MLP(Spec(784, (8,), 10)), {"config": {"seed": 0}})
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["spec"]["seed"] = "x"
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    one_line(capsys, ["eval", str(path)], f"{path}: bad architecture in metadata: spec.seed 'x' is not a whole number")


def test_a_fifo_as_model_or_data_is_refused(capsys, tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    one_line(capsys, ["eval", str(fifo)], f"{fifo}: is a named pipe (FIFO), not a regular file")
    one_line(capsys, ["data", "info", "--data", str(fifo)], f"{fifo}: is a named pipe (FIFO), not a regular file")


# -- SIGTERM finishes a run as Ctrl+C does ---------------------------------------------------------

def test_sigterm_stops_a_run_cleanly(tmp_path, small_npz):
    runs = tmp_path / "runs"
    env = {**os.environ, "NN_TUI_RUNS_DIR": str(runs), "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "train", "--data", str(small_npz), "--dev-size", "200",
                             "--hidden", "16", "--epochs", "2000", "--patience", "0", "--batch-size", "500"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    deadline = time.monotonic() + 60
    while not list(runs.glob("*/metrics.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    import json

    summary = json.loads(next(runs.glob("*/summary.json")).read_text())
    assert summary["stop"] == "stopped" and summary["model_path"]


# -- saving to a directory ------------------------------------------------------------------------

@pytest.mark.parametrize("target", [".", "/", "runs/"])
def test_saving_a_model_to_a_directory_is_one_line(tmp_path, monkeypatch, target):
    from models import CheckpointError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(CheckpointError, match="is a directory, not a file name"):
        save(target, MLP(Spec(784, (8,), 10)))
    assert not (tmp_path / "runs.npz").exists()


async def test_the_app_saves_into_a_folder_given_with_a_trailing_slash(tmp_path, monkeypatch):
    from tui.screens.files import SaveScreen

    picked = []
    screen = SaveScreen(tmp_path / "default-name.npz")
    monkeypatch.setattr(screen, "dismiss", picked.append)
    (tmp_path / "runs").mkdir()
    for text in (f"{tmp_path}/runs/", str(tmp_path / "runs"), f"{tmp_path}/new-folder/"):
        screen.on_input_submitted(type("Submitted", (), {"value": text})())
    assert picked == [tmp_path / "runs" / "default-name.npz", tmp_path / "runs" / "default-name.npz",
                      tmp_path / "new-folder" / "default-name.npz"]
