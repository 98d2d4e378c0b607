"""The floor's use cases: calibrating a camera to the floor plan. The console's backends
and ``watchfloor calibrate`` call it; it names the permission it needs (the store writer
checks it and audits). It blocks on the store writer: call it off the GUI thread."""

from __future__ import annotations

from engine.access import Actor, Permission, needs
from engine.clock import Clock
from engine.fusion.floor import CalibrateCamera, FloorCalibration
from engine.fusion.host import FusionHost
from engine.store.writer import StoreWriter


@needs(Permission.CONFIGURE_CAMERAS)
def calibrate_camera(
    floor: FusionHost,
    writer: StoreWriter | None,
    site_id: int | None,
    clock: Clock,
    camera: str,
    calibration: FloorCalibration,
    actor: Actor,
) -> FloorCalibration:
    """Store ``calibration`` for ``camera`` as ``actor`` (audited) and place its tracks on
    the floor with it from now on (``floor``: the running engine's fusion)."""
    if writer is None or site_id is None:
        raise RuntimeError("no database: a calibration cannot be stored")
    with floor.lock:
        stored: FloorCalibration = writer.execute(
            CalibrateCamera(
                site_id=site_id, camera=camera, calibration=calibration, at=clock.now(), actor=actor
            )
        )
        if floor.service is not None:
            floor.service.set_calibration(camera, stored)
    return stored
