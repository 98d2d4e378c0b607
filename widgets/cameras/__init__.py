"""The camera grid pane: ``view`` (the grid), ``tile`` (one camera) and ``api``."""
