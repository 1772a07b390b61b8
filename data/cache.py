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
from typing import Callable

import numpy as np

MAGIC = b"NNTUI-ARRAYS-1\n"
CHUNK = 1 << 24


def crc(data) -> int:
    """CRC-32 of bytes or a contiguous array, in chunks (zlib reads at GB/s)."""
    view = memoryview(data).cast("B")
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
                if f.readinto(memoryview(array).cast("B")) != array.nbytes or crc(array) != a["crc32"]:
                    return None
                arrays[a["name"]] = array
            if f.read(1):
                return None
            return arrays, header.get("extra", {})
    except (OSError, ValueError, KeyError, TypeError):  # unreadable, bad JSON, a header of another shape
        return None


def write(path: Path, key: dict, arrays: dict[str, np.ndarray], extra: dict) -> None:
    """Write an entry atomically (a temporary file beside it, then a rename), honouring the umask."""
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
                f.write(memoryview(v).cast("B"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached(root: Path, tag: str, paths: list[Path], build: Callable[[], tuple[dict[str, np.ndarray], dict]]):
    """(arrays, extra) from the entry for `paths` when valid, else from `build()` (then saved for next time).

    `tag` names what `build` makes from the files (the reader and its version). A cache that cannot be
    written (read-only, full disk) only costs the time it would have saved.
    """
    key = {"tag": tag, "files": fingerprint(paths)}
    path = entry_path(root, tag, paths)
    hit = read(path, key)
    if hit is not None:
        return hit
    arrays, extra = build()
    try:
        write(path, key, arrays, extra)
    except OSError:
        pass
    return arrays, extra
