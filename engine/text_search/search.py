"""Meaning search: the use case the CLI, the console's panes and Ask share.

A :class:`MeaningSearch` owns the sentence encoder (loaded on first use) and the
:class:`~engine.text_search.matrix.MeaningMatrix` of every stored vector. :meth:`search`
encodes the query (about 10 ms on one core), ranks the matrix (a few ms for 100,000 texts),
then reads the best rows back from the store, so a hit always names a row that exists now,
with its text as stored and, for a report, the incident it belongs to now.

:class:`MeaningSearchRequest` is the same search as a frozen query-service request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np

from engine.clock import REAL_CLOCK, Clock
from engine.sitetime import SiteTime
from engine.store.database import Store
from engine.text_search import sources
from engine.text_search.encoder import MODEL_NAME, SentenceEncoder, shared_encoder
from engine.text_search.index import StoreTextVectors, Submit, index_rows, vector_of
from engine.text_search.matrix import MeaningMatrix, Ranked
from engine.text_search.sources import EVENT_KINDS, KINDS, SearchableText, TextKind

MAX_LIMIT: Final = 200
INDEX_BATCH: Final = 64  # rows embedded and stored per writer command
MIN_COSINE: Final = 0.12  # below this a text shares no meaning with the query (and no word)


class SearchError(ValueError):
    """A search was refused; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class TextHit:
    """One text a search found: its ``kind``, the ``id`` a person opens (the incident's id
    for a report, else the bookmark's or event's id), ``row_id`` (the report's own id for
    ``incident``; else equal to ``id``), when it happened (``at``, UTC), its ``text`` and
    ``score`` (cosine similarity plus the exact words' bonus; higher is closer)."""

    kind: TextKind
    id: int
    row_id: int
    at: datetime
    text: str
    score: float
    cosine: float
    words: float

    def as_json(self, site_time: SiteTime | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "id": self.id,
            "row_id": self.row_id,
            "at": self.at.isoformat(),
            "text": self.text,
            "score": round(self.score, 4),
            "cosine": round(self.cosine, 4),
            "words": round(self.words, 4),
        }
        if site_time is not None:
            data["site_time"] = site_time.with_zone(self.at)
        return data


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    """What a search found, best first, and how long it took: ``encode_ms`` (the query's
    vector), ``rank_ms`` (the matrix), ``read_ms`` (the rows read back) and ``total_ms``;
    ``searched`` texts were ranked; ``pending`` more were waiting for their vectors (a
    backfill under way)."""

    hits: tuple[TextHit, ...]
    searched: int
    encode_ms: float
    rank_ms: float
    read_ms: float
    total_ms: float
    timings: dict[str, float] = field(default_factory=dict)
    pending: int = 0


class MeaningSearch:
    """The encoder and the matrix of one store's texts (any thread; see the module)."""

    event_kinds: Final = frozenset(EVENT_KINDS)

    def __init__(self, encoder: Callable[[], SentenceEncoder] = shared_encoder) -> None:
        self._encoder_factory = encoder
        self.matrix = MeaningMatrix()
        self._load_lock = threading.Lock()
        self._loaded = False
        # The highest row id of each kind looked at: later passes start after it, so a
        # poll costs the new rows, not a scan of every report. Kept in memory: each start
        # of the engine looks at everything once (a backfill after an upgrade, rows
        # stored while no engine ran).
        self._checked: dict[str, int] = {}
        self._index_lock = threading.Lock()
        self.pending = 0
        """Texts found without a vector and not embedded yet (the pass under way)."""
        self.catch_up: Submit | None = None
        """Where no indexer thread runs (a one-off CLI command), the store writer's
        ``submit``: each search first embeds the rows stored since the last one."""

    @property
    def encoder(self) -> SentenceEncoder:
        return self._encoder_factory()

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self, store: Store) -> int:
        """Read every stored vector into the matrix (once; later calls return at once).
        Returns how many texts are searchable."""
        with self._load_lock:
            if not self._loaded:
                with store.sessions() as session:
                    names = sources.camera_names(session)
                    for kind in KINDS:
                        texts: list[SearchableText] = []
                        vectors: list[np.ndarray[Any, Any]] = []
                        for text, data in sources.indexed(session, kind, MODEL_NAME, names):
                            texts.append(text)
                            vectors.append(vector_of(data))
                            if len(texts) >= 5000:
                                self.matrix.add(texts, np.stack(vectors))
                                texts, vectors = [], []
                        if texts:
                            self.matrix.add(texts, np.stack(vectors))
                self._loaded = True
        return len(self.matrix)

    def index_pending(
        self,
        store: Store,
        submit: Submit,
        *,
        progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
        clock: Clock = REAL_CLOCK,
        batch: int = INDEX_BATCH,
    ) -> int:
        """Embed every searchable row without a vector, store the vectors through
        ``submit`` (the store writer) and add them to the matrix. ``progress(done,
        pending)`` hears each batch. Returns how many rows were indexed. The caller's
        thread (the indexer's, or the CLI's)."""
        self.load(store)
        with self._index_lock:  # one pass at a time (the indexer, a CLI's catch-up)
            return self._index_pending(store, submit, progress, stop, clock, batch)

    def _index_pending(
        self,
        store: Store,
        submit: Submit,
        progress: Callable[[int, int], None] | None,
        stop: threading.Event | None,
        clock: Clock,
        batch: int,
    ) -> int:
        with store.sessions() as session:
            pending = sum(
                sources.count_unindexed(session, kind, after_id=self._checked.get(kind, 0))
                for kind in KINDS
            )
            names = sources.camera_names(session) if pending else {}
        done = 0
        if not pending:
            return 0
        self.pending = pending
        if progress is not None:
            progress(done, pending)
        for kind in KINDS:
            after = self._checked.get(kind, 0)
            while stop is None or not stop.is_set():
                with store.sessions() as session:
                    texts = sources.unindexed(
                        session, kind, after_id=after, limit=batch, names=names
                    )
                if not texts:
                    break
                vectors = self.encoder.encode([t.text for t in texts])
                rows = index_rows(texts, vectors)
                stored = set(
                    submit(StoreTextVectors(rows=rows, model=MODEL_NAME, at=clock.now())).result()
                )
                after = self._checked[kind] = texts[-1].row_id  # stored (or gone meanwhile)
                kept = [i for i, t in enumerate(texts) if (t.kind, t.row_id) in stored]
                if kept:
                    self.matrix.add(
                        [texts[i] for i in kept],
                        np.stack([vector_of(rows[i].vector) for i in kept]),
                    )
                done += len(texts)
                self.pending = max(pending - done, 0)
                if progress is not None:
                    progress(done, self.pending)
        self.pending = 0
        return done

    def search(
        self,
        store: Store,
        query: str,
        *,
        kinds: Sequence[TextKind] = KINDS,
        limit: int = 10,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> SearchAnswer:
        """The ``limit`` texts closest to ``query`` in meaning (exact words count too),
        best first, of ``kinds`` and between ``since`` and ``until`` (UTC) when given.
        Texts sharing neither meaning nor a word with the query are left out."""
        query = query.strip()
        if not query:
            raise SearchError("give words to search for")
        if not 1 <= limit <= MAX_LIMIT:
            raise SearchError(f"limit must be 1-{MAX_LIMIT}, got {limit}")
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise SearchError(f"unknown kind {unknown[0]!r} (known: {', '.join(KINDS)})")
        started = time.perf_counter()
        if self.catch_up is not None:
            self.index_pending(store, self.catch_up)
        self.load(store)
        encoder = self.encoder  # loaded on first use (0.2 s), not counted as the query's
        loaded = time.perf_counter()
        vector = encoder.encode_one(query)
        encoded = time.perf_counter()
        # Ask for more than wanted: some may have been deleted since they were loaded.
        ranked = self.matrix.rank(
            vector, query, limit=limit + 10, kinds=kinds, since=since, until=until
        )
        ranked = [r for r in ranked if r.cosine >= MIN_COSINE or r.words > 0]
        ranked_at = time.perf_counter()
        hits = self._read_back(store, ranked)[:limit]
        done = time.perf_counter()
        return SearchAnswer(
            hits=tuple(hits),
            searched=len(self.matrix),
            encode_ms=(encoded - loaded) * 1000,
            rank_ms=(ranked_at - encoded) * 1000,
            read_ms=(done - ranked_at) * 1000,
            total_ms=(done - loaded) * 1000,
            timings={"load_ms": (loaded - started) * 1000},  # the matrix and the model
            pending=self.pending,
        )

    def _read_back(self, store: Store, ranked: list[Ranked]) -> list[TextHit]:
        if not ranked:
            return []
        with store.sessions() as session:
            names = (
                sources.camera_names(session) if any(r.text.kind == "event" for r in ranked) else {}
            )
            current: dict[tuple[str, int], SearchableText] = {}
            for kind in KINDS:
                ids = [r.text.row_id for r in ranked if r.text.kind == kind]
                for row_id, text in sources.texts_of(session, kind, ids, names).items():
                    current[(kind, row_id)] = text
            incidents = sources.incident_of_reports(
                session, [r.text.row_id for r in ranked if r.text.kind == "incident"]
            )
        gone = [
            (r.text.kind, r.text.row_id)
            for r in ranked
            if (r.text.kind, r.text.row_id) not in current
        ]
        if gone:
            self.matrix.remove(gone)
        hits = []
        for r in ranked:
            found = current.get((r.text.kind, r.text.row_id))
            if found is None:
                continue
            text = found
            hit_id = (
                incidents.get(text.row_id, text.row_id) if text.kind == "incident" else text.row_id
            )
            hits.append(
                TextHit(
                    kind=text.kind,
                    id=hit_id,
                    row_id=text.row_id,
                    at=text.at,
                    text=text.text,
                    score=r.score,
                    cosine=r.cosine,
                    words=r.words,
                )
            )
        return hits


@dataclass(frozen=True, slots=True)
class MeaningSearchRequest:
    """:meth:`MeaningSearch.search` of the store's one search (:func:`search_for`) as a
    query-service request: what a pane submits (runs on a pool thread)."""

    query: str
    kinds: tuple[TextKind, ...] = KINDS
    limit: int = 20

    def run(self, store: Store) -> SearchAnswer:
        return search_for(store).search(store, self.query, kinds=self.kinds, limit=self.limit)


_searches: dict[str, MeaningSearch] = {}
_searches_lock = threading.Lock()


def search_for(store: Store) -> MeaningSearch:
    """The process's one :class:`MeaningSearch` of ``store``'s database (by URL), so the
    runtime's indexer, the query service and Ask share one matrix."""
    with _searches_lock:
        found = _searches.get(store.url)
        if found is None:
            found = _searches[store.url] = MeaningSearch()
        return found
