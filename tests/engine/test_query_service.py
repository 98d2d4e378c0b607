"""The query service: requests on named pool threads, the newest per channel wins, errors
are delivered, actions always run, and closing leaves no thread behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from engine.history.events import EventFilter, EventPage, EventPageRequest
from engine.history.query_service import (
    THREAD_NAME_PREFIX,
    CallRequest,
    QueryRequest,
    QueryResult,
    QueryService,
)
from engine.store import Store
from engine.store.models import Event

WAIT_S = 10.0  # generous bound for a pool thread to get to work on a loaded machine


@dataclass(frozen=True)
class Gate:
    """A request that blocks until released (by a test), recording that it ran."""

    name: str
    release: threading.Event = field(default_factory=threading.Event, compare=False)
    started: threading.Event = field(default_factory=threading.Event, compare=False)

    def run(self, store: Any) -> str:
        self.started.set()
        assert self.release.wait(WAIT_S), f"{self.name} was never released"
        return self.name


@dataclass(frozen=True)
class Value:
    value: str

    def run(self, store: Any) -> str:
        return self.value


@dataclass(frozen=True)
class Fails:
    def run(self, store: Any) -> str:
        raise ValueError("no such table: events")


class Inbox:
    """Collects delivered results and the thread each arrived on."""

    def __init__(self) -> None:
        self.results: list[QueryResult[Any]] = []
        self.threads: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, result: QueryResult[Any]) -> None:
        with self._changed:
            self.results.append(result)
            self.threads.append(threading.current_thread().name)
            self._changed.notify_all()

    def wait_for(self, count: int) -> list[QueryResult[Any]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.results) >= count, WAIT_S)
            return list(self.results)

    def values(self) -> list[Any]:
        return [result.value for result in self.results]


@pytest.fixture
def service() -> Iterator[QueryService]:
    # The requests here ignore the store; a real one is used where the store is read.
    opened = QueryService(store=None, workers=1)  # type: ignore[arg-type]
    yield opened
    opened.close()


def query_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME_PREFIX)]


def test_requests_run_on_named_pool_threads_and_report_there(service: QueryService) -> None:
    inbox = Inbox()
    generation = service.submit("events.page", Value("page 1"), inbox)
    (result,) = inbox.wait_for(1)
    assert result == QueryResult("events.page", Value("page 1"), generation, value="page 1")
    assert result.ok and generation == 1
    assert inbox.threads[0].startswith("query-")
    assert isinstance(Value("x"), QueryRequest)


def test_a_new_request_cancels_the_pending_one_and_drops_the_running_ones_result(
    service: QueryService,
) -> None:
    inbox = Inbox()
    running, queued = Gate("running"), Gate("queued")
    service.submit("events.page", running, inbox)
    assert running.started.wait(WAIT_S)
    service.submit("events.page", queued, inbox)  # waits for the only worker
    newest = service.submit("events.page", Value("newest"), inbox)
    queued.release.set()
    running.release.set()  # finishes after two newer requests were made: dropped
    (result,) = inbox.wait_for(1)
    assert result.value == "newest" and result.generation == newest == 3
    assert not queued.started.is_set()  # cancelled before it ever ran
    assert service.superseded == 2
    assert service.is_current("events.page", newest)
    assert not service.is_current("events.page", 1)


def test_a_slow_old_answer_never_overwrites_a_newer_one() -> None:
    service = QueryService(store=None, workers=2)  # type: ignore[arg-type]
    try:
        inbox = Inbox()
        slow = Gate("slow old filter")
        service.submit("events.page", slow, inbox)
        assert slow.started.wait(WAIT_S)
        service.submit("events.page", Value("new filter"), inbox)
        inbox.wait_for(1)
        slow.release.set()
        service.submit("other", Value("sentinel"), inbox)  # runs after slow ends (or beside)
        inbox.wait_for(2)
        service.close()  # waits for the slow one to end
        assert sorted(inbox.values()) == ["new filter", "sentinel"]
    finally:
        service.close()


def test_channels_are_independent(service: QueryService) -> None:
    inbox = Inbox()
    service.submit("events.page", Value("page"), inbox)
    service.submit("events.kinds", Value("kinds"), inbox)
    inbox.wait_for(2)
    assert sorted(inbox.values()) == ["kinds", "page"]


def test_errors_are_delivered_not_raised(service: QueryService) -> None:
    inbox = Inbox()
    service.submit("events.page", Fails(), inbox)
    (result,) = inbox.wait_for(1)
    assert not result.ok and result.value is None
    assert isinstance(result.error, ValueError) and "no such table" in str(result.error)

    def broken_receiver(_result: QueryResult[Any]) -> None:
        raise RuntimeError("receiver bug")

    service.submit("events.page", Value("x"), broken_receiver)  # logged, pool survives
    service.submit("events.page", Value("after"), inbox)
    assert inbox.wait_for(2)[-1].value == "after"


def test_actions_always_run_and_report_even_on_a_busy_channel(service: QueryService) -> None:
    inbox = Inbox()
    calls: list[str] = []
    gate = Gate("listing")
    service.submit("people", gate, inbox)
    assert gate.started.wait(WAIT_S)
    for name in ("rename", "merge"):
        service.submit_action("people", lambda n=name: calls.append(n) or n, inbox, name=name)

    def erase() -> str:
        raise PermissionError("database is read-only")

    service.submit_action("people", erase, inbox, name="erase")
    gate.release.set()
    results = inbox.wait_for(4)  # one worker: in submission order
    assert calls == ["rename", "merge"]
    # The listing's own answer is kept: actions never supersede reads.
    assert [r.value for r in results[:3]] == ["listing", "rename", "merge"]
    assert isinstance(results[3].request, CallRequest) and results[3].request.name == "erase"
    assert isinstance(results[3].error, PermissionError)


def test_close_stops_every_thread_and_refuses_new_work() -> None:
    before = set(query_threads())
    service = QueryService(store=None, workers=2)  # type: ignore[arg-type]
    inbox = Inbox()
    gate = Gate("running at close")
    service.submit("a", gate, inbox)
    service.submit("b", Value("b"), inbox)
    assert gate.started.wait(WAIT_S)
    inbox.wait_for(1)
    threading.Timer(0.05, gate.release.set).start()
    service.close()
    assert set(query_threads()) <= before  # none of ours left
    assert inbox.values() == ["b"]  # the answer that came after close was dropped
    with pytest.raises(RuntimeError, match="closed"):
        service.submit("a", Value("late"), inbox)
    service.close()  # twice is fine


def test_event_pages_through_the_service_on_a_real_store(db_url: str) -> None:
    store = Store(db_url)
    service = QueryService(store)
    try:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        with store.transaction() as session:
            session.execute(
                insert(Event),
                [
                    {
                        "ts": t0 + timedelta(seconds=i),
                        "kind": "camera.online",
                        "source": "engine",
                        "detail": {},
                    }
                    for i in range(30)
                ],
            )
        inbox = Inbox()
        service.submit("events.page", EventPageRequest(EventFilter(), None, 20), inbox)
        first = inbox.wait_for(1)[0].value
        assert isinstance(first, EventPage) and len(first.rows) == 20
        assert first.next_cursor is not None
        service.submit("events.page", EventPageRequest(EventFilter(), first.next_cursor, 20), inbox)
        second = inbox.wait_for(2)[1].value
        assert len(second.rows) == 10 and second.next_cursor is None
        assert {r.id for r in first.rows}.isdisjoint(r.id for r in second.rows)
        assert CallRequest(lambda: 3).run(store) == 3
    finally:
        service.close()
        store.close()
