"""Reading files a user hands over without trusting them: regular files only, bounded reads,
gzip inflated as a stream, and every .npy member of an .npz checked from its header before it is loaded.

Memory is bounded by what a file declares: a header that promises n bytes costs at most about n,
and inflated data stops at MAX_RATIO times the compressed size (deflate itself tops out near 1032).
"""
from __future__ import annotations

import gzip
import json
import os
import stat
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .dataset import DataError

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20
MAX_RATIO = 100  # MNIST's .gz files inflate about 5x; a bomb inflates about 1000x
SLACK = 1 << 26  # small files may inflate to 64 MiB whatever their ratio
MAX_HEADER = 10_000  # bytes of an .npy header (NumPy's own default limit)
HEADER_ERRORS = (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile, SyntaxError, TypeError)
KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
         stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket"}


def one_line(text) -> str:
    """Any message squeezed onto one line."""
    return " ".join(str(text).split())


def open_regular(path: str | os.PathLike, error: type[Exception] = DataError) -> BinaryIO:
    """`path` opened for binary reading, or `error` when it is missing, unreadable or not a regular file.

    Opened non-blocking first, so a FIFO with no writer cannot hang the open; checked on the open
    descriptor, so nothing can be swapped in between the check and the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{path}: cannot read: no such file") from None
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"{path}: is {KINDS.get(stat.S_IFMT(mode), 'a special file')}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def check_regular(path: str | os.PathLike, error: type[Exception] = DataError) -> None:
    """Raise `error` unless `path` is a readable regular file (for readers that open it themselves)."""
    open_regular(path, error).close()


class Content:
    """A regular file's bytes, inflated on the fly when it starts with the gzip magic; every read is bounded."""

    def __init__(self, path: str | os.PathLike, error: type[Exception] = DataError):
        self.path, self.error = Path(path), error
        self.raw = open_regular(path, error)
        self.size = os.fstat(self.raw.fileno()).st_size
        self.gzip = self.raw.read(2) == GZIP_MAGIC
        self.raw.seek(0)
        self.stream = gzip.GzipFile(fileobj=self.raw, mode="rb") if self.gzip else self.raw
        self.limit = max(SLACK, MAX_RATIO * self.size) if self.gzip else self.size
        self.produced = 0

    def __enter__(self) -> "Content":
        return self

    def __exit__(self, *exc) -> None:
        self.raw.close()

    def read(self, n: int) -> bytearray:
        """Up to `n` bytes (fewer only at the end), grown as they arrive: never more than the file yields."""
        out = bytearray()
        while len(out) < n:
            try:
                chunk = self.stream.read(min(CHUNK, n - len(out)))
            except (OSError, EOFError, zlib.error) as e:
                raise self.error(f"{self.path}: corrupt or truncated gzip data ({one_line(e)})") from None
            if not chunk:
                break
            out += chunk
            self.produced += len(chunk)
            if self.produced > self.limit:
                raise self.error(f"{self.path}: inflates to over {self.limit:,} bytes from {self.size:,} "
                                 f"(more than {MAX_RATIO}x): refused as a likely decompression bomb")
        return out

    def digest(self, hasher) -> str:
        """Hex digest of the whole (inflated) content, streamed."""
        while chunk := self.read(CHUNK):
            hasher.update(chunk)
        return hasher.hexdigest()


class Npz:
    """The members of an .npz, each known by its .npy header before any array is built.

    `header(name)` -> (shape, dtype); `array(name)` loads it, costing its declared size and no more.
    """

    def __init__(self, path: str | os.PathLike, error: type[Exception] = DataError, what: str = "an .npz"):
        self.path, self.error, self.what = Path(path), error, what
        self.file = open_regular(path, error)
        try:
            self.zip = zipfile.ZipFile(self.file)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
            self.file.close()
            raise error(f"{path}: not {what} file (not a zip archive: {one_line(e)})") from None
        self.infos = {}
        for info in self.zip.infolist():
            if info.is_dir() or not info.filename.endswith(".npy"):
                self.close()
                raise error(f"{path}: not {what} file (member {info.filename!r} is not a NumPy array (.npy))")
            self.infos[info.filename[:-4]] = info
        self.headers: dict[str, tuple[tuple[int, ...], np.dtype, bool, int]] = {}

    @property
    def names(self) -> list[str]:
        return list(self.infos)

    def close(self) -> None:
        self.zip.close()
        self.file.close()

    def __enter__(self) -> "Npz":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fail(self, name: str, why) -> Exception:
        return self.error(f"{self.path}: member {name!r} is not a valid .npy array ({one_line(why)})")

    def _open(self, name: str):
        try:
            return self.zip.open(self.infos[name])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
            raise self._fail(name, e) from None

    @staticmethod
    def _read_header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
        """(shape, fortran order, dtype) from the start of an open .npy stream, leaving it at the data."""
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f, max_header_size=MAX_HEADER)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(f, max_header_size=MAX_HEADER)
        raise ValueError(f"npy format version {version[0]}.{version[1]}")

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """(shape, dtype) of member `name` from its .npy header; object arrays and oversized members refused."""
        if name not in self.headers:
            info = self.infos[name]
            if info.file_size > MAX_RATIO * info.compress_size + SLACK:
                raise self.error(f"{self.path}: member {name!r} inflates {info.compress_size:,} bytes to "
                                 f"{info.file_size:,} (more than {MAX_RATIO}x): refused as a likely zip bomb")
            with self._open(name) as f:
                try:
                    shape, fortran, dtype = self._read_header(f)
                    offset = f.tell()
                except Exception as e:  # noqa: BLE001 - NumPy parses the header text: tokenize, ast, zlib errors
                    raise self._fail(name, e) from None
            if dtype.hasobject:
                raise self.error(f"{self.path}: holds Python objects, which nn-tui never loads (arrays only)")
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if offset + nbytes > info.file_size:
                raise self.error(f"{self.path}: member {name!r} declares {dtype} {shape} ({nbytes:,} bytes) "
                                 f"but holds {max(info.file_size - offset, 0):,} bytes")
            self.headers[name] = (tuple(shape), dtype, fortran, nbytes)
        shape, dtype, _, _ = self.headers[name]
        return shape, dtype

    def array(self, name: str) -> np.ndarray:
        """Member `name` as an array (header checked first; reads its declared bytes, nothing after them)."""
        shape, dtype = self.header(name)
        fortran, nbytes = self.headers[name][2:]
        out = np.empty(shape[::-1] if fortran else shape, dtype)
        with self._open(name) as f:
            try:
                self._read_header(f)
                view = memoryview(out.reshape(-1).view(np.uint8)) if nbytes else memoryview(b"")
                done = 0
                while done < nbytes:
                    got = f.readinto(view[done:done + CHUNK])
                    if not got:
                        raise ValueError(f"cut short after {done:,} of {nbytes:,} bytes")
                    done += got
            except HEADER_ERRORS as e:
                raise self._fail(name, e) from None
        return out.T if fortran else out


def umask() -> int:
    """The process's umask, read without changing it where /proc allows (os.umask is set-and-return)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place; the file gets the
    mode a plain open() would give it (0666 less the umask), not mkstemp's 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def clean_temp(directory: str | os.PathLike, older_than: float = 60.0) -> list[Path]:
    """Remove `.*.tmp` / `.*.part` files left in `directory` by a killed writer; returns what went.

    Only files untouched for `older_than` seconds go, so a write in progress is never disturbed.
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith((".tmp", ".part")):
            try:
                old = now - entry.stat(follow_symlinks=False).st_mtime > older_than
                if entry.is_file(follow_symlinks=False) and old:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def finite(value):
    """`value` with every nan or infinity (also inside dicts, lists, NumPy scalars) replaced by None,
    so the JSON written is valid JSON (json.dumps would write a bare NaN)."""
    if isinstance(value, float) or isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps(value, **kw) -> str:
    """json.dumps of `finite(value)`, refusing anything non-finite left over (never a bare NaN)."""
    return json.dumps(finite(value), allow_nan=False, **kw)
