"""The boxes an engine tells consoles for each streamed frame (engine.cluster.live): however
many people and however many frames wait to be told (a slow database), every frame's boxes
reach a console — each NOTIFY stays under PostgreSQL's 8000-byte payload limit, which a
note of 20 frames of a busy camera went over, dropping them. Real PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from engine.bus import EventBus
from engine.cluster.live import NOTIFY_MAX_BYTES, LiveFollower, LiveRelay, _notes_within
from engine.frames import Frame
from engine.fusion.associate import PersonView
from engine.fusion.service import FusionUpdated
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


def _fused(at: datetime, people: int) -> FusionUpdated:
    """Named people, each a camera track (10 + i) joined to a lobby blob (20 + i), one
    waiting person (not told) and one nobody has named (not told); Bo's tag in the store."""
    named = tuple(
        PersonView(
            person_key=i + 1,
            name=f"Walker {i + 1}",
            name_source="ble",
            person_id=None,
            position=(1.0, 2.0),
            last_t=at.timestamp(),
            members=(("camera", "cam1", 10 + i), ("sensing", "lobby", 20 + i)),
            segments=(),
        )
        for i in range(people)
    )
    waiting = PersonView(900, "Gone", "ble", None, (0.0, 0.0), 0.0, (), (), waiting=True)
    unnamed = PersonView(901, None, None, None, (0.0, 0.0), 0.0, (("camera", "cam1", 99),), ())
    return FusionUpdated(
        at=at,
        people=(*named, waiting, unnamed),
        links=(),
        inside=(("store", ("Bo",)),),
    )


def _console(store: Store) -> tuple[LiveFollower, list[FusionUpdated]]:
    """An attached console's follower, started, and the fusion updates it publishes."""
    bus = EventBus()
    follower = LiveFollower(store, bus, site_id=1, site_name="Test site", sender="console@h:2/y")
    heard: list[FusionUpdated] = []
    bus.subscribe(FusionUpdated, heard.append)
    follower.start()
    return follower, heard


@pytest.mark.parametrize("people", [2, 120])
def test_a_console_attached_to_a_shared_site_shows_the_fusions_names(
    pg_url: str, people: int
) -> None:
    """The engine's fusion names its camera tracks and blobs; a console on another machine
    shows the same names on its tiles and blobs, and which tags are in the store room. 120
    people do not fit one NOTIFY: the update comes in several notes, all of it shown."""
    store = Store(pg_url)
    engine_bus = EventBus()
    relay = LiveRelay(store, engine_bus, site_id=1, sender="server-a@h:1/x", engine="server-a")
    follower, heard = _console(store)
    try:
        assert follower.feed.listening.wait(10)
        relay.start()
        engine_bus.publish(_fused(datetime(2026, 11, 27, 1, 0, tzinfo=UTC), people))
        deadline = time.monotonic() + 10

        def counted() -> bool:  # the relay counts a note once it has sent it: after a look
            return relay.stats.fusion_sent >= (1 if people == 2 else len(heard))

        while time.monotonic() < deadline:
            if heard and len(heard[-1].names_on("camera", "cam1")) == people and counted():
                break
            time.sleep(0.05)
        assert heard, relay.problem
        latest = heard[-1]
        assert latest.names_on("camera", "cam1") == {
            10 + i: f"Walker {i + 1}" for i in range(people)
        }
        assert latest.names_on("sensing", "lobby")[20] == "Walker 1"
        assert latest.tags_inside("store") == ("Bo",) and latest.tags_inside("lobby") == ()
        assert {p.person_key for p in latest.people} == set(range(1, people + 1))
        assert relay.stats.fusion_sent == (1 if people == 2 else len(heard))
    finally:
        relay.stop()
        follower.stop()
        store.close()


def test_a_console_shows_what_each_engine_of_the_site_fuses(pg_url: str) -> None:
    """Two engines each fuse what they run (one the lobby camera, one the car park's): a
    console shows both engines' names together, not whichever spoke last."""
    store = Store(pg_url)
    buses = {"server-a": EventBus(), "server-b": EventBus()}
    relays = [
        LiveRelay(store, bus, site_id=1, sender=f"{name}@h:1/x", engine=name)
        for name, bus in buses.items()
    ]
    follower, heard = _console(store)
    try:
        assert follower.feed.listening.wait(10)
        for relay in relays:
            relay.start()
        at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
        buses["server-a"].publish(_fused(at, 1))
        car_park = PersonView(7, "Ada", "face", None, (0.0, 0.0), 0.0, (("camera", "cam2", 3),), ())
        buses["server-b"].publish(FusionUpdated(at=at, people=(car_park,), links=()))

        def both() -> bool:
            latest = heard[-1] if heard else None
            return latest is not None and bool(
                latest.names_on("camera", "cam1") and latest.names_on("camera", "cam2")
            )

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not both():
            time.sleep(0.05)
        assert both(), [relay.problem for relay in relays]
        assert heard[-1].names_on("camera", "cam2") == {3: "Ada"}
        assert heard[-1].tags_inside("store") == ("Bo",)
    finally:
        for relay in relays:
            relay.stop()
        follower.stop()
        store.close()


def test_a_relay_whose_write_fails_connects_again_and_the_restart_is_counted(
    pg_url: str,
) -> None:
    """The relay's thread is supervised: a room's picture the database refuses (its site row
    is not there: a foreign key) ends the connection, is said (``problem``) and counted, and
    after a backoff on the engine's clock the relay connects again and tells the next one."""
    from sqlalchemy import func, select

    from engine.clock import SimulatedClock
    from engine.cluster.live import RECONNECT_S
    from engine.sensing.service import SensingUpdated
    from engine.sensing.view import SensingSnapshot
    from engine.store.cluster_models import LiveRoom
    from engine.store.models import Site
    from engine.supervise import supervised_health
    from tests.waiting import wait_for

    def picture() -> SensingUpdated:
        snapshot = SensingSnapshot(
            room_id="lab", room_name="Lab", room_size=(10.0, 8.0, 3.0), simulated=True, t_s=0.0,
            nodes=(), links=(), blobs=(), voxels=None, channel=6, wavelength_m=0.125,
        )  # fmt: skip
        return SensingUpdated(at=datetime.now(UTC), snapshot=snapshot)

    store = Store(pg_url)
    with store.engine.connect() as connection:
        site_id = int(connection.execute(select(func.coalesce(func.max(Site.id), 0))).scalar()) + 1
    clock = SimulatedClock(datetime.now(UTC))
    bus = EventBus()
    relay = LiveRelay(
        store, bus, site_id=site_id, sender="server-a@h:1/x", engine="server-a", clock=clock
    )
    relay.start()
    try:
        bus.publish(picture())
        wait_for(lambda: relay._thread.health().backing_off, what="the relay's backoff")
        assert relay.problem is not None and "foreign key" in relay.problem
        assert relay.stats.rooms_sent == 0 and relay._thread.restarts == 0
        with store.transaction() as session:
            session.add(
                Site(id=site_id, name="Relay site", geo_lat=0.0, geo_lon=0.0,
                     updated_at=datetime.now(UTC))
            )  # fmt: skip
        bus.publish(picture())
        assert clock.wait_for_waiters(1) and clock.next_deadline_in() == RECONNECT_S
        clock.advance(RECONNECT_S)
        wait_for(lambda: relay.stats.rooms_sent == 1, what="the room's picture sent")
        with store.engine.connect() as connection:
            rows = connection.execute(select(LiveRoom.site_id, LiveRoom.room)).all()
        assert [tuple(row) for row in rows] == [(site_id, "lab")]
        assert relay.problem is None
        [row] = [h for h in supervised_health() if h.name == "live-relay" and h.alive]
        assert row.restarts == 1 and row.last_error is not None and "foreign key" in row.last_error
    finally:
        relay.stop()
        store.close()
    assert not relay._thread.is_alive()


def test_a_cameras_older_state_heard_late_does_not_undo_a_newer_one(pg_url: str) -> None:
    """Before: a camera note was taken as the camera's state whenever it came, so the
    stopping engine's "stopped" heard after the new engine's "online" (notes of two engines
    come in no set order) left the console's health at "0/1 online" beside an online tile."""
    from engine.events import CameraStatus, CameraStatusChanged

    store = Store(pg_url)
    bus = EventBus()
    follower = LiveFollower(store, bus, site_id=1, site_name="Test site", sender="console@h:2/y")
    heard: list[CameraStatusChanged] = []
    bus.subscribe(CameraStatusChanged, heard.append)
    try:

        def note(sender: str, status: str, since: str) -> dict[str, object]:
            return {"from": sender, "kind": "camera", "camera": "cam1", "status": status,
                    "detail": "", "since": since, "retry_in_s": None}  # fmt: skip

        follower._live([note("server-a@h:1/x", "online", "2026-11-28T08:00:05+00:00")])
        follower._live([note("server-b@h:3/z", "stopped", "2026-11-28T08:00:01+00:00")])
        assert follower.cameras["cam1"].status is CameraStatus.ONLINE
        assert [e.status for e in heard] == [CameraStatus.ONLINE]
        follower._live([note("server-a@h:1/x", "offline", "2026-11-28T08:00:09+00:00")])
        assert follower.cameras["cam1"].status is CameraStatus.OFFLINE
        assert [e.status for e in heard] == [CameraStatus.ONLINE, CameraStatus.OFFLINE]
    finally:
        store.close()
