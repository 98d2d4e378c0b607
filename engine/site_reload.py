"""Cameras changed in the site file while the engine runs: each added camera starts, each
removed one stops, each changed one restarts, alone; every other camera runs on untouched.

A live engine follows its site file (:class:`SiteFileFollower`, a thread that looks at the
file every :data:`FOLLOW_INTERVAL_S`): when the file changed and loads, :func:`apply_site`
mirrors it into the store (new cameras get rows), stops and starts the cameras that differ
(their recording, masks and track numbering as at start), updates retention's tiers and the
names alerts use, and publishes :class:`SiteCamerasChanged` so a console adds or removes
their tiles. A file that does not load is reported (the health line ``site``, once per
change) and the engine goes on with what it runs. What else the file changed (sensing
rooms, MQTT, alerting, the detector …) is named as needing a restart.

A shared site's engines each follow the same file the same way, and their leases follow
the cameras (:func:`engine.leases.follow_camera_changes`): an added camera is offered and
taken by one engine, the one with room (as at start; the shares rebalance); a removed or
switched-off one is stopped by the engine running it and its lease deleted, so that no
engine takes it again; a changed one is restarted by its holder; a renamed one runs on.
Each engine mirrors the file into the store as it sees it change: :class:`SyncSite` writes
the file's rows whatever they were (one engine at a time: an advisory lock on PostgreSQL,
SQLite's single writer), so two engines writing the same change, at once or one after the
other, leave the same rows.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Final

from engine.config import CameraConfig, SiteConfig, SiteConfigError, load_site
from engine.events import Event, HealthState, to_console
from engine.health import HealthReport
from engine.leases import follow_camera_changes, prepare_camera
from engine.record.retention_tiers import segment_policies
from engine.report import place_names
from engine.store.sites import SyncSite

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_S: Final = 2.0  # how often a live engine looks at its site file
# Parts of the site file an engine takes only at its start, in words.
RESTART_PARTS: Final = {
    "name": "the site's name",
    "geo_origin": "the site's map position",
    "rooms": "the sensing rooms",
    "sensing_nodes": "the sensing nodes",
    "detector_model": "the people detector",
    "detector": "the people detector",
    "sensing": "sensing",
    "alerts": "alerting",
    "site_time": "the site's time zone",
    "mqtt": "MQTT",
}


class SiteReloadError(RuntimeError):
    """Camera changes cannot be applied by this engine now (the message says why)."""


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class SiteCamerasChanged(Event):
    """The site's cameras changed while the engine ran: ``added``, ``removed`` and
    ``changed`` camera ids (a changed camera was restarted), and what else the file
    changed that takes a restart (in words)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    restart_needed: tuple[str, ...] = ()
    renamed: tuple[str, ...] = ()  # only the name changed: the camera ran on


@dataclass(frozen=True, slots=True)
class SiteChange:
    """How a new version of the site file differs from the running one, camera by camera:
    a camera whose name alone changed is ``renamed`` (it runs on: a new name costs no
    video), any other change to a camera restarts it (``changed``)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    restart_needed: tuple[str, ...] = ()
    renamed: tuple[str, ...] = ()

    @property
    def cameras(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.renamed)

    def words(self) -> str:
        """ "added dock; removed yard; restarted gate" ("" when nothing changed)."""
        parts = [
            f"{what} {', '.join(ids)}"
            for what, ids in (
                ("added", self.added),
                ("removed", self.removed),
                ("restarted", self.changed),
                ("renamed", self.renamed),
            )
            if ids
        ]
        if self.restart_needed:
            parts.append(f"{', '.join(self.restart_needed)} at the next start")
        return "; ".join(parts)


def _camera_differs(old: CameraConfig, new: CameraConfig) -> bool:
    """Whether the camera must restart: any field, or where its password comes from (the
    secret is not compared by ``==``, so a rotated password is just read at reconnect)."""
    if old != new:
        return True
    return _password_source(old) != _password_source(new)


def _password_source(camera: CameraConfig) -> tuple[str | None, ...] | None:
    secret = camera.secret
    if secret is None:
        return None
    return (secret.env, secret.keyring_service, secret.keyring_username)


def site_change(old: SiteConfig, new: SiteConfig) -> SiteChange:
    """What ``new`` changes of ``old`` (see :class:`SiteChange`)."""
    before = {c.id: c for c in old.cameras}
    after = {c.id: c for c in new.cameras}
    changed = tuple(
        cam_id
        for cam_id in after
        if cam_id in before
        and (
            _camera_differs(replace(before[cam_id], name=after[cam_id].name), after[cam_id])
            or old.recording_of(cam_id) != new.recording_of(cam_id)
        )
    )
    renamed = tuple(
        cam_id
        for cam_id in after
        if cam_id in before and cam_id not in changed and before[cam_id].name != after[cam_id].name
    )
    restart: list[str] = []
    for part in fields(SiteConfig):
        words = RESTART_PARTS.get(part.name)
        if words and getattr(old, part.name) != getattr(new, part.name) and words not in restart:
            restart.append(words)
    return SiteChange(
        added=tuple(cam_id for cam_id in after if cam_id not in before),
        removed=tuple(cam_id for cam_id in before if cam_id not in after),
        changed=changed,
        restart_needed=tuple(restart),
        renamed=renamed,
    )


def apply_site(rt: EngineRuntime, new: SiteConfig) -> SiteChange:
    """Run ``new``'s cameras: stop the removed and changed ones, mirror the site into the
    store, start the changed and added ones (see the module). Blocks on the store writer
    and on cameras stopping: call it from a worker. On a shared site, the cameras start
    and stop where their leases are (see the module), after it returns. Raises
    :class:`SiteReloadError` for an engine that cannot (an attached console, an analysis,
    one not started, a shared site's not joined yet)."""
    if rt.attached or rt.file_analysis is not None:
        raise SiteReloadError("only a live engine runs cameras")
    store, writer, ids = rt.store, rt.writer, rt.site_ids
    if store is None or writer is None or ids is None:
        raise SiteReloadError("the engine has not started")
    shared = rt.cluster is not None
    if shared and rt.shared.member is None:
        raise SiteReloadError("the engine has not joined its site's engines yet")
    with rt.site_lock:
        change = site_change(rt.site, new)
        # The parts a restart takes stay as they run; the cameras and recording are new.
        running = replace(
            rt.site,
            cameras=new.cameras,
            disabled_cameras=new.disabled_cameras,
            recording=new.recording,
        )
        if not change.cameras:
            rt.site = running
            rt.cameras.set_site(running)
            return change
        if not shared:  # a shared site's stop where they run, on its member's thread
            for cam_id in (*change.removed, *change.changed):
                rt.cameras.stop_camera(cam_id, handed_over=False)
        synced = writer.execute(
            SyncSite(site=running, at=rt.clock.now(), default_rules=running.alerts.default_rules)
        )
        # In place: the appearance filer and others hold this mapping.
        ids.cameras.update(synced.cameras)
        writer.register_cameras(ids.site_id, synced.cameras)
        rt.site = running
        rt.cameras.set_site(running)
        by_id = {cam.id: cam for cam in running.cameras}
        for cam_id in change.renamed:
            rt.cameras.rename_camera(by_id[cam_id])
        if shared:
            follow_camera_changes(rt, change.changed)
        else:
            for cam_id in (*change.changed, *change.added):
                rt.cameras.masks.load(store, ids.site_id, only=cam_id)
                rt.cameras.start_camera(cam_id, functools.partial(prepare_camera, rt))
        if rt.upkeep.retention is not None:
            rt.upkeep.retention.update(ids.cameras, segment_policies(running, ids.cameras))
        if rt.alerts is not None:
            rt.alerts.set_place_names(place_names(running))
    log.info("site %s: %s", rt.site.name, change.words())
    rt.bus.publish(
        SiteCamerasChanged(
            at=rt.clock.now(),
            added=change.added,
            removed=change.removed,
            changed=change.changed,
            restart_needed=change.restart_needed,
            renamed=change.renamed,
        )
    )
    return change


class SiteFileFollower:
    """Looks at the running site's file every ``interval_s`` seconds (its size, time and
    inode; reading it only when they change) and applies a changed one (see the module).
    ``health()`` is the ``site`` line: OK, or what did not load or apply."""

    def __init__(self, rt: EngineRuntime, interval_s: float = FOLLOW_INTERVAL_S) -> None:
        self._rt = rt
        self._interval_s = interval_s
        self._seen = self._stamp()
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._last_change: SiteChange | None = None
        self._at: datetime | None = None

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._rt.site.file)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def run(self, stop: threading.Event) -> None:
        """The follower's loop (on its own thread) until ``stop`` is set."""
        while not self._rt.clock.wait(stop, self._interval_s):
            self.check()

    def check(self) -> SiteChange | None:
        """Apply the site file if it changed since last seen; the change (None if the file
        is as it was, or did not load)."""
        stamp = self._stamp()
        if stamp == self._seen:
            return None
        self._seen = stamp
        try:
            new = load_site(self._rt.site.file)
        except SiteConfigError as exc:
            self._set(f"the site file changed but does not load ({exc}); the cameras run as "
                      "before", None)  # fmt: skip
            return None
        try:
            change = apply_site(self._rt, new)
        except SiteReloadError as exc:
            self._set(f"the site file changed: {exc}", None)
            return None
        except Exception as exc:  # a camera that cannot start: its own tile says so
            log.exception("applying the site file failed")
            self._set(f"the site file changed but could not be applied: {exc}", None)
            return None
        self._set(None, change)
        return change

    def _set(self, problem: str | None, change: SiteChange | None) -> None:
        with self._lock:
            self._problem = problem
            if change is not None:
                self._last_change, self._at = change, self._rt.clock.now()

    def health(self) -> HealthReport:
        with self._lock:
            problem, change = self._problem, self._last_change
        if problem is not None:
            return HealthReport("site", HealthState.DEGRADED, problem)
        if change is not None and change.restart_needed:
            return HealthReport(
                "site",
                HealthState.DEGRADED,
                f"the site file changed {', '.join(change.restart_needed)}: restart the "
                "engine to take them",
            )
        detail = f"cameras {change.words()}" if change is not None and change.words() else ""
        return HealthReport("site", HealthState.OK, detail or "as the site file says")
