"""The store writer announces history events only once they are stored: after the commit,
with their database ids, in commit order, never for a write that failed."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import CameraStatus, CameraStatusChanged
from engine.media import MediaFile
from engine.store import Store
from engine.store.commands import InsertEvent, InsertMedia, StoreCommand
from engine.store.event_views import EventsStored, EventView
from engine.store.models import Event
from engine.store.writer import StoreUnavailableError, StoreWriter
from resources import DEMO_SITE
from tests.store_helpers import sync_site
from tests.waiting import wait_for

pytestmark = pytest.mark.sql

T0 = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
PERSON = "Person_000000AB"


@dataclass(frozen=True, slots=True, kw_only=True)
class _AddPerson(StoreCommand):
    """Creates :data:`PERSON`, named Ada (through the writer, as every write goes)."""

    def apply(self, session: Session) -> None:
        from engine.store.person_models import Person

        session.add(Person(public_id=PERSON, name="Ada", appearances=1))


class Announcements:
    """Records every :class:`EventsStored` and, on the writer thread as it is announced,
    what a session of another connection pool reads of each announced id."""

    def __init__(self, bus: EventBus, reader: Store) -> None:
        self.batches: list[tuple[EventView, ...]] = []
        self.seen_stored: list[tuple[int, str | None]] = []  # (id, kind read back)
        self.threads: set[str] = set()
        self._reader = reader
        self._lock = threading.Lock()
        bus.subscribe(EventsStored, self._on_events_stored)

    def _on_events_stored(self, event: EventsStored) -> None:
        with self._reader.sessions() as session:
            found = [
                (view.id, session.scalar(select(Event.kind).where(Event.id == view.id)))
                for view in event.views
            ]
        with self._lock:
            self.batches.append(event.views)
            self.seen_stored.extend(found)
            self.threads.add(threading.current_thread().name)

    def ids(self) -> list[int]:
        with self._lock:
            return [view.id for batch in self.batches for view in batch]

    def views(self) -> list[EventView]:
        with self._lock:
            return [view for batch in self.batches for view in batch]


def _status(n: int) -> CameraStatusChanged:
    return CameraStatusChanged(
        at=T0 + timedelta(seconds=n),
        camera_id="plaza",
        status=CameraStatus.ONLINE,
        detail=f"status {n}",
        since=T0,
    )


def test_events_are_announced_after_their_commit_with_ids_person_and_clip(
    store: Store, db_url: str
) -> None:
    site = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0))
    plaza = site.cameras["plaza"]
    reader = Store(db_url, migrate=False)  # its own pool: sees only what was committed
    bus = EventBus()
    announced = Announcements(bus, reader)
    writer = StoreWriter(store)
    writer.register_cameras(site.site_id, site.cameras)
    writer.attach(bus)
    writer.start()
    try:
        writer.execute(_AddPerson())
        clip = MediaFile("clip", "clips/plaza/a.mp4", "0" * 64, 1)
        writer.execute(
            InsertMedia(
                file=clip,
                created_at=T0,
                camera_id=plaza,
                started_at=T0,
                ended_at=T0 + timedelta(seconds=8),
            )
        )
        assert announced.batches == []  # a clip is no history event
        for n in range(3):  # on the bus, as the cameras publish them
            bus.publish(_status(n))
        assert writer.flush(30)
        seen = writer.execute(
            InsertEvent(
                ts=T0 + timedelta(seconds=30),  # after the clip: nothing covers it
                kind="face.recognised",
                source="camera:plaza",
                detail={"name": "Ada"},
                camera_id=plaza,
                track_id=4,
                person=PERSON,
            )
        )
        wait_for(lambda: seen in announced.ids(), what="the face's announcement")
    finally:
        writer.stop()

    with store.sessions() as session:
        rows = session.execute(select(Event.id, Event.kind).order_by(Event.id)).all()
    assert announced.ids() == [row.id for row in rows]  # each once, in commit order
    assert all(event_id > 0 for event_id in announced.ids())
    # Every id was readable, with its kind, by another pool when it was announced.
    assert announced.seen_stored == [(row.id, row.kind) for row in rows]
    assert announced.threads == {"store-writer"}
    statuses = announced.views()[:3]
    assert [v.detail["detail"] for v in statuses] == ["status 0", "status 1", "status 2"]
    first = statuses[0]
    assert (first.kind, first.camera, first.ts) == ("camera.online", "plaza", T0)
    assert (first.clip_path, first.clip_offset_s) == ("clips/plaza/a.mp4", 0.0)
    assert statuses[2].clip_offset_s == pytest.approx(2.0)
    face = announced.views()[-1]
    assert face.id == seen and face.track_id == 4
    assert (face.person, face.person_public_id) == ("Ada", PERSON)
    assert face.clip_path is None and face.clip_offset_s is None
    reader.close()


def test_a_failed_write_announces_nothing_and_a_split_batch_only_what_it_stored(
    store: Store, db_url: str
) -> None:
    reader = Store(db_url, migrate=False)
    bus = EventBus()
    announced = Announcements(bus, reader)
    with StoreWriter.running(store) as writer:
        writer.attach(bus)
        # One batch: its middle command cannot be written (its detail is no JSON), so the
        # batch is rolled back and re-applied one command per transaction.
        futures = [
            writer.submit(_insert(0)),
            writer.submit(_insert(1, detail={"frame": object()})),
            writer.submit(_insert(2)),
        ]
        good = [futures[0].result(30), futures[2].result(30)]
        with pytest.raises(Exception, match="JSON"):
            futures[1].result(30)
        assert writer.flush(30)
    assert announced.ids() == good
    assert [len(batch) for batch in announced.batches] == [1, 1]  # their own commits
    assert announced.seen_stored == [(good[0], "test.row"), (good[1], "test.row")]
    reader.close()


def test_nothing_is_announced_when_the_store_refuses_the_write(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import event as sa_event

    db = tmp_path / "ro.db"
    Store(f"sqlite:///{db}").close()
    store = Store(f"sqlite:///{db}", migrate=False)

    def _query_only(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    sa_event.listen(store.engine, "connect", _query_only)
    store.engine.dispose()
    bus = EventBus()
    announced: list[EventsStored] = []
    bus.subscribe(EventsStored, announced.append)
    writer = StoreWriter(store)
    writer.attach(bus)
    writer.start()
    with pytest.raises(StoreUnavailableError):
        writer.execute(_insert(0), timeout_s=30)
    writer.stop()
    assert announced == []
    store.close()


def _insert(n: int, detail: dict[str, object] | None = None) -> InsertEvent:
    return InsertEvent(
        ts=T0 + timedelta(seconds=n),
        kind="test.row",
        source="test",
        detail={"n": n} if detail is None else detail,
    )
