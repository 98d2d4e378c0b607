"""The System page's "How long footage is kept" group: each continuously recorded camera's
retention tiers (everything; with motion; with people, events or alerts), where each value
comes from (the site file, or set here by whom and when), editors for an admin, a row that
sets every camera at once, and a warning where the disk fills before the tiers expire.

The tiers come through the query client; a save is an action run off the GUI thread
(``change(cameras, tiers)``, one call per group of cameras changed alike). Shortening a tier
deletes footage sooner, so it is confirmed first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import RECORDING_DAYS_MAX
from engine.history.query_service import QueryRequest, QueryResult
from engine.recording_settings import TIER_MEANING, TIER_TITLES, TIERS, CameraTiers, RecordingTiers
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.queries import QueryClient

TIERS_CHANNEL: Final = "system.tiers"
EVERY_CAMERA: Final = "Every camera"
OFF_TEXT: Final = "off"  # a tier of 0 days keeps nothing by itself
COLUMNS: Final = ("Camera", *(TIER_TITLES[tier] for tier in TIERS), "Set by")
EXPLANATION: Final = (
    "A segment of a camera's recording is kept while any of its tiers keeps it; evidence "
    "locks keep footage whatever its age. Values set here are taken over the site file's "
    "[recording] by every engine at its next retention pass (within the hour, or at once "
    "with Run retention now)."
)

TierChange = dict[str, int | None]


def set_by_words(camera: CameraTiers) -> str:
    """Where ``camera``'s tiers come from, in words: "site file", or "here: alice,
    2026-11-28 23:40" (site time) with "(others: site file)" where only some are."""
    here = [tier for tier in TIERS if camera.set_here(tier)]
    if not here or camera.admin is None:
        return "site file"
    when = f", {display().local(camera.admin.at):%Y-%m-%d %H:%M}" if camera.admin.at else ""
    who = printable(camera.admin.by) or "an admin"
    rest = " (others: site file)" if len(here) < len(TIERS) else ""
    return f"here: {who}{when}{rest}"


def _days_box(parent: QWidget, tier: str) -> QSpinBox:
    box = QSpinBox(parent)
    box.setRange(0, RECORDING_DAYS_MAX)
    box.setSuffix(" days")
    box.setSpecialValueText(OFF_TEXT)
    box.setToolTip(f"{TIER_MEANING[tier][:1].upper()}{TIER_MEANING[tier][1:]} (0: off)")
    box.setAccelerated(True)
    return box


def _mark_edited(box: QSpinBox, edited: bool) -> None:
    font = box.font()
    font.setBold(edited)
    box.setFont(font)


class RecordingTiersGroup(QGroupBox):
    """The tiers of every camera that records continuously (hidden when none does).
    ``request()`` builds the query; ``change(cameras, tiers)`` stores a change (blocking,
    run on a worker) and returns the cameras it changed."""

    def __init__(
        self,
        client: QueryClient,
        request: Callable[[], QueryRequest[RecordingTiers]],
        change: Callable[[tuple[str, ...], TierChange], list[str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("How long footage is kept", parent)
        self._client = client
        self._request = request
        self._change = change
        self._allowed = True
        self._disk_days: float | None = None
        self.tiers: RecordingTiers | None = None
        layout = QVBoxLayout(self)
        explanation = QLabel(EXPLANATION, self)
        explanation.setWordWrap(True)
        layout.addWidget(explanation)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(12)
        for column, title in enumerate(COLUMNS):
            header = QLabel(title, self)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            header.setWordWrap(True)
            self._grid.addWidget(header, 0, column, Qt.AlignmentFlag.AlignBottom)
        self._grid.setColumnStretch(len(COLUMNS) + 1, 1)  # after the reset buttons
        layout.addLayout(self._grid)
        # The first row sets every camera's editors at once (saved with Save).
        self.every_label = QLabel(EVERY_CAMERA, self)
        self.every_label.setToolTip("Set a tier here to give every camera below the same value")
        self.every_boxes = {tier: _days_box(self, tier) for tier in TIERS}
        self._grid.addWidget(self.every_label, 1, 0)
        for column, tier in enumerate(TIERS, start=1):
            box = self.every_boxes[tier]
            box.setSpecialValueText("—")  # nothing chosen yet
            box.setMinimum(-1)
            box.setValue(-1)
            box.valueChanged.connect(lambda value, t=tier: self._set_every(t, value))
            self._grid.addWidget(box, 1, column)
        self.rows: dict[str, dict[str, QSpinBox]] = {}
        self.name_labels: dict[str, QLabel] = {}
        self.source_labels: dict[str, QLabel] = {}
        self.reset_buttons: dict[str, QPushButton] = {}
        self.disk_label = QLabel("", self)
        self.disk_label.setWordWrap(True)
        show_as_error(self.disk_label)
        self.disk_label.hide()
        layout.addWidget(self.disk_label)
        self.problems_label = QLabel("", self)
        self.problems_label.setWordWrap(True)
        show_as_error(self.problems_label)
        self.problems_label.hide()
        layout.addWidget(self.problems_label)
        buttons = QHBoxLayout()
        self.strip = ActionStrip(self)
        self.saving = ActionRunner(
            client,
            self.strip,
            channel="system.tiers.save",
            update_controls=self._update_controls,
            parent=self,
        )
        self.saving.sig_action_finished.connect(lambda _what, _ok: self.reload())
        self.save_button = QPushButton("Save how long footage is kept", self)
        self.save_button.clicked.connect(self._on_save_requested)
        buttons.addWidget(self.strip, 1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.hide()
        self.reload()

    # -- reads ---------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the tiers again (the editors take the stored values)."""
        self._client.submit(TIERS_CHANNEL, self._request(), self._on_tiers_received)

    def _on_tiers_received(self, result: QueryResult[Any]) -> None:
        if not result.ok or not isinstance(result.value, RecordingTiers):
            self.problems_label.setText(f"cannot read how long footage is kept: {result.error}")
            self.problems_label.show()
            self.show()
            return
        tiers = self.tiers = result.value
        self.setVisible(bool(tiers.cameras))
        for camera in tiers.cameras:
            if camera.camera not in self.rows:
                self._add_row(camera)
            self.name_labels[camera.camera].setText(printable(camera.name))
            self.name_labels[camera.camera].setToolTip(f"camera {printable(camera.camera)}")
            for tier, box in self.rows[camera.camera].items():
                box.blockSignals(True)
                box.setValue(camera.days(tier))
                box.blockSignals(False)
                _mark_edited(box, False)
                site_file = camera.site_file[tier]
                box.setToolTip(
                    f"{TIER_MEANING[tier][:1].upper()}{TIER_MEANING[tier][1:]} (0: off). "
                    f"The site file says {site_file} days."
                )
            self.source_labels[camera.camera].setText(set_by_words(camera))
            self.reset_buttons[camera.camera].setEnabled(
                self._allowed and any(camera.set_here(t) for t in TIERS)
            )
        for box in self.every_boxes.values():
            box.blockSignals(True)
            box.setValue(-1)
            box.blockSignals(False)
        self.problems_label.setText("\n".join(printable(p) for p in tiers.problems))
        self.problems_label.setVisible(bool(tiers.problems))
        self._show_disk_warning()

    def _add_row(self, camera: CameraTiers) -> None:
        row = len(self.rows) + 2
        name = QLabel("", self)
        name.setTextFormat(Qt.TextFormat.PlainText)
        self._grid.addWidget(name, row, 0)
        boxes = {}
        for column, tier in enumerate(TIERS, start=1):
            box = _days_box(self, tier)
            box.setEnabled(self._allowed)
            box.valueChanged.connect(lambda _v, c=camera.camera, t=tier: self._on_edited(c, t))
            self._grid.addWidget(box, row, column)
            boxes[tier] = box
        source = QLabel("", self)
        source.setTextFormat(Qt.TextFormat.PlainText)
        self._grid.addWidget(source, row, len(TIERS) + 1)
        reset = QPushButton("Use the site file's", self)
        reset.setToolTip("Take this camera's tiers from the site file again")
        reset.clicked.connect(lambda _checked=False, c=camera.camera: self._on_reset(c))
        self._grid.addWidget(reset, row, len(TIERS) + 2)
        self.rows[camera.camera] = boxes
        self.name_labels[camera.camera] = name
        self.source_labels[camera.camera] = source
        self.reset_buttons[camera.camera] = reset

    def set_disk_days(self, days: float | None) -> None:
        """How many days the disk holds at the current rate (the System status), for the
        warning shown where a tier keeps footage longer than that."""
        self._disk_days = days
        self._show_disk_warning()

    def _show_disk_warning(self) -> None:
        days = self._disk_days
        longest = max(
            (box.value() for boxes in self.rows.values() for box in boxes.values()), default=0
        )
        warn = days is not None and longest > days
        if warn and days is not None:
            held = f"{days * 24:.0f} hours" if days < 2 else f"{days:.0f} days"
            self.disk_label.setText(
                f"At the current rate the disk holds about {held} of footage, less than the "
                f"{longest} days a tier keeps: the oldest footage will be deleted for space "
                "before its tiers expire (locked evidence never)."
            )
        self.disk_label.setVisible(warn)

    # -- editing -------------------------------------------------------------------------
    def set_changes_allowed(self, allowed: bool) -> None:
        """Whether the person at the console may change the tiers (settings permission)."""
        self._allowed = allowed
        for boxes in (*self.rows.values(), self.every_boxes):
            for box in boxes.values():
                box.setEnabled(allowed)
        tiers = {c.camera: c for c in self.tiers.cameras} if self.tiers else {}
        for camera, button in self.reset_buttons.items():
            known = tiers.get(camera)
            button.setEnabled(
                allowed and known is not None and any(known.set_here(t) for t in TIERS)
            )
        self._update_controls()

    def _update_controls(self) -> None:
        self.save_button.setEnabled(self._allowed and not self.saving.is_busy())

    def _set_every(self, tier: str, value: int) -> None:
        if value < 0:
            return
        for boxes in self.rows.values():
            boxes[tier].setValue(value)

    def _on_edited(self, camera: str, tier: str) -> None:
        current = self._current(camera)
        box = self.rows[camera][tier]
        _mark_edited(box, current is not None and box.value() != current.days(tier))
        self._show_disk_warning()

    def _current(self, camera: str) -> CameraTiers | None:
        if self.tiers is None:
            return None
        return next((c for c in self.tiers.cameras if c.camera == camera), None)

    def edited(self) -> dict[str, TierChange]:
        """Each camera's tiers whose editor differs from the value in use."""
        changes: dict[str, TierChange] = {}
        for camera, boxes in self.rows.items():
            current = self._current(camera)
            if current is None:
                continue
            change: TierChange = {
                tier: box.value()
                for tier, box in boxes.items()
                if box.value() != current.days(tier)
            }
            if change:
                changes[camera] = change
        return changes

    def _shortened(self, changes: dict[str, TierChange]) -> list[str]:
        """The tiers a change shortens, in words ("Plaza east: everything 7 → 3 days")."""
        lines = []
        for camera, change in changes.items():
            current = self._current(camera)
            if current is None:
                continue
            for tier, days in change.items():
                before = current.days(tier) if days is not None else 0
                after = days if days is not None else current.site_file[tier]
                if after < before:
                    lines.append(
                        f"{printable(current.name)}: {TIER_TITLES[tier].lower()} "
                        f"{before} → {after} days"
                    )
        return lines

    def _confirm_shorter(self, lines: list[str]) -> bool:
        answer = QMessageBox.question(
            self,
            "Keep footage for less time",
            "Footage will be deleted sooner:\n\n"
            + "\n".join(lines[:12])
            + ("\n…" if len(lines) > 12 else "")
            + "\n\nFootage older than that goes at the next retention pass (locked evidence "
            "is kept). Save?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Save

    def _on_save_requested(self) -> None:
        changes = self.edited()
        if not changes:
            self.strip.show_status("nothing changed")
            return
        self._save(changes, "Saved")

    def _on_reset(self, camera: str) -> None:
        self._save({camera: dict.fromkeys(TIERS)}, "Taken from the site file")

    def _save(self, changes: dict[str, TierChange], done: str) -> None:
        shortened = self._shortened(changes)
        if shortened and not self._confirm_shorter(shortened):
            self.strip.show_status("not saved")
            return
        # Cameras changed alike go in one change (one event and audit entry).
        groups: dict[tuple[tuple[str, int | None], ...], list[str]] = {}
        for camera, change in changes.items():
            groups.setdefault(tuple(sorted(change.items())), []).append(camera)
        names = {c.camera: c.name for c in self.tiers.cameras} if self.tiers else {}
        change_fn = self._change

        def save() -> list[str]:
            changed: list[str] = []
            for change, cameras in groups.items():
                changed += change_fn(tuple(cameras), dict(change))
            return changed

        def saved(changed: list[str]) -> None:
            shown = ", ".join(printable(names.get(c, c)) for c in changed)
            self.strip.show_status(f"{done}: {shown}" if changed else "nothing changed")

        self.saving.run("saving…", save, saved, failure="not saved")
