"""One job as the queue panel shows it: a state mark, its number, prompt, size, checkpoint,
server and where it stands, in columns that fit the panel's width.

Plain functions of a `Job`, so the panel's list only has to cut its rows into strips, and so
they are tested without a screen. Every string that came from a user or a server (prompt,
names, error messages) goes through `one_line`: no control character reaches the terminal and
nothing is read as markup (rows are drawn as plain segments).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from sdtui.engine import Job, JobState, model_short_name
from sdtui.text import one_line

GLYPHS: dict[JobState, str] = {
    JobState.QUEUED: "·",
    JobState.RUNNING: "▶",
    JobState.DONE: "✓",
    JobState.INTERRUPTED: "⏹",
    JobState.FAILED: "✗",
    JobState.CANCELLED: "–",
}

SIZE_FROM = 56  # panel widths (cells inside its border) from which the size column shows
MODEL_FROM = 76  # ... and the checkpoint column
WIDE_STATUS_FROM = 96  # ... and where it stands gets more room
SERVER_MAX = 10  # a server's name is cut to this many cells (in the middle: "127.…36517")
SERVER_WIDE = 16  # ... in a wide panel
_ELLIPSIS = "…"


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` cells."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + _ELLIPSIS
    pad = " " * (width - length)
    return pad + text if right else text + pad


@dataclass(frozen=True)
class Columns:
    """Cells of each column (0: not shown); a space follows each but the last."""

    number: int
    prompt: int
    size: int
    model: int
    server: int
    status: int

    @classmethod
    def fitting(cls, width: int, number: int, server: int) -> Columns:
        """The columns for a panel `width` cells wide, numbers up to `number` cells ("#12": 3)
        and server names up to `server` cells (0: no job has a server yet)."""
        wide = width >= WIDE_STATUS_FROM
        status = 20 if wide else 14 if width >= SIZE_FROM else 10
        size = 9 if width >= SIZE_FROM else 0
        model = 16 if width >= MODEL_FROM else 0
        server = min(max(server, 4), SERVER_WIDE if wide else SERVER_MAX)
        # mark and space, then each column and the space after it (none after the last)
        fixed = 2 + (number + 1) + 1 + (server + 1) + status
        fixed += (size + 1 if size else 0) + (model + 1 if model else 0)
        return cls(number, max(4, width - fixed), size, model, server, status)


def prompt_line(job: Job) -> str:
    """The prompt as one safe line (what the row and its detail show)."""
    return one_line(job.request.prompt, 300) or "(no prompt)"


def size_text(job: Job) -> str:
    request = job.request
    return f"{request.width}×{request.height}"


def model_text(job: Job) -> str:
    """The job's own checkpoint, short and without its hash ("" when it takes the server's)."""
    model = job.request.model
    return one_line(model_short_name(model), 60) if model else ""


_MODEL = re.compile(r"(?:^|, )Model: ([^,\n]+)")


def made_with(job: Job, server_models: Mapping[str, str | None]) -> str:
    """The checkpoint of a job that has none of its own, as far as known: from its image's
    parameters once made, else the one its server has loaded (short, no hash)."""
    images = job.outcome.images if job.outcome is not None else []
    if images:
        found = _MODEL.search(images[0].infotext.rsplit("\n", 1)[-1])
        return one_line(found[1], 60) if found else ""
    title = server_models.get(job.server) if job.server and job.state is JobState.RUNNING else None
    return one_line(model_short_name(title), 60) if title else ""


def server_text(job: Job) -> str:
    return one_line(job.server, 40) if job.server else ""


def fit_middle(text: str, width: int) -> str:
    """`text` in `width` cells, cut in the middle when longer: both ends of "host:port" tell
    servers apart (several on one host differ by the port, several hosts by the name)."""
    if cell_len(text) <= width or width < 5:
        return fit(text, width)
    tail = width // 2
    head = width - 1 - tail
    return set_cell_size(text, head) + _ELLIPSIS + text[-tail:]


def _images(count: int) -> str:
    return f"{count} image{'' if count == 1 else 's'}"


def _seconds(job: Job) -> str:
    if job.started is None or job.finished is None:
        return ""
    seconds = max(0.0, job.finished - job.started)
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"


def status_parts(job: Job, *, brief: bool = False) -> list[str]:
    """Where the job stands, most telling first: progress, the note, the error. `brief`: an
    error without the words before its last colon ("The server failed (500): RuntimeError:"),
    for a row that has room for a few words only."""
    state = job.state
    note = one_line(job.note, 200) if job.note else ""
    if state is JobState.RUNNING:
        update = job.last_progress
        if update is None:
            return ["starting"]
        if update.waiting:
            return ["waiting: server busy"]
        if update.unknown:
            return ["running"]
        parts = [f"{round(update.progress * 100)}%"]
        if update.sampling_steps:
            parts.append(f"{update.sampling_step}/{update.sampling_steps}")
        if update.job_count > 1:
            parts.append(f"batch {min(update.job_no + 1, update.job_count)}/{update.job_count}")
        return parts
    if state is JobState.QUEUED:
        return [note] if note else []
    if state is JobState.FAILED:
        message = one_line(job.error.message, 200) if job.error is not None else ""
        if brief:
            message = message.rsplit(": ", 1)[-1]
        return [message or note or "failed"]
    if state is JobState.CANCELLED:
        return [note or "cancelled"]
    saved = len(job.outcome.images) if job.outcome is not None else 0
    took = _seconds(job)
    if state is JobState.INTERRUPTED:
        return ["stopped", f"{saved} saved"]
    return [_images(saved), took] if took else [_images(saved)]


def status_text(job: Job, width: int = 200) -> str:
    """`status_parts` joined, as many as fit `width` cells (the first is cut if it must be);
    brief under 200 cells."""
    parts = status_parts(job, brief=width < 200)
    text = parts[0] if parts else ""
    for part in parts[1:]:
        longer = f"{text} {part}"
        if cell_len(longer) > width:
            break
        text = longer
    return text


def row_cells(job: Job, columns: Columns, fallback_model: str = "") -> list[tuple[str, str]]:
    """The row as (text, part) pairs, each cut to its column; `part` names its colour: mark,
    number, prompt, dim, model, server, status (the widget maps them to styles). The model
    column shows the job's own checkpoint, else `fallback_model` (dim): see `made_with`."""
    cells: list[tuple[str, str]] = [
        (GLYPHS[job.state] + " ", "mark"),
        (fit(f"#{job.id}", columns.number, right=True) + " ", "number"),
    ]
    own = model_text(job)
    prompt_width = columns.prompt
    if own and not columns.model:
        # No checkpoint column at this width: the job's own checkpoint goes before its prompt.
        tag = fit(own, min(cell_len(own), max(1, prompt_width // 2 - 1)))
        cells.append((tag + " ", "model"))
        prompt_width -= cell_len(tag) + 1
    cells.append((fit(prompt_line(job), prompt_width) + " ", "prompt"))
    if columns.size:
        cells.append((fit(size_text(job), columns.size) + " ", "dim"))
    if columns.model:
        model = own or fallback_model
        cells.append((fit(model, columns.model) + " ", "model" if own else "dim"))
    cells.append((fit_middle(server_text(job), columns.server) + " ", "server"))
    status = status_text(job, columns.status)
    cells.append((fit(status, columns.status, right=True), "status"))
    return cells


def detail_text(job: Job) -> str:
    """The highlighted job in words, for the panel's bottom lines: how it stands first (an
    error whole), then everything its row cuts, the prompt last."""
    request = job.request
    state = job.state
    where = f" on {server_text(job)}" if job.server else ""
    name = "waiting" if state is JobState.QUEUED else state.value
    parts = [f"#{job.id} {name}{where}"]
    if state is not JobState.RUNNING:
        parts.extend(status_parts(job))
    note = one_line(job.note, 300) if job.note else ""
    if note and note not in parts:
        parts.append(note)
    if state is JobState.QUEUED and job.drops:
        parts.append(f"dropped {job.drops}×")
    parts += [f"{request.width}×{request.height}", f"{request.steps} steps"]
    if request.batch_size > 1 or request.n_iter > 1:
        parts.append(f"batch {request.batch_size}×{request.n_iter}")
    parts.append(f"seed {request.seed}" if request.seed != -1 else "random seed")
    if request.sampler_name:
        parts.append(one_line(request.sampler_name, 40))
    model = model_text(job)
    parts.append(f"model {model}" if model else "the server's model")
    parts.append(prompt_line(job))
    return " · ".join(parts)


def header_text(running: int, waiting: int, failed: int, *, paused: bool) -> str:
    """ "Queue · 3 waiting · 1 running · paused" (and the failures this session)."""
    parts = ["Queue", f"{waiting} waiting" if waiting or running else "nothing waiting"]
    if running:
        parts.append(f"{running} running")
    if failed:
        parts.append(f"{failed} failed")
    if paused:
        parts.append("paused")
    return " · ".join(parts)
