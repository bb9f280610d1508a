"""What the TUI keeps between runs: the form as typed, and jobs still waiting when it closed.

Both are small JSON files written atomically (a temp file renamed over the old one), so a
signal or a full disk mid-write leaves the previous version, never half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

from sdtui.api import GenerationRequest, Img2ImgRequest

_REQUEST_FIELDS = {f.name: f for f in fields(GenerationRequest)}
_IMG2IMG_FIELDS = {f.name: f for f in fields(Img2ImgRequest)}
_MODE = "mode"  # "img2img" for an img2img job (its init image travels with it, as base64)


def request_to_dict(request: GenerationRequest) -> dict[str, Any]:
    """The request's fields that differ from the defaults (force_task_id is per attempt)."""
    img2img = isinstance(request, Img2ImgRequest)
    default = Img2ImgRequest() if img2img else GenerationRequest()
    names = _IMG2IMG_FIELDS if img2img else _REQUEST_FIELDS
    data = {
        name: getattr(request, name)
        for name in names
        if name != "force_task_id" and getattr(request, name) != getattr(default, name)
    }
    if img2img:
        data[_MODE] = "img2img"
    return data


def request_from_dict(data: dict[str, Any]) -> GenerationRequest:
    """The request `request_to_dict` described; unknown keys are ignored, wrong types raise
    ValueError."""
    img2img = data.get(_MODE) == "img2img"
    request = Img2ImgRequest() if img2img else GenerationRequest()
    names = _IMG2IMG_FIELDS if img2img else _REQUEST_FIELDS
    for name, value in data.items():
        if name not in names or name == "force_task_id":
            continue
        default = getattr(request, name)
        if default is not None and value is not None:
            expected = float if isinstance(default, float) else type(default)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected):
                raise ValueError(f"'{name}' has the wrong type")
        setattr(request, name, value)
    if isinstance(request, Img2ImgRequest) and not request.init_images:
        raise ValueError("an img2img job without its init image")
    return request


def write_json(path: Path, data: Any) -> None:
    """Write `data` as JSON atomically; OSError when the folder cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Session:
    """The form state file and, beside it, the queue file."""

    def __init__(self, form_path: Path) -> None:
        self.form_path = form_path
        self.queue_path = form_path.with_name("queue.json")
        self.ui_path = form_path.with_name("ui.json")
        # The queue file is written on every change of the queue, in a thread (an img2img job
        # carries its init image): the newest state wins, an older write never lands after it.
        self._queue_lock = threading.Lock()  # guards the three below
        self._queue_next: tuple[int, list[dict[str, Any]]] | None = None
        self._queue_version = 0
        self._queue_writer: threading.Thread | None = None
        self._write_lock = threading.Lock()  # one write at a time
        self._queue_written = 0

    def load_ui(self) -> dict[str, Any]:
        """Choices made in the TUI itself (the theme picked in the palette)."""
        data = read_json(self.ui_path)
        return data if isinstance(data, dict) else {}

    def save_ui(self, **values: str) -> None:
        with contextlib.suppress(OSError):
            write_json(self.ui_path, {**self.load_ui(), **values})

    def load_form(self) -> dict[str, Any]:
        data = read_json(self.form_path)
        return data if isinstance(data, dict) else {}

    def save_form(self, state: dict[str, str]) -> None:
        if state:
            with contextlib.suppress(OSError):
                write_json(self.form_path, state)

    def save_pending(self, requests: list[GenerationRequest]) -> None:
        """Keep jobs that did not run for the next start (an empty list removes the file), now."""
        data = [request_to_dict(r) for r in requests]
        with self._queue_lock:
            self._queue_version += 1
            version = self._queue_version
            self._queue_next = None
        self._write_pending(version, data)

    def save_pending_soon(self, requests: list[GenerationRequest]) -> None:
        """`save_pending` in a background thread; calls made while it writes coalesce."""
        data = [request_to_dict(r) for r in requests]
        with self._queue_lock:
            self._queue_version += 1
            self._queue_next = (self._queue_version, data)
            if self._queue_writer is not None:
                return
            self._queue_writer = threading.Thread(
                target=self._pending_writer, name="sdtui-queue-file", daemon=True
            )
            self._queue_writer.start()

    def flush_pending(self, timeout: float = 5.0) -> None:
        """Wait for a background write of the queue file to end."""
        writer = self._queue_writer
        if writer is not None:
            writer.join(timeout)

    def _pending_writer(self) -> None:
        while True:
            with self._queue_lock:
                if self._queue_next is None:
                    self._queue_writer = None
                    return
                version, data = self._queue_next
                self._queue_next = None
            self._write_pending(version, data)

    def _write_pending(self, version: int, data: list[dict[str, Any]]) -> None:
        with self._write_lock:
            if version < self._queue_written:
                return  # a newer state is already on disk
            self._queue_written = version
            with contextlib.suppress(OSError):
                if data:
                    write_json(self.queue_path, data)
                else:
                    self.queue_path.unlink(missing_ok=True)

    def load_pending(self) -> list[GenerationRequest]:
        """The jobs kept by `save_pending` (they stay on disk until saved again)."""
        data = read_json(self.queue_path)
        requests = []
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict):
                with contextlib.suppress(ValueError, TypeError):
                    requests.append(request_from_dict(item))
        return requests
