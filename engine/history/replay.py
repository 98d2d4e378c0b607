"""Replaying a recorded range: a playback clock, the clips and events of the range, the frame
of each camera at the replayed moment, and the recorded sensing of the room.

The pieces, in the order the console uses them:

- :class:`PlaybackClock` is the replay position: a wall time (UTC) inside ``[start, end]``
  that moves at 0.25×–16× of the engine clock's monotonic time while playing. Reading it
  costs a lock and some arithmetic, so the GUI thread reads it at display rate.
- :class:`ReplayPlanRequest` (a query-service request) lists, per camera, the footage that
  covers the range (continuous-recording segments, and event clips where none is), which
  of it is missing on disk, the stretches nobody recorded, and the event times of the
  range for "jump to the next event".
- :class:`ClipFrameReader` gives one camera's frame at a wall time from the plan's clips
  (PyAV): it decodes forward a little when playback moves on, seeks on jumps and reopens
  on a clip change; when decoding every frame cannot keep up with the playback speed it
  shows keyframes only, each decoded alone.
- :class:`ReplayDecoder` is a named engine thread (``replay-decoder``) that reads the
  playback clock about 25 times a second and keeps the newest frame of each camera for the
  tiles, which pull them through :meth:`ReplayDecoder.frame_getter` as they pull live ones.
- :class:`SensingReplayRequest` re-runs the sensing chain over the range (see
  :mod:`engine.sensing.recording.replay`) and keeps the 3D view's snapshots as a
  :class:`SensingTimeline`; :func:`compare_sensing` replays a range with the room's own and
  with other settings and matches the blobs each found.

Threads: requests run on the query service's pool; the decoder runs on its own thread;
:class:`PlaybackClock` and :class:`ReplayDecoder`'s getters may be called from any thread.
Nothing here reads ``time.time()``: monotonic time comes from the engine :class:`Clock`.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from engine.clock import Clock
from engine.frames import Frame
from engine.history.events import CLIP_SPAN_BOUND_S
from engine.media import FOOTAGE_KINDS, FRAGMENTED_READ_OPTIONS, SEGMENT_KIND
from engine.sensing.recording.replay import (
    ReplayedBlob,
    ReplayReport,
    ReplaySettings,
    replay_recording,
)
from engine.sensing.service import ExplanationBasis, RoomSpec
from engine.sensing.view import BlobExplanation, SensingSnapshot, VoxelView
from engine.store.database import Store
from engine.store.models import Camera, Event, Media

_log = logging.getLogger(__name__)

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""Playback speeds the investigator may choose (× real time)."""

DECODER_THREAD_NAME = "replay-decoder"
DECODER_RATE_HZ = 25.0  # how often the decoder reads the playback clock
MAX_JUMP_EVENTS = 10_000  # event times a plan carries for jumping; beyond, ask the store
SEQUENTIAL_LIMIT_S = 2.0  # a forward move shorter than this decodes on…
# …and a longer one too while decoding on is expected to cost less than a seek (measured
# per clip; these are the first guesses, from vtest.avi on a 2-core 2026 VM).
GRAB_COST_S = 0.0008
SEEK_COST_S = 0.03
COST_SMOOTHING = 0.2  # weight of the newest measurement in the running costs
# A frame this little after the moment asked for is still the frame at it: wall times are
# whole microseconds and frame times are not (frame 200 of 15 fps is at 13.333… s), and a
# frame step moves the playback clock by a rounded 1/fps.
FRAME_TIME_TOLERANCE_S = 0.001
# FFmpeg's decoder threads for frame-exact decoding (PyAV's thread_type): frame and slice
# threads. Camera H.264 is one slice a picture, so slice threads alone decode on one core
# (1080p: 7–10 ms a frame on a loaded 2-core VM against 4–7 with frame threads).
DECODE_THREADS = "AUTO"
# Keyframes only: playing decodes every frame while that is expected to take at most this
# share of real time over all the cameras; above it each camera shows the keyframe at or
# before the position. All of it: just under, decoding every frame still shows most
# frames a few hundred ms late, which beats a keyframe every 2 s (benchmarks/replay_fast.py,
# four 1080p15 cameras at 1× on a loaded 2-core VM: 10 frames a second each against 0.5).
DECODE_BUDGET = 1.0
KEYFRAMES_RETURN = 0.7  # back to every frame below this share of the budget (no flapping)
# While keyframes are shown the cost of decoding every frame is not measured, so it is
# taken to halve every this many seconds of the playback clock: a load that passed (another
# process, a burst of analysis) lets the camera try every frame again and measure, one that
# stays sends it back within a few frames (a cost three times the share is retried after
# about 10 s). Without it a camera tipped into keyframes by a busy moment stayed there at
# 1× (four cameras showed 5–7 % of their frames in one run in four).
GRAB_COST_HALF_LIFE_S = 5.0
# First guess of one keyframe sought and decoded alone by PyAV: 20–35 ms at 1080p on a
# 2-core 2026 VM (an OpenCV seek to the same keyframe took 230–280 ms: it decodes on from
# the keyframe before).
KEYFRAME_COST_S = 0.03
FRAME_SLACK_S = 0.5  # a clip's last frame still shows this long after its ended_at
MISSING_LISTED = 5  # missing clips named in the message; the rest are counted
SNAPSHOT_INTERVAL_S = 0.5  # a sensing timeline keeps one 3D snapshot per this many seconds
MAX_TIMELINE_SNAPSHOTS = 7200  # beyond this the interval grows (1 h at 0.5 s)
# Past this the timeline thins itself: every other snapshot goes, the interval doubles. A
# 4-node 5 × 5 m room with a walker costs ~14 kB a snapshot (100 MB an hour at 0.5 s).
MAX_TIMELINE_BYTES = 200_000_000
# A timeline keeps the voxels the 3D view can draw: above half its default thresholds
# (it draws above 0.02 and above 40 % of the tick's strongest voxel).
VOXEL_KEEP_FLOOR = 0.01
VOXEL_KEEP_PEAK_FRACTION = 0.2
MATCH_DISTANCE_M = 1.0  # two blobs of a comparison are one person within this distance


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("replay times must be timezone-aware (UTC)")
    return ts.astimezone(UTC)


def _hms(ts: datetime) -> str:
    return f"{ts.astimezone(UTC):%H:%M:%S}"


# ---------------------------------------------------------------------------- playback clock


def speed_text(speed: float) -> str:
    """``0.25×``, ``1×``, ``16×``."""
    return f"{speed:g}×"


class PlaybackClock:
    """The replay position: a UTC wall time in ``[start, end]`` that advances ``speed``
    seconds per second of ``clock.monotonic()`` while playing, and stops at ``end``.

    It starts paused at ``at`` (default ``start``). Every method may be called from any
    thread (one lock); the GUI thread and the decoder thread read it concurrently.
    """

    def __init__(
        self,
        start: datetime,
        end: datetime,
        clock: Clock,
        *,
        at: datetime | None = None,
        speed: float = 1.0,
    ) -> None:
        start, end = _utc(start), _utc(end)
        if end <= start:
            raise ValueError("the replay range ends before it starts")
        self.start = start
        self.end = end
        self._clock = clock
        self._lock = threading.Lock()
        self._check_speed(speed)
        self._speed = float(speed)
        self._playing = False
        self._anchor_pos = self._clamp(start if at is None else _utc(at))
        self._anchor_mono = clock.monotonic()

    @staticmethod
    def _check_speed(speed: float) -> None:
        if speed not in SPEEDS:
            allowed = ", ".join(speed_text(s) for s in SPEEDS)
            raise ValueError(f"replay speed must be one of {allowed}; got {speed!r}")

    def _clamp(self, ts: datetime) -> datetime:
        return min(max(ts, self.start), self.end)

    def _position_locked(self, monotonic_s: float, *, settle: bool = True) -> datetime:
        """The position at ``monotonic_s``; reaching ``end`` stops playback there unless
        ``settle`` is False (a question about another moment changes nothing)."""
        if not self._playing:
            return self._anchor_pos
        elapsed = max(monotonic_s - self._anchor_mono, 0.0) * self._speed
        position = self._anchor_pos + timedelta(seconds=elapsed)
        if position < self.end:
            return position
        if settle:  # playback stops at the end of the range
            self._playing = False
            self._anchor_pos, self._anchor_mono = self.end, monotonic_s
        return self.end

    def _reanchor_locked(self, position: datetime | None = None) -> None:
        now = self._clock.monotonic()
        current = self._position_locked(now)
        self._anchor_pos = current if position is None else self._clamp(position)
        self._anchor_mono = now

    def position(self, monotonic_s: float | None = None) -> datetime:
        """The replayed wall time (UTC) at engine monotonic time ``monotonic_s`` (None: now)."""
        with self._lock:
            if monotonic_s is None:
                return self._position_locked(self._clock.monotonic())
            return self._position_locked(monotonic_s, settle=False)

    @property
    def playing(self) -> bool:
        """Whether the position moves (False once it has reached ``end``)."""
        with self._lock:
            self._position_locked(self._clock.monotonic())
            return self._playing

    @property
    def speed(self) -> float:
        with self._lock:
            return self._speed

    def play(self) -> None:
        """Move on from the current position (at ``end`` there is nothing left: stays paused)."""
        with self._lock:
            self._reanchor_locked()
            self._playing = self._anchor_pos < self.end

    def pause(self) -> None:
        """Stop at the current position."""
        with self._lock:
            self._reanchor_locked()
            self._playing = False

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` × real time, one of :data:`SPEEDS` (else ValueError naming them)."""
        self._check_speed(speed)
        with self._lock:
            self._reanchor_locked()
            self._speed = float(speed)

    def seek(self, ts: datetime) -> datetime:
        """Move to ``ts`` (clamped to the range); playing goes on playing. Returns where it is."""
        with self._lock:
            self._reanchor_locked(_utc(ts))
            if self._anchor_pos >= self.end:
                self._playing = False
            return self._anchor_pos

    def step(self, frames: int, fps: float) -> datetime:
        """Pause and move by ``frames`` frames of ``fps`` (negative: back), clamped.
        Returns the new position."""
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"frame rate must be a positive number, got {fps!r}")
        with self._lock:
            self._reanchor_locked()
            self._playing = False
            self._anchor_pos = self._clamp(self._anchor_pos + timedelta(seconds=frames / fps))
            return self._anchor_pos


# ------------------------------------------------------------------------------------- plan


@dataclass(frozen=True, slots=True)
class ClipSpan:
    """One clip of a camera: media row id, path (relative to the data dir), the wall time
    it covers (UTC) and whether its file is on disk."""

    media_id: int
    path: str
    started_at: datetime
    ended_at: datetime
    present: bool


@dataclass(frozen=True, slots=True)
class MissingClip:
    """A clip whose row exists but whose file is gone."""

    camera: str
    path: str
    started_at: datetime
    ended_at: datetime

    def describe(self) -> str:
        return f"{self.camera} {_hms(self.started_at)}–{_hms(self.ended_at)} ({self.path})"


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of the range (UTC) where a camera has no clip at all."""

    camera: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """What a range holds: ``clips`` per camera key (sorted by start; missing ones too,
    with ``present`` False), the ``missing`` clips, the ``gaps`` nobody recorded, and the
    sorted ``event_times`` of the range (at most :data:`MAX_JUMP_EVENTS`;
    ``events_truncated`` says there were more). ``cameras`` keeps the requested order."""

    start: datetime
    end: datetime
    media_root: Path
    cameras: tuple[str, ...]
    clips: dict[str, tuple[ClipSpan, ...]]
    missing: tuple[MissingClip, ...]
    gaps: tuple[Gap, ...]
    event_times: tuple[datetime, ...]
    events_truncated: bool = False
    # A console attached to a shared site: brings a file another machine keeps (the
    # request's ``fetch``); segments are fetched as they are played, not with the plan.
    fetch: Callable[[Path], Path] | None = field(default=None, compare=False)

    def describe_missing(self) -> str:
        """``2 clips missing: lobby 09:14:03–09:14:11 (clips/lobby/….mp4), …; playing the
        rest`` ("" when nothing is missing)."""
        if not self.missing:
            return ""
        count = len(self.missing)
        listed = ", ".join(m.describe() for m in self.missing[:MISSING_LISTED])
        more = f" and {count - MISSING_LISTED} more" if count > MISSING_LISTED else ""
        noun = "clip" if count == 1 else "clips"
        return f"{count} {noun} missing: {listed}{more}; playing the rest"

    def next_event_time(self, after: datetime, backwards: bool = False) -> datetime | None:
        """The first event time strictly after (before, ``backwards``) ``after`` among
        :attr:`event_times`, or None."""
        times = self.event_times
        if backwards:
            index = bisect.bisect_left(times, after) - 1
            return times[index] if index >= 0 else None
        index = bisect.bisect_right(times, after)
        return times[index] if index < len(times) else None


@dataclass(frozen=True, slots=True)
class ReplayPlanRequest:
    """The :class:`ReplayPlan` of ``[start, end]`` for ``cameras`` (keys; None: every
    camera), with clip files looked up under ``media_root``. Three statements: the
    cameras, the clips (one range on ``ix_media_camera_span`` per camera) and the event
    times (a range on ``ix_events_ts_id``)."""

    start: datetime
    end: datetime
    cameras: tuple[str, ...] | None
    media_root: Path
    max_events: int = MAX_JUMP_EVENTS
    # A console attached to a shared site: fetches a clip another machine keeps into
    # media_root (given the file's place there; raises when it cannot). None: all local.
    fetch: Callable[[Path], Path] | None = None

    def run(self, store: Store) -> ReplayPlan:
        start, end = _utc(self.start), _utc(self.end)
        if end <= start:
            raise ValueError("the replay range ends before it starts")
        bound = timedelta(seconds=CLIP_SPAN_BOUND_S)
        with store.sessions() as session:
            camera_stmt = select(Camera.id, Camera.key).order_by(Camera.id)
            if self.cameras is not None:
                camera_stmt = camera_stmt.where(Camera.key.in_(self.cameras))
            found = {key: camera_id for camera_id, key in session.execute(camera_stmt).all()}
            order = (
                [key for key in self.cameras if key in found]
                if self.cameras is not None
                else list(found)
            )
            key_of = {camera_id: key for key, camera_id in found.items()}
            rows: list[Any] = []
            if found:
                rows = list(
                    session.execute(
                        select(
                            Media.camera_id,
                            Media.id,
                            Media.path,
                            Media.started_at,
                            Media.ended_at,
                            Media.kind,
                        )
                        .where(
                            Media.camera_id.in_(list(found.values())),
                            Media.started_at >= start - bound,
                            Media.started_at <= end,
                            Media.ended_at >= start,
                            Media.kind.in_(FOOTAGE_KINDS),
                        )
                        .order_by(Media.camera_id, Media.started_at)
                    ).all()
                )
            times = list(
                session.execute(
                    select(Event.ts)
                    .where(Event.ts >= start, Event.ts <= end)
                    .order_by(Event.ts, Event.id)
                    .limit(self.max_events + 1)
                ).scalars()
            )
        clips: dict[str, list[ClipSpan]] = {key: [] for key in order}
        missing: list[MissingClip] = []
        for camera_id, media_id, path, started_at, ended_at, kind in _footage(rows):
            key = key_of[camera_id]
            present = (self.media_root / path).is_file()
            if not present and self.fetch is not None and kind == SEGMENT_KIND:
                # A range of continuous recording is many files: each is fetched when
                # playback reaches it (ClipFrameReader), not all before the plan shows.
                present = True
            elif not present and self.fetch is not None:
                try:
                    self.fetch(self.media_root / path)
                    present = True
                except Exception as exc:  # its engine away, the file purged: a missing clip
                    _log.info("clip %s not fetched for the replay: %s", path, exc)
            clips[key].append(ClipSpan(int(media_id), str(path), started_at, ended_at, present))
            if not present:
                missing.append(MissingClip(key, str(path), started_at, ended_at))
        gaps: list[Gap] = []
        for key in order:
            covered_to = start
            for clip in clips[key]:
                if clip.started_at > covered_to:
                    gaps.append(Gap(key, covered_to, min(clip.started_at, end)))
                covered_to = max(covered_to, clip.ended_at)
            if covered_to < end:
                gaps.append(Gap(key, covered_to, end))
        missing.sort(key=lambda m: (m.started_at, m.camera))
        return ReplayPlan(
            start=start,
            end=end,
            media_root=self.media_root,
            cameras=tuple(order),
            clips={key: tuple(spans) for key, spans in clips.items()},
            missing=tuple(missing),
            gaps=tuple(gaps),
            event_times=tuple(times[: self.max_events]),
            events_truncated=len(times) > self.max_events,
            fetch=self.fetch,
        )


def _footage(rows: list[Any]) -> list[tuple[int, int, str, datetime, datetime, str]]:
    """The footage to play of each camera from its media rows (camera, id, path, start,
    end, kind; by camera and start): every continuous-recording segment, and the event
    clips that cover something no segment does (clips recorded before continuous
    recording, or in its gaps). A clip inside the segments holds the same packets:
    playing the segments instead never switches files mid-stretch."""
    kept: list[tuple[int, int, str, datetime, datetime, str]] = []
    for _camera, group in itertools.groupby(rows, key=lambda row: row[0]):
        rows_of_camera = list(group)
        segments = [r for r in rows_of_camera if r[5] == SEGMENT_KIND]
        covered: list[tuple[datetime, datetime]] = []
        for segment in segments:  # by start: merge touching spans
            if covered and segment[3] <= covered[-1][1] + timedelta(seconds=FRAME_SLACK_S):
                covered[-1] = (covered[-1][0], max(covered[-1][1], segment[4]))
            else:
                covered.append((segment[3], segment[4]))
        for row in rows_of_camera:
            inside = any(a <= row[3] and row[4] <= b for a, b in covered)
            if row[5] == SEGMENT_KIND or not inside:
                kept.append(tuple(row))
    return kept


@dataclass(frozen=True, slots=True)
class NextEvent:
    """An event found by :class:`NextEventRequest`."""

    id: int
    ts: datetime
    kind: str
    source: str


@dataclass(frozen=True, slots=True)
class NextEventRequest:
    """The first event strictly after ``after`` (``backwards``: strictly before), from
    ``sources`` (``camera:lobby``, ``sensing:hall``; None: any), or None. One statement,
    walking ``ix_events_ts_id`` from ``after``."""

    after: datetime
    sources: tuple[str, ...] | None = None
    backwards: bool = False

    def run(self, store: Store) -> NextEvent | None:
        after = _utc(self.after)
        stmt = select(Event.id, Event.ts, Event.kind, Event.source)
        if self.backwards:
            stmt = stmt.where(Event.ts < after).order_by(Event.ts.desc(), Event.id.desc())
        else:
            stmt = stmt.where(Event.ts > after).order_by(Event.ts, Event.id)
        if self.sources is not None:
            stmt = stmt.where(Event.source.in_(self.sources))
        with store.engine.connect() as connection:
            row = connection.execute(stmt.limit(1)).first()
        if row is None:
            return None
        return NextEvent(int(row.id), row.ts, str(row.kind), str(row.source))


# ------------------------------------------------------------------------------- clip frames


@dataclass(frozen=True, slots=True)
class FrameAt:
    """A camera at one replayed moment: the frame (None when there is none) and, without
    one, why (``no recording at 09:14:05``, ``clip missing: …``)."""

    frame: Frame | None
    reason: str = ""


class ClipFrameReader:
    """One camera's frame at a wall time, read from its clips with PyAV.

    Each clip is opened without FFmpeg's frame-rate probe
    (:data:`~engine.media.FRAGMENTED_READ_OPTIONS`), which would read every fragment of a
    continuous-recording segment: 16 ms to open a 10 s 1080p segment instead of 55 (an
    OpenCV capture cannot be told so but for the whole process).

    Frame-exact (paused, stepping, and playing while decoding keeps up): the frame shown
    for ``ts`` is the last one whose time is at or before ``ts``. Moving forward decodes
    on from the frame shown when the move is under :data:`SEQUENTIAL_LIMIT_S` or decoding
    on is expected to cost less than a seek (running costs of both, measured on this
    clip); otherwise, and backwards, it seeks to the keyframe at or before ``ts`` and
    decodes on from there. The reader keeps the frame after the one shown decoded (that
    is how it knows the one shown is the last at or before ``ts``) and converts only the
    frame shown into a picture.

    Keyframes only (playing faster than decoding can follow): the frame shown for ``ts``
    is the keyframe at or before it, sought and decoded alone (one packet; a frame-exact
    seek decodes on from that keyframe to ``ts``, up to ten times the cost at 1080p), and
    the same keyframe is not decoded twice. The switch (:meth:`plays_keyframes`) is
    decided on each frame asked for while playing: decoding every frame costs ``speed`` ×
    frame rate × the running cost of decoding one (measured, starting at
    :data:`GRAB_COST_S`) seconds per second; keyframes only once that exceeds ``share``
    (the decoder's :data:`DECODE_BUDGET` split over its cameras), every frame again once it
    is under :data:`KEYFRAMES_RETURN` of it. That cost is not measured while showing
    keyframes: it is taken to halve every :data:`GRAB_COST_HALF_LIFE_S` seconds there, so a
    camera tries every frame again once a busy moment may have passed.
    Paused or stepping (``speed`` None) always gives the exact frame.

    Another clip is opened when the time leaves this one; only a regular file is opened
    (a FIFO or a device under the media root would block the decoder thread or be read as
    footage). A frame's ``wall_at`` is the clip's start plus the frame's own timestamp in
    the clip (a keyframe's true time when showing keyframes). Not thread-safe: one thread
    (the decoder) owns a reader. ``keyframes`` True or False forces one way while playing
    (benchmarks compare them).
    """

    def __init__(
        self,
        camera: str,
        clips: Sequence[ClipSpan],
        media_root: Path,
        clock: Clock,
        fetch: Callable[[Path], Path] | None = None,
        *,
        keyframes: bool | None = None,
    ) -> None:
        self.camera = camera
        self._fetch = fetch  # brings a file another machine keeps (an attached console)
        self._clips = sorted(clips, key=lambda c: c.started_at)
        self._starts = [c.started_at for c in self._clips]
        self._root = media_root
        self._clock = clock
        self._seq = itertools.count(1)
        self._container: Any = None  # PyAV container of the clip, decoding every frame
        self._decoding: Generator[Any] | None = None  # its frames on from the last seek
        self._clip: ClipSpan | None = None
        self._fps = 0.0
        self._frame_s: float | None = None  # time in the clip of the frame shown
        self._picture: Any = None  # that frame decoded, until converted into _frame
        self._frame: Frame | None = None
        self._ahead: Any = None  # the frame after it, decoded (None: not yet, or the end)
        self._ahead_s = 0.0
        self._to_bgr: Any = None  # one PyAV reformatter: its conversion context is reused
        self.decoded = 0  # frames decoded (passed or shown, or keyframes), for throughput
        self.seeks = 0
        self.grab_cost_s = GRAB_COST_S  # running costs of decoding one frame and of a seek
        self.seek_cost_s = SEEK_COST_S
        self._forced_keyframes = keyframes
        self.keyframes_only = False
        """Whether playing shows keyframes only (the last decision of :meth:`plays_keyframes`)."""
        self._cost_aged_at: float | None = None  # playback clock of the last decision
        self.keyframes_decoded = 0
        self.keyframe_cost_s = KEYFRAME_COST_S  # running cost of seeking and decoding one
        self._input: Any = None  # PyAV container of the clip, opened for keyframes only
        self._key_pts: int | None = None  # pts of the keyframe shown last, and that frame
        self._key_frame: Frame | None = None

    def close(self) -> None:
        if self._decoding is not None:
            self._decoding.close()
        for container in (self._container, self._input):
            if container is not None:
                container.close()
        self._container, self._decoding, self._clip = None, None, None
        self._picture, self._frame, self._frame_s, self._ahead = None, None, None, None
        self._input, self._key_pts, self._key_frame = None, None, None

    def clip_at(self, ts: datetime) -> ClipSpan | None:
        """The clip covering ``ts`` (the latest-starting one when clips overlap)."""
        index = bisect.bisect_right(self._starts, ts) - 1
        slack = timedelta(seconds=FRAME_SLACK_S)
        while index >= 0:
            clip = self._clips[index]
            if clip.ended_at + slack >= ts:
                return clip
            index -= 1
            if index >= 0 and ts - self._clips[index].started_at > timedelta(
                seconds=CLIP_SPAN_BOUND_S
            ):
                break
        return None

    def frame_at(self, ts: datetime, speed: float | None = None, share: float = 1.0) -> FrameAt:
        """The frame at wall time ``ts`` (UTC), or None and the reason. ``speed``: playback
        is playing at this speed (× real time), and this camera's decoding may take
        ``share`` of real time (see :meth:`plays_keyframes`); None (paused, stepping, a
        single look): the exact frame."""
        ts = _utc(ts)
        clip = self.clip_at(ts)
        if clip is None:
            return FrameAt(None, f"no recording at {_hms(ts)}")
        if not clip.present:
            return FrameAt(None, f"clip missing: {clip.path}")
        if clip is not self._clip and not self._open(clip):
            return FrameAt(None, f"cannot open clip: {clip.path}")
        target_s = max((ts - clip.started_at).total_seconds(), 0.0)
        if speed is not None and self.plays_keyframes(speed, share):
            frame = self._keyframe_to(target_s)
        else:
            frame = self._decode_to(target_s)
        if frame is None:
            return FrameAt(None, f"no frame at {_hms(ts)} in {clip.path}")
        return FrameAt(frame)

    def _open(self, clip: ClipSpan) -> bool:
        import av

        self.close()
        path = self._root / clip.path
        if not path.is_file() and self._fetch is not None:
            try:
                self._fetch(path)
            except Exception as exc:  # its engine away, the file purged
                _log.info("replay %s: %s not fetched: %s", self.camera, clip.path, exc)
                return False
        if not path.is_file():  # gone since the plan, or a FIFO, a device, a folder
            _log.info("replay %s: %s is not a file", self.camera, clip.path)
            return False
        try:
            container = av.open(str(path), options=dict(FRAGMENTED_READ_OPTIONS))
        except (av.error.FFmpegError, OSError) as exc:  # not footage, or unreadable
            _log.info("replay %s: cannot open %s: %s", self.camera, clip.path, exc)
            return False
        if not container.streams.video:
            container.close()
            _log.info("replay %s: %s holds no video", self.camera, clip.path)
            return False
        stream = container.streams.video[0]
        stream.thread_type = DECODE_THREADS
        self._container, self._clip = container, clip
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        self._fps = fps if math.isfinite(fps) and 0 < fps < 1000 else 10.0
        return True

    def plays_keyframes(self, speed: float, share: float) -> bool:
        """Whether playing at ``speed`` (× real time) shows keyframes only, when decoding
        may take ``share`` of real time: every frame costs ``speed`` × frame rate × the
        cost of decoding one seconds per second; above ``share`` keyframes only, below
        :data:`KEYFRAMES_RETURN` × ``share`` every frame, in between as before. Updates
        :attr:`keyframes_only` (unless forced at construction)."""
        if self._forced_keyframes is not None:
            self.keyframes_only = self._forced_keyframes
            return self.keyframes_only
        fps = self._fps if self._fps > 0 else 10.0  # before a clip is open
        now = self._clock.monotonic()
        if self.keyframes_only and self._cost_aged_at is not None:
            halves = (now - self._cost_aged_at) / GRAB_COST_HALF_LIFE_S
            self.grab_cost_s = max(GRAB_COST_S, self.grab_cost_s * 0.5**halves)
        self._cost_aged_at = now
        demand = speed * fps * self.grab_cost_s
        if self.keyframes_only:
            self.keyframes_only = demand > KEYFRAMES_RETURN * share
        else:
            self.keyframes_only = demand > share
        return self.keyframes_only

    def _keyframe_to(self, target_s: float) -> Frame | None:
        """The keyframe at or before ``target_s`` (seconds into the clip), decoded alone
        (the one shown already, when it is the same)."""
        clip = self._clip
        assert clip is not None
        if self._input is None:
            import av

            # (clips and segments: a segment's fragments are not all read to open it)
            self._input = av.open(
                str(self._root / clip.path), options=dict(FRAGMENTED_READ_OPTIONS)
            )
            # Slice threads give a picture per packet; frame threads hold it back a few.
            self._input.streams.video[0].thread_type = "SLICE"
            self._key_pts, self._key_frame = None, None
        container = self._input
        stream = container.streams.video[0]
        start = stream.start_time or 0
        started = time.perf_counter()
        container.seek(
            start + int(target_s / stream.time_base), stream=stream, backward=True, any_frame=False
        )
        pictures: list[Any] = []
        first = True
        for packet in container.demux(stream):
            if first and packet.size:
                first = False
                if packet.pts == self._key_pts and self._key_frame is not None:
                    return self._key_frame  # still the keyframe shown: nothing to decode
            # The first picture out is the keyframe sought (a decoder that holds pictures
            # back takes a few packets more; the empty packet at the end drains it).
            pictures = list(stream.decode(packet))
            self.decoded += 1 if packet.size else 0
            if pictures:
                break
        if not pictures or pictures[0].pts is None:
            return self._key_frame
        picture = pictures[0]
        image = self._bgr(picture)
        self.keyframes_decoded += 1
        self.keyframe_cost_s += COST_SMOOTHING * (
            time.perf_counter() - started - self.keyframe_cost_s
        )
        self._key_pts = int(picture.pts)
        self._key_frame = Frame(
            seq=next(self._seq),
            image=image,
            captured_at=self._clock.monotonic(),
            source_fps=self._fps,
            wall_at=clip.started_at
            + timedelta(seconds=float((picture.pts - start) * stream.time_base)),
        )
        return self._key_frame

    def _decode_on_cheaper(self, ahead_s: float) -> bool:
        """Whether decoding on ``ahead_s`` seconds costs less than seeking there."""
        if ahead_s <= SEQUENTIAL_LIMIT_S:
            return True
        return ahead_s * self._fps * self.grab_cost_s <= self.seek_cost_s

    def _decode_to(self, target_s: float) -> Frame | None:
        """The last frame at or before ``target_s`` (seconds into the clip): decoded on
        from the frame shown, or after a seek (see the class)."""
        current = self._frame_s
        if (
            current is None
            or target_s < current - FRAME_TIME_TOLERANCE_S
            or not self._decode_on_cheaper(target_s - current)
        ):
            self.seeks += 1
            started = time.perf_counter()
            self._seek(target_s)
            self._decode_on(target_s)
            self.seek_cost_s += COST_SMOOTHING * (time.perf_counter() - started - self.seek_cost_s)
        else:
            self._decode_on(target_s)
        if self._frame is None and self._picture is not None:
            clip = self._clip
            assert clip is not None and self._frame_s is not None
            self._frame = Frame(
                seq=next(self._seq),
                image=self._bgr(self._picture),
                captured_at=self._clock.monotonic(),
                source_fps=self._fps,
                wall_at=clip.started_at + timedelta(seconds=self._frame_s),
            )
            self._picture = None
        return self._frame

    def _bgr(self, picture: Any) -> npt.NDArray[np.uint8]:
        """``picture`` (a PyAV frame) as a BGR image. Through one reformatter: a frame's
        own ``to_ndarray(format="bgr24")`` sets up a conversion context for every frame,
        which took longer than the conversion (5–8 ms against 1–3 at 1080p)."""
        if self._to_bgr is None:
            from av.video.reformatter import VideoReformatter

            self._to_bgr = VideoReformatter()
        image: npt.NDArray[np.uint8] = self._to_bgr.reformat(picture, format="bgr24").to_ndarray()
        return image

    def _seek(self, target_s: float) -> None:
        """Start decoding again at the keyframe at or before ``target_s`` (seconds into
        the clip); nothing is shown until :meth:`_decode_on`."""
        if self._decoding is not None:
            self._decoding.close()
        container = self._container
        stream = container.streams.video[0]
        # (a hair later than asked: a moment a rounding error before a keyframe is the
        # keyframe's, not a whole group of pictures earlier)
        pts = int((target_s + FRAME_TIME_TOLERANCE_S) / stream.time_base)
        container.seek((stream.start_time or 0) + pts, stream=stream, backward=True)
        self._decoding = self._frames_of(container, stream)
        self._picture, self._frame, self._frame_s, self._ahead = None, None, None, None

    def _decode_on(self, target_s: float) -> None:
        """Decode on to the last frame at or before ``target_s`` (after a seek that landed
        late, the first one), keeping the frame after it decoded. At the clip's end its
        last frame stays."""
        tolerance = FRAME_TIME_TOLERANCE_S
        while True:
            if self._ahead is None and not self._decode_next():
                return
            if self._frame_s is not None and self._ahead_s > target_s + tolerance:
                return
            self._picture, self._frame_s, self._frame = self._ahead, self._ahead_s, None
            self._ahead = None
            self.decoded += 1

    def _decode_next(self) -> bool:
        """Decode the frame after the one shown into ``_ahead``; False at the clip's end."""
        if self._decoding is None:
            return False
        started = time.perf_counter()
        picture = next(self._decoding, None)
        if picture is None:
            self._decoding = None
            return False
        if self._frame_s is not None:
            # Not the first frame after a seek: that one waits for the decoder's threads
            # to fill (several packets), a cost of the seek; counted as the cost of every
            # frame it once tipped four cameras at 1× into keyframes only.
            elapsed = time.perf_counter() - started
            self.grab_cost_s += COST_SMOOTHING * (elapsed - self.grab_cost_s)
        stream = self._container.streams.video[0]
        if picture.pts is not None:
            self._ahead_s = float((picture.pts - (stream.start_time or 0)) * stream.time_base)
        else:  # a frame without a time (not from our recorder): one interval on
            self._ahead_s = (self._frame_s or 0.0) + 1.0 / self._fps
        self._ahead = picture
        return True

    def _frames_of(self, container: Any, stream: Any) -> Generator[Any]:
        """The frames of ``stream`` in order from where ``container`` was sought; a packet
        that does not decode is skipped, and a file that cannot be read on ends there
        (both logged)."""
        import av

        path = self._clip.path if self._clip is not None else "?"
        try:
            for packet in container.demux(stream):
                try:
                    pictures = stream.decode(packet)
                except av.error.InvalidDataError as exc:  # one damaged picture
                    _log.debug("replay %s: a packet of %s skipped: %s", self.camera, path, exc)
                    continue
                yield from pictures
        except av.error.FFmpegError as exc:  # damaged or cut short: its end for this reader
            _log.info("replay %s: %s unreadable past here: %s", self.camera, path, exc)


# ---------------------------------------------------------------------------------- decoder


FrameGetter = Callable[[], Frame | None]


class ReplayDecoder:
    """Keeps the newest replayed frame of each camera of ``plan`` for the tiles.

    A named thread (:data:`DECODER_THREAD_NAME`) reads ``playback`` about ``rate_hz`` times
    a second (waits go through ``clock``) and asks each camera's :class:`ClipFrameReader`
    for the frame at that position. It always decodes toward the position read just now,
    so when decoding is slower than playback (16× of a busy camera) frames are skipped,
    never queued: the picture stays on time. While playing, each reader is told the speed
    and its share of :data:`DECODE_BUDGET` (split evenly over the cameras) and shows
    keyframes only when decoding every frame would cost more than that share (see
    :class:`ClipFrameReader`); paused or stepping, every camera shows the exact frame.
    :meth:`wake` makes it look again at once (after a seek or a step). Getters and
    :meth:`status` may be called from any thread. ``keyframes`` True or False forces the
    readers one way while playing (benchmarks); None decides by measured cost.
    """

    def __init__(
        self,
        plan: ReplayPlan,
        playback: PlaybackClock,
        clock: Clock,
        *,
        rate_hz: float = DECODER_RATE_HZ,
        keyframes: bool | None = None,
    ) -> None:
        self.plan = plan
        self.playback = playback
        self._clock = clock
        self._period_s = 1.0 / rate_hz
        self._readers = {
            camera: ClipFrameReader(
                camera,
                plan.clips.get(camera, ()),
                plan.media_root,
                clock,
                plan.fetch,
                keyframes=keyframes,
            )
            for camera in plan.cameras
        }
        self._share = DECODE_BUDGET / max(len(self._readers), 1)
        self._lock = threading.Lock()
        self._latest: dict[str, FrameAt] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        """Times the decoder has looked at the position (any thread may read it)."""
        self.position: datetime | None = None
        """The position the newest frames are for."""

    def start(self) -> None:
        """Start the decoder thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=DECODER_THREAD_NAME, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the playback position now rather than at the next period (any thread)."""
        self._wake.set()

    def close(self) -> None:
        """Stop and join the thread and close the clips. Idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        for reader in self._readers.values():
            reader.close()

    def decode_once(self) -> datetime:
        """Update every camera's frame to the position (read again before each camera),
        the thread's one pass; call it yourself only when the thread is not started.
        Returns the last position read."""
        position = self.playback.position()
        for camera, reader in self._readers.items():
            # Each camera decodes toward the position as it is now: when decoding the
            # others took long, this one does not start behind.
            position = self.playback.position()
            # Read after the position: paused, it is the exact frame at once.
            speed = self.playback.speed if self.playback.playing else None
            try:
                found = reader.frame_at(position, speed, self._share)
            except Exception as exc:  # a broken file must not end the replay of the others
                _log.exception("replay %s: cannot read a frame", camera)
                found = FrameAt(None, f"cannot read the clip: {exc}")
            with self._lock:
                self._latest[camera] = found
        with self._lock:
            self.position = position
            self.passes += 1
        return position

    def _run(self) -> None:
        while not self._stop.is_set():
            self.decode_once()
            self._clock.wait(self._wake, self._period_s)
            self._wake.clear()

    def frame_getter(self, camera: str) -> FrameGetter:
        """A getter for a camera tile: the newest frame (same object, same ``seq``, until
        a new one is decoded), or None while there is none at the position."""

        def newest() -> Frame | None:
            with self._lock:
                found = self._latest.get(camera)
            return None if found is None else found.frame

        return newest

    def status(self, camera: str) -> str:
        """Why ``camera`` has no frame at the position ("" when it has one or before the
        first pass)."""
        with self._lock:
            found = self._latest.get(camera)
        if found is None or found.frame is not None:
            return ""
        return found.reason[:1].upper() + found.reason[1:]

    def decoded_frames(self) -> int:
        """Frames decoded so far over every camera (for throughput figures)."""
        return sum(reader.decoded for reader in self._readers.values())

    def keyframes_only(self, camera: str) -> bool:
        """Whether ``camera``'s reader shows keyframes only while playing (its last
        decision; any thread may ask)."""
        reader = self._readers.get(camera)
        return reader is not None and reader.keyframes_only


# ---------------------------------------------------------------------------------- sensing


@dataclass(frozen=True, slots=True)
class _StoredSnapshot:
    """A snapshot without its dense voxel grid, and the voxels worth drawing (sparse)."""

    snapshot: SensingSnapshot
    voxel_index: npt.NDArray[np.unsignedinteger[Any]] | None
    voxel_values: npt.NDArray[np.float16] | None
    basis: ExplanationBasis | None = None

    def restore(self) -> SensingSnapshot:
        voxels = self.snapshot.voxels
        if voxels is None or self.voxel_index is None or self.voxel_values is None:
            return self.snapshot
        values = np.zeros(int(np.prod(voxels.shape)), dtype=np.float32)
        values[self.voxel_index] = self.voxel_values
        return dataclasses.replace(self.snapshot, voxels=dataclasses.replace(voxels, values=values))

    def nbytes(self) -> int:
        arrays = sum(a.nbytes for a in (self.voxel_index, self.voxel_values) if a is not None)
        # The activations are the tick's own; the model is shared by a session's ticks.
        arrays += 0 if self.basis is None else self.basis.activation.nbytes
        snapshot = self.snapshot
        # The small frozen views: nodes, links, blobs and their trails (estimated).
        views = sys.getsizeof(snapshot) + 200 * (len(snapshot.nodes) + len(snapshot.links))
        views += sum(300 + 80 * len(blob.trail) for blob in snapshot.blobs)
        return arrays + views


def _compact(snapshot: SensingSnapshot, basis: ExplanationBasis | None) -> _StoredSnapshot:
    voxels = snapshot.voxels
    if voxels is None:
        return _StoredSnapshot(snapshot, None, None, basis)
    values = voxels.values
    peak = float(values.max(initial=0.0))
    keep = max(VOXEL_KEEP_FLOOR, VOXEL_KEEP_PEAK_FRACTION * peak)
    kept = np.flatnonzero(values >= keep)
    index: npt.NDArray[np.unsignedinteger[Any]] = (
        kept.astype(np.uint16) if values.size <= np.iinfo(np.uint16).max else kept.astype(np.uint32)
    )
    empty = VoxelView(voxels.origin, voxels.voxel_m, voxels.shape, np.zeros(0, np.float32))
    # Half precision is plenty for a colour ramp (3 significant digits).
    return _StoredSnapshot(
        dataclasses.replace(snapshot, voxels=empty), index, values[index].astype(np.float16), basis
    )


@dataclass
class SensingTimeline:
    """The 3D view's snapshots of a replayed range, sorted by wall time (UTC), and the
    replay's report (blobs, events). Only the voxels the view can draw are kept (above
    :data:`VOXEL_KEEP_FLOOR` and :data:`VOXEL_KEEP_PEAK_FRACTION` of the tick's peak),
    sparse and in half precision, and restored by :meth:`at`: a view set to draw fainter
    voxels than that shows none of them in a replay. Memory stays under ``max_bytes``:
    past it, every other snapshot is dropped and :attr:`interval_s` doubles.
    Built on a worker; read-only afterwards, so any thread may read it."""

    room_id: str
    times: list[datetime] = field(default_factory=list)
    _stored: list[_StoredSnapshot] = field(default_factory=list, repr=False)
    report: ReplayReport | None = None
    interval_s: float = SNAPSHOT_INTERVAL_S
    max_bytes: int = MAX_TIMELINE_BYTES
    thinned: int = 0
    """How many times the timeline halved itself to stay under ``max_bytes``."""
    _bytes: int = field(default=0, repr=False)

    def add(
        self, ts: datetime, snapshot: SensingSnapshot, basis: ExplanationBasis | None = None
    ) -> None:
        """Keep ``snapshot`` for wall time ``ts`` (in time order), with what explains its
        blobs (``basis``); one arriving sooner than :attr:`interval_s` after the last kept
        one is skipped."""
        ts = _utc(ts)
        if self.times and ts < self.times[-1]:
            raise ValueError("sensing snapshots must be added in time order")
        if self.times and (ts - self.times[-1]).total_seconds() < 0.999 * self.interval_s:
            return
        stored = _compact(snapshot, basis)
        self.times.append(ts)
        self._stored.append(stored)
        self._bytes += stored.nbytes()
        while self._bytes > self.max_bytes and len(self._stored) > 1:
            self.times, self._stored = self.times[::2], self._stored[::2]
            self._bytes = sum(s.nbytes() for s in self._stored)
            self.interval_s *= 2
            self.thinned += 1

    def __len__(self) -> int:
        return len(self.times)

    def index_at(self, ts: datetime) -> int:
        """The index of the latest snapshot at or before ``ts``; -1 before the first or
        when that one is stale (more than three intervals, at least 2 s, before ``ts``:
        nothing was recorded then). A display asks :meth:`snapshot` only on a change."""
        ts = _utc(ts)
        index = bisect.bisect_right(self.times, ts) - 1
        stale_s = max(3 * self.interval_s, 2.0)
        if index >= 0 and (ts - self.times[index]).total_seconds() > stale_s:
            return -1
        return index

    def snapshot(self, index: int) -> SensingSnapshot:
        """Snapshot ``index`` (0-based), its voxel grid restored."""
        return self._stored[index].restore()

    def at(self, ts: datetime) -> SensingSnapshot | None:
        """The latest snapshot at or before ``ts``, or None (see :meth:`index_at`)."""
        index = self.index_at(ts)
        return self.snapshot(index) if index >= 0 else None

    def explain(self, index: int, track_id: int) -> BlobExplanation | None:
        """Why blob ``track_id`` of snapshot ``index`` was where it was then, from that
        replayed tick's model and link activations; None when the snapshot has no such
        blob or nothing to explain it with. A few milliseconds of arithmetic."""
        if not 0 <= index < len(self._stored):
            return None
        stored = self._stored[index]
        blob = next((b for b in stored.snapshot.blobs if b.track_id == track_id), None)
        if blob is None or stored.basis is None:
            return None
        return stored.basis.explain(blob)

    def nbytes(self) -> int:
        """An estimate of the memory the snapshots take (bytes)."""
        return self._bytes


def timeline_interval_s(start: datetime, end: datetime, interval_s: float) -> float:
    """The snapshot interval for a range: ``interval_s``, longer when the range would hold
    more than :data:`MAX_TIMELINE_SNAPSHOTS` snapshots."""
    span = (end - start).total_seconds()
    return max(interval_s, span / MAX_TIMELINE_SNAPSHOTS)


@dataclass(frozen=True, slots=True)
class SensingReplayRequest:
    """Re-run ``room``'s sensing recording in ``directory`` over ``[start, end]`` with
    ``settings`` and keep the 3D view's snapshots (a :class:`SensingTimeline`). Runs on a
    worker and takes about range / replay speed (the sensing replay runs at tens of × real
    time); ``cancel`` stops it early. The store is not used."""

    directory: Path
    room: RoomSpec
    start: datetime
    end: datetime
    settings: ReplaySettings = field(default_factory=ReplaySettings)
    snapshot_interval_s: float = SNAPSHOT_INTERVAL_S
    cancel: threading.Event | None = field(default=None, compare=False)
    progress: Callable[[float], None] | None = field(default=None, compare=False)

    def run(self, store: Store | None = None) -> SensingTimeline:
        start, end = _utc(self.start), _utc(self.end)
        interval = timeline_interval_s(start, end, self.snapshot_interval_s)
        timeline = SensingTimeline(self.room.room_id, interval_s=interval)
        timeline.report = replay_recording(
            self.directory,
            self.room,
            from_wall_s=start.timestamp(),
            to_wall_s=end.timestamp(),
            settings=self.settings,
            on_snapshot=timeline.add,
            snapshot_interval_s=interval,
            cancel=self.cancel,
            progress=self.progress,
        )
        return timeline


@dataclass(frozen=True, slots=True)
class BlobMatch:
    """A blob both replays found: overlapping in time, ``distance_m`` apart (the closer
    of their first and their last positions), for ``overlap_s`` seconds together."""

    baseline: ReplayedBlob
    other: ReplayedBlob
    distance_m: float
    overlap_s: float


@dataclass(frozen=True, slots=True)
class SensingComparison:
    """Two replays of one range: ``baseline`` with the room's own settings, ``other``
    with the investigator's; the blobs both found (``matches``) and those only one did."""

    room_id: str
    start: datetime
    end: datetime
    baseline_settings: dict[str, Any]
    other_settings: dict[str, Any]
    baseline_blobs: tuple[ReplayedBlob, ...]
    other_blobs: tuple[ReplayedBlob, ...]
    matches: tuple[BlobMatch, ...]
    only_baseline: tuple[ReplayedBlob, ...]
    only_other: tuple[ReplayedBlob, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "baseline": len(self.baseline_blobs),
            "other": len(self.other_blobs),
            "matched": len(self.matches),
            "only_baseline": len(self.only_baseline),
            "only_other": len(self.only_other),
        }

    def summary(self) -> str:
        """``room's settings: 3 blobs; other settings: 1 blob; 1 matched, 2 only with the
        room's settings, 0 only with the other settings``."""
        c = self.counts

        def blobs(n: int) -> str:
            return f"{n} blob{'' if n == 1 else 's'}"

        return (
            f"room's settings: {blobs(c['baseline'])}; other settings: {blobs(c['other'])}; "
            f"{c['matched']} matched, {c['only_baseline']} only with the room's settings, "
            f"{c['only_other']} only with the other settings"
        )


def _interval(blob: ReplayedBlob, end: datetime) -> tuple[datetime, datetime]:
    return blob.appeared, blob.left if blob.left is not None else end


def _blob_distance(a: ReplayedBlob, b: ReplayedBlob) -> float:
    pairs = [(a.first_position, b.first_position), (a.last_position, b.last_position)]
    distances = [math.dist(p, q) for p, q in pairs if p is not None and q is not None]
    return min(distances) if distances else math.inf


def match_blobs(
    baseline: Sequence[ReplayedBlob],
    other: Sequence[ReplayedBlob],
    end: datetime,
    max_distance_m: float = MATCH_DISTANCE_M,
) -> tuple[list[BlobMatch], list[ReplayedBlob], list[ReplayedBlob]]:
    """One-to-one matches of blobs that overlap in time and lie within ``max_distance_m``
    (closest first), then the blobs left on each side. ``end`` closes blobs without one."""
    candidates: list[tuple[float, float, int, int]] = []
    for i, a in enumerate(baseline):
        a_from, a_to = _interval(a, end)
        for j, b in enumerate(other):
            b_from, b_to = _interval(b, end)
            overlap = (min(a_to, b_to) - max(a_from, b_from)).total_seconds()
            if overlap < 0:
                continue
            distance = _blob_distance(a, b)
            if distance <= max_distance_m:
                candidates.append((distance, -overlap, i, j))
    candidates.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    matches: list[BlobMatch] = []
    for distance, negative_overlap, i, j in candidates:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matches.append(BlobMatch(baseline[i], other[j], distance, -negative_overlap))
    matches.sort(key=lambda m: m.baseline.appeared)
    only_a = [a for i, a in enumerate(baseline) if i not in used_a]
    only_b = [b for j, b in enumerate(other) if j not in used_b]
    return matches, only_a, only_b


def compare_sensing(
    directory: Path | str,
    room: RoomSpec,
    start: datetime,
    end: datetime,
    settings: ReplaySettings,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> SensingComparison:
    """Replay ``[start, end]`` of ``room``'s recording twice, with the room's own settings
    and with ``settings``, and match the blobs (see :func:`match_blobs`). Blocks for two
    replays; run it on a worker (:class:`SensingCompareRequest`). ``progress(fraction)``
    goes from 0 to 0.5 over the first replay and on to 1 over the second; ``cancel``
    stops the replay under way (:class:`ReplayCancelledError` then, not a comparison of
    half a range)."""
    start, end = _utc(start), _utc(end)
    common: dict[str, Any] = {
        "from_wall_s": start.timestamp(),
        "to_wall_s": end.timestamp(),
        "cancel": cancel,
    }

    def half(offset: float) -> Callable[[float], None] | None:
        if progress is None:
            return None
        report = progress
        return lambda fraction: report(offset + fraction / 2)

    baseline = replay_recording(directory, room, progress=half(0.0), **common)
    if cancel is not None and cancel.is_set():
        raise ReplayCancelledError("the comparison was cancelled")
    other = replay_recording(directory, room, settings=settings, progress=half(0.5), **common)
    if cancel is not None and cancel.is_set():
        raise ReplayCancelledError("the comparison was cancelled")
    matches, only_a, only_b = match_blobs(baseline.blobs, other.blobs, end)
    return SensingComparison(
        room_id=room.room_id,
        start=start,
        end=end,
        baseline_settings=baseline.settings,
        other_settings=other.settings,
        baseline_blobs=tuple(baseline.blobs),
        other_blobs=tuple(other.blobs),
        matches=tuple(matches),
        only_baseline=tuple(only_a),
        only_other=tuple(only_b),
    )


@dataclass(frozen=True, slots=True)
class SensingCompareRequest:
    """:func:`compare_sensing` as a query-service request (the store is not used)."""

    directory: Path
    room: RoomSpec
    start: datetime
    end: datetime
    settings: ReplaySettings
    cancel: threading.Event | None = field(default=None, compare=False)
    progress: Callable[[float], None] | None = field(default=None, compare=False)

    def run(self, store: Store | None = None) -> SensingComparison:
        return compare_sensing(
            self.directory,
            self.room,
            self.start,
            self.end,
            self.settings,
            cancel=self.cancel,
            progress=self.progress,
        )


class ReplayCancelledError(RuntimeError):
    """A sensing comparison was cancelled before both replays ran to the end."""
