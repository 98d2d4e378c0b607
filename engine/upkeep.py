"""A live engine's upkeep of its data dir: the lock that keeps it to one live engine, the
retention thread (the orphan sweep and retention, at start and hourly) and the audit
trail's checkpoints, its head signed into a file beside the database.

The runtime takes the lock first, starts the threads once the writer is attached, stops
retention before the writer and the checkpoints after it (they anchor its last entries
too), and releases the lock last. An analysis and an attached console have none of it.
"""

from __future__ import annotations

import functools

from engine.clock import Clock
from engine.data_dirs import data_dir
from engine.history.audit_checkpoints import AuditCheckpointer
from engine.instance import EngineLock
from engine.record.retention_tiers import SegmentPolicies
from engine.retention import MaintenanceRun, RetentionService
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.vision.face_worker import FaceWorker


class Upkeep:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.retention: RetentionService | None = None  # its own thread, live engines only
        self.retention_problem: str | None = None  # its last pass's, in the store's health
        # Signs the audit trail's head into a file beside the database (live engines only).
        self.audit_checkpoints: AuditCheckpointer | None = None
        self._lock: EngineLock | None = None  # held while a live engine runs

    def lock(self) -> None:
        """One live engine per data dir (an analysis runs beside it without the lock):
        :class:`~engine.instance.EngineAlreadyRunningError` names the other engine's pid."""
        lock = EngineLock(data_dir())
        lock.acquire()
        self._lock = lock

    def start(
        self,
        store: Store,
        writer: StoreWriter,
        cameras: dict[str, int],
        faces: FaceWorker | None,
        segments: SegmentPolicies | None = None,
    ) -> None:
        """Retention and the audit checkpoints, each on its own thread (``cameras``: the
        site's camera ids to their rows; ``faces``' memory forgets the people retention
        deletes; ``segments``: each camera's recording policy,
        :func:`~engine.record.retention_tiers.segment_policies`, without which segments go
        only for disk pressure)."""
        self.retention = RetentionService(
            store,
            writer,
            self._clock,
            data_dir(),
            cameras=cameras,
            segments=segments,
            on_run=functools.partial(self._ran, faces),
        )
        self.retention.start()
        self.audit_checkpoints = AuditCheckpointer(store, self._clock, key_dir=data_dir())
        self.audit_checkpoints.start()

    def _ran(self, faces: FaceWorker | None, run: MaintenanceRun) -> None:
        """After each pass of the retention thread (on that thread)."""
        if run.retention is not None and run.retention.persons_deleted and faces is not None:
            faces.memory.reload()  # deleted people must not be recognised again
        self.retention_problem = run.problem

    def problems(self) -> tuple[str | None, str | None]:
        """Retention's last problem and the audit checkpoints' (the store's health)."""
        checkpoints = self.audit_checkpoints
        return self.retention_problem, checkpoints.problem if checkpoints is not None else None

    def stop_retention(self) -> None:
        """Before the writer stops: a pass in progress finishes its current command."""
        if self.retention is not None:
            self.retention.stop()

    def release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def stop(self) -> None:
        """After the writer: the checkpoints anchor its last entries too; the lock last."""
        if self.audit_checkpoints is not None:
            self.audit_checkpoints.stop()
        self.release_lock()
