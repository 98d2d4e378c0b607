"""Media files (clips, snapshots) as the engine hands them to the store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A finished media file: ``path`` relative to the data dir, its sha256 and size.
    ``kind`` is ``clip``, ``snapshot`` or ``csi``."""

    kind: str
    path: str
    sha256: str
    size_bytes: int
