"""WiFi sensing: CSI from ESP32 nodes (spaxel wire-compatible), the per-link signal chain,
the Fresnel fusion grid, blobs and their tracker, explanations, and the simulator.

- :mod:`engine.sensing.nodes.protocol`: the node wire protocol (pure parsing and encoding, no I/O).
- :mod:`engine.sensing.signal`: the per-link signal chain (amplitude, phase, adaptive
  baseline, deltaRMS, motion), vectorised across links.
- :mod:`engine.sensing.grid.fresnel`: the voxel grid, per-link Fresnel weights, blobs, their
  explanations and the blob tracker (pure numpy/scipy).
- :mod:`engine.sensing.nodes.server`: the node server (WebSocket ``/ws/node`` and
  ``POST /api/provision`` on one port, on its own ``sensing-server`` thread) and its
  registry of nodes.
- :mod:`engine.sensing.service`: one sensing room live (server → signal chain → fusion →
  tracker → events and snapshots); :mod:`engine.sensing.evaluate` scores it against the
  simulator; :mod:`engine.sensing.records` reads blob history back; :mod:`engine.sensing.view`
  is what the console draws.
- :mod:`engine.identity.ble`: BLE identities (path-loss distance, weighted trilateration, the
  device-to-blob match); not yet fed by the service.
- :mod:`engine.sensing.simulator`: the demo's simulated site: walkers in a room, the CSI the
  nodes would measure from a stated physical model (free-space paths, a wall reflection,
  one 1/n² Fresnel-weighted path per walker, noise, AGC and int8), and node clients that
  send it to the node server over WebSocket as real nodes do.
"""
