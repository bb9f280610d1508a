"""Typed messages between the TUI's parts: posted up by widgets, routed by the main screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sdtui.api import GenerationRequest
from sdtui.engine import JobEvent
from sdtui.engine.server import ServerFacts
from sdtui.store import HistoryEntry


@dataclass
class JobMessage(Message):
    """A queue event (queued, started, progress, finished, cancelled), on the UI thread."""

    event: JobEvent


@dataclass
class ServerConnected(Message):
    """The server answered with its lists (at start-up, and after each reconnection)."""

    facts: ServerFacts


@dataclass
class ServerOffline(Message):
    """The server cannot be reached: `reason` says why and what to do."""

    reason: str


@dataclass
class ModelLoaded(Message):
    """The server loaded another checkpoint (or refused to: then `title` is the one kept)."""

    title: str | None


@dataclass
class ShowEntry(Message):
    """Show a history entry in the preview (full view too when `full`). `png`: the file's
    bytes, read in a thread by the sender, so that the preview does not read them."""

    entry: HistoryEntry
    full: bool = False
    png: bytes | None = None


@dataclass
class ReuseParameters(Message):
    """Load an image's parameters into the form; with `rerun`, generate from them at once."""

    infotext: str
    rerun: bool = False


class LeaveHistory(Message):
    """Escape in the history, with no search to clear: back to the prompt."""


@dataclass
class FullView(Message):
    """The preview asks for the full-screen view of its batch."""

    index: int


@dataclass
class HistoryReady(Message):
    """The history has read the whole output folder; `newest` is its newest entry, if any."""

    newest: HistoryEntry | None


@dataclass
class InfotextPasted(Message):
    """A whole infotext was pasted into a prompt editor: fill the form from it instead."""

    text: str


@dataclass
class JobSelected(Message):
    """The queue panel's highlight moved: the preview follows this job (None: the newest)."""

    job_id: int | None


@dataclass
class QueueChanged(Message):
    """The queue's shape changed: order, pause, or a server's state or running job."""


@dataclass
class EditJob(Message):
    """A pending job was taken out of the queue to be edited: its request goes into the form."""

    request: GenerationRequest
