"""Readers for the digit files users have: IDX (raw or gzip), Kaggle CSV, Keras-style .npz.

Every reader checks headers and sizes before building an array and raises
DataError with a one-line message naming the file and the problem.
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np

from .dataset import CLASSES, PIXELS, SIDE, DataError, Dataset
from .files import Content, Npz, open_regular

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
TAIL = 1 << 16  # bytes read past an IDX file's declared end to report how many there are
IDX_TYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double"}


def read_idx(path: Path, magic: int, hasher=None) -> np.ndarray:
    """An IDX array of unsigned bytes with the expected magic number, from a raw or gzip file.

    The header is read and checked first; then at most the declared size + 1 bytes, so a file
    never costs more than what its header declares. `hasher` (hashlib) sees the whole content.
    """
    path = Path(path)
    with Content(path) as f:
        head = f.read(4)
        if len(head) < 4:
            raise DataError(f"{path}: only {len(head)} bytes, too short for an IDX header")
        zero, dtype, ndim = head[:2], head[2], head[3]
        found = int.from_bytes(head, "big")
        if zero != b"\0\0" or dtype not in IDX_TYPES:
            raise DataError(f"{path}: not an IDX file (magic number {found:#010x})")
        if dtype != 0x08:
            raise DataError(f"{path}: IDX data type is {IDX_TYPES[dtype]} (0x{dtype:02X}); "
                            "nn-tui reads unsigned bytes (0x08)")
        if found != magic:
            kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(found, f"{ndim}-dimensional data")
            want = "images" if magic == IMAGES_MAGIC else "labels"
            raise DataError(f"{path}: holds {kind} (magic {found}), expected {want} (magic {magic})")
        dims = f.read(4 * ndim)
        header = 4 + 4 * ndim
        if len(dims) < 4 * ndim:
            raise DataError(f"{path}: truncated header ({4 + len(dims)} of {header} bytes)")
        shape = tuple(int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
        if magic == IMAGES_MAGIC and shape[1:] != (SIDE, SIDE):
            raise DataError(f"{path}: images are {shape[1]}x{shape[2]}, nn-tui needs 28x28")
        size = int(np.prod(shape, dtype=np.int64))
        expected = header + size
        if not f.gzip and f.size != expected:  # a raw file's size is known before reading it
            body_len = f.size - header
        else:
            body = f.read(size + TAIL)  # a little past the end, to say how much is too much
            body_len = len(body)
        if body_len < size:
            have = f"{header + body_len:,} bytes" + (" once inflated" if f.gzip else "")
            raise DataError(f"{path}: truncated: header promises {shape[0]:,} items ({expected:,} bytes), "
                            f"file has {have}")
        if body_len > size:
            extra = f"{body_len - size:,} bytes of" if body_len - size < TAIL else f"over {TAIL - 1:,} bytes of"
            raise DataError(f"{path}: {extra} unexpected data after the {shape[0]:,} items the header declares")
        if hasher is not None:
            hasher.update(head + dims)
            hasher.update(body)
    return np.frombuffer(body, np.uint8, size).reshape(shape)


def check_labels(labels: np.ndarray, where: str) -> np.ndarray:
    """Labels (n,) uint8 all in 0..9, or DataError naming the first bad one."""
    bad = np.flatnonzero(labels >= CLASSES)
    if len(bad):
        raise DataError(f"{where}: label {int(labels[bad[0]])} at index {bad[0]} is outside 0-9")
    return labels


def read_idx_images(path: Path) -> np.ndarray:
    """IDX images (n, 28, 28) uint8, from a raw or gzip file."""
    return read_idx(path, IMAGES_MAGIC)


def read_idx_labels(path: Path) -> np.ndarray:
    """IDX labels (n,) uint8 in 0..9, from a raw or gzip file."""
    return check_labels(read_idx(path, LABELS_MAGIC), str(path))


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
        if os.path.lexists(directory / name):  # a special file by this name is refused when opened
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
    with open_regular(path) as f:
        first = f.readline(1 << 20)
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
            with open_regular(path) as f:
                table = np.loadtxt(f, delimiter=",", skiprows=int(has_header), dtype=np.int32, comments=None, ndmin=2)
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
        with open_regular(path) as f:
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

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
OVERSHOOT = 1.05  # float images up to this are taken as 0-1 (clipped), above it as 0-255


def _npz_image_shape(shape: tuple, dtype: np.dtype, where: str) -> tuple[int, int, int]:
    """(n, 28, 28) from the header's (n, 28, 28) or (n, 784), checked before the array is loaded."""
    if len(shape) == 2 and shape[1] == PIXELS or len(shape) == 3 and shape[1:] == (SIDE, SIDE):
        if dtype.kind not in "uif":
            raise DataError(f"{where}: dtype {dtype} is not numeric")
        return shape[0], SIDE, SIDE
    raise DataError(f"{where}: shape {shape}, expected (n, 28, 28) or (n, 784)")


def _npz_label_shape(shape: tuple, dtype: np.dtype, where: str) -> int:
    if len(shape) == 1 and dtype.kind in "iu" or len(shape) == 2 and shape[1] == CLASSES and dtype.kind in "iufb":
        return shape[0]
    raise DataError(f"{where}: labels must be integers of shape (n,) or one-hot (n, 10), got {dtype} {shape}")


def _image_scale(arrays: dict, path: Path) -> float:
    """255 when the float images are in 0-1, 1 when in 0-255: decided once, for train and test alike."""
    tops = {k: float(arrays[k].max()) for k in ("x_train", "x_test") if arrays[k].dtype.kind == "f" and arrays[k].size}
    unit = {k: top <= OVERSHOOT for k, top in tops.items()}
    if len(set(unit.values())) > 1:
        (a, b) = tops
        raise DataError(f"{path}: {a} peaks at {tops[a]:g} but {b} at {tops[b]:g}: one looks scaled to 0-1, "
                        f"the other to 0-255; give both on one scale")
    return 255.0 if all(unit.values()) else 1.0


def _npz_images(array: np.ndarray, where: str, scale: float) -> np.ndarray:
    array = array.reshape(-1, SIDE, SIDE)
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind == "f":
        low, high = (-(OVERSHOOT - 1), OVERSHOOT) if scale == 255 else (0, 255)
        if array.size and (np.isnan(array).any() or array.min() < low or array.max() > high):
            raise DataError(f"{where}: pixel values outside {'0-1' if scale == 255 else '0-255'} (or nan)")
        return np.rint(np.clip(array * scale, 0, 255)).astype(np.uint8)
    if array.size and (array.min() < 0 or array.max() > 255):
        raise DataError(f"{where}: pixel values outside 0-255")
    return array.astype(np.uint8)


def _npz_labels(array: np.ndarray, where: str) -> np.ndarray:
    if array.ndim == 2:  # one-hot: exactly one 1 in every row, the rest 0
        ones = (array == 1).sum(axis=1)
        bad = np.flatnonzero((ones != 1) | ((array != 0) & (array != 1)).any(axis=1))
        if len(bad):
            raise DataError(f"{where}: row {bad[0]} of the one-hot labels is not one 1 among zeros")
        array = array.argmax(axis=1)
    bad = np.flatnonzero((array < 0) | (array >= CLASSES))
    if len(bad):
        raise DataError(f"{where}: label {int(array[bad[0]])} at index {bad[0]} is outside 0-9")
    return array.astype(np.uint8)


def read_npz(path: Path) -> tuple[Dataset, Dataset]:
    """(train, test) from an .npz with x_train, y_train, x_test, y_test (the Keras mnist.npz layout).

    Every member's header (shape, dtype, size) is checked before any array is loaded.
    """
    path = Path(path)
    with Npz(path, DataError, "an .npz (zip)") as z:
        missing = [k for k in NPZ_KEYS if k not in z.names]
        if missing:
            raise DataError(f"{path}: missing arrays {', '.join(missing)} (has {', '.join(z.names) or 'none'})")
        for part in ("train", "test"):
            n = _npz_image_shape(*z.header(f"x_{part}"), f"{path} x_{part}")[0]
            m = _npz_label_shape(*z.header(f"y_{part}"), f"{path} y_{part}")
            if n != m:
                raise DataError(f"{path}: x_{part} has {n:,} images but y_{part} has {m:,} labels")
            if n == 0:
                raise DataError(f"{path}: x_{part} holds no images")
        arrays = {k: z.array(k) for k in NPZ_KEYS}
    scale = _image_scale(arrays, path)
    return tuple(Dataset(_npz_images(arrays[f"x_{p}"], f"{path} x_{p}", scale),
                         _npz_labels(arrays[f"y_{p}"], f"{path} y_{p}")) for p in ("train", "test"))
