"""The "Export evidence" dialog: a time range and chosen sources written to a folder as
signed evidence, optionally locked against retention.

The investigator picks the range (site time, to the second, the zone named beside it; the
timeline or a bookmark fills it in), the cameras and sensing rooms (nothing ticked in either
means every source), and a new or empty folder; ticks "Lock against retention" with a
reason to keep the range's recordings. Export runs on a query worker as the person signed
in, through the shared :class:`~widgets.action_strip.ActionRunner`: the strip's bar follows
the bytes copied, and Cancel (or closing the dialog) stops it (nothing is left behind). The
outcome stays in the dialog's strip: the folder, the counts, the signing key's fingerprint
and how to check it (``watchfloor verify DIR``), or the error in the theme's red (a full
disk, a missing recording, a folder in use) with nothing claiming completeness.

The dialog reads nothing itself: it gets the sources and an :class:`EvidenceActions` object
from the console. Every method here runs on the GUI thread except the export itself, which
runs on a query worker and reports through :class:`~widgets.action_strip.ActionProgress`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.sitetime import display
from widgets.action_strip import ActionProgress, ActionRunner, ActionStrip
from widgets.evidence_export.api import EvidenceActions, ExportOutcome, ExportSpec
from widgets.queries import QueryClient
from widgets.site_clock import from_qdatetime, qt_zone, to_qdatetime, zone_abbreviations

DATETIME_FORMAT: Final = "yyyy-MM-dd HH:mm:ss"
EXPORTING: Final = "Exporting evidence…"
"""What the strip says while an export runs (and, with ": stopped", when it is stopped)."""


def progress_text(done: int, total: int) -> str:
    """What the strip says as an export copies ``done`` of ``total`` bytes (total 0: not
    known yet), in megabytes (10⁶ bytes, as :func:`outcome_text` counts them)."""
    if total <= 0:
        return "Exporting…"
    return f"Exporting… {done / 1e6:.1f} of {total / 1e6:.1f} MB"


def outcome_text(outcome: ExportOutcome) -> str:
    """What the dialog says after a successful export."""
    result = outcome.result
    locked = (
        f" The range is locked against retention (lock {outcome.lock_id})."
        if (outcome.lock_id is not None)
        else ""
    )
    footage = (
        f", {result.footage_segments} segments of continuous recording"
        if result.footage_segments
        else ""
    )
    return (
        f"Exported {result.events} events, {result.clips} clips and {result.snapshots} "
        f"snapshots{footage} ({result.bytes / 1e6:.1f} MB) to {result.folder}, signed by key "
        f"{result.fingerprint[:16]}….{locked} Anyone can check it with: "
        f"watchfloor verify {result.folder}"
    )


class EvidenceExportDialog(QDialog):
    """See the module docstring. ``cameras`` are (key, name) pairs; ``rooms`` (room id,
    name) pairs."""

    sig_export_finished = Signal(object)
    """An export completed (an :class:`ExportOutcome`). GUI thread."""

    sig_export_failed = Signal(str)
    """An export failed or was cancelled (the text shown). GUI thread."""

    def __init__(
        self,
        client: QueryClient,
        actions: EvidenceActions,
        *,
        cameras: Sequence[tuple[str, str]],
        rooms: Sequence[tuple[str, str]],
        start: datetime,
        end: datetime,
        lock_allowed: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export evidence")
        self._client = client
        self._actions = actions

        self.from_edit = QDateTimeEdit(self)
        self.to_edit = QDateTimeEdit(self)
        self.site_time = display()
        for edit, value in ((self.from_edit, start), (self.to_edit, end)):
            edit.setTimeZone(qt_zone(self.site_time))  # typed on the site's clock
            edit.setDisplayFormat(DATETIME_FORMAT)
            edit.setCalendarPopup(True)
            edit.setDateTime(to_qdatetime(value, self.site_time))
        self.camera_list = QListWidget(self)
        for key, name in cameras:
            item = QListWidgetItem(name if name == key else f"{name} ({key})")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.camera_list.addItem(item)
        self.room_list = QListWidget(self)
        for room_id, name in rooms:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, room_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.room_list.addItem(item)
        self.camera_list.setMaximumHeight(110)
        self.room_list.setMaximumHeight(70)
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setPlaceholderText("a new or empty folder")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.lock_box = QCheckBox("Lock the range against retention", self)
        self.lock_reason_edit = QLineEdit(self)
        self.lock_reason_edit.setPlaceholderText("why it must be kept (case number, request)")
        self.lock_box.setEnabled(lock_allowed)
        self.lock_reason_edit.setEnabled(False)
        if not lock_allowed:
            self.lock_box.setToolTip("Locking evidence needs the lock_evidence permission")
        self.lock_box.toggled.connect(self.lock_reason_edit.setEnabled)

        form = QFormLayout()
        # The zone is said once, in the labels: "From (IST)", or "From (GMT/BST)" for a
        # site whose clocks change.
        zone = zone_abbreviations(self.site_time)
        form.addRow(f"From ({zone})", self.from_edit)
        form.addRow(f"To ({zone})", self.to_edit)
        for edit in (self.from_edit, self.to_edit):
            edit.setToolTip(f"Site time, {self.site_time.name}")
        form.addRow("Cameras", self.camera_list)
        form.addRow("Sensing rooms", self.room_list)
        hint = QLabel("Tick nothing in either list to export every source.", self)
        hint.setStyleSheet("color: #8b949e;")
        form.addRow(hint)
        form.addRow("Folder", folder_row)
        form.addRow(self.lock_box)
        form.addRow("Reason", self.lock_reason_edit)

        self.strip = ActionStrip(self)
        self._runner = ActionRunner(
            client,
            self.strip,
            channel="evidence.export",
            update_controls=self._update_buttons,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self._on_action_finished)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Close", self)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.strip)
        layout.addLayout(buttons)
        self.resize(520, 520)

    @property
    def busy(self) -> bool:
        """Whether an export runs (its answer has not arrived yet)."""
        return self._runner.is_busy()

    def spec(self) -> ExportSpec:
        """What the form asks for; raises ValueError naming the field that is wrong."""
        start = from_qdatetime(self.from_edit.dateTime())
        end = from_qdatetime(self.to_edit.dateTime())
        if end <= start:
            raise ValueError("To: the range must end after it starts")
        folder_text = self.folder_edit.text().strip()
        if not folder_text:
            raise ValueError("Folder: choose where to write the evidence")
        reason: str | None = None
        if self.lock_box.isChecked():
            reason = self.lock_reason_edit.text().strip()
            if not reason:
                raise ValueError("Reason: say why the range must be kept")
        return ExportSpec(
            start=start,
            end=end,
            cameras=_checked(self.camera_list),
            rooms=_checked(self.room_list),
            folder=Path(folder_text).expanduser(),
            lock_reason=reason,
        )

    def start_export(self) -> None:
        """Check the form and run the export on a worker (ignored while one runs)."""
        if self.busy:
            return
        try:
            spec = self.spec()
        except ValueError as exc:
            self.strip.show_status("")
            self.strip.show_error(str(exc))
            return
        actions = self._actions

        def export(progress: ActionProgress) -> ExportOutcome:
            """Query worker: the export, reporting bytes and stopping on the strip's cancel."""
            outcome = actions.export(spec, progress.report, progress.cancel_event)
            if not isinstance(outcome, ExportOutcome):
                raise TypeError(f"the export answered {type(outcome).__name__}, not an outcome")
            return outcome

        # The dialog's own button cancels (it reads "Cancel" meanwhile), so the strip offers
        # no second Cancel beside it.
        self._runner.run_long(
            EXPORTING,
            export,
            self._on_export_done,
            describe=lambda done, total, _stage: progress_text(done, total),
            cancellable=False,
            failure="Export failed",
        )

    def _on_export_done(self, outcome: ExportOutcome) -> None:
        self.strip.show_status(outcome_text(outcome))
        self.sig_export_finished.emit(outcome)

    def _on_action_finished(self, _what: str, ok: bool) -> None:
        if not ok:  # failed in red, or cancelled plainly: the text the strip shows
            self.sig_export_failed.emit(self.strip.error() or self.strip.status())

    def _update_buttons(self) -> None:
        busy = self.busy
        self.export_button.setEnabled(not busy)
        self.cancel_button.setText("Cancel" if busy else "Close")

    def _on_cancel_clicked(self) -> None:
        if self.busy:
            self._runner.cancel()  # the strip says "Cancelling…" until the export stops
            return
        self.reject()

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export evidence to")
        if folder:
            self.folder_edit.setText(folder)

    def reject(self) -> None:
        """Closing the dialog cancels an export that is still running."""
        self._runner.cancel()
        super().reject()


def _checked(view: QListWidget) -> tuple[str, ...] | None:
    keys = tuple(
        str(view.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(view.count())
        if view.item(i).checkState() == Qt.CheckState.Checked
    )
    return keys or None
