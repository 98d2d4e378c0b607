"""The Alert rules administration page: ``view`` (Qt) and ``api`` (Qt-free)."""
