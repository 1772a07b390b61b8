"""The cache of decoded arrays: used only when valid, rebuilt when stale or damaged, written safely."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import data
import data.sources as sources
from data import cache


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(root))
    monkeypatch.delenv("NN_TUI_NO_CACHE", raising=False)
    return root


@pytest.fixture
def reads(monkeypatch):
    """Counts the loads that went to the files themselves."""
    calls = []
    real_path, real_source = sources.read_path, sources.read_source
    monkeypatch.setattr(sources, "read_path", lambda *a: calls.append("path") or real_path(*a))
    monkeypatch.setattr(sources, "read_source", lambda *a: calls.append("source") or real_source(*a))
    return calls


def entries(root):
    return sorted((root / "decoded").glob("*.arrays"))


def same(a: data.Splits, b: data.Splits) -> bool:
    return all(np.array_equal(x.images, y.images) and np.array_equal(x.labels, y.labels)
               for (_, x), (_, y) in zip(a.items(), b.items()))


@pytest.fixture
def idx_dir(files, digits):
    return files.mnist_dir("mnist", digits.make(300, 1), digits.make(50, 2), gz=True)


def test_a_second_load_reads_the_cache_and_gives_the_same_splits(cache_root, reads, idx_dir):
    first = data.load(str(idx_dir), dev_size=40, seed=3)
    assert reads == ["path"] and len(entries(cache_root)) == 1
    second = data.load(str(idx_dir), dev_size=40, seed=3)
    assert reads == ["path"]  # nothing decoded again
    assert same(first, second) and second.source == first.source


def test_the_bundled_source_through_the_cache_is_the_verified_one(cache_root, reads, monkeypatch):
    cold = data.load("mnist")
    warm = data.load("mnist")
    assert reads == ["source"] and same(cold, warm)
    monkeypatch.setenv("NN_TUI_NO_CACHE", "1")
    assert same(data.load("mnist"), warm) and reads == ["source", "source"]


def test_a_changed_source_file_is_decoded_again(cache_root, reads, idx_dir, files, digits):
    data.load(str(idx_dir), dev_size=40)
    path = idx_dir / "train-images-idx3-ubyte.gz"
    before = path.stat()
    images, _ = digits.make(300, 9)  # other digits, the same size of file
    files.idx("mnist/train-images-idx3-ubyte.gz", images)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # even with the old mtime
    fresh = data.load(str(idx_dir), dev_size=40)
    assert reads == ["path", "path"] and len(entries(cache_root)) == 1  # the stale entry was replaced
    rows = {r.tobytes() for r in images}
    assert all(r.tobytes() in rows for r in fresh.train.images)


@pytest.mark.parametrize("damage", ["flip", "truncate", "append", "header", "object-dtype", "garbage"])
def test_a_damaged_entry_is_never_trusted_and_is_rebuilt(cache_root, reads, idx_dir, damage):
    good = data.load(str(idx_dir), dev_size=40)
    [entry] = entries(cache_root)
    raw = bytearray(entry.read_bytes())
    if damage == "flip":
        raw[-100] ^= 0x01
    elif damage == "truncate":
        raw = raw[:-1]
    elif damage == "append":
        raw += b"\0"
    elif damage == "header":
        raw = raw.replace(b'"crc32"', b'"crc33"', 1)
    elif damage == "object-dtype":
        raw = raw.replace(b'"dtype": "|u1"', b'"dtype": "|O8"', 1)
    else:
        raw = bytearray(os.urandom(len(raw)))
    entry.write_bytes(bytes(raw))
    again = data.load(str(idx_dir), dev_size=40)
    assert reads == ["path", "path"] and same(good, again)
    data.load(str(idx_dir), dev_size=40)
    assert reads == ["path", "path"]  # repaired: the next load reads it again


def test_bad_files_raise_on_every_load_and_leave_no_entry(cache_root, files, check_error):
    bad = files.write("bad.csv", b"label,pixel0\n1,2\n")
    for _ in range(2):
        with pytest.raises(data.DataError):
            data.load(str(bad))
    assert entries(cache_root) == []


def test_entries_honour_the_umask_and_leave_no_temporary_files(cache_root, idx_dir):
    old = os.umask(0o027)
    try:
        data.load(str(idx_dir), dev_size=40)
    finally:
        os.umask(old)
    [entry] = entries(cache_root)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o640
    assert [p.name for p in (cache_root / "decoded").iterdir()] == [entry.name]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_cache_only_costs_time(cache_root, reads, idx_dir):
    cache_root.mkdir()
    cache_root.chmod(0o500)
    try:
        a, b = data.load(str(idx_dir), dev_size=40), data.load(str(idx_dir), dev_size=40)
    finally:
        cache_root.chmod(0o700)
    assert same(a, b) and reads == ["path", "path"]


def test_a_cache_that_is_a_file_only_costs_time(tmp_path, monkeypatch, reads, idx_dir):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(blocker))
    monkeypatch.delenv("NN_TUI_NO_CACHE", raising=False)
    assert same(data.load(str(idx_dir), dev_size=40), data.load(str(idx_dir), dev_size=40))
    assert reads == ["path", "path"]


def test_entries_from_other_code_are_ignored(cache_root, reads, idx_dir, monkeypatch):
    data.load(str(idx_dir), dev_size=40)
    monkeypatch.setattr(cache, "code_version", lambda: 12345)  # a reader that changed since
    data.load(str(idx_dir), dev_size=40)
    assert reads == ["path", "path"]


def test_old_entries_are_pruned(cache_root, files, digits):
    for i in range(cache.KEEP + 2):
        path = files.idx(f"set{i}/train-images-idx3-ubyte", digits.make(30, i)[0])
        files.idx(f"set{i}/train-labels-idx1-ubyte", digits.make(30, i)[1])
        files.idx(f"set{i}/t10k-images-idx3-ubyte", digits.make(10, i)[0])
        files.idx(f"set{i}/t10k-labels-idx1-ubyte", digits.make(10, i)[1])
        data.load(str(path.parent), dev_size=5)
    assert len(entries(cache_root)) == cache.KEEP


def test_the_fingerprint_sees_new_bytes_behind_the_same_size_and_mtime(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"a" * 1000)
    st = path.stat()
    before = cache.fingerprint([path])
    path.write_bytes(b"b" * 1000)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = cache.fingerprint([path])
    assert before[0]["size"] == after[0]["size"] and before[0]["mtime_ns"] == after[0]["mtime_ns"]
    assert before != after


def test_empty_arrays_go_through_the_cache(tmp_path):
    arrays = {"a": np.zeros((0, 28, 28), np.uint8), "b": np.arange(3, dtype=np.uint8)}
    cache.write(tmp_path / "e.arrays", {"k": 1}, arrays, {})
    got, _ = cache.read(tmp_path / "e.arrays", {"k": 1})
    assert got["a"].shape == (0, 28, 28) and list(got["b"]) == [0, 1, 2]
