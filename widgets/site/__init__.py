"""The site overview pane: ``view`` (Qt) and ``api`` (Qt-free)."""
