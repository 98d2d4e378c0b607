"""Retention on real files and real databases (SQLite and PostgreSQL): purges through the
store writer, bounded settings, and the retention thread on the engine clock."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import SimulatedClock
from engine.retention import (
    THREAD_NAME,
    RetentionPolicy,
    RetentionService,
    RetentionSettingError,
    load_policy,
    run_maintenance,
    run_retention,
)
from engine.store import Store
from engine.store.models import Event, Media, Setting
from engine.store.writer import StoreUnavailableError, StoreWriter
from tests.waiting import wait_until

pytestmark = pytest.mark.sql

REPO = Path(__file__).resolve().parents[2]
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
    # Each clip's boxes beside it (where its people were): they go with it.
    for clip in ("old", "evidence", "new"):
        (data / f"clips/{clip}.tracks.json").write_text("{}")

    report = run_retention(
        store, SimulatedClock(T0), data, RetentionPolicy(), disk_free=plenty_of_space
    )

    assert paths(store) == {"clips/evidence.mp4", "clips/new.mp4", "snapshots/new.jpg"}
    assert not (data / "clips/old.mp4").exists() and not (data / "snapshots/old.jpg").exists()
    assert sorted(p.name for p in (data / "clips").glob("*.tracks.json")) == [
        "evidence.tracks.json",
        "new.tracks.json",
    ]
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


def test_days_out_of_range_are_refused_with_an_error_naming_the_setting() -> None:
    with pytest.raises(RetentionSettingError, match=r"clips_days .* from 1 to 3650, got 1000000"):
        RetentionPolicy.from_values({"clips_days": 1000000})
    with pytest.raises(RetentionSettingError, match="events_days"):
        RetentionPolicy(events_days=0)
    with pytest.raises(RetentionSettingError, match="min_free_bytes"):
        RetentionPolicy.from_values({"min_free_bytes": -1})
    with pytest.raises(RetentionSettingError, match="person_delete_days"):
        RetentionPolicy.from_values({"person_delete_days": True})
    assert RetentionPolicy.from_values({"clips_days": 3650}).clips_days == 3650


def test_a_bad_stored_setting_does_not_stop_disk_pressure_relief(
    db_url: str, tmp_path: Path
) -> None:
    store, data = Store(db_url), tmp_path / "data"
    quota = 10 * MB

    def free(_path: Path) -> int:
        return quota - sum(f.stat().st_size for f in data.rglob("*") if f.is_file())

    add_media(store, data, "clip", "a-oldest.mp4", 5, 4 * MB)
    add_media(store, data, "clip", "b-newest.mp4", 1, 4 * MB)
    with store.transaction() as session:  # stored before validation existed
        session.add(
            Setting(
                key="retention",
                value={"clips_days": 1000000, "min_free_bytes": 5 * MB},
                updated_at=T0,
            )
        )
    policy, problems = load_policy(store)
    assert (policy.clips_days, policy.min_free_bytes) == (30, 5 * MB)
    assert len(problems) == 1 and "clips_days" in problems[0] and "default" in problems[0]

    with StoreWriter.running(store) as writer:
        run = run_maintenance(store, writer, SimulatedClock(T0), data, disk_free=free)
    assert run.retention is not None and run.retention.pressure_clips_deleted == 1
    assert paths(store) == {"clips/b-newest.mp4"} and not (data / "clips/a-oldest.mp4").exists()
    assert run.problem is not None and "clips_days" in run.problem
    store.close()


def test_retention_audit_rows_are_purged_by_age_like_other_events(
    db_url: str, tmp_path: Path
) -> None:
    store = Store(db_url)
    old_audit = add_event(store, 400, kind="retention.clip_deleted")
    old_sweep = add_event(store, 400, kind="media.swept")
    recent_audit = add_event(store, 10, kind="retention.clip_deleted")
    report = run_retention(
        store, SimulatedClock(T0), tmp_path / "data", RetentionPolicy(), disk_free=plenty_of_space
    )
    with store.sessions() as session:
        ids = set(session.scalars(select(Event.id)).all())
    assert report.events_deleted == 2
    assert recent_audit in ids and not ids & {old_audit, old_sweep}
    store.close()


def test_deletions_are_writer_commands_and_files_go_only_after_the_commit(
    tmp_path: Path,
) -> None:
    path, data = tmp_path / "r.db", tmp_path / "data"
    store = Store(f"sqlite:///{path}")
    add_media(store, data, "clip", "old.mp4", 40, 100)
    store.close()

    # A read-only database: the purge command fails, so the file must stay.
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    with (
        StoreWriter.running(read_only) as writer,
        pytest.raises(StoreUnavailableError, match="readonly"),
    ):
        run_retention(
            read_only,
            SimulatedClock(T0),
            data,
            RetentionPolicy(),
            writer=writer,
            disk_free=plenty_of_space,
        )
    read_only.close()
    assert (data / "clips/old.mp4").exists()

    store = Store(f"sqlite:///{path}")
    with StoreWriter.running(store) as writer:
        report = run_retention(
            store,
            SimulatedClock(T0),
            data,
            RetentionPolicy(),
            writer=writer,
            disk_free=plenty_of_space,
        )
        # two media purges, one event purge, one person pass: all through this writer
        assert writer.health().written == 4
    assert report.clips_deleted == 1 and not (data / "clips/old.mp4").exists()
    store.close()


def test_retention_run_on_a_read_only_database_exits_3_without_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.db"
    Store(f"sqlite:///{path}").close()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "console"),
            *("--db", f"sqlite:///file:{path}?mode=ro&uri=true", "retention", "run"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert "database cannot be written" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_retention_thread_runs_at_start_then_hourly_by_the_engine_clock(
    db_url: str, tmp_path: Path
) -> None:
    store, data = Store(db_url), tmp_path / "data"
    clock = SimulatedClock(T0)
    add_media(store, data, "clip", "old.mp4", 31, 100)
    with StoreWriter.running(store, clock=clock) as writer:
        service = RetentionService(store, writer, clock, data, disk_free=plenty_of_space)
        service.start()
        try:
            assert wait_until(lambda: service.runs == 1)
            assert paths(store) == set()  # the pass at start
            add_media(store, data, "clip", "next.mp4", 31, 100)
            assert clock.wait_for_waiters(1)  # the thread waits for the next hour ...
            clock.advance(3599)
            assert clock.wait_for_waiters(1) and service.runs == 1  # ... not a second less
            clock.advance(1)
            assert wait_until(lambda: service.runs == 2)
            assert paths(store) == set()
            last = service.last_run
            assert last is not None and last.retention is not None and last.problem is None
            assert last.retention.clips_deleted == 1
        finally:
            service.stop()
        assert not any(t.name == THREAD_NAME for t in threading.enumerate())
    store.close()


def test_the_person_delete_setting_is_named_for_what_retention_deletes(
    db_url: str, tmp_path: Path
) -> None:
    """``retention.person_delete_days`` counts from a person's archiving, not their last
    sighting: someone unseen for longer is archived this run, not deleted (the console
    called it "Delete people unseen for")."""
    from engine.settings import SETTING_TITLES, spec_for
    from engine.store.person_models import Person

    store, data = Store(db_url), tmp_path / "data"
    policy = RetentionPolicy(min_free_bytes=0)
    long_ago = T0 - timedelta(days=policy.person_delete_days + 100)
    with store.transaction() as session:
        session.add(Person(public_id="Person_0000AAAA", last_seen=long_ago, appearances=1))
        session.add(
            Person(
                public_id="Person_0000BBBB",
                last_seen=long_ago,
                appearances=1,
                archived_at=T0 - timedelta(days=policy.person_delete_days + 1),
            )
        )
    report = run_retention(store, SimulatedClock(T0), data, policy, disk_free=plenty_of_space)
    assert (report.persons_archived, report.persons_deleted) == (1, 1)
    with store.sessions() as session:
        assert session.scalars(select(Person.public_id)).all() == ["Person_0000AAAA"]
    store.close()
    title = SETTING_TITLES["retention.person_delete_days"]
    assert "archived" in title and "unseen" not in title
    assert "archived" in spec_for("retention.person_delete_days").description


def test_the_free_space_floor_says_it_deletes_clips_and_recording_segments() -> None:
    """Under the floor retention deletes the oldest unlocked clips and continuous-recording
    segments alike (tests/engine/test_segment_retention.py); the setting named clips only."""
    from engine.settings import spec_for

    words = spec_for("retention.min_free_bytes").description
    assert "clips" in words and "segments" in words
