"""Kaggle digit-recognizer CSV: train.csv, unlabeled test.csv, headerless files, and every bad row."""
import warnings

import numpy as np
import pytest

import data

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _row(label=None, pixels=None, fill=0):
    pixels = [fill] * 784 if pixels is None else pixels
    return ",".join(map(str, ([] if label is None else [label]) + list(pixels)))


def test_train_csv(files, digits):
    images, labels = digits.make(9)
    ds = data.read_csv(files.csv("train.csv", images, labels))
    assert ds.images.dtype == np.uint8 and ds.images.shape == (9, 28, 28)
    assert ds.labels.dtype == np.uint8 and ds.labels.shape == (9,)
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)


def test_unlabeled_test_csv(files, digits, check_error):
    images, _ = digits.make(4)
    path = files.csv("test.csv", images, None)
    ds = data.read_csv(path)
    assert ds.labels is None
    np.testing.assert_array_equal(ds.images, images)
    with pytest.raises(data.DataError):
        ds.y


@pytest.mark.parametrize("labeled", [True, False])
def test_headerless_numeric_csv(files, digits, labeled):
    images, labels = digits.make(5)
    ds = data.read_csv(files.csv("plain.csv", images, labels if labeled else None, header=False))
    np.testing.assert_array_equal(ds.images, images)
    if labeled:
        np.testing.assert_array_equal(ds.labels, labels)
    else:
        assert ds.labels is None


def test_windows_line_endings_and_quoted_header(files, digits):
    images, labels = digits.make(3)
    text = files.csv_text(images, labels, newline="\r\n")
    head, rest = text.split("\r\n", 1)
    quoted = ",".join(f'"{name}"' for name in head.split(","))
    path = files.root / "train.csv"
    path.write_bytes((quoted + "\r\n" + rest).encode())
    ds = data.read_csv(path)
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)


def test_single_row_csv(files, digits):
    images, labels = digits.make(1)
    ds = data.read_csv(files.csv("one.csv", images, labels))
    assert ds.images.shape == (1, 28, 28) and ds.labels.tolist() == labels.tolist()


def _write(files, lines):
    path = files.root / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("lines,fragments", [
    # wrong column count, on the 3rd line of the file (header is line 1)
    ([HEADER, _row(1), _row(2)[:-2]], ["line 3", "784 columns", "expected 785"]),
    ([HEADER, _row(1), _row(2) + ",0"], ["line 3", "786 columns"]),
    # non-numeric cells
    ([HEADER, _row(1, [0] * 4 + ["abc"] + [0] * 779)], ["line 2", "column 6", "'abc'", "not a whole number"]),
    ([HEADER, _row(1), _row(1), _row(1, [0] * 783 + ["1.5"])], ["line 4", "column 785", "'1.5'"]),
    ([HEADER, _row(1, [0] * 10 + [""] + [0] * 773)], ["line 2", "column 12", "not a whole number"]),
    ([HEADER, _row("x")], ["line 2", "column 1", "'x'"]),
    # pixels outside 0-255
    ([HEADER, _row(1), _row(2, [0] * 100 + [256] + [0] * 683)], ["line 3", "column 102", "pixel 256", "outside 0-255"]),
    ([HEADER, _row(1, [-1] + [0] * 783)], ["line 2", "column 2", "pixel -1"]),
    # labels outside 0-9
    ([HEADER, _row(3), _row(3), _row(3), _row(10)], ["line 5", "label 10", "outside 0-9"]),
    ([HEADER, _row(-1)], ["line 2", "label -1"]),
    # bad headers
    (["lbl," + HEADER.split(",", 1)[1], _row(1)], ["line 1", "header", "'lbl'"]),
    ([HEADER + ",pixel784", _row(1)], ["line 1", "header has 786 columns"]),
    (["id,name", "1,a"], ["line 1", "header has 2 columns"]),
    # a header and no rows
    ([HEADER], ["no rows"]),
], ids=["short-row", "long-row", "text-cell", "float-cell", "empty-cell", "text-label", "pixel-256", "pixel-neg",
        "label-10", "label-neg", "header-name", "header-width", "header-other", "header-only"])
def test_bad_csv(files, check_error, lines, fragments):
    path = _write(files, lines)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the reader must not leak numpy warnings either
        check_error(lambda: data.read_csv(path), path, *fragments)


def test_bad_unlabeled_csv_pixel(files, check_error):
    # In test.csv the first column is a pixel: 12 there is fine, 300 is not.
    head = ",".join(f"pixel{i}" for i in range(784))
    path = _write(files, [head, _row(None, [12] * 784), _row(None, [300] + [0] * 783)])
    check_error(lambda: data.read_csv(path), path, "line 3", "column 1", "pixel 300")


def test_headerless_bad_row_line_number(files, check_error):
    path = _write(files, [_row(1), _row(2), _row(3, [0] * 783 + [999])])
    check_error(lambda: data.read_csv(path), path, "line 3", "pixel 999")


def test_headerless_wrong_width(files, check_error):
    path = _write(files, [",".join(["0"] * 700), ",".join(["0"] * 700)])
    check_error(lambda: data.read_csv(path), path, "line 1", "700 columns")


def test_empty_csv(files, check_error):
    path = files.root / "empty.csv"
    path.write_text("")
    check_error(lambda: data.read_csv(path), path, "line 1")


def test_missing_csv(tmp_path, check_error):
    path = tmp_path / "nope.csv"
    check_error(lambda: data.read_csv(path), path, "cannot read")


def test_excel_byte_order_mark(files, digits):
    images, labels = digits.make(4)
    path = files.root / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + files.csv_text(images, labels).encode())
    ds = data.read_csv(path)
    np.testing.assert_array_equal(ds.labels, labels)


def test_bad_value_far_down_names_its_line(files, digits, check_error):
    images, labels = digits.make(300)
    text = files.csv_text(images, labels).splitlines()
    text.insert(100, "")  # a blank line shifts line numbers against row numbers
    cells = text[250].split(",")
    cells[7] = "300"
    text[250] = ",".join(cells)
    path = files.root / "far.csv"
    path.write_text("\n".join(text) + "\n")
    check_error(lambda: data.read_csv(path), path, "line 251", "column 8", "300")
