"""Re-running a replayed range's sensing with other settings, and comparing.

The investigator replaying a range may ask what the sensing room would have shown with a
different motion threshold, fusion cell or Fresnel zone cut-off: :class:`SensingRerunDialog`
takes those three settings (starting from the room's own), then either shows the replay
with them in the 3D view ("Replay with these settings") or re-runs the range twice, with
the room's settings and with these, and lists the blobs each found: those both found
(matched: overlapping in time, within a metre), and those only one did. Activating a row
moves the replay to the moment that blob appeared.

A view only: it asks through its signals and shows what the console's replay controller
tells it (:meth:`set_progress`, :meth:`show_comparison`, :meth:`show_error`) in the shared
:class:`~widgets.action_strip.ActionStrip` (its bar, line, red error and Cancel); the re-runs
happen on query workers. Times are on the site's clock (the zone said once, in the range).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.history.replay import SensingComparison
from engine.sensing.recording.replay import ReplayedBlob, ReplaySettings
from engine.sitetime import display
from widgets.action_strip import ActionStrip

MATCHED = "Both"
ONLY_ROOM = "Room's settings only"
ONLY_OTHER = "These settings only"
PERCENT = 100  # the controller reports a fraction; the strip's bar counts it in percent
COLUMNS = ("Found by", "Appeared", "Left", "Where (m)", "Stayed", "Apart")  # site time


def _clock(moment: datetime | None) -> str:
    return "still there" if moment is None else display().clock(moment)


def _where(blob: ReplayedBlob) -> str:
    x, y = blob.first_position[0], blob.first_position[1]
    return f"{x:.1f}, {y:.1f}"


def _stayed(blob: ReplayedBlob) -> str:
    return "" if blob.duration_s is None else f"{blob.duration_s:.0f} s"


class SensingRerunDialog(QDialog):
    """The settings of a sensing re-run, its progress, and the comparison's blobs.

    ``room_settings``: the room's own ``motion_threshold`` (fraction), ``voxel_m`` and
    ``max_zone``, which the form starts from and "Room's settings" restores."""

    sig_rerun_requested = Signal(object)
    """Show the replay with these settings (a :class:`ReplaySettings`)."""

    sig_compare_requested = Signal(object)
    """Compare the room's settings with these (a :class:`ReplaySettings`)."""

    sig_cancel_requested = Signal()
    """Stop the comparison that is running."""

    sig_moment_requested = Signal(object)
    """Move the replay to this moment (an aware UTC datetime): a blob's appearance."""

    def __init__(
        self,
        room_id: str,
        room_settings: dict[str, Any],
        start: datetime,
        end: datetime,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sensingRerunDialog")
        self.setWindowTitle(f"Re-run sensing — {room_id}")
        self._room_settings = dict(room_settings)
        self._running = False

        self.range_label = QLabel()
        self.range_label.setWordWrap(True)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.1, 999.0)  # the engine takes 0–10 (a fraction)
        self.threshold.setDecimals(1)
        self.threshold.setSingleStep(0.5)
        self.threshold.setSuffix(" %")
        self.threshold.setToolTip(
            "How much a link's signal must change (smoothed relative deltaRMS) to count as motion"
        )
        self.cell = QDoubleSpinBox()
        self.cell.setRange(0.05, 2.0)
        self.cell.setDecimals(2)
        self.cell.setSingleStep(0.05)
        self.cell.setSuffix(" m")
        self.cell.setToolTip("The edge of a fusion cell: smaller finds people closer together")
        self.zone = QSpinBox()
        self.zone.setRange(1, 20)
        self.zone.setToolTip("The outermost Fresnel zone a link listens to")
        form = QFormLayout()
        form.addRow("Motion threshold", self.threshold)
        form.addRow("Cell size", self.cell)
        form.addRow("Fresnel zones", self.zone)

        self.reset_button = QPushButton("Room's settings")
        self.reset_button.setToolTip("Put back the room's own settings")
        self.reset_button.clicked.connect(self._restore_room_settings)
        self.rerun_button = QPushButton("Replay with these settings")
        self.rerun_button.setToolTip("Show the range in the 3D view processed with these settings")
        self.rerun_button.clicked.connect(self._on_rerun_clicked)
        self.compare_button = QPushButton("Compare with the room's settings")
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self._on_compare_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        buttons.addWidget(self.rerun_button)
        buttons.addWidget(self.compare_button)

        # Driven from outside (the console's replay controller runs the re-runs): the strip
        # shows what it is told, and its Cancel asks the controller to stop.
        self.strip = ActionStrip()
        self.strip.cancel_button.setToolTip("Stop the comparison; nothing half-done is shown")
        self.strip.cancel_button.clicked.connect(self.sig_cancel_requested.emit)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("Double-click or Enter: replay from when the blob appeared")
        self.table.itemActivated.connect(self._on_row_activated)

        layout = QVBoxLayout(self)
        layout.addWidget(self.range_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.strip)
        layout.addWidget(self.table, 1)
        self.resize(640, 460)
        self._restore_room_settings()
        self.set_range(start, end)

    # -- what the console tells it -------------------------------------------------------

    def set_range(self, start: datetime, end: datetime) -> None:
        """The replayed range the re-runs cover."""
        # The zone is said once, here; the table's times are on the same clock.
        site = display()
        self.range_label.setText(
            f"The replayed range, {site.full(start)} to {site.clock(end)} "
            f"{site.zone_label(end)} "
            f"({(end - start).total_seconds() / 60:.0f} min), re-run from the room's "
            "recording."
        )

    def set_progress(self, text: str, fraction: float | None, cancellable: bool = True) -> None:
        """A re-run is under way: ``text`` and how far it is (0–1; None: unknown);
        ``cancellable``: whether Cancel can stop it (a comparison can; a replay with other
        settings is replaced by the next one instead)."""
        self._set_running(True, cancellable)
        self.strip.clear_error()
        if fraction is None:
            self.strip.set_busy(True)
        else:
            self.strip.show_progress(round(max(0.0, min(1.0, fraction)) * PERCENT), PERCENT)
        self.strip.show_status(text)

    def show_message(self, text: str) -> None:
        """A re-run finished (or was cancelled): ``text`` says what it showed."""
        self._set_running(False)
        self.strip.clear_error()
        self.strip.show_status(text)

    def show_error(self, text: str) -> None:
        """A re-run failed: ``text`` (shown in red)."""
        self._set_running(False)
        self.strip.show_status("")
        self.strip.show_error(text)

    def show_comparison(self, comparison: SensingComparison) -> None:
        """The blobs of both runs: matched first, then those only one run found, each
        group in order of appearance."""
        self._set_running(False)
        self.strip.clear_error()
        self.strip.show_status(comparison.summary().capitalize())
        rows: list[tuple[str, ReplayedBlob, float | None]] = [
            (MATCHED, match.baseline, match.distance_m) for match in comparison.matches
        ]
        rows += [(ONLY_ROOM, blob, None) for blob in comparison.only_baseline]
        rows += [(ONLY_OTHER, blob, None) for blob in comparison.only_other]
        self.table.setRowCount(0)
        self.table.setRowCount(len(rows))
        for row, (found_by, blob, apart) in enumerate(rows):
            cells = (
                found_by,
                _clock(blob.appeared),
                _clock(blob.left),
                _where(blob),
                _stayed(blob),
                "" if apart is None else f"{apart:.2f} m",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, blob.appeared)
                self.table.setItem(row, column, item)

    def settings(self) -> ReplaySettings:
        """The settings in the form (the threshold as a fraction, as the engine takes it)."""
        return ReplaySettings(
            motion_threshold=round(self.threshold.value() / 100.0, 6),
            voxel_m=round(self.cell.value(), 3),
            max_zone=self.zone.value(),
        )

    # -- inside ----------------------------------------------------------------------------

    def _restore_room_settings(self) -> None:
        self.threshold.setValue(float(self._room_settings.get("motion_threshold", 0.02)) * 100)
        self.cell.setValue(float(self._room_settings.get("voxel_m", 0.25)))
        self.zone.setValue(int(self._room_settings.get("max_zone", 3)))

    def _set_running(self, running: bool, cancellable: bool = True) -> None:
        """A comparison holds the form until it ends or is cancelled; a replay with other
        settings leaves it free (the next request replaces it)."""
        self._running = running
        for button in (self.rerun_button, self.compare_button, self.reset_button):
            button.setEnabled(not (running and cancellable))
        self.strip.set_cancellable(running and cancellable)
        if not running:
            self.strip.set_busy(False)

    def _on_rerun_clicked(self) -> None:
        self.sig_rerun_requested.emit(self.settings())

    def _on_compare_clicked(self) -> None:
        self.table.setRowCount(0)
        self.sig_compare_requested.emit(self.settings())

    def _on_row_activated(self, item: QTableWidgetItem) -> None:
        first = self.table.item(item.row(), 0)
        moment = None if first is None else first.data(Qt.ItemDataRole.UserRole)
        if isinstance(moment, datetime):
            self.sig_moment_requested.emit(moment)
