"""Introductions: a name heard by a camera's microphone is offered to the person tracked
nearest that camera, and given to them at once or when an operator confirms.

When the speech service publishes a :class:`~engine.speech.service.NameHeard` for a camera,
the person nearest the camera is, where the camera is calibrated to the floor and has a
floor position, the tracked person the camera and the sensing room together place nearest
it (``nearest``, from the fusion service); otherwise the tracked person with the tallest box
in the camera's newest analysed frame (those seen in it before coasting ones). With
``analytics.speech_names_auto`` on, the name is given at once as the engine
(``engine:introductions``) when their face has been recognised, or as soon as it is (within
:data:`PENDING_S`); otherwise a :class:`NameOffered` asks an operator, who gives it with
:meth:`Introductions.give` (``person.introduced``, the label permission, audited). A given
name is stored as a ``person.named`` event with the camera, track and what was heard, and
shows on the live tracks at once.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from engine.access import Actor, Role
from engine.bus import EventBus
from engine.clock import Clock
from engine.events import Event, EventRecord, to_console
from engine.identity.introduced import Introduced, NameFromIntroduction
from engine.speech.service import NameHeard
from engine.store.writer import StoreWriter
from engine.vision.analysis import CameraAnalyzer, TrackView
from engine.vision.face_worker import FaceRecognised, FaceWorker

log = logging.getLogger(__name__)

INTRODUCTIONS: Final = Actor("introductions", frozenset({Role.ADMIN}), "engine")
FRESH_S: Final = 5.0  # a camera's newest frame older than this shows nobody
PENDING_S: Final = 60.0  # auto mode: a name waits this long for its person's face
MAX_OFFERS: Final = 50  # offers kept for operators (the oldest forgotten)


class IntroductionError(ValueError):
    """A name could not be given; the message says why (no such offer, nobody recognised)."""


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class NameOffered(Event):
    """A name was heard on ``camera``: offered to the person nearest it (``track_id``; None:
    nobody tracked there), who is ``person_id`` (None: their face not recognised yet) now
    called ``current_name``. ``given``: given at once (the setting); else an operator
    decides. ``detail``: a sentence for the operator. Not history (the heard name and the
    given name are)."""

    offer_id: int
    camera: str
    name: str
    transcript: str
    track_id: int | None
    person_id: str | None
    current_name: str | None
    given: bool
    detail: str


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class NameGiven(Event):
    """Person ``person_id`` (on ``track_id`` of ``camera``) was given ``name`` from their
    introduction, by ``actor`` (a label)."""

    camera: str
    track_id: int | None
    person_id: str
    name: str
    previous: str | None
    transcript: str
    actor: str

    def record(self) -> EventRecord:
        return EventRecord(
            "person.named",
            f"camera:{self.camera}",
            {
                "name": self.name,
                "previous": self.previous,
                "heard": self.transcript,
                "by": self.actor,
                "track_id": self.track_id,
            },
            track_id=self.track_id,
            person=self.person_id,
        )


def nearest_track(
    analyzer: CameraAnalyzer, now: datetime, fresh_s: float = FRESH_S
) -> TrackView | None:
    """The tracked person nearest the camera (the tallest box, seen this frame before
    coasting ones) in its newest analysed frame, if that frame is recent."""
    latest = analyzer.latest
    seen = analyzer.last_seen_at
    if latest is None or seen is None or (now - seen).total_seconds() > fresh_s:
        return None
    # Coasting tracks count: someone standing still is only confirmed at each detector run.
    return max(latest.tracks, key=lambda track: (not track.coasting, track.box.h), default=None)


class Introductions:
    """Listens for heard names on ``bus`` and offers or gives them (see the module
    docstring). ``auto``: read at each heard name (the setting)."""

    def __init__(
        self,
        bus: EventBus,
        writer: StoreWriter,
        clock: Clock,
        analyzers: dict[str, CameraAnalyzer],
        faces: FaceWorker | None,
        auto: Callable[[], bool],
        nearest: Callable[[str], int | None] | None = None,
    ) -> None:
        self._bus = bus
        # Fusion: the track of a camera whose person the camera and the room together place
        # nearest the camera's microphone (None: no calibration or nobody placed).
        self._nearest = nearest
        self._writer = writer
        self._clock = clock
        self._analyzers = analyzers
        self._faces = faces
        self._auto = auto
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._offers: dict[int, NameOffered] = {}
        self._pending: dict[tuple[str, int], tuple[NameOffered, datetime]] = {}
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        self._unsubscribe = [
            self._bus.subscribe(NameHeard, self._on_heard),
            self._bus.subscribe(FaceRecognised, self._on_face),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def offers(self) -> list[NameOffered]:
        """The offers no one has decided on yet, oldest first."""
        with self._lock:
            return list(self._offers.values())

    def dismiss(self, offer_id: int) -> None:
        with self._lock:
            self._offers.pop(offer_id, None)

    def give(self, offer_id: int, actor: Actor) -> NameGiven:
        """An operator confirms offer ``offer_id``: its name goes to the person on its
        track (recognised by now). :class:`IntroductionError` when the offer is gone or
        nobody on it has been recognised; the store command's errors otherwise (a
        refusal is audited)."""
        with self._lock:
            offer = self._offers.get(offer_id)
        if offer is None:
            raise IntroductionError(f"no open offer {offer_id} (given or dismissed already)")
        person = offer.person_id or self._person_on(offer.camera, offer.track_id)
        if person is None:
            where = f"track {offer.track_id}" if offer.track_id is not None else "that camera"
            raise IntroductionError(
                f"nobody on {where} of {offer.camera} has been recognised by face yet: "
                "the name has no one to go to"
            )
        given = self._give(offer, person, actor)
        self.dismiss(offer_id)
        return given

    def _person_on(self, camera: str, track_id: int | None) -> str | None:
        if self._faces is None or track_id is None:
            return None
        label = self._faces.label(camera, track_id)
        return label[0] if label else None

    def _give(self, offer: NameOffered, person: str, actor: Actor) -> NameGiven:
        done: Introduced = self._writer.execute(
            NameFromIntroduction(
                public_id=person,
                name=offer.name,
                camera=offer.camera,
                transcript=offer.transcript,
                at=self._clock.now(),
                actor=actor,
            )
        )
        if self._faces is not None:
            self._faces.renamed(person, done.name)
        given = NameGiven(
            at=self._clock.now(),
            camera=offer.camera,
            track_id=offer.track_id,
            person_id=person,
            name=done.name,
            previous=done.previous,
            transcript=offer.transcript,
            actor=actor.label,
        )
        self._bus.publish(given)
        return given

    def _on_heard(self, heard: NameHeard) -> None:
        """On the speech worker's thread."""
        if heard.camera is None or heard.camera not in self._analyzers:
            return
        now = self._clock.now()
        track = self._nearest_track(heard.camera, now)
        person = self._person_on(heard.camera, track.track_id if track else None)
        current = None
        if person is not None and self._faces is not None:
            label = self._faces.label(heard.camera, track.track_id) if track else None
            current = label[1] if label else None
        auto = self._auto()
        offer = NameOffered(
            at=now,
            offer_id=next(self._ids),
            camera=heard.camera,
            name=heard.name,
            transcript=heard.transcript,
            track_id=track.track_id if track else None,
            person_id=person,
            current_name=current,
            given=False,
            detail=_detail(heard, track, person, current, auto),
        )
        if track is None:
            self._publish(offer)
            return
        if current == heard.name:
            return  # they have that name already
        if auto and person is not None and not current:
            self._give_now(offer, person)
            return
        if auto and person is None:
            with self._lock:
                self._pending[(heard.camera, track.track_id)] = (offer, now)
        self._publish(offer)

    def _nearest_track(self, camera: str, now: datetime) -> TrackView | None:
        """The person nearest ``camera``: where the camera is calibrated to the floor, the
        one the camera and the room place nearest its microphone; else the tallest box."""
        analyzer = self._analyzers[camera]
        fallback = nearest_track(analyzer, now)
        if self._nearest is None or fallback is None:
            return fallback
        chosen = self._nearest(camera)
        latest = analyzer.latest
        if chosen is None or latest is None:
            return fallback
        return next((t for t in latest.tracks if t.track_id == chosen), fallback)

    def _on_face(self, face: FaceRecognised) -> None:
        """Auto mode: a name waiting for this track's face goes to them now."""
        key = (face.camera, face.track_id)
        with self._lock:
            waiting = self._pending.pop(key, None)
            now = self._clock.now()
            for stale in [
                k for k, (_, at) in self._pending.items() if now - at > timedelta(seconds=PENDING_S)
            ]:
                del self._pending[stale]
        if waiting is None or (now - waiting[1]).total_seconds() > PENDING_S:
            return
        if face.name:
            return  # already named: an operator decides (the offer is still open)
        self._give_now(waiting[0], face.person_id)

    def _give_now(self, offer: NameOffered, person: str) -> None:
        try:
            self._give(offer, person, INTRODUCTIONS)
        except Exception as exc:
            log.exception("introductions: %s could not be named %s", person, offer.name)
            self._publish(offer, detail=f"{offer.detail} — not given: {exc}")
            return
        self.dismiss(offer.offer_id)

    def _publish(self, offer: NameOffered, detail: str | None = None) -> None:
        if detail is not None:
            offer = dataclasses.replace(offer, detail=detail)
        with self._lock:
            self._offers[offer.offer_id] = offer
            while len(self._offers) > MAX_OFFERS:
                del self._offers[next(iter(self._offers))]
        self._bus.publish(offer)


def _detail(
    heard: NameHeard,
    track: TrackView | None,
    person: str | None,
    current: str | None,
    auto: bool,
) -> str:
    said = f"heard “{heard.transcript}” on {heard.camera}"
    if track is None:
        return f"{said}: nobody is tracked there to give “{heard.name}” to"
    who = current or person or f"track {track.track_id} (face not recognised yet)"
    if current and current != heard.name:
        return f"{said}: {who} is already named; give them “{heard.name}” instead?"
    if auto and person is None:
        return f"{said}: “{heard.name}” goes to {who} once their face is recognised"
    return f"{said}: give “{heard.name}” to {who}?"
