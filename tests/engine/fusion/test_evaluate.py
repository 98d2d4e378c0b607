"""Scoring the fusion against a scene's truth (engine.sim.fusion_score): what counts as a right
identity, a wrong join, a walker's name becoming known, and a name kept where nothing names
people; events go over a real bus as the engine publishes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.bus import EventBus
from engine.config import FloorPoint, RoomGeometry, SensingRoomConfig
from engine.events import PeopleDetected, Sighting
from engine.fusion.associate import LinkView, MemberKey, PersonView
from engine.fusion.service import FusionUpdated
from engine.sensing.service import SensingUpdated
from engine.sensing.view import BlobView, DeviceHeard, SensingSnapshot
from engine.sim.fusion_score import FusionScorer, summary

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LOBBY = SensingRoomConfig("lobby", "Lobby", RoomGeometry(8.0, 6.0, 3.0))
STORE = SensingRoomConfig(
    "store", "Store room", RoomGeometry(5.0, 6.0, 3.0), None, FloorPoint(8.0, 0.0)
)
NAMES = ("Walker 1", "Walker 2")
# Walker 1 stands at (2, 2) in the lobby, walker 2 at (6, 4) in the lobby until 10 s and at
# (10, 3) in the store room after; each one's true box on the camera is 10 px per metre.
PLACES = {0: lambda t: (2.0, 2.0), 1: lambda t: (6.0, 4.0) if t < 10 else (10.0, 3.0)}


def true_box(camera: str, walker: int, t: float) -> tuple[float, float, float, float] | None:
    x, y = PLACES[walker](t)
    return (x * 10, y * 10, 10.0, 20.0) if x < 8 else None


def scorer(bus: EventBus) -> FusionScorer:
    return FusionScorer(
        bus,
        walkers=[PLACES[0], PLACES[1]],
        names=NAMES,
        scene_time=lambda t: t - T0.timestamp(),
        true_box=true_box,
        rooms=[LOBBY, STORE],
        named_in=frozenset({"lobby"}),
        camera_rooms=frozenset({"lobby"}),
    )


def at(t: float) -> datetime:
    return T0 + timedelta(seconds=t)


def see(bus: EventBus, t: float, *, devices: tuple[DeviceHeard, ...] = ()) -> None:
    """The camera's two tracks (1 on walker 1, 2 on walker 2) and the rooms' blobs (lobby 11
    on walker 1, lobby 12 on walker 2 or store 21 once walker 2 is there), 0.3 s late."""
    boxes = [(1, true_box("cam", 0, t))]
    if t < 10:
        boxes.append((2, true_box("cam", 1, t)))
    sightings = tuple(Sighting(track, box, 0.9) for track, box in boxes if box is not None)
    bus.publish(PeopleDetected(at=at(t), camera="cam", frame_size=(640, 480), sightings=sightings))
    for room, blobs in (
        ("lobby", [(11, 0)] + ([(12, 1)] if t < 10 else [])),
        ("store", [(21, 1)] if t >= 10 else []),
    ):
        config = LOBBY if room == "lobby" else STORE
        views = []
        for blob_id, walker in blobs:
            x, y = config.from_floor(*PLACES[walker](t - 0.3))
            views.append(BlobView(blob_id, (x, y, 1.0), (0.0, 0.0, 0.0), 1.0, False))
        snapshot = SensingSnapshot(
            room,
            config.name,
            (8.0, 6.0, 3.0),
            True,
            t,
            (),
            (),
            tuple(views),
            None,
            6,
            0.123,
            devices=devices if room == "lobby" else (),
        )
        bus.publish(SensingUpdated(at=at(t), snapshot=snapshot))


def person(key: int, name: str | None, *members: MemberKey) -> PersonView:
    return PersonView(key, name, "ble" if name else None, None, (0.0, 0.0), 0.0, members, ())


def fused(bus: EventBus, t: float, people: list[PersonView], links: list[tuple[int, int]]) -> None:
    bus.publish(
        FusionUpdated(
            at=at(t),
            people=tuple(people),
            links=tuple(
                LinkView(("camera", "cam", track), ("sensing", "lobby", blob), 0.9, 0.0)
                for track, blob in links
            ),
        )
    )


TAG_1 = DeviceHeard(
    "02:57:46:42:00:01", "tag 1", "Walker 1", None, (((0.1, 0.1, 0.15), 1.0, -60.0),)
)


def test_joins_and_identities_are_counted_against_the_truth() -> None:
    bus = EventBus()
    score = scorer(bus)
    see(bus, 1.0)
    # Before anything hears walker 1's tag, the right identity is no name.
    fused(bus, 1.1, [person(1, None, ("camera", "cam", 1), ("sensing", "lobby", 11))], [(1, 11)])
    see(bus, 2.0, devices=(TAG_1,))  # the lobby's nodes hear her tag: she is nameable now
    fused(bus, 2.1, [person(1, None, ("camera", "cam", 1), ("sensing", "lobby", 11))], [(1, 11)])
    see(bus, 3.0)
    walker_1 = person(1, "Walker 1", ("camera", "cam", 1), ("sensing", "lobby", 11))
    crossed = person(2, None, ("camera", "cam", 2), ("sensing", "lobby", 11))
    fused(bus, 3.1, [walker_1], [(1, 11)])
    fused(bus, 3.2, [crossed, person(3, None, ("camera", "cam", 1))], [(2, 11)])  # wrong join
    score.close()
    got = score.score.as_json()
    # Two walkers each had a track and a blob at four updates: 8 opportunities.
    assert got["pair_opportunities"] == 8
    # Walker 1 joined at all four; right identity at 1.1 (no name yet) and 3.1 (named).
    assert got["joined_right"] == 3 and got["right_identity"] == 2
    assert got["joined_wrong_name"] == 1  # 2.1: her tag was heard, the fusion had no name
    assert (got["joins_right"], got["joins_wrong"]) == (3, 1)
    assert got["wrong_join_share"] == 0.25
    # Of the four joins with a truth, two were hers under the name she had then.
    assert got["joins_named_right"] == 2 and got["join_identity_share"] == 0.5
    assert got["pairs_joined"] == 2 and got["pairs_wrong"] == 1
    assert (
        "cam track 2 (walker 2) joined to lobby blob 11 (walker 1)" in got["wrong_join_examples"][0]
    )


def test_a_name_kept_in_the_room_without_a_camera_is_counted_alone_and_in_company() -> None:
    bus = EventBus()
    score = scorer(bus)
    tag_2 = DeviceHeard(
        "02:57:46:42:00:02", "tag 2", "Walker 2", None, (((0.1, 0.1, 0.15), 1.0, -60.0),)
    )
    see(bus, 5.0, devices=(tag_2,))
    fused(
        bus, 5.1, [person(2, "Walker 2", ("camera", "cam", 2), ("sensing", "lobby", 12))], [(2, 12)]
    )
    see(bus, 11.0)  # walker 2 is in the store room now, alone there
    fused(bus, 11.1, [person(2, "Walker 2", ("sensing", "store", 21))], [])
    see(bus, 12.0)
    fused(bus, 12.1, [person(2, None, ("sensing", "store", 21))], [])  # the name was lost
    score.close()
    got = score.score.as_json()
    assert got["name_kept_in_room_without_camera"] == "1/2" and got["name_kept_share"] == 0.5
    assert got["name_kept_alone"] == "1/2"
    total = summary([got, got])
    assert total["name_kept_in_room_without_camera"] == "2/4"
    assert total["name_kept_alone_share"] == 0.5
    assert total["join_identity_share"] == got["join_identity_share"]


def test_a_blob_between_two_walkers_or_a_box_over_two_has_no_truth() -> None:
    bus = EventBus()
    score = scorer(bus)
    # A blob half-way between walker 1 (2, 2) and a point 1 m away is within 1 m of her and
    # nearer her than anyone: hers. Moved to (4, 3), it is 2.2 m from both: nobody's.
    room_blobs = (
        BlobView(11, (2.5, 2.0, 1.0), (0.0, 0.0, 0.0), 1.0, False),
        BlobView(13, (4.0, 3.0, 1.0), (0.0, 0.0, 0.0), 1.0, False),
    )
    bus.publish(
        SensingUpdated(
            at=at(1.0),
            snapshot=SensingSnapshot(
                "lobby", "Lobby", (8.0, 6.0, 3.0), True, 1.0, (), (), room_blobs, None, 6, 0.123
            ),
        )
    )
    box = true_box("cam", 0, 1.0)
    assert box is not None
    bus.publish(
        PeopleDetected(
            at=at(1.0), camera="cam", frame_size=(640, 480), sightings=(Sighting(1, box, 0.9),)
        )
    )
    fused(bus, 1.1, [person(1, None, ("camera", "cam", 1), ("sensing", "lobby", 13))], [(1, 13)])
    score.close()
    got = score.score.as_json()
    assert (got["joins_right"], got["joins_wrong"], got["joins_without_truth"]) == (0, 0, 1)
    # Walker 1 had a track and a blob (11) of her own, not joined.
    assert got["pair_opportunities"] == 1 and got["not_joined"] == 1


def test_a_visit_into_the_room_without_a_camera_is_judged_four_seconds_in() -> None:
    tag_2 = DeviceHeard(
        "02:57:46:42:00:02", "tag 2", "Walker 2", None, (((0.1, 0.1, 0.15), 1.0, -60.0),)
    )
    results = []
    for name_inside in ("Walker 2", "Walker 1"):
        bus = EventBus()
        score = scorer(bus)
        see(bus, 5.0, devices=(tag_2,))  # her tag is heard: she is nameable
        fused(bus, 5.1, [person(2, "Walker 2", ("camera", "cam", 2))], [])
        for t in (10.5, 12.0, 13.9, 14.5, 16.0):  # in the store room, alone, from 10 s
            see(bus, t)
            fused(bus, t + 0.1, [person(2, name_inside, ("sensing", "store", 21))], [])
        score.close()
        results.append(score.score.as_json())
    kept, lost = results
    # Judged once, at 14.6 (the first update 4 s or more after she went in).
    assert (
        kept["name_kept_entering_empty"] == "1/1" and kept["name_kept_entering_occupied"] == "0/0"
    )
    assert lost["name_kept_entering_empty"] == "0/1"
    total = summary([kept, lost])
    assert total["name_kept_entering_empty"] == "1/2"
    assert total["name_kept_entering_empty_share"] == 0.5
