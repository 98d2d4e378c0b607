"""The motion gate: cheap background subtraction that says where anything moves.

Runs on every frame at reduced resolution (about 1 ms for 768×576 here) and decides where
and whether the person detector runs, as Frigate does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.vision.geometry import Box

Image = npt.NDArray[np.uint8]

GATE_SCALE = 0.5  # analyse motion at half resolution
MIN_REGION_AREA_PX = 240  # full-resolution pixels; smaller blobs are noise (leaves, compression)
SHADOW_VALUE = 127  # MOG2 marks shadows with this value; they are not motion


@dataclass(frozen=True, slots=True)
class MotionResult:
    """Moving regions (full-frame boxes) and the fraction of the frame that changed."""

    regions: tuple[Box, ...]
    moving_fraction: float


class MotionGate:
    """MOG2 background subtraction with shadow removal and blob grouping.

    Not thread-safe: one gate per camera, called from that camera's worker.
    """

    def __init__(self, history_frames: int = 300, var_threshold: float = 25.0) -> None:
        cv2 = import_cv2()
        self._cv2 = cv2
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=history_frames, varThreshold=var_threshold, detectShadows=True
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def apply(self, image: Image) -> MotionResult:
        cv2 = self._cv2
        small = cv2.resize(image, None, fx=GATE_SCALE, fy=GATE_SCALE, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        mask = self._subtractor.apply(gray)
        _, mask = cv2.threshold(mask, SHADOW_VALUE + 1, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        moving_fraction = float(np.count_nonzero(mask)) / mask.size
        mask = cv2.dilate(mask, self._kernel, iterations=3)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        scale = 1.0 / GATE_SCALE
        min_area = MIN_REGION_AREA_PX * GATE_SCALE * GATE_SCALE
        regions = tuple(
            Box(x * scale, y * scale, w * scale, h * scale)
            for x, y, w, h in (cv2.boundingRect(c) for c in contours)
            if w * h >= min_area
        )
        return MotionResult(regions, moving_fraction)
