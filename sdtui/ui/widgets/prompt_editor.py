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

It also does what the web UI's prompt box does beyond plain editing: the weight keys
(`weight`, ctrl+up/down as in the web UI), the LoRA/embedding completion list
(`PromptComplete`, opened by typing `<lora:`, `<` or the start of an embedding's name, or by
the completion key), and a pasted infotext posts `InfotextPasted` instead of becoming prompt text.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.binding import BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Location, Selection

from sdtui.engine.prompt_edit import (
    Context,
    candidates,
    change_weight,
    clean_names,
    complete,
    completion_context,
    is_infotext,
)
from sdtui.ui.actions import KeyMap, bindings
from sdtui.ui.messages import InfotextPasted
from sdtui.ui.widgets.in_order import in_order
from sdtui.ui.widgets.prompt_complete import PromptComplete, complete_keys


class PromptEditor(TextArea):
    """A drop-in `TextArea` for prompts, e.g. `PromptEditor(id="prompt", soft_wrap=True,
    tab_behavior="focus")`; `load_text`, `text` and everything else as in TextArea.

    The completion offers what `names()` returns: by default the LoRAs and embeddings of the
    server the app's context describes (`app.context.facts`)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("prompt")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._complete: PromptComplete | None = None
        self._asked: Context | None = None
        self._forced = False  # opened by the completion key: words offer LoRAs too
        self._typed = False  # the next change came from a key typed here
        self._names_of: object = None
        self._names: tuple[list[tuple[str, str]], list[str]] = ([], [])

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
        completion = self._complete
        if completion is not None and completion.shown and self.app.focused is self:
            action = complete_keys(self._keymap()).get(event.key)
            if action is not None:
                # The list's keys while it is open: they go no further (esc must not also
                # leave the prompt, enter must not also insert a line).
                event.stop()
                event.prevent_default()
                await self.run_action(f"complete_{action}")
                return
        self._typed = event.is_printable or (completion is not None and completion.shown)
        # Keys apply in the order typed, where they were typed (see in_order.py); TextArea's
        # own key handler (Textual calls it after this one) then handles what is left.
        await in_order(self, event)

    async def _on_paste(self, event: events.Paste) -> None:
        # A whole infotext is a form to fill, not prompt text (TextArea's own paste is after).
        if not self.read_only and is_infotext(event.text):
            event.stop()
            event.prevent_default()
            self.post_message(InfotextPasted(event.text))

    def _plain(self) -> str:
        """The text with "\\n" between lines, as `_index` and `_location` count it."""
        return "\n".join(self.document.lines)

    def _index(self, location: Location) -> int:
        """A location's offset in `text` (lines joined by one newline character)."""
        row, column = location
        lines = self.document.lines
        return sum(len(line) + 1 for line in lines[:row]) + column

    def _location(self, index: int) -> Location:
        for row, line in enumerate(self.document.lines):
            if index <= len(line):
                return row, index
            index -= len(line) + 1
        return self.document.end

    # -- weights --------------------------------------------------------------------------------

    def action_weight(self, direction: int) -> None:
        """Raise (1) or lower (-1) the weight under the cursor, as the web UI's ctrl+up/down."""
        start, end = self.selection
        selection = (self._index(start), self._index(end))
        edit = change_weight(self._plain(), selection, direction > 0)
        if edit is None:
            return
        self.replace(
            edit.replacement,
            self._location(edit.start),
            self._location(edit.end),
            maintain_selection_offset=False,
        )
        first, last = edit.selection
        self.selection = Selection(
            self._location(first),
            self._location(last),
        )

    # -- completion -----------------------------------------------------------------------------

    def _keymap(self) -> KeyMap:
        keys = getattr(getattr(self.app, "context", None), "keys", None)
        return keys if isinstance(keys, KeyMap) else KeyMap()

    def names(self) -> tuple[list[tuple[str, str]], list[str]]:
        """The LoRAs (name, alias) and embeddings to offer, without control characters."""
        facts = getattr(getattr(self.app, "context", None), "facts", None)
        if facts is not self._names_of:
            loras = getattr(facts, "loras", [])
            embeddings = getattr(facts, "embeddings", [])
            lora_names = clean_names([lora.name for lora in loras])
            aliases = clean_names([lora.alias or lora.name for lora in loras])
            pairs = list(zip(lora_names, aliases, strict=False))
            self._names = (pairs, clean_names([e.name for e in embeddings if not e.skipped]))
            self._names_of = facts
        return self._names

    def action_complete(self) -> None:
        """Offer the LoRAs and embeddings for the word at the cursor (the completion key)."""
        if not self.has_focus:
            self.focus()
        if not self._refresh_completion(forced=True):
            loras, embeddings = self.names()
            what = "matches the word at the cursor" if loras or embeddings else "is offered"
            self.notify(f"No LoRA or embedding {what}", severity="warning", timeout=3)

    def _cursor_index(self) -> int:
        return self._index(self.cursor_location)

    def _refresh_completion(self, *, forced: bool = False) -> bool:
        """Show what the text before the cursor asks to complete, or close the list; True if
        the list is open."""
        text, cursor = self._plain(), self._cursor_index()
        context = completion_context(text, cursor, forced=forced)
        loras, embeddings = self.names()
        offered = candidates(context, loras, embeddings) if context is not None else []
        if context is None or not offered or not self.has_focus:
            self.complete_close()
            return False
        self._asked, self._forced = context, forced
        if self._complete is None:
            self._complete = PromptComplete()
            self.screen.mount(self._complete)
        # The list starts under what it completes, not under the moving cursor.
        at = self.cursor_screen_offset
        at = at._replace(x=max(at.x - (cursor - context.start), self.content_region.x))
        self._complete.show(offered, at, self.screen.size)
        return True

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is not self:
            return
        typed, self._typed = self._typed, False
        shown = self._complete is not None and self._complete.shown
        if typed or shown:
            self._refresh_completion(forced=self._forced and shown)

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        if event.text_area is self and self._complete is not None and self._complete.shown:
            self.call_after_refresh(self._follow_cursor)

    def _follow_cursor(self) -> None:
        """The cursor moved with the list open: the list follows it, or closes."""
        if self._complete is not None and self._complete.shown:
            self._refresh_completion(forced=self._forced)

    def on_blur(self) -> None:
        self.complete_close()

    def action_complete_next(self) -> None:
        if self._complete is not None:
            self._complete.action_next()

    def action_complete_previous(self) -> None:
        if self._complete is not None:
            self._complete.action_previous()

    def action_complete_accept(self) -> None:
        completion, context = self._complete, self._asked
        candidate = completion.current if completion is not None else None
        self.complete_close()
        if candidate is None or context is None:
            return
        start, end, insert = complete(self._plain(), context, self._cursor_index(), candidate)
        location: Location = self._location(start)
        self.replace(
            insert, location, self._location(end),
            maintain_selection_offset=False,
        )  # fmt: skip

    def action_complete_close(self) -> None:
        self.complete_close()

    def complete_close(self) -> None:
        """Close the completion list (if open), keeping what was typed."""
        if self._complete is not None:
            self._complete.hide()
        self._asked, self._forced = None, False

    @property
    def completing(self) -> bool:
        """The completion list is open."""
        return self._complete is not None and self._complete.shown

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._sync_wrap():
            # Lines cached outside `crop` were rendered from the old wrap: repaint them all.
            self.refresh()
        return super().render_lines(crop)

    def on_resize(self, event: events.Resize) -> None:
        # Normally nothing left to do: the first frame at the new size re-wrapped already.
        if self._sync_wrap():
            self.refresh()
