"""The System administration page: ``view`` (Qt) and ``api`` (Qt-free)."""
