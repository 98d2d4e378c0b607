"""The orphan sweep: media files on disk that no row accounts for.

Run by the retention thread at engine start and hourly, and by ``watchfloor retention
run``. Under the data dir it finds:

- **temp files** (``*.partial`` under ``clips/`` and ``snapshots/``) whose owning process is
  gone (kill -9, power loss): removed. A temp file of a live process, such as a clip that a
  concurrent ``watchfloor analyze`` is still encoding, is never touched.
- **complete clips without a media row**, older than an hour (a crash between the rename
  and the row, or a store that failed for good): *adopted*, i.e. given their row, with the
  camera from the folder (``clips/<camera_key>/…``), the span from the file name and the
  container's duration, and the file's sha256. Losing evidence is worse than keeping an
  unexpected clip.
- **complete snapshots without a row**, older than an hour (their event was lost): removed.

Complete files are left alone while the store is retrying or any store journal waits to be
replayed, since their rows may still be on the way. Every sweep that found something
records one ``media.swept`` event with counts and paths, through the store writer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.instance import PARTIAL_SUFFIX, partial_owner_alive
from engine.media import MediaFile
from engine.record.files import CLIP_SUFFIX, file_sha256
from engine.record.segment_sweep import sweep_segments
from engine.store.commands import InsertEvent, InsertMedia, StoreCommand
from engine.store.database import Store
from engine.store.models import Camera, Media
from engine.store.writer import JOURNAL_GLOB, StoreUnavailableError, StoreWriter

log = logging.getLogger(__name__)

ORPHAN_MIN_AGE_S = 3600.0  # a complete file without a row this old is an orphan (issue)
SWEEP_EVENT_KIND = "media.swept"
SWEEP_SOURCE = "retention"
MAX_LISTED_PATHS = 100  # paths named in one sweep event per kind; the counts are complete
ADOPT_TIMEOUT_S = 60.0
SNAPSHOT_SUFFIX = ".jpg"
_ROW_CHECK_CHUNK = 500
# <camera>_<YYYYMMDDTHHMMSS>.<ms>Z[-n].mp4, as engine.record.writer names clips
_CLIP_NAME = re.compile(r"_(?P<time>\d{8}T\d{6})\.(?P<ms>\d{3})Z(?:-\d+)?\.mp4$")


@dataclass(slots=True)
class SweepReport:
    """What one sweep did; paths are relative to the data dir. ``deferred`` says why
    complete files were not looked at this time (rows may still be on the way)."""

    partials_removed: list[str] = field(default_factory=list)
    clips_adopted: list[str] = field(default_factory=list)
    snapshots_removed: list[str] = field(default_factory=list)
    # The continuous recording's (engine.record.segment_sweep): unfinished segments of
    # dead processes cut to their whole fragments and indexed, complete segments indexed,
    # rows whose file was gone deleted (and named in a media.missing event).
    segments_recovered: list[str] = field(default_factory=list)
    segments_indexed: list[str] = field(default_factory=list)
    segment_rows_missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deferred: str | None = None

    @property
    def found_something(self) -> bool:
        return bool(
            self.partials_removed
            or self.clips_adopted
            or self.snapshots_removed
            or self.segments_recovered
            or self.segments_indexed
            or self.segment_rows_missing
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptClip(StoreCommand):
    """Give a complete clip found without a row its media row, unless one for its path
    arrived meanwhile. ``camera_id`` wins; else the camera whose key is ``camera_key`` (the
    newest such row). Returns the new media id, or None if the path already had a row."""

    file: MediaFile
    created_at: datetime
    camera_key: str | None = None
    camera_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    engine: str | None = None  # a shared site's engine whose data dir keeps the file

    def apply(self, session: Session) -> int | None:
        if session.scalar(select(Media.id).where(Media.path == self.file.path)) is not None:
            return None
        camera_id = self.camera_id
        if camera_id is None and self.camera_key is not None:
            camera_id = session.scalar(
                select(Camera.id).where(Camera.key == self.camera_key).order_by(Camera.id.desc())
            )
        insert = InsertMedia(
            file=self.file,
            created_at=self.created_at,
            camera_id=camera_id,
            started_at=self.started_at,
            ended_at=self.ended_at,
            engine=self.engine,
        )
        return insert.apply(session)


def remove_orphan_partials(directory: Path, *, relative_to: Path | None = None) -> list[str]:
    """Remove every ``*.partial`` file under ``directory`` whose owning process is gone,
    logging each; return their paths (relative to ``relative_to`` if given, POSIX style).
    Temp files of live processes (this one included) are kept."""
    removed: list[str] = []
    if not directory.is_dir():
        return removed
    for path in sorted(directory.rglob(f"*{PARTIAL_SUFFIX}")):
        if partial_owner_alive(path):
            continue
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.error("cannot remove unfinished file %s: %s", path, exc)
            continue
        log.warning(
            "removed an unfinished file of a process that is gone: %s (%d bytes)", path, size
        )
        removed.append(_relative(path, relative_to))
    return removed


def sweep_media(
    store: Store,
    writer: StoreWriter | None,
    clock: Clock,
    data_root: Path,
    *,
    cameras: Mapping[str, int] | None = None,
    min_age_s: float = ORPHAN_MIN_AGE_S,
) -> SweepReport:
    """Sweep the media under ``data_root`` (see the module docstring) and, if anything was
    found, record a ``media.swept`` event. Reads through ``store``; every write goes through
    ``writer`` (without one, only temp files are removed). ``cameras`` maps camera keys to
    their ids for adopted clips. Blocks on the writer: run it on a worker thread (the
    retention thread, or a CLI command)."""
    report = SweepReport()
    for folder in ("clips", "snapshots"):
        report.partials_removed += remove_orphan_partials(data_root / folder, relative_to=data_root)
    report.deferred = _why_not_now(writer, data_root)
    if report.deferred is None and writer is not None:
        cutoff = clock.now() - timedelta(seconds=min_age_s)
        clips = _old_files(data_root / "clips", CLIP_SUFFIX, cutoff, data_root)
        for path in _without_rows(store, clips):
            try:
                if _adopt(writer, data_root, path, cameras or {}, clock):
                    report.clips_adopted.append(path)
            except StoreUnavailableError as exc:
                report.problems.append(f"could not adopt {path}: {exc}")
                break
            except Exception as exc:
                log.exception("could not adopt clip %s", path)
                report.problems.append(f"could not adopt {path}: {exc}")
                break  # the store is failing: the rest waits for the next sweep
        snapshots = _old_files(data_root / "snapshots", SNAPSHOT_SUFFIX, cutoff, data_root)
        for path in _without_rows(store, snapshots):
            try:
                (data_root / path).unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                report.problems.append(f"could not remove {path}: {exc}")
                continue
            log.warning("removed a snapshot that no event refers to: %s", path)
            report.snapshots_removed.append(path)
    if writer is not None:
        segments = sweep_segments(
            store, writer, clock, data_root, cameras or {}, adopt=report.deferred is None
        )
        report.partials_removed += segments.removed
        report.segments_recovered += segments.recovered
        report.segments_indexed += segments.indexed
        report.segment_rows_missing += segments.missing
        report.problems += segments.problems
    if report.deferred:
        log.info("orphan sweep: complete files left for later (%s)", report.deferred)
    if report.found_something and writer is not None:
        writer.post(_sweep_event(report, clock))
    return report


def _why_not_now(writer: StoreWriter | None, data_root: Path) -> str | None:
    if writer is None:
        return "no store writer"
    health = writer.health()
    if health.fatal:
        return f"store unavailable: {health.fatal}"
    if health.last_error:
        return f"store retrying: {health.last_error}"
    journal_dir = data_root / "journal"
    if journal_dir.is_dir() and any(journal_dir.glob(JOURNAL_GLOB)):
        return "a store journal is waiting to be written back"
    return None


def _old_files(folder: Path, suffix: str, cutoff: datetime, root: Path) -> list[str]:
    """Files ending in ``suffix`` under ``folder`` last modified before ``cutoff``."""
    if not folder.is_dir():
        return []
    limit = cutoff.timestamp()
    found: list[str] = []
    for path in folder.rglob(f"*{suffix}"):
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                found.append(_relative(path, root))
        except OSError:
            continue
    return sorted(found)


def _without_rows(store: Store, paths: list[str]) -> list[str]:
    """Those of ``paths`` that no media row names."""
    missing: list[str] = []
    for chunk in _chunks(paths, _ROW_CHECK_CHUNK):
        with store.sessions() as session:
            known = set(session.scalars(select(Media.path).where(Media.path.in_(chunk))))
        missing += [p for p in chunk if p not in known]
    return missing


def _adopt(
    writer: StoreWriter, root: Path, path: str, cameras: Mapping[str, int], clock: Clock
) -> bool:
    """Write the row of the orphan clip ``path``; False if a row turned up meanwhile."""
    file = root / path
    sha256, size = file_sha256(file)
    duration_s = clip_duration_s(file)
    started_at = clip_start_from_name(file.name)
    if started_at is None:
        mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
        started_at = mtime - timedelta(seconds=duration_s or 0.0)
    ended_at = started_at + timedelta(seconds=duration_s) if duration_s is not None else None
    parts = Path(path).parts
    camera_key = parts[1] if len(parts) >= 3 else None
    media_id = writer.execute(
        AdoptClip(
            file=MediaFile("clip", path, sha256, size),
            created_at=started_at,
            camera_key=camera_key,
            camera_id=cameras.get(camera_key) if camera_key else None,
            started_at=started_at,
            ended_at=ended_at,
        ),
        timeout_s=ADOPT_TIMEOUT_S,
    )
    if media_id is None:
        return False
    log.warning(
        "adopted clip %s without a media row (camera %s, %s s)", path, camera_key, duration_s
    )
    return True


def clip_start_from_name(name: str) -> datetime | None:
    """The UTC start time in a clip's file name (``<camera>_20260504T030205.000Z.mp4``)."""
    match = _CLIP_NAME.search(name)
    if match is None:
        return None
    try:
        at = datetime.strptime(match["time"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return at + timedelta(milliseconds=int(match["ms"]))


def clip_duration_s(path: Path) -> float | None:
    """Playback length of a video file in seconds from its container, or None if PyAV
    cannot tell (damaged file)."""
    try:
        with av.open(str(path)) as container:
            if container.duration is not None:
                return float(container.duration / av.time_base)
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except Exception as exc:  # not a video, truncated, unknown codec
        log.warning("cannot read the duration of %s: %s", path, exc)
    return None


def _sweep_event(report: SweepReport, clock: Clock) -> InsertEvent:
    return InsertEvent(
        ts=clock.now(),
        kind=SWEEP_EVENT_KIND,
        source=SWEEP_SOURCE,
        detail={
            "partials_removed": len(report.partials_removed),
            "clips_adopted": len(report.clips_adopted),
            "snapshots_removed": len(report.snapshots_removed),
            "segments_recovered": len(report.segments_recovered),
            "segments_indexed": len(report.segments_indexed),
            "segment_rows_missing": len(report.segment_rows_missing),
            "paths": {
                "partials_removed": report.partials_removed[:MAX_LISTED_PATHS],
                "clips_adopted": report.clips_adopted[:MAX_LISTED_PATHS],
                "snapshots_removed": report.snapshots_removed[:MAX_LISTED_PATHS],
                "segments_recovered": report.segments_recovered[:MAX_LISTED_PATHS],
                "segments_indexed": report.segments_indexed[:MAX_LISTED_PATHS],
            },
        },
    )


def _relative(path: Path, root: Path | None) -> str:
    if root is not None and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return path.as_posix()


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
