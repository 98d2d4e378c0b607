"""The BLE devices administration page: ``view`` (Qt) and ``api`` (Qt-free)."""
