"""Erasing a person from everything Watchfloor recorded (right to erasure).

Deletes their face embeddings and person record, every ``face_recognised`` event naming
them, the ``person_appeared``/``person_left`` events of the tracks their face was seen on
(with those snapshots), their face pictures, and the clips that cover those sightings.
Locked evidence is never deleted; the report says what was kept. Running it again finishes
an erasure that failed part way.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, delete, select

from engine.clock import Clock
from engine.identity.faces_store import FaceMemory, UnknownPersonError
from engine.store.database import Store
from engine.store.models import Event, Media
from engine.store.person_models import FaceEmbedding, Person

log = logging.getLogger(__name__)

TRACK_WINDOW = timedelta(minutes=15)  # track ids restart per session: match them near in time


@dataclass(frozen=True, slots=True)
class ErasureReport:
    public_id: str
    embeddings: int
    events_deleted: int
    snapshots_deleted: int
    clips_deleted: int
    locked_kept: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        kept = f"; {self.locked_kept} locked evidence files kept" if self.locked_kept else ""
        return (
            f"erased {self.public_id}: {self.embeddings} face records, "
            f"{self.events_deleted} events, {self.snapshots_deleted} snapshots, "
            f"{self.clips_deleted} clips{kept}"
        )


def erase_person(
    store: Store, memory: FaceMemory, public_id: str, data_dir: Path, clock: Clock
) -> ErasureReport:
    """Erase ``public_id`` everywhere. Raises UnknownPersonError if nothing refers to them."""
    with store.sessions() as session:
        person = session.scalar(select(Person).where(Person.public_id == public_id))
        face_media: set[int] = set()
        if person is not None:
            face_media.update(
                m
                for m in session.scalars(
                    select(FaceEmbedding.media_id).where(FaceEmbedding.person_id == person.id)
                )
                if m is not None
            )
            if person.snapshot_media_id is not None:
                face_media.add(person.snapshot_media_id)
        candidates = session.scalars(
            select(Event).where(
                Event.kind == "face.recognised", cast(Event.detail, String).like(f"%{public_id}%")
            )
        ).all()
        face_events = [e for e in candidates if e.detail.get("person_id") == public_id]
        if person is None and not face_events:
            raise UnknownPersonError(f"no person {public_id}")
        events = {e.id: e for e in face_events}
        for face in face_events:
            track = face.detail.get("track_id")
            if not track:
                continue
            for event in session.scalars(
                select(Event).where(
                    Event.kind.in_(("person.appeared", "person.left")),
                    Event.source == face.source,
                    Event.ts.between(face.ts - TRACK_WINDOW, face.ts + TRACK_WINDOW),
                )
            ):
                if event.detail.get("track_id") == track:
                    events[event.id] = event
        media_ids = set(face_media)
        face_snapshots = [e.detail["snapshot"] for e in face_events if e.detail.get("snapshot")]
        if face_snapshots:
            media_ids.update(
                session.scalars(select(Media.id).where(Media.path.in_(face_snapshots)))
            )
        media_ids.update(session.scalars(select(Media.id).where(Media.event_id.in_(list(events)))))
        for face in face_events:
            if face.camera_id is None:
                continue
            media_ids.update(
                session.scalars(
                    select(Media.id).where(
                        Media.kind == "clip",
                        Media.camera_id == face.camera_id,
                        Media.started_at <= face.ts,
                        Media.ended_at >= face.ts,
                    )
                )
            )
        media = session.scalars(select(Media).where(Media.id.in_(list(media_ids)))).all()
    embeddings = 0
    if person is not None:
        with contextlib.suppress(UnknownPersonError):  # erased by someone else meanwhile
            embeddings = memory.erase(public_id).embeddings
    deletable = [m for m in media if not m.locked]
    with store.transaction() as session:
        session.execute(delete(Media).where(Media.id.in_([m.id for m in deletable])))
        session.execute(delete(Event).where(Event.id.in_(list(events))))
        report = ErasureReport(
            public_id=public_id,
            embeddings=embeddings,
            events_deleted=len(events),
            snapshots_deleted=sum(m.kind == "snapshot" for m in deletable),
            clips_deleted=sum(m.kind == "clip" for m in deletable),
            locked_kept=len(media) - len(deletable),
        )
        session.add(
            Event(ts=clock.now(), kind="person.erased", source="admin", detail=report.as_dict())
        )
    for item in deletable:
        (data_dir / item.path).unlink(missing_ok=True)
    log.info("%s", report.summary)
    return report
