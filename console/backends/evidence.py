"""What the bookmarks pane and the export dialog may do, bound to the engine: add and remove
bookmarks, lock and unlock evidence, and export a range, as the person signed in.

Every method blocks (the store writer, the disk) and runs on the query service's workers
(through :class:`console.queries.QtQueryClient`), never on the GUI thread. The engine
checks each permission and audits each change; an export is the engine's one export use
case (:class:`engine.history.export_case.EvidenceDesk`), the same the CLI runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.access import Actor
from engine.clock import Clock
from engine.history.bookmarks import AddBookmark, BookmarkView, RemoveBookmark
from engine.history.export_case import EvidenceDesk, ExportRequest
from engine.history.locks import LockEvidence, LockView, UnlockEvidence
from engine.sensing.service import RoomSpec
from engine.sitetime import SiteTime
from engine.store.database import Store
from engine.store.writer import StoreWriter
from widgets.bookmarks.api import NewBookmark
from widgets.evidence_export.api import ExportOutcome, ExportSpec

ActorOf = Callable[[str], Actor]
"""Who is signed in, for doing ``action`` (raises when nobody is)."""


class EvidenceBackend:
    """Satisfies :class:`widgets.bookmarks.api.BookmarkActions` and
    :class:`widgets.evidence_export.api.EvidenceActions`; every method runs on a query worker.
    ``site_time``: the open site's zone, the clock an export's report.html is written on."""

    def __init__(
        self,
        store: Store,
        writer: StoreWriter,
        clock: Clock,
        actor_of: ActorOf,
        *,
        media_root: Path,
        key_dir: Path,
        site_time: SiteTime,
        place_names: Mapping[str, str] | None = None,
        fetch: Callable[[Path], Path] | None = None,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._actor_of = actor_of
        self._desk = EvidenceDesk(
            store, writer, clock, media_root, key_dir, site_time, dict(place_names or {}), fetch
        )

    def add_bookmark(self, bookmark: NewBookmark) -> BookmarkView:
        actor = self._actor_of("add a bookmark")
        view: BookmarkView = self._writer.execute(
            AddBookmark(
                title=bookmark.title,
                note=bookmark.note,
                marked_at=bookmark.marked_at,
                pre_s=bookmark.pre_s,
                post_s=bookmark.post_s,
                camera=bookmark.camera,
                room=bookmark.room,
                at=self._clock.now(),
                actor=actor,
            )
        )
        return view

    def remove_bookmark(self, bookmark_id: int) -> BookmarkView:
        actor = self._actor_of("remove a bookmark")
        view: BookmarkView = self._writer.execute(
            RemoveBookmark(bookmark_id=bookmark_id, at=self._clock.now(), actor=actor)
        )
        return view

    def lock_bookmark(self, bookmark_id: int, reason: str) -> LockView:
        actor = self._actor_of("lock evidence")
        view: LockView = self._writer.execute(
            LockEvidence(reason=reason, bookmark_id=bookmark_id, at=self._clock.now(), actor=actor)
        )
        return view

    def unlock(self, lock_id: int, reason: str) -> LockView:
        actor = self._actor_of("unlock evidence")
        view: LockView = self._writer.execute(
            UnlockEvidence(lock_id=lock_id, reason=reason, at=self._clock.now(), actor=actor)
        )
        return view

    def export(
        self, spec: ExportSpec, progress: Callable[[int, int], None], cancel: threading.Event
    ) -> ExportOutcome:
        """Export ``spec`` as the person signed in: the engine's one export use case (both
        permissions checked, and a refusal audited, before a byte is written; the export
        recorded in the audit trail; then locked when asked)."""
        actor = self._actor_of("export evidence")
        request = ExportRequest(
            start=spec.start,
            end=spec.end,
            cameras=spec.cameras,
            rooms=spec.rooms,
            folder=spec.folder,
            lock_reason=spec.lock_reason,
        )
        exported = self._desk.export(
            actor, request, via="console", progress=progress, cancel=cancel
        )
        return ExportOutcome(exported.result, exported.lock.id if exported.lock else None)


@dataclass(frozen=True, slots=True)
class TimelineBackend:
    """Satisfies :class:`widgets.timeline.api.TimelineSources`."""

    evidence: EvidenceBackend
    room: RoomSpec | None
    sensing_directory: Path | None
    clock: Clock
    # Every room running here → (its spec, where its sensing is recorded), the first the one
    # above.
    rooms: Mapping[str, tuple[RoomSpec, Path]] = field(default_factory=dict)

    def sensing_room(self, room_id: str) -> tuple[RoomSpec, Path] | None:
        return self.rooms.get(room_id)
