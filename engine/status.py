"""System health as an admin sees it: storage use, free disk against the retention floor,
counts, the store writer's queue, and the last retention run.

:func:`system_status` reads the store (a handful of indexed statements) and the file
system; run it on a worker, never the GUI thread. ``watchfloor status --json`` prints it and
the console's System pane shows it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from engine.cluster.status import EnginesStatus, engines_status
from engine.settings import read_settings
from engine.store.database import Store, display_url
from engine.store.models import Event, Media
from engine.store.person_models import Person

DAYS_OF_EVENTS = 7  # events per day are counted for this many days back
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

    @property
    def below_floor(self) -> bool:
        return self.free_bytes < self.free_floor_bytes

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["last_retention_at"] = (
            self.last_retention_at.isoformat() if self.last_retention_at else None
        )
        data["below_floor"] = self.below_floor
        data["cluster"] = self.cluster.as_dict() if self.cluster is not None else None
        return data


def system_status(
    store: Store,
    data_dir: Path,
    now: datetime,
    writer: dict[str, Any] | None = None,
    last_retention_at: datetime | None = None,
) -> SystemStatus:
    """Read the system's health now. ``writer`` is the running store writer's health as a
    dict (None when no engine runs in this process); ``last_retention_at`` the running
    engine's last retention pass (else the newest ``retention.completed`` event)."""
    settings = {s.spec.key: s for s in read_settings(store)}
    floor = settings["retention.min_free_bytes"]
    problems = [s.problem for s in settings.values() if s.problem]
    with store.sessions() as session:
        media_rows = session.execute(
            select(Media.kind, func.count(), func.coalesce(func.sum(Media.size_bytes), 0)).group_by(
                Media.kind
            )
        ).all()
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
    )


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

    def run(self, store: Store) -> SystemStatus:
        status = system_status(store, self.data_dir, self.at, self.writer, self.last_retention_at)
        return dataclasses.replace(status, links=self.links)
