"""Event history pages on real SQLite and PostgreSQL: keyset pages, constant statement count,
the person filter by column, covering clips and index-served plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import insert, text, update

from engine.activity import ROUTINE_KINDS
from engine.history.events import (
    ClipProbe,
    CoveringClipsRequest,
    EventCursor,
    EventFilter,
    EventKindsRequest,
    EventPageRequest,
    event_kinds,
    page_statement,
    query_event_page,
    query_events,
)
from engine.store import Store
from engine.store.models import Camera, Event, Media, Site
from engine.store.person_models import Person

pytestmark = pytest.mark.sql

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def seed_site(store: Store) -> dict[str, int]:
    """A site with cameras ``gate`` and ``yard``; returns camera key -> id."""
    with store.transaction() as session:
        site_id = session.execute(
            insert(Site).returning(Site.id),
            [{"name": "Test", "geo_lat": 0.0, "geo_lon": 0.0, "updated_at": T0}],
        ).scalar_one()
        ids = {}
        for key in ("gate", "yard"):
            ids[key] = session.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site_id,
                        "key": key,
                        "name": key.title(),
                        "url": f"{key}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
    return ids


def seed_person(store: Store, public_id: str, name: str | None) -> int:
    with store.transaction() as session:
        return int(
            session.execute(
                insert(Person).returning(Person.id),
                [{"public_id": public_id, "name": name, "appearances": 1}],
            ).scalar_one()
        )


def seed_events(store: Store, rows: list[dict[str, Any]]) -> None:
    defaults = {
        "source": "engine",
        "site_id": None,
        "camera_id": None,
        "track_id": None,
        "person_id": None,
        "detail": {},
    }
    with store.transaction() as session:
        session.execute(insert(Event), [{**defaults, **row} for row in rows])


def seed_clip(
    store: Store, camera_id: int, path: str, start: datetime, seconds: float, kind: str = "clip"
) -> None:
    with store.transaction() as session:
        session.execute(
            insert(Media),
            [
                {
                    "kind": kind,
                    "path": path,
                    "sha256": "0" * 64,
                    "size_bytes": 1,
                    "created_at": start,
                    "camera_id": camera_id,
                    "locked": False,
                    "started_at": start,
                    "ended_at": start + timedelta(seconds=seconds),
                }
            ],
        )


class StatementCounter:
    """Counts the statements an engine executes (SQLAlchemy ``before_cursor_execute``)."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        sa_event.listen(self.engine, "before_cursor_execute", self._on_statement_added)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa_event.remove(self.engine, "before_cursor_execute", self._on_statement_added)

    def _on_statement_added(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.statements.append(statement)


def test_pages_neither_overlap_nor_skip_when_times_tie(store: Store) -> None:
    cameras = seed_site(store)
    # 1,050 events over only 7 distinct timestamps: every page boundary falls inside a tie.
    seed_events(
        store,
        [
            {
                "ts": T0 + timedelta(seconds=i % 7),
                "kind": "person.appeared" if i % 2 else "person.left",
                "source": "camera:gate",
                "camera_id": cameras["gate"],
            }
            for i in range(1050)
        ],
    )
    seen: list[tuple[datetime, int]] = []
    cursor: EventCursor | None = None
    pages = 0
    while True:
        page = EventPageRequest(EventFilter(), cursor, limit=100).run(store)
        pages += 1
        seen.extend((row.ts, row.id) for row in page.rows)
        if page.next_cursor is None:
            break
        assert page.next_cursor == page.rows[-1].cursor
        cursor = page.next_cursor
    assert pages == 11
    assert len(seen) == 1050 and len(set(seen)) == 1050  # nothing twice, nothing missed
    assert seen == sorted(seen, reverse=True)  # (ts desc, id desc) across page boundaries

    # The same walk with a kind filter (another index) gives exactly that kind's rows.
    kinds: list[int] = []
    cursor = None
    while True:
        page = query_event_page(store, EventFilter(kind="person.left"), cursor, 64)
        kinds.extend(row.id for row in page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(kinds) == len(set(kinds)) == 525


def test_a_500_row_page_with_persons_and_clips_takes_a_constant_number_of_statements(
    store: Store,
) -> None:
    cameras = seed_site(store)
    alice = seed_person(store, "Person_000000A1", "Alice Ward")
    seed_events(
        store,
        [
            {
                "ts": T0 + timedelta(seconds=i),
                "kind": "face.recognised",
                "source": f"camera:{'gate' if i % 2 else 'yard'}",
                "camera_id": cameras["gate" if i % 2 else "yard"],
                "person_id": alice,
                "track_id": i // 10,
            }
            for i in range(1200)
        ],
    )
    for start in range(0, 1200, 20):  # a 10 s clip every 20 s on each camera
        for key, camera_id in cameras.items():
            seed_clip(
                store, camera_id, f"clips/{key}/{start}.mp4", T0 + timedelta(seconds=start), 10
            )

    counts = {}
    for limit in (5, 50, 500):
        with StatementCounter(store) as counter:
            page = query_event_page(store, EventFilter(person="alice ward"), None, limit)
        assert len(page.rows) == limit
        counts[limit] = len(counter.statements)
    # The old list ran 2 + one per row (502 statements for 500 rows); now the person lookup
    # and one statement for the page with its cameras, persons and clips.
    assert counts == {5: 2, 50: 2, 500: 2}
    with StatementCounter(store) as counter:
        page = query_event_page(store, EventFilter(), page.next_cursor, 500)
    assert len(counter.statements) == 1  # no filter to resolve

    first = query_event_page(store, EventFilter(), None, 500).rows
    for row in first:
        second = (row.ts - T0).total_seconds()
        if second % 20 < 10:  # inside a clip of its camera
            assert row.clip_path == f"clips/{row.camera}/{int(second // 20 * 20)}.mp4"
            assert row.clip_offset_s == pytest.approx(second % 20)
        elif 11 < second % 20 < 19:  # more than the slack (1 s) from any clip
            assert row.clip_path is None
    assert {row.person for row in first} == {"Alice Ward"}
    assert {row.person_public_id for row in first} == {"Person_000000A1"}


def test_person_filter_reads_the_person_column_so_renames_and_merges_show(store: Store) -> None:
    cameras = seed_site(store)
    ghost = seed_person(store, "Person_0000000B", None)
    carol = seed_person(store, "Person_0000000C", "Carol")
    seed_events(
        store,
        [
            # The person column only: detail says nothing about who it is.
            {"ts": T0, "kind": "person.appeared", "camera_id": cameras["gate"], "person_id": ghost},
            {
                "ts": T0 + timedelta(seconds=1),
                "kind": "face.recognised",
                "camera_id": cameras["gate"],
                "person_id": ghost,
                "detail": {"person_id": "Person_0000000B"},
            },
            # Mentions the name in its detail but is nobody's event: a LIKE would match it.
            {
                "ts": T0 + timedelta(seconds=2),
                "kind": "analysis.error",
                "detail": {"detail": "operator Dana Shore typed Person_0000000B"},
            },
            {"ts": T0 + timedelta(seconds=3), "kind": "person.left", "person_id": carol},
        ],
    )
    by_id = query_events(store, EventFilter(person="person_0000000b"))
    assert [row.kind for row in by_id] == ["face.recognised", "person.appeared"]
    assert query_events(store, EventFilter(person="Dana Shore")) == []

    with store.transaction() as session:  # what a rename writes
        session.execute(update(Person).where(Person.id == ghost).values(name="Dana Shore"))
    renamed = query_events(store, EventFilter(person="dana shore"))
    assert [row.kind for row in renamed] == ["face.recognised", "person.appeared"]
    assert {row.person for row in renamed} == {"Dana Shore"}  # the view shows the new name
    assert query_events(store, EventFilter(person="DANA"))[0].person == "Dana Shore"

    # "Carol" matches exactly; "c" (a substring) matches nobody exactly, so everyone with a c.
    assert [r.kind for r in query_events(store, EventFilter(person="carol"))] == ["person.left"]
    assert len(query_events(store, EventFilter(person="0000000"))) == 3
    assert query_events(store, EventFilter(person="nobody at all")) == []
    assert query_events(store, EventFilter(person="%")) == []  # LIKE wildcards are literal


def test_filters_kinds_and_covering_clip_lookup(store: Store) -> None:
    cameras = seed_site(store)
    seed_events(
        store,
        [
            {"ts": T0, "kind": "camera.online", "camera_id": cameras["gate"]},
            {
                "ts": T0 + timedelta(seconds=5),
                "kind": "person.appeared",
                "camera_id": cameras["yard"],
            },
            {
                "ts": T0 + timedelta(seconds=9),
                "kind": "clip.finalised",
                "camera_id": cameras["yard"],
            },
            {"ts": T0 + timedelta(seconds=9), "kind": "engine.started"},
        ],
    )
    seed_clip(store, cameras["yard"], "clips/yard/a.mp4", T0 + timedelta(seconds=2), 8)
    assert event_kinds(store) == [
        "camera.online",
        "clip.finalised",
        "engine.started",
        "person.appeared",
    ]
    assert EventKindsRequest().run(store) == event_kinds(store)
    yard = query_events(store, EventFilter(camera="yard"))
    assert [row.kind for row in yard] == ["clip.finalised", "person.appeared"]
    assert yard[1].clip_path == "clips/yard/a.mp4" and yard[1].clip_offset_s == 3.0
    assert query_events(store, EventFilter(camera="attic")) == []
    assert [r.kind for r in query_events(store, EventFilter(before=T0 + timedelta(seconds=5)))] == [
        "camera.online"
    ]
    assert [
        r.kind for r in query_events(store, EventFilter(camera="gate", kind="camera.online"))
    ] == ["camera.online"]
    # Rows listed before their clip existed ask for it by camera key and time, in one go.
    probes = (
        ClipProbe("live-1", "yard", T0 + timedelta(seconds=4)),
        ClipProbe("live-2", "yard", T0 + timedelta(seconds=30)),
        ClipProbe("live-3", "gate", T0 + timedelta(seconds=4)),
    )
    with StatementCounter(store) as counter:
        found = CoveringClipsRequest(probes).run(store)
    assert found == {"live-1": ("clips/yard/a.mp4", 2.0)}
    assert len(counter.statements) == 1


def explain(store: Store, stmt: Any) -> str:
    with store.sessions() as session:
        connection = session.connection()
        compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        if store.backend == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return "\n".join(str(row[-1]) for row in rows)
        # Forbid the alternatives, so the plan shows whether the index can serve the order
        # at all (on tiny tables PostgreSQL would rightly prefer a scan).
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_sort = off"))
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))


@pytest.mark.parametrize(
    ("flt", "person_ids", "camera_ids", "index"),
    [
        (EventFilter(), None, None, "ix_events_ts_id"),
        (EventFilter(kind="person.appeared"), None, None, "ix_events_kind_ts_id"),
        (EventFilter(camera="gate"), None, [1], "ix_events_camera_ts_id"),
        (EventFilter(person="x"), [1], None, "ix_events_person_ts_id"),
    ],
)
def test_page_plans_walk_an_index_in_order(
    store: Store,
    flt: EventFilter,
    person_ids: list[int] | None,
    camera_ids: list[int] | None,
    index: str,
) -> None:
    cameras = seed_site(store)
    seed_person(store, "Person_00000001", None)
    seed_events(
        store,
        [
            {
                "ts": T0 + timedelta(seconds=i),
                "kind": "person.appeared",
                "camera_id": cameras["gate"],
            }
            for i in range(200)
        ],
    )
    cursor = EventCursor(T0 + timedelta(seconds=100), 100)
    for at in (None, cursor):
        plan = explain(store, page_statement(flt, at, 501, person_ids, camera_ids))
        assert index in plan, plan
        # Each row's clip: one index probe, by camera and time (the kind-first index of
        # revision 0029 also serves it: kind and camera equal, start in a range).
        assert "ix_media_camera_span" in plan or "ix_media_kind_camera_start" in plan, plan
        if store.backend == "sqlite":
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
        else:
            assert "Sort" not in plan, plan


def test_the_summary_leaves_routine_kinds_out_and_an_activity_lists_its_place_and_time(
    store: Store,
) -> None:
    cameras = seed_site(store)
    gate, yard = cameras["gate"], cameras["yard"]
    rows = [
        (0, "person.appeared", gate, "camera:gate"),
        (0, "activity.began", gate, "camera:gate"),
        (5, "person.appeared", yard, "camera:yard"),
        (10, "clip.finalised", gate, "camera:gate"),
        (20, "camera.offline", yard, "camera:yard"),
        (30, "person.left", gate, "camera:gate"),
        (30, "activity.ended", gate, "camera:gate"),
        (40, "person.appeared", gate, "camera:gate"),
    ]
    seed_events(
        store,
        [
            {"ts": T0 + timedelta(seconds=s), "kind": k, "camera_id": c, "source": src}
            for s, k, c, src in rows
        ],
    )

    def kinds(flt: EventFilter) -> list[str]:
        return [view.kind for view in query_events(store, flt)]

    assert kinds(EventFilter(hidden=ROUTINE_KINDS)) == [
        "activity.ended",
        "camera.offline",
        "activity.began",
    ]
    # A chosen kind is listed even when the summary leaves it out.
    assert (
        kinds(EventFilter(kind="person.appeared", hidden=ROUTINE_KINDS)) == ["person.appeared"] * 3
    )
    # The activity's rows: its place, from when it began to when it ended.
    opened = EventFilter(
        source="camera:gate", after=T0, before=T0 + timedelta(seconds=30, microseconds=1)
    )
    assert kinds(opened) == [
        "activity.ended",
        "person.left",
        "clip.finalised",
        "activity.began",
        "person.appeared",
    ]
