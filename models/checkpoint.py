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
from pathlib import Path

import numpy as np

from data.errors import UserError
from data.files import Npz, atomic_write, dumps

from .layers import ACTIVATIONS
from .mlp import INITS, KERNELS, MLP, Spec

FORMAT = "nn-tui-model"
VERSION = 2  # 2: conv blocks (spec "conv" and "kernel"); 1: MLPs only, still read


class CheckpointError(UserError):
    """A model file that cannot be loaded, with a one-line reason."""


def weights_digest(weights: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return h.hexdigest()


def save(path: str | os.PathLike, model: MLP, meta: dict | None = None) -> Path:
    """Write model.npz (+ model.json beside it) atomically; returns the .npz path.

    A directory (".", "/", "runs/"), or a name that is only a suffix, is refused with CheckpointError:
    saving "runs/" as "runs.npz" beside it would put the file where nobody asked.
    """
    text = os.fspath(path)
    path = Path(path)
    if text.endswith(("/", os.sep)) or path.is_dir() or path.name in ("", ".", "..") or path.stem == "":
        raise CheckpointError(f"{text}: is a directory, not a file name; give one such as "
                              f"{Path(text) / 'model.npz'}")
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    weights = [np.asarray(p, np.float32) for p in model.params]
    info = {"format": FORMAT, "version": VERSION, "spec": model.spec.to_dict(),
            "sha256": weights_digest(weights), **(meta or {})}
    text = dumps(info, indent=2, sort_keys=True, default=_jsonable)
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


# -- what metadata may hold: one checker per field, so a new format version adds rows, not code ------

def _whole(low: int, high: int):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int):
            return f"{v!r:.40} is not a whole number"
        return None if low <= v <= high else f"{v} is outside {low}..{high}"
    return check


def _number(low: float, high: float, below_high: bool = False):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            return f"{v!r:.40} is not a number"
        return None if low <= v <= high and not (below_high and v == high) else \
            f"{v:g} is outside [{low:g}, {high:g}{')' if below_high else ']'}"
    return check


def _text(longest: int = 4096):
    def check(v):
        ok = isinstance(v, str) and len(v) <= longest
        return None if ok else f"{v!r:.40} is not a text of {longest} characters at most"
    return check


def _choice(*options: str):
    def check(v):
        return None if isinstance(v, str) and v in options else f"{v!r:.40} is not one of {', '.join(options)}"
    return check


def _sizes(low: int, high: int, most: int):
    def check(v):
        if not isinstance(v, list) or len(v) > most:
            return f"{v!r:.40} is not a list of up to {most} layer sizes"
        return next((f"layer {i + 1}: {bad}" for i, x in enumerate(v) if (bad := _whole(low, high)(x))), None)
    return check


def _plain(v, depth: int = 0) -> bool:
    """JSON values without nesting beyond two levels (settings and metrics are flat)."""
    if isinstance(v, (str, int, float, bool)) or v is None:
        return True
    if isinstance(v, list) and depth < 2:
        return all(_plain(x, depth + 1) for x in v)
    if isinstance(v, dict) and depth < 2:
        return all(isinstance(k, str) and _plain(x, depth + 1) for k, x in v.items())
    return False


def _mapping(v):
    return None if isinstance(v, dict) and _plain(v) else f"{v!r:.40} is not an object of plain settings"


def _hex64(v):
    return None if isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v) else \
        f"{v!r:.40} is not a SHA-256 hex digest"


# (checker, required) per field of the spec and of the metadata, by format version
SPEC_FIELDS = {1: {
    "inputs": (_whole(1, 1 << 16), False), "hidden": (_sizes(1, 1 << 16, 64), False),
    "classes": (_whole(2, 1 << 16), False),
    "activation": (_choice(*ACTIVATIONS), False), "init": (_choice(*INITS), False),
    "dropout": (_number(0, 1, below_high=True), False), "seed": (_whole(0, 2**32 - 1), False),
}}
META_FIELDS = {1: {
    "format": (_text(), True), "version": (_whole(1, 1000), True), "spec": (_mapping, True), "sha256": (_hex64, True),
    "config": (_mapping, False), "metrics": (_mapping, False), "data": (_text(), False), "source": (_text(), False),
    "saved": (_text(64), False), "run_dir": (_text(), False),
}}
SPEC_FIELDS[2] = {**SPEC_FIELDS[1], "conv": (_sizes(1, 4096, 8), False),
                  "kernel": (lambda v: None if v in KERNELS and not isinstance(v, bool) else
                             f"{v!r:.20} is not one of {', '.join(map(str, KERNELS))}", False)}
META_FIELDS[2] = META_FIELDS[1]
MAX_META = 1 << 20  # characters of JSON metadata


def check_fields(table: dict, value: dict, where: str) -> None:
    """Raise ValueError naming the first field of `value` that `table` refuses (missing, wrong type or range)."""
    for name, (check, required) in table.items():
        if name not in value:
            if required:
                raise ValueError(f"{where}{name} is missing")
            continue
        problem = check(value[name])
        if problem:
            raise ValueError(f"{where}{name} {problem}")


def read_meta(z: Npz, path: Path) -> dict:
    """The metadata inside an open model file, every field checked, before any weight is read."""
    shape, dtype = z.header("meta")
    if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_META:
        raise CheckpointError(f"{path}: not an nn-tui model (member 'meta' is {dtype} {shape}, not its metadata text)")
    try:
        meta = json.loads(str(z.array("meta")))
    except (json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path}: metadata is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path}: not an nn-tui model (format {found!r:.40})")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version not in META_FIELDS:
        raise CheckpointError(f"{path}: model format version {meta.get('version')!r:.20}, "
                              f"this nn-tui reads version {', '.join(map(str, META_FIELDS))}")
    try:
        check_fields(META_FIELDS[meta["version"]], meta, "")
    except ValueError as e:
        raise CheckpointError(f"{path}: bad metadata: {e}") from None
    try:
        check_fields(SPEC_FIELDS[meta["version"]], meta["spec"], "spec.")
    except ValueError as e:
        raise CheckpointError(f"{path}: bad architecture in metadata: {e}") from None
    meta["spec"] = {k: v for k, v in meta["spec"].items() if k in SPEC_FIELDS[meta["version"]]}
    return meta


def load(path: str | os.PathLike) -> tuple[MLP, dict]:
    """(model, metadata) from a file written by `save`.

    Read from the members' headers first: names, metadata (every field checked) and each weight's
    shape and dtype, so a tampered or oversized file is refused before anything large is loaded.
    """
    path = Path(path)
    with Npz(path, CheckpointError, "an .npz model") as z:
        if "meta" not in z.names:
            raise CheckpointError(f"{path}: not an nn-tui model (no metadata inside; "
                                  f"arrays: {', '.join(z.names[:8]) or 'none'})")
        meta = read_meta(z, path)
        try:
            spec = Spec.from_dict(meta["spec"])
        except (KeyError, TypeError, ValueError) as e:  # SpecError is a ValueError
            raise CheckpointError(f"{path}: bad architecture in metadata ({e})") from None
        shapes = spec.shapes()
        names = [f"p{i}" for i in range(len(shapes))]
        arrays = [n for n in z.names if n != "meta"]
        if sorted(arrays) != sorted(names):
            extra = sorted(set(arrays) - set(names))
            what = f" (unexpected: {', '.join(extra[:3])})" if extra and len(arrays) <= len(names) + 3 else ""
            raise CheckpointError(f"{path}: has {len(arrays)} weight arrays, "
                                  f"a {spec} network needs {len(shapes)}{what}")
        for name, shape in zip(names, shapes):  # checked before any array is loaded
            found, dtype = z.header(name)
            if found != shape or dtype != np.float32:
                raise CheckpointError(f"{path}: array {name} is {dtype} {found}, "
                                      f"the {spec} network needs float32 {shape}")
        weights = [z.array(name) for name in names]
    for name, w in zip(names, weights):
        if not np.isfinite(w).all():
            raise CheckpointError(f"{path}: array {name} holds nan or inf")
    if meta.get("sha256") != weights_digest(weights):
        raise CheckpointError(f"{path}: weights do not match their recorded SHA-256 (file modified or damaged)")
    model = MLP(spec)
    model.set_weights(weights)
    return model, meta
