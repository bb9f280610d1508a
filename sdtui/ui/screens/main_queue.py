"""The main screen's queue actions: the panel opened and closed, jobs taken back into the form.

MainScreen builds on this screen class, which builds on ImageActionsScreen.
"""

from __future__ import annotations

from sdtui.ui.screens.main_actions import ImageActionsScreen
from sdtui.ui.widgets.queue_panel import QueuePanel


class QueueScreen(ImageActionsScreen):
    """What MainScreen does with the queue (see the module's docstring)."""

    queue_panel: QueuePanel
