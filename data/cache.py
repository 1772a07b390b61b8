"""A cache of decoded arrays, so a second start reads them instead of gunzipping, hashing and parsing again.

One file per dataset under `cache_dir()/decoded/`: a JSON header, then the arrays' bytes. It is used only
when the header names the same source files (path, size, mtime and a CRC-32 of each file's bytes) and
every array's own CRC-32 matches; anything else (stale, cut short, damaged, another version) is rebuilt
from the sources. Written atomically, with the permissions the umask gives. Never pickled.
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path

import numpy as np

MAGIC = b"NNTUI-ARRAYS-1\n"
CHUNK = 1 << 24


def crc(data) -> int:
    """CRC-32 of bytes or a contiguous array, in chunks (zlib reads at GB/s)."""
    view = memoryview(data.reshape(-1) if isinstance(data, np.ndarray) else data).cast("B")
    value = 0
    for start in range(0, len(view), CHUNK):
        value = zlib.crc32(view[start:start + CHUNK], value)
    return value


def fingerprint(paths: list[Path]) -> list[dict]:
    """What identifies the sources: each file's absolute path, size, mtime and CRC-32 of its bytes."""
    out = []
    for path in paths:
        path = Path(path).resolve()
        st = path.stat()
        out.append({"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "crc32": crc(path.read_bytes())})
    return out


def entry_path(root: Path, tag: str, paths: list[Path]) -> Path:
    """One entry per (tag, source paths): a rebuilt entry replaces the stale one instead of piling up."""
    name = hashlib.sha256(json.dumps([tag, [str(Path(p).resolve()) for p in paths]]).encode()).hexdigest()[:32]
    return Path(root) / "decoded" / f"{name}.arrays"


def read(path: Path, key: dict) -> tuple[dict[str, np.ndarray], dict] | None:
    """The arrays and extra of a valid entry made for `key`, else None (missing, stale or damaged)."""
    try:
        with open(path, "rb") as f:
            if f.readline() != MAGIC:
                return None
            header = json.loads(f.readline())
            if header.get("key") != key:
                return None
            dtypes = [np.dtype(a["dtype"]) for a in header["arrays"]]
            if any(d.kind not in "biuf" for d in dtypes):  # raw bytes can only be plain numbers, never objects
                return None
            sizes = [d.itemsize * int(np.prod(a["shape"], dtype=np.int64)) for d, a in zip(dtypes, header["arrays"])]
            if min(sizes, default=0) < 0 or f.tell() + sum(sizes) != os.fstat(f.fileno()).st_size:
                return None  # cut short or padded: checked before anything is allocated
            arrays = {}
            for a, dtype in zip(header["arrays"], dtypes):
                array = np.empty(a["shape"], dtype)
                if f.readinto(memoryview(array.reshape(-1)).cast("B")) != array.nbytes or crc(array) != a["crc32"]:
                    return None
                arrays[a["name"]] = array
            if f.read(1):
                return None
            return arrays, header.get("extra", {})
    except (OSError, ValueError, KeyError, TypeError):  # unreadable, bad JSON, a header of another shape
        return None


def write(path: Path, key: dict, arrays: dict[str, np.ndarray], extra: dict) -> None:
    """Write an entry atomically (a temporary file beside it, then a rename), honouring the umask.

    No fsync: an entry cut short by a crash fails its size and CRC checks and is rebuilt."""
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    header = {"key": key, "extra": extra,
              "arrays": [{"name": k, "dtype": v.dtype.str, "shape": list(v.shape), "crc32": crc(v)}
                         for k, v in arrays.items()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + json.dumps(header).encode() + b"\n")
            for v in arrays.values():
                f.write(memoryview(v.reshape(-1)).cast("B"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


KEEP = 8  # entries kept; the least recently written beyond that are removed


def prune(root: Path, keep: int = KEEP) -> None:
    entries = sorted((Path(root) / "decoded").glob("*.arrays"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)


def code_version() -> int:
    """CRC-32 of the modules that decode files: a changed reader never meets arrays an older one made."""
    here = Path(__file__).parent
    return crc(b"".join((here / name).read_bytes() for name in ("cache.py", "readers.py", "sources.py", "dataset.py")))


def datasets(root: Path, kind: str, paths: list[Path], build):
    """(pool, test or None, kind) through the cache; `build()` returns the same from the files themselves."""
    from .dataset import Dataset

    def arrays():
        pool, test, found = build()
        out = {"pool_images": pool.images}
        if pool.labels is not None:
            out["pool_labels"] = pool.labels
        if test is not None:
            out.update(test_images=test.images, test_labels=test.labels)
        return out, {"kind": found}

    try:
        key = {"tag": f"{kind}:{code_version()}", "files": fingerprint(paths)}
    except OSError:  # a file that cannot be read: the reader says so in its own words
        key = None
    hit = read(entry_path(root, kind, paths), key) if key else None
    if hit is None:
        got, extra = arrays()
        if key:
            try:
                write(entry_path(root, kind, paths), key, got, extra)
                prune(root)
            except OSError:  # a read-only or full cache only costs the time it would have saved
                pass
    else:
        got, extra = hit
    test = Dataset(got["test_images"], got["test_labels"]) if "test_images" in got else None
    return Dataset(got["pool_images"], got.get("pool_labels")), test, extra["kind"]
