"""The fusion as the runtime runs it: one person across cameras and sensing rooms where the
site has both, with each camera's stored floor calibration (re-read while it runs, so one
saved elsewhere applies within seconds), the person nearest a camera's microphone for
introductions, and the ``fusion`` health line."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Collection

from sqlalchemy.exc import SQLAlchemyError

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import SiteConfig
from engine.events import HealthState
from engine.fusion.floor import camera_calibrations
from engine.fusion.service import FusionService
from engine.health import HealthReport
from engine.store.database import Store
from engine.vision.host import PrivacyMasks
from engine.wording import counted

log = logging.getLogger(__name__)

SETTINGS_REREAD_S = 2.0  # masks and calibrations stored elsewhere (the CLI, another engine)


class FusionHost:
    def __init__(self, site: SiteConfig, bus: EventBus, clock: Clock) -> None:
        self._site = site
        self._bus = bus
        self._clock = clock
        self.service: FusionService | None = None  # started when the site has both senses
        # Keeps a re-read from putting back a calibration an admin has just replaced here.
        self.lock = threading.Lock()

    def start(self, store: Store, site_id: int) -> None:
        """Join camera tracks and sensing blobs into people where the site has both, with
        the cameras calibrated to the floor so far."""
        if not self._site.cameras or not self._site.rooms:
            return
        self.service = FusionService(
            self._bus,
            self._clock,
            cameras=self._site.cameras,
            rooms=self._site.rooms,
            calibrations={
                key: stored.calibration
                for key, stored in camera_calibrations(store, site_id).items()
            },
        )
        self.service.start()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()  # after the rooms and cameras: the paths still open are filed

    def load_calibrations(self, store: Store, site_id: int) -> None:
        """Give the fusion each camera's stored floor calibration where it has another."""
        fusion = self.service
        if fusion is None:
            return
        with self.lock:
            stored = camera_calibrations(store, site_id)
            for camera in self._site.cameras:
                entry = stored.get(camera.id)
                calibration = entry.calibration if entry is not None else None
                if calibration != fusion.calibration_of(camera.id):
                    log.info(
                        "camera %s: floor calibration from the store: %s",
                        camera.id,
                        "removed" if calibration is None else f"{len(calibration.pairs)} points",
                    )
                    fusion.set_calibration(camera.id, calibration)

    def nearest_to_microphone(self, camera: str) -> int | None:
        """The track of ``camera`` whose person is placed nearest the camera's floor
        position (its microphone), or None (no position, not calibrated, nobody)."""
        config = next((c for c in self._site.cameras if c.id == camera), None)
        if self.service is None or config is None or config.position is None:
            return None
        if camera not in self.service.calibrated():
            return None
        return self.service.nearest_track(camera, (config.position.x_m, config.position.y_m))

    def health(self, running: Collection[str]) -> HealthReport | None:
        """Which cameras (of those ``running`` here) are on the floor (joined with the
        rooms' sensing) and how many people the senses share now; a camera not calibrated
        yet is said, with how. None without a fusion."""
        fusion = self.service
        if fusion is None:
            return None
        calibrated = fusion.calibrated()
        cameras = [cam for cam in self._site.cameras if cam.id in running]
        missing = [cam.name for cam in cameras if cam.id not in calibrated]
        latest = fusion.latest()
        people = [p for p in latest.people if not p.waiting] if latest is not None else []
        joined = sum(1 for p in people if len({kind for kind, _, _ in p.members}) > 1)
        now = f"{counted(len(people), 'person', 'people')} in view, {joined} seen by both"
        on_floor = f"{len(cameras) - len(missing)} of {len(cameras)} cameras on the floor"
        if fusion.dropped:
            return HealthReport(
                "fusion",
                HealthState.DEGRADED,
                f"falling behind: {fusion.dropped} sightings dropped; {on_floor}; {now}",
            )
        if len(missing) == len(cameras):
            return HealthReport(
                "fusion",
                HealthState.OFF,
                "no camera calibrated to the floor yet (Floor calibration page): cameras and "
                "sensing rooms are not joined",
            )
        if missing:
            names = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            return HealthReport(
                "fusion",
                HealthState.OK,
                f"{on_floor} ({names} not calibrated: not joined with sensing); {now}",
            )
        return HealthReport("fusion", HealthState.OK, f"{on_floor}; {now}")


def follow_stored_settings(
    store: Store,
    site_id: int,
    masks: PrivacyMasks,
    floor: FusionHost,
    clock: Clock,
    stop: threading.Event,
) -> None:
    """Re-read the stored privacy masks and floor calibrations every
    :data:`SETTINGS_REREAD_S` until ``stop`` and apply those that changed: one saved with
    ``watchfloor cameras mask`` or ``calibrate``, or from a console whose engine is another
    one of a shared site, reaches the cameras and the fusion running here within seconds,
    not at the next start. A failed read keeps what is applied (a camera is never unmasked
    for it) and is logged once until a read succeeds."""
    failing = False
    while not clock.wait(stop, SETTINGS_REREAD_S):
        try:
            masks.load(store, site_id)
            floor.load_calibrations(store, site_id)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            if not failing:
                log.warning("cannot re-read the cameras' masks and calibrations: %s", exc)
            failing = True
        else:
            failing = False
