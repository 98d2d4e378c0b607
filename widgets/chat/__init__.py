"""The Ask (chat) pane: ``view`` (Qt) and ``api`` (Qt-free)."""
