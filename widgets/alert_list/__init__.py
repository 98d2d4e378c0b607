"""The Alerts list administration page: ``view`` (Qt) and ``api`` (Qt-free)."""
