"""Images to terminal cells: half-block rendering with area-averaged downscaling, and a cache.

Cells are built for the terminal's colours: 24-bit, or dithered to 256 or 16 palette colours.

Pure engine code (Pillow and Rich/Textual ``Strip`` only), safe to call from worker threads.
"""

from sdtui.render.halfblock import (
    COLOR_MODES,
    HALF_BLOCK,
    CellImage,
    ColorMode,
    PixelFilter,
    RenderCache,
    color_mode,
    fit_cells,
    is_pixel_style,
    place_line,
    quantise_level,
    render_cells,
    render_fitted,
    warm_escape_codes,
    with_pixel_filter,
)
from sdtui.render.truecolor import truecolor_hint

__all__ = [
    "COLOR_MODES",
    "HALF_BLOCK",
    "CellImage",
    "ColorMode",
    "PixelFilter",
    "RenderCache",
    "color_mode",
    "fit_cells",
    "is_pixel_style",
    "place_line",
    "quantise_level",
    "render_cells",
    "render_fitted",
    "truecolor_hint",
    "warm_escape_codes",
    "with_pixel_filter",
]
