"""Footage views: a time range of a camera's continuous recording, as one playable file.

An event's or an alert's footage is a time range over its camera's segments
(:mod:`engine.record.segments`), not a copy: :class:`FootageViewRequest` finds the
segments covering the range (and, for footage of a moment that has only just happened,
the segment still being written, up to its last complete fragment) and copies their
packets, unchanged, into one short MP4 (:func:`cut_footage`: no decode, no re-encode; a
few milliseconds for half a minute of 1080p). Anything that plays a file (the alert
preview, the Events pane, Ask's citations) plays a view as it played a clip.

**From the moment an alert is raised.** The segment being written is a fragmented MP4
whose every complete fragment (a keyframe, or at least a second) is on disk
(:mod:`engine.record.fragments`), so a view of the last seconds is possible at once: it
ends at most about a second before the present, and says it is ``recording`` (asked
again later, it holds more). Only the engine's own machine sees its unfinished segment;
an attached console fetches the finished segments (``fetch``) and its views end where
they end.

**Where views go.** ``<media root>/views/<camera>/``, written under a temp name and
renamed (a player never sees half a file). A view is derived data: at most
:data:`VIEWS_KEPT` are kept (the oldest removed when a new one is cut), and one of
finished segments is reused when asked again.

**Limits.** A view covers at most :data:`MAX_VIEW_S`; it starts at the keyframe at or
before the range's start (a player needs one), so it may begin up to a keyframe interval
early; where the camera's stream changed inside the range (a reconnect with another
size), the view keeps the stretch holding the moment asked for.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from sqlalchemy import select

from engine.data_dirs import create_private_file, private_dir
from engine.instance import PARTIAL_SUFFIX, final_path_of, partial_owner_alive
from engine.media import FRAGMENTED_READ_OPTIONS, SEGMENT_KIND, VIEWS_DIR, is_view_path
from engine.record.files import CLIP_SUFFIX
from engine.record.fragments import complete_fragments_end
from engine.record.recorder import CAMERA_KEY
from engine.record.segments import RECORDINGS_DIR
from engine.record.sweep import clip_start_from_name
from engine.store.database import Store
from engine.store.models import Camera, Media

log = logging.getLogger(__name__)

VIEWS_KEPT = 64  # views kept per media root; the oldest go when a new one is cut
MAX_VIEW_S = 300.0  # the longest range one view covers
MAX_SEGMENT_S = 75.0  # longer than any segment (segment_s ≤ 60, cut at the next keyframe)
MAX_PARTIAL_BYTES = 256 * 1024 * 1024  # an unfinished segment bigger than this is not read
EVENT_BEFORE_S = 10.0  # an event's footage: from this long before it...
EVENT_AFTER_S = 20.0  # ...to this long after (as an event clip covered it)
JOIN_SLACK_S = 1.0  # an unfinished segment this close after the last finished one follows it
_SAME_INSTANT = timedelta(milliseconds=1)  # wall times this close are one frame's


class FootageViewError(ValueError):
    """A view that cannot be made: a bad range, or footage that does not play."""


@dataclass(frozen=True, slots=True)
class FootageSource:
    """One file of a camera's recording: ``path``, the wall time (UTC) of its first
    packet, and for the segment being written the bytes of it that are complete."""

    path: Path
    started_at: datetime
    complete_bytes: int | None = None  # None: a finished file, read whole


@dataclass(frozen=True, slots=True)
class FootageView:
    """A playable file of a camera's footage from ``started_at`` to ``ended_at`` (UTC,
    the wall times of its first frame and of its last frame's end). ``offset_s``: where in
    it the moment asked for is. ``recording``: it runs into the segment still being
    written, so the footage goes on past ``ended_at`` (ask again for more)."""

    camera: str
    path: Path
    started_at: datetime
    ended_at: datetime
    offset_s: float
    frames: int
    recording: bool = False


@dataclass(frozen=True, slots=True)
class _Stretch:
    """Packets copied so far into one output stream."""

    template: Any  # the input stream whose parameters the output takes
    key: tuple[Any, ...]
    packets: list[tuple[Any, int, int, Fraction]]  # (packet, pts, dts, time base) from view 0


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _open(source: FootageSource) -> av.container.InputContainer:
    """The source opened for demuxing; the segment being written is read only up to its
    last complete fragment (into memory, bounded), never past it."""
    if source.complete_bytes is None:
        return av.open(str(source.path), "r", options=dict(FRAGMENTED_READ_OPTIONS))
    if source.complete_bytes > MAX_PARTIAL_BYTES:
        raise FootageViewError(f"{source.path.name}: unfinished segment too large to read")
    fd = os.open(source.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FootageViewError(f"{source.path.name}: not a regular file")
        chunks: list[bytes] = []
        offset = 0
        while offset < source.complete_bytes:
            chunk = os.pread(fd, min(source.complete_bytes - offset, 4 << 20), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
    finally:
        os.close(fd)
    data = io.BytesIO(b"".join(chunks))
    return av.open(data, "r", format="mp4", options=dict(FRAGMENTED_READ_OPTIONS))


def _stream_key(stream: Any) -> tuple[Any, ...]:
    context = stream.codec_context
    return (context.name, context.width, context.height, bytes(context.extradata or b""))


def cut_footage(
    sources: Sequence[FootageSource],
    start: datetime,
    end: datetime,
    out: Path,
    at: datetime | None = None,
) -> tuple[datetime, datetime, int]:
    """Copy the packets of ``sources`` (one camera's files, by start) from the keyframe
    at or before ``start`` to ``end`` into a plain MP4 at ``out`` (written under a temp
    name, then renamed). Returns the wall times of the view's first frame and of its end,
    and its frame count. Where the stream's parameters change, the stretch holding ``at``
    (default ``start``) is kept. Raises FootageViewError when no frame falls in the range.
    """
    start, end = _utc(start), _utc(end)
    at = start if at is None else _utc(at)
    # Inputs stay open until the view is written: its stream takes its parameters from
    # an input stream, which must stay alive.
    opened: list[av.container.InputContainer] = []
    try:
        return _cut(sources, start, end, out, at, opened)
    finally:
        for container in opened:
            container.close()


def _cut(
    sources: Sequence[FootageSource],
    start: datetime,
    end: datetime,
    out: Path,
    at: datetime,
    opened: list[av.container.InputContainer],
) -> tuple[datetime, datetime, int]:
    stretches: list[tuple[_Stretch, datetime]] = []  # with the wall time of its tick 0
    current: _Stretch | None = None
    origin: datetime | None = None  # wall time of the current stretch's tick 0
    pending: list[tuple[Any, int, int, Fraction]] = []  # from the last keyframe before start
    reached = False  # a packet at or after start was kept
    done = False
    for source in sources:
        if done:
            break
        try:
            container = _open(source)
        except (OSError, av.error.FFmpegError) as exc:
            raise FootageViewError(f"{source.path.name}: cannot be read: {exc}") from exc
        opened.append(container)
        stream = container.streams.video[0]
        base = stream.time_base
        if base is None:
            raise FootageViewError(f"{source.path.name}: no time base")
        key = (*_stream_key(stream), base)
        if current is None or key != current.key:
            if current is not None and current.packets and origin is not None:
                stretches.append((current, origin))
            current = _Stretch(stream, key, [])
            origin = source.started_at
            pending = []
        assert origin is not None
        first_pts: int | None = None
        shift = 0  # ticks from the stretch's tick 0 to this file's first packet
        try:
            for packet in container.demux(stream):
                if packet.pts is None or packet.dts is None:
                    continue
                if first_pts is None:
                    first_pts = packet.pts
                    shift = round((source.started_at - origin).total_seconds() / base)
                wall = source.started_at + timedelta(seconds=float((packet.pts - first_pts) * base))
                if wall > end:
                    done = True
                    break
                pts = packet.pts - first_pts + shift
                dts = packet.dts - first_pts + shift
                item = (packet, pts, dts, base)
                if not reached and wall < start:
                    if packet.is_keyframe:
                        pending = [item]
                    elif pending:
                        pending.append(item)
                    continue
                if not reached:
                    reached = True
                    if packet.is_keyframe and wall - start < _SAME_INSTANT:
                        pending = []  # a keyframe at the start itself: begin there
                    elif not pending and not packet.is_keyframe:
                        continue  # no keyframe to start from yet
                    current.packets.extend(pending)
                    pending = []
                if not current.packets and not packet.is_keyframe:
                    continue
                current.packets.append(item)
        except av.error.FFmpegError as exc:
            if source.complete_bytes is None:
                raise FootageViewError(f"{source.path.name}: damaged: {exc}") from exc
            log.debug("unfinished segment %s read up to: %s", source.path.name, exc)
    if current is not None and current.packets and origin is not None:
        stretches.append((current, origin))
    if not stretches:
        raise FootageViewError(f"no footage between {start:%H:%M:%S} and {end:%H:%M:%S} UTC")
    chosen, chosen_origin = stretches[0]
    for stretch, stretch_origin in stretches:
        if stretch_origin <= at:
            chosen, chosen_origin = stretch, stretch_origin
    return _write(chosen, chosen_origin, out)


def _write(stretch: _Stretch, origin: datetime, out: Path) -> tuple[datetime, datetime, int]:
    packets = stretch.packets
    first_pts = min(pts for _p, pts, _d, _b in packets[:8])
    base = packets[0][3]
    # Two threads may cut the same view: each writes its own temp file.
    temp = out.with_name(f"{out.stem}.{os.getpid()}-{threading.get_ident()}{CLIP_SUFFIX}.partial")
    create_private_file(temp)
    end_ticks = 0
    try:
        with av.open(str(temp), "w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream = output.add_stream_from_template(stretch.template)
            stream.time_base = base
            last_dts: int | None = None
            for packet, pts, dts, _base in packets:
                pts, dts = pts - first_pts, dts - first_pts
                if last_dts is not None and dts <= last_dts:
                    dts = last_dts + 1
                pts = max(pts, dts)
                packet.stream = stream
                packet.pts, packet.dts = pts, dts
                output.mux(packet)
                last_dts = dts
                end_ticks = max(end_ticks, pts + (packet.duration or 0))
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    started = origin + timedelta(seconds=float(first_pts * base))
    return started, started + timedelta(seconds=float(end_ticks * base)), len(packets)


@dataclass(frozen=True, slots=True)
class FootageViewRequest:
    """A view of camera ``camera`` (its key) from ``start`` to ``end`` around ``at``
    (the moment to play from; default ``start``), cut under ``media_root``. ``fetch``
    brings a segment another machine keeps (an attached console). ``run`` gives None when
    no footage of the camera covers any of the range. Blocking: a worker thread."""

    camera: str
    start: datetime
    end: datetime
    media_root: Path
    at: datetime | None = None
    fetch: Callable[[Path], Path] | None = None
    # Where the view goes when it is complete (a clip row's own path); one still being
    # recorded goes to a name of its own, never there.
    out: Path | None = None

    def run(self, store: Store) -> FootageView | None:
        start, end = _utc(self.start), _utc(self.end)
        at = start if self.at is None else _utc(self.at)
        if not CAMERA_KEY.fullmatch(self.camera):  # it names folders read and written
            raise FootageViewError(f"{self.camera!r} is not a camera key")
        if end <= start:
            raise FootageViewError("the footage's range ends before it starts")
        if (end - start).total_seconds() > MAX_VIEW_S:
            raise FootageViewError(
                f"a footage view covers at most {MAX_VIEW_S:.0f} s; "
                f"asked for {(end - start).total_seconds():.0f} s"
            )
        rows = self._segments(store, start, end)
        sources: list[FootageSource] = []
        for path, started_at, _ended_at in rows:
            file = self.media_root / path
            if not file.is_file() and self.fetch is not None:
                try:
                    self.fetch(file)
                except Exception as exc:  # its engine away, the file purged
                    log.info("segment %s not fetched for a view: %s", path, exc)
                    continue
            if file.is_file():
                sources.append(FootageSource(file, _utc(started_at)))
        covered_to = max((_utc(row[2]) for row in rows), default=None)
        recording = False
        if covered_to is None or covered_to < end:
            partial = self._writing(covered_to or start - timedelta(seconds=MAX_SEGMENT_S), end)
            if partial is not None:
                sources.append(partial)
                recording = True
        if not sources:
            return None
        if self.out is not None and not recording:
            out = private_dir(self.out.parent) / self.out.name
        else:
            out = self._out_path(start, end, sources)
        try:
            first, last, frames = cut_footage(sources, start, end, out, at)
        except FootageViewError as exc:
            log.info("no view of %s %s–%s: %s", self.camera, start, end, exc)
            return None
        _prune(self.media_root / VIEWS_DIR, keep=out)
        return FootageView(
            camera=self.camera,
            path=out,
            started_at=first,
            ended_at=last,
            offset_s=max(0.0, (at - first).total_seconds()),
            frames=frames,
            recording=recording,
        )

    def _segments(
        self, store: Store, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """The camera's segments overlapping ``[start, end]``, by start (one range on
        ``ix_media_kind_camera_start``)."""
        with store.sessions() as session:
            ids = list(
                session.execute(select(Camera.id).where(Camera.key == self.camera)).scalars()
            )
            if not ids:
                return []
            rows = session.execute(
                select(Media.path, Media.started_at, Media.ended_at)
                .where(
                    Media.kind == SEGMENT_KIND,
                    Media.camera_id.in_(ids),
                    Media.started_at >= start - timedelta(seconds=MAX_SEGMENT_S),
                    Media.started_at <= end,
                    Media.ended_at >= start,
                )
                .order_by(Media.started_at)
            ).all()
        return [
            (str(path), started_at, ended_at)
            for path, started_at, ended_at in rows
            if started_at is not None and ended_at is not None
        ]

    def _writing(self, after: datetime, end: datetime) -> FootageSource | None:
        """The camera's segment being written by a live process on this machine, when it
        starts before ``end`` and no earlier than ``after`` (less a second): its complete
        part. None when there is none (or it has no complete fragment yet)."""
        folder = self.media_root / RECORDINGS_DIR / self.camera
        best: tuple[datetime, Path] | None = None
        days = {after.date(), end.date(), (end - timedelta(days=1)).date()}
        for day in sorted(days):
            day_folder = folder / day.isoformat()
            try:
                names = os.listdir(day_folder)
            except OSError:
                continue
            for name in names:
                if not name.endswith(CLIP_SUFFIX + PARTIAL_SUFFIX):
                    continue
                started = clip_start_from_name(final_path_of(Path(name)).name)
                if started is None or started > end:
                    continue
                if started < after - timedelta(seconds=JOIN_SLACK_S):
                    continue
                path = day_folder / name
                if not partial_owner_alive(path):
                    continue  # a dead process's: the sweep finishes it
                if best is None or started > best[0]:
                    best = (started, path)
        if best is None:
            return None
        try:
            complete = complete_fragments_end(best[1])
        except OSError:
            return None  # finished (renamed) meanwhile: the next ask finds its row
        if complete is None:
            return None
        return FootageSource(best[1], best[0], complete)

    def _out_path(self, start: datetime, end: datetime, sources: Sequence[FootageSource]) -> Path:
        digest = hashlib.sha256(
            "\n".join(f"{s.path}|{s.complete_bytes}" for s in sources).encode()
        ).hexdigest()[:12]
        folder = private_dir(self.media_root / VIEWS_DIR / self.camera)
        return folder / f"{self.camera}_{start:%Y%m%dT%H%M%S}_{end:%H%M%S}_{digest}{CLIP_SUFFIX}"


def _prune(folder: Path, keep: Path) -> None:
    """Remove the oldest views beyond :data:`VIEWS_KEPT` (never ``keep``), and temp files
    of views an hour old (a process killed mid-cut)."""
    try:
        views = [p for p in folder.rglob(f"*{CLIP_SUFFIX}") if p != keep]
        stale = time.time() - 3600
        for temp in folder.rglob(f"*{PARTIAL_SUFFIX}"):
            if temp.stat().st_mtime < stale:
                temp.unlink(missing_ok=True)
    except OSError:
        return
    if len(views) < VIEWS_KEPT:
        return
    views.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
    for old in views[: len(views) - VIEWS_KEPT + 1]:
        try:
            old.unlink()
        except OSError:
            log.debug("view %s not removed", old, exc_info=True)


def footage_around(
    camera: str,
    at: datetime,
    media_root: Path,
    fetch: Callable[[Path], Path] | None = None,
    before_s: float = EVENT_BEFORE_S,
) -> FootageViewRequest:
    """The view of an event's footage: camera ``camera`` from ``before_s`` before ``at``
    to :data:`EVENT_AFTER_S` after, played from ``at``."""
    at = _utc(at)
    return FootageViewRequest(
        camera,
        at - timedelta(seconds=before_s),
        at + timedelta(seconds=EVENT_AFTER_S),
        media_root,
        at=at,
        fetch=fetch,
    )


@dataclass(frozen=True, slots=True)
class ViewFileRequest:
    """The playable file of the clip row at ``path`` (relative to ``media_root``): the
    file itself for a clip of its own; for a view (:func:`engine.media.is_view_path`) the
    file cut from its camera's segments, kept at the row's path once the footage is
    complete (a second play reads it), or cut afresh while the camera is still recording
    it. Raises FileNotFoundError naming what is missing (no such row, its footage purged).
    ``fetch``: as :class:`FootageViewRequest`'s. Blocking: a worker thread."""

    path: str
    media_root: Path
    fetch: Callable[[Path], Path] | None = None

    def run(self, store: Store) -> Path:
        relative = Path(self.path)
        if relative.is_absolute() or ".." in relative.parts:
            # A row of a shared site's store names it: never a place outside the media root
            # (a view is written there).
            raise FileNotFoundError(f"{self.path!r} is not a media path")
        target = self.media_root / relative
        if not is_view_path(self.path):
            if target.is_file() or self.fetch is None:
                return target
            return self.fetch(target)
        if target.is_file():
            return target
        with store.sessions() as session:
            row = session.execute(
                select(Camera.key, Media.started_at, Media.ended_at)
                .join(Camera, Camera.id == Media.camera_id)
                .where(Media.path == self.path)
            ).first()
        if row is None or row.started_at is None or row.ended_at is None:
            raise FileNotFoundError(f"no clip {self.path} is stored")
        view = FootageViewRequest(
            row.key,
            row.started_at,
            # Its frames start before its end (the end is its last frame's end).
            max(
                row.ended_at - timedelta(milliseconds=1), row.started_at + timedelta(milliseconds=1)
            ),
            self.media_root,
            fetch=self.fetch,
            out=target,
        ).run(store)
        if view is None:
            raise FileNotFoundError(
                f"the footage of clip {self.path} is no longer kept (its camera's recording "
                "was deleted, or could not be written)"
            )
        return view.path
