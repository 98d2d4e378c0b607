"""The blob tracker's options against fragmented tracks: ids from a given first id,
relocation, the room's walls, merging close tracks, no spawning beside a live track, and
tentative tracks that end sooner. Pure: positions in, tracks out."""

from __future__ import annotations

import numpy as np
import pytest

from engine.sensing.grid.tracker import BlobTracker, TrackState

ROOM_BOUNDS = ((0.0, 0.0, 0.0), (5.0, 5.0, 2.5))
DT = 0.1


def walk(
    tracker: BlobTracker,
    start: tuple[float, float, float],
    velocity: tuple[float, ...],
    ticks: int,
    t0: float = 0.0,
) -> float:
    """Detections of one walker moving at ``velocity`` for ``ticks`` ticks; the last time."""
    t = t0
    for k in range(ticks):
        t = t0 + k * DT
        tracker.update([tuple(s + v * (t - t0) for s, v in zip(start, velocity, strict=True))], t)
    return t


def test_ids_number_from_first_id() -> None:
    tracker = BlobTracker(first_id=41)
    tracks = tracker.update([(1.0, 1.0, 1.0), (4.0, 4.0, 1.0)], 0.0)
    assert [t.track_id for t in tracks] == [41, 42]
    tracker.update([], 5.0)  # both end
    assert [t.track_id for t in tracker.update([(2.0, 2.0, 1.0)], 5.1)] == [43]
    with pytest.raises(ValueError, match="start at 1"):
        BlobTracker(first_id=0)


def test_ids_step_apart_for_a_room_of_several() -> None:
    # The second of two rooms: ids 2, 4, 6 … never one the first room (1, 3, 5 …) gives.
    tracker = BlobTracker(first_id=2, id_step=2)
    tracks = tracker.update([(1.0, 1.0, 1.0), (4.0, 4.0, 1.0)], 0.0)
    assert [t.track_id for t in tracks] == [2, 4]
    tracker.update([], 5.0)
    assert [t.track_id for t in tracker.update([(2.0, 2.0, 1.0)], 5.1)] == [6]
    with pytest.raises(ValueError, match="step by 1 or more"):
        BlobTracker(id_step=0)


def test_relocate_keeps_the_id_and_hits_and_forgets_the_velocity() -> None:
    tracker = BlobTracker()
    t = walk(tracker, (1.0, 1.0, 1.0), (1.0, 0.0, 0.0), 20)
    (before,) = tracker.tracks
    assert before.velocity[0] == pytest.approx(1.0, abs=0.2)
    tracker.relocate(before.track_id, (4.0, 3.0, 1.0))
    (moved,) = tracker.tracks
    assert moved.track_id == before.track_id and moved.hits == before.hits
    assert moved.position == pytest.approx((4.0, 3.0, 1.0))
    assert moved.velocity == (0.0, 0.0, 0.0)
    # With no velocity, coasting stays where it was put.
    (coasting,) = tracker.update([], t + 1.0)
    assert coasting.coasting and coasting.position == pytest.approx((4.0, 3.0, 1.0))
    # A detection near the new place is the same track (it is the prediction now).
    (again,) = tracker.update([(4.1, 3.0, 1.0)], t + 1.1)
    assert again.track_id == before.track_id and not again.coasting
    with pytest.raises(KeyError):
        tracker.relocate(999, (1.0, 1.0, 1.0))


def test_bounds_keep_a_coasting_track_inside_the_room() -> None:
    def coast_to_the_wall(
        bounds: tuple[tuple[float, ...], tuple[float, ...]] | None,
    ) -> list[TrackState]:
        tracker = BlobTracker(bounds=bounds)
        t = walk(tracker, (3.0, 2.5, 1.0), (1.0, 0.5, 0.0), 15)  # toward x = 5 m
        states = []
        for k in range(1, 30):  # 2.9 s of coasting at about 1 m/s
            states.extend(tracker.update([], t + k * DT))
        return states

    unbounded = coast_to_the_wall(None)
    assert max(s.position[0] for s in unbounded) > 5.5, "without walls it walks out"
    bounded = coast_to_the_wall(ROOM_BOUNDS)
    assert all(s.coasting for s in bounded)
    assert all(
        0.0 <= c <= hi for s in bounded for c, hi in zip(s.position, ROOM_BOUNDS[1], strict=True)
    )
    last = bounded[-1]
    assert last.position[0] == pytest.approx(5.0)
    assert last.velocity[0] == 0.0, "its velocity through the wall is zeroed"
    assert last.velocity[1] == pytest.approx(0.5, abs=0.2), "along the wall it keeps going"
    assert last.position[1] > bounded[0].position[1] + 0.5


def test_bounds_hold_a_detection_outside_the_room_at_the_wall() -> None:
    tracker = BlobTracker(bounds=ROOM_BOUNDS)
    (track,) = tracker.update([(-0.4, 2.0, 1.0)], 0.0)
    (track,) = tracker.update([(-0.5, 2.0, 1.0)], DT)
    assert track.position[0] == 0.0 and track.velocity[0] >= 0.0


def test_merge_distance_ends_the_younger_of_two_close_tracks() -> None:
    def approach(tracker: BlobTracker) -> list[list[int]]:
        """An older track with many detections at x = 1 m, and a second that starts 2 m
        away and comes to 0.9 m of it; the ids alive after each tick."""
        for k in range(10):
            tracker.update([(1.0, 1.0, 1.0)], k * DT)
        t = 10 * DT
        alive = [[tr.track_id for tr in tracker.update([(1.0, 1.0, 1.0), (3.0, 1.0, 1.0)], t)]]
        for k in range(1, 12):
            t += DT
            second_x = max(3.0 - 0.2 * k, 1.9)
            tracks = tracker.update([(1.0, 1.0, 1.0), (second_x, 1.0, 1.0)], t)
            alive.append([tr.track_id for tr in tracks])
        return alive

    alive = approach(BlobTracker(merge_distance_m=1.2))
    # 2.0, 1.8, 1.6, 1.4 and 1.2 m apart (the estimate lags the detections): both live...
    assert alive[:5] == [[1, 2]] * 5
    # ...then the younger ends and the older carries on.
    assert alive[5] == [1]
    # With spawn separation as well (as the service runs it), no new track replaces it.
    alive = approach(BlobTracker(merge_distance_m=1.2, spawn_separation_m=1.5))
    assert alive[:5] == [[1, 2]] * 5 and alive[5:] == [[1]] * 7
    # Without the option the two stay apart.
    assert approach(BlobTracker())[-1] == [1, 2]


def test_a_merge_says_which_track_the_ended_one_was_one_person_with() -> None:
    """``merged`` names, for the update that ended it, the track a merged one goes on as (the
    service stores it, so history does not say the person was no longer sensed)."""
    tracker = BlobTracker(merge_distance_m=1.2, spawn_separation_m=1.5)
    for k in range(10):
        tracker.update([(1.0, 1.0, 1.0)], k * DT)
    merged: list[dict[int, int]] = []
    for k in range(10, 22):
        tracker.update([(1.0, 1.0, 1.0), (max(3.0 - 0.2 * (k - 10), 1.9), 1.0, 1.0)], k * DT)
        merged.append(dict(tracker.merged))
    assert [m for m in merged if m] == [{2: 1}]
    tracker.update([(1.0, 1.0, 1.0)], 22 * DT)
    assert tracker.merged == {}


def _meet(tracker: BlobTracker) -> float:
    """Track 1 stands at x = 1 m; a confirmed track 2 walks up to it and the two make one blob
    (track 2's detections stop at 1.9 m, then only one detection is left); the last time."""
    for k in range(10):
        tracker.update([(1.0, 1.0, 1.0)], k * DT)
    t = 10 * DT
    for k in range(14):
        t = (10 + k) * DT
        tracker.update([(1.0, 1.0, 1.0), (max(3.0 - 0.1 * k, 1.9), 1.0, 1.0)], t)
    for _ in range(10):
        t += DT
        tracker.update([(1.0, 1.0, 1.0)], t)
    return t


def test_two_people_who_meet_and_part_keep_their_ids() -> None:
    """With ``hide_s`` the younger of two meeting tracks is hidden, not ended; when a new
    track starts beside the other and is confirmed, it takes the hidden id back."""
    tracker = BlobTracker(
        merge_distance_m=1.2, spawn_separation_m=1.5, confirm_hits=5, hide_s=10.0, reappear_m=3.0
    )
    t = _meet(tracker)
    assert [tr.track_id for tr in tracker.tracks] == [1]
    assert tracker.hidden == {2: 1} and tracker.merged == {}
    stitched: dict[int, int] = {}
    for k in range(1, 12):  # the second person walks away again
        t += DT
        ids = [
            tr.track_id for tr in tracker.update([(1.0, 1.0, 1.0), (1.0 + 0.3 * k, 1.0, 1.0)], t)
        ]
        stitched.update(tracker.stitched)
    assert ids == [1, 2]  # not 3: the new track that found them continued as 2
    assert stitched == {3: 2} and tracker.hidden == {}
    # Without hide_s the second one ends at the meeting and comes back with a new id.
    plain = BlobTracker(merge_distance_m=1.2, spawn_separation_m=1.5, confirm_hits=5)
    t = _meet(plain)
    for k in range(1, 12):
        t += DT
        ids = [tr.track_id for tr in plain.update([(1.0, 1.0, 1.0), (1.0 + 0.3 * k, 1.0, 1.0)], t)]
    assert ids == [1, 3]


def test_a_hidden_track_nobody_takes_up_ends_as_merged_after_hide_s() -> None:
    tracker = BlobTracker(
        merge_distance_m=1.2, spawn_separation_m=1.5, confirm_hits=5, hide_s=2.0, reappear_m=3.0
    )
    t = _meet(tracker)  # hidden at about 2.0 s, 1.4 s ago
    assert tracker.hidden == {2: 1}
    ended: dict[int, int] = {}
    for _ in range(10):
        t += DT
        tracker.update([(1.0, 1.0, 1.0)], t)
        ended.update(tracker.merged)
    assert ended == {2: 1} and tracker.hidden == {}
    # A person far from the one it was with is someone else: a new id.
    for k in range(6):
        tracker.update([(1.0, 1.0, 1.0), (4.6, 4.0, 1.0)], t + (k + 1) * DT)
    assert [tr.track_id for tr in tracker.tracks] == [1, 3]


def test_merge_keeps_the_track_with_more_detections_not_the_lower_id() -> None:
    tracker = BlobTracker(merge_distance_m=1.2)
    tracker.update([(3.0, 1.0, 1.0)], 0.0)  # track 1: seen once, then coasts in place
    t = 0.0
    for k in range(1, 8):  # track 2 from 0.5 m: detected every tick, walks toward it
        t = k * DT
        tracks = tracker.update([(0.5 + 0.2 * (k - 1), 1.0, 1.0)], t)
    assert [tr.track_id for tr in tracks] == [1, 2]
    assert {tr.track_id: tr.hits for tr in tracks} == {1: 1, 2: 7}
    for k in range(8, 14):
        t = k * DT
        tracks = tracker.update([(0.5 + 0.2 * (k - 1), 1.0, 1.0)], t)
    assert [tr.track_id for tr in tracks] == [2]


def test_spawn_separation_suppresses_a_second_track_beside_a_live_one() -> None:
    tracker = BlobTracker(spawn_separation_m=1.5, max_distance_m=0.5)
    tracker.update([(2.0, 2.0, 1.0)], 0.0)
    # A peak 1 m beside the person (outside association reach) is not a new person...
    tracks = tracker.update([(2.0, 2.0, 1.0), (3.0, 2.0, 1.0)], DT)
    assert [t.track_id for t in tracks] == [1]
    # ...one 2 m away is.
    tracks = tracker.update([(2.0, 2.0, 1.0), (4.0, 2.0, 1.0)], 2 * DT)
    assert [t.track_id for t in tracks] == [1, 2]
    assert tracks[1].position == pytest.approx((4.0, 2.0, 1.0))
    # Without the option, the peak beside the person would have started a track.
    plain = BlobTracker(max_distance_m=0.5)
    plain.update([(2.0, 2.0, 1.0)], 0.0)
    assert len(plain.update([(2.0, 2.0, 1.0), (3.0, 2.0, 1.0)], DT)) == 2


def test_two_people_a_camera_places_apart_stay_two_tracks_however_close() -> None:
    """Two walkers a camera sees come to 0.8 m of each other: as the camera's (keyed)
    detections they keep their two tracks, where the links' detections merge them."""

    def approach(keys: list[str | None]) -> list[list[int]]:
        tracker = BlobTracker(merge_distance_m=1.2, spawn_separation_m=1.5)
        alive = []
        for k in range(16):
            second_x = max(3.0 - 0.2 * k, 1.8)
            tracks = tracker.update([(1.0, 1.0, 1.0), (second_x, 1.0, 1.0)], k * DT, keys=keys)
            alive.append([tr.track_id for tr in tracks])
        return alive

    assert approach([None, None])[-1] == [1]
    assert approach(["a", "b"]) == [[1, 2]] * 16
    with pytest.raises(ValueError, match="one key"):
        BlobTracker().update([(1.0, 1.0, 1.0)], 0.0, keys=["a", "b"])


def test_a_person_one_camera_hands_to_another_keeps_their_track() -> None:
    """Two cameras see into a room. One walker is placed by camera a until it loses them,
    then by camera b (another camera's track id); a second walker 1 m away is camera b's
    throughout. Each keeps one track: the first takes camera b's place once its own
    camera's is gone, and the two are never merged."""
    tracker = BlobTracker(merge_distance_m=1.2, spawn_separation_m=1.5, max_distance_m=1.0)
    alive = []
    for k in range(20):
        x = 1.0 + 0.1 * k
        first = ("a", 3) if k < 10 else ("b", 7)
        tracks = tracker.update([(x, 1.0, 1.0), (x, 2.0, 1.0)], k * DT, keys=[first, ("b", 8)])
        alive.append([(tr.track_id, tr.camera_track) for tr in tracks])
    assert alive[9] == [(1, ("a", 3)), (2, ("b", 8))]
    assert all(ids == [(1, ("b", 7)), (2, ("b", 8))] for ids in alive[10:]), alive[10:]


def test_a_second_person_a_camera_places_beside_another_starts_a_track() -> None:
    """One person tracked on a camera's place; a second one the camera places 1 m from
    them starts a track of their own, where a peak of the links' 1 m away would not."""
    for keys, expected in (([None, None], [1]), (["a", "b"], [1, 2])):
        tracker = BlobTracker(spawn_separation_m=1.5, max_distance_m=0.5)
        tracker.update([(2.0, 2.0, 1.0)], 0.0, keys=keys[:1])
        tracks = tracker.update([(2.0, 2.0, 1.0), (3.0, 2.0, 1.0)], DT, keys=keys)
        assert [t.track_id for t in tracks] == expected
    # A camera's place beside a track on the links' own detection is that person: no track.
    tracker = BlobTracker(spawn_separation_m=1.5, max_distance_m=0.5)
    tracker.update([(2.0, 2.0, 1.0)], 0.0)
    tracks = tracker.update([(2.0, 2.0, 1.0), (3.0, 2.0, 1.0)], DT, keys=[None, "b"])
    assert [t.track_id for t in tracks] == [1]


def test_a_track_keeps_taking_its_camera_track_s_place_when_another_track_is_nearer() -> None:
    """Two tracks on two camera tracks' places; a third track (the links' ghost) drifts
    onto the first person's place: the first track still takes its camera track's place
    and the ghost takes nothing, where by distance alone the ghost would take it and the
    first track the second person's place."""
    tracker = BlobTracker(max_distance_m=2.0)
    tracker.update([(2.0, 2.0, 1.0), (2.0, 3.0, 1.0)], 0.0, keys=["a", "b"])
    tracker.update([(2.0, 2.0, 1.0), (2.0, 3.0, 1.0), (3.0, 2.0, 1.0)], DT)  # ghost, id 3
    # Everyone moves: person a to 2.6 m, nearer the ghost's place than track 1 is.
    tracks = tracker.update([(2.6, 2.0, 1.0), (2.0, 3.0, 1.0)], 2 * DT, keys=["a", "b"])
    taken = {t.track_id: t.detection for t in tracks if not t.coasting}
    assert taken == {1: 0, 2: 1}, taken


def test_a_tentative_track_ends_after_tentative_coast_a_confirmed_one_after_max_coast() -> None:
    tracker = BlobTracker(confirm_hits=3, tentative_coast_s=0.5, max_coast_s=3.0)
    tracker.update([(1.0, 1.0, 1.0), (4.0, 4.0, 1.0)], 0.0)
    for k in (1, 2):  # the first reaches 3 hits; the second is seen once only
        tracker.update([(1.0, 1.0, 1.0)], k * DT)
    hits = {t.track_id: t.hits for t in tracker.tracks}
    assert hits == {1: 3, 2: 1}
    t = 2 * DT
    alive: dict[float, list[int]] = {}
    while t < 2 * DT + 3.5:
        t = round(t + DT, 10)
        alive[t] = [tr.track_id for tr in tracker.update([], t)]
    # The tentative track (last seen at 0 s) lives 0.5 s, the confirmed one (0.2 s) 3 s.
    assert all(2 in ids for time_s, ids in alive.items() if time_s <= 0.5)
    assert all(2 not in ids for time_s, ids in alive.items() if time_s > 0.5 + 1e-6)
    assert all(1 in ids for time_s, ids in alive.items() if time_s <= 0.2 + 3.0)
    assert all(ids == [] for time_s, ids in alive.items() if time_s > 0.2 + 3.0 + 1e-6)


def test_without_tentative_coast_every_track_coasts_the_full_time() -> None:
    tracker = BlobTracker(confirm_hits=3, max_coast_s=3.0)
    tracker.update([(4.0, 4.0, 1.0)], 0.0)
    assert [t.track_id for t in tracker.update([], 2.9)] == [1]
    assert tracker.update([], 3.1) == []
    assert tracker.tentative_coast_s == tracker.max_coast_s == 3.0


def test_a_lost_track_continues_as_the_track_that_just_started_near_it() -> None:
    """A track that stayed on a tie while its person walked on (it loses its detections and
    coasts the wrong way) and the new track that starts where the person really is are one
    person: the old id continues there, and the young id ends (``stitched`` says so). Without
    stitching the old track lingers as a ghost beside the new one for its coasting time."""

    def run(stitch_m: float) -> tuple[list[list[TrackState]], dict[int, int]]:
        tracker = BlobTracker(
            spawn_separation_m=1.5, confirm_hits=3, stitch_distance_m=stitch_m, bounds=ROOM_BOUNDS
        )
        t = walk(tracker, (1.0, 2.5, 1.0), (1.0, 0.0, 0.0), 20)  # to (2.9, 2.5)
        stitched: dict[int, int] = {}
        ticks: list[list[TrackState]] = []
        # The person goes on to (4.6, 3.2) and beyond; the old track sees nothing more.
        for k in range(1, 15):
            ticks.append(tracker.update([(4.4 + 0.1 * k, 3.2, 1.0)], t + k * DT))
            stitched.update(tracker.stitched)
        return ticks, stitched

    ticks, stitched = run(2.5)
    first = ticks[0][0].track_id
    assert stitched == {first + 1: first}
    assert all(len(tracks) == 1 and tracks[0].track_id == first for tracks in ticks[1:])
    assert ticks[-1][0].position[0] == pytest.approx(5.0, abs=0.2)
    assert not ticks[-1][0].coasting

    unstitched, none = run(0.0)
    assert none == {}
    assert len(unstitched[-1]) == 2, "the old track still coasts beside the new one"


def test_a_new_person_far_from_a_lost_track_is_not_stitched_to_it() -> None:
    tracker = BlobTracker(confirm_hits=3, stitch_distance_m=2.5, bounds=ROOM_BOUNDS)
    t = walk(tracker, (0.5, 0.5, 1.0), (0.5, 0.0, 0.0), 20)
    old = tracker.tracks[0].track_id
    for k in range(1, 6):
        tracks = tracker.update([(4.5, 4.5, 1.0)], t + k * DT)  # 4 m away
        assert tracker.stitched == {}
    assert {s.track_id for s in tracks} == {old, old + 1}


def test_a_person_found_again_seconds_after_the_loss_keeps_their_id() -> None:
    """The person the tracker lost walks on unseen for 2 s and is found 4 m from the last
    detection: with the reach growing at walking speed for as long as the lost track coasts,
    the old id continues there; with the 1 s, 2.5 m stitch of before, a new id starts."""

    def found_again(window_s: float, speed_m_s: float) -> tuple[int, list[int]]:
        tracker = BlobTracker(
            confirm_hits=3,
            spawn_separation_m=1.5,
            stitch_distance_m=2.5,
            stitch_window_s=window_s,
            stitch_speed_m_s=speed_m_s,
            coast_velocity_tau_s=0.5,
            bounds=ROOM_BOUNDS,
        )
        t = walk(tracker, (0.5, 0.5, 1.0), (1.0, 0.0, 0.0), 10)  # to (1.4, 0.5)
        old = tracker.tracks[0].track_id
        for k in range(1, 20):  # 2 s unseen
            tracker.update(np.empty((0, 3)), t + k * DT)
        t += 20 * DT
        ids: list[int] = []
        for k in range(5):  # found at (4.8, 2.0): 3.7 m from the last detection
            tracks = tracker.update([(4.8 + 0.1 * k, 2.0, 1.0)], t + k * DT)
            ids = [s.track_id for s in tracks if not s.coasting]
        return old, ids

    old, ids = found_again(3.0, 1.5)
    assert ids == [old]
    old, ids = found_again(1.0, 0.0)
    assert ids and ids[0] != old


def test_a_young_track_born_long_before_the_loss_is_not_stitched() -> None:
    """Two people: the second was tracked for seconds before the first track lost its
    detections, so it is not the first person found again."""
    tracker = BlobTracker(confirm_hits=3, stitch_distance_m=2.5, bounds=ROOM_BOUNDS)
    t = 0.0
    for k in range(40):
        t = k * DT
        tracker.update([(1.0, 1.0, 1.0), (2.5, 2.0, 1.0)], t)
    ids = {s.track_id for s in tracker.tracks}
    for k in range(1, 6):
        tracker.update([(2.5, 2.0, 1.0)], t + k * DT)  # the first person stands still
        assert tracker.stitched == {}
    assert {s.track_id for s in tracker.tracks} == ids


def test_a_coasting_tracks_predicted_walk_slows_down_with_coast_velocity_tau() -> None:
    def coasted(tau: float | None) -> float:
        tracker = BlobTracker(coast_velocity_tau_s=tau, max_coast_s=5.0)
        for step in range(11):  # walking east at 1 m/s for 1 s
            tracker.update([[1.0 + 0.1 * step, 2.0, 1.0]], 0.1 * step)
        for step in range(11, 21):  # then not found for 1 s
            tracker.update(np.empty((0, 3)), 0.1 * step)
        (track,) = tracker.tracks
        assert track.coasting
        return track.position[0]

    free, slowed = coasted(None), coasted(0.5)
    assert free > 2.8  # walked on about 1 m
    assert 2.0 < slowed < free - 0.4  # slowed down: about 0.4 m at tau 0.5 s


def test_a_person_found_anywhere_as_their_track_is_lost_is_one_blob_not_two() -> None:
    """A track on a tie can be metres from its person when it loses them, and the track that
    finds them again far from anywhere it was (issue 68, the demo room: a third blob for two
    walkers). With ``stitch_confirmed_anywhere`` the lost track continues as the new one once
    that is confirmed (shown): one person, one blob. Without, the lost one coasted on beside
    it, shown, for its coasting time. A person tracked for longer than the stitch window
    before the loss is someone else and is never taken."""

    def run(anywhere: bool) -> tuple[int, list[list[int]], TrackState]:
        tracker = BlobTracker(
            confirm_hits=3,
            spawn_separation_m=1.5,
            stitch_distance_m=2.5,
            stitch_window_s=3.0,
            max_coast_s=3.0,
            bounds=ROOM_BOUNDS,
            stitch_confirmed_anywhere=anywhere,
        )
        t = 0.0
        for k in range(40):  # two people; the second tracked 4 s when the first is lost
            t = k * DT
            tracker.update([(0.5 + 0.02 * k, 0.5, 1.0), (4.5, 1.0, 1.0)], t)
        first, second = (s.track_id for s in tracker.tracks)
        shown: list[list[int]] = []
        for k in range(1, 16):  # the first found again 4 m from anywhere its track was
            tracks = tracker.update([(1.5, 4.5, 1.0), (4.5, 1.0, 1.0)], t + k * DT)
            shown.append(sorted(s.track_id for s in tracks if s.hits >= 3))
        assert all(second in ids for ids in shown), "the second person keeps their track"
        (kept,) = (s for s in tracker.tracks if s.track_id == first)
        return first, shown, kept

    first, shown, kept = run(True)
    assert all(len(ids) == 2 for ids in shown), shown
    assert shown[-1][0] == first and not kept.coasting
    assert kept.position[:2] == pytest.approx((1.5, 4.5), abs=0.1)
    first, shown, kept = run(False)
    assert max(len(ids) for ids in shown) == 3, "the lost track coasts on beside the new one"
    assert kept.coasting
