"""Image bytes: PNG chunks, infotext, format conversion and decode limits (Pillow only)."""

from sdtui.images.convert import (
    MAX_IMAGE_PIXELS,
    PARAMETERS_KEY,
    check_decodable,
    decode_base64_image,
    decode_user_comment,
    encode_exif_user_comment,
    image_format,
    image_size,
    read_parameters,
    to_png_with_parameters,
)
from sdtui.images.infotext import (
    INFOTEXT_KEY_ORDER,
    Infotext,
    build_infotext,
    format_infotext_value,
    parse_infotext,
)
from sdtui.images.png import (
    PNG_SIGNATURE,
    Chunk,
    ImageDataError,
    iter_chunks,
    make_chunk,
    png_size,
    read_chunks,
    read_text_chunks,
    set_text_chunk,
)

__all__ = [
    "INFOTEXT_KEY_ORDER",
    "MAX_IMAGE_PIXELS",
    "PARAMETERS_KEY",
    "PNG_SIGNATURE",
    "Chunk",
    "ImageDataError",
    "Infotext",
    "build_infotext",
    "check_decodable",
    "decode_base64_image",
    "decode_user_comment",
    "encode_exif_user_comment",
    "format_infotext_value",
    "image_format",
    "image_size",
    "iter_chunks",
    "make_chunk",
    "parse_infotext",
    "png_size",
    "read_chunks",
    "read_parameters",
    "read_text_chunks",
    "set_text_chunk",
    "to_png_with_parameters",
]
