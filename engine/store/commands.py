"""Typed, frozen write commands: the only way anything changes the database.

Every write in the engine (event rows, media rows, persons and faces, merges, erasures,
retention deletions, settings, audit) is a :class:`StoreCommand` handed to the
:class:`~engine.store.writer.StoreWriter`, which applies commands in order on its own
thread, batches them into transactions, and retries transient failures. ``apply`` runs
inside the writer's transaction and must only touch the session: it may be run again after
a rollback (a retried batch), so side effects outside the database belong to the caller,
after the command's future has resolved.

Commands that the writer may spill to its on-disk journal when its memory queue is full
(:attr:`StoreCommand.journaled`) also know how to turn themselves into JSON and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from engine.media import MediaFile
from engine.store.appearance_models import TrackAppearance
from engine.store.evidence_locks import new_media_is_locked
from engine.store.models import Event as EventRow
from engine.store.models import Media as MediaRow
from engine.store.models import Setting
from engine.store.person_models import Person


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreCommand:
    """Base of every write. Subclasses implement :meth:`apply`."""

    journaled: ClassVar[bool] = False
    """True for fire-and-forget rows the writer may spill to its journal under pressure."""

    def apply(self, session: Session) -> Any:
        """Do the write in ``session`` (the writer's transaction) and return its result."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """This command as JSON for the journal (journaled commands only)."""
        raise TypeError(f"{type(self).__name__} cannot be journaled")


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class InsertEvent(StoreCommand):
    """One row of the event history, with the media files (snapshots) filed with it.

    ``camera_id`` and ``site_id`` are database ids resolved by the writer from the camera
    key; ``person`` is a person's public id (``Person_…``) resolved to ``persons.id`` here,
    so the row's person column is set even though the producer knows only the public id.
    A ``face.recognised`` row also names that person on the earlier rows of the same track
    (camera id + track id, unique per camera across runs). Its media are stored locked
    when an active evidence lock covers them. Returns the new event id, or None for a
    ``person.left`` of a track that has left already: a track leaves once, whichever engine
    says so first (an engine that hung past its lease may wake to end tracks the engine
    that took its camera over has ended).
    """

    journaled: ClassVar[bool] = True

    ts: datetime
    kind: str
    source: str
    detail: dict[str, Any]
    site_id: int | None = None
    camera_id: int | None = None
    track_id: int | None = None
    person: str | None = None
    media: tuple[MediaFile, ...] = ()
    engine: str | None = None  # the engine that saw it (``watchfloor engine --name``)

    def apply(self, session: Session) -> int | None:
        if self.kind == "person.left" and self.camera_id is not None and self.track_id is not None:
            left = session.scalar(
                select(EventRow.id)
                .where(
                    EventRow.camera_id == self.camera_id,
                    EventRow.track_id == self.track_id,
                    EventRow.kind == "person.left",
                )
                .limit(1)
            )
            if left is not None:
                return None
        person_id = _person_id(session, self.person) if self.person else None
        values = {
            "engine": self.engine,
            "ts": self.ts,
            "kind": self.kind,
            "source": self.source,
            "site_id": self.site_id,
            "camera_id": self.camera_id,
            "track_id": self.track_id,
            "person_id": person_id,
            "detail": self.detail,
        }
        event_id = int(
            session.execute(insert(EventRow).returning(EventRow.id), [values]).scalar_one()
        )
        if self.media:
            # Snapshots taken inside an active evidence lock's range and sources are kept.
            locked = new_media_is_locked(session, camera_id=self.camera_id, created_at=self.ts)
            session.execute(
                insert(MediaRow),
                [
                    {
                        "kind": file.kind,
                        "path": file.path,
                        "sha256": file.sha256,
                        "size_bytes": file.size_bytes,
                        "created_at": self.ts,
                        "camera_id": self.camera_id,
                        "event_id": event_id,
                        "locked": locked,
                        "engine": self.engine,
                    }
                    for file in self.media
                ],
            )
        if person_id is not None and self.track_id is not None and self.camera_id is not None:
            session.execute(
                update(EventRow)
                .where(
                    EventRow.camera_id == self.camera_id,
                    EventRow.track_id == self.track_id,
                    EventRow.person_id.is_(None),
                )
                .values(person_id=person_id)
            )
        return event_id

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "event",
            "ts": _dt(self.ts),
            "kind": self.kind,
            "source": self.source,
            "detail": self.detail,
            "site_id": self.site_id,
            "camera_id": self.camera_id,
            "track_id": self.track_id,
            "person": self.person,
            "media": [[m.kind, m.path, m.sha256, m.size_bytes] for m in self.media],
            "engine": self.engine,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InsertEvent:
        ts = _parse_dt(data["ts"])
        assert ts is not None
        return cls(
            ts=ts,
            kind=data["kind"],
            source=data["source"],
            detail=data["detail"],
            site_id=data.get("site_id"),
            camera_id=data.get("camera_id"),
            track_id=data.get("track_id"),
            person=data.get("person"),
            media=tuple(MediaFile(*m) for m in data.get("media", ())),
            engine=data.get("engine"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InsertMedia(StoreCommand):
    """A finished media file on disk (a clip, usually) gets its row. ``started_at`` and
    ``ended_at`` give the footage a clip covers (UTC). The row is stored locked when an
    active evidence lock covers it (see :mod:`engine.store.evidence_locks`). Returns the
    media id."""

    journaled: ClassVar[bool] = True

    file: MediaFile
    created_at: datetime
    camera_id: int | None = None
    event_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    engine: str | None = None  # whose data dir keeps the file (a shared site's engine)
    motion_share: float | None = None  # a segment's: see engine.store.models.Media
    people_seen: int | None = None

    def apply(self, session: Session) -> int:
        row = MediaRow(
            engine=self.engine,
            kind=self.file.kind,
            path=self.file.path,
            sha256=self.file.sha256,
            size_bytes=self.file.size_bytes,
            created_at=self.created_at,
            camera_id=self.camera_id,
            event_id=self.event_id,
            # A clip recorded inside an active evidence lock (a range still being
            # recorded when it was locked) is stored locked.
            locked=new_media_is_locked(
                session,
                camera_id=self.camera_id,
                created_at=self.created_at,
                started_at=self.started_at,
                ended_at=self.ended_at,
            ),
            started_at=self.started_at,
            ended_at=self.ended_at,
            motion_share=self.motion_share,
            people_seen=self.people_seen,
        )
        session.add(row)
        session.flush()
        return int(row.id)

    def to_json(self) -> dict[str, Any]:
        f = self.file
        return {
            "type": "media",
            "file": [f.kind, f.path, f.sha256, f.size_bytes],
            "created_at": _dt(self.created_at),
            "camera_id": self.camera_id,
            "event_id": self.event_id,
            "started_at": _dt(self.started_at),
            "ended_at": _dt(self.ended_at),
            "engine": self.engine,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InsertMedia:
        created = _parse_dt(data["created_at"])
        assert created is not None
        return cls(
            file=MediaFile(*data["file"]),
            created_at=created,
            camera_id=data.get("camera_id"),
            event_id=data.get("event_id"),
            started_at=_parse_dt(data.get("started_at")),
            ended_at=_parse_dt(data.get("ended_at")),
            engine=data.get("engine"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PutSetting(StoreCommand):
    """Insert or replace one row of the settings table."""

    key: str
    value: dict[str, Any] = field(default_factory=dict)
    at: datetime

    def apply(self, session: Session) -> None:
        row = session.get(Setting, self.key)
        if row is None:
            session.add(Setting(key=self.key, value=self.value, updated_at=self.at))
        else:
            row.value, row.updated_at = self.value, self.at


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordAppearance(StoreCommand):
    """How a finished track of a camera looked (see :mod:`engine.vision.appearance`): one
    ``track_appearances`` row, replaced if the track was recorded before (a file analysed
    again, under a new row id). ``snapshot`` is the data-dir relative path of the track's
    best snapshot, linked to its ``media`` row when one exists: the track's
    ``person.left`` event is queued before this command, so its snapshot row is written
    first. ``fractions`` and ``embedding`` are float16 bytes. Journaled with the events it
    follows, so it never overtakes them. Returns the row id."""

    journaled: ClassVar[bool] = True

    camera_id: int
    track_id: int
    first_seen: datetime
    last_seen: datetime
    snapshot: str | None
    upper_colour: str | None
    lower_colour: str | None
    fractions: bytes
    embedding: bytes
    feature_version: int
    crops: int
    height_frac: float | None = None
    foot_y_frac: float | None = None

    def apply(self, session: Session) -> int:
        media_id = (
            session.scalar(select(MediaRow.id).where(MediaRow.path == self.snapshot))
            if self.snapshot
            else None
        )
        # A track recorded again (a file analysed again) replaces its row with a new id,
        # so the search's in-memory index sees the change (it loads ids above the last).
        session.execute(
            delete(TrackAppearance).where(
                TrackAppearance.camera_id == self.camera_id,
                TrackAppearance.track_id == self.track_id,
            )
        )
        row = TrackAppearance(camera_id=self.camera_id, track_id=self.track_id)
        session.add(row)
        row.first_seen, row.last_seen = self.first_seen, self.last_seen
        row.snapshot_media_id = media_id
        row.upper_colour, row.lower_colour = self.upper_colour, self.lower_colour
        row.colour_fractions, row.embedding = self.fractions, self.embedding
        row.feature_version, row.crops = self.feature_version, self.crops
        row.height_frac, row.foot_y_frac = self.height_frac, self.foot_y_frac
        session.flush()
        return int(row.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "appearance",
            "camera_id": self.camera_id,
            "track_id": self.track_id,
            "first_seen": _dt(self.first_seen),
            "last_seen": _dt(self.last_seen),
            "snapshot": self.snapshot,
            "upper_colour": self.upper_colour,
            "lower_colour": self.lower_colour,
            "fractions": self.fractions.hex(),
            "embedding": self.embedding.hex(),
            "feature_version": self.feature_version,
            "crops": self.crops,
            "height_frac": self.height_frac,
            "foot_y_frac": self.foot_y_frac,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordAppearance:
        first, last = _parse_dt(data["first_seen"]), _parse_dt(data["last_seen"])
        assert first is not None and last is not None
        return cls(
            camera_id=int(data["camera_id"]),
            track_id=int(data["track_id"]),
            first_seen=first,
            last_seen=last,
            snapshot=data.get("snapshot"),
            upper_colour=data.get("upper_colour"),
            lower_colour=data.get("lower_colour"),
            fractions=bytes.fromhex(data["fractions"]),
            embedding=bytes.fromhex(data["embedding"]),
            feature_version=int(data["feature_version"]),
            crops=int(data["crops"]),
            height_frac=data.get("height_frac"),
            foot_y_frac=data.get("foot_y_frac"),
        )


def command_from_json(data: dict[str, Any]) -> StoreCommand:
    """A journaled command read back from its JSON form."""
    kind = data.get("type")
    if kind == "event":
        return InsertEvent.from_json(data)
    if kind == "media":
        return InsertMedia.from_json(data)
    if kind == "appearance":
        return RecordAppearance.from_json(data)
    raise ValueError(f"unknown journal entry type {kind!r}")


def _person_id(session: Session, public_id: str) -> int | None:
    """``persons.id`` of a public id, or None if that person is gone (erased meanwhile)."""
    return session.scalar(select(Person.id).where(Person.public_id == public_id))
