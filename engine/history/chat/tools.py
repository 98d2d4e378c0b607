"""The chat engine's store queries: the tools the LLM calls and the offline answerer uses.

Each tool is a plain function ``tool(store, now, **args) -> dict`` whose result is JSON-able
(times ISO 8601 UTC with a ``Z``, event ids, camera keys and names, people by name and public
id, clip paths relative to the data dir with the event's offset in seconds), so the same dict
is shown to the LLM as a ``tool_result`` and read by :mod:`engine.history.chat.offline`.
``now`` is the engine clock's reading: ranges default to end at it.

Every query is bounded (``limit`` at most :data:`MAX_LIMIT` rows) and walks an index that
ends in ``(ts, id)`` (``ix_events_kind_ts_id``, ``ix_events_camera_ts_id``,
``ix_events_camera_kind_ts_id``, ``ix_events_person_ts_id``, ``ix_events_ts_id``;
``ix_alerts_raised_at_id``, ``ix_incidents_occurred_at_id``, ``ix_media_camera_span``), so a
tool costs a few milliseconds with a million events stored. Counts over a range count index
entries, one kind at a time (the kinds come from a loose scan of ``ix_events_kind_ts_id``).

:data:`TOOL_SCHEMAS` describes the tools to the Messages API; :func:`run_tool` checks a
call's arguments against them and answers a bad call with ``{"error": …}`` instead of
raising, so the LLM can correct itself. Any thread; each call opens its own connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text
from sqlalchemy.engine import Connection

from engine.history.chat.across_senses import (
    Place,
    names_in_paths,
    read_paths,
    room_names,
    sensed_people,
    stretch_clips,
    stretches_in,
    went_from_to,
)
from engine.history.chat.presence import path_identities, people_words, presence_on
from engine.history.events import _CLIP, _covering_clip_id, _covering_clips
from engine.history.paths import PATH_KIND, PersonPath, stretches_of
from engine.history.timeline import _ROOM_SOURCES, SENSING_PREFIX
from engine.sitetime import UTC_TIME
from engine.store.alert_models import Alert
from engine.store.database import Store
from engine.store.incident_models import Incident
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person
from engine.vocabulary import INCIDENT_CATEGORIES
from engine.wording import describe

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 50
PUBLIC_ID = re.compile(r"person_[0-9a-f]{8}", re.IGNORECASE)
PERSON_KINDS: Final = ("person.appeared", "person.left", "face.recognised")
FALL_KIND: Final = "sensing.fall_detected"


class ToolArgumentError(ValueError):
    """A tool was called with arguments it cannot use; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Citation:
    """An event an answer rests on, as the chat pane lists it (clickable): its id, time
    (UTC), kind, source (``camera:KEY`` or ``sensing:ROOM``), camera key, a one-line
    summary, and the clip that covers it (path relative to the data dir, offset seconds)."""

    event_id: int
    ts: datetime
    kind: str
    source: str
    camera: str | None
    summary: str
    clip_path: str | None
    clip_offset_s: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "ts": iso(self.ts),
            "kind": self.kind,
            "source": self.source,
            "camera": self.camera,
            "summary": self.summary,
            "clip_path": self.clip_path,
            "clip_offset_s": self.clip_offset_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Citation:
        offset = data.get("clip_offset_s")
        return cls(
            event_id=int(data["event_id"]),
            ts=parse_time(str(data["ts"]), "ts"),
            kind=str(data["kind"]),
            source=str(data["source"]),
            camera=None if data.get("camera") is None else str(data["camera"]),
            summary=str(data.get("summary", "")),
            clip_path=None if data.get("clip_path") is None else str(data["clip_path"]),
            clip_offset_s=None if offset is None else float(offset),
        )


# ------------------------------------------------------------------------------ helpers


def iso(ts: datetime) -> str:
    """``2026-11-23T08:14:05Z``: UTC to the second, as tool results and citations show it."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_exact(ts: datetime) -> str:
    """``2026-11-23T08:14:05.374912Z``: UTC to the microsecond, for a range's bounds passed
    to a tool. Cut to the second, a range ending now would miss every event of the current
    second (``Event.ts < end``)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str, name: str) -> datetime:
    """An ISO 8601 time as UTC: with an offset (``Z`` or the site's, as the system prompt
    allows), that instant; without one, UTC, as every time a tool returns is (a tool is
    a machine interface, the site's zone lives in the answer's text).
    :class:`ToolArgumentError` otherwise."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ToolArgumentError(f"{name}: {value!r} is not an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _range(start: str | None, end: str | None, now: datetime) -> tuple[datetime | None, datetime]:
    low = parse_time(start, "start") if start else None
    high = parse_time(end, "end") if end else now
    if low is not None and high <= low:
        raise ToolArgumentError("end must be later than start")
    return low, high


def _limit(limit: int | None) -> int:
    return max(1, min(int(limit or DEFAULT_LIMIT), MAX_LIMIT))


def _range_json(low: datetime | None, high: datetime) -> dict[str, str | None]:
    return {"start": None if low is None else iso(low), "end": iso(high)}


def describe_event(
    kind: str,
    source: str,
    person: str | None,
    camera_name: str | None,
    detail: Mapping[str, Any],
) -> str:
    """A one-line summary of an event as every pane words it (:mod:`engine.wording`):
    ``John Carter recognised on Lobby``."""
    _scheme, _, key = source.partition(":")
    names = {key: camera_name} if key and camera_name else {}
    return describe(kind, source, detail, names=names, person=person).summary


def camera_label(key: str | None, name: str | None) -> str | None:
    if key is None:
        return None
    return f"{name} ({key})" if name and name != key else key


# ------------------------------------------------------------------------------ lookups


@dataclass(frozen=True, slots=True)
class CameraRef:
    id: int
    key: str
    name: str
    position: int  # 1-based, in site order (the order of the site file)

    @property
    def label(self) -> str:
        return camera_label(self.key, self.name) or self.key


def cameras(connection: Connection) -> list[CameraRef]:
    """Every camera in site order (the order the site file lists them: their row ids)."""
    rows = connection.execute(
        select(Camera.id, Camera.key, Camera.name).order_by(Camera.site_id, Camera.id)
    ).all()
    return [CameraRef(int(r.id), str(r.key), str(r.name), i) for i, r in enumerate(rows, 1)]


def numbered_cameras(known: Sequence[CameraRef], number: int) -> list[CameraRef]:
    """What "camera N" names: the cameras whose key or name carries ``number`` as a
    number of its own ("cam2", "Camera 2", "gate-2"); if none does, the N-th camera in
    site order; else nobody. Several: the reference is ambiguous."""
    pattern = re.compile(rf"(?<!\d){number}(?!\d)")
    carrying = [c for c in known if pattern.search(c.key) or pattern.search(c.name)]
    if carrying:
        return carrying
    return [known[number - 1]] if 1 <= number <= len(known) else []


_CAMERA_NUMBER = re.compile(r"(?:camera|cam)?\s*#?\s*(\d+)", re.IGNORECASE)


def find_cameras(connection: Connection, reference: str) -> list[CameraRef]:
    """The cameras ``reference`` names: its key or name (case-insensitive), exactly; else,
    for "camera 2", "cam 2" or "2", :func:`numbered_cameras`."""
    needle = reference.strip().lower()
    known = cameras(connection)
    exact = [c for c in known if needle in (c.key.lower(), c.name.lower())]
    if exact:
        return exact
    numbered = _CAMERA_NUMBER.fullmatch(needle)
    return numbered_cameras(known, int(numbered[1])) if numbered else []


@dataclass(frozen=True, slots=True)
class PersonRef:
    id: int
    public_id: str
    name: str | None
    first_seen: datetime | None
    last_seen: datetime | None

    @property
    def label(self) -> str:
        return self.name or self.public_id

    def as_json(self) -> dict[str, Any]:
        return {
            "public_id": self.public_id,
            "name": self.name,
            "first_seen": None if self.first_seen is None else iso(self.first_seen),
            "last_seen": None if self.last_seen is None else iso(self.last_seen),
        }


def find_people(connection: Connection, reference: str) -> tuple[list[PersonRef], bool]:
    """The people ``reference`` names, and whether the match is exact.

    A public id (``Person_…``) or a whole name, case-insensitively, is exact; else the people
    one of whose name's words is each word of ``reference`` ("John" finds "John Carter");
    else nobody (a substring such as "Jo" does not count: it would guess). One statement
    over the persons table (small next to the events)."""
    needle = " ".join(reference.split()).lower()
    if not needle:
        return [], False
    columns = (Person.id, Person.public_id, Person.name, Person.first_seen, Person.last_seen)
    if PUBLIC_ID.fullmatch(needle):
        rows = connection.execute(
            select(*columns).where(func.lower(Person.public_id) == needle)
        ).all()
        return [_person(r) for r in rows], True
    words = needle.split()
    escaped = words[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = connection.execute(
        select(*columns)
        .where(func.lower(Person.name).like(f"%{escaped}%", escape="\\"))
        .order_by(Person.id)
        .limit(1000)
    ).all()
    exact = [_person(r) for r in rows if (r.name or "").lower() == needle]
    if exact:
        return exact, True
    partial = [
        _person(r)
        for r in rows
        if all(w in re.split(r"[\s\-]+", (r.name or "").lower()) for w in words)
    ]
    return partial, False


def _person(row: Any) -> PersonRef:
    return PersonRef(int(row.id), str(row.public_id), row.name, row.first_seen, row.last_seen)


def rooms(connection: Connection) -> list[str]:
    """Every sensing room with events stored (the ``sensing:…`` sources of
    ``event_rollup``, one index probe per room), sorted."""
    found = connection.execute(
        select(_ROOM_SOURCES.c.source).where(_ROOM_SOURCES.c.source.is_not(None))
    ).scalars()
    return sorted({str(s).removeprefix(SENSING_PREFIX) for s in found if s})


def _kinds(connection: Connection) -> list[str]:
    """Every event kind in the history: the loose scan of ``ix_events_kind_ts_id`` that
    :func:`engine.history.events.event_kinds` runs, on the caller's connection."""
    rows = connection.execute(
        text(
            "WITH RECURSIVE k(kind) AS ("
            " SELECT min(kind) FROM events"
            " UNION ALL"
            " SELECT (SELECT min(e.kind) FROM events e WHERE e.kind > k.kind)"
            " FROM k WHERE k.kind IS NOT NULL)"
            " SELECT kind FROM k WHERE kind IS NOT NULL"
        )
    ).scalars()
    return [str(kind) for kind in rows]


# ------------------------------------------------------------------------------ event rows


def _event_select(conditions: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return (
        select(
            Event.id,
            Event.ts,
            Event.kind,
            Event.source,
            Event.camera_id,
            Event.track_id,
            Event.detail,
            Camera.key,
            Camera.name.label("camera_name"),
            Person.public_id,
            Person.name,
            _CLIP.path.label("clip_path"),
            _CLIP.started_at.label("clip_started_at"),
        )
        .outerjoin(Camera, Camera.id == Event.camera_id)
        .outerjoin(Person, Person.id == Event.person_id)
        .outerjoin(_CLIP, _CLIP.id == _covering_clip_id())
        .where(*conditions)
    )


def _event_json(row: Any) -> dict[str, Any]:
    detail = dict(row.detail or {})
    person = row.name or row.public_id
    offset = (
        None
        if row.clip_started_at is None
        else round(max(0.0, (row.ts - row.clip_started_at).total_seconds()), 1)
    )
    return {
        "id": int(row.id),
        "ts": iso(row.ts),
        "kind": row.kind,
        "source": row.source,
        "camera": row.key,
        "camera_name": row.camera_name,
        "person": person,
        "person_id": row.public_id,
        "track_id": row.track_id,
        "summary": describe_event(row.kind, row.source, person, row.camera_name, detail),
        "clip_path": row.clip_path,
        "clip_offset_s": offset,
    }


def citation_of(event: Mapping[str, Any]) -> Citation:
    """The citation of an event as a tool returned it."""
    return Citation(
        event_id=int(event["id"]),
        ts=parse_time(str(event["ts"]), "ts"),
        kind=str(event["kind"]),
        source=str(event["source"]),
        camera=event.get("camera"),
        summary=str(event.get("summary", "")),
        clip_path=event.get("clip_path"),
        clip_offset_s=event.get("clip_offset_s"),
    )


def _events(
    connection: Connection,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    *,
    oldest_first: bool = False,
) -> list[dict[str, Any]]:
    order = (Event.ts.asc(), Event.id.asc()) if oldest_first else (Event.ts.desc(), Event.id.desc())
    stmt = _event_select(conditions).order_by(*order).limit(limit)
    return [_event_json(row) for row in connection.execute(stmt).all()]


def events_by_id(store: Store, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The events of ``event_ids`` that exist (by primary key), as tools show them; a path
    across senses (``person.path``, filed when it ends) with the clip of its first camera
    stretch a clip shows, where the event has none of its own."""
    ids = sorted({int(i) for i in event_ids})[:500]
    if not ids:
        return {}
    with store.engine.connect() as connection:
        rows = connection.execute(_event_select([Event.id.in_(ids)])).all()
    found = {int(row.id): _event_json(row) for row in rows}
    paths = [row for row in rows if row.kind == PATH_KIND and row.clip_path is None]
    if paths:
        camera_stretches = [
            (int(row.id), s)
            for row in paths
            for s in stretches_of(dict(row.detail or {}))
            if s.sense == "camera"
        ]
        for event_id, (clip, offset) in stretch_clips(store, camera_stretches).items():
            found[event_id] |= {"clip_path": clip, "clip_offset_s": offset}
    return found


@dataclass(frozen=True, slots=True)
class _Where:
    """Resolved filters of an events tool: conditions, or a note saying what names nobody."""

    conditions: list[ColumnElement[bool]]
    note: str | None = None
    people: tuple[PersonRef, ...] = ()
    camera: CameraRef | None = None


def _where(
    connection: Connection,
    *,
    low: datetime | None,
    high: datetime,
    kinds: Sequence[str] = (),
    camera: str | None = None,
    person: str | None = None,
    room: str | None = None,
    with_person: bool = False,
) -> _Where:
    conditions: list[ColumnElement[bool]] = [Event.ts < high]
    if low is not None:
        conditions.append(Event.ts >= low)
    if len(kinds) == 1:
        conditions.append(Event.kind == kinds[0])
    elif kinds:
        conditions.append(Event.kind.in_(list(kinds)))
    found_camera = None
    if camera:
        matched = find_cameras(connection, camera)
        if not matched:
            known = ", ".join(c.key for c in cameras(connection)) or "none"
            return _Where([], note=f"no camera {camera!r} (cameras: {known})")
        if len(matched) > 1:
            names = ", ".join(c.key for c in matched)
            return _Where([], note=f"camera {camera!r} is ambiguous: {names}")
        found_camera = matched[0]
        conditions.append(Event.camera_id == found_camera.id)
    people: list[PersonRef] = []
    if person:
        people, _exact = find_people(connection, person)
        if not people:
            return _Where([], note=f"no record of anyone called {person!r}")
        ids = [p.id for p in people]
        conditions.append(Event.person_id == ids[0] if len(ids) == 1 else Event.person_id.in_(ids))
    elif with_person:
        conditions.append(Event.person_id.is_not(None))
    if room:
        conditions.append(Event.source == f"sensing:{room}")
    return _Where(conditions, people=tuple(people), camera=found_camera)


def _kind_list(kind: str | None, kinds: Sequence[str] | None) -> list[str]:
    chosen = list(kinds or ())
    if kind:
        chosen.append(kind)
    return list(dict.fromkeys(k.strip() for k in chosen if k.strip()))


# ------------------------------------------------------------------------------ the tools


def search_events(
    store: Store,
    now: datetime,
    *,
    kind: str | None = None,
    kinds: Sequence[str] | None = None,
    camera: str | None = None,
    person: str | None = None,
    room: str | None = None,
    start: str | None = None,
    end: str | None = None,
    with_person: bool = False,
    oldest_first: bool = False,
    limit: int | None = None,
) -> dict[str, Any]:
    """Events in ``[start, end)`` (end defaults to now), newest first (``oldest_first``:
    oldest first), filtered by kind(s), camera (key or name), person (name or public id),
    sensing room, or ``with_person`` (only events of a known person); at most ``limit``."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    with store.engine.connect() as connection:
        where = _where(
            connection,
            low=low,
            high=high,
            kinds=_kind_list(kind, kinds),
            camera=camera,
            person=person,
            room=room,
            with_person=with_person,
        )
        if where.note is not None:
            return {"events": [], "note": where.note, "range": _range_json(low, high)}
        rows = _events(connection, where.conditions, count + 1, oldest_first=oldest_first)
    return {
        "events": rows[:count],
        "truncated": len(rows) > count,
        "range": _range_json(low, high),
    }


def person_sightings(
    store: Store,
    now: datetime,
    *,
    person: str,
    camera: str | None = None,
    start: str | None = None,
    end: str | None = None,
    oldest_first: bool = False,
    limit: int | None = None,
) -> dict[str, Any]:
    """Who ``person`` (a name, a first name, or a public id) is, and the events that saw
    them (any kind carrying the person), newest first, optionally on one camera and in
    ``[start, end)``. ``people`` lists everyone the reference matched (several: ambiguous;
    none: ``note`` says there is no such person)."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    with store.engine.connect() as connection:
        people, exact = find_people(connection, person)
        if not people:
            return {
                "people": [],
                "sightings": [],
                "note": f"no record of anyone called {person!r}",
            }
        where = _where(connection, low=low, high=high, camera=camera, person=None)
        if where.note is not None:
            return {"people": [p.as_json() for p in people], "sightings": [], "note": where.note}
        ids = [p.id for p in people]
        conditions = [
            *where.conditions,
            Event.person_id == ids[0] if len(ids) == 1 else Event.person_id.in_(ids),
        ]
        rows = _events(connection, conditions, count + 1, oldest_first=oldest_first)
    return {
        "people": [p.as_json() for p in people],
        "exact_match": exact,
        "ambiguous": len(people) > 1,
        "sightings": rows[:count],
        "truncated": len(rows) > count,
        "range": _range_json(low, high),
    }


def count_events(
    store: Store,
    now: datetime,
    *,
    kind: str | None = None,
    kinds: Sequence[str] | None = None,
    camera: str | None = None,
    person: str | None = None,
    room: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    """How many events of each kind (all kinds when none is given) happened in
    ``[start, end)``, optionally on one camera, of one person or in one sensing room.
    ``count`` is the total; ``by_kind`` leaves out kinds with none."""
    low, high = _range(start, end, now)
    with store.engine.connect() as connection:
        chosen = _kind_list(kind, kinds) or _kinds(connection)
        where = _where(connection, low=low, high=high, camera=camera, person=person, room=room)
        if where.note is not None:
            return {"count": 0, "by_kind": {}, "note": where.note, "range": _range_json(low, high)}
        by_kind: dict[str, int] = {}
        for one in chosen:  # one index range per kind: counted in the index alone
            n = connection.execute(
                select(func.count()).select_from(Event).where(*where.conditions, Event.kind == one)
            ).scalar_one()
            if n:
                by_kind[one] = int(n)
    return {"count": sum(by_kind.values()), "by_kind": by_kind, "range": _range_json(low, high)}


def distinct_people(
    store: Store,
    now: datetime,
    *,
    camera: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The people seen (on ``camera``, in ``[start, end)``), each with their first and last
    sighting there and the event of the first; named people first, then by first sighting.
    ``people_seen`` counts them all; ``people`` holds up to ``limit``. Part of
    ``person_sightings`` for the LLM (called with ``camera`` and no ``person``)."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    with store.engine.connect() as connection:
        where = _where(connection, low=low, high=high, camera=camera, with_person=True)
        if where.note is not None:
            return {"people": [], "people_seen": 0, "note": where.note}
        grouped = (
            select(
                Event.person_id,
                func.min(Event.ts).label("first"),
                func.max(Event.ts).label("last"),
                func.min(Event.id).label("any_id"),
                func.count().label("n"),
            )
            .where(*where.conditions)
            .group_by(Event.person_id)
            .subquery()
        )
        rows = connection.execute(
            select(
                grouped.c.person_id,
                grouped.c.first,
                grouped.c.last,
                grouped.c.n,
                Person.public_id,
                Person.name,
            ).join(Person, Person.id == grouped.c.person_id)
        ).all()
        people = sorted(rows, key=lambda r: (r.name is None, _as_utc(r.first), r.public_id))
        unrecognised = _unrecognised_tracks(connection, low=low, high=high, camera=camera)
        shown = people[:count]
        # The first sighting of each shown person, all in one statement: one probe of
        # ix_events_person_ts_id per person, at the (person, first time) the group found.
        firsts: list[dict[str, Any]] = []
        if shown:
            firsts = _events(
                connection,
                [
                    *where.conditions,
                    or_(
                        *(
                            and_(Event.person_id == row.person_id, Event.ts == _as_utc(row.first))
                            for row in shown
                        )
                    ),
                ],
                len(shown) * 4,
                oldest_first=True,
            )
    by_person: dict[str, dict[str, Any]] = {}
    for event in firsts:
        by_person.setdefault(event["person_id"], event)
    return {
        "camera": None if where.camera is None else where.camera.key,
        "range": _range_json(low, high),
        "people_seen": len(people),
        "named_people_seen": sum(1 for r in people if r.name),
        # Camera tracks no face was recognised on (someone who leaves the view and comes
        # back is a new track): tracks, not people; count_people counts people.
        "unrecognised_tracks": unrecognised,
        "people": [
            {
                "public_id": r.public_id,
                "name": r.name,
                "first_seen": iso(_as_utc(r.first)),
                "last_seen": iso(_as_utc(r.last)),
                "events": int(r.n),
                "first_event": by_person.get(r.public_id),
            }
            for r in shown
        ],
        "truncated": len(people) > count,
    }


PERSON_TRACK_KINDS: Final = ("person.appeared", "person.left")
MAX_PICTURES: Final = 24  # people an answer shows pictures of
_PICTURE_ROWS: Final = 2000  # sightings read to find them (the newest first)


@dataclass(frozen=True, slots=True)
class SeenPerson:
    """Someone an answer counted, as the chat pane shows them: ``label`` (their name, their
    automatic id, or "Not recognised" for a track no face was recognised on), when and on
    which camera (key, and name as people read it) they were last seen in the range, and
    ``snapshot``, the picture kept of them (a path relative to the data dir; None when
    none was kept)."""

    label: str
    ts: datetime
    camera: str | None
    camera_name: str | None
    snapshot: str | None


def people_pictures(
    store: Store,
    now: datetime,
    *,
    camera: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int = MAX_PICTURES,
) -> list[SeenPerson]:
    """The people seen on ``camera`` (every camera: None) in ``[start, end)``, one per
    person (named or known by their automatic id) and one per unrecognised camera track,
    each with the newest snapshot kept of them there: named people first, then by when
    they were last seen, newest first; at most ``limit``. Reads the newest
    :data:`_PICTURE_ROWS` sightings of the range (``ix_events_kind_ts_id``)."""
    low, high = _range(start, end, now)
    with store.engine.connect() as connection:
        where = _where(connection, low=low, high=high, kinds=PERSON_KINDS, camera=camera)
        if where.note is not None:
            return []
        rows = connection.execute(
            select(
                Event.ts,
                Event.camera_id,
                Event.track_id,
                Event.detail,
                Camera.key,
                Camera.name.label("camera_name"),
                Person.public_id,
                Person.name,
            )
            .outerjoin(Camera, Camera.id == Event.camera_id)
            .outerjoin(Person, Person.id == Event.person_id)
            .where(*where.conditions)
            .order_by(Event.ts.desc(), Event.id.desc())
            .limit(_PICTURE_ROWS)
        ).all()
    found: dict[object, SeenPerson] = {}
    for row in rows:
        who: object = row.public_id or (row.camera_id, row.track_id)
        if row.public_id is None and row.track_id is None:
            continue  # no track, nobody to count
        picture = (row.detail or {}).get("snapshot")
        snapshot = picture if isinstance(picture, str) and picture else None
        seen = found.get(who)
        if seen is None:
            label = row.name or row.public_id or "Not recognised"
            found[who] = SeenPerson(label, _as_utc(row.ts), row.key, row.camera_name, snapshot)
        elif seen.snapshot is None and snapshot is not None:
            found[who] = SeenPerson(seen.label, seen.ts, seen.camera, seen.camera_name, snapshot)
    named = [p for k, p in found.items() if isinstance(k, str) and p.label != k]
    others = [p for k, p in found.items() if not (isinstance(k, str) and p.label != k)]
    return (named + others)[: max(0, limit)]


def _unrecognised_tracks(
    connection: Connection, *, low: datetime | None, high: datetime, camera: str | None
) -> int:
    """Camera tracks of people (``person.appeared``/``left`` in ``[low, high)``, on
    ``camera``) no event of which names a person: people seen whose face nobody knows."""
    where = _where(connection, low=low, high=high, camera=camera)
    if where.note is not None:
        return 0
    on_tracks = [*where.conditions, Event.track_id.is_not(None), Event.camera_id.is_not(None)]
    tracks = (
        select(Event.camera_id, Event.track_id)
        .where(*on_tracks, Event.kind.in_(PERSON_TRACK_KINDS))
        .distinct()
        .subquery()
    )
    named = (
        select(Event.camera_id, Event.track_id)
        .where(*on_tracks, Event.person_id.is_not(None))
        .distinct()
        .subquery()
    )
    joined = tracks.outerjoin(
        named, and_(named.c.camera_id == tracks.c.camera_id, named.c.track_id == tracks.c.track_id)
    )
    found = connection.scalar(
        select(func.count()).select_from(joined).where(named.c.track_id.is_(None))
    )
    return int(found or 0)


def _as_utc(value: Any) -> datetime:
    """A datetime from an aggregate (SQLite hands back text; the type decorator is lost)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def list_alerts(
    store: Store,
    now: datetime,
    *,
    kind: str | None = None,
    severity: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Alerts raised in ``[start, end)``, newest first, optionally of one kind (``fall``,
    ``person``, ``loitering``, …), severity or ``source`` (``camera:KEY``,
    ``sensing:ROOM``); ``count`` is how many there are in all, each alert with the event
    it came from (``event_id``, when it has one) and who acknowledged it."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    conditions: list[ColumnElement[bool]] = [Alert.raised_at < high]
    if low is not None:
        conditions.append(Alert.raised_at >= low)
    if kind:
        conditions.append(Alert.kind == kind)
    if severity:
        conditions.append(Alert.severity == severity)
    if source:
        conditions.append(Alert.source == source)
    with store.engine.connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(Alert).where(*conditions)
        ).scalar_one()
        rows = connection.execute(
            select(
                Alert.id,
                Alert.raised_at,
                Alert.kind,
                Alert.source,
                Alert.severity,
                Alert.title,
                Alert.event_id,
                Alert.acknowledged_at,
                Alert.acknowledged_by,
            )
            .where(*conditions)
            .order_by(Alert.raised_at.desc(), Alert.id.desc())
            .limit(count)
        ).all()
    return {
        "count": int(total),
        "range": _range_json(low, high),
        "alerts": [
            {
                "id": int(r.id),
                "raised_at": iso(r.raised_at),
                "kind": r.kind,
                "source": r.source,
                "severity": r.severity,
                "title": r.title,
                "event_id": None if r.event_id is None else int(r.event_id),
                "acknowledged_at": None if r.acknowledged_at is None else iso(r.acknowledged_at),
                "acknowledged_by": r.acknowledged_by,
            }
            for r in rows
        ],
    }


def list_incidents(
    store: Store,
    now: datetime,
    *,
    category: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Incidents that occurred in ``[start, end)``, newest first, optionally of one
    ``category``; ``count`` is how many in all."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    conditions: list[ColumnElement[bool]] = [Incident.occurred_at < high]
    if low is not None:
        conditions.append(Incident.occurred_at >= low)
    if category:
        if category not in INCIDENT_CATEGORIES:
            raise ToolArgumentError(
                f"category {category!r} is not one of {', '.join(INCIDENT_CATEGORIES)}"
            )
        conditions.append(Incident.category == category)
    with store.engine.connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(Incident).where(*conditions)
        ).scalar_one()
        rows = connection.execute(
            select(
                Incident.id,
                Incident.occurred_at,
                Incident.category,
                Incident.severity,
                Incident.report_count,
                Incident.latitude,
                Incident.longitude,
                Incident.validated_by,
            )
            .where(*conditions)
            .order_by(Incident.occurred_at.desc(), Incident.id.desc())
            .limit(count)
        ).all()
    return {
        "count": int(total),
        "range": _range_json(low, high),
        "incidents": [
            {
                "id": int(r.id),
                "occurred_at": iso(r.occurred_at),
                "category": r.category,
                "severity": int(r.severity),
                "reports": int(r.report_count),
                "latitude": r.latitude,
                "longitude": r.longitude,
                "validated": r.validated_by is not None,
            }
            for r in rows
        ],
    }


def search_texts(
    store: Store,
    now: datetime,
    *,
    query: str,
    kind: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Incident reports, bookmarks and event summaries closest in meaning to ``query``
    (exact words count too), best first, optionally of one ``kind`` and in ``[start,
    end)``. A report names its incident (``id``) and itself (``report_id``); an event hit
    carries ``event_id`` to cite. See :mod:`engine.text_search`."""
    from engine.text_search.encoder import ModelMissingError
    from engine.text_search.search import SearchError, search_for
    from engine.text_search.sources import KINDS

    if not query.strip():
        raise ToolArgumentError("query is empty; give the words to search for")
    low, high = (
        (parse_time(start, "start") if start else None),
        (parse_time(end, "end") if end else None),
    )
    kinds = tuple(k for k in KINDS if kind in (None, k))
    try:
        answer = search_for(store).search(
            store, query, kinds=kinds, limit=min(_limit(limit), 10), since=low, until=high
        )
    except (SearchError, ModelMissingError) as exc:
        raise ToolArgumentError(str(exc)) from exc
    results = []
    for hit in answer.hits:
        item: dict[str, Any] = {
            "kind": hit.kind,
            "id": hit.id,
            "at": iso(hit.at),
            "text": hit.text[:1000],
            "score": round(hit.score, 3),
        }
        if hit.kind == "incident":
            item["report_id"] = hit.row_id
        if hit.kind == "event":
            item["event_id"] = hit.id
        results.append(item)
    return {"query": query, "searched": answer.searched, "results": results}


def get_clips(
    store: Store,
    now: datetime,
    *,
    event_ids: Sequence[int] | None = None,
    camera: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The recorded clips of events (``event_ids``: each event's covering clip and where in
    it the event happens), or of ``camera`` over ``[start, end)`` (both needed)."""
    count = _limit(limit)
    if event_ids:
        ids = sorted({int(i) for i in event_ids})[:MAX_LIMIT]
        with store.sessions() as session:
            rows = session.execute(
                select(Event.id, Event.camera_id, Event.ts).where(Event.id.in_(ids))
            ).all()
            spans = [(int(r.id), r.camera_id, r.ts) for r in rows if r.camera_id is not None]
            covered = _covering_clips(session, spans, by_key=False) if spans else {}
        found = {int(r.id) for r in rows}
        return {
            "clips": [
                {"event_id": i, "clip_path": covered[i][0], "offset_s": round(covered[i][1], 1)}
                for i in ids
                if i in covered
            ],
            "without_clip": [i for i in ids if i in found and i not in covered],
            "unknown_event_ids": [i for i in ids if i not in found],
        }
    if not camera or not start:
        raise ToolArgumentError("give event_ids, or camera and start (and end)")
    low, high = _range(start, end, now)
    assert low is not None
    with store.engine.connect() as connection:
        matched = find_cameras(connection, camera)
        if len(matched) != 1:
            problem = "is ambiguous" if matched else "names no camera"
            return {"clips": [], "note": f"camera {camera!r} {problem}"}
        clips = connection.execute(
            select(Media.path, Media.started_at, Media.ended_at)
            .where(
                Media.camera_id == matched[0].id,
                Media.kind == "clip",
                Media.started_at < high,
                Media.started_at >= low - timedelta(minutes=2),  # bounded on the index
                Media.ended_at > low,
            )
            .order_by(Media.started_at)
            .limit(count)
        ).all()
    return {
        "camera": matched[0].key,
        "range": _range_json(low, high),
        "clips": [
            {"clip_path": r.path, "started_at": iso(r.started_at), "ended_at": iso(r.ended_at)}
            for r in clips
        ],
    }


def sensing_activity(
    store: Store,
    now: datetime,
    *,
    room: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """WiFi-sensing activity in ``[start, end)`` (optionally one room): how many events of
    each ``sensing.*`` kind per room, and the latest events, falls first."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    with store.engine.connect() as connection:
        kinds = [k for k in _kinds(connection) if k.startswith("sensing.")]
        where = _where(connection, low=low, high=high, room=room)
        rooms: dict[str, dict[str, int]] = {}
        for one in kinds:
            for source, n in connection.execute(
                select(Event.source, func.count())
                .where(*where.conditions, Event.kind == one)
                .group_by(Event.source)
            ).all():
                rooms.setdefault(str(source).removeprefix("sensing:"), {})[one] = int(n)
        falls = _events(connection, [*where.conditions, Event.kind == FALL_KIND], count)
        others = [k for k in kinds if k != FALL_KIND]
        rest = (
            _events(connection, [*where.conditions, Event.kind.in_(others)], count)
            if others and len(falls) < count
            else []
        )
    return {
        "range": _range_json(low, high),
        "rooms": rooms,
        "falls": sum(r.get(FALL_KIND, 0) for r in rooms.values()),
        "events": (falls + rest)[:count],
    }


def find_places(
    connection: Connection, reference: str, site_rooms: Mapping[str, str] | None = None
) -> tuple[Place | None, str | None]:
    """The camera or sensing room ``reference`` names (a camera as :func:`find_cameras`
    finds it; a room by its id or its name, "the" and a trailing "room" aside; both when
    a camera and a room share the name), or a note saying it names nothing or several
    cameras. ``site_rooms``: the site's sensing rooms (room id -> name), known before
    anything was sensed in them."""
    said = " ".join(reference.split()).lower()
    bare = said.removeprefix("the ").strip()
    names = room_names(connection, site_rooms)
    known_rooms = sorted(set(rooms(connection)) | set(names))
    members: set[tuple[str, str]] = set()
    label: str | None = None
    for room in known_rooms:
        if _names_room(bare, room, names):
            members.add(("sensing", room))
            label = names.get(room, room)
    matched = find_cameras(connection, bare) or find_cameras(connection, said)
    if len(matched) > 1:
        keys = ", ".join(c.key for c in matched)
        return None, f"place {reference!r} is ambiguous: cameras {keys}"
    if matched:
        members.add(("camera", matched[0].key))
        label = label or matched[0].label
    if not members or label is None:
        cams = ", ".join(c.key for c in cameras(connection)) or "none"
        rooms_said = ", ".join(names.get(r, r) for r in known_rooms) or "none"
        known = f"cameras: {cams}; rooms: {rooms_said}"
        return None, f"no camera or sensing room called {reference!r} ({known})"
    return Place(label, frozenset(members)), None


def _names_room(bare: str, room: str, names: Mapping[str, str]) -> bool:
    """Whether ``bare`` (lower case, "the" aside) is room ``room`` by its id or its name,
    a trailing "room" aside."""
    spoken = {room.lower(), names.get(room, room).lower()}
    return bare in spoken or bare.removesuffix(" room").strip() in spoken


def _path_json(path: PersonPath, clip: tuple[str, float] | None) -> dict[str, Any]:
    stretches: list[dict[str, Any]] = []
    for stretch in path.stretches:
        one: dict[str, Any] = {"sense": stretch.sense}
        if stretch.sense == "camera":
            one |= {"place": stretch.label, "camera": stretch.source}
        elif stretch.sense == "sensing":
            one |= {"place": stretch.label, "room": stretch.source}
        else:
            one["device"] = stretch.label
        one |= {"from": iso(stretch.start), "to": iso(stretch.end)}
        stretches.append(one)
    return {
        "event_id": path.event_id,
        "person": path.name,
        "person_id": path.person_public_id,
        "named_by": path.named_by,
        "start": iso(path.start),
        "end": iso(path.end),
        "stretches": stretches,
        "clip_path": None if clip is None else clip[0],
        "clip_offset_s": None if clip is None else clip[1],
    }


def person_paths(
    store: Store,
    now: datetime,
    *,
    person: str | None = None,
    place: str | None = None,
    then_place: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
    site_rooms: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """People's paths across senses (``person.path`` events: a person followed across
    camera tracks, sensing rooms' blobs and the BLE device they carried) that meet
    ``[start, end)``, newest first: of ``person`` (name or public id; a name only a path
    carries, such as an introduced one, is found too), through ``place`` (camera or
    sensing room, by key or name), and then into ``then_place`` (a stretch there after one
    in ``place``). Each path has its event id to cite, the person (None: nobody has named
    them), its stretches (UTC) and the clip of its first camera stretch a clip shows. With
    a sensing room as ``place`` alone, ``sensed_people`` counts everyone sensed there (one
    per path, per person a device named, per other blob). ``site_rooms``: the site's
    sensing rooms (room id -> name; not the LLM's to give)."""
    low, high = _range(start, end, now)
    count = _limit(limit)
    found: dict[str, Any] = {"range": _range_json(low, high)}
    where: Place | None = None
    then: Place | None = None
    with store.engine.connect() as connection:
        for key, reference in (("place", place), ("then_place", then_place)):
            if not reference:
                continue
            resolved, note = find_places(connection, reference, site_rooms)
            if note is not None:
                return found | {"paths": [], "note": note}
            found[key] = {"name": resolved.label if resolved else None}
            if key == "place":
                where = resolved
            else:
                then = resolved
        people: list[PersonRef] = []
        if person:
            people, _exact = find_people(connection, person)
    if then is not None and where is None:
        raise ToolArgumentError("then_place needs place (where the path went from)")
    if len(people) > 1:
        return found | {
            "paths": [],
            "people": [p.as_json() for p in people],
            "note": f"{person!r} is ambiguous: {len(people)} people match",
        }
    public_id = people[0].public_id if people else None
    paths, truncated = read_paths(store, UTC_TIME, low=low, high=high, person_public_id=public_id)
    everyone = paths
    if person and public_id is not None:
        found["person"] = people[0].as_json()
    elif person:
        names = names_in_paths(paths, person)
        if len(names) != 1:
            problem = "is ambiguous" if names else "names nobody"
            return found | {"paths": [], "note": f"{person!r} {problem} on the paths"}
        found["person"] = {"public_id": None, "name": names[0]}
        paths = [p for p in paths if p.person_public_id is None and p.name == names[0]]
    if where is not None and then is not None:
        paths = [p for p in paths if went_from_to(p, where, then, low, high)]
    elif where is not None:
        paths = [p for p in paths if stretches_in(p, where, low, high)]
    shown = paths[:count]
    clips = stretch_clips(
        store, [(p.event_id, s) for p in shown for s in p.stretches if s.sense == "camera"]
    )
    found |= {
        "paths_found": len(paths),
        "paths": [_path_json(p, clips.get(p.event_id)) for p in shown],
        "truncated": truncated or len(paths) > count,
    }
    if where is not None and then is None and not person and where.rooms:
        sensed = sensed_people(
            store, UTC_TIME, rooms=where.rooms, low=low, high=high, paths=everyone
        )
        found["sensed_people"] = {
            "count": sensed.count,
            "known": [s.label for s in sensed.people if s.named or s.public_id],
            "unknown": sum(1 for s in sensed.people if not (s.named or s.public_id)),
            "at_least": sensed.truncated,
        }
    return found


# ------------------------------------------------------------------------------ schemas

_TIME = {
    "type": "string",
    "description": (
        "ISO 8601 time with its offset: Z for UTC, or the site's offset "
        "(e.g. 2026-11-23T09:00:00Z, 2026-11-23T14:30:00+05:30); without one it is UTC"
    ),
}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "description": "rows at most"}

TOOL_SCHEMAS: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": "search_events",
        "description": (
            "Events recorded in a time range (newest first), filtered by kind "
            "(person.appeared, person.left, face.recognised, sensing.fall_detected, "
            "sensing.blob_appeared, ...), camera (key or name), person (name or Person_ id), "
            "sensing room. Each event has an id to cite, its time, camera, person and clip."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "kinds": {"type": "array", "items": {"type": "string"}},
                "camera": {"type": "string"},
                "person": {"type": "string"},
                "room": {"type": "string"},
                "start": _TIME,
                "end": _TIME,
                "with_person": {"type": "boolean", "description": "only events of a person"},
                "oldest_first": {"type": "boolean"},
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "person_sightings",
        "description": (
            "Who a person is (by name, first name or Person_ id) and the events that saw "
            "them, newest first; optionally on one camera and in a time range. Without "
            "'person' and with 'camera': everyone seen on that camera in the range."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "person": {"type": "string"},
                "camera": {"type": "string"},
                "start": _TIME,
                "end": _TIME,
                "oldest_first": {"type": "boolean"},
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "count_events",
        "description": (
            "How many events of each kind happened in a time range, optionally of one kind, "
            "on one camera, of one person or in one sensing room. Events, not people: one "
            "person makes many person.appeared events; count people with count_people."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "kinds": {"type": "array", "items": {"type": "string"}},
                "camera": {"type": "string"},
                "person": {"type": "string"},
                "room": {"type": "string"},
                "start": _TIME,
                "end": _TIME,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "count_people",
        "description": (
            "How many PEOPLE were on a camera (or every camera), or sensed in a room "
            "('*': every room), in a time range: the distinct known people when every "
            "track is known, else the most present at once. Use this for any 'how many "
            "people' question, never a count of person.appeared events (one person makes "
            "many tracks). Say which count it is, as 'words' does."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "camera": {"type": "string"},
                "room": {"type": "string"},
                "start": _TIME,
                "end": _TIME,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "list_alerts",
        "description": (
            "Alerts raised in a time range, newest first (kind: fall, person, loitering, "
            "sensing_blob, gesture; severity: info, warning, critical; source: camera:KEY "
            "or sensing:ROOM), with the total count and who acknowledged each."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "source": {"type": "string"},
                "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                "start": _TIME,
                "end": _TIME,
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "list_incidents",
        "description": "Reported incidents in a time range, newest first, with the total count.",
        "input_schema": {
            "type": "object",
            "properties": {
                "category": {"type": "string", "enum": list(INCIDENT_CATEGORIES)},
                "start": _TIME,
                "end": _TIME,
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "search_texts",
        "description": (
            "Search what people wrote and what the events say by meaning, not only exact "
            "words: incident reports (kind incident: id is the incident's), bookmarks' "
            "titles and notes (kind bookmark) and event summaries (kind event, with an "
            "event_id to cite). 'someone collapsed' finds 'man fell down on the stairs'. "
            "Best matches first, with a score (about 0.3 and above: close in meaning)."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "what to look for, in words"},
                "kind": {"type": "string", "enum": ["incident", "bookmark", "event"]},
                "start": _TIME,
                "end": _TIME,
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10,
                    "description": "results at most",
                },
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    },
    {
        "name": "get_clips",
        "description": (
            "The video clips of events (event_ids: each event's clip and the offset in it), "
            "or of a camera over a time range (camera, start, end)."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "event_ids": {"type": "array", "items": {"type": "integer"}},
                "camera": {"type": "string"},
                "start": _TIME,
                "end": _TIME,
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "person_paths",
        "description": (
            "People's paths across senses: one person followed across camera tracks, "
            "sensing rooms (WiFi sensing) and the BLE device they carried, each path with "
            "its event id to cite, the person (null: nobody has named them, 'someone "
            "unknown'), its stretches (sense camera/sensing/ble, place or device, from, to) "
            "and the clip of its camera stretch. Filter by person (name or Person_ id), "
            "place (a camera or sensing room, by key or name: where the person was), "
            "then_place (with place: they went from place into then_place) and time range. "
            "Use it for 'where was Ada this afternoon', 'who went from the lobby into the "
            "store room', 'who was in the store room'. With a sensing room as place alone, "
            "sensed_people counts everyone sensed there (a path as one person)."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "person": {"type": "string"},
                "place": {"type": "string", "description": "camera or sensing room"},
                "then_place": {"type": "string", "description": "where they went after place"},
                "start": _TIME,
                "end": _TIME,
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "sensing_activity",
        "description": (
            "WiFi-sensing activity (movement, falls, nodes) in a time range, per room, with "
            "the latest events (falls first). Blobs are not people: count the people sensed "
            "with count_people (room)."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "room": {"type": "string"},
                "start": _TIME,
                "end": _TIME,
                "limit": _LIMIT,
            },
            "additionalProperties": False,
        },
    },
)


def count_people(
    store: Store,
    now: datetime,
    *,
    camera: str | None = None,
    room: str | None = None,
    start: str | None = None,
    end: str | None = None,
    site_rooms: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """How many people were on ``camera`` (every camera), or with ``room`` sensed in that
    room (``"*"``: every room; a room of ``site_rooms``, room id -> name, by its name too),
    in ``[start, end)``: ``people`` (the fewest the records prove), ``at_most_at_once``
    (the peak of tracks present together), ``known`` (the distinct identities, by name or
    id), ``tracks`` and ``unknown_tracks`` (tracks are not people) and ``words`` (how to
    say it). :mod:`.presence`."""
    low, high = _range(start, end, now)
    if room is not None and room != "*" and site_rooms:
        bare = " ".join(room.removeprefix(SENSING_PREFIX).split()).lower().removeprefix("the ")
        named = [r for r in site_rooms if _names_room(bare.strip(), r, site_rooms)]
        if len(named) == 1:
            room = named[0]
    paths, _ = read_paths(store, UTC_TIME, low=low, high=high)
    with store.engine.connect() as connection:
        joined = path_identities(paths, {c.key: c.id for c in cameras(connection)})
        if room is not None:
            found = presence_on(
                connection,
                low=low,
                high=high,
                rooms=None if room == "*" else [room.removeprefix(SENSING_PREFIX)],
                sensing=True,
                joined=joined,
                now=now,
            )
            where = "in any room" if room == "*" else f"in {(site_rooms or {}).get(room, room)}"
            noun = "sensing track"
        else:
            ids: list[int] | None = None
            where = "on any camera"
            if camera is not None:
                matches = find_cameras(connection, camera)
                if len(matches) != 1:
                    known = ", ".join(c.label for c in cameras(connection))
                    return {
                        "note": f"no single camera matches {camera!r}; cameras: {known}",
                        "people": None,
                    }
                ids, where = [matches[0].id], f"on {matches[0].label}"
            found = presence_on(
                connection, low=low, high=high, camera_ids=ids, joined=joined, now=now
            )
            noun = "camera track"
    return {
        "range": _range_json(low, high),
        "people": found.people,
        "everyone_known": found.all_known,
        "at_most_at_once": found.at_once,
        "known": list(found.names),
        "tracks": found.tracks,
        "unknown_tracks": found.unknown_tracks,
        "truncated": found.truncated,
        "words": people_words(
            found,
            verb="seen" if room is None else "sensed",
            where=where,
            period="",
            track_noun=noun,
        ),
    }


def _person_sightings_tool(store: Store, now: datetime, **args: Any) -> dict[str, Any]:
    if not args.get("person"):
        if not args.get("camera"):
            raise ToolArgumentError("give person, or camera to list who was seen on it")
        args.pop("oldest_first", None)
        return distinct_people(store, now, **args)
    return person_sightings(store, now, **args)


TOOLS: Final[dict[str, Callable[..., dict[str, Any]]]] = {
    "search_events": search_events,
    "person_sightings": _person_sightings_tool,
    "count_events": count_events,
    "count_people": count_people,
    "list_alerts": list_alerts,
    "list_incidents": list_incidents,
    "get_clips": get_clips,
    "sensing_activity": sensing_activity,
    "search_texts": search_texts,
    "person_paths": person_paths,
}
_SCHEMAS = {schema["name"]: schema["input_schema"] for schema in TOOL_SCHEMAS}
_SITE_ROOM_TOOLS: Final = frozenset({"count_people", "person_paths"})  # take site_rooms


def _check_value(name: str, value: object, spec: Mapping[str, Any]) -> str | None:
    kind = spec.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return f"{name} must be a string"
        if len(value) > 200:
            return f"{name} is too long"
        if "enum" in spec and value not in spec["enum"]:
            return f"{name} must be one of {', '.join(spec['enum'])}"
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be an integer"
        if value < spec.get("minimum", value) or value > spec.get("maximum", value):
            return f"{name} must be {spec.get('minimum')}-{spec.get('maximum')}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"{name} must be true or false"
    elif kind == "array":
        if not isinstance(value, list) or len(value) > MAX_LIMIT:
            return f"{name} must be a list of at most {MAX_LIMIT} items"
        for item in value:
            problem = _check_value(f"{name}[]", item, spec["items"])
            if problem:
                return problem
    return None


def run_tool(
    store: Store,
    now: datetime,
    name: str,
    arguments: object,
    rooms: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Call tool ``name`` with ``arguments`` (a JSON object, as the LLM gave it) after
    checking them against its schema; a bad call (unknown tool or argument, wrong type,
    bad time) answers ``{"error": "..."}`` instead of raising. ``rooms``: the site's
    sensing rooms (room id -> name), which the tools naming places know by id and name
    before anything was sensed in them. Any thread."""
    schema = _SCHEMAS.get(name)
    if schema is None:
        return {"error": f"unknown tool {name!r}; tools: {', '.join(TOOLS)}"}
    if not isinstance(arguments, dict):
        return {"error": "arguments must be a JSON object"}
    properties: Mapping[str, Any] = schema["properties"]
    for key, value in arguments.items():
        if key not in properties:
            return {"error": f"unknown argument {key!r}; arguments: {', '.join(properties)}"}
        if value is None:
            continue
        problem = _check_value(key, value, properties[key])
        if problem:
            return {"error": problem}
    args = {k: v for k, v in arguments.items() if v is not None}
    missing = [key for key in schema.get("required", ()) if key not in args]
    if missing:
        return {"error": f"missing argument {missing[0]!r}"}
    if rooms and name in _SITE_ROOM_TOOLS:
        args["site_rooms"] = dict(rooms)  # not in the schema: the LLM cannot give it
    try:
        return TOOLS[name](store, now, **args)
    except ToolArgumentError as exc:
        return {"error": str(exc)}


def event_ids_in(result: object) -> set[int]:
    """Every event id a tool result holds (``id`` of an event, ``event_id`` of a clip or
    alert), for checking an answer's citations against what the tools returned."""
    found: set[int] = set()

    def walk(value: object, key: str | None) -> None:
        if isinstance(value, dict):
            is_event = "kind" in value and "ts" in value
            for k, v in value.items():
                if (k == "id" and is_event) or k == "event_id":
                    if isinstance(v, int) and not isinstance(v, bool):
                        found.add(v)
                else:
                    walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)

    walk(result, None)
    return found


__all__ = [
    "FALL_KIND",
    "MAX_LIMIT",
    "PERSON_KINDS",
    "TOOLS",
    "TOOL_SCHEMAS",
    "CameraRef",
    "Citation",
    "PersonRef",
    "SeenPerson",
    "ToolArgumentError",
    "cameras",
    "citation_of",
    "count_events",
    "distinct_people",
    "event_ids_in",
    "events_by_id",
    "find_cameras",
    "find_people",
    "find_places",
    "get_clips",
    "iso",
    "list_alerts",
    "list_incidents",
    "parse_time",
    "people_pictures",
    "person_paths",
    "person_sightings",
    "rooms",
    "run_tool",
    "search_events",
    "search_texts",
    "sensing_activity",
]
