"""Erasing a person from everything Watchfloor recorded (right to erasure).

One :class:`ErasePerson` command, applied by the store writer in one transaction, deletes
the person, their face embeddings, every event whose person column names them (face
sightings, and the appeared/left events of the tracks their face was seen on, which the
writer linked by camera and track id), the snapshots filed with those events and their face
pictures, and the clips of those cameras that overlap the time the person's tracks were in
view, with the segments of their continuous recording that overlap it (an event clip of such
a camera is a view onto those). Locked evidence is never deleted; the report says what was
kept. Files are unlinked after the transaction committed, so a failure leaves rows and files
as they were; running it again after a crash between commit and unlink finds nothing left to
delete in the database and the sweep removes the orphan files.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.clock import Clock
from engine.identity.faces_store import FaceMemory, UnknownPersonError
from engine.media import FOOTAGE_KINDS, SEGMENT_KIND, remove_clip_tracks
from engine.store.appearance_models import TrackAppearance
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.models import Event, Media
from engine.store.person_models import FaceEmbedding, Person
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ErasureReport:
    public_id: str
    embeddings: int
    events_deleted: int
    snapshots_deleted: int
    clips_deleted: int
    locked_kept: int
    segments_deleted: int = 0  # of the continuous recording: the same spans as the clips

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        kept = f"; {self.locked_kept} locked evidence files kept" if self.locked_kept else ""
        segments = f", {self.segments_deleted} recording segments" if self.segments_deleted else ""
        return (
            f"erased {self.public_id}: {self.embeddings} face records, "
            f"{self.events_deleted} events, {self.snapshots_deleted} snapshots, "
            f"{self.clips_deleted} clips{segments}{kept}"
        )


@dataclass(frozen=True, slots=True)
class _Erased:
    report: ErasureReport
    person_id: int
    files: tuple[str, ...]  # media paths (relative to the data dir) to unlink after commit


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasePerson(GuardedCommand, StoreCommand):
    """Delete ``public_id`` and everything that shows them (see module docstring); files
    are returned for the caller to unlink. Raises :class:`UnknownPersonError`."""

    permission: ClassVar[Permission] = Permission.ERASE_PEOPLE
    action: ClassVar[str] = "person.erase"

    public_id: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.public_id

    def apply(self, session: Session) -> _Erased:
        person = session.scalar(select(Person).where(Person.public_id == self.public_id))
        if person is None:
            raise UnknownPersonError(f"no person {self.public_id}")
        event_ids = list(session.scalars(select(Event.id).where(Event.person_id == person.id)))
        media_ids: set[int] = {
            media_id
            for media_id in session.scalars(
                select(FaceEmbedding.media_id).where(FaceEmbedding.person_id == person.id)
            )
            if media_id is not None
        }
        if person.snapshot_media_id is not None:
            media_ids.add(person.snapshot_media_id)
        if event_ids:
            media_ids.update(session.scalars(select(Media.id).where(Media.event_id.in_(event_ids))))
        # The clips that show them: per camera and track, the span their events cover.
        spans = session.execute(
            select(Event.camera_id, Event.track_id, func.min(Event.ts), func.max(Event.ts))
            .where(Event.person_id == person.id, Event.camera_id.is_not(None))
            .group_by(Event.camera_id, Event.track_id)
        ).all()
        if spans:
            media_ids.update(
                session.scalars(
                    select(Media.id).where(
                        # A clip of a camera recording continuously is a view onto its
                        # segments: the footage that shows them is in those.
                        Media.kind.in_(FOOTAGE_KINDS),
                        or_(
                            *(
                                (Media.camera_id == camera_id)
                                & (Media.started_at <= last)
                                & (Media.ended_at >= first)
                                for camera_id, _track, first, last in spans
                            )
                        ),
                    )
                )
            )
        media = session.scalars(select(Media).where(Media.id.in_(list(media_ids)))).all()
        deletable = [m for m in media if not m.locked]
        embeddings = session.scalar(
            select(func.count())
            .select_from(FaceEmbedding)
            .where(FaceEmbedding.person_id == person.id)
        )
        session.execute(delete(FaceEmbedding).where(FaceEmbedding.person_id == person.id))
        # How their tracks looked (appearance search) goes with the tracks' events.
        tracks = [(camera_id, track) for camera_id, track, _f, _l in spans if track is not None]
        if tracks:
            session.execute(
                delete(TrackAppearance).where(
                    or_(
                        *(
                            (TrackAppearance.camera_id == camera_id)
                            & (TrackAppearance.track_id == track)
                            for camera_id, track in tracks
                        )
                    )
                )
            )
        session.execute(delete(Event).where(Event.id.in_(event_ids)))
        session.execute(delete(Media).where(Media.id.in_([m.id for m in deletable])))
        person_id = person.id
        session.delete(person)
        report = ErasureReport(
            public_id=self.public_id,
            embeddings=int(embeddings or 0),
            events_deleted=len(event_ids),
            snapshots_deleted=sum(m.kind == "snapshot" for m in deletable),
            clips_deleted=sum(m.kind == "clip" for m in deletable),
            locked_kept=len(media) - len(deletable),
            segments_deleted=sum(m.kind == SEGMENT_KIND for m in deletable),
        )
        session.add(
            Event(
                ts=self.at, kind="person.erased", source=self.actor.label, detail=report.as_dict()
            )
        )
        audit_command(session, self, report.as_dict())
        session.flush()
        return _Erased(report, person_id, tuple(m.path for m in deletable))


def erase_person(
    writer: StoreWriter,
    memory: FaceMemory,
    public_id: str,
    data_dir: Path,
    clock: Clock,
    *,
    actor: Actor,
) -> ErasureReport:
    """Erase ``public_id`` everywhere and forget their face, as ``actor`` (who must hold
    the erase permission). Blocks until the writer has committed (never call it on the GUI
    thread). Raises UnknownPersonError, or PermissionDeniedError (audited)."""
    erased: _Erased = writer.execute(ErasePerson(public_id=public_id, at=clock.now(), actor=actor))
    memory.forget(erased.person_id)
    for path in erased.files:
        try:
            (data_dir / path).unlink(missing_ok=True)
            remove_clip_tracks(data_dir, path)  # a clip's boxes: where the person was
        except OSError as exc:  # the orphan sweep removes it later
            log.error("erasure of %s: cannot delete %s: %s", public_id, path, exc)
    log.info("%s", erased.report.summary)
    return erased.report
