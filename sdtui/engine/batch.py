"""The images the preview steps through: a finished job's batch, or one history entry.

Plain data, no UI: the preview pane holds a `Batch`; tests drive it directly.
"""

from __future__ import annotations

import io
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from sdtui.engine.generate import SavedImage
from sdtui.images.convert import check_pixel_limit, image_format, image_size
from sdtui.store import HistoryEntry


def open_image(data: bytes) -> Image.Image:
    """Open image bytes lazily (header only: decoding happens in the render thread), refusing
    sizes over the decode limit before Pillow sees them."""
    width, height = image_size(data)
    check_pixel_limit(image_format(data), width, height)
    return Image.open(io.BytesIO(data))


@dataclass
class ShownImage:
    """One image as the preview shows it: in memory (`png`) and/or on disk (`path`)."""

    key: Hashable
    png: bytes | None
    path: Path | None
    seed: int | None
    infotext: str

    def open(self) -> Image.Image:
        if self.png is not None:
            return open_image(self.png)
        assert self.path is not None
        return open_image(self.path.read_bytes())

    @property
    def unsaved(self) -> bool:
        return self.path is None and bool(self.png)

    @classmethod
    def of_entry(cls, entry: HistoryEntry) -> ShownImage:
        return cls(
            ("file", str(entry.path), entry.mtime), None, entry.path, entry.seed, entry.infotext
        )

    @classmethod
    def of_saved(cls, job_id: int, image: SavedImage) -> ShownImage:
        return cls(("job", job_id, image.index), image.png, image.path, image.seed, image.infotext)


@dataclass
class Batch:
    """The images in view and which one is shown."""

    images: list[ShownImage] = field(default_factory=list)
    index: int = 0

    @classmethod
    def of(cls, images: Sequence[ShownImage]) -> Batch:
        return cls(list(images), 0)

    @property
    def current(self) -> ShownImage | None:
        return self.images[self.index] if self.images else None

    def step(self, delta: int) -> bool:
        """Show the next (or previous) image, wrapping round; False when there is no other."""
        if len(self.images) < 2:
            return False
        self.index = (self.index + delta) % len(self.images)
        return True

    @property
    def unsaved(self) -> list[ShownImage]:
        return [image for image in self.images if image.unsaved]

    @property
    def seed(self) -> int | None:
        """The seed of the image in view, when it has a real one."""
        current = self.current
        if current is None or current.seed is None or current.seed < 0:
            return None
        return current.seed

    def position(self) -> str:
        """ "image 2/4" for a batch of several, "" for one."""
        return f"image {self.index + 1}/{len(self.images)}" if len(self.images) > 1 else ""
