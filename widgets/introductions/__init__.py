"""The Introductions pane: ``view`` (Qt) and ``api`` (Qt-free)."""
