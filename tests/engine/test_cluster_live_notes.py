"""The boxes an engine tells consoles for each streamed frame (engine.cluster.live): however
many people and however many frames wait to be told (a slow database), every frame's boxes
reach a console — each NOTIFY stays under PostgreSQL's 8000-byte payload limit, which a
note of 20 frames of a busy camera went over, dropping them. Real PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.bus import EventBus
from engine.cluster.live import NOTIFY_MAX_BYTES, LiveFollower, LiveRelay, _notes_within
from engine.frames import Frame
from engine.store.database import Store
from engine.vision.analysis import FrameAnalysis, TrackView
from engine.vision.geometry import Box

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(tmp_path: Path, migrated_template: dict[str, str]) -> Iterator[str]:
    from tests.conftest import _fresh_database

    yield from _fresh_database("postgresql", tmp_path, migrated_template)


def _busy_frame(seq: int, people: int) -> Frame:
    tracks = tuple(
        TrackView(
            track_id=100 + i,
            box=Box(10.0 * i, 20.0, 40.0, 90.0),
            confidence=0.87,
            coasting=False,
            person=f"Person_{i:08d}",
        )
        for i in range(people)
    )
    return Frame(
        seq=seq,
        image=np.zeros((480, 640, 3), np.uint8),
        captured_at=float(seq),
        source_fps=10.0,
        analysis=FrameAnalysis(
            frame_index=seq, t=float(seq), tracks=tracks, motion_regions=(), detections=None
        ),
    )


def test_notes_are_split_to_fit_a_notify_payload() -> None:
    frames = [[i, [[1, 0.1, 0.2, 0.3, 0.4, 0.9, 0, "Person_00000001"]] * 12] for i in range(20)]
    notes = _notes_within({"from": "x", "kind": "tracks", "camera": "cam1"}, "frames", frames)
    assert len(notes) > 1
    assert all(len(n.encode()) <= NOTIFY_MAX_BYTES for n in notes)
    assert [f for n in notes for f in json.loads(n)["frames"]] == frames


def test_every_frames_boxes_reach_a_console_from_a_busy_camera(pg_url: str) -> None:
    store = Store(pg_url)
    relay = LiveRelay(store, EventBus(), site_id=1, sender="server-a@h:1/x", engine="server-a")
    follower = LiveFollower(
        store, EventBus(), site_id=1, site_name="Test site", sender="console@h:2/y"
    )
    follower.start()
    try:
        # A note sent before the console listens is not heard (boxes are not history): the
        # relay speaks once it does. (Not waiting lost the first note about 1 run in 30.)
        assert follower.feed.listening.wait(10)
        for seq in range(20):  # told while the relay had not sent yet: one backlog
            relay.tell_tracks("cam1", 1_000_000 + seq, _busy_frame(seq, people=14))
        relay.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(follower.boxes_at("cam1", 1_000_000 + s) for s in range(20)):
                break
            time.sleep(0.05)
        missing = [s for s in range(20) if not follower.boxes_at("cam1", 1_000_000 + s)]
        assert missing == [], (missing, relay.problem)
        boxes = follower.boxes_at("cam1", 1_000_019)
        assert boxes is not None and len(boxes) == 14
        assert boxes[3].person == "Person_00000003" and boxes[3].confidence == 0.87
    finally:
        relay.stop()
        follower.stop()
        store.close()
