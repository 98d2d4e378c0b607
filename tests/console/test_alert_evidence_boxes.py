"""The evidence of an alert whose clip is written carries the clip's boxes, frame by frame
(issue 68): the console's backend reads the clip's track sidecar on its worker and puts
its times on the played file's time line, with the alert's person's track; a sidecar that
is missing, a symbolic link, truncated or too big gives the clip without boxes and a quiet
note, never an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from console.backends.alerts import AlertsBackend
from console.session import ConsoleSession
from engine.alerts.records import alerts_by_id
from engine.alerts.rules import AddRule, RuleSpec
from engine.alerts.sequences import CreateSequence
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir
from engine.media import MediaFile
from engine.record.tracks import (
    MAX_TRACKS_BYTES,
    ClipTracks,
    TrackBox,
    TrackSample,
    tracks_path,
    write_clip_tracks,
)
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.store.commands import InsertEvent, InsertMedia
from engine.store.models import Camera
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.store_helpers import sync_site
from tests.widgets.test_event_history import write_h264_clip
from widgets.alerts.api import AlertEvidence

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
ZONE = ((0.4, 0.5), (0.9, 0.5), (0.9, 0.95), (0.4, 0.95))
CLIP = "clips/plaza/2026-11-29/plaza_20261129T030028.000Z.mp4"
CLIP_START = T0 + timedelta(seconds=28)  # the loitering starts 2 s into the clip
SAMPLES = tuple(
    TrackSample(
        i / 10,
        (TrackBox(7, 100.0 + i, 80.0, 40.0, 120.0), TrackBox(9, 20.0, 30.0, 30.0, 90.0)),
    )
    for i in range(40)
)


def _evidence(db_url: str, tmp_path: Path, damage: str | None) -> AlertEvidence:
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            '[[cameras]]\nid = "plaza"\nname = "Plaza east"\nurl = "a.mp4"\n',
        )
    )
    store = Store(db_url)
    clock = SimulatedClock(T0)
    sync_site(store, site, clock)
    clip = data_dir() / CLIP
    write_h264_clip(clip)  # 4 s, 320 × 240
    sidecar = tracks_path(clip)
    write_clip_tracks(sidecar, ClipTracks(CLIP_START, 320, 240, SAMPLES))
    if damage == "missing":
        sidecar.unlink()
    elif damage == "symlink":
        elsewhere = tmp_path / "elsewhere.json"
        elsewhere.write_bytes(sidecar.read_bytes())
        sidecar.unlink()
        sidecar.symlink_to(elsewhere)
    elif damage == "truncated":
        sidecar.write_bytes(sidecar.read_bytes()[:100])
    elif damage == "too big":
        sidecar.write_bytes(b"[" * (MAX_TRACKS_BYTES + 1))
    with store.sessions() as session:
        camera_id = session.scalar(select(Camera.id).where(Camera.key == "plaza"))
    started = T0 + timedelta(seconds=30)
    with StoreWriter.running(store) as writer:
        rule = writer.execute(
            AddRule(
                rule=RuleSpec(
                    0, "plaza loiter", "plaza", None, "loitering", loiter_s=30, zone=ZONE
                ),
                at=T0,
                actor=ADMIN,
            )
        )
        writer.execute(
            InsertEvent(
                ts=T0,
                kind="person.appeared",
                source="camera:plaza",
                detail={"track_id": 7, "box": [100, 80, 40, 120], "confidence": 0.9},
                camera_id=camera_id,
                track_id=7,
            )
        )
        writer.execute(
            InsertMedia(
                file=MediaFile("clip", CLIP, "0" * 64, clip.stat().st_size),
                created_at=CLIP_START,
                camera_id=camera_id,
                started_at=CLIP_START,
                ended_at=CLIP_START + timedelta(seconds=4),
            )
        )
        stored = writer.execute(
            CreateSequence(
                seq_key="loiter-7",
                source="camera:plaza",
                camera="plaza",
                site=site.name,
                trigger="loitering",
                rule_id=rule.rule_id,
                track_id=7,
                started_at=started,
                last_seen_at=started,
                detections=3,
                max_conf=0.8,
                snapshot=None,
                severity="warning",
                title="Loitering on Plaza east",
            )
        )
    clock.advance(40.0)
    runtime = EngineRuntime(site, store, clock=clock)
    backend = AlertsBackend(runtime, store, ConsoleSession(store, None, clock), data_dir())
    (alert,) = alerts_by_id(store, [stored.alert.alert_id])
    return backend.evidence(alert)


def test_the_evidence_carries_the_clips_boxes_on_its_time_line(db_url: str, tmp_path: Path) -> None:
    evidence = _evidence(db_url, tmp_path, None)
    assert evidence.clip == data_dir() / CLIP
    assert evidence.clip_offset_s == pytest.approx(2.0)
    assert evidence.zone == ZONE
    assert evidence.clip_size == (320, 240)
    assert evidence.track_id == 7  # the loitering sequence's person
    assert evidence.boxes_note == ""
    # The clip is played from its start: the boxes' times are the clip's own.
    assert [s.t_s for s in evidence.clip_boxes] == pytest.approx([s.t_s for s in SAMPLES])
    assert evidence.clip_boxes[20].boxes[0] == TrackBox(7, 120.0, 80.0, 40.0, 120.0)


@pytest.mark.parametrize(
    ("damage", "note"),
    [
        ("missing", "No boxes over this clip: none were kept with it"),
        ("symlink", "No boxes over this clip: the file of its boxes is damaged"),
        ("truncated", "No boxes over this clip: the file of its boxes is damaged"),
        ("too big", "No boxes over this clip: the file of its boxes is damaged"),
    ],
)
def test_a_bad_sidecar_gives_the_clip_without_boxes_and_a_quiet_note(
    db_url: str, tmp_path: Path, damage: str, note: str
) -> None:
    evidence = _evidence(db_url, tmp_path, damage)
    assert evidence.clip == data_dir() / CLIP  # the clip still plays
    assert evidence.clip_boxes == ()
    assert evidence.boxes_note == note
