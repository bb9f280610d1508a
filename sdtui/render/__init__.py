"""Images to terminal cells: half-block rendering with area-averaged downscaling, and a cache.

Pure engine code (Pillow and Rich/Textual ``Strip`` only), safe to call from worker threads.
"""

from sdtui.render.halfblock import (
    HALF_BLOCK,
    CellImage,
    PixelFilter,
    RenderCache,
    fit_cells,
    is_pixel_style,
    place_line,
    quantise_level,
    render_cells,
    render_fitted,
    warm_escape_codes,
    with_pixel_filter,
)

__all__ = [
    "HALF_BLOCK",
    "CellImage",
    "PixelFilter",
    "RenderCache",
    "fit_cells",
    "is_pixel_style",
    "place_line",
    "quantise_level",
    "render_cells",
    "render_fitted",
    "warm_escape_codes",
    "with_pixel_filter",
]
