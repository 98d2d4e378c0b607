"""Events the recorder publishes on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.events import Event, EventRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipFinalised(Event):
    """A clip file is complete and renamed to its final name; with a store writer, its
    media row is written too (``media_id`` is None if the row is still pending or failed:
    the file is kept, and a later sweep adopts it if no row ever arrives).

    Published on the camera's ``clip-writer-<camera>`` thread. ``path`` is relative to the
    data dir, exactly as in the media row; ``started_at`` is the UTC wall time of the first
    frame; ``duration_s`` is the playback length in seconds. ``codec`` names the encoder
    that made the video here (``libx264``, ``mpeg4``), or the camera's codec (``h264``,
    ``hevc``) when ``stream_copy``: the camera's own packets, recorded without re-encoding.
    For a camera recording continuously the clip is a view onto its segments
    (:func:`engine.media.is_view_path`): no file of its own, ``size_bytes`` 0 and no hash.
    """

    camera: str
    camera_id: int | None
    path: str
    started_at: datetime
    duration_s: float
    frames: int
    dropped_frames: int
    size_bytes: int
    sha256: str
    codec: str
    media_id: int | None
    event_id: int | None
    stream_copy: bool = False

    def record(self) -> EventRecord:
        return EventRecord(
            "clip.finalised",
            f"camera:{self.camera}",
            {
                "path": self.path,
                "started_at": self.started_at.isoformat(),
                "duration_s": round(self.duration_s, 3),
                "frames": self.frames,
                "dropped_frames": self.dropped_frames,
                "size_bytes": self.size_bytes,
                "sha256": self.sha256,
                "codec": self.codec,
                "stream_copy": self.stream_copy,
                "media_id": self.media_id,
                "event_id": self.event_id,
            },
        )
