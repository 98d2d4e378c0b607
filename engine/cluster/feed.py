"""Following the events every engine of a shared site stores, from any process or machine.

An :class:`EventFeed` hands each newly stored event (an
:class:`~engine.store.event_views.EventView`, the row the history lists) to its listener once,
in each engine's commit order. On PostgreSQL it ``LISTEN``\\ s on
:data:`~engine.store.writer.EVENTS_CHANNEL`: each engine's store writer sends a ``NOTIFY``
with its name and last id in the transaction that stores events, so the feed hears of them
when they commit and reads the rows itself (payloads stay small). On SQLite (one machine) it
looks every :data:`POLL_S`.

Catching up is by id **per engine**: one engine's writer commits its events in id order, so
"this engine's events after the last one seen" misses nothing even while several engines
commit at once (a single "after id N" would skip an id another engine took earlier but
committed later). Events stored without an engine name (a console's acknowledgement, a CLI
command) are followed the same way under ``None``.

When the database goes away the feed says so (:attr:`EventFeed.connected`, :attr:`problem`),
reconnects with backoff, and on its return reads everything it missed before new events.
Its thread is supervised (:class:`~engine.supervise.SupervisedThread`): each failure is
logged and counted in the engine's health, whatever raised it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from engine.clock import REAL_CLOCK, Clock
from engine.store.cluster_models import EngineRow
from engine.store.database import Store
from engine.store.event_views import EventView, event_view_of_row, event_view_select
from engine.store.models import Event
from engine.store.writer import EVENTS_CHANNEL, LIVE_CHANNEL, describe_failure
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

POLL_S: Final = 0.5  # SQLite: how often to look; PostgreSQL: a safety net beside LISTEN
LISTEN_TIMEOUT_S: Final = 1.0  # PostgreSQL: look anyway after this long without a NOTIFY
BATCH: Final = 500  # rows read per statement while catching up
BACKOFF_START_S: Final = 0.5
BACKOFF_MAX_S: Final = 10.0

Engine = str | None


class EventFeed:
    """Calls ``on_events(views)`` on its own thread for events stored after it starts (or
    after ``after`` — per engine, the last id already seen), each once.

    ``on_state(connected, problem)`` is called when the connection is lost or back.
    ``on_live(notes)``: PostgreSQL only, the notes on :data:`~engine.cluster.live.
    LIVE_CHANNEL` (decoded JSON objects) heard on the same connection, in the order sent.
    ``start``/``stop``; any thread may read :attr:`connected` and :attr:`problem`."""

    def __init__(
        self,
        store: Store,
        on_events: Callable[[tuple[EventView, ...]], None],
        *,
        after: dict[Engine, int] | None = None,
        on_state: Callable[[bool, str | None], None] | None = None,
        on_live: Callable[[list[dict[str, Any]]], None] | None = None,
        clock: Clock = REAL_CLOCK,
        poll_s: float = POLL_S,
        name: str = "watchfloor follower",
    ) -> None:
        self.store = store
        self._name = name[:63]  # PostgreSQL's application_name (pg_stat_activity)
        self._on_live = on_live
        self._on_events = on_events
        self._on_state = on_state
        self._clock = clock
        self._poll_s = poll_s
        self._last: dict[Engine, int] | None = dict(after) if after is not None else None
        self._floor = 0 if after is None else max(after.values(), default=0)
        self._scanned = self._floor  # events after this id are looked at for new engine names
        self._stop = threading.Event()
        # Supervised: each failure (the database away, a read that failed) ends a run of
        # _follow; the supervisor says so, counts it and follows again after a backoff.
        self._thread = SupervisedThread(
            self._follow,
            name="event-feed",
            stop=self._stop,
            clock=clock,
            first_backoff_s=BACKOFF_START_S,
            max_backoff_s=BACKOFF_MAX_S,
            on_restart=self._lost,
        )
        self.connected = False
        self.problem: str | None = None
        self.delivered = 0
        # PostgreSQL: set while the LISTEN connection is listening (a note sent before is
        # not heard: stored events are read back by id, live notes are not).
        self.listening = threading.Event()

    def start(self) -> None:
        """Note where every engine's events stand now (unless ``after`` was given), then
        follow on a thread."""
        if self._last is None:
            # An engine with no events yet is followed from the newest event of all now.
            self._last, self._floor = self._current_last()
            self._scanned = self._floor
        self.connected = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()  # a thread waiting for notifications sees it within a second
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    @property
    def last_seen(self) -> dict[Engine, int]:
        """Per engine, the id of the last event handed over (what a restart resumes from)."""
        return dict(self._last or {})

    # -- the thread ------------------------------------------------------------------
    def _follow(self) -> None:
        """Follow until stopped (the ``event-feed`` thread); a failure is raised to the
        thread's supervisor (:meth:`_lost`), unless it came of the stop itself."""
        try:
            if self.store.backend == "postgresql":
                self._listen()
            else:
                self._poll()
        except Exception:
            if self._stop.is_set():
                return  # the connection went with the stop
            raise

    def _lost(self, exc: BaseException) -> None:
        """The feed failed (supervisor's listener, on the feed's thread): say so; it
        follows again, from where it was, after the supervisor's backoff."""
        self._set_state(False, describe_failure(exc))  # (the supervisor logs the error)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._catch_up()
            self._set_state(True, None)
            self._clock.wait(self._stop, self._poll_s)

    def _listen(self) -> None:
        import psycopg

        url = make_url(self.store.url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        with psycopg.connect(
            conninfo, autocommit=True, connect_timeout=10, application_name=self._name
        ) as connection:
            connection.execute(f"LISTEN {EVENTS_CHANNEL}")
            if self._on_live is not None:
                connection.execute(f"LISTEN {LIVE_CHANNEL}")
            self.listening.set()
            # Listening first, then reading: nothing committed in between is missed.
            self._catch_up()
            self._set_state(True, None)
            try:
                self._heard(connection)
            finally:
                self.listening.clear()

    def _heard(self, connection: Any) -> None:
        """Deliver what the LISTEN connection hears until stopped (or it fails)."""
        while not self._stop.is_set():
            engines: set[Engine] = set()
            live: list[dict[str, Any]] = []
            # The first note (or a second without one), then whatever else has arrived.
            waited = connection.notifies(timeout=LISTEN_TIMEOUT_S, stop_after=1)
            for note in (*waited, *connection.notifies(timeout=0)):
                if note.channel == EVENTS_CHANNEL:
                    engines.add(_engine_of(note.payload))
                else:
                    live.extend(_object_of(note.payload))
            if self._stop.is_set():
                return
            # A NOTIFY woke us: read what that engine stored since (all engines when
            # none was heard for a while: a safety net), then what was told live, which
            # may name an event just stored.
            if engines or not live:
                self._catch_up(engines or None)
            if live and self._on_live is not None:
                self._on_live(live)

    def _catch_up(self, engines: set[Engine] | None = None) -> None:
        """Hand over every event stored after the last one seen, engine by engine (those
        named in ``engines``; all when None)."""
        assert self._last is not None
        if engines is None:
            engines = set(self._last) | set(self._known_engines())
        for engine in sorted(engines, key=lambda e: e or ""):
            while not self._stop.is_set():
                after = self._last.get(engine, self._floor)
                views = self._read(engine, after)
                if not views:
                    break
                self._last[engine] = views[-1].id
                self.delivered += len(views)
                self._on_events(views)
                if len(views) < BATCH:
                    break

    def _read(self, engine: Engine, after: int) -> tuple[EventView, ...]:
        condition = Event.engine.is_(None) if engine is None else Event.engine == engine
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                event_view_select()
                .where(condition, Event.id > after)
                .order_by(Event.id)
                .limit(BATCH)
            ).all()
        return tuple(event_view_of_row(row) for row in rows)

    def _known_engines(self) -> Sequence[Engine]:
        """Every engine that may store events: None (a single engine, a console, a
        command), the shared sites' engines (the small ``engines`` table), and any other
        name on events stored since the last look (a range of the primary key, not a scan
        of the history)."""
        with self.store.engine.connect() as connection:
            names: set[str | None] = set(connection.execute(select(EngineRow.name)).scalars())
            rows = connection.execute(
                select(Event.engine, func.max(Event.id))
                .where(Event.id > self._scanned)
                .group_by(Event.engine)
            ).all()
        for engine, last in rows:
            names.add(engine)
            self._scanned = max(self._scanned, int(last))
        return [None, *sorted(n for n in names if n is not None)]

    def _current_last(self) -> tuple[dict[Engine, int], int]:
        """Per engine, its newest event's id (one index lookup each); and the newest of all."""
        last: dict[Engine, int] = {}
        with self.store.engine.connect() as connection:
            newest = int(connection.execute(select(func.max(Event.id))).scalar() or 0)
        self._scanned = newest  # names on older events: from the engines table only
        with self.store.engine.connect() as connection:
            for engine in self._known_engines():
                condition = Event.engine.is_(None) if engine is None else Event.engine == engine
                value = connection.execute(select(func.max(Event.id)).where(condition)).scalar()
                if value is not None:
                    last[engine] = int(value)
        return last, newest

    def _set_state(self, connected: bool, problem: str | None) -> None:
        changed = (connected, problem) != (self.connected, self.problem)
        self.connected, self.problem = connected, problem
        if changed and self._on_state is not None:
            self._on_state(connected, problem)


def _object_of(payload: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(payload)
    except ValueError:
        return []
    return [value] if isinstance(value, dict) else []


def _engine_of(payload: str) -> Engine:
    try:
        value = json.loads(payload).get("engine")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
