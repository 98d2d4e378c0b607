"""Retention: age and disk-pressure purges that never touch locked evidence.

Run by the engine's maintenance timer and on demand (``watchfloor retention run``). Each
deletion is logged and recorded as a ``retention.*`` event. Rows are deleted before their
files, so a crash can leave an orphan file (harmless, swept next run) but never a row that
points at nothing.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, select, update

from engine.clock import Clock
from engine.store.database import Store
from engine.store.models import Event, Media, Setting
from engine.store.person_models import Person

log = logging.getLogger(__name__)

GIB = 1024**3
SETTINGS_KEY = "retention"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long things are kept (days) and the free-space floor for the data dir (bytes)."""

    clips_days: int = 30
    events_days: int = 365  # snapshots go with their events
    person_archive_days: int = 182  # unseen this long: archived (hidden, still recognised)
    person_delete_days: int = 730  # archived this long: person and face data deleted
    min_free_bytes: int = 2 * GIB

    @classmethod
    def from_settings(cls, store: Store) -> RetentionPolicy:
        """The policy with any overrides saved in the settings table (key ``retention``)."""
        with store.sessions() as session:
            row = session.get(Setting, SETTINGS_KEY)
        overrides = row.value if row is not None else {}
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown retention settings: {', '.join(sorted(unknown))}")
        for key, value in overrides.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"retention setting {key} must be a whole number ≥ 0")
        return cls(**overrides)


@dataclass(slots=True)
class RetentionReport:
    clips_deleted: int = 0
    snapshots_deleted: int = 0
    events_deleted: int = 0
    persons_archived: int = 0
    persons_deleted: int = 0
    pressure_clips_deleted: int = 0
    bytes_freed: int = 0
    locked_kept: int = 0
    free_bytes_after: int = 0
    floor_reached: bool = True
    deleted_paths: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DiskFree = Callable[[Path], int]


def disk_free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def run_retention(
    store: Store,
    clock: Clock,
    data_dir: Path,
    policy: RetentionPolicy,
    *,
    disk_free: DiskFree = disk_free_bytes,
) -> RetentionReport:
    """Apply ``policy`` now. Safe to run while the engine records (one writer per row)."""
    report = RetentionReport()
    now = clock.now()
    _purge_media_older_than(
        store,
        clock,
        data_dir,
        "clip",
        now - timedelta(days=policy.clips_days),
        report,
        reason="age",
    )
    _purge_media_older_than(
        store,
        clock,
        data_dir,
        "snapshot",
        now - timedelta(days=policy.events_days),
        report,
        reason="age",
    )
    _purge_events(store, now - timedelta(days=policy.events_days), report)
    _age_persons(store, now, policy, report)
    data_dir.mkdir(parents=True, exist_ok=True)
    _relieve_disk_pressure(store, clock, data_dir, policy, report, disk_free)
    with store.sessions() as session:
        report.locked_kept = len(session.scalars(select(Media.id).where(Media.locked)).all())
    report.free_bytes_after = disk_free(data_dir)
    return report


def _purge_media_older_than(
    store: Store,
    clock: Clock,
    data_dir: Path,
    kind: str,
    cutoff: datetime,
    report: RetentionReport,
    *,
    reason: str,
) -> None:
    with store.sessions() as session:
        ids = session.scalars(
            select(Media.id).where(
                Media.kind == kind, Media.created_at < cutoff, Media.locked.is_(False)
            )
        ).all()
    for media_id in ids:
        _delete_media(store, clock, data_dir, media_id, report, reason)


def _delete_media(
    store: Store,
    clock: Clock,
    data_dir: Path,
    media_id: int,
    report: RetentionReport,
    reason: str,
) -> int:
    """Delete one unlocked media row (recording why), then its file. Returns bytes freed."""
    with store.transaction() as session:
        media = session.get(Media, media_id)
        if media is None or media.locked:  # locked or gone since we looked
            return 0
        path, kind, size, camera_id = media.path, media.kind, media.size_bytes, media.camera_id
        session.delete(media)
        session.add(
            Event(
                ts=clock.now(),
                kind=f"retention.{kind}_deleted",
                source="retention",
                camera_id=camera_id,
                detail={"path": path, "reason": reason, "size_bytes": size},
            )
        )
    file = data_dir / path
    try:
        file.unlink()
    except FileNotFoundError:
        log.warning("retention: %s was already gone", file)
        size = 0
    log.info("retention: deleted %s %s (%s, %d bytes)", kind, path, reason, size)
    report.bytes_freed += size
    report.deleted_paths.append(path)
    if kind == "clip":
        if reason == "disk pressure":
            report.pressure_clips_deleted += 1
        else:
            report.clips_deleted += 1
    elif kind == "snapshot":
        report.snapshots_deleted += 1
    return size


def _purge_events(store: Store, cutoff: datetime, report: RetentionReport) -> None:
    """Delete events older than ``cutoff`` that no media refers to (media older than the
    cutoff went first unless locked, so what remains is evidence or still within its own
    retention). Retention's own records stay as the audit trail."""
    any_media = exists().where(Media.event_id == Event.id)
    with store.transaction() as session:
        result = session.execute(
            delete(Event)
            .where(Event.ts < cutoff, ~any_media, ~Event.kind.like("retention.%"))
            .execution_options(synchronize_session=False)
        )
        report.events_deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    if report.events_deleted:
        log.info("retention: deleted %d events older than %s", report.events_deleted, cutoff)


def _relieve_disk_pressure(
    store: Store,
    clock: Clock,
    data_dir: Path,
    policy: RetentionPolicy,
    report: RetentionReport,
    disk_free: DiskFree,
) -> None:
    """Delete the oldest unlocked clips until the data dir has ``min_free_bytes`` free."""
    free = disk_free(data_dir)
    while free < policy.min_free_bytes:
        with store.sessions() as session:
            oldest = session.scalars(
                select(Media.id)
                .where(Media.kind == "clip", Media.locked.is_(False))
                .order_by(Media.created_at, Media.id)
                .limit(1)
            ).first()
        if oldest is None:
            report.floor_reached = False
            log.warning(
                "retention: only %d bytes free under %s and no unlocked clips left", free, data_dir
            )
            return
        _delete_media(store, clock, data_dir, oldest, report, "disk pressure")
        free = disk_free(data_dir)


def _age_persons(
    store: Store, now: datetime, policy: RetentionPolicy, report: RetentionReport
) -> None:
    """Archive people unseen for ``person_archive_days``; delete people archived for
    ``person_delete_days`` (their face embeddings go with them)."""
    archive_before = now - timedelta(days=policy.person_archive_days)
    delete_before = now - timedelta(days=policy.person_delete_days)
    with store.transaction() as session:
        archived = session.execute(
            update(Person)
            .where(
                Person.archived_at.is_(None),
                Person.last_seen.is_not(None),
                Person.last_seen < archive_before,
            )
            .values(archived_at=now)
            .execution_options(synchronize_session=False)
        )
        report.persons_archived = int(archived.rowcount or 0)  # type: ignore[attr-defined]
        doomed = session.scalars(
            select(Person).where(
                Person.archived_at.is_not(None), Person.archived_at < delete_before
            )
        ).all()
        for person in doomed:
            session.add(
                Event(
                    ts=now,
                    kind="retention.person_deleted",
                    source="retention",
                    detail={
                        "person_id": person.public_id,
                        "archived_at": person.archived_at.isoformat()
                        if person.archived_at
                        else None,
                    },
                )
            )
            session.delete(person)
        report.persons_deleted = len(doomed)
    if report.persons_archived or report.persons_deleted:
        log.info(
            "retention: archived %d people, deleted %d",
            report.persons_archived,
            report.persons_deleted,
        )
