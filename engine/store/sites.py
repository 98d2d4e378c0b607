"""Mirroring the site file into the database (sites, cameras, sensing nodes), and the
default alert rules a site's cameras start with."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine.config import SiteConfig
from engine.store.alert_models import AlertRule, AlertRuleDefaults
from engine.store.commands import StoreCommand
from engine.store.database import SITE_SYNC_LOCK, Store
from engine.store.models import Camera, Event, SensingNode, Site
from engine.text import printable


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
    recordings: dict[str, str] = field(default_factory=dict)
    """Cameras of analysed recordings (``watchfloor analyze``) filed under this site: key to
    name. They are not in the site file, so they have no live feed, but their events and
    clips are the site's (the console lists them beside its cameras)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncSite(StoreCommand):
    """Insert or update the site and its devices (one transaction). Devices no longer in
    the file are disabled, not deleted, so their history keeps pointing at them. Each of
    the file's cameras not given the default alert rules yet gets them (see
    :func:`give_default_rules`) when ``default_rules``: all of a new site's cameras, and a
    camera added later. The engine asks for them where it mirrors the site (at start, on a
    site-file change, a camera added from the CLI); tests and tools that mirror a site
    for other ends leave them out, and then no camera is marked given. Returns the
    :class:`SiteIds`."""

    site: SiteConfig
    at: datetime
    default_rules: bool = False

    def apply(self, session: Session) -> SiteIds:
        site, now = self.site, self.at
        if session.get_bind().dialect.name == "postgresql":
            # Engines of a shared site start together on a new database: one mirrors the
            # site at a time (the lock ends with the transaction), so the others find its
            # rows instead of inserting them again ("duplicate key … sites_name_key").
            # SQLite's writers take turns anyway.
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": SITE_SYNC_LOCK}
            )
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
            # An analysed recording's camera is not in the file but stays the site's.
            stale.enabled = stale.source_kind == RECORDING_KIND

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
        if self.default_rules:
            in_file = {cam.id for cam in site.cameras}
            give_default_rules(
                session,
                [
                    c
                    for c in session.scalars(
                        select(Camera).where(Camera.site_id == row.id).order_by(Camera.id)
                    )
                    if c.key in in_file
                ],
                now,
            )
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
            recordings=recording_cameras(session, row.id),
        )


AFTER_HOURS_FROM_MIN = 22 * 60  # 22:00 site time
AFTER_HOURS_UNTIL_MIN = 6 * 60  # 06:00 the next morning
DEFAULT_LOITER_S = 120.0  # longer than a passer-by or someone waiting at a door
DEFAULT_RULE_CREATOR = "engine:default-rules"
RULE_NAME_LEN = 100  # AlertRule.name's column


def default_rule_names(camera_name: str) -> tuple[str, str]:
    """The names of a camera's default rules: ``After hours: Front gate``,
    ``Loitering: Front gate``."""
    name = printable(camera_name).strip()
    return f"After hours: {name}"[:RULE_NAME_LEN], f"Loitering: {name}"[:RULE_NAME_LEN]


def give_default_rules(session: Session, cameras: Collection[Camera], at: datetime) -> list[str]:
    """Give each of ``cameras`` not given them before the default alert rules, switched on,
    each of which an admin may switch off, change or remove: a person in view after hours
    (22:00-06:00 site time, every day) and loitering longer than 120 s (at any hour). Each
    camera gets them once (``alert_rule_defaults``), so rules an admin removed do not come
    back. A name another rule has already (a camera of the same name at another site) gets
    the camera's key after it. Returns the names of the rules made."""
    if not cameras:
        return []
    given = set(
        session.scalars(
            select(AlertRuleDefaults.camera_id).where(
                AlertRuleDefaults.camera_id.in_([c.id for c in cameras])
            )
        )
    )
    made: list[str] = []
    for camera in cameras:
        if camera.id in given:
            continue
        after_hours, loitering = default_rule_names(camera.name or camera.key)
        for name, trigger, loiter_s, span in (
            (after_hours, "person", None, (AFTER_HOURS_FROM_MIN, AFTER_HOURS_UNTIL_MIN)),
            (loitering, "loitering", DEFAULT_LOITER_S, (0, 24 * 60)),
        ):
            name = _free_rule_name(session, name, camera.key)
            session.add(
                AlertRule(
                    name=name,
                    camera_id=camera.id,
                    room=None,
                    trigger=trigger,
                    loiter_s=loiter_s,
                    gesture=None,
                    zone=None,
                    days=0b1111111,
                    armed_from_min=span[0],
                    armed_until_min=span[1],
                    severity="warning",
                    enabled=True,
                    created_at=at,
                    created_by=DEFAULT_RULE_CREATOR,
                    instructions=None,
                    comment_required=False,
                )
            )
            session.flush()
            made.append(name)
        session.add(AlertRuleDefaults(camera_id=camera.id, given_at=at))
    session.flush()
    return made


def _free_rule_name(session: Session, name: str, camera_key: str) -> str:
    candidate, number = name, 1
    while session.scalar(select(AlertRule.id).where(AlertRule.name == candidate)) is not None:
        number += 1
        suffix = f" ({camera_key})" if number == 2 else f" ({camera_key} {number})"
        candidate = name[: RULE_NAME_LEN - len(suffix)] + suffix
    return candidate


def last_track_id(store: Store, camera_id: int | None) -> int | None:
    """The highest track id stored for a camera (by its database id), or None: where an
    engine taking a shared site's camera over numbers its tracks on from."""
    if camera_id is None:
        return None
    with store.transaction() as session:
        last = session.scalar(select(func.max(Event.track_id)).where(Event.camera_id == camera_id))
    return int(last) if last is not None else None


def read_last_blob_id(store: Store) -> int:
    """:func:`last_blob_id` in a transaction of its own."""
    with store.transaction() as session:
        return last_blob_id(session)


def last_blob_id(session: Session) -> int:
    """The highest blob id any sensing event carries (0 when there is none)."""
    last = session.scalar(
        select(func.max(Event.track_id)).where(
            Event.source.like("sensing:%"), Event.camera_id.is_(None)
        )
    )
    return int(last or 0)


ANALYSED_VIDEOS_SITE = "Analysed videos"
"""The site an analysis without a site file files its camera under."""

RECORDING_KIND = "recording"
"""``Camera.source_kind`` of an analysed recording's own camera (a site file's cameras are
``file``, ``stream`` or ``webcam``)."""

RECORDING_KEY_LEN = 56  # leaves room for "-999" within the 64 characters a camera key has
RECORDING_NAME_LEN = 200  # Camera.name's column


@dataclass(frozen=True, slots=True)
class RecordingCamera:
    """The camera an analysed recording is filed under: its ``key`` (``vtest``) and the
    ``name`` a person reads (``vtest.avi``)."""

    key: str
    name: str


def recording_cameras(session: Session, site_id: int) -> dict[str, str]:
    """The enabled cameras of analysed recordings filed under site ``site_id``: key to
    name, in the order they were first analysed."""
    rows = session.execute(
        select(Camera.key, Camera.name)
        .where(
            Camera.site_id == site_id,
            Camera.source_kind == RECORDING_KIND,
            Camera.enabled.is_(True),
        )
        .order_by(Camera.id)
    )
    return {str(key): str(name) for key, name in rows}


def choose_recording_camera(
    session: Session,
    *,
    site: str,
    video: Path,
    reserved: Collection[tuple[str, str]] = (),
) -> RecordingCamera:
    """The camera ``video`` is filed under at site ``site`` (a name) when no camera was
    asked for. A file analysed before keeps the camera it had (found by its absolute
    path). Otherwise the key is the file's stem (``vtest``; ``vtest-2``, ``vtest-3``… when
    the key is taken by any camera of any site, since events and lanes find a camera by
    key) and the name is the file's name (``vtest.avi``; ``vtest.avi in b``, for its folder
    ``b``, when another camera already has that name, and a number after that).
    ``reserved``: the site file's cameras ``(key, name)``, which may not be stored yet.
    Reads only; :class:`RegisterVideoCamera` then stores the row."""
    url = str(video.resolve())
    known = session.execute(
        select(Camera.key, Camera.name)
        .join(Site, Site.id == Camera.site_id)
        .where(Site.name == site, Camera.source_kind == RECORDING_KIND, Camera.url == url)
        .order_by(Camera.id)
        .limit(1)
    ).first()
    if known is not None:
        return RecordingCamera(str(known.key), str(known.name))
    rows = session.execute(select(Camera.key, Camera.name)).all()
    keys = {str(k).lower() for k, _ in rows} | {k.lower() for k, _ in reserved}
    names = {str(n).casefold() for _, n in rows} | {n.casefold() for _, n in reserved}
    base = re.sub(r"[^A-Za-z0-9_\-]+", "-", video.stem).strip("-")[:RECORDING_KEY_LEN] or "video"
    key, number = base, 1
    while key.lower() in keys:
        number += 1
        key = f"{base}-{number}"
    file_name = printable(video.name).strip() or key
    folder = printable(Path(url).parent.name).strip()
    candidates = [file_name]
    if folder:
        candidates.append(f"{file_name} in {folder}")
    name = next((c for c in candidates if c.casefold() not in names), None)
    number = 1
    while name is None:
        number += 1
        name = f"{candidates[-1]} ({number})"
        if name.casefold() in names:
            name = None
    return RecordingCamera(key, name[:RECORDING_NAME_LEN])


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterVideoCamera(StoreCommand):
    """The camera row that events and clips from ``watchfloor analyze`` of ``video`` belong
    to, under the site named ``site``. A camera the site already has (``--camera``, from
    the site file) is used as it is. Otherwise the row is the recording's own camera
    (kind :data:`RECORDING_KIND`, named ``name``, enabled so the timeline, the Events
    filter and Ask list it; the key comes from :func:`choose_recording_camera`). Returns
    the :class:`SiteIds` of that site with just this camera."""

    camera_key: str
    video: str
    at: datetime
    site: str = ANALYSED_VIDEOS_SITE
    name: str | None = None

    def apply(self, session: Session) -> SiteIds:
        camera_key, video, now = self.camera_key, self.video, self.at
        site = session.scalar(select(Site).where(Site.name == self.site))
        if site is None:  # the site's engine has not run on this database yet
            site = Site(name=self.site, geo_lat=0.0, geo_lon=0.0, updated_at=now)
            session.add(site)
            session.flush()
        camera = session.scalar(
            select(Camera).where(Camera.site_id == site.id, Camera.key == camera_key)
        )
        if camera is None:
            camera = Camera(
                site_id=site.id,
                key=camera_key,
                name=self.name or camera_key,
                url=video,
                source_kind=RECORDING_KIND,
                enabled=True,
            )
            session.add(camera)
        elif camera.source_kind == RECORDING_KIND:  # analysed before: the same file's
            camera.url, camera.source_kind, camera.enabled = video, RECORDING_KIND, True
            camera.name = self.name or camera.name
        session.flush()
        ids = {camera_key: camera.id}
        return SiteIds(
            site_id=site.id,
            cameras=ids,
            last_track_ids=_last_track_ids(session, ids),
            recordings=recording_cameras(session, site.id),
        )


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
