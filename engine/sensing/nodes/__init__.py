"""Node ingest: the ESP32 nodes' wire protocol and the server they connect to.

- :mod:`~engine.sensing.nodes.protocol`: the node wire protocol (pure parsing and encoding).
- :mod:`~engine.sensing.nodes.server`: the node server (WebSocket ``/ws/node`` and
  ``POST /api/provision`` on one port, on its own ``sensing-server`` thread).
- :mod:`~engine.sensing.nodes.admission`: what the server lets in from strangers.
- :mod:`~engine.sensing.nodes.tokens`: node tokens, stored only as their SHA-256.
- :mod:`~engine.sensing.nodes.pairing`: the pairing window, opened from another process.
"""
