"""The store writer: the one path by which anything is written to the database.

Producers hand it typed, frozen :class:`~engine.store.commands.StoreCommand` objects:
``submit`` returns a future (for callers that need the result, such as a new person's id),
``execute`` waits for it, and bus events that have a record become
:class:`~engine.store.commands.InsertEvent` commands automatically once the writer is
attached to a bus. One thread applies the commands in order, up to ``batch_max`` per
transaction. Attached to a bus, it announces the history events of each committed
transaction as one :class:`~engine.store.event_views.EventsStored`, after the commit and in
commit order, with their ids: the console shows and acts on stored rows only.

Failures, by kind (see :func:`classify_failure`):

- transient (SQLite busy/locked, PostgreSQL connection lost, serialization failure,
  deadlock): the batch is rolled back and retried, in order, with exponential backoff
  timed by the engine clock. Nothing behind it overtakes it.
- permanent (corrupt file, read-only database, disk full, schema missing): the writer stops,
  records the reason in :attr:`WriterHealth.fatal`, tells its ``on_fatal`` listeners (the
  runtime stops the engine, the CLI exits 3), spills what it still holds to the journal and
  fails the waiting futures with :class:`StoreUnavailableError`.
- a command's own fault (an integrity error, a bug): the batch is split and re-applied one
  command per transaction, so only the faulty command fails (its future raises; a
  fire-and-forget command is logged with its content and counted as failed).

Memory stays bounded: past ``queue_max`` queued commands, journaled commands (event and
media rows) are appended to a JSON-lines journal under ``journal_dir`` and written back
from there, oldest first, once the queue has drained; commands that need a result wait for
room instead. Progress through a journal is stored in the same transaction as its rows, so a
journal left behind by a crash or kill is replayed exactly once at the next start.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from engine.access import GuardedCommand, PermissionDeniedError
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.data_dirs import open_private_file, private_dir
from engine.events import Event
from engine.instance import process_alive
from engine.store.audit import AppendAudit
from engine.store.commands import (
    InsertEvent,
    InsertMedia,
    PutSetting,
    StoreCommand,
    command_from_json,
)
from engine.store.database import Store
from engine.store.event_views import EventsStored, EventView, camera_of_source, read_event_views
from engine.store.models import Setting

log = logging.getLogger(__name__)

BATCH_MAX = 500
QUEUE_MAX = 10_000  # commands held in memory before journaled ones spill to disk
# Gather a batch of posted commands for this long after the first arrives; a command whose
# caller waits for its result (submit, execute) is written at once with what is queued.
FLUSH_INTERVAL_S = 0.05
BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 2.0
STOP_GRACE_S = 60.0  # on stop, keep retrying a failing store this long, then spill
JOURNAL_SETTING_PREFIX = "store.journal:"
JOURNAL_GLOB = "writer-*.jsonl"
EVENTS_CHANNEL = "watchfloor_events"  # PostgreSQL NOTIFY channel of stored events
LIVE_CHANNEL = "watchfloor_live"  # … and of what is not history (engine.cluster.live)

T = TypeVar("T")
FailureKind = Literal["transient", "permanent", "command"]


class StoreUnavailableError(RuntimeError):
    """The store failed permanently (corrupt, read-only, disk full); the message says why."""


@dataclass(frozen=True, slots=True)
class WriterHealth:
    """Counters of the writer, for the status bar, engine reports and ``watchfloor status``.

    ``queued``: commands waiting in memory; ``journal_pending``: commands waiting in the
    journal; ``written``: commands applied; ``retried``: transient failures retried;
    ``spilled``: commands that went through the journal; ``failed``: commands rejected for
    their own fault; ``fatal``: why the store stopped accepting writes, if it has.
    """

    queued: int
    journal_pending: int
    written: int
    retried: int
    spilled: int
    failed: int
    last_error: str | None
    fatal: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "journal_pending": self.journal_pending,
            "written": self.written,
            "retried": self.retried,
            "spilled": self.spilled,
            "failed": self.failed,
            "last_error": self.last_error,
            "fatal": self.fatal,
        }


@dataclass(frozen=True, slots=True)
class _Item:
    command: StoreCommand
    future: Future[Any] | None


def classify_failure(exc: BaseException) -> FailureKind:
    """Whether ``exc`` from applying commands is worth retrying, ends the store, or is the
    fault of the commands themselves."""
    orig: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "transient"
    message = str(orig).lower()
    if isinstance(orig, sqlite3.Error):
        if isinstance(orig, sqlite3.IntegrityError):
            return "command"
        if isinstance(orig, sqlite3.OperationalError) and (
            "locked" in message or "busy" in message
        ):
            return "transient"
        if isinstance(orig, sqlite3.OperationalError | sqlite3.DatabaseError):
            return "permanent"  # read-only, disk I/O, full, malformed, no such table
        return "command"
    try:
        import psycopg
        from psycopg import errors as pg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(orig, psycopg.Error):
        if isinstance(orig, pg.DiskFull | pg.ReadOnlySqlTransaction | pg.InsufficientPrivilege):
            return "permanent"
        if isinstance(orig, pg.UndefinedTable | pg.UndefinedColumn):
            return "permanent"
        if isinstance(orig, pg.SerializationFailure | pg.DeadlockDetected | pg.LockNotAvailable):
            return "transient"
        if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
            return "transient"  # connection refused, lost, server shutting down
        return "command"
    if isinstance(orig, OSError) and orig.errno in (28, 30):  # ENOSPC, EROFS
        return "permanent"
    return "command"


class _Journal:
    """An append-only JSON-lines file of spilled commands, read back from ``offset``."""

    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset  # bytes already written to the database
        self.pending = 0  # commands appended but not yet written

    @property
    def setting_key(self) -> str:
        return JOURNAL_SETTING_PREFIX + self.path.name

    def append(self, commands: list[StoreCommand]) -> None:
        private_dir(self.path.parent)
        lines = "".join(json.dumps(c.to_json(), separators=(",", ":")) + "\n" for c in commands)
        fd = open_private_file(self.path, os.O_WRONLY | os.O_APPEND)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())
        self.pending += len(commands)

    def read(self, limit: int) -> tuple[list[StoreCommand], int]:
        """Up to ``limit`` commands after ``offset`` and the offset after them. A torn last
        line (a crash mid-append) is ignored until it is complete."""
        commands: list[StoreCommand] = []
        end = self.offset
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return commands, end
        with fh:
            fh.seek(self.offset)
            for line in fh:
                if not line.endswith(b"\n"):
                    break
                end += len(line)
                if line.strip():
                    try:
                        commands.append(command_from_json(json.loads(line)))
                    except (ValueError, KeyError, TypeError) as exc:
                        log.error("journal %s: skipping unreadable entry: %s", self.path, exc)
                if len(commands) >= limit:
                    break
        return commands, end


class StoreWriter:
    """Applies store commands in order on one ``store-writer`` thread (see module doc).

    ``submit``/``execute``/``flush`` are safe from any thread, but ``execute`` and ``flush``
    block, so never call them on the GUI thread: the console waits on futures through its
    query client instead.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = REAL_CLOCK,
        journal_dir: Path | None = None,
        queue_max: int = QUEUE_MAX,
        batch_max: int = BATCH_MAX,
        stop_grace_s: float = STOP_GRACE_S,
        engine_name: str | None = None,
    ) -> None:
        self._store = store
        self._engine_name = engine_name  # stamped on every event row it stores from the bus
        self._clock = clock
        self._journal_dir = journal_dir
        self._queue_max = max(1, queue_max)
        self._batch_max = max(1, batch_max)
        self._stop_grace_s = stop_grace_s
        self._cond = threading.Condition()
        self._items: collections.deque[_Item] = collections.deque()
        self._journal: _Journal | None = None
        self._spilling = False
        self._in_flight = 0
        self._stopping = False
        self._stop_deadline: float | None = None
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._unsubscribe: Callable[[], None] | None = None
        self._bus: EventBus | None = None  # where stored events are announced
        self._cameras: dict[str, tuple[int, int]] = {}  # camera key -> (site id, camera id)
        self._fatal_listeners: list[Callable[[str], None]] = []
        self._written = self._retried = self._spilled = self._failed = 0
        self._last_error: str | None = None
        self._fatal: str | None = None

    # -- set-up ------------------------------------------------------------------------
    def start(self) -> None:
        """Replay journals left by processes that are gone, then start the thread."""
        self._thread.start()

    def attach(self, bus: EventBus) -> None:
        """Store every event published on ``bus`` that has a record, and announce on it
        the events of each committed transaction (:class:`EventsStored`, published on the
        writer thread after the commit; its handlers must not wait on this writer)."""
        self._bus = bus
        self._unsubscribe = bus.subscribe(Event, self._on_event)

    def register_cameras(self, site_id: int, cameras: dict[str, int]) -> None:
        """Camera keys (as in event sources ``camera:<key>``) and their database ids."""
        with self._cond:
            for key, camera_id in cameras.items():
                self._cameras[key] = (site_id, camera_id)

    def on_fatal(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` (on the writer thread) if the store fails for good."""
        self._fatal_listeners.append(listener)

    @property
    def store(self) -> Store:
        """The store this writer writes to (for reads that must see the same database)."""
        return self._store

    @property
    def engine_name(self) -> str | None:
        """The shared site's engine this writer stores for (None: a site's only engine,
        a console, a command)."""
        return self._engine_name

    # -- producers (any thread) --------------------------------------------------------
    def submit(self, command: StoreCommand) -> Future[Any]:
        """Queue ``command``; the future gives its result once committed, or its error.
        A command that needs a permission its actor lacks is refused here, before it is
        queued: :class:`~engine.access.PermissionDeniedError` is raised and the refusal audited."""
        self._authorize(command)
        future: Future[Any] = Future()
        self._enqueue(_Item(self._owned(command), future))
        return future

    def execute(self, command: StoreCommand, timeout_s: float | None = None) -> Any:
        """Queue ``command`` and wait for its result (never on the GUI thread)."""
        if not self._thread.is_alive() and self._fatal is None:
            raise RuntimeError("store writer is not running")
        return self.submit(command).result(timeout_s)

    def post(self, command: StoreCommand) -> None:
        """Queue ``command`` without wanting its result (spilled to the journal if the
        queue is full and the command is journaled). Refused as :meth:`submit` refuses."""
        self._authorize(command)
        self._enqueue(_Item(self._owned(command), None))

    def _owned(self, command: StoreCommand) -> StoreCommand:
        """A shared site's engine signs what it stores: the events it saw and the media
        files its data dir keeps (whose retention is then its own)."""
        if (
            self._engine_name is not None
            and isinstance(command, InsertEvent | InsertMedia)
            and command.engine is None
        ):
            return replace(command, engine=self._engine_name)
        return command

    def _authorize(self, command: StoreCommand) -> None:
        """The engine's permission check: every guarded command passes here."""
        if not isinstance(command, GuardedCommand):
            return
        try:
            command.actor.require(command.permission, command.action)
        except PermissionDeniedError as refused:
            self._enqueue(
                _Item(
                    AppendAudit(
                        at=self._clock.now(),
                        actor=command.actor,
                        action=command.action,
                        target=command.audit_target(),
                        outcome="denied",
                        detail={"needs": str(refused.permission)},
                    ),
                    None,
                )
            )
            raise

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until everything queued so far (journal included) is written or has failed.
        True if it was done within ``timeout_s``."""
        deadline = self._clock.monotonic() + timeout_s
        with self._cond:
            while self._items or self._in_flight or self._journal_pending_locked():
                if self._fatal is not None or not self._thread.is_alive():
                    return False
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.1))
        return True

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop taking events, write what is queued (retrying a failing store for up to the
        stop grace, then spilling it to the journal), and end the thread. Before
        :meth:`start` nothing runs: only the bus is let go, and a later start runs as if
        never stopped (an engine whose start was refused is stopped, and may start again)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread.ident is None:  # never started
            return
        with self._cond:
            self._stopping = True
            self._stop_deadline = self._clock.monotonic() + self._stop_grace_s
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s if timeout_s is not None else self._stop_grace_s + 30)

    def health(self) -> WriterHealth:
        with self._cond:
            return WriterHealth(
                queued=len(self._items) + self._in_flight,
                journal_pending=self._journal.pending if self._journal else 0,
                written=self._written,
                retried=self._retried,
                spilled=self._spilled,
                failed=self._failed,
                last_error=self._last_error,
                fatal=self._fatal,
            )

    @property
    def fatal(self) -> str | None:
        return self._fatal

    # -- internals ---------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        record = event.record()
        if record is None:
            return
        site_id = camera_id = None
        if record.source.startswith("camera:"):
            ids = self._cameras.get(record.source.removeprefix("camera:"))
            if ids is not None:
                site_id, camera_id = ids
        self.post(
            InsertEvent(
                ts=event.at,
                kind=record.kind,
                source=record.source,
                detail=record.detail,
                site_id=site_id,
                camera_id=camera_id,
                track_id=record.track_id,
                person=record.person,
                media=record.media,
                engine=self._engine_name,
            )
        )

    def _enqueue(self, item: _Item) -> None:
        with self._cond:
            if self._fatal is not None:
                self._refuse_locked(item)
                return
            journaled = item.future is None and item.command.journaled
            if journaled and self._journal_dir is not None:
                full = self._spilling or len(self._items) >= self._queue_max
                if full and self._spill_locked([item.command]):
                    return
            else:
                while len(self._items) >= self._queue_max and self._fatal is None:
                    self._cond.wait(0.5)  # backpressure for commands that need a result
                if self._fatal is not None:
                    self._refuse_locked(item)
                    return
            self._items.append(item)
            self._cond.notify_all()

    def _refuse_locked(self, item: _Item) -> None:
        if item.future is not None:
            item.future.set_exception(StoreUnavailableError(self._fatal or "store stopped"))
        elif item.command.journaled and self._journal_dir is not None:
            self._spill_locked([item.command])
        else:
            self._failed += 1
            log.error("store unavailable (%s): dropped %r", self._fatal, item.command)

    def _spill_locked(self, commands: list[StoreCommand]) -> bool:
        """Append to this writer's journal; False if even that fails (disk full)."""
        assert self._journal_dir is not None
        if self._journal is None:
            name = f"writer-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._journal = _Journal(self._journal_dir / name)
        try:
            self._journal.append(commands)
        except OSError as exc:
            log.error("cannot spill %d commands to %s: %s", len(commands), self._journal.path, exc)
            return False
        if not self._spilling:
            log.warning(
                "store writer queue full (%d): spilling to %s", self._queue_max, self._journal.path
            )
        self._spilling = True
        self._spilled += len(commands)
        return True

    def _journal_pending_locked(self) -> bool:
        return self._journal is not None and self._journal.pending > 0

    def _run(self) -> None:
        try:
            self._replay_orphan_journals()
            while True:
                batch, journal, journal_end = self._next_batch()
                if batch is None:
                    break
                if batch:
                    self._write(batch, journal, journal_end)
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()
                if self._fatal is not None:
                    break
        except Exception:
            log.exception("store writer crashed")
            self._become_fatal("store writer crashed; see the log")
        finally:
            with self._cond:
                self._cond.notify_all()

    def _next_batch(self) -> tuple[list[_Item] | None, _Journal | None, int | None]:
        """The next batch: from memory first, then from the journal. None when stopping
        and everything is written."""
        with self._cond:
            while not self._items and not self._journal_pending_locked():
                if self._stopping:
                    return None, None, None
                self._cond.wait(0.5)
            if (
                self._items
                and len(self._items) < self._batch_max
                and not self._stopping
                and not any(item.future is not None for item in self._items)
            ):
                self._cond.wait(FLUSH_INTERVAL_S)  # let a burst of posts gather into one batch
            if self._items:
                count = min(len(self._items), self._batch_max)
                batch = [self._items.popleft() for _ in range(count)]
                self._in_flight = len(batch)
                self._cond.notify_all()  # room for producers waiting on backpressure
                return batch, None, None
            journal = self._journal
        assert journal is not None
        commands, end = journal.read(self._batch_max)
        with self._cond:
            if not commands:
                journal.offset = end  # past unreadable entries (logged by read)
                # Appends happen under this lock, so a line that was half written when it
                # was read is whole now: finish only if nothing lies past what was written.
                if _file_size(journal.path) <= journal.offset:
                    journal.pending = 0
                    self._finish_journal_locked(journal)
                return [], None, None
            self._in_flight = len(commands)
        return [_Item(c, None) for c in commands], journal, end

    def _finish_journal_locked(self, journal: _Journal) -> None:
        """The journal is fully written: remove it (and its progress row) and stop spilling."""
        self._spilling = False
        self._journal = None
        with contextlib.suppress(Exception), self._store.transaction() as session:
            session.execute(delete(Setting).where(Setting.key == journal.setting_key))
        journal.path.unlink(missing_ok=True)
        log.info("journal %s written back to the store", journal.path.name)

    def _write(
        self, batch: list[_Item], journal: _Journal | None = None, journal_end: int | None = None
    ) -> None:
        """Apply ``batch`` in one transaction, retrying transient failures. A batch read from
        ``journal`` records ``journal_end`` (the offset after it) in the same transaction."""
        backoff = BACKOFF_START_S
        while True:
            try:
                with self._store.transaction() as session:
                    results = [item.command.apply(session) for item in batch]
                    if journal is not None and journal_end is not None:
                        _record_journal_progress(session, journal, journal_end, self._clock)
                    self._notify_stored(session, batch, results)
            except Exception as exc:
                kind = classify_failure(exc)
                reason = describe_failure(exc)
                if kind == "transient":
                    with self._cond:
                        self._retried += 1
                        self._last_error = reason
                        past_grace = (
                            self._stopping
                            and self._stop_deadline is not None
                            and self._clock.monotonic() > self._stop_deadline
                        )
                    if past_grace and journal is None and self._spill_batch(batch):
                        return
                    log.warning(
                        "store busy or unreachable (%s); retrying in %.1f s", reason, backoff
                    )
                    self._clock.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    continue
                if kind == "permanent":
                    self._become_fatal(f"database cannot be written: {reason}", batch)
                    return
                if len(batch) > 1:  # find the faulty command: one transaction each
                    for index, item in enumerate(batch):
                        end = journal_end if index == len(batch) - 1 else None
                        self._write([item], journal if end is not None else None, end)
                        if self._fatal is not None:
                            return
                    return
                self._reject(batch[0], exc)
                if journal is not None and journal_end is not None:
                    self._advance_journal(journal, journal_end)
                return
            with self._cond:
                self._written += len(batch)
                self._last_error = None
                if journal is not None and journal_end is not None:
                    journal.offset = journal_end
                    journal.pending = max(0, journal.pending - len(batch))
                    if journal.pending == 0 and journal is self._journal:
                        self._finish_journal_locked(journal)
            for item, result in zip(batch, results, strict=True):
                if item.future is not None:
                    item.future.set_result(result)
            self._announce_stored(batch, results)
            return

    def _notify_stored(self, session: Session, batch: list[_Item], results: list[Any]) -> None:
        """On PostgreSQL, tell every listening process (consoles attached to a shared site,
        ``watchfloor follow``) that this transaction stored events: ``NOTIFY`` is delivered
        only if it commits, in commit order. The payload is small (the engine's name and the
        last id); listeners read the rows themselves (see :mod:`engine.cluster.feed`)."""
        if self._store.backend != "postgresql":
            return
        ids = [
            int(result)
            for item, result in zip(batch, results, strict=True)
            if isinstance(item.command, InsertEvent) and result is not None
        ]
        if ids:
            payload = json.dumps({"engine": self._engine_name, "last": max(ids), "n": len(ids)})
            session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": EVENTS_CHANNEL, "payload": payload},
            )

    def _announce_stored(self, batch: list[_Item], results: list[Any]) -> None:
        """Committed: publish the batch's history events, read back with what the commit
        attached (person, covering clip) by a fresh connection, in commit order."""
        bus = self._bus
        if bus is None:
            return
        stored = [
            (item.command, int(result))
            for item, result in zip(batch, results, strict=True)
            if isinstance(item.command, InsertEvent) and result is not None
        ]
        if not stored:
            return
        ids = [event_id for _command, event_id in stored]
        try:
            with self._store.engine.connect() as connection:
                views = read_event_views(connection, ids)
        except Exception as exc:
            # The rows are stored: announce them as written rather than not at all (the
            # next read of the list shows their person's name and clip).
            log.warning(
                "stored events %d..%d not read back: %s", ids[0], ids[-1], describe_failure(exc)
            )
            views = tuple(_view_of_command(command, event_id) for command, event_id in stored)
        if views:
            bus.publish(EventsStored(at=self._clock.now(), views=views))

    def _reject(self, item: _Item, exc: Exception) -> None:
        with self._cond:
            self._failed += 1
            self._last_error = describe_failure(exc)
        log.error("store rejected %r: %s", item.command, describe_failure(exc))
        if item.future is not None:
            item.future.set_exception(exc)

    def _advance_journal(self, journal: _Journal, end: int) -> None:
        """Move past a rejected journal entry so it is not retried forever."""
        with contextlib.suppress(SQLAlchemyError), self._store.transaction() as session:
            _record_journal_progress(session, journal, end, self._clock)
        with self._cond:
            journal.offset = end
            journal.pending = max(0, journal.pending - 1)
            if journal.pending == 0 and journal is self._journal:
                self._finish_journal_locked(journal)

    def _spill_batch(self, batch: list[_Item]) -> bool:
        """At stop, past the grace period: keep journaled rows on disk for the next start."""
        if self._journal_dir is None or not all(
            i.future is None and i.command.journaled for i in batch
        ):
            return False
        with self._cond:
            rest = list(self._items)
            if not all(i.future is None and i.command.journaled for i in rest):
                return False
            self._items.clear()
            if not self._spill_locked([i.command for i in [*batch, *rest]]):
                return False
            log.error(
                "store still failing at stop (%s): %d rows kept in %s for the next start",
                self._last_error,
                len(batch) + len(rest),
                self._journal.path if self._journal else "?",
            )
            self._journal = None  # left on disk for the next start
            self._spilling = False
            return True

    def _become_fatal(self, reason: str, batch: list[_Item] | None = None) -> None:
        log.error("store writer stopped: %s", reason)
        with self._cond:
            if self._fatal is None:
                self._fatal = reason
            waiting = [*(batch or []), *self._items]
            self._items.clear()
            to_spill = [i.command for i in waiting if i.future is None and i.command.journaled]
            if to_spill and self._journal_dir is not None:
                self._spill_locked(to_spill)
                self._journal = None  # replayed by the next start
            for item in waiting:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(StoreUnavailableError(reason))
            self._cond.notify_all()
        for listener in self._fatal_listeners:
            try:
                listener(reason)
            except Exception:
                log.exception("store failure listener failed")

    def _replay_orphan_journals(self) -> None:
        """Write back journals left by writers whose process is gone (crash, kill, or a
        store that failed at stop), exactly once each."""
        if self._journal_dir is None or not self._journal_dir.is_dir():
            return
        for path in sorted(self._journal_dir.glob(JOURNAL_GLOB)):
            if _owner_alive(path):
                continue
            journal = _Journal(path)
            with self._store.sessions() as session:
                done = session.get(Setting, journal.setting_key)
                journal.offset = int(done.value.get("offset", 0)) if done else 0
            log.warning("replaying store journal %s from byte %d", path.name, journal.offset)
            while True:
                commands, end = journal.read(self._batch_max)
                if not commands:
                    break
                with self._cond:
                    self._in_flight = len(commands)
                self._write([_Item(c, None) for c in commands], journal, end)
                if self._fatal is not None:
                    return
            with self._cond:
                self._finish_journal_locked(journal)
                self._in_flight = 0

    # -- context manager for commands and tests ------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def running(
        cls,
        store: Store,
        *,
        clock: Clock = REAL_CLOCK,
        journal_dir: Path | None = None,
        engine_name: str | None = None,
    ) -> Iterator[StoreWriter]:
        """A started writer that is stopped (after writing everything) on exit."""
        writer = cls(store, clock=clock, journal_dir=journal_dir, engine_name=engine_name)
        writer.start()
        try:
            yield writer
        finally:
            writer.stop()


def _view_of_command(command: InsertEvent, event_id: int) -> EventView:
    """An event as its command wrote it, for when it cannot be read back."""
    return EventView(
        id=event_id,
        ts=command.ts,
        kind=command.kind,
        source=command.source,
        camera=camera_of_source(command.source),
        detail=dict(command.detail),
        clip_path=None,
        clip_offset_s=None,
        person=command.person,
        person_public_id=command.person,
        track_id=command.track_id,
        engine=command.engine,
    )


def _record_journal_progress(session: Session, journal: _Journal, end: int, clock: Clock) -> None:
    PutSetting(key=journal.setting_key, value={"offset": end}, at=clock.now()).apply(session)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _owner_alive(path: Path) -> bool:
    """Is the process that writes the journal ``writer-<pid>-<tag>.jsonl`` still running?"""
    try:
        pid = int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False  # an earlier writer of this process (tests, analyze after a failure)
    return process_alive(pid)


def describe_failure(exc: BaseException) -> str:
    """A database failure's first line, for logs and health lines (the driver's reason,
    not SQLAlchemy's text quoting the whole statement)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text[:300]
