"""Reading the people the face memory knows, for the People pane and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.store.database import Store
from engine.store.models import Media
from engine.store.person_models import FaceEmbedding, Person


@dataclass(frozen=True, slots=True)
class PersonView:
    """One known person as a list shows them. ``snapshot_path`` is relative to the data dir
    (a face picture), or None."""

    public_id: str
    name: str | None
    appearances: int
    first_seen: datetime | None
    last_seen: datetime | None
    snapshot_path: str | None
    archived: bool
    faces_stored: int

    @property
    def label(self) -> str:
        return self.name or self.public_id


def list_people(store: Store, *, include_archived: bool = False) -> list[PersonView]:
    """Everyone known, most recently seen first (enrolled-only people last)."""
    faces = (
        select(FaceEmbedding.person_id, func.count().label("n"))
        .group_by(FaceEmbedding.person_id)
        .subquery()
    )
    stmt = (
        select(Person, Media.path, faces.c.n)
        .outerjoin(Media, Media.id == Person.snapshot_media_id)
        .outerjoin(faces, faces.c.person_id == Person.id)
    )
    if not include_archived:
        stmt = stmt.where(Person.archived_at.is_(None))
    stmt = stmt.order_by(Person.last_seen.desc().nulls_last(), Person.public_id)
    with store.sessions() as session:
        return [
            PersonView(
                public_id=person.public_id,
                name=person.name,
                appearances=person.appearances,
                first_seen=person.first_seen,
                last_seen=person.last_seen,
                snapshot_path=path,
                archived=person.archived_at is not None,
                faces_stored=int(count or 0),
            )
            for person, path, count in session.execute(stmt).all()
        ]
