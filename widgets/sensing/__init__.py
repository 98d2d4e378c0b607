"""The sensing pane: ``view``, ``compare`` (the re-run dialog) and ``api``."""
