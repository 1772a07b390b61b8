"""Digits and small charts as rich Text: half-block cells in colour, an ASCII ramp without."""
from __future__ import annotations

import numpy as np
from rich.text import Text

RAMP = " .:-=+*#%@"


def grey_styles():
    return [f"rgb({v},{v},{v})" for v in range(256)]


_GREY = grey_styles()


def digit_text(image: np.ndarray, color: bool = True, scale: int = 1) -> Text:
    """A (28, 28) uint8 image as 14 lines of 28 half-block cells (or an ASCII ramp without colour).

    `scale` 2 halves the resolution (a 14x7 thumbnail); values are 0 (black) to 255 (white).
    """
    img = np.asarray(image, dtype=np.float32)
    if scale > 1:
        h, w = img.shape[0] // scale, img.shape[1] // scale
        img = img[: h * scale, : w * scale].reshape(h, scale, w, scale).mean(axis=(1, 3))
    if img.shape[0] % 2:
        img = np.vstack([img, np.zeros((1, img.shape[1]), img.dtype)])
    img = np.clip(img, 0, 255).astype(np.uint8)
    text = Text(no_wrap=True, overflow="crop")
    for top, bottom in zip(img[0::2], img[1::2]):
        if color:
            for t, b in zip(top, bottom):
                text.append("▀", style=f"{_GREY[t]} on {_GREY[b]}")
        else:
            mean = (top.astype(np.int32) + bottom) // 2
            text.append("".join(RAMP[v * len(RAMP) // 256] for v in mean))
        text.append("\n")
    text.right_crop(1)  # the last newline only: blank rows are part of the picture
    return text


def digits_row(images, captions, color: bool = True, scale: int = 1, gap: int = 2) -> Text:
    """Several digits side by side, each with a caption line under it."""
    blocks = [digit_text(im, color, scale).split("\n") for im in images]
    width = max(len(line) for block in blocks for line in block)
    out = Text(no_wrap=True, overflow="crop")
    for row in range(len(blocks[0])):
        for i, block in enumerate(blocks):
            out.append_text(block[row])
            out.append(" " * (width - len(block[row]) + (gap if i < len(blocks) - 1 else 0)))
        out.append("\n")
    for i, caption in enumerate(captions):
        cap = caption if isinstance(caption, Text) else Text(str(caption))
        cap.truncate(width)
        out.append_text(cap)
        out.append(" " * (width - cap.cell_len + (gap if i < len(captions) - 1 else 0)))
    return out


def bar(value: float, width: int = 20) -> str:
    """A horizontal bar of `width` cells for a value in [0, 1], with eighth-block precision."""
    cells = max(0.0, min(1.0, value)) * width
    full = int(cells)
    rest = "▏▎▍▌▋▊▉"[int((cells - full) * 7) - 1] if cells - full >= 1 / 7 else ""
    return ("█" * full + rest).ljust(width)


def proba_text(proba: np.ndarray, width: int = 12, color: bool = True, mark: int | None = None) -> Text:
    """Ten lines `d ████▌   97.3%`, one per class; the likeliest (or `mark`) in bold."""
    best = int(np.argmax(proba)) if mark is None else mark
    text = Text(no_wrap=True, overflow="crop")
    for c, p in enumerate(proba):
        style = "bold green" if c == best and color else "bold" if c == best else ""
        text.append(f"{c} ", style="bold" if c == best else "")
        text.append(bar(float(p), width), style=style or ("cyan" if color else ""))
        text.append(f" {100 * float(p):5.1f}%\n", style=style)
    text.rstrip()
    return text


def _signed_style(v: float) -> str:
    """A colour for v in [-1, 1]: blue for positive, orange-red for negative, black for zero."""
    a = min(abs(v), 1.0) ** 0.7  # lift the faint weights a little so the shape shows
    if v >= 0:
        return f"rgb({int(40 * a)},{int(150 * a)},{int(255 * a)})"
    return f"rgb({int(255 * a)},{int(90 * a)},{int(30 * a)})"


SIGNED_RAMP = "=-. +*#"  # strong negative ... zero ... strong positive, without colour


def signed_text(image: np.ndarray, color: bool = True) -> Text:
    """A (h, w) float image of signed values (weights) as half-block cells, scaled by its largest |value|."""
    img = np.asarray(image, np.float64)
    scale = float(np.abs(img).max()) or 1.0
    img = img / scale
    if img.shape[0] % 2:
        img = np.vstack([img, np.zeros((1, img.shape[1]))])
    text = Text(no_wrap=True, overflow="crop")
    mid = len(SIGNED_RAMP) // 2
    for top, bottom in zip(img[0::2], img[1::2]):
        if color:
            for t, b in zip(top, bottom):
                text.append("▀", style=f"{_signed_style(t)} on {_signed_style(b)}")
        else:
            mean = (top + bottom) / 2
            text.append("".join(SIGNED_RAMP[mid + int(np.clip(np.rint(v * mid), -mid, mid))] for v in mean))
        text.append("\n")
    text.right_crop(1)  # the last newline only: blank rows are part of the picture
    return text
