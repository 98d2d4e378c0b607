"""The ``engines`` and ``leases`` tables: every read and write the members make.

Each method is one short transaction of its own (never through the store writer: a lease
must be renewed on time even while the writer retries a backlog of events). Taking a lease
is one conditional ``UPDATE … WHERE engine IS NULL OR heartbeat_at < expired OR engine =
me`` whose row count says whether it was won: PostgreSQL re-checks the condition on the
locked row and SQLite runs writers one at a time, so of two engines racing for a free
lease exactly one wins. Renewing is ``UPDATE … WHERE engine = me AND epoch = mine``: an
engine that stalled past its lease finds it taken and stops what it ran.

Times are the database's (:meth:`LeaseBook.database_now`): PostgreSQL's
``clock_timestamp()``; SQLite is one machine's file, whose clock is the machine's.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.cluster.names import check_engine_name
from engine.store.cluster_models import EngineRow, Lease
from engine.store.database import Store

HEARTBEAT_S: Final = 5.0  # how often a member renews its heartbeat and its leases
LEASE_TTL_S: Final = 15.0  # a lease not renewed for this long may be taken by another engine
ENGINE_TTL_S: Final = LEASE_TTL_S  # an engine whose heartbeat is older counts as gone
CLOCK_WARN_S: Final = 1.0  # an engine clock further than this from the database's is warned of

Resource = tuple[str, str]  # (kind, key): ("camera", "plaza"), ("room", "lab"), ("service", "site")
SITE_SERVICES: Final[Resource] = ("service", "site")


def database_now(store: Store, session: Session) -> datetime:
    """The database's clock now (UTC): PostgreSQL's ``clock_timestamp()``; a SQLite file is
    on this machine, whose clock is the database's."""
    if store.backend == "postgresql":
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    return datetime.now(UTC)


def lease_is_live(row: Lease, now: datetime, ttl: timedelta) -> bool:
    """Whether a lease row is held and was renewed within ``ttl`` of ``now``."""
    return row.engine is not None and row.heartbeat_at is not None and now - row.heartbeat_at < ttl


class EngineNameTakenError(RuntimeError):
    """Another live engine of the site already runs under this name; the message says where."""


@dataclass(frozen=True, slots=True)
class EngineState:
    """One engine of the site as the table has it, seen at ``now`` (database clock)."""

    name: str
    host: str
    pid: int
    capacity: int
    started_at: datetime
    heartbeat_at: datetime
    clock_offset_ms: float
    stopped_at: datetime | None
    alive: bool


@dataclass(frozen=True, slots=True)
class LeaseState:
    """One lease as the table has it: ``holder`` only while its renewal is recent."""

    kind: str
    key: str
    engine: str | None
    pinned: str | None
    epoch: int
    acquired_at: datetime | None
    heartbeat_at: datetime | None
    live: bool  # held and renewed within LEASE_TTL_S

    @property
    def resource(self) -> Resource:
        return (self.kind, self.key)

    @property
    def holder(self) -> str | None:
        return self.engine if self.live else None


@dataclass(frozen=True, slots=True)
class ClusterView:
    """Who runs what in a site, read in one transaction at ``now`` (database clock)."""

    now: datetime
    engines: tuple[EngineState, ...]
    leases: tuple[LeaseState, ...]

    def alive(self) -> tuple[EngineState, ...]:
        return tuple(e for e in self.engines if e.alive)

    def holder_of(self, kind: str, key: str) -> str | None:
        for lease in self.leases:
            if lease.kind == kind and lease.key == key:
                return lease.holder
        return None


class LeaseBook:
    """The lease and heartbeat statements of one engine (``name``) of one site. Any thread;
    each call is its own transaction."""

    def __init__(
        self,
        store: Store,
        site_id: int,
        name: str,
        *,
        lease_ttl_s: float = LEASE_TTL_S,
        engine_ttl_s: float = ENGINE_TTL_S,
    ) -> None:
        self.store = store
        self.site_id = site_id
        self.name = check_engine_name(name)
        self.lease_ttl = timedelta(seconds=lease_ttl_s)
        self.engine_ttl = timedelta(seconds=engine_ttl_s)
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()

    # -- time ------------------------------------------------------------------------
    def database_now(self, session: Session) -> datetime:
        """The database's clock now (UTC)."""
        return database_now(self.store, session)

    # -- engines ---------------------------------------------------------------------
    def join(self, capacity: int, local_now: datetime) -> datetime:
        """Record this engine as started (or restarted) with ``capacity`` cameras;
        :class:`EngineNameTakenError` when another live process has the name. Returns
        the database's time."""
        with self.store.write_transaction() as session:
            self._lock_site(session)
            now = self.database_now(session)
            row = session.scalar(
                select(EngineRow).where(
                    EngineRow.site_id == self.site_id, EngineRow.name == self.name
                )
            )
            if row is None:
                row = EngineRow(site_id=self.site_id, name=self.name)
                session.add(row)
            elif (
                row.stopped_at is None
                and now - row.heartbeat_at < self.engine_ttl
                and (row.host, row.pid) != (self.host, self.pid)
            ):
                raise EngineNameTakenError(
                    f"an engine named {self.name!r} is already running for this site on "
                    f"{row.host} (pid {row.pid}, last heard "
                    f"{(now - row.heartbeat_at).total_seconds():.0f} s ago); give this one "
                    "another --name, or stop that one first"
                )
            row.host, row.pid, row.capacity = self.host, self.pid, capacity
            row.started_at = row.heartbeat_at = now
            row.clock_offset_ms = (local_now - now).total_seconds() * 1000.0
            row.stopped_at = None
            row.health = {}
            return now

    def heartbeat(
        self, local_now: datetime, health: dict[str, Any] | None = None
    ) -> tuple[datetime, float]:
        """Renew this engine's heartbeat (with what it says of its ``health``, when
        given); (database time, this clock's offset from it in ms, engine minus database)."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            offset = (local_now - now).total_seconds() * 1000.0
            session.execute(
                update(EngineRow)
                .where(EngineRow.site_id == self.site_id, EngineRow.name == self.name)
                .values(
                    heartbeat_at=now,
                    clock_offset_ms=offset,
                    stopped_at=None,
                    **({"health": health} if health is not None else {}),
                )
            )
            return now, offset

    def leave(self, held: Mapping[Resource, int]) -> None:
        """A clean stop: give back every lease still ``held`` (resource → epoch), so
        other engines take them at once, and mark this engine stopped."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            for (kind, key), epoch in held.items():
                session.execute(self._mine(kind, key, epoch).values(engine=None, heartbeat_at=None))
            session.execute(
                update(EngineRow)
                .where(EngineRow.site_id == self.site_id, EngineRow.name == self.name)
                .values(stopped_at=now, heartbeat_at=now)
            )

    # -- leases ----------------------------------------------------------------------
    def offer(self, resources: Mapping[Resource, str | None]) -> None:
        """Make sure a lease row exists for each resource (→ the engine the site file
        pins it to, or None), and that its pin is the file's."""
        with self.store.write_transaction() as session:
            self._lock_site(session)
            rows = [
                {
                    "site_id": self.site_id,
                    "kind": kind,
                    "key": key,
                    "engine": None,
                    "pinned": pinned,
                    "epoch": 0,
                }
                for (kind, key), pinned in resources.items()
            ]
            if rows:
                insert = pg_insert if self.store.backend == "postgresql" else sqlite_insert
                session.execute(
                    insert(Lease).on_conflict_do_nothing(index_elements=["site_id", "kind", "key"]),
                    rows,
                )
            for (kind, key), pinned in resources.items():
                session.execute(
                    update(Lease)
                    .where(Lease.site_id == self.site_id, Lease.kind == kind, Lease.key == key)
                    .where(Lease.pinned.is_distinct_from(pinned))
                    .values(pinned=pinned)
                )

    def acquire(self, kind: str, key: str) -> int | None:
        """Take the lease when it is free, lapsed or already this engine's: the new epoch,
        or None when another engine holds it."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            taken = session.execute(
                update(Lease)
                .where(Lease.site_id == self.site_id, Lease.kind == kind, Lease.key == key)
                .where(
                    or_(
                        Lease.engine.is_(None),
                        Lease.heartbeat_at.is_(None),
                        Lease.heartbeat_at < now - self.lease_ttl,
                        Lease.engine == self.name,
                    )
                )
                .values(engine=self.name, epoch=Lease.epoch + 1, acquired_at=now, heartbeat_at=now)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
            epoch = session.scalar(
                select(Lease.epoch).where(
                    Lease.site_id == self.site_id, Lease.kind == kind, Lease.key == key
                )
            )
            return int(epoch) if epoch is not None else None

    def renew(self, held: Mapping[Resource, int]) -> set[Resource]:
        """Renew every lease ``held`` (resource → the epoch this engine took it at); the
        ones it no longer holds (taken over while this engine was stalled or cut off)."""
        lost: set[Resource] = set()
        if not held:
            return lost
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            for (kind, key), epoch in held.items():
                renewed = session.execute(self._mine(kind, key, epoch).values(heartbeat_at=now))
                if renewed.rowcount != 1:  # type: ignore[attr-defined]
                    lost.add((kind, key))
        return lost

    def release(self, kind: str, key: str, epoch: int) -> None:
        """Give the lease back (it stays with nobody until another engine takes it)."""
        with self.store.write_transaction() as session:
            session.execute(self._mine(kind, key, epoch).values(engine=None, heartbeat_at=None))

    def view(self) -> ClusterView:
        """Every engine and lease of the site, read at one moment."""
        return read_cluster(self.store, self.site_id, self.lease_ttl, self.engine_ttl)

    # -- helpers -----------------------------------------------------------------------
    def _mine(self, kind: str, key: str, epoch: int):  # type: ignore[no-untyped-def]
        return update(Lease).where(
            Lease.site_id == self.site_id,
            Lease.kind == kind,
            Lease.key == key,
            Lease.engine == self.name,
            Lease.epoch == epoch,
        )

    def _lock_site(self, session: Session) -> None:
        """On PostgreSQL, engines joining or offering leases of one site do it one at a time
        (a transaction-scoped advisory lock), so two first starts do not race on inserts."""
        if self.store.backend == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :site)"),
                {"space": ADVISORY_SPACE, "site": self.site_id},
            )


ADVISORY_SPACE: Final = 0x5746  # "WF": this project's advisory locks (two-key form)


def read_cluster(
    store: Store,
    site_id: int,
    lease_ttl: timedelta = timedelta(seconds=LEASE_TTL_S),
    engine_ttl: timedelta = timedelta(seconds=ENGINE_TTL_S),
) -> ClusterView:
    """The site's engines and leases as a :class:`ClusterView` (one read transaction)."""
    with store.transaction() as session:
        now = database_now(store, session)
        engines = tuple(
            EngineState(
                name=row.name,
                host=row.host,
                pid=row.pid,
                capacity=row.capacity,
                started_at=row.started_at,
                heartbeat_at=row.heartbeat_at,
                clock_offset_ms=row.clock_offset_ms,
                stopped_at=row.stopped_at,
                alive=row.stopped_at is None and now - row.heartbeat_at < engine_ttl,
            )
            for row in session.scalars(
                select(EngineRow).where(EngineRow.site_id == site_id).order_by(EngineRow.name)
            )
        )
        leases = tuple(
            LeaseState(
                kind=row.kind,
                key=row.key,
                engine=row.engine,
                pinned=row.pinned,
                epoch=row.epoch,
                acquired_at=row.acquired_at,
                heartbeat_at=row.heartbeat_at,
                live=lease_is_live(row, now, lease_ttl),
            )
            for row in session.scalars(
                select(Lease).where(Lease.site_id == site_id).order_by(Lease.kind, Lease.key)
            )
        )
        return ClusterView(now=now, engines=engines, leases=leases)


def resources_of(
    cameras: Iterable[tuple[str, str | None]], rooms: Iterable[str], *, services: bool = True
) -> dict[Resource, str | None]:
    """The leases a site file asks for: each camera (key, pinned engine), each sensing
    room, and the site-wide services."""
    out: dict[Resource, str | None] = {("camera", key): pin for key, pin in cameras}
    out.update({("room", key): None for key in rooms})
    if services:
        out[SITE_SERVICES] = None
    return out
