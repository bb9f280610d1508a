"""Saved images and their history. Imports `sdtui.images`, never Textual."""

from sdtui.store.files import SaveError, atomic_write_unique, slugify
from sdtui.store.history import HistoryEntry, ImageStore, UnreadableImage, read_png_header

__all__ = [
    "HistoryEntry",
    "ImageStore",
    "SaveError",
    "UnreadableImage",
    "atomic_write_unique",
    "read_png_header",
    "slugify",
]
