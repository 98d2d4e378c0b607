"""The Floor calibration page: ``view`` (Qt), ``api`` and ``geometry`` (Qt-free)."""
