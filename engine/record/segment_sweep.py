"""The continuous recording's part of the orphan sweep: after a crash, every segment on
disk is indexed and every index row names a file that exists.

Run by :func:`engine.record.sweep.sweep_media` (at engine start and hourly, and by
``watchfloor retention run``). Under ``<data>/recordings/``:

- **an unfinished segment of a dead process** (``*.mp4.partial``; kill -9, power loss) is
  cut to its last complete fragment (:func:`~engine.record.fragments.complete_fragments_end`),
  flushed, renamed to its final name and indexed: the crash costs the fragment being
  written (about a second), not the segment. One with no complete fragment is removed.
- **a complete segment without a row** (killed between the rename and the row, or a row
  the store lost) is indexed: camera from its folder, start from its name, length and
  hash from the file. Files this process may still be giving a row are left for later:
  those written in the last :data:`ADOPT_AFTER_S` seconds since this process started.
- **a row whose file is gone** (deleted by hand, a disk replaced) is deleted and named
  in a ``media.missing`` event, never silently kept.

The first sweep of a process looks at every day's folder; later ones at the last
:data:`RECENT_DAYS` days only, since a crash can only leave recent files behind.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import av
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.instance import PARTIAL_SUFFIX, partial_owner_alive
from engine.media import SEGMENT_KIND, MediaFile
from engine.record.files import CLIP_SUFFIX, file_sha256, fsync_dir, fsync_file
from engine.record.fragments import complete_fragments_end
from engine.record.segments import RECORDINGS_DIR
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event, Media
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

ADOPT_AFTER_S = 120.0  # a segment of this process without a row this old is an orphan
RECENT_DAYS = 2  # day folders looked at after the first sweep of a process
MISSING_KIND = "media.missing"
MAX_NAMED = 100  # paths named in one media.missing event; the count is complete
_CHUNK = 500
_PROCESS_STARTED = time.time()  # files older than this cannot be this process's
_fully_swept: set[Path] = set()  # data roots whose every day folder this process swept


@dataclass(slots=True)
class SegmentSweep:
    """What the sweep did with segments (paths relative to the data dir)."""

    recovered: list[str]  # unfinished segments of dead processes, cut and indexed
    indexed: list[str]  # complete segments that had no row
    removed: list[str]  # unfinished segments with nothing whole in them
    missing: list[str]  # rows whose file was gone: deleted
    problems: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ForgetMissingSegments(StoreCommand):
    """Delete the segment rows of ``paths`` (their files are gone) and record one
    ``media.missing`` event naming them. Returns how many rows went."""

    paths: tuple[str, ...]
    at: datetime

    def apply(self, session: Session) -> int:
        gone = list(
            session.execute(
                select(Media.path, Media.locked, Media.camera_id).where(
                    Media.kind == SEGMENT_KIND, Media.path.in_(self.paths)
                )
            )
        )
        if not gone:
            return 0
        session.execute(
            delete(Media)
            .where(Media.kind == SEGMENT_KIND, Media.path.in_([g.path for g in gone]))
            .execution_options(synchronize_session=False)
        )
        session.add(
            Event(
                ts=self.at,
                kind=MISSING_KIND,
                source="retention",
                detail={
                    "count": len(gone),
                    "locked": sum(1 for g in gone if g.locked),
                    "paths": [g.path for g in gone][:MAX_NAMED],
                },
            )
        )
        session.flush()
        return len(gone)


def sweep_segments(
    store: Store,
    writer: StoreWriter,
    clock: Clock,
    data_root: Path,
    cameras: Mapping[str, int],
    *,
    adopt: bool,
) -> SegmentSweep:
    """Sweep ``<data_root>/recordings`` (see the module docstring). ``adopt``: the store
    is healthy, so complete files and rows may be compared (else only dead processes'
    temp files are handled, and kept for indexing later). Blocks on ``writer``."""

    result = SegmentSweep([], [], [], [], [])
    folder = data_root / RECORDINGS_DIR
    full = data_root not in _fully_swept
    today = clock.now().astimezone(UTC).date()
    days = _day_folders(folder, None if full else today)
    for day in days:
        for partial in sorted(day.glob(f"*{PARTIAL_SUFFIX}")):
            if not partial_owner_alive(partial):
                _finish_partial(partial, data_root, result)
    if not adopt:
        return result
    # Written before this process started (not ours), or long enough ago: no row is coming.
    newest = max(_PROCESS_STARTED, time.time() - ADOPT_AFTER_S)
    for day in days:
        try:
            _index_day(store, writer, day, data_root, cameras, newest, result)
        except Exception as exc:
            log.exception("could not index the segments in %s", day)
            result.problems.append(f"could not index the segments in {day.name}: {exc}")
            return result  # the store is failing: the rest waits for the next sweep
    since = (
        None
        if full
        else datetime.combine(today, datetime.min.time(), UTC) - timedelta(days=RECENT_DAYS)
    )
    missing = _rows_without_files(store, writer.engine_name, data_root, since)
    for start in range(0, len(missing), _CHUNK):
        chunk = tuple(missing[start : start + _CHUNK])
        writer.execute(ForgetMissingSegments(paths=chunk, at=clock.now()), timeout_s=60.0)
        log.error("segment rows whose file is gone, deleted: %s", ", ".join(chunk[:10]))
    result.missing = missing
    if full:
        _fully_swept.add(data_root)
    return result


def _index_day(
    store: Store,
    writer: StoreWriter,
    day: Path,
    data_root: Path,
    cameras: Mapping[str, int],
    newest: float,
    result: SegmentSweep,
) -> None:
    """Index the complete segments in folder ``day`` that have no row (those modified
    after ``newest``, a time.time(), may still get theirs from this process)."""
    from engine.record.sweep import AdoptClip  # the sweep imports this module

    on_disk: list[str] = []
    for path in day.glob(f"*{CLIP_SUFFIX}"):
        if path.is_file() and not path.is_symlink():
            on_disk.append(path.relative_to(data_root).as_posix())
    if not on_disk:
        return
    prefix = day.relative_to(data_root).as_posix() + "/"
    with store.sessions() as session:
        known = set(
            session.scalars(
                select(Media.path).where(Media.path.startswith(prefix, autoescape=True))
            )
        )
    for relative in sorted(set(on_disk) - known):
        file = data_root / relative
        recovered = relative in result.recovered
        if not recovered and file.stat().st_mtime >= newest:
            continue  # this process may still be giving it its row
        sha256, size = file_sha256(file)
        started_at, ended_at = _span(file)
        camera_key = Path(relative).parts[1]
        media_id = writer.execute(
            AdoptClip(
                file=MediaFile(SEGMENT_KIND, relative, sha256, size),
                created_at=started_at,
                camera_key=camera_key,
                camera_id=cameras.get(camera_key),
                started_at=started_at,
                ended_at=ended_at,
                engine=writer.engine_name,
            ),
            timeout_s=60.0,
        )
        if media_id is not None and not recovered:
            log.warning("indexed segment %s that had no row", relative)
            result.indexed.append(relative)


def _day_folders(folder: Path, today: date | None) -> list[Path]:
    """``recordings/<camera>/<YYYY-MM-DD>`` folders: all, or the last RECENT_DAYS."""
    if not folder.is_dir():
        return []
    recent = None
    if today is not None:
        recent = {(today - timedelta(days=n)).isoformat() for n in range(RECENT_DAYS)}
    found = []
    for camera in sorted(folder.iterdir()):
        if not camera.is_dir() or camera.is_symlink():
            continue
        for day in sorted(camera.iterdir()):
            if day.is_dir() and not day.is_symlink() and (recent is None or day.name in recent):
                found.append(day)
    return found


def _rows_without_files(
    store: Store, engine: str | None, data_root: Path, since: datetime | None
) -> list[str]:
    """Paths of this engine's segment rows (starting at ``since`` or later; None: all)
    whose file is not on disk. Reads the rows a page at a time, by id."""
    missing: list[str] = []
    after = 0
    while True:
        query = (
            select(Media.id, Media.path)
            .where(Media.kind == SEGMENT_KIND, Media.id > after)
            .order_by(Media.id)
            .limit(5000)
        )
        if engine is not None:
            query = query.where(Media.engine == engine)
        if since is not None:
            query = query.where(Media.started_at >= since)
        with store.sessions() as session:
            page = list(session.execute(query))
        if not page:
            return missing
        missing += [row.path for row in page if not (data_root / row.path).is_file()]
        after = page[-1].id


def _finish_partial(partial: Path, data_root: Path, result: SegmentSweep) -> None:
    """Cut a dead process's unfinished segment to its whole fragments and give it its
    final name, or remove it when nothing in it is whole."""
    relative = partial.relative_to(data_root).as_posix()
    try:
        end = complete_fragments_end(partial)
        if end is None:
            partial.unlink()
            log.warning("removed an unfinished segment with no whole fragment: %s", relative)
            result.removed.append(relative)
            return
        os.truncate(partial, end)
        fsync_file(partial)
        # <stem>.<pid>.mp4.partial → <stem>.mp4 (or <stem>-n.mp4 when that is taken)
        stem = partial.name.removesuffix(PARTIAL_SUFFIX).removesuffix(CLIP_SUFFIX)
        stem = stem.rsplit(".", 1)[0]
        final = partial.with_name(stem + CLIP_SUFFIX)
        suffix = 1
        while final.exists():
            final = partial.with_name(f"{stem}-{suffix}{CLIP_SUFFIX}")
            suffix += 1
        os.replace(partial, final)
        fsync_dir(final.parent)
    except OSError as exc:
        result.problems.append(f"could not recover {relative}: {exc}")
        return
    log.warning("recovered %d bytes of an unfinished segment: %s", end, final.name)
    result.recovered.append(final.relative_to(data_root).as_posix())


def _span(file: Path) -> tuple[datetime, datetime]:
    """A segment's start (from its name) and end (start + the length of its frames)."""
    from engine.record.sweep import clip_start_from_name

    started_at = clip_start_from_name(file.name)
    with av.open(str(file)) as container:
        stream = container.streams.video[0]
        first: int | None = None
        end = 0
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
        base = stream.time_base or 0
        length_s = float((end - first) * base) if first is not None else 0.0
    if started_at is None:
        mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
        started_at = mtime - timedelta(seconds=length_s)
    return started_at, started_at + timedelta(seconds=length_s)
