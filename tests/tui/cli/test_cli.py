"""End-to-end tests of the headless commands: what a person types, what they read, the exit code."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import models
from tui.cli import COMMANDS, build_parser, main


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help_on_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and "nn-tui 0." in capsys.readouterr().out
    parser = build_parser()
    registered = set(parser._subparsers._group_actions[0].choices)
    assert set(COMMANDS) <= registered
    for command in [[], *([c] for c in sorted(registered)), ["data", "info"], ["data", "download"]]:
        with pytest.raises(SystemExit) as e:
            main([*command, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: nn-tui") and len(out.splitlines()) > 3, command


def test_data_info_on_the_bundled_mnist(capsys):
    code, out, _ = run(capsys, "data", "info", "--samples", "2")
    assert code == 0
    assert "55,000" in out and "5,000" in out and "10,000" in out and "60,000" in out
    for count in ("5,923", "6,742", "5,958", "6,131", "5,842", "5,421", "5,918", "6,265", "5,851", "5,949"):
        assert count in out  # the genuine class counts of the 60,000 training images
    assert "Mean image of each class" in out


def test_data_download_lists_sources(capsys):
    code, out, _ = run(capsys, "data", "download", "--list")
    assert code == 0 and "mnist" in out and "fashion-mnist" in out and "kmnist" in out and "bundled" in out


def test_data_download_of_the_bundled_source_needs_nothing(capsys):
    code, out, _ = run(capsys, "data", "download", "mnist")
    assert code == 0 and "bundled" in out


def test_unknown_source_is_one_line(capsys):
    code, out, err = run(capsys, "data", "download", "imagenet")
    assert code == 1 and err.strip().count("\n") == 0 and "unknown source 'imagenet'" in err


def test_train_json_then_eval_and_predict(capsys, small_npz, isolated):
    code, out, err = run(capsys, "train", "--data", str(small_npz), "--hidden", "32", "--epochs", "3",
                         "--dev-size", "200", "--json")
    assert code == 0
    result = json.loads(out)  # stdout holds the JSON object and nothing else
    for key in ("test_accuracy", "dev_accuracy", "test_loss", "epochs", "best_epoch", "seconds", "stop_reason",
                "run_dir", "model_path"):
        assert key in result
    assert result["epochs"] == 3 and 0.7 < result["test_accuracy"] <= 1
    assert result["stop_reason"] == "max epochs (3) reached"
    run_dir = isolated / "runs"
    assert str(run_dir) in result["run_dir"]
    for name in ("config.json", "metrics.jsonl", "model.npz", "model.json", "summary.json"):
        assert (run_dir / result["run_dir"].split("/")[-1] / name).is_file()
    model, meta = models.load(result["model_path"])
    assert str(model.spec) == "784-32-10"

    code, out, _ = run(capsys, "eval", result["model_path"])
    assert code == 0
    assert f"{100 * result['test_accuracy']:.2f}%" in out  # the same test split, the same number
    assert "Confusion matrix" in out and "Per class" in out

    code, out, _ = run(capsys, "eval", result["model_path"], "--json")
    assert json.loads(out)["test_accuracy"] == pytest.approx(result["test_accuracy"])

    code, out, _ = run(capsys, "predict", result["model_path"], "--count", "3", "--seed", "1")
    assert code == 0 and out.count("→") >= 3
    code, out, _ = run(capsys, "predict", result["model_path"], "--errors", "--count", "2")
    assert code == 0 and "most confident mistakes" in out and "✗" in out


def test_train_prints_epochs_and_the_saved_model(capsys, small_npz):
    code, out, _ = run(capsys, "train", "--data", str(small_npz), "--hidden", "16", "--epochs", "2",
                       "--dev-size", "200", "--patience", "1")
    assert code == 0
    assert "epoch  train loss" in out
    assert "test accuracy" in out and "model saved:" in out and "run directory:" in out


@pytest.mark.parametrize("argv,message", [
    (["train", "--lr", "50"], "--lr 50 is out of range: (0, 10]"),
    (["train", "--batch-size", "0"], "--batch-size 0 is out of range"),
    (["train", "--optimizer", "rmsprop"], "--optimizer 'rmsprop' is not one of"),
    (["train", "--hidden", "12x"], "--hidden '12x' must be layer sizes"),
    (["train", "--augment", "blur"], "--augment 'blur' is not one of"),
    (["train", "--data", "/nonexistent/digits.csv"], "/nonexistent/digits.csv: no such file"),
])
def test_bad_input_is_one_line_and_exit_1(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith("nn-tui: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_data_file_is_one_line(capsys, tmp_path):
    bad = tmp_path / "train.csv"
    bad.write_text("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n3," + ",".join(["0"] * 783) + "\n")
    code, _, err = run(capsys, "train", "--data", str(bad))
    assert code == 1 and "line 2: 784 columns, expected 785" in err and err.count("\n") == 1


def test_model_from_elsewhere_is_refused(capsys, tmp_path):
    import numpy as np

    foreign = tmp_path / "keras_weights.npz"
    np.savez(foreign, dense_kernel=np.zeros((784, 10), np.float32))
    code, _, err = run(capsys, "eval", str(foreign))
    assert code == 1 and "not an nn-tui model" in err and err.count("\n") == 1


def test_bench_quick_prints_ratios(capsys):
    code, out, _ = run(capsys, "bench", "--quick", "--hidden", "64", "--batch-size", "128", "--repeats", "1")
    assert code == 0
    assert "model" in out and "ratio" in out
    row = next(line for line in out.splitlines() if line.startswith("784-64-10"))
    fields = row.split()
    assert fields[1] == "128" and fields[5].endswith("x") and float(fields[5][:-1]) >= 1.0


def test_the_console_script_runs_as_a_process(small_npz, isolated):
    """The real entry point, in its own process: exit code and one JSON object on stdout."""
    env_code = ("import sys; from tui.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", env_code, "train", "--data", str(small_npz), "--hidden", "8",
                           "--epochs", "1", "--dev-size", "100", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 1


def test_digits_without_colour_keep_their_blank_rows():
    """An ASCII digit is 14 rows even when its top or bottom rows are empty (blank rows are picture)."""
    import numpy as np

    from tui.render import digit_text

    image = np.zeros((28, 28), np.uint8)
    image[10:14, 10:14] = 255
    text = digit_text(image, color=False)
    assert len(text.plain.split("\n")) == 14 and text.plain.strip()


def test_the_app_refuses_a_missing_data_path_before_opening(capsys):
    code, _, err = run(capsys, "--data", "/nonexistent/train.csv")
    assert code == 1 and "/nonexistent/train.csv: no such file or directory" in err and err.count("\n") == 1


def fake_runs(root, n: int) -> None:
    """n run directories holding only a config.json: listed (as unfinished) without training anything."""
    for i in range(n):
        run = root / f"20260101-000000-{i:04d}-784-8-10"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"hidden": [8], "lr": 0.1 + i / 1e4}))


@pytest.mark.parametrize("argv", [["runs", "--json"], ["runs", "--all"]], ids=["json", "table"])
def test_a_reader_that_stops_early_ends_the_command_quietly(argv, isolated):
    """`nn-tui runs --json | head -c 1`: exit 0 and nothing on stderr (was `nn-tui: error: Broken pipe`, exit 1;
    rich's own handler exited 1 too). The listing is far larger than a pipe's buffer, so writing must fail."""
    fake_runs(isolated / "runs", 400)
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "100"})
    assert proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def test_train_threads_option_is_kept_and_reported(capsys, small_npz, monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    code, out, _ = run(capsys, "train", "--data", str(small_npz), "--hidden", "16", "--epochs", "2",
                       "--dev-size", "200", "--threads", "1", "--json")
    result = json.loads(out)
    assert code == 0 and result["threads"] == 1 and result["threads_mode"] == "config"
    assert result["config"]["threads"] == 1
    history = [json.loads(line) for line in (Path(result["run_dir"]) / "metrics.jsonl").read_text().splitlines()]
    assert [h["threads"] for h in history] == [1, 1]
    assert json.loads((Path(result["run_dir"]) / "summary.json").read_text())["threads"] == 1
    code, out, err = run(capsys, "train", "--data", str(small_npz), "--threads", "-1")
    assert code == 1 and "--threads -1 is out of range" in err


def test_search_refuses_to_search_threads(capsys, small_npz):
    """One count for every trial: a list is refused by the option itself."""
    assert main(["search", "--data", str(small_npz), "--threads", "1,2"]) == 1
    assert capsys.readouterr().err.strip().startswith("nn-tui: error: --threads '1,2'")


def test_bench_load_stops_its_busy_process(capsys, monkeypatch):
    from engine.threads import cores
    from tui.cli import bench

    started = []
    real = bench.busy_process

    @contextlib.contextmanager
    def spy():
        with real() as proc:
            started.append(proc)
            yield proc

    monkeypatch.setattr(bench, "busy_process", spy)
    code, out, _ = run(capsys, "bench", "--load", "--quick", "--hidden", "32", "--batch-size", "256", "--repeats", "1")
    assert code == 0 and started and all(p.poll() is not None for p in started)
    rows = [line.split() for line in out.splitlines() if line.startswith("784-32-10")]
    assert [r[2] for r in rows] == [*[str(c) for c in sorted({1, cores()})], "auto"]
    assert all(r[-1].endswith("x") and float(r[-1][:-1]) > 0 for r in rows)


def test_the_busy_process_is_stopped_when_the_bench_is_interrupted():
    from tui.cli.bench import busy_process

    with pytest.raises(KeyboardInterrupt):
        with busy_process() as proc:
            assert proc.poll() is None  # spinning
            raise KeyboardInterrupt
    assert proc.poll() is not None
