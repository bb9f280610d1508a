"""The generation engine shared by the CLI and the TUI: run a job, save its images, queue jobs."""

from sdtui.engine.generate import (
    GenerationOutcome,
    SavedImage,
    ServerModel,
    generate,
    infotext_from_request,
    save_result,
)
from sdtui.engine.queue import Job, JobEvent, JobQueue, JobState, Runner

__all__ = [
    "GenerationOutcome",
    "Job",
    "JobEvent",
    "JobQueue",
    "JobState",
    "Runner",
    "SavedImage",
    "ServerModel",
    "generate",
    "infotext_from_request",
    "save_result",
]
