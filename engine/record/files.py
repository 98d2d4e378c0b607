"""Clip files on disk: where a clip is written while unfinished, and making it durable.

A clip is encoded under a temp name owned by this process
(``<camera>_<UTC start>.<pid>.mp4.partial``, see :func:`engine.instance.partial_path`),
then fsync'd, hashed and renamed to ``<camera>_<UTC start>.mp4``; the rename is made
durable by fsyncing the directory. Sweeps remove a temp file only once its process is gone.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from engine.data_dirs import private_dir
from engine.instance import partial_path

CLIP_SUFFIX = ".mp4"
PARTIAL_SUFFIX = ".mp4.partial"  # every unfinished clip's name ends so
_HASH_CHUNK_BYTES = 1024 * 1024


def clip_partial_path(final: Path) -> Path:
    """The temp name this process writes the clip ``final`` under."""
    return partial_path(final)


def clip_name_taken(final: Path) -> bool:
    """Is ``final`` already a clip, or being written by any process under a temp name?"""
    if final.exists():
        return True
    stem = final.name.removesuffix(CLIP_SUFFIX)
    return any(final.parent.glob(f"{_glob_escape(stem)}.*{PARTIAL_SUFFIX}"))


def footage_path(folder: Path, camera_key: str, started_at: datetime) -> Path:
    """Where footage of ``camera_key`` starting at ``started_at`` goes under ``folder``
    (clips or recordings): ``<camera>/<UTC date>/<camera>_<UTC start, ms>Z.mp4``. The name
    says the camera and the start, so the orphan sweep can index a file without a row."""
    utc = started_at.astimezone(UTC)
    stamp = f"{utc:%Y%m%dT%H%M%S}.{utc.microsecond // 1000:03d}Z"
    return folder / camera_key / utc.strftime("%Y-%m-%d") / f"{camera_key}_{stamp}{CLIP_SUFFIX}"


def unused_footage_path(folder: Path, camera_key: str, started_at: datetime) -> Path:
    """:func:`footage_path`, with ``-1``, ``-2``, ... added when that name is taken (by a
    file or another process's temp file); its folder is created private."""
    path = footage_path(folder, camera_key, started_at)
    private_dir(path.parent)
    name = path.name.removesuffix(CLIP_SUFFIX)
    suffix = 1
    while clip_name_taken(path):
        path = path.parent / f"{name}-{suffix}{CLIP_SUFFIX}"
        suffix += 1
    return path


def finish_file(partial: Path, final: Path) -> tuple[str, int]:
    """Make the temp file ``partial`` the complete file ``final``: its content flushed to
    the disk, hashed, renamed, and the rename made durable. Returns (sha256, size). A crash
    leaves the temp file (swept later) or the complete file, never a part under the final
    name; the hash is taken before the rename to keep the rename→row window short."""
    fsync_file(partial)
    sha256, size = file_sha256(partial)
    os.replace(partial, final)
    fsync_dir(final.parent)
    return sha256, size


def fsync_file(path: Path) -> None:
    """Flush ``path``'s content to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in directory ``path`` durable. Not possible on Windows (directories
    cannot be opened there), where NTFS journals the rename itself."""
    if os.name != "posix":
        return
    fsync_file(path)


def file_sha256(path: Path) -> tuple[str, int]:
    """(hex sha256, size in bytes) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
