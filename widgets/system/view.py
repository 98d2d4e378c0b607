"""The "System" pane: storage and retention health, the store writer's counters, a button
to run retention now, and the admin's settings with their bounds.

Everything it shows comes through the console's query client (requests run on the query
service's pool, answers arrive on the GUI thread); everything it changes is an action the
console runs off the GUI thread. The pane never touches the store or starts threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import QueryRequest, QueryResult
from engine.settings import SETTINGS, SettingSpec, SettingsRequest, SettingValue
from engine.sitetime import display
from engine.status import SystemStatus
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.queries import QueryClient
from widgets.scrolling import scrolling_layout

REFRESH_MS = 5000  # status is re-read this often while the pane is visible
GIB = 2**30
STATUS_CHANNEL = "system.status"
SETTINGS_CHANNEL = "system.settings"


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / GIB:.2f} GiB"


NO_SETTINGS_CHANGES = (
    "Changing settings and running retention need the change_settings permission (admins)."
)


class SystemPane(QWidget):
    """System health and settings. ``status_request()`` builds the status request (the
    console adds the running writer's counters); ``run_retention()`` runs retention and
    returns a one-line summary; ``change_setting(key, value)`` stores a validated setting.
    The last two block, so the pane runs them as actions through ``client``."""

    sig_settings_saved = Signal(list)
    """Emitted on the GUI thread with the keys that were saved."""

    def __init__(
        self,
        client: QueryClient,
        status_request: Callable[[], QueryRequest[SystemStatus]],
        run_retention: Callable[[], str],
        change_setting: Callable[[str, int], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._status_request = status_request
        self._run_retention = run_retention
        self._change_setting = change_setting
        self.status: SystemStatus | None = None
        self._settings: dict[str, SettingValue] = {}
        self._changes_allowed = True

        # The groups scroll, so the pane can share a dock column without making the
        # window taller than the screen.
        layout = scrolling_layout(self, margins=None)
        storage = QGroupBox("Storage", self)
        self._storage = QFormLayout(storage)
        self.database_label = QLabel("loading…", storage)
        self.media_label = QLabel("", storage)
        self.disk_bar = QProgressBar(storage)
        self.disk_bar.setTextVisible(True)
        self.counts_label = QLabel("", storage)
        self.per_day_label = QLabel("", storage)
        self.writer_label = QLabel("", storage)
        self.problems_label = QLabel("", storage)
        show_as_error(self.problems_label)
        self.problems_label.setWordWrap(True)
        for title, widget in (
            ("Database", self.database_label),
            ("Media", self.media_label),
            ("Free disk", self.disk_bar),
            ("Counts", self.counts_label),
            ("Events per day", self.per_day_label),
            ("Store writer", self.writer_label),
            ("", self.problems_label),
        ):
            self._storage.addRow(title, widget)
        layout.addWidget(storage)

        retention = QGroupBox("Retention", self)
        row = QHBoxLayout(retention)
        self.retention_label = QLabel("last run: …", retention)
        self.retention_button = QPushButton("Run retention now", retention)
        self.retention_button.clicked.connect(self._on_retention_requested)
        # Retention and a save may run at once: each has its own runner and strip.
        self.retention_strip = ActionStrip(retention)
        self.retention = ActionRunner(
            client,
            self.retention_strip,
            channel="system.retention",
            update_controls=self._update_controls,
            parent=self,
        )
        self.retention.sig_action_finished.connect(lambda _what, _ok: self.refresh())
        row.addWidget(self.retention_label)
        row.addWidget(self.retention_strip, 1)
        row.addWidget(self.retention_button)
        layout.addWidget(retention)

        settings = QGroupBox("Settings", self)
        form = QFormLayout(settings)
        self.editors: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for spec in SETTINGS:
            editor = self._editor_for(spec, settings)
            editor.setToolTip(
                f"{spec.description[:1].upper()}{spec.description[1:]} "
                f"({spec.minimum}–{spec.maximum} {spec.unit})"
            )
            self.editors[spec.key] = editor
            form.addRow(spec.title, editor)
        self.permission_label = QLabel("", settings)
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        form.addRow(self.permission_label)
        buttons = QHBoxLayout()
        self.settings_status = QLabel("", settings)  # what is wrong with stored settings
        self.settings_status.setWordWrap(True)
        show_as_error(self.settings_status)
        self.settings_status.hide()
        self.settings_strip = ActionStrip(settings)
        self.saving = ActionRunner(
            client,
            self.settings_strip,
            channel="system.settings.save",
            update_controls=self._update_controls,
            parent=self,
        )
        self.saving.sig_action_finished.connect(lambda _what, _ok: self.reload_settings())
        self.save_button = QPushButton("Save settings", settings)
        self.save_button.clicked.connect(self._on_save_requested)
        buttons.addWidget(self.settings_strip, 1)
        buttons.addWidget(self.save_button)
        form.addRow(self.settings_status)
        form.addRow(buttons)
        layout.addWidget(settings)
        layout.addStretch(1)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()
        self.reload_settings()

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): settings and retention for admins."""
        self.set_changes_allowed(
            actor is not None and actor.may(Permission.CHANGE_SETTINGS), NO_SETTINGS_CHANGES
        )

    def set_changes_allowed(self, allowed: bool, why_not: str = "") -> None:
        """Whether the person at the console may change settings and run retention: when
        not, the editors and buttons are disabled and ``why_not`` says so. (The engine
        refuses a change from an actor without the permission anyway.)"""
        self._changes_allowed = allowed
        for editor in self.editors.values():
            editor.setEnabled(allowed)
        self._update_controls()
        self.permission_label.setText("" if allowed else why_not)
        self.permission_label.setVisible(not allowed and bool(why_not))

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        self.save_button.setEnabled(allowed and not self.saving.is_busy())
        self.retention_button.setEnabled(allowed and not self.retention.is_busy())

    @property
    def changes_allowed(self) -> bool:
        return self._changes_allowed

    # -- reads ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for a new status reading (the answer replaces the shown one)."""
        self._client.submit(STATUS_CHANNEL, self._status_request(), self._on_status_received)

    def reload_settings(self) -> None:
        self._client.submit(SETTINGS_CHANNEL, SettingsRequest(), self._on_settings_received)

    def _on_status_received(self, result: QueryResult[Any]) -> None:
        if not result.ok or not isinstance(result.value, SystemStatus):
            self.problems_label.setText(f"cannot read the system status: {result.error}")
            return
        status = self.status = result.value
        self.database_label.setText(
            f"{status.database} ({status.backend}, {_gib(status.database_bytes)})"
        )
        media = ", ".join(
            f"{status.media_files[kind]} {kind}s ({_gib(total)})"
            for kind, total in sorted(status.media_bytes.items())
        )
        self.media_label.setText(media or "none yet")
        floor = max(status.free_floor_bytes, 1)
        self.disk_bar.setRange(0, 100)
        self.disk_bar.setValue(min(100, round(100 * floor / max(status.free_bytes, 1))))
        self.disk_bar.setFormat(
            f"{_gib(status.free_bytes)} free; floor {_gib(status.free_floor_bytes)}"
            + (" — BELOW THE FLOOR" if status.below_floor else "")
        )
        self.counts_label.setText(f"{status.persons} people, {status.events_total} events")
        self.per_day_label.setText("  ".join(f"{day[5:]}: {n}" for day, n in status.events_per_day))
        writer = status.writer
        self.writer_label.setText(
            "not running in this process"
            if writer is None
            else (
                f"{writer['queued']} queued, {writer['written']} written, "
                f"{writer['retried']} retried, {writer['spilled']} spilled, "
                f"{writer['failed']} failed"
                + (f" — STOPPED: {writer['fatal']}" if writer.get("fatal") else "")
            )
        )
        last = status.last_retention_at
        self.retention_label.setText(
            f"last run: {display().local(last):%Y-%m-%d %H:%M}" if last else "last run: never"
        )
        self.problems_label.setText("\n".join(status.problems))

    def _on_settings_received(self, result: QueryResult[Any]) -> None:
        if not result.ok or result.value is None:
            self.settings_status.setText(f"cannot read settings: {result.error}")
            self.settings_status.show()
            return
        self._settings = {v.spec.key: v for v in result.value}
        problems = []
        for key, value in self._settings.items():
            editor = self.editors[key]
            if isinstance(editor, QDoubleSpinBox):
                editor.setValue(value.value / GIB)
            else:
                editor.setValue(value.value)
            if value.problem:
                problems.append(value.problem)
        # What the last save said stays on the strip until the next one.
        self.settings_status.setText("\n".join(problems))
        self.settings_status.setVisible(bool(problems))

    # -- actions -------------------------------------------------------------------------
    def _on_retention_requested(self) -> None:
        self.retention.run(
            "retention running…",
            self._run_retention,
            lambda summary: self.retention_strip.show_status(f"retention done: {summary}"),
            failure="retention failed",
        )

    def edited_values(self) -> dict[str, int]:
        """Settings whose editor differs from the stored value."""
        changed = {}
        for spec in SETTINGS:
            editor = self.editors[spec.key]
            value = (
                round(editor.value() * GIB)
                if isinstance(editor, QDoubleSpinBox)
                else int(editor.value())
            )
            stored = self._settings.get(spec.key)
            if stored is not None and isinstance(editor, QDoubleSpinBox):
                if abs(stored.value - value) < GIB / 200:  # the spin box rounds to 0.01 GiB
                    continue
            elif stored is not None and stored.value == value:
                continue
            changed[spec.key] = value
        return changed

    def _on_save_requested(self) -> None:
        changes = self.edited_values()
        if not changes:
            self.settings_strip.show_status("nothing changed")
            return

        def save() -> list[str]:
            for key, value in changes.items():
                self._change_setting(key, value)
            return list(changes)

        def saved(keys: list[str]) -> None:
            specs = {spec.key: spec for spec in SETTINGS}
            titles = [specs[key].title if key in specs else key for key in keys]
            self.settings_strip.show_status(f"Saved: {', '.join(titles)}")
            self.sig_settings_saved.emit(keys)

        self.saving.run("saving…", save, saved, failure="not saved")

    @staticmethod
    def _editor_for(spec: SettingSpec, parent: QWidget) -> QSpinBox | QDoubleSpinBox:
        if spec.unit == "bytes":
            editor = QDoubleSpinBox(parent)
            editor.setDecimals(2)
            editor.setRange(spec.minimum / GIB, spec.maximum / GIB)
            editor.setSuffix(" GiB")
            return editor
        box = QSpinBox(parent)
        box.setRange(spec.minimum, spec.maximum)
        box.setSuffix(f" {spec.unit}")
        return box
