"""The Events pane: ``view``, ``clip_player`` (Qt) and ``api`` (Qt-free)."""
