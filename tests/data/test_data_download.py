"""The downloader, against a local HTTP server on 127.0.0.1 (never a real address)."""
import gzip
import hashlib
import os

import numpy as np
import pytest

import data
from data.sources import PARTS, Remote


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """NN_TUI_CACHE_DIR points into tmp_path for every test here."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("NN_TUI_CACHE_DIR", str(directory))
    return directory


def _leftovers(directory):
    """Every file under `directory` (final or temporary), as names relative to it."""
    if not directory.exists():
        return []
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def _four_files(files, digits):
    """{name: gzip bytes} for a tiny MNIST-like source, and the arrays they hold."""
    (ti, tl), (vi, vl) = digits.make(30, seed=1), digits.make(10, seed=2)
    arrays = dict(zip(PARTS, (ti, tl, vi, vl)))
    blobs = {f"{p}.gz": gzip.compress(files.idx_bytes(a), mtime=0) for p, a in arrays.items()}
    return blobs, arrays


def _publish(base, routes, blobs, name="tiny", of="file"):
    """Serve `blobs` and return a Source whose digests are right (sha256 of the file or of the content)."""
    remotes = []
    for filename, blob in blobs.items():
        routes[f"/{name}/{filename}"] = blob
        digest = hashlib.sha256(blob if of == "file" else gzip.decompress(blob)).hexdigest()
        remotes.append(Remote(filename, (f"{base}/{name}/{filename}",), digest, "sha256", of))
    return data.Source(name, tuple(remotes), "generated test source")


@pytest.mark.parametrize("of", ["file", "content"])
def test_download_success(http_server, files, digits, cache, of):
    base, routes = http_server
    blobs, arrays = _four_files(files, digits)
    source = _publish(base, routes, blobs, of=of)
    assert not source.is_present()
    directory = data.download(source, timeout=5)
    assert directory == cache / "tiny"
    assert _leftovers(cache) == sorted(f"tiny/{name}" for name in blobs)  # no .part files left
    for name, blob in blobs.items():
        assert (directory / name).read_bytes() == blob
    assert source.is_present()
    train, test = data.read_source(source)
    np.testing.assert_array_equal(train.images, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(train.labels, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(test.images, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.labels, arrays["t10k-labels-idx1-ubyte"])


def test_download_skips_files_already_there(http_server, files, digits):
    base, routes = http_server
    source = _publish(base, routes, _four_files(files, digits)[0])
    data.download(source, timeout=5)
    assert len(routes.requests) == 4
    data.download(source, timeout=5)
    assert len(routes.requests) == 4


def test_download_md5_of_file(http_server, cache):
    base, routes = http_server
    blob = os.urandom(1000)
    routes["/a.bin"] = blob
    source = data.Source("md5", (Remote("a.bin", (f"{base}/a.bin",), hashlib.md5(blob).hexdigest()),), "md5")
    data.download(source, timeout=5)
    assert (cache / "md5" / "a.bin").read_bytes() == blob


@pytest.mark.parametrize("of", ["file", "content"])
def test_checksum_mismatch_leaves_nothing(http_server, cache, of):
    base, routes = http_server
    blob = gzip.compress(os.urandom(200_000))
    routes["/x.gz"] = blob
    url = f"{base}/x.gz"
    source = data.Source("bad", (Remote("x.gz", (url,), "0" * 64, "sha256", of),), "wrong digest")
    with pytest.raises(data.DataError) as info:
        data.download(source, timeout=5)
    message = str(info.value)
    assert "checksum mismatch" in message and url in message and "\n" not in message
    assert _leftovers(cache) == []
    assert not source.is_present()


def test_connection_cut_mid_file_leaves_nothing(http_server, cache):
    base, routes = http_server
    blob = os.urandom(300_000)
    routes["/cut.bin"] = ("cut", blob[:150_000], len(blob))  # promises 300,000 bytes, sends half, hangs up
    url = f"{base}/cut.bin"
    source = data.Source("cut", (Remote("cut.bin", (url,), hashlib.sha256(blob).hexdigest(), "sha256"),), "cut")
    seen = []
    with pytest.raises(data.DataError) as info:
        data.download(source, lambda name, done, total: seen.append(done), timeout=5)
    message = str(info.value)
    assert "connection cut after" in message and url in message and "\n" not in message
    assert _leftovers(cache) == []
    assert seen and seen[-1] == 150_000  # the bytes that did arrive were reported, then it stopped


def test_http_404(http_server, cache):
    base, routes = http_server
    url = f"{base}/missing.gz"
    source = data.Source("gone", (Remote("missing.gz", (url,), "0" * 32),), "404")
    with pytest.raises(data.DataError) as info:
        data.download(source, timeout=5)
    assert "HTTP 404" in str(info.value) and url in str(info.value) and "\n" not in str(info.value)
    assert _leftovers(cache) == []


def test_second_mirror_used_when_first_fails(http_server, cache):
    base, routes = http_server
    blob = os.urandom(5000)
    routes["/mirror2/f.bin"] = blob
    urls = (f"{base}/mirror1/f.bin", f"{base}/mirror2/f.bin")
    source = data.Source("mirrors", (Remote("f.bin", urls, hashlib.sha256(blob).hexdigest(), "sha256"),), "two mirrors")
    data.download(source, timeout=5)
    assert (cache / "mirrors" / "f.bin").read_bytes() == blob
    assert routes.requests == ["/mirror1/f.bin", "/mirror2/f.bin"]


def test_all_mirrors_fail_names_each(http_server, cache):
    base, _ = http_server
    urls = (f"{base}/m1/f.bin", f"{base}/m2/f.bin")
    source = data.Source("mirrors", (Remote("f.bin", urls, "0" * 32),), "two mirrors")
    with pytest.raises(data.DataError) as info:
        data.download(source, timeout=5)
    assert urls[0] in str(info.value) and urls[1] in str(info.value)
    assert _leftovers(cache) == []


def test_progress_reports_increasing_byte_counts(http_server, cache):
    base, routes = http_server
    blob = os.urandom(400_000)  # several 64 KiB reads
    routes["/big.bin"] = blob
    source = data.Source("big", (Remote("big.bin", (f"{base}/big.bin",), hashlib.sha256(blob).hexdigest(), "sha256"),),
                         "big")
    calls = []
    data.download(source, lambda name, done, total: calls.append((name, done, total)), timeout=5)
    assert len(calls) >= 3
    assert {name for name, _, _ in calls} == {"big.bin"}
    counts = [done for _, done, _ in calls]
    assert all(b > a for a, b in zip(counts, counts[1:])), counts
    assert counts[-1] == len(blob)
    assert {total for _, _, total in calls} == {len(blob)}


def test_bundled_source_downloads_nothing(http_server, cache):
    _, routes = http_server
    assert data.download(data.SOURCES["mnist"]) == data.sources.BUNDLED
    assert routes.requests == [] and not cache.exists()


def test_cache_dir_follows_env(cache):
    assert data.cache_dir() == cache
    assert data.SOURCES["kmnist"].directory() == cache / "kmnist"
