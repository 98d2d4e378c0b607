"""Keeping the vectors: a store command that writes them, and the thread that makes them.

:class:`StoreTextVectors` is the one way vectors reach the database (through the store
writer, like every write). :class:`TextIndexer` is a named thread (``text-indexer``) that
first loads the stored vectors into the search's matrix, then embeds every searchable row
that has no vector yet (the backfill, with its progress), and then keeps watching: it wakes
when the store writer announces stored events, when :meth:`TextIndexer.nudge` is called
(a report or bookmark was just filed) and every :data:`POLL_S` seconds otherwise. A pass
that fails (the database away) shows as ``failed`` and is tried again after a backoff
(:class:`~engine.supervise.SupervisedThread`), from where it left off. It never
runs on the GUI thread and never blocks the writer: it reads in its own sessions and waits
only on its own commands' futures.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.store.commands import StoreCommand
from engine.store.event_views import EventsStored
from engine.store.history_models import Bookmark
from engine.store.incident_models import IncidentReport
from engine.store.models import Event as EventRow
from engine.store.text_vector_models import TextVector
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

POLL_S: Final = 5.0  # seconds between looks for new reports and bookmarks
THREAD_NAME: Final = "text-indexer"
# The indexer runs this much nicer than the engine (Linux niceness of its own thread), so a
# backfill of a long history (minutes of one core) never takes time from the cameras.
BACKGROUND_NICENESS: Final = 10


def vector_bytes(vector: npt.NDArray[np.floating]) -> bytes:
    """A unit vector as stored: little-endian float16."""
    return np.asarray(vector, dtype="<f2").tobytes()


def vector_of(data: bytes) -> npt.NDArray[np.float32]:
    """A stored vector back as float32."""
    return np.frombuffer(data, dtype="<f2").astype(np.float32)


@dataclass(frozen=True, slots=True)
class TextVectorRow:
    """One vector to store: the row's ``kind`` and id, and the vector's bytes."""

    kind: str
    row_id: int
    vector: bytes


_KEYS: Final[dict[str, tuple[Any, Any]]] = {
    "incident": (TextVector.incident_report_id, IncidentReport.id),
    "bookmark": (TextVector.bookmark_id, Bookmark.id),
    "event": (TextVector.event_id, EventRow.id),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreTextVectors(StoreCommand):
    """Store the vectors ``rows`` made by ``model`` at ``at`` (UTC), replacing a row's
    earlier vector. Rows deleted since they were read are skipped (their vector would
    have nothing to point at). Returns the ``(kind, row_id)`` of the vectors stored."""

    rows: tuple[TextVectorRow, ...]
    model: str
    at: datetime

    def apply(self, session: Session) -> tuple[tuple[str, int], ...]:
        stored: list[tuple[str, int]] = []
        values: list[dict[str, Any]] = []
        for kind, (vector_key, row_key) in _KEYS.items():
            wanted = {r.row_id: r for r in self.rows if r.kind == kind}
            if not wanted:
                continue
            present = set(session.scalars(select(row_key).where(row_key.in_(list(wanted)))))
            session.execute(
                TextVector.__table__.delete().where(vector_key.in_(list(present)))  # type: ignore[attr-defined]
            )
            for row_id in sorted(present):
                values.append(
                    {
                        "kind": kind,
                        vector_key.key: row_id,
                        "model": self.model,
                        "vector": wanted[row_id].vector,
                        "indexed_at": self.at,
                    }
                )
                stored.append((kind, row_id))
        for value in values:
            session.execute(insert(TextVector), [value])
        return tuple(stored)


Submit = Callable[[StoreCommand], "Future[Any]"]


@dataclass(frozen=True, slots=True)
class IndexProgress:
    """Where the indexer is: ``state`` (``loading``, ``indexing``, ``current``,
    ``stopped``, ``failed``), how many texts are searchable and how many wait for a
    vector, and the last error (``None`` when all is well)."""

    state: str
    searchable: int
    pending: int
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "searchable": self.searchable,
            "pending": self.pending,
            "error": self.error,
        }


class TextIndexer:
    """Embeds new and old searchable rows on its own thread (see the module's docstring).

    ``search`` is the :class:`~engine.text_search.search.MeaningSearch` whose matrix it
    keeps current; ``submit`` hands commands to the store writer. ``on_progress`` (called
    on the indexer's thread) hears every change of :class:`IndexProgress`.
    """

    def __init__(
        self,
        search: Any,
        store: Any,
        submit: Submit,
        *,
        clock: Clock = REAL_CLOCK,
        bus: EventBus | None = None,
        poll_s: float = POLL_S,
        on_progress: Callable[[IndexProgress], None] | None = None,
    ) -> None:
        self._search = search
        self._store = store
        self._submit = submit
        self._clock = clock
        self._poll_s = poll_s
        self._on_progress = on_progress
        self._wake = threading.Event()
        self._stop = threading.Event()
        # Supervised: a database outage fails a pass, and the loop is run again after a
        # backoff, so the rows stored meanwhile are indexed when the database is back.
        self._thread = SupervisedThread(
            self._run, name=THREAD_NAME, stop=self._stop, clock=clock, on_restart=self._failed
        )
        self._unsubscribe: Callable[[], None] | None = None
        self._bus = bus
        self._progress = IndexProgress("loading", 0, 0)
        self._progress_lock = threading.Lock()
        self._niced = False

    @property
    def progress(self) -> IndexProgress:
        with self._progress_lock:
            return self._progress

    def start(self) -> None:
        if self._bus is not None:
            self._unsubscribe = self._bus.subscribe(EventsStored, self._on_events_stored)
        self._thread.start()

    def nudge(self) -> None:
        """Look for unindexed rows now (any thread)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the batch in hand (any thread but the indexer's); returns once the
        thread has ended. A batch (or the model's load) still under way after ``timeout_s``
        is said in the log and waited for: on a loaded machine this nicer thread's batch
        outlasted 10 s, and a stop that gave up then left the thread running on."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning(
                "text indexer: its batch is still under way after %g s; waiting for it", timeout_s
            )
            self._thread.join()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _on_events_stored(self, event: EventsStored) -> None:
        # On the writer's thread: only set a flag, never wait here.
        if any(view.kind in self._search.event_kinds for view in event.views):
            self._wake.set()

    def _report(self, progress: IndexProgress) -> None:
        with self._progress_lock:
            self._progress = progress
        if self._on_progress is not None:
            try:
                self._on_progress(progress)
            except Exception:
                log.exception("text indexer: progress listener failed")

    @property
    def restarts(self) -> int:
        """How many times the indexing loop was run again after it failed."""
        return self._thread.restarts

    def _failed(self, exc: BaseException) -> None:
        # On the indexer's thread, before its backoff: the failure shows until the next pass.
        self._report(IndexProgress("failed", len(self._search.matrix), 0, str(exc)))

    def _run(self) -> None:
        """The indexing loop (run again by its supervisor when it raises)."""
        if not self._niced:  # once: a restart must not make it nicer again
            lower_own_priority(BACKGROUND_NICENESS)
            self._niced = True
        self._search.load(self._store)
        while not self._stop.is_set():
            self._search.index_pending(
                self._store,
                self._submit,
                progress=lambda done, pending: self._report(
                    IndexProgress("indexing", done, pending)
                ),
                stop=self._stop,
            )
            self._report(IndexProgress("current", len(self._search.matrix), 0))
            self._clock.wait(self._wake, self._poll_s)
            self._wake.clear()
        self._report(IndexProgress("stopped", len(self._search.matrix), 0))


def lower_own_priority(by: int) -> None:
    """Make the calling thread ``by`` nicer (Linux schedules threads by their own niceness;
    onnxruntime runs on the calling thread with one intra-op thread). Where the system does
    not allow it, the thread keeps its priority."""
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + by))
    except (AttributeError, OSError) as exc:
        log.info("text indexer: keeps its priority (%s)", exc)


def index_rows(texts: Sequence[Any], vectors: npt.NDArray[np.float32]) -> tuple[TextVectorRow, ...]:
    """The rows of a :class:`StoreTextVectors` for ``texts`` and their vectors."""
    return tuple(
        TextVectorRow(text.kind, text.row_id, vector_bytes(vector))
        for text, vector in zip(texts, vectors, strict=True)
    )
