"""The simulated site: a product feature for the demo (shown as SIMULATED) and the truth the
sensing and the fusion are scored against. Live code never imports it (an import-linter
contract says so): it takes what it simulates through protocols of its own, and the
composition root (:mod:`engine.runtime`) hands it this package's objects.

- :mod:`engine.sim.nodes`: walkers in a room, the CSI the nodes would measure from a stated
  physical model, and node clients that send it to a node server over WebSocket.
- :mod:`engine.sim.postures`: falls, sitting and lying down, a dropped object (built on the
  walkers of :mod:`engine.sim.nodes`).
- :mod:`engine.sim.room`: what a room simulates (:class:`~engine.sim.room.SimulationSpec`,
  a :class:`~engine.sensing.service.SimulatedNodes`), the plan a separate process builds it
  from, and the running simulation with its truth.
- :mod:`engine.sim.scene`: the simulated camera's picture (floor and walkers, rendered).
- :mod:`engine.sim.camera`: the simulated camera, read like any camera's.
- :mod:`engine.sim.walkthrough`: people walking across a site's floor, through cameras and
  rooms (a :class:`~engine.vision.source.SimulatedScene`).
- :mod:`engine.sim.sensing_score`: a simulated room run end to end and scored against its
  walkers (``watchfloor sense simulate``, the sensing benchmarks).
- :mod:`engine.sim.fusion_score`: the fusion scored against the walkthrough's truth
  (``watchfloor fusion simulate``, the fusion benchmark).
"""
