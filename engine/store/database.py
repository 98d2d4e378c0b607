"""Opening and migrating the database: SQLite (default, WAL) or PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import REAL_CLOCK
from engine.data_dirs import (
    create_private_file,
    data_dir,
    make_private,
    private_dir,
    secure_data_dir,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
MIGRATION_WAIT_S = 120.0  # how long an upgrade waits for another process's write lock
MIGRATION_LOCK = 0x5746_0001  # advisory lock key (first of two) held while migrating
SITE_SYNC_LOCK = 0x5746_0002  # … and while a site is mirrored from its file (SyncSite)

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated. The message is meant for the operator."""


def default_db_url() -> str:
    """``WATCHFLOOR_DB_URL`` if set, else a SQLite file in the user-data dir."""
    return os.environ.get("WATCHFLOOR_DB_URL") or f"sqlite:///{data_dir() / 'watchfloor.db'}"


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages and the status bar."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def short_url(url: str) -> str:
    """What a status line says of the database: ``SQLite watchfloor.db`` or ``PostgreSQL
    watchfloor on db-host`` (the whole URL, password hidden, is :func:`display_url`)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"SQLite {Path(parsed.database).name if parsed.database else 'in memory'}"
    name = "PostgreSQL" if backend == "postgresql" else backend
    return f"{name} {parsed.database or ''} on {parsed.host or 'localhost'}".replace("  ", " ")


def create_db_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An Engine for ``url``. SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout
    (``busy_timeout_ms``: how long a statement waits for another connection's write lock
    before "database is locked"), foreign keys and real transactions around DDL (so a failed
    migration leaves nothing)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        db_file = _sqlite_file(parsed)
        if db_file is not None:
            try:
                _private_db_folder(db_file.parent)
            except OSError as exc:
                raise DatabaseError(f"cannot create folder for database {db_file}: {exc}") from None
            _private_sqlite_files(db_file)
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_ms / 1000})
        event.listen(
            engine, "connect", functools.partial(_configure_sqlite_connection, busy_timeout_ms)
        )
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    if parsed.drivername == "postgresql":  # psycopg (3) is the driver Watchfloor ships
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=_connect_args(parsed))
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"unsupported database URL {display_url(url)}: {exc}") from None


def _sqlite_file(parsed: Any) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database and for a URI
    filename (``sqlite:///file:...?uri=true``), which SQLite resolves itself."""
    database: str | None = parsed.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:") and parsed.query.get("uri") in ("true", "1"):
        return None
    return Path(database)


def _private_db_folder(folder: Path) -> None:
    """Create the database's folder 0700; the data dir, if that is where it lives, is also
    made private when it exists already."""
    if folder.resolve() == data_dir().resolve():
        secure_data_dir(folder)
    else:
        private_dir(folder)


def _private_sqlite_files(db_file: Path) -> None:
    """Make the database file 0600 before SQLite opens it: a new one is created so (SQLite
    gives its -wal and -shm files the database file's mode), and one an older version
    left readable to others is made private with its -wal and -shm. A file that cannot be
    created or changed is left to SQLite, which reports what is wrong with it."""
    if not db_file.exists():
        try:
            _create_wal_database(db_file)
        except (OSError, sqlite3.Error):
            return
    for suffix in ("", "-wal", "-shm"):
        path = db_file.with_name(db_file.name + suffix)
        try:
            make_private(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot make database file %s private: %s", path, exc)


def _create_wal_database(db_file: Path) -> None:
    """Create the new database file ``db_file`` 0600 and already in WAL mode, unless it
    exists: it is made under a temporary name and linked into place, which fails harmlessly
    when another thread or process got there first. Every connection's ``journal_mode=WAL``
    then finds WAL set. Switching a new file to WAL takes an exclusive lock from a shared
    one, and SQLite answers "database is locked" at once, without waiting, to all but one
    of several connections doing that together (engines started at once on a new file).
    Where the file system has no hard links, the file is left empty for SQLite as before."""
    handle, name = tempfile.mkstemp(dir=db_file.parent, prefix=f".{db_file.name}.", suffix=".new")
    os.close(handle)
    made = Path(name)
    try:
        connection = sqlite3.connect(made)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()
        try:
            os.link(made, db_file)
        except FileExistsError:
            pass
        except OSError:
            create_private_file(db_file)
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                made.with_name(made.name + suffix).unlink()


def _connect_args(parsed: Any) -> dict[str, Any]:
    return {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}


def _configure_sqlite_connection(
    busy_timeout_ms: int, dbapi_connection: sqlite3.Connection, _record: Any
) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so DDL is transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # "IMMEDIATE" (migrations): take the write lock first, waiting out another writer,
    # rather than fail when a read lock cannot be upgraded.
    mode = connection.get_execution_options().get("sqlite_begin", "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision of the migrations this program ships: read once per process (it
    parses every revision script, ~12 ms, and every store that opens asks)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, *, wait_s: float = MIGRATION_WAIT_S) -> None:
    """Bring the schema to the newest revision inside one transaction: on failure nothing
    of the upgrade remains and :class:`DatabaseError` says why.

    A schema already at the newest revision takes no lock at all (a plain read, which WAL
    lets run beside another process's writer), so a command started while another holds the
    write lock goes on and its writes wait in the store writer as any others do. An upgrade
    that finds the write lock held waits for it up to ``wait_s`` seconds, trying again after
    each busy timeout, before giving up."""
    try:
        if current_revision(engine) == head_revision():
            return
    except (SQLAlchemyError, sqlite3.Error, OSError):
        pass  # told below, by the upgrade itself
    deadline = REAL_CLOCK.monotonic() + wait_s
    waited = False
    while True:
        try:
            _upgrade_locked(engine)
            return
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            reason = getattr(exc, "orig", None) or exc
            if _write_lock_busy(reason) and REAL_CLOCK.monotonic() < deadline:
                if not waited:
                    log.warning(
                        "database %s: another process holds the write lock; waiting up to "
                        "%.0f s to migrate",
                        display_url(str(engine.url)),
                        wait_s,
                    )
                waited = True
                continue  # each attempt already waited the busy timeout
            raise DatabaseError(
                f"cannot migrate database {display_url(str(engine.url))}: {reason}"
            ) from exc


def _upgrade_locked(engine: Engine) -> None:
    config = alembic_config()
    with (
        engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection,
        connection.begin(),
    ):
        if engine.dialect.name == "postgresql":
            # Engines of a shared site starting together migrate one at a time (the
            # others then find the schema at head); SQLite's file lock does this itself.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": MIGRATION_LOCK}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _write_lock_busy(reason: object) -> bool:
    """Whether a failure is SQLite's "database is locked" (another process's writer held
    the lock past the busy timeout), which waiting longer cures."""
    return isinstance(reason, sqlite3.OperationalError) and "locked" in str(reason)


class Store:
    """An opened, migrated database and a session factory for it.

    Sessions are per thread: the store writer has its own, readers make theirs.
    """

    def __init__(
        self, url: str, *, migrate: bool = True, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
    ) -> None:
        """``busy_timeout_ms``: on SQLite, how long a statement waits for another
        connection's write lock before it fails (and the store writer tries again)."""
        self.url = url
        self.engine = create_db_engine(url, busy_timeout_ms=busy_timeout_ms)
        try:
            with self.engine.connect() as connection:
                inspect(connection).get_table_names()
        except (SQLAlchemyError, sqlite3.Error) as exc:
            self.engine.dispose()
            reason = getattr(exc, "orig", None) or exc
            raise DatabaseError(f"cannot open database {display_url(url)}: {reason}") from exc
        if migrate:
            try:
                upgrade(self.engine)
            except DatabaseError:
                self.engine.dispose()
                raise
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """:meth:`transaction` for work that reads, then writes, outside the store writer
        (the lease statements of a shared site): on SQLite it takes the write lock at BEGIN,
        waiting for another process's writer up to the busy timeout, instead of failing
        with "database is locked" when its read lock cannot be upgraded."""
        with (
            self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection,
            Session(bind=connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def close(self) -> None:
        self.engine.dispose()
