"""The demo backend: an AUTOMATIC1111-compatible API server that paints synthetic images.

Newcomers try sdtui without a GPU (``sdtui serve-demo``), and tests talk real HTTP to a real
server. Stdlib and Pillow only; never imports Textual.
"""

from sdtui.demo.server import DemoServer

__all__ = ["DemoServer"]
