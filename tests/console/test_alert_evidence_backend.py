"""The evidence of a fresh alert (issue 68): a loitering rule's alert, raised long after its
person was confirmed (on a frame with no snapshot of its own), carries the picture taken
when the track was confirmed, the person's box in that picture's pixels, the rule's zone and
what places it on the picture, and, with no clip written yet, the seconds until the camera's
clip is ready (never "nothing was kept"). The Alert list's clip look-up says the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from console.backends.alerts import AlertListBackend, AlertsBackend, clip_ready_in_s
from console.session import ConsoleSession
from engine.alerts.filtering import first_sequence
from engine.alerts.records import alerts_by_id
from engine.alerts.rules import AddRule, RuleSpec
from engine.alerts.sequences import CreateSequence
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir
from engine.events import PeopleDetected, Sighting
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.models import Camera
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.store_helpers import sync_site
from widgets.alerts.api import ClipPending

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
ZONE = ((0.4, 0.5), (0.9, 0.5), (0.9, 0.95), (0.4, 0.95))
BOX = [300, 120, 60, 160]  # the person when confirmed (pixels of the 640 × 360 frame)
SNAPSHOT = "snapshots/plaza/2026-11-29/plaza_030000_000000_t7_abc123.jpg"


def test_a_fresh_loitering_alert_carries_its_picture_box_zone_and_clip_seconds(
    db_url: str, tmp_path: Path
) -> None:
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            '[[cameras]]\nid = "plaza"\nname = "Plaza east"\nurl = "a.mp4"\n',
        )
    )
    store = Store(db_url)
    clock = SimulatedClock(T0)
    sync_site(store, site, clock)
    picture = data_dir() / SNAPSHOT
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_bytes(b"\xff\xd8 the person when confirmed")
    with store.sessions() as session:
        camera_id = session.scalar(select(Camera.id).where(Camera.key == "plaza"))
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
                detail={"track_id": 7, "box": BOX, "confidence": 0.9, "snapshot": SNAPSHOT},
                camera_id=camera_id,
                track_id=7,
            )
        )
        started = T0 + timedelta(seconds=30)  # loitering from here: no snapshot of its own
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
    clock.advance(31.0)  # a second after the loitering began
    runtime = EngineRuntime(site, store, clock=clock)
    backend = AlertsBackend(runtime, store, ConsoleSession(store, None, clock), data_dir())
    runtime.bus.publish(
        PeopleDetected(
            at=started,
            camera="plaza",
            frame_size=(640, 360),
            sightings=(Sighting(7, (300.0, 120.0, 60.0, 160.0), 0.8),),
        )
    )
    (alert,) = alerts_by_id(store, [stored.alert.alert_id])

    evidence = backend.evidence(alert)

    assert evidence.snapshot == picture.read_bytes()
    assert evidence.camera == "plaza"
    # The snapshot is the box with 15 % of its size around it: it starts at (291, 96).
    assert evidence.picture_origin == (291.0, 96.0)
    assert evidence.box == (9.0, 24.0, 60.0, 160.0)
    assert evidence.zone == ZONE
    assert evidence.frame_size == (640, 360)
    # No clip yet: the event clip ends 5 s after the last activity (before the 10 s
    # segment), plus a moment to write it; a second has gone by.
    assert evidence.clip is None
    assert evidence.clip_ready_in_s == 6.0

    # The Alert list's clip look-up of the same sequence: on its way, not "none".
    sequence = first_sequence(store, alert.alert_id)
    assert sequence is not None
    listing = AlertListBackend(runtime, store, ConsoleSession(store, None, clock), data_dir())
    assert listing.clip_for(sequence) == ClipPending(6.0)
    # Long overdue, nothing is coming: then none was kept.
    clock.advance(300.0)
    assert clip_ready_in_s(runtime, "plaza", started, started) is None
    assert listing.clip_for(sequence) is None
