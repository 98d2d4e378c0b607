"""One person across senses: camera tracks and sensing blobs joined by where they are on the
floor over time, and names carried between them. Pure computation (no bus, no store, no
threads); :mod:`engine.fusion.service` feeds it and publishes what it finds.

**Members.** A *member* is one sense's own track of someone: a camera's track (``camera``,
its track id), placed on the floor by the camera's calibration (the feet: the bottom centre of
the box), or a sensing room's blob (``sensing``, its blob id), placed by the room. Each keeps
its recent floor positions.

**Association (camera track ↔ blob).** At each update every camera track seen in the last
:data:`ACTIVE_S` is compared with every blob seen then whose newest position lies within
:data:`GATE_M`: over the last :data:`WINDOW_S` seconds, each of the track's floor positions is
compared with the blob's position at that moment (interpolated), and the pair's *score* is the
mean of ``exp(−d²/2σ²)`` (σ = :data:`SIGMA_M`, the camera's floor error and the blob's
together) times the share of the window both were seen. The best one-to-one assignment
(Hungarian) proposes pairs; a proposed pair whose score is at least :data:`LINK_SCORE` and
which no rival comes within :data:`MARGIN` of gains *confidence* (a running average of its
score); it is **joined** once it has been proposed for :data:`JOIN_AFTER_S` seconds in a row
with confidence ≥ :data:`JOIN_CONFIDENCE`. A joined pair whose score stays below
:data:`BREAK_SCORE` for :data:`BREAK_AFTER_S` seconds parts, and the member that joined later
leaves the person (with only the names of its own senses).

**A person** is the members joined together, now and before: a camera track joined to a blob
is one person; when the track ends the blob carries on as that person (a room without a
camera, a privacy blind spot), and when the blob is lost the track does (weak sensing). A
member that ends leaves the person *waiting* for :data:`HANDOVER_S` seconds at its last place:
a new member starting within :data:`HANDOVER_M` of it then (the next room's blob at the door,
the camera's new track after an occlusion) continues the person, unless another waiting person
is about as near (no guess: a new person instead).

**Names.** A person's name comes from their members, in this order: a recognised face on a
camera track, a name introduced to that track, a registered BLE device carried by a blob. It
is the person's, so every member shows it (a BLE-named blob names its camera track, a face
names the blob) and it stays with them after the member that gave it has gone.

**Path.** Each person keeps the *segments* of their path: which sense saw them where and when
("seen by Plaza east 14:02–14:04, sensed in the lobby 14:04–14:09, phone 'Ada's tag'
throughout"), for the history.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

ACTIVE_S: Final = 1.0  # a member seen within this is in view now
WINDOW_S: Final = 3.0  # the stretch of path compared
SIGMA_M: Final = 0.6  # a camera's floor error and a blob's together
GATE_M: Final = 2.0  # farther apart now than this: not the same person
MIN_SAMPLES: Final = 3
LINK_SCORE: Final = 0.45
MARGIN: Final = 0.1  # a rival this close in score makes a pair ambiguous
JOIN_AFTER_S: Final = 1.5
JOIN_CONFIDENCE: Final = 0.5
BREAK_SCORE: Final = 0.15
BREAK_AFTER_S: Final = 2.0
END_AFTER_S: Final = 2.0  # a member unseen this long has ended
HANDOVER_S: Final = 5.0
HANDOVER_M: Final = 2.0
SETTLE_S: Final = 1.0  # a new member is placed (and handed a person) over its first second
HANDOVER_AMBIGUOUS_M: Final = 0.75  # a rival waiting person this much farther or nearer: ambiguous
SAMPLES_KEPT: Final = 120
PENDING_NAMES: Final = 1000
BLE_GAP_S: Final = 15.0  # a device's sightings closer than this are one stretch

Kind = Literal["camera", "sensing"]
MemberKey = tuple[Kind, str, int]  # (kind, camera or room id, track or blob id)
NAME_RANK: Final = {"face": 3, "introduced": 2, "ble": 1}


@dataclass(frozen=True, slots=True)
class Device:
    """A registered BLE device a blob carries: address, label, the name it gives, the person's
    public id (None for a simulated walker's tag)."""

    address: str
    label: str
    name: str
    person_id: str | None


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
    joined_at: float = math.inf
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # source -> name, id
    device: Device | None = None
    device_since: float | None = None

    def add(self, t: float, x: float, y: float) -> None:
        if self.samples and t <= self.samples[-1][0]:
            return
        self.samples.append((t, x, y))
        self.first_t = min(self.first_t, t)
        self.last_t = max(self.last_t, t)

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
    first_proposed: float
    last_proposed: float
    joined: bool = False
    joined_at: float = 0.0
    bad_since: float | None = None


@dataclass
class _Person:
    key: int
    members: set[MemberKey] = field(default_factory=set)
    segments: dict[tuple[str, str, int | None], list[float]] = field(default_factory=dict)
    labels: dict[tuple[str, str, int | None], str] = field(default_factory=dict)
    name: str | None = None
    name_source: str | None = None
    person_id: str | None = None
    position: tuple[float, float] = (0.0, 0.0)
    last_t: float = -math.inf
    waiting_since: float | None = None
    exit: tuple[float, float] = (0.0, 0.0)  # where they were last seen (a mean, for handovers)


class Associator:
    """Joins camera tracks and blobs into people (see the module docstring). Feed it with
    :meth:`see_track`, :meth:`see_blob`, :meth:`name_track` and call :meth:`update`; times
    are seconds on one clock."""

    def __init__(self) -> None:
        self._members: dict[MemberKey, _Member] = {}
        self._links: dict[tuple[MemberKey, MemberKey], _Link] = {}
        self._people: dict[int, _Person] = {}
        self._next_person = itertools.count(1)
        self._changes: list[FusionChange] = []
        # Names that arrived before their track was first seen (another thread's event).
        self._pending_names: dict[MemberKey, dict[str, tuple[str, str | None]]] = {}

    # -- input -----------------------------------------------------------------------------

    def see_track(
        self, camera: str, track_id: int, t: float, floor: tuple[float, float], label: str
    ) -> None:
        """Camera ``camera`` (called ``label``) saw track ``track_id``'s feet at ``floor``."""
        self._member(("camera", camera, track_id), label, t).add(t, *floor)

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
        member.add(t, *floor)
        if device is not None:
            if member.device is None or member.device.address != device.address:
                member.device, member.device_since = device, t
            member.names["ble"] = (device.name, device.person_id)
            self._ble_segment(member, device, t)
        elif member.device is not None:
            member.device = None
            member.names.pop("ble", None)

    def name_track(
        self, camera: str, track_id: int, name: str | None, person_id: str, source: str
    ) -> None:
        """Track ``track_id`` of ``camera`` is ``person_id`` called ``name``, by ``source``
        (``face`` or ``introduced``)."""
        key: MemberKey = ("camera", camera, track_id)
        member = self._members.get(key)
        if member is None:
            if len(self._pending_names) >= PENDING_NAMES:
                self._pending_names.pop(next(iter(self._pending_names)))
            self._pending_names.setdefault(key, {})[source] = (name or person_id, person_id)
            return
        member.names[source] = (name or person_id, person_id)
        if member.person is not None:
            self._rename(self._people[member.person], member.last_t)

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
        scores = np.zeros((len(tracks), len(blobs)))
        for i, track in enumerate(tracks):
            for j, blob in enumerate(blobs):
                scores[i, j] = self._score(track, blob, now)
        rows, cols = linear_sum_assignment(-scores)
        proposed: set[tuple[MemberKey, MemberKey]] = set()
        for i, j in zip(rows, cols, strict=True):
            score = float(scores[i, j])
            if score < LINK_SCORE:
                continue
            rivals = np.concatenate([np.delete(scores[i, :], j), np.delete(scores[:, j], i)])
            if rivals.size and float(rivals.max()) > score - MARGIN:
                continue  # someone else fits about as well: wait
            pair = (tracks[i].key, blobs[j].key)
            proposed.add(pair)
            link = self._links.get(pair)
            if link is None:
                link = self._links[pair] = _Link(score, now, now)
            elif now - link.last_proposed > 1.0:  # not proposed in between: start again
                link.first_proposed, link.confidence = now, score
            link.confidence = 0.7 * link.confidence + 0.3 * score
            link.last_proposed = now
            link.bad_since = None
            if (
                not link.joined
                and now - link.first_proposed >= JOIN_AFTER_S
                and link.confidence >= JOIN_CONFIDENCE
            ):
                self._join(tracks[i], blobs[j], link, now)
        for pair, link in list(self._links.items()):
            if link.joined and pair not in proposed and pair in self._links:
                one, other = self._members.get(pair[0]), self._members.get(pair[1])
                if one is None or other is None:
                    continue
                if not (self._live(one, now) and self._live(other, now)):
                    continue
                score = self._score(one, other, now)
                link.confidence = 0.7 * link.confidence + 0.3 * score
                if score < BREAK_SCORE:
                    link.bad_since = link.bad_since if link.bad_since is not None else now
                    if now - link.bad_since >= BREAK_AFTER_S:
                        self._part(pair, link, now)
                else:
                    link.bad_since = None
        self._age_links(now, proposed)

    def _score(self, track: _Member, blob: _Member, now: float) -> float:
        tx, ty = track.position
        bx, by = blob.position
        if math.hypot(tx - bx, ty - by) > GATE_M:
            return 0.0
        recent = [s for s in track.samples if s[0] >= now - WINDOW_S]
        if len(recent) < MIN_SAMPLES:
            return 0.0
        total, used = 0.0, 0
        for t, x, y in recent:
            at = blob.position_at(t)
            if at is None:
                continue
            d2 = (x - at[0]) ** 2 + (y - at[1]) ** 2
            total += math.exp(-d2 / (2 * SIGMA_M**2))
            used += 1
        if used < MIN_SAMPLES:
            return 0.0
        return (total / used) * (used / len(recent))

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
        del self._people[other.key]

    def _part(self, pair: tuple[MemberKey, MemberKey], link: _Link, now: float) -> None:
        del self._links[pair]
        track, blob = self._members.get(pair[0]), self._members.get(pair[1])
        if track is None or blob is None or track.person is None or track.person != blob.person:
            return
        later = track if track.joined_at >= blob.joined_at else blob
        person = self._people[track.person]
        person.members.discard(later.key)
        later.person = None
        self._rename(person, now)
        fresh = self._new_person()
        self._attach(fresh, later, now)
        self._rename(fresh, now)
        self._changes.append(
            FusionChange(
                "parted",
                self._view(person),
                now,
                track=pair[0],
                blob=pair[1],
                confidence=link.confidence,
            )
        )

    # -- people ----------------------------------------------------------------------------

    def _start_or_hand_over(self, member: _Member, now: float) -> None:
        """A member not yet part of anyone: it continues a person who went out of every
        sense just before it appeared, near where it appeared, or starts a new one."""
        x, y = member.mean_position(first=True)
        waiting = []
        for person in self._people.values():
            newest = max(
                (self._members[k].last_t for k in person.members if k in self._members),
                default=person.last_t,
            )
            gap = member.first_t - newest
            if -0.5 <= gap <= HANDOVER_S:
                exit_x, exit_y = person.exit
                waiting.append((math.hypot(exit_x - x, exit_y - y), person))
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
        member.joined_at = now
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

    def _rename(self, person: _Person, now: float) -> None:
        best: tuple[int, str, str | None, str] | None = None
        for key in person.members:
            member = self._members.get(key)
            if member is None:
                continue
            for source, (name, person_id) in member.names.items():
                rank = NAME_RANK.get(source, 0)
                if best is None or rank > best[0]:
                    best = (rank, name, person_id, source)
        if best is None:
            return
        _, name, person_id, source = best
        if (name, source) != (person.name, person.name_source) and (
            person.name_source is None or NAME_RANK[source] >= NAME_RANK[person.name_source]
        ):
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
            # Where both a camera and a room see them, the average of their newest places.
            seen = [m for m in live if now - m.last_t <= ACTIVE_S] or [newest]
            person.position = (
                sum(m.position[0] for m in seen) / len(seen),
                sum(m.position[1] for m in seen) / len(seen),
            )
            person.last_t = max(person.last_t, newest.last_t)
            person.exit = newest.mean_position(first=False)
            person.waiting_since = None

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
            member.names.update(self._pending_names.pop(key, {}))
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


def describe_path(segments: Sequence[Segment]) -> list[str]:
    """The path as phrases, in time order: "seen by Plaza east", "sensed in Lobby",
    "device 'Ada's tag'" (the caller adds the times in the site's zone)."""
    phrases = []
    for seg in segments:
        if seg.sense == "camera":
            phrases.append(f"seen by {seg.label}")
        elif seg.sense == "sensing":
            phrases.append(f"sensed in {seg.label}")
        else:
            phrases.append(f"device '{seg.label}'")
    return phrases
