"""What the Activity pane counts: per camera and sensing room, the people, recognised
faces, gestures, falls and sensed movements of the last hour, and when the last of them
happened (:class:`ActivityTally`). It reads the event history once (the newest page) and
then counts each stored event the engine announces.

No Qt here (``import widgets.activity.api`` loads no PySide6).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

WINDOW = timedelta(hours=1)

# What each column counts (event kinds), in column order.
CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("People", frozenset({"person.appeared"})),
    ("Faces", frozenset({"face.recognised"})),
    ("Gestures", frozenset({"gesture.detected"})),
    ("Falls", frozenset({"sensing.fall_detected"})),
    ("Sensed", frozenset({"sensing.blob_appeared"})),
)
_COLUMN_OF = {kind: column for column, (_title, kinds) in enumerate(CATEGORIES) for kind in kinds}


class StoredEvent(Protocol):
    """What is read of a stored event (an :class:`~engine.history.events.EventView`)."""

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
class ActivityRow:
    """One camera or room: ``counts`` per :data:`CATEGORIES` column in the window,
    ``last`` (UTC) the newest counted event (None: nothing in the window), ``at_least``:
    the history read at start did not reach back a whole window, so the counts may be
    low."""

    key: str
    name: str
    counts: tuple[int, ...]
    last: datetime | None
    at_least: bool


class ActivityTally:
    """Counts per source over a sliding ``window``. ``sources`` (``(key, name)``) are
    always listed, in order, even when quiet; a source met in events and not named there
    is listed after them under its key."""

    def __init__(self, sources: Sequence[tuple[str, str]], window: timedelta = WINDOW) -> None:
        self._names = dict(sources)
        self._order = [key for key, _name in sources]
        self._window = window
        self._seen: set[int] = set()
        self._counted: dict[str, deque[tuple[datetime, int, int]]] = {}
        self._read_back_to: datetime | None = None  # None: not read yet

    def load(self, events: Iterable[StoredEvent], reached: datetime | None) -> None:
        """The history read at start; ``reached`` is how far back it is complete (None:
        all of it)."""
        self.add(events)
        self._read_back_to = reached

    def add(self, events: Iterable[StoredEvent]) -> int:
        """Count each event not counted before; returns how many were new."""
        added = 0
        for event in events:
            column = _COLUMN_OF.get(event.kind)
            if column is None or event.id in self._seen:
                continue
            self._seen.add(event.id)
            key = source_key(event)
            if key not in self._names and key not in self._order:
                self._order.append(key)
            counted = self._counted.setdefault(key, deque())
            counted.append((event.ts, column, event.id))
            added += 1
        return added

    def rows(self, now: datetime) -> list[ActivityRow]:
        """Each source's counts over the window ending ``now`` (older events are forgotten)."""
        since = now - self._window
        at_least = self._read_back_to is not None and self._read_back_to > since
        rows = []
        for key in self._order:
            counted = self._counted.get(key, deque())
            kept = deque(sorted(item for item in counted if item[0] >= since))
            for _ts, _column, event_id in (item for item in counted if item[0] < since):
                self._seen.discard(event_id)
            self._counted[key] = kept
            counts = [0] * len(CATEGORIES)
            for _ts, column, _id in kept:
                counts[column] += 1
            last = kept[-1][0] if kept else None
            rows.append(ActivityRow(key, self._names.get(key, key), tuple(counts), last, at_least))
        return rows
