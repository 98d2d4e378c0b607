"""Activity: people at a place over a stretch of time, instead of one row per track.

A camera's tracker stores ``person.appeared``/``person.left`` for every track and the
sensing service ``sensing.blob_appeared``/``blob_left`` for every sensed person; on a busy
plaza or with two people walking in a room that is a row every few seconds, and the rows a
person must see (falls, alerts, a camera going dark) drown in them. Frigate groups
detections into review items and Milestone into alarms; here each place's presence is
grouped into an *activity*:

- it begins with the first appearance at a quiet place (stored as ``activity.began``: "Someone
  on Plaza east"), so a person at 3 a.m. shows at once;
- it ends once the place has been empty and quiet for :data:`ACTIVITY_QUIET_S`, or quiet for
  :data:`ACTIVITY_STALE_S` whoever is still counted as present (a tracker that lost a
  ``left``), stored as ``activity.ended`` with when it began, how long it lasted, the most
  people present at once, how many tracks it grouped and the names recognised meanwhile;
- a place busy without pause is summed up every :data:`ACTIVITY_MAX_S`: the activity ends
  (``continued`` next) and the next one carries the people present on, with no new
  ``activity.began`` (nothing began).

The rows per place are thus at most two per quiet-to-busy change and one per
:data:`ACTIVITY_MAX_S` of constant presence. The track rows stay stored (Ask counts people
from them with :func:`most_at_once`, the timeline draws them); the Events pane shows the
activity rows in their place by default, and leaves the sensing hand-overs out of its
summary too (:data:`ROUTINE_KINDS`).

:class:`ActivityGrouper` is the grouping itself, with no thread (tests and benchmarks drive
it); :class:`ActivityService` runs it in the engine: it listens on the bus and publishes the
activity events, which the store writer files like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import Event, EventRecord
from engine.supervise import SupervisedThread
from engine.text import printable

log = logging.getLogger(__name__)

ACTIVITY_QUIET_S: Final = 60.0  # an empty place this long without a row: the activity ended
ACTIVITY_STALE_S: Final = 300.0  # no row this long: ended, even with people still counted
ACTIVITY_MAX_S: Final = 600.0  # constant presence is summed up every ten minutes
CHECK_EVERY_S: Final = 1.0  # how often the service looks for activities that ended

APPEARED_KINDS: Final = frozenset({"person.appeared", "sensing.blob_appeared"})
LEFT_KINDS: Final = frozenset({"person.left", "sensing.blob_left"})
NAMING_KINDS: Final = frozenset({"face.recognised", "sensing.blob_identified"})
# The rows an activity stands for: the Events pane shows the activity in their place.
GROUPED_KINDS: Final = APPEARED_KINDS | LEFT_KINDS
# What a summary of the history leaves out: each track (its activity stands for it) and the
# machinery's routine (a clip written, retention run, a camera connecting).
# A sensing hand-over ("Followed across senses: someone now sensed in …") is one person
# moving on, a row every few seconds with two walkers: routine too (the full list keeps it).
ROUTINE_KINDS: Final = GROUPED_KINDS | {
    "clip.finalised",
    "retention.completed",
    "camera.starting",
    "person.handed_over",
}
ACTIVITY_BEGAN: Final = "activity.began"
ACTIVITY_ENDED: Final = "activity.ended"
MAX_NAMES: Final = 20  # names kept in one activity's row


def most_at_once(stretches: Iterable[tuple[datetime, datetime, object]]) -> int:
    """The most stretches covering one moment; one that ends as another begins does not
    overlap it (a person walking from one room into the next is one person), and an
    instant (start = end) counts at its moment."""
    moments: list[tuple[datetime, int]] = []
    for start, end, _who in stretches:
        moments.append((start, 1))
        moments.append((end, -1 if end > start else 2))  # an instant ends after its start
    # At one time: leavings first, then arrivals, then the end of instants.
    moments.sort(key=lambda m: (m[0], {-1: 0, 1: 1, 2: 2}[m[1]]))
    present = peak = 0
    for _at, step in moments:
        present += -1 if step != 1 else 1
        peak = max(peak, present)
    return peak


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityBegan(Event):
    """People appeared at a place that was quiet (``at``: the first appearance). Published
    by the activity service's thread or the thread that published the appearance."""

    source: str  # camera:KEY or sensing:ROOM
    people: int

    def record(self) -> EventRecord:
        return EventRecord(ACTIVITY_BEGAN, self.source, {"people": self.people})


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityEnded(Event):
    """An activity at ``source`` is over (``at``: its last row, or where a long one was cut):
    it began at ``began_at``, had at most ``people`` present at once, grouped ``tracks``
    camera tracks or sensed people, and ``names`` were recognised meanwhile. ``continued``:
    it carried on from the previous activity (a place busy for longer than
    :data:`ACTIVITY_MAX_S`); ``continues``: the next one carries on from it."""

    source: str
    began_at: datetime
    people: int
    tracks: int
    names: tuple[str, ...] = ()
    continued: bool = False
    continues: bool = False

    def record(self) -> EventRecord:
        detail: dict[str, object] = {
            "started_at": self.began_at.isoformat(),
            "duration_s": round(max((self.at - self.began_at).total_seconds(), 0.0), 1),
            "people": self.people,
            "tracks": self.tracks,
        }
        if self.names:
            detail["names"] = list(self.names)
        if self.continued:
            detail["continued"] = True
        if self.continues:
            detail["continues"] = True
        return EventRecord(ACTIVITY_ENDED, self.source, detail)


@dataclass(slots=True)
class _Open:
    """One place's activity while it lasts."""

    source: str
    began_at: datetime
    last_at: datetime
    continued: bool = False
    present: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    peak: int = 0
    names: dict[str, None] = field(default_factory=dict)

    def ended(self, at: datetime, *, continues: bool = False) -> ActivityEnded:
        return ActivityEnded(
            at=at,
            source=self.source,
            began_at=self.began_at,
            people=self.peak,
            tracks=len(self.seen),
            names=tuple(self.names)[:MAX_NAMES],
            continued=self.continued,
            continues=continues,
        )


class ActivityGrouper:
    """Groups appearances into activities per place (see the module docstring). Not
    thread-safe: one caller at a time (:class:`ActivityService` holds a lock)."""

    def __init__(
        self,
        *,
        quiet_s: float = ACTIVITY_QUIET_S,
        stale_s: float = ACTIVITY_STALE_S,
        max_s: float = ACTIVITY_MAX_S,
    ) -> None:
        self.quiet = timedelta(seconds=quiet_s)
        self.stale = timedelta(seconds=stale_s)
        self.longest = timedelta(seconds=max_s)
        self._open: dict[str, _Open] = {}

    def open_sources(self) -> list[str]:
        """The places with an activity going on."""
        return list(self._open)

    def observe(self, kind: str, source: str, at: datetime, record: EventRecord) -> list[Event]:
        """Take one stored-to-be row (``kind`` at ``source``, stamped ``at``): the activity
        events it causes, oldest first (an ended one first when the row comes after the
        place went quiet)."""
        out: list[Event] = []
        current = self._open.get(source)
        if current is not None:
            out.extend(self._close_if_over(current, at))
            current = self._open.get(source)
        track = record.track_id
        if kind in APPEARED_KINDS:
            if current is None:
                current = _Open(source, began_at=at, last_at=at)
                self._open[source] = current
                began = True
            else:
                began = False
            if track is not None:
                current.present.add(track)
                current.seen.add(track)
            current.peak = max(current.peak, len(current.present), 1)
            current.last_at = max(current.last_at, at)
            if began:
                out.append(ActivityBegan(at=at, source=source, people=1))
        elif current is not None and kind in LEFT_KINDS:
            if track is not None:
                current.present.discard(track)
            current.last_at = max(current.last_at, at)
        elif current is not None and kind in NAMING_KINDS:
            name = record.detail.get("name") or record.detail.get("label")
            if name:
                current.names[printable(str(name))] = None
            current.last_at = max(current.last_at, at)
        return out

    def tick(self, now: datetime) -> list[Event]:
        """Activities over by ``now``: their ended events, oldest first."""
        out: list[Event] = []
        for current in list(self._open.values()):
            out.extend(self._close_if_over(current, now))
        out.sort(key=lambda event: event.at)
        return out

    def flush(self) -> list[Event]:
        """End every activity going on (the engine stops): ended at its last row."""
        out: list[Event] = [current.ended(current.last_at) for current in self._open.values()]
        self._open.clear()
        out.sort(key=lambda event: event.at)
        return out

    def _close_if_over(self, current: _Open, now: datetime) -> list[Event]:
        quiet_for = now - current.last_at
        if quiet_for >= self.stale or (quiet_for >= self.quiet and not current.present):
            del self._open[current.source]
            return [current.ended(current.last_at)]
        if now - current.began_at >= self.longest:
            # Busy without pause: sum up the last stretch, carry the people present on.
            cut = current.began_at + self.longest
            carried = _Open(
                current.source,
                began_at=cut,
                last_at=max(current.last_at, cut),
                continued=True,
                present=set(current.present),
                seen=set(current.present),
                peak=len(current.present),
            )
            self._open[current.source] = carried
            return [current.ended(cut, continues=True)]
        return []


class ActivityService:
    """Runs an :class:`ActivityGrouper` in the engine: every bus event whose row is a
    track's or sensed person's appearance, leaving or naming is grouped (on the thread that
    published it), and a thread named ``activity`` ends activities that went quiet, every
    :data:`CHECK_EVERY_S` on the engine clock. Activity events are published on the bus,
    where the store writer files them."""

    def __init__(
        self, *, bus: EventBus, clock: Clock, grouper: ActivityGrouper | None = None
    ) -> None:
        self._bus = bus
        self._clock = clock
        self.grouper = grouper or ActivityGrouper()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Listen for rows (after the store writer is attached, so an activity's row is
        queued after the row that began it) and start the thread that ends activities."""
        self._unsubscribe = self._bus.subscribe(Event, self._on_event)
        self._thread = SupervisedThread(
            self._run, name="activity", stop=self._stop, clock=self._clock
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and end the activities going on (their rows are published: stop
        this before the store writer)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        with self._lock:
            ended = self.grouper.flush()
        self._publish(ended)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ActivityBegan | ActivityEnded):
            return
        record = event.record()
        if record is None or record.kind not in GROUPED_KINDS | NAMING_KINDS:
            return
        with self._lock:
            caused = self.grouper.observe(record.kind, record.source, event.at, record)
        self._publish(caused)

    def _run(self) -> None:
        while not self._clock.wait(self._stop, CHECK_EVERY_S):
            with self._lock:
                ended = self.grouper.tick(self._clock.now())
            self._publish(ended)

    def _publish(self, events: Iterable[Event]) -> None:
        for event in events:
            try:
                self._bus.publish(event)
            except Exception:  # a failing subscriber must not stop the grouping
                log.exception("activity: could not publish %s", type(event).__name__)
