from __future__ import annotations

import logging
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import OperationalError

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import CameraStatus, CameraStatusChanged
from engine.store import DatabaseError, Store
from engine.store.database import (
    alembic_config,
    create_db_engine,
    current_revision,
    head_revision,
)
from engine.store.models import Camera, Event, Media, SensingNode, Setting, Site
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.store_helpers import sync_site

pytestmark = pytest.mark.sql

TABLES = {"sites", "cameras", "sensing_nodes", "events", "media", "settings", "alembic_version"}
T0 = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


def test_new_database_is_migrated_to_head(empty_db_url: str) -> None:
    store = Store(empty_db_url)
    try:
        assert set(inspect(store.engine).get_table_names()) >= TABLES
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()
    again = Store(empty_db_url)  # opening twice is a no-op upgrade
    assert current_revision(again.engine) == head_revision()
    again.close()


def test_sqlite_runs_in_wal_mode_with_normal_sync_and_busy_timeout(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_connections_opening_a_new_sqlite_file_at_once_all_open_it(tmp_path: Path) -> None:
    """Each engine's first connection asks for WAL. On a new file that switch upgrades a
    shared lock to an exclusive one, and SQLite refused all but one of several connections
    doing it at once with "database is locked", without waiting: about one start in 12 of
    four engines failed. A new file is now created in WAL mode, so none has to switch."""
    failures: list[str] = []
    for attempt in range(150):
        url = f"sqlite:///{tmp_path / f'new-{attempt}.db'}"
        start = threading.Barrier(4)

        def connect(url: str = url, start: threading.Barrier = start) -> None:
            start.wait()
            engine = create_db_engine(url)
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except OperationalError as exc:
                failures.append(str(exc.orig))
            finally:
                engine.dispose()

        threads = [threading.Thread(target=connect) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    made = tmp_path / "new-0.db"
    assert made.read_bytes()[18:20] == b"\x02\x02"  # the header's WAL mark
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir() if "new-0" in path.name) == ["new-0.db"]


def test_site_sync_inserts_updates_and_disables(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    clock = SimulatedClock(T0)
    ids = sync_site(store, load_site(DEMO_SITE), clock)
    assert set(ids.cameras) == {"plaza"}
    with store.sessions() as session:
        site = session.scalars(select(Site)).one()
        assert (site.name, site.geo_lat) == ("Demo plaza", 51.50135)
        assert site.updated_at == T0 and site.updated_at.tzinfo is not None
        assert session.scalar(select(func.count()).select_from(SensingNode)) == 10

    renamed = tmp_path / "demo.toml"
    renamed.write_text(DEMO_SITE.read_text().replace('id = "plaza"', 'id = "gate"'))
    ids2 = sync_site(store, load_site(renamed), clock)
    assert ids2.site_id == ids.site_id
    with store.sessions() as session:
        cameras = {c.key: c.enabled for c in session.scalars(select(Camera))}
    assert cameras == {"plaza": False, "gate": True}
    store.close()


def test_writer_batches_events_with_utc_times_and_camera_links(db_url: str) -> None:
    store = Store(db_url)
    ids = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0))
    bus = EventBus()
    writer = StoreWriter(store)
    writer.register_cameras(ids.site_id, ids.cameras)
    writer.attach(bus)
    writer.start()
    threads = [
        threading.Thread(
            target=lambda n=n: [
                bus.publish(
                    CameraStatusChanged(
                        at=T0 + timedelta(seconds=n * 1000 + i),
                        camera_id="plaza",
                        status=CameraStatus.OFFLINE if i % 2 else CameraStatus.ONLINE,
                        detail=f"{n}/{i}",
                        since=T0,
                    )
                )
                for i in range(250)
            ]
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush()
    writer.stop()
    with store.sessions() as session:
        rows = session.scalars(select(Event).order_by(Event.ts)).all()
    assert len(rows) == 1000 and writer.health().written == 1000
    assert rows[0].ts == T0 and rows[0].ts.tzinfo is not None
    assert {r.kind for r in rows} == {"camera.online", "camera.offline"}
    assert {r.camera_id for r in rows} == {ids.cameras["plaza"]}
    assert rows[0].detail["detail"] == "0/0"
    store.close()


def test_media_and_settings_rows_round_trip(db_url: str) -> None:
    store = Store(db_url)
    with store.transaction() as session:
        session.add(
            Media(kind="clip", path="clips/a.mp4", sha256="0" * 64, size_bytes=10, created_at=T0)
        )
        session.add(Setting(key="retention", value={"clips_days": 30}, updated_at=T0))
    with store.sessions() as session:
        assert session.scalars(select(Media)).one().locked is False
        assert session.get(Setting, "retention").value == {"clips_days": 30}  # type: ignore[union-attr]
    with pytest.raises(Exception, match=r"(?i)check|constraint"), store.transaction() as session:
        session.add(Media(kind="poster", path="x", sha256="0" * 64, size_bytes=1, created_at=T0))
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Media)) == 1
    store.close()


def test_naive_datetimes_are_refused(db_url: str) -> None:
    store = Store(db_url)
    with pytest.raises(Exception, match="naive datetime"), store.transaction() as session:
        session.add(Setting(key="k", value={}, updated_at=datetime(2026, 1, 1)))
        session.flush()
    store.close()


def test_failed_migration_leaves_no_partial_schema(empty_db_url: str) -> None:
    # A foreign "media" table blocks the migration halfway through (after sites/cameras).
    raw = create_engine(empty_db_url)
    with raw.begin() as connection:
        connection.execute(text("CREATE TABLE media (legacy_id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseError, match="cannot migrate database") as info:
        Store(empty_db_url)
    assert "media" in str(info.value)
    assert set(inspect(raw).get_table_names()) == {"media"}
    raw.dispose()


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"these are meeting notes, not a database" * 100)
    with pytest.raises(DatabaseError, match=r"cannot open database .*notes\.db.*not a database"):
        Store(f"sqlite:///{bogus}")
    assert bogus.read_bytes().startswith(b"these are meeting notes")


def test_unreachable_postgres_and_bad_urls_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="cannot open database postgresql"):
        Store("postgresql+psycopg://nobody:secret@127.0.0.1:9/none")
    with pytest.raises(DatabaseError, match="invalid database URL"):
        Store("not a url")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseError, match="cannot create folder"):
        Store(f"sqlite:///{blocker / 'sub' / 'x.db'}")


def test_password_is_hidden_in_errors() -> None:
    with pytest.raises(DatabaseError) as info:
        Store("postgresql+psycopg://nobody:hunter2@127.0.0.1:9/none")
    assert "hunter2" not in str(info.value)


def test_the_migrated_schema_matches_the_models_exactly(empty_db_url: str) -> None:
    """Every table, column, index and foreign key of the models comes from a migration
    (0004's identity columns and keyset indexes, 0005's camera + type index included)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from engine.store.models import Base

    store = Store(empty_db_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    store.close()


def test_the_status_line_names_the_database_in_a_few_words() -> None:
    from engine.store.database import short_url

    long_path = "sqlite:////home/operator/.local/share/watchfloor/watchfloor.db"
    assert short_url(long_path) == "SQLite watchfloor.db"
    assert (
        short_url("postgresql+psycopg://wf:secret@db-host:5432/watchfloor")
        == "PostgreSQL watchfloor on db-host"
    )
    assert "secret" not in short_url("postgresql+psycopg://wf:secret@db-host/watchfloor")


def test_engines_starting_together_on_a_new_database_both_migrate_it(empty_db_url: str) -> None:
    """Engines of a shared site started at once: each opens (and migrates) the same new
    database; before the migration lock one failed with a duplicate alembic_version type."""
    import threading

    start = threading.Barrier(4)
    outcomes: list[str] = []

    def open_store() -> None:
        start.wait()
        try:
            Store(empty_db_url).close()
        except DatabaseError as exc:
            outcomes.append(str(exc))
        else:
            outcomes.append("ok")

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 4
    store = Store(empty_db_url)
    assert current_revision(store.engine) == head_revision()
    store.close()


@pytest.mark.hostile(12)
def test_a_command_started_while_another_process_writes_opens_the_store_at_once(
    tmp_path: Path,
) -> None:
    """Another connection holds SQLite's write lock (an engine committing a batch, a long
    import): a command opening the store found the schema at head but still took the write
    lock to "migrate", and after the busy timeout exited 3, "cannot migrate database …:
    database is locked". A schema at head needs no lock: the store opens and reads."""
    path = tmp_path / "busy.db"
    Store(f"sqlite:///{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = Store(f"sqlite:///{path}")
        with store.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Setting)) == 0
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.slow  # one busy timeout (5 s) passes before the lock is released
@pytest.mark.hostile(12)
def test_an_upgrade_waits_for_another_process_write_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database one revision behind, its write lock held by another connection: the
    upgrade says it waits and migrates once the lock is released (here: as soon as it
    says so), instead of failing after one busy timeout."""
    path = tmp_path / "old.db"
    old = create_db_engine(f"sqlite:///{path}")
    config = alembic_config()
    with old.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        previous = ScriptDirectory.from_config(config).get_revision(head_revision())
        assert isinstance(previous.down_revision, str)
        command.upgrade(config, previous.down_revision)
    old.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    class ReleaseWhenWaiting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting up to" in record.getMessage() and holder.in_transaction:
                holder.execute("ROLLBACK")

    release = ReleaseWhenWaiting()
    logging.getLogger("engine.store.database").addHandler(release)
    try:  # its first attempt fails after the busy timeout (here 0.3 s; 5 s by default)
        store = Store(f"sqlite:///{path}", busy_timeout_ms=300)
    finally:
        logging.getLogger("engine.store.database").removeHandler(release)
        holder.close()
    assert current_revision(store.engine) == head_revision()
    store.close()
