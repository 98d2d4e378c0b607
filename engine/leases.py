"""What a running engine starts and stops as a shared site's leases come and go.

A shared site's engine joins the site's engines (:meth:`engine.cluster.host.SharedSite.join`)
and runs the cameras, rooms and site services it holds a lease for: each started when its
lease is gained (a camera readied first: its tracks numbered after any engine's, those a
stopped engine left open ended, its clips recorded) and stopped when it is lost. An engine
alone on its site starts its rooms and site services the same way, at start.

Its site file changing while it runs (:mod:`engine.site_reload`) changes the cameras it
wants (:func:`follow_camera_changes`): a new camera's lease is offered and the engine with
room takes it, a removed one is stopped where it runs and its lease deleted, a changed one
restarted by the engine holding it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.cluster.leases import SITE_SERVICES, Resource, resources_of
from engine.cluster.member import CHANGED_WHY, REMOVED_WHY
from engine.report import heartbeat
from engine.sensing.host import sensing_rooms
from engine.store.sites import last_track_id, read_last_blob_id
from engine.vision.pipeline import CameraPipeline

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime

log = logging.getLogger(__name__)


def join_site(rt: EngineRuntime, site_id: int, on_name_lost: Callable[[str], None]) -> None:
    """Join the site's engines, wanting its cameras, rooms and services
    (:class:`~engine.cluster.leases.EngineNameTakenError` when the name is in use)."""
    rt.shared.join(
        site_id,
        site_resources(rt),
        frames=rt.cameras.frames,
        listeners=rt.listeners,
        on_acquire=functools.partial(lease_acquired, rt),
        on_release=functools.partial(lease_released, rt),
        health=functools.partial(heartbeat, rt),
        on_name_lost=on_name_lost,
    )


def site_resources(rt: EngineRuntime) -> dict[Resource, str | None]:
    """What the running site asks the leases for: its cameras (→ the engine each is pinned
    to), its sensing rooms and the site services."""
    return resources_of(
        [(cam.id, cam.engine) for cam in rt.site.cameras],
        [room.room_id for room in sensing_rooms(rt.site)],
    )


def follow_camera_changes(rt: EngineRuntime, changed: tuple[str, ...]) -> None:
    """The site's cameras changed (``rt.site`` is the new one; ``changed``: cameras to
    restart where they run): the leases follow (see the module). Reads the database: call
    it from a worker. The starts and stops happen on the member's work thread."""
    member = rt.shared.member
    if member is None:
        return
    member.change_wanted(site_resources(rt), restart=[("camera", cam_id) for cam_id in changed])


def lease_acquired(rt: EngineRuntime, resource: Resource) -> None:
    kind, key = resource
    if resource == SITE_SERVICES:
        start_site_services(rt)
    elif kind == "camera":
        if all(cam.id != key for cam in rt.site.cameras):
            raise LookupError(f"camera {key} is no longer in the site file")
        if rt.store is not None and rt.site_ids is not None:
            # The mask as stored now: another engine or a console may have changed it.
            rt.cameras.masks.load(rt.store, rt.site_ids.site_id, only=key)
        rt.cameras.start_camera(key, functools.partial(prepare_camera, rt))
    elif kind == "room":
        start_room(rt, key)
    log.info("engine %s runs %s %s", rt.cluster.name if rt.cluster else "", kind, key)


def lease_released(rt: EngineRuntime, resource: Resource, why: str) -> None:
    kind, key = resource
    if resource == SITE_SERVICES:
        stop_site_services(rt)
    elif kind == "camera":
        # Removed or changed in the site file: not handed to another engine.
        rt.cameras.stop_camera(key, handed_over=why not in (REMOVED_WHY, CHANGED_WHY))
    elif kind == "room":
        rt.sensing.stop_room(key)
    if rt.writer is not None:
        # What it saw is stored before another engine numbers tracks after it.
        rt.writer.flush(timeout_s=10.0)
    log.info("engine %s stopped %s %s: %s", rt.cluster.name if rt.cluster else "",
             kind, key, why)  # fmt: skip


def prepare_camera(rt: EngineRuntime, cam_id: str, pipeline: CameraPipeline) -> None:
    """A shared site's camera starting here: its tracks numbered after the last one any
    engine stored, those a stopped engine left open ended, its clips recorded."""
    if rt.store is None or rt.site_ids is None:
        return
    ids = rt.site_ids
    last = last_track_id(rt.store, ids.cameras.get(cam_id))
    if last is not None:
        pipeline.analyzer.tracker.number_after(last)
    rt.shared.end_lost_tracks(cam_id, ids.cameras.get(cam_id), ids.site_id, rt.writer)
    pipeline.recorder = rt.recording.clip_recorder(
        cam_id, ids.cameras.get(cam_id), rt.site.recording_of(cam_id)
    )


def start_site_services(rt: EngineRuntime) -> None:
    """The incident service (risk model, nightly refit) and meaning search's indexer:
    one per site; on a shared site, MQTT publishing the whole site with them."""
    assert rt.store is not None and rt.writer is not None and rt.site_ids is not None
    rt.site_services.start(rt.store, rt.writer, rt.site_ids.site_id)
    if rt.cluster is not None and rt.site.mqtt is not None:
        rt.mqtt.start_shared(rt.site_ids.site_id, rt.cluster.name)


def stop_site_services(rt: EngineRuntime) -> None:
    if rt.cluster is not None:
        rt.mqtt.stop_shared()
    rt.site_services.hand_over()


def start_room(rt: EngineRuntime, room_id: str) -> None:
    """The site's sensing room ``room_id``, its blobs numbered after the last one stored
    (on a shared site, after another engine's); a simulated site's, its simulated nodes."""
    index = rt.sensing.index_of(room_id)
    if index is None or room_id in rt.sensing.services:
        return
    simulation = rt.simulated.room(room_id, index)
    last = rt.site_ids.last_blob_id if rt.site_ids is not None else 0
    if rt.cluster is not None and rt.store is not None:  # after another engine's blobs
        last = read_last_blob_id(rt.store)
    rt.sensing.start_room(room_id, last_blob_id=last, simulation=simulation)
