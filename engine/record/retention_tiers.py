"""Tiered retention of continuous-recording segments: which of a camera's segments go
when, by what they hold.

Each camera's recording policy (:class:`~engine.config.RecordingConfig`, the site's
``[recording]`` with the camera's own values over it) keeps, counted back from now by a
segment's ``ended_at``:

- every segment for ``keep_all_days`` days;
- a segment with motion (``motion_share > 0``) for ``keep_motion_days``;
- a segment with people seen (``people_seen > 0``), or with an event of its camera inside
  its span (retention's, the sweep's and recording's own records aside), or overlapping an
  alert sequence of its camera, for ``keep_events_days``;
- a locked segment (evidence) until its lock is released, whatever its age.

A segment is deleted when no tier holds it any more. :class:`PurgeSegments` is the store
command that deletes one camera's batch (recorded as one ``retention.segments_deleted``)
and returns the files to unlink after the commit; :func:`engine.retention.run_retention`
runs it for every camera with segments. The helpers that delete media rows the same way
for every purge (:func:`delete_media_rows`, :func:`media_kept_by`) live here, below
retention in the engine's layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from engine.config import RecordingConfig, SiteConfig
from engine.media import SEGMENT_KIND
from engine.recording_settings import StoredTiers
from engine.store.alert_models import AlertSequence
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera, Event, Media, Site

PURGE_BATCH = 500  # rows deleted per command (one transaction)
SEGMENTS_NAMED = 20  # paths one retention.segments_deleted event names; its count is whole
# Events that are records about the footage itself, not something that happened in view:
# they never keep a segment (retention's own deletions would otherwise keep their
# neighbours forever).
BOOKKEEPING_EVENT_PREFIXES = ("retention.", "media.", "recording.")


@dataclass(frozen=True, slots=True)
class PurgedFile:
    """A media row that a purge deleted; its file is unlinked after the commit."""

    kind: str
    path: str
    size_bytes: int


def media_kept_by(engine: str | None) -> tuple[Any, ...]:
    """The condition on media rows an engine may purge: a shared site's engine, those its
    own data dir keeps; a site's only engine (None), every row."""
    return () if engine is None else (Media.engine == engine,)


def delete_media_rows(
    session: Session, rows: list[Media], reason: str, at: datetime
) -> list[PurgedFile]:
    """Delete ``rows`` in ``session``; what went, for the caller to unlink once committed.
    A clip or snapshot is recorded as a ``retention.<kind>_deleted`` event at ``at``
    giving ``reason``; segments, which go by the thousand a day (a 10 s segment is 8,640 a
    camera), as one ``retention.segments_deleted`` event per camera and batch: how many,
    their bytes, the span they covered and the first :data:`SEGMENTS_NAMED` paths."""
    purged: list[PurgedFile] = []
    segments: dict[int | None, list[Media]] = {}
    for media in rows:
        purged.append(PurgedFile(media.kind, media.path, media.size_bytes))
        if media.kind == SEGMENT_KIND:
            segments.setdefault(media.camera_id, []).append(media)
        else:
            session.add(
                Event(
                    ts=at,
                    kind=f"retention.{media.kind}_deleted",
                    source="retention",
                    camera_id=media.camera_id,
                    detail={
                        "path": media.path,
                        "reason": reason,
                        "size_bytes": media.size_bytes,
                    },
                )
            )
        session.delete(media)
    for camera_id, gone in segments.items():
        starts = [m.started_at or m.created_at for m in gone]
        ends = [m.ended_at or m.started_at or m.created_at for m in gone]
        session.add(
            Event(
                ts=at,
                kind="retention.segments_deleted",
                source="retention",
                camera_id=camera_id,
                detail={
                    "count": len(gone),
                    "reason": reason,
                    "size_bytes": sum(m.size_bytes for m in gone),
                    "from": min(starts).isoformat(),
                    "to": max(ends).isoformat(),
                    "paths": [m.path for m in gone[:SEGMENTS_NAMED]],
                },
            )
        )
    session.flush()
    return purged


@dataclass(frozen=True, slots=True)
class SegmentPolicies:
    """Each camera's recording policy by its row id (``cameras.id``), and ``site``, the
    site's ``[recording]``, for segments of a camera not in ``cameras`` (or of none)."""

    site: RecordingConfig = field(default_factory=RecordingConfig)
    cameras: Mapping[int, RecordingConfig] = field(default_factory=dict)
    # Each camera row's id in the site file, for the tiers Administration set by that id.
    keys: Mapping[int, str] = field(default_factory=dict)

    def of(self, camera_id: int | None) -> RecordingConfig:
        """The policy segments of camera row ``camera_id`` are kept by."""
        if camera_id is None:
            return self.site
        return self.cameras.get(camera_id, self.site)

    def with_admin(self, stored: StoredTiers) -> SegmentPolicies:
        """These policies with the tiers Administration set (``stored``) over the site
        file's, for each camera whose site-file id is known."""
        return replace(
            self,
            cameras={
                row: stored.policy(self.keys[row], policy) if row in self.keys else policy
                for row, policy in self.cameras.items()
            },
        )


def segment_policies(site: SiteConfig, camera_rows: Mapping[str, int]) -> SegmentPolicies:
    """The site's policies by camera row: ``camera_rows`` maps a camera's config id to its
    row id (:class:`~engine.store.sites.SiteIds` ``cameras``); a camera without a row is
    left out (its segments, if any, take the site's ``[recording]``)."""
    known = [camera for camera in site.cameras if camera.id in camera_rows]
    return SegmentPolicies(
        site.recording,
        {camera_rows[camera.id]: site.recording_of(camera.id) for camera in known},
        {camera_rows[camera.id]: camera.id for camera in known},
    )


def load_segment_policies(store: Store, site: SiteConfig) -> SegmentPolicies:
    """:func:`segment_policies` with the camera rows the store holds for site ``site``
    (by its name), for callers without a synced site (``watchfloor retention run``). A read."""
    with store.sessions() as session:
        rows = session.execute(
            select(Camera.key, Camera.id)
            .join(Site, Site.id == Camera.site_id)
            .where(Site.name == site.name)
        ).all()
    return segment_policies(site, {key: camera_id for key, camera_id in rows})


def cameras_with_segments(session: Session, engine: str | None) -> list[int | None]:
    """The camera row ids (None for segments of no camera) that have segments engine
    ``engine`` may purge (:func:`media_kept_by`)."""
    return list(
        session.scalars(
            select(Media.camera_id)
            .where(Media.kind == SEGMENT_KIND, *media_kept_by(engine))
            .distinct()
        )
    )


def segment_expired(camera_id: int | None, policy: RecordingConfig, now: datetime) -> Any:
    """The SQL condition a segment row of camera ``camera_id`` meets when policy ``policy``
    no longer keeps it at ``now`` (locks aside: see :class:`PurgeSegments`). Correlated
    EXISTS over the events (``ix_events_camera_ts_id``) and the alert sequences
    (``ix_alert_sequences_camera_started``) of the camera, so it runs on SQLite and
    PostgreSQL alike."""
    all_cutoff = now - timedelta(days=policy.keep_all_days)
    motion_cutoff = now - timedelta(days=policy.keep_motion_days)
    events_cutoff = now - timedelta(days=policy.keep_events_days)
    something_happened = exists().where(
        Event.camera_id == Media.camera_id,
        Event.ts >= Media.started_at,
        Event.ts <= Media.ended_at,
        *(not_(Event.kind.like(f"{prefix}%")) for prefix in BOOKKEEPING_EVENT_PREFIXES),
    )
    alerted = exists().where(
        AlertSequence.camera_id == Media.camera_id,
        AlertSequence.started_at <= Media.ended_at,
        AlertSequence.last_seen_at >= Media.started_at,
    )
    # COALESCE: an unanalysed segment (NULL) holds nothing, and NOT of a NULL would
    # otherwise be NULL, keeping it for ever.
    motion_held = and_(func.coalesce(Media.motion_share, 0) > 0, Media.ended_at >= motion_cutoff)
    events_held = and_(
        Media.ended_at >= events_cutoff,
        or_(func.coalesce(Media.people_seen, 0) > 0, something_happened, alerted),
    )
    camera = Media.camera_id.is_(None) if camera_id is None else Media.camera_id == camera_id
    return and_(
        Media.kind == SEGMENT_KIND,
        camera,
        # started_at <= ended_at: lets the database range-scan ix_media_kind_camera_start.
        Media.started_at < all_cutoff,
        Media.ended_at < all_cutoff,
        not_(motion_held),
        not_(events_held),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeSegments(StoreCommand):
    """Delete up to ``limit`` of the oldest unlocked segments of camera row ``camera_id``
    (None: segments of no camera) that ``policy`` no longer keeps at ``now`` (see the
    module's tiers), recorded as ``retention.segments_deleted`` events at ``now``. Returns
    what went. ``engine``: a shared site's engine purges only the segments its own data dir
    keeps."""

    camera_id: int | None
    policy: RecordingConfig
    now: datetime
    limit: int = PURGE_BATCH
    engine: str | None = None

    def apply(self, session: Session) -> list[PurgedFile]:
        rows = session.scalars(
            select(Media)
            .where(
                segment_expired(self.camera_id, self.policy, self.now),
                Media.locked.is_(False),
                *media_kept_by(self.engine),
            )
            .order_by(Media.started_at, Media.id)
            .limit(self.limit)
        ).all()
        return delete_media_rows(session, list(rows), "age", self.now)
