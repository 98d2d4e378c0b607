"""The Audit administration page: ``view`` (Qt) and ``api`` (Qt-free)."""
