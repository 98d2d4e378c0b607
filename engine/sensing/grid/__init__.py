"""The Fresnel voxel grid and tracking: per-link motion placed in 3D, blobs, their tracker.

- :mod:`~engine.sensing.grid.fresnel`: Fresnel zones, the voxel grid and its per-link weights
  (:class:`~engine.sensing.grid.fresnel.GridModel`), blobs and their explanations.
- :mod:`~engine.sensing.grid.tracker`: stable blob ids across ticks (a Kalman filter each).
- :mod:`~engine.sensing.grid.capability`: what a node layout can see, from its geometry.

(The word "fusion" is kept for one person across senses, :mod:`engine.fusion`.)
"""
