"""Keys applied in the order typed, by the widget they were typed into.

Keys that arrive together (a fast typist, a paste, tmux replaying input) are all handed to the
widget focused when they arrive. Two things then went wrong in Textual's own handling:

- A widget's own key bindings (ctrl+u, ctrl+a, backspace…) run only after the key has travelled
  up to the app, while a plain character is inserted at once: ctrl+u then "4" in a field holding
  "20" left it empty, ctrl+a then "cat " in the prompt gave "dogcat ".
- A Tab moves the focus only once it has travelled up to the screen: the keys typed after it
  still went to the widget it left. From the prompt, Tab Tab ctrl+u "4" wiped the prompt and
  typed "4" into it, instead of into Steps.

Widgets that call `in_order` from their key handler move the focus for Tab at once, run their
own (non-priority) binding for a key as soon as it reaches them, and pass a key that reached
them after the focus had moved on to the widget that has it now.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.widget import Widget
from textual.widgets import Input

from sdtui.ui.actions import FOCUS_KEYS

MAX_HOPS = 8  # widgets a burst of keys may pass through before a deferred action runs anyway


async def in_order(widget: Widget, event: events.Key) -> None:
    """Handle `event` for `widget` as described above; the key goes no further if it was."""
    focused = widget.app.focused
    if focused is not None and focused is not widget:
        # Typed after a key that moved the focus: it is the newly focused widget's.
        _consume(event)
        focused.post_message(events.Key(event.key, event.character))
        return
    move = FOCUS_KEYS.get(event.key)
    if move is not None:
        _consume(event)
        getattr(widget.screen, move)()
        return
    await run_own_binding(widget, event)


async def run_own_binding(widget: Widget, event: events.Key) -> None:
    """Run `widget`'s own binding for this key now; the key goes no further if one ran."""
    # Internal: a widget's bindings (keymap applied) live in `_bindings.key_to_bindings`;
    # tests/test_private_internals.py holds it by name.
    for binding in widget._bindings.key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            _consume(event)
            return


def _consume(event: events.Key) -> None:
    event.stop()
    event.prevent_default()  # the widget's own key handler must not act on it again


class NumberInput(Input):
    """An `Input` whose keys apply in the order typed, where they were typed."""

    async def _on_key(self, event: events.Key) -> None:
        await in_order(self, event)


def after_typed_keys(widget: Widget, callback: Callable[[], object], hops: int = 0) -> None:
    """Run `callback` once the keys typed before now have been applied: a priority key (the
    generate key) runs as soon as the app reads it, ahead of keys still queued at the focused
    widget, or passed on by it to the widget a Tab moved the focus to."""
    focused = widget.app.focused
    if focused is None or hops > MAX_HOPS:
        callback()
        return

    def then() -> None:
        if widget.app.focused is not focused:  # keys went on to another widget: follow them
            after_typed_keys(widget, callback, hops + 1)
        else:
            callback()

    focused.call_later(then)
