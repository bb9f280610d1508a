"""The generation engine shared by the CLI and the TUI: run a job, save its images, queue jobs."""

from sdtui.engine.dispatch import split_batch
from sdtui.engine.generate import (
    GenerationOutcome,
    SavedImage,
    ServerModel,
    generate,
    infotext_from_request,
    save_result,
)
from sdtui.engine.img2img import InputImageError, SourceImage, img2img_request, read_source_image
from sdtui.engine.limits import LIMITS, Limit, LimitError
from sdtui.engine.names import (
    UnknownName,
    match_model,
    match_sampler,
    match_scheduler,
    model_short_name,
    split_checkpoint_title,
)
from sdtui.engine.queue import Job, JobEvent, JobQueue, JobState, Runner
from sdtui.engine.reuse import Reused, fit_to_server, match_reused_model, request_from_infotext
from sdtui.engine.upscale import Upscaled, UpscaleOptions, upscale_files, upscale_sources

__all__ = [
    "LIMITS",
    "GenerationOutcome",
    "InputImageError",
    "Job",
    "JobEvent",
    "JobQueue",
    "JobState",
    "Limit",
    "LimitError",
    "Reused",
    "Runner",
    "SavedImage",
    "ServerModel",
    "SourceImage",
    "UnknownName",
    "UpscaleOptions",
    "Upscaled",
    "fit_to_server",
    "generate",
    "img2img_request",
    "infotext_from_request",
    "match_model",
    "match_reused_model",
    "match_sampler",
    "match_scheduler",
    "model_short_name",
    "read_source_image",
    "request_from_infotext",
    "save_result",
    "split_batch",
    "split_checkpoint_title",
    "upscale_files",
    "upscale_sources",
]
