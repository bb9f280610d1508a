"""The queue panel: every job of this session, waiting, running and ended, and what to do with them."""

from __future__ import annotations

from textual.widget import Widget

from sdtui.ui.context import AppContext


class QueuePanel(Widget):
    """The jobs of the queue, one row each (hidden until opened)."""

    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.display = False
