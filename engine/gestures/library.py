"""The gesture library in the store: teach, rename, change, remove, list, load.

Teaching, renaming, changing and removing gestures are guarded, audited store commands
(permission ``manage_gestures``), applied on the store writer's thread; their errors
(:class:`GestureError` naming what was wrong, :class:`UnknownGestureError`) reach the caller
through the writer's future. A gesture is taught whole or not at all: its examples are
checked (shape, count, that its repetitions can be calibrated) before anything is written,
in the same transaction as the gesture's row. Detections are counted by
:class:`RecordGestureDetection` (usage statistics). Listing and loading open their own
session (a query worker or a loader thread).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.gestures.dtw import (
    MATCH_CONFIDENCE,
    GestureMatcher,
    GestureTemplateError,
    review_examples,
)
from engine.gestures.sequence import LANDMARKS, SEQUENCE_FRAMES, Landmarks
from engine.gestures.templates import GestureSet, GestureTemplate
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.gesture_models import Gesture, GestureExample

log = logging.getLogger(__name__)

MIN_TEACH_EXAMPLES: Final = 3
MAX_TEACH_EXAMPLES: Final = 5
MAX_NAME: Final = 64  # characters (the column's size)
MAX_SOURCE: Final = 500
MIN_EXAMPLE_S: Final = 0.3  # shorter than this is a twitch, not a gesture
MAX_EXAMPLE_S: Final = 6.0
# An example lasting this many times longer or shorter than the median of its gesture's is
# named (people's pace varies 0.8–1.25× between repetitions: at most about 1.5× apart).
LENGTH_FACTOR: Final = 1.7


class GestureError(ValueError):
    """A gesture was refused; the message names the field and what was wrong."""


class UnknownGestureError(LookupError):
    """No gesture has that name."""


def check_gesture_name(name: str) -> str:
    """``name`` stripped; :class:`GestureError` if empty, too long or with control
    characters."""
    clean = name.strip()
    if not clean:
        raise GestureError("name: empty; give the gesture a name, e.g. wave")
    if len(clean) > MAX_NAME:
        raise GestureError(f"name: {len(clean)} characters, at most {MAX_NAME}")
    if any(unicodedata.category(c).startswith("C") for c in clean):
        raise GestureError("name: contains control characters")
    return clean


@dataclass(frozen=True, slots=True)
class GestureView:
    """One gesture as listed: options, how many examples, how long they typically last,
    its usage (detections so far, the last one) and ``advice``: sentences for the admin
    about its examples (too alike, one unlike the others, or why it cannot be recognised;
    see :func:`example_advice`), empty when they are fine."""

    name: str
    alerting: bool
    mirror_invariant: bool
    examples: int
    typical_s: float
    created_by: str
    created_at: datetime
    updated_at: datetime
    detections: int
    last_detected_at: datetime | None
    advice: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alerting": self.alerting,
            "mirror_invariant": self.mirror_invariant,
            "examples": self.examples,
            "typical_s": round(self.typical_s, 3),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "detections": self.detections,
            "last_detected_at": (
                self.last_detected_at.isoformat() if self.last_detected_at else None
            ),
            "advice": list(self.advice),
        }


def _find(session: Session, name: str) -> Gesture | None:
    """The gesture called ``name``, compared case-insensitively."""
    return session.scalars(
        select(Gesture).where(func.lower(Gesture.name) == name.strip().lower())
    ).first()


def _check_examples(
    name: str, examples: Sequence[Landmarks], durations_s: Sequence[float], mirrored: bool
) -> list[np.ndarray]:
    if not MIN_TEACH_EXAMPLES <= len(examples) <= MAX_TEACH_EXAMPLES:
        raise GestureError(
            f"examples: {len(examples)} given; teach a gesture from "
            f"{MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES} examples"
        )
    if len(durations_s) != len(examples):
        raise GestureError(
            f"durations_s: {len(durations_s)} for {len(examples)} examples; one each"
        )
    arrays = []
    for index, (example, seconds) in enumerate(zip(examples, durations_s, strict=True), 1):
        array = np.ascontiguousarray(example, dtype=np.float32)
        if array.shape != (SEQUENCE_FRAMES, LANDMARKS, 3):
            raise GestureError(
                f"example {index}: shape {array.shape}, expected a normalised sequence "
                f"({SEQUENCE_FRAMES}, {LANDMARKS}, 3)"
            )
        if not np.isfinite(array).all():
            raise GestureError(f"example {index}: has missing landmarks")
        if not MIN_EXAMPLE_S <= seconds <= MAX_EXAMPLE_S:
            raise GestureError(
                f"example {index}: lasts {seconds:.2f} s; a gesture example lasts "
                f"{MIN_EXAMPLE_S}–{MAX_EXAMPLE_S:g} s"
            )
        arrays.append(array)
    try:  # its repetitions must be calibratable, or it could never be recognised
        GestureMatcher({name: arrays}, mirror_invariant=mirrored)
    except GestureTemplateError as exc:
        raise GestureError(str(exc)) from exc
    return arrays


def example_advice(
    examples: Sequence[Landmarks],
    durations_s: Sequence[float] = (),
    *,
    mirror_invariant: bool = True,
    name: str = "gesture",
) -> tuple[str, ...]:
    """What the admin should know about these normalised examples of one gesture (and how
    long each lasted, when known) before teaching it, in sentences: that they are nearly
    copies of each other (no variety), that one is unlike the others or lasts much longer
    or shorter than them (another gesture, two repetitions, or cut at the wrong moment), or
    why the gesture cannot be taught. Empty when they are fine or too few to compare (under
    :data:`MIN_TEACH_EXAMPLES`; a refusal is said from two). A few milliseconds; any
    thread."""
    if len(examples) < 2:
        return ()
    review = review_examples(name, examples, mirror_invariant=mirror_invariant)
    if review.refusal is not None:
        return (_sentence(review.refusal),)
    if len(examples) < MIN_TEACH_EXAMPLES:
        return ()
    advice = list(review.advice)
    if len(durations_s) == len(examples):
        typical = float(np.median(durations_s))
        for number, seconds in enumerate(durations_s, 1):
            if number - 1 in review.outliers:
                continue  # already said
            if seconds > LENGTH_FACTOR * typical or seconds * LENGTH_FACTOR < typical:
                advice.append(
                    f"Example {number} lasts {seconds:.1f} s, the others about {typical:.1f} s: "
                    "it may hold two repetitions, or be cut short. Discard it and record it "
                    "again."
                )
    return tuple(advice)


def _sentence(refusal: str) -> str:
    """A refusal as the admin reads it: without the ``gesture 'name': `` prefix."""
    _, _, rest = refusal.partition(": ")
    text = rest or refusal
    return text[:1].upper() + text[1:] + "."


@dataclass(frozen=True, slots=True, kw_only=True)
class TeachGesture(GuardedCommand, StoreCommand):
    """``actor`` teaches gesture ``name`` from 3–5 normalised ``examples`` (each
    30 × 33 × 3) that lasted ``durations_s`` and came from ``sources``. ``replace``: a
    gesture of that name is taught again (its examples replaced, its usage kept);
    otherwise an existing name is refused. Audited as ``gesture.teach``. Returns the
    :class:`GestureView`."""

    permission: ClassVar[Permission] = Permission.MANAGE_GESTURES
    action: ClassVar[str] = "gesture.teach"

    name: str
    examples: tuple[Landmarks, ...]
    durations_s: tuple[float, ...]
    sources: tuple[str, ...]
    alerting: bool = False
    mirror_invariant: bool = True  # either hand: what an admin teaching "wave" means
    replace: bool = False
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"gesture:{self.name.strip()}"

    def apply(self, session: Session) -> GestureView:
        name = check_gesture_name(self.name)
        if len(self.sources) != len(self.examples):
            raise GestureError(f"sources: {len(self.sources)} for {len(self.examples)} examples")
        arrays = _check_examples(name, self.examples, self.durations_s, self.mirror_invariant)
        row = _find(session, name)
        if row is not None and not self.replace:
            raise name_taken(row.name)
        if row is None:
            row = Gesture(
                name=name,
                alerting=self.alerting,
                mirror_invariant=self.mirror_invariant,
                created_by=self.actor.label,
                created_at=self.at,
                updated_at=self.at,
                detections=0,
                last_detected_at=None,
            )
            session.add(row)
            session.flush()
        else:
            row.alerting = self.alerting
            row.mirror_invariant = self.mirror_invariant
            row.updated_at = self.at
            session.execute(delete(GestureExample).where(GestureExample.gesture_id == row.id))
        for position, (array, seconds, source) in enumerate(
            zip(arrays, self.durations_s, self.sources, strict=True)
        ):
            session.add(
                GestureExample(
                    gesture_id=row.id,
                    position=position,
                    frames=array.shape[0],
                    landmarks=array.tobytes(),
                    duration_s=float(seconds),
                    source=source[:MAX_SOURCE],
                )
            )
        session.flush()
        audit_command(
            session,
            self,
            {
                "examples": len(arrays),
                "durations_s": [round(float(s), 3) for s in self.durations_s],
                "alerting": self.alerting,
                "mirror_invariant": self.mirror_invariant,
                "replaced": self.replace,
            },
            target=f"gesture:{name}",
        )
        return _view(session, row)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameGesture(GuardedCommand, StoreCommand):
    """``actor`` renames gesture ``name`` to ``new_name`` (alert rules that name the old
    name must be edited too). Audited as ``gesture.rename``."""

    permission: ClassVar[Permission] = Permission.MANAGE_GESTURES
    action: ClassVar[str] = "gesture.rename"

    name: str
    new_name: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"gesture:{self.name.strip()}"

    def apply(self, session: Session) -> GestureView:
        row = _require(session, self.name)
        new_name = check_gesture_name(self.new_name)
        other = _find(session, new_name)
        if other is not None and other.id != row.id:
            raise GestureError(f"new name: a gesture called {other.name!r} exists")
        old = row.name
        row.name = new_name
        row.updated_at = self.at
        session.flush()
        audit_command(session, self, {"from": old, "to": new_name})
        return _view(session, row)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetGestureOptions(GuardedCommand, StoreCommand):
    """``actor`` marks gesture ``name`` as alerting or not and mirror-invariant or not
    (None: unchanged). Audited as ``gesture.change``."""

    permission: ClassVar[Permission] = Permission.MANAGE_GESTURES
    action: ClassVar[str] = "gesture.change"

    name: str
    alerting: bool | None = None
    mirror_invariant: bool | None = None
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"gesture:{self.name.strip()}"

    def apply(self, session: Session) -> GestureView:
        row = _require(session, self.name)
        if self.alerting is not None:
            row.alerting = self.alerting
        if self.mirror_invariant is not None:
            row.mirror_invariant = self.mirror_invariant
        row.updated_at = self.at
        session.flush()
        audit_command(
            session, self, {"alerting": row.alerting, "mirror_invariant": row.mirror_invariant}
        )
        return _view(session, row)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveGesture(GuardedCommand, StoreCommand):
    """``actor`` removes gesture ``name`` and its examples; its past detections stay in the
    event history. Audited as ``gesture.remove``. Returns the removed gesture."""

    permission: ClassVar[Permission] = Permission.MANAGE_GESTURES
    action: ClassVar[str] = "gesture.remove"

    name: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"gesture:{self.name.strip()}"

    def apply(self, session: Session) -> GestureView:
        row = _require(session, self.name)
        view = _view(session, row)
        session.execute(delete(GestureExample).where(GestureExample.gesture_id == row.id))
        session.delete(row)
        session.flush()
        audit_command(session, self, {"examples": view.examples, "detections": view.detections})
        return view


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordGestureDetection(StoreCommand):
    """Count one detection of ``gesture`` at ``at`` (usage statistics); a gesture removed
    meanwhile is ignored. Returns whether it was counted."""

    gesture: str
    at: datetime

    def apply(self, session: Session) -> bool:
        result = session.execute(
            update(Gesture)
            .where(func.lower(Gesture.name) == self.gesture.strip().lower())
            .values(
                detections=Gesture.detections + 1,
                last_detected_at=func.coalesce(
                    func.max(Gesture.last_detected_at, self.at)
                    if session.get_bind().dialect.name == "sqlite"
                    else func.greatest(Gesture.last_detected_at, self.at),
                    self.at,
                ),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def _require(session: Session, name: str) -> Gesture:
    row = _find(session, name)
    if row is None:
        raise UnknownGestureError(f"no gesture called {name.strip()!r}")
    return row


def _view(session: Session, row: Gesture) -> GestureView:
    template = _template(session, row)
    durations = template.durations_s
    return GestureView(
        name=row.name,
        alerting=bool(row.alerting),
        mirror_invariant=bool(row.mirror_invariant),
        examples=len(durations),
        typical_s=float(np.median(durations)) if durations else 0.0,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        detections=int(row.detections),
        last_detected_at=row.last_detected_at,
        advice=example_advice(
            template.examples,
            template.durations_s,
            mirror_invariant=template.mirror_invariant,
            name=row.name,
        ),
    )


def name_taken(existing: str) -> GestureError:
    """The refusal to teach a gesture under a name already taught, without ``replace``."""
    return GestureError(
        f"name: a gesture called {existing!r} exists; rename or remove it first, "
        "or teach it again to replace its examples"
    )


@dataclass(frozen=True, slots=True)
class GestureNamed:
    """The stored name of the gesture taught as ``name`` (case-insensitively), or None.
    Runs on a query worker; lets teaching refuse a taken name before reading any pose (the
    store command checks again when it writes)."""

    name: str

    def run(self, store: Store) -> str | None:
        with store.sessions() as session:
            row = _find(session, check_gesture_name(self.name))
            return None if row is None else row.name


@dataclass(frozen=True, slots=True)
class GestureListRequest:
    """Every taught gesture, by name (case-insensitively). Runs on a query worker."""

    def run(self, store: Store) -> tuple[GestureView, ...]:
        with store.sessions() as session:
            rows = session.scalars(select(Gesture).order_by(func.lower(Gesture.name))).all()
            return tuple(_view(session, row) for row in rows)


def _template(session: Session, row: Gesture) -> GestureTemplate:
    examples = session.scalars(
        select(GestureExample)
        .where(GestureExample.gesture_id == row.id)
        .order_by(GestureExample.position)
    ).all()
    return GestureTemplate(
        name=row.name,
        alerting=bool(row.alerting),
        mirror_invariant=bool(row.mirror_invariant),
        examples=tuple(
            np.frombuffer(e.landmarks, dtype=np.float32).reshape(e.frames, LANDMARKS, 3).copy()
            for e in examples
        ),
        durations_s=tuple(float(e.duration_s) for e in examples),
    )


@dataclass(frozen=True, slots=True)
class GestureTemplateRequest:
    """One gesture's examples (to replay them as skeletons). Runs on a query worker;
    :class:`UnknownGestureError` for an unknown name."""

    name: str

    def run(self, store: Store) -> GestureTemplate:
        with store.sessions() as session:
            return _template(session, _require(session, self.name))


def load_templates(store: Store) -> tuple[GestureTemplate, ...]:
    """Every taught gesture with its examples."""
    with store.sessions() as session:
        rows = session.scalars(select(Gesture).order_by(Gesture.name)).all()
        return tuple(_template(session, row) for row in rows)


def load_gesture_set(store: Store, min_confidence: float = MATCH_CONFIDENCE) -> GestureSet:
    """Every taught gesture, ready to match (empty when none is taught). Thresholds are
    derived here from the stored examples, so gestures taught by older versions are
    recalibrated as they load; one the current calibration refuses is left out and logged
    (the gestures list says why, see :attr:`GestureView.advice`)."""
    gestures = GestureSet(load_templates(store), min_confidence)
    for name, why in gestures.unusable.items():
        log.warning("gesture %r is not recognised until taught again: %s", name, why)
    return gestures
