"""The Accounts administration page: ``view`` (Qt) and ``api`` (Qt-free)."""
