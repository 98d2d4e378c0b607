"""Media files (clips, snapshots) as the engine hands them to the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.inbound import OutsideFileError, read_outside_file


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
    on a FIFO (:func:`engine.inbound.read_outside_file`, which says why)."""
    try:
        return read_outside_file(path, limit)
    except OutsideFileError:
        return None
