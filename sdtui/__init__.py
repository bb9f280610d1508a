"""sdtui: a keyboard-driven terminal client for Stable Diffusion web UI servers."""

__version__ = "0.1.0"
