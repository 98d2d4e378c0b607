"""What the Floor calibration and Privacy masks pages may do, bound to the running engine:
read a camera's stored floor calibration or privacy mask and store a new one.

Every method blocks (a store read, a wait on the store writer); the console runs them on the
query service's workers (through :class:`console.queries.QtQueryClient`), never on the GUI
thread. A calibration is stored as the person logged in at the console
(:class:`console.session.ConsoleSession`) through the same engine command as ``watchfloor
cameras calibrate`` (:class:`~engine.fusion.floor.CalibrateCamera`): the store writer checks
the configure-cameras permission and audits it (``camera.calibrate``), refusals included.
"""

from __future__ import annotations

from console.session import ConsoleSession
from engine.fusion import actions as fusion_actions
from engine.fusion.floor import (
    FloorCalibration,
    StoredCalibration,
    camera_calibrations,
)
from engine.runtime import EngineRuntime
from engine.store.database import Store
from engine.vision import actions as vision_actions
from engine.vision.privacy import PrivacyMask, StoredPrivacyMask, privacy_masks


class FloorCalibrationBackend:
    """Blocking calls for the Floor calibration page, run on query worker threads.
    Satisfies :class:`widgets.floor_calibration.api.FloorCalibrationActions`."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person

    def stored_calibration(self, camera: str) -> StoredCalibration | None:
        return camera_calibrations(self._store, self._site_id()).get(camera)

    def save_calibration(self, camera: str, calibration: FloorCalibration) -> StoredCalibration:
        """Store ``calibration`` for ``camera`` and read it back: what the page shows is
        the stored row (who, when), not the copy it sent."""
        actor = self._session.require_actor("calibrate cameras")
        # Through the runtime: stored, and its tracks placed on the floor with it at once.
        rt = self._runtime
        site_id = rt.site_ids.site_id if rt.site_ids is not None else None
        fusion_actions.calibrate_camera(
            rt.floor, rt.writer, site_id, rt.clock, camera, calibration, actor
        )
        stored = self.stored_calibration(camera)
        if stored is None:  # committed before execute returned: only a vanished camera
            raise RuntimeError(f"the calibration of camera {camera!r} was not found after saving")
        return stored

    def _site_id(self) -> int:
        ids = self._runtime.site_ids
        if ids is None:
            raise RuntimeError("camera calibrations need a live engine with a store")
        return ids.site_id


class PrivacyMasksBackend:
    """Blocking calls for the Privacy masks page, run on query worker threads. Satisfies
    :class:`widgets.privacy_masks.api.PrivacyMaskActions`. A mask is stored as the person
    logged in through the same engine command as ``watchfloor cameras mask``
    (:class:`~engine.vision.privacy.SetPrivacyMasks`, audited as ``camera.mask``, refusals
    included), and the running camera masks its next frame with it."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session

    def stored_mask(self, camera: str) -> StoredPrivacyMask | None:
        return privacy_masks(self._store, self._site_id()).get(camera)

    def save_mask(self, camera: str, mask: PrivacyMask) -> StoredPrivacyMask | None:
        """Store ``mask`` for ``camera`` and apply it to the running camera, then read it
        back: what the page shows is the stored row (who, when). None: cleared."""
        actor = self._session.require_actor("change privacy masks")
        rt = self._runtime
        site_id = rt.site_ids.site_id if rt.site_ids is not None else None
        vision_actions.set_privacy_mask(
            rt.cameras.masks, rt.writer, site_id, rt.clock, camera, mask, actor
        )
        stored = self.stored_mask(camera)
        if stored is None and not mask.empty:
            raise RuntimeError(f"the privacy mask of camera {camera!r} was not found after saving")
        return stored

    def _site_id(self) -> int:
        ids = self._runtime.site_ids
        if ids is None:
            raise RuntimeError("privacy masks need a live engine with a store")
        return ids.site_id
