"""What the Floor calibration page asks of the console (:class:`FloorCalibrationActions`).

No Qt here (``import widgets.floor_calibration.api`` loads no PySide6): the console's
backends import this module, never the view.
"""

from __future__ import annotations

from typing import Protocol

from engine.fusion.floor import FloorCalibration, StoredCalibration


class FloorCalibrationActions(Protocol):
    """What the page asks of the console. Every call blocks (a store read, a wait on the
    store writer): the page runs them off the GUI thread."""

    def stored_calibration(self, camera: str) -> StoredCalibration | None:
        """Camera ``camera``'s stored calibration (its key), or None when it has none."""
        ...

    def save_calibration(self, camera: str, calibration: FloorCalibration) -> StoredCalibration:
        """Store ``calibration`` for ``camera`` as the person logged in (the engine checks
        the configure-cameras permission and audits it), replacing any earlier one; returns
        it as stored."""
        ...
