"""The form's img2img part: shown once an init image is set (from the history or a file).

"Init image: name.png 512x768" with its denoising strength and resize mode, an optional mask
file for inpainting with its blur and area. Files are read and encoded in a thread; the form
sends img2img while an init image is set, txt2img once it is cleared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static

from sdtui.api import GenerationRequest
from sdtui.engine.img2img import InputImageError, SourceImage, img2img_request, read_source_image
from sdtui.text import one_line, strip_control
from sdtui.ui.widgets.form_fields import (
    FormError,
    default_text,
    number_field,
    read_number,
    valid_text,
)

IMG2IMG_FIELDS: dict[str, tuple[str, str]] = {
    "i2i-denoise": ("denoise", "Denoise"),
    "mask-blur": ("mask_blur", "Mask blur"),
}
# The web UI's radio buttons, in its order: the value is the API's resize_mode.
RESIZE_CHOICES = [
    ("Just resize", 0),
    ("Crop and resize", 1),
    ("Resize and fill", 2),
    ("Just resize (latent upscale)", 3),
]
AREA_CHOICES = [("Whole picture", False), ("Only masked", True)]
MASK_DELAY = 0.3  # seconds after the last key in the mask path before the file is read


@dataclass(frozen=True)
class EncodedImage(SourceImage):
    """An image read and base64-encoded in a thread: building a request then costs the UI
    thread nothing (a large PNG's base64 takes tens of milliseconds)."""

    encoded: str = ""

    def b64(self) -> str:
        return self.encoded


def read_encoded(path: Path) -> EncodedImage:
    """Read, check and encode an image file (blocking: call it from a thread)."""
    image = read_source_image(path)
    fields = {f.name: getattr(image, f.name) for f in dataclasses.fields(SourceImage)}
    return EncodedImage(**fields, encoded=image.b64())


def expand(path_text: str) -> Path:
    return Path(path_text.strip()).expanduser()


class Img2ImgSection(Vertical):
    """Holds the init image and the mask once read; `apply` turns a request into img2img."""

    class Loaded(Message):
        """An init image was read (`fill_size`: the form takes its size)."""

        def __init__(self, image: SourceImage, fill_size: bool) -> None:
            super().__init__()
            self.image = image
            self.fill_size = fill_size

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, clear_key: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init: SourceImage | None = None
        self.mask: SourceImage | None = None
        self.mask_error: str | None = None
        self.reading: Path | None = None  # an init image being read
        self._clear_key = clear_key
        self._mask_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="init-name", markup=False)
        with Grid(id="i2i-fields"):
            yield from number_field("i2i-denoise", "denoise", label="Denoise")
            yield from number_field("mask-blur", "mask_blur", label="Mask blur")
            yield Label("Resize", classes="field-label")
            yield Select(RESIZE_CHOICES, id="resize-mode", compact=True, allow_blank=False)
            yield Label("Mask", classes="field-label")
            yield Input(id="mask-path", compact=True, placeholder="mask file (optional)")
            yield Label("Area", classes="field-label")
            yield Select(AREA_CHOICES, id="inpaint-area", compact=True, allow_blank=False)
        yield Static("", id="mask-status", markup=False)

    def on_mount(self) -> None:
        self.display = False
        self.query_one("#mask-status").display = False

    @property
    def active(self) -> bool:
        return self.init is not None

    # -- the init image -------------------------------------------------------------------------

    def set_init(self, path: Path, *, fill_size: bool = True) -> None:
        """Read `path` in a thread and make it the init image (Loaded or Failed follows)."""
        self.reading = path
        self._read_init(path, fill_size)

    @work(thread=True, exclusive=True, group="init-image", exit_on_error=False)
    def _read_init(self, path: Path, fill_size: bool) -> None:
        try:
            image = read_encoded(path)
        except InputImageError as exc:
            self.app.call_from_thread(self._failed, path, str(exc))
            return
        self.app.call_from_thread(self._loaded, image, fill_size)

    def _failed(self, path: Path, message: str) -> None:
        if self.reading == path:
            self.reading = None
            self.post_message(self.Failed(message))

    def _loaded(self, image: SourceImage, fill_size: bool) -> None:
        if self.reading != image.path:
            return  # cleared, or another image picked, while this one was read
        self.reading = None
        self.init = image
        self.display = True
        self._show_name()
        self.post_message(self.Loaded(image, fill_size))

    def _show_name(self) -> None:
        image = self.init
        if image is None:
            return
        hint = f" · {self._clear_key} clears" if self._clear_key else ""
        line = self.query_one("#init-name", Static)
        # The size first: a long file name is cut at the form's edge, the size never is.
        line.update(f"Init image: {image.width}x{image.height} {one_line(image.name, 60)}{hint}")
        line.tooltip = f"{one_line(str(image.path), 200)}{hint}"

    def clear(self) -> bool:
        """Back to txt2img; False when there was no init image."""
        had = self.init is not None or self.reading is not None
        self.init = None
        self.reading = None
        self.display = False
        return had

    # -- the mask -------------------------------------------------------------------------------

    @on(Input.Changed, "#mask-path")
    def _mask_typed(self, event: Input.Changed) -> None:
        if self._mask_timer is not None:
            self._mask_timer.stop()
        self.mask = None
        text = event.value.strip()
        if not text:
            self.mask_error = None
            self._mask_status("")
            return
        self.mask_error = "the mask file is still being read"
        self._mask_timer = self.set_timer(MASK_DELAY, lambda: self._read_mask(expand(text)))

    @work(thread=True, exclusive=True, group="mask", exit_on_error=False)
    def _read_mask(self, path: Path) -> None:
        try:
            mask = read_encoded(path)
        except InputImageError as exc:
            self.app.call_from_thread(self._mask_read, path, None, str(exc))
            return
        self.app.call_from_thread(self._mask_read, path, mask, None)

    def _mask_read(self, path: Path, mask: SourceImage | None, error: str | None) -> None:
        if expand(self.query_one("#mask-path", Input).value) != path:
            return  # typed on since
        self.mask, self.mask_error = mask, error
        if mask is not None:
            self._mask_status(f"Mask: {one_line(mask.name, 40)} {mask.width}x{mask.height}")
        else:
            self._mask_status(f"Mask not used: {error}")

    def _mask_status(self, text: str) -> None:
        status = self.query_one("#mask-status", Static)
        status.update(text)
        status.display = bool(text)
        status.set_class(self.mask_error is not None and bool(text), "-error")

    # -- the request ----------------------------------------------------------------------------

    def apply(self, request: GenerationRequest, *, size_given: bool) -> GenerationRequest:
        """`request` as img2img from the init image (unchanged without one); FormError names
        a field that stops it."""
        if self.reading is not None and self.init is None:
            raise FormError("prompt", "The init image is still being read: try again")
        init = self.init
        if init is None:
            return request
        denoise = float(read_number(self, "i2i-denoise", "denoise"))
        if self.query_one("#mask-path", Input).value.strip() and self.mask is None:
            raise FormError("mask-path", f"Mask: {self.mask_error or 'not read yet'}")
        fields: dict[str, object] = {
            "denoising_strength": denoise,
            "resize_mode": self.query_one("#resize-mode", Select).value,
        }
        if self.mask is not None:
            fields["mask_blur"] = int(read_number(self, "mask-blur", "mask_blur"))
            fields["inpaint_full_res"] = self.query_one("#inpaint-area", Select).value
        return img2img_request(request, init, mask=self.mask, size_given=size_given, **fields)

    def fill(self, img2img: dict[str, object]) -> None:
        """The img2img settings an image's parameters carry (see engine.reuse's `img2img`)."""
        denoise = img2img.get("denoising_strength")
        if isinstance(denoise, float | int):
            self.query_one("#i2i-denoise", Input).value = f"{denoise:g}"
        blur = img2img.get("mask_blur")
        if isinstance(blur, int):
            self.query_one("#mask-blur", Input).value = str(blur)
        area = img2img.get("inpaint_full_res")
        if isinstance(area, bool):
            self.query_one("#inpaint-area", Select).value = area

    # -- across restarts ------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        path = self.init.path if self.init else self.reading
        data = {"init-image": str(path) if path else ""}
        data |= {f: self.query_one(f"#{f}", Input).value for f in (*IMG2IMG_FIELDS, "mask-path")}
        data["resize-mode"] = str(self.query_one("#resize-mode", Select).value)
        data["inpaint-area"] = "1" if self.query_one("#inpaint-area", Select).value else ""
        return data

    def restore(self, texts: dict[str, str]) -> None:
        for field_id, (name, _) in IMG2IMG_FIELDS.items():
            value = strip_control(texts.get(field_id, ""), keep_newlines=False).strip()
            self.query_one(f"#{field_id}", Input).value = (
                value if valid_text(name, value) else default_text(name)
            )
        mode = texts.get("resize-mode", "0")
        self.query_one("#resize-mode", Select).value = (
            int(mode) if mode in ("0", "1", "2", "3") else 0
        )
        self.query_one("#inpaint-area", Select).value = bool(texts.get("inpaint-area"))
        self.query_one("#mask-path", Input).value = strip_control(
            texts.get("mask-path", ""), keep_newlines=False
        )
        init = strip_control(texts.get("init-image", ""), keep_newlines=False).strip()
        if init:
            self.set_init(Path(init), fill_size=False)
        else:
            self.clear()
