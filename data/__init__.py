"""Where digits come from: readers, splits, the bundled MNIST and downloadable sources (NumPy only)."""
from .dataset import CLASSES, DIGITS, PIXELS, SIDE, Dataset, Splits, split_fractions, split_pool
from .errors import DataError, UserError
from .readers import read_csv, read_idx_dir, read_idx_images, read_idx_labels, read_npz
from .sources import SOURCES, Source, cache_dir, download, load, read_source

__all__ = [
    "CLASSES", "DIGITS", "PIXELS", "SIDE", "DataError", "UserError", "Dataset", "Splits", "split_fractions",
    "split_pool",
    "read_csv", "read_idx_dir", "read_idx_images", "read_idx_labels", "read_npz",
    "SOURCES", "Source", "cache_dir", "download", "load", "read_source",
]
