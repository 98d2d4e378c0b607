"""The one write path: ordered retries, journal spill and replay, fatal stops, isolation."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import CameraStatus, CameraStatusChanged
from engine.media import MediaFile
from engine.store import Store
from engine.store.commands import InsertEvent, InsertMedia, PutSetting, StoreCommand
from engine.store.database import alembic_config
from engine.store.models import Event, Media, Setting
from engine.store.writer import (
    JOURNAL_SETTING_PREFIX,
    StoreUnavailableError,
    StoreWriter,
    classify_failure,
)
from resources import DEMO_SITE
from tests.store_helpers import sync_site

pytestmark = pytest.mark.sql

T0 = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


def _status(i: int) -> CameraStatusChanged:
    return CameraStatusChanged(
        at=T0 + timedelta(seconds=i),
        camera_id="plaza",
        status=CameraStatus.ONLINE if i % 2 else CameraStatus.OFFLINE,
        detail=str(i),
        since=T0,
    )


def _count(store: Store, model: type) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class WriteLock:
    """Another connection holding the database's write lock from :meth:`take` until
    :meth:`release` (the test releases it once it has seen what it waited for)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._locked = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, name="write-lock-holder")

    def _hold(self) -> None:
        connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self._locked.set()
            self._release.wait(60)  # a fail-safe: the test releases it
            connection.execute("COMMIT")
        finally:
            connection.close()

    def take(self) -> WriteLock:
        self._thread.start()
        assert self._locked.wait(10)
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join()


BUSY_MS = 300  # the stores' busy timeout here (5 s by default): a failed attempt comes soon


def _until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s  # a fail-safe, not a timing the test relies on
    while not condition():
        assert time.monotonic() < deadline, "not within the fail-safe"
        time.sleep(0.01)


@pytest.mark.slow
def test_events_written_while_another_connection_holds_the_lock_are_all_kept(
    tmp_path: Path,
) -> None:
    """Before: the writer dropped the whole batch on "database is locked" (12 of 43 events
    lost during a 14 s lock). Now it retries in order until the lock goes away."""
    db = tmp_path / "locked.db"
    store = Store(f"sqlite:///{db}", busy_timeout_ms=BUSY_MS)
    store.engine.dispose()
    ids = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0))
    bus = EventBus()
    writer = StoreWriter(store)
    writer.register_cameras(ids.site_id, ids.cameras)
    writer.attach(bus)
    writer.start()
    # Held until an attempt has outwaited the busy timeout, failed and been tried again.
    holder = WriteLock(db).take()
    for i in range(43):
        bus.publish(_status(i))
    _until(lambda: writer.health().retried >= 2)
    holder.release()
    assert writer.flush(30)
    writer.stop()
    health = writer.health()
    assert health.retried >= 1 and health.failed == 0 and health.fatal is None
    with store.sessions() as session:
        details = [e.detail["detail"] for e in session.scalars(select(Event).order_by(Event.id))]
    assert details == [str(i) for i in range(43)]  # nothing lost, publication order kept
    store.close()


@pytest.mark.slow
def test_a_full_queue_spills_to_the_journal_and_everything_is_written_back_in_order(
    tmp_path: Path,
) -> None:
    db = tmp_path / "spill.db"
    store = Store(f"sqlite:///{db}", busy_timeout_ms=BUSY_MS)
    journal = tmp_path / "journal"
    writer = StoreWriter(store, journal_dir=journal, queue_max=5, batch_max=4)
    writer.start()
    holder = WriteLock(db).take()
    for i in range(60):
        writer.post(_insert(i))
    assert writer.health().spilled >= 50  # memory held 5 at most; the rest went to disk
    assert list(journal.glob("writer-*.jsonl"))
    holder.release()
    assert writer.flush(60)
    writer.stop()
    with store.sessions() as session:
        kinds = [e.detail["n"] for e in session.scalars(select(Event).order_by(Event.id))]
        progress = session.scalars(
            select(Setting).where(Setting.key.startswith(JOURNAL_SETTING_PREFIX))
        ).all()
    assert sorted(kinds) == list(range(60)) and len(kinds) == 60
    assert progress == [] and not list(journal.glob("writer-*.jsonl"))  # journal cleaned up
    store.close()


def _insert(n: int) -> InsertEvent:
    return InsertEvent(
        ts=T0 + timedelta(seconds=n), kind="test.row", source="test", detail={"n": n}
    )


def test_a_journal_left_by_a_dead_process_is_replayed_exactly_once(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'replay.db'}")
    journal = tmp_path / "journal"
    journal.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)
    path = journal / f"writer-{dead_pid}-deadbeef.jsonl"
    lines = [json.dumps(_insert(n).to_json()) for n in range(10)]
    media = InsertMedia(
        file=MediaFile("clip", "clips/x.mp4", "0" * 64, 5),
        created_at=T0,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=5),
    )
    lines.append(json.dumps(media.to_json()))
    path.write_text("\n".join(lines) + "\n" + '{"type": "event", "ts": "2026-')  # torn tail
    # A first replay that was cut off after 4 rows had recorded its progress in the store.
    first_four = sum(len(line) + 1 for line in lines[:4])
    with StoreWriter.running(store) as w:
        for n in range(4):
            w.execute(_insert(n))
        w.execute(
            PutSetting(key=JOURNAL_SETTING_PREFIX + path.name, value={"offset": first_four}, at=T0)
        )
    writer = StoreWriter(store, journal_dir=journal, batch_max=3)  # several batches
    writer.start()
    assert writer.flush(30)
    writer.stop()
    with store.sessions() as session:
        numbers = [e.detail["n"] for e in session.scalars(select(Event).order_by(Event.id))]
        clip = session.scalars(select(Media)).one()
    assert numbers == list(range(10))  # 0-3 once, not twice; 4-9 from the journal
    assert (clip.path, clip.ended_at) == ("clips/x.mp4", T0 + timedelta(seconds=5))
    assert not path.exists()
    store.close()


def test_a_faulty_command_fails_alone_and_the_rest_of_its_batch_is_written(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'isolate.db'}")
    with StoreWriter.running(store) as writer:
        clip = MediaFile("clip", "clips/same.mp4", "0" * 64, 1)
        futures = [writer.submit(_insert(0)), writer.submit(InsertMedia(file=clip, created_at=T0))]
        futures.append(writer.submit(InsertMedia(file=clip, created_at=T0)))  # same path: unique
        futures.append(writer.submit(_insert(1)))
        assert isinstance(futures[0].result(10), int) and isinstance(futures[1].result(10), int)
        with pytest.raises(Exception, match=r"(?i)unique"):
            futures[2].result(10)
        assert isinstance(futures[3].result(10), int)
        assert writer.health().failed == 1
    assert _count(store, Event) == 2 and _count(store, Media) == 1
    store.close()


def test_a_read_only_database_stops_the_writer_with_a_clear_reason(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    Store(f"sqlite:///{db}").close()
    store = _read_only_store(db)
    stopped: list[str] = []
    writer = StoreWriter(store, journal_dir=tmp_path / "journal")
    writer.on_fatal(stopped.append)
    writer.start()
    with pytest.raises(StoreUnavailableError, match=r"(?i)read.?only"):
        writer.execute(_insert(0), timeout_s=30)
    writer.post(_insert(1))  # refused after the failure: kept in the journal, not dropped
    writer.stop()
    assert stopped and "readonly" in stopped[0].replace("-", "").replace(" ", "").lower()
    assert writer.health().fatal is not None
    assert list((tmp_path / "journal").glob("writer-*.jsonl"))
    store.close()


def _read_only_store(db: Path) -> Store:
    """A store on ``db`` whose connections may read but not write (as with a file the
    process may not write, which root cannot simulate with chmod)."""
    store = Store(f"sqlite:///{db}", migrate=False)
    from sqlalchemy import event

    def _query_only(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    event.listen(store.engine, "connect", _query_only)
    store.engine.dispose()
    return store


def test_failures_are_classified(tmp_path: Path) -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert classify_failure(locked) == "transient"
    assert classify_failure(sqlite3.OperationalError("attempt to write a readonly database")) == (
        "permanent"
    )
    assert classify_failure(sqlite3.DatabaseError("database disk image is malformed")) == (
        "permanent"
    )
    assert classify_failure(sqlite3.IntegrityError("UNIQUE constraint failed")) == "command"
    assert classify_failure(OSError(28, "No space left on device")) == "permanent"
    assert classify_failure(ValueError("bad")) == "command"


@pytest.mark.postgres
def test_postgres_server_going_away_and_back_loses_nothing(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    store = Store(db_url)
    writer = StoreWriter(store)
    writer.start()
    writer.execute(_insert(0))
    # Every connection of the pool is killed by the server (as when it restarts).
    admin = Store(db_url, migrate=False)
    with admin.engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        connection.commit()
    admin.close()
    for n in range(1, 30):
        writer.post(_insert(n))
    assert writer.flush(60)
    writer.stop()
    with store.sessions() as session:
        numbers = [e.detail["n"] for e in session.scalars(select(Event).order_by(Event.id))]
    assert numbers == list(range(30))
    store.close()


def test_migration_0004_backfills_identity_columns_and_renames_kinds(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0003")
    raw = sqlite3.connect(tmp_path / "legacy.db")
    raw.executescript(
        """
        INSERT INTO sites (id, name, geo_lat, geo_lon, updated_at)
            VALUES (1, 's', 0, 0, '2026-01-01');
        INSERT INTO cameras (id, site_id, key, name, url, source_kind, enabled)
            VALUES (7, 1, 'gate', 'Gate', 'x', 'file', 1);
        INSERT INTO persons (id, public_id, appearances) VALUES (3, 'Person_0000000A', 1);
        INSERT INTO events (ts, kind, source, camera_id, detail) VALUES
            ('2026-01-01 10:00:00', 'person_appeared', 'camera:gate', 7, '{"track_id": 4}'),
            ('2026-01-01 10:00:05', 'face_recognised', 'camera:gate', NULL,
             '{"track_id": 4, "person_id": "Person_0000000A"}'),
            ('2026-01-01 10:00:09', 'person_left', 'camera:gate', 7, '{"track_id": 4}'),
            ('2026-01-01 12:00:00', 'person_appeared', 'camera:gate', 7, '{"track_id": 4}');
        """
    )
    raw.commit()
    raw.close()
    store = Store(url)
    with store.sessions() as session:
        rows = session.execute(
            select(Event.kind, Event.camera_id, Event.track_id, Event.person_id).order_by(Event.ts)
        ).all()
    assert rows == [
        ("person.appeared", 7, 4, 3),
        ("face.recognised", 7, 4, 3),
        ("person.left", 7, 4, 3),
        ("person.appeared", 7, 4, None),  # a later run's track 4: not the same person
    ]
    store.close()


def test_journal_files_of_live_processes_are_left_alone(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'live.db'}")
    journal = tmp_path / "journal"
    journal.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = journal / f"writer-{sleeper.pid}-cafe0000.jsonl"
        path.write_text(json.dumps(_insert(1).to_json()) + "\n")
        with StoreWriter.running(store, journal_dir=journal) as writer:
            assert writer.flush(10)
        assert path.exists() and _count(store, Event) == 0
    finally:
        sleeper.kill()
        sleeper.wait()
    store.close()


def test_a_recognised_face_names_the_earlier_and_later_events_of_its_track(
    tmp_path: Path,
) -> None:
    from engine.store.person_models import Person

    store = Store(f"sqlite:///{tmp_path / 'track.db'}")
    ids = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0))
    camera = ids.cameras["plaza"]
    with StoreWriter.running(store) as writer:
        writer.execute(_TestPerson())
        rows = [
            ("person.appeared", 5, None),
            ("person.appeared", 6, None),
            ("face.recognised", 5, "Person_0000000B"),
            ("person.left", 5, "Person_0000000B"),
            ("person.left", 6, None),
        ]
        for n, (kind, track, person) in enumerate(rows):
            writer.execute(
                InsertEvent(
                    ts=T0 + timedelta(seconds=n),
                    kind=kind,
                    source="camera:plaza",
                    detail={},
                    camera_id=camera,
                    track_id=track,
                    person=person,
                )
            )
    with store.sessions() as session:
        named = session.execute(
            select(Event.kind, Event.track_id, Person.public_id)
            .outerjoin(Person, Person.id == Event.person_id)
            .order_by(Event.id)
        ).all()
    assert [tuple(r) for r in named] == [
        ("person.appeared", 5, "Person_0000000B"),
        ("person.appeared", 6, None),
        ("face.recognised", 5, "Person_0000000B"),
        ("person.left", 5, "Person_0000000B"),
        ("person.left", 6, None),
    ]
    store.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class _TestPerson(StoreCommand):
    """Creates Person_0000000B (a command, so it goes through the writer like the rest)."""

    def apply(self, session: Session) -> None:
        from engine.store.person_models import Person

        session.add(Person(public_id="Person_0000000B", appearances=1))


def test_a_writer_stopped_before_it_started_starts_and_writes(tmp_path: Path) -> None:
    """An engine whose start was refused (another engine holds the data dir) is stopped,
    then started again: its writer's stop came before its start and must not still stand
    (it did: the new thread ended with its first empty queue, and the next command found
    "store writer is not running", or waited for a thread that had gone)."""
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    writer = StoreWriter(store, journal_dir=tmp_path / "journal")
    writer.stop()  # never started: nothing to stop
    writer.start()
    try:
        for n in range(20):  # one at a time: the queue empties between them
            writer.execute(PutSetting(key=f"test.{n}", value={"n": n}, at=T0), timeout_s=10)
        with store.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Setting)) >= 20
    finally:
        writer.stop()
        store.close()
