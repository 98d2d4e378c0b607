"""Retention: age and disk-pressure purges that never touch locked evidence, and the
thread that runs them with the orphan sweep.

Run by the engine's ``retention`` thread (:class:`RetentionService`: at start and hourly)
and on demand (``watchfloor retention run``), the same code both ways. Every deletion is a
command to the store writer: one command per purge batch deletes the rows (recording each
media deletion as a ``retention.*`` event) and returns the files' paths, and the files are
unlinked only after that command has committed. A crash can therefore leave an orphan file
(swept by :func:`engine.record.sweep.sweep_media`), never a row that points at nothing.
Retention's own audit rows are purged by age like every other event. The audit trail's
hash chain is pruned too, of entries older than ``audit.keep_days`` (at least a year; see
:class:`~engine.store.audit.PruneAudit`), and stays verifiable.

Continuous-recording segments are kept by their camera's tiers (all footage, motion,
events; :mod:`engine.record.retention_tiers`) from the site file's ``[recording]``, and
disk pressure deletes the oldest unlocked footage first, clips and segments alike.

The policy is validated and bounded (days 1..3650): a bad value given by an admin is
refused with an error naming the setting, and a bad value already stored makes that setting
fall back to its default with a logged problem, so disk-pressure relief keeps working.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, Permission, PermissionDeniedError
from engine.clock import Clock
from engine.data_dirs import private_dir
from engine.history.locks import recording_is_locked
from engine.media import FOOTAGE_KINDS, SEGMENT_KIND, is_view_path, remove_clip_tracks
from engine.record.retention_tiers import (
    PURGE_BATCH,
    PurgedFile,
    PurgeSegments,
    SegmentPolicies,
    cameras_with_segments,
    delete_media_rows,
    media_kept_by,
)
from engine.record.sweep import SweepReport, sweep_media
from engine.recording_settings import read_stored_tiers
from engine.sensing.recording.recorder import KEPT_DIR, kept_segments
from engine.settings import SETTINGS, read_settings
from engine.store.appearance_models import TrackAppearance
from engine.store.audit import (
    PRUNE_BATCH,
    AppendAudit,
    AuditChainBrokenError,
    PruneAudit,
    to_us,
)
from engine.store.audit_models import AuditEntry, AuditHead
from engine.store.commands import InsertEvent, StoreCommand
from engine.store.database import Store
from engine.store.evidence_locks import event_covered_by_active_lock
from engine.store.models import Event, Media, Setting
from engine.store.person_models import Person
from engine.store.writer import StoreUnavailableError, StoreWriter
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

GIB = 1024**3
SETTINGS_KEY = "retention"
AUDIT_KEEP_DAYS_KEY = "audit.keep_days"
COMMAND_TIMEOUT_S = 300.0  # a purge batch waits this long for the writer (seconds)
RETENTION_INTERVAL_S = 3600.0  # the retention thread runs at start and hourly
THREAD_NAME = "retention"


class RetentionSettingError(ValueError):
    """A retention setting is unknown or out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long things are kept (days, 1..3650) and the free-space floor for the data dir
    (bytes, 0..1 PiB). Constructing one with a value out of range raises
    :class:`RetentionSettingError`."""

    clips_days: int = 30
    events_days: int = 365  # snapshots go with their events
    person_archive_days: int = 182  # unseen this long: archived (hidden, still recognised)
    person_delete_days: int = 730  # archived this long: person and face data deleted
    min_free_bytes: int = 2 * GIB

    # One source of bounds for the CLI, the console and retention: engine.settings.
    BOUNDS: ClassVar[dict[str, tuple[int, int, str]]] = {
        spec.field: (spec.minimum, spec.maximum, spec.unit)
        for spec in SETTINGS
        if spec.row == SETTINGS_KEY
    }

    def __post_init__(self) -> None:
        for f in fields(self):
            validate_setting(f.name, getattr(self, f.name))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> RetentionPolicy:
        """The default policy with ``values`` applied; raises :class:`RetentionSettingError`
        naming the first unknown or out-of-range setting. For admins setting values."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise RetentionSettingError(
                f"unknown retention settings: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(f.name for f in fields(cls))})"
            )
        return cls(**{name: validate_setting(name, value) for name, value in values.items()})

    @classmethod
    def from_settings(cls, store: Store) -> RetentionPolicy:
        """The policy with the overrides saved in the settings table (key ``retention``);
        raises :class:`RetentionSettingError` if a stored value is bad (see
        :func:`load_policy` for the forgiving variant retention itself uses)."""
        return cls.from_values(_stored_overrides(store))


def validate_setting(name: str, value: object) -> int:
    """``value`` as the whole number retention setting ``name`` needs, or
    :class:`RetentionSettingError` saying which setting is wrong and what is allowed."""
    bounds = RetentionPolicy.BOUNDS.get(name)
    if bounds is None:
        raise RetentionSettingError(f"unknown retention setting: {name}")
    low, high, unit = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RetentionSettingError(
            f"retention setting {name} must be a whole number of {unit} from {low} to "
            f"{high}, got {value!r}"
        )
    return value


def load_policy(store: Store) -> tuple[RetentionPolicy, list[str]]:
    """The stored policy, forgiving: each unknown or bad stored value is ignored (its
    setting keeps the default) and described in the returned problems, which are logged.
    Never raises for bad settings, so a typo cannot stop disk-pressure relief."""
    try:
        overrides = _stored_overrides(store)
    except RetentionSettingError as exc:
        log.error("retention settings ignored: %s", exc)
        return RetentionPolicy(), [f"retention settings ignored: {exc}"]
    good: dict[str, int] = {}
    problems: list[str] = []
    for name, value in overrides.items():
        try:
            good[name] = validate_setting(name, value)
        except RetentionSettingError as exc:
            problems.append(f"{exc}; using the default")
    for problem in problems:
        log.error("%s", problem)
    return RetentionPolicy(**good), problems


def load_audit_keep_days(store: Store) -> tuple[int, list[str]]:
    """How long audit entries are kept (``audit.keep_days``, days) and, if the stored value
    is bad and the default is used instead, the problem (logged). Never raises for a bad
    setting, like :func:`load_policy`."""
    (setting,) = (v for v in read_settings(store) if v.spec.key == AUDIT_KEEP_DAYS_KEY)
    if setting.problem is None:
        return setting.value, []
    log.error("%s", setting.problem)
    return setting.value, [setting.problem]


def _stored_overrides(store: Store) -> dict[str, Any]:
    with store.sessions() as session:
        row = session.get(Setting, SETTINGS_KEY)
    value = row.value if row is not None else {}
    if not isinstance(value, dict):
        raise RetentionSettingError(
            f"the stored {SETTINGS_KEY!r} setting must be a JSON object, got {value!r}"
        )
    return value


@dataclass(slots=True)
class RetentionReport:
    """What one retention run did. Sizes in bytes; paths relative to the data dir."""

    clips_deleted: int = 0
    snapshots_deleted: int = 0
    events_deleted: int = 0
    persons_archived: int = 0
    persons_deleted: int = 0
    audit_entries_pruned: int = 0
    pressure_clips_deleted: int = 0
    segments_deleted: int = 0
    """Continuous-recording segments no tier of their camera's policy keeps any more."""
    pressure_segments_deleted: int = 0
    bytes_freed: int = 0
    locked_kept: int = 0
    recordings_released: int = 0
    """Sensing-recording segments deleted from ``kept/`` because no lock covers them now."""
    free_bytes_after: int = 0
    floor_reached: bool = True
    deleted_paths: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DiskFree = Callable[[Path], int]


def disk_free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


# -- commands (applied by the store writer) -------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeMedia(StoreCommand):
    """Delete up to ``limit`` of the oldest unlocked media rows of ``kind`` created before
    ``cutoff``, each recorded as a ``retention.<kind>_deleted`` event. Returns what went.
    ``engine``: a shared site's engine purges only the files its own data dir keeps."""

    kind: str
    cutoff: datetime
    reason: str
    at: datetime
    limit: int = PURGE_BATCH
    engine: str | None = None

    def apply(self, session: Session) -> list[PurgedFile]:
        rows = session.scalars(
            select(Media)
            .where(
                Media.kind == self.kind,
                Media.created_at < self.cutoff,
                Media.locked.is_(False),
                *media_kept_by(self.engine),
            )
            .order_by(Media.created_at, Media.id)
            .limit(self.limit)
        ).all()
        return delete_media_rows(session, list(rows), self.reason, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeForSpace(StoreCommand):
    """Delete the oldest unlocked footage, clips and continuous-recording segments alike
    (oldest ``created_at`` first, whatever their tier), until their sizes add up to
    ``bytes_needed`` (at most ``limit`` of them), recorded as ``retention.clip_deleted``
    (segments: ``retention.segments_deleted``) for disk pressure. Returns
    what went; empty when no unlocked footage is left. ``engine``: a shared site's engine
    frees space on its own disk, so it deletes only the footage its data dir keeps (another
    server's files free nothing here)."""

    bytes_needed: int
    at: datetime
    limit: int = PURGE_BATCH
    engine: str | None = None

    def apply(self, session: Session) -> list[PurgedFile]:
        candidates = session.scalars(
            select(Media)
            .where(
                Media.kind.in_(FOOTAGE_KINDS),
                Media.locked.is_(False),
                *media_kept_by(self.engine),
            )
            .order_by(Media.created_at, Media.id)
            .limit(self.limit)
        )
        chosen: list[Media] = []
        total = 0
        for media in candidates:
            chosen.append(media)
            total += max(media.size_bytes, 0)
            if total >= self.bytes_needed:
                break
        return delete_media_rows(session, chosen, "disk pressure", self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeEvents(StoreCommand):
    """Delete up to ``limit`` events older than ``cutoff`` that no media refers to and no
    active evidence lock covers (retention's and the sweep's own records included).
    Returns how many went."""

    cutoff: datetime
    limit: int = PURGE_BATCH

    def apply(self, session: Session) -> int:
        any_media = exists().where(Media.event_id == Event.id)
        doomed = (
            select(Event.id)
            .where(Event.ts < self.cutoff, ~any_media, ~event_covered_by_active_lock(Event))
            .order_by(Event.id)
            .limit(self.limit)
            .scalar_subquery()
        )
        result = session.execute(
            delete(Event).where(Event.id.in_(doomed)).execution_options(synchronize_session=False)
        )
        # How tracks of that age looked (appearance search) is kept no longer than events.
        session.execute(delete(TrackAppearance).where(TrackAppearance.last_seen < self.cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgePersons(StoreCommand):
    """Archive people unseen since ``archive_before``; delete people archived before
    ``delete_before`` (their face embeddings go with them), each recorded as
    ``retention.person_deleted``. Returns (archived, deleted)."""

    now: datetime
    archive_before: datetime
    delete_before: datetime

    def apply(self, session: Session) -> tuple[int, int]:
        archived = session.execute(
            update(Person)
            .where(
                Person.archived_at.is_(None),
                Person.last_seen.is_not(None),
                Person.last_seen < self.archive_before,
            )
            .values(archived_at=self.now)
            .execution_options(synchronize_session=False)
        )
        doomed = session.scalars(
            select(Person).where(
                Person.archived_at.is_not(None), Person.archived_at < self.delete_before
            )
        ).all()
        for person in doomed:
            session.add(
                Event(
                    ts=self.now,
                    kind="retention.person_deleted",
                    source="retention",
                    detail={
                        "person_id": person.public_id,
                        "archived_at": person.archived_at.isoformat()
                        if person.archived_at
                        else None,
                    },
                )
            )
            session.delete(person)
        return int(archived.rowcount or 0), len(doomed)  # type: ignore[attr-defined]


# -- one run ------------------------------------------------------------------------------
def run_retention(
    store: Store,
    clock: Clock,
    data_dir: Path,
    policy: RetentionPolicy,
    *,
    writer: StoreWriter | None = None,
    disk_free: DiskFree = disk_free_bytes,
    cancel: threading.Event | None = None,
    audit_keep_days: int | None = None,
    segments: SegmentPolicies | None = None,
) -> RetentionReport:
    """Apply ``policy`` now: purge by age, age people, delete the oldest unlocked footage
    (clips and segments) while the data dir has less than ``min_free_bytes`` free, then
    prune audit entries older than ``audit_keep_days`` (days; None: the ``audit.keep_days``
    setting). Continuous-recording segments are purged by their camera's tiers in
    ``segments`` (see :mod:`engine.record.retention_tiers`); None: no recording policy is
    known, so segments go only for disk pressure. Reads
    through ``store``; deletions go through ``writer`` (a short-lived one if None). Blocks
    on the writer: call it on a worker thread (the retention thread, a CLI command). Safe
    while the engine records. ``cancel`` (set by the engine's stop) ends the run between
    batches. An audit chain that does not verify is not pruned (a problem in the report).
    Raises :class:`~engine.store.writer.StoreUnavailableError` if the store cannot be
    written at all."""
    if writer is None:
        with StoreWriter.running(store, clock=clock) as own_writer:
            return run_retention(
                store,
                clock,
                data_dir,
                policy,
                writer=own_writer,
                disk_free=disk_free,
                cancel=cancel,
                audit_keep_days=audit_keep_days,
                segments=segments,
            )

    def cancelled() -> bool:
        return cancel is not None and cancel.is_set()

    report = RetentionReport()
    now = clock.now()
    for kind, days in (("clip", policy.clips_days), ("snapshot", policy.events_days)):
        cutoff = now - timedelta(days=days)
        while True:
            command = PurgeMedia(
                kind=kind, cutoff=cutoff, reason="age", at=now, engine=writer.engine_name
            )
            batch = _purge(writer, data_dir, command, "age", report)
            if len(batch) < PURGE_BATCH or cancelled():
                break
    if segments is not None and not cancelled():
        _purge_segments(store, writer, data_dir, segments, now, report, cancelled)
    events_cutoff = now - timedelta(days=policy.events_days)
    while True:
        deleted = int(writer.execute(PurgeEvents(cutoff=events_cutoff), COMMAND_TIMEOUT_S))
        report.events_deleted += deleted
        if deleted < PURGE_BATCH or cancelled():
            break
    if report.events_deleted:
        log.info("retention: deleted %d events older than %s", report.events_deleted, events_cutoff)
    archived, deleted_people = writer.execute(
        AgePersons(
            now=now,
            archive_before=now - timedelta(days=policy.person_archive_days),
            delete_before=now - timedelta(days=policy.person_delete_days),
        ),
        COMMAND_TIMEOUT_S,
    )
    report.persons_archived, report.persons_deleted = int(archived), int(deleted_people)
    if archived or deleted_people:
        log.info("retention: archived %d people, deleted %d", archived, deleted_people)
    private_dir(data_dir)
    if not cancelled():
        _release_kept_recordings(store, data_dir, report)
    if not cancelled():
        _relieve_disk_pressure(writer, clock, data_dir, policy, report, disk_free, cancelled)
    # After disk-pressure relief, so nothing about the audit trail can delay freeing space.
    if audit_keep_days is None:
        audit_keep_days, audit_problems = load_audit_keep_days(store)
        report.problems += audit_problems
    if not cancelled():
        _prune_audit(store, writer, now, audit_keep_days, report, cancelled)
    with store.sessions() as session:
        report.locked_kept = int(
            session.scalar(select(func.count()).select_from(Media).where(Media.locked)) or 0
        )
    report.free_bytes_after = disk_free(data_dir)
    return report


def _purge(
    writer: StoreWriter,
    data_dir: Path,
    command: StoreCommand,
    reason: str,
    report: RetentionReport,
) -> list[PurgedFile]:
    """Run one purge command, then (committed) unlink its files and count them."""
    purged: list[PurgedFile] = writer.execute(command, COMMAND_TIMEOUT_S)
    for item in purged:
        file = data_dir / item.path
        size = item.size_bytes
        try:
            file.unlink()
        except FileNotFoundError:
            if not is_view_path(item.path):  # a view's file is cut only when played
                log.warning("retention: %s was already gone", file)
            size = 0
        except OSError as exc:  # the row is gone: the file is an orphan for the sweep
            log.error("retention: cannot remove %s: %s", file, exc)
            size = 0
        if item.kind == "clip":
            try:  # where its people were goes with it
                remove_clip_tracks(data_dir, item.path)
            except OSError as exc:
                log.error("retention: cannot remove the boxes of %s: %s", file, exc)
        log.info("retention: deleted %s %s (%s, %d bytes)", item.kind, item.path, reason, size)
        report.bytes_freed += size
        report.deleted_paths.append(item.path)
        if item.kind == "clip":
            if reason == "disk pressure":
                report.pressure_clips_deleted += 1
            else:
                report.clips_deleted += 1
        elif item.kind == SEGMENT_KIND:
            if reason == "disk pressure":
                report.pressure_segments_deleted += 1
            else:
                report.segments_deleted += 1
        elif item.kind == "snapshot":
            report.snapshots_deleted += 1
    return purged


def _purge_segments(
    store: Store,
    writer: StoreWriter,
    data_dir: Path,
    segments: SegmentPolicies,
    now: datetime,
    report: RetentionReport,
    cancelled: Callable[[], bool],
) -> None:
    """Purge each camera's segments that its policy's tiers keep no longer, in batches.
    The tiers Administration set are read now, over the site file's, so a change applies
    at the next pass of every engine of the site; a stored tier that is not valid is named
    in the report's problems (the file's is used)."""
    stored = read_stored_tiers(store)
    report.problems.extend(stored.problems)
    segments = segments.with_admin(stored)
    with store.sessions() as session:
        cameras = cameras_with_segments(session, writer.engine_name)
    for camera_id in cameras:
        policy = segments.of(camera_id)
        while not cancelled():
            command = PurgeSegments(
                camera_id=camera_id, policy=policy, now=now, engine=writer.engine_name
            )
            if len(_purge(writer, data_dir, command, "age", report)) < PURGE_BATCH:
                break


def _release_kept_recordings(store: Store, data_dir: Path, report: RetentionReport) -> None:
    """Delete the sensing-recording segments evidence locks had kept (``<data>/sensing/
    <site>/<room>/kept/``) that no active lock covers any more; a segment whose span cannot
    be read is kept (and reported), as is everything when the store cannot say."""
    for kept_dir in sorted((data_dir / "sensing").glob(f"*/*/{KEPT_DIR}")):
        room = kept_dir.parent.name
        try:
            segments = kept_segments(kept_dir.parent)
        except OSError as exc:
            report.problems.append(f"cannot read {kept_dir}: {exc}")
            continue
        for segment in segments:
            if segment.first_wall_s is None or segment.last_wall_s is None:
                report.problems.append(f"kept sensing recording {segment.path} is unreadable")
                continue
            if recording_is_locked(store, room, segment.first_wall_s, segment.last_wall_s):
                continue
            try:
                segment.path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                report.problems.append(f"cannot remove {segment.path}: {exc}")
                continue
            log.info("retention: released kept sensing recording %s (unlocked)", segment.path)
            report.recordings_released += 1
            report.bytes_freed += segment.size
            report.deleted_paths.append(str(segment.path.relative_to(data_dir)))


def _prune_audit(
    store: Store,
    writer: StoreWriter,
    now: datetime,
    keep_days: int,
    report: RetentionReport,
    cancelled: Callable[[], bool],
) -> None:
    """Prune audit entries older than ``keep_days`` days, in batches. Writes nothing when
    none is old enough (the check is a read), so an hourly run adds no entries."""
    cutoff_us = to_us(now - timedelta(days=keep_days))
    anchor = select(AuditHead.anchor_seq).where(AuditHead.id == 1).scalar_subquery()
    with store.sessions() as session:
        old_enough = session.scalar(
            select(AuditEntry.seq)
            .where(AuditEntry.ts_us < cutoff_us, AuditEntry.seq > anchor)
            .limit(1)
        )
    if old_enough is None:
        return
    while True:
        try:
            pruned = int(writer.execute(PruneAudit(at=now, keep_days=keep_days), COMMAND_TIMEOUT_S))
        except AuditChainBrokenError as exc:  # kept as evidence; verify names the entry
            log.error("retention: %s", exc)
            report.problems.append(str(exc))
            return
        report.audit_entries_pruned += pruned
        if pruned < PRUNE_BATCH or cancelled():
            break
    if report.audit_entries_pruned:
        log.info(
            "retention: pruned %d audit entries older than %d days",
            report.audit_entries_pruned,
            keep_days,
        )


def _relieve_disk_pressure(
    writer: StoreWriter,
    clock: Clock,
    data_dir: Path,
    policy: RetentionPolicy,
    report: RetentionReport,
    disk_free: DiskFree,
    cancelled: Callable[[], bool],
) -> None:
    """Delete the oldest unlocked footage (clips and segments) until the data dir has
    ``min_free_bytes`` free."""
    free = disk_free(data_dir)
    while free < policy.min_free_bytes and not cancelled():
        command = PurgeForSpace(
            bytes_needed=policy.min_free_bytes - free,
            at=clock.now(),
            engine=writer.engine_name,
        )
        if not _purge(writer, data_dir, command, "disk pressure", report):
            report.floor_reached = False
            log.warning(
                "retention: only %d bytes free under %s and no unlocked footage left",
                free,
                data_dir,
            )
            return
        free = disk_free(data_dir)


# -- the retention thread -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MaintenanceRun:
    """One pass of the retention thread: the orphan sweep, then retention (None if it
    failed: see ``problem``). ``problem`` is what the health line should show, if anything."""

    at: datetime
    sweep: SweepReport | None
    retention: RetentionReport | None
    problem: str | None


class RetentionService:
    """Runs the orphan sweep and retention on its own ``retention`` thread, at start and
    every ``interval_s`` seconds of the engine clock, so the watchdog never pauses for them.

    ``on_run(run)`` is called on that thread after each pass (the runtime reloads face
    memory when people were deleted, and shows ``run.problem`` in the store's health).
    ``stop()`` ends the thread; a pass in progress finishes its current command first.
    """

    def __init__(
        self,
        store: Store,
        writer: StoreWriter,
        clock: Clock,
        data_dir: Path,
        *,
        interval_s: float = RETENTION_INTERVAL_S,
        cameras: Mapping[str, int] | None = None,
        segments: SegmentPolicies | None = None,
        disk_free: DiskFree = disk_free_bytes,
        on_run: Callable[[MaintenanceRun], None] | None = None,
    ) -> None:
        self._store = store
        self._writer = writer
        self._clock = clock
        self._data_dir = data_dir
        self._interval_s = interval_s
        self._cameras = dict(cameras or {})
        self._segments = segments
        self._disk_free = disk_free
        self._on_run = on_run
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pass_lock = threading.Lock()  # passes never overlap (thread and run_once)
        self._last: MaintenanceRun | None = None
        self._runs = 0
        self._thread = SupervisedThread(
            self._loop, name=THREAD_NAME, stop=self._stop, clock=self._clock
        )

    def start(self) -> None:
        self._thread.start()

    def update(self, cameras: Mapping[str, int], segments: SegmentPolicies | None) -> None:
        """The site's cameras changed while the engine runs: the next pass uses these."""
        with self._pass_lock:
            self._cameras = dict(cameras)
            self._segments = segments

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to end and wait up to ``timeout_s`` seconds for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    @property
    def last_run(self) -> MaintenanceRun | None:
        with self._lock:
            return self._last

    @property
    def runs(self) -> int:
        """Passes completed so far."""
        with self._lock:
            return self._runs

    def run_once(self, requested_by: Actor | None = None) -> MaintenanceRun:
        """One pass now, on the calling thread, after any pass in progress (for "run
        retention now" in the console: call it from a worker thread, never the GUI thread,
        since it blocks on the store writer; ``requested_by`` as in
        :func:`run_maintenance`). The thread's loop calls it too."""
        with self._pass_lock:
            run = run_maintenance(
                self._store,
                self._writer,
                self._clock,
                self._data_dir,
                cameras=self._cameras,
                segments=self._segments,
                disk_free=self._disk_free,
                cancel=self._stop,
                requested_by=requested_by,
            )
            with self._lock:
                self._last = run
                self._runs += 1
        return run

    def _loop(self) -> None:
        while not self._stop.is_set():
            run = self.run_once()
            if self._on_run is not None:
                try:
                    self._on_run(run)
                except Exception:
                    log.exception("retention report handler failed")
            if self._writer.fatal is not None or self._wait(self._interval_s):
                return

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds`` of the engine clock or until stopped; True if stopped."""
        self._clock.wait(self._stop, seconds)
        return self._stop.is_set()


def run_maintenance(
    store: Store,
    writer: StoreWriter,
    clock: Clock,
    data_dir: Path,
    *,
    cameras: Mapping[str, int] | None = None,
    segments: SegmentPolicies | None = None,
    disk_free: DiskFree = disk_free_bytes,
    cancel: threading.Event | None = None,
    requested_by: Actor | None = None,
) -> MaintenanceRun:
    """The orphan sweep, then retention with the stored policy (bad stored settings fall
    back to defaults and are reported in ``problem``) and the cameras' recording policies
    ``segments`` (see :func:`run_retention`). Never raises for a failure of its
    own: failures are logged and described in the result. ``cancel`` ends the run between
    batches. Blocks on the writer; any worker thread.

    ``requested_by``: the person who asked for this run now (the console's "run now",
    ``watchfloor retention run``), who must hold the settings permission, else
    :class:`~engine.access.PermissionDeniedError` (audited); their run is audited as
    ``retention.run``. The engine's own hourly pass has none."""
    if requested_by is not None:
        try:
            requested_by.require(Permission.CHANGE_SETTINGS, "run retention now")
        except PermissionDeniedError:
            writer.post(
                AppendAudit(
                    at=clock.now(),
                    actor=requested_by,
                    action="retention.run",
                    outcome="denied",
                    detail={"needs": str(Permission.CHANGE_SETTINGS)},
                )
            )
            raise
    at = clock.now()
    sweep: SweepReport | None = None
    problems: list[str] = []
    try:
        sweep = sweep_media(store, writer, clock, data_dir, cameras=cameras)
        problems += sweep.problems
    except StoreUnavailableError as exc:
        log.error("orphan sweep stopped: %s", exc)
        problems.append(f"orphan sweep stopped: {exc}")
    except Exception as exc:
        log.exception("orphan sweep failed")
        problems.append(f"orphan sweep failed: {exc}")
    report: RetentionReport | None = None
    try:
        policy, policy_problems = load_policy(store)
        problems += policy_problems
        report = run_retention(
            store,
            clock,
            data_dir,
            policy,
            writer=writer,
            disk_free=disk_free,
            cancel=cancel,
            segments=segments,
        )
        problems += report.problems  # the audit setting's and the audit prune's
        report.problems = [*policy_problems, *report.problems]
        if not report.floor_reached:
            problems.append("disk almost full and only locked evidence left to delete")
    except StoreUnavailableError as exc:  # the writer has logged why; no traceback
        log.error("retention stopped: %s", exc)
        problems.append(f"retention stopped: {exc}")
    except Exception as exc:
        log.exception("retention failed")
        problems.append(f"retention failed: {exc}")
    if report is not None:  # "last retention run" for the status pane and `status`
        writer.post(
            InsertEvent(
                ts=clock.now(),
                kind="retention.completed",
                source="retention",
                detail={
                    "clips_deleted": report.clips_deleted + report.pressure_clips_deleted,
                    "segments_deleted": (
                        report.segments_deleted + report.pressure_segments_deleted
                    ),
                    "events_deleted": report.events_deleted,
                    "audit_entries_pruned": report.audit_entries_pruned,
                    "bytes_freed": report.bytes_freed,
                    "orphans_swept": (
                        len(sweep.partials_removed)
                        + len(sweep.clips_adopted)
                        + len(sweep.snapshots_removed)
                        if sweep
                        else 0
                    ),
                    "problems": problems,
                },
            )
        )
    if requested_by is not None:
        writer.post(
            AppendAudit(
                at=clock.now(),
                actor=requested_by,
                action="retention.run",
                outcome="ok" if report is not None else "failed",
                detail={
                    "clips_deleted": report.clips_deleted + report.pressure_clips_deleted
                    if report
                    else 0,
                    "events_deleted": report.events_deleted if report else 0,
                    "audit_entries_pruned": report.audit_entries_pruned if report else 0,
                    "problems": problems,
                },
            )
        )
    return MaintenanceRun(at, sweep, report, "; ".join(problems) or None)
