"""Snapshot files: JPEG crops written whole (temp name, then rename) under the data dir.

The temp name carries the writing process's pid (``<name>.<pid>.jpg.partial``, see
:func:`engine.instance.write_private_file`), so a sweep in another process sharing the
data dir removes it only once this process is gone.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.data_dirs import private_dir, secure_data_dir
from engine.instance import write_private_file
from engine.media import MediaFile
from engine.vision.geometry import Box

if TYPE_CHECKING:  # the watch is handed in by the runtime: no dependency on record
    from engine.record.losses import MediaWriteWatch

log = logging.getLogger(__name__)

JPEG_QUALITY = 88
SNAPSHOT_MARGIN = 0.15  # context around the person box, as a fraction of its size


def snapshot_path(camera: str, at: datetime, name: str) -> str:
    """Where a snapshot of ``camera`` taken at ``at`` (UTC) lives, relative to the data dir:
    ``snapshots/<camera>/<date>/<camera>_<time>_<name>_<token>.jpg``.

    The random token keeps names unique when times repeat: a recording analysed twice has
    the same frame times, and one scene scan can find two faces in the same frame."""
    token = secrets.token_hex(3)
    return f"snapshots/{camera}/{at:%Y-%m-%d}/{camera}_{at:%H%M%S_%f}_{name}_{token}.jpg"


def write_snapshot(
    image: npt.NDArray[np.uint8], box: Box, data_dir: Path, relative_path: str
) -> MediaFile:
    """Crop ``box`` (plus a margin) from ``image`` and store it as JPEG at
    ``data_dir/relative_path``. The file appears complete or not at all; a crash may leave
    only a temp file owned by this process. Any thread."""
    cv2 = import_cv2()
    height, width = image.shape[:2]
    margin_x, margin_y = box.w * SNAPSHOT_MARGIN, box.h * SNAPSHOT_MARGIN
    x, y, w, h = (
        Box(box.x - margin_x, box.y - margin_y, box.w + 2 * margin_x, box.h + 2 * margin_y)
        .clipped(width, height)
        .as_ints()
    )
    crop = image[y : y + max(h, 1), x : x + max(w, 1)]
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"could not encode snapshot {relative_path}")
    data = encoded.tobytes()
    target = data_dir / relative_path
    secure_data_dir(data_dir)
    private_dir(target.parent)
    write_private_file(target, data)
    return MediaFile("snapshot", relative_path, hashlib.sha256(data).hexdigest(), len(data))


def save_snapshot(
    image: npt.NDArray[np.uint8],
    box: Box,
    data_dir: Path,
    relative_path: str,
    *,
    camera: str,
    at: datetime,
    watch: MediaWriteWatch | None,
) -> MediaFile | None:
    """:func:`write_snapshot`, with the outcome told to ``watch``: the file, or None when
    it could not be written (disk full, an I/O error, a permission refused), in which case
    nothing is left on disk, the loss is published and counted, and whatever would have
    named the snapshot goes on without it. ``at``: the frame's UTC time. Any thread."""
    try:
        file = write_snapshot(image, box, data_dir, relative_path)
    except (OSError, ValueError) as exc:
        if watch is None:
            log.error("camera %s: snapshot %s not written: %s", camera, relative_path, exc)
        else:
            watch.failed(camera, "snapshot", relative_path, exc, at=at)
        return None
    if watch is not None:
        watch.written(camera, "snapshot", at=at)
    return file
