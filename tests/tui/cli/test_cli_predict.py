"""`nn-tui predict MODEL --image FILE`, end to end: the digit as the network sees it, ten probabilities,
and one line and a non-zero exit for a file it cannot read."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tui.cli import main

ROOT = Path(__file__).resolve().parents[3]


def write_pgm(path: Path, image: np.ndarray) -> Path:
    h, w = image.shape
    path.write_bytes(b"P5\n%d %d\n255\n" % (w, h) + image.astype(np.uint8).tobytes())
    return path


def test_predict_image_prints_the_digit_and_the_probabilities(tmp_path, small, model, model_file, capsys):
    digit = small.test.images[0]
    scan = write_pgm(tmp_path / "scan.pgm", np.kron(255 - digit, np.ones((3, 3), np.uint8)))  # dark on light, 84x84
    assert main(["predict", str(model_file), "--image", str(scan)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "84x84 pixels" in lines[0] and "inverted" in lines[1]
    guess = int(model.predict(small.test.x[:1])[0])
    assert f"prediction {guess}" in out
    bars = [line for line in lines if line[:2] in {f"{c} " for c in range(10)} and line.endswith("%")]
    assert [int(b[0]) for b in bars] == list(range(10))
    assert sum(float(b.split()[-1].rstrip("%")) for b in bars) == pytest.approx(100, abs=0.5)
    # no colour under capsys: the digit in the ASCII ramp, 14 lines of 28 (half a line of pixels each)
    start = next(i for i, line in enumerate(lines) if line.startswith("As the network sees it")) + 1
    picture = lines[start:start + 14]
    assert all(len(line) <= 28 and set(line) <= set(" .:-=+*#%@") for line in picture)
    assert sum(bool(line.strip()) for line in picture) >= 8 and lines[start + 14].startswith("0 ")


@pytest.mark.parametrize("content, words", [
    (b"P6\n1 1\n255\n\0\0\0", "P6 Netpbm file"),
    (b"P5\n4 4\n255\n\0", "truncated"),
    (b"GIF89a", "not a PGM or PNG image"),
])
def test_predict_image_refuses_a_bad_file_in_one_line(tmp_path, model_file, capsys, content, words):
    bad = tmp_path / "bad.pgm"
    bad.write_bytes(content)
    assert main(["predict", str(model_file), "--image", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nn-tui: error: ") and words in err and err.count("\n") == 1


def test_predict_image_png_without_pillow(tmp_path, model_file, capsys, monkeypatch):
    (tmp_path / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30))
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert main(["predict", str(model_file), "--image", str(tmp_path / "d.png")]) == 1
    err = capsys.readouterr().err
    assert "pip install 'nn-tui[image]'" in err and err.count("\n") == 1


def test_the_installed_command(tmp_path, small, model_file):
    """The real console entry point, in a fresh process."""
    pgm = write_pgm(tmp_path / "seven.pgm", small.test.images[0])
    done = subprocess.run([sys.executable, "-m", "tui.cli", "predict", str(model_file), "--image", str(pgm)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "prediction" in done.stdout and done.stderr == ""
    missing = subprocess.run([sys.executable, "-m", "tui.cli", "predict", str(model_file), "--image",
                              str(tmp_path / "none.pgm")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "cannot read" in missing.stderr
