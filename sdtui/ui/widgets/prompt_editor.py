"""A soft-wrapping TextArea whose screen always shows its text wrapped at its current width.

Textual's TextArea (8.2) re-wraps its document in its `Resize` handler. But a widget is painted
at its new size before that event reaches it: `Screen._refresh_layout` gives widgets their new
regions (`_size_updated`, which marks them dirty) and repaints in the same pass, and only posts
`Resize`. That first frame is drawn from the wrap for the old width: at a narrower width the rows
run past the border and are cut ("... at dusk, o" / "painting": "il" gone), at a wider one the
old, narrower rows stay. The handler then re-wraps and clears the TextArea's `_line_cache`, but
nothing repaints unless the wrapped height changed (`virtual_size`), so when it did not, the
stale frame stays, in the widget's render cache and on the terminal, until the cursor moves.
The same happens when the width changes by CSS (breakpoint classes), when a widget is shown again,
and on the first frame after a prompt is loaded before layout (restored in `on_mount`).

`PromptEditor` compares the width the document is wrapped at with the width it is drawn at each
time Textual asks it for lines, and re-wraps first when they differ: no frame is ever drawn from
another width's wrap. Edits, `load_text` and scrollbar changes already re-wrap and repaint in
TextArea; the check costs one comparison per paint. It relies on two TextArea internals, named
in tests/test_prompt_editor.py::test_textual_internals_the_editor_relies_on, which fails by name
if a Textual upgrade moves them.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import TextArea

from sdtui.ui.widgets.in_order import in_order


class PromptEditor(TextArea):
    """A drop-in `TextArea` for prompts, e.g. `PromptEditor(id="prompt", soft_wrap=True,
    tab_behavior="focus")`; `load_text`, `text` and everything else as in TextArea."""

    def _sync_wrap(self) -> bool:
        """Re-wrap if the document is wrapped for another width than the current one; True if
        it was."""
        # Internal: WrappedDocument keeps the width of its last wrap in `_width` (no public view).
        if self.wrapped_document._width == self.wrap_width:
            return False
        # Internal: TextArea's own re-wrap (the document, `_line_cache`, virtual size, scrollbars).
        self._rewrap_and_refresh_virtual_size()
        return True

    async def _on_key(self, event: events.Key) -> None:
        # Keys apply in the order typed, where they were typed (see in_order.py); TextArea's
        # own key handler (Textual calls it after this one) then handles what is left.
        await in_order(self, event)

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._sync_wrap():
            # Lines cached outside `crop` were rendered from the old wrap: repaint them all.
            self.refresh()
        return super().render_lines(crop)

    def on_resize(self, event: events.Resize) -> None:
        # Normally nothing left to do: the first frame at the new size re-wrapped already.
        if self._sync_wrap():
            self.refresh()
