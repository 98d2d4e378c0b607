"""The fusion service on a real bus and store writer: camera sightings on a calibrated camera
and a room's blobs become one person; the join and the finished path are stored as events
and worded for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import (
    PeopleDetected,
    PeoplePlaced,
    PeopleSeenInRoom,
    PeopleSensedInView,
    Sighting,
)
from engine.fusion.floor import PointPair, calibrate
from engine.fusion.service import FusionService, FusionUpdated
from engine.history.paths import PathsRequest, path_sentence
from engine.sensing.service import SensingUpdated
from engine.sensing.view import BlobIdentity, BlobView, SensingSnapshot
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.models import Event
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from engine.wording import describe
from tests.conftest import write_site
from tests.engine.fusion.test_floor import GRID, pinhole
from tests.fusion_sites import LOBBY

ROOM = LOBBY
ROOM_ORIGIN = (1.0, 0.5)  # where the lobby's origin corner is on the floor plan
TAG = BlobIdentity("02:57:46:42:00:01", "Ada's tag", "Ada", None, "#ff8800", 0.9, 0.0)


def snapshot(t_s: float, blobs: tuple[BlobView, ...]) -> SensingSnapshot:
    return SensingSnapshot(
        "lobby", "Lobby", (6.0, 5.0, 3.0), False, t_s, (), (), blobs, None, 6, 0.123
    )


def test_a_camera_track_and_a_blob_become_one_named_person_and_their_path_is_stored(
    db_url: str, tmp_path: Path
) -> None:
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            '[[cameras]]\nid = "east"\nname = "Plaza east"\nurl = "rtsp://cam/1"\n',
            ROOM,
        )
    )
    clock = SimulatedClock(datetime(2026, 11, 26, 14, 2, tzinfo=UTC))
    bus = EventBus()
    store = Store(db_url)
    image = pinhole(np.array(GRID))
    calibration = calibrate(
        [PointPair(float(u), float(v), x, y) for (u, v), (x, y) in zip(image, GRID, strict=True)],
        (640, 480),
    )
    updates: list[FusionUpdated] = []
    bus.subscribe(FusionUpdated, updates.append)
    try:
        with StoreWriter.running(store, clock=clock) as writer:
            ids = writer.execute(SyncSite(site=site, at=clock.now()))
            writer.register_cameras(ids.site_id, ids.cameras)
            writer.attach(bus)
            fusion = FusionService(
                bus,
                clock,
                cameras=site.cameras,
                rooms=site.rooms,
                calibrations={"east": calibration},
            )
            fusion.start(run=False)
            for step in range(60):  # 6 s walking east along y = 3, in the camera's view
                x, y = 2.0 + 0.5 * step / 10, 3.0
                ((u, v),) = pinhole(np.array([(x, y)]))
                if step < 40:  # the camera loses her at 4 s; the room still senses her
                    box = (float(u) - 20.0, float(v) - 120.0, 40.0, 120.0)
                    bus.publish(
                        PeopleDetected(
                            at=clock.now(),
                            camera="east",
                            frame_size=(640, 480),
                            sightings=(Sighting(7, box, 0.9),),
                        )
                    )
                blob = BlobView(
                    12, (x - 1.0, y - 0.5, 1.0), (0.5, 0.0, 0.0), 1.0, False, identity=TAG
                )
                bus.publish(SensingUpdated(at=clock.now(), snapshot=snapshot(step / 10, (blob,))))
                if step % 2 == 1:
                    fusion.tick()
                clock.advance(0.1)
            live = updates[-1]
            assert live.label_of(("sensing", "lobby", 12)) == live.label_of(("camera", "east", 7))
            (person,) = live.people
            assert person.name == "Ada" and person.name_source == "ble"
            assert [link.track for link in live.links] in ([("camera", "east", 7)], [])
            fusion.stop()  # files the open path
        with store.sessions() as session:
            rows = session.scalars(
                select(Event).where(Event.kind.like("person.%")).order_by(Event.id)
            ).all()
        london = SiteTime.named("Europe/London")
        (path_read,) = PathsRequest(london, person="ada").run(store)
        assert PathsRequest(london, person="bo").run(store) == []
        assert PathsRequest(london, before=clock.now() - timedelta(minutes=5)).run(store) == []
    finally:
        store.close()
    kinds = [row.kind for row in rows]
    assert kinds == ["person.joined", "person.path"]
    joined, path = rows
    assert joined.source == "camera:east" and joined.track_id == 7
    assert [s.sense for s in path_read.stretches] == ["camera", "sensing", "ble"]
    assert path_sentence(path_read).startswith("Ada: seen by Plaza east 14:02–14:02")
    names = {"east": "Plaza east", "lobby": "Lobby"}
    words = describe(joined.kind, joined.source, joined.detail, names=names, site_time=london)
    assert words.summary.startswith("Person 7 on Plaza east is the one sensed in Lobby (Ada), ")
    words = describe(path.kind, path.source, path.detail, names=names, site_time=london)
    assert words.title == "Path across senses"
    assert words.summary == (
        "Ada: seen by Plaza east 14:02–14:02, sensed in Lobby 14:02–14:02, "
        "device ‘Ada's tag’ throughout"
    )
    assert "{" not in words.details_text()


def calibrated_east(tmp_path: Path) -> tuple[SimulatedClock, EventBus, FusionService]:
    """A fusion service (driven by hand) for the lobby and camera east, calibrated from the
    pinhole camera's view of the floor grid."""
    site = load_site(
        write_site(tmp_path / "site.toml", '[[cameras]]\nid = "east"\nurl = "rtsp://cam/1"\n', ROOM)
    )
    clock = SimulatedClock(datetime(2026, 11, 26, 14, 2, tzinfo=UTC))
    bus = EventBus()
    image = pinhole(np.array(GRID))
    calibration = calibrate(
        [PointPair(float(u), float(v), x, y) for (u, v), (x, y) in zip(image, GRID, strict=True)],
        (640, 480),
    )
    fusion = FusionService(
        bus, clock, cameras=site.cameras, rooms=site.rooms, calibrations={"east": calibration}
    )
    fusion.start(run=False)
    return clock, bus, fusion


def test_someone_only_the_camera_sees_in_a_room_is_placed_in_it_for_the_rooms_rules(
    tmp_path: Path,
) -> None:
    clock, bus, fusion = calibrated_east(tmp_path)
    placed: list[PeoplePlaced] = []
    bus.subscribe(PeoplePlaced, placed.append)
    for _ in range(30):  # standing still at (4, 3), inside the lobby; no blob
        ((u, v),) = pinhole(np.array([(4.0, 3.0)]))
        # Analysed at half the size it was calibrated at: the feet are scaled back.
        box = ((float(u) - 20.0) / 2, (float(v) - 120.0) / 2, 20.0, 60.0)
        bus.publish(
            PeopleDetected(
                at=clock.now(),
                camera="east",
                frame_size=(320, 240),
                sightings=(Sighting(3, box, 0.9),),
            )
        )
        fusion.tick()
        clock.advance(0.1)
    fusion.stop()
    assert placed and {p.room for p in placed} == {"lobby"}
    (person,) = {p.people for p in placed}
    assert len(person) == 1
    latest = fusion.latest()
    assert latest is not None
    (x, y) = latest.people[0].position
    assert abs(x - 4.0) < 0.05 and abs(y - 3.0) < 0.05


def test_the_camera_s_places_of_people_in_a_room_go_to_that_room_in_its_own_metres(
    tmp_path: Path,
) -> None:
    """A calibrated camera's detections of people standing in the lobby are passed on to the
    lobby's tracker (PeopleSeenInRoom) in the room's own metres, with the camera's track
    ids; someone outside every room is not."""
    clock, bus, fusion = calibrated_east(tmp_path)
    seen: list[PeopleSeenInRoom] = []
    bus.subscribe(PeopleSeenInRoom, seen.append)
    floor = [(4.0, 3.0), (30.0, 30.0)]
    feet = pinhole(np.array(floor))
    boxes = [(float(u) - 20.0, float(v) - 120.0, 40.0, 120.0) for u, v in feet]
    bus.publish(
        PeopleDetected(
            at=clock.now(),
            camera="east",
            frame_size=(640, 480),
            sightings=(Sighting(3, boxes[0], 0.9), Sighting(4, boxes[1], 0.9)),
        )
    )
    fusion.stop()
    (event,) = seen
    assert (event.room, event.camera, event.at) == ("lobby", "east", clock.now())
    ((track, x, y),) = event.places
    assert track == 3
    # The lobby's corner is at ROOM_ORIGIN on the plan.
    assert (x, y) == pytest.approx((4.0 - ROOM_ORIGIN[0], 3.0 - ROOM_ORIGIN[1]), abs=0.05)


def test_someone_only_a_room_senses_in_a_cameras_picture_is_offered_to_the_cameras_rules(
    tmp_path: Path,
) -> None:
    """Ada walks in the camera's view, then on where the camera no longer sees her (a
    privacy mask, someone in the way): the room still senses her, and the camera's rules are
    told where her feet are in its picture, under the track id the camera last gave her."""
    clock, bus, fusion = calibrated_east(tmp_path)
    sensed: list[PeopleSensedInView] = []
    bus.subscribe(PeopleSensedInView, sensed.append)
    for step in range(60):
        t = step / 10
        floor = (2.0 + 0.3 * t, 3.0)  # walking east at 0.3 m/s
        if t < 3.0:  # the camera sees her for the first 3 s
            ((u, v),) = pinhole(np.array([floor]))
            box = (float(u) - 20.0, float(v) - 120.0, 40.0, 120.0)
            bus.publish(
                PeopleDetected(
                    at=clock.now(),
                    camera="east",
                    frame_size=(640, 480),
                    sightings=(Sighting(7, box, 0.9),),
                )
            )
        room_x, room_y = ROOM_ORIGIN[0], ROOM_ORIGIN[1]
        blob = BlobView(4, (floor[0] - room_x, floor[1] - room_y, 1.0), (0.0, 0.0, 0.0), 1.0, False)
        bus.publish(SensingUpdated(at=clock.now(), snapshot=snapshot(100.0 + t, (blob,))))
        fusion.tick()
        if step == 29:
            assert not sensed  # the camera sees her: its own detections are what its rules get
        clock.advance(0.1)
    fusion.stop()
    assert sensed and {event.camera for event in sensed} == {"east"}
    assert sensed[0].at <= datetime(2026, 11, 26, 14, 2, 4, tzinfo=UTC)  # within a second
    ((track, (fu, fv)),) = sensed[-1].people
    assert track == 7  # her run on the camera's rules carries on
    ((u, v),) = pinhole(np.array([(2.0 + 0.3 * 5.9, 3.0)]))
    assert abs(fu * 640 - float(u)) < 15 and abs(fv * 480 - float(v)) < 15
