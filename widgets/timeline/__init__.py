"""The timeline pane: ``view``, ``replay_bar`` (Qt) and ``api`` (Qt-free)."""
