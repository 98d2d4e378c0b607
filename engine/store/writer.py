"""The store writer: the one path by which bus events become rows.

Subscribes to every bus event that has a record, queues it without blocking the publisher,
and inserts batches in one transaction from its own thread.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert

from engine.bus import EventBus
from engine.events import Event
from engine.store.database import Store
from engine.store.models import Event as EventRow
from engine.store.models import Media as MediaRow
from engine.store.sites import SiteIds

log = logging.getLogger(__name__)

BATCH_MAX = 500
FLUSH_INTERVAL_S = 0.25


class _Control(enum.Enum):
    """Messages to the writer thread besides events."""

    FLUSH = "flush"  # wake up so flush() can complete
    STOP = "stop"


class StoreWriter:
    """Batches history events into the database on a dedicated thread."""

    def __init__(self, store: Store, bus: EventBus, site: SiteIds | None = None) -> None:
        self._store = store
        self._site = site
        self._queue: queue.Queue[Event | _Control] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._unsubscribe: Callable[[], None] = bus.subscribe(Event, self._on_event)
        self._idle = threading.Event()
        self.rows_written = 0
        self.failures = 0
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def _on_event(self, event: Event) -> None:
        if event.record() is not None:
            self._idle.clear()
            self._queue.put(event)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything queued so far is written. True if it was."""
        self._queue.put_nowait(_Control.FLUSH)
        return self._idle.wait(timeout_s)

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self._unsubscribe()
        self._queue.put(_Control.STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[Event] = []
            item = self._queue.get()
            while True:
                if item is _Control.STOP:
                    stopping = True
                elif isinstance(item, Event):
                    batch.append(item)
                if stopping or len(batch) >= BATCH_MAX:
                    break
                try:
                    item = self._queue.get(timeout=FLUSH_INTERVAL_S if batch else 0.0)
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            if self._queue.empty():
                self._idle.set()

    def _write(self, batch: list[Event]) -> None:
        rows = []
        media_lists = []
        for event in batch:
            record = event.record()
            assert record is not None
            media_lists.append(record.media)
            camera_id = None
            if self._site and record.source.startswith("camera:"):
                camera_id = self._site.cameras.get(record.source.removeprefix("camera:"))
            rows.append(
                {
                    "ts": event.at,
                    "kind": record.kind,
                    "source": record.source,
                    "site_id": self._site.site_id if self._site else None,
                    "camera_id": camera_id,
                    "detail": record.detail,
                }
            )
        try:
            with self._store.transaction() as session:
                # Runs of plain events go in as one bulk insert; an event with media needs
                # its id for the media rows. Either way ids follow publication order.
                pending: list[dict[str, Any]] = []
                for row, media in zip(rows, media_lists, strict=True):
                    if not media:
                        pending.append(row)
                        continue
                    if pending:
                        session.execute(insert(EventRow), pending)
                        pending = []
                    event_row = EventRow(**row)
                    session.add(event_row)
                    session.flush()
                    session.add_all(
                        MediaRow(
                            kind=file.kind,
                            path=file.path,
                            sha256=file.sha256,
                            size_bytes=file.size_bytes,
                            created_at=row["ts"],
                            camera_id=row["camera_id"],
                            event_id=event_row.id,
                        )
                        for file in media
                    )
                if pending:
                    session.execute(insert(EventRow), pending)
            self.rows_written += len(rows)
        except Exception as exc:
            self.failures += 1
            self.last_error = str(exc)
            log.exception("store writer could not write %d events", len(rows))
