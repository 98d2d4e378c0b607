"""Which stored rows meaning search covers, and the words each one is searched by.

Three kinds, each a table and its key (never text to match):

- ``incident``: an incident report (``incident_reports.id``), by its text as filed. Hits
  name the incident the report belongs to now.
- ``bookmark``: a bookmark (``bookmarks.id``), by its title and note.
- ``event``: a stored event (``events.id``) of the kinds a person reads as a story
  (:data:`EVENT_KINDS`: falls, gestures, names heard, outages…), by its title and summary
  as :func:`engine.wording.describe` words them. The per-track rows (a person appeared or
  left, a blob moved) are not indexed: there are millions and their words say nothing a
  list filter does not.

Everything here runs in the caller's session (the indexer's or a query worker's thread).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from engine.store.history_models import Bookmark
from engine.store.incident_models import IncidentReport
from engine.store.models import Camera
from engine.store.models import Event as EventRow
from engine.store.person_models import Person
from engine.store.text_vector_models import TEXT_KINDS, TextVector
from engine.wording import describe

TextKind = Literal["incident", "bookmark", "event"]
KINDS: Final[tuple[TextKind, ...]] = ("incident", "bookmark", "event")
assert KINDS == TEXT_KINDS

EVENT_KINDS: Final = (
    "sensing.fall_detected",
    "gesture.detected",
    "speech.name_heard",
    "person.named",
    "activity.began",
    "recording.failed",
    "camera.offline",
    "sensing.node_offline",
    "sensing.link_degraded",
)
"""Event kinds whose summaries are searched by meaning."""


@dataclass(frozen=True, slots=True)
class SearchableText:
    """One row as meaning search sees it: ``kind``, the row's id in its table (``row_id``:
    a report, bookmark or event id), when it happened (``at``, UTC) and its ``text``."""

    kind: TextKind
    row_id: int
    at: datetime
    text: str


def _key_column(kind: TextKind) -> Any:
    if kind == "incident":
        return TextVector.incident_report_id
    if kind == "bookmark":
        return TextVector.bookmark_id
    return TextVector.event_id


def _rows(kind: TextKind) -> Any:
    """The select of ``kind``'s rows: id, time, then what words them."""
    if kind == "incident":
        return select(IncidentReport.id, IncidentReport.at, IncidentReport.text)
    if kind == "bookmark":
        return select(Bookmark.id, Bookmark.marked_at, Bookmark.title, Bookmark.note)
    return (
        select(
            EventRow.id,
            EventRow.ts,
            EventRow.kind,
            EventRow.source,
            EventRow.detail,
            func.coalesce(Person.name, Person.public_id),
        )
        .outerjoin(Person, Person.id == EventRow.person_id)
        .where(EventRow.kind.in_(EVENT_KINDS))
    )


def _id_column(kind: TextKind) -> Any:
    return {"incident": IncidentReport.id, "bookmark": Bookmark.id, "event": EventRow.id}[kind]


def camera_names(session: Session) -> dict[str, str]:
    """Camera keys to their names, for wording events."""
    return {str(key): str(name) for key, name in session.execute(select(Camera.key, Camera.name))}


def _text(kind: TextKind, row: Any, names: Mapping[str, str]) -> SearchableText:
    if kind == "incident":
        return SearchableText(kind, int(row[0]), row[1], str(row[2]))
    if kind == "bookmark":
        note = str(row[3] or "").strip()
        return SearchableText(kind, int(row[0]), row[1], f"{row[2]}. {note}" if note else row[2])
    words = describe(row[2], row[3], row[4], names=names, person=row[5])
    place = f" ({words.place})" if words.place and words.place not in words.summary else ""
    return SearchableText(kind, int(row[0]), row[1], f"{words.title}: {words.summary}{place}")


def unindexed(
    session: Session, kind: TextKind, *, after_id: int, limit: int, names: Mapping[str, str]
) -> list[SearchableText]:
    """Up to ``limit`` rows of ``kind`` with an id above ``after_id`` that have no vector
    yet, oldest id first."""
    ids = _id_column(kind)
    query = (
        _rows(kind)
        .where(ids > after_id, ~exists().where(_key_column(kind) == ids))
        .order_by(ids)
        .limit(limit)
    )
    return [_text(kind, row, names) for row in session.execute(query)]


def count_unindexed(session: Session, kind: TextKind, *, after_id: int = 0) -> int:
    """How many rows of ``kind`` with an id above ``after_id`` have no vector yet (for the
    backfill's progress)."""
    ids = _id_column(kind)
    query = _rows(kind).where(ids > after_id, ~exists().where(_key_column(kind) == ids)).subquery()
    return int(session.scalar(select(func.count()).select_from(query)) or 0)


def indexed(
    session: Session, kind: TextKind, model: str, names: Mapping[str, str], chunk: int = 5000
) -> Iterator[tuple[SearchableText, bytes]]:
    """Every row of ``kind`` that has a vector from ``model``, with the vector's bytes."""
    ids = _id_column(kind)
    query = (
        _rows(kind)
        .add_columns(TextVector.vector)
        .join(TextVector, _key_column(kind) == ids)
        .where(TextVector.model == model)
        .execution_options(yield_per=chunk)
    )
    for row in session.execute(query):
        yield _text(kind, row[:-1], names), bytes(row[-1])


def texts_of(
    session: Session, kind: TextKind, row_ids: Sequence[int], names: Mapping[str, str]
) -> dict[int, SearchableText]:
    """The rows ``row_ids`` of ``kind`` that still exist, by id (words as now stored)."""
    if not row_ids:
        return {}
    query = _rows(kind).where(_id_column(kind).in_(list(row_ids)))
    return {int(row[0]): _text(kind, row, names) for row in session.execute(query)}


def incident_of_reports(session: Session, report_ids: Sequence[int]) -> dict[int, int]:
    """Report id → the id of the incident it belongs to now."""
    if not report_ids:
        return {}
    query = select(IncidentReport.id, IncidentReport.incident_id).where(
        IncidentReport.id.in_(list(report_ids))
    )
    return {int(r): int(i) for r, i in session.execute(query)}
