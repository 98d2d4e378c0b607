"""Reading people's paths across senses back from the history.

The fusion service files a ``person.path`` event when a person who crossed senses or places
(a camera track and a blob, two rooms, a device carried) is out of every sense: its detail
holds the person's name and where it came from, and the stretches of their path, each a sense
(``camera``, ``sensing``, ``ble``), its place or device and the first and last time. This
module reads them for the timeline, the people register and Ask: :class:`PathsRequest` runs
on a query worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from engine.sitetime import SiteTime
from engine.store.database import Store
from engine.store.event_views import event_view_of_row, event_view_select
from engine.store.models import Event
from engine.store.person_models import Person
from engine.wording import path_text

PATH_KIND: Final = "person.path"
MAX_PATHS: Final = 500
_FILED_AFTER: Final = timedelta(seconds=30)  # a path is filed a handover's time after its end


@dataclass(frozen=True, slots=True)
class Stretch:
    """One stretch of a path: the sense (``camera``, ``sensing`` or ``ble``), its place's key
    (camera id, room id) or the device's address, its name for people, the camera track or
    blob id (None for a device) and when (UTC)."""

    sense: str
    source: str
    label: str
    member_id: int | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class PersonPath:
    """One person's finished path across senses: the event's id and time, the person's name
    (None: nobody known) and what named them (``face``, ``introduced``, ``ble``), their
    public id when they are someone in the face memory or a registered device's owner, the
    stretches in time order, and the sentence people read (times in the site's zone)."""

    event_id: int
    ts: datetime
    name: str | None
    named_by: str | None
    person_public_id: str | None
    stretches: tuple[Stretch, ...]
    text: str

    @property
    def start(self) -> datetime:
        return min((s.start for s in self.stretches), default=self.ts)

    @property
    def end(self) -> datetime:
        return max((s.end for s in self.stretches), default=self.ts)

    @property
    def label(self) -> str:
        return self.name or self.person_public_id or "Someone unknown"

    @property
    def named(self) -> bool:
        """Whether someone gave this person a name: a face memory's automatic id
        (``Person_…``) or no one at all is no name."""
        return self.name is not None and self.name != self.person_public_id


@dataclass(frozen=True, slots=True)
class PathsRequest:
    """The paths that overlap ``after`` … ``before`` (UTC; None: open), newest first, at most
    ``limit``; ``person``: only theirs, by public id or name (case-insensitive, whole);
    ``unnamed``: only those of people nobody has named (:attr:`PersonPath.named`)."""

    site_time: SiteTime
    after: datetime | None = None
    before: datetime | None = None
    person: str | None = None
    limit: int = 100
    unnamed: bool = False

    def run(self, store: Store) -> list[PersonPath]:
        return query_paths(
            store,
            self.site_time,
            after=self.after,
            before=self.before,
            person=self.person,
            limit=self.limit,
            unnamed=self.unnamed,
        )


def query_paths(
    store: Store,
    site_time: SiteTime,
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    person: str | None = None,
    person_public_id: str | None = None,
    limit: int = 100,
    unnamed: bool = False,
) -> list[PersonPath]:
    """See :class:`PathsRequest`. A path is filed when it ends, so one that began before
    ``after`` is found by its end; the search reaches back no further than the paths it
    reads (at most :data:`MAX_PATHS`). ``person_public_id``: only the paths of the person
    with that public id, chosen in the query (so all of theirs are reached, not only
    those among the newest paths)."""
    stmt = event_view_select().where(Event.kind == PATH_KIND)
    if person_public_id is not None:
        stmt = stmt.where(Person.public_id == person_public_id)
    if after is not None:
        stmt = stmt.where(Event.ts >= after)
    if before is not None:
        # Filed at its end, which may be a little after the range: allow the handover time.
        stmt = stmt.where(Event.ts < before + _FILED_AFTER)
    stmt = stmt.order_by(Event.ts.desc(), Event.id.desc()).limit(MAX_PATHS)
    wanted = person.strip().casefold() if person else None
    found: list[PersonPath] = []
    with store.sessions() as session:
        rows = session.execute(stmt).all()
    for row in rows:
        view = event_view_of_row(row)
        path = _path_of(
            view.id, view.ts, view.detail, view.person, view.person_public_id, site_time
        )
        if before is not None and path.start >= before:
            continue
        if wanted is not None and wanted not in {
            (path.name or "").casefold(),
            (path.person_public_id or "").casefold(),
            (view.person or "").casefold(),
        }:
            continue
        if unnamed and path.named:
            continue
        found.append(path)
        if len(found) >= limit:
            break
    return found


def stretches_of(detail: Mapping[str, Any]) -> tuple[Stretch, ...]:
    """The stretches of a ``person.path`` event's detail, in time order (a device after a
    place that starts with it); segments that cannot be read are left out."""
    stretches = []
    raw = detail.get("segments")
    for seg in raw if isinstance(raw, Sequence) and not isinstance(raw, str) else ():
        if not isinstance(seg, Mapping):
            continue
        try:
            start = datetime.fromisoformat(str(seg.get("from")))
            end = datetime.fromisoformat(str(seg.get("to")))
        except ValueError:
            continue
        ident = seg.get("id")
        stretches.append(
            Stretch(
                sense=str(seg.get("sense") or ""),
                source=str(seg.get("source") or ""),
                label=str(seg.get("label") or seg.get("source") or ""),
                member_id=ident if isinstance(ident, int) and not isinstance(ident, bool) else None,
                start=start,
                end=end,
            )
        )
    stretches.sort(key=lambda s: (s.start, s.sense == "ble"))
    return tuple(stretches)


def _path_of(
    event_id: int,
    ts: datetime,
    detail: Mapping[str, Any],
    person: str | None,
    public_id: str | None,
    site_time: SiteTime,
) -> PersonPath:
    name = detail.get("name")
    named_by = detail.get("named_by")
    return PersonPath(
        event_id=event_id,
        ts=ts,
        name=person or (str(name) if name else None),
        named_by=str(named_by) if named_by else None,
        person_public_id=public_id,
        stretches=stretches_of(detail),
        text=path_text(detail.get("segments"), site_time),
    )


def path_sentence(path: PersonPath) -> str:
    """ "Ada: seen by Plaza east 14:02–14:04, sensed in Lobby 14:04–14:09, …"."""
    return f"{path.label}: {path.text}" if path.text else path.label
