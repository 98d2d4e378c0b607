"""A taught gesture replayed as a skeleton: the pose landmarks of each normalised
example drawn frame by frame, left side and right side told apart (GUI thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

SKELETON_FPS = 30.0  # frames of a normalised example shown a second at its own pace


POSE_CONNECTIONS: Final = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
    (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27),
    (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip


_LEFT_SIDE: Final = frozenset((1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31))


class SkeletonView(QWidget):
    """Replays normalised pose sequences (frames × 33 × 2|3: hips at the origin, y down,
    torso length 1) as an animated stick figure joined by MediaPipe's pose connections,
    each sequence at the pace it was performed (``duration_s``), one after another, looping.
    The figure is fitted to the widget once per sequence, so the body's own motion shows.
    """

    sig_frame_shown = Signal(int, int)
    """A frame was drawn (GUI thread): the sequence's index and the frame's."""

    def __init__(
        self, parent: QWidget | None = None, *, placeholder: str = "Select an example to replay it"
    ) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 200)
        self._placeholder = placeholder
        self.setAccessibleName("Skeleton replay")
        self._sequences: list[tuple[npt.NDArray[np.float32], float]] = []
        self._sequence = 0
        self._frame = 0
        self._bounds = QRectF(-1.5, -2.5, 3.0, 5.0)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_tick)
        self._caption = ""

    def set_sequences(
        self, sequences: Sequence[tuple[npt.ArrayLike, float]], caption: str = ""
    ) -> None:
        """Replay ``(frames, duration_s)`` pairs in turn (none: an empty view)."""
        self._sequences = []
        for frames, seconds in sequences:
            array = np.asarray(frames, dtype=np.float32)
            if array.ndim == 3 and len(array) > 0:
                self._sequences.append((array[..., :2], max(float(seconds), 0.1)))
        self._caption = caption
        self._sequence = 0
        self._frame = 0
        self._fit()
        if self._sequences:
            self._start_sequence()
        else:
            self._timer.stop()
        self.update()

    def clear(self) -> None:
        self.set_sequences([])

    def is_playing(self) -> bool:
        return self._timer.isActive()

    @property
    def position(self) -> tuple[int, int]:
        """(sequence, frame) being shown."""
        return self._sequence, self._frame

    def sequence_count(self) -> int:
        return len(self._sequences)

    def _start_sequence(self) -> None:
        frames, seconds = self._sequences[self._sequence]
        self._timer.start(max(15, round(1000 * seconds / max(len(frames), 1))))

    def _fit(self) -> None:
        if not self._sequences:
            return
        frames = self._sequences[self._sequence][0]
        finite = frames[np.isfinite(frames).all(axis=2)]
        if finite.size == 0:
            return
        (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
        margin = 0.1 * max(x1 - x0, y1 - y0, 1e-3)
        self._bounds = QRectF(
            float(x0 - margin), float(y0 - margin), float(x1 - x0 + 2 * margin),
            float(y1 - y0 + 2 * margin),
        )  # fmt: skip

    def _on_tick(self) -> None:
        if not self._sequences:
            self._timer.stop()
            return
        frames, _seconds = self._sequences[self._sequence]
        self._frame += 1
        if self._frame >= len(frames):
            self._frame = 0
            self._sequence = (self._sequence + 1) % len(self._sequences)
            self._fit()
            self._start_sequence()
        self.update()
        self.sig_frame_shown.emit(self._sequence, self._frame)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#0d1117"))
        if not self._sequences:
            painter.setPen(QColor("#8b949e"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
            painter.end()
            return
        frames, _seconds = self._sequences[self._sequence]
        pose = frames[min(self._frame, len(frames) - 1)]
        bounds = self._bounds
        area = QRectF(self.rect()).adjusted(8, 8, -8, -22)
        scale = min(area.width() / bounds.width(), area.height() / bounds.height())
        left = area.left() + (area.width() - bounds.width() * scale) / 2
        top = area.top() + (area.height() - bounds.height() * scale) / 2

        def point(index: int) -> QPointF | None:
            x, y = float(pose[index, 0]), float(pose[index, 1])
            if not (np.isfinite(x) and np.isfinite(y)):
                return None
            return QPointF(left + (x - bounds.left()) * scale, top + (y - bounds.top()) * scale)

        points = [point(i) for i in range(len(pose))]
        for start, end in POSE_CONNECTIONS:
            if max(start, end) >= len(points):
                continue
            a, b = points[start], points[end]
            if a is None or b is None:
                continue
            left_side = start in _LEFT_SIDE and end in _LEFT_SIDE
            painter.setPen(QPen(QColor("#56B4E9" if left_side else "#E69F00"), 3))
            painter.drawLine(a, b)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#f0f6fc"))
        for p in points:
            if p is not None:
                painter.drawEllipse(p, 3.0, 3.0)
        painter.setPen(QColor("#c9d1d9"))
        caption = self._caption
        if len(self._sequences) > 1:
            caption = f"{caption} {self._sequence + 1}/{len(self._sequences)}".strip()
        painter.drawText(
            QRectF(self.rect()).adjusted(4, 0, -4, -4),
            Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
            caption,
        )
        painter.end()
