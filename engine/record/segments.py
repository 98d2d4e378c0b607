"""Continuous recording: every packet of a camera, into segments of a few seconds each.

Data flow, per camera::

    ClipRecorder._accept(packet)     (the camera's own H.264/H.265, or its encoder's output)
        └─ SegmentRecorder.offer ── bounded queue ──▶ [segment-writer-<camera> thread]
             fragmented MP4 under <name>.<pid>.mp4.partial ── at the cut: fsync → sha256
             → rename to <name>.mp4 → fsync dir → InsertMedia(kind "segment") via the writer

Nothing is decoded or encoded here: a segment is the packets the clip recorder already
has, muxed. A segment starts at a keyframe and is cut at the first keyframe at least
``segment_s`` after its start (or when the stream changes: a reconnect), so the next one
continues from exactly the next packet and playback crosses segments without a gap.

**Why fragmented MP4.** A plain MP4 is unreadable until its index is written at the
close; a segment being written when the engine is killed would be lost whole (up to
``segment_s`` plus a keyframe interval). A fragmented MP4 is written as an empty index and
then one fragment (``moof`` + ``mdat``) per keyframe, and at least every
:data:`~engine.record.muxer.FRAGMENT_S` second, each complete in itself: after a crash
the temp file is playable up to its last complete fragment, which the sweep keeps
(:func:`engine.record.segment_sweep.sweep_segments`), so a crash costs about one second of
footage. The price, on 10 s of a 3 Mbit/s 1080p15 camera (``benchmarks/recording.py``):
0.076 % of container bytes against 0.044 % for a plain MP4, and less CPU to write (2.4
against 3.0 ms; no index rewritten at the close). Players, browsers and PyAV read
fragmented MP4 as any MP4.

**What a segment holds.** The camera's analysis reports each analysed frame
(:meth:`SegmentRecorder.note_analysis`): whether it had motion and how many people were
in view. A segment's row stores the share of its analysed frames with motion and the most
people in view at once, which retention's tiers keep footage by. The writer waits up to
:data:`ANALYSIS_WAIT_S` for the analysis to pass the segment's end before writing the row.

**Gaps.** A stretch of a camera's time no segment covers (the camera went away and came
back, the writer fell behind, a segment could not be written) is published as a
:class:`~engine.events.RecordingGap` (a ``recording.gap`` event); one at least the
camera's ``gap_alert_s`` long raises an alert (:mod:`engine.alerts.recording`). The first
segment of a recorder is compared with the camera's last stored segment: the time the
engine was stopped is a gap as well.

Threads: ``offer``, ``note_analysis`` and ``finish_if_idle`` may be called from any
thread and never wait; one ``segment-writer-<camera>`` thread writes. A segment that
cannot be written (disk full, I/O error) is reported to the
:class:`~engine.record.losses.MediaWriteWatch` (never silent) and the next segment is
tried afresh.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import RecordingGap
from engine.frames import EncodedPacket, VideoStreamInfo
from engine.media import SEGMENT_KIND, MediaFile
from engine.record.files import (
    clip_partial_path,
    finish_file,
    footage_path,
    unused_footage_path,
)
from engine.record.losses import MediaWriteWatch, loss_reason
from engine.record.muxer import ClipMuxer
from engine.store.commands import InsertMedia
from engine.store.database import Store
from engine.store.models import Media
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

RECORDINGS_DIR = "recordings"  # under the data dir: <camera>/<UTC date>/<camera>_<start>.mp4
SEGMENT_S = 10.0  # default segment length (s); the site's [recording] segment_s
QUEUE_S = 20.0  # packets the writer may fall behind by, in seconds of video
QUEUE_MIN_PACKETS = 128
ANALYSIS_WAIT_S = 3.0  # the writer waits this long for the analysis of a segment's end
# Two pieces of footage further apart than this (s) leave a gap between them: a frame
# interval of a slow camera (2 fps) plus the jitter of wall-time stamps.
GAP_TOLERANCE_S = 1.0
# A keyframe this little before a segment's length still cuts it (the captured_at
# difference of keyframes exactly segment_s apart may round below it).
CUT_SLACK_S = 0.005
MARKS_KEPT = 8192  # analysed frames remembered for segments not yet written


@dataclass(frozen=True, slots=True)
class SegmentStats:
    """Counters of one camera's continuous recording. ``frames_dropped``: packets that
    reached no segment (the writer fell behind, or a failed segment's rest);
    ``bytes_written``: of finished segments; ``recorded_s``: their total length;
    ``last_end``: the end of the newest finished segment (UTC); ``queued_packets``: how
    far the writer is behind (packets waiting for it)."""

    segments_written: int
    segments_failed: int
    frames_dropped: int
    bytes_written: int
    recorded_s: float
    gaps: int
    last_end: datetime | None
    stream_copy: bool | None
    queued_packets: int = 0

    def as_dict(self) -> dict[str, Any]:
        figures = asdict(self)
        figures["recorded_s"] = round(self.recorded_s, 1)
        figures["last_end"] = self.last_end.isoformat() if self.last_end else None
        return figures


@dataclass(frozen=True, slots=True)
class _Cut:
    """Queue marker: finish the open segment (camera idle, or closing)."""

    reason: str


@dataclass(slots=True)
class _Open:
    """The segment the writer is muxing."""

    muxer: ClipMuxer
    final: Path
    started_at: datetime
    first_t: float  # captured_at of its first packet (monotonic s)
    last_t: float  # captured_at of its newest packet
    ends_at: datetime  # the end of its newest frame: wall time + the frame's duration
    gap_before: tuple[datetime, str] | None  # the footage kept before it ends then, why


class SegmentRecorder:
    """Records one camera continuously (see the module docstring).

    ``recordings_dir`` must lie under ``media_root`` (media rows store paths relative to
    it). ``camera_id``: the camera's row; ``engine``: a shared site's engine whose data dir
    keeps the files (None: the only engine). Times are the clock's (packets'
    ``captured_at`` monotonic s and ``wall_at`` UTC). ``gap_alert_s``: a gap this long
    raises an alert (None: gaps are events only). ``previous_end``: where the camera's
    recording ended before this recorder (the last segment stored), so the stretch the
    engine was not recording is a gap too.
    """

    def __init__(
        self,
        camera_key: str,
        camera_id: int | None,
        store_writer: StoreWriter | None,
        bus: EventBus,
        clock: Clock,
        *,
        recordings_dir: Path,
        media_root: Path,
        segment_s: float = SEGMENT_S,
        fps_hint: float = 15.0,
        media_watch: MediaWriteWatch | None = None,
        engine: str | None = None,
        gap_alert_s: float | None = None,
        previous_end: datetime | None = None,
    ) -> None:
        if not (segment_s > 0 and fps_hint > 0):
            raise ValueError(f"need segment_s > 0 and fps_hint > 0 (got {segment_s}, {fps_hint})")
        root, folder = media_root.resolve(), recordings_dir.resolve()
        if not folder.is_relative_to(root):
            raise ValueError(f"recordings dir {folder} is not under the media root {root}")
        self.camera_key = camera_key
        self.camera_id = camera_id
        self.segment_s = segment_s
        self._root = root
        self._folder = folder
        self._store_writer = store_writer
        self._bus = bus
        self._clock = clock
        self._media_watch = media_watch
        self._engine = engine
        capacity = max(QUEUE_MIN_PACKETS, math.ceil(QUEUE_S * fps_hint))
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[tuple[EncodedPacket, str | None] | _Cut] = (
            collections.deque()
        )
        self._capacity = capacity
        self._closed = False
        # Decided as packets are offered (any thread, under _cond):
        self._stream: VideoStreamInfo | None = None
        self._first_t: float | None = None  # captured_at of the open segment's first packet
        self._skip_to_keyframe = False
        self._dropped = 0
        self._dropped_at_start = 0  # _dropped when the open segment started
        self._last_offered_t = -math.inf
        # The analysis (under _cond): (captured_at, motion, people) of analysed frames.
        self._marks: collections.deque[tuple[float, bool, int]] = collections.deque(
            maxlen=MARKS_KEPT
        )
        self._analysed_to = -math.inf
        # Written by the writer thread (under _cond for stats):
        self._written = self._failed = self._bytes = self._gaps = 0
        self._recorded_s = 0.0
        self._last_end: datetime | None = previous_end
        self._gap_alert_s = gap_alert_s
        self._lost_reason: str | None = None  # the writer's: why the last segment was lost
        self._thread = threading.Thread(
            target=self._run, name=f"segment-writer-{camera_key}", daemon=True
        )
        self._thread.start()

    # -- any thread ----------------------------------------------------------------------
    def offer(self, packet: EncodedPacket) -> None:
        """One packet of the camera, in decode order. Never waits: when the writer's queue
        is full the packet is dropped and so is everything up to the next keyframe."""
        with self._cond:
            if self._closed:
                return
            self._last_offered_t = max(self._last_offered_t, packet.captured_at)
            # Why a segment starts at this packet (a gap before it is said so), or None.
            starts: str | None = None
            if packet.stream is not self._stream or self._first_t is None:
                if not packet.keyframe:
                    self._dropped += 1 + packet.skipped_before
                    return  # a segment starts at a keyframe
                starts = (
                    "the camera's stream restarted"
                    if packet.stream is not self._stream
                    else "the camera's stream stopped"
                )
            elif packet.keyframe and (
                packet.captured_at - self._first_t >= self.segment_s - CUT_SLACK_S
                or self._skip_to_keyframe
            ):
                # A gap before the next segment of the same stream: the writer's queue
                # overflowed (packets were dropped: the hole must not hide inside a
                # segment, so the next keyframe starts one), or no packet came for a while
                # (the camera's video stalled).
                behind = self._skip_to_keyframe or self._dropped > self._dropped_at_start
                starts = "the recorder fell behind" if behind else "the camera's video stalled"
            if self._skip_to_keyframe and not packet.keyframe:
                self._dropped += 1 + packet.skipped_before
                return
            if len(self._queue) >= self._capacity:
                self._skip_to_keyframe = True
                self._dropped += 1 + packet.skipped_before
                return
            self._skip_to_keyframe = False
            if starts:
                self._stream, self._first_t = packet.stream, packet.captured_at
                self._dropped_at_start = self._dropped
            self._queue.append((packet, starts))
            self._cond.notify_all()

    def note_analysis(self, captured_at: float, motion: bool, people: int) -> None:
        """The analysis of the frame captured at ``captured_at`` (monotonic s): motion in
        it or not, and how many people are in view. Frames in capture order."""
        with self._cond:
            self._marks.append((captured_at, motion, people))
            if captured_at > self._analysed_to:
                self._analysed_to = captured_at
                self._cond.notify_all()

    def finish_if_idle(self) -> bool:
        """Close the open segment if no packet came for ``segment_s`` (the camera went
        away): its file is finished now instead of when the camera returns. For the
        engine's watchdog; True if a segment was closed."""
        with self._cond:
            if self._closed or self._first_t is None:
                return False
            if self._clock.monotonic() - self._last_offered_t < self.segment_s:
                return False
            self._first_t = None  # the next packet (a keyframe) starts a segment
            self._queue.append(_Cut("idle"))
            self._cond.notify_all()
            return True

    def close(self, timeout_s: float = 30.0) -> bool:
        """Write what is queued, finish the open segment and stop the writer; True if it
        ended within ``timeout_s``. Packets offered after this are ignored."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stats(self) -> SegmentStats:
        with self._cond:
            return SegmentStats(
                segments_written=self._written,
                segments_failed=self._failed,
                frames_dropped=self._dropped,
                bytes_written=self._bytes,
                recorded_s=self._recorded_s,
                gaps=self._gaps,
                last_end=self._last_end,
                stream_copy=None if self._stream is None else self._stream.stream_copy,
                queued_packets=len(self._queue),
            )

    # -- the writer thread ---------------------------------------------------------------
    def _take(self) -> tuple[EncodedPacket, str | None] | _Cut | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            return self._queue.popleft() if self._queue else None

    def _run(self) -> None:
        current: _Open | None = None
        failing = False  # the open segment failed: drop packets until the next one starts
        try:
            while (item := self._take()) is not None:
                if isinstance(item, _Cut):
                    if current is not None:
                        self._finish(current)
                        current = None
                    continue
                packet, starts = item
                if starts is not None:
                    if current is not None:
                        self._finish(current, self._wall_time(packet))
                        current = None
                    current = self._start(packet, starts)
                    failing = False
                elif current is None or failing:
                    with self._cond:
                        self._dropped += 1
                    continue
                try:
                    current.muxer.add(packet)
                    current.last_t = max(current.last_t, packet.captured_at)
                    current.ends_at = max(current.ends_at, self._frame_end(packet))
                except Exception as exc:
                    self._lost(current, exc)
                    current, failing = None, True
        finally:
            if current is not None:
                self._finish(current)

    def _start(self, packet: EncodedPacket, gap_reason: str) -> _Open:
        started_at = self._wall_time(packet)
        with self._cond:
            previous_end = self._last_end
        if self._written == 0 and not self._lost_reason:
            gap_reason = "the engine was not recording"  # before this recorder began
        # Said when this segment is written: a run of lost segments is one gap, from the
        # last footage kept to the first kept again.
        gap = None if previous_end is None else (previous_end, self._lost_reason or gap_reason)
        final = unused_footage_path(self._folder, self.camera_key, started_at)
        muxer = ClipMuxer(clip_partial_path(final), fragmented=True)
        first_t = packet.captured_at
        return _Open(muxer, final, started_at, first_t, first_t, self._frame_end(packet), gap)

    def _frame_end(self, packet: EncodedPacket) -> datetime:
        duration_s = float(packet.duration * packet.stream.time_base)
        return self._wall_time(packet) + timedelta(seconds=duration_s)

    def _wall_time(self, packet: EncodedPacket) -> datetime:
        if packet.wall_at is not None:
            return packet.wall_at
        return self._clock.now() + timedelta(seconds=packet.captured_at - self._clock.monotonic())

    def _finish(self, segment: _Open, next_start: datetime | None = None) -> None:
        """Close, flush, hash and rename the segment, then give it its row. Its span is
        its frames' wall times (one time base with the events of those frames), to the
        end of its last frame, or to ``next_start``, the next segment's first frame, when
        that comes sooner (frames delivered late and then in a burst)."""
        try:
            encoded = segment.muxer.close()
            if encoded.frames == 0:
                segment.muxer.path.unlink(missing_ok=True)
                return
            sha256, size = finish_file(segment.muxer.path, segment.final)
        except Exception as exc:
            self._lost(segment, exc)
            return
        ended_at = segment.ends_at
        if next_start is not None and segment.started_at < next_start < ended_at:
            ended_at = next_start
        if segment.gap_before is not None:
            self._report_gap(segment.gap_before[0], segment.started_at, segment.gap_before[1])
        self._lost_reason = None
        motion_share, people = self._content(segment)
        relative = segment.final.relative_to(self._root).as_posix()
        with self._cond:
            self._written += 1
            self._bytes += size
            self._recorded_s += encoded.duration_s
            self._last_end = ended_at
        if self._store_writer is not None:
            command = InsertMedia(
                file=MediaFile(SEGMENT_KIND, relative, sha256, size),
                created_at=segment.started_at,
                camera_id=self.camera_id,
                started_at=segment.started_at,
                ended_at=ended_at,
                engine=self._engine,
                motion_share=motion_share,
                people_seen=people,
            )
            # Not waited for: the next segment is being muxed meanwhile. The command is
            # journaled, so a store outage delays the row, never loses it.
            self._store_writer.submit(command).add_done_callback(self._row_done(relative))
        if self._media_watch is not None:
            self._media_watch.written(self.camera_key, SEGMENT_KIND, at=ended_at)

    @staticmethod
    def _row_done(relative: str) -> Any:
        def done(future: Future[Any]) -> None:
            error = future.exception()
            if error is not None:  # the file is kept; the sweep indexes it later
                log.error("segment %s is saved but its row failed: %s", relative, error)

        return done

    def _content(self, segment: _Open) -> tuple[float | None, int | None]:
        """Motion share and most people at once over the segment's analysed frames,
        waiting up to :data:`ANALYSIS_WAIT_S` for the analysis to reach its end."""
        with self._cond:
            if self._marks:  # no analysis at all: nothing to wait for
                self._cond.wait_for(
                    lambda: self._analysed_to >= segment.last_t or self._closed,
                    ANALYSIS_WAIT_S,
                )
            inside = [m for m in self._marks if segment.first_t <= m[0] <= segment.last_t]
            while self._marks and self._marks[0][0] <= segment.last_t:
                self._marks.popleft()
        if not inside:
            return None, None
        motion = sum(1 for _, moving, _ in inside if moving) / len(inside)
        return round(motion, 4), max(people for _, _, people in inside)

    def _lost(self, segment: _Open, error: Exception) -> None:
        log.error("camera %s: segment %s lost: %s", self.camera_key, segment.final.name, error)
        segment.muxer.abort()
        segment.muxer.path.unlink(missing_ok=True)
        self._lost_reason = f"a segment could not be written: {loss_reason(error)}"
        with self._cond:
            self._failed += 1
        relative = footage_path(self._folder, self.camera_key, segment.started_at)
        if self._media_watch is not None:
            self._media_watch.failed(
                self.camera_key,
                SEGMENT_KIND,
                relative.relative_to(self._root).as_posix(),
                error,
                at=segment.started_at,
            )

    def _report_gap(self, since: datetime, until: datetime, reason: str) -> None:
        if (until - since).total_seconds() <= GAP_TOLERANCE_S:
            return
        with self._cond:
            self._gaps += 1
        gap = RecordingGap(
            at=until,
            camera=self.camera_key,
            camera_id=self.camera_id,
            started_at=since,
            ended_at=until,
            reason=reason,
            alert_after_s=self._gap_alert_s,
        )
        log.warning("camera %s: no recording for %.1f s (%s)", self.camera_key, gap.seconds, reason)
        self._bus.publish(gap)


def last_segment_end(store: Store, camera_id: int | None, engine: str | None) -> datetime | None:
    """Where camera ``camera_id``'s stored continuous recording ends (the newest segment
    this engine kept), or None. Read at a recorder's start for the gap while the engine was
    stopped."""
    if camera_id is None:
        return None
    query = select(func.max(Media.ended_at)).where(
        Media.kind == SEGMENT_KIND, Media.camera_id == camera_id
    )
    if engine is not None:
        query = query.where(Media.engine == engine)
    with store.sessions() as session:
        return session.scalar(query)
