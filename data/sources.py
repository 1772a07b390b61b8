"""Where digits come from: the bundled MNIST, named downloadable sources, or a user's path."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .dataset import DIGITS, DataError, Dataset, Splits, split_fractions, split_pool
from .readers import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    check_labels,
    decompress,
    pair,
    parse_idx,
    read_bytes,
    read_csv,
    read_idx_dir,
    read_npz,
)

BUNDLED = Path(__file__).parent / "mnist"
PARTS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class Remote:
    """One file of a source: where to get it and the digest its publisher gives.

    `of` says what the digest covers: "file" (the bytes as downloaded) or "content" (decompressed).
    """

    name: str
    urls: tuple[str, ...]
    digest: str
    algorithm: str = "md5"
    of: str = "file"


@dataclass(frozen=True)
class Source:
    """A named dataset: four IDX files, bundled in the package or downloaded to the cache; `classes` names
    each label 0-9 and `noun` says what the images are."""

    name: str
    files: tuple[Remote, ...]
    description: str
    bundled: bool = False
    classes: tuple[str, ...] = DIGITS
    noun: str = "digits"

    def directory(self) -> Path:
        return BUNDLED if self.bundled else cache_dir() / self.name

    def is_present(self) -> bool:
        return all((self.directory() / f.name).is_file() for f in self.files)


def _idx_files(mirrors: tuple[str, ...], digests: tuple[str, ...], **kw) -> tuple[Remote, ...]:
    return tuple(Remote(f"{p}.gz", tuple(m + f"{p}.gz" for m in mirrors), d, **kw) for p, d in zip(PARTS, digests))


SOURCES = {
    # SHA-256 of the decompressed content, from ../shared/datasets/README.md (verified on every load).
    "mnist": Source("mnist", _idx_files(("https://ossci-datasets.s3.amazonaws.com/mnist/",), (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"), algorithm="sha256", of="content"),
        "MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0), bundled", bundled=True),
    # URLs and MD5s of the .gz files as listed in torchvision/datasets/mnist.py (class FashionMNIST).
    "fashion-mnist": Source("fashion-mnist", _idx_files((
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",), (
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
        "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")),
        "Fashion-MNIST clothing images (Zalando Research; MIT licence)",
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"), noun="clothing images"),
    # URLs and MD5s of the .gz files as listed in torchvision/datasets/mnist.py (class KMNIST).
    "kmnist": Source("kmnist", _idx_files(("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",), (
        "bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
        "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134")),
        "Kuzushiji-MNIST cursive Japanese characters (ROIS-DS CODH; CC BY-SA 4.0)",
        # the hiragana of kmnist_classmap.csv (お き す つ な は ま や れ を), romanized: one cell per letter
        classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"), noun="characters"),
}


def cache_dir() -> Path:
    """Where downloaded sources live: $NN_TUI_CACHE_DIR, else the user's cache directory."""
    if os.environ.get("NN_TUI_CACHE_DIR"):
        return Path(os.environ["NN_TUI_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("nn-tui"))


def _digest(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def read_source(source: Source) -> tuple[Dataset, Dataset]:
    """(train, test) of a named source, every file checked against its published digest."""
    directory = source.directory()
    if not source.is_present():
        if source.bundled:  # `nn-tui data download` does nothing for a bundled source
            raise DataError(f"{directory}: the bundled {source.name} files are missing; reinstall nn-tui")
        raise DataError(f"{source.name} is not downloaded yet: run `nn-tui data download {source.name}`")
    content = []
    for remote in source.files:
        path = directory / remote.name
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
        data = decompress(raw, path)
        check_digest(raw if remote.of == "file" else data, remote, path)
        content.append((data, path))
    (ti, tip), (tl, tlp), (vi, vip), (vl, vlp) = content
    train = pair(parse_idx(ti, tip, IMAGES_MAGIC), check_labels(parse_idx(tl, tlp, LABELS_MAGIC), str(tlp)), tip, tlp)
    test = pair(parse_idx(vi, vip, IMAGES_MAGIC), check_labels(parse_idx(vl, vlp, LABELS_MAGIC), str(vlp)), vip, vlp)
    return train, test


def check_digest(data: bytes, remote: Remote, path: Path | str) -> None:
    found = _digest(data, remote.algorithm)
    if found != remote.digest:
        what = "decompressed content" if remote.of == "content" else "file"
        raise DataError(f"{path}: checksum mismatch: {remote.algorithm} of the {what} is {found[:16]}..., "
                        f"expected {remote.digest[:16]}... (damaged or replaced file)")


Progress = Callable[[str, int, "int | None"], None]


def download(source: Source, progress: Progress | None = None, timeout: float = 30.0) -> Path:
    """Fetch every missing file of `source` into the cache; return its directory.

    Each file goes to a temporary file beside its final name, is verified, then renamed:
    a checksum mismatch or a cut connection leaves nothing behind and raises DataError.
    `progress(name, bytes_so_far, total_or_None)` is called as bytes arrive.
    """
    if source.bundled:
        return source.directory()
    directory = source.directory()
    directory.mkdir(parents=True, exist_ok=True)
    for remote in source.files:
        target = directory / remote.name
        if target.is_file():
            continue
        errors = []
        for url in remote.urls:
            try:
                fetch(url, target, remote, progress, timeout)
                break
            except DataError as e:
                errors.append(str(e))
        else:
            raise DataError(errors[-1] if len(errors) == 1 else "; ".join(errors))
    return directory


def fetch(url: str, target: Path, remote: Remote, progress: Progress | None, timeout: float) -> None:
    """Download one URL to `target` atomically, verifying `remote`'s digest."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    hasher, done, total = hashlib.new(remote.algorithm), 0, None
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
                        hasher.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(remote.name, done, total)
            except urllib.error.HTTPError as e:
                raise DataError(f"{url}: HTTP {e.code} {e.reason}") from None
            except (urllib.error.URLError, OSError, ValueError) as e:
                raise DataError(f"{url}: download failed after {done:,} bytes ({getattr(e, 'reason', e)})") from None
            except Exception as e:  # http.client.IncompleteRead and other protocol errors
                raise DataError(f"{url}: connection cut after {done:,} bytes ({type(e).__name__})") from None
        if total is not None and done != total:
            raise DataError(f"{url}: connection cut after {done:,} of {total:,} bytes")
        if remote.of == "content":
            check_digest(read_bytes(Path(tmp)), remote, url)
        elif hasher.hexdigest() != remote.digest:
            check_digest(Path(tmp).read_bytes(), remote, url)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_path(path: Path) -> tuple[Dataset, Dataset | None, str]:
    """(pool, official test set or None, kind) from a file or directory a user points at."""
    if path.is_dir():
        if any(path.glob("train*ubyte*")):
            train, test = read_idx_dir(path)
            return train, test, "idx"
        if (path / "train.csv").is_file():
            return read_csv(path / "train.csv"), None, "csv"
        raise DataError(f"{path}: no MNIST IDX files (train-images-idx3-ubyte...) or train.csv in this directory")
    if not path.exists():
        raise DataError(f"{path}: no such file or directory (and not a source name: {', '.join(SOURCES)})")
    if path.suffix.lower() == ".npz":
        train, test = read_npz(path)
        return train, test, "npz"
    if path.suffix.lower() == ".csv":
        return read_csv(path), None, "csv"
    raise DataError(f"{path}: unknown format; give an MNIST directory, a Kaggle .csv or an .npz")


def load(data: str | os.PathLike = "mnist", dev_size: float = 5000, seed: int = 0, test_size: float = 0.1) -> Splits:
    """Train / dev / test splits of a source name or a path.

    Sources with an official test set keep it and draw `dev_size` digits (a count, or a
    fraction when below 1) from the training images; a single labeled CSV is cut into
    test (`test_size`) and dev, stratified. The same seed always gives the same splits.
    """
    name = str(data)
    if name in SOURCES:
        train, test = read_source(SOURCES[name])
        splits = split_pool(train, test, dev_size, seed, name)
        splits.source = name
        splits.classes, splits.noun = SOURCES[name].classes, SOURCES[name].noun
        return splits
    path = Path(name).expanduser()
    pool, test, kind = read_path(path)
    if pool.labels is None:
        raise DataError(f"{path}: has no label column, so it cannot be used to train or evaluate")
    if test is None:
        splits = split_fractions(pool, dev_size, test_size, seed, path.name)
    else:
        splits = split_pool(pool, test, dev_size, seed, path.name)
    splits.source = str(path.resolve())
    return splits
