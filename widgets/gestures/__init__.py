"""The Gestures page and teaching wizard: ``view`` (Qt) and ``api`` (Qt-free)."""
