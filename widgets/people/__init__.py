"""The People pane: ``view`` (Qt) and ``api`` (Qt-free)."""
