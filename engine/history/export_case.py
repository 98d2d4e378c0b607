"""Exporting evidence as a person: one use case for the console's export dialog and the
``watchfloor export`` command, so the two cannot drift apart.

The steps, in order: the permissions are checked before a byte is written (exporting, and
locking when a lock is asked for), and a refusal is written to the audit trail; the range
is exported (:func:`engine.history.evidence.export_evidence`); the finished export is
recorded in the audit trail; then the exported range is locked against retention. Every
step blocks on the disk or the store writer: call it from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.access import Actor, Permission, PermissionDeniedError
from engine.clock import Clock
from engine.history.evidence import ExportResult, export_evidence, export_record
from engine.history.locks import LockError, LockEvidence, LockView
from engine.sitetime import SiteTime
from engine.store.audit import AppendAudit
from engine.store.database import Store
from engine.store.writer import StoreWriter


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export: ``start``–``end`` (UTC), cameras and rooms (None: all of them) into
    ``folder`` (new or empty); ``lock_reason``: lock the range against retention, and why
    (None: no lock)."""

    start: datetime
    end: datetime
    cameras: tuple[str, ...] | None
    rooms: tuple[str, ...] | None
    folder: Path
    lock_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExportedEvidence:
    """What was written, and the lock made for it (None when none was asked for)."""

    result: ExportResult
    lock: LockView | None


class ExportLockRefusedError(RuntimeError):
    """The export is complete at ``folder`` and recorded, but its lock was refused (the
    message says why)."""

    def __init__(self, folder: Path, message: str) -> None:
        super().__init__(message)
        self.folder = folder


@dataclass(frozen=True, slots=True)
class EvidenceDesk:
    """Where exports are read from and written to: the store, its writer, the clock, the
    media and key folders and the site's zone (report.html is written on its clock)."""

    store: Store
    writer: StoreWriter
    clock: Clock
    media_root: Path
    key_dir: Path
    site_time: SiteTime
    # Camera ids and room ids to their names, for report.html (cameras not named here
    # read as the store names them).
    place_names: Mapping[str, str] = field(default_factory=dict)
    # Attached to a shared site: fetches a file another machine keeps (None: all local).
    fetch: Callable[[Path], Path] | None = None

    def export(
        self,
        actor: Actor,
        request: ExportRequest,
        *,
        via: str,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ExportedEvidence:
        """Export ``request`` as ``actor`` (``via`` names where it was asked, for the audit
        trail: ``console``, ``cli: export --lock``). Raises
        :class:`~engine.access.PermissionDeniedError` (audited, nothing written),
        :class:`~engine.history.evidence.EvidenceError` (nothing left at the folder), or
        :class:`ExportLockRefusedError` (exported and recorded, not locked)."""
        self._require(actor, Permission.EXPORT, "evidence.export", "export evidence", via)
        if request.lock_reason is not None:
            self._require(actor, Permission.LOCK_EVIDENCE, "evidence.lock", "lock evidence", via)
        result = export_evidence(
            self.store,
            start=request.start,
            end=request.end,
            out_dir=request.folder,
            media_root=self.media_root,
            key_dir=self.key_dir,
            exporter=actor.label,
            now=self.clock.now(),
            site_time=self.site_time,
            place_names=self.place_names,
            cameras=request.cameras,
            rooms=request.rooms,
            sensing_root=self.media_root / "sensing",
            progress=progress,
            cancel=cancel,
            fetch=self.fetch,
        )
        self.writer.execute(
            export_record(
                result,
                start=request.start,
                end=request.end,
                cameras=request.cameras,
                rooms=request.rooms,
                at=self.clock.now(),
                actor=actor,
            )
        )
        if request.lock_reason is None:
            return ExportedEvidence(result, None)
        try:
            lock: LockView = self.writer.execute(
                LockEvidence(
                    reason=request.lock_reason,
                    start=request.start,
                    end=request.end,
                    cameras=request.cameras,
                    rooms=request.rooms,
                    export_path=str(result.folder.resolve()),
                    at=self.clock.now(),
                    actor=actor,
                )
            )
        except LockError as exc:
            raise ExportLockRefusedError(result.folder, f"the lock was refused: {exc}") from exc
        return ExportedEvidence(result, lock)

    def _require(
        self, actor: Actor, permission: Permission, action: str, doing: str, via: str
    ) -> None:
        """Refuse ``actor`` without ``permission`` before anything is written, and say so
        in the audit trail (as the store writer does for the commands it refuses)."""
        if actor.may(permission):
            return
        self.writer.execute(
            AppendAudit(
                at=self.clock.now(),
                actor=actor,
                action=action,
                outcome="denied",
                detail={"needs": str(permission), "via": via},
            )
        )
        raise PermissionDeniedError(actor, permission, doing)
