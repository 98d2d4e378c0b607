"""The writer of one clip: a thread that muxes the clip's packets and finalises the file.

Data flow, per clip::

    ClipRecorder ── pre-event packets + bounded queue ──▶ [clip-writer-<camera> thread]
        mux (PyAV, no re-encoding) → <name>.<pid>.mp4.partial → fsync → sha256 → rename
        → fsync dir → track sidecar (engine.record.tracks) → InsertMedia through the store
        writer → ClipFinalised on the bus

Crash safety: a clip lives under a temp name owned by this process until it is complete
and flushed to disk; only then is it renamed and, after the rename is durable, given a
media row. A crash therefore loses at most the clip being written (its temp file is removed
by the next sweep once this process is gone); no media row can point at a missing or
half-written file. A crash between the rename and the row, or a store that cannot take the
row, leaves a complete clip without a row: the sweep adopts it (gives it its row) later.

A clip that cannot be written (disk full, an I/O error, a permission refused) loses its
temp file and gets no row; the writer tells the engine's
:class:`~engine.record.losses.MediaWriteWatch`, which publishes the loss (stored as a
``recording.failed`` event, raised as an alert) and counts it, so it is never silent.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from engine.bus import EventBus
from engine.clock import Clock
from engine.data_dirs import private_dir
from engine.frames import EncodedPacket
from engine.media import VIEWS_DIR, MediaFile
from engine.record.events import ClipFinalised
from engine.record.files import (
    clip_partial_path,
    finish_file,
    footage_path,
    unused_footage_path,
)
from engine.record.losses import MediaWriteWatch
from engine.record.muxer import ClipMuxer, EncodedClip
from engine.record.tracks import (
    RecentBoxes,
    clip_tracks_for,
    tracks_media_path,
    tracks_path,
    write_clip_tracks,
)
from engine.store.commands import InsertMedia
from engine.store.writer import StoreUnavailableError, StoreWriter

log = logging.getLogger(__name__)

# How long a clip writer waits for its media row before announcing the clip without a
# media id (seconds). The row is still written once the store catches up.
ROW_WAIT_S = 10.0

Outcome = Literal["finalised", "empty", "failed"]


class PacketQueue:
    """Bounded hand-over from the recorder to a clip writer. ``offer`` never blocks."""

    def __init__(self, capacity: int) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._items: collections.deque[EncodedPacket] = collections.deque()
        self._capacity = capacity
        self._closed = False

    def offer(self, packet: EncodedPacket) -> bool:
        """Queue ``packet``; False (not taken) if the queue is full or closed."""
        with self._cond:
            if self._closed or len(self._items) >= self._capacity:
                return False
            self._items.append(packet)
            self._cond.notify()
            return True

    def close(self) -> None:
        """No more packets: ``take`` returns None once the queue is drained."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take(self) -> EncodedPacket | None:
        """The next packet, waiting for one; None when closed and drained."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            return self._items.popleft() if self._items else None


@dataclass(slots=True)
class ClipPlan:
    """Everything a writer needs besides packets; fixed when the clip starts, except
    ``event_id`` which the recorder may fill in later (read only after the queue closes)."""

    camera_key: str
    camera_id: int | None
    clips_dir: Path
    media_root: Path
    wall_anchor: datetime  # clock.now() ...
    mono_anchor: float  # ... and clock.monotonic() read together at clip start
    event_id: int | None
    # The camera records continuously: the clip is a view onto its segments (a row, no
    # file of its own; engine.record.views), so nothing is stored twice.
    view: bool = False

    def wall_time(self, packet: EncodedPacket) -> datetime:
        """UTC wall time of ``packet``'s frame: the time read with its ``captured_at`` when
        the source gave one, else mapped through the anchors taken at clip start."""
        if packet.wall_at is not None:
            return packet.wall_at
        return self.wall_anchor + timedelta(seconds=packet.captured_at - self.mono_anchor)


class ClipWriter:
    """Muxes one clip on its own ``clip-writer-<camera>`` thread, then finalises it (see
    the module docstring). ``on_done(writer, outcome)`` is its thread's last act."""

    def __init__(
        self,
        plan: ClipPlan,
        pre_packets: list[EncodedPacket],
        queue_packets: int,
        store_writer: StoreWriter | None,
        bus: EventBus,
        clock: Clock,
        on_done: Callable[[ClipWriter, Outcome], None],
        media_watch: MediaWriteWatch | None = None,
        boxes: RecentBoxes | None = None,
    ) -> None:
        """``boxes``: the recorder's boxes of recent frames, from which the clip's track
        sidecar is written (None: no sidecar)."""
        self.plan = plan
        self.queue = PacketQueue(queue_packets)
        self.dropped = 0  # frames missing from the clip; written by the recorder under its lock
        self._pre_packets: collections.deque[EncodedPacket] = collections.deque(pre_packets)
        self._store_writer = store_writer
        self._bus = bus
        self._clock = clock
        self._on_done = on_done
        self._media_watch = media_watch
        self._boxes = boxes
        # captured_at of the clip's first and last frames (monotonic s), for its boxes
        self._first_t: float | None = None
        self._last_t = -math.inf
        self.done = False  # set by the recorder when the thread has finished its work
        self.thread = threading.Thread(
            target=self._run, name=f"clip-writer-{plan.camera_key}", daemon=True
        )

    def _next_packet(self) -> EncodedPacket | None:
        packet = self._pre_packets.popleft() if self._pre_packets else self.queue.take()
        if packet is not None:
            if self._first_t is None:
                self._first_t = packet.captured_at
            self._last_t = max(self._last_t, packet.captured_at)
        return packet

    def _write_tracks(self, where: Path, started_at: datetime, clip_size: tuple[int, int]) -> None:
        """The clip's track sidecar at ``where`` (:mod:`engine.record.tracks`): the boxes of
        its frames, in its picture's pixels. A sidecar that cannot be written is logged and
        the clip goes on without one (it plays without boxes)."""
        if self._boxes is None or self._first_t is None:
            return
        tracks = clip_tracks_for(self._first_t, self._last_t, started_at, clip_size, self._boxes)
        try:
            write_clip_tracks(where, tracks)
        except OSError as exc:
            log.warning("clip %s: its boxes could not be kept (%s)", where.name, exc)

    def _run(self) -> None:
        outcome: Outcome = "failed"
        muxer: ClipMuxer | None = None
        started_at: datetime | None = None
        final: Path | None = None
        try:
            packet = self._next_packet()
            if packet is None:
                outcome = "empty"
                return
            plan = self.plan
            started_at = plan.wall_time(packet)
            if plan.view:
                self._view(packet, started_at)
                outcome = "finalised"
                return
            final = self._final_path(started_at)
            muxer = ClipMuxer(clip_partial_path(final))
            while packet is not None:
                muxer.add(packet)
                packet = self._next_packet()
            stream = muxer.stream
            encoded = muxer.close()
            assert stream is not None
            # The span covers exactly the frames: first frame to the end of the last one.
            ended_at = started_at + timedelta(seconds=encoded.duration_s)
            codec = stream.encoder or stream.codec
            self._finalise(
                muxer.path,
                final,
                started_at,
                ended_at,
                encoded,
                codec,
                stream.stream_copy,
                (stream.width, stream.height),
            )
            outcome = "finalised"
        except Exception as exc:
            log.exception("camera %s: clip could not be written", self.plan.camera_key)
            if muxer is not None:
                muxer.abort()
                muxer.path.unlink(missing_ok=True)
            if started_at is not None:
                self._lost(started_at, final, exc)
        finally:
            self.queue.close()  # a failed writer refuses further frames instead of queueing
            self._on_done(self, outcome)

    def _view(self, first: EncodedPacket, started_at: datetime) -> None:
        """The clip as a view onto the camera's segments: its packets only timed (the
        segments hold them), then its row (``views/…``, no hash, 0 bytes) and the same
        :class:`ClipFinalised` as a clip file's."""
        plan = self.plan
        stream = first.stream
        end_ticks, frames = 0, 0
        packet: EncodedPacket | None = first
        while packet is not None:
            if packet.stream is stream:  # a clip holds one stream, as a muxed one
                end_ticks = max(end_ticks, packet.pts - first.pts + packet.duration)
                frames += 1
            packet = self._next_packet()
        clip = EncodedClip(frames, float(end_ticks * stream.time_base))
        where = footage_path(plan.media_root / VIEWS_DIR, plan.camera_key, started_at)
        relative = where.relative_to(plan.media_root).as_posix()
        sidecar = plan.media_root / tracks_media_path(relative)
        private_dir(sidecar.parent)
        self._write_tracks(sidecar, started_at, (stream.width, stream.height))
        log.info(
            "camera %s: clip %s (%.1f s, %d frames, a view onto the continuous recording)",
            plan.camera_key,
            relative,
            clip.duration_s,
            frames,
        )
        self._announce(
            MediaFile("clip", relative, "", 0),
            where,
            started_at,
            clip,
            stream.encoder or stream.codec,
            stream.stream_copy,
        )

    def _lost(self, started_at: datetime, final: Path | None, error: Exception) -> None:
        """Tell the watch that this clip is lost (its temp file is already removed). A
        clip whose rename went through before the error is complete on disk, not lost: the
        sweep gives it its row if it has none."""
        if final is not None and final.exists():
            return
        target = final or self._clip_path(started_at)
        path = target.relative_to(self.plan.media_root).as_posix()
        if self._media_watch is None:
            log.error("camera %s: clip %s lost", self.plan.camera_key, path)
            return
        self._media_watch.failed(self.plan.camera_key, "clip", path, error, at=started_at)

    def _clip_path(self, started_at: datetime) -> Path:
        """The clip's name before any clash with an existing name is resolved."""
        return footage_path(self.plan.clips_dir, self.plan.camera_key, started_at)

    def _final_path(self, started_at: datetime) -> Path:
        return unused_footage_path(self.plan.clips_dir, self.plan.camera_key, started_at)

    def _finalise(
        self,
        partial: Path,
        final: Path,
        started_at: datetime,
        ended_at: datetime,
        encoded: EncodedClip,
        codec: str,
        stream_copy: bool,
        clip_size: tuple[int, int],
    ) -> None:
        # Durable content first, then the name, then the row: a row only for a complete
        # file (engine.record.files.finish_file).
        sha256, size = finish_file(partial, final)
        plan = self.plan
        self._write_tracks(tracks_path(final), started_at, clip_size)
        relative = final.relative_to(plan.media_root).as_posix()
        log.info(
            "camera %s: clip %s (%.1f s, %d frames, %d dropped, %s%s)",
            plan.camera_key,
            relative,
            encoded.duration_s,
            encoded.frames,
            self.dropped,
            codec,
            ", the camera's own packets" if stream_copy else "",
        )
        self._announce(
            MediaFile("clip", relative, sha256, size),
            final,
            started_at,
            encoded,
            codec,
            stream_copy,
        )
        if self._media_watch is not None:
            self._media_watch.written(plan.camera_key, "clip", at=ended_at)

    def _announce(
        self,
        file: MediaFile,
        where: Path,
        started_at: datetime,
        encoded: EncodedClip,
        codec: str,
        stream_copy: bool,
    ) -> None:
        """The clip's row (:meth:`_write_row`), then :class:`ClipFinalised` on the bus."""
        plan = self.plan
        ended_at = started_at + timedelta(seconds=encoded.duration_s)
        media_id = self._write_row(file, started_at, ended_at, where)
        self._bus.publish(
            ClipFinalised(
                at=ended_at,  # the clip's own time base: its last frame, as its events
                camera=plan.camera_key,
                camera_id=plan.camera_id,
                path=file.path,
                started_at=started_at,
                duration_s=encoded.duration_s,
                frames=encoded.frames,
                dropped_frames=self.dropped,
                size_bytes=file.size_bytes,
                sha256=file.sha256,
                codec=codec,
                stream_copy=stream_copy,
                media_id=media_id,
                event_id=plan.event_id,
            )
        )

    def _write_row(
        self, file: MediaFile, started_at: datetime, ended_at: datetime, final: Path
    ) -> int | None:
        """The clip's media row through the store writer; its id, or None if it could not
        be written within :data:`ROW_WAIT_S`. The file is kept either way: deleting
        evidence because the database hiccupped would be worse than a file without a row."""
        if self._store_writer is None:
            return None
        command = InsertMedia(
            file=file,
            created_at=started_at,
            camera_id=self.plan.camera_id,
            event_id=self.plan.event_id,
            started_at=started_at,
            ended_at=ended_at,
        )
        try:
            media_id = self._store_writer.submit(command).result(ROW_WAIT_S)
        except FutureTimeoutError:
            log.warning(
                "clip %s is saved; its media row is still queued (store busy), written later",
                final,
            )
            return None
        except StoreUnavailableError as exc:
            log.error(
                "clip %s is saved but the store is unavailable (%s): kept on disk, and "
                "adopted by the orphan sweep of a later run",
                final,
                exc,
            )
            return None
        except Exception:
            log.exception("clip %s is saved but its media row could not be written", final)
            return None
        return int(media_id)
