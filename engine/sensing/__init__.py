"""WiFi sensing: CSI from ESP32 nodes (spaxel wire-compatible), the per-link signal chain,
the Fresnel fusion grid, blobs and their tracker, explanations, and the simulator.

:mod:`engine.sensing.protocol` is the node wire protocol (pure parsing and encoding, no I/O).
"""
