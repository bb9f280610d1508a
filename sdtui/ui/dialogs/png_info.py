"""PNG Info: open any image file by path, see the parameters it carries, load them into the form.

As the web UI's PNG Info tab: a PNG's ``parameters`` chunk, or the EXIF UserComment of a JPEG or
WebP (read from the headers only, in a thread). The dialog dismisses with the infotext to load
(the caller posts `ReuseParameters`), or None.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Static

from sdtui.images.infotext import parse_infotext
from sdtui.store import UnreadableImage
from sdtui.store.metadata import read_image_metadata
from sdtui.text import one_line, strip_control
from sdtui.ui.actions import KeyMap, bindings

__all__ = ["ImageInfo", "PathSuggester", "PngInfoDialog", "describe", "read_info"]


@dataclass(frozen=True)
class ImageInfo:
    """What one file says about how it was made: `problem` is one line when it says nothing."""

    path: Path
    infotext: str = ""
    width: int | None = None
    height: int | None = None
    problem: str = ""


def read_info(text: str) -> ImageInfo:
    """Read the file named by `text` (``~`` expanded): its size and infotext (from a thread)."""
    path = Path(text.strip()).expanduser()
    if not text.strip():
        return ImageInfo(path, problem="Type the path of an image file (PNG, JPEG or WebP)")
    if path.is_dir():
        return ImageInfo(path, problem=f"{one_line(str(path), 80)} is a folder, not an image")
    if not path.exists():
        return ImageInfo(path, problem=f"No file at {one_line(str(path), 80)}")
    try:
        meta = read_image_metadata(path)
    except UnreadableImage as exc:
        return ImageInfo(path, problem=f"Not an image sdtui can read: {one_line(str(exc), 100)}")
    infotext = strip_control(meta.infotext).strip()
    problem = "" if infotext else f"{one_line(path.name, 60)} carries no generation parameters"
    return ImageInfo(path, infotext, meta.width, meta.height, problem)


def describe(info: ImageInfo) -> Text:
    """The parameters as plain text: prompt, negative prompt, the parameter line, the size."""
    text = Text()
    size = f"{info.width}×{info.height}" if info.width and info.height else "unknown size"
    text.append(f"{one_line(info.path.name, 70)} · {size}\n", style="bold")
    if not info.infotext:
        return text
    parsed = parse_infotext(info.infotext)
    lines = info.infotext.replace("\r\n", "\n").strip().split("\n")
    parameter_line = lines[-1].strip() if parsed.params else ""
    text.append("\nPrompt\n", style="bold")
    text.append((parsed.prompt or "(none)") + "\n")
    text.append("\nNegative prompt\n", style="bold")
    text.append((parsed.negative_prompt or "(none)") + "\n")
    if parameter_line:
        text.append("\nParameters\n", style="bold")
        text.append(parameter_line + "\n")
    return text


class PathSuggester(Suggester):
    """Completes the last part of a path from the folder's names (listed off the event loop)."""

    def __init__(self) -> None:
        super().__init__(use_cache=True, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value.endswith(os.sep):
            return None
        path = Path(value).expanduser()
        folder, stem = path.parent, path.name
        try:
            names = await asyncio.to_thread(os.listdir, folder)
        except OSError:
            return None
        matches = sorted(n for n in names if n.startswith(stem) and not n.startswith("."))
        if not matches or matches[0] == stem:
            return None
        return value + matches[0][len(stem) :]


class PngInfoDialog(ModalScreen[str | None]):
    """A path field, what the file carries, and Load into form / Close."""

    BINDINGS = bindings("dialog")

    DEFAULT_CSS = """
    PngInfoDialog { align: center middle; }
    PngInfoDialog > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    PngInfoDialog #png-info-help { color: $text-muted; }
    PngInfoDialog #png-info-problem { color: $text-warning; height: auto; }
    PngInfoDialog VerticalScroll { height: auto; max-height: 20; }
    PngInfoDialog Horizontal { height: auto; align-horizontal: right; }
    PngInfoDialog Button { margin-left: 1; }
    """

    def __init__(self, keys: KeyMap, path: str = "") -> None:
        super().__init__()
        self.keys = keys
        self.start_path = path
        self.info: ImageInfo | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            cancel = self.keys.name("dialog.cancel")
            yield Static(
                f"PNG Info: the parameters an image carries (enter reads, {cancel} closes)",
                id="png-info-help",
                markup=False,
            )
            yield Input(
                self.start_path,
                placeholder="~/path/to/image.png (PNG, JPEG, WebP)",
                id="png-info-path",
                suggester=PathSuggester(),
            )
            yield Static("", id="png-info-problem", markup=False)
            with VerticalScroll():
                yield Static("", id="png-info-text", markup=False)
            with Horizontal():
                yield Button("Load into form", id="png-info-load", variant="primary", disabled=True)
                yield Button("Close", id="png-info-close")

    def on_mount(self) -> None:
        if self.start_path:
            self.read(self.start_path)

    @on(Input.Submitted, "#png-info-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.read(event.value)

    @work(
        thread=True,
        exclusive=True,
        group="png-info",
        exit_on_error=False,
        description="reading the image",
    )
    def read(self, text: str) -> None:
        """Read the file in a thread; show what it says (or one line why not)."""
        info = read_info(text)
        self.app.call_from_thread(self._show, info)

    def _show(self, info: ImageInfo) -> None:
        self.info = info
        self.query_one("#png-info-problem", Static).update(info.problem)
        self.query_one("#png-info-text", Static).update(
            describe(info) if info.width or info.infotext else ""
        )
        load = self.query_one("#png-info-load", Button)
        load.disabled = not info.infotext
        if info.infotext:
            load.focus()

    @on(Button.Pressed, "#png-info-load")
    def _load(self, event: Button.Pressed) -> None:
        event.stop()
        if self.info is not None and self.info.infotext:
            self.dismiss(self.info.infotext)

    @on(Button.Pressed, "#png-info-close")
    def _close(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
