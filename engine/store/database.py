"""Opening and migrating the database: SQLite (default, WAL) or PostgreSQL by URL."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine.paths import data_dir

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000


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


def create_db_engine(url: str) -> Engine:
    """An Engine for ``url``. SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout,
    foreign keys and real transactions around DDL (so a failed migration leaves nothing)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            db_file = Path(parsed.database)
            try:
                db_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create folder for database {db_file}: {exc}") from None
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=_connect_args(parsed))
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"unsupported database URL {display_url(url)}: {exc}") from None


def _connect_args(parsed: Any) -> dict[str, Any]:
    return {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so DDL is transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision inside one transaction: on failure nothing
    of the upgrade remains and :class:`DatabaseError` says why."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseError(
            f"cannot migrate database {display_url(str(engine.url))}: {reason}"
        ) from exc


class Store:
    """An opened, migrated database and a session factory for it.

    Sessions are per thread: the store writer has its own, readers make theirs.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = create_db_engine(url)
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

    def close(self) -> None:
        self.engine.dispose()
