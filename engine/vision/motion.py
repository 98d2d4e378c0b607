"""The motion gate: cheap background subtraction that says where anything moves.

Runs on every frame scaled down to about :data:`GATE_HEIGHT` pixels high, as Frigate
does (it detects motion on a frame ~100–180 px high), and decides where and whether the
person detector runs. The cost then hardly depends on the camera's resolution: a 1080p
frame took 13.7 ms of CPU at half resolution (0.2 of a core at 15 fps) and takes about
3.6 ms here (grey conversion 0.9, scaling 1.1, MOG2 1.3). A whole engine on one empty
1080p15 H.264 scene with sensor noise went from 0.50 to 0.33 cores (40 s runs, start-up
included, two each). The people benchmark (``benchmarks/people_quality.py``) scores the
default detector exactly as before (it runs on the whole frame; the gate only wakes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.vision.geometry import Box

Image = npt.NDArray[np.uint8]

GATE_HEIGHT = 180  # motion is analysed on the frame scaled to this height (never up)
MIN_REGION_AREA_PX = 240  # full-resolution pixels; smaller blobs are noise (leaves, compression)
SHADOW_VALUE = 127  # MOG2 marks shadows with this value; they are not motion


@dataclass(frozen=True, slots=True)
class MotionResult:
    """Moving regions (full-frame boxes) and the fraction of the frame that changed."""

    regions: tuple[Box, ...]
    moving_fraction: float


NO_MOTION = MotionResult((), 0.0)


class MotionGate:
    """MOG2 background subtraction with shadow removal and blob grouping.

    Not thread-safe: one gate per camera, called from that camera's worker.
    """

    def __init__(
        self, history_frames: int = 300, var_threshold: float = 25.0, height: int = GATE_HEIGHT
    ) -> None:
        cv2 = import_cv2()
        self._cv2 = cv2
        self._height = height
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=history_frames, varThreshold=var_threshold, detectShadows=True
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def working_size(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """The (width, height) motion is analysed at for frames of ``shape`` (h, w, …):
        scaled to :data:`GATE_HEIGHT` high, never up."""
        height, width = shape[:2]
        scale = min(1.0, self._height / max(height, 1))
        return max(1, round(width * scale)), max(1, round(height * scale))

    def apply(self, image: Image) -> MotionResult:
        cv2 = self._cv2
        height, width = image.shape[:2]
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        size = self.working_size(image.shape)
        if size != (width, height):
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        mask = self._subtractor.apply(gray)
        _, mask = cv2.threshold(mask, SHADOW_VALUE + 1, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        moving_fraction = float(np.count_nonzero(mask)) / mask.size
        mask = cv2.dilate(mask, self._kernel, iterations=3)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        back_x, back_y = width / mask.shape[1], height / mask.shape[0]
        min_area = MIN_REGION_AREA_PX / (back_x * back_y)
        regions = tuple(
            Box(x * back_x, y * back_y, w * back_x, h * back_y)
            for x, y, w, h in (cv2.boundingRect(c) for c in contours)
            if w * h >= min_area
        )
        return MotionResult(regions, moving_fraction)
