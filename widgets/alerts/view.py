"""The alert stream: the operator's alarm manager, the alerts to work through in order.

Alerts are listed by priority: open ones first, the most severe first and then the newest;
closed ones after them, newest first. Each row shows when the alert was raised, its severity
(critical in red), its cameras by their site names, its title, its state in a few words
("New", "New, escalated" on a red background, "In progress: ada", "Closed by ada"; when, in
the tooltip and the details) and how its webhook deliveries went ("webhooks 2 ok, 1
failed", the errors in the tooltip). The header counts the open alerts. Under the list, the
selected alert's details: its state, its highest confidence, its cameras, its rule's
operating instructions ("What to do: …") and its history (taken, notes, closed with a
comment, escalated), each entry with who and when in site time.

An operator takes an alert ("Take": in progress, theirs; it stops escalating), writes notes
on it ("Add note") and closes it with a comment ("Close", or Enter on a row; a comment is
required where its rule says so, and the pane says so before asking). Closing is what
acknowledging was. Each runs on the console's query workers as the person logged in; the
engine checks their permission. Takes, notes and closings of different alerts may run at
once (an operator pressing Enter on several rows loses none of them), so they do not go
through an
:class:`~widgets.action_strip.ActionRunner`, which refuses a second change while one runs;
"Escalate to incident…" (the button or the row's context menu), on an alert in any state,
files it as an incident report with a short description, for people who may file reports,
one at a time (each asks for its description) through the pane's runner. Both show in the pane's
:class:`~widgets.action_strip.ActionStrip`: its bar is busy while any of them runs, its plain
line says what was done, its red line the engine's refusals (all refusals of acknowledgements
that overlapped, each on a line of its own).

A new alert, and an escalation, sound the chime (:class:`AlertSound`) unless the pane is
muted, and ask for the operator's attention: the header flashes and
:attr:`AlertStreamPane.sig_attention_requested` lets the console flag the pane's tab (it never
brings the pane forward: nothing moves on the wall when an alert arrives).

"Snooze alerts of CAMERA…" (the context menu of an alert raised by a camera, for people who
may acknowledge) holds back that camera's alerts for a length the operator picks (15
minutes to a day), e.g. while a cleaning crew works in its view; the engine still records
its detections. The line under the header says "Gate: alerts snoozed until 14:30" (site
time) for each camera snoozed, and drops it when its time comes (the pane's clock, checked
every second while a snooze is shown); "End snooze of CAMERA" ends one early.

The pane never touches the store or starts threads: the console gives it a query client and
an :class:`AlertActions` object, and feeds it the engine's alert events (re-emitted on the
GUI thread by the console's bridge) through the ``on_alert_*`` methods. Every method here
runs on the GUI thread.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import math
import os
import struct
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.alerts.records import (
    MAX_NOTE_CHARS,
    STATE_CLOSED,
    STATE_IN_PROGRESS,
    AlertView,
    priority_key,
)
from engine.alerts.snoozes import SnoozeView
from engine.history.query_service import CallRequest, QueryResult
from engine.incidents.records import Filed
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip
from widgets.alerts.api import (
    SNOOZE_CHOICES,
    AlertActions,
    AlertEvidence,
    AlertListing,
    SoundPlayer,
    acknowledged_by_text,
    alert_camera,
    camera_names_text,
    delivery_error_text,
    note_line,
    snooze_choice_text,
)
from widgets.alerts.preview import LOADING, AlertPreview
from widgets.colours import ALARM_RED, WARNING_AMBER, WARNING_TINT
from widgets.incidents.report_form import ask_incident_description, filed_text
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

COLUMN_TIME, COLUMN_SEVERITY, COLUMN_TITLE, COLUMN_STATE, COLUMN_WEBHOOKS, COLUMN_CAMERAS = range(6)
# The order the columns are shown in (the model keeps its own: COLUMN_*).
SHOWN_ORDER: Final = (
    COLUMN_TIME,
    COLUMN_STATE,
    COLUMN_TITLE,
    COLUMN_SEVERITY,
    COLUMN_CAMERAS,
    COLUMN_WEBHOOKS,
)
_HEADERS = ("Time", "Severity", "Alert", "State", "Webhooks", "Cameras")

STATE_OPEN: Final = "New"
STATE_ESCALATED: Final = "New, escalated"
CLOSE_TEXT: Final = "Close"
TAKE_TEXT: Final = "Take"
NOTE_TEXT: Final = "Add note"
COMMENT_NEEDED_TEXT: Final = (
    "This alert's rule asks for a closing comment: write what you found and what you did, "
    "then close it."
)
NOT_ALLOWED_TEXT: Final = "Taking and closing alerts needs the acknowledge permission."
ESCALATE_TEXT: Final = "Escalate to incident…"
MAX_ROWS: Final = 500  # the oldest acknowledged alerts leave the list beyond this
SOUND_RAISED: Final = "raised"
SOUND_ESCALATED: Final = "escalated"

ESCALATED_BACKGROUND: Final = "#b62324"  # a row nobody acknowledged in time
ESCALATED_FOREGROUND: Final = "#ffffff"
SETTLED_GREY: Final = "#8b949e"  # acknowledged rows step back
_HEADER_STYLE = "font-weight: bold; padding: 2px 4px;"
_FLASH_STYLE = (
    f"font-weight: bold; padding: 2px 4px; background: {ESCALATED_BACKGROUND}; "
    f"color: {ESCALATED_FOREGROUND};"
)
FLASH_TOGGLES: Final = 8  # the header blinks four times…
FLASH_INTERVAL_MS: Final = 350  # …over about three seconds
HISTORY_LINES: Final = 6  # the newest entries of an alert's history shown under the list
NOTE_PLACEHOLDER: Final = "Note or closing comment (optional)"
COMMENT_PLACEHOLDER: Final = "Closing comment (required for this alert)"
_INSTRUCTIONS_STYLE = (
    f"padding: 2px 4px; color: {WARNING_AMBER}; background: {WARNING_TINT}; font-weight: bold;"
)
CAMERAS_WIDTH_PX: Final = 120
# The alert's title keeps at least this many average characters of the list's width: the
# columns after it (severity, cameras, webhooks) scroll rather than squeeze it.
TITLE_MIN_CHARS: Final = 22
SNOOZE_CHECK_MS: Final = 1000  # a snooze's line goes within a second of its end
SNOOZE_TEXT: Final = "Snooze alerts of {camera}…"
UNSNOOZE_TEXT: Final = "End snooze of {camera}"
# Amber on its tint: alerts held back on purpose, a warning rather than an alarm.
_SNOOZE_STYLE = (
    f"padding: 2px 4px; color: {WARNING_AMBER}; background: {WARNING_TINT}; font-weight: bold;"
)

# The chime: two short sine tones, high then lower, loud enough over a room's hum but not
# shrill; 16-bit mono PCM so every audio backend plays it.
CHIME_SAMPLE_RATE_HZ: Final = 22_050
CHIME_TONES_HZ: Final = (880.0, 660.0)  # A5 then E5
CHIME_TONE_S: Final = 0.18
CHIME_AMPLITUDE: Final = 0.6  # of full scale
CHIME_FADE_S: Final = 0.01  # ramps in and out, so the tones start and stop without a click


def alerts_title(open_alerts: int) -> str:
    """How the console titles the pane's dock: ``Alerts (2 open)``, or ``Alerts``."""
    return f"Alerts ({open_alerts} open)" if open_alerts else "Alerts"


def merged_alert(old: AlertView, new: AlertView) -> AlertView:
    """The later of two views of one alert, field by field: an alert only moves forward
    (taken, closed once, escalated once, notes and deliveries only added, confidence only
    raised), so whichever view saw more wins each field, whatever order a listing and live
    events arrive in."""
    acknowledged = new if new.acknowledged_at is not None else old
    taken = new if _later(new.taken_at, old.taken_at) else old
    confidences = [c for c in (new.max_conf, old.max_conf) if c is not None]
    return replace(
        new,
        acknowledged_at=acknowledged.acknowledged_at,
        acknowledged_by=acknowledged.acknowledged_by,
        escalated_at=new.escalated_at or old.escalated_at,
        deliveries_ok=max(new.deliveries_ok, old.deliveries_ok),
        deliveries_failed=max(new.deliveries_failed, old.deliveries_failed),
        taken_at=taken.taken_at,
        taken_by=taken.taken_by,
        max_conf=max(confidences) if confidences else None,
        notes=new.notes if len(new.notes) >= len(old.notes) else old.notes,
        cameras=new.cameras or old.cameras,
        instructions=new.instructions or old.instructions,
    )


def _later(a: datetime | None, b: datetime | None) -> bool:
    """Whether ``a`` is set and not before ``b``."""
    return a is not None and (b is None or a >= b)


# -- the chime ---------------------------------------------------------------------------------


def chime_wav_bytes() -> bytes:
    """The alert chime as a WAV file in memory (about 0.36 s, 16-bit mono PCM), made with
    :mod:`wave`: nothing to ship or find on disk."""
    frames = bytearray()
    per_tone = int(CHIME_TONE_S * CHIME_SAMPLE_RATE_HZ)
    fade = int(CHIME_FADE_S * CHIME_SAMPLE_RATE_HZ)
    full_scale = 32767 * CHIME_AMPLITUDE
    for frequency in CHIME_TONES_HZ:
        for i in range(per_tone):
            envelope = min(1.0, i / fade, (per_tone - 1 - i) / fade)
            sample = (
                full_scale * envelope * math.sin(2 * math.pi * frequency * i / CHIME_SAMPLE_RATE_HZ)
            )
            frames += struct.pack("<h", round(sample))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(CHIME_SAMPLE_RATE_HZ)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


_chime_file: Path | None = None


def chime_wav_path() -> Path:
    """The chime written once per process to a temporary file (QSoundEffect plays files,
    not bytes), removed when the process exits."""
    global _chime_file
    if _chime_file is None or not _chime_file.exists():
        handle, name = tempfile.mkstemp(prefix="watchfloor-alert-", suffix=".wav")
        with os.fdopen(handle, "wb") as out:
            out.write(chime_wav_bytes())
        path = Path(name)
        atexit.register(partial(_remove_quietly, path))
        _chime_file = path
    return _chime_file


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


class AlertSound(QObject):
    """The alert chime: a :class:`QSoundEffect` playing :func:`chime_wav_bytes` when the
    system has an audio output, else :meth:`QApplication.beep` (no sound server, a headless
    machine, QtMultimedia missing, or the effect failed to load). It never raises.

    QtMultimedia loads on first use (:meth:`prepare`, or the first :meth:`play`), not when
    the console starts. GUI thread."""

    sig_sound_played = Signal(str)
    """The chime sounded (GUI thread): how, ``"effect"`` (QSoundEffect) or ``"beep"``
    (QApplication.beep, the fallback)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._effect: Any = None  # a QSoundEffect once prepared (typed Any: loaded lazily)
        self._prepared = False
        self._play_when_loaded = False
        self.mode = ""
        """``"effect"`` or ``"beep"`` once prepared ("" before)."""
        self.detail = ""
        """Why it beeps instead (empty when the effect is used)."""
        self.plays = 0

    def prepare(self) -> str:
        """Load QtMultimedia and the chime, once; returns the mode chosen (``"effect"`` or
        ``"beep"``)."""
        if self._prepared:
            return self.mode
        self._prepared = True
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

            if not QMediaDevices.audioOutputs():
                return self._fall_back("this computer has no audio output")
            effect = QSoundEffect(self)
            effect.statusChanged.connect(self._on_effect_status_changed)
            effect.setSource(QUrl.fromLocalFile(str(chime_wav_path())))
            self._effect = effect
            self.mode, self.detail = "effect", ""
        except Exception as exc:  # QtMultimedia missing or broken: the beep still works
            _log.warning("alert sound: QSoundEffect unavailable (%s); beeping instead", exc)
            return self._fall_back(f"QtMultimedia unavailable: {exc}")
        return self.mode

    def play(self) -> str:
        """Sound the chime now (the beep if the effect cannot play); returns how."""
        self.prepare()
        how = "beep"
        effect = self._effect
        if effect is not None:
            from PySide6.QtMultimedia import QSoundEffect

            status = effect.status()
            if status == QSoundEffect.Status.Ready:
                effect.play()
                how = "effect"
            elif status in (QSoundEffect.Status.Loading, QSoundEffect.Status.Null):
                self._play_when_loaded = True  # a few milliseconds after the first prepare
                how = "effect"
        if how == "beep":
            QApplication.beep()
        self.plays += 1
        self.sig_sound_played.emit(how)
        return how

    def _fall_back(self, why: str) -> str:
        self.mode, self.detail = "beep", why
        return self.mode

    def _on_effect_status_changed(self) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        effect = self._effect
        if effect is None:
            return
        status = effect.status()
        if status == QSoundEffect.Status.Ready and self._play_when_loaded:
            self._play_when_loaded = False
            effect.play()
        elif status == QSoundEffect.Status.Error:
            _log.warning("alert sound: the chime could not be loaded; beeping instead")
            self._effect = None
            effect.deleteLater()
            self._fall_back("the audio device refused the chime")
            if self._play_when_loaded:
                self._play_when_loaded = False
                QApplication.beep()


# -- the table ---------------------------------------------------------------------------------


@dataclass
class _Deliveries:
    """What is known of one alert's webhook deliveries besides its stored counts: the
    outcomes reported live since the pane started (each ``AlertDelivered`` is one delivery;
    masked URLs of two webhooks on one host look alike, so they are counted, not keyed), with
    their errors, and the errors of the failed deliveries a listing read from the store.
    Either may be the more complete: the larger is shown."""

    live_ok: int = 0
    live_failed: int = 0
    live_errors: list[str] = field(default_factory=list)
    listed_errors: tuple[str, ...] = ()

    def errors(self) -> list[str]:
        if len(self.live_errors) > len(self.listed_errors):
            return list(self.live_errors)
        return list(self.listed_errors)


class _AlertsModel(RowsTableModel[AlertView]):
    """One row per alert in priority order (:func:`engine.alerts.records.priority_key`):
    open ones by severity then newest, closed ones after."""

    def __init__(self, now: Callable[[], datetime], parent: QObject | None = None) -> None:
        super().__init__(_HEADERS, parent)
        self._now = now
        self._deliveries: dict[int, _Deliveries] = {}
        self.webhooks = 0
        self.camera_names: dict[str, str] = {}

    def alerts(self) -> list[AlertView]:
        return list(self._rows)

    def row_of(self, alert_id: int) -> int | None:
        return next((i for i, a in enumerate(self._rows) if a.alert_id == alert_id), None)

    def upsert(self, alert: AlertView) -> AlertView:
        """Show ``alert`` (merged with what is shown of it already); returns what is shown."""
        row = self.row_of(alert.alert_id)
        if row is not None:
            shown = merged_alert(self._rows[row], alert)
            self._rows[row] = shown
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(_HEADERS) - 1))
            self._reposition(row)
            return shown
        key = priority_key(alert)
        row = next((i for i, a in enumerate(self._rows) if priority_key(a) > key), len(self._rows))
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, alert)
        self.endInsertRows()
        self._trim()
        return alert

    def merge_listing(self, listing: AlertListing) -> None:
        """Show a listing together with what live events brought meanwhile."""
        by_id = {a.alert_id: a for a in self._rows}
        for alert in listing.alerts:
            old = by_id.get(alert.alert_id)
            by_id[alert.alert_id] = alert if old is None else merged_alert(old, alert)
        for alert_id, errors in listing.delivery_errors.items():
            self._deliveries.setdefault(alert_id, _Deliveries()).listed_errors = tuple(errors)
        self.webhooks = listing.webhooks
        self.camera_names = dict(listing.camera_names)
        self.set_rows(sorted(by_id.values(), key=priority_key))
        self._trim()

    def _reposition(self, row: int) -> None:
        """Move the alert at ``row`` to its place in priority order after it changed (a
        move keeps the selection on it)."""
        alert = self._rows[row]
        rest = self._rows[:row] + self._rows[row + 1 :]
        key = priority_key(alert)
        to = next((i for i, a in enumerate(rest) if priority_key(a) > key), len(rest))
        if to == row:
            return
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), to if to < row else to + 1)
        self._rows.pop(row)
        self._rows.insert(to, alert)
        self.endMoveRows()

    def add_delivery(
        self, alert_id: int, escalation: bool, url: str, delivered: bool, error: str | None
    ) -> None:
        deliveries = self._deliveries.setdefault(alert_id, _Deliveries())
        if delivered:
            deliveries.live_ok += 1
        else:
            deliveries.live_failed += 1
            deliveries.live_errors.append(delivery_error_text(url, escalation, error))
        row = self.row_of(alert_id)
        if row is not None:
            cell = self.index(row, COLUMN_WEBHOOKS)
            self.dataChanged.emit(cell, cell)

    def delivery_counts(self, alert: AlertView) -> tuple[int, int]:
        """(delivered, failed): the stored counts, or what was seen live if more."""
        live = self._deliveries.get(alert.alert_id) or _Deliveries()
        return (
            max(alert.deliveries_ok, live.live_ok),
            max(alert.deliveries_failed, live.live_failed),
        )

    def delivery_errors(self, alert_id: int) -> list[str]:
        deliveries = self._deliveries.get(alert_id)
        return deliveries.errors() if deliveries else []

    def _trim(self) -> None:
        """Beyond :data:`MAX_ROWS`, the oldest acknowledged alerts leave (open ones stay)."""
        excess = len(self._rows) - MAX_ROWS
        for row in range(len(self._rows) - 1, -1, -1):
            if excess <= 0:
                return
            if not self._rows[row].open:
                self.beginRemoveRows(QModelIndex(), row, row)
                gone = self._rows.pop(row)
                self.endRemoveRows()
                self._deliveries.pop(gone.alert_id, None)
                excess -= 1

    # -- what a cell shows -----------------------------------------------------------------
    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        alert = self.row(index)
        column = index.column()
        # Red while nobody has it: an escalated alert someone took steps back to normal.
        escalated = alert.open and alert.taken_at is None and alert.escalated_at is not None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(alert, column)
        if role == Qt.ItemDataRole.BackgroundRole and escalated:
            return QBrush(QColor(ESCALATED_BACKGROUND))
        if role == Qt.ItemDataRole.ForegroundRole:
            if escalated:
                return QBrush(QColor(ESCALATED_FOREGROUND))
            if column == COLUMN_SEVERITY and alert.severity == "critical":
                return QBrush(QColor(ALARM_RED))
            if column == COLUMN_WEBHOOKS and self.delivery_counts(alert)[1]:
                return QBrush(QColor(ALARM_RED))
            if not alert.open:
                return QBrush(QColor(SETTLED_GREY))
            return None
        if role == Qt.ItemDataRole.FontRole and (
            escalated or (alert.open and column in (COLUMN_SEVERITY, COLUMN_STATE))
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(alert, column)
        return None

    def text(self, alert: AlertView, column: int) -> str:
        if column == COLUMN_TIME:
            return self._time(alert.raised_at)
        if column == COLUMN_SEVERITY:
            return printable(alert.severity)
        if column == COLUMN_TITLE:
            return printable(alert.title)
        if column == COLUMN_STATE:
            return self.state_cell_text(alert)
        if column == COLUMN_CAMERAS:
            return printable(camera_names_text(alert.cameras, self.camera_names))
        ok, failed = self.delivery_counts(alert)
        if ok + failed == 0:
            return "no webhooks" if self.webhooks == 0 else "webhooks: none yet"
        return f"webhooks {ok} ok, {failed} failed" if failed else f"webhooks {ok} ok"

    def state_text(self, alert: AlertView) -> str:
        """The alert's state in words: "New", "New, escalated", "In progress: ada since
        14:02:11" (", escalated" when it was), "Closed by ada at 14:05:40"."""
        if alert.state == STATE_CLOSED:
            who = acknowledged_by_text(alert.acknowledged_by)
            when = self._time(alert.acknowledged_at) if alert.acknowledged_at else "?"
            return f"Closed by {who} at {when}"
        if alert.state == STATE_IN_PROGRESS and alert.taken_at is not None:
            who = acknowledged_by_text(alert.taken_by)
            text = f"In progress: {who} since {self._time(alert.taken_at)}"
            return text + (", escalated" if alert.escalated_at is not None else "")
        return STATE_ESCALATED if alert.escalated_at is not None else STATE_OPEN

    def state_cell_text(self, alert: AlertView) -> str:
        """The state in the list, short enough to leave the alert's title readable beside
        it: who has it or closed it ("In progress: ada", "Closed by ada"); when, and that
        it had escalated, are in the cell's tooltip and the details under the list."""
        if alert.state == STATE_CLOSED:
            return f"Closed by {acknowledged_by_text(alert.acknowledged_by)}"
        if alert.state == STATE_IN_PROGRESS and alert.taken_at is not None:
            return f"In progress: {acknowledged_by_text(alert.taken_by)}"
        return self.state_text(alert)

    def time_text(self, at: datetime) -> str:
        return self._time(at)

    def tooltip(self, alert: AlertView, column: int) -> str | None:
        if column == COLUMN_TIME:
            return f"Raised {display().full(alert.raised_at)}"
        if column == COLUMN_TITLE:
            lines = [printable(alert.title), f"Source: {printable(alert.source)}"]
            if alert.person:
                lines.append(f"Person: {alert.person}")
            if alert.event_id is not None:
                lines.append(f"Event #{alert.event_id}")
            return "\n".join(lines)
        if column == COLUMN_STATE:
            lines = []
            if alert.escalated_at is not None:
                lines.append(
                    f"Escalated at {self._time(alert.escalated_at)}: nobody acknowledged it in time"
                )
            if alert.state == STATE_IN_PROGRESS and alert.taken_at is not None:
                lines.append(
                    f"Taken by {acknowledged_by_text(alert.taken_by)} at "
                    f"{display().full(alert.taken_at)}"
                )
            if alert.open:
                lines.append("Take it to work on it; press Enter to close it")
            elif alert.acknowledged_at is not None:
                lines.append(
                    f"Closed by {acknowledged_by_text(alert.acknowledged_by)} at "
                    f"{display().full(alert.acknowledged_at)}"
                )
            return "\n".join(lines)
        if column == COLUMN_CAMERAS:
            return printable(camera_names_text(alert.cameras, self.camera_names)) or None
        if column == COLUMN_WEBHOOKS:
            errors = self.delivery_errors(alert.alert_id)
            ok, failed = self.delivery_counts(alert)
            if failed and errors:
                return "Failed deliveries:\n" + "\n".join(printable(e) for e in errors)
            if failed:
                return f"{failed} deliver{'y' if failed == 1 else 'ies'} failed"
            if ok:
                return "Every webhook took the alert"
            return "No webhook is configured ([alerts] webhooks)" if not self.webhooks else None
        return None

    def _time(self, at: datetime) -> str:
        """Site time; the day only when it is not the site's today."""
        site = display()
        same_day = site.day_of(at) == site.day_of(self._now())
        return site.clock(at) if same_day else site.full(at)


# -- the pane ----------------------------------------------------------------------------------


class AlertStreamPane(QWidget):
    """Alerts, newest first, with the open ones counted in the header, an Acknowledge
    button (double-click and Enter too), a Mute switch for the chime, and under the list an
    :class:`ActionStrip` (:attr:`strip`): busy while an acknowledgement or an escalation
    runs, what was done, and the engine's refusals and problems in red.

    ``actions`` block: the pane runs them through ``client``. It lists the alerts when first
    shown (or on :meth:`refresh`); the console feeds it live changes with
    :meth:`on_alert_raised`, :meth:`on_alert_changed`, :meth:`on_alert_delivered` and
    :meth:`on_alert_problem`, and says with :meth:`set_acknowledge_allowed` whether the person
    at the console may acknowledge. ``sound`` plays the chime (None: an :class:`AlertSound`
    of its own); ``now`` is the clock for "today" in the time column."""

    sig_acknowledge_requested = Signal(int)
    """The operator asked to acknowledge an alert (GUI thread): its id. The pane runs it."""

    sig_alert_acknowledged = Signal(int)
    """An acknowledgement asked for in this pane was stored (GUI thread): the alert's id."""

    sig_acknowledge_failed = Signal(int, str)
    """An acknowledgement asked for in this pane was refused or failed (GUI thread): the
    alert's id and the engine's message."""

    sig_alerts_listed = Signal(int)
    """A listing arrived and is shown (GUI thread): how many alerts the pane lists now."""

    sig_open_count_changed = Signal(int)
    """The number of open (unacknowledged) alerts listed changed (GUI thread)."""

    sig_sound_requested = Signal(int, str)
    """The chime is sounding for an alert (GUI thread): its id and why, ``"raised"`` or
    ``"escalated"``. Not emitted while muted."""

    sig_attention_requested = Signal(int)
    """A new or escalated alert (or a problem raising one: id 0) needs the operator's eyes
    (GUI thread, muted or not): the console flags the pane's tab when it is behind another."""

    sig_evidence_shown = Signal(int)
    """What raised the selected alert is shown (GUI thread): its id. Acknowledging it is
    offered from then on (an operator judges before acknowledging)."""

    sig_mute_changed = Signal(bool)
    """The operator muted (True) or unmuted the chime (GUI thread)."""

    sig_incident_escalated = Signal(int, int)
    """An alert's event was filed as an incident report from this pane (GUI thread): the
    alert's id and the incident's."""
    sig_snooze_changed = Signal(str)
    """A snooze asked for in this pane (or its early end) was stored (GUI thread): the
    camera's key."""

    def __init__(
        self,
        client: QueryClient,
        actions: AlertActions,
        parent: QWidget | None = None,
        *,
        sound: SoundPlayer | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self.sound: SoundPlayer = sound if sound is not None else AlertSound(self)
        self._locked = True  # nobody logged in yet (see on_actor_changed)
        self._channel = f"alerts-{id(self):x}"
        self._loaded_once = False
        self._listing_error = ""  # what the strip says of the last listing that failed
        self._acknowledge_allowed = True
        self._acknowledging: set[int] = set()
        self._previewed: int | None = None  # the alert whose evidence the preview shows
        self._asked: int | None = None  # the alert whose evidence was asked for
        self._escalate_allowed = False  # until the console says the person may file reports
        self._actor_label: str | None = None  # who is logged in (an actor's label)
        self._sounded: set[tuple[int, str]] = set()
        self._open_count = 0
        self.sound_requests = 0
        """How many times the chime was asked for (not counting muted alerts)."""
        self.listings = 0
        """How many listings have arrived and been shown."""

        self._now = now or (lambda: datetime.now(UTC))
        self._model = _AlertsModel(self._now, self)
        self._snoozes: dict[str, SnoozeView] = {}  # by camera key, as last listed or set
        self._snoozing: set[str] = set()  # cameras whose snooze (or its end) is running
        self.header_label = QLabel()
        self.header_label.setObjectName("alerts-header")
        self.header_label.setStyleSheet(_HEADER_STYLE)
        self.mute_box = QCheckBox("Mute sound")
        self.mute_box.setToolTip("Silence the chime for new and escalated alerts")
        self.mute_box.toggled.connect(self._on_mute_toggled)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.header_label, 1)
        top.addWidget(self.mute_box)
        top.addWidget(self.refresh_button)
        self.snooze_label = QLabel()
        self.snooze_label.setObjectName("alerts-snoozed")
        self.snooze_label.setStyleSheet(_SNOOZE_STYLE)
        self.snooze_label.setWordWrap(True)
        self.snooze_label.hide()
        self._snooze_timer = QTimer(self)
        self._snooze_timer.setInterval(SNOOZE_CHECK_MS)
        self._snooze_timer.timeout.connect(self._show_snoozes)

        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view, alternating=False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The title fills what the other columns leave (_fit_title), never less than
        # TITLE_MIN_CHARS: a Stretch section shrank to "Pe…" when they took the width.
        header.setSectionResizeMode(COLUMN_TITLE, QHeaderView.ResizeMode.Interactive)
        self._fitting_title = False
        header.sectionResized.connect(self._title_may_need_fitting)
        # The title has the room: cameras and webhooks take a set width (their full text in
        # the details under the list and the tooltip), and the operator may widen them.
        for column, width in ((COLUMN_CAMERAS, CAMERAS_WIDTH_PX), (COLUMN_WEBHOOKS, 110)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        # What an operator reads first, left to right: when, its state, what it is; where
        # the pane is narrow (its preview beside it) the later columns scroll, not these.
        for visual, column in enumerate(SHOWN_ORDER):
            header.moveSection(header.visualIndex(column), visual)
        self.view.setColumnHidden(COLUMN_WEBHOOKS, True)  # until the site has webhooks
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.view.doubleClicked.connect(self._on_row_double_clicked)
        self.view.installEventFilter(self)  # Enter on a previewed row acknowledges it
        self.view.viewport().installEventFilter(self)  # its width: the title's room
        self.preview = AlertPreview()
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu_requested)

        self.take_button = QPushButton(TAKE_TEXT)
        self.take_button.setToolTip("Take the selected alert: it is yours, in progress")
        self.take_button.clicked.connect(self.take_selected)
        self.acknowledge_button = QPushButton(CLOSE_TEXT)
        self.acknowledge_button.setToolTip(
            "Close the selected alert with your comment: it has been dealt with"
        )
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.note_button = QPushButton(NOTE_TEXT)
        self.note_button.setToolTip("Keep the text as a note in the alert's history")
        self.note_button.clicked.connect(self.note_selected)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(NOTE_PLACEHOLDER)
        self.note_edit.setAccessibleName("Note or closing comment")
        self.note_edit.setToolTip("What you saw or did: a note, or the comment you close it with")
        self.note_edit.setMaxLength(MAX_NOTE_CHARS)
        self.note_edit.returnPressed.connect(self.acknowledge_selected)
        self.note_edit.textChanged.connect(self._update_controls)
        self.escalate_button = QPushButton(ESCALATE_TEXT)
        self.escalate_button.clicked.connect(lambda: self.escalate_selected())
        actions_row = QHBoxLayout()
        actions_row.addWidget(self.take_button)
        actions_row.addWidget(self.note_edit, 1)
        actions_row.addWidget(self.note_button)
        actions_row.addWidget(self.acknowledge_button)
        actions_row.addWidget(self.escalate_button)
        # The selected alert: its state, confidence, cameras, instructions and history.
        self.details_label = QLabel()
        self.details_label.setObjectName("alert-details")
        self.details_label.setWordWrap(True)
        self.details_label.setTextFormat(Qt.TextFormat.PlainText)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.instructions_label = QLabel()
        self.instructions_label.setObjectName("alert-instructions")
        self.instructions_label.setWordWrap(True)
        self.instructions_label.setTextFormat(Qt.TextFormat.PlainText)
        self.instructions_label.setStyleSheet(_INSTRUCTIONS_STYLE)
        self.instructions_label.hide()
        self.history_label = QLabel()
        self.history_label.setObjectName("alert-history")
        self.history_label.setWordWrap(True)
        self.history_label.setTextFormat(Qt.TextFormat.PlainText)
        self.history_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        self.strip = ActionStrip(self)
        # Escalations, one at a time; acknowledgements run beside it (see the module's doc).
        self._escalation = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.escalate",
            update_controls=self._update_controls,
            parent=self,
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.snooze_label)
        # The list beside what raised the selected alert.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.preview)
        # Half each, whatever their contents ask for (the list's columns sized to their
        # text, a closed alert's "Closed by … at …", or a clip's long name held one side
        # wide and squeezed the other to a sliver), until the operator drags the handle.
        self._split_by_hand = False
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self.splitter.installEventFilter(self)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.details_label)
        layout.addWidget(self.instructions_label)
        layout.addWidget(self.history_label)
        layout.addLayout(actions_row)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.strip)

        self._flash_timer = QTimer(self)
        self._flash_timer.setInterval(FLASH_INTERVAL_MS)
        self._flash_timer.timeout.connect(self._on_flash_tick)
        self._flashes_left = 0
        self._update_header()
        self._update_controls()

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the alerts again (on a worker); a newer refresh supersedes one underway."""
        self._loaded_once = True
        self._client.submit(
            f"{self._channel}.list",
            CallRequest(self._actions.list_alerts, "list alerts"),
            self._on_alerts_listed,
        )

    def on_alert_raised(self, alert: AlertView) -> None:
        """The engine raised ``alert``: list it first, sound the chime, ask for attention."""
        self._show(alert)
        self._alarm(alert.alert_id, SOUND_RAISED)

    def on_alert_changed(self, alert: AlertView, change: str) -> None:
        """``alert`` was ``"acknowledged"`` (closed), ``"taken"``, ``"noted"``,
        ``"escalated_to_incident"`` or ``"escalated"`` (an escalation sounds)."""
        self._show(alert)
        if change == "escalated" and alert.open:
            self._alarm(alert.alert_id, SOUND_ESCALATED)

    def on_alert_delivered(
        self, alert_id: int, escalation: bool, url: str, delivered: bool, error: str | None
    ) -> None:
        """A webhook delivery of ``alert_id`` ended (``url`` masked; ``error`` if it failed)."""
        self._model.add_delivery(alert_id, escalation, url, delivered, error)

    def on_alert_problem(self, message: str) -> None:
        """The engine could not raise or escalate an alert: shown in red, with attention."""
        self._show_error(f"An alert could not be stored: {printable(message)}")
        self._flash()
        self.sig_attention_requested.emit(0)

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody, and nothing to explain): acknowledging
        and escalating as their roles allow."""
        was_locked, self._locked = self._locked, actor is None
        self._actor_label = None if actor is None else actor.label
        if actor is None:
            self.set_acknowledge_allowed(False, "")
            self.set_escalate_allowed(False)
            return
        if was_locked:
            self.refresh()  # alerts acknowledged elsewhere (the CLI) while it was locked
        self.set_acknowledge_allowed(actor.may(Permission.ACKNOWLEDGE))
        self.set_escalate_allowed(actor.may(Permission.FILE_REPORT))

    def set_acknowledge_allowed(self, allowed: bool, why_not: str = NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may acknowledge: when not, the button is off
        and ``why_not`` says so. The engine refuses anyone without the permission anyway."""
        self._acknowledge_allowed = allowed
        self.permission_label.setText("" if allowed else why_not)
        self.permission_label.setVisible(not allowed and bool(why_not))
        self._update_controls()

    @property
    def acknowledge_allowed(self) -> bool:
        return self._acknowledge_allowed

    def set_escalate_allowed(self, allowed: bool) -> None:
        """Whether the person at the console may file incident reports, and so escalate an
        alert's event to an incident (the engine refuses anyone without it anyway)."""
        self._escalate_allowed = allowed
        self._update_controls()

    @property
    def escalate_allowed(self) -> bool:
        return self._escalate_allowed

    def escalate_selected(self, text: str | None = None) -> bool:
        """Escalate to incident: file the selected alert, in any state, as an incident report
        (on a worker) with ``text``, asked for when None; returns whether it was sent."""
        alert = self.selected_alert()
        if alert is None or not self._escalate_allowed or self._escalation.is_busy():
            return False
        if text is None:
            text = self._ask_escalation_text(alert)
            if text is None:
                return False
        alert_id = alert.alert_id
        return self._escalation.run(
            f"Filing alert {alert_id} as an incident report…",
            partial(self._actions.escalate_alert, alert_id, text),
            partial(self._on_escalated, alert_id),
            failure=f"Could not escalate alert {alert_id} to an incident",
        )

    def set_muted(self, muted: bool) -> None:
        """Silence (or not) the chime; new alerts still flash and ask for attention."""
        self.mute_box.setChecked(muted)

    @property
    def muted(self) -> bool:
        return self.mute_box.isChecked()

    def open_count(self) -> int:
        """How many listed alerts nobody has acknowledged."""
        return self._open_count

    def alerts(self) -> list[AlertView]:
        """The alerts listed, in priority order, as shown."""
        return self._model.alerts()

    def alert(self, alert_id: int) -> AlertView | None:
        row = self._model.row_of(alert_id)
        return None if row is None else self._model.row(row)

    def cell_text(self, alert_id: int, column: int) -> str:
        """What the table shows for ``alert_id`` in ``column`` ("" if it is not listed)."""
        return str(self.cell_data(alert_id, column) or "")

    def cell_data(self, alert_id: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The model's ``role`` data for ``alert_id`` in ``column`` (None if not listed)."""
        row = self._model.row_of(alert_id)
        return None if row is None else self._model.index(row, column).data(role)

    def selected_alert(self) -> AlertView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.row(rows[0].row()) if rows else None

    def select(self, alert_id: int) -> None:
        """Select the alert ``alert_id`` (nothing if it is not listed)."""
        row = self._model.row_of(alert_id)
        if row is None:
            self.view.clearSelection()
            return
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().setCurrentIndex(self._model.index(row, 0), flags)

    def acknowledge_selected(self) -> bool:
        """Close the selected alert (on a worker) with the comment typed, if it is open and
        the person may; where its rule requires a comment and none is typed, say so instead.
        Returns whether it was asked for."""
        alert = self.selected_alert()
        if (
            alert is None
            or not alert.open
            or not self._acknowledge_allowed
            or alert.alert_id in self._acknowledging
            or self._previewed != alert.alert_id  # judged first: its evidence is shown
        ):
            return False
        alert_id = alert.alert_id
        note = self.note_edit.text().strip()
        if alert.comment_required and not note:
            self.strip.show_status("")
            self._refuse(f"Alert {alert_id} is not closed. {COMMENT_NEEDED_TEXT}")
            self.note_edit.setFocus()
            return False
        self.sig_acknowledge_requested.emit(alert_id)
        self._submit_change(
            alert_id,
            f"Closing alert {alert_id}…",
            "acknowledge",
            partial(self._actions.acknowledge, alert_id, note),
            partial(self._on_acknowledged, alert_id),
            f"close alert {alert_id}",
        )
        return True

    def _submit_change(
        self,
        alert_id: int,
        saying: str,
        channel: str,
        call: Callable[[], Any],
        done: Callable[[QueryResult[Any]], None],
        name: str,
    ) -> None:
        """Run ``call`` (a change to alert ``alert_id``) on a worker as the person logged
        in, saying ``saying`` meanwhile; changes of different alerts may run at once."""
        if not self.is_busy():  # new work: the last refusals are over
            self.strip.clear_error()
        self._acknowledging.add(alert_id)
        self.strip.show_status(saying)
        self._update_controls()
        self._client.submit_action(f"{self._channel}.{channel}", call, done, name=name)

    def take_selected(self) -> bool:
        """Take the selected open alert (on a worker) as the person logged in, unless it is
        theirs already; returns whether it was asked for."""
        alert = self.selected_alert()
        if (
            alert is None
            or not alert.open
            or not self._acknowledge_allowed
            or alert.alert_id in self._acknowledging
        ):
            return False
        alert_id = alert.alert_id
        self._submit_change(
            alert_id,
            f"Taking alert {alert_id}…",
            "take",
            partial(self._actions.take, alert_id),
            partial(self._on_changed_here, alert_id, "take"),
            f"take alert {alert_id}",
        )
        return True

    def note_selected(self) -> bool:
        """Keep the text typed as a note in the selected alert's history (on a worker);
        returns whether it was asked for (not without text)."""
        alert = self.selected_alert()
        text = self.note_edit.text().strip()
        if (
            alert is None
            or not text
            or not self._acknowledge_allowed
            or alert.alert_id in self._acknowledging
        ):
            return False
        alert_id = alert.alert_id
        self._submit_change(
            alert_id,
            f"Adding a note to alert {alert_id}…",
            "note",
            partial(self._actions.note, alert_id, text),
            partial(self._on_changed_here, alert_id, "note"),
            f"note on alert {alert_id}",
        )
        return True

    def details_text(self) -> str:
        """What the details under the list say of the selected alert ("" for none)."""
        return "\n".join(
            t
            for t in (
                self.details_label.text(),
                self.instructions_label.text() if self.instructions_label.isVisibleTo(self) else "",
                self.history_label.text(),
            )
            if t
        )

    def snoozes(self) -> list[SnoozeView]:
        """The snoozes running now by the pane's clock, soonest to end first."""
        now = self._now()
        return sorted((s for s in self._snoozes.values() if s.active(now)), key=lambda s: s.until)

    def snooze_text(self) -> str:
        """The line under the header ("" with no camera snoozed)."""
        now = self._now()
        return " · ".join(
            f"{printable(s.name)}: {s.until_text(display(), now)}" for s in self.snoozes()
        )

    def snooze_camera(self, camera: str, minutes: int) -> bool:
        """Snooze ``camera``'s alerts for ``minutes`` (on a worker) as the person logged
        in, if they may acknowledge; returns whether it was asked for."""
        if not self._acknowledge_allowed or camera in self._snoozing:
            return False
        self._start_snooze_work(camera, f"Snoozing the alerts of {camera}…")
        self._client.submit_action(
            f"{self._channel}.snooze.{camera}",
            partial(self._actions.snooze, camera, minutes),
            partial(self._on_snoozed, camera),
            name=f"snooze the alerts of camera {camera}",
        )
        return True

    def unsnooze_camera(self, camera: str) -> bool:
        """End ``camera``'s snooze now (on a worker); returns whether it was asked for."""
        if not self._acknowledge_allowed or camera in self._snoozing:
            return False
        self._start_snooze_work(camera, f"Ending the snooze of {camera}…")
        self._client.submit_action(
            f"{self._channel}.snooze.{camera}",
            partial(self._actions.unsnooze, camera),
            partial(self._on_unsnoozed, camera),
            name=f"end the snooze of camera {camera}",
        )
        return True

    def snooze_selected(self) -> bool:
        """Ask how long to snooze the selected alert's camera, then snooze it; returns
        whether it was asked for (not when cancelled, or for an alert of no camera)."""
        alert = self.selected_alert()
        camera = None if alert is None else alert_camera(alert)
        if camera is None or not self._acknowledge_allowed:
            return False
        minutes = self._ask_snooze_minutes(camera)
        return minutes is not None and self.snooze_camera(camera, minutes)

    def close_what_was_opened(self) -> None:
        """The person locked or logged out: the clip they were judging stops, the note
        they were typing goes, and what their last action said ("Alert 1 closed by
        olga.", a refusal) with it; the next person selects and looks again."""
        self.view.clearSelection()
        self._asked = self._previewed = None
        self.preview.clear()
        self.note_edit.clear()
        if not self.is_busy():  # work still running says how it ended, to whoever is here
            self.strip.show_status("")
            self.strip.clear_error()
        self._update_controls()

    def is_busy(self) -> bool:
        """Whether an acknowledgement, an escalation or a snooze is still running."""
        return bool(self._acknowledging or self._snoozing) or self._escalation.is_busy()

    def is_flashing(self) -> bool:
        return self._flash_timer.isActive()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    def _on_splitter_moved(self, _position: int, _index: int) -> None:
        self._split_by_hand = True

    def _share_split(self) -> None:
        """Give the list and the preview half the width each (unless dragged by hand)."""
        if self._split_by_hand:
            return
        width = self.splitter.width() - self.splitter.handleWidth()
        left = width // 2
        if self.splitter.sizes() != [left, width - left]:
            self.splitter.setSizes([left, width - left])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter or Return on the list acknowledges the selected alert once its evidence
        is shown; the split follows the splitter's size and its contents' changes."""
        if watched is self.splitter:
            if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
                QTimer.singleShot(0, self, self._share_split)  # after the splitter's own
            return False
        if watched is self.view.viewport():
            if event.type() == QEvent.Type.Resize:
                self._fit_title()
            return False
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.acknowledge_selected()
            return True
        return super().eventFilter(watched, event)

    def _title_may_need_fitting(self, column: int, _old: int, _new: int) -> None:
        if column != COLUMN_TITLE and not self._fitting_title:
            QTimer.singleShot(0, self, self._fit_title)  # after the header's own pass

    def _fit_title(self) -> None:
        """The title takes the list's width the other shown columns leave; where they leave
        less than TITLE_MIN_CHARS, it takes what Time and State leave (at least that many
        characters) and the later columns scroll into view."""
        if self._fitting_title:
            return
        header = self.view.horizontalHeader()
        width = self.view.viewport().width()
        before = after = 0
        for visual in range(header.count()):
            column = header.logicalIndex(visual)
            if column == COLUMN_TITLE or self.view.isColumnHidden(column):
                continue
            if visual < header.visualIndex(COLUMN_TITLE):
                before += header.sectionSize(column)
            else:
                after += header.sectionSize(column)
        least = self.view.fontMetrics().averageCharWidth() * TITLE_MIN_CHARS
        title = width - before - after
        if title < least:
            title = max(least, width - before)
        if title != header.sectionSize(COLUMN_TITLE):
            self._fitting_title = True
            try:
                header.resizeSection(COLUMN_TITLE, title)
            finally:
                self._fitting_title = False

    # -- handlers --------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        self._show_evidence_of_selected()
        self._show_details()
        self._update_controls()

    def _show_details(self) -> None:
        """The selected alert's state, confidence and cameras, its rule's instructions, and
        its history with who and when (site time)."""
        alert = self.selected_alert()
        if alert is None:
            self.details_label.setText("")
            self.instructions_label.setText("")
            self.instructions_label.hide()
            self.history_label.setText("")
            return
        model = self._model
        confidence = "unknown" if alert.max_conf is None else f"{alert.max_conf:.2f}"
        parts = [f"Alert {alert.alert_id}: {model.state_text(alert)}"]
        parts.append(f"highest confidence {confidence}")
        if alert.cameras:
            parts.append(f"cameras: {camera_names_text(alert.cameras, model.camera_names)}")
        self.details_label.setText(printable(" · ".join(parts)))
        instructions = " / ".join(alert.instructions)
        self.instructions_label.setText(
            printable(f"What to do: {instructions}") if instructions else ""
        )
        self.instructions_label.setVisible(bool(instructions))
        lines = [
            f"{model.time_text(n.at)}  {note_line(n.kind, n.author, n.text)}" for n in alert.notes
        ]
        earlier = len(lines) - HISTORY_LINES
        if earlier > 0:  # the newest entries; the list keeps its room
            lines = [f"({earlier} earlier, in the tooltip)", *lines[-HISTORY_LINES:]]
        self.history_label.setText(
            "History:\n" + "\n".join(printable(line) for line in lines) if lines else "No notes yet"
        )
        self.history_label.setToolTip(
            "\n".join(
                printable(f"{model.time_text(n.at)}  {note_line(n.kind, n.author, n.text)}")
                for n in alert.notes
            )
        )
        self.note_edit.setPlaceholderText(
            COMMENT_PLACEHOLDER if alert.comment_required and alert.open else NOTE_PLACEHOLDER
        )

    def _show_evidence_of_selected(self) -> None:
        """Ask for what raised the selected alert (a new selection only); the preview
        says it is loading meanwhile, and acknowledging waits for it."""
        alert = self.selected_alert()
        if alert is None:
            self._asked = self._previewed = None
            self.preview.clear()
            return
        if self._asked == alert.alert_id:
            return  # asked for already (shown, or on its way)
        self._previewed = None
        self._asked = alert.alert_id
        self.preview.clear(LOADING)
        self._client.submit(
            f"{self._channel}.evidence",
            CallRequest(partial(self._actions.evidence, alert), "what raised the alert"),
            partial(self._on_evidence, alert.alert_id),
        )

    def _on_evidence(self, alert_id: int, result: QueryResult[Any]) -> None:
        selected = self.selected_alert()
        if selected is None or selected.alert_id != alert_id:
            return  # the operator moved on
        if result.error is not None or not isinstance(result.value, AlertEvidence):
            # Judged on what there is: the error is what they see.
            self.preview.clear(f"What raised this alert could not be read: {result.error}")
        else:
            self.preview.show_evidence(
                result.value,
                partial(
                    self._client.submit,
                    f"{self._channel}.evidence",
                    CallRequest(partial(self._actions.evidence, selected), "what raised the alert"),
                    partial(self._on_evidence, alert_id),
                ),
            )  # its answer comes back here: asked again until the clip is ready
        self._previewed = alert_id
        self._update_controls()
        self.sig_evidence_shown.emit(alert_id)

    def _on_row_double_clicked(self, index: QModelIndex) -> None:
        """A double-click plays the alert's clip again, or, for footage cut while it was
        still being recorded, asks for it again with what was recorded since (it never
        acknowledges: that is a deliberate act, the button or Enter once the evidence is
        shown)."""
        if index.isValid() and self._previewed == self._model.row(index).alert_id:
            evidence = self.preview.evidence
            if evidence is not None and evidence.recording:
                # Footage cut while it was being recorded: ask again for what came since.
                self._asked = None
                self.preview.show_next_at_once()
                self._show_evidence_of_selected()
                return
            self.preview.replay()

    def _on_context_menu_requested(self, position: QPoint) -> None:
        index = self.view.indexAt(position)
        if not index.isValid():
            return
        self.select(self._model.row(index).alert_id)
        menu = self._context_menu()
        menu.popup(self.view.viewport().mapToGlobal(position))

    def _context_menu(self) -> QMenu:
        """The selected row's menu: Acknowledge, Escalate to incident…, and for an alert a
        camera raised, Snooze alerts of CAMERA… (or End snooze of CAMERA while it runs)."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        take = menu.addAction(TAKE_TEXT, self.take_selected)
        take.setEnabled(self.take_button.isEnabled())
        acknowledge = menu.addAction(CLOSE_TEXT, self.acknowledge_selected)
        acknowledge.setEnabled(self.acknowledge_button.isEnabled())
        escalate = menu.addAction(ESCALATE_TEXT, lambda: self.escalate_selected())
        escalate.setEnabled(self.escalate_button.isEnabled())
        alert = self.selected_alert()
        camera = None if alert is None else alert_camera(alert)
        if camera is not None:
            menu.addSeparator()
            if camera in {s.camera for s in self.snoozes()}:
                snooze = menu.addAction(
                    UNSNOOZE_TEXT.format(camera=camera), partial(self.unsnooze_camera, camera)
                )
            else:
                snooze = menu.addAction(SNOOZE_TEXT.format(camera=camera), self.snooze_selected)
            snooze.setEnabled(self._acknowledge_allowed and camera not in self._snoozing)
            if not self._acknowledge_allowed:
                snooze.setToolTip("Snoozing alerts needs the acknowledge permission.")
        return menu

    def _ask_snooze_minutes(self, camera: str) -> int | None:
        """How long to snooze ``camera``'s alerts, picked from :data:`SNOOZE_CHOICES`
        (None: cancelled)."""
        texts = [snooze_choice_text(m) for m in SNOOZE_CHOICES]
        text, ok = QInputDialog.getItem(
            self,
            "Snooze alerts",
            f"Hold back the alerts of camera {camera} for (its detections are still recorded):",
            texts,
            texts.index(snooze_choice_text(30)),
            False,
        )
        return SNOOZE_CHOICES[texts.index(text)] if ok and text in texts else None

    def _start_snooze_work(self, camera: str, status: str) -> None:
        if not self.is_busy():  # new work: the last refusals are over
            self.strip.clear_error()
        self._snoozing.add(camera)
        self.strip.show_status(status)
        self._update_controls()

    def _on_snoozed(self, camera: str, result: QueryResult[Any]) -> None:
        self._snoozing.discard(camera)
        if result.error is not None or not isinstance(result.value, SnoozeView):
            self.strip.show_status("")
            self._refuse(f"Could not snooze the alerts of {camera}: {printable(str(result.error))}")
            self._update_controls()
            return
        snooze = result.value
        self._snoozes[camera] = snooze
        self._show_snoozes()
        self.strip.show_status(
            f"{printable(snooze.name)}: {snooze.until_text(display(), self._now())}; "
            "its detections are still recorded."
        )
        self._update_controls()
        self.sig_snooze_changed.emit(camera)

    def _on_unsnoozed(self, camera: str, result: QueryResult[Any]) -> None:
        self._snoozing.discard(camera)
        if result.error is not None or not isinstance(result.value, SnoozeView):
            self.strip.show_status("")
            self._refuse(f"Could not end the snooze of {camera}: {printable(str(result.error))}")
            self._update_controls()
            self.refresh()  # it may have ended already: show what the store says
            return
        self._snoozes.pop(camera, None)
        self._show_snoozes()
        self.strip.show_status(f"{printable(result.value.name)}: alerts are raised again.")
        self._update_controls()
        self.sig_snooze_changed.emit(camera)

    def _show_snoozes(self) -> None:
        """The snoozes line: each running snooze until its time, none once all ended
        (checked every second while one is shown)."""
        text = self.snooze_text()
        self.snooze_label.setText(text)
        self.snooze_label.setVisible(bool(text))
        if text and not self._snooze_timer.isActive():
            self._snooze_timer.start()
        elif not text:
            self._snooze_timer.stop()
            self._snoozes.clear()

    def _ask_escalation_text(self, alert: AlertView) -> str | None:
        return ask_incident_description(self, f"alert {alert.alert_id} ({printable(alert.title)})")

    def _on_escalated(self, alert_id: int, filed: Filed) -> None:
        """The escalation was filed (its refusal the runner shows in red)."""
        self.strip.show_status(f"Alert {alert_id} escalated: {filed_text(filed)}.")
        self.sig_incident_escalated.emit(alert_id, filed.incident.incident_id)

    def _on_mute_toggled(self, muted: bool) -> None:
        self.mute_box.setText("Muted" if muted else "Mute sound")
        self.sig_mute_changed.emit(muted)

    def _on_alerts_listed(self, result: QueryResult[Any]) -> None:
        listing = result.value
        if result.error is not None or not isinstance(listing, AlertListing):
            self._listing_error = f"Could not list the alerts: {printable(str(result.error))}"
            self._show_error(self._listing_error)
            self._update_header()
            return
        if self._listing_error:  # a listing error is over once listing works again
            if self.strip.error() == self._listing_error:
                self.strip.clear_error()
            self._listing_error = ""
        selected = self.selected_alert()
        self._model.merge_listing(listing)
        # "no webhooks" on every row of a site without them is noise.
        self.view.setColumnHidden(COLUMN_WEBHOOKS, listing.webhooks == 0)
        self._snoozes = {s.camera: s for s in listing.snoozes}
        self._show_snoozes()
        if selected is not None:
            self.select(selected.alert_id)
        self._changed()
        self.listings += 1
        self.sig_alerts_listed.emit(self._model.rowCount())

    def _on_changed_here(self, alert_id: int, what: str, result: QueryResult[Any]) -> None:
        """A take or a note asked for here answered."""
        self._acknowledging.discard(alert_id)
        if result.error is not None or not isinstance(result.value, AlertView):
            message = printable(str(result.error))
            self.strip.show_status("")
            doing = "take" if what == "take" else "add a note to"
            self._refuse(f"Could not {doing} alert {alert_id}: {message}")
            self._update_controls()
            return
        shown = self._show(result.value)
        if what == "note":
            selected = self.selected_alert()
            if selected is None or selected.alert_id == alert_id:
                self.note_edit.clear()  # it went into the history
            self.strip.show_status(f"Note added to alert {alert_id}.")
        else:
            who = acknowledged_by_text(shown.taken_by)
            self.strip.show_status(f"Alert {alert_id} is in progress: {who} has it.")
        self._update_controls()

    def _on_acknowledged(self, alert_id: int, result: QueryResult[Any]) -> None:
        self._acknowledging.discard(alert_id)
        if result.error is not None or not isinstance(result.value, AlertView):
            message = printable(str(result.error))
            self.strip.show_status("")
            self._refuse(f"Could not close alert {alert_id}: {message}")
            self._update_controls()
            self.sig_acknowledge_failed.emit(alert_id, message)
            return
        shown = self._show(result.value)
        selected = self.selected_alert()
        if selected is None or selected.alert_id == alert_id:
            self.note_edit.clear()  # it went with this closing
        who = acknowledged_by_text(shown.acknowledged_by)
        self.strip.show_status(f"Alert {alert_id} closed by {who}.")
        self._update_controls()
        self.sig_alert_acknowledged.emit(alert_id)

    def _on_flash_tick(self) -> None:
        self._flashes_left -= 1
        lit = self._flashes_left % 2 == 1
        self.header_label.setStyleSheet(_FLASH_STYLE if lit else _HEADER_STYLE)
        if self._flashes_left <= 0:
            self._flash_timer.stop()
            self.header_label.setStyleSheet(_HEADER_STYLE)

    # -- internals -------------------------------------------------------------------------
    def _show(self, alert: AlertView) -> AlertView:
        shown = self._model.upsert(alert)
        self._changed()
        selected = self.selected_alert()
        if selected is not None and selected.alert_id == shown.alert_id:
            self._show_details()
        return shown

    def _alarm(self, alert_id: int, why: str) -> None:
        """Chime (unless muted) and flash, once per alert and reason."""
        if (alert_id, why) in self._sounded:
            return
        self._sounded.add((alert_id, why))
        self._flash()
        self.sig_attention_requested.emit(alert_id)
        if self.muted:
            return
        self.sound_requests += 1
        self.sig_sound_requested.emit(alert_id, why)
        try:
            self.sound.play()
        except Exception:  # a broken sound must never cost the operator the alert itself
            _log.exception("alert sound failed")
            QApplication.beep()

    def _flash(self) -> None:
        self._flashes_left = FLASH_TOGGLES
        self.header_label.setStyleSheet(_FLASH_STYLE)
        self._flash_timer.start()

    def _changed(self) -> None:
        self._update_header()
        self._update_controls()

    def _update_header(self) -> None:
        alerts = self._model.alerts()
        open_count = sum(1 for a in alerts if a.open)
        escalated = sum(1 for a in alerts if a.open and a.escalated_at is not None)
        if not alerts and self.listings == 0:
            text = "Listing alerts…" if not self._listing_error else "Alerts not listed"
        elif open_count == 0:
            text = "No open alerts"
        else:
            text = f"{open_count} open alert{'' if open_count == 1 else 's'}"
            if escalated:
                text += f", {escalated} escalated"
        self.header_label.setText(text)
        if open_count != self._open_count:
            self._open_count = open_count
            self.sig_open_count_changed.emit(open_count)

    def _update_controls(self) -> None:
        # The runner hides the bar when an escalation ends; acknowledgements may still run.
        self.strip.set_busy(self.is_busy())
        alert = self.selected_alert()
        busy = alert is not None and alert.alert_id in self._acknowledging
        previewed = alert is not None and self._previewed == alert.alert_id
        self.acknowledge_button.setEnabled(
            self._acknowledge_allowed
            and alert is not None
            and alert.open
            and not busy
            and previewed
        )
        self.acknowledge_button.setText("Working…" if busy else CLOSE_TEXT)
        mine = (
            alert is not None
            and self._actor_label is not None
            and alert.taken_by == self._actor_label
        )
        self.take_button.setEnabled(
            self._acknowledge_allowed and alert is not None and alert.open and not busy and not mine
        )
        self.note_button.setEnabled(
            self._acknowledge_allowed
            and alert is not None
            and not busy
            and bool(self.note_edit.text().strip())
        )
        escalating = self._escalation.is_busy()
        self.escalate_button.setEnabled(
            self._escalate_allowed and alert is not None and not escalating
        )
        self.escalate_button.setText("Escalating…" if escalating else ESCALATE_TEXT)
        if not self._escalate_allowed:
            tip = "Escalating to an incident needs the file_report permission."
        else:
            tip = "File the selected alert as an incident report, with a short description"
        self.escalate_button.setToolTip(tip)

    def _refuse(self, message: str) -> None:
        """Add an action's refusal to the red line, under those of the work running with it."""
        _log.warning("%s", message)
        self.strip.add_error(message)

    def _show_error(self, message: str) -> None:
        _log.warning("%s", message)
        self.strip.show_error(message)
