"""System health as an admin sees it: storage use, free disk against the retention floor,
counts, the store writer's queue, the last retention run, and each camera's continuous
recording (footage kept from when to when, its bitrate, and how many days the disk holds).

:func:`system_status` reads the store (a handful of indexed statements) and the file
system; run it on a worker, never the GUI thread. ``watchfloor status --json`` prints it and
the console's System pane shows it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from engine.cluster.status import EnginesStatus, engines_status
from engine.media import SEGMENT_KIND
from engine.settings import read_settings
from engine.store.database import Store, display_url
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person

DAYS_OF_EVENTS = 7  # events per day are counted for this many days back
RATE_WINDOW = timedelta(hours=1)  # a camera's bitrate: over its segments of the last hour


@dataclass(frozen=True, slots=True)
class CameraFootage:
    """One camera's continuous recording as stored: ``first``–``last`` (UTC) the footage
    kept, ``bytes_kept`` over ``segments`` files, ``bits_per_s`` its bitrate over the
    last hour of segments (None: none that recent)."""

    key: str
    name: str
    first: datetime
    last: datetime
    bytes_kept: int
    segments: int
    bits_per_s: float | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data


RETENTION_COMPLETED = "retention.completed"  # filed by every retention pass


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """One reading of the system's health. Sizes in bytes; times UTC."""

    at: datetime
    database: str
    backend: str
    database_bytes: int | None
    media_bytes: dict[str, int]  # by media kind (clip, snapshot, csi)
    media_files: dict[str, int]
    data_dir: str
    free_bytes: int
    free_floor_bytes: int
    persons: int
    events_total: int
    events_per_day: list[tuple[str, int]]  # (YYYY-MM-DD, count), newest first
    last_retention_at: datetime | None
    writer: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    # Engines sharing sites of this database (``watchfloor engine --name``); None: none ever.
    cluster: EnginesStatus | None = None
    # What this process is connected to beyond its store: (subsystem, state, detail) of the
    # MQTT broker, the recordings fetched from a shared site's engines, the streams served.
    links: tuple[tuple[str, str, str], ...] = ()
    footage: tuple[CameraFootage, ...] = ()  # cameras with continuous recording kept

    @property
    def below_floor(self) -> bool:
        return self.free_bytes < self.free_floor_bytes

    @property
    def footage_bytes_per_day(self) -> float:
        """Bytes a day every camera's continuous recording adds at its current bitrate."""
        return sum(f.bits_per_s or 0.0 for f in self.footage) / 8 * 86400

    @property
    def footage_days(self) -> float | None:
        """Days of footage the disk holds at the current rate: what is kept plus the free
        space above the retention floor, over the bytes a day (retention deletes the
        oldest footage to keep the floor). None without a current rate."""
        per_day = self.footage_bytes_per_day
        if per_day <= 0:
            return None
        kept = sum(f.bytes_kept for f in self.footage)
        return (kept + max(self.free_bytes - self.free_floor_bytes, 0)) / per_day

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["last_retention_at"] = (
            self.last_retention_at.isoformat() if self.last_retention_at else None
        )
        data["below_floor"] = self.below_floor
        data["cluster"] = self.cluster.as_dict() if self.cluster is not None else None
        data["footage"] = [f.as_dict() for f in self.footage]
        data["footage_days"] = self.footage_days
        return data


def system_status(
    store: Store,
    data_dir: Path,
    now: datetime,
    writer: dict[str, Any] | None = None,
    last_retention_at: datetime | None = None,
    storage_max_age_s: float = 0.0,
) -> SystemStatus:
    """Read the system's health now. ``writer`` is the running store writer's health as a
    dict (None when no engine runs in this process); ``last_retention_at`` the running
    engine's last retention pass (else the newest ``retention.completed`` event).
    ``storage_max_age_s``: the media and footage figures (sums over every media row: about
    a second for a month of 8 cameras' continuous recording on SQLite) may be this many
    seconds old (a pane refreshing every few seconds reads them once a minute)."""
    settings = {s.spec.key: s for s in read_settings(store)}
    floor = settings["retention.min_free_bytes"]
    problems = [s.problem for s in settings.values() if s.problem]
    with store.sessions() as session:
        media_rows, footage = _storage_figures(store, session, now, storage_max_age_s)
        persons = int(session.scalar(select(func.count()).select_from(Person)) or 0)
        events_total = int(session.scalar(select(func.count()).select_from(Event)) or 0)
        start_of_today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        per_day: list[tuple[str, int]] = []
        for back in range(DAYS_OF_EVENTS):
            day = start_of_today - timedelta(days=back)
            count = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.ts >= day, Event.ts < day + timedelta(days=1))
            )
            per_day.append((day.strftime("%Y-%m-%d"), int(count or 0)))
        last_retention = last_retention_at or session.scalar(
            select(func.max(Event.ts)).where(Event.kind == RETENTION_COMPLETED)
        )
        database_bytes = _database_bytes(store, session)
    free = shutil.disk_usage(data_dir if data_dir.exists() else data_dir.parent).free
    if free < floor.value:
        problems.append(
            f"free disk {free / 2**30:.1f} GiB is below the retention floor "
            f"{floor.value / 2**30:.1f} GiB"
        )
    if writer and writer.get("fatal"):
        problems.append(f"store stopped: {writer['fatal']}")
    cluster = engines_status(store)
    problems += cluster.problems
    return SystemStatus(
        at=now,
        database=display_url(store.url),
        backend=store.backend,
        database_bytes=database_bytes,
        media_bytes={kind: int(total) for kind, _n, total in media_rows},
        media_files={kind: int(n) for kind, n, _total in media_rows},
        data_dir=str(data_dir),
        free_bytes=free,
        free_floor_bytes=floor.value,
        persons=persons,
        events_total=events_total,
        events_per_day=per_day,
        last_retention_at=last_retention,
        writer=writer,
        problems=problems,
        cluster=cluster if cluster.engines else None,
        footage=footage,
    )


_storage_lock = threading.Lock()
# Per store URL: (time.monotonic() when read, media rows by kind, footage).
_storage_read: dict[str, tuple[float, list[Any], tuple[CameraFootage, ...]]] = {}


def _storage_figures(
    store: Store, session: Any, now: datetime, max_age_s: float
) -> tuple[list[Any], tuple[CameraFootage, ...]]:
    """Media counts and sizes by kind, and each camera's footage: read now, or the last
    reading of ``store`` when it is at most ``max_age_s`` seconds old."""
    key = str(store.url)
    if max_age_s > 0:
        with _storage_lock:
            cached = _storage_read.get(key)
        if cached is not None and time.monotonic() - cached[0] <= max_age_s:
            return cached[1], cached[2]
    media_rows = list(
        session.execute(
            select(Media.kind, func.count(), func.coalesce(func.sum(Media.size_bytes), 0)).group_by(
                Media.kind
            )
        ).all()
    )
    footage = _footage(session, now)
    with _storage_lock:
        _storage_read[key] = (time.monotonic(), media_rows, footage)
    return media_rows, footage


def _footage(session: Any, now: datetime) -> tuple[CameraFootage, ...]:
    """Each camera's continuous recording kept, and its bitrate over the last hour."""
    kept = session.execute(
        select(
            Media.camera_id,
            func.min(Media.started_at),
            func.max(Media.ended_at),
            func.coalesce(func.sum(Media.size_bytes), 0),
            func.count(),
        )
        .where(Media.kind == SEGMENT_KIND, Media.camera_id.is_not(None))
        .group_by(Media.camera_id)
    ).all()
    if not kept:
        return ()
    recent = {
        camera_id: (int(size), first, last)
        for camera_id, size, first, last in session.execute(
            select(
                Media.camera_id,
                func.coalesce(func.sum(Media.size_bytes), 0),
                func.min(Media.started_at),
                func.max(Media.ended_at),
            )
            .where(Media.kind == SEGMENT_KIND, Media.started_at >= now - RATE_WINDOW)
            .group_by(Media.camera_id)
        ).all()
    }
    names = {
        row.id: (row.key, row.name)
        for row in session.execute(select(Camera.id, Camera.key, Camera.name))
    }
    footage = []
    for camera_id, first, last, size, count in kept:
        key, name = names.get(camera_id, (str(camera_id), str(camera_id)))
        rate = None
        if camera_id in recent:
            recent_bytes, start, end = recent[camera_id]
            seconds = (end - start).total_seconds() if start and end else 0.0
            if seconds > 0:
                rate = recent_bytes * 8 / seconds
        footage.append(CameraFootage(key, name, first, last, int(size), int(count), rate))
    return tuple(sorted(footage, key=lambda f: f.name.lower()))


def _database_bytes(store: Store, session: Any) -> int | None:
    """The database's size on disk: the SQLite file with its WAL, or PostgreSQL's own."""
    if store.backend == "sqlite":
        database = store.engine.url.database
        if not database or database == ":memory:":
            return None
        return sum(
            os.path.getsize(path)
            for path in (database, database + "-wal", database + "-shm")
            if os.path.exists(path)
        )
    if store.backend == "postgresql":
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    return None


@dataclass(frozen=True, slots=True)
class SystemStatusRequest:
    """A query-service request for :func:`system_status` (runs on a pool thread).
    ``writer`` is the running writer's health, read when the request is made."""

    data_dir: Path
    at: datetime
    writer: dict[str, Any] | None = None
    last_retention_at: datetime | None = None
    links: tuple[tuple[str, str, str], ...] = ()  # read when the request is made
    storage_max_age_s: float = 0.0  # see system_status

    def run(self, store: Store) -> SystemStatus:
        status = system_status(
            store,
            self.data_dir,
            self.at,
            self.writer,
            self.last_retention_at,
            self.storage_max_age_s,
        )
        return dataclasses.replace(status, links=self.links)
