"""Who runs what, as ``watchfloor status``, ``watchfloor engines`` and the System pane show it.

:func:`engines_status` reads every engine and lease of the database's sites in one
transaction and says, per engine, whether it is running (heard from within the lease time),
silent (not heard from, not stopped: killed, hung or cut off; its leases lapse and other
engines take them) or stopped, what it runs, and how far its clock is from the database's;
and which of a site's cameras or rooms runs nowhere while engines are up (every engine at
capacity, or the engine a camera is pinned to down with no other able to take it). A
lease or heartbeat that cannot be believed (held by an engine that never joined the site or
that stopped, or stamped ahead of the database's clock; see
:func:`~engine.cluster.leases.lease_doubt`) is named as a problem, and holds nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select

from engine.cluster.leases import (
    CLOCK_WARN_S,
    ENGINE_TTL_S,
    LEASE_TTL_S,
    database_now,
    engine_is_alive,
    engine_rows,
    latest_believed,
    lease_doubt,
    lease_is_live,
    lease_rows,
)
from engine.cluster.member import UNLIMITED
from engine.store.database import Store
from engine.store.models import Site
from engine.wording import duration_words

RUNNING, SILENT, STOPPED = "running", "silent", "stopped"


@dataclass(frozen=True, slots=True)
class EngineLine:
    """One engine of a site as an admin reads it (times UTC)."""

    site: str
    name: str
    host: str
    pid: int
    state: str  # RUNNING, SILENT or STOPPED
    capacity: int | None  # the most cameras it takes; None: no limit
    started_at: datetime
    last_heard_at: datetime
    clock_offset_ms: float
    cameras: tuple[str, ...]  # camera keys it runs now
    rooms: tuple[str, ...]
    site_services: bool
    # What it said at its last heartbeat: (subsystem, state, detail) and, per camera it holds
    # the lease of now, {"status", "detail", "since", "fps"}.
    subsystems: tuple[tuple[str, str, str], ...] = ()
    camera_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Where it re-streams its cameras and serves its recordings:
    # {"url": "rtsp://…/live/", "files": "http://…/media/"} (either may be absent).
    media: dict[str, Any] | None = None
    # The process whose name this one took over while it had not stopped (paused, hung or
    # cut off): {"host", "pid", "last_heard_at"}; None when the name was free.
    replaced: dict[str, Any] | None = None

    @property
    def troubles(self) -> tuple[str, ...]:
        """A running engine's subsystems that are not well, and its cameras not online, in
        words."""
        if self.state != RUNNING:
            return ()
        out = [
            f"{name} {state}: {detail}"
            for name, state, detail in self.subsystems
            if state in ("degraded", "down")
        ]
        out += [
            f"camera {cam} {entry.get('status', '?')}"
            + (f" ({entry['detail']})" if entry.get("detail") else "")
            for cam, entry in sorted(self.camera_states.items())
            if entry.get("status") not in ("online", "starting")
        ]
        return tuple(out)

    @property
    def clock_off(self) -> bool:
        return self.state == RUNNING and abs(self.clock_offset_ms) > CLOCK_WARN_S * 1000.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["last_heard_at"] = self.last_heard_at.isoformat()
        data["cameras"], data["rooms"] = list(self.cameras), list(self.rooms)
        data["clock_off"] = self.clock_off
        data["subsystems"] = [{"name": n, "state": st, "detail": d} for n, st, d in self.subsystems]
        data["troubles"] = list(self.troubles)
        return data


@dataclass(frozen=True, slots=True)
class EnginesStatus:
    """Every engine of the database's sites, what runs nowhere, and the problems in words."""

    at: datetime
    engines: tuple[EngineLine, ...]
    unowned: tuple[str, ...]  # "site: camera plaza" of what no running engine runs
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "engines": [e.as_dict() for e in self.engines],
            "unowned": list(self.unowned),
            "problems": list(self.problems),
        }


def engines_status(store: Store) -> EnginesStatus:
    """Read who runs what now (database clock). Empty when no engine ever shared a site."""
    lease_ttl, engine_ttl = timedelta(seconds=LEASE_TTL_S), timedelta(seconds=ENGINE_TTL_S)
    with store.transaction() as session:
        now = database_now(store, session)
        sites = {row.id: row.name for row in session.execute(select(Site.id, Site.name))}
        # Leases before engines: a holder joined before it took its lease (see read_cluster).
        # (Their times read within range: a row edited to 'infinity' is named, not fatal.)
        leases = session.execute(lease_rows()).all()
        engines = session.execute(engine_rows()).all()
    alive = {
        (row.site_id, row.name)
        for row in engines
        if engine_is_alive(row.stopped_at, row.heartbeat_at, now, engine_ttl)
    }
    joined: dict[int, dict[str, datetime | None]] = {}
    for row in engines:
        joined.setdefault(row.site_id, {})[row.name] = row.stopped_at
    held: dict[tuple[int, str], list[Row[Any]]] = {}
    doubts: list[str] = []
    for lease in leases:
        doubt = lease_doubt(
            lease.kind,
            lease.key,
            lease.engine,
            lease.heartbeat_at,
            now,
            lease_ttl,
            joined.get(lease.site_id, {}),
        )
        if doubt is not None:
            doubts.append(
                f"{sites.get(lease.site_id, '?')}: {doubt}: not believed; the other engines "
                "take it over (and rewrite the row)"
            )
        elif (
            lease_is_live(lease.engine, lease.heartbeat_at, now, lease_ttl)
            and lease.engine is not None
            and (lease.site_id, lease.engine) in alive
        ):
            held.setdefault((lease.site_id, lease.engine), []).append(lease)
    lines = []
    for row in engines:
        if row.stopped_at is not None:
            state = STOPPED
        elif (row.site_id, row.name) in alive:
            state = RUNNING
        else:
            state = SILENT
        mine = held.get((row.site_id, row.name), [])
        # The row is the engine's own report, but anyone with the database may edit it.
        health = row.health if isinstance(row.health, dict) else {}
        subsystems = health.get("subsystems")
        cameras = health.get("cameras")
        running = {lease.key for lease in mine if lease.kind == "camera"}
        lines.append(
            EngineLine(
                site=sites.get(row.site_id, "?"),
                name=row.name,
                host=row.host,
                pid=row.pid,
                state=state,
                capacity=row.capacity if row.capacity < UNLIMITED else None,
                started_at=row.started_at,
                last_heard_at=row.heartbeat_at,
                clock_offset_ms=row.clock_offset_ms,
                cameras=tuple(lease.key for lease in mine if lease.kind == "camera"),
                rooms=tuple(lease.key for lease in mine if lease.kind == "room"),
                site_services=any(lease.kind == "service" for lease in mine),
                subsystems=tuple(
                    (str(x.get("name", "?")), str(x.get("state", "?")), str(x.get("detail", "")))
                    for x in (subsystems if isinstance(subsystems, list) else ())
                    if isinstance(x, dict)
                ),
                # Only the cameras it holds now: a camera it handed over at a rebalance
                # stays in its report until its next heartbeat, and is the other's.
                camera_states={
                    str(k): v
                    for k, v in (cameras if isinstance(cameras, dict) else {}).items()
                    if isinstance(v, dict) and str(k) in running
                },
                media=_media_of(health),
                replaced=row.replaced if isinstance(row.replaced, dict) else None,
            )
        )
    running_sites = {
        row.site_id for row, line in zip(engines, lines, strict=True) if line.state == RUNNING
    }
    owned = {(lease.site_id, lease.kind, lease.key) for leases in held.values() for lease in leases}
    unowned = tuple(
        f"{sites.get(lease.site_id, '?')}: {_what(lease)}"
        for lease in leases
        if lease.site_id in running_sites and (lease.site_id, lease.kind, lease.key) not in owned
    )
    problems: list[str] = list(doubts)
    for line in lines:
        if line.state == SILENT and line.last_heard_at > latest_believed(now, lease_ttl):
            problems.append(
                f"engine {line.name} on {line.host} says it was heard from at "
                f"{line.last_heard_at:%Y-%m-%d %H:%M:%S} UTC, ahead of the database's clock: "
                "not believed; it counts as silent (its cameras go to the other engines)"
            )
        elif line.state == SILENT:
            problems.append(
                f"engine {line.name} on {line.host} has not been heard from for "
                f"{duration_words((now - line.last_heard_at).total_seconds())}: its cameras go to "
                "the other engines; if it was not stopped on purpose, look at that machine"
            )
        for trouble in line.troubles:
            problems.append(f"engine {line.name}: {trouble}")
        if line.clock_off:
            ahead = "ahead of" if line.clock_offset_ms > 0 else "behind"
            problems.append(
                f"engine {line.name}: its clock is {abs(line.clock_offset_ms) / 1000:.1f} s "
                f"{ahead} the database's (set up NTP on {line.host})"
            )
    if unowned:
        problems.append(
            f"{len(unowned)} not run by any engine ({', '.join(unowned[:3])}"
            f"{', …' if len(unowned) > 3 else ''}): every running engine is at its --capacity, "
            "or waiting for a silent engine's lease to lapse"
        )
    return EnginesStatus(now, tuple(lines), unowned, tuple(problems))


def _media_of(health: dict[str, Any]) -> dict[str, Any] | None:
    media = health.get("media")
    if not isinstance(media, dict):
        return None
    kept = {key: media[key] for key in ("url", "files") if isinstance(media.get(key), str)}
    return kept or None


def _what(lease: Row[Any]) -> str:
    return "site services" if lease.kind == "service" else f"{lease.kind} {lease.key}"
