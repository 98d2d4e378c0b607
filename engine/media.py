"""Media files (clips, snapshots) as the engine hands them to the store."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A finished media file: ``path`` relative to the data dir, its sha256 and size.
    ``kind`` is ``clip``, ``snapshot`` or ``csi``."""

    kind: str
    path: str
    sha256: str
    size_bytes: int


def read_small_file(path: Path, limit: int) -> bytes | None:
    """The whole of ``path`` when it is a regular file of at most ``limit`` bytes, else
    None (missing, a directory, a FIFO or a device, or bigger). The size is found by
    reading (at most ``limit + 1`` bytes), not from ``st_size``, and opening never waits
    on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return None if size > limit else b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
