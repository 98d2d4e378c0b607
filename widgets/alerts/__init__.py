"""The live alert stream pane: ``view`` (Qt) and ``api`` (Qt-free)."""
