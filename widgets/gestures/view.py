"""The gestures pane and the teach wizard: the gestures the cameras recognise, for admins to
teach, replay, rename, mark as alerting or mirror-invariant, and remove, with each
gesture's usage (how often it was recognised, and when last).

:class:`TeachGestureDialog` teaches one gesture in three steps: where the examples come
from (a camera, or a recorded clip or video file), recording them (a 3-2-1 countdown, then
a few seconds of the camera; or every repetition in the clip) with each example replayed as
a skeleton (:class:`SkeletonView`), then its name and options, a live test on a camera, and
Save. Nothing is saved before Save, and Cancel at any time saves nothing.

Neither widget touches the store, a camera or a thread: the console gives them a
:class:`GestureActions` object (blocking calls made as the person logged in, whose
permission the engine checks) and a query client, and every call runs on the client's
workers; answers come back on the GUI thread. Refusals are shown in red as the engine words
them. Every method here runs on the GUI thread, except the progress callback handed to a
blocking call (:meth:`TeachGestureDialog._report_progress`), which only emits a signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.gestures.library import (
    MAX_TEACH_EXAMPLES,
    MIN_TEACH_EXAMPLES,
    GestureView,
)
from engine.gestures.teach import RecordedExample
from engine.gestures.templates import GestureTemplate
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from engine.text import printable
from widgets.gestures.api import GestureActions, LiveTestResult
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M"
NO_VALUE = "—"
NOT_ALLOWED_TEXT = (
    "Teaching, renaming and removing gestures need the manage_gestures permission (admins)."
)
NO_CAMERAS_TEXT = "This site has no cameras: teach from a recorded clip or video file."
RECORD_SECONDS = 3.0
MAX_RECORD_SECONDS = 10.0  # a recording holds one of the console's query workers
COUNTDOWN_FROM = 3
COUNTDOWN_STEP_MS = 1000
SKELETON_FPS = 30.0  # frames of a normalised example shown a second at its own pace
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.m4v);;All files (*)"
_ERROR_STYLE = "color: #f85149;"  # the console's alarm red
_OK_STYLE = "color: #3fb950;"
_COUNTDOWN_STYLE = "font-size: 28pt; font-weight: bold;"

COLUMN_NAME, COLUMN_EXAMPLES, COLUMN_TYPICAL, COLUMN_ALERTING = 0, 1, 2, 3
COLUMN_MIRROR, COLUMN_DETECTIONS, COLUMN_LAST_DETECTED = 4, 5, 6
_HEADERS = (
    "Gesture",
    "Examples",
    "Typical length",
    "Alerting",
    "Mirror",
    "Detections",
    "Last detected",
)

# MediaPipe's pose landmark connections (PoseLandmarksConnections.POSE_LANDMARKS), copied
# so that drawing a skeleton does not load mediapipe.
POSE_CONNECTIONS: Final = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
    (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27),
    (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip
_LEFT_SIDE: Final = frozenset((1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31))


def _local_time(at: datetime) -> str:
    return display().local(at).strftime(TIME_FORMAT)


# -- the skeleton ---------------------------------------------------------------------------


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


# -- the pane ------------------------------------------------------------------------------


class _GesturesModel(RowsTableModel[GestureView]):
    """One row per taught gesture, in the engine's order (by name)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)

    def gestures(self) -> list[GestureView]:
        return list(self._rows)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        view = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(view, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            COLUMN_EXAMPLES,
            COLUMN_TYPICAL,
            COLUMN_DETECTIONS,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COLUMN_NAME:
                return (
                    f"Taught by {printable(view.created_by)} on {_local_time(view.created_at)}; "
                    f"changed {_local_time(view.updated_at)}"
                )
            if column == COLUMN_ALERTING:
                return "Alerting gestures raise their camera's gesture alert rules"
            if column == COLUMN_MIRROR:
                return "Its mirror image counts too (either hand)"
            if column == COLUMN_DETECTIONS:
                return "How often cameras recognised it"
        return None

    @staticmethod
    def text(view: GestureView, column: int) -> str:
        if column == COLUMN_NAME:
            return printable(view.name)
        if column == COLUMN_EXAMPLES:
            return str(view.examples)
        if column == COLUMN_TYPICAL:
            return f"{view.typical_s:.1f} s"
        if column == COLUMN_ALERTING:
            return "yes" if view.alerting else "no"
        if column == COLUMN_MIRROR:
            return "yes" if view.mirror_invariant else "no"
        if column == COLUMN_DETECTIONS:
            return str(view.detections)
        return _local_time(view.last_detected_at) if view.last_detected_at else NO_VALUE


class GesturesPane(QWidget):
    """Taught gestures (name, examples, typical length, alerting, mirror, detections, last
    detected), with Teach… (the wizard), Replay (the selected gesture's examples as a
    skeleton), Rename…, Remove… (confirmed), and alerting / mirror toggles for the selected
    gesture.

    ``actions`` block: the pane runs them through ``client`` and lists again after each
    change. It loads when first shown (or on :meth:`refresh`). ``cameras`` are (id, name)
    pairs the wizard offers. The console says with :meth:`set_changes_allowed` whether the
    person at it may change the library; the engine refuses anyone else anyway."""

    sig_gestures_listed = Signal(int)
    """The gestures were listed (GUI thread): how many."""

    sig_action_finished = Signal(str, bool)
    """A change finished (GUI thread): what was being done, and whether it worked."""

    sig_gesture_taught = Signal(str)
    """A gesture was taught in the wizard (GUI thread): its name."""

    sig_gesture_renamed = Signal(str, str)
    """A gesture was renamed (GUI thread): old and new name."""

    sig_gesture_changed = Signal(str)
    """A gesture's options changed (GUI thread): its name."""

    sig_gesture_removed = Signal(str)
    """A gesture was removed (GUI thread): its name."""

    sig_template_loaded = Signal(str, int)
    """A gesture's examples arrived for replay (GUI thread): its name and how many."""

    def __init__(
        self,
        client: QueryClient,
        actions: GestureActions,
        cameras: Sequence[tuple[str, str]] = (),
        parent: QWidget | None = None,
        *,
        channel: str = "gestures",
        countdown_step_ms: int = COUNTDOWN_STEP_MS,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._cameras = list(cameras)
        self._channel = channel
        self._countdown_step_ms = countdown_step_ms
        self._changes_allowed = True
        self._loaded_once = False
        self._listing_failed = False
        self._running: list[str] = []
        self.teach_dialog: TeachGestureDialog | None = None
        self._select_after_listing: str | None = None

        self._model = _GesturesModel(self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.view.doubleClicked.connect(lambda _index: self._on_replay_requested())
        self.count_label = QLabel("Not loaded yet")
        self.teach_button = QPushButton("Teach…")
        self.teach_button.setToolTip(
            "Teach a new gesture from a camera or a recorded clip (3–5 examples)"
        )
        self.teach_button.clicked.connect(self._on_teach_requested)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.teach_button)
        top.addWidget(self.refresh_button)

        self.replay_button = QPushButton("Replay")
        self.replay_button.setToolTip("Replay the selected gesture's examples as a skeleton")
        self.replay_button.clicked.connect(self._on_replay_requested)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self._on_rename_requested)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip(
            "Forget the selected gesture (its past detections stay in the history)"
        )
        self.remove_button.clicked.connect(self._on_remove_requested)
        self.alerting_check = QCheckBox("Alerting")
        self.alerting_check.setToolTip("Recognising it raises the camera's gesture alert rules")
        self.alerting_check.clicked.connect(self._on_alerting_toggled)
        self.mirror_check = QCheckBox("Mirror image counts")
        self.mirror_check.setToolTip("Recognised performed with either hand")
        self.mirror_check.clicked.connect(self._on_mirror_toggled)
        row = QHBoxLayout()
        for widget in (
            self.replay_button,
            self.rename_button,
            self.remove_button,
            self.alerting_check,
            self.mirror_check,
        ):
            row.addWidget(widget)
        row.addStretch(1)

        self.skeleton = SkeletonView(placeholder="Select a gesture, then Replay")
        self.replay_label = QLabel("Select a gesture and press Replay to see its examples.")
        self.replay_label.setWordWrap(True)
        replay_layout = QVBoxLayout()
        replay_layout.addWidget(self.replay_label)
        replay_layout.addWidget(self.skeleton, 1)
        self.replay_box = QGroupBox("Replay")
        self.replay_box.setLayout(replay_layout)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(self.fontMetrics().height())
        self.progress.hide()
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        self.error_label = QLabel()
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        # In a scroll area, as the other admin panes: a tab in a crowded dock column must
        # not force the window taller than the screen.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 2)
        layout.addLayout(row)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.replay_box, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._update_controls()

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the gestures again (on a worker); a newer refresh supersedes one underway.
        The selection is kept by name."""
        self._loaded_once = True
        self._client.submit(
            f"{self._channel}.list",
            CallRequest(self._actions.list_gestures, "list gestures"),
            self._on_gestures_listed,
        )

    def set_changes_allowed(self, allowed: bool, why_not: str = NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may teach, rename, change and remove: when
        not, those controls are disabled, ``why_not`` says so and an open wizard closes
        (saving nothing). The list and replays stay available."""
        self._changes_allowed = allowed
        self.permission_label.setText("" if allowed else why_not)
        self.permission_label.setVisible(not allowed and bool(why_not))
        if not allowed:
            self.close_dialogs()
        self._update_controls()

    @property
    def changes_allowed(self) -> bool:
        return self._changes_allowed

    def close_dialogs(self) -> None:
        """Cancel the teach wizard if it is open (a recording underway stops)."""
        if self.teach_dialog is not None and self.teach_dialog.isVisible():
            self.teach_dialog.reject()

    def gestures(self) -> list[GestureView]:
        return self._model.gestures()

    def gesture(self, name: str) -> GestureView | None:
        wanted = name.strip().lower()
        return next((g for g in self._model.gestures() if g.name.lower() == wanted), None)

    def cell_text(self, name: str, column: int) -> str:
        for row, view in enumerate(self._model.gestures()):
            if view.name.lower() == name.strip().lower():
                return str(self._model.index(row, column).data() or "")
        return ""

    def selected_gesture(self) -> GestureView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.row(rows[0].row()) if rows else None

    def select(self, name: str) -> None:
        self.view.clearSelection()
        for row, view in enumerate(self._model.gestures()):
            if view.name.lower() == name.strip().lower():
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                self.view.selectionModel().select(self._model.index(row, 0), flags)
                return

    def is_busy(self) -> bool:
        return bool(self._running)

    def open_teach_dialog(self) -> TeachGestureDialog | None:
        """Open the wizard (not modal to the console: the cameras stay live beside it)."""
        if not self._changes_allowed:
            return None
        if self.teach_dialog is not None:
            if self.teach_dialog.isVisible():
                self.teach_dialog.raise_()
                return self.teach_dialog
            self.teach_dialog.deleteLater()
        dialog = TeachGestureDialog(
            self._client,
            self._actions,
            self._cameras,
            existing=[g.name for g in self._model.gestures()],
            parent=self,
            channel=f"{self._channel}.teach",
            countdown_step_ms=self._countdown_step_ms,
        )
        dialog.sig_gesture_saved.connect(self._on_gesture_taught)
        self.teach_dialog = dialog
        dialog.show()
        return dialog

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # Dialogs: small methods, so tests (and callers) can replace them.

    def _confirm_remove(self, view: GestureView) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove gesture",
            f"Remove the gesture {printable(view.name)} and its {view.examples} examples? "
            "Cameras stop recognising it; alert rules naming it match nothing. Its past "
            "detections stay in the history.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _ask_new_name(self, view: GestureView) -> str | None:
        text, ok = QInputDialog.getText(
            self,
            "Rename gesture",
            f"New name for {printable(view.name)} (alert rules naming the old name need "
            "editing too):",
            QLineEdit.EchoMode.Normal,
            view.name,
        )
        return text if ok else None

    # -- handlers --------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        self._show_options()
        self._update_controls()

    def _on_teach_requested(self) -> None:
        self.open_teach_dialog()

    def _on_gesture_taught(self, name: str) -> None:
        self._show_status(f"Taught {printable(name)}: cameras recognise it from now on.")
        self.sig_gesture_taught.emit(name)
        self.refresh()
        self._select_after_listing = name

    def _on_replay_requested(self) -> None:
        view = self.selected_gesture()
        if view is None:
            return
        self.replay_label.setText(f"Loading {printable(view.name)}…")
        self._client.submit(
            f"{self._channel}.template",
            CallRequest(partial(self._actions.template, view.name), "gesture template"),
            self._on_template_loaded,
        )

    def _on_template_loaded(self, result: QueryResult[Any]) -> None:
        template = result.value
        if result.error is not None or not isinstance(template, GestureTemplate):
            self.replay_label.setText("")
            self._show_error(f"Could not load the gesture: {printable(str(result.error))}")
            return
        self.skeleton.set_sequences(
            list(zip(template.examples, template.durations_s, strict=True)), "example"
        )
        count = len(template.examples)
        self.replay_label.setText(
            f"{printable(template.name)}: its {count} examples, each at the pace it was "
            f"performed (typically {template.typical_s:.1f} s)."
        )
        self.sig_template_loaded.emit(template.name, count)

    def _on_rename_requested(self) -> None:
        view = self.selected_gesture()
        if view is None or not self._changes_allowed or self._running:
            return
        new_name = self._ask_new_name(view)
        if new_name is None or new_name.strip() == view.name:
            return

        def renamed(value: object) -> None:
            if isinstance(value, GestureView):
                self._show_status(f"Renamed {printable(view.name)} to {printable(value.name)}.")
                self._select_after_listing = value.name
                self.sig_gesture_renamed.emit(view.name, value.name)

        self._run(
            f"Renaming {printable(view.name)}…",
            partial(self._actions.rename, view.name, new_name),
            f"Could not rename {printable(view.name)}",
            renamed,
        )

    def _on_remove_requested(self) -> None:
        view = self.selected_gesture()
        if view is None or not self._changes_allowed or self._running:
            return
        if not self._confirm_remove(view):
            return

        def removed(_value: object) -> None:
            self._show_status(f"Removed {printable(view.name)}.")
            self.skeleton.clear()
            self.replay_label.setText("")
            self.sig_gesture_removed.emit(view.name)

        self._run(
            f"Removing {printable(view.name)}…",
            partial(self._actions.remove, view.name),
            f"Could not remove {printable(view.name)}",
            removed,
        )

    def _on_alerting_toggled(self, checked: bool) -> None:
        self._change_option(alerting=checked)

    def _on_mirror_toggled(self, checked: bool) -> None:
        self._change_option(mirror=checked)

    def _change_option(self, *, alerting: bool | None = None, mirror: bool | None = None) -> None:
        view = self.selected_gesture()
        if view is None or not self._changes_allowed or self._running:
            self._show_options()
            return
        what = "alerting" if alerting is not None else "mirror image counts"
        on = alerting if alerting is not None else mirror

        def changed(value: object) -> None:
            if isinstance(value, GestureView):
                self._show_status(f"{printable(value.name)}: {what} {'on' if on else 'off'}.")
                self.sig_gesture_changed.emit(value.name)

        self._run(
            f"Changing {printable(view.name)}…",
            partial(self._actions.set_options, view.name, alerting, mirror),
            f"Could not change {printable(view.name)}",
            changed,
        )

    def _on_gestures_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            self._listing_failed = True
            self._show_error(f"Could not list the gestures: {printable(str(result.error))}")
            return
        if self._listing_failed:
            self._listing_failed = False
            self.error_label.hide()
        selected = self._select_after_listing or (
            g.name if (g := self.selected_gesture()) is not None else None
        )
        self._select_after_listing = None
        views: Sequence[GestureView] = result.value
        self._model.set_rows(views)
        if selected is not None:
            self.select(selected)
        count = len(views)
        self.count_label.setText(
            f"{count} gesture{'' if count == 1 else 's'} taught" if count else
            "No gestures taught yet: press Teach… to teach one"
        )  # fmt: skip
        self._show_options()
        self._update_controls()
        if self.teach_dialog is not None:
            self.teach_dialog.set_existing([g.name for g in views])
        self.sig_gestures_listed.emit(count)

    def _on_action_finished(
        self,
        what: str,
        failure: str,
        success: Callable[[Any], object],
        result: QueryResult[Any],
    ) -> None:
        if what in self._running:
            self._running.remove(what)
        self.progress.setVisible(bool(self._running))
        if result.error is not None:
            self._show_status("")
            self._show_error(f"{failure}: {printable(str(result.error))}")
        else:
            self.error_label.hide()
            success(result.value)
        self._update_controls()
        self.sig_action_finished.emit(what, result.error is None)
        self.refresh()

    # -- internals -------------------------------------------------------------------------
    def _run(
        self,
        what: str,
        action: Callable[[], Any],
        failure: str,
        success: Callable[[Any], object],
    ) -> None:
        self.error_label.hide()
        self._show_status(what)
        self._running.append(what)
        self.progress.show()
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.change",
            action,
            partial(self._on_action_finished, what, failure, success),
            name=what,
        )

    def _show_options(self) -> None:
        """The toggles show the selected gesture's options (unticked with none)."""
        view = self.selected_gesture()
        self.alerting_check.setChecked(bool(view and view.alerting))
        self.mirror_check.setChecked(bool(view and view.mirror_invariant))

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        idle = not self._running
        selected = self.selected_gesture() is not None
        self.teach_button.setEnabled(allowed)
        self.replay_button.setEnabled(selected)
        for widget in (
            self.rename_button,
            self.remove_button,
            self.alerting_check,
            self.mirror_check,
        ):
            widget.setEnabled(allowed and idle and selected)

    def _show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def _show_error(self, message: str) -> None:
        _log.warning("%s", message)
        self.error_label.setText(message)
        self.error_label.show()


# -- the teach wizard -----------------------------------------------------------------------

STEP_SOURCE, STEP_RECORD, STEP_SAVE = 0, 1, 2
_STEP_TITLES = (
    "1. Where the examples come from",
    f"2. Record {MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES} examples",
    "3. Name it, test it, save it",
)


class TeachGestureDialog(QDialog):
    """The teach wizard (see the module docstring). ``cameras`` are (id, name) pairs;
    ``existing`` the names already taught (a name among them is taught again only when the
    admin ticks Replace). Blocking calls run through ``client``; nothing is saved before
    Save, and closing or Cancel stops a recording underway and saves nothing."""

    sig_examples_changed = Signal(int)
    """The examples changed (GUI thread): how many there are now."""

    sig_countdown = Signal(int)
    """The countdown before a recording shows a number (GUI thread): 3, 2, 1."""

    sig_recording_finished = Signal(bool)
    """A camera recording or clip read finished (GUI thread): whether examples were added."""

    sig_test_finished = Signal(str)
    """A live test finished (GUI thread): what it said (or the error)."""

    sig_gesture_saved = Signal(str)
    """The gesture was taught (GUI thread): its name as stored."""

    sig_save_failed = Signal(str)
    """Saving was refused (GUI thread): the engine's words."""

    sig_progress = Signal(str, float)
    """Internal hop from a worker: a blocking call's phase and fraction done."""

    def __init__(
        self,
        client: QueryClient,
        actions: GestureActions,
        cameras: Sequence[tuple[str, str]],
        *,
        existing: Sequence[str] = (),
        parent: QWidget | None = None,
        channel: str = "gestures.teach",
        countdown_step_ms: int = COUNTDOWN_STEP_MS,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teach a gesture")
        self.setModal(False)
        self._client = client
        self._actions = actions
        self._cameras = list(cameras)
        self._existing = list(existing)
        self._channel = channel
        self._countdown_step_ms = countdown_step_ms
        self._examples: list[RecordedExample] = []
        self._busy: str | None = None  # what runs now: countdown, recording, reading, …
        self._cancelled = False
        self._countdown_left = 0
        self._recording_started = False
        self._reading_file = ""
        self.saved_view: GestureView | None = None
        self.sig_progress.connect(self._on_progress)

        self.step_label = QLabel()
        self.step_label.setStyleSheet("font-weight: bold;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_source_page())
        self.pages.addWidget(self._build_record_page())
        self.pages.addWidget(self._build_save_page())

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.back_button = QPushButton("< Back")
        self.back_button.clicked.connect(self._on_back_requested)
        self.next_button = QPushButton("Next >")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self._on_next_requested)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self._on_save_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Close without saving anything")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.back_button, self.next_button, self.save_button, self.cancel_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.step_label)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.resize(640, 620)
        self._go_to(STEP_SOURCE)

    # -- pages -----------------------------------------------------------------------------
    def _build_source_page(self) -> QWidget:
        self.camera_radio = QRadioButton("A camera: you perform the gesture in front of it")
        self.file_radio = QRadioButton("A recorded clip or video file of one person")
        self._source_group = QButtonGroup(self)
        self._source_group.addButton(self.camera_radio)
        self._source_group.addButton(self.file_radio)
        self.camera_combo = QComboBox()
        self.camera_combo.setAccessibleName("Camera")
        for camera_id, name in self._cameras:
            self.camera_combo.addItem(printable(name), camera_id)
        self.no_cameras_label = QLabel(NO_CAMERAS_TEXT)
        self.no_cameras_label.setWordWrap(True)
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("a clip or video file with 3–5 repetitions")
        self.file_edit.setAccessibleName("Video file")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_requested)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_button)
        if self._cameras:
            self.camera_radio.setChecked(True)
            self.no_cameras_label.hide()
        else:
            self.camera_radio.setEnabled(False)
            self.camera_combo.setEnabled(False)
            self.file_radio.setChecked(True)
        for widget in (self.camera_radio, self.file_radio):
            widget.toggled.connect(self._update_controls)
        self.camera_combo.currentIndexChanged.connect(self._update_controls)
        self.file_edit.textChanged.connect(self._update_controls)
        hint = QLabel(
            "From a camera: after a 3-2-1 countdown the camera records a few seconds; "
            "perform the gesture once, whole upper body in view, standing still before and "
            "after. From a file: every repetition in it becomes an example (pause between "
            "repetitions)."
        )
        hint.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.camera_radio)
        layout.addWidget(self.camera_combo)
        layout.addWidget(self.no_cameras_label)
        layout.addSpacing(8)
        layout.addWidget(self.file_radio)
        layout.addLayout(file_row)
        layout.addSpacing(8)
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

    def _build_record_page(self) -> QWidget:
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(1.0, MAX_RECORD_SECONDS)
        self.seconds_spin.setSingleStep(0.5)
        self.seconds_spin.setValue(RECORD_SECONDS)
        self.seconds_spin.setSuffix(" s")
        self.seconds_spin.setAccessibleName("Recording length")
        self.record_button = QPushButton("Record an example")
        self.record_button.clicked.connect(self._on_record_requested)
        self.read_file_button = QPushButton("Read the clip again")
        self.read_file_button.clicked.connect(self._on_read_file_requested)
        self.countdown_label = QLabel()
        self.countdown_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown_label.setStyleSheet(_COUNTDOWN_STYLE)
        self.countdown_label.hide()
        self._countdown_timer = QTimer(self)
        self._countdown_timer.timeout.connect(self._on_countdown_tick)
        record_row = QHBoxLayout()
        record_row.addWidget(QLabel("Record for"))
        record_row.addWidget(self.seconds_spin)
        record_row.addWidget(self.record_button)
        record_row.addWidget(self.read_file_button)
        record_row.addStretch(1)
        self.examples_list = QListWidget()
        self.examples_list.setAccessibleName("Examples")
        self.examples_list.currentRowChanged.connect(self._on_example_selected)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Drop the selected example")
        self.discard_button.clicked.connect(self._on_discard_requested)
        self.examples_label = QLabel()
        list_row = QHBoxLayout()
        list_row.addWidget(self.examples_label, 1)
        list_row.addWidget(self.discard_button)
        self.skeleton = SkeletonView()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.source_label)
        layout.addLayout(record_row)
        layout.addWidget(self.countdown_label)
        layout.addLayout(list_row)
        body = QHBoxLayout()
        body.addWidget(self.examples_list, 1)
        body.addWidget(self.skeleton, 1)
        layout.addLayout(body, 1)
        return page

    def _build_save_page(self) -> QWidget:
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. wave, hand raised")
        self.name_edit.setAccessibleName("Gesture name")
        self.name_edit.textChanged.connect(self._on_name_changed)
        self.alerting_check = QCheckBox("Alerting: recognising it raises the camera's alerts")
        self.mirror_check = QCheckBox("Mirror image counts too (either hand)")
        self.mirror_check.setChecked(True)  # a wave for help is a wave with either hand
        self.replace_check = QCheckBox()
        self.replace_check.toggled.connect(self._update_controls)
        self.replace_check.hide()
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.alerting_check)
        form.addRow("", self.mirror_check)
        form.addRow("", self.replace_check)
        self.test_camera_combo = QComboBox()
        self.test_camera_combo.setAccessibleName("Test camera")
        for camera_id, name in self._cameras:
            self.test_camera_combo.addItem(printable(name), camera_id)
        self.test_button = QPushButton("Test live")
        self.test_button.setToolTip("Count down, record the camera and say what it would recognise")
        self.test_button.clicked.connect(self._on_test_requested)
        self.test_result_label = QLabel(
            "Perform the gesture (or another movement) in front of a camera to see whether "
            "it is recognised before saving."
            if self._cameras
            else "Testing live needs a camera; this site has none."
        )
        self.test_result_label.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(QLabel("Camera"))
        test_row.addWidget(self.test_camera_combo, 1)
        test_row.addWidget(self.test_button)
        test_layout = QVBoxLayout()
        test_layout.addLayout(test_row)
        test_layout.addWidget(self.test_result_label)
        test_box = QGroupBox("Test it live")
        test_box.setLayout(test_layout)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(test_box)
        layout.addStretch(1)
        return page

    # -- public API ------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self.pages.currentIndex()

    def examples(self) -> list[RecordedExample]:
        return list(self._examples)

    def is_busy(self) -> bool:
        return self._busy is not None

    @property
    def busy_with(self) -> str | None:
        return self._busy

    def set_existing(self, names: Sequence[str]) -> None:
        """The names taught now (listed again by the pane)."""
        self._existing = list(names)
        self._on_name_changed(self.name_edit.text())

    def chosen_camera(self) -> str | None:
        """The camera examples come from (None: a file)."""
        if self.camera_radio.isChecked() and self.camera_combo.currentIndex() >= 0:
            return str(self.camera_combo.currentData())
        return None

    def reject(self) -> None:
        """Cancel: stop what runs (a recording stops at its next frame) and save nothing."""
        if self._busy == "saving":
            return  # the store writer has it; closing now would hide whether it was taught
        self._cancelled = True
        self._countdown_timer.stop()
        self.skeleton.clear()
        super().reject()

    # -- navigation ------------------------------------------------------------------------
    def _go_to(self, step: int) -> None:
        self.pages.setCurrentIndex(step)
        self.step_label.setText(_STEP_TITLES[step])
        if step == STEP_RECORD:
            camera = self.chosen_camera()
            from_camera = camera is not None
            if from_camera:
                self.source_label.setText(
                    f"From camera {self.camera_combo.currentText()}: press Record, stand "
                    "still during the countdown, then perform the gesture once."
                )
                index = self.test_camera_combo.findData(camera)
                if index >= 0:
                    self.test_camera_combo.setCurrentIndex(index)
            else:
                self.source_label.setText(
                    f"From {printable(Path(self.file_edit.text().strip()).name)}: every "
                    "repetition in it becomes an example."
                )
            for widget in (self.seconds_spin, self.record_button):
                widget.setVisible(from_camera)
            self.read_file_button.setVisible(not from_camera)
        self._update_controls()

    def _on_back_requested(self) -> None:
        if self.step > STEP_SOURCE and self._busy is None:
            self._go_to(self.step - 1)

    def _on_next_requested(self) -> None:
        if self._busy is not None:
            return
        if self.step == STEP_SOURCE:
            self.error_label.hide()
            self._go_to(STEP_RECORD)
            if self.chosen_camera() is None and len(self._examples) < MAX_TEACH_EXAMPLES:
                self._on_read_file_requested()
        elif self.step == STEP_RECORD and self._enough_examples():
            self.status_label.setText("")
            self._go_to(STEP_SAVE)
            self.name_edit.setFocus()

    def _on_browse_requested(self) -> None:
        path = self._ask_video_file()
        if path:
            self.file_edit.setText(path)
            self.file_radio.setChecked(True)

    def _ask_video_file(self) -> str:
        """The file the admin picks ("" when cancelled). Replaceable in tests."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "A recorded clip or video of the gesture", "", VIDEO_FILTER
        )
        return path

    # -- recording -------------------------------------------------------------------------
    def _on_record_requested(self) -> None:
        if self._busy is not None or len(self._examples) >= MAX_TEACH_EXAMPLES:
            return
        if self.chosen_camera() is None:
            return
        self._start_countdown("record")

    def _start_countdown(self, then: str) -> None:
        self.error_label.hide()
        self._busy = f"countdown:{then}"
        self._countdown_left = COUNTDOWN_FROM
        self._show_countdown()
        self._countdown_timer.start(self._countdown_step_ms)
        self._update_controls()

    def _show_countdown(self) -> None:
        self.countdown_label.setText(str(self._countdown_left))
        self.countdown_label.show()
        self.status_label.setText("Get ready: stand still, whole upper body in view…")
        self.sig_countdown.emit(self._countdown_left)

    def _on_countdown_tick(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left > 0:
            self._show_countdown()
            return
        self._countdown_timer.stop()
        then = (self._busy or "").removeprefix("countdown:")
        if then == "test":
            self._start_test()
        else:
            self._start_recording()

    def _start_recording(self) -> None:
        camera = self.chosen_camera()
        if camera is None:
            self._busy = None
            self._update_controls()
            return
        self._busy = "recording"
        self._announce_start()
        self.progress.setValue(0)
        self.progress.show()
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.record",
            partial(
                self._actions.record_example,
                camera,
                float(self.seconds_spin.value()),
                self._report_progress,
                self._is_cancelled,
            ),
            self._on_example_recorded,
            name="record a gesture example",
        )

    def _on_example_recorded(self, result: QueryResult[Any]) -> None:
        self._finish_busy()
        if self._cancelled:
            return
        example = result.value
        if result.error is not None or not isinstance(example, RecordedExample):
            self._show_error(f"No example recorded: {printable(str(result.error))}")
            self.sig_recording_finished.emit(False)
            return
        self._add_examples([example])
        self.status_label.setText(
            f"Example {len(self._examples)} recorded ({example.duration_s:.1f} s)."
            + self._more_text()
        )
        self.sig_recording_finished.emit(True)

    def _on_read_file_requested(self) -> None:
        path = self.file_edit.text().strip()
        if self._busy is not None or not path:
            return
        if len(self._examples) >= MAX_TEACH_EXAMPLES:
            self._show_error(f"{MAX_TEACH_EXAMPLES} examples already: discard some to add others.")
            return
        self.error_label.hide()
        self._busy = "reading"
        self._reading_file = Path(path).name
        self.status_label.setText(f"Reading the poses in {printable(Path(path).name)}…")
        self.progress.setValue(0)
        self.progress.show()
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.read",
            partial(
                self._actions.examples_from_file, path, self._report_progress, self._is_cancelled
            ),
            self._on_file_read,
            name="read gesture examples",
        )

    def _on_file_read(self, result: QueryResult[Any]) -> None:
        file_name = self._reading_file
        self._finish_busy()
        if self._cancelled:
            return
        found = result.value
        if result.error is not None or not isinstance(found, list):
            self._show_error(f"No examples read: {printable(str(result.error))}")
            self.sig_recording_finished.emit(False)
            return
        room = MAX_TEACH_EXAMPLES - len(self._examples)
        added = found[:room]
        self._add_examples(added)
        text = f"{printable(file_name)}: {len(found)} repetition{'' if len(found) == 1 else 's'}"
        if len(added) < len(found):
            text += (
                f"; the first {len(added)} added (at most {MAX_TEACH_EXAMPLES} examples: "
                "discard some to add others)"
            )
        else:
            text += " added"
        self.status_label.setText(text + "." + self._more_text())
        self.sig_recording_finished.emit(bool(added))

    def _on_discard_requested(self) -> None:
        row = self.examples_list.currentRow()
        if self._busy is not None or not 0 <= row < len(self._examples):
            return
        del self._examples[row]
        self._refresh_examples(select=min(row, len(self._examples) - 1))
        self.status_label.setText(f"Example discarded.{self._more_text()}")

    def _on_example_selected(self, row: int) -> None:
        if 0 <= row < len(self._examples):
            example = self._examples[row]
            self.skeleton.set_sequences(
                [(example.normalised(), example.duration_s)], f"example {row + 1}"
            )
        else:
            self.skeleton.clear()
        self._update_controls()

    # -- testing and saving ----------------------------------------------------------------
    def _on_test_requested(self) -> None:
        if self._busy is not None or self.test_camera_combo.currentIndex() < 0:
            return
        self.test_result_label.setStyleSheet("")
        self.test_result_label.setText("")
        self._start_countdown("test")

    def _start_test(self) -> None:
        camera = self.test_camera_combo.currentData()
        self._busy = "testing"
        self._announce_start()
        self.progress.setValue(0)
        self.progress.show()
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.test",
            partial(
                self._actions.test_live,
                str(camera),
                float(self.seconds_spin.value()),
                list(self._examples),
                self.name_edit.text().strip(),
                self.mirror_check.isChecked(),
                self._report_progress,
                self._is_cancelled,
            ),
            self._on_tested,
            name="test a gesture live",
        )

    def _on_tested(self, result: QueryResult[Any]) -> None:
        self._finish_busy()
        if self._cancelled:
            return
        outcome = result.value
        if result.error is not None or not isinstance(outcome, LiveTestResult):
            text = f"Test failed: {printable(str(result.error))}"
            self.test_result_label.setStyleSheet(_ERROR_STYLE)
        else:
            text = outcome.text()
            self.test_result_label.setStyleSheet(
                _OK_STYLE if outcome.recognised == outcome.candidate else ""
            )
        self.test_result_label.setText(text)
        self.status_label.setText("")
        self.sig_test_finished.emit(text)

    def _on_save_requested(self) -> None:
        if self._busy is not None or not self._can_save():
            return
        name = self.name_edit.text().strip()
        self.error_label.hide()
        self._busy = "saving"
        self.status_label.setText(f"Teaching {printable(name)}…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.save",
            partial(
                self._actions.save,
                name,
                list(self._examples),
                self.alerting_check.isChecked(),
                self.mirror_check.isChecked(),
                self.replace_check.isVisible() and self.replace_check.isChecked(),
            ),
            self._on_saved,
            name="teach a gesture",
        )

    def _on_saved(self, result: QueryResult[Any]) -> None:
        self._finish_busy()
        self.progress.setRange(0, 100)
        view = result.value
        if result.error is not None or not isinstance(view, GestureView):
            message = printable(str(result.error))
            self._show_error(f"Not saved: {message}")
            self.status_label.setText("")
            self.sig_save_failed.emit(message)
            return
        self.saved_view = view
        self.sig_gesture_saved.emit(view.name)
        self.accept()

    # -- internals -------------------------------------------------------------------------
    def _report_progress(self, phase: str, fraction: float) -> None:
        """Worker thread: hand the progress to the GUI thread (nothing once cancelled)."""
        if not self._cancelled:
            self.sig_progress.emit(phase, fraction)

    def _is_cancelled(self) -> bool:
        """Any thread: the wizard was cancelled or closed."""
        return self._cancelled

    def _announce_start(self) -> None:
        """The camera is being opened for the recording (the pose model loads first, about
        a second): "Now!" comes with the first recorded picture."""
        self._recording_started = False
        self.countdown_label.setText("…")
        self.status_label.setText("Starting the recording: keep still…")

    def _on_progress(self, phase: str, fraction: float) -> None:
        if self._busy is None:
            return
        self.progress.setValue(round(100 * max(0.0, min(1.0, fraction))))
        if phase == "recording" and not self._recording_started:
            self._recording_started = True
            self.countdown_label.setText("Now!")
            self.status_label.setText(
                "Recording: perform the gesture once, then stand still."
                if self._busy == "recording"
                else "Testing: perform the gesture once."
            )
        elif phase == "posing":
            self.countdown_label.hide()
            self.status_label.setText("Reading the poses…")

    def _finish_busy(self) -> None:
        self._busy = None
        self.countdown_label.hide()
        self.progress.hide()
        self._update_controls()

    def _add_examples(self, examples: Sequence[RecordedExample]) -> None:
        self._examples.extend(examples)
        self._refresh_examples(select=len(self._examples) - 1)

    def _refresh_examples(self, select: int) -> None:
        self.examples_list.blockSignals(True)
        self.examples_list.clear()
        for number, example in enumerate(self._examples, 1):
            item = QListWidgetItem(
                f"{number}. {printable(example.label)} ({example.duration_s:.1f} s)"
            )
            self.examples_list.addItem(item)
        self.examples_list.blockSignals(False)
        self.examples_list.setCurrentRow(select)
        self._on_example_selected(select)
        count = len(self._examples)
        self.examples_label.setText(
            f"{count} example{'' if count == 1 else 's'} "
            f"(teach from {MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES})"
        )
        self._update_controls()
        self.sig_examples_changed.emit(count)

    def _more_text(self) -> str:
        count = len(self._examples)
        if count < MIN_TEACH_EXAMPLES:
            more = MIN_TEACH_EXAMPLES - count
            return f" Record {more} more."
        if count < MAX_TEACH_EXAMPLES:
            return " Enough to teach it: press Next, or record more."
        return " That is the most a gesture takes: press Next."

    def _enough_examples(self) -> bool:
        return MIN_TEACH_EXAMPLES <= len(self._examples) <= MAX_TEACH_EXAMPLES

    def _name_exists(self, name: str) -> str | None:
        wanted = name.strip().lower()
        return next((n for n in self._existing if n.lower() == wanted), None) if wanted else None

    def _on_name_changed(self, text: str) -> None:
        existing = self._name_exists(text)
        if existing is None:
            self.replace_check.setChecked(False)
            self.replace_check.hide()
        else:
            self.replace_check.setText(
                f"Replace {printable(existing)}: teach it again (its examples are replaced, "
                "its usage kept)"
            )
            self.replace_check.show()
        self._update_controls()

    def _can_save(self) -> bool:
        name = self.name_edit.text().strip()
        if not name or not self._enough_examples():
            return False
        return self._name_exists(name) is None or self.replace_check.isChecked()

    def _update_controls(self) -> None:
        idle = self._busy is None
        step = self.step
        source_ready = (
            self.camera_radio.isChecked() and self.camera_combo.currentIndex() >= 0
        ) or (self.file_radio.isChecked() and bool(self.file_edit.text().strip()))
        self.camera_combo.setEnabled(bool(self._cameras) and self.camera_radio.isChecked())
        self.file_edit.setEnabled(self.file_radio.isChecked())
        self.browse_button.setEnabled(self.file_radio.isChecked())
        self.back_button.setEnabled(idle and step > STEP_SOURCE)
        self.next_button.setVisible(step < STEP_SAVE)
        self.next_button.setEnabled(
            idle
            and (
                (step == STEP_SOURCE and source_ready)
                or (step == STEP_RECORD and self._enough_examples())
            )
        )
        room = len(self._examples) < MAX_TEACH_EXAMPLES
        self.record_button.setEnabled(idle and room)
        self.seconds_spin.setEnabled(idle)
        self.read_file_button.setEnabled(idle and room)
        self.discard_button.setEnabled(idle and self.examples_list.currentRow() >= 0)
        self.test_button.setEnabled(idle and bool(self._cameras) and self._enough_examples())
        self.test_camera_combo.setEnabled(idle and bool(self._cameras))
        self.save_button.setVisible(step == STEP_SAVE)
        self.save_button.setEnabled(idle and step == STEP_SAVE and self._can_save())
        self.cancel_button.setEnabled(self._busy != "saving")
        count = len(self._examples)
        self.examples_label.setText(
            f"{count} example{'' if count == 1 else 's'} "
            f"(teach from {MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES})"
        )

    def _show_error(self, message: str) -> None:
        _log.warning("%s", message)
        self.error_label.setText(message)
        self.error_label.show()
