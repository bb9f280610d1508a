"""Textual's footer, without the leak its re-composition has in Textual 8.

The footer re-composes whenever the active bindings change (focus moves, a job starts or ends).
Each new FooterKey binds its `compact` reactive to the footer, which registers a watcher on the
footer; Textual only prunes a watcher list when the watched value changes, and the footer's
`compact` never does, so every key ever shown stays reachable (about 45 KB per re-composition).
"""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    async def recompose(self) -> None:
        await super().recompose()
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for watcher_list in watchers.values():
            watcher_list[:] = [
                (node, callback)
                for node, callback in watcher_list
                if getattr(node, "is_attached", True)
            ]
