"""Following a shared site's events (engine.cluster.feed): every event stored by any engine
reaches the follower once, in each engine's order, also when one engine commits an earlier
id after another's later one; a follower cut off from PostgreSQL reconnects and catches up on
what was stored while it was away. Real SQLite and PostgreSQL, real store writers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text

from engine.cluster.feed import BACKOFF_START_S, EventFeed
from engine.store.commands import InsertEvent
from engine.store.database import Store
from engine.store.event_views import EventView
from engine.store.models import Event
from engine.store.writer import StoreWriter

pytestmark = pytest.mark.sql


class Received:
    def __init__(self) -> None:
        self.views: list[EventView] = []
        self.states: list[tuple[bool, str | None]] = []
        self.lock = threading.Lock()

    def events(self, views: tuple[EventView, ...]) -> None:
        with self.lock:
            self.views.extend(views)

    def state(self, connected: bool, problem: str | None) -> None:
        self.states.append((connected, problem))

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[EventView]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.views) >= count:
                    return list(self.views)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"{len(self.views)} of {count} events arrived: {self.views}")


def _event(engine: str | None, n: int) -> InsertEvent:
    return InsertEvent(
        ts=datetime.now(UTC),
        kind="test.event",
        source=f"test:{engine}",
        detail={"n": n},
        engine=engine,
    )


def test_events_of_several_engines_reach_a_follower_once_and_in_order(store: Store) -> None:
    received = Received()
    feed = EventFeed(store, received.events, on_state=received.state, poll_s=0.05)
    with StoreWriter.running(store) as before:
        before.execute(_event("a", -1), timeout_s=30)  # stored before: not followed
    feed.start()
    try:
        writers = {name: StoreWriter(store, engine_name=name) for name in ("a", "b", None)}
        for writer in writers.values():
            writer.start()
        try:
            for n in range(30):
                for name, writer in writers.items():
                    writer.post(_event(name, n))
            for writer in writers.values():
                assert writer.flush(30)
            views = received.wait_for(90)
        finally:
            for writer in writers.values():
                writer.stop()
        assert len(views) == 90 and len({v.id for v in views}) == 90
        for name in ("a", "b", None):
            mine = [v.detail["n"] for v in views if v.engine == name]
            assert mine == list(range(30)), name  # each engine's own order
    finally:
        feed.stop()
    assert received.states == [] or received.states[-1][0]


def test_an_earlier_id_committed_after_a_later_one_is_not_skipped(store: Store) -> None:
    """Engine a takes an id and commits late; engine b takes the next id and commits at
    once. A follower reading "after the last id" alone would skip a's event for good.
    (SQLite runs one writer at a time: it cannot happen there.)"""
    if store.backend != "postgresql":
        pytest.skip("SQLite writers take turns: no id is committed out of order")
    received = Received()
    feed = EventFeed(store, received.events, poll_s=0.05)
    feed.start()
    try:
        with store.engine.connect() as slow:
            transaction = slow.begin()
            slow.execute(
                insert(Event).values(
                    ts=datetime.now(UTC), kind="test.late", source="test:a", detail={}, engine="a"
                )
            )
            with StoreWriter.running(store, engine_name="b") as writer:
                writer.execute(_event("b", 1), timeout_s=30)
            (first,) = received.wait_for(1)
            assert first.engine == "b"
            transaction.commit()
        if store.backend == "postgresql":
            with store.engine.begin() as connection:  # the NOTIFY a's writer would send
                connection.execute(
                    text("""SELECT pg_notify('watchfloor_events', '{"engine": "a"}')""")
                )
        views = received.wait_for(2)
        assert [v.kind for v in views] == ["test.event", "test.late"]
        assert views[1].id < views[0].id
    finally:
        feed.stop()


@pytest.mark.postgres
def test_a_follower_cut_off_reconnects_and_catches_up(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the LISTEN connection is PostgreSQL's")
    store = Store(db_url)
    received = Received()
    feed = EventFeed(store, received.events, on_state=received.state)
    feed.start()
    try:
        with StoreWriter.running(store, engine_name="a") as writer:
            writer.execute(_event("a", 0), timeout_s=30)
            received.wait_for(1)
            # The server drops the follower's connection (a restart, a network cut). Only
            # this test's database: another test's follower may listen on the same server.
            with store.engine.begin() as connection:
                killed = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() "
                        "AND datname = current_database()"
                    )
                ).scalar()
            assert killed == 1
            for n in range(1, 6):  # stored while it is away
                writer.execute(_event("a", n), timeout_s=30)
            views = received.wait_for(6)
        assert [v.detail["n"] for v in views] == list(range(6))
        assert any(not connected for connected, _ in received.states)  # it said so
        assert received.states[-1] == (True, None)
    finally:
        feed.stop()
        store.close()


def test_a_feed_whose_read_fails_follows_again_and_the_restart_is_counted(store: Store) -> None:
    """The feed's thread is supervised: a read that fails (here the events table is renamed
    away under it) is said (not connected, the database's words) and counted, and after a
    backoff on the engine's clock the feed follows again from where it was."""
    from engine.clock import SimulatedClock
    from engine.supervise import supervised_health
    from tests.waiting import wait_for

    def rename(old: str, new: str) -> None:
        with store.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    clock = SimulatedClock(datetime.now(UTC))
    received = Received()
    feed = EventFeed(store, received.events, on_state=received.state, clock=clock, poll_s=1.0)
    feed.start()
    try:
        if store.backend == "sqlite":  # it looks every poll_s of the engine's clock
            assert clock.wait_for_waiters(1) and clock.next_deadline_in() == 1.0  # looked once
        rename("events", "events_away")
        if store.backend == "sqlite":
            clock.advance(1.0)
        wait_for(lambda: feed._thread.health().backing_off, what="the feed's backoff")
        assert not feed.connected and feed.problem is not None and "events" in feed.problem
        rename("events_away", "events")
        with StoreWriter.running(store) as writer:
            writer.execute(_event(None, 1), timeout_s=30)
        assert clock.wait_for_waiters(1) and clock.next_deadline_in() == BACKOFF_START_S
        clock.advance(BACKOFF_START_S)
        [view] = received.wait_for(1)
        assert view.detail == {"n": 1}
        wait_for(lambda: feed.connected and feed.problem is None, what="the feed back")
        [row] = [h for h in supervised_health() if h.name == "event-feed" and h.alive]
        assert row.restarts == 1 and not row.backing_off
    finally:
        feed.stop()
    assert not feed._thread.is_alive()
