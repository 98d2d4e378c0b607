"""Where the people were in a clip, moment by moment: its track sidecar.

The clip recorder keeps the boxes of the tracks the camera's analysis reported for each
frame (:class:`RecentBoxes`, bounded); when a clip is finalised its writer keeps those of
the clip's frames beside it, so a player can draw each person's box over the footage as it
plays (the alert preview: the person who loitered, followed through the clip).

**The file.** ``<clip stem>.tracks.json`` beside the clip (for a clip that is a view onto the
continuous recording, at its row's path under the data dir: :func:`tracks_media_path`),
written under a temp name and renamed (:func:`engine.instance.write_private_file`), at most
:data:`MAX_TRACKS_BYTES`. Times are seconds from the clip's first frame (``started_at``, the
clip's wall time in UTC, as its media row); boxes are in pixels of the clip's own picture
(``width`` × ``height``): the analysis runs on the sub stream where a camera has one, so its
boxes are scaled to the main stream's packets that the clip holds. A privacy mask blacks out
its areas before analysis, so no box lies in them.

**Reading.** :func:`read_clip_tracks` takes the file as hostile: missing, a symbolic link, not
a regular file, too big, truncated or not the format raise :class:`ClipTracksError`, and the
clip then plays without boxes.
"""

from __future__ import annotations

import bisect
import collections
import json
import math
import os
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.instance import write_private_file
from engine.media import CLIP_TRACKS_SUFFIX, clip_tracks_path

TRACKS_SUFFIX = CLIP_TRACKS_SUFFIX
TRACKS_FORMAT = "watchfloor.clip-tracks"
TRACKS_VERSION = 1
MAX_TRACKS_BYTES = 1024 * 1024  # one clip's boxes: 30 s × 30 fps × a few people ≈ 100 kB
MAX_SAMPLES = 4000  # frames of boxes one file keeps (a 30 s clip at 60 fps, with pre-roll)
MAX_BOXES_PER_SAMPLE = 32  # people in one frame
RECENT_BOXES_S = 90.0  # the recorder keeps the boxes of this many seconds of frames
_READ_CHUNK = 64 * 1024


class ClipTracksError(ValueError):
    """A track sidecar that cannot be used: the message says why, in words; ``missing``:
    there is none (a clip recorded before sidecars were kept), rather than a damaged one."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True, slots=True)
class TrackBox:
    """One track's box in one frame: ``track_id`` (the tracker's), and its left, top,
    width and height in pixels of the picture it is given for."""

    track_id: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class TrackSample:
    """The boxes of one frame, ``t_s`` seconds from the start of the clip."""

    t_s: float
    boxes: tuple[TrackBox, ...]


@dataclass(frozen=True, slots=True)
class ClipTracks:
    """The boxes of a clip's frames: ``samples`` in time order (seconds from the clip's first
    frame, wall time ``started_at`` UTC), boxes in pixels of ``width`` × ``height``."""

    started_at: datetime
    width: int
    height: int
    samples: tuple[TrackSample, ...]

    def shifted(self, by_s: float) -> tuple[TrackSample, ...]:
        """The samples with ``by_s`` seconds added to their times (the same boxes on the
        time line of another file holding the footage), those before 0 left out."""
        return tuple(TrackSample(s.t_s + by_s, s.boxes) for s in self.samples if s.t_s + by_s >= 0)


def sample_at(
    samples: tuple[TrackSample, ...], t_s: float, tolerance_s: float
) -> TrackSample | None:
    """The sample (``samples`` in time order) of the newest frame at or before ``t_s``,
    if it is at most ``tolerance_s`` older (None: no frame analysed near then, no boxes)."""
    times = [s.t_s for s in samples]
    index = bisect.bisect_right(times, t_s + 1e-6) - 1
    if index < 0:
        return None
    sample = samples[index]
    return sample if t_s - sample.t_s <= tolerance_s else None


def tracks_path(clip: Path) -> Path:
    """The sidecar of the clip file ``clip``: ``<stem>.tracks.json`` beside it."""
    return clip.with_name(clip.stem + TRACKS_SUFFIX)


def tracks_media_path(clip_media_path: str) -> str:
    """The sidecar of a clip by its media row's path (relative to the data dir, a file's
    or a view's), relative to the data dir too."""
    return clip_tracks_path(clip_media_path)


# -- the recorder's side ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FrameBoxes:
    captured_at: float  # monotonic seconds, the frame's (as its packets)
    width: int  # the analysed picture's size, in whose pixels the boxes are
    height: int
    boxes: tuple[TrackBox, ...]


class RecentBoxes:
    """The boxes of the frames analysed in the last :data:`RECENT_BOXES_S` seconds (at most
    ``max_frames``), for the clip writers to take theirs from. ``add`` comes from the camera
    thread, ``between`` from clip writers: thread-safe."""

    def __init__(self, keep_s: float = RECENT_BOXES_S, max_frames: int = 4 * MAX_SAMPLES) -> None:
        self._keep_s = keep_s
        self._frames: collections.deque[_FrameBoxes] = collections.deque(maxlen=max_frames)
        self._lock = threading.Lock()

    def add(self, captured_at: float, size: tuple[int, int], boxes: tuple[TrackBox, ...]) -> None:
        """The boxes found in the frame captured at ``captured_at`` (monotonic s), in pixels
        of a picture of ``size`` (width, height); no boxes is worth keeping too (the person
        left: nothing to draw then)."""
        entry = _FrameBoxes(captured_at, size[0], size[1], boxes[:MAX_BOXES_PER_SAMPLE])
        with self._lock:
            frames = self._frames
            if frames and captured_at < frames[-1].captured_at:
                return  # frames come in order; a late one is of a clip already written
            frames.append(entry)
            while frames and frames[0].captured_at < captured_at - self._keep_s:
                frames.popleft()

    def between(
        self, first_t: float, last_t: float, clip_size: tuple[int, int]
    ) -> tuple[TrackSample, ...]:
        """The frames captured from ``first_t`` to ``last_t`` (monotonic s, the clip's first
        and last frames), their times made seconds from ``first_t`` and their boxes scaled
        to a clip picture of ``clip_size`` (at most :data:`MAX_SAMPLES`)."""
        with self._lock:
            frames = [f for f in self._frames if first_t - 1e-6 <= f.captured_at <= last_t + 1e-6]
        samples: list[TrackSample] = []
        for frame in frames[:MAX_SAMPLES]:
            sx = clip_size[0] / frame.width if frame.width > 0 else 1.0
            sy = clip_size[1] / frame.height if frame.height > 0 else 1.0
            boxes = tuple(
                TrackBox(b.track_id, b.x * sx, b.y * sy, b.w * sx, b.h * sy) for b in frame.boxes
            )
            samples.append(TrackSample(max(0.0, frame.captured_at - first_t), boxes))
        return tuple(samples)


def write_clip_tracks(path: Path, tracks: ClipTracks) -> None:
    """Write ``tracks`` to ``path`` complete or not at all (temp name, fsync, rename);
    boxes rounded to a tenth of a pixel, times to the millisecond. Raises OSError."""
    document = {
        "format": TRACKS_FORMAT,
        "version": TRACKS_VERSION,
        "started_at": tracks.started_at.astimezone(UTC).isoformat(),
        "width": tracks.width,
        "height": tracks.height,
        "samples": [
            [
                round(sample.t_s, 3),
                [
                    [b.track_id, round(b.x, 1), round(b.y, 1), round(b.w, 1), round(b.h, 1)]
                    for b in sample.boxes
                ],
            ]
            for sample in tracks.samples[:MAX_SAMPLES]
        ],
    }
    data = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > MAX_TRACKS_BYTES:
        raise OSError(f"the boxes of {path.name} take {len(data)} bytes, over the limit")
    write_private_file(path, data)


def read_clip_tracks(path: Path, limit: int = MAX_TRACKS_BYTES) -> ClipTracks:
    """The track sidecar at ``path``, checked: raises :class:`ClipTracksError` when it is
    missing, a symbolic link, not a regular file, over ``limit`` bytes, or not a complete
    sidecar (truncated, another format, numbers that are not finite). Blocks on the disk:
    a worker thread."""
    data = _read_regular_file(path, limit)
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClipTracksError(f"{path.name} is not a complete track file ({exc})") from None
    return _parse(document, path.name)


def _read_regular_file(path: Path, limit: int) -> bytes:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        if path.is_symlink():
            raise ClipTracksError(f"{path.name} is a symbolic link, not a track file")
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ClipTracksError(f"{path.name} is missing", missing=True) from None
    except OSError as exc:
        raise ClipTracksError(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        regular = False
    if not regular:
        os.close(fd)
        raise ClipTracksError(f"{path.name} is not a regular file")
    with os.fdopen(fd, "rb", buffering=0) as handle:
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            try:
                chunk = handle.read(min(_READ_CHUNK, limit + 1 - size))
            except OSError as exc:
                raise ClipTracksError(f"{path.name} cannot be read ({exc})") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size > limit:
        raise ClipTracksError(f"{path.name} is larger than {limit} bytes (the limit)")
    return b"".join(chunks)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClipTracksError(f"{what} is not a number")
    return float(value)


def _parse(document: Any, name: str) -> ClipTracks:
    if not isinstance(document, dict) or document.get("format") != TRACKS_FORMAT:
        raise ClipTracksError(f"{name} is not a track file")
    if document.get("version") != TRACKS_VERSION:
        raise ClipTracksError(f"{name} is of version {document.get('version')!r}, not known")
    try:
        started_at = datetime.fromisoformat(str(document.get("started_at")))
    except ValueError:
        raise ClipTracksError(f"{name} has no start time") from None
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    width = _number(document.get("width"), f"{name}: the width")
    height = _number(document.get("height"), f"{name}: the height")
    if not (0 < width <= 16384 and 0 < height <= 16384):
        raise ClipTracksError(f"{name}: a picture of {width}×{height} pixels")
    raw = document.get("samples")
    if not isinstance(raw, list) or len(raw) > MAX_SAMPLES:
        raise ClipTracksError(f"{name}: its samples are missing or too many")
    samples: list[TrackSample] = []
    last = -math.inf
    for entry in raw:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[1], list):
            raise ClipTracksError(f"{name}: a sample is not [time, boxes]")
        t_s = _number(entry[0], f"{name}: a sample's time")
        if t_s < last or len(entry[1]) > MAX_BOXES_PER_SAMPLE:
            raise ClipTracksError(f"{name}: samples out of order or with too many boxes")
        last = t_s
        boxes: list[TrackBox] = []
        for box in entry[1]:
            if not isinstance(box, list) or len(box) != 5 or not isinstance(box[0], int):
                raise ClipTracksError(f"{name}: a box is not [track, x, y, w, h]")
            x, y, w, h = (_number(v, f"{name}: a box") for v in box[1:])
            boxes.append(TrackBox(box[0], x, y, w, h))
        samples.append(TrackSample(t_s, tuple(boxes)))
    return ClipTracks(started_at, round(width), round(height), tuple(samples))


def clip_tracks_for(
    first_t: float,
    last_t: float,
    started_at: datetime,
    clip_size: tuple[int, int],
    recent: RecentBoxes,
) -> ClipTracks:
    """The sidecar of a clip whose frames were captured from ``first_t`` to ``last_t``
    (monotonic s), its first at wall time ``started_at``, its picture ``clip_size``."""
    return ClipTracks(
        started_at, clip_size[0], clip_size[1], recent.between(first_t, last_t, clip_size)
    )
