"""What a person reads from the commands: eval at 80 columns, class names, warnings, help, pipes, offline."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import data
from data.sources import PARTS, Remote
from tui.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def idx(array: np.ndarray) -> bytes:
    header = ((0x08 << 8) | array.ndim).to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


@pytest.fixture
def fashion(isolated, monkeypatch):
    """A 'downloaded' Fashion-MNIST in the test's cache: real MNIST digits standing in for clothes (the
    names come from the source), with the source's digests made to match."""
    mnist = data.load("mnist")
    arrays = (mnist.train.images[:2000], mnist.train.labels[:2000], mnist.test.images[:500], mnist.test.labels[:500])
    directory = isolated / "cache" / "fashion-mnist"
    directory.mkdir(parents=True)
    remotes = []
    for part, array in zip(PARTS, arrays):
        blob = gzip.compress(idx(array), mtime=0)
        (directory / f"{part}.gz").write_bytes(blob)
        remotes.append(Remote(f"{part}.gz", ("http://127.0.0.1:9/",), hashlib.md5(blob).hexdigest()))
    monkeypatch.setitem(data.SOURCES, "fashion-mnist", dataclasses.replace(data.SOURCES["fashion-mnist"],
                                                                           files=tuple(remotes)))
    return directory


@pytest.fixture
def fashion_model(capsys, fashion, isolated, monkeypatch):
    """A model trained on that Fashion-MNIST; the working directory is the test's, so paths are short."""
    monkeypatch.chdir(isolated)
    code, out, _ = run(capsys, "train", "--data", "fashion-mnist", "--hidden", "16", "--epochs", "1",
                       "--dev-size", "200", "--out", "runs", "--json")
    assert code == 0
    return os.path.relpath(json.loads(out)["model_path"], isolated)


def test_eval_fits_80_columns_with_right_aligned_numbers_and_class_names(capsys, fashion_model, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "eval", fashion_model)
    assert code == 0
    lines = out.splitlines()
    assert "…" not in out and max(len(line) for line in lines) <= 80, out
    assert "fashion-mnist test split (500 clothing images)" in out
    rows = {line.split()[0]: line for line in lines if re.match(r"\s*\d+\s+\d", line)}  # confusion rows
    assert len(rows) == 10 and len({len(line.rstrip()) for line in rows.values()}) == 1  # right-aligned: one edge
    per_class = [line for line in lines if re.match(r"\s*\d [A-Z]", line)]
    assert len(per_class) == 10 and per_class[1].split()[:2] == ["1", "Trouser"]
    assert "9 Ankle boot" in per_class[9]
    for line in per_class:  # precision, recall and F1 in one notation
        assert len(re.findall(r"\d+\.\d\d%", line)) == 3 and not re.search(r"\b0\.\d{4}\b", line), line
    assert len({len(line.rstrip()) for line in per_class}) == 1


def test_predict_and_data_info_name_the_classes(capsys, fashion_model):
    code, out, _ = run(capsys, "predict", fashion_model, "--count", "6", "--seed", "0")
    names = "T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot"
    assert code == 0 and re.search(rf"→ \d ({names})", out)
    code, out, _ = run(capsys, "data", "info", "--data", "fashion-mnist", "--dev-size", "200", "--samples", "1")
    assert code == 0
    assert "clothing images of 28x28 pixels" in out and "Clothing images per class" in out and "digits" not in out
    assert "1 Trouser" in out and "label " in out


def test_mnist_stays_digits(capsys):
    code, out, _ = run(capsys, "data", "info", "--samples", "0")
    assert code == 0 and "70,000 digits" in out and "Trouser" not in out


@pytest.mark.parametrize("epochs, patience, warned", [(3, 5, True), (5, 5, True), (6, 5, False), (3, 0, False)])
def test_train_warns_when_early_stopping_can_never_trigger(capsys, small_npz, epochs, patience, warned):
    code, out, err = run(capsys, "train", "--data", str(small_npz), "--hidden", "8", "--epochs", str(epochs),
                         "--patience", str(patience), "--dev-size", "100", "--quiet")
    assert code == 0
    lines = [line for line in err.splitlines() if "warning" in line]
    if warned:
        assert len(lines) == 1 and f"patience {patience}" in lines[0] and "can never trigger" in lines[0]
    else:
        assert not lines


def test_help_ranges_read_as_numbers_on_one_line(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "e+" not in out
    assert re.search(r"\[0,\s4294967295\]", out) and re.search(r"\(0,\s10000000\]", out)


def test_piped_output_keeps_each_record_on_one_line(small_npz, isolated):
    """Through a pipe (80 columns for rich) a line is never broken mid-phrase: each record fits on a line
    of its own, or stays whole (a long path) for the reader's terminal to wrap."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run([sys.executable, "-m", "tui.cli", "train", "--data", str(small_npz), "--hidden", "8",
                          "--epochs", "1", "--dev-size", "100", "--out", str(isolated / "a-rather-long-runs-directory"
                                                                               / "name" / "to-pass-eighty-columns")],
                         capture_output=True, text=True, env=env, timeout=120).stdout
    lines = out.splitlines()
    saved = next(line for line in lines if line.startswith("model saved:"))
    assert saved.endswith("model.npz") and len(saved) > 80
    assert any(re.fullmatch(r"small\.npz: 1,\d+ train / 100 dev / 500 test digits", line) for line in lines), out
    assert any(re.fullmatch(r"best epoch 1 +dev accuracy \S+% +test accuracy \S+% \(test loss [\d.]+\)", line)
               for line in lines), out
    assert all(len(line) <= 80 for line in lines if not line.startswith(("model saved:", "run directory:")))


def test_offline_download_says_what_to_do_next_and_leaves_no_folder(capsys, isolated, monkeypatch):
    cache = isolated / "cache" / "nested"
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(cache))
    offline = dataclasses.replace(data.SOURCES["kmnist"], files=tuple(
        dataclasses.replace(f, urls=("http://127.0.0.1:9/" + f.name,)) for f in data.SOURCES["kmnist"].files))
    monkeypatch.setitem(data.SOURCES, "kmnist", offline)
    code, out, err = run(capsys, "data", "download", "kmnist")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "Next: when online, run `nn-tui data download kmnist`; offline, copy train-images-idx3-ubyte.gz" in err
    assert str(cache / "kmnist") in err
    assert not cache.exists()  # neither the source's folder nor the cache's own is left behind

