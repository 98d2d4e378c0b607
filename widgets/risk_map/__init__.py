"""The risk map pane: ``view`` (Qt) and ``api`` (Qt-free)."""
