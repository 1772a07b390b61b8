"""MNIST-style normalisation of one grey digit: crop, scale the longer side to 20 px, centre by mass.

MNIST's digits were size-normalised to fit a 20x20 box (aspect kept, anti-aliased) and then
moved in a 28x28 field so that their centre of mass falls on the middle. Measured on the
10,000 test digits: the longer side of the bounding box is 20 px for 9,997 of them and every
centre of mass lies within half a pixel of (14, 14), i.e. MNIST shifted by whole pixels to put
it at (14, 14). `to_mnist` does the same, so an MNIST digit comes back unchanged.
"""
from __future__ import annotations

import numpy as np

from .dataset import SIDE

BOX = 20  # the longer side of the digit after scaling
CENTRE = 14.0  # where the centre of mass goes, in pixel indices (row, column)


def bounding_box(image: np.ndarray, threshold: float = 0.0) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), end-exclusive, of the pixels above `threshold`; None when there are none."""
    ink = np.asarray(image) > threshold
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel position; the middle when the image is blank."""
    img = np.asarray(image, np.float64)
    total = img.sum()
    if total <= 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    return (float(img.sum(axis=1) @ np.arange(img.shape[0]) / total),
            float(img.sum(axis=0) @ np.arange(img.shape[1]) / total))


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float64 weights that resize a line of n_in pixels to n_out.

    Shrinking averages the area each output pixel covers (anti-aliasing); enlarging
    interpolates linearly between pixel centres; the same size is the identity.
    """
    if n_in == n_out:
        return np.eye(n_in)
    m = np.zeros((n_out, n_in))
    if n_out < n_in:
        scale = n_in / n_out  # each output pixel covers [j * scale, (j + 1) * scale) of the input
        edges = np.arange(n_out + 1) * scale
        for j in range(n_out):
            lo, hi = edges[j], edges[j + 1]
            for i in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                m[j, i] = min(hi, i + 1) - max(lo, i)
        return m / scale
    # enlarging: output centre j maps to input position (j + 0.5) * n_in / n_out - 0.5
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    m[np.arange(n_out), lo] += 1 - frac
    m[np.arange(n_out), hi] += frac
    return m


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`image` (h, w) resized to `shape` as float64 (area averaging down, bilinear up; separable)."""
    img = np.asarray(image, np.float64)
    return resample_matrix(img.shape[0], shape[0]) @ img @ resample_matrix(img.shape[1], shape[1]).T


def to_mnist(image: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """A white-on-black grey digit (h, w), values 0-255, as MNIST would have it: uint8 (28, 28).

    Crops to the pixels above `threshold`, scales the longer side to 20 px (aspect kept), then
    places it in 28x28 with its centre of mass on (14, 14), rounded to whole pixels and kept
    inside the field. A blank image gives a blank digit.
    """
    img = np.asarray(image, np.float64)
    if img.ndim != 2:
        raise ValueError(f"expected a grey image (h, w), got shape {img.shape}")
    out = np.zeros((SIDE, SIDE), np.uint8)
    box = bounding_box(img, threshold)
    if box is None:
        return out
    top, bottom, left, right = box
    crop = img[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)
    shape = (max(1, min(BOX, round(h * scale))), max(1, min(BOX, round(w * scale))))
    digit = resize(crop, shape) if shape != crop.shape else crop
    digit = np.clip(np.rint(digit), 0, 255).astype(np.uint8)
    cr, cc = centre_of_mass(digit)
    r0 = int(np.clip(np.round(CENTRE - cr), 0, SIDE - shape[0]))
    c0 = int(np.clip(np.round(CENTRE - cc), 0, SIDE - shape[1]))
    out[r0:r0 + shape[0], c0:c0 + shape[1]] = digit
    return out
