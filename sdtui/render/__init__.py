"""Images to terminal cells: half-block rendering with area-averaged downscaling, and a cache.

Pure engine code (Pillow and Rich/Textual ``Strip`` only), safe to call from worker threads.
"""

from sdtui.render.halfblock import (
    HALF_BLOCK,
    CellImage,
    RenderCache,
    fit_cells,
    place_line,
    quantise_level,
    render_cells,
    render_fitted,
)

__all__ = [
    "HALF_BLOCK",
    "CellImage",
    "RenderCache",
    "fit_cells",
    "place_line",
    "quantise_level",
    "render_cells",
    "render_fitted",
]
