"""How many people were at a place: counted as people, never as tracks.

A camera's tracker files a ``person.appeared`` and a ``person.left`` for every track, and
one person who turns away and back, or walks behind a pillar, makes several tracks; the
sensing service does the same with blobs in a room. So a count of tracks is not a count
of people ("122 people" on a plaza that never held more than 13). What the stored rows do
say about people:

- **who is known**: the distinct identities on the tracks: a recognised face or a
  registered device (the ``person_id`` the store writer puts on every row of a named track
  or blob), or a fused identity (a path across senses holds the track: one person however
  many tracks, named or not; :func:`path_identities`). When every track in the window has
  one, that is the number of people.
- **the most present at once**: the peak of concurrent tracks, each track an interval from
  its ``appeared`` to its ``left`` row (a ``left`` alone reaches back its ``duration_s``; a
  track with no ``left`` is taken as present until the window's end, at most
  :data:`OPEN_TRACK_S`; a track read only by its face or device row is there at that
  moment). Nobody can be two tracks at one place at once, so at least that many people were
  there. A departure is filed seconds after the last sighting it is stamped with
  (:mod:`engine.history.departures`), so an open track begun before the clock's now less
  that lag counts as present until then only, one begun since apart from those, and a
  window inside the lag ("now") is counted from its start.

:class:`Presence` holds both with the number of tracks; :attr:`Presence.people` is the
larger lower bound, and :func:`people_words` says which it is ("at most 4 at once; 23
camera tracks"). Any thread; each call opens its own connection.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.activity import most_at_once
from engine.history.departures import departure_lag, open_track_end
from engine.history.paths import PersonPath
from engine.store.database import Store
from engine.store.models import Event
from engine.store.person_models import Person

TRACK_KINDS: Final = ("person.appeared", "person.left", "face.recognised")
BLOB_KINDS: Final = ("sensing.blob_appeared", "sensing.blob_left", "sensing.blob_identified")
APPEARED: Final = frozenset({"person.appeared", "sensing.blob_appeared"})
LEFT: Final = frozenset({"person.left", "sensing.blob_left"})
OPEN_TRACK_S: Final = 600.0  # a track with no ``left`` row counts as present this long at most
LOOK_BACK_S: Final = 3600.0  # rows read before the window, for tracks begun before it
MAX_ROWS: Final = 200_000  # rows one count reads at most (a busy plaza's week)
SENSING_PREFIX: Final = "sensing:"
FOLLOWED: Final = "someone followed across senses"  # an unnamed path's person, as said

# A track (camera id or room id, track or blob id) -> the identity a path gives it and how
# it is said: (key, label).
Joined = Mapping[tuple[object, int], tuple[str, str]]


def path_identities(paths: Iterable[PersonPath], camera_ids: Mapping[str, int]) -> Joined:
    """The tracks and blobs each path across senses holds, as one identity per path: the
    person's public id when the path names someone in the face memory or a device's owner
    (so their own rows agree), else its name, else the path itself (someone unknown,
    followed across senses). ``camera_ids``: camera key -> row id."""
    joined: dict[tuple[object, int], tuple[str, str]] = {}
    for path in paths:
        if path.person_public_id:
            key = path.person_public_id
        else:
            key = f"name:{path.name}" if path.name else f"path:{path.event_id}"
        label = FOLLOWED if path.label == "Someone unknown" else path.label
        for stretch in path.stretches:
            if stretch.member_id is None:
                continue
            if stretch.sense == "camera" and stretch.source in camera_ids:
                joined[(camera_ids[stretch.source], stretch.member_id)] = (key, label)
            elif stretch.sense == "sensing":
                joined[(stretch.source, stretch.member_id)] = (key, label)
    return joined


@dataclass(frozen=True, slots=True)
class Presence:
    """People at a place over a window: ``tracks`` camera tracks (or sensed blobs) that
    overlap it, ``at_once`` the most of them present at one moment, ``known`` the distinct
    identities on them (public ids, named first, with ``names`` their names or ids as
    said), ``unknown_tracks`` the tracks no identity was put on. ``truncated``: more rows
    than :data:`MAX_ROWS`, so the figures may be low. ``counted_from``: the window began
    after the latest moment the rows can say who had gone by, so it was counted from that
    moment (None: as asked)."""

    tracks: int = 0
    at_once: int = 0
    known: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    unknown_tracks: int = 0
    truncated: bool = False
    counted_from: datetime | None = None

    @property
    def people(self) -> int:
        """The fewest people the rows prove: the distinct identities or the most present at
        once, whichever is more (exact when every track is known)."""
        return max(len(self.known), self.at_once)

    @property
    def all_known(self) -> bool:
        """Every track carries an identity: :attr:`people` is the number of people."""
        return self.tracks > 0 and self.unknown_tracks == 0


def _as_utc(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@dataclass(slots=True)
class _Track:
    appeared: datetime | None = None
    left: datetime | None = None
    left_for_s: float | None = None
    person_ids: set[int] = field(default_factory=set)  # a track re-named later has two
    first_row: datetime | None = None  # its first row of any kind read
    joined: tuple[str, str] | None = None  # the identity a path across senses gives it


def presence(
    store: Store,
    *,
    low: datetime | None,
    high: datetime,
    camera_ids: Collection[int] | None = None,
    rooms: Collection[str] | None = None,
    sensing: bool = False,
    joined: Joined | None = None,
    now: datetime | None = None,
) -> Presence:
    """The people on the cameras ``camera_ids`` (None: every camera) or, with ``sensing``,
    in the sensing ``rooms`` (None: every room), over ``[low, high)`` (UTC; ``low`` None:
    all the history); ``joined``: the tracks paths across senses hold
    (:func:`path_identities`); ``now``: the clock's (None: ``high``), from which the
    departures not filed yet are reckoned. One statement for the rows, one for the
    identities' names."""
    with store.engine.connect() as connection:
        return presence_on(
            connection,
            low=low,
            high=high,
            camera_ids=camera_ids,
            rooms=rooms,
            sensing=sensing,
            joined=joined,
            now=now,
        )


def presence_on(
    connection: Connection,
    *,
    low: datetime | None,
    high: datetime,
    camera_ids: Collection[int] | None = None,
    rooms: Collection[str] | None = None,
    sensing: bool = False,
    joined: Joined | None = None,
    now: datetime | None = None,
) -> Presence:
    """:func:`presence` on the caller's connection."""
    conditions: list[Any] = [Event.ts < high]
    if low is not None:
        conditions.append(Event.ts >= low - timedelta(seconds=LOOK_BACK_S))
    if sensing:
        conditions.append(Event.kind.in_(BLOB_KINDS))
        if rooms is not None:
            conditions.append(Event.source.in_([SENSING_PREFIX + r for r in rooms]))
    else:
        conditions.append(Event.kind.in_(TRACK_KINDS))
        if camera_ids is not None:
            conditions.append(Event.camera_id.in_(list(camera_ids)))
        else:
            conditions.append(Event.camera_id.is_not(None))
    rows = connection.execute(
        select(
            Event.id,
            Event.ts,
            Event.kind,
            Event.source,
            Event.camera_id,
            Event.track_id,
            Event.person_id,
            Event.detail,
        )
        .where(*conditions)
        .order_by(Event.ts, Event.id)
        .limit(MAX_ROWS + 1)
    ).all()
    truncated = len(rows) > MAX_ROWS
    lag = departure_lag((int(r.id), _as_utc(r.ts), r.kind in LEFT) for r in rows[:MAX_ROWS])
    settled = (high if now is None else now) - lag
    tracks: dict[tuple[Any, ...], _Track] = {}
    for row in rows[:MAX_ROWS]:
        place = row.source.removeprefix(SENSING_PREFIX) if sensing else row.camera_id
        key = (place, row.track_id if row.track_id is not None else -int(row.id))
        track = tracks.get(key)
        if track is None:
            track = tracks[key] = _Track()
            if joined and row.track_id is not None and key in joined:
                track.joined = joined[key]
        ts = _as_utc(row.ts)
        track.first_row = track.first_row or ts
        if row.kind in APPEARED and track.appeared is None:
            track.appeared = ts
        elif row.kind in LEFT:
            track.left = ts
            duration = (row.detail or {}).get("duration_s")
            if isinstance(duration, int | float) and duration >= 0:
                track.left_for_s = float(duration)
        if row.person_id is not None:
            track.person_ids.add(int(row.person_id))
    counted_from = None
    if low is not None and low > settled:
        low = counted_from = settled  # a moment the rows cannot say yet who had left by
    return _count(list(tracks.values()), low, high, connection, truncated, settled, counted_from)


def intervals(
    tracks: Sequence[_Track],
    low: datetime | None,
    high: datetime,
    settled: datetime | None = None,
) -> list[tuple[datetime, datetime, _Track]]:
    """Each track's stretch ``(start, end, track)`` clipped to ``[low, high)``, those that
    overlap it only. A track with no departure filed is present until ``settled`` (None:
    ``high``; the latest moment a departure before it would have been filed by) when it
    began before then, else until ``high`` (:func:`~engine.history.departures.open_track_end`)."""
    out: list[tuple[datetime, datetime, _Track]] = []
    for track in tracks:
        if track.appeared is not None:
            start = track.appeared
        elif track.left is not None and track.left_for_s is not None:
            start = track.left - timedelta(seconds=track.left_for_s)
        elif track.left is not None:
            start = low if low is not None else track.left
        elif track.first_row is not None:
            start = track.first_row  # a face or device row alone: there at that moment
        else:
            continue
        if track.left is not None:
            end = track.left
        elif track.appeared is None:
            end = start
        else:
            open_for = timedelta(seconds=OPEN_TRACK_S)
            end = min(high, open_track_end(start, settled or high, high, open_for))
        end = max(end, start)
        # One that left as the window begins was not in it; one still open at ``low`` (its
        # stretch cut at ``settled``) is not known to have gone.
        gone_at_low = end == low and start < low and track.left is not None
        if start >= high or (low is not None and (end < low or gone_at_low)):
            continue
        clipped = max(start, low) if low is not None else start
        out.append((clipped, min(end, high), track))
    return out


def _count(
    tracks: list[_Track],
    low: datetime | None,
    high: datetime,
    connection: Connection,
    truncated: bool,
    settled: datetime,
    counted_from: datetime | None,
) -> Presence:
    stretches = intervals(tracks, low, high, settled)
    person_ids = {who for _s, _e, track in stretches for who in track.person_ids}
    said: dict[str, tuple[int, str]] = {}  # identity -> (order, how it is said)
    public: dict[int, str] = {}
    if person_ids:
        for row in connection.execute(
            select(Person.id, Person.public_id, Person.name).where(
                Person.id.in_(sorted(person_ids))
            )
        ).all():
            public[int(row.id)] = str(row.public_id)
            said[str(row.public_id)] = (0 if row.name else 1, str(row.name or row.public_id))
    identities: list[set[str]] = []
    for _s, _e, track in stretches:
        who = {public[p] for p in track.person_ids if p in public}
        if track.joined is not None:
            key, label = track.joined
            who.add(key)
            said.setdefault(key, (2 if label == FOLLOWED else 0, label))
        identities.append(who)
    known = sorted({key for who in identities for key in who}, key=lambda k: (said[k], k))
    named = [said[k][1] for k in known if said[k][1] != FOLLOWED]
    followed = sum(1 for k in known if said[k][1] == FOLLOWED)
    if followed:
        named.append(FOLLOWED if followed == 1 else f"{followed} people followed across senses")
    return Presence(
        tracks=len(stretches),
        at_once=most_at_once(stretches),
        known=tuple(known),
        names=tuple(named),
        unknown_tracks=sum(1 for who in identities if not who),
        truncated=truncated,
        counted_from=counted_from,
    )


MAX_NAMES_SAID: Final = 25  # names one sentence lists


def _names(found: Presence) -> str:
    shown = list(found.names[:MAX_NAMES_SAID])
    if len(found.names) > MAX_NAMES_SAID:
        shown.append(_plural(len(found.names) - MAX_NAMES_SAID, "more"))
    return _join(shown)


def people_words(
    found: Presence, *, verb: str, where: str, period: str, track_noun: str = "camera track"
) -> str:
    """One sentence saying how many people ``found`` proves, and which count it is: the
    people themselves when every track is known, else the most present at once and the
    known ones, with the tracks said as tracks ("At most 4 people at once were seen on
    Plaza east today; 23 camera tracks, none recognised."). ``verb`` as in "were
    ``seen``", ``where``/``period`` as said ("on Plaza east", "today")."""
    tracks = _plural(found.tracks, track_noun)
    floor = "At least " if found.truncated else ""
    where = f"{where} {period}".strip()  # "on Plaza east today"; the period may be said before
    if found.tracks == 0:
        return f"Nobody was {verb} {where}."
    if found.all_known:
        who = _plural(len(found.known), "person was", "people were")
        return (
            f"{floor}{who} {verb} {where}, each known by name, id or path across senses: "
            f"{_names(found)} ({tracks})."
        )
    if not found.known:
        who = _plural(found.at_once, "person", "people")
        return (
            f"{floor or 'At most '}{who} at once {'was' if found.at_once == 1 else 'were'} "
            f"{verb} {where}; {tracks}, none known by name (a person who leaves and "
            "comes back is a new track, so tracks are not people)."
        )
    who = _plural(found.people, "person was", "people were")
    return (
        f"At least {who} {verb} {where}: at most {found.at_once} at once, "
        f"{len(found.known)} known ({_names(found)}); {tracks}, {found.unknown_tracks} of "
        "them of someone not known (tracks are not people)."
    )


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
