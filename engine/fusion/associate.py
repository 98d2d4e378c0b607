"""One person across senses: camera tracks and sensing blobs joined by where they are on the
floor over time, and names carried between them. Pure computation (no bus, no store, no
threads); :mod:`engine.fusion.service` feeds it and publishes what it finds.

**Members.** A *member* is one sense's own track of someone: a camera's track (``camera``,
its track id), placed on the floor by the camera's calibration (the feet: the bottom centre of
the box), or a sensing room's blob (``sensing``, its blob id), placed by the room. Each keeps
its recent floor positions.

**Association (camera track ↔ blob).** At each update every camera track seen in the last
:data:`ACTIVE_S` is compared with every blob seen then whose newest position lies within
:data:`GATE_M`: over the last :data:`WINDOW_S` seconds of both (less when one has only just
appeared), each of the blob's floor positions (a room sends about ten a second; a busy
camera's detector a few) is compared with where the track was :data:`BLOB_LAG_S` before (a
room's tracker places people late), and the pair is as far apart as the median of those
distances. The best one-to-one assignment (Hungarian) proposes pairs. A proposed pair at most
:data:`ACCEPT_M` apart, and at most :data:`JOIN_RECENT_M` over the last :data:`BREAK_WINDOW_S`,
with no rival within :data:`MARGIN_M` of it over either stretch, is **joined** at once (its
*confidence*, a running average of how close it is, goes with the link); a track outside
the blob's room (give or take :data:`ALONE_WALL_M`) is not joined to it. A joined pair more
than :data:`BREAK_M` apart over its last :data:`BREAK_WINDOW_S` parts, as does one whose blob
another camera track has been nearer than its own over that time: the blob leaves the
person (a room's tracker moves its ids between people far more often than a camera's does),
taking what named it. A track and a blob *alone* together (no other blob within
:data:`ALONE_M` of the track, no other track within it of the blob, counting those seen in
the last :data:`ALONE_SEEN_S`: a detector misses people for a moment; the blob's room one a
camera sees into) can only be one another, however far a room's multipath places the
blob: they are joined at once up to :data:`ALONE_ACCEPT_M` apart (on one sighting together
within :data:`ALONE_FIRST_M`, as a room's tracker often gives a walker a new id) and part
only beyond :data:`ALONE_BREAK_M`. A track or blob whose place jumps more than :data:`JUMP_M`
within :data:`JUMP_S`, or after a longer gap further than :data:`JUMP_SPEED_M_S` (a brisk
walk) explains on top, has been moved by its tracker onto someone else: it leaves its links
and its person and starts afresh.

**A person** is the members joined together, now and before: a camera track joined to a blob
is one person; when the track ends the blob carries on as that person (a room without a
camera, a privacy blind spot), and when the blob is lost the track does (weak sensing). A
member that ends leaves the person *waiting* for :data:`HANDOVER_S` seconds at its last place:
a new member starting near their way then (the next room's blob past the door, the camera's
new track after an occlusion) continues the person, unless another waiting person is about as
near (no guess: a new person instead). Near means within :data:`HANDOVER_M` beyond what
walking on at :data:`WALK_M_S` since explains; someone a camera sees elsewhere now is not a
candidate. A blob joined to a track whose person is called otherwise than the blob's leaves
its old person: the camera's track is the surer. A person's blob in one room that is still
placed there when the next room's blob takes them on is someone else (a room's tracker
carries a blob on with whoever walks in next) and leaves them.

**Names.** A person's name comes from their members: a recognised face on a camera track,
over a name introduced to that track, over a registered BLE device. Devices are matched to
people here, not taken from the blobs: each room sends the devices its nodes heard with their
readings (:meth:`Associator.hear_devices`), and every update each device's readings of the
last :data:`BLE_EVIDENCE_S` are weighed against the way each person in the room went, placed
by the camera's track where one follows them (to about 0.3 m) rather than by a blob (about
0.5 m, and two people close together make one blob): every reading adds how far it is from
what the path-loss model expects there then (:func:`~engine.identity.ble.path_misfit`). One
reading tells little (a node reports a tag every few seconds at 4 dB of scatter); their sum
tells two people a metre apart. The one-to-one assignment of least misfit adds the time to
each matched device's vote (at least :data:`MIN_CARRIED_S`: a match is clear, so it names
the person at once); a person's first device must beat every other assignment by
:data:`FIRST_MATCH_MISFIT`, and a device matched before is kept unless another fits better
by :data:`KEEP_DEVICE_MISFIT`, so an early guess does not stick and names do not swap back
and forth with each batch of readings. Where the person's track passed within
:data:`CROSSING_M` of another track of its camera, the tracker may have carried each id on
with the other person: the way with the two tracks' pasts exchanged is tried too, and the
better fit counts, so a person whose track was swapped onto someone else takes that
someone's device within seconds.

**Clothes.** Tags cannot tell two people walking within a metre of each other apart for
long, but a camera sees that one wears red: each camera track comes with its person's
colours (the tracker's hue × saturation histogram of torso and legs). Where the tags alone
clearly match a device to a person whom a camera follows and nobody else in view is within
:data:`CLOTHES_ALONE_M`, that camera learns what the device's carrier wears (a running mean
per device and camera: cameras see colours differently). From then on, a person whose track
wears other clothes than a device's carrier (beyond :data:`CLOTHES_OTHER`) fits that device
worse by up to :data:`CLOTHES_MISFIT`, so the clothes decide where the tags cannot, and a
new track in a crowd is named at once. Two people dressed alike get nothing from it (the
tags decide), and the clothes go on being learnt from the tags alone, so a change of jacket
is learnt again the next time its wearer walks alone. A track whose colours turn into
others (beyond :data:`LOOK_CHANGED` from what it wore before, within :data:`BLE_EVIDENCE_S`)
has been moved by the camera's tracker onto someone else, however far apart the two were:
only its way since the change is weighed against the tags, so its person takes the new
wearer's device within seconds. Colours are kept in memory only.

Votes fade (older ones count less after :data:`BLE_MEMORY_S`) while new matches come;
where nothing is heard (a room whose nodes hear no tags) the name stays. The device with
the most vote names the person.
The name is the person's, so every member shows it (a device names the
camera's track, a face names the blob) and it stays with them after the member that gave it
has gone.

**Blind rooms.** A room no camera sees into (no camera places anyone :data:`DEEP_M` inside
it) and whose nodes hear no tags has no sense that can name anyone in it: a name there is
the one a person carried in. The carried name may be wrong (the name at the door was someone
else's, a camera's tracker moved the track at the door) and goes wrong when two people in
the room make one blob and the room's tracker carries it on with the one who stays. So each
blind room keeps a *roster* of the registered devices in it: a device that falls silent (no
room's nodes heard it for :data:`DEVICE_GONE_S`) while the person it was matched to was
within :data:`ENTER_M` of a blind room went into the nearest one, and a device heard again
has come out. When a blind room follows one person and holds one device, that device names
them. With two devices and one blob it does not guess. A blind room that senses nobody for
:data:`EMPTY_S` is empty. A blob in a blind room whose person another sense still follows
elsewhere, long after the blob appeared, is someone else's and leaves them.
A device no node has heard for :data:`DEVICE_GONE_S` is matched to nobody: its last readings
would name whoever is left in the room.

**Path.** Each person keeps the *segments* of their path: which sense saw them where and when
("seen by Plaza east 14:02–14:04, sensed in the lobby 14:04–14:09, phone 'Ada's tag'
throughout"), for the history.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from engine.identity.ble import PathMisfit, path_misfit

ACTIVE_S: Final = 1.0  # a member seen within this is in view now
WINDOW_S: Final = 1.5  # the stretch of path compared
SIGMA_M: Final = 0.6  # a camera's floor error and a blob's together
GATE_M: Final = 2.0  # farther apart now than this: not the same person
MIN_SAMPLES: Final = 3
ACCEPT_M: Final = 1.2  # a track and a blob apart by more than this (median) are not one
MARGIN_M: Final = 0.4  # a rival this much nearer or less makes a pair ambiguous
RECENT_MARGIN_M: Final = 0.4  # …over the last BREAK_WINDOW_S
# A joined pair this far apart over its last BREAK_WINDOW_S parts… Measured (the walkthrough's
# rooms re-sensed from three live recordings, seeds 7/11/23): 0.9 m joined two walkers at
# 2.3 % of updates (live 1.8-2.5 %, over the 2 % budget); 0.8 m 1.9 %, 0.75 m 1.5 %, for
# 1.6 points of right identity (82.7 -> 81.1 %). A wrong join puts one person's name on
# another; a join a moment late costs less.
BREAK_M: Final = 0.75
# A proposed pair is joined only if no farther apart than this over its last BREAK_WINDOW_S
# (BREAK_M held new joins back too: 2.3 points of right identity on six recorded runs).
JOIN_RECENT_M: Final = 1.0
ALONE_M: Final = 2.0  # a track and a blob with no one else this near are alone together…
ALONE_SEEN_S: Final = 2.0  # …counting everyone seen this recently…
ALONE_WALL_M: Final = 0.3  # …the track no farther than this outside the blob's room, a room
# a camera sees into (DEEP_M)
ALONE_FIRST_M: Final = 0.9  # alone, one sighting together this near is enough to join
ALONE_ACCEPT_M: Final = 1.6  # ACCEPT_M for a pair alone together
ALONE_BREAK_M: Final = 1.6  # BREAK_M for them
FAR_M: Final = 1000.0
BREAK_WINDOW_S: Final = 0.4  # a joined pair is judged on this much of its latest path
BLOB_LAG_S: Final = 0.3  # a room's tracker places a walker about this late
JUMP_M: Final = 1.5  # a member farther than this from its last place within JUMP_S…
JUMP_S: Final = 0.6  # …has been taken over by someone else (its tracker swapped people)
JUMP_SPEED_M_S: Final = 2.0  # …or than this much further a second after that
END_AFTER_S: Final = 2.0  # a member unseen this long has ended
HANDOVER_S: Final = 5.0
HANDOVER_M: Final = 2.0
SETTLE_S: Final = 1.0  # a new member is placed (and handed a person) over its first second
HANDOVER_AMBIGUOUS_M: Final = 0.75  # a rival waiting person this much farther or nearer: ambiguous
SAMPLES_KEPT: Final = 120
BLE_EVIDENCE_S: Final = 10.0  # a device's readings this far back are weighed against a way
PLACE_SIGMA_M: Final = 0.4  # how far a way's place is from the tag (a camera's feet, a blob)
MIN_READINGS: Final = 2  # a device is matched to a person on at least this many readings…
MAX_MEAN_SQUARE: Final = 4.0  # …that fit their way no worse than 2 σ on average
KEEP_DEVICE_MISFIT: Final = 4.0  # another device takes a person when it fits this much better
FIRST_MATCH_MISFIT: Final = 2.0  # a person's first device: any other assignment fits worse by this
RULED_OUT: Final = 1e9  # the misfit of a pairing left out
CROSSING_M: Final = 0.5  # two camera tracks this near: the tracker may have swapped them
PENDING_NAMES: Final = 1000
NAMED_WEIGHT: Final = 1.0  # a face or an introduction (ranked above any device anyway)
MIN_CARRIED_S: Final = 0.3  # a device names a person once their blobs carried it this long
WALK_M_S: Final = 1.0  # people walk on about this fast while no sense follows them…
WALK_FOR_S: Final = 2.0  # …counted for at most this long, for handovers
NAME_HOLD_S: Final = 1.0  # another device's name takes over from one given this recently
BLE_MEMORY_S: Final = 0.6  # a device matched to a person outweighs older matches this fast
TRAIL_KEPT: Final = 60  # a person's places at the last updates (about 12 s at 5 Hz)
BLE_GAP_S: Final = 15.0  # a device's sightings closer than this are one stretch
DEEP_M: Final = 0.5  # a camera track placed this far inside a room: a camera sees that room
ENTER_M: Final = 2.5  # a device falling silent this near a blind room (or in it) went in
SILENT_NEAR_S: Final = 1.0  # …placed near it this long before it fell silent or since
WENT_IN_S: Final = 3.0  # …a device unheard since no longer than this ago went in then
EMPTY_S: Final = 5.0  # a blind room that senses nobody this long is empty
DEVICE_GONE_S: Final = 2.0  # a device no node has heard this long has left the room
# A track's colours count from its second sighting with them (its first may be rough: a box
# half on the background). Replays of nine recorded runs: 5 sightings 90.6 %, 3 91.1 %,
# 2 91.2 %, 1 91.2 % right identity.
LOOK_SETTLE: Final = 2
CLOTHES_SAME: Final = 0.3  # colour distance within which a track wears a device carrier's clothes
CLOTHES_OTHER: Final = 0.5  # …and beyond which someone else's (walkers' looks: same person
# ≤ 0.17, two people ≥ 0.54, seed 7)
CLOTHES_ALONE_M: Final = 2.0  # clothes are learnt for a device only with nobody else this near
CLOTHES_LEARN: Final = 0.05  # how fast a device carrier's clothes follow new sightings
CLOTHES_KNOWN: Final = 10  # a carrier's clothes count once learnt on this many updates
CLOTHES_MISFIT: Final = 12.0  # the misfit of someone else's clothes for a device
LOOK_CHANGED: Final = 0.4  # a track's colours this far from before: it follows someone else

Kind = Literal["camera", "sensing"]
MemberKey = tuple[Kind, str, int]  # (kind, camera or room id, track or blob id)
NAME_RANK: Final = {"face": 3, "introduced": 2, "ble": 1}


@dataclass(frozen=True, slots=True)
class Room:
    """A sensing room as the associator sees it: its id and its low and high corners on the
    floor plan (metres; rooms lie along the plan's axes)."""

    room_id: str
    low: tuple[float, float]
    high: tuple[float, float]

    def contains(self, x: float, y: float, margin_m: float = 0.0) -> bool:
        """Whether (x, y) lies inside, ``margin_m`` in from the walls."""
        return (
            self.low[0] + margin_m <= x <= self.high[0] - margin_m
            and self.low[1] + margin_m <= y <= self.high[1] - margin_m
        )

    def distance(self, x: float, y: float) -> float:
        """How far (x, y) is from the room (0 inside)."""
        dx = max(self.low[0] - x, 0.0, x - self.high[0])
        dy = max(self.low[1] - y, 0.0, y - self.high[1])
        return math.hypot(dx, dy)


@dataclass(frozen=True, slots=True)
class Device:
    """A registered BLE device a blob carries: address, label, the name it gives, the person's
    public id (None for a simulated walker's tag)."""

    address: str
    label: str
    name: str
    person_id: str | None


@dataclass(frozen=True, slots=True)
class Heard:
    """A registered device a room's nodes heard: address, label, the name it gives, the
    person's id, and readings (node position in the room, room engine seconds, RSSI)."""

    address: str
    label: str
    name: str
    person_id: str | None
    readings: tuple[tuple[tuple[float, float, float], float, float], ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a person's path: ``sense`` (``camera``, ``sensing`` or ``ble``), ``source``
    (camera id, room id or device address), ``label`` (its name for people), the member's id
    (track or blob id; None for a device) and the first and last time (seconds)."""

    sense: str
    source: str
    label: str
    member_id: int | None
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class LinkView:
    """A camera track and a blob joined: their keys, the confidence (0–1) and since when."""

    track: MemberKey
    blob: MemberKey
    confidence: float
    since: float


@dataclass(frozen=True, slots=True)
class PersonView:
    """One person across senses now: ``person_key`` (stable while the engine runs), the name
    and where it came from (``face``, ``introduced``, ``ble`` or None), their public id when a
    face or a device names someone known, where they were last (floor metres) and when, the
    members seen now, and the path so far."""

    person_key: int
    name: str | None
    name_source: str | None
    person_id: str | None
    position: tuple[float, float]
    last_t: float
    members: tuple[MemberKey, ...]
    segments: tuple[Segment, ...]
    waiting: bool = False


@dataclass(frozen=True, slots=True)
class FusionChange:
    """Something that happened at an update, for the history: ``kind`` is ``joined`` (a track
    and a blob), ``parted``, ``handed_over`` (a new member continues a person), ``named`` or
    ``ended`` (a person's path is complete)."""

    kind: str
    person: PersonView
    t: float
    track: MemberKey | None = None
    blob: MemberKey | None = None
    member: MemberKey | None = None
    confidence: float | None = None


@dataclass
class _Member:
    key: MemberKey
    label: str
    samples: deque[tuple[float, float, float]] = field(
        default_factory=lambda: deque(maxlen=SAMPLES_KEPT)
    )
    first_t: float = math.inf
    last_t: float = -math.inf
    person: int | None = None
    # What named it, and how much: (source, name, person id) → seconds a device was carried
    # (BLE) or a fixed weight (a face, an introduction).
    votes: dict[tuple[str, str, str | None], float] = field(default_factory=dict)
    device: Device | None = None
    device_since: float | None = None
    look: npt.NDArray[np.float64] | None = None  # a camera track's: what its person wears…
    looked: int = 0  # …seen on this many sightings
    looks: deque[tuple[float, npt.NDArray[np.float64]]] = field(
        default_factory=lambda: deque(maxlen=SAMPLES_KEPT)
    )  # (t, look) at each sighting since it settled: when its clothes changed

    def add(self, t: float, x: float, y: float) -> bool:
        """Add a sighting; True when it *jumped*: so far from the last one so soon that the
        sense's tracker has moved this id onto someone else (its history is then cut)."""
        if self.samples and t <= self.samples[-1][0]:
            return False
        jumped = False
        if self.samples:
            last_t, last_x, last_y = self.samples[-1]
            gap = t - last_t
            # After a gap, as far again as a brisk walk covers: a camera's tracker that
            # missed someone for a second may hand their id to another person metres away.
            allowed = JUMP_M + JUMP_SPEED_M_S * max(gap - JUMP_S, 0.0)
            if gap <= END_AFTER_S and math.hypot(x - last_x, y - last_y) > allowed:
                jumped = True
                self.samples.clear()
                self.first_t = t
        self.samples.append((t, x, y))
        self.first_t = min(self.first_t, t)
        self.last_t = max(self.last_t, t)
        return jumped

    @property
    def position(self) -> tuple[float, float]:
        _, x, y = self.samples[-1]
        return (x, y)

    def mean_position(self, first: bool) -> tuple[float, float]:
        """The mean place over the member's first (or last) :data:`SETTLE_S` seconds, which
        damps one sighting's error."""
        edge = self.first_t if first else self.last_t
        near = [s for s in self.samples if abs(s[0] - edge) <= SETTLE_S] or [self.samples[-1]]
        return (
            sum(s[1] for s in near) / len(near),
            sum(s[2] for s in near) / len(near),
        )

    def position_at(self, t: float) -> tuple[float, float] | None:
        """Interpolated position at ``t``; None outside the samples (0.5 s slack)."""
        if not self.samples:
            return None
        first, last = self.samples[0], self.samples[-1]
        if t < first[0] - 0.5 or t > last[0] + 0.5:
            return None
        if t <= first[0]:
            return (first[1], first[2])
        if t >= last[0]:
            return (last[1], last[2])
        previous = first
        for sample in self.samples:
            if sample[0] >= t:
                span = sample[0] - previous[0]
                w = 0.0 if span <= 0 else (t - previous[0]) / span
                return (
                    previous[1] + w * (sample[1] - previous[1]),
                    previous[2] + w * (sample[2] - previous[2]),
                )
            previous = sample
        return (last[1], last[2])


@dataclass
class _Link:
    confidence: float
    last_proposed: float
    joined: bool = False
    joined_at: float = 0.0


@dataclass
class _Person:
    key: int
    members: set[MemberKey] = field(default_factory=set)
    segments: dict[tuple[str, str, int | None], list[float]] = field(default_factory=dict)
    labels: dict[tuple[str, str, int | None], str] = field(default_factory=dict)
    name: str | None = None
    name_source: str | None = None
    person_id: str | None = None
    votes: dict[tuple[str, str, str | None], float] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    last_t: float = -math.inf
    waiting_since: float | None = None
    exit: tuple[float, float] = (0.0, 0.0)  # where they were last seen (a mean, for handovers)
    device: str | None = None  # the registered device matched to them last
    named_at: float = -math.inf  # when the name last changed
    trail: deque[tuple[float, float, float]] = field(
        default_factory=lambda: deque(maxlen=TRAIL_KEPT)
    )  # (t, x, y) at each update: where they went, for handovers


class Associator:
    """Joins camera tracks and blobs into people (see the module docstring). Feed it with
    :meth:`see_track`, :meth:`see_blob`, :meth:`name_track` and call :meth:`update`; times
    are seconds on one clock."""

    def __init__(self, rooms: Sequence[Room] = ()) -> None:
        self._rooms = {room.room_id: room for room in rooms}
        self._members: dict[MemberKey, _Member] = {}
        self._links: dict[tuple[MemberKey, MemberKey], _Link] = {}
        self._people: dict[int, _Person] = {}
        self._next_person = itertools.count(1)
        self._changes: list[FusionChange] = []
        self._heard: dict[
            str,
            tuple[
                Callable[[float, float], tuple[float, float]],
                Callable[[float, float], bool],
                float,
                tuple[Heard, ...],
            ],
        ] = {}
        self._devices_at = -math.inf  # when devices were last matched to people
        self._matching_rooms: set[str] = set()  # rooms whose devices this matches itself
        # Names that arrived before their track was first seen (another thread's event).
        self._pending_names: dict[MemberKey, dict[tuple[str, str, str | None], float]] = {}
        self._camera_rooms: set[str] = set()  # rooms a camera has placed someone well inside
        # The devices in each blind room (address → name, person id), when it last sensed
        # anyone, when each device was last heard (and its name) and where it was placed last.
        self._inside: dict[str, dict[str, tuple[str, str | None]]] = {}
        self._room_seen: dict[str, float] = {}
        self._device_seen: dict[str, tuple[float, str, str | None]] = {}
        # (device address, camera) → what its carrier wears there, learnt on so many updates
        self._wardrobe: dict[tuple[str, str], tuple[npt.NDArray[np.float64], int]] = {}
        self._device_place: dict[str, tuple[int, float, float]] = {}  # person, x, y

    # -- input -----------------------------------------------------------------------------

    def see_track(
        self,
        camera: str,
        track_id: int,
        t: float,
        floor: tuple[float, float],
        label: str,
        look: Sequence[float] | None = None,
    ) -> None:
        """Camera ``camera`` (called ``label``) saw track ``track_id``'s feet at ``floor``,
        the person wearing ``look`` (the track's colour histogram; None: not known yet)."""
        member = self._member(("camera", camera, track_id), label, t)
        if member.add(t, *floor):
            self._taken_over(member, t)
        if look is not None and len(look):
            member.look = np.asarray(look, dtype=np.float64)
            member.looked += 1
            if member.looked >= LOOK_SETTLE:
                member.looks.append((t, member.look))
        for room in self._rooms.values():
            if room.room_id not in self._camera_rooms and room.contains(*floor, DEEP_M):
                self._camera_rooms.add(room.room_id)

    def see_blob(
        self,
        room: str,
        blob_id: int,
        t: float,
        floor: tuple[float, float],
        label: str,
        device: Device | None = None,
    ) -> None:
        """Room ``room`` (called ``label``) placed blob ``blob_id`` at ``floor``, carrying
        ``device`` when a registered device names it."""
        member = self._member(("sensing", room, blob_id), label, t)
        previous = member.last_t
        if member.add(t, *floor):
            self._taken_over(member, t)
            previous = t
        if device is not None and room not in self._matching_rooms:
            # The room names its blob, and names no device to this associator to match
            # itself (a room that sends no readings): the blob's name is the evidence.
            if member.device is None or member.device.address != device.address:
                member.device, member.device_since = device, t
            carried = min(max(t - previous, 0.0), 0.5) if math.isfinite(previous) else 0.1
            self._vote(member, ("ble", device.name, device.person_id), carried)
            self._ble_segment(member, device, t)
        elif device is None and member.device is not None:
            member.device = None

    def hear_devices(
        self,
        room: str,
        to_room: Callable[[float, float], tuple[float, float]],
        contains: Callable[[float, float], bool],
        clock_offset_s: float,
        devices: Sequence[Heard],
    ) -> None:
        """Room ``room``'s nodes heard these registered ``devices`` lately (readings in the
        room's metres and its engine seconds, which are this associator's seconds minus
        ``clock_offset_s``; ``to_room`` maps floor metres to the room's, ``contains`` says
        whether a floor place is inside it). At each update they are matched to the people
        placed in the room (:meth:`update`)."""
        self._heard[room] = (to_room, contains, clock_offset_s, tuple(devices))
        if devices:
            self._matching_rooms.add(room)

    def name_track(
        self, camera: str, track_id: int, name: str | None, person_id: str, source: str
    ) -> None:
        """Track ``track_id`` of ``camera`` is ``person_id`` called ``name``, by ``source``
        (``face`` or ``introduced``)."""
        key: MemberKey = ("camera", camera, track_id)
        vote = (source, name or person_id, person_id)
        member = self._members.get(key)
        if member is None:
            if len(self._pending_names) >= PENDING_NAMES:
                self._pending_names.pop(next(iter(self._pending_names)))
            pending = self._pending_names.setdefault(key, {})
            pending[vote] = pending.get(vote, 0.0) + NAMED_WEIGHT
            return
        self._vote(member, vote, NAMED_WEIGHT)
        if member.person is not None:
            self._rename(self._people[member.person], member.last_t)

    def _taken_over(self, member: _Member, t: float) -> None:
        """``member``'s id now follows someone else: it leaves its links and its person
        (whose name it must not carry off) and starts afresh."""
        for pair in [p for p in self._links if member.key in p]:
            link = self._links.pop(pair)
            if link.joined:
                view = (
                    self._view(self._people[member.person])
                    if member.person in self._people
                    else PersonView(0, None, None, None, member.position, t, (), ())
                )
                self._parted(view, pair, link, t)
        if member.person is not None and member.person in self._people:
            person = self._people[member.person]
            person.members.discard(member.key)
            if not person.members and person.waiting_since is None:
                person.waiting_since = t
        member.person = None
        member.votes.clear()  # what named it named the person it followed before
        member.device = None

    # -- the update ------------------------------------------------------------------------

    def update(self, now: float) -> list[FusionChange]:
        """Associate, continue and end people as of ``now``; the changes since last time."""
        self._end_members(now)
        self._associate(now)
        for member in self._members.values():
            if member.person is None and member.samples and now - member.first_t >= SETTLE_S:
                self._start_or_hand_over(member, now)
        for person in list(self._people.values()):
            self._refresh(person, now)
        self._match_devices(now)
        for person in list(self._people.values()):
            self._rename(person, now)  # a device carried long enough names them now
        self._keep_rosters(now)
        self._end_people(now)
        changes, self._changes = self._changes, []
        return changes

    def people(self) -> list[PersonView]:
        """Everyone in view or waiting for a handover, most recently seen first."""
        return sorted((self._view(p) for p in self._people.values()), key=lambda v: -v.last_t)

    def links(self) -> list[LinkView]:
        """The camera tracks and blobs joined now."""
        return [
            LinkView(track, blob, link.confidence, link.joined_at)
            for (track, blob), link in self._links.items()
            if link.joined
        ]

    def inside(self) -> dict[str, tuple[str, ...]]:
        """The names of the tags each blind room holds (see :meth:`_keep_roster`), for rooms
        that hold any."""
        return {
            room: tuple(sorted(name for name, _ in roster.values()))
            for room, roster in self._inside.items()
            if roster
        }

    def person_of(self, key: MemberKey) -> PersonView | None:
        member = self._members.get(key)
        if member is None or member.person is None:
            return None
        return self._view(self._people[member.person])

    def finish(self, now: float) -> list[FusionChange]:
        """End everyone (the engine stops): their paths are complete."""
        for person in list(self._people.values()):
            self._close(person, now)
        changes, self._changes = self._changes, []
        return changes

    # -- association -----------------------------------------------------------------------

    def _associate(self, now: float) -> None:
        tracks = [m for m in self._members.values() if m.key[0] == "camera" and self._live(m, now)]
        blobs = [m for m in self._members.values() if m.key[0] == "sensing" and self._live(m, now)]
        if not tracks or not blobs:
            self._age_links(now, set())
            return
        # A track and a blob with no other blob near the track and no other track near the
        # blob (seen lately: a detector misses people for a moment) can only be one another.
        recent = [m for m in self._members.values() if m.samples and now - m.last_t <= ALONE_SEEN_S]

        def elsewhere(i: int, j: int) -> bool:
            """The track is outside the blob's room (give or take ALONE_WALL_M): across a
            wall, a blob a metre from a camera's track is someone else."""
            room = self._rooms.get(blobs[j].key[1])
            return room is not None and room.distance(*tracks[i].position) > ALONE_WALL_M

        def alone(i: int, j: int) -> bool:
            track, blob = tracks[i], blobs[j]
            room = self._rooms.get(blob.key[1])
            if room is not None and (
                room.room_id not in self._camera_rooms  # no camera sees anyone in it
                or elsewhere(i, j)
            ):
                return False
            return not any(
                m is not track
                and m is not blob
                and math.dist(m.position, blob.position if m.key[0] == "camera" else track.position)
                <= ALONE_M
                for m in recent
            )

        apart = np.full((len(tracks), len(blobs)), math.inf)
        for i, track in enumerate(tracks):
            for j, blob in enumerate(blobs):
                distance = self._apart(track, blob, now, WINDOW_S)
                if distance is None and alone(i, j):
                    # …so one sighting together is enough when they are near.
                    distance = self._apart(track, blob, now, WINDOW_S, least=1)
                    if distance is not None and distance > ALONE_FIRST_M:
                        distance = None
                apart[i, j] = math.inf if distance is None else distance
        # The same over the latest moments (-1: not seen together lately, no objection).
        lately = np.full((len(tracks), len(blobs)), math.inf)
        for i, track in enumerate(tracks):
            for j, blob in enumerate(blobs):
                if math.isfinite(apart[i, j]):
                    distance = self._apart(track, blob, now, BREAK_WINDOW_S)
                    lately[i, j] = -1.0 if distance is None else distance
        finite = np.where(np.isfinite(apart), apart, FAR_M)
        rows, cols = linear_sum_assignment(finite)
        proposed: set[tuple[MemberKey, MemberKey]] = set()
        track_index = {track.key: i for i, track in enumerate(tracks)}
        blob_index = {blob.key: j for j, blob in enumerate(blobs)}
        for i, j in zip(rows, cols, strict=True):
            distance = float(apart[i, j])
            lone = alone(i, j)
            if distance > (ALONE_ACCEPT_M if lone else ACCEPT_M) or elsewhere(i, j):
                continue
            if lately[i, j] > (ALONE_BREAK_M if lone else JOIN_RECENT_M):
                continue  # close over the window, apart lately: a tracker swapped people
            rivals = np.concatenate([np.delete(apart[i, :], j), np.delete(apart[:, j], i)])
            if rivals.size and float(rivals.min()) < distance + MARGIN_M:
                continue  # someone else is about as near: wait until they part
            rivals = np.concatenate([np.delete(lately[i, :], j), np.delete(lately[:, j], i)])
            rivals = rivals[rivals >= 0.0]
            if (
                lately[i, j] >= 0.0
                and rivals.size
                and float(rivals.min()) < lately[i, j] + RECENT_MARGIN_M
            ):
                continue  # …or has been lately
            score = _closeness(distance)
            pair = (tracks[i].key, blobs[j].key)
            proposed.add(pair)
            link = self._links.get(pair)
            if link is None:
                link = self._links[pair] = _Link(score, now)
            elif now - link.last_proposed > 1.0:  # not proposed in between: start again
                link.confidence = score
            link.confidence = 0.7 * link.confidence + 0.3 * score
            link.last_proposed = now
            # Joined at once: waiting for more proposals (or for the confidence to reach a
            # bar, which made ACCEPT_M about 0.87 m in effect) kept nothing wrong out in the
            # walkthrough (wrong joins come from trackers swapping people later) and made
            # right ones wait.
            if not link.joined:
                self._join(tracks[i], blobs[j], link, now)
        for pair, link in list(self._links.items()):
            if not link.joined or pair not in self._links:
                continue
            one, other = self._members.get(pair[0]), self._members.get(pair[1])
            if one is None or other is None:
                continue
            if not (self._live(one, now) and self._live(other, now)):
                continue
            # (not gated on their newest places: one stray sighting does not part them)
            distance = self._apart(one, other, now, BREAK_WINDOW_S, gate=False)
            if distance is None:
                continue  # not both seen lately: nothing says they parted
            # A blob another camera track has been nearer than its own lately has been moved
            # by the room's tracker onto that track's person: the pair parts, however near
            # it still is (six recorded walkthrough runs had no right pair so, and a quarter
            # of the wrong ones).
            if any(
                track is not one
                and (theirs := self._apart(track, other, now, BREAK_WINDOW_S, gate=False))
                is not None
                and theirs < distance
                for track in tracks
            ):
                self._part(pair, link, now)
                continue
            if pair in proposed:
                continue
            link.confidence = 0.7 * link.confidence + 0.3 * _closeness(distance)
            at_track, at_blob = track_index.get(pair[0]), blob_index.get(pair[1])
            lone = at_track is not None and at_blob is not None and alone(at_track, at_blob)
            if distance > (ALONE_BREAK_M if lone else BREAK_M):
                self._part(pair, link, now)
        self._age_links(now, proposed)

    def _apart(
        self,
        track: _Member,
        blob: _Member,
        now: float,
        window_s: float,
        least: int = 0,
        gate: bool = True,
    ) -> float | None:
        """How far apart a track and a blob have been over the last ``window_s``: the
        median distance between the track's places and the blob's at the same moments (the
        blob's a little later: its tracker places people late); infinite when they are
        farther than :data:`GATE_M` apart now (with ``gate``), None when they were not both
        seen at ``least`` moments (by default :data:`MIN_SAMPLES`, 2 over a short window)."""
        tx, ty = track.position
        bx, by = blob.position
        if gate and math.hypot(tx - bx, ty - by) > GATE_M:
            return math.inf
        # Over the stretch both were seen (a blob or a track that has just appeared, or
        # whose tracker has just moved it, is judged on the little it has), at each of the
        # blob's places (a room sends about ten a second; a busy camera's detector a few),
        # against where the track was a little before.
        since = max(now - window_s, track.first_t + BLOB_LAG_S, blob.first_t)
        least = least or (MIN_SAMPLES if window_s >= WINDOW_S else 2)
        distances = []
        for t, x, y in blob.samples:
            if t < since:
                continue
            at = track.position_at(t - BLOB_LAG_S)
            if at is not None:
                distances.append(math.hypot(x - at[0], y - at[1]))
        if len(distances) < least:
            return None
        return float(np.median(distances))

    def _age_links(self, now: float, proposed: set[tuple[MemberKey, MemberKey]]) -> None:
        for pair in [p for p, link in self._links.items() if not link.joined]:
            if pair not in proposed and now - self._links[pair].last_proposed > WINDOW_S:
                del self._links[pair]

    def _join(self, track: _Member, blob: _Member, link: _Link, now: float) -> None:
        link.joined, link.joined_at = True, now
        # A track or blob is joined to one partner at a time: an older link of either parts.
        for pair in [
            p
            for p, other in self._links.items()
            if other.joined and other is not link and (p[0] == track.key or p[1] == blob.key)
        ]:
            self._part(pair, self._links[pair], now)
        person = self._merge(track, blob, now)
        self._changes.append(
            FusionChange(
                "joined",
                self._view(person),
                now,
                track=track.key,
                blob=blob.key,
                confidence=link.confidence,
            )
        )

    def _merge(self, track: _Member, blob: _Member, now: float) -> _Person:
        if track.person is not None and blob.person is not None and track.person != blob.person:
            mine, theirs = self._people[track.person], self._people[blob.person]
            if mine.name is not None and theirs.name is not None and mine.name != theirs.name:
                # The blob's person is called otherwise: a room's tracker moved the blob
                # onto someone else. The camera is surer; the blob leaves them for this one.
                self._leave(theirs, blob, now)
        people = [self._people[m.person] for m in (track, blob) if m.person is not None]
        if not people:
            keep = self._new_person()
        else:
            keep = min(people, key=lambda p: p.key)  # the older person carries on
            for other in people:
                if other is not keep:
                    self._absorb(keep, other)
        for member in (track, blob):
            if member.person != keep.key:
                self._attach(keep, member, now)
        self._rename(keep, now)
        return keep

    def _absorb(self, keep: _Person, other: _Person) -> None:
        for key in other.members:
            self._members[key].person = keep.key
        keep.members |= other.members
        for seg, span in other.segments.items():
            mine = keep.segments.setdefault(seg, list(span))
            mine[0], mine[1] = min(mine[0], span[0]), max(mine[1], span[1])
        keep.labels.update(other.labels)
        for vote, weight in other.votes.items():
            keep.votes[vote] = keep.votes.get(vote, 0.0) + weight
        del self._people[other.key]

    def _part(self, pair: tuple[MemberKey, MemberKey], link: _Link, now: float) -> None:
        del self._links[pair]
        track, blob = self._members.get(pair[0]), self._members.get(pair[1])
        if track is None or blob is None or track.person is None or track.person != blob.person:
            return
        # The blob leaves: a room's tracker moves its ids between people far more often than
        # a camera's does (about 40 times in 150 s for 6 ids, against 12 for 16 tracks, in
        # the walkthrough), so the person stays with the camera's track.
        person = self._people[track.person]
        self._leave(person, blob, now)
        fresh = self._new_person()
        self._attach(fresh, blob, now)
        self._rename(fresh, now)
        self._parted(self._view(person), pair, link, now)

    def _parted(
        self, person: PersonView, pair: tuple[MemberKey, MemberKey], link: _Link, now: float
    ) -> None:
        self._changes.append(
            FusionChange(
                "parted", person, now, track=pair[0], blob=pair[1], confidence=link.confidence
            )
        )

    def _split_off(self, person: _Person, member: _Member, now: float) -> None:
        """``member`` is not ``person`` any longer: it leaves them (and its links) and is
        someone new, unnamed by what named them."""
        for pair in [p for p, link in self._links.items() if member.key in p]:
            link = self._links.pop(pair)
            if link.joined:
                self._parted(self._view(person), pair, link, now)
        self._leave(person, member, now)
        member.votes.clear()
        fresh = self._new_person()
        self._attach(fresh, member, now)
        self._rename(fresh, now)

    def _leave(self, person: _Person, member: _Member, now: float) -> None:
        """``member`` was never ``person``: it leaves them, and what named it goes with it."""
        person.members.discard(member.key)
        member.person = None
        for vote, weight in member.votes.items():
            left = person.votes.get(vote, 0.0) - weight
            if left > 1e-9:
                person.votes[vote] = left
            else:
                person.votes.pop(vote, None)
        if person.name_source is not None and not any(
            v[0] == person.name_source and v[1] == person.name for v in person.votes
        ):
            person.name = person.name_source = None  # named only by what left
        self._rename(person, now)
        if not person.members and person.waiting_since is None:
            person.waiting_since = now

    # -- people ----------------------------------------------------------------------------

    def _start_or_hand_over(self, member: _Member, now: float) -> None:
        """A member not yet part of anyone: it continues a person who went out of every
        sense just before it appeared, near where it appeared, or starts a new one."""
        x, y = member.mean_position(first=True)
        kind, place, _ = member.key
        waiting = []
        for person in self._people.values():
            live = [self._members[k] for k in person.members if k in self._members]
            if any(m.key[0] == kind and m.key[1] == place for m in live if m is not member):
                continue  # this sense already follows them here: someone else
            newest = max((m.last_t for m in live), default=person.last_t)
            gap = member.first_t - newest
            # Out of every sense just before it appeared (a room's blob lost, the camera's
            # track lost), or going from one place to the next of the same sense (the next
            # room, the next camera) while another still follows them.
            moving_on = any(m.key[0] == kind and m.key[1] != place for m in live)
            if -0.5 <= gap <= HANDOVER_S or (moving_on and gap <= HANDOVER_S):
                seen = [m for m in live if m.key[0] == "camera" and self._live(m, now)]
                if any(math.hypot(m.position[0] - x, m.position[1] - y) > HANDOVER_M for m in seen):
                    continue  # a camera sees them somewhere else now
                # How near their way came to where it appeared, lately, beyond what walking
                # on since then explains (both senses place people late and roughly, and a
                # room's blob settles a metre or so past the door).
                recent = [
                    (pt, px, py) for pt, px, py in person.trail if pt >= member.first_t - HANDOVER_S
                ] or [(person.last_t, *person.exit)]
                beyond = min(
                    math.hypot(px - x, py - y)
                    - WALK_M_S * min(max(member.first_t - pt, 0.0), WALK_FOR_S)
                    for pt, px, py in recent
                )
                waiting.append((max(beyond, 0.0), person))
        waiting.sort(key=lambda item: item[0])
        chosen = None
        if waiting and waiting[0][0] <= HANDOVER_M:
            rival = waiting[1][0] if len(waiting) > 1 else math.inf
            if rival - waiting[0][0] >= HANDOVER_AMBIGUOUS_M:
                chosen = waiting[0][1]

        if chosen is None:
            person = self._new_person()
            self._attach(person, member, now)
            self._rename(person, now)
            return
        chosen.waiting_since = None
        if kind == "sensing":
            # One person is in one room: a blob of theirs in the room they came from, still
            # placed there now, is someone else (a room's tracker carries a blob on with the
            # next person to walk in) or a ghost of them, and must not carry them on.
            for key in list(chosen.members):
                behind = self._members.get(key)
                if (
                    behind is not None
                    and key[0] == "sensing"
                    and key[1] != place
                    and self._live(behind, now)
                ):
                    self._split_off(chosen, behind, now)
        self._attach(chosen, member, now)
        self._rename(chosen, now)
        self._changes.append(
            FusionChange("handed_over", self._view(chosen), now, member=member.key)
        )

    def _new_person(self) -> _Person:
        person = _Person(next(self._next_person))
        self._people[person.key] = person
        return person

    def _attach(self, person: _Person, member: _Member, now: float) -> None:
        member.person = person.key
        for vote, weight in member.votes.items():
            person.votes[vote] = person.votes.get(vote, 0.0) + weight
        person.members.add(member.key)
        kind, source, ident = member.key
        seg = (kind, source, ident)
        person.labels[seg] = member.label
        span = person.segments.setdefault(seg, [member.first_t, member.last_t])
        span[0], span[1] = min(span[0], member.first_t), max(span[1], member.last_t)
        if member.device is not None:
            self._ble_segment(member, member.device, member.last_t)

    def _ble_segment(self, member: _Member, device: Device, t: float) -> None:
        if member.person is None:
            return
        person = self._people[member.person]
        key = ("ble", device.address, None)
        person.labels[key] = device.label
        span = person.segments.get(key)
        if span is None:
            since = member.device_since if member.device_since is not None else t
            person.segments[key] = [since, t]
        else:
            span[1] = max(span[1], t)

    def _match_devices(self, now: float) -> None:
        """Which registered device each person placed in a room carries: every device's
        readings against each person's way through the room (placed by a camera where one
        sees them, to about 0.3 m, else by the room's blob), the best one-to-one assignment
        (as a room names its blobs, :mod:`engine.identity.ble`); each assignment adds the time
        since the last match to that device's vote for the person."""
        elapsed = (
            min(max(now - self._devices_at, 0.0), 0.5) if math.isfinite(self._devices_at) else 0.2
        )
        self._devices_at = now
        for to_room, contains, offset, devices in self._heard.values():
            heard = []  # the devices a node heard lately enough to be matched
            for device in devices:
                heard_at = max((t for _, t, _ in device.readings), default=-math.inf) + offset
                seen = self._device_seen.get(device.address)
                if seen is None or heard_at > seen[0]:
                    self._device_seen[device.address] = (heard_at, device.name, device.person_id)
                if now - heard_at <= DEVICE_GONE_S:
                    heard.append(device)
            if not devices:
                continue
            people = {}
            since = now - BLE_EVIDENCE_S - 1.0
            for person in self._people.values():
                if person.waiting_since is not None or not person.trail:
                    continue
                if now - person.last_t > ACTIVE_S:
                    continue
                if not contains(*person.position):
                    continue
                ways = [
                    [(t - offset, *to_room(x, y)) for t, x, y in way if t >= since]
                    for way in self._ways(person, now)
                ]
                if ways[0]:
                    people[person.key] = [way for way in ways if way]
            if not people or not heard:
                continue
            fade = math.exp(-elapsed / BLE_MEMORY_S)
            assigned, told_by_tags = self._assign_devices(heard, people, now - offset, now)
            for key, address in told_by_tags.items():
                self._learn_clothes(self._people[key], address, now)
            for key, device in assigned.items():
                person = self._people[key]
                address = device.address
                person.device = address
                self._device_place[address] = (person.key, *person.position)
                # The newest evidence counts most: a tracker that swapped two people hands
                # the person someone else's way, and their own device takes over in seconds.
                for old in [v for v in person.votes if v[0] == "ble"]:
                    person.votes[old] *= fade
                vote = ("ble", device.name, device.person_id)
                # A match is clear (see _assign_devices): it names them at once, as a blob
                # that carried the device MIN_CARRIED_S would.
                person.votes[vote] = max(person.votes.get(vote, 0.0) + elapsed, MIN_CARRIED_S)
                seg = ("ble", address, None)
                person.labels[seg] = device.label
                span = person.segments.setdefault(seg, [person.last_t, person.last_t])
                span[1] = max(span[1], person.last_t)

    def _ways(self, person: _Person, now: float) -> list[Sequence[tuple[float, float, float]]]:
        """Where ``person`` went lately, for the tag matching: the way of the camera track
        following them now (its own sightings, each placed to about 0.3 m; the longest if
        several), else the person's places at the last updates (a blob's, rougher). Where
        that track last passed within :data:`CROSSING_M` of another of its camera's tracks,
        the camera's tracker may have carried each id on with the other person: the way
        before is then the other track's, and that is a second way the person may have
        gone (the tags' readings decide)."""
        track = self._following(person, now)
        if track is None:
            return [person.trail]
        changed = self._clothes_changed(track, now)
        mine = [s for s in track.samples if s[0] > changed]
        crossing = self._last_crossing(track, now)
        if crossing is None or crossing[0] <= changed:
            return [mine]
        at, other = crossing
        swapped = [s for s in other.samples if changed < s[0] <= at] + [
            s for s in track.samples if s[0] > at
        ]
        return [mine, swapped]

    def _clothes_changed(self, track: _Member, now: float) -> float:
        """When the clothes ``track`` sees last changed (over the last
        :data:`BLE_EVIDENCE_S`): the last sighting whose colours were farther than
        :data:`LOOK_CHANGED` from its colours now. The camera's tracker moved the track onto
        someone else then, and its way before was theirs. -inf when they did not change."""
        if track.look is None or not track.looks:
            return -math.inf
        since = now - BLE_EVIDENCE_S
        for t, look in reversed(track.looks):
            if t < since:
                break
            if _look_distance(look, track.look) > LOOK_CHANGED:
                return t
        return -math.inf

    def _following(self, person: _Person, now: float) -> _Member | None:
        """The camera track following ``person`` now (the longest if several); None when
        no camera sees them."""
        tracks = [
            self._members[key]
            for key in person.members
            if key[0] == "camera" and key in self._members and self._live(self._members[key], now)
        ]
        return max(tracks, key=lambda member: len(member.samples)) if tracks else None

    def _last_crossing(self, track: _Member, now: float) -> tuple[float, _Member] | None:
        """When, and with which other track of its camera, ``track`` last passed within
        :data:`CROSSING_M` (over the last :data:`BLE_EVIDENCE_S`); None if it did not."""
        since = now - BLE_EVIDENCE_S
        mine = np.array([s for s in track.samples if s[0] >= since])
        if not len(mine):
            return None
        crossing: tuple[float, _Member] | None = None
        for key, other in self._members.items():
            if key[0] != "camera" or key[1] != track.key[1] or other is track:
                continue
            theirs = np.array([s for s in other.samples if s[0] >= since - 0.5])
            if len(theirs) < 2:
                continue
            both = (mine[:, 0] >= theirs[0, 0]) & (mine[:, 0] <= theirs[-1, 0])
            if not both.any():
                continue
            at = mine[both]
            x = np.interp(at[:, 0], theirs[:, 0], theirs[:, 1])
            y = np.interp(at[:, 0], theirs[:, 0], theirs[:, 2])
            near = np.hypot(at[:, 1] - x, at[:, 2] - y) < CROSSING_M
            if near.any() and (crossing is None or float(at[near, 0].max()) > crossing[0]):
                crossing = (float(at[near, 0].max()), other)
        return crossing

    def _assign_devices(
        self,
        devices: Sequence[Heard],
        people: dict[int, list[list[tuple[float, float, float]]]],
        now_room: float,
        now: float,
    ) -> tuple[dict[int, Heard], dict[int, str]]:
        """Which device each person carries: every device's readings of the last
        :data:`BLE_EVIDENCE_S` weighed against each person's way (``people``: person key →
        the ways they may have gone, each (room seconds, room x, room y), oldest first; the
        one a device fits best counts; :func:`path_misfit`), the best one-to-one assignment
        of the least misfit. The device a person was matched to last
        is kept unless another fits them better by :data:`KEEP_DEVICE_MISFIT` (readings come
        from each node every few seconds, and the newest batch should not swap two names back
        and forth). A pair judged on fewer than :data:`MIN_READINGS` readings, or fitting
        worse than :data:`MAX_MEAN_SQUARE` on average, is not a match. The clothes each
        person's camera track sees count too (:meth:`_clothes_misfit`).

        Returns that assignment, and the devices the tags alone match clearly (person key →
        address: what each device's carrier wears is learnt from these only)."""
        keys = list(people)
        cost = np.zeros((len(devices), len(keys)))
        fits: dict[tuple[int, int], PathMisfit] = {}
        for row, device in enumerate(devices):
            for column, key in enumerate(keys):
                fit = min(
                    (
                        path_misfit(device.readings, way, now_room - BLE_EVIDENCE_S, PLACE_SIGMA_M)
                        for way in people[key]
                    ),
                    key=lambda fit: fit.excess,
                )
                fits[row, column] = fit
                cost[row, column] = fit.excess
        told_by_tags = {
            keys[column]: devices[row].address
            for row, column in self._clear_matches(cost, fits, lambda column: True)
        }
        following = [self._following(self._people[key], now) for key in keys]
        for row, device in enumerate(devices):
            for column, key in enumerate(keys):
                cost[row, column] += self._clothes_misfit(device.address, following[column])
                if fits[row, column].readings and self._people[key].device == device.address:
                    cost[row, column] -= KEEP_DEVICE_MISFIT
        assigned = {
            keys[column]: devices[row]
            for row, column in self._clear_matches(
                cost, fits, lambda column: self._people[keys[column]].device is None
            )
        }
        return assigned, told_by_tags

    @staticmethod
    def _clear_matches(
        cost: npt.NDArray[np.float64],
        fits: dict[tuple[int, int], PathMisfit],
        first: Callable[[int], bool],
    ) -> list[tuple[int, int]]:
        """The (row, column) pairs of the least-``cost`` one-to-one assignment that are
        matches: judged on :data:`MIN_READINGS` readings or more, no worse than
        :data:`MAX_MEAN_SQUARE` on average, and, where ``first(column)`` (a person's first
        device), clear: the best assignment without the pair costs
        :data:`FIRST_MATCH_MISFIT` more."""
        rows, columns = linear_sum_assignment(cost)
        best = float(cost[rows, columns].sum())  # the least misfit (with the kept devices')
        matches = []
        for row, column in zip(rows, columns, strict=True):
            fit = fits[row, column]
            if fit.readings < MIN_READINGS or fit.mean_square > MAX_MEAN_SQUARE:
                continue
            if first(column):
                # A first match must be clear: the best assignment without it fits worse by
                # FIRST_MATCH_MISFIT (else, kept by KEEP_DEVICE_MISFIT, a guess would stay).
                without = cost.copy()
                without[row, column] = RULED_OUT
                others = linear_sum_assignment(without)
                if float(without[others].sum()) - best < FIRST_MATCH_MISFIT:
                    continue
            matches.append((int(row), int(column)))
        return matches

    def _learn_clothes(self, person: _Person, address: str, now: float) -> None:
        """What the carrier of device ``address`` wears, as each camera sees it: the colours
        of the camera track following ``person``, whom the tags alone match to the device,
        while nobody else in view is within :data:`CLOTHES_ALONE_M` of them (tags cannot tell
        people close together apart). A running mean over the updates, the first ones
        weighing as much as the rest, then :data:`CLOTHES_LEARN` each."""
        track = self._following(person, now)
        if track is None or track.look is None or track.looked < LOOK_SETTLE:
            return
        x, y = person.position
        for other in self._people.values():
            if (
                other is not person
                and other.waiting_since is None
                and now - other.last_t <= ACTIVE_S
                and math.hypot(other.position[0] - x, other.position[1] - y) < CLOTHES_ALONE_M
            ):
                return
        key = (address, track.key[1])
        known = self._wardrobe.get(key)
        if known is None:
            self._wardrobe[key] = (track.look.copy(), 1)
        else:
            look, count = known
            rate = max(1.0 / (count + 1), CLOTHES_LEARN)
            self._wardrobe[key] = ((1.0 - rate) * look + rate * track.look, count + 1)

    def _clothes_misfit(self, address: str, track: _Member | None) -> float:
        """How far the clothes ``track`` (a camera's track following a person) sees are
        from what device ``address``'s carrier wears in that camera (:meth:`_learn_clothes`),
        in misfit: 0 within :data:`CLOTHES_SAME`, :data:`CLOTHES_MISFIT` beyond
        :data:`CLOTHES_OTHER`, in between in proportion; 0 when either is not known."""
        if track is None or track.look is None or track.looked < LOOK_SETTLE:
            return 0.0
        known = self._wardrobe.get((address, track.key[1]))
        if known is None or known[1] < CLOTHES_KNOWN:
            return 0.0
        distance = _look_distance(known[0], track.look)
        share = min(max((distance - CLOTHES_SAME) / (CLOTHES_OTHER - CLOTHES_SAME), 0.0), 1.0)
        return CLOTHES_MISFIT * share

    def _vote(self, member: _Member, vote: tuple[str, str, str | None], weight: float) -> None:
        member.votes[vote] = member.votes.get(vote, 0.0) + weight
        if member.person is not None and member.person in self._people:
            person = self._people[member.person]
            person.votes[vote] = person.votes.get(vote, 0.0) + weight

    def _rename(self, person: _Person, now: float) -> None:
        """The person's name: a face's over an introduction's over a device's; of several
        devices, the one with the most (fading) vote, though a device's name given less than
        :data:`NAME_HOLD_S` ago stays against another device's (a match may be wrong for a
        moment, and an operator should not see names flicker)."""
        choices = [
            (NAME_RANK.get(source, 0), weight, name, person_id, source)
            for (source, name, person_id), weight in person.votes.items()
            if source != "ble" or weight >= MIN_CARRIED_S
        ]
        if not choices:
            return
        _, _, name, person_id, source = max(choices)
        if (
            source == "ble"
            and person.name_source == "ble"
            and name != person.name
            and now - person.named_at < NAME_HOLD_S
        ):
            return  # a device's name just given holds a moment: names do not flicker
        if (name, source) != (person.name, person.name_source):
            person.named_at = now
            person.name, person.name_source = name, source
            person.person_id = person_id or person.person_id
            self._changes.append(FusionChange("named", self._view(person), now))

    def _refresh(self, person: _Person, now: float) -> None:
        live = [self._members[k] for k in person.members if k in self._members]
        for member in live:
            seg = person.segments.get(member.key)
            if seg is not None:
                seg[1] = max(seg[1], member.last_t)
            if member.device is not None:
                self._ble_segment(member, member.device, member.last_t)
        if live:
            newest = max(live, key=lambda m: m.last_t)
            # Where a camera sees them, the camera's place (to about 0.3 m; a room's blob is
            # rougher and late); else the room's.
            seen = [m for m in live if now - m.last_t <= ACTIVE_S] or [newest]
            seen = [m for m in seen if m.key[0] == "camera"] or seen
            person.position = (
                sum(m.position[0] for m in seen) / len(seen),
                sum(m.position[1] for m in seen) / len(seen),
            )
            person.last_t = max(person.last_t, newest.last_t)
            person.exit = newest.mean_position(first=False)
            person.waiting_since = None
            person.trail.append((newest.last_t, *person.position))

    def _end_members(self, now: float) -> None:
        for key in [k for k, m in self._members.items() if now - m.last_t > END_AFTER_S]:
            member = self._members.pop(key)
            for pair in [p for p in self._links if key in p]:
                del self._links[pair]
            if member.person is None:
                continue
            person = self._people[member.person]
            person.members.discard(key)
            if not person.members and person.waiting_since is None:
                person.waiting_since = now

    # -- blind rooms -----------------------------------------------------------------------

    def _keep_rosters(self, now: float) -> None:
        """The blind rooms' rosters (see :meth:`_keep_roster`): a device heard is in no
        blind room; one that falls silent goes into the blind room nearest where it was
        last, within :data:`ENTER_M`."""
        blind = [
            room
            for room in self._rooms.values()
            if room.room_id not in self._camera_rooms and room.room_id not in self._matching_rooms
        ]
        if not blind:
            return
        for address, (heard_at, name, person_id) in self._device_seen.items():
            if now - heard_at <= DEVICE_GONE_S:
                for room in blind:
                    self._inside.get(room.room_id, {}).pop(address, None)  # heard: not in there
                continue
            place = self._device_place.get(address)
            if place is None or now - heard_at > DEVICE_GONE_S + WENT_IN_S:
                continue
            if any(address in self._inside.get(room.room_id, {}) for room in blind):
                continue
            # Where the person it was matched to last went about when it fell silent (they
            # walk on to the door unmatched; later their person may follow someone else).
            carrier = self._people.get(place[0])
            went = [(place[1], place[2])]
            if carrier is not None:
                went += [
                    (x, y)
                    for t, x, y in carrier.trail
                    if heard_at - SILENT_NEAR_S <= t <= heard_at + DEVICE_GONE_S
                ]
            near, room = min(
                ((min(r.distance(x, y) for x, y in went), r) for r in blind),
                key=lambda item: item[0],
            )
            if near <= ENTER_M:
                self._inside.setdefault(room.room_id, {})[address] = (name, person_id)
        for room in blind:
            self._keep_roster(room, now)

    def _keep_roster(self, room: Room, now: float) -> None:
        """Who is in a *blind* room (no camera sees into it, its nodes hear no tags), so a
        name there cannot be seen and is the one a person carried in. Its roster is the
        registered devices that went unheard (no room's nodes heard them for
        :data:`DEVICE_GONE_S`) where they were last placed at or in the room: the tags that
        went in. A device heard again has come out. When the room follows one person and its
        roster holds one device, that device names them, whatever name the person carried in
        (the name at the door may have been someone else's, or two people who met inside made
        one blob and the one who stayed is not the one the blob followed in). A room that
        senses nobody for :data:`EMPTY_S` is empty."""
        roster = self._inside.setdefault(room.room_id, {})
        live_here = [
            m
            for m in self._members.values()
            if m.key[0] == "sensing" and m.key[1] == room.room_id and self._live(m, now)
        ]
        if live_here:
            self._room_seen[room.room_id] = now
        elif now - self._room_seen.get(room.room_id, -math.inf) > EMPTY_S:
            roster.clear()
            return
        occupants = set()
        for member in live_here:
            if member.person is None:
                return  # not placed yet
            person = self._people[member.person]
            elsewhere = [
                m
                for k in person.members
                if k in self._members
                and (k[0] != "sensing" or k[1] != room.room_id)
                and self._live(m := self._members[k], now)
            ]
            if any(
                m.last_t > member.first_t + SETTLE_S
                and math.dist(m.position, member.position) > HANDOVER_M
                for m in elsewhere
            ):
                # Another sense still follows them, away from here, long after this blob
                # appeared (a camera's tracker moved their track onto someone at the door,
                # and the person went with the track): the blob in here is someone else.
                self._leave(person, member, now)
                person = self._new_person()
                self._attach(person, member, now)
            occupants.add(person.key)
        if len(roster) != 1 or len(occupants) != 1:
            return
        person = self._people[occupants.pop()]
        ((address, (name, person_id)),) = roster.items()
        if person.name == name or person.name_source not in (None, "ble"):
            return
        person.device = address  # the device kept when they are heard again is this one
        for vote in [v for v in person.votes if v[0] == "ble"]:
            del person.votes[vote]
        person.votes[("ble", name, person_id)] = NAMED_WEIGHT
        person.name, person.name_source, person.named_at = name, "ble", now
        person.person_id = person_id or person.person_id
        self._changes.append(FusionChange("named", self._view(person), now))

    def _end_people(self, now: float) -> None:
        for person in list(self._people.values()):
            if (
                not person.members
                and person.waiting_since is not None
                and now - person.last_t > HANDOVER_S
            ):
                self._close(person, now)

    def _close(self, person: _Person, now: float) -> None:
        for key in list(person.members):
            member = self._members.get(key)
            if member is not None:
                member.person = None
        person.members.clear()
        self._changes.append(FusionChange("ended", self._view(person), now))
        self._people.pop(person.key, None)

    def _member(self, key: MemberKey, label: str, t: float) -> _Member:
        member = self._members.get(key)
        if member is None:
            member = self._members[key] = _Member(key, label)
            member.votes.update(self._pending_names.pop(key, {}))
        member.label = label
        return member

    @staticmethod
    def _live(member: _Member, now: float) -> bool:
        return bool(member.samples) and now - member.last_t <= ACTIVE_S

    def _view(self, person: _Person) -> PersonView:
        segments = []
        for (sense, source, ident), (start, end) in person.segments.items():
            if not (math.isfinite(start) and math.isfinite(end)):
                continue
            segments.append(
                Segment(
                    sense,
                    source,
                    person.labels.get((sense, source, ident), source),
                    ident,
                    start,
                    end,
                )
            )
        segments.sort(key=lambda s: (s.start, s.sense))
        return PersonView(
            person_key=person.key,
            name=person.name,
            name_source=person.name_source,
            person_id=person.person_id,
            position=person.position,
            last_t=person.last_t,
            members=tuple(sorted(person.members)),
            segments=tuple(segments),
            waiting=person.waiting_since is not None,
        )


def _look_distance(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """Bhattacharyya distance of two colour histograms, 0 (alike) to 1 (nothing shared), as
    the camera's tracker measures its tracks' (OpenCV's, for normalised histograms)."""
    total = float(a.sum()) * float(b.sum())
    if a.shape != b.shape or total <= 0.0:
        return 1.0
    shared = float(np.sqrt(a * b).sum()) / math.sqrt(total)
    return math.sqrt(max(1.0 - shared, 0.0))


def _closeness(distance: float) -> float:
    """How sure a median distance makes a pair (1 at 0 m, 0.5 at about 0.7 m)."""
    if not math.isfinite(distance):
        return 0.0
    return math.exp(-(distance**2) / (2 * SIGMA_M**2))
