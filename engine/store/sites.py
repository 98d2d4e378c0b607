"""Mirroring the site file into the database (sites, cameras, sensing nodes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.config import SiteConfig
from engine.store.commands import StoreCommand
from engine.store.models import Camera, Event, SensingNode, Site


@dataclass(frozen=True, slots=True)
class SiteIds:
    """Database ids for one synced site: ``cameras`` maps a camera's config id to its row."""

    site_id: int
    cameras: dict[str, int]
    last_track_ids: dict[str, int] = field(default_factory=dict)
    """Highest track id stored per camera key: new tracks number on from there, so a
    (camera, track id) pair names one track for good."""
    last_blob_id: int = 0
    """Highest sensing blob id stored (events from ``sensing:…`` sources): blob ids number on
    from there, so a blob id names one blob for good."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncSite(StoreCommand):
    """Insert or update the site and its devices (one transaction). Devices no longer in
    the file are disabled, not deleted, so their history keeps pointing at them. Returns
    the :class:`SiteIds`."""

    site: SiteConfig
    at: datetime

    def apply(self, session: Session) -> SiteIds:
        site, now = self.site, self.at
        row = session.scalar(select(Site).where(Site.name == site.name))
        if row is None:
            row = Site(name=site.name, geo_lat=0.0, geo_lon=0.0, updated_at=now)
            session.add(row)
        row.geo_lat, row.geo_lon = site.geo_origin.lat, site.geo_origin.lon
        row.config_path = str(site.file)
        row.updated_at = now
        session.flush()

        cameras = {
            c.key: c for c in session.scalars(select(Camera).where(Camera.site_id == row.id))
        }
        for cam in site.cameras:
            camera = cameras.pop(cam.id, None) or Camera(site_id=row.id, key=cam.id)
            camera.name, camera.url, camera.source_kind = cam.name, cam.url, cam.kind.value
            camera.floor_x_m = cam.position.x_m if cam.position else None
            camera.floor_y_m = cam.position.y_m if cam.position else None
            camera.geo_lat = cam.geo.lat if cam.geo else None
            camera.geo_lon = cam.geo.lon if cam.geo else None
            camera.enabled = True
            session.add(camera)
        for stale in cameras.values():
            stale.enabled = False

        nodes = {
            n.key: n
            for n in session.scalars(select(SensingNode).where(SensingNode.site_id == row.id))
        }
        for node_cfg in site.sensing_nodes:
            node = nodes.pop(node_cfg.id, None) or SensingNode(site_id=row.id, key=node_cfg.id)
            node.name = node_cfg.name
            node.x_m, node.y_m, node.z_m = (
                node_cfg.position.x_m,
                node_cfg.position.y_m,
                node_cfg.position.z_m,
            )
            node.enabled = True
            session.add(node)
        for stale_node in nodes.values():
            stale_node.enabled = False
        session.flush()
        ids = {
            c.key: c.id
            for c in session.scalars(
                select(Camera).where(Camera.site_id == row.id, Camera.enabled.is_(True))
            )
        }
        return SiteIds(
            site_id=row.id,
            cameras=ids,
            last_track_ids=_last_track_ids(session, ids),
            last_blob_id=last_blob_id(session),
        )


def last_blob_id(session: Session) -> int:
    """The highest blob id any sensing event carries (0 when there is none)."""
    last = session.scalar(
        select(func.max(Event.track_id)).where(
            Event.source.like("sensing:%"), Event.camera_id.is_(None)
        )
    )
    return int(last or 0)


ANALYSED_VIDEOS_SITE = "Analysed videos"


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterVideoCamera(StoreCommand):
    """The camera row that events and clips from ``watchfloor analyze`` of ``video`` belong
    to, under a site of its own so analysed files never mix with a live site's cameras.
    Returns the :class:`SiteIds` of that site with just this camera."""

    camera_key: str
    video: str
    at: datetime

    def apply(self, session: Session) -> SiteIds:
        camera_key, video, now = self.camera_key, self.video, self.at
        site = session.scalar(select(Site).where(Site.name == ANALYSED_VIDEOS_SITE))
        if site is None:
            site = Site(name=ANALYSED_VIDEOS_SITE, geo_lat=0.0, geo_lon=0.0, updated_at=now)
            session.add(site)
            session.flush()
        camera = session.scalar(
            select(Camera).where(Camera.site_id == site.id, Camera.key == camera_key)
        )
        if camera is None:
            camera = Camera(
                site_id=site.id,
                key=camera_key,
                name=camera_key,
                url=video,
                source_kind="file",
                enabled=False,
            )
            session.add(camera)
        camera.url = video
        session.flush()
        ids = {camera_key: camera.id}
        return SiteIds(site_id=site.id, cameras=ids, last_track_ids=_last_track_ids(session, ids))


def _last_track_ids(session: Session, cameras: dict[str, int]) -> dict[str, int]:
    by_id = {camera_id: key for key, camera_id in cameras.items()}
    rows = session.execute(
        select(Event.camera_id, func.max(Event.track_id))
        .where(Event.camera_id.in_(list(by_id)))
        .group_by(Event.camera_id)
    )
    return {
        by_id[camera_id]: int(last)
        for camera_id, last in rows
        if camera_id is not None and last is not None
    }
