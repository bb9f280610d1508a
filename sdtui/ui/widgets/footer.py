"""Textual's footer, in a steady order, re-composed only when what it shows changes.

Three things differ from Textual's own footer (whose look, keys and CSS this one keeps):

- **Order.** Textual lists a key where it first appears in the focus chain, so an app key that
  the focused editor also binds (ctrl+x, ctrl+q) jumps to the front. Here the focused widgets'
  own keys come first, then the app's keys in the order the app declares them, whatever has
  focus.
- **Cost.** Textual re-composes the footer on every bindings update (focus moves, a job starts
  or ends, anything calling ``refresh_bindings``), even when it would show the same keys. That
  mounts a widget per key, restyles each and lays out the screen: about 15 ms on the UI
  thread, on top of whatever else changed at that moment. This footer does nothing when the
  keys are unchanged, restyles in place the keys that only became enabled or disabled (no
  layout), and re-composes otherwise.
- **A leak.** Each new FooterKey binds its ``compact`` reactive to the footer, which registers
  a watcher on the footer; Textual only prunes a watcher list when the watched value changes,
  and the footer's ``compact`` never does, so every key ever shown stayed reachable (about
  45 KB per re-composition). Watchers of detached keys are pruned after each re-composition.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

from sdtui.ui.actions import BY_ID

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["Footer"]


class _Key(NamedTuple):
    """One key as the footer shows it."""

    binding: Binding
    display: str
    enabled: bool
    tooltip: str
    palette: bool = False

    @property
    def look(self) -> tuple[object, ...]:
        """Everything shown but whether it is enabled."""
        b = self.binding
        return (b.key, b.action, self.display, b.description, b.group, self.tooltip, self.palette)


class Footer(TextualFooter):
    def __init__(
        self, *, compact: bool = False, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(compact=compact, id=id, classes=classes)
        self._composed: list[_Key] | None = None

    def _keys(self, screen: Screen[object]) -> list[_Key]:
        """The keys to show for ``screen``: one per action of each widget, focused widgets' keys
        first, then the screen's and the app's in the order they declare them, then the command palette's.

        (Textual keeps one key per action name, so the history's "Load" (l, action ``reuse``)
        hid the app's "Reuse" (ctrl+r, also ``reuse``) whenever the history had focus.)"""
        app = self.app
        active = screen.active_bindings
        widget_keys: list[_Key] = []
        app_keys: list[_Key] = []
        seen: set[tuple[int, str]] = set()  # one key per action of each widget (d, delete)
        for namespace, binding, enabled, tooltip in active.values():
            action = (id(namespace), binding.action)
            if not binding.show or action in seen:
                continue
            seen.add(action)
            key = _Key(binding, app.get_key_display(binding), enabled, tooltip)
            (app_keys if namespace is app or namespace is screen else widget_keys).append(key)
        declared_order = [*_declared_actions(screen), *_declared_actions(app)]
        declared = {action: n for n, action in enumerate(declared_order)}
        app_keys.sort(key=lambda k: declared.get(k.binding.action, len(declared)))
        keys = _fit(widget_keys, app_keys, self.app.size.width - PALETTE_ROOM)
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            # Found by its action, not its key: a keymap may have moved it.
            for _namespace, binding, enabled, tooltip in active.values():
                if binding.action == "command_palette":
                    display = app.get_key_display(binding)
                    tooltip = binding.tooltip or binding.description
                    keys.append(_Key(binding, display, enabled, tooltip, palette=True))
                    break
        return keys

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            self._composed = None
            return
        keys = self._composed = self._keys(self.screen)
        shown = [k for k in keys if not k.palette]
        for group, grouped in groupby(shown, lambda k: k.binding.group):
            members = list(grouped)
            if group is not None and len(members) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for key in members:
                        tooltip = key.tooltip or key.binding.description
                        yield self._footer_key(key, "", tooltip, "-grouped")
                yield FooterLabel(group.description)
            else:
                for key in members:
                    yield self._footer_key(key, key.binding.description, key.tooltip)
        for key in keys:
            if key.palette:
                yield self._footer_key(
                    key, key.binding.description, key.tooltip, "-command-palette"
                )

    def _footer_key(
        self, key: _Key, description: str, tooltip: str, classes: str = ""
    ) -> FooterKey:
        binding = key.binding
        footer_key = FooterKey(
            binding.key,
            key.display,
            description,
            binding.action,
            disabled=not key.enabled,
            tooltip=tooltip,
            classes=classes,
        )
        # Like Textual's footer: the palette key keeps its own look when the footer is compact.
        return footer_key if key.palette else footer_key.data_bind(compact=Footer.compact)

    def on_resize(self) -> None:
        """A new width may fit more keys, or fewer."""
        if self._composed is not None and self.is_attached:
            self.call_after_refresh(self.bindings_changed, self.screen)

    def bindings_changed(self, screen: Screen[object]) -> None:
        composed = self._composed
        if (
            composed is not None
            and screen.app.app_focus
            and self.is_attached
            and screen is self.screen
        ):
            keys = self._keys(screen)
            if keys == composed:
                return
            if [k.look for k in keys] == [k.look for k in composed] and self._restyle(keys):
                self._composed = keys
                return
        super().bindings_changed(screen)

    def _restyle(self, keys: list[_Key]) -> bool:
        """Mark each key on screen enabled or disabled as ``keys`` says.

        False, with nothing changed, when the keys on screen do not match ``keys`` one to one
        (a key and action pair names one key: the same action of two widgets has two keys).
        """
        enabled = {(k.binding.key, k.binding.action): k.enabled for k in keys}
        widgets = list(self.query(FooterKey))
        if len(widgets) != len(enabled) or any(
            (w.key, w.action) not in enabled or not hasattr(w, "_disabled") for w in widgets
        ):
            return False
        for widget in widgets:
            disabled = not enabled[(widget.key, widget.action)]
            widget._disabled = disabled  # FooterKey reads it when clicked: bell, or the key
            widget.set_class(disabled, "-disabled")
        return True

    async def recompose(self) -> None:
        await super().recompose()
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for watcher_list in watchers.values():
            watcher_list[:] = [
                (node, callback)
                for node, callback in watcher_list
                if getattr(node, "is_attached", True)
            ]


PALETTE_ROOM = 14  # the palette key's corner, right-aligned


def _width(keys: list[_Key]) -> int:
    """Cells the keys take in a compact footer: key, a space, label, and a margin after each."""
    return sum(cell_len(k.display) + cell_len(k.binding.description) + 2 for k in keys)


KEEP = ("quit", "show_keys")  # in the footer at any width: how to leave, where the rest is
WIDGET_KEYS_KEPT = 3  # the focused pane's first keys stay before other app keys go


def _fit(widget_keys: list[_Key], app_keys: list[_Key], width: int) -> list[_Key]:
    """The keys that fit `width` cells (f1 and the palette list them all). Left out first: the
    app keys marked as less used (Skip, Reuse, Full view); then the focused pane's last keys,
    down to its first few; then app keys from the end, never Quit nor Keys."""
    if _width(widget_keys + app_keys) > width:
        app_keys = [k for k in app_keys if getattr(BY_ID.get(k.binding.id or ""), "narrow", True)]
    while _width(widget_keys + app_keys) > width and len(widget_keys) > WIDGET_KEYS_KEPT:
        widget_keys = widget_keys[:-1]
    while _width(widget_keys + app_keys) > width:
        droppable = [k for k in app_keys if k.binding.id not in KEEP]
        if not droppable:
            break
        app_keys = [k for k in app_keys if k is not droppable[-1]]
    return widget_keys + app_keys


def _declared_actions(node: object) -> Iterator[str]:
    """The actions of a screen's or the app's class-level BINDINGS, in order."""
    for entry in getattr(type(node), "BINDINGS", ()):
        yield entry.action if isinstance(entry, Binding) else str(entry[1])
