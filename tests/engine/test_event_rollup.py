"""``event_rollup``: the per-source counts per 5 minutes, 30 minutes and hour that the
timeline's wide windows read, kept by triggers on ``events``. Checked against the events
themselves after every way the engine (and a bulk load) writes them, on SQLite and
PostgreSQL, and through the timeline: density bars read from the rollup equal the rows
bucketed here, for windows whose ends cut through hours and 5-minute buckets."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy import event as sa_event

from engine.history.timeline import LaneDetail, TimelineRequest, bucket_seconds, rollup_span
from engine.retention import PurgeEvents
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.database import alembic_config
from engine.store.models import ROLLUP_SPANS_S, Camera, Event, EventRollup
from tests.engine.test_timeline import T0, camera_events, seed_events, seed_site
from tests.store_helpers import run_command

pytestmark = pytest.mark.sql

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Key = tuple[int, str, int, int]


def expected_rollup(store: Store) -> dict[Key, int]:
    """The rollup computed here from the events as stored."""
    counts: Counter[Key] = Counter()
    with store.engine.connect() as connection:
        rows = connection.execute(select(Event.camera_id, Event.source, Event.ts)).all()
    for camera_id, source, ts in rows:
        seconds = int((ts - EPOCH).total_seconds() // 1)
        for span in ROLLUP_SPANS_S:
            key = (camera_id or 0, "" if camera_id else source, span, seconds // span)
            counts[key] += 1
    return dict(counts)


def stored_rollup(store: Store) -> dict[Key, int]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                EventRollup.camera_id,
                EventRollup.source,
                EventRollup.span_s,
                EventRollup.bucket,
                EventRollup.n,
            )
        ).all()
    return {(int(c), str(s), int(span), int(b)): int(n) for c, s, span, b, n in rows}


def test_the_rollup_follows_every_write_of_events(store: Store) -> None:
    cameras = seed_site(store)
    # Through the store writer, as the engine stores events: on a bucket's first
    # microsecond, on an hour's last one, and a camera-less sensing event.
    hour = T0.replace(minute=0, second=0)
    for ts, camera, source in (
        (hour, cameras["gate"], "camera:gate"),
        (hour - timedelta(microseconds=1), cameras["gate"], "camera:gate"),
        (hour + timedelta(minutes=5), None, "sensing:lab"),
        (hour + timedelta(minutes=5, seconds=1), None, "sensing:lab"),
    ):
        run_command(
            store,
            InsertEvent(ts=ts, kind="person.appeared", source=source, detail={}, camera_id=camera),
        )
    # A bulk insert: 600 events over three hours on both cameras and a room.
    rng = random.Random(4)
    rows: list[dict[str, Any]] = []
    for key in ("gate", "yard"):
        seconds = [rng.uniform(-3600, 7200) for _ in range(250)]
        rows.extend(camera_events(cameras[key], key, seconds))
    rows.extend(
        {"ts": T0 + timedelta(seconds=rng.uniform(-3600, 7200)), "source": "sensing:hall"}
        for _ in range(100)
    )
    seed_events(store, rows)
    assert stored_rollup(store) == expected_rollup(store)
    assert sum(n for key, n in stored_rollup(store).items() if key[2] == 300) == 604

    # Retention's purge deletes the oldest; their buckets go down, emptied ones go.
    purged = run_command(store, PurgeEvents(cutoff=T0))
    assert purged > 0
    assert stored_rollup(store) == expected_rollup(store)
    assert all(n > 0 for n in stored_rollup(store).values())

    # A moved event (its time and its source) moves between buckets.
    with store.transaction() as session:
        moved = session.scalars(select(Event.id).order_by(Event.id.desc()).limit(3)).all()
        session.execute(update(Event).where(Event.id.in_(moved)).values(ts=T0 + timedelta(days=2)))
        session.execute(
            update(Event).where(Event.source == "sensing:hall").values(source="sensing:hall-2")
        )
    assert stored_rollup(store) == expected_rollup(store)

    # A camera removed from the database: its events lose their camera (ON DELETE SET
    # NULL) and count under their source from then on.
    with store.transaction() as session:
        session.execute(delete(Camera).where(Camera.id == cameras["yard"]))
    after = stored_rollup(store)
    assert after == expected_rollup(store)
    assert not any(key[0] == cameras["yard"] for key in after)
    assert any(key[:2] == (0, "camera:yard") for key in after)


def test_the_migration_counts_the_events_stored_before_it(empty_db_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(empty_db_url), "0014")
    legacy = Store(empty_db_url, migrate=False)
    try:
        cameras = seed_site(legacy)
        rng = random.Random(9)
        seed_events(
            legacy,
            camera_events(cameras["gate"], "gate", [rng.uniform(0, 86400) for _ in range(300)])
            + [{"ts": T0 + timedelta(seconds=s), "source": "sensing:lab"} for s in (1, 2, 4000)],
        )
    finally:
        legacy.close()
    upgraded = Store(empty_db_url)
    try:
        assert stored_rollup(upgraded) == expected_rollup(upgraded)
        seed_events(upgraded, camera_events(cameras["gate"], "gate", [5.0]))
        assert stored_rollup(upgraded) == expected_rollup(upgraded)  # triggers in place
    finally:
        upgraded.close()


@pytest.mark.parametrize(
    ("span_s", "width_px", "start_s"),
    [
        (2 * 86400, 1400, -1234.5),  # 5-minute bars (rollup span 300)
        (3 * 86400, 300, 917.25),  # 1-hour bars (span 3600), ends cut by 5-min and raw
        (86400, 480, 3599.999),  # 15-minute bars (span 300)
        (7 * 86400, 1400, 1799.5),  # 30-minute bars (span 1800), ends cut by 5-min and raw
        (4 * 86400 + 77, 200, -1.0),  # 12-hour bars
    ],
)
def test_wide_windows_read_the_rollup_and_count_exactly(
    store: Store, span_s: float, width_px: int, start_s: float
) -> None:
    cameras = seed_site(store)
    rng = random.Random(int(span_s) + width_px)
    gate = [rng.uniform(-86400, 5 * 86400) for _ in range(3000)]
    # Events on the window's very edges and on bucket edges.
    gate += [start_s, start_s + span_s, start_s - 0.001, 0.0, 300.0, 3600.0, -0.000001]
    yard = [rng.uniform(-86400, 5 * 86400) for _ in range(1500)]
    lab = [rng.uniform(-86400, 5 * 86400) for _ in range(1200)]
    seed_events(store, camera_events(cameras["gate"], "gate", gate))
    seed_events(store, camera_events(cameras["yard"], "yard", yard))
    seed_events(store, [{"ts": T0 + timedelta(seconds=s), "source": "sensing:lab"} for s in lab])
    start = T0 + timedelta(seconds=start_s)
    end = start + timedelta(seconds=span_s)
    bucket_s = bucket_seconds(span_s, width_px)
    assert rollup_span(bucket_s) is not None

    statements: list[str] = []

    def on_statement(*args: Any) -> None:
        statements.append(args[2])

    sa_event.listen(store.engine, "before_cursor_execute", on_statement)
    try:
        found = TimelineRequest(
            start, end, width_px, ("camera:gate", "camera:yard", "sensing:lab")
        ).run(store)
    finally:
        sa_event.remove(store.engine, "before_cursor_execute", on_statement)
    assert any("event_rollup" in statement for statement in statements)
    assert len(statements) <= 9, statements

    for lane, seconds in (("camera:gate", gate), ("camera:yard", yard), ("sensing:lab", lab)):
        shown = found.lane(lane)
        assert shown is not None and shown.detail is LaneDetail.DENSITY, lane
        bars = shown.density
        assert bars is not None and bars.bucket_s == bucket_s
        # Compared in whole microseconds, as the database stores times.
        moments = [T0 + timedelta(microseconds=round(s * 1e6)) for s in seconds]
        inside = [at for at in moments if start <= at < end]
        expected = Counter(int((at - bars.origin) / timedelta(seconds=bucket_s)) for at in inside)
        assert {i: n for i, n in enumerate(bars.counts) if n} == dict(expected), lane
        assert shown.total == len(inside)


def test_the_rollup_is_not_used_for_buckets_it_does_not_divide() -> None:
    assert rollup_span(300.0) == 300
    assert rollup_span(900.0) == 300
    assert rollup_span(1800.0) == 1800
    assert rollup_span(7200.0) == 3600
    assert rollup_span(86400.0) == 3600
    assert rollup_span(120.0) is None
    assert rollup_span(0.5) is None


def test_deleting_a_buckets_last_event_removes_its_row(store: Store) -> None:
    cameras = seed_site(store)
    ids = seed_events(store, camera_events(cameras["gate"], "gate", [1.0, 2.0]))
    with store.transaction() as session:
        session.execute(delete(Event).where(Event.id.in_(ids)))
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM event_rollup")).scalar_one() == 0
