"""WiFi sensing: CSI from ESP32 nodes (spaxel wire-compatible), the per-link signal chain,
the Fresnel voxel grid, blobs and their tracker, falls, and a room's recording and replay.

One room live is :mod:`engine.sensing.service` (node server → signal chain → grid → tracker →
events and snapshots); what it draws from, in the order frames flow:

- :mod:`engine.sensing.nodes`: node ingest. The wire protocol (pure parsing and encoding), the
  node server (WebSocket ``/ws/node`` and ``POST /api/provision`` on one port, its own
  ``sensing-server`` thread), what it admits from strangers, node tokens, and pairing.
- :mod:`engine.sensing.signal`: the per-link signal chain (amplitude, phase, adaptive
  baseline, deltaRMS, motion), vectorised across links.
- :mod:`engine.sensing.grid`: the Fresnel voxel grid (per-link weights, blobs and their
  explanations; ``grid.fresnel``), the blob tracker (``grid.tracker``) and what a node layout
  can see (``grid.capability``). Pure numpy/scipy. ("Fusion" is kept for one person across
  senses, :mod:`engine.fusion`.)
- :mod:`engine.sensing.falls`: fall detection from tracked blobs.
- :mod:`engine.sensing.recording`: a room's recording (``recording.recorder``) and its
  replay through the same chain (``recording.replay``).
- :mod:`engine.sensing.view`: what the console draws; :mod:`engine.sensing.records` reads
  blob history back and asks for pairing through the store; :mod:`engine.sensing.actions` are
  the room's use cases.

BLE identities (which blob carries a registered phone or tag) are :mod:`engine.identity.ble`.
The simulated site (walkers, the CSI they cause, simulated nodes, and scoring against their
truth) is :mod:`engine.sim`, which this package never imports: a room runs simulated nodes
handed to it as :class:`~engine.sensing.service.SimulatedNodes`.
"""
