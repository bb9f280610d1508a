"""Editing keys applied in the order they were typed.

Textual runs a focused widget's own key bindings (ctrl+u, ctrl+a, backspace…) only after the key
has travelled up to the app and back, while a plain character is inserted at once. Keys that
arrive together (a fast typist, a paste, tmux replaying input) were therefore applied out of
order: ctrl+u then "4" in a field holding "20" left it empty, ctrl+a then "cat " in the prompt
gave "dogcat ". Widgets that mix in `InOrderKeys` run their own (non-priority) binding for a key
as soon as the key reaches them.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input


async def run_own_binding(widget: Widget, event: events.Key) -> None:
    """Run `widget`'s own binding for this key now; the key goes no further if one ran."""
    # Internal: a widget's bindings (keymap applied) live in `_bindings.key_to_bindings`;
    # tests/test_private_internals.py holds it by name.
    for binding in widget._bindings.key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()  # the widget's own key handler must not run it again
            return


class NumberInput(Input):
    """An `Input` whose editing keys apply in the order typed."""

    async def _on_key(self, event: events.Key) -> None:
        await run_own_binding(self, event)
