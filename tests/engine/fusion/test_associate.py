"""Joining camera tracks and sensing blobs into people by floor position over time, and
carrying names between them (engine.fusion.associate)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.fusion.associate import Associator, Device, FusionChange

Path = Callable[[float], tuple[float, float]]
ADA = Device("02:57:46:42:00:01", "Ada's tag", "Ada", "Person_ada00001")


def line(start: tuple[float, float], end: tuple[float, float], seconds: float) -> Path:
    def at(t: float) -> tuple[float, float]:
        w = min(max(t / seconds, 0.0), 1.0)
        return (start[0] + w * (end[0] - start[0]), start[1] + w * (end[1] - start[1]))

    return at


def run(
    fusion: Associator,
    seconds: float,
    tracks: dict[int, tuple[Path, float, float]],
    blobs: dict[tuple[str, int], tuple[Path, float, float, Device | None]],
    *,
    start: float = 0.0,
    seed: int = 0,
    on_step: Callable[[float], None] | None = None,
) -> list[FusionChange]:
    """Feed ``seconds`` at 10 Hz: camera tracks (path, from, to) seen with 0.15 m of noise,
    blobs ((room, id): path, from, to, device) with 0.3 m of noise and 0.2 s of lag."""
    rng = np.random.default_rng(seed)
    changes = []
    for step in range(int(seconds * 10)):
        t = start + step / 10
        for track_id, (path, t0, t1) in tracks.items():
            if t0 <= t <= t1:
                x, y = path(t) + rng.normal(0, 0.15, 2)
                fusion.see_track("east", track_id, t, (float(x), float(y)), "Plaza east")
        for (room, blob_id), (path, t0, t1, device) in blobs.items():
            if t0 <= t <= t1:
                x, y = path(t - 0.2) + rng.normal(0, 0.3, 2)
                fusion.see_blob(room, blob_id, t, (float(x), float(y)), room.title(), device)
        if step % 2 == 0:
            changes += fusion.update(t)
        if on_step is not None:
            on_step(t)
    return changes


def test_two_people_crossing_are_each_joined_to_their_own_blob() -> None:
    fusion = Associator()
    ada = line((1.0, 1.0), (7.0, 5.0), 20.0)
    bo = line((7.0, 1.0), (1.0, 5.0), 20.0)
    wrong: list[tuple[float, object]] = []

    def check(t: float) -> None:
        for link in fusion.links():
            if link.track[2] != link.blob[2]:
                wrong.append((t, link))

    run(
        fusion,
        20.0,
        {1: (ada, 0, 20), 2: (bo, 0, 20)},
        {("lobby", 1): (ada, 0, 20, None), ("lobby", 2): (bo, 0, 20, None)},
        on_step=check,
    )
    assert not wrong
    joined = {(link.track[2], link.blob[2]) for link in fusion.links()}
    assert joined == {(1, 1), (2, 2)}


def test_a_devices_name_reaches_the_camera_track_and_a_face_reaches_the_blob() -> None:
    fusion = Associator()
    ada = line((1.0, 1.0), (6.0, 1.0), 10.0)
    bo = line((1.0, 5.0), (6.0, 5.0), 10.0)
    fusion.name_track("east", 2, "Bo", "Person_bo000002", "face")  # before the track is seen
    run(
        fusion,
        10.0,
        {1: (ada, 0, 10), 2: (bo, 0, 10)},
        {("lobby", 7): (ada, 0, 10, ADA), ("lobby", 8): (bo, 0, 10, None)},
    )
    by_track = fusion.person_of(("camera", "east", 1))
    assert by_track is not None and (by_track.name, by_track.name_source) == ("Ada", "ble")
    assert by_track.person_id == ADA.person_id
    by_blob = fusion.person_of(("sensing", "lobby", 8))
    assert by_blob is not None and (by_blob.name, by_blob.name_source) == ("Bo", "face")


def test_walking_from_the_cameras_view_into_a_room_without_a_camera_keeps_the_name() -> None:
    fusion = Associator()
    walk = line((1.0, 3.0), (12.0, 3.0), 11.0)  # 1 m/s east; the store room starts at x = 8
    fusion.name_track("east", 1, "Ada", "Person_ada00001", "face")  # her face, on the track
    changes = run(
        fusion,
        15.0,
        {1: (walk, 0, 6.5)},  # the camera sees the lobby up to x ≈ 7.5
        {
            ("lobby", 1): (walk, 0, 7.2, None),
            ("store", 2): (walk, 7.6, 11.0, None),  # the next room's blob at the door
        },
    )
    ended = [c for c in changes if c.kind == "ended"]
    assert not ended or all(c.person.members for c in ended)
    handed = [c for c in changes if c.kind == "handed_over"]
    assert [c.member for c in handed] == [("sensing", "store", 2)]
    (person,) = fusion.people()  # waiting at the store room's far wall: one person
    assert person.name == "Ada" and person.waiting
    senses = [(s.sense, s.source) for s in person.segments]
    assert senses == [("camera", "east"), ("sensing", "lobby"), ("sensing", "store")]


def test_a_new_blob_between_two_waiting_people_is_nobody_yet() -> None:
    fusion = Associator()
    a = line((3.0, 3.0), (3.0, 3.0), 1.0)
    b = line((4.0, 3.0), (4.0, 3.0), 1.0)
    mid = line((3.5, 3.2), (3.5, 3.2), 1.0)
    run(
        fusion,
        8.0,
        {},
        {
            ("lobby", 1): (a, 0, 3, Device("01", "tag 1", "Ann", None)),
            ("lobby", 2): (b, 0, 3, Device("02", "tag 2", "Ben", None)),
            ("lobby", 3): (mid, 5.5, 8, None),
        },
    )
    person = fusion.person_of(("sensing", "lobby", 3))
    assert person is not None and person.name is None


def test_a_join_parts_when_the_two_go_separate_ways() -> None:
    fusion = Associator()
    together = line((1.0, 1.0), (4.0, 1.0), 6.0)

    def apart(t: float) -> tuple[float, float]:
        x, y = together(t)
        return (x, y + max(0.0, t - 6.0) * 1.2)

    changes = run(
        fusion,
        12.0,
        {1: (together, 0, 12)},
        {("lobby", 1): (apart, 0, 12, ADA)},
    )
    kinds = [c.kind for c in changes]
    assert "joined" in kinds and "parted" in kinds
    track = fusion.person_of(("camera", "east", 1))
    blob = fusion.person_of(("sensing", "lobby", 1))
    assert track is not None and blob is not None and track.person_key != blob.person_key


def test_a_person_ends_after_the_handover_time_with_their_whole_path() -> None:
    fusion = Associator()
    walk = line((1.0, 1.0), (5.0, 1.0), 5.0)
    changes = run(fusion, 14.0, {1: (walk, 0, 5)}, {("lobby", 4): (walk, 0, 5, ADA)})
    ended = [c for c in changes if c.kind == "ended"]
    assert len(ended) == 1 and ended[0].person.name == "Ada"
    sources = {(s.sense, s.source) for s in ended[0].person.segments}
    assert sources == {("camera", "east"), ("sensing", "lobby"), ("ble", ADA.address)}
    ble = next(s for s in ended[0].person.segments if s.sense == "ble")
    assert ble.label == "Ada's tag" and ble.end - ble.start >= 4.5
    assert fusion.people() == []
    assert math.isfinite(ended[0].t)
