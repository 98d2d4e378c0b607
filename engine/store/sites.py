"""Mirroring the site file into the database (sites, cameras, sensing nodes)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.clock import Clock
from engine.config import SiteConfig
from engine.store.database import Store
from engine.store.models import Camera, SensingNode, Site


@dataclass(frozen=True, slots=True)
class SiteIds:
    """Database ids for one synced site: ``cameras`` maps a camera's config id to its row."""

    site_id: int
    cameras: dict[str, int]


def sync_site(store: Store, site: SiteConfig, clock: Clock) -> SiteIds:
    """Insert or update the site and its devices in one transaction. Devices no longer in
    the file are disabled, not deleted, so their history keeps pointing at them."""
    with store.transaction() as session:
        row = session.scalar(select(Site).where(Site.name == site.name))
        if row is None:
            row = Site(name=site.name, geo_lat=0.0, geo_lon=0.0, updated_at=clock.now())
            session.add(row)
        row.geo_lat, row.geo_lon = site.geo_origin.lat, site.geo_origin.lon
        row.config_path = str(site.file)
        row.updated_at = clock.now()
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
        return SiteIds(site_id=row.id, cameras=ids)


ANALYSED_VIDEOS_SITE = "Analysed videos"


def register_video_camera(store: Store, camera_key: str, video: str, clock: Clock) -> SiteIds:
    """The camera row that events and clips from ``watchfloor analyze`` of ``video`` belong
    to, under a site of its own so analysed files never mix with a live site's cameras."""
    with store.transaction() as session:
        site = session.scalar(select(Site).where(Site.name == ANALYSED_VIDEOS_SITE))
        if site is None:
            site = Site(name=ANALYSED_VIDEOS_SITE, geo_lat=0.0, geo_lon=0.0, updated_at=clock.now())
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
        return SiteIds(site_id=site.id, cameras={camera_key: camera.id})
