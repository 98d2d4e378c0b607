"""Media files (clips, snapshots, continuous-recording segments) as the engine hands them
to the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.inbound import OutsideFileError, read_outside_file

SEGMENT_KIND = "segment"  # a media row of a camera's continuous recording (engine.record.segments)
# A camera's footage: event clips and continuous-recording segments (what replay plays, a
# timeline lane's coverage shows and disk pressure deletes, oldest first).
FOOTAGE_KINDS = ("clip", SEGMENT_KIND)
# Opening footage (a fragmented-MP4 segment, a clip) for reading with PyAV: without this,
# avformat_find_stream_info reads every fragment of a segment to estimate the frame rate,
# though its moov holds all a demuxer needs: 55 ms against 16 ms to open a 10 s 1080p15
# segment (as long as a plain MP4 takes).
FRAGMENTED_READ_OPTIONS = {"fpsprobesize": "0"}
# Where the event clips of a camera recording continuously are: not files of their own but
# views onto its segments (engine.record.views), a clip row whose path lies under this
# folder of the data dir. The file there is cut from the segments when first played
# (derived, removable); the row's sha256 is empty and its size 0: nothing is stored twice.
VIEWS_DIR = "views"


# Beside each clip: where its people were, frame by frame (engine.record.tracks).
CLIP_TRACKS_SUFFIX = ".tracks.json"


def clip_tracks_path(clip_media_path: str) -> str:
    """The track sidecar of a clip by its media row's path (a file's or a view's),
    relative to the data dir too: ``<stem>.tracks.json``."""
    stem, _, _ = clip_media_path.rpartition(".")
    return (stem or clip_media_path) + CLIP_TRACKS_SUFFIX


def remove_clip_tracks(data_dir: Path, clip_media_path: str) -> bool:
    """Delete the track sidecar of the clip at ``clip_media_path`` with its clip
    (retention, erasure: it holds where people were). True if one was deleted; any other
    error is raised as :class:`OSError` for the caller to log."""
    try:
        (data_dir / clip_tracks_path(clip_media_path)).unlink()
    except FileNotFoundError:
        return False
    return True


def is_view_path(path: str) -> bool:
    """Whether the media path ``path`` (relative to the data dir) names a view onto a
    camera's segments rather than a file of its own."""
    return path.startswith(VIEWS_DIR + "/")


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A finished media file: ``path`` relative to the data dir, its sha256 and size.
    ``kind`` is ``clip``, ``snapshot``, ``csi`` or :data:`SEGMENT_KIND`."""

    kind: str
    path: str
    sha256: str
    size_bytes: int


def read_small_file(path: Path, limit: int) -> bytes | None:
    """The whole of ``path`` when it is a regular file of at most ``limit`` bytes, else
    None (missing, a directory, a FIFO or a device, or bigger). The size is found by
    reading (at most ``limit + 1`` bytes), not from ``st_size``, and opening never waits
    on a FIFO (:func:`engine.inbound.read_outside_file`, which says why)."""
    try:
        return read_outside_file(path, limit)
    except OutsideFileError:
        return None
