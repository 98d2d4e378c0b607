"""Media that could not be written: every lost clip and snapshot counted, said and cleared.

A clip writer, a camera's analysis (person snapshots) and the face worker (face snapshots)
tell one :class:`MediaWriteWatch` per engine how each write ended. A lost file becomes a
:class:`~engine.events.MediaWriteFailed` on the bus (the store writer files it as a
``recording.failed`` event, the alert service raises "Recording failing on camera …", the
console's tile and status bar show it) and is kept in memory too, so that it is reported
even when the store sits on the same full disk and cannot take the event. When every kind
of media that failed on a camera is written again, :class:`~engine.events.MediaWriteRecovered`
says so.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import MediaWriteFailed, MediaWriteRecovered

log = logging.getLogger(__name__)

LOST_KEPT: Final = 1000  # lost files remembered by name (all are counted)
_REASONS: Final = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "disk I/O error",
    errno.EROFS: "disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def loss_reason(error: BaseException) -> str:
    """Why a write failed, as a person says it: "disk full", "permission denied", else the
    system's words for the error (or the error's own message)."""
    code = error.errno if isinstance(error, OSError) else None
    if code is not None:
        return _REASONS.get(code) or os.strerror(code).lower()
    return str(error) or type(error).__name__


@dataclass(frozen=True, slots=True)
class LostMedia:
    """One file that was not written: ``media`` (``clip``/``snapshot``) of ``camera`` at
    ``at`` (its footage's UTC time), the data-dir relative ``path`` it would have had."""

    camera: str
    media: str
    path: str
    at: datetime
    reason: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "media": self.media,
            "path": self.path,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "error": self.error,
        }


@dataclass(slots=True)
class CameraLosses:
    """A camera whose media are failing: since when, the kinds still failing, the files
    lost since then and the latest reason."""

    since: datetime
    reason: str
    lost: int = 0
    media: set[str] = field(default_factory=set)


class MediaWriteWatch:
    """Counts lost media per camera and publishes the failures and recoveries on ``bus``.

    Thread-safe: called from clip writers, camera workers and the face worker. Events are
    published after the lock is released, on the caller's thread."""

    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock
        self._lock = threading.Lock()
        self._failing: dict[str, CameraLosses] = {}
        self._lost: collections.deque[LostMedia] = collections.deque(maxlen=LOST_KEPT)
        self._total = 0

    def failed(
        self,
        camera: str,
        media: str,
        path: str,
        error: BaseException,
        at: datetime | None = None,
    ) -> LostMedia:
        """``media`` of ``camera`` meant for ``path`` (data-dir relative) is lost because of
        ``error``; ``at``: its footage's time (default: now). The caller has removed any
        temp file it left."""
        when = at if at is not None else self._clock.now()
        reason = loss_reason(error)
        lost = LostMedia(camera, media, path, when, reason, f"{type(error).__name__}: {error}")
        with self._lock:
            self._total += 1
            self._lost.append(lost)
            state = self._failing.get(camera)
            if state is None:
                state = self._failing[camera] = CameraLosses(when, reason)
            state.lost += 1
            state.reason = reason
            state.media.add(media)
            count, since = state.lost, state.since
        log.error("camera %s: %s %s not written: %s", camera, media, path, lost.error)
        self._bus.publish(
            MediaWriteFailed(
                at=when,
                camera=camera,
                media=media,
                path=path,
                reason=reason,
                error=lost.error,
                lost=count,
                since=since,
            )
        )
        return lost

    def written(self, camera: str, media: str, at: datetime | None = None) -> None:
        """A ``media`` file of ``camera`` was written whole; when it was the last kind
        failing there, the camera has recovered."""
        with self._lock:
            state = self._failing.get(camera)
            if state is None or media not in state.media:
                return
            state.media.discard(media)
            if state.media:
                return
            del self._failing[camera]
        log.warning(
            "camera %s: media are written again (%d lost since %s)",
            camera,
            state.lost,
            state.since.isoformat(),
        )
        self._bus.publish(
            MediaWriteRecovered(
                at=at if at is not None else self._clock.now(),
                camera=camera,
                lost=state.lost,
                since=state.since,
            )
        )

    @property
    def total_lost(self) -> int:
        """Files lost since this watch was made."""
        with self._lock:
            return self._total

    def lost(self) -> list[LostMedia]:
        """The lost files, oldest first (the newest :data:`LOST_KEPT`)."""
        with self._lock:
            return list(self._lost)

    def failing(self) -> dict[str, CameraLosses]:
        """The cameras whose media are failing now (copies)."""
        with self._lock:
            return {
                camera: CameraLosses(s.since, s.reason, s.lost, set(s.media))
                for camera, s in self._failing.items()
            }
