"""Hostile files (issue 11): bombs, special files, empty splits, misread scales, downloader faults.

Every refusal is one DataError line naming the file; nothing hangs and nothing costs more memory
than the file declares.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import data
from data.sources import Remote


def zeros_gz(path, head: bytes, zeros: int) -> None:
    """A gzip file holding `head` then `zeros` zero bytes, written in chunks (it stays small)."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(head)
        block = bytes(1 << 20)
        for _ in range(zeros >> 20):
            f.write(block)


def idx_head(n: int) -> bytes:
    return struct.pack(">IIII", 2051, n, 28, 28)


def peak(call) -> tuple[int, object]:
    """(peak bytes traced by tracemalloc while `call` ran, what it raised or returned)."""
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as e:  # noqa: BLE001 - the caller checks what was raised
            outcome = e
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


def finishes(call, seconds: float = 10.0):
    """Run `call` in a thread; fail the test (instead of hanging it) when it does not return in time."""
    box = {}

    def run():
        try:
            box["value"] = call()
        except Exception as e:  # noqa: BLE001
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (hung)"
    return box


# -- 1. decompression bombs -----------------------------------------------------

def test_idx_gz_bomb_costs_its_declared_size_not_its_inflated_size(tmp_path):
    path = tmp_path / "bomb-idx3-ubyte.gz"
    zeros_gz(path, idx_head(100), 200 << 20)  # 78 KB declared, 200 MiB of zeros after it; ~200 KB on disk
    assert path.stat().st_size < 1 << 20
    used, error = peak(lambda: data.read_idx_images(path))
    assert isinstance(error, data.DataError) and "unexpected data after the 100 items" in str(error), error
    assert used < 4 << 20, f"peak {used:,} bytes for a file declaring 78,400"


def test_idx_gz_declaring_more_than_any_ratio_allows_is_refused_early(tmp_path):
    path = tmp_path / "huge-idx3-ubyte.gz"
    zeros_gz(path, idx_head(10_000_000), 120 << 20)  # declares 7.8 GB, holds 120 MiB of zeros in ~120 KB
    used, error = peak(lambda: data.read_idx_images(path))
    assert isinstance(error, data.DataError) and "decompression bomb" in str(error), error
    assert used < 80 << 20, f"peak {used:,}"


def test_npz_member_bomb_is_never_loaded(tmp_path, digits):
    images, labels = digits.make(20)
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x_train=images, y_train=labels, x_test=images, y_test=labels,
                        junk=np.zeros(100 << 20, np.uint8))  # 100 MiB of zeros, ~100 KB compressed
    used, result = peak(lambda: data.read_npz(path))
    assert not isinstance(result, Exception), result
    assert used < 8 << 20, f"peak {used:,}"


def test_npz_member_declaring_more_than_it_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "liar.npz"
    header = {"descr": "|u1", "fortran_order": False, "shape": (10_000_000, 28, 28)}
    with zipfile.ZipFile(path, "w") as z:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            with z.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array_header_1_0(f, header)
                f.write(bytes(100))
    used, error = peak(lambda: data.read_npz(path))
    assert isinstance(error, data.DataError) and "declares" in str(error) and "x_train" in str(error), error
    assert used < 1 << 20


def test_zip_whose_members_are_not_npy(tmp_path, check_error):
    path = tmp_path / "notes.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x_train.txt", "hello")
    check_error(lambda: data.read_npz(path), path, "'x_train.txt' is not a NumPy array (.npy)")


def test_npz_member_with_a_garbage_header(tmp_path, check_error):
    path = tmp_path / "garbage.npz"
    with zipfile.ZipFile(path, "w") as z:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            z.writestr(f"{name}.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 12}    \n")
    check_error(lambda: data.read_npz(path), path, "x_train", "not a valid .npy array")


# -- 3. special files -------------------------------------------------------------

@pytest.fixture
def fifo(tmp_path):
    def make(name):
        path = tmp_path / name
        os.mkfifo(path)
        return path
    return make


@pytest.mark.parametrize("name, reader", [
    ("digits.csv", data.read_csv), ("digits.npz", data.read_npz), ("x-idx3-ubyte", data.read_idx_images),
    ("digit.pgm", "image"), ("digits.csv", data.load), ("model.npz", "model")])
def test_a_fifo_is_refused_without_hanging(fifo, name, reader):
    from data.images import load_digit
    from models import CheckpointError, load

    path = fifo(name)
    call = {"image": load_digit, "model": load}.get(reader, reader)
    box = finishes(lambda: call(path if reader is not data.load else str(path)))
    assert isinstance(box.get("error"), (data.DataError, CheckpointError)), box
    assert "named pipe (FIFO), not a regular file" in str(box["error"]) and str(path) in str(box["error"])


def test_dev_zero_as_csv_is_refused(tmp_path, check_error):
    path = tmp_path / "zero.csv"
    path.symlink_to("/dev/zero")
    box = finishes(lambda: check_error(lambda: data.read_csv(path), path, "character device, not a regular file"))
    assert "error" not in box, box


def test_a_directory_named_like_a_file_is_refused(tmp_path, check_error):
    path = tmp_path / "digits.npz"
    path.mkdir()
    check_error(lambda: data.read_npz(path), path, "a directory, not a regular file")


def test_fifo_in_an_idx_directory(tmp_path, files, digits, check_error):
    directory = files.mnist_dir("mn", digits.make(20), digits.make(10))
    (directory / "t10k-labels-idx1-ubyte").unlink()
    os.mkfifo(directory / "t10k-labels-idx1-ubyte")
    box = finishes(lambda: check_error(lambda: data.read_idx_dir(directory), directory, "named pipe"))
    assert "error" not in box, box


# -- 9. empty splits ----------------------------------------------------------------

def test_empty_test_set_in_npz_is_refused(tmp_path, digits, check_error):
    images, labels = digits.make(50)
    path = tmp_path / "empty-test.npz"
    np.savez(path, x_train=images, y_train=labels, x_test=images[:0], y_test=labels[:0])
    check_error(lambda: data.load(str(path)), path, "x_test holds no images")


def test_empty_test_set_in_idx_directory_is_refused(files, digits, check_error):
    images, labels = digits.make(50)
    directory = files.mnist_dir("mn", (images, labels), (images[:0], labels[:0]))
    check_error(lambda: data.load(str(directory)), directory, "the test set is empty")


# -- 10. data silently misread ---------------------------------------------------------

def test_float_images_with_slight_overshoot_scaled_alike_for_train_and_test(tmp_path, digits):
    images, labels = digits.make(40)
    x = images.astype(np.float32) / 255
    train_x = x.copy()
    train_x[0, 5, 5] = 1.004  # a resampling overshoot
    path = tmp_path / "floats.npz"
    np.savez(path, x_train=train_x, y_train=labels, x_test=x, y_test=labels)
    train, test = data.read_npz(path)
    np.testing.assert_array_equal(test.images, images)
    expected = images.copy()
    expected[0, 5, 5] = 255
    np.testing.assert_array_equal(train.images, expected)


def test_float_images_on_two_scales_are_refused(tmp_path, digits, check_error):
    images, labels = digits.make(40)
    path = tmp_path / "two-scales.npz"
    np.savez(path, x_train=images.astype(np.float32), y_train=labels, x_test=images / np.float32(255), y_test=labels)
    check_error(lambda: data.read_npz(path), path, "one looks scaled to 0-1, the other to 0-255")


def test_all_zero_one_hot_label_is_refused(tmp_path, digits, check_error):
    images, labels = digits.make(40)
    onehot = np.eye(10, dtype=np.float32)[labels]
    onehot[3] = 0
    path = tmp_path / "onehot.npz"
    np.savez(path, x_train=images, y_train=onehot, x_test=images, y_test=np.eye(10, dtype=np.float32)[labels])
    check_error(lambda: data.read_npz(path), path, "y_train", "row 3 of the one-hot labels")


def test_negative_plain_pgm_pixel_is_refused(tmp_path, check_error):
    from data.images import read_pgm

    path = tmp_path / "neg.pgm"
    path.write_text("P2\n2 2\n255\n0 -5 255 3\n")
    check_error(lambda: read_pgm(path), path, "pixel -5 is negative")


# -- 11. other tracebacks -----------------------------------------------------------------

def test_huge_plain_pgm_value_is_refused(tmp_path, check_error):
    from data.images import read_pgm

    path = tmp_path / "huge.pgm"
    path.write_text("P2\n2 1\n255\n0 " + "9" * 30 + "\n")
    check_error(lambda: read_pgm(path), path, "is above maxval 255")


def png_header_only(path, width: int, height: int) -> None:
    """A PNG whose IHDR says width x height, with one tiny IDAT: what a decoder would have to blow up."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [9000, 20000])
def test_huge_png_is_refused_from_its_header(tmp_path, check_error, side):
    pytest.importorskip("PIL")
    from data.images import read_image

    path = tmp_path / "huge.png"
    png_header_only(path, side, side)
    used, _ = peak(lambda: check_error(lambda: read_image(path), path, "above 8192x8192"))
    assert used < 4 << 20


# -- 12. the downloader ------------------------------------------------------------------

@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(directory))
    return directory


def test_download_has_an_overall_deadline(http_server, cache):
    base, routes = http_server
    blob = os.urandom(200)
    routes["/slow.bin"] = ("drip", blob, 0.05)  # 10 s in all, a byte every 50 ms: no single wait times out
    remote = Remote("slow.bin", (f"{base}/slow.bin",), hashlib.sha256(blob).hexdigest(), "sha256")
    source = data.Source("slow", (remote,), "slow")
    start = time.monotonic()
    with pytest.raises(data.DataError) as info:
        data.download(source, timeout=5, deadline=1.0)
    assert time.monotonic() - start < 4
    assert "deadline" in str(info.value) and "\n" not in str(info.value)
    assert not cache.exists() or not any(cache.rglob("*")), list(cache.rglob("*"))  # no empty folder left


def test_redirect_loop_is_one_line(http_server, cache):
    base, routes = http_server
    routes["/a"] = ("redirect", "/b")
    routes["/b"] = ("redirect", "/a")
    source = data.Source("loop", (Remote("a", (f"{base}/a",), "0" * 64, "sha256"),), "loop")
    with pytest.raises(data.DataError) as info:
        data.download(source, timeout=5)
    message = str(info.value)
    assert "redirect loop" in message and "\n" not in message, message


def test_junk_in_the_cache_is_named_and_fetched_again(http_server, cache):
    base, routes = http_server
    blob = os.urandom(3000)
    routes["/f.bin"] = blob
    source = data.Source("junk", (Remote("f.bin", (f"{base}/f.bin",), hashlib.sha256(blob).hexdigest(), "sha256"),),
                         "junk")
    (cache / "junk").mkdir(parents=True)
    (cache / "junk" / "f.bin").write_bytes(b"not the file")
    notes = []
    data.download(source, timeout=5, notice=notes.append)
    assert (cache / "junk" / "f.bin").read_bytes() == blob
    assert len(notes) == 1 and str(cache / "junk" / "f.bin") in notes[0] and "checksum mismatch" in notes[0], notes
    data.download(source, timeout=5, notice=notes.append)  # now verified: nothing fetched, nothing said
    assert routes.requests == ["/f.bin"] and len(notes) == 1


def test_read_source_names_the_damaged_file_and_the_repair(http_server, cache, files, digits):
    base, routes = http_server
    blobs = {f"{p}.gz": gzip.compress(files.idx_bytes(a), mtime=0)
             for p, a in zip(data.sources.PARTS, (*digits.make(30), *digits.make(10, seed=1)))}
    remotes = []
    for name, blob in blobs.items():
        routes[f"/{name}"] = blob
        remotes.append(Remote(name, (f"{base}/{name}",), hashlib.sha256(gzip.decompress(blob)).hexdigest(), "sha256",
                              "content"))
    source = data.Source("rep", tuple(remotes), "repairable")
    data.download(source, timeout=5)
    damaged = cache / "rep" / "t10k-images-idx3-ubyte.gz"
    damaged.write_bytes(gzip.compress(files.idx_bytes(digits.make(10, seed=9)[0])))
    with pytest.raises(data.DataError) as info:
        data.read_source(source)
    assert str(damaged) in str(info.value) and "nn-tui data download rep" in str(info.value)
    data.download(source, timeout=5)
    data.read_source(source)
