"""Boxes in pixel coordinates and the overlap measures tracking needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box in full-frame pixels: left ``x``, top ``y``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    def as_ints(self) -> tuple[int, int, int, int]:
        return round(self.x), round(self.y), round(self.w), round(self.h)

    def clipped(self, width: int, height: int) -> Box:
        x0, y0 = max(0.0, self.x), max(0.0, self.y)
        x1, y1 = min(float(width), self.x + self.w), min(float(height), self.y + self.h)
        return Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


def intersection(a: Box, b: Box) -> float:
    """The area two boxes share."""
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, 0..1."""
    inter = intersection(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def iou_matrix(rows: list[Box], cols: list[Box]) -> npt.NDArray[np.float64]:
    """IoU of every row box with every column box, vectorised: shape (len(rows), len(cols))."""
    if not rows or not cols:
        return np.zeros((len(rows), len(cols)))
    a = np.array([(b.x, b.y, b.x + b.w, b.y + b.h) for b in rows])[:, None, :]
    c = np.array([(b.x, b.y, b.x + b.w, b.y + b.h) for b in cols])[None, :, :]
    ix = np.clip(np.minimum(a[..., 2], c[..., 2]) - np.maximum(a[..., 0], c[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 3], c[..., 3]) - np.maximum(a[..., 1], c[..., 1]), 0, None)
    inter = ix * iy
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_c = (c[..., 2] - c[..., 0]) * (c[..., 3] - c[..., 1])
    union = area_a + area_c - inter
    result: npt.NDArray[np.float64] = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
    return result
