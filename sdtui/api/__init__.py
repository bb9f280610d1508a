"""Async client for the Stable Diffusion web UI HTTP API. Imports httpx, never Textual."""

from sdtui.api.client import SDClient, split_credentials
from sdtui.api.errors import ApiError, ErrorKind
from sdtui.api.types import (
    GenerationRequest,
    GenerationResult,
    Lora,
    PngInfo,
    ProgressUpdate,
    PromptStyle,
    Sampler,
    Scheduler,
    SdModel,
    Upscaler,
)

__all__ = [
    "ApiError",
    "ErrorKind",
    "GenerationRequest",
    "GenerationResult",
    "Lora",
    "PngInfo",
    "ProgressUpdate",
    "PromptStyle",
    "SDClient",
    "Sampler",
    "Scheduler",
    "SdModel",
    "Upscaler",
    "split_credentials",
]
