"""Tiered retention of continuous-recording segments on real files and real databases
(SQLite and PostgreSQL): a simulated month of hourly segments on two cameras with different
policies, purged with a fixed clock, keeps exactly what each tier says; disk pressure takes
the oldest unlocked footage, never a locked segment; a shared site's engine deletes only
its own segments."""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import SimulatedClock
from engine.config import RecordingConfig, load_site
from engine.record.retention_tiers import SegmentPolicies, load_segment_policies
from engine.retention import RetentionPolicy, run_retention
from engine.store import Store
from engine.store.alert_models import Alert, AlertSequence
from engine.store.models import Camera, Event, Media, Site
from engine.store.writer import StoreWriter
from tests.conftest import write_site

pytestmark = pytest.mark.sql

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
HISTORY_HOURS = 30 * 24
SEGMENT = timedelta(minutes=10)
SIZE = 100  # bytes per segment file
BOOKKEEPING = ("retention.", "media.", "recording.")

# Different on every tier, so a rule that used another camera's or another tier's days
# would keep a different set.
GATE = RecordingConfig(keep_all_days=2, keep_motion_days=6, keep_events_days=19)
YARD = RecordingConfig(keep_all_days=4, keep_motion_days=11, keep_events_days=15)
SITE = RecordingConfig(keep_all_days=1, keep_motion_days=3, keep_events_days=9)


@dataclass(frozen=True)
class Segment:
    path: str
    camera_id: int | None
    started_at: datetime
    ended_at: datetime
    motion_share: float | None
    people_seen: int | None
    locked: bool
    engine: str | None = None


@dataclass
class History:
    """What was stored, kept in Python to compute what each tier should keep."""

    segments: list[Segment]
    events: list[tuple[int | None, datetime, str]]  # camera row, ts, kind
    alerts: list[tuple[int | None, datetime, datetime]]  # camera row, started, last seen

    def __post_init__(self) -> None:
        self.events.sort(key=lambda e: e[1])
        self.alerts.sort(key=lambda a: a[1])
        self._event_ts = [ts for _, ts, _ in self.events]
        self._alert_starts = [started for _, started, _ in self.alerts]
        self._longest_alert = max((b - a for _, a, b in self.alerts), default=timedelta())

    def events_within(self, start: datetime, end: datetime) -> list[tuple[int | None, str]]:
        low, high = bisect_left(self._event_ts, start), bisect_right(self._event_ts, end)
        return [(camera, kind) for camera, _, kind in self.events[low:high]]

    def alerts_over(self, start: datetime, end: datetime) -> list[int | None]:
        low = bisect_left(self._alert_starts, start - self._longest_alert)
        high = bisect_right(self._alert_starts, end)
        return [camera for camera, _, last in self.alerts[low:high] if last >= start]


def add_cameras(store: Store, *keys: str) -> dict[str, int]:
    with store.transaction() as session:
        site = Site(name="Test site", geo_lat=51.5, geo_lon=-0.14, updated_at=NOW)
        session.add(site)
        session.flush()
        cameras = [
            Camera(site_id=site.id, key=key, name=key, url=f"file:{key}", source_kind="file")
            for key in keys
        ]
        session.add_all(cameras)
        session.flush()
        return {camera.key: camera.id for camera in cameras}


def store_history(store: Store, data: Path, history: History) -> None:
    """Write the segments' files and rows, the events and the alerts of ``history``."""
    with store.transaction() as session:
        for segment in history.segments:
            file = data / segment.path
            file.parent.mkdir(parents=True, exist_ok=True)
            content = segment.path.encode().ljust(SIZE, b".")
            file.write_bytes(content)
            session.add(
                Media(
                    kind="segment",
                    path=segment.path,
                    sha256=hashlib.sha256(content).hexdigest(),
                    size_bytes=len(content),
                    created_at=segment.started_at,
                    camera_id=segment.camera_id,
                    started_at=segment.started_at,
                    ended_at=segment.ended_at,
                    locked=segment.locked,
                    engine=segment.engine,
                    motion_share=segment.motion_share,
                    people_seen=segment.people_seen,
                )
            )
        for camera_id, ts, kind in history.events:
            session.add(Event(ts=ts, kind=kind, source="camera", camera_id=camera_id, detail={}))
        for number, (camera_id, started, last_seen) in enumerate(history.alerts):
            alert = Alert(
                raised_at=started,
                kind="person",
                source="camera",
                severity="warning",
                title="Person in view",
                last_seen_at=last_seen,
            )
            session.add(alert)
            session.flush()
            session.add(
                AlertSequence(
                    seq_key=f"seq-{number}",
                    alert_id=alert.id,
                    camera_id=camera_id,
                    source="camera",
                    trigger="person",
                    started_at=started,
                    last_seen_at=last_seen,
                    detections=3,
                )
            )


def month_of_segments(cameras: dict[str, int], policies: SegmentPolicies) -> History:
    """A segment every hour for 30 days on each camera (ending on the hour, so some end
    exactly on a tier's cutoff), and every 6 hours of no camera, with motion, people,
    events and alerts in overlapping patterns, and some locked. Next to each thing that
    holds a segment is a near miss that must not: an event just after it, a bookkeeping
    event inside it, another camera's event or alert inside it. On each tier's cutoff of
    each camera's policy, a one-second segment with only that tier's reason to be kept
    ends exactly on it (kept) and another a microsecond earlier (not kept)."""
    history = History([], [], [])  # indexed at the end
    others = {cameras["gate"]: cameras["yard"], cameras["yard"]: cameras["gate"]}
    series = [(key, cameras[key], 1) for key in ("gate", "yard")] + [("none", None, 6)]
    for key, camera_id, every in series:
        for hour in range(0, HISTORY_HOURS, every):
            ended = NOW - timedelta(hours=hour)
            started = ended - SEGMENT
            history.segments.append(
                Segment(
                    path=f"segments/{key}/{hour:04d}.mp4",
                    camera_id=camera_id,
                    started_at=started,
                    ended_at=ended,
                    motion_share={1: 0.4, 2: 0.0}.get(hour % 3),
                    people_seen={0: 2, 1: 0}.get(hour % 5),
                    locked=hour % 17 == 0,
                )
            )
            other = others.get(camera_id) if camera_id is not None else cameras["gate"]
            if hour % 7 == 0:  # something happened in view
                history.events.append((camera_id, started + SEGMENT / 2, "person.appeared"))
            if hour % 7 == 2:  # at the very end of the span: still inside
                history.events.append((camera_id, ended, "camera.motion"))
            if hour % 7 == 3:  # the recording's own record: holds nothing
                history.events.append((camera_id, started + SEGMENT / 2, "recording.gap"))
            if hour % 7 == 4:  # retention's own record: holds nothing
                history.events.append((camera_id, started, "retention.clip_deleted"))
            if hour % 7 == 5:  # another camera's event
                history.events.append((other, started + SEGMENT / 2, "person.appeared"))
            if hour % 7 == 6:  # just after the segment
                history.events.append((camera_id, ended + timedelta(seconds=1), "person.left"))
            if hour % 13 == 2:  # an alert begun before the segment, seen into it
                history.alerts.append((camera_id, started - SEGMENT, started + SEGMENT / 3))
            if hour % 13 == 5:  # an alert inside it
                history.alerts.append((camera_id, started + SEGMENT / 3, ended - SEGMENT / 3))
            if hour % 13 == 8:  # another camera's alert over it
                history.alerts.append((other, started - SEGMENT, ended + SEGMENT))
            if hour % 13 == 11:  # an alert that ended just before it
                history.alerts.append(
                    (camera_id, started - SEGMENT, started - timedelta(seconds=1))
                )
        policy = policies.of(camera_id)
        edges: tuple[tuple[str, int, dict[str, Any]], ...] = (
            ("all", policy.keep_all_days, {}),
            ("motion", policy.keep_motion_days, {"motion_share": 0.1}),
            ("events", policy.keep_events_days, {"people_seen": 1}),
        )
        for tier, days, reason in edges:
            for name, early in (("on", timedelta()), ("before", timedelta(microseconds=1))):
                ended = NOW - timedelta(days=days) - early
                base = Segment(
                    f"segments/{key}/edge-{tier}-{name}.mp4",
                    camera_id,
                    ended - timedelta(seconds=1),
                    ended,
                    None,
                    None,
                    False,
                )
                history.segments.append(replace(base, **reason))
    return History(history.segments, history.events, history.alerts)


# -- what the rule says, computed without SQL -------------------------------------------
def eventful(
    segment: Segment,
    history: History,
    *,
    alerts: bool = True,
    bookkeeping: bool = False,
    any_camera: bool = False,
) -> bool:
    """People seen, an event of its camera in its span (bookkeeping aside) or an alert of
    its camera over it; the keywords give the wrong variants."""

    def ours(camera: int | None) -> bool:
        return any_camera or (camera is not None and camera == segment.camera_id)

    start, end = segment.started_at, segment.ended_at
    return (
        bool(segment.people_seen)
        or any(
            ours(camera) and (bookkeeping or not kind.startswith(BOOKKEEPING))
            for camera, kind in history.events_within(start, end)
        )
        or (alerts and any(ours(camera) for camera in history.alerts_over(start, end)))
    )


def kept_by_rule(
    segment: Segment, policy: RecordingConfig, held_by_events: bool, now: datetime = NOW
) -> bool:
    """The documented rule: locked; or within keep_all; or with motion within keep_motion;
    or eventful within keep_events (ages counted back from ``now`` to the segment's end)."""
    end = segment.ended_at
    return (
        segment.locked
        or end >= now - timedelta(days=policy.keep_all_days)
        or (bool(segment.motion_share) and end >= now - timedelta(days=policy.keep_motion_days))
        or (held_by_events and end >= now - timedelta(days=policy.keep_events_days))
    )


Rule = Callable[[Segment, RecordingConfig, History], bool]


def right_rule(s: Segment, p: RecordingConfig, h: History) -> bool:
    return kept_by_rule(s, p, eventful(s, h))


def expected_kept(history: History, policies: SegmentPolicies, rule: Rule = right_rule) -> set[str]:
    return {s.path for s in history.segments if rule(s, policies.of(s.camera_id), history)}


# Rules a plausible bug would apply instead; the history must tell each from the right one.
WRONG_RULES: dict[str, Rule] = {
    "tiers swapped": lambda s, p, h: kept_by_rule(
        s,
        replace(p, keep_motion_days=p.keep_events_days, keep_events_days=p.keep_motion_days),
        eventful(s, h),
    ),
    "age by start": lambda s, p, h: kept_by_rule(
        replace(s, ended_at=s.started_at), p, eventful(s, h)
    ),
    "cutoff exclusive": lambda s, p, h: kept_by_rule(
        replace(s, ended_at=s.ended_at - timedelta(microseconds=1)), p, eventful(s, h)
    ),
    "a day more of everything": lambda s, p, h: kept_by_rule(
        s, replace(p, keep_all_days=p.keep_all_days + 1), eventful(s, h)
    ),
    "alerts ignored": lambda s, p, h: kept_by_rule(s, p, eventful(s, h, alerts=False)),
    "bookkeeping counted": lambda s, p, h: kept_by_rule(s, p, eventful(s, h, bookkeeping=True)),
    "any camera's": lambda s, p, h: kept_by_rule(s, p, eventful(s, h, any_camera=True)),
    "locks ignored": lambda s, p, h: kept_by_rule(replace(s, locked=False), p, eventful(s, h)),
    "motion as an event": lambda s, p, h: kept_by_rule(
        replace(s, motion_share=None), p, eventful(s, h) or bool(s.motion_share)
    ),
    "people ignored": lambda s, p, h: kept_by_rule(s, p, eventful(replace(s, people_seen=None), h)),
}


def stored_paths(store: Store) -> set[str]:
    with store.sessions() as session:
        return set(session.scalars(select(Media.path).where(Media.kind == "segment")))


def files_on_disk(data: Path) -> set[str]:
    return {str(f.relative_to(data)) for f in (data / "segments").rglob("*.mp4")}


def plenty_of_space(_path: Path) -> int:
    return 10**15


def test_each_tier_keeps_exactly_what_its_rule_says(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    cameras = add_cameras(store, "gate", "yard")
    policies = SegmentPolicies(SITE, {cameras["gate"]: GATE, cameras["yard"]: YARD})
    history = month_of_segments(cameras, policies)
    store_history(store, data, history)
    expected = expected_kept(history, policies)
    everything = {s.path for s in history.segments}
    # On each tier's cutoff a segment is still kept; a microsecond older, it goes.
    for key in ("gate", "yard", "none"):
        for tier in ("all", "motion", "events"):
            assert f"segments/{key}/edge-{tier}-on.mp4" in expected
            assert f"segments/{key}/edge-{tier}-before.mp4" not in expected
    # The month tells the right rule from each wrong one, so a wrong one fails below.
    for name, wrong in WRONG_RULES.items():
        assert expected_kept(history, policies, wrong) != expected, name
    # And each tier holds segments that no shorter tier holds.
    held: dict[str, set[str]] = {"motion": set(), "events": set(), "lock": set()}
    for s in history.segments:
        policy, end = policies.of(s.camera_id), s.ended_at
        if s.path not in expected or end >= NOW - timedelta(days=policy.keep_all_days):
            continue
        if s.locked and end < NOW - timedelta(days=policy.keep_events_days):
            held["lock"].add(s.path)
        elif not s.locked and end < NOW - timedelta(days=policy.keep_motion_days):
            held["events"].add(s.path)
        elif not s.locked and not eventful(s, history):
            held["motion"].add(s.path)
    assert all(held.values()), {tier: len(paths) for tier, paths in held.items()}

    report = run_retention(
        store,
        SimulatedClock(NOW),
        data,
        RetentionPolicy(),
        disk_free=plenty_of_space,
        segments=policies,
    )

    assert stored_paths(store) == expected
    assert files_on_disk(data) == expected  # deleted rows' files gone, kept ones there
    gone = everything - expected
    assert report.segments_deleted == len(gone) and report.pressure_segments_deleted == 0
    assert report.bytes_freed == SIZE * len(gone) and set(report.deleted_paths) == gone
    with store.sessions() as session:
        recorded = session.execute(
            select(Event.detail, Event.camera_id).where(Event.kind == "retention.segments_deleted")
        ).all()
    # One event per camera and batch (segments go by the thousand): counts, bytes, span.
    gone_by_camera: dict[int | None, list[str]] = {}
    for segment in history.segments:
        if segment.path in gone:
            gone_by_camera.setdefault(segment.camera_id, []).append(segment.path)
    assert {c: d["count"] for d, c in recorded} == {c: len(p) for c, p in gone_by_camera.items()}
    assert len(recorded) == len(gone_by_camera)
    for detail, camera in recorded:
        assert detail["size_bytes"] == SIZE * detail["count"] and detail["reason"] == "age"
        assert set(detail["paths"]) <= set(gone_by_camera[camera])

    # A second pass an hour later deletes only what aged out in that hour, by the same rule.
    later = NOW + timedelta(hours=1)
    report = run_retention(
        store,
        SimulatedClock(later),
        data,
        RetentionPolicy(),
        disk_free=plenty_of_space,
        segments=policies,
    )
    still = expected_kept(
        history, policies, lambda s, p, h: kept_by_rule(s, p, eventful(s, h), later)
    )
    assert stored_paths(store) == still and files_on_disk(data) == still
    assert report.segments_deleted == len(expected - still) > 0


def test_without_recording_policies_segments_go_only_for_disk_pressure(
    store: Store, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    cameras = add_cameras(store, "gate", "yard")
    history = month_of_segments(cameras, SegmentPolicies(SITE))
    store_history(store, data, history)
    report = run_retention(
        store, SimulatedClock(NOW), data, RetentionPolicy(), disk_free=plenty_of_space
    )
    assert report.segments_deleted == 0
    assert stored_paths(store) == {s.path for s in history.segments}


def test_disk_pressure_deletes_oldest_unlocked_footage_never_a_locked_segment(
    store: Store, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    cameras = add_cameras(store, "gate", "yard")
    kb = 1024
    quota = 100 * kb

    def free(_path: Path) -> int:  # a real quota over the files actually on disk
        return quota - sum(f.stat().st_size for f in data.rglob("*") if f.is_file())

    def footage(kind: str, name: str, age_hours: int, *, locked: bool = False) -> None:
        path = f"{kind}s/{name}.mp4"
        (data / path).parent.mkdir(parents=True, exist_ok=True)
        (data / path).write_bytes(b"x" * 10 * kb)
        started = NOW - timedelta(hours=age_hours)
        with store.transaction() as session:
            session.add(
                Media(
                    kind=kind,
                    path=path,
                    sha256="0" * 64,
                    size_bytes=10 * kb,
                    created_at=started,
                    camera_id=cameras["gate"],
                    started_at=started,
                    ended_at=started + SEGMENT,
                    locked=locked,
                    # Recent and eventful: every tier would keep these by age.
                    motion_share=1.0 if kind == "segment" else None,
                    people_seen=3 if kind == "segment" else None,
                )
            )

    footage("segment", "a-oldest-locked", 9, locked=True)
    footage("segment", "b", 8)
    footage("clip", "c", 7)
    footage("segment", "d-locked", 6, locked=True)
    footage("segment", "e", 5)
    footage("clip", "f", 4)
    footage("segment", "g", 3)
    footage("segment", "h-newest", 2)
    policies = SegmentPolicies(SITE, {cameras["gate"]: GATE})

    # 80 KB on disk, 20 KB free: 45 KB wanted takes the three oldest unlocked (b, c, e).
    report = run_retention(
        store,
        SimulatedClock(NOW),
        data,
        RetentionPolicy(min_free_bytes=45 * kb),
        disk_free=free,
        segments=policies,
    )
    with store.sessions() as session:
        left = set(session.scalars(select(Media.path)))
    assert left == {
        "segments/a-oldest-locked.mp4",
        "segments/d-locked.mp4",
        "clips/f.mp4",
        "segments/g.mp4",
        "segments/h-newest.mp4",
    }
    assert report.pressure_segments_deleted == 2 and report.pressure_clips_deleted == 1
    assert report.segments_deleted == 0 and report.floor_reached
    assert not (data / "segments/b.mp4").exists() and (data / "segments/g.mp4").exists()

    # Wanting more than the unlocked footage: all of it goes, the locked segments stay.
    report = run_retention(
        store,
        SimulatedClock(NOW),
        data,
        RetentionPolicy(min_free_bytes=quota),
        disk_free=free,
        segments=policies,
    )
    with store.sessions() as session:
        left = set(session.scalars(select(Media.path)))
    assert left == {"segments/a-oldest-locked.mp4", "segments/d-locked.mp4"}
    assert (data / "segments/a-oldest-locked.mp4").is_file()
    assert (data / "segments/d-locked.mp4").is_file()
    assert not report.floor_reached and report.pressure_segments_deleted == 2


def test_an_engine_of_a_shared_site_deletes_only_its_own_segments(
    store: Store, tmp_path: Path
) -> None:
    data_a, data_b = tmp_path / "server-a", tmp_path / "server-b"
    cameras = add_cameras(store, "gate", "yard")
    policies = SegmentPolicies(SITE, {cameras["gate"]: GATE, cameras["yard"]: YARD})
    history = month_of_segments(cameras, policies)
    # gate's footage is kept by server-a, yard's and the camera-less by server-b.
    owned = History(
        [
            replace(s, engine="server-a" if s.camera_id == cameras["gate"] else "server-b")
            for s in history.segments
        ],
        history.events,
        history.alerts,
    )
    mine = [s for s in owned.segments if s.engine == "server-a"]
    theirs = [s for s in owned.segments if s.engine == "server-b"]
    store_history(store, data_a, History(mine, owned.events, owned.alerts))
    store_history(store, data_b, History(theirs, [], []))

    with StoreWriter.running(store, engine_name="server-a") as writer:
        report = run_retention(
            store,
            SimulatedClock(NOW),
            data_a,
            RetentionPolicy(),
            writer=writer,
            disk_free=plenty_of_space,
            segments=policies,
        )
    kept_mine = {s.path for s in mine} & expected_kept(owned, policies)
    assert kept_mine != {s.path for s in mine}  # server-a had something to delete
    assert stored_paths(store) == kept_mine | {s.path for s in theirs}
    assert files_on_disk(data_a) == kept_mine
    assert files_on_disk(data_b) == {s.path for s in theirs}
    assert report.segments_deleted == len(mine) - len(kept_mine)

    # Short of space, server-a still deletes nothing of server-b's.
    with StoreWriter.running(store, engine_name="server-a") as writer:
        report = run_retention(
            store,
            SimulatedClock(NOW),
            data_a,
            RetentionPolicy(min_free_bytes=10**9),
            writer=writer,
            disk_free=lambda _path: 0,
            segments=policies,
        )
    locked_mine = {s.path for s in mine if s.locked}
    assert stored_paths(store) == locked_mine | {s.path for s in theirs}
    assert files_on_disk(data_b) == {s.path for s in theirs}
    assert not report.floor_reached


def test_policies_come_from_the_site_file_by_camera_row(store: Store, tmp_path: Path) -> None:
    site_file = write_site(
        tmp_path / "site.toml",
        cameras=(
            '[[cameras]]\nid = "gate"\nurl = "gate.mp4"\n'
            "recording = { keep_all_days = 2, keep_events_days = 19 }\n"
            '[[cameras]]\nid = "yard"\nurl = "yard.mp4"\n'
        ),
        extra="[recording]\nkeep_all_days = 1\nkeep_motion_days = 6\nkeep_events_days = 9\n",
    )
    site = load_site(site_file)
    cameras = add_cameras(store, "gate", "unknown")
    policies = load_segment_policies(store, site)
    site_policy = RecordingConfig(keep_all_days=1, keep_motion_days=6, keep_events_days=9)
    assert policies.of(cameras["gate"]) == replace(
        site_policy, keep_all_days=2, keep_events_days=19
    )
    # A camera the site file does not name (or no camera): the site's [recording].
    assert policies.of(cameras["unknown"]) == site_policy
    assert policies.of(None) == site_policy
