"""The Bookmarks pane: ``view`` (Qt) and ``api`` (Qt-free)."""
