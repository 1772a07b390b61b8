"""The model file: one .npz of plain arrays (never Python objects) whose JSON metadata is stored inside it
as a string array and mirrored beside it in a .json file for people to read.

Loading checks the format, every shape against the spec, and a SHA-256 of the weights,
and refuses anything else with CheckpointError (one line, naming the file).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from data.errors import UserError

from .mlp import MLP, Spec

FORMAT = "nn-tui-model"
VERSION = 1


class CheckpointError(UserError):
    """A model file that cannot be loaded, with a one-line reason."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def weights_digest(weights: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return h.hexdigest()


def save(path: str | os.PathLike, model: MLP, meta: dict | None = None) -> Path:
    """Write model.npz (+ model.json beside it) atomically; returns the .npz path."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    weights = [np.asarray(p, np.float32) for p in model.params]
    info = {"format": FORMAT, "version": VERSION, "spec": model.spec.to_dict(),
            "sha256": weights_digest(weights), **(meta or {})}
    text = json.dumps(info, indent=2, sort_keys=True, default=_jsonable)
    arrays = {f"p{i}": w for i, w in enumerate(weights)}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(text), **arrays)
    atomic_write(path, buffer.getvalue())
    atomic_write(path.with_suffix(".json"), text.encode() + b"\n")
    return path


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in model metadata")


def load(path: str | os.PathLike) -> tuple[MLP, dict]:
    """(model, metadata) from a file written by `save`."""
    path = Path(path)
    # np.load would read a non-zip as a serialized object, or return an .npy array
    if path.is_file() and not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not an .npz model file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except ValueError as e:
        if "Object arrays" in str(e):  # NumPy refusing an object array (allow_pickle=False)
            raise CheckpointError(f"{path}: holds Python objects, which nn-tui never loads (arrays only)") from None
        raise CheckpointError(f"{path}: not an .npz model file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: not an .npz model file ({type(e).__name__}: {e})") from None
    odd = [k for k, a in arrays.items() if not isinstance(a, np.ndarray)]  # zip members that are not .npy
    if odd:
        raise CheckpointError(f"{path}: not an .npz model file (member {odd[0]!r} is not a NumPy array)")
    if "meta" not in arrays or arrays["meta"].dtype.kind != "U" or arrays["meta"].ndim != 0:
        raise CheckpointError(f"{path}: not an nn-tui model "
                              f"(no metadata inside; arrays: {', '.join(arrays) or 'none'})")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: metadata is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path}: not an nn-tui model (format {found!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: model format version {meta.get('version')}, "
                              f"this nn-tui reads version {VERSION}")
    try:
        spec = Spec.from_dict(meta["spec"])
    except (KeyError, TypeError, ValueError) as e:  # SpecError is a ValueError; so is int("abc")
        raise CheckpointError(f"{path}: bad architecture in metadata ({e})") from None
    shapes = [s for a, b in zip(spec.sizes[:-1], spec.sizes[1:]) for s in ((a, b), (b,))]
    names = [f"p{i}" for i in range(len(shapes))]
    if sorted(arrays) != sorted(names):
        raise CheckpointError(f"{path}: has {len(arrays)} weight arrays, a {spec} network needs {len(shapes)}")
    weights = [arrays[n] for n in names]
    for name, w, shape in zip(names, weights, shapes):  # checked before any network is built
        if w.shape != shape or w.dtype != np.float32:
            raise CheckpointError(f"{path}: array {name} is {w.dtype} {w.shape}, "
                                  f"the {spec} network needs float32 {shape}")
        if not np.isfinite(w).all():
            raise CheckpointError(f"{path}: array {name} holds nan or inf")
    if meta.get("sha256") != weights_digest(weights):
        raise CheckpointError(f"{path}: weights do not match their recorded SHA-256 (file modified or damaged)")
    model = MLP(spec)
    model.set_weights(weights)
    return model, meta
