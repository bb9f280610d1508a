"""History thumbnails: a few area-averaged pixels per image, read with the decoder's draft mode.

A thumbnail is kept as pixels (a few hundred bytes), not cells: the history turns it into cells
only for the rows on screen.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from sdtui.render.halfblock import fit_cells

THUMB_COLS = 6
THUMB_ROWS = 3


def make_thumbnail(
    path: Path, cols: int = THUMB_COLS, rows: int = THUMB_ROWS
) -> Image.Image | None:
    """`cols` x `2 * rows` pixels at most (aspect kept), or None for a file that cannot be read."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (cols * 8, rows * 16))  # JPEG: decode at a fraction of the size
            fit_cols, fit_rows = fit_cells(image.width, image.height, cols, rows)
            return image.convert("RGB").resize((fit_cols, fit_rows * 2), Image.Resampling.BOX)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
