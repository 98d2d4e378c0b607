"""What a camera's privacy mask costs per frame (``engine.vision.privacy.MaskSlot.apply``).

Two four-cornered areas (22 % of the picture) on a random BGR frame, at 640×480, 1280×720
and 1920×1080, one OpenCV thread (a camera worker shares the cores with the others).
Figures are medians over rounds of 200 frames, milliseconds per frame:

- ``apply_ms``: what the camera worker pays, ``cv2.fillPoly`` of each area's precomputed
  pixel polygon, in place (the polygons are made once per mask and frame size);
- ``np_where_ms``: the alternative of a precomputed boolean mask and ``np.where`` (a new
  frame each time), for comparison;
- ``prepare_ms``: turning the mask into pixel polygons, paid once per mask and size.

Target: masking costs at most 0.5 ms a frame at 1920×1080.

``python -m benchmarks.privacy_masks`` or ``python -m benchmarks privacy_masks``.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np

from engine.cv import import_cv2
from engine.vision.privacy import MaskSlot, PrivacyMask, privacy_mask

SIZES = ((640, 480), (1280, 720), (1920, 1080))
AREAS = (
    ((0.10, 0.10), (0.35, 0.12), (0.30, 0.40), (0.08, 0.38)),
    ((0.60, 0.50), (0.95, 0.50), (0.95, 0.95), (0.60, 0.90)),
)
FRAMES = 200
ROUNDS = 7
TARGET_MS_1080P = 0.5


def run(rounds: int = ROUNDS) -> dict[str, Any]:
    cv2 = import_cv2()
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        figures: dict[str, Any] = {}
        for width, height in SIZES:
            mask = privacy_mask(
                [[(x * width, y * height) for x, y in area] for area in AREAS], (width, height)
            )
            figures[f"{width}x{height}"] = _measure(mask, width, height, rounds)
        figures["share"] = round(mask.covered_share(), 3)
        figures["targets_met"] = figures["1920x1080"]["apply_ms"] <= TARGET_MS_1080P
        return figures
    finally:
        cv2.setNumThreads(threads)


def _measure(mask: PrivacyMask, width: int, height: int, rounds: int) -> dict[str, float]:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    slot = MaskSlot(mask)
    slot.apply(image)  # prepares the polygons for this size
    covered = mask.covered(width, height)[:, :, None]
    apply_ms, where_ms = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(FRAMES):
            slot.apply(image)
        apply_ms.append((time.perf_counter() - started) / FRAMES * 1000)
        started = time.perf_counter()
        for _ in range(FRAMES // 10):
            np.where(covered, 0, image)
        where_ms.append((time.perf_counter() - started) / (FRAMES // 10) * 1000)
    started = time.perf_counter()
    for _ in range(FRAMES):
        mask.pixel_areas(width, height)
    prepare_ms = (time.perf_counter() - started) / FRAMES * 1000
    return {
        "apply_ms": round(statistics.median(apply_ms), 4),
        "np_where_ms": round(statistics.median(where_ms), 3),
        "prepare_ms": round(prepare_ms, 4),
    }


if __name__ == "__main__":
    print(json.dumps({"privacy_masks": run()}))
