"""Decoded frames as they travel from a camera source to analysis, clips and the screen.

The lowest layer of the camera path: sources produce :class:`Frame` objects, the clip
recorder buffers them, tiles draw them. A frame's times are read once, together, from the
engine clock (``captured_at`` monotonic, ``wall_at`` UTC) and everything derived from the
frame uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # analysis sits above frames; only its type is named here
    from engine.vision.analysis import FrameAnalysis

Image = npt.NDArray[np.uint8]
"""A BGR uint8 image, H×W×3."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. ``image`` is BGR uint8 (H×W×3) and must not be modified."""

    seq: int
    image: Image
    captured_at: float  # clock.monotonic() seconds
    source_fps: float  # measured delivery rate over the last couple of seconds
    analysis: FrameAnalysis | None = None  # what the camera's analyzer found in this frame
    wall_at: datetime | None = None  # UTC wall time read with captured_at (one time base)
