"""The generation engine shared by the CLI and the TUI: run a job, save its images, queue jobs."""

from sdtui.engine.generate import (
    GenerationOutcome,
    SavedImage,
    ServerModel,
    generate,
    infotext_from_request,
    save_result,
)
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
from sdtui.engine.reuse import Reused, match_reused_model, request_from_infotext

__all__ = [
    "LIMITS",
    "GenerationOutcome",
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
    "UnknownName",
    "generate",
    "infotext_from_request",
    "match_model",
    "match_reused_model",
    "match_sampler",
    "match_scheduler",
    "model_short_name",
    "request_from_infotext",
    "save_result",
    "split_checkpoint_title",
]
