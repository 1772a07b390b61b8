"""Where digits come from: the bundled MNIST, named downloadable sources, or a user's path."""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .dataset import DIGITS, DataError, Dataset, Splits, split_fractions, split_pool
from .files import CHUNK, Content, one_line, open_regular, umask
from .readers import IMAGES_MAGIC, LABELS_MAGIC, check_labels, pair, read_csv, read_idx, read_idx_dir, read_npz

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

    def next_step(self) -> str:
        """What to do when the files are missing (one sentence, shared by the command line and the app)."""
        files = ", ".join(f.name for f in self.files)
        return (f"Next: when online, run `nn-tui data download {self.name}`; offline, copy {files} into "
                f"{self.directory()}")


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


def file_digest(path: Path, remote: Remote) -> str:
    """The digest `remote` publishes, computed on the file (or its inflated content), streamed."""
    hasher = hashlib.new(remote.algorithm)
    if remote.of == "content":
        with Content(path) as f:
            return f.digest(hasher)
    with open_regular(path) as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def read_source(source: Source) -> tuple[Dataset, Dataset]:
    """(train, test) of a named source, every file checked against its published digest."""
    directory = source.directory()
    if not source.is_present():
        if source.bundled:  # `nn-tui data download` does nothing for a bundled source
            raise DataError(f"{directory}: the bundled {source.name} files are missing; reinstall nn-tui")
        raise DataError(f"{source.name} is not downloaded yet. {source.next_step()}")
    arrays = []
    for remote, magic in zip(source.files, (IMAGES_MAGIC, LABELS_MAGIC) * 2):
        path = directory / remote.name
        if remote.of == "content":  # one pass: the digest of what was read
            hasher = hashlib.new(remote.algorithm)
            arrays.append(read_idx(path, magic, hasher))
            check_digest(hasher.hexdigest(), remote, path, source)
        else:
            check_digest(file_digest(path, remote), remote, path, source)
            arrays.append(read_idx(path, magic))
    paths = [directory / r.name for r in source.files]
    train = pair(arrays[0], check_labels(arrays[1], str(paths[1])), paths[0], paths[1])
    test = pair(arrays[2], check_labels(arrays[3], str(paths[3])), paths[2], paths[3])
    return train, test


def check_digest(found: str, remote: Remote, path: Path | str, source: Source | None = None) -> None:
    if found != remote.digest:
        what = "decompressed content" if remote.of == "content" else "file"
        repair = f"; `nn-tui data download {source.name}` fetches it again" if source and not source.bundled else ""
        raise DataError(f"{path}: checksum mismatch: {remote.algorithm} of the {what} is {found[:16]}..., "
                        f"expected {remote.digest[:16]}... (damaged or replaced file{repair})")


Progress = Callable[[str, int, "int | None"], None]


def download(source: Source, progress: Progress | None = None, timeout: float = 30.0, deadline: float = 1800.0,
             notice: Callable[[str], None] | None = None) -> Path:
    """Fetch every missing or damaged file of `source` into the cache; return its directory.

    Each file goes to a temporary file beside its final name, is verified, then renamed:
    a checksum mismatch or a cut connection leaves nothing behind and raises DataError.
    A file already there is verified first; a damaged one is named through `notice(text)` and
    fetched again. `progress(name, bytes_so_far, total_or_None)` is called as bytes arrive;
    `timeout` bounds each wait for the server, `deadline` (seconds) the whole download.
    """
    if source.bundled:
        return source.directory()
    directory = source.directory()
    created = [p for p in (directory, *directory.parents) if not p.exists()]  # deepest first
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{directory}: cannot create the cache directory: {e.strerror or e}") from None
    until = time.monotonic() + deadline
    try:
        for remote in source.files:
            target = directory / remote.name
            if os.path.lexists(target):
                try:
                    found = file_digest(target, remote)
                except DataError as e:
                    found = None
                    problem = str(e)
                else:
                    problem = f"{target}: checksum mismatch ({remote.algorithm} {found[:16]}...)"
                if found == remote.digest:
                    continue
                if notice:
                    notice(f"{problem}; fetching it again")
            errors = []
            for url in remote.urls:
                try:
                    fetch(url, target, remote, progress, timeout, until)
                    break
                except DataError as e:
                    errors.append(str(e))
            else:
                raise DataError(errors[-1] if len(errors) == 1 else "; ".join(errors))
    finally:
        for folder in created:  # a failed first download leaves no empty folder behind, the cache's own included
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return directory


def fetch(url: str, target: Path, remote: Remote, progress: Progress | None, timeout: float,
          until: float | None = None) -> None:
    """Download one URL to `target` atomically, verifying `remote`'s digest before `until` (time.monotonic)."""
    until = until if until is not None else time.monotonic() + 1800.0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.fchmod(fd, 0o666 & ~umask())
    hasher, done, total = hashlib.new(remote.algorithm), 0, None
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                wait = max(0.001, min(timeout, until - time.monotonic()))
                with urllib.request.urlopen(url, timeout=wait) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    while chunk := response.read1(1 << 16):
                        out.write(chunk)
                        hasher.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(remote.name, done, total)
                        if time.monotonic() > until:
                            raise DataError(f"{url}: download took longer than its deadline "
                                            f"({done:,} bytes received); try again later")
            except DataError:
                raise
            except urllib.error.HTTPError as e:
                if 300 <= e.code < 400:
                    raise DataError(f"{url}: redirect loop (HTTP {e.code}, redirected too many times)") from None
                raise DataError(f"{url}: HTTP {e.code} {one_line(e.reason)}") from None
            except (urllib.error.URLError, OSError, ValueError) as e:
                reason = getattr(e, "reason", e)
                raise DataError(f"{url}: download failed after {done:,} bytes ({one_line(reason)})") from None
            except Exception as e:  # http.client.IncompleteRead and other protocol errors
                raise DataError(f"{url}: connection cut after {done:,} bytes ({type(e).__name__})") from None
        if total is not None and done != total:
            raise DataError(f"{url}: connection cut after {done:,} of {total:,} bytes")
        found = file_digest(Path(tmp), remote) if remote.of == "content" else hasher.hexdigest()
        check_digest(found, remote, url)
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


def input_files(path: Path) -> list[Path]:
    """The files `read_path` may read for `path` (a directory's IDX files and train.csv), for the cache's key."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and ("ubyte" in p.name or p.name == "train.csv"))
    return [path] if path.is_file() else []


def cached(kind: str, files: list[Path], build):
    """`build()` -> (pool, test or None, kind), through the cache of decoded arrays when there are files to key it.

    A verified source or a parsed file is decoded once; later loads read the arrays back after checking that
    the files are the same ones (size, mtime, CRC-32) and the arrays intact (their own CRC-32s).
    """
    if not files or os.environ.get("NN_TUI_NO_CACHE"):
        return build()
    from . import cache

    return cache.datasets(cache_dir(), kind, files, build)


def load(data: str | os.PathLike = "mnist", dev_size: float = 5000, seed: int = 0, test_size: float = 0.1) -> Splits:
    """Train / dev / test splits of a source name or a path.

    Sources with an official test set keep it and draw `dev_size` digits (a count, or a
    fraction when below 1) from the training images; a single labeled CSV is cut into
    test (`test_size`) and dev, stratified. The same seed always gives the same splits.
    """
    name = str(data)
    if name in SOURCES:
        source = SOURCES[name]
        files = [source.directory() / f.name for f in source.files] if source.is_present() else []
        train, test, _ = cached(f"source-{name}", files, lambda: (*read_source(source), "idx"))
        splits = split_pool(check_size(train, name, "training"), check_size(test, name, "test"), dev_size, seed, name)
        splits.source = name
        splits.classes, splits.noun = SOURCES[name].classes, SOURCES[name].noun
        return splits
    path = Path(name).expanduser()
    pool, test, kind = cached("path", input_files(path), lambda: read_path(path))
    if pool.labels is None:
        raise DataError(f"{path}: has no label column, so it cannot be used to train or evaluate")
    check_size(pool, path, "training")
    if test is None:
        splits = split_fractions(pool, dev_size, test_size, seed, path.name)
    else:
        splits = split_pool(pool, check_size(test, path, "test"), dev_size, seed, path.name)
    splits.source = str(path.resolve())
    known = known_source(path)
    if known is not None:  # a copy of a named source: its class names, whatever the folder is called
        splits.classes, splits.noun = known.classes, known.noun
    return splits


def known_source(path: Path) -> Source | None:
    """The named source with its own class names that the folder `path` is a copy of, going by its name:
    `fashion-mnist`, `fashion_mnist`, `FashionMNIST` (and torchvision's `FashionMNIST/raw`), `kmnist`.
    Copies are often recompressed (Debian's dataset-fashion-mnist is), so the files' digests cannot tell."""
    def plain(name: str) -> str:
        return name.lower().replace("-", "").replace("_", "").replace(" ", "")

    names = [path.name, path.parent.name] if path.name.lower() == "raw" else [path.name]
    if not path.is_dir():
        return None
    for source in SOURCES.values():
        if source.classes != DIGITS and plain(source.name) in map(plain, names):
            return source
    return None


def check_size(dataset: Dataset, where, part: str) -> Dataset:
    """`dataset`, or DataError when it holds no digits (an empty split gives no accuracy, only NaN)."""
    if len(dataset) == 0:
        raise DataError(f"{where}: the {part} set is empty (0 digits)")
    return dataset
