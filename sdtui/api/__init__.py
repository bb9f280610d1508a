"""Async client for the Stable Diffusion web UI HTTP API. Imports httpx, never Textual."""

from typing import TYPE_CHECKING, Any

from sdtui.api.errors import ApiError, ErrorKind, is_unsupported
from sdtui.api.types import (
    Embedding,
    ExtrasRequest,
    ExtrasResult,
    GenerationRequest,
    GenerationResult,
    Img2ImgRequest,
    Lora,
    PngInfo,
    ProgressUpdate,
    PromptStyle,
    Sampler,
    Scheduler,
    SdModel,
    SdVae,
    TaskProgress,
    Upscaler,
)
from sdtui.api.urls import split_credentials

if TYPE_CHECKING:
    from sdtui.api.client import SDClient


def __getattr__(name: str) -> Any:
    """`SDClient` loads httpx: only on first use, so the TUI can paint before paying for it."""
    if name == "SDClient":
        from sdtui.api.client import SDClient

        return SDClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ApiError",
    "Embedding",
    "ErrorKind",
    "ExtrasRequest",
    "ExtrasResult",
    "GenerationRequest",
    "GenerationResult",
    "Img2ImgRequest",
    "Lora",
    "PngInfo",
    "ProgressUpdate",
    "PromptStyle",
    "SDClient",
    "Sampler",
    "Scheduler",
    "SdModel",
    "SdVae",
    "TaskProgress",
    "Upscaler",
    "is_unsupported",
    "split_credentials",
]
