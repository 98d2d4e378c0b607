"""People across senses for Ask: the paths the fusion service files (``person.path``, read by
:mod:`engine.history.paths`), who went through a camera's view or a sensing room, and how
many people were there once the paths have joined a camera's tracks and a room's blobs into
one person.

A place is named as people name it: a camera (key or name) or a sensing room (its id, or
its name as the paths carry it), or both when a camera and a room share the name. A path
went through a place when one of its stretches (a camera track, a room's blob) is there in
the time asked about; it went from A to B when a stretch in B starts after one in A.

Counting people sensed in rooms: each path across senses is one person, each person a
registered device named (on a blob) is one, and each blob no path or device names is one.
Counting people seen on cameras (the offline answers' way: each person the records name,
and each camera track nobody's face was recognised on) is corrected by the paths: the
tracks and people one path joins are one person (:func:`camera_joins`).

Used by :mod:`engine.history.chat.offline` and by the LLM's ``person_paths`` tool. Any
thread; each call opens its own connections.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from engine.history.paths import MAX_PATHS, PATH_KIND, PersonPath, Stretch, query_paths
from engine.sitetime import SiteTime
from engine.store.database import Store
from engine.store.event_views import CLIP_SLACK_S, CLIP_SPAN_BOUND_S
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person

PLACE_SENSES: Final = ("camera", "sensing")
BLOB_KINDS: Final = ("sensing.blob_appeared", "sensing.blob_left")  # blob id in track_id
TRACK_KINDS: Final = ("person.appeared", "person.left")
SENSING_PREFIX: Final = "sensing:"
HANDED_OVER_KIND: Final = "person.handed_over"  # the fusion service's hand-over rows
ROOM_NAME_PATHS: Final = 100  # newest paths read to learn the rooms' names
MAX_BLOBS: Final = 20_000  # blobs a count reads at most (a busy room's month)
MAX_TRACKS_ASKED: Final = 2_000  # path tracks a camera count looks up at most


# ------------------------------------------------------------------------------ places


@dataclass(frozen=True, slots=True)
class Place:
    """A camera's view or a sensing room (or both, sharing a name) as a question names it:
    ``label``, its name for people; ``members``, its ``(sense, key)`` pairs (``("camera",
    "east")``, ``("sensing", "store")``)."""

    label: str
    members: frozenset[tuple[str, str]]

    def holds(self, stretch: Stretch) -> bool:
        return (stretch.sense, stretch.source) in self.members

    @property
    def cameras(self) -> list[str]:
        return sorted(key for sense, key in self.members if sense == "camera")

    @property
    def rooms(self) -> list[str]:
        return sorted(key for sense, key in self.members if sense == "sensing")


def camera_place(key: str, label: str) -> Place:
    return Place(label, frozenset({("camera", key)}))


def room_place(room: str, names: Mapping[str, str]) -> Place:
    return Place(names.get(room, room), frozenset({("sensing", room)}))


def room_names(
    connection: Connection, site_rooms: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each sensing room's name by its id: the site's (``site_rooms``, room id -> name, as
    the site file names its rooms) first, then as the newest paths carry them, or else the
    newest hand-overs into it (``person.handed_over`` from ``sensing:ROOM``, its ``into``:
    the room's name). The store keeps no table of rooms; without ``site_rooms`` a room
    neither went through is known by its id only."""
    rows = connection.execute(
        select(Event.detail)
        .where(Event.kind == PATH_KIND)
        .order_by(Event.ts.desc(), Event.id.desc())
        .limit(ROOM_NAME_PATHS)
    ).scalars()
    names: dict[str, str] = {
        room: " ".join(name.split()) if name.strip() else room
        for room, name in (site_rooms or {}).items()
        if room
    }
    for detail in rows:
        segments = (detail or {}).get("segments")
        if not isinstance(segments, list):
            continue
        for seg in segments:
            if not isinstance(seg, Mapping) or seg.get("sense") != "sensing":
                continue
            room, label = seg.get("source"), seg.get("label")
            if isinstance(room, str) and room and isinstance(label, str) and label.strip():
                names.setdefault(room, " ".join(label.split()))
    handovers = connection.execute(
        select(Event.source, Event.detail)
        .where(Event.kind == HANDED_OVER_KIND)
        .order_by(Event.ts.desc(), Event.id.desc())
        .limit(ROOM_NAME_PATHS)
    ).all()
    for source, detail in handovers:
        label = (detail or {}).get("into")
        if str(source).startswith(SENSING_PREFIX) and isinstance(label, str) and label.strip():
            names.setdefault(str(source).removeprefix(SENSING_PREFIX), " ".join(label.split()))
    return names


# ------------------------------------------------------------------------------ paths


def overlaps(start: datetime, end: datetime, low: datetime | None, high: datetime) -> bool:
    """Whether ``[start, end]`` meets ``[low, high)`` (``low`` None: from the beginning)."""
    return start < high and (low is None or end >= low)


def read_paths(
    store: Store,
    site_time: SiteTime,
    *,
    low: datetime | None,
    high: datetime,
    person_public_id: str | None = None,
) -> tuple[list[PersonPath], bool]:
    """The paths that meet ``[low, high)``, newest first, their sentences on ``site_time``'s
    clock, and whether there were more than :data:`MAX_PATHS` (only the newest are read)."""
    found = query_paths(
        store,
        site_time,
        after=low,
        before=high,
        person_public_id=person_public_id,
        limit=MAX_PATHS,
    )
    paths = [p for p in found if overlaps(p.start, p.end, low, high)]
    return paths, len(found) >= MAX_PATHS


def stretches_in(
    path: PersonPath, place: Place, low: datetime | None, high: datetime
) -> list[Stretch]:
    """The stretches of ``path`` in ``place`` that meet ``[low, high)``."""
    return [s for s in path.stretches if place.holds(s) and overlaps(s.start, s.end, low, high)]


def went_from_to(
    path: PersonPath, origin: Place, into: Place, low: datetime | None, high: datetime
) -> Stretch | None:
    """The stretch in which ``path`` entered ``into`` after being in ``origin`` (the first,
    meeting ``[low, high)``), or None when it did not go that way."""
    for stretch in path.stretches:
        if not into.holds(stretch) or not overlaps(stretch.start, stretch.end, low, high):
            continue
        if any(
            origin.holds(before) and before is not stretch and before.start <= stretch.start
            for before in path.stretches
        ):
            return stretch
    return None


def path_is_of(path: PersonPath, public_ids: Collection[str], names: Collection[str]) -> bool:
    """Whether ``path`` is of the person with one of ``public_ids`` or named one of
    ``names`` (case-insensitive, whole)."""
    if path.person_public_id is not None and path.person_public_id in public_ids:
        return True
    wanted = {n.casefold() for n in names}
    return bool(path.name) and str(path.name).casefold() in wanted


def names_in_paths(paths: Iterable[PersonPath], reference: str) -> list[str]:
    """The names on ``paths`` that ``reference`` names: the whole name (case-insensitive),
    else the names every word of ``reference`` is a word of (as people are found), sorted."""
    needle = " ".join(reference.split()).casefold()
    names = {p.name for p in paths if p.name and p.person_public_id is None}
    exact = sorted(n for n in names if n.casefold() == needle)
    if exact:
        return exact
    words = needle.split()
    return sorted(n for n in names if words and all(w in n.casefold().split() for w in words))


def stretch_clips(
    store: Store, stretches: Sequence[tuple[int, Stretch]]
) -> dict[int, tuple[str, float]]:
    """For each ``(key, camera stretch)`` the first recorded clip of that camera that shows
    part of the stretch, as ``key -> (clip path relative to the data dir, offset in seconds
    of the stretch's start in it)``. One bounded range of ``ix_media_camera_span`` each."""
    slack = timedelta(seconds=CLIP_SLACK_S)
    bound = timedelta(seconds=CLIP_SPAN_BOUND_S)
    found: dict[int, tuple[str, float]] = {}
    with store.engine.connect() as connection:
        for key, stretch in stretches:
            if stretch.sense != "camera" or key in found:
                continue
            row = connection.execute(
                select(Media.path, Media.started_at)
                .join(Camera, Camera.id == Media.camera_id)
                .where(
                    Camera.key == stretch.source,
                    Media.kind == "clip",
                    Media.started_at >= stretch.start - bound - slack,
                    Media.started_at <= stretch.end + slack,
                    Media.ended_at >= stretch.start - slack,
                )
                .order_by(Media.started_at)
                .limit(1)
            ).first()
            if row is not None:
                offset = max(0.0, (stretch.start - _as_utc(row.started_at)).total_seconds())
                found[key] = (str(row.path), round(offset, 1))
    return found


# ------------------------------------------------------------------------------ counting


@dataclass(frozen=True, slots=True)
class Someone:
    """One person counted: their name (None: nobody has named them), public id (None:
    nobody the records know), when they were in the place counted (UTC, first and last),
    and the newest path that joined their sightings (None: no path did)."""

    name: str | None
    public_id: str | None
    first: datetime
    last: datetime
    path: PersonPath | None

    @property
    def named(self) -> bool:
        return self.name is not None and self.name != self.public_id

    @property
    def label(self) -> str:
        return self.name or self.public_id or "Someone unknown"


@dataclass(frozen=True, slots=True)
class SensedPeople:
    """The people sensed in rooms in a range (see the module): named first, then by first
    time; ``blobs``, the blobs read; ``paths``, the paths through the rooms (newest first);
    ``truncated``: more blobs or paths than are read, so the count is a floor."""

    people: tuple[Someone, ...]
    blobs: int
    paths: tuple[PersonPath, ...]
    truncated: bool

    @property
    def count(self) -> int:
        return len(self.people)


class _Groups:
    """Union-find over node keys: sightings one path or person joins become one group."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def add(self, node: str) -> None:
        self._parent.setdefault(node, node)

    def find(self, node: str) -> str:
        self.add(node)
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:
            self._parent[node], node = root, self._parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for node in self._parent:
            out.setdefault(self.find(node), []).append(node)
        return out


@dataclass(slots=True)
class _Unit:
    """A sighting counted on its own before paths join it: a person, a track, a blob."""

    name: str | None = None
    public_id: str | None = None
    first: datetime | None = None
    last: datetime | None = None
    counted: bool = True
    paths: list[PersonPath] = field(default_factory=list)

    def seen(self, start: datetime, end: datetime) -> None:
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)


def sensed_people(
    store: Store,
    site_time: SiteTime,
    *,
    rooms: Collection[str] | None,
    low: datetime | None,
    high: datetime,
    paths: Sequence[PersonPath] | None = None,
) -> SensedPeople:
    """Everyone sensed in ``rooms`` (None: every room) in ``[low, high)``: one per path
    across senses through them, one per person a device named on a blob, one per other
    blob (see the module). ``paths``: those of the range already read (else read here)."""
    if paths is None:
        paths, paths_truncated = read_paths(store, site_time, low=low, high=high)
    else:
        paths_truncated = len(paths) >= MAX_PATHS
    conditions = [Event.kind.in_(BLOB_KINDS), Event.ts < high, Event.track_id.is_not(None)]
    if low is not None:
        conditions.append(Event.ts >= low)
    if rooms is None:
        conditions.append(Event.source.like(f"{SENSING_PREFIX}%"))
    else:
        conditions.append(Event.source.in_([f"{SENSING_PREFIX}{r}" for r in rooms]))
    grouped = (
        select(
            Event.source,
            Event.track_id,
            func.max(Event.person_id).label("person_id"),
            func.min(Event.ts).label("first"),
            func.max(Event.ts).label("last"),
        )
        .where(*conditions)
        .group_by(Event.source, Event.track_id)
        .subquery()
    )
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                grouped.c.source,
                grouped.c.track_id,
                grouped.c.first,
                grouped.c.last,
                Person.public_id,
                Person.name,
            )
            .outerjoin(Person, Person.id == grouped.c.person_id)
            .limit(MAX_BLOBS + 1)
        ).all()
    truncated = paths_truncated or len(rows) > MAX_BLOBS
    groups = _Groups()
    units: dict[str, _Unit] = {}
    blob_node: dict[tuple[str, int], str] = {}
    for row in rows[:MAX_BLOBS]:
        room = str(row.source).removeprefix(SENSING_PREFIX)
        node = f"p:{row.public_id}" if row.public_id else f"b:{room}:{row.track_id}"
        unit = units.setdefault(node, _Unit(row.name, row.public_id))
        unit.seen(_as_utc(row.first), _as_utc(row.last))
        blob_node[(room, int(row.track_id))] = node
        groups.add(node)

    def in_rooms(stretch: Stretch) -> bool:
        return stretch.sense == "sensing" and (rooms is None or stretch.source in rooms)

    through: list[PersonPath] = []
    for path in paths:
        covered = [
            blob_node[(s.source, s.member_id)]
            for s in path.stretches
            if s.sense == "sensing" and s.member_id is not None
            and (s.source, s.member_id) in blob_node
        ]  # fmt: skip
        there = [s for s in path.stretches if in_rooms(s) and overlaps(s.start, s.end, low, high)]
        if not covered and not there:
            continue
        through.append(path)
        node = f"path:{path.event_id}"
        unit = units.setdefault(node, _Unit(path.name, path.person_public_id))
        unit.paths.append(path)
        for stretch in there:
            unit.seen(stretch.start, stretch.end)
        for other in covered:
            groups.union(node, other)
        if path.person_public_id:
            person = f"p:{path.person_public_id}"
            units.setdefault(person, _Unit(path.name, path.person_public_id, counted=False))
            groups.union(node, person)
    people = [_someone(units, members) for members in groups.groups().values()]
    return SensedPeople(
        tuple(sorted((p for p in people if p is not None), key=_people_order)),
        len(rows[:MAX_BLOBS]),
        tuple(through),
        truncated,
    )


@dataclass(frozen=True, slots=True)
class CameraJoins:
    """What the paths change in a count of people seen on cameras (see the module):
    ``joined``, how many fewer people there are (the sightings a path showed to be someone
    counted already; negative when a path shows someone no sighting counted); the change
    to the named people, the people known only by an automatic id and the unrecognised
    tracks; ``newly_named``, the people only a path names (their tracks were counted as
    unrecognised, or not at all); ``paths``, the paths that joined something."""

    joined: int = 0
    named: int = 0
    by_id: int = 0
    unrecognised: int = 0
    newly_named: tuple[Someone, ...] = ()
    paths: tuple[PersonPath, ...] = ()


def camera_joins(
    store: Store,
    paths: Sequence[PersonPath],
    *,
    camera: tuple[int, str] | None,
    low: datetime | None,
    high: datetime,
) -> CameraJoins:
    """How ``paths`` change the count of people seen on ``camera`` (its database id and
    key; None: every camera) in ``[low, high)`` (see :class:`CameraJoins`). Looks up only
    the tracks the paths name (at most :data:`MAX_TRACKS_ASKED`) and the people they
    name, so a range without paths costs nothing."""
    key = None if camera is None else camera[1]
    scoped: list[tuple[PersonPath, list[tuple[str, int]]]] = []
    for path in paths:
        tracks = [
            (s.source, s.member_id)
            for s in path.stretches
            if s.sense == "camera" and s.member_id is not None
            and (key is None or s.source == key) and overlaps(s.start, s.end, low, high)
        ]  # fmt: skip
        if tracks:
            scoped.append((path, tracks))
    if not scoped:
        return CameraJoins()
    asked = sorted({t for _, tracks in scoped for t in tracks})[:MAX_TRACKS_ASKED]
    public_ids = sorted({p.person_public_id for p, _ in scoped if p.person_public_id})
    in_range = [Event.ts < high] + ([] if low is None else [Event.ts >= low])
    if camera is not None:
        in_range.append(Event.camera_id == camera[0])
    by_camera: dict[str, list[int]] = {}
    for cam, track_id in asked:
        by_camera.setdefault(cam, []).append(track_id)
    with store.engine.connect() as connection:
        grouped = (
            select(
                Event.camera_id,
                Event.track_id,
                func.max(case((Event.kind.in_(TRACK_KINDS), 1), else_=0)).label("tracked"),
                func.max(Event.person_id).label("person_id"),
            )
            .join(Camera, Camera.id == Event.camera_id)
            .where(
                *in_range,
                or_(
                    *(
                        and_(Camera.key == cam, Event.track_id.in_(ids))
                        for cam, ids in by_camera.items()
                    )
                ),
            )
            .group_by(Event.camera_id, Event.track_id)
            .subquery()
        )
        track_rows = connection.execute(
            select(
                Camera.key,
                grouped.c.track_id,
                grouped.c.tracked,
                Person.public_id,
                Person.name,
            )
            .join(Camera, Camera.id == grouped.c.camera_id)
            .outerjoin(Person, Person.id == grouped.c.person_id)
        ).all()
        counted_people: dict[str, str | None] = {}
        if public_ids:
            for public_id, name in connection.execute(
                select(Person.public_id, Person.name).where(
                    Person.public_id.in_(public_ids),
                    select(Event.id)
                    .where(*in_range, Event.person_id == Person.id)
                    .limit(1)
                    .exists(),
                )
            ).all():
                counted_people[str(public_id)] = name
    groups = _Groups()
    units: dict[str, _Unit] = {}
    track_node: dict[tuple[str, int], str] = {}
    for row in track_rows:
        if row.public_id:
            node = f"p:{row.public_id}"
            units.setdefault(node, _Unit(row.name, row.public_id))
        elif row.tracked:
            node = f"t:{row.key}:{row.track_id}"
            units.setdefault(node, _Unit())
        else:
            continue  # a track no count took (no appearance of it in the range)
        track_node[(str(row.key), int(row.track_id))] = node
        groups.add(node)
    for public_id, name in counted_people.items():
        groups.add(f"p:{public_id}")
        units.setdefault(f"p:{public_id}", _Unit(name, public_id))
    for path, tracks in scoped:
        node = f"path:{path.event_id}"
        unit = units.setdefault(node, _Unit(path.name, path.person_public_id, counted=False))
        unit.paths.append(path)
        for stretch in path.stretches:
            if (
                stretch.sense == "camera"
                and (key is None or stretch.source == key)
                and overlaps(stretch.start, stretch.end, low, high)
            ):
                unit.seen(stretch.start, stretch.end)
        for track in tracks:
            if track in track_node:
                groups.union(node, track_node[track])
        if path.person_public_id:
            person = f"p:{path.person_public_id}"
            if person not in units:
                units[person] = _Unit(path.name, path.person_public_id, counted=False)
            groups.union(node, person)
    joined = named = by_id = unrecognised = 0
    newly_named: list[Someone] = []
    joining: list[PersonPath] = []
    for members in groups.groups().values():
        counted = [units[m] for m in members if units[m].counted]
        before = (
            sum(1 for u in counted if u.public_id and u.name and u.name != u.public_id),
            sum(1 for u in counted if u.public_id and not (u.name and u.name != u.public_id)),
            sum(1 for u in counted if not u.public_id),
        )
        someone = _someone(units, members)
        if someone is None:
            continue
        after = (1, 0, 0) if someone.named else (0, 1, 0) if someone.public_id else (0, 0, 1)
        joined += len(counted) - 1
        named += after[0] - before[0]
        by_id += after[1] - before[1]
        unrecognised += after[2] - before[2]
        if len(counted) != 1 and someone.path is not None:
            joining.append(someone.path)
        if someone.named and before[0] == 0:
            newly_named.append(someone)
    joining.sort(key=lambda p: (p.ts, p.event_id), reverse=True)
    return CameraJoins(
        joined, named, by_id, unrecognised, tuple(sorted(newly_named, key=_people_order)),
        tuple(joining),
    )  # fmt: skip


def _someone(units: Mapping[str, _Unit], members: Sequence[str]) -> Someone | None:
    """The person a group of sightings is: named by a person the records know, else by a
    path's name; when they were there from the sightings' and paths' times. None for a
    group with nothing counted and no path."""
    chosen = [units[m] for m in members]
    paths = [p for u in chosen for p in u.paths]
    if not paths and not any(u.counted for u in chosen):
        return None
    known = [u for u in chosen if u.public_id]
    named = [u for u in known if u.name and u.name != u.public_id]
    path_named = [p for p in paths if p.name and p.name != p.person_public_id]
    public_id = (named or known)[0].public_id if known else None
    name = named[0].name if named else path_named[0].name if path_named else None
    times: list[tuple[datetime, datetime]] = [
        (u.first, u.last) for u in chosen if u.first is not None and u.last is not None
    ]
    if not times:
        times = [(p.start, p.end) for p in paths]
    if not times:
        return None
    newest = max(paths, key=lambda p: (p.ts, p.event_id), default=None)
    return Someone(name, public_id, min(t[0] for t in times), max(t[1] for t in times), newest)


def _people_order(someone: Someone) -> tuple[int, datetime, str]:
    rank = 0 if someone.named else 1 if someone.public_id else 2
    return rank, someone.first, someone.label


def _as_utc(value: Any) -> datetime:
    """A datetime from an aggregate (SQLite hands back text; the type decorator is lost)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
