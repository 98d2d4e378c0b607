"""The "System" pane: storage and retention health, the store writer's counters, each
camera's continuous recording (footage kept, bitrate, the days the disk holds) and how long
it is kept (its retention tiers, set here over the site file's), the engines
sharing the site and what each runs, a button to run retention now, and the admin's
settings with their bounds (a list of roles, such as those no console locks when idle, as
a tick box per role).

Everything it shows comes through the console's query client (requests run on the query
service's pool, answers arrive on the GUI thread); everything it changes is an action the
console runs off the GUI thread. The pane never touches the store or starts threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.cluster.status import RUNNING, SILENT, STOPPED, EngineLine, EnginesStatus
from engine.history.query_service import QueryRequest, QueryResult
from engine.recording_settings import RecordingTiers
from engine.settings import (
    ALL_SETTINGS,
    ROLE_NAMES,
    ROLE_SETTINGS,
    SETTINGS,
    AnySettingValue,
    RolesSettingValue,
    SettingSpec,
    SettingsRequest,
    SettingValue,
)
from engine.sitetime import display
from engine.status import CameraFootage, SystemStatus
from engine.text import printable
from engine.wording import size
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.colours import MUTED_GREY
from widgets.queries import QueryClient
from widgets.scrolling import scrolling_layout
from widgets.system.tiers import RecordingTiersGroup, TierChange

REFRESH_MS = 5000  # status is re-read this often while the pane is visible
GIB = 2**30
STATUS_CHANNEL = "system.status"
SETTINGS_CHANNEL = "system.settings"


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / GIB:.2f} GiB"


ENGINE_STATE_WORDS: Final = {
    RUNNING: "running",
    SILENT: "silent — not heard from",
    STOPPED: "stopped",
}
ENGINE_COLUMNS: Final = ("Engine", "State", "Machine", "Last heard", "Clock", "Runs")
LINK_TITLES: Final = {
    "mqtt": "MQTT broker",
    "recordings": "Recordings",
    "media": "Video and recordings served",
}
LINK_STATES: Final = {
    "ok": "OK",
    "degraded": "Trouble",
    "down": "Down",
    "off": "Off",
}
FOOTAGE_COLUMNS: Final = ("Camera", "Footage kept", "Stored", "Bitrate")
CAMERAS_NAMED: Final = 6  # camera names an engine's row shows; its tooltip names them all
STOPPED_STYLE: Final = f"color: {MUTED_GREY};"  # a stopped engine's row steps back


def engine_runs(line: EngineLine, named: int | None = CAMERAS_NAMED) -> str:
    """What ``line``'s engine runs, in words: ``4 cameras: plaza, gate, dock, yard; room lab;
    site services`` (at most ``named`` camera names, then "…"; None: all of them)."""
    parts = []
    if line.cameras:
        names = [printable(key) for key in line.cameras]
        if named is not None and len(names) > named:
            names = [*names[:named], "…"]
        noun = "camera" if len(line.cameras) == 1 else "cameras"
        parts.append(f"{len(line.cameras)} {noun}: {', '.join(names)}")
    parts += [f"room {printable(room)}" for room in line.rooms]
    if line.site_services:
        parts.append("site services")
    return "; ".join(parts) or "nothing"


def engine_clock(line: EngineLine) -> str:
    """How far the engine's clock is from the database's (``+0.2 s``; ``— OFF`` beyond the
    warning); "—" for an engine not running, whose last reading is stale."""
    if line.state != RUNNING:
        return "—"
    offset = f"{line.clock_offset_ms / 1000:+.1f} s"
    return f"{offset} — OFF" if line.clock_off else offset


def footage_cells(camera: CameraFootage, now: datetime) -> tuple[str, str, str, str]:
    """A camera's row of the continuous-recording table: its name, the footage kept from
    its first to its last moment in site time (``to now`` while it records), its size on
    disk, and its bitrate over the last hour."""
    first = display().local(camera.first)
    last = display().local(camera.last)
    recording = (now - camera.last).total_seconds() < 120
    if recording:
        end = "now"
    elif last.date() == first.date():
        end = f"{last:%H:%M}"
    else:
        end = f"{last:%Y-%m-%d %H:%M}"
    kept = f"{first:%Y-%m-%d %H:%M} to {end}"
    stored = f"{size(camera.bytes_kept)} in {camera.segments} segments"
    rate = "—" if camera.bits_per_s is None else f"{camera.bits_per_s / 1e6:.2f} Mbit/s"
    return printable(camera.name), kept, stored, rate


def footage_days_words(status: SystemStatus) -> str:
    """How long the disk keeps footage at the current rate, in words."""
    days = status.footage_days
    if days is None:
        return "No camera is recording now."
    per_day = status.footage_bytes_per_day
    held = f"{days * 24:.0f} hours" if days < 2 else f"{days:.0f} days"
    return (
        f"At the current rate ({size(per_day)} a day for all cameras) the disk holds "
        f"about {held} of footage before the oldest is deleted to keep the free-space floor."
    )


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def engine_last_heard(line: EngineLine, at: datetime) -> str:
    """When the engine was last heard from, in site time, and how long before ``at`` (the
    reading's time, the database's clock)."""
    since = (at - line.last_heard_at).total_seconds()
    return f"{display().full(line.last_heard_at)} ({_ago(since)})"


@dataclass(slots=True)
class EngineRowLabels:
    """The labels of one engine's row in the Engines group."""

    name: QLabel
    state: QLabel
    machine: QLabel
    last_heard: QLabel
    clock: QLabel
    runs: QLabel

    def labels(self) -> tuple[QLabel, ...]:
        return (self.name, self.state, self.machine, self.last_heard, self.clock, self.runs)


def _headed_grid(parent: QWidget, titles: tuple[str, ...]) -> QGridLayout:
    """A grid of rows under bold column ``titles`` (row 0); the last column takes the
    spare width."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(18)
    for column, title in enumerate(titles):
        header = QLabel(title, parent)
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        grid.addWidget(header, 0, column, Qt.AlignmentFlag.AlignTop)
    grid.setColumnStretch(len(titles) - 1, 1)
    return grid


def _cell(parent: QWidget) -> QLabel:
    label = QLabel("", parent)
    label.setTextFormat(Qt.TextFormat.PlainText)  # names come from the database
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


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
        change_setting: Callable[[str, int | tuple[str, ...]], Any],
        parent: QWidget | None = None,
        *,
        tiers_request: Callable[[], QueryRequest[RecordingTiers]] | None = None,
        change_tiers: Callable[[tuple[str, ...], TierChange], list[str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._status_request = status_request
        self._run_retention = run_retention
        self._change_setting = change_setting
        self.status: SystemStatus | None = None
        self._settings: dict[str, AnySettingValue] = {}
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

        # Each camera's continuous recording; hidden until a segment is stored.
        self.footage_group = QGroupBox("Continuous recording", self)
        footage_layout = QVBoxLayout(self.footage_group)
        self._footage_grid = _headed_grid(self.footage_group, FOOTAGE_COLUMNS)
        footage_layout.addLayout(self._footage_grid)
        self.footage_rows: list[tuple[QLabel, ...]] = []
        self.footage_days_label = _cell(self.footage_group)
        self.footage_days_label.setWordWrap(True)
        footage_layout.addWidget(self.footage_days_label)
        self.footage_group.hide()
        layout.addWidget(self.footage_group)
        # How long each camera's footage is kept (its tiers), editable by an admin; hidden
        # while no camera records continuously.
        self.tiers_group: RecordingTiersGroup | None = None
        if tiers_request is not None and change_tiers is not None:
            self.tiers_group = RecordingTiersGroup(client, tiers_request, change_tiers, self)
            layout.addWidget(self.tiers_group)

        # Who runs what when engines share the site (``watchfloor engine --name``); hidden
        # while none ever has.
        self.engines_group = QGroupBox("Engines", self)
        engines_layout = QVBoxLayout(self.engines_group)
        self._engine_grid = _headed_grid(self.engines_group, ENGINE_COLUMNS)
        engines_layout.addLayout(self._engine_grid)
        self.engine_rows: list[EngineRowLabels] = []
        self.unowned_label = _cell(self.engines_group)
        self.unowned_label.setWordWrap(True)
        show_as_error(self.unowned_label)
        self.unowned_label.hide()
        engines_layout.addWidget(self.unowned_label)
        self.engines_group.hide()
        layout.addWidget(self.engines_group)

        # What this console's process talks to besides its store (the MQTT broker, a shared
        # site's engines' recordings and streams); hidden when nothing.
        self.links_group = QGroupBox("Connections", self)
        self._links = QFormLayout(self.links_group)
        self.link_labels: dict[str, QLabel] = {}
        self.links_group.hide()
        layout.addWidget(self.links_group)

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
        self.role_editors: dict[str, RoleChecks] = {}
        for roles_spec in ROLE_SETTINGS:
            checks = RoleChecks(ROLE_NAMES, settings)
            checks.setToolTip(f"{roles_spec.description[:1].upper()}{roles_spec.description[1:]}")
            self.role_editors[roles_spec.key] = checks
            form.addRow(roles_spec.title, checks)
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
        for editor in (*self.editors.values(), *self.role_editors.values()):
            editor.setEnabled(allowed)
        if self.tiers_group is not None:
            self.tiers_group.set_changes_allowed(allowed)
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
        self._show_footage(status)
        if self.tiers_group is not None:
            self.tiers_group.set_disk_days(status.footage_days)
        self._show_engines(status.cluster)
        self._show_links(status.links)

    def _show_footage(self, status: SystemStatus) -> None:
        """One row per camera with continuous recording: footage kept from–to (site time),
        its size and bitrate; then the days the disk holds at the current rate."""
        footage = status.footage
        self.footage_group.setVisible(bool(footage))
        while len(self.footage_rows) > len(footage):
            for label in self.footage_rows.pop():
                self._footage_grid.removeWidget(label)
                label.deleteLater()
        while len(self.footage_rows) < len(footage):
            row = tuple(_cell(self.footage_group) for _ in FOOTAGE_COLUMNS)
            for column, label in enumerate(row):
                self._footage_grid.addWidget(label, len(self.footage_rows) + 1, column)
            self.footage_rows.append(row)
        for row, camera in zip(self.footage_rows, footage, strict=True):
            for label, text in zip(row, footage_cells(camera, status.at), strict=True):
                label.setText(text)
            row[1].setToolTip(
                f"{display().with_zone(camera.first)} to {display().with_zone(camera.last)}"
            )
        self.footage_days_label.setText(footage_days_words(status))

    def _show_links(self, links: tuple[tuple[str, str, str], ...]) -> None:
        """One row per connection: its state in words and what it said."""
        for subsystem, state, detail in links:
            label = self.link_labels.get(subsystem)
            if label is None:
                label = _cell(self.links_group)
                label.setWordWrap(True)
                self.link_labels[subsystem] = label
                self._links.addRow(LINK_TITLES.get(subsystem, subsystem), label)
            words = LINK_STATES.get(state, state)
            label.setText(f"{words}: {printable(detail)}")
            if state == "ok":
                label.setStyleSheet("")
            else:
                show_as_error(label)
        self.links_group.setVisible(bool(links))

    def _show_engines(self, cluster: EnginesStatus | None) -> None:
        """One row per engine: name, state in words, machine, last heard (site time), clock
        offset and what it runs; a silent engine and a clock that is off in the alarm red,
        a stopped engine muted; then what runs nowhere."""
        self.engines_group.setVisible(cluster is not None)
        if cluster is None:
            return
        while len(self.engine_rows) > len(cluster.engines):
            for label in self.engine_rows.pop().labels():
                self._engine_grid.removeWidget(label)
                label.deleteLater()
        while len(self.engine_rows) < len(cluster.engines):
            row = EngineRowLabels(*(_cell(self.engines_group) for _ in ENGINE_COLUMNS))
            row.runs.setWordWrap(True)
            for column, label in enumerate(row.labels()):
                self._engine_grid.addWidget(label, len(self.engine_rows) + 1, column)
            self.engine_rows.append(row)
        sites = {line.site for line in cluster.engines}
        for row, line in zip(self.engine_rows, cluster.engines, strict=True):
            name = printable(line.name)
            row.name.setText(name if len(sites) == 1 else f"{name} ({printable(line.site)})")
            row.name.setToolTip(f"engine {name} of site {printable(line.site)}")
            row.state.setText(ENGINE_STATE_WORDS.get(line.state, printable(line.state)))
            row.state.setToolTip(
                f"not stopped, yet not heard from since {display().with_zone(line.last_heard_at)}"
                ": its cameras go to the other engines; if it was not stopped on purpose, "
                "look at that machine"
                if line.state == SILENT
                else ""
            )
            # The process id is for whoever logs in to that machine: in the tooltip, so the
            # row leaves the camera list room.
            row.machine.setText(printable(line.host))
            row.machine.setToolTip(
                f"process {line.pid} on {printable(line.host)}, started "
                f"{display().with_zone(line.started_at)}; "
                + (
                    f"runs up to {line.capacity} cameras"
                    if line.capacity is not None
                    else "no limit on its cameras"
                )
            )
            row.last_heard.setText(engine_last_heard(line, cluster.at))
            row.last_heard.setToolTip(display().with_zone(line.last_heard_at))
            row.clock.setText(engine_clock(line))
            ahead = "ahead of" if line.clock_offset_ms > 0 else "behind"
            row.clock.setToolTip(
                f"its clock is {abs(line.clock_offset_ms) / 1000:.1f} s {ahead} the database's:"
                f" set up NTP on {printable(line.host)}"
                if line.clock_off
                else "how far its clock is from the database's (measured while it runs)"
            )
            row.runs.setText(engine_runs(line))
            row.runs.setToolTip(engine_runs(line, named=None))
            # The problems (also listed under Storage) in the pane's one red.
            alarmed = [row.name, row.state, row.last_heard] if line.state == SILENT else []
            alarmed += [row.clock] if line.clock_off else []
            for label in row.labels():
                show_as_error(label, any(label is marked for marked in alarmed))
                if line.state == STOPPED:
                    label.setStyleSheet(STOPPED_STYLE)
        unowned = ", ".join(printable(what) for what in cluster.unowned)
        self.unowned_label.setText(f"Runs nowhere: {unowned}" if unowned else "")
        self.unowned_label.setToolTip(self.unowned_label.text())
        self.unowned_label.setVisible(bool(unowned))

    def _on_settings_received(self, result: QueryResult[Any]) -> None:
        if not result.ok or result.value is None:
            self.settings_status.setText(f"cannot read settings: {result.error}")
            self.settings_status.show()
            return
        self._settings = {v.spec.key: v for v in result.value}
        problems = []
        for key, value in self._settings.items():
            if isinstance(value, RolesSettingValue):
                self.role_editors[key].set_value(value.value)
                if value.problem:
                    problems.append(value.problem)
                continue
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

    def edited_values(self) -> dict[str, int | tuple[str, ...]]:
        """Settings whose editor differs from the stored value."""
        changed: dict[str, int | tuple[str, ...]] = {}
        for spec in SETTINGS:
            editor = self.editors[spec.key]
            value = (
                round(editor.value() * GIB)
                if isinstance(editor, QDoubleSpinBox)
                else int(editor.value())
            )
            stored = self._settings.get(spec.key)
            if not isinstance(stored, SettingValue):
                stored = None
            if stored is not None and isinstance(editor, QDoubleSpinBox):
                if abs(stored.value - value) < GIB / 200:  # the spin box rounds to 0.01 GiB
                    continue
            elif stored is not None and stored.value == value:
                continue
            changed[spec.key] = value
        for key, checks in self.role_editors.items():
            roles = checks.value()
            stored_roles = self._settings.get(key)
            if stored_roles is None or stored_roles.value != roles:
                changed[key] = roles
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
            specs = {spec.key: spec for spec in ALL_SETTINGS}
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


class RoleChecks(QWidget):
    """A list-of-roles setting: one tick box per role, in a row."""

    def __init__(self, roles: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for role in roles:
            box = QCheckBox(role, self)
            self.boxes[role] = box
            row.addWidget(box)
        row.addStretch(1)

    def value(self) -> tuple[str, ...]:
        """The roles ticked, in the order shown."""
        return tuple(role for role, box in self.boxes.items() if box.isChecked())

    def set_value(self, roles: tuple[str, ...]) -> None:
        for role, box in self.boxes.items():
            box.setChecked(role in roles)
