"""Readers for the digit files users have: IDX (raw or gzip), Kaggle CSV, Keras-style .npz.

Every reader checks headers and sizes before building an array and raises
DataError with a one-line message naming the file and the problem.
"""
from __future__ import annotations

import gzip
import re
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .dataset import CLASSES, PIXELS, SIDE, DataError, Dataset

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
IDX_TYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double"}


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip (whatever its name)."""
    try:
        return decompress(path.read_bytes(), path)
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None


def decompress(raw: bytes, path: Path) -> bytes:
    """`raw` gunzipped when it starts with the gzip magic, else unchanged."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from None


def parse_idx(content: bytes, path: Path, magic: int) -> np.ndarray:
    """An IDX array of unsigned bytes with the expected magic number, every header field checked."""
    if len(content) < 4:
        raise DataError(f"{path}: only {len(content)} bytes, too short for an IDX header")
    zero, dtype, ndim = content[:2], content[2], content[3]
    found = int.from_bytes(content[:4], "big")
    want_ndim = magic & 0xFF
    if zero != b"\0\0" or dtype not in IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (magic number {found:#010x})")
    if dtype != 0x08:
        raise DataError(f"{path}: IDX data type is {IDX_TYPES[dtype]} (0x{dtype:02X}); "
                        "nn-tui reads unsigned bytes (0x08)")
    if found != magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(found, f"{ndim}-dimensional data")
        want = "images" if magic == IMAGES_MAGIC else "labels"
        raise DataError(f"{path}: holds {kind} (magic {found}), expected {want} (magic {magic})")
    header = 4 + 4 * want_ndim
    if len(content) < header:
        raise DataError(f"{path}: truncated header ({len(content)} of {header} bytes)")
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(want_ndim))
    if magic == IMAGES_MAGIC and shape[1:] != (SIDE, SIDE):
        raise DataError(f"{path}: images are {shape[1]}x{shape[2]}, nn-tui needs 28x28")
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(content) < expected:
        raise DataError(f"{path}: truncated: header promises {shape[0]:,} items ({expected:,} bytes), "
                        f"file has {len(content):,} bytes")
    if len(content) > expected:
        raise DataError(f"{path}: {len(content) - expected:,} bytes of unexpected data after the {shape[0]:,} items "
                        "the header declares")
    return np.frombuffer(content, np.uint8, offset=header).reshape(shape)


def check_labels(labels: np.ndarray, where: str) -> np.ndarray:
    """Labels (n,) uint8 all in 0..9, or DataError naming the first bad one."""
    bad = np.flatnonzero(labels >= CLASSES)
    if len(bad):
        raise DataError(f"{where}: label {int(labels[bad[0]])} at index {bad[0]} is outside 0-9")
    return labels


def read_idx_images(path: Path) -> np.ndarray:
    """IDX images (n, 28, 28) uint8, from a raw or gzip file."""
    path = Path(path)
    return parse_idx(read_bytes(path), path, IMAGES_MAGIC)


def read_idx_labels(path: Path) -> np.ndarray:
    """IDX labels (n,) uint8 in 0..9, from a raw or gzip file."""
    path = Path(path)
    return check_labels(parse_idx(read_bytes(path), path, LABELS_MAGIC), str(path))


def pair(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path) -> Dataset:
    if len(images) != len(labels):
        raise DataError(f"{images_path}: {len(images):,} images but {labels_path.name} has {len(labels):,} labels")
    return Dataset(images, labels)


# -- MNIST directories ------------------------------------------------------

def find_idx(directory: Path, stem: str) -> Path:
    """`train-images` -> the file spelled train-images-idx3-ubyte, train-images.idx3-ubyte, with or without .gz."""
    kind = "idx3" if "images" in stem else "idx1"
    names = [f"{stem}{sep}{kind}-ubyte{gz}" for sep in ("-", ".") for gz in ("", ".gz")]
    for name in names:
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"{directory}: no {names[0]} (or .gz, or {names[2]}) in this directory")


def read_idx_dir(directory: Path) -> tuple[Dataset, Dataset]:
    """(train, test) from a directory holding the four MNIST IDX files."""
    sets = []
    for part in ("train", "t10k"):
        ip, lp = find_idx(directory, f"{part}-images"), find_idx(directory, f"{part}-labels")
        sets.append(pair(read_idx_images(ip), read_idx_labels(lp), ip, lp))
    return sets[0], sets[1]


# -- Kaggle CSV -------------------------------------------------------------

def read_csv(path: Path) -> Dataset:
    """Kaggle digit-recognizer CSV: `label,pixel0..pixel783` (train.csv) or `pixel0..pixel783` (test.csv).

    Returns labels None for the unlabeled layout. A bad row is reported by its line number.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            first = f.readline()
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    fields = first.decode("utf-8-sig", "replace").strip().split(",")  # -sig: Excel's byte-order mark
    has_header = not fields[0].strip().lstrip("-").isdigit()
    if has_header:
        names = [c.strip().strip('"') for c in fields]
        if len(names) == PIXELS + 1 and names[0] == "label":
            labeled = True
        elif len(names) == PIXELS and names[0] == "pixel0":
            labeled = False
        else:
            raise DataError(f"{path}: line 1: header has {len(names)} columns starting {names[0]!r}; "
                            f"expected label,pixel0,...,pixel783 (or pixel0,...,pixel783)")
    else:
        labeled = len(fields) == PIXELS + 1
    width = PIXELS + labeled
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's "input contained no data": reported below instead
            table = np.loadtxt(path, delimiter=",", skiprows=int(has_header), dtype=np.int32, comments=None, ndmin=2)
    except ValueError as e:
        hint = re.search(r"at row (\d+)", str(e))
        _diagnose_csv(path, width, labeled, has_header, int(hint.group(1)) - 2 if hint else 0)
        raise DataError(f"{path}: not a digit CSV of {width} columns ({e})") from None
    if len(table) == 0:
        raise DataError(f"{path}: no rows after the header")
    if table.shape[1] != width:
        _diagnose_csv(path, width, labeled, has_header)
    bad_rows = np.flatnonzero(((table < 0) | (table > 255)).any(axis=1) | (labeled & (table[:, 0] >= CLASSES)))
    if len(bad_rows):
        _diagnose_csv(path, width, labeled, has_header, int(bad_rows[0]))
    images = table[:, -PIXELS:].astype(np.uint8).reshape(-1, SIDE, SIDE)
    return Dataset(images, table[:, 0].astype(np.uint8) if labeled else None)


def _diagnose_csv(path: Path, width: int, labeled: bool, has_header: bool, skip: int = 0) -> None:
    """Walk the file and raise DataError for the first bad row.

    `skip` data rows are passed over unparsed (a hint from the fast reader); if nothing
    is wrong after them the walk starts again from the top.
    """
    for start in ((skip, 0) if skip > 0 else (0,)):
        row = 0
        with open(path, "rb") as f:
            for number, line in enumerate(f, start=1):
                if number == 1 and has_header or not line.strip():
                    continue
                row += 1
                if row > start:
                    _check_row(path, number, line, width, labeled)


def _check_row(path: Path, number: int, line: bytes, width: int, labeled: bool) -> None:
    cells = line.decode("utf-8", "replace").strip().split(",")
    if len(cells) != width:
        raise DataError(f"{path}: line {number}: {len(cells)} columns, expected {width}")
    for col, cell in enumerate(cells):
        try:
            value = int(cell)
        except ValueError:
            raise DataError(f"{path}: line {number}, column {col + 1}: {cell.strip()[:20]!r} "
                            "is not a whole number") from None
        if labeled and col == 0 and not 0 <= value < CLASSES:
            raise DataError(f"{path}: line {number}: label {value} is outside 0-9")
        if not 0 <= value <= 255:
            raise DataError(f"{path}: line {number}, column {col + 1}: pixel {value} is outside 0-255")


# -- .npz -------------------------------------------------------------------

def _npz_images(array: np.ndarray, where: str) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] == PIXELS:
        array = array.reshape(-1, SIDE, SIDE)
    if array.ndim != 3 or array.shape[1:] != (SIDE, SIDE):
        raise DataError(f"{where}: shape {array.shape}, expected (n, 28, 28) or (n, 784)")
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind == "f":
        if array.size and (np.isnan(array).any() or array.min() < 0 or array.max() > 255):
            raise DataError(f"{where}: pixel values outside 0-255 (or nan)")
        scale = 255.0 if array.size and array.max() <= 1.0 else 1.0
        return np.rint(array * scale).astype(np.uint8)
    if array.dtype.kind in "iu":
        if array.size and (array.min() < 0 or array.max() > 255):
            raise DataError(f"{where}: pixel values outside 0-255")
        return array.astype(np.uint8)
    raise DataError(f"{where}: dtype {array.dtype} is not numeric")


def _npz_labels(array: np.ndarray, where: str) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] == CLASSES:  # one-hot
        array = array.argmax(axis=1)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise DataError(f"{where}: labels must be integers of shape (n,), got {array.dtype} {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= CLASSES):
        raise DataError(f"{where}: labels outside 0-9")
    return check_labels(array.astype(np.uint8), where)


def read_npz(path: Path) -> tuple[Dataset, Dataset]:
    """(train, test) from an .npz with x_train, y_train, x_test, y_test (the Keras mnist.npz layout)."""
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):  # else np.load reads it as a serialized object and says so
        raise DataError(f"{path}: not an .npz (zip) archive")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in z.files]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)} (has {', '.join(z.files) or 'none'})")
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except DataError:
        raise
    except ValueError as e:
        if "Object arrays" in str(e):  # NumPy refusing an object array (allow_pickle=False)
            raise DataError(f"{path}: holds Python objects, which nn-tui never loads (arrays only)") from None
        raise DataError(f"{path}: not a valid .npz ({e})") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: not a valid .npz ({e})") from None
    except Exception as e:  # zipfile.BadZipFile and friends
        raise DataError(f"{path}: not a valid .npz ({type(e).__name__}: {e})") from None
    sets = []
    for part in ("train", "test"):
        x = _npz_images(arrays[f"x_{part}"], f"{path} x_{part}")
        y = _npz_labels(arrays[f"y_{part}"], f"{path} y_{part}")
        if len(x) != len(y):
            raise DataError(f"{path}: x_{part} has {len(x):,} images but y_{part} has {len(y):,} labels")
        sets.append(Dataset(x, y))
    return sets[0], sets[1]
