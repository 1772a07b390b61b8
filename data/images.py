"""One digit from an image file: PGM (P2, P5; no dependency) or PNG (with Pillow, the `image` extra).

`load_digit` reads the file, makes it white on black like MNIST (inverting a dark digit on a
light background), lifts the background to zero, and normalises it with preprocess.to_mnist.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset import DataError
from .files import one_line, open_regular
from .preprocess import to_mnist

MAX_SIDE = 8192  # refuse absurd sizes before allocating
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PILLOW_HINT = "pip install 'nn-tui[image]'"


def _pgm_header(content: bytes, path: Path) -> tuple[str, int, int, int, int]:
    """(magic, width, height, maxval, offset of the raster) of a PGM, every field checked."""
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        m = re.compile(rb"\s*(?:#[^\n\r]*[\n\r]\s*)*").match(content, pos)  # whitespace and comments
        pos = m.end()
        m = re.compile(rb"[^\s#]+").match(content, pos)
        if m is None:
            raise DataError(f"{path}: truncated PGM header")
        tokens.append(m.group())
        pos = m.end()
    magic = tokens[0].decode("ascii", "replace")
    try:
        width, height, maxval = (int(t) for t in tokens[1:])
    except ValueError:
        raise DataError(f"{path}: PGM header fields must be whole numbers, got "
                        f"{b' '.join(tokens[1:]).decode('ascii', 'replace')!r}") from None
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise DataError(f"{path}: PGM size {width}x{height} is outside 1..{MAX_SIDE}")
    if maxval > 255:
        raise DataError(f"{path}: 16-bit PGM (maxval {maxval}); nn-tui reads 8-bit PGM (maxval 1-255)")
    if maxval < 1:
        raise DataError(f"{path}: PGM maxval {maxval} must be 1-255")
    if pos >= len(content) or not content[pos:pos + 1].isspace():
        raise DataError(f"{path}: truncated PGM header")
    return magic, width, height, maxval, pos + 1  # exactly one whitespace byte before the raster


def read_pgm(path: str | Path) -> np.ndarray:
    """An 8-bit PGM (binary P5 or plain P2) as uint8 (h, w), scaled to 0-255 when maxval < 255."""
    path = Path(path)
    with open_regular(path) as f:
        content = f.read()
    kind = content[:2]
    if kind not in (b"P2", b"P5"):
        if kind in (b"P1", b"P3", b"P4", b"P6", b"P7"):
            raise DataError(f"{path}: a {kind.decode()} Netpbm file; nn-tui reads grey PGM only (P2 or P5)")
        raise DataError(f"{path}: not a PGM file (it starts {content[:8]!r})")
    _, width, height, maxval, offset = _pgm_header(content, path)
    n = width * height
    if kind == b"P5":
        if len(content) - offset < n:
            raise DataError(f"{path}: truncated: {width}x{height} needs {n:,} bytes of pixels, "
                            f"the file has {len(content) - offset:,}")
        pixels = np.frombuffer(content, np.uint8, n, offset).astype(np.int64)
    else:
        tokens = re.sub(rb"#[^\n\r]*", b" ", content[offset:]).split()
        bad = next((t for t in tokens if not t.isdigit() or len(t.lstrip(b"0")) > 3), None)  # 3 digits hold 0-255
        if bad is not None:
            text = bad[:20].decode("ascii", "replace")
            if bad[:1] == b"-" and bad[1:].isdigit():
                raise DataError(f"{path}: plain PGM pixel {text} is negative (pixels are 0-{maxval})")
            if bad.isdigit():
                raise DataError(f"{path}: plain PGM pixel {text}{'...' * (len(bad) > 20)} is above maxval {maxval}")
            raise DataError(f"{path}: plain PGM pixels must be whole numbers, got {text!r}")
        pixels = np.array([int(t) for t in tokens], np.int64)
        if len(pixels) != n:
            raise DataError(f"{path}: {width}x{height} needs {n:,} pixel values, the file has {len(pixels):,}")
    if pixels.max(initial=0) > maxval:
        raise DataError(f"{path}: pixel value {int(pixels.max())} is above maxval {maxval}")
    if maxval != 255:
        pixels = (pixels * 255 + maxval // 2) // maxval
    return pixels.astype(np.uint8).reshape(height, width)


def read_png(path: str | Path) -> np.ndarray:
    """A PNG as grey uint8 (h, w) through Pillow; transparency is laid over the background it implies."""
    path = Path(path)
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DataError(f"{path}: reading PNG needs Pillow: {PILLOW_HINT}") from None
    with open_regular(path) as f:
        try:
            with warnings.catch_warnings():  # Pillow's DecompressionBombWarning: the size is refused below instead
                warnings.simplefilter("ignore")
                im = Image.open(f)
            with im:
                if im.width > MAX_SIDE or im.height > MAX_SIDE:  # from the header, before a pixel is decoded
                    raise DataError(f"{path}: image size {im.width}x{im.height} is above {MAX_SIDE}x{MAX_SIDE}")
                im.load()
                la = np.asarray(im.convert("LA"), np.float64)
        except DataError:
            raise
        except Image.DecompressionBombError:
            raise DataError(f"{path}: image size is above {MAX_SIDE}x{MAX_SIDE} (a decompression bomb?)") from None
        except (OSError, UnidentifiedImageError, ValueError) as e:
            raise DataError(f"{path}: cannot read PNG: {one_line(e)}") from None
    grey, alpha = la[..., 0], la[..., 1] / 255
    if alpha.min() < 1:
        # strokes drawn on a transparent sheet: lay them on the opposite of their own colour
        ink = (grey * alpha).sum() / max(alpha.sum(), 1e-9)
        sheet = 255.0 if ink < 128 else 0.0
        grey = grey * alpha + sheet * (1 - alpha)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def read_image(path: str | Path) -> np.ndarray:
    """Grey uint8 (h, w) from a PGM or PNG file, recognised by its first bytes."""
    path = Path(path)
    with open_regular(path) as f:
        head = f.read(8)
    if head.startswith(PNG_MAGIC):
        return read_png(path)
    if head[:1] == b"P" and head[1:2].isdigit():
        return read_pgm(path)
    raise DataError(f"{path}: not a PGM or PNG image")


@dataclass
class Digit:
    """A digit read from a file: as the network sees it, as the file had it, and what was done to it."""

    image: np.ndarray  # (28, 28) uint8, white on black, MNIST-normalised
    original: np.ndarray  # (h, w) uint8 as read
    inverted: bool
    notes: list[str] = field(default_factory=list)

    @property
    def x(self) -> np.ndarray:
        """(1, 784) float32 in [0, 1], ready for a model."""
        return np.multiply(self.image.reshape(1, -1), np.float32(1 / 255), dtype=np.float32)


def white_on_black(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """(image as float64 0-255 with the background at 0 and the strokes bright, whether it was inverted).

    The background is the commonest tone: the median of the border pixels. A light background
    means a dark digit, which is inverted. The background level is then subtracted and the
    contrast stretched so the strongest stroke is 255.
    """
    img = np.asarray(grey, np.float64)
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    inverted = bool(np.median(border) > 127.5)
    if inverted:
        img = 255 - img
    img = np.clip(img - np.median(np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])), 0, None)
    top = img.max()
    return (img * (255 / top) if top > 0 else img), inverted


def load_digit(path: str | Path, threshold: float = 0.1) -> Digit:
    """Read an image file and prepare it like an MNIST digit.

    `threshold` (a share of the brightest stroke) drops faint background specks before the crop.
    """
    path = Path(path)
    original = read_image(path)
    img, inverted = white_on_black(original)
    if img.max() <= 0:
        raise DataError(f"{path}: the image is blank (one tone everywhere): no digit to read")
    img[img <= threshold * 255] = 0
    notes = ["inverted: a dark digit on a light background (MNIST digits are white on black)"] if inverted else []
    return Digit(to_mnist(img), original, inverted, notes)
