"""A frame's time, carried in the re-streamed video itself, so that a console on another
machine draws the engine's boxes on the very frame they were found in.

RTSP carries no wall-clock time a player hands over (OpenCV's FFmpeg reader gives none), and
an encoder and a network delay the picture by an amount nobody knows. So the engine adds
:data:`BAND_ROWS` rows under each picture it re-streams: :data:`BITS` black or white blocks,
each :data:`BLOCK` pixels wide, spelling the frame's capture time in milliseconds (modulo
2³², with a 4-bit check). The band is one H.264 macroblock row of its own, so the picture
never bleeds into it, and blocks this large survive any bit rate a console would watch at.
The console reads the time back (:func:`read_stamp`), cuts the band off, and draws the boxes
the engine told for that time. A player that knows nothing of it shows a thin striped band.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

BAND_ROWS: Final = 16
BLOCK: Final = 16
TIME_BITS: Final = 32
CHECK_BITS: Final = 4
BITS: Final = TIME_BITS + CHECK_BITS
MIN_WIDTH: Final = BITS * BLOCK  # 576 pixels: narrower pictures are streamed without a band

Image = npt.NDArray[np.uint8]


def wall_ms(at: datetime) -> int:
    """``at`` as the band spells it: milliseconds since 1970 modulo 2³²."""
    return int(at.timestamp() * 1000) % (1 << TIME_BITS)


def unwrap_ms(stamped: int, near: datetime) -> datetime:
    """The instant whose :func:`wall_ms` is ``stamped`` nearest to ``near`` (the band's
    time wraps every 49.7 days)."""
    now = int(near.timestamp() * 1000)
    base = now - (now % (1 << TIME_BITS))
    candidates = (
        base - (1 << TIME_BITS) + stamped,
        base + stamped,
        base + (1 << TIME_BITS) + stamped,
    )
    best = min(candidates, key=lambda ms: abs(ms - now))
    return datetime.fromtimestamp(best / 1000, UTC)


def _check(value: int) -> int:
    folded = 0
    for shift in range(0, TIME_BITS, CHECK_BITS):
        folded ^= (value >> shift) & ((1 << CHECK_BITS) - 1)
    return folded ^ 0b1010  # never all-zero for a black band


def band_fits(width: int, height: int) -> bool:
    """Whether a picture this size is streamed with a band: at least :data:`MIN_WIDTH`
    wide and a whole number of macroblock rows high."""
    return width >= MIN_WIDTH and height % BAND_ROWS == 0


def stamp(image: Image, stamped: int) -> Image:
    """``image`` with the band spelling ``stamped`` under it (a new array); ``image``
    itself when the band does not fit (:func:`band_fits`)."""
    height, width = image.shape[:2]
    if not band_fits(width, height):
        return image
    value = (stamped << CHECK_BITS) | _check(stamped)
    bits = [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    band = np.zeros((BAND_ROWS, width, 3), np.uint8)
    for i, bit in enumerate(bits):
        if bit:
            band[:, i * BLOCK : (i + 1) * BLOCK] = 255
    return np.concatenate([image, band], axis=0)


def read_stamp(image: Image) -> tuple[int | None, Image]:
    """The time spelled by the band under ``image`` (None when there is no band or it does
    not check) and the picture without it."""
    height, width = image.shape[:2]
    if width < MIN_WIDTH or height <= BAND_ROWS or (height - BAND_ROWS) % BAND_ROWS:
        return None, image
    band = image[height - BAND_ROWS + 4 : height - 4, : BITS * BLOCK]
    grey = band.reshape(band.shape[0], BITS, BLOCK, -1)[:, :, 4:-4].mean(axis=(0, 2, 3))
    if float(np.max(np.abs(grey - 127.5))) < 1 or np.any(np.abs(grey - 127.5) < 64):
        return None, image  # not black and white blocks: no band
    value = 0
    for level in grey:
        value = (value << 1) | int(level > 127.5)
    stamped = value >> CHECK_BITS
    if value & ((1 << CHECK_BITS) - 1) != _check(stamped):
        return None, image
    return stamped, image[: height - BAND_ROWS]
