"""Drawn people in known clothes, and their appearance records (engine, CLI and pane tests)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from engine.store.commands import RecordAppearance
from engine.vision.appearance import (
    AppearanceCollector,
    AppearanceRecord,
    AppearanceSeen,
    store_appearance,
)
from engine.vision.geometry import Box

BGR = tuple[int, int, int]
RED, BLUE, WHITE, BLACK, GREEN = (
    (40, 30, 200),
    (170, 90, 30),
    (235, 235, 235),
    (25, 25, 25),
    (40, 160, 40),
)
SKIN = (120, 150, 200)
BOX = Box(200, 100, 80, 240)


def person_frame(
    top: BGR, bottom: BGR, box: Box = BOX, *, cast: tuple[float, ...] = (1, 1, 1)
) -> np.ndarray:
    """A grey street with one person in ``box``: head, torso in ``top``, legs in ``bottom``,
    a little texture, and the whole frame under a coloured light (``cast``, B G R gains)."""
    rng = np.random.default_rng(7)
    image = np.full((480, 640, 3), 120, np.float32)
    x, y, w, h = box.as_ints()
    image[y : y + int(0.15 * h), x + w // 3 : x + 2 * w // 3] = SKIN
    image[y + int(0.15 * h) : y + int(0.53 * h), x : x + w] = top
    image[y + int(0.53 * h) : y + h, x + w // 6 : x + 5 * w // 6] = bottom
    image += rng.normal(0, 4, image.shape)
    image *= np.asarray(cast, np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def record_of(top: BGR, bottom: BGR, **kwargs: object) -> AppearanceRecord:
    collector = AppearanceCollector()
    collector.observe(person_frame(top, bottom, **kwargs), [(1, BOX, 0.9)], [BOX])  # type: ignore[arg-type]
    record = collector.finish(1)
    assert record is not None
    return record


def recorded(
    camera_id: int,
    track_id: int,
    record: AppearanceRecord,
    first_seen: datetime,
    snapshot: str | None = None,
) -> RecordAppearance:
    """The store command a camera sends when that track ends (seen for 20 s)."""
    event = AppearanceSeen(
        at=first_seen,
        camera="any",
        track_id=track_id,
        first_seen=first_seen,
        last_seen=first_seen + timedelta(seconds=20),
        snapshot=snapshot,
        appearance=record,
    )
    return store_appearance(event, camera_id)
