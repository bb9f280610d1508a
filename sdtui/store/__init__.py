"""Saved images and their history. Imports `sdtui.images`, never Textual."""

from sdtui.store.files import SaveError, atomic_write_unique, slugify
from sdtui.store.history import HistoryEntry, ImageStore, UnreadableImage, read_png_header
from sdtui.store.index import HistoryIndex, HistoryQuery, IndexedImage, IndexRow, ScanResult
from sdtui.store.metadata import ImageMetadata, read_image_metadata

__all__ = [
    "HistoryEntry",
    "HistoryIndex",
    "HistoryQuery",
    "ImageMetadata",
    "ImageStore",
    "IndexRow",
    "IndexedImage",
    "SaveError",
    "ScanResult",
    "UnreadableImage",
    "atomic_write_unique",
    "read_image_metadata",
    "read_png_header",
    "slugify",
]
