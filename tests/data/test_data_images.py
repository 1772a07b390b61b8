"""Reading one digit from a file: PGM P2 / P5 with no dependency, PNG through the optional Pillow,
clear one-line errors for anything else, inversion of dark-on-light digits."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from data import DataError
from data.images import load_digit, read_image, read_pgm, read_png
from data.preprocess import to_mnist


def p5(image: np.ndarray, maxval: int = 255, comment: bytes = b"") -> bytes:
    h, w = image.shape
    return b"P5\n" + comment + b"%d %d\n%d\n" % (w, h, maxval) + image.astype(np.uint8).tobytes()


def p2(image: np.ndarray, maxval: int = 255) -> bytes:
    h, w = image.shape
    rows = "\n".join(" ".join(str(int(v)) for v in row) for row in image)
    return f"P2\n# plain\n{w} {h}\n# max\n{maxval}\n{rows}\n".encode()


@pytest.fixture
def digit(small) -> np.ndarray:
    return small.test.images[0]


def test_p5_and_p2_read_the_same_pixels(tmp_path, digit):
    (tmp_path / "a.pgm").write_bytes(p5(digit, comment=b"# made by a test\n"))
    (tmp_path / "b.pgm").write_bytes(p2(digit))
    np.testing.assert_array_equal(read_pgm(tmp_path / "a.pgm"), digit)
    np.testing.assert_array_equal(read_pgm(tmp_path / "b.pgm"), digit)
    np.testing.assert_array_equal(read_image(tmp_path / "b.pgm"), digit)


def test_small_maxval_is_scaled_to_255(tmp_path):
    img = np.array([[0, 7, 15]])
    (tmp_path / "a.pgm").write_bytes(p2(img, maxval=15))
    np.testing.assert_array_equal(read_pgm(tmp_path / "a.pgm"), [[0, 119, 255]])


def test_p5_raster_may_start_with_a_whitespace_byte(tmp_path):
    """The single whitespace after maxval ends the header; a pixel of value 10 ('\\n') is data."""
    img = np.array([[10, 32], [9, 13]], np.uint8)
    (tmp_path / "a.pgm").write_bytes(p5(img))
    np.testing.assert_array_equal(read_pgm(tmp_path / "a.pgm"), img)


BAD = {
    "P6": (b"P6\n2 2\n255\n" + bytes(12), "P6 Netpbm file; nn-tui reads grey PGM only"),
    "P1": (b"P1\n2 2\n0 1 1 0\n", "P1 Netpbm file"),
    "text": (b"hello, world", "not a PGM or PNG image"),
    "truncated raster": (b"P5\n4 4\n255\n" + bytes(10), "truncated: 4x4 needs 16 bytes"),
    "truncated header": (b"P5\n4 4", "truncated PGM header"),
    "16-bit": (b"P5\n1 1\n65535\n\0\0", "16-bit PGM"),
    "bad size": (b"P5\n0 4\n255\n", "outside 1..8192"),
    "not a number": (b"P5\nfour 4\n255\n" + bytes(16), "whole numbers"),
    "too few values": (b"P2\n2 2\n255\n1 2 3\n", "needs 4 pixel values, the file has 3"),
    "above maxval": (b"P2\n2 1\n15\n3 16\n", "pixel value 16 is above maxval 15"),
    "P2 garbage": (b"P2\n2 1\n255\n3 x\n", "whole numbers"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_files_give_one_clear_line(tmp_path, name):
    content, words = BAD[name]
    path = tmp_path / "bad.pgm"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_image(path)
    message = str(info.value)
    assert words in message and str(path) in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load_digit(tmp_path / "nope.pgm")


def test_blank_image_is_refused(tmp_path):
    (tmp_path / "a.pgm").write_bytes(p5(np.full((10, 10), 200)))
    with pytest.raises(DataError, match="blank"):
        load_digit(tmp_path / "a.pgm")


def test_dark_on_light_is_inverted_and_said(tmp_path, digit):
    big = np.kron(255 - digit, np.ones((3, 3), np.uint8))  # a scan: black ink on white paper, 84x84
    (tmp_path / "scan.pgm").write_bytes(p5(big))
    d = load_digit(tmp_path / "scan.pgm")
    assert d.inverted and any("inverted" in n for n in d.notes)
    assert d.image.shape == (28, 28) and d.image.dtype == np.uint8
    # the same digit, white on black: not inverted, nothing said
    (tmp_path / "plain.pgm").write_bytes(p5(digit))
    plain = load_digit(tmp_path / "plain.pgm")
    assert not plain.inverted and plain.notes == []
    # both come out close to the MNIST digit itself
    for got in (d.image, plain.image):
        assert np.abs(got.astype(int) - digit).mean() < 12


def test_an_mnist_digit_from_a_file_gets_the_models_answer(tmp_path, small, model):
    images = small.test.images[:20]
    agree = 0
    for i, im in enumerate(images):
        (tmp_path / f"{i}.pgm").write_bytes(p5(im))
        agree += int(model.predict(load_digit(tmp_path / f"{i}.pgm").x)[0] == model.predict(small.test.x[i:i + 1])[0])
    assert agree >= 19  # faint specks below 10% are dropped, so a rare borderline digit may flip


def test_png_through_pillow(tmp_path, digit):
    Image = pytest.importorskip("PIL.Image")
    rgba = np.zeros((56, 56, 4), np.uint8)  # black strokes on a transparent sheet
    rgba[..., 3] = np.kron(digit, np.ones((2, 2), np.uint8))
    Image.fromarray(rgba, "RGBA").save(tmp_path / "d.png")
    d = load_digit(tmp_path / "d.png")
    assert d.inverted
    assert np.abs(d.image.astype(int) - to_mnist(digit)).mean() < 12
    Image.fromarray(np.kron(digit, np.ones((2, 2), np.uint8))).save(tmp_path / "g.png")
    assert not load_digit(tmp_path / "g.png").inverted
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(DataError, match="cannot read PNG"):
        read_png(tmp_path / "broken.png")


def test_png_without_pillow_says_how_to_get_it(tmp_path, monkeypatch):
    (tmp_path / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now fails, as when it is not installed
    with pytest.raises(DataError) as info:
        read_image(tmp_path / "d.png")
    assert "pip install 'nn-tui[image]'" in str(info.value) and "\n" not in str(info.value)
