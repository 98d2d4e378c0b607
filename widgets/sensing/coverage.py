"""What the sensing room's node layout can see, drawn for the operator: the room's health line
in words, a floor overlay of where a person is placed finely or coarsely, where a fall can be
confirmed and where a person may also appear elsewhere, its legend, and how an uncertain blob
(one never yet placed unambiguously) is described.

The engine rates the layout from its geometry (:mod:`engine.sensing.grid.capability`) and hands it
over as the snapshot's :class:`~engine.sensing.view.CoverageView`; it changes only when the
layout does, so its texture is built once per coverage object (compared by identity), never per
tick. Everything here runs on the GUI thread.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from engine.sensing.view import BlobView, CoverageView
from engine.text import printable
from widgets.colours import WARNING_AMBER

# Accuracy classes (horizontal error, metres): the layout's rating counts the floor placed
# within 0.5 m and within 1 m (engine/sensing/capability.py _rate), so the overlay shows the
# same two steps.
FINE_M: Final = 0.5
COARSE_M: Final = 1.0
# Texels per floor cell: enough for a fall mark and a hatch inside each cell; fewer for a big
# room so the texture stays within what any GL driver takes.
TEXELS_PER_CELL: Final = 8
MAX_TEXTURE_SIDE: Final = 2048
# RGBA 0-255 of each class, over the view's near-black background: brighter where a person is
# placed better; unseen cells a dark red. Hatches and fall marks stand off all of them.
_FINE_RGBA = (46, 184, 115, 150)  # green
_COARSE_RGBA = (64, 115, 217, 150)  # blue
_ROUGH_RGBA = (115, 77, 153, 150)  # dull purple
_UNSEEN_RGBA = (140, 31, 31, 150)  # dark red
_HATCH_RGBA = (242, 179, 38, 230)  # amber stripes: a person here may also appear elsewhere
_FALL_MARK_RGBA = (255, 255, 255, 240)  # a white square: a fall is confirmed here
SWATCH_PX: Final = 16

ByteImage = npt.NDArray[np.uint8]


def health_text(coverage: CoverageView | None) -> str:
    """The room's health line: the layout's rating word first, then what it means for falls
    and what to change (the engine's words); why it could not be rated when it could not."""
    if coverage is None:
        return "Layout not rated yet: the engine is still working out what the nodes can see."
    rating = printable(coverage.rating).capitalize()
    health = printable(coverage.health)
    if coverage.problem:
        problem = printable(coverage.problem)
        if problem not in health:
            health = f"{health} ({problem})"
    elif health.lower().startswith(rating.lower()):
        return health
    return f"{rating} layout: {health[:1].lower()}{health[1:]}"


def health_is_warning(coverage: CoverageView | None) -> bool:
    """Whether the health line is said in the warning colour: a poor layout, or one that
    could not be rated (a known layout not rated yet is not a warning)."""
    return coverage is not None and (
        coverage.rating in ("poor", "unknown") or bool(coverage.problem)
    )


def health_details(coverage: CoverageView | None) -> str:
    """The health line's tooltip: the reasons for the rating and the advice, one a line."""
    if coverage is None:
        return ""
    lines = [f"Why {printable(coverage.rating)}:"]
    lines += [f"• {printable(reason)}" for reason in coverage.reasons]
    if coverage.advice:
        lines.append(f"What to change: {printable(coverage.advice)}")
    if coverage.xs.size:
        lines.append(
            f"Falls are confirmed in {coverage.fall_capable_fraction:.0%} of the room; "
            f"{coverage.ambiguous_fraction:.0%} of it is ambiguous."
        )
    return "\n".join(lines)


def texels_per_cell(nx: int, ny: int) -> int:
    """Texels a side for each floor cell of an ``nx`` × ``ny`` cell map."""
    return max(1, min(TEXELS_PER_CELL, MAX_TEXTURE_SIDE // max(nx, ny, 1)))


def coverage_texture(coverage: CoverageView) -> ByteImage:
    """The floor overlay as RGBA bytes indexed (x texel, y texel, channel), as pyqtgraph's
    GLImageItem takes it: each cell tinted by its accuracy class, ambiguous cells hatched
    with diagonal stripes, fall-capable cells marked with a white square in their middle.
    Empty (0, 0, 4) when the layout has no map."""
    accuracy = np.asarray(coverage.accuracy_m, np.float64)
    if accuracy.ndim != 2 or accuracy.size == 0:
        return np.zeros((0, 0, 4), np.uint8)
    ny, nx = accuracy.shape
    per = texels_per_cell(nx, ny)
    cells = np.empty((ny, nx, 4), np.uint8)
    cells[:] = _UNSEEN_RGBA
    finite = np.isfinite(accuracy)
    cells[finite & (accuracy > COARSE_M)] = _ROUGH_RGBA
    cells[finite & (accuracy <= COARSE_M)] = _COARSE_RGBA
    cells[finite & (accuracy <= FINE_M)] = _FINE_RGBA
    # (ny·per, nx·per, 4): rows by y, columns by x.
    image = np.repeat(np.repeat(cells, per, axis=0), per, axis=1)
    # One cell's hatch and fall mark, repeated over the map (a cell's texels, rows by y).
    v, u = np.indices((per, per))
    if per >= 4:
        stripe_tile = ((u + v) % per) < max(per // 8, 1)
        low, high = per // 2 - per // 6 - 1, per // 2 + per // 6
        mark_tile = (u >= low) & (u <= high) & (v >= low) & (v <= high)
    else:  # too few texels for a pattern: hatch every other texel, mark the whole cell
        stripe_tile = ((u + v) % 2) == 0
        mark_tile = np.ones((per, per), bool)
    stripe = np.tile(stripe_tile, (ny, nx))
    mark = np.tile(mark_tile, (ny, nx))
    ambiguous = np.repeat(np.repeat(np.asarray(coverage.ambiguous, bool), per, 0), per, 1)
    capable = np.repeat(np.repeat(np.asarray(coverage.fall_capable, bool), per, 0), per, 1)
    image[ambiguous & stripe] = _HATCH_RGBA
    image[capable & mark] = _FALL_MARK_RGBA
    return np.ascontiguousarray(image.transpose(1, 0, 2))


def cell_steps(coverage: CoverageView) -> tuple[float, float]:
    """The cells' width along x and y (metres): they tile the room exactly, at most
    ``cell_m`` wide."""

    def step(centres: npt.NDArray[np.float64]) -> float:
        if centres.size > 1:
            return float(centres[1] - centres[0])
        return float(2.0 * centres[0]) if centres.size else float(coverage.cell_m)

    return step(np.asarray(coverage.xs)), step(np.asarray(coverage.ys))


def uncertain_text(blob: BlobView) -> str:
    """What is said of a blob the layout has never placed unambiguously."""
    if blob.uncertainty_m is not None and math.isfinite(blob.uncertainty_m):
        off = f"may place this person up to {blob.uncertainty_m:.1f} m off"
    else:
        off = "cannot say how far off it places this person here"
    return f"uncertain: the layout {off}; it may be a reflection of crossing links"


def ring_radius_m(blob: BlobView, blob_size_m: float) -> float:
    """Radius (metres) of the ring drawn round an uncertain blob: its uncertainty, and never
    inside the blob itself."""
    radius = blob.uncertainty_m
    if radius is None or not math.isfinite(radius):
        radius = 0.0
    return max(float(radius), 0.6 * blob_size_m)


def rings(
    centres: npt.NDArray[np.float64], radii: npt.NDArray[np.float64], pieces: int = 32
) -> npt.NDArray[np.float32]:
    """Horizontal circles of ``radii`` (metres) round ``centres`` (K, 3) as GL line pairs
    (K · pieces · 2, 3)."""
    angles = np.linspace(0.0, 2.0 * math.pi, pieces + 1)
    circle = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    points = centres[:, None, :] + radii[:, None, None] * circle[None, :, :]  # (K, P+1, 3)
    pairs = np.stack([points[:, :-1], points[:, 1:]], axis=2)  # (K, P, 2, 3)
    return np.ascontiguousarray(pairs.reshape(-1, 3), dtype=np.float32)


def swatch_texels(accuracy_m: float, hatch: bool = False, mark: bool = False) -> ByteImage:
    """One cell as the overlay draws it (rows by y, RGBA bytes), for the legend."""
    probe = CoverageView(
        rating="",
        reasons=(),
        advice="",
        health="",
        fall_alerts="",
        cell_m=1.0,
        xs=np.array([0.5]),
        ys=np.array([0.5]),
        accuracy_m=np.full((1, 1), accuracy_m),
        fall_capable=np.full((1, 1), mark),
        ambiguous=np.full((1, 1), hatch),
        median_accuracy_m=accuracy_m,
        fall_capable_fraction=0.0,
        ambiguous_fraction=0.0,
    )
    return np.ascontiguousarray(coverage_texture(probe).transpose(1, 0, 2))


def _swatch(texels: ByteImage, background: tuple[int, int, int]) -> QPixmap:
    """A legend swatch: ``texels`` blended over the 3D view's ``background`` as GL blends
    them, and flipped (y grows north on the floor, down on the screen)."""
    alpha = texels[..., 3:4].astype(np.float32) / 255.0
    rgb = texels[..., :3] * alpha + np.array(background, np.float32) * (1.0 - alpha)
    rgb = np.ascontiguousarray(rgb[::-1].astype(np.uint8))
    h, w, _ = rgb.shape
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(
        SWATCH_PX,
        SWATCH_PX,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


LEGEND: Final = (
    (0.3, False, False, f"placed within {FINE_M:.1f} m"),
    (0.8, False, False, f"within {COARSE_M:.0f} m"),
    (2.0, False, False, f"more than {COARSE_M:.0f} m off"),
    (math.inf, False, False, "not seen"),
    (0.3, False, True, "white square: a fall is confirmed here"),
    (0.3, True, False, "amber stripes: a person here may also appear elsewhere"),
)
"""The overlay's legend: a cell's accuracy (metres), hatch and fall mark, and what it means
in words."""
LEGEND_COLUMNS: Final = 3


class CoverageLegend(QWidget):
    """The overlay's legend: for each kind of cell, a swatch drawn as the overlay draws it
    over the 3D view's ``background`` (RGB 0-255), and what it means (wrapped when the
    pane is narrow)."""

    def __init__(self, background: tuple[int, int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.texts: list[str] = []
        for index, (accuracy, hatch, mark, words) in enumerate(LEGEND):
            row, column = divmod(index, LEGEND_COLUMNS)
            swatch = QLabel(self)
            swatch.setPixmap(_swatch(swatch_texels(accuracy, hatch, mark), background))
            text = QLabel(words, self)
            text.setWordWrap(True)
            grid.addWidget(swatch, row, 2 * column, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, row, 2 * column + 1)
            grid.setColumnStretch(2 * column + 1, 1)
            self.texts.append(words)
        self.setAccessibleName("Coverage legend: " + "; ".join(self.texts))


HEALTH_WARNING_STYLE: Final = f"color: {WARNING_AMBER}"  # 6.9:1 on the pane's surface
