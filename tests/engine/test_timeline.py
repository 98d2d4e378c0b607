"""The investigator's timeline on real SQLite and PostgreSQL: markers or density bars by how
many rows a lane has in the window, exact counts per bucket, every lane kind (cameras, sensing
rooms, alerts, incidents, bookmarks as ranges), and thumbnails decoded from a real snapshot
and a real clip."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import insert

from engine.cv import import_cv2
from engine.history import timeline
from engine.history.timeline import (
    LANE_ALERTS,
    LANE_BOOKMARKS,
    LANE_INCIDENTS,
    LaneDetail,
    MarkerRecord,
    TimelineRequest,
    TimelineThumbnailRequest,
    bucket_origin,
    bucket_seconds,
    marker_cap,
)
from engine.store import Store
from engine.store.alert_models import Alert
from engine.store.history_models import Bookmark
from engine.store.incident_models import Incident
from engine.store.models import Camera, Event, Media, Site
from engine.store.person_models import Person

pytestmark = pytest.mark.sql

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
WIDTH_PX = 40  # a narrow pane: at most 10 markers per lane
CLIP_REL = "clips/gate/clip.avi"
SNAPSHOT_REL = "snapshots/gate/snap.jpg"
CLIP_FPS = 10


def seed_site(store: Store, *, disabled: tuple[str, ...] = ()) -> dict[str, int]:
    """A site with cameras ``gate``, ``yard`` (and ``old``, disabled when asked)."""
    with store.transaction() as session:
        site_id = session.execute(
            insert(Site).returning(Site.id),
            [{"name": "Test", "geo_lat": 0.0, "geo_lon": 0.0, "updated_at": T0}],
        ).scalar_one()
        ids = {}
        for key in ("gate", "yard", *disabled):
            ids[key] = session.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site_id,
                        "key": key,
                        "name": f"{key.title()} camera",
                        "url": f"{key}.mp4",
                        "source_kind": "file",
                        "enabled": key not in disabled,
                    }
                ],
            ).scalar_one()
    return ids


def seed_events(store: Store, rows: list[dict[str, Any]]) -> list[int]:
    defaults: dict[str, Any] = {
        "kind": "person.appeared",
        "source": "engine",
        "site_id": None,
        "camera_id": None,
        "track_id": None,
        "person_id": None,
        "detail": {},
    }
    with store.transaction() as session:
        return list(
            session.execute(
                insert(Event).returning(Event.id), [{**defaults, **row} for row in rows]
            ).scalars()
        )


def camera_events(
    camera_id: int, key: str, seconds: list[float], **extra: Any
) -> list[dict[str, Any]]:
    return [
        {
            "ts": T0 + timedelta(seconds=s),
            "source": f"camera:{key}",
            "camera_id": camera_id,
            **extra,
        }
        for s in seconds
    ]


def seed_media(store: Store, rows: list[dict[str, Any]]) -> None:
    defaults = {"sha256": "0" * 64, "size_bytes": 1, "locked": False}
    with store.transaction() as session:
        session.execute(insert(Media), [{**defaults, **row} for row in rows])


def window(seconds: float, start_s: float = 0.0) -> tuple[datetime, datetime]:
    start = T0 + timedelta(seconds=start_s)
    return start, start + timedelta(seconds=seconds)


def test_few_events_come_back_as_markers_with_person_and_clip(store: Store) -> None:
    cameras = seed_site(store)
    with store.transaction() as session:
        person_id = session.execute(
            insert(Person).returning(Person.id),
            [{"public_id": "Person_00000001", "name": "Alice Ward", "appearances": 1}],
        ).scalar_one()
    ids = seed_events(
        store,
        camera_events(cameras["gate"], "gate", [10, 20])
        + camera_events(
            cameras["gate"],
            "gate",
            [30],
            kind="face.recognised",
            person_id=person_id,
            detail={"name": "Alice Ward"},
        )
        + camera_events(cameras["yard"], "yard", [15], kind="camera.offline"),
    )
    seed_media(
        store,
        [
            {
                "kind": "clip",
                "path": "clips/gate/a.mp4",
                "created_at": T0 + timedelta(seconds=25),
                "camera_id": cameras["gate"],
                "started_at": T0 + timedelta(seconds=25),
                "ended_at": T0 + timedelta(seconds=33),
            }
        ],
    )
    start, end = window(60)
    found = TimelineRequest(start, end, WIDTH_PX, ("camera:gate", "camera:yard")).run(store)

    assert [lane.name for lane in found.lanes] == ["camera:gate", "camera:yard"]
    gate = found.lanes[0]
    assert gate.label == "Gate camera"
    assert gate.detail is LaneDetail.MARKERS and gate.density is None
    assert [m.id for m in gate.markers] == ids[:3]  # oldest first
    assert [m.ts for m in gate.markers] == [T0 + timedelta(seconds=s) for s in (10, 20, 30)]
    recognised = gate.markers[2]
    assert recognised.record is MarkerRecord.EVENT
    assert recognised.kind == "face.recognised"
    assert recognised.person == "Alice Ward"
    assert recognised.summary == "Alice Ward"
    assert recognised.camera == "gate"
    assert recognised.event_id == ids[2]
    assert recognised.clip_path == "clips/gate/a.mp4"
    assert recognised.clip_offset_s == pytest.approx(5.0)
    assert gate.markers[0].clip_path is None  # no clip covers t = 10 s
    assert found.lane("camera:yard") is not None
    assert [m.kind for m in found.lanes[1].markers] == ["camera.offline"]
    assert gate.total == 3


def test_busy_lanes_come_back_as_density_bars_whose_counts_equal_the_rows(
    store: Store,
) -> None:
    cameras = seed_site(store)
    # 200 events over ten minutes on the gate, uneven; 4 on the yard (markers).
    gate_seconds = [i * 1.5 for i in range(150)] + [400 + i * 0.25 for i in range(50)]
    seed_events(store, camera_events(cameras["gate"], "gate", gate_seconds))
    seed_events(store, camera_events(cameras["yard"], "yard", [5, 6, 7, 500]))
    start, end = window(600, start_s=-37.0)  # a window not aligned on buckets
    cap = marker_cap(WIDTH_PX)
    found = TimelineRequest(start, end, WIDTH_PX, ("camera:gate", "camera:yard")).run(store)

    gate = found.lane("camera:gate")
    assert gate is not None and gate.detail is LaneDetail.DENSITY
    assert gate.markers == ()
    bars = gate.density
    assert bars is not None
    assert bars.bucket_s == found.bucket_s == bucket_seconds(600, WIDTH_PX)
    assert bars.origin == bucket_origin(start, bars.bucket_s) <= start
    assert bars.bucket_start(len(bars.counts)) >= end
    inside = [s for s in gate_seconds if start <= T0 + timedelta(seconds=s) < end]
    assert bars.total == gate.total == len(inside)
    expected = Counter(
        int(((T0 + timedelta(seconds=s)) - bars.origin) / timedelta(seconds=bars.bucket_s))
        for s in inside
    )
    assert {i: n for i, n in enumerate(bars.counts) if n} == dict(expected)
    assert bars.peak == max(expected.values())

    yard = found.lane("camera:yard")
    assert yard is not None and yard.detail is LaneDetail.MARKERS
    assert len(yard.markers) == 4 <= cap

    # Exactly the cap is still markers; one more is density.
    start2, end2 = window(cap * 1.5 - 0.75)  # the first `cap` gate events
    narrow = TimelineRequest(start2, end2, WIDTH_PX, ("camera:gate",)).run(store)
    assert narrow.lanes[0].detail is LaneDetail.MARKERS
    assert len(narrow.lanes[0].markers) == cap
    start3, end3 = window(cap * 1.5 + 0.1)
    wider = TimelineRequest(start3, end3, WIDTH_PX, ("camera:gate",)).run(store)
    assert wider.lanes[0].detail is LaneDetail.DENSITY
    assert wider.lanes[0].total == cap + 1


def test_buckets_stay_put_when_the_window_pans(store: Store) -> None:
    cameras = seed_site(store)
    seed_events(store, camera_events(cameras["gate"], "gate", [i * 0.5 for i in range(2000)]))
    first = TimelineRequest(*window(600), WIDTH_PX, ("camera:gate",)).run(store)
    panned = TimelineRequest(*window(600, start_s=61.0), WIDTH_PX, ("camera:gate",)).run(store)
    a, b = first.lanes[0].density, panned.lanes[0].density
    assert a is not None and b is not None
    shift = round((b.origin - a.origin) / timedelta(seconds=a.bucket_s))
    assert b.origin == a.bucket_start(shift)
    # Whole buckets inside both windows have the same counts.
    assert a.counts[shift + 1 : -1] == b.counts[1 : len(a.counts) - shift - 1]


def test_default_lanes_are_the_site_cameras_rooms_alerts_incidents_bookmarks(
    store: Store,
) -> None:
    cameras = seed_site(store, disabled=("old",))
    seed_events(
        store,
        [
            {"ts": T0, "kind": "sensing.blob_appeared", "source": "sensing:lab", "track_id": 3},
            {"ts": T0, "kind": "engine.started", "source": "engine"},
            *camera_events(cameras["gate"], "gate", [1]),
        ],
    )
    with store.transaction() as session:
        session.execute(
            insert(Bookmark),
            [bookmark_row("Hall note", 100, 10, room="hall")],
        )
    found = TimelineRequest(*window(60), 1400).run(store)
    assert [lane.name for lane in found.lanes] == [
        "camera:gate",
        "camera:yard",
        "sensing:hall",
        "sensing:lab",
        LANE_ALERTS,
        LANE_INCIDENTS,
        LANE_BOOKMARKS,
    ]
    lab = found.lane("sensing:lab")
    assert lab is not None and lab.label == "lab"
    assert [(m.kind, m.room, m.camera) for m in lab.markers] == [
        ("sensing.blob_appeared", "lab", None)
    ]
    assert found.lane("camera:yard") is not None
    assert all(lane.total == 0 for lane in found.lanes if lane.name == "camera:yard")
    # A disabled camera is not listed by default but can be asked for by name.
    old = TimelineRequest(*window(60), 1400, ("camera:old",)).run(store)
    assert old.lanes[0].label == "Old camera"


def test_rooms_keep_their_lanes_in_windows_without_their_events(store: Store) -> None:
    seed_site(store)
    seed_events(
        store,
        [
            {"ts": T0 - timedelta(days=3), "source": "sensing:lab"},
            {"ts": T0 + timedelta(days=2), "source": "sensing:hall"},
            {"ts": T0, "source": "engine"},
            {"ts": T0, "source": "system"},  # a camera-less source after the rooms
        ],
    )
    found = TimelineRequest(*window(60), 1400).run(store)
    rooms = [lane.name for lane in found.lanes if lane.name.startswith("sensing:")]
    assert rooms == ["sensing:hall", "sensing:lab"]
    assert all(lane.total == 0 for lane in found.lanes if lane.name in rooms)


def test_sensing_lane_counts_only_its_room(store: Store) -> None:
    seed_site(store)
    rows = [
        {
            "ts": T0 + timedelta(seconds=i * 0.1),
            "kind": "sensing.blob_appeared",
            "source": f"sensing:{'lab' if i % 3 else 'hall'}",
        }
        for i in range(300)
    ]
    seed_events(store, rows)
    found = TimelineRequest(*window(30), WIDTH_PX, ("sensing:lab", "sensing:hall")).run(store)
    lab, hall = found.lanes
    assert lab.detail is hall.detail is LaneDetail.DENSITY
    assert lab.total == 200 and hall.total == 100


def alert_row(seconds: float, kind: str, severity: str, **extra: Any) -> dict[str, Any]:
    return {
        "raised_at": T0 + timedelta(seconds=seconds),
        "kind": kind,
        "source": extra.pop("source", "camera:gate"),
        "severity": severity,
        "title": f"{kind} alert",
        "detail": {},
        **extra,
    }


def incident_row(seconds: float, category: str, severity: int) -> dict[str, Any]:
    at = T0 + timedelta(seconds=seconds)
    return {
        "occurred_at": at,
        "last_report_at": at,
        "latitude": 51.5,
        "longitude": -0.14,
        "cell": 1,
        "category": category,
        "severity": severity,
        "confidence": 0.9,
        "classifier": "keywords",
        "category_basis": "single",
        "llm_pending": False,
        "report_count": 2,
        "reporter_count": 2,
    }


def bookmark_row(
    title: str,
    marked_s: float,
    pad_s: float,
    *,
    camera_id: int | None = None,
    room: str | None = None,
) -> dict[str, Any]:
    marked = T0 + timedelta(seconds=marked_s)
    return {
        "title": title,
        "note": "",
        "marked_at": marked,
        "pre_s": pad_s,
        "post_s": pad_s,
        "started_at": marked - timedelta(seconds=pad_s),
        "ended_at": marked + timedelta(seconds=pad_s),
        "camera_id": camera_id,
        "room": room,
        "author": "ada",
        "created_at": marked,
    }


def test_alerts_incidents_and_bookmarks_lanes(store: Store) -> None:
    cameras = seed_site(store)
    (event_id,) = seed_events(store, camera_events(cameras["gate"], "gate", [40]))
    seed_media(
        store,
        [
            {
                "kind": "clip",
                "path": "clips/gate/b.mp4",
                "created_at": T0 + timedelta(seconds=38),
                "camera_id": cameras["gate"],
                "started_at": T0 + timedelta(seconds=38),
                "ended_at": T0 + timedelta(seconds=46),
            }
        ],
    )
    with store.transaction() as session:
        session.execute(
            insert(Alert),
            [
                alert_row(41, "person", "warning", event_id=event_id),
                alert_row(50, "fall", "critical", source="sensing:lab"),
                alert_row(500, "person", "info"),  # outside the window
            ],
        )
        session.execute(insert(Incident), [incident_row(20, "theft", 3)])
        session.execute(
            insert(Bookmark),
            [
                bookmark_row("Before the window", -5, 10, camera_id=cameras["gate"]),
                bookmark_row("Inside", 30, 2),
                bookmark_row("Long after", 400, 5),
            ],
        )
    start, end = window(120)
    found = TimelineRequest(start, end, 1400, (LANE_ALERTS, LANE_INCIDENTS, LANE_BOOKMARKS)).run(
        store
    )
    alerts = found.lane(LANE_ALERTS)
    assert alerts is not None and alerts.label == "Alerts"
    person, fall = alerts.markers
    assert (person.record, person.kind, person.severity) == (
        MarkerRecord.ALERT,
        "person",
        "warning",
    )
    assert person.camera == "gate" and person.event_id == event_id
    assert person.clip_path == "clips/gate/b.mp4"
    assert person.clip_offset_s == pytest.approx(2.0)  # the event's moment in the clip
    assert person.summary == "person alert"
    assert (fall.kind, fall.severity, fall.room, fall.camera) == ("fall", "critical", "lab", None)

    incidents = found.lane(LANE_INCIDENTS)
    assert incidents is not None
    (theft,) = incidents.markers
    assert (theft.record, theft.kind, theft.severity) == (MarkerRecord.INCIDENT, "theft", "3")
    assert "theft" in theft.summary and "2 reports" in theft.summary

    bookmarks = found.lane(LANE_BOOKMARKS)
    assert bookmarks is not None
    assert [m.summary for m in bookmarks.markers] == ["Before the window", "Inside"]
    before = bookmarks.markers[0]
    assert before.is_range and before.record is MarkerRecord.BOOKMARK
    assert before.ts == T0 - timedelta(seconds=15) < start  # overlaps the window's start
    assert before.ended_at == T0 + timedelta(seconds=5)
    assert before.camera == "gate" and before.person == "ada"


def test_busy_alerts_lane_is_counted(store: Store) -> None:
    seed_site(store)
    with store.transaction() as session:
        session.execute(insert(Alert), [alert_row(i, "person", "info") for i in range(40)])
    found = TimelineRequest(*window(60), WIDTH_PX, (LANE_ALERTS,)).run(store)
    lane = found.lanes[0]
    assert lane.detail is LaneDetail.DENSITY and lane.total == 40


def test_a_slice_costs_a_few_statements_whatever_the_lanes(store: Store) -> None:
    cameras = seed_site(store)
    seed_events(store, camera_events(cameras["gate"], "gate", [i * 0.1 for i in range(100)]))
    seed_events(store, camera_events(cameras["yard"], "yard", [1, 2]))
    statements: list[str] = []

    def on_statement(*args: Any) -> None:
        statements.append(args[2])

    sa_event.listen(store.engine, "before_cursor_execute", on_statement)
    try:
        TimelineRequest(*window(60), WIDTH_PX).run(store)
    finally:
        sa_event.remove(store.engine, "before_cursor_execute", on_statement)
    # cameras, site lanes, rooms, probe, camera markers, density of every busy lane
    assert len(statements) <= 8, statements


def test_requests_refuse_bad_windows_and_lanes(store: Store) -> None:
    with pytest.raises(ValueError, match="UTC"):
        TimelineRequest(datetime(2026, 1, 1), datetime(2026, 1, 2), 100)
    with pytest.raises(ValueError, match="empty"):
        TimelineRequest(T0, T0, 100)
    with pytest.raises(ValueError, match="width"):
        TimelineRequest(T0, T0 + timedelta(seconds=1), 0)
    with pytest.raises(ValueError, match="unknown timeline lane"):
        TimelineRequest(T0, T0 + timedelta(seconds=1), 100, ("pigeons",)).run(store)


def test_bucket_widths_are_round_and_about_three_pixels() -> None:
    assert bucket_seconds(30 * 86400, 1400) == 2 * 3600
    assert bucket_seconds(3600, 1400) == 10.0
    assert bucket_seconds(60, 1400) == 0.2
    for window_s in (10, 60, 3600, 86400, 7 * 86400, 30 * 86400):
        assert window_s / bucket_seconds(window_s, 1400) <= 1400 / 3 + 1
    assert marker_cap(1400) == 350 and marker_cap(100_000) == 1500 and marker_cap(1) == 1
    origin = bucket_origin(datetime(2026, 3, 1, 12, 7, 31, 500, tzinfo=UTC), 600)
    assert origin == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# -- thumbnails ----------------------------------------------------------------------------


def solid(colour_bgr: tuple[int, int, int], width: int = 320, height: int = 240) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = colour_bgr
    return image


def write_mjpg_clip(path: Path, seconds: int) -> None:
    """A real MJPG clip: each second a different solid colour (blue, green, red, …)."""
    cv2 = import_cv2()
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), CLIP_FPS, (320, 240))
    assert writer.isOpened()
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    for second in range(seconds):
        for _ in range(CLIP_FPS):
            writer.write(solid(colours[second % len(colours)]))
    writer.release()


def seed_thumbnail_media(store: Store, media_root: Path, camera_id: int) -> None:
    cv2 = import_cv2()
    write_mjpg_clip(media_root / CLIP_REL, 4)
    (media_root / SNAPSHOT_REL).parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(media_root / SNAPSHOT_REL), solid((255, 255, 255), 640, 480))
    seed_media(
        store,
        [
            {
                "kind": "clip",
                "path": CLIP_REL,
                "created_at": T0 + timedelta(seconds=100),
                "camera_id": camera_id,
                "started_at": T0 + timedelta(seconds=100),
                "ended_at": T0 + timedelta(seconds=104),
            },
            {
                "kind": "snapshot",
                "path": SNAPSHOT_REL,
                "created_at": T0 + timedelta(seconds=200),
                "camera_id": camera_id,
            },
        ],
    )


def test_thumbnail_is_the_covering_clips_frame_at_the_offset(store: Store, tmp_path: Path) -> None:
    cameras = seed_site(store)
    seed_thumbnail_media(store, tmp_path, cameras["gate"])
    at = T0 + timedelta(seconds=102.5)  # third second of the clip: red
    thumbnail = TimelineThumbnailRequest(tmp_path, "gate", at).run(store)
    assert thumbnail is not None
    assert (thumbnail.source, thumbnail.path, thumbnail.camera) == ("clip", CLIP_REL, "gate")
    assert thumbnail.frame_at == thumbnail.at == at
    assert thumbnail.image.shape == (120, 160, 3) and thumbnail.image.dtype == np.uint8
    red, green, blue = thumbnail.image.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 60 and blue < 60  # RGB order

    early = TimelineThumbnailRequest(tmp_path, "gate", T0 + timedelta(seconds=100.5)).run(store)
    assert early is not None
    assert early.image.reshape(-1, 3).mean(axis=0)[2] > 200  # blue, the first second


def test_thumbnail_falls_back_to_the_nearest_snapshot(store: Store, tmp_path: Path) -> None:
    cameras = seed_site(store)
    seed_thumbnail_media(store, tmp_path, cameras["gate"])
    at = T0 + timedelta(seconds=210)
    thumbnail = TimelineThumbnailRequest(tmp_path, "gate", at, width_px=80).run(store)
    assert thumbnail is not None
    assert thumbnail.source == "snapshot" and thumbnail.path == SNAPSHOT_REL
    assert thumbnail.frame_at == T0 + timedelta(seconds=200)
    assert thumbnail.image.shape == (60, 80, 3)
    assert thumbnail.image.min() > 200  # white
    # Nothing near the moment, or another camera: no thumbnail.
    assert TimelineThumbnailRequest(tmp_path, "gate", T0 + timedelta(hours=1)).run(store) is None
    assert TimelineThumbnailRequest(tmp_path, "yard", at).run(store) is None


def test_thumbnail_skips_a_missing_file(store: Store, tmp_path: Path) -> None:
    cameras = seed_site(store)
    seed_thumbnail_media(store, tmp_path, cameras["gate"])
    (tmp_path / CLIP_REL).unlink()
    at = T0 + timedelta(seconds=102)
    assert TimelineThumbnailRequest(tmp_path, "gate", at).run(store) is None


def test_marker_summaries_read_like_the_event_list(store: Store) -> None:
    cameras = seed_site(store)
    details: list[dict[str, Any]] = [
        {"detail": "no frames for 10 s", "name": "ignored"},
        {"name": "Bob Stone", "person_id": "Person_0002"},
        {"person_id": "Person_0042"},
        {"track_id": 7},
        {"zone": "door", "speed_mps": 1.5, "dwell_s": 4, "extra": True},
        {},
    ]
    seed_events(
        store,
        [
            {**row, "detail": detail}
            for row, detail in zip(
                camera_events(cameras["gate"], "gate", [1, 2, 3, 4, 5, 6]), details, strict=True
            )
        ],
    )
    found = TimelineRequest(*window(60), 1400, ("camera:gate",)).run(store)
    assert [m.summary for m in found.lanes[0].markers] == [
        "no frames for 10 s",
        "Bob Stone",
        "Person_0042",
        "track 7",
        "zone=door, speed_mps=1.5, dwell_s=4",
        "",
    ]


def test_a_slice_keeps_to_its_marker_budget_alerts_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline, "MAX_MARKERS_PER_SLICE", 5)
    cameras = seed_site(store)
    seed_events(store, camera_events(cameras["gate"], "gate", [1, 2, 3]))
    seed_events(store, camera_events(cameras["yard"], "yard", [1, 2, 3, 4]))
    with store.transaction() as session:
        session.execute(
            insert(Alert), [alert_row(5, "fall", "critical"), alert_row(6, "x", "info")]
        )
    found = TimelineRequest(*window(60), 1400, ("camera:gate", "camera:yard", LANE_ALERTS)).run(
        store
    )
    details = {lane.name: (lane.detail, lane.total) for lane in found.lanes}
    assert details == {
        "camera:gate": (LaneDetail.MARKERS, 3),
        "camera:yard": (LaneDetail.DENSITY, 4),  # over the budget: counted instead
        LANE_ALERTS: (LaneDetail.MARKERS, 2),
    }


def clip_row(camera_id: int, start_s: float, end_s: float, name: str) -> dict[str, Any]:
    return {
        "kind": "clip",
        "path": f"clips/{name}.mp4",
        "created_at": T0 + timedelta(seconds=end_s),
        "camera_id": camera_id,
        "started_at": T0 + timedelta(seconds=start_s),
        "ended_at": T0 + timedelta(seconds=end_s),
    }


def test_camera_lanes_carry_where_their_clips_are(store: Store) -> None:
    cameras = seed_site(store)
    gate, yard = cameras["gate"], cameras["yard"]
    seed_media(
        store,
        [
            # Back to back (10 ms apart): one stretch of footage.
            clip_row(gate, 10, 20, "g1"),
            clip_row(gate, 20.01, 30, "g2"),
            # A clip started before the window and one after it.
            clip_row(gate, -5, 4, "g0"),
            clip_row(gate, 100, 110, "g3"),
            clip_row(gate, 700, 710, "late"),
            # A snapshot is no recording; the yard's clip is the yard's.
            {**clip_row(gate, 50, 60, "snap"), "kind": "snapshot"},
            clip_row(yard, 40, 45, "y1"),
            # Continuous recording is footage: two segments of the yard's.
            {**clip_row(yard, 300, 310, "s1"), "kind": "segment", "motion_share": 0.5},
            {**clip_row(yard, 310, 320, "s2"), "kind": "segment", "people_seen": 2},
        ],
    )
    found = TimelineRequest(*window(600), 1000).run(store)
    at = lambda s: T0 + timedelta(seconds=s)  # noqa: E731
    gate_lane, yard_lane = found.lane("camera:gate"), found.lane("camera:yard")
    assert gate_lane is not None and yard_lane is not None
    assert gate_lane.coverage == ((at(0), at(4)), (at(10), at(30)), (at(100), at(110)))
    assert yard_lane.coverage == ((at(40), at(45)), (at(300), at(320)))
    # Motion where a segment had it; people where a segment saw them and where clips are.
    assert yard_lane.motion == ((at(300), at(310)),)
    assert yard_lane.people == ((at(40), at(45)), (at(310), at(320)))
    assert gate_lane.motion == () and gate_lane.people == gate_lane.coverage
    assert found.lane(LANE_ALERTS) is not None and found.lane(LANE_ALERTS).coverage == ()  # type: ignore[union-attr]
    # Zoomed out, gaps under a pixel close: a day at 100 px is 864 s a pixel.
    wide = TimelineRequest(T0 - timedelta(hours=12), T0 + timedelta(hours=12), 100).run(store)
    wide_gate = wide.lane("camera:gate")
    assert wide_gate is not None and wide_gate.coverage == ((at(-5), at(710)),)


def test_a_camera_with_many_clips_is_covered_per_bucket(store: Store) -> None:
    cameras = seed_site(store)
    # Continuous 10 s clips for an hour, then a 20-minute hole, then 10 more minutes.
    spans = [(s, s + 10) for s in range(0, 3600, 10)] + [(s, s + 10) for s in range(4800, 5400, 10)]
    seed_media(store, [clip_row(cameras["gate"], a, b, f"c{a}") for a, b in spans])
    # The yard records continuously for the same hour, with motion in its second half.
    seed_media(
        store,
        [
            {
                **clip_row(cameras["yard"], a, a + 10, f"y{a}"),
                "kind": "segment",
                "motion_share": 0.3 if a >= 1800 else 0.0,
            }
            for a in range(0, 3600, 10)
        ],
    )
    width = 200  # 50 clips a lane at most are read one by one
    assert len(spans) > marker_cap(width)
    found = TimelineRequest(*window(6000), width).run(store)
    lane = found.lane("camera:gate")
    assert lane is not None
    bucket = timedelta(seconds=found.bucket_s)
    ((first_start, first_end), (second_start, second_end)) = lane.coverage
    # Exact to a bucket: the window starts on a bucket edge, ends where the clips end.
    assert first_start == T0
    assert abs(first_end - (T0 + timedelta(seconds=3600))) <= bucket
    assert abs(second_start - (T0 + timedelta(seconds=4800))) <= bucket
    assert abs(second_end - (T0 + timedelta(seconds=5400))) <= bucket
    yard = found.lane("camera:yard")
    assert yard is not None and len(yard.coverage) == 1 and yard.people == ()
    ((motion_start, motion_end),) = yard.motion
    assert abs(motion_start - (T0 + timedelta(seconds=1800))) <= bucket
    assert abs(motion_end - (T0 + timedelta(seconds=3600))) <= bucket


def test_thumbnail_of_a_camera_recording_continuously_comes_from_its_segment(
    store: Store, tmp_path: Path
) -> None:
    """Its event clip is a view onto the segments (no file of its own): the picture is
    the covering segment's frame at the moment."""
    cameras = seed_site(store)
    write_mjpg_clip(tmp_path / "recordings/gate/seg.avi", 4)
    seed_media(
        store,
        [
            {
                "kind": "clip",
                "path": "views/gate/2026-01-01/gate_view.mp4",
                "created_at": T0 + timedelta(seconds=300),
                "camera_id": cameras["gate"],
                "started_at": T0 + timedelta(seconds=300),
                "ended_at": T0 + timedelta(seconds=304),
            },
            {
                "kind": "segment",
                "path": "recordings/gate/seg.avi",
                "created_at": T0 + timedelta(seconds=300),
                "camera_id": cameras["gate"],
                "started_at": T0 + timedelta(seconds=300),
                "ended_at": T0 + timedelta(seconds=304),
            },
        ],
    )
    at = T0 + timedelta(seconds=302.5)  # third second: red
    thumbnail = TimelineThumbnailRequest(tmp_path, "gate", at).run(store)
    assert thumbnail is not None
    assert (thumbnail.source, thumbnail.path) == ("segment", "recordings/gate/seg.avi")
    red, green, blue = thumbnail.image.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 60 and blue < 60
