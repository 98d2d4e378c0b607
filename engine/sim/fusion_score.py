"""Scoring the fusion against a simulated scene's truth (``watchfloor fusion simulate``, the
``fusion`` benchmark).

The scene knows where each walker is at every moment. A camera track is *walker w's* when,
at a frame where the detector found it, its box overlaps w's true box (projected through the
simulated camera) by IoU ≥ :data:`TRACK_IOU` more than any other walker's; a blob is *w's*
when its place is within :data:`BLOB_RADIUS_M` of w and nearer w than any other walker. A
track or blob matching no walker (a ghost) has no truth.

At every fusion update, for every walker that a camera track and a blob of theirs both see
(an *opportunity*: the two could be joined):

- **right identity**: the fusion has the two in one person, and that person carries the
  walker's name (when the walker has one yet; see below), or no name when the walker has
  none;
- counted apart: joined but named wrongly, or not joined (yet).

Every join the fusion holds at an update is **right** when both sides are the same walker's,
**wrong** when they are two walkers', and unknown when a side has no truth. Of the joins with a
truth, the **identity of joins** is the share that are right *and* whose person carries the
walker's name (the issue's "right person identity on camera-track and blob pairs" read as the
pairs the fusion made; the right identity above reads it as every pair it could have made).

**Names.** A walker is known by their name ("Walker 1", …: the tag the first room's nodes
hear) from the moment a room's nodes have heard their tag (the room sends it, with its
readings) or the room's BLE matching names a blob of theirs with it; before that the right
identity is no name.

**Names kept across a room without a camera.** A named walker in a room where nothing names
them (no camera, nodes that hear no tags): at every update while that room senses them, is
the person their blob belongs to called by their name? Counted apart for the moments nobody
else is in that room (when two people meet where nothing names them, no sense can tell them
apart again). And by visit: a named walker walking into such a room, at the first update
:data:`ENTRY_JUDGED_S` or more after they went in at which a blob of theirs is seen there,
does that blob's person carry their name? Counted apart for visits into an empty room and
into one someone else was in.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from engine.bus import EventBus
from engine.config import SensingRoomConfig
from engine.events import PeopleDetected
from engine.fusion.service import FusionUpdated
from engine.sensing.service import SensingUpdated

TRACK_IOU: Final = 0.3
TRACK_IOU_MARGIN: Final = 0.15
BLOB_RADIUS_M: Final = 1.0
BLOB_MARGIN_M: Final = 0.5
BLOB_LAG_S: Final = 0.3  # a room's tracker places a walker about this late (measured)
RECENT_S: Final = 0.5  # a sighting older than this at an update is not "seeing now"
ENTRY_JUDGED_S: Final = 4.0  # a visit's name is judged this long after the walker went in

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class FusionScore:
    """The counts (see the module docstring)."""

    opportunities: int = 0
    joined_right: int = 0  # the two joined, whatever the name
    right_identity: int = 0
    joined_wrong_name: int = 0
    not_joined: int = 0
    joins_right: int = 0
    joins_wrong: int = 0
    joins_unknown: int = 0
    joins_named_right: int = 0  # right joins whose person carries the walker's name
    kept_name: int = 0
    kept_name_of: int = 0
    kept_alone: int = 0  # …of those, while nobody else was in that room
    kept_alone_of: int = 0
    entered_empty: int = 0  # visits into an empty blind room, judged
    entered_empty_kept: int = 0  # …whose blob carried the walker's name
    entered_occupied: int = 0
    entered_occupied_kept: int = 0
    updates: int = 0
    pairs: int = 0  # distinct (track, blob) pairs joined while both had a truth
    pairs_right: int = 0  # …the same walker's most of that time
    pairs_wrong: int = 0
    wrong_examples: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        joins = self.joins_right + self.joins_wrong
        return {
            "updates": self.updates,
            "pair_opportunities": self.opportunities,
            "joined_right": self.joined_right,
            "joined_right_share": _share(self.joined_right, self.opportunities),
            "right_identity": self.right_identity,
            "right_identity_share": _share(self.right_identity, self.opportunities),
            "joined_wrong_name": self.joined_wrong_name,
            "not_joined": self.not_joined,
            "joins_right": self.joins_right,
            "joins_wrong": self.joins_wrong,
            "joins_without_truth": self.joins_unknown,
            "wrong_join_share": _share(self.joins_wrong, joins),
            "joins_named_right": self.joins_named_right,
            "join_identity_share": _share(self.joins_named_right, joins),
            "pairs_joined": self.pairs,
            "pairs_right": self.pairs_right,
            "pairs_wrong": self.pairs_wrong,
            "pairs_wrong_share": _share(self.pairs_wrong, self.pairs),
            "name_kept_in_room_without_camera": f"{self.kept_name}/{self.kept_name_of}",
            "name_kept_share": _share(self.kept_name, self.kept_name_of),
            "name_kept_alone": f"{self.kept_alone}/{self.kept_alone_of}",
            "name_kept_alone_share": _share(self.kept_alone, self.kept_alone_of),
            "name_kept_entering_empty": f"{self.entered_empty_kept}/{self.entered_empty}",
            "name_kept_entering_empty_share": _share(self.entered_empty_kept, self.entered_empty),
            "name_kept_entering_occupied": (
                f"{self.entered_occupied_kept}/{self.entered_occupied}"
            ),
            "name_kept_entering_occupied_share": _share(
                self.entered_occupied_kept, self.entered_occupied
            ),
            "wrong_join_examples": self.wrong_examples[:5],
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class FusionScorer:
    """Listens on ``bus`` and scores each :class:`FusionUpdated` (see the module). The
    scene gives ``walkers`` (floor position at scene time, None before they enter),
    ``scene_time`` (event time in seconds of the UTC clock → scene seconds), ``true_box``
    (camera, walker index, scene time → the walker's true box on that camera's picture, or
    None) and the name each walker is known by; ``rooms`` the site's rooms, ``named_in``
    the rooms whose nodes hear the tags, ``camera_rooms`` the rooms a camera sees."""

    def __init__(
        self,
        bus: EventBus,
        *,
        walkers: Sequence[Callable[[float], tuple[float, float] | None]],
        names: Sequence[str],
        scene_time: Callable[[float], float],
        true_box: Callable[[str, int, float], Box | None],
        rooms: Sequence[SensingRoomConfig],
        named_in: frozenset[str],
        camera_rooms: frozenset[str],
    ) -> None:
        self.score = FusionScore()
        self._walkers = walkers
        self._names = names
        self._scene_time = scene_time
        self._true_box = true_box
        self._rooms = {room.id: room for room in rooms}
        self._named_in = named_in
        self._camera_rooms = camera_rooms
        self._lock = threading.Lock()
        self._tracks: dict[tuple[str, int], tuple[float, int | None]] = {}
        self._blobs: dict[tuple[str, int], tuple[float, int | None]] = {}
        self._named: set[int] = set()  # walkers the scene has named by now
        # Each joined (track, blob) pair: updates it was right, updates it was wrong.
        self._pairs: dict[tuple[Any, Any], list[int]] = {}
        # Each named walker's visit to a blind room: (room, when they went in, whether it was
        # empty then, whether judged yet).
        self._visits: dict[int, tuple[str, float, bool, bool]] = {}
        self._unsubscribe = [
            bus.subscribe(PeopleDetected, self._on_people),
            bus.subscribe(SensingUpdated, self._on_sensing),
            bus.subscribe(FusionUpdated, self._on_fusion),
        ]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        pairs = list(self._pairs.values())
        self.score.pairs = len(pairs)
        self.score.pairs_right = sum(1 for right, wrong in pairs if right > wrong)
        self.score.pairs_wrong = sum(1 for right, wrong in pairs if wrong >= right)

    def _walker_of_box(self, camera: str, box: Box, t: float) -> int | None:
        """The walker whose true box ``box`` is (None: nobody's, or two walkers' alike)."""
        overlaps = []
        for index in range(len(self._walkers)):
            truth = self._true_box(camera, index, t)
            if truth is not None:
                overlaps.append((iou(box, truth), index))
        overlaps.sort(reverse=True)
        if not overlaps or overlaps[0][0] < TRACK_IOU:
            return None
        if len(overlaps) > 1 and overlaps[1][0] > overlaps[0][0] - TRACK_IOU_MARGIN:
            return None  # two walkers overlap in the picture: the truth cannot say whose
        return overlaps[0][1]

    def _walker_near(self, floor: tuple[float, float], t: float) -> int | None:
        """The walker a blob at ``floor`` is (None: nobody near, or two walkers alike)."""
        near = []
        for index, walker in enumerate(self._walkers):
            place = walker(t)
            if place is not None:
                near.append((math.hypot(place[0] - floor[0], place[1] - floor[1]), index))
        near.sort()
        if not near or near[0][0] > BLOB_RADIUS_M:
            return None
        if len(near) > 1 and near[1][0] < near[0][0] + BLOB_MARGIN_M:
            return None  # between two walkers: the truth cannot say whose
        return near[0][1]

    def _on_people(self, event: PeopleDetected) -> None:
        t_event = event.at.timestamp()
        t = self._scene_time(t_event)
        found = {
            (event.camera, s.track_id): (t_event, self._walker_of_box(event.camera, s.box, t))
            for s in event.sightings
        }
        with self._lock:
            self._tracks.update(found)

    def _on_sensing(self, event: SensingUpdated) -> None:
        snapshot = event.snapshot
        room = self._rooms.get(snapshot.room_id)
        if room is None:
            return
        t_event = event.at.timestamp()
        t = self._scene_time(t_event)
        found = {}
        named = set()
        for blob in snapshot.blobs:
            if blob.coasting:
                continue
            floor = room.to_floor(blob.position[0], blob.position[1])
            walker = self._walker_near(floor, t - BLOB_LAG_S)
            found[(room.id, blob.track_id)] = (t_event, walker)
            if (
                walker is not None
                and blob.identity is not None
                and blob.identity.name == self._names[walker]
            ):
                named.add(walker)  # their tag has named them: the name is theirs from now on
        for device in snapshot.devices:
            if device.readings and device.name in self._names:
                named.add(self._names.index(device.name))  # their tag is heard: nameable
        with self._lock:
            self._blobs.update(found)
            self._named |= named

    def _on_fusion(self, update: FusionUpdated) -> None:
        now = update.at.timestamp()
        t = self._scene_time(now)
        with self._lock:
            tracks = {k: w for k, (at, w) in self._tracks.items() if now - at <= RECENT_S}
            blobs = {k: w for k, (at, w) in self._blobs.items() if now - at <= RECENT_S}
        score = self.score
        score.updates += 1
        person_of: dict[tuple[str, str, int], Any] = {}
        for person in update.people:
            for member in person.members:
                person_of[member] = person
        with self._lock:
            named = set(self._named)
        # Opportunities: a walker a camera track and a blob of theirs both see now.
        for index in range(len(self._walkers)):
            mine_t = [k for k, w in tracks.items() if w == index]
            mine_b = [k for k, w in blobs.items() if w == index]
            if not mine_t or not mine_b:
                continue
            score.opportunities += 1
            people = {id(person_of.get(("camera", c, i))) for c, i in mine_t} & {
                id(person_of.get(("sensing", r, i))) for r, i in mine_b
            }
            shared = [
                person_of[("camera", c, i)]
                for c, i in mine_t
                if ("camera", c, i) in person_of and id(person_of[("camera", c, i)]) in people
            ]
            if not shared:
                score.not_joined += 1
                continue
            score.joined_right += 1
            expected = self._names[index] if index in named else None
            if shared[0].name == expected:
                score.right_identity += 1
            else:
                score.joined_wrong_name += 1
        # Joins: right, wrong or without truth.
        for link in update.links:
            track_w = tracks.get((link.track[1], link.track[2]))
            blob_w = blobs.get((link.blob[1], link.blob[2]))
            if track_w is not None and blob_w is not None:
                votes = self._pairs.setdefault((link.track, link.blob), [0, 0])
                votes[0 if track_w == blob_w else 1] += 1
            if track_w is None or blob_w is None:
                score.joins_unknown += 1
            elif track_w == blob_w:
                score.joins_right += 1
                carrier = person_of.get(link.track)
                expected = self._names[track_w] if track_w in named else None
                if carrier is not None and carrier.name == expected:
                    score.joins_named_right += 1
            else:
                score.joins_wrong += 1
                if len(score.wrong_examples) < 20:
                    score.wrong_examples.append(
                        f"t={t:.1f} s: {link.track[1]} track {link.track[2]} (walker "
                        f"{track_w + 1}) joined to {link.blob[1]} blob {link.blob[2]} "
                        f"(walker {blob_w + 1})"
                    )
        self._judge_visits(t, blobs, person_of, named)
        # Names kept where only a camera-less, tag-deaf room senses a named walker.
        for (room_id, blob_id), owner in blobs.items():
            if owner is None or owner not in named:
                continue
            if room_id in self._camera_rooms or room_id in self._named_in:
                continue
            room = self._rooms[room_id]
            others = [
                place
                for index, walker in enumerate(self._walkers)
                if index != owner and (place := walker(t - BLOB_LAG_S)) is not None
            ]
            alone = not any(room.contains_floor(*place) for place in others)
            score.kept_name_of += 1
            score.kept_alone_of += alone
            carrier = person_of.get(("sensing", room_id, blob_id))
            if carrier is not None and carrier.name == self._names[owner]:
                score.kept_name += 1
                score.kept_alone += alone

    def _blind_room_at(self, place: tuple[float, float] | None) -> str | None:
        if place is None:
            return None
        for room_id, room in self._rooms.items():
            if room_id in self._camera_rooms or room_id in self._named_in:
                continue
            if room.contains_floor(*place):
                return room_id
        return None

    def _judge_visits(
        self,
        t: float,
        blobs: Mapping[tuple[str, int], int | None],
        person_of: Mapping[tuple[str, str, int], Any],
        named: set[int],
    ) -> None:
        """Visits into a blind room (see the module docstring)."""
        score = self.score
        for index, walker in enumerate(self._walkers):
            room_id = self._blind_room_at(walker(t))
            visit = self._visits.get(index)
            if room_id is None:
                self._visits.pop(index, None)
                continue
            if visit is None or visit[0] != room_id:
                if index not in named:
                    continue
                others = [
                    place
                    for other, w in enumerate(self._walkers)
                    if other != index and (place := w(t)) is not None
                ]
                empty = not any(self._rooms[room_id].contains_floor(*p) for p in others)
                self._visits[index] = (room_id, t, empty, False)
                continue
            _, entered, empty, judged = visit
            if judged or t - entered < ENTRY_JUDGED_S:
                continue
            mine = [key for key, owner in blobs.items() if owner == index and key[0] == room_id]
            if not mine:
                continue  # judged when a blob of theirs is seen
            self._visits[index] = (room_id, entered, empty, True)
            carrier = person_of.get(("sensing", *mine[0]))
            kept = carrier is not None and carrier.name == self._names[index]
            if empty:
                score.entered_empty += 1
                score.entered_empty_kept += kept
            else:
                score.entered_occupied += 1
                score.entered_occupied_kept += kept


def summary(scores: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several runs' scores added up."""
    keys = (
        "pair_opportunities",
        "right_identity",
        "joined_wrong_name",
        "not_joined",
        "joins_right",
        "joins_wrong",
        "joins_without_truth",
        "joins_named_right",
    )
    total = {key: sum(int(s[key]) for s in scores) for key in keys}
    kept = [s["name_kept_in_room_without_camera"].split("/") for s in scores]
    kept_n, kept_of = sum(int(a) for a, _ in kept), sum(int(b) for _, b in kept)
    alone = [s["name_kept_alone"].split("/") for s in scores]
    alone_n, alone_of = sum(int(a) for a, _ in alone), sum(int(b) for _, b in alone)
    entered: dict[str, Any] = {}
    for key in ("name_kept_entering_empty", "name_kept_entering_occupied"):
        parts = [str(s.get(key, "0/0")).split("/") for s in scores]
        kept_in, of = sum(int(a) for a, _ in parts), sum(int(b) for _, b in parts)
        entered[key] = f"{kept_in}/{of}"
        entered[f"{key}_share"] = _share(kept_in, of)
    joins = total["joins_right"] + total["joins_wrong"]
    return {
        **entered,
        **total,
        "right_identity_share": _share(total["right_identity"], total["pair_opportunities"]),
        "wrong_join_share": _share(total["joins_wrong"], joins),
        "join_identity_share": _share(total["joins_named_right"], joins),
        "name_kept_in_room_without_camera": f"{kept_n}/{kept_of}",
        "name_kept_share": _share(kept_n, kept_of),
        "name_kept_alone": f"{alone_n}/{alone_of}",
        "name_kept_alone_share": _share(alone_n, alone_of),
    }
