"""What the Activity pane counts: per camera and sensing room, the people, recognised
faces, gestures, falls and sensed people of the last hour, and when the last of them
happened (:class:`ActivityTally`). It reads the event history once (the newest page) and
then counts each stored event the engine announces.

People are counted as people, never as tracks (one person who turns away and back is a new
track): the distinct identities on the tracks when every track has one (a recognised face,
a registered device), else the most present at once, each track a stretch from its
``appeared`` to its ``left`` row (:func:`engine.activity.most_at_once`); :class:`PeopleCount`
keeps both with the number of tracks, and says which it is ("at most 4 at once; 23
tracks"). The Faces column counts the distinct people recognised, not recognitions.

No Qt here (``import widgets.activity.api`` loads no PySide6).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from engine.activity import most_at_once
from engine.history.departures import departure_lag, open_track_end

WINDOW = timedelta(hours=1)
# A track with no ``left`` yet counts as present this long at most, and no later than the
# rows can say who had gone by (:mod:`engine.history.departures`).
OPEN_TRACK = timedelta(minutes=10)
LOOK_BACK = timedelta(minutes=10)  # rows kept before the window, for tracks begun before it

# What each column counts (event kinds), in column order.
CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("People", frozenset({"person.appeared"})),
    ("Faces", frozenset({"face.recognised"})),
    ("Gestures", frozenset({"gesture.detected"})),
    ("Falls", frozenset({"sensing.fall_detected"})),
    ("Sensed", frozenset({"sensing.blob_appeared"})),
)
_COLUMN_OF = {kind: column for column, (_title, kinds) in enumerate(CATEGORIES) for kind in kinds}
PEOPLE_COLUMN = 0
FACES_COLUMN = 1
SENSED_COLUMN = 4
# The columns that count people, and the rows that make their tracks.
_TRACK_KINDS = {
    PEOPLE_COLUMN: ("person.appeared", "person.left", "face.recognised"),
    SENSED_COLUMN: ("sensing.blob_appeared", "sensing.blob_left", "sensing.blob_identified"),
}
_APPEARED = frozenset({"person.appeared", "sensing.blob_appeared"})
_LEFT = frozenset({"person.left", "sensing.blob_left"})
# The rows of tracks (appeared, left, named): each may change a People or Sensed count.
TRACK_ROW_KINDS = frozenset(k for kinds in _TRACK_KINDS.values() for k in kinds)
_KEPT_KINDS = frozenset(_COLUMN_OF) | TRACK_ROW_KINDS


class StoredEvent(Protocol):
    """What is read of a stored event (an :class:`~engine.history.events.EventView`;
    ``track_id`` and ``person_public_id`` are read when it has them)."""

    @property
    def id(self) -> int: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def camera(self) -> str | None: ...


def source_key(event: StoredEvent) -> str:
    """A camera's id, or the event's source for a room (``sensing:<room>``)."""
    return event.camera or event.source


@dataclass(frozen=True, slots=True)
class PeopleCount:
    """People at one place in the window: ``at_once`` the most tracks present together,
    ``known`` the distinct identities on them, ``tracks`` how many tracks (or sensed
    blobs), ``unknown_tracks`` those nobody was put on."""

    at_once: int = 0
    known: int = 0
    tracks: int = 0
    unknown_tracks: int = 0

    @property
    def people(self) -> int:
        """The fewest people the rows prove: known identities or the most at once."""
        return max(self.known, self.at_once)

    def words(self, noun: str = "track") -> str:
        """How a cell says it: ``3 known (5 tracks)`` when every track is known, ``at most
        4 at once (23 tracks)`` when none is, ``at least 3: 2 known, at most 3 at once (9
        tracks)`` between; ``0`` for nobody."""
        if self.tracks == 0:
            return "0"
        tracks = f"{self.tracks} {noun}{'' if self.tracks == 1 else 's'}"
        if self.unknown_tracks == 0:
            return f"{self.known} known ({tracks})"
        if self.known == 0:
            return f"at most {self.at_once} at once ({tracks})"
        return (
            f"at least {self.people}: {self.known} known, at most {self.at_once} at once ({tracks})"
        )


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One camera or room: ``counts`` per :data:`CATEGORIES` column in the window (people
    as :attr:`PeopleCount.people`, faces as distinct people, the rest as events),
    ``people`` the People and Sensed columns' :class:`PeopleCount` (by column), ``last``
    (UTC) the newest counted event (None: nothing in the window), ``at_least``: the history
    read at start did not reach back a whole window, so the counts may be low."""

    key: str
    name: str
    counts: tuple[int, ...]
    last: datetime | None
    at_least: bool
    people: dict[int, PeopleCount] = field(default_factory=dict)

    def words(self, column: int) -> str:
        """Column ``column``'s count as the pane shows it."""
        if column in self.people:
            noun = "track" if column == PEOPLE_COLUMN else "sensed track"
            return self.people[column].words(noun)
        if column == FACES_COLUMN and self.counts[column]:
            return f"{self.counts[column]} known"
        return str(self.counts[column])


@dataclass(frozen=True, slots=True)
class _Row:
    ts: datetime
    kind: str
    id: int
    track: int | None
    person: str | None


def _person_of(event: StoredEvent) -> str | None:
    person = getattr(event, "person_public_id", None) or getattr(event, "person", None)
    return None if person is None else str(person)


def people_count(rows: Sequence[_Row], since: datetime, now: datetime, column: int) -> PeopleCount:
    """The tracks of ``column``'s kinds among ``rows`` (one place's), over ``[since, now)``."""
    kinds = _TRACK_KINDS[column]
    lag = departure_lag((r.id, r.ts, r.kind in _LEFT) for r in rows if r.kind in kinds)
    settled = now - lag  # who had left by then is filed; an open track is there until then
    tracks: dict[int, list[datetime | str | None]] = {}  # track: appeared, left, person
    for row in rows:
        if row.kind not in kinds or (row.track is None and row.kind not in _APPEARED):
            continue  # a leaving or naming row with no track: nothing to match it to
        key = row.track if row.track is not None else -row.id
        track = tracks.setdefault(key, [None, None, None])
        if row.kind in _APPEARED and track[0] is None:
            track[0] = row.ts
        elif row.kind in _LEFT:
            track[1] = row.ts
        if row.person is not None:
            track[2] = row.person
    stretches: list[tuple[datetime, datetime, object]] = []
    for appeared, left, person in tracks.values():
        if not isinstance(appeared, datetime):
            if not isinstance(left, datetime):
                continue
            appeared = since if left > since else left
        gone = isinstance(left, datetime)
        if isinstance(left, datetime):
            end = left
        else:
            end = min(now, open_track_end(appeared, settled, now, OPEN_TRACK))
        if end < since or appeared > now or (end == since and appeared < since and gone):
            continue
        stretches.append((max(appeared, since), min(max(end, appeared), now), person))
    known = {person for _s, _e, person in stretches if person is not None}
    return PeopleCount(
        at_once=most_at_once(stretches),
        known=len(known),
        tracks=len(stretches),
        unknown_tracks=sum(1 for _s, _e, person in stretches if person is None),
    )


class ActivityTally:
    """Counts per source over a sliding ``window``. ``sources`` (``(key, name)``) are
    always listed, in order, even when quiet; a source met in events and not named there
    is listed after them under its key."""

    def __init__(self, sources: Sequence[tuple[str, str]], window: timedelta = WINDOW) -> None:
        self._names = dict(sources)
        self._order = [key for key, _name in sources]
        self._window = window
        self._seen: set[int] = set()
        self._rows: dict[str, list[_Row]] = {}
        self._read_back_to: datetime | None = None  # None: not read yet

    def load(self, events: Iterable[StoredEvent], reached: datetime | None) -> None:
        """The history read at start; ``reached`` is how far back it is complete (None:
        all of it)."""
        self.add(events)
        self._read_back_to = reached

    def add(self, events: Iterable[StoredEvent]) -> int:
        """Keep each event not kept before; returns how many of them a column counts."""
        added = 0
        for event in events:
            if event.kind not in _KEPT_KINDS or event.id in self._seen:
                continue
            self._seen.add(event.id)
            key = source_key(event)
            if key not in self._names and key not in self._order:
                self._order.append(key)
            track = getattr(event, "track_id", None)
            self._rows.setdefault(key, []).append(
                _Row(event.ts, event.kind, event.id, track, _person_of(event))
            )
            added += event.kind in _COLUMN_OF
        return added

    def rows(self, now: datetime) -> list[ActivityRow]:
        """Each source's counts over the window ending ``now`` (older events are forgotten)."""
        since = now - self._window
        keep_from = since - LOOK_BACK
        at_least = self._read_back_to is not None and self._read_back_to > since
        out = []
        for key in self._order:
            rows = self._rows.get(key, [])
            for row in rows:
                if row.ts < keep_from:
                    self._seen.discard(row.id)
            kept = sorted((r for r in rows if r.ts >= keep_from), key=lambda r: (r.ts, r.id))
            self._rows[key] = kept
            counted = [r for r in kept if r.ts >= since and r.kind in _COLUMN_OF]
            counts = [0] * len(CATEGORIES)
            for row in counted:
                counts[_COLUMN_OF[row.kind]] += 1
            people = {
                column: people_count(kept, since, now, column)
                for column in _TRACK_KINDS
                if any(r.kind in _TRACK_KINDS[column] for r in kept)
            }
            for column, count in people.items():
                counts[column] = count.people
            faces = {r.person or f"#{r.id}" for r in counted if _COLUMN_OF[r.kind] == FACES_COLUMN}
            counts[FACES_COLUMN] = len(faces)
            last = counted[-1].ts if counted else None
            out.append(
                ActivityRow(
                    key,
                    self._names.get(key, key),
                    tuple(counts),
                    last,
                    at_least,
                    {c: p for c, p in people.items() if p.tracks},
                )
            )
        return out
