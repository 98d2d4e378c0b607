"""Retention on real files and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import SimulatedClock
from engine.retention import RetentionPolicy, run_retention
from engine.store import Store
from engine.store.models import Event, Media, Setting

T0 = datetime(2026, 6, 1, tzinfo=UTC)
MB = 1024 * 1024


def add_media(
    store: Store,
    data: Path,
    kind: str,
    name: str,
    age_days: float,
    size: int,
    *,
    locked: bool = False,
    event_id: int | None = None,
) -> str:
    path = f"{kind}s/{name}"
    file = data / path
    file.parent.mkdir(parents=True, exist_ok=True)
    content = bytes([len(name) % 251]) * size
    file.write_bytes(content)
    with store.transaction() as session:
        session.add(
            Media(
                kind=kind,
                path=path,
                sha256=hashlib.sha256(content).hexdigest(),
                size_bytes=size,
                created_at=T0 - timedelta(days=age_days),
                locked=locked,
                event_id=event_id,
            )
        )
    return path


def add_event(store: Store, age_days: float, kind: str = "person.appeared") -> int:
    with store.transaction() as session:
        event = Event(ts=T0 - timedelta(days=age_days), kind=kind, source="camera:a", detail={})
        session.add(event)
        session.flush()
        return event.id


def paths(store: Store) -> set[str]:
    with store.sessions() as session:
        return set(session.scalars(select(Media.path)).all())


def plenty_of_space(_path: Path) -> int:
    return 10**15


def test_old_clips_and_events_go_locked_evidence_stays(db_url: str, tmp_path: Path) -> None:
    store, data = Store(db_url), tmp_path / "data"
    old_event = add_event(store, 400)
    evidence_event = add_event(store, 400)
    recent_event = add_event(store, 10)
    add_media(store, data, "clip", "old.mp4", 31, 1000)
    add_media(store, data, "clip", "evidence.mp4", 90, 1000, locked=True, event_id=evidence_event)
    add_media(store, data, "clip", "new.mp4", 29, 1000)
    add_media(store, data, "snapshot", "old.jpg", 366, 10)
    add_media(store, data, "snapshot", "new.jpg", 100, 10)

    report = run_retention(
        store, SimulatedClock(T0), data, RetentionPolicy(), disk_free=plenty_of_space
    )

    assert paths(store) == {"clips/evidence.mp4", "clips/new.mp4", "snapshots/new.jpg"}
    assert not (data / "clips/old.mp4").exists() and not (data / "snapshots/old.jpg").exists()
    assert (data / "clips/evidence.mp4").exists()
    assert (report.clips_deleted, report.snapshots_deleted, report.events_deleted) == (1, 1, 1)
    assert report.bytes_freed == 1010 and report.locked_kept == 1
    with store.sessions() as session:
        ids = set(session.scalars(select(Event.id)).all())
        audit = session.scalars(select(Event).where(Event.kind.like("retention.%"))).all()
    assert old_event not in ids and {evidence_event, recent_event} <= ids
    assert sorted(e.detail["path"] for e in audit) == ["clips/old.mp4", "snapshots/old.jpg"]
    store.close()


def test_disk_pressure_deletes_oldest_unlocked_clips_first(db_url: str, tmp_path: Path) -> None:
    store, data = Store(db_url), tmp_path / "data"
    quota = 10 * MB

    def free(_path: Path) -> int:  # a real 10 MB quota over the files actually on disk
        return quota - sum(f.stat().st_size for f in data.rglob("*") if f.is_file())

    add_media(store, data, "clip", "a-oldest.mp4", 5, 2 * MB)
    add_media(store, data, "clip", "b-locked.mp4", 4, 2 * MB, locked=True)
    add_media(store, data, "clip", "c.mp4", 3, 2 * MB)
    add_media(store, data, "clip", "d-newest.mp4", 1, 2 * MB)
    report = run_retention(
        store, SimulatedClock(T0), data, RetentionPolicy(min_free_bytes=5 * MB), disk_free=free
    )
    assert paths(store) == {"clips/b-locked.mp4", "clips/d-newest.mp4"}
    assert report.pressure_clips_deleted == 2 and report.floor_reached
    assert report.free_bytes_after == 6 * MB

    # Only locked evidence left and still under the floor: stop, say so, keep the evidence.
    report = run_retention(
        store, SimulatedClock(T0), data, RetentionPolicy(min_free_bytes=9 * MB), disk_free=free
    )
    assert paths(store) == {"clips/b-locked.mp4"}
    assert not report.floor_reached
    store.close()


def test_policy_overrides_come_from_settings_and_are_validated(db_url: str) -> None:
    store = Store(db_url)
    assert RetentionPolicy.from_settings(store) == RetentionPolicy()
    with store.transaction() as session:
        session.add(Setting(key="retention", value={"clips_days": 7}, updated_at=T0))
    assert RetentionPolicy.from_settings(store).clips_days == 7
    with store.transaction() as session:
        session.get(Setting, "retention").value = {"clip_days": 7}  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown retention settings: clip_days"):
        RetentionPolicy.from_settings(store)
    store.close()


def test_a_missing_file_does_not_stop_retention(tmp_path: Path) -> None:
    store, data = Store(f"sqlite:///{tmp_path / 'r.db'}"), tmp_path / "data"
    add_media(store, data, "clip", "gone.mp4", 40, 100)
    (data / "clips/gone.mp4").unlink()
    report = run_retention(
        store, SimulatedClock(T0), data, RetentionPolicy(), disk_free=plenty_of_space
    )
    assert report.clips_deleted == 1 and paths(store) == set()
    store.close()
