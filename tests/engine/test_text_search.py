"""Meaning search with the real sentence model on real SQLite: reports, bookmarks and event
summaries filed through their own paths are indexed by the indexer's thread, found by what
they mean and by their exact words, and forgotten when their rows go."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from engine.history.bookmarks import AddBookmark, RemoveBookmark
from engine.incidents.classify import IncidentClassifier, KeywordClassifier
from engine.incidents.intake import IncidentIntake, IntakeSettings
from engine.incidents.reports import ReportInput
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.text_vector_models import TextVector
from engine.store.writer import StoreWriter
from engine.text_search.encoder import DIMENSIONS, MODEL_NAME, SentenceEncoder, shared_encoder
from engine.text_search.index import (
    BACKGROUND_NICENESS,
    IndexProgress,
    StoreTextVectors,
    TextIndexer,
    TextVectorRow,
    vector_bytes,
)
from engine.text_search.matrix import COARSE_FROM, MeaningMatrix, words_of
from engine.text_search.search import MeaningSearch, SearchError, search_for
from engine.text_search.sources import SearchableText
from tests.actors import INVESTIGATOR, OPERATOR

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
LAT, LON = 51.5072, -0.1276

REPORTS = (
    "Man fell down on the stairs by the north entrance and cannot get up.",
    "Wheelie bin alight behind the restaurant, flames reaching the fence.",
    "Small quadcopter hovering over the yard, filming the warehouse.",
    "Woman stuffed bottles of perfume into her handbag and walked out without paying.",
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    """The real model, loaded once for the module (the process shares it)."""
    return shared_encoder()


@pytest.fixture
def writer(store: Store) -> Iterator[StoreWriter]:
    with StoreWriter.running(store) as w:
        yield w


def file_reports(store: Store, writer: StoreWriter, texts: tuple[str, ...]) -> None:
    intake = IncidentIntake(
        store,
        writer,
        IncidentClassifier(KeywordClassifier(), None, "test: local classifier"),
        IntakeSettings(),
        now=lambda: T0 + timedelta(days=1),
    )
    # Hours and kilometres apart: separate incidents.
    reports = [
        ReportInput(text=t, latitude=LAT + n * 0.02, longitude=LON, at=T0 + timedelta(hours=n))
        for n, t in enumerate(texts)
    ]
    intake.file(reports, actor=OPERATOR, source="cli")


def add_bookmark(writer: StoreWriter, title: str, note: str) -> int:
    view = writer.execute(
        AddBookmark(title=title, note=note, marked_at=T0, at=T0, actor=INVESTIGATOR)
    )
    return int(view.id)


def wait_current(indexer: TextIndexer, searchable: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        progress = indexer.progress
        assert progress.state != "failed", progress.error
        if progress.state == "current" and progress.searchable >= searchable:
            return
        time.sleep(0.02)
    raise AssertionError(f"indexer not current: {indexer.progress}")


def test_a_paraphrase_finds_the_report_it_means_and_the_hit_names_the_incident(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    file_reports(store, writer, REPORTS)
    add_bookmark(writer, "Platform 3", "Woman stumbles near the yellow line and goes down.")
    writer.execute(
        InsertEvent(ts=T0, kind="sensing.fall_detected", source="sensing:lab", detail={})
    )
    writer.execute(  # a per-track row: not indexed
        InsertEvent(ts=T0, kind="person.appeared", source="camera:gate", detail={"track_id": 1})
    )
    search = MeaningSearch()
    done = search.index_pending(store, writer.submit)
    assert done == len(REPORTS) + 2  # 4 reports, the bookmark, the fall; not the appearance

    answer = search.search(store, "someone collapsed", limit=3)
    # The man on the stairs and the fall the sensing saw, before the bin fire and the rest.
    assert {(h.kind, h.text.split(":")[0]) for h in answer.hits[:2]} == {
        ("incident", REPORTS[0]),
        ("event", "Possible fall"),
    }
    first = next(h for h in answer.hits if h.kind == "incident")
    assert first.at == T0 and first.score > 0.3
    assert answer.encode_ms > 0 and answer.total_ms >= answer.encode_ms
    with store.sessions() as session:
        from engine.store.incident_models import IncidentReport

        incident_id = session.scalar(
            select(IncidentReport.incident_id).where(IncidentReport.id == first.row_id)
        )
    assert first.id == incident_id

    # Only one kind when asked; a fall event is worded by the event renderer.
    events = search.search(store, "someone collapsed", kinds=("event",), limit=3)
    assert [h.kind for h in events.hits] == ["event"]
    assert events.hits[0].text.startswith("Possible fall")
    bookmarks = search.search(store, "a passenger tripped and fell", kinds=("bookmark",))
    assert bookmarks.hits[0].text.startswith("Platform 3. Woman stumbles")

    assert search.search(store, "rubbish container on fire", limit=1).hits[0].text == REPORTS[1]
    assert search.search(store, "drone over the site", limit=1).hits[0].text == REPORTS[2]


def test_exact_words_still_come_first_and_nonsense_finds_nothing(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    file_reports(store, writer, REPORTS)
    add_bookmark(writer, "Van at gate 2", "Plate KX19 ABD, white Transit.")
    search = MeaningSearch()
    search.index_pending(store, writer.submit)
    assert search.search(store, "KX19", limit=1).hits[0].text.startswith("Van at gate 2")
    assert search.search(store, "perfume", limit=1).hits[0].text == REPORTS[3]
    # Texts sharing neither a word nor meaning with the query are left out.
    assert search.search(store, "zzqx vvbn", kinds=("incident",), limit=5).hits == ()
    with pytest.raises(SearchError, match="give words"):
        search.search(store, "   ")
    with pytest.raises(SearchError, match="unknown kind"):
        search.search(store, "fire", kinds=("alert",))  # type: ignore[arg-type]


def test_a_stop_waits_for_a_batch_that_outlasts_its_timeout_and_leaves_no_thread(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    """On a loaded machine the nicer indexer's model load or batch outlasted the stop's
    10 s and the thread was left running (later tests saw it leaked). The encoder here
    (the real one) is handed over only after the stop's timeout has passed."""
    file_reports(store, writer, REPORTS[:1])
    loading, handed = threading.Event(), threading.Event()

    def slow_load() -> SentenceEncoder:
        loading.set()
        handed.wait(30)
        return encoder

    indexer = TextIndexer(MeaningSearch(slow_load), store, writer.submit, poll_s=60.0)
    indexer.start()
    try:
        assert loading.wait(30)  # the pass is in its batch
        threading.Timer(0.5, handed.set).start()
        indexer.stop(timeout_s=0.05)
        assert handed.is_set()  # it waited for the batch past its timeout
        assert not indexer.alive and indexer.progress.state == "stopped"
    finally:
        handed.set()
        indexer.stop()


def test_the_indexer_thread_backfills_then_indexes_what_is_stored_later(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    file_reports(store, writer, REPORTS[:2])  # stored before the indexer runs: the backfill
    search = MeaningSearch()
    seen: list[tuple[str, str]] = []
    indexer = TextIndexer(
        search,
        store,
        writer.submit,
        poll_s=60.0,
        on_progress=lambda p: seen.append((p.state, threading.current_thread().name)),
    )
    indexer.start()
    try:
        wait_current(indexer, 2)
        assert ("indexing", "text-indexer") in seen
        # A backfill (minutes of one core) yields to the cameras: the thread is nicer.
        assert indexer._thread.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, indexer._thread.native_id) == min(
            19, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICENESS
        )
        assert all(thread == "text-indexer" for _, thread in seen)

        bookmark_id = add_bookmark(writer, "Roof", "Person spotted on the warehouse roof at 2am.")
        indexer.nudge()  # the console nudges after filing; the poll would find it later
        wait_current(indexer, 3)
        hit = search.search(store, "intruder up on a building at night", limit=1).hits[0]
        assert (hit.kind, hit.id) == ("bookmark", bookmark_id)
    finally:
        indexer.stop()
    assert not indexer.alive and indexer.progress.state == "stopped"
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TextVector)) == 3

    # A fresh search (the next start) loads the stored vectors instead of embedding again.
    again = MeaningSearch()
    assert again.load(store) == 3
    assert again.index_pending(store, writer.submit) == 0


def test_a_deleted_row_takes_its_vector_and_leaves_the_results(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    bookmark_id = add_bookmark(writer, "Loading bay", "Forklift clips the racking.")
    search = MeaningSearch()
    search.index_pending(store, writer.submit)
    assert search.search(store, "forklift accident").hits[0].id == bookmark_id
    writer.execute(RemoveBookmark(bookmark_id=bookmark_id, at=T0, actor=INVESTIGATOR))
    with store.sessions() as session:  # the foreign key cascades
        assert session.scalar(select(func.count()).select_from(TextVector)) == 0
    assert search.search(store, "forklift accident").hits == ()
    assert ("bookmark", bookmark_id) not in search.matrix  # forgotten when found gone


def test_storing_vectors_skips_rows_deleted_meanwhile_and_replaces_old_ones(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    kept = add_bookmark(writer, "Kept", "")
    gone = add_bookmark(writer, "Gone", "")
    writer.execute(RemoveBookmark(bookmark_id=gone, at=T0, actor=INVESTIGATOR))
    vector = vector_bytes(np.ones(DIMENSIONS) / np.sqrt(DIMENSIONS))
    rows = (TextVectorRow("bookmark", kept, vector), TextVectorRow("bookmark", gone, vector))
    stored = writer.execute(StoreTextVectors(rows=rows, model=MODEL_NAME, at=T0))
    assert stored == (("bookmark", kept),)
    writer.execute(StoreTextVectors(rows=rows[:1], model=MODEL_NAME, at=T0))
    with store.sessions() as session:
        assert session.scalars(select(TextVector.bookmark_id)).all() == [kept]


def test_the_two_stage_ranking_finds_the_exact_nearest_texts() -> None:
    """Past COARSE_FROM texts the matrix ranks principal-axis projections first: the best
    hits are still those of the exact cosine."""
    rng = np.random.default_rng(3)
    # Clustered vectors, as sentence vectors are, not uniform noise.
    centres = rng.standard_normal((50, DIMENSIONS))
    n = COARSE_FROM + 4000
    vectors = centres[rng.integers(50, size=n)] + 0.6 * rng.standard_normal((n, DIMENSIONS))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [SearchableText("incident", i, T0, f"text {i}") for i in range(n)]
    matrix = MeaningMatrix()
    matrix.add(texts, vectors)
    exact_vectors = vectors.astype(np.float16).astype(np.float32)
    for q in range(20):
        query = vectors[q * 97].astype(np.float32)
        exact = set(np.argsort(-(exact_vectors @ query))[:10].tolist())
        ranked = {r.text.row_id for r in matrix.rank(query, "", limit=10)}
        assert len(exact & ranked) >= 9


def test_words_are_folded_and_stop_words_dropped() -> None:
    assert words_of("The Batteries of Sam's doors were stolen") == [
        "battery",
        "sam",
        "door",
        "stolen",
    ]


def test_a_running_engine_indexes_what_it_stores_on_its_own_thread(
    tmp_path: Path, encoder: SentenceEncoder
) -> None:
    from engine.config import load_site
    from engine.runtime import EngineRuntime
    from tests.conftest import write_site

    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    runtime = EngineRuntime(load_site(write_site(tmp_path / "site.toml")), store)
    try:
        runtime.start()
        assert runtime.writer is not None and runtime.site_services.text_indexer is not None
        add_bookmark(runtime.writer, "Loading bay", "Forklift clips the racking; boxes fall.")
        runtime.site_services.text_indexer.nudge()
        wait_current(runtime.site_services.text_indexer, 1)
        hit = search_for(store).search(store, "warehouse vehicle accident", limit=1).hits[0]
        assert hit.kind == "bookmark" and hit.text.startswith("Loading bay")
    finally:
        runtime.stop()
        store.close()
    assert runtime.site_services.text_indexer.progress.state == "stopped"


@contextmanager
def database_refusing_connections(db_url: str) -> Iterator[None]:
    """A real outage of ``db_url``'s PostgreSQL database: the server refuses new connections
    to it and ends every open one (as a stopped server does), until the block ends."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(db_url).database
    admin = create_engine(make_url(db_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.hostile(11)
def test_the_indexer_survives_a_database_outage_and_indexes_what_was_stored_meanwhile(
    store: Store, writer: StoreWriter, encoder: SentenceEncoder
) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL outage")
    from engine.clock import SimulatedClock
    from engine.supervise import FIRST_BACKOFF_S, supervised_health
    from tests.waiting import wait_for

    clock = SimulatedClock(T0)
    file_reports(store, writer, REPORTS[:1])
    search = MeaningSearch()
    indexer = TextIndexer(search, store, writer.submit, clock=clock, poll_s=60.0)
    indexer.start()
    try:
        wait_current(indexer, 1)
        with database_refusing_connections(url):
            indexer.nudge()  # a pass while the database is away fails
            wait_for(lambda: indexer.progress.state == "failed", what="the failed pass")
            assert indexer.progress.error and "accepting connections" in indexer.progress.error
            # Stored during the outage: the writer keeps it until the database is back.
            writer.post(
                InsertEvent(ts=T0, kind="sensing.fall_detected", source="sensing:lab", detail={})
            )
            assert clock.wait_for_waiters(1)  # the indexer waits out its backoff
            assert indexer.alive
        assert writer.flush(60)
        [health] = [h for h in supervised_health() if h.name == "text-indexer" and h.alive]
        assert health.backing_off and health.restarts == 0
        assert health.last_error and "accepting connections" in health.last_error
        clock.advance(FIRST_BACKOFF_S)  # the backoff ends: the loop runs again
        wait_for(
            lambda: indexer.progress == IndexProgress("current", 2, 0),
            what="the fall stored during the outage indexed",
        )
        assert indexer.restarts == 1 and indexer.alive
        hit = search.search(store, "someone collapsed", kinds=("event",), limit=1).hits[0]
        assert hit.text.startswith("Possible fall")
    finally:
        indexer.stop()
    assert not indexer.alive and indexer.progress.state == "stopped"
