"""Modal dialogs: small questions a pane or screen asks, each closed by the dialog key (esc)."""
