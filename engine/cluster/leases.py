"""The ``engines`` and ``leases`` tables: every read and write the members make.

Each method is one short transaction of its own (never through the store writer: a lease
must be renewed on time even while the writer retries a backlog of events). Taking a lease
is one conditional ``UPDATE … WHERE engine IS NULL OR heartbeat_at < expired OR engine =
me`` whose row count says whether it was won: PostgreSQL re-checks the condition on the
locked row and SQLite runs writers one at a time, so of two engines racing for a free
lease exactly one wins. Renewing is ``UPDATE … WHERE engine = me AND epoch = mine``: an
engine that stalled past its lease finds it taken and stops what it ran.

A name is held by one process at a time: :meth:`LeaseBook.join` writes a random
``instance`` id into the engine's row, the heartbeat is ``UPDATE … WHERE name = me AND
instance = mine``, and every lease write is conditional on that row still carrying this
process's instance. A process paused or cut off past its lease whose name another process
took over finds at its next heartbeat that it lost the name (:class:`EngineNameLostError`)
and cannot write a lease meanwhile.

Times are the database's (:meth:`LeaseBook.database_now`): PostgreSQL's
``clock_timestamp()``; SQLite is one machine's file, whose clock is the machine's. Every
heartbeat and renewal is stamped with that clock when it is written, so one stamped further
ahead of it than a lease time (:func:`latest_believed`) was written by hand or by a broken
clock: it is not believed, nor is a lease held by an engine that never joined the site or
that stopped (:func:`lease_doubt`). Such a lease is free: other engines take it at once.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, and_, case, delete, or_, select, text, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Exists

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


def latest_believed(now: datetime, lease_ttl: timedelta) -> datetime:
    """The latest heartbeat or renewal time believed at ``now`` (database clock): each is
    stamped with the database's clock as it is written, so one further ahead than a lease
    time (room for that clock to have been stepped back) was written by hand or by a broken
    clock."""
    return now + lease_ttl


def lease_is_live(
    engine: str | None, heartbeat_at: datetime | None, now: datetime, ttl: timedelta
) -> bool:
    """Whether a lease row (held by ``engine``, renewed at ``heartbeat_at``) is held and was
    renewed within ``ttl`` of ``now``, and not stamped implausibly far ahead of it. Whether
    its engine is alive is not judged here."""
    return (
        engine is not None
        and heartbeat_at is not None
        and now - ttl < heartbeat_at <= latest_believed(now, ttl)
    )


# What a stored time outside them is read as: PostgreSQL's 'infinity' and '-infinity' (and
# a SQLite cell that is no time) cannot be read into Python; a row edited so is read as
# stamped at one of these bounds, and judged as such (the ceiling: far ahead, not believed).
TIME_FLOOR: Final = datetime(1970, 1, 1, tzinfo=UTC)
TIME_CEILING: Final = datetime(9999, 12, 31, tzinfo=UTC)


def readable_time(column: Any, name: str) -> Any:
    """``column`` (a stored time) as a SQL expression labelled ``name`` that stays within
    :data:`TIME_FLOOR` … :data:`TIME_CEILING`, for reading rows someone may have edited."""
    return _within_range(column).label(name)


def _within_range(column: Any) -> Any:
    within = case(
        (column > TIME_CEILING, TIME_CEILING),
        (column < TIME_FLOOR, TIME_FLOOR),
        else_=column,
    )
    return type_coerce(within, column.type)  # read back as the column is (UTC, aware)


def lease_rows(site_id: int | None = None) -> Select[Any]:
    """Every lease (of ``site_id``; None: of every site), its times readable
    (:func:`readable_time`), by kind and key."""
    query = select(
        Lease.site_id,
        Lease.kind,
        Lease.key,
        Lease.engine,
        Lease.pinned,
        Lease.epoch,
        readable_time(Lease.acquired_at, "acquired_at"),
        readable_time(Lease.heartbeat_at, "heartbeat_at"),
    ).order_by(Lease.kind, Lease.key)
    return query if site_id is None else query.where(Lease.site_id == site_id)


def engine_rows(site_id: int | None = None, name: str | None = None) -> Select[Any]:
    """Every engine row (of ``site_id``, of that ``name``; None: all), its times readable
    (:func:`readable_time`), by name."""
    query = select(
        EngineRow.site_id,
        EngineRow.name,
        EngineRow.host,
        EngineRow.pid,
        EngineRow.capacity,
        readable_time(EngineRow.started_at, "started_at"),
        readable_time(EngineRow.heartbeat_at, "heartbeat_at"),
        EngineRow.clock_offset_ms,
        readable_time(EngineRow.stopped_at, "stopped_at"),
        EngineRow.health,
        EngineRow.replaced,
        EngineRow.instance,
    ).order_by(EngineRow.name)
    if site_id is not None:
        query = query.where(EngineRow.site_id == site_id)
    return query if name is None else query.where(EngineRow.name == name)


def engine_is_alive(
    stopped_at: datetime | None, heartbeat_at: datetime, now: datetime, ttl: timedelta
) -> bool:
    """Whether an engine row is of a running engine: not stopped, heard from within ``ttl``
    of ``now``, and not stamped implausibly far ahead of it."""
    return stopped_at is None and now - ttl < heartbeat_at <= latest_believed(now, ttl)


def lease_doubt(
    kind: str,
    key: str,
    engine: str | None,
    heartbeat_at: datetime | None,
    now: datetime,
    lease_ttl: timedelta,
    joined: Mapping[str, datetime | None],
) -> str | None:
    """Why a held lease cannot be believed, in words, or None. ``joined``: the engines of
    the lease's site (name → when it stopped; None: it has not). A lease held by an engine
    that never joined the site, by one that stopped (a clean stop gives its leases back), or
    stamped further ahead of the database's clock than :func:`latest_believed`, was not
    written by a running engine: it is free, and is taken over at once."""
    if engine is None or heartbeat_at is None:
        return None
    why: list[str] = []
    if engine not in joined:
        why.append(f"unknown engine {engine!r} (no engine of that name has joined this site)")
    elif joined[engine] is not None:
        why.append(f"engine {engine!r}, which stopped")
    future = heartbeat_at > latest_believed(now, lease_ttl)
    if not why and not future:
        return None
    holder = why[0] if why else f"engine {engine!r}"
    words = f"{_resource_words(kind, key)}'s lease is held by {holder}"
    if future:
        words += (
            f", renewed as of {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC: ahead of the database's "
            f"clock ({now:%Y-%m-%d %H:%M:%S} UTC)"
        )
    return words


def _resource_words(kind: str, key: str) -> str:
    return "the site services" if kind == "service" else f"{kind} {key}"


class EngineNameTakenError(RuntimeError):
    """Another live engine of the site already runs under this name; the message says where."""


class EngineNameLostError(RuntimeError):
    """Another process took this engine's name over (this one was not heard from for longer
    than its lease): this process must stop everything it runs. The message says who and
    why."""


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
    live: bool  # held by a running engine and renewed within LEASE_TTL_S
    # Why it cannot be believed (see lease_doubt): free, and taken over at once.
    doubt: str | None = None

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
        # This process's hold on the name: written at join, required by every later write.
        self.instance = secrets.token_hex(16)
        self.last_heartbeat_at: datetime | None = None  # database time of the last one

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
            mine = (EngineRow.site_id == self.site_id, EngineRow.name == self.name)
            # A row edited to times Python cannot hold ('infinity') is brought into range.
            session.execute(
                update(EngineRow)
                .where(*mine)
                .values(
                    started_at=_within_range(EngineRow.started_at),
                    heartbeat_at=_within_range(EngineRow.heartbeat_at),
                    stopped_at=_within_range(EngineRow.stopped_at),
                )
            )
            row = session.scalar(select(EngineRow).where(*mine))
            if row is None:
                row = EngineRow(site_id=self.site_id, name=self.name, replaced=None)
                session.add(row)
            elif row.instance != self.instance:
                alive = engine_is_alive(row.stopped_at, row.heartbeat_at, now, self.engine_ttl)
                if alive and (row.host, row.pid) != (self.host, self.pid):
                    raise EngineNameTakenError(
                        f"an engine named {self.name!r} is already running for this site on "
                        f"{row.host} (pid {row.pid}, last heard "
                        f"{(now - row.heartbeat_at).total_seconds():.0f} s ago); give this one "
                        "another --name, or stop that one first"
                    )
                # Taken over from a process that did not stop: it may only be paused or cut
                # off, and stops itself if it comes back (its writes need its instance).
                row.replaced = (
                    {
                        "host": row.host,
                        "pid": row.pid,
                        "last_heard_at": row.heartbeat_at.isoformat(),
                    }
                    if row.stopped_at is None
                    else None
                )
            row.instance = self.instance
            row.host, row.pid, row.capacity = self.host, self.pid, capacity
            row.started_at = row.heartbeat_at = now
            row.clock_offset_ms = (local_now - now).total_seconds() * 1000.0
            row.stopped_at = None
            row.health = {}
            self.last_heartbeat_at = now
            return now

    def heartbeat(
        self, local_now: datetime, health: dict[str, Any] | None = None
    ) -> tuple[datetime, float]:
        """Renew this engine's heartbeat (with what it says of its ``health``, when
        given); (database time, this clock's offset from it in ms, engine minus database).
        :class:`EngineNameLostError` when another process holds the name now."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            offset = (local_now - now).total_seconds() * 1000.0
            renewed = session.execute(
                update(EngineRow)
                .where(
                    EngineRow.site_id == self.site_id,
                    EngineRow.name == self.name,
                    EngineRow.instance == self.instance,
                )
                .values(
                    heartbeat_at=now,
                    clock_offset_ms=offset,
                    stopped_at=None,
                    **({"health": health} if health is not None else {}),
                )
            )
            if renewed.rowcount != 1:  # type: ignore[attr-defined]
                holder = session.execute(engine_rows(self.site_id, self.name)).first()
                raise EngineNameLostError(self._lost_words(holder, now))
            self.last_heartbeat_at = now
            return now, offset

    def _lost_words(self, holder: Any, now: datetime) -> str:
        """Why this process lost its name, from the row that ``holder`` read (None: gone)."""
        last = self.last_heartbeat_at
        replaced = holder.replaced if holder is not None else None
        if holder is not None and isinstance(replaced, dict) and replaced.get("pid") == self.pid:
            try:  # this process's last heartbeat as the one taking over found it
                last = datetime.fromisoformat(str(replaced.get("last_heard_at")))
                now = holder.started_at
            except (TypeError, ValueError):
                pass
        silent = (
            f"was not heard from for {(now - last).total_seconds():.0f} s"
            if last is not None and last.tzinfo is not None
            else "was not heard from"
        )
        me = f"this process ({self.host}, pid {self.pid}) {silent}"
        if holder is None:
            return (
                f"engine {self.name!r}'s row was removed from the database while {me}: "
                "this process stops everything it ran"
            )
        return (
            f"engine {self.name!r} was taken over at {holder.started_at:%Y-%m-%d %H:%M:%S} "
            f"UTC by another process ({holder.host}, pid {holder.pid}) while {me}, longer "
            "than its lease (paused, hung or cut off from the database): this process stops "
            "everything it ran"
        )

    def leave(self, held: Mapping[Resource, int]) -> None:
        """A clean stop: give back every lease still ``held`` (resource → epoch), so
        other engines take them at once, and mark this engine stopped."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            for (kind, key), epoch in held.items():
                session.execute(self._mine(kind, key, epoch).values(engine=None, heartbeat_at=None))
            session.execute(
                update(EngineRow)
                .where(
                    EngineRow.site_id == self.site_id,
                    EngineRow.name == self.name,
                    EngineRow.instance == self.instance,  # not the process that took it over
                )
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

    def acquire(self, kind: str, key: str, seen: tuple[str, int] | None = None) -> int | None:
        """Take the lease when it is free, lapsed, stamped implausibly far ahead or already
        this engine's: the new epoch, or None when another engine holds it (or this
        process lost its name). ``seen``: the (holder, epoch) a view found it held at, when
        that holder is not a running engine of the site (it never joined, stopped, or is
        silent): taken when the lease is still exactly that and the holder still not
        running, so a holder that comes back and takes it anew keeps it."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            takeable = [
                Lease.engine.is_(None),
                Lease.heartbeat_at.is_(None),
                Lease.heartbeat_at < now - self.lease_ttl,
                Lease.heartbeat_at > latest_believed(now, self.lease_ttl),
                Lease.engine == self.name,
            ]
            if seen is not None:
                takeable.append(
                    and_(
                        Lease.engine == seen[0], Lease.epoch == seen[1], ~self._running_holder(now)
                    )
                )
            taken = session.execute(
                update(Lease)
                .where(Lease.site_id == self.site_id, Lease.kind == kind, Lease.key == key)
                .where(or_(*takeable), self._holds_name())
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

    def retire(self, kind: str, key: str, epoch: int | None = None) -> bool:
        """Delete the lease of a resource the site no longer has (a camera removed from or
        switched off in the site file), so that no engine takes it again: this engine's own
        (taken at ``epoch``, once it has stopped the resource), or one nobody runs (free,
        lapsed, stamped implausibly far ahead, or held by an engine that is not running).
        A lease another running engine holds stays: that engine retires it when it stops
        the resource (it follows the same file). True when the row is gone."""
        with self.store.write_transaction() as session:
            now = self.database_now(session)
            nobody_runs = [
                Lease.engine.is_(None),
                Lease.heartbeat_at.is_(None),
                Lease.heartbeat_at < now - self.lease_ttl,
                Lease.heartbeat_at > latest_believed(now, self.lease_ttl),
                ~self._running_holder(now),
            ]
            if epoch is not None:
                nobody_runs.append(and_(Lease.engine == self.name, Lease.epoch == epoch))
            session.execute(
                delete(Lease)
                .where(Lease.site_id == self.site_id, Lease.kind == kind, Lease.key == key)
                .where(or_(*nobody_runs), self._holds_name())
            )
            left = session.scalar(
                select(Lease.id).where(
                    Lease.site_id == self.site_id, Lease.kind == kind, Lease.key == key
                )
            )
            return left is None

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
            self._holds_name(),
        )

    def _running_holder(self, now: datetime) -> Exists:
        """True while the lease's holder is a running engine of the site (not stopped,
        heard from within its time, not stamped implausibly far ahead)."""
        return (
            select(EngineRow.id)
            .where(
                EngineRow.site_id == Lease.site_id,
                EngineRow.name == Lease.engine,
                EngineRow.stopped_at.is_(None),
                EngineRow.heartbeat_at > now - self.engine_ttl,
                EngineRow.heartbeat_at <= latest_believed(now, self.lease_ttl),
            )
            .exists()
        )

    def _holds_name(self) -> Exists:
        """True while this engine's row carries this process's instance: a lease write by a
        process whose name was taken over changes nothing."""
        return (
            select(EngineRow.id)
            .where(
                EngineRow.site_id == self.site_id,
                EngineRow.name == self.name,
                EngineRow.instance == self.instance,
            )
            .exists()
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
        # Leases first: an engine joins before it takes a lease, so every holder read here
        # that had joined is in the engines read after (under READ COMMITTED too).
        leases_read = session.execute(lease_rows(site_id)).all()
        engines_read = session.execute(engine_rows(site_id)).all()
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
                alive=engine_is_alive(row.stopped_at, row.heartbeat_at, now, engine_ttl),
            )
            for row in engines_read
        )
        alive = {e.name for e in engines if e.alive}
        joined = {row.name: row.stopped_at for row in engines_read}
        leases = []
        for row in leases_read:
            doubt = lease_doubt(
                row.kind, row.key, row.engine, row.heartbeat_at, now, lease_ttl, joined
            )
            leases.append(
                LeaseState(
                    kind=row.kind,
                    key=row.key,
                    engine=row.engine,
                    pinned=row.pinned,
                    epoch=row.epoch,
                    acquired_at=row.acquired_at,
                    heartbeat_at=row.heartbeat_at,
                    live=lease_is_live(row.engine, row.heartbeat_at, now, lease_ttl)
                    and row.engine in alive,
                    doubt=doubt,
                )
            )
        return ClusterView(now=now, engines=engines, leases=tuple(leases))


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
