"""The alert stream: rows newest first with their states (open, escalated in red,
acknowledged by whom and when) and webhook outcomes, the open count, Acknowledge (button,
double-click, Enter) only for open alerts and people allowed to, the engine's refusals, and
the chime on a new or escalated alert unless muted. Against a fake backend run through the
console's real query client, so every call runs on a query worker and answers on the GUI
thread, as in the console."""

from __future__ import annotations

import io
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage
from pytestqt.qtbot import QtBot
from pytestqt.wait_signal import SignalBlocker

from console.queries import QtQueryClient
from engine.access import Actor, Permission, PermissionDeniedError
from engine.alerts.records import AlertNoteView, AlertView
from engine.history.query_service import QueryService
from engine.incidents.records import Filed
from engine.sitetime import SiteTime
from tests.widgets.test_incident_list import incident
from widgets.alerts.api import AlertEvidence, AlertListing, acknowledged_by_text
from widgets.alerts.view import (
    ALARM_RED,
    CHIME_SAMPLE_RATE_HZ,
    COLUMN_SEVERITY,
    COLUMN_STATE,
    COLUMN_TIME,
    COLUMN_TITLE,
    COLUMN_WEBHOOKS,
    ESCALATED_BACKGROUND,
    NOT_ALLOWED_TEXT,
    STATE_ESCALATED,
    STATE_OPEN,
    AlertSound,
    AlertStreamPane,
    alerts_title,
    chime_wav_bytes,
    merged_alert,
)

NOW = datetime(2026, 2, 3, 10, 0, 0, tzinfo=UTC)  # 15:30:00 in the tests' local time


def alert(alert_id: int, minutes_ago: float, **changes: object) -> AlertView:
    view = AlertView(
        alert_id=alert_id,
        raised_at=NOW - timedelta(minutes=minutes_ago),
        kind="fall",
        source="sensing:lab",
        severity="critical",
        title=f"Fall: someone fell in lab and has not got up ({alert_id})",
        detail={"blob": alert_id, "room": "lab"},
        person=None,
        event_id=100 + alert_id,
        acknowledged_at=None,
        acknowledged_by=None,
        escalated_at=None,
    )
    return replace(view, **changes)  # type: ignore[arg-type]


OLD_ACKED = alert(
    1,
    90,
    acknowledged_at=NOW - timedelta(minutes=88),
    acknowledged_by="account:olga",
    deliveries_ok=1,
)
ESCALATED = alert(2, 10, escalated_at=NOW - timedelta(minutes=8), deliveries_ok=1)
FRESH = alert(3, 1, deliveries_ok=1, deliveries_failed=1)


class FakeAlerts:
    """The console's alert actions over a list, recording every call and its thread."""

    def __init__(self) -> None:
        self.alerts = [OLD_ACKED, FRESH, ESCALATED]  # any order: the pane sorts
        self.errors = {FRESH.alert_id: ("127.0.0.1:9 (masked): HTTP 500",)}
        self.calls: list[tuple[object, ...]] = []
        self.threads: set[str] = set()
        self.refusal: Exception | None = None
        self.release = threading.Event()
        self.release.set()
        self.notes: dict[int, str] = {}
        self.evidence_of: dict[int, AlertEvidence] = {}
        self.webhooks = 2

    def evidence(self, alert: AlertView) -> AlertEvidence:
        self.calls.append(("evidence", alert.alert_id))
        self.threads.add(threading.current_thread().name)
        return self.evidence_of.get(
            alert.alert_id, AlertEvidence(alert.alert_id, caption=f"What raised {alert.alert_id}")
        )

    def list_alerts(self) -> AlertListing:
        self.calls.append(("list",))
        self.threads.add(threading.current_thread().name)
        return AlertListing(tuple(self.alerts), dict(self.errors), webhooks=self.webhooks)

    def acknowledge(self, alert_id: int, note: str = "") -> AlertView:
        self.calls.append(("acknowledge", alert_id))
        self.notes[alert_id] = note
        self.threads.add(threading.current_thread().name)
        self.release.wait(5)
        if self.refusal is not None:
            raise self.refusal
        index = next(i for i, a in enumerate(self.alerts) if a.alert_id == alert_id)
        acked = replace(self.alerts[index], acknowledged_at=NOW, acknowledged_by="account:ada")
        self.alerts[index] = acked
        return acked

    def take(self, alert_id: int) -> AlertView:
        self.calls.append(("take", alert_id))
        self.threads.add(threading.current_thread().name)
        if self.refusal is not None:
            raise self.refusal
        index = next(i for i, a in enumerate(self.alerts) if a.alert_id == alert_id)
        taken = replace(self.alerts[index], taken_at=NOW, taken_by="account:ada")
        self.alerts[index] = taken
        return taken

    def note(self, alert_id: int, text: str) -> AlertView:
        self.calls.append(("note", alert_id, text))
        index = next(i for i, a in enumerate(self.alerts) if a.alert_id == alert_id)
        entry = AlertNoteView(NOW, "account:ada", "note", text)
        noted = replace(self.alerts[index], notes=(*self.alerts[index].notes, entry))
        self.alerts[index] = noted
        return noted

    def escalate_alert(self, alert_id: int, text: str) -> Filed:
        self.calls.append(("escalate", alert_id, text))
        self.threads.add(threading.current_thread().name)
        if self.refusal is not None:
            raise self.refusal
        view = incident(7, 0, category="medical", severity=5, classifier="keywords")
        return Filed(report_id=70, incident=view, merged=False)

    def acknowledged(self) -> list[int]:
        return [int(str(c[1])) for c in self.calls if c[0] == "acknowledge"]


class FakeSound:
    def __init__(self) -> None:
        self.plays = 0

    def play(self) -> str:
        self.plays += 1
        return "beep"


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> None:
    """The console shows a site at UTC+05:30 all year, far from this machine's zone."""
    shown_zone("Asia/Kolkata")


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def backend() -> FakeAlerts:
    return FakeAlerts()


@pytest.fixture
def sound() -> FakeSound:
    return FakeSound()


@pytest.fixture
def pane(
    qtbot: QtBot, client: QtQueryClient, backend: FakeAlerts, sound: FakeSound
) -> AlertStreamPane:
    pane = AlertStreamPane(client, backend, sound=sound, now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.resize(900, 400)
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.show()  # the first showing loads the list
    return pane


def acknowledged(qtbot: QtBot, pane: AlertStreamPane) -> SignalBlocker:
    return qtbot.waitSignal(pane.sig_alert_acknowledged, timeout=5000)


def look_at(qtbot: QtBot, pane: AlertStreamPane, alert_id: int) -> None:
    """Select the alert and wait until what raised it is shown (acknowledging waits for
    it)."""
    with qtbot.waitSignal(pane.sig_evidence_shown, timeout=5000) as shown:
        pane.select(alert_id)
    assert shown.args == [alert_id]


def double_click(qtbot: QtBot, pane: AlertStreamPane, alert_id: int) -> None:
    """Double-click the alert's title as a hand does (a press, then the double-click)."""
    row = [a.alert_id for a in pane.alerts()].index(alert_id)
    cell = pane.view.visualRect(pane.view.model().index(row, COLUMN_TITLE)).center()
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=cell)


def test_rows_are_newest_first_with_time_severity_title_state_and_webhooks(
    pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    assert [a.alert_id for a in pane.alerts()] == [3, 2, 1]
    assert pane.cell_text(3, COLUMN_TIME) == "15:29:00"  # site time, today: no date
    assert pane.cell_text(3, COLUMN_SEVERITY) == "critical"
    assert pane.cell_text(3, COLUMN_TITLE) == FRESH.title
    assert pane.cell_text(3, COLUMN_STATE) == STATE_OPEN
    assert pane.cell_text(2, COLUMN_STATE) == STATE_ESCALATED
    assert pane.cell_text(1, COLUMN_STATE) == "Closed by olga"
    # Webhooks: counts, the failures in red with their errors in the tooltip.
    assert pane.cell_text(3, COLUMN_WEBHOOKS) == "webhooks 1 ok, 1 failed"
    assert pane.cell_text(2, COLUMN_WEBHOOKS) == "webhooks 1 ok"
    tip = pane.cell_data(3, COLUMN_WEBHOOKS, Qt.ItemDataRole.ToolTipRole)
    assert "HTTP 500" in tip
    red = pane.cell_data(3, COLUMN_WEBHOOKS, Qt.ItemDataRole.ForegroundRole)
    assert isinstance(red, QBrush) and red.color() == QColor(ALARM_RED)
    # The header and the dock title count the open alerts (the escalated one among them).
    assert pane.open_count() == 2
    assert pane.header_label.text() == "2 open alerts, 1 escalated"
    assert alerts_title(2) == "Alerts (2 open)" and alerts_title(0) == "Alerts"
    assert backend.threads and all(t.startswith("query-worker") for t in backend.threads)


def test_the_columns_read_time_state_alert_and_webhooks_show_only_where_there_are_some(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    """Before: a pane narrowed by its preview (1400×860) scrolled the state out of sight
    behind severity, and every row of a site without webhooks said "no webhooks"."""
    header = pane.view.horizontalHeader()
    shown = sorted(range(header.count()), key=header.visualIndex)
    assert shown[:3] == [COLUMN_TIME, COLUMN_STATE, COLUMN_TITLE]
    assert not pane.view.isColumnHidden(COLUMN_WEBHOOKS)  # this site delivers to two
    backend.webhooks = 0
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.refresh()
    assert pane.view.isColumnHidden(COLUMN_WEBHOOKS)
    backend.webhooks = 1
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.refresh()
    assert not pane.view.isColumnHidden(COLUMN_WEBHOOKS)


def test_critical_is_red_and_an_escalated_alert_is_highlighted_until_acknowledged(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    severity = pane.cell_data(3, COLUMN_SEVERITY, Qt.ItemDataRole.ForegroundRole)
    assert isinstance(severity, QBrush) and severity.color() == QColor(ALARM_RED)
    assert pane.cell_data(3, COLUMN_TITLE, Qt.ItemDataRole.BackgroundRole) is None
    for column in (COLUMN_TIME, COLUMN_TITLE, COLUMN_STATE):
        background = pane.cell_data(2, column, Qt.ItemDataRole.BackgroundRole)
        assert isinstance(background, QBrush)
        assert background.color() == QColor(ESCALATED_BACKGROUND)
        font = pane.cell_data(2, column, Qt.ItemDataRole.FontRole)
        assert isinstance(font, QFont) and font.bold()

    look_at(qtbot, pane, 2)
    with acknowledged(qtbot, pane):
        pane.acknowledge_button.click()
    assert pane.cell_text(2, COLUMN_STATE) == "Closed by ada"
    assert pane.cell_data(2, COLUMN_TITLE, Qt.ItemDataRole.BackgroundRole) is None
    assert pane.header_label.text() == "1 open alert"


def test_acknowledge_is_offered_for_open_alerts_to_those_allowed(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    assert not pane.acknowledge_button.isEnabled()  # nothing selected
    look_at(qtbot, pane, 1)
    assert not pane.acknowledge_button.isEnabled()  # already acknowledged
    assert not pane.acknowledge_selected()
    backend.release.clear()  # (what raised it comes at once; acknowledging would wait)
    pane.select(3)
    # Not before the operator can see what raised it.
    assert pane.preview.picture.text() == "Loading what raised it…"
    assert not pane.acknowledge_button.isEnabled() and not pane.acknowledge_selected()
    qtbot.waitUntil(pane.acknowledge_button.isEnabled, timeout=5000)
    assert pane.preview.caption.text() == "What raised 3"
    backend.release.set()

    pane.set_acknowledge_allowed(False)
    assert not pane.acknowledge_button.isEnabled()
    assert pane.permission_label.text() == NOT_ALLOWED_TEXT
    assert not pane.permission_label.isHidden()
    assert not pane.acknowledge_selected()
    double_click(qtbot, pane, 3)
    qtbot.wait(100)
    assert backend.acknowledged() == []

    pane.set_acknowledge_allowed(True)
    assert pane.acknowledge_button.isEnabled() and pane.permission_label.isHidden()


def test_the_button_and_enter_acknowledge_a_previewed_alert_on_a_worker_not_a_double_click(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    # The button: requested, busy while the engine works, then shown acknowledged.
    look_at(qtbot, pane, 3)
    pane.note_edit.setText("Checked the plaza camera: a child tripped, is fine")
    backend.release.clear()
    with qtbot.waitSignal(pane.sig_acknowledge_requested, timeout=1000) as requested:
        pane.acknowledge_button.click()
    assert requested.args == [3]
    assert pane.is_busy() and not pane.acknowledge_button.isEnabled()
    assert pane.acknowledge_button.text() == "Working…"
    assert pane.strip.is_busy() and pane.strip.status() == "Closing alert 3…"
    assert not pane.acknowledge_selected()  # no second request while the first runs
    with acknowledged(qtbot, pane) as done:
        backend.release.set()
    assert done.args == [3]
    assert pane.cell_text(3, COLUMN_STATE) == "Closed by ada"
    assert "Alert 3 closed by ada" in pane.strip.status()
    assert not pane.strip.is_busy()
    assert not pane.acknowledge_button.isEnabled()  # the row is acknowledged now
    assert backend.notes[3] == "Checked the plaza camera: a child tripped, is fine"
    assert pane.note_edit.text() == ""  # it went with the acknowledgement
    # The next person at the console does not read what this one's action said.
    pane.close_what_was_opened()
    assert pane.strip.status() == "" and pane.strip.error() == ""

    # A double-click looks (it plays the evidence again), never acknowledges.
    double_click(qtbot, pane, 2)
    qtbot.waitUntil(lambda: pane.acknowledge_button.isEnabled(), timeout=5000)
    qtbot.wait(200)
    assert backend.acknowledged() == [3]  # the double-click acknowledged nothing
    with acknowledged(qtbot, pane) as done:
        pane.acknowledge_button.click()
    assert done.args == [2] and backend.notes[2] == ""

    # Enter on the selected, previewed row (a new alert arrived meanwhile).
    backend.alerts.append(alert(4, 0))
    pane.on_alert_raised(alert(4, 0))
    look_at(qtbot, pane, 4)
    pane.view.setFocus()
    with acknowledged(qtbot, pane) as done:
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    assert done.args == [4]
    assert backend.acknowledged() == [3, 2, 4]
    assert pane.open_count() == 0 and pane.header_label.text() == "No open alerts"
    assert all(t.startswith("query-worker") for t in backend.threads)


def test_a_refusal_is_shown_in_the_engine_words(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    nobody = Actor("visitor", frozenset())
    refusal = PermissionDeniedError(nobody, Permission.ACKNOWLEDGE, "acknowledge alerts")
    backend.refusal = refusal
    look_at(qtbot, pane, 3)
    with qtbot.waitSignal(pane.sig_acknowledge_failed, timeout=5000) as failed:
        pane.acknowledge_button.click()
    assert failed.args[0] == 3
    assert pane.strip.error() == f"Could not close alert 3: {refusal}"
    assert ALARM_RED in pane.strip.error_label.styleSheet()  # the red line
    assert not pane.strip.is_busy()
    assert pane.cell_text(3, COLUMN_STATE) == STATE_OPEN
    assert pane.acknowledge_button.isEnabled()  # it may be tried again

    # Engine problems raising an alert are shown too, and ask for attention.
    with qtbot.waitSignal(pane.sig_attention_requested, timeout=1000):
        pane.on_alert_problem("RaiseAlert: database is locked")
    assert "RaiseAlert: database is locked" in pane.strip.error()


def test_acknowledgements_of_several_alerts_run_at_once_and_all_land(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    # Enter on two rows quickly: both are sent, neither waits for nor drops the other, and
    # the strip stays busy until both are answered.
    backend.alerts.append(alert(4, 0))
    pane.on_alert_raised(alert(4, 0))
    backend.release.clear()
    pane.view.setFocus()
    for alert_id in (3, 4):
        look_at(qtbot, pane, alert_id)
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sorted(backend.acknowledged()) == [3, 4], timeout=5000)
    assert pane.is_busy() and pane.strip.is_busy()
    assert pane.strip.status() == "Closing alert 4…"
    landed: list[int] = []
    pane.sig_alert_acknowledged.connect(landed.append)
    backend.release.set()
    qtbot.waitUntil(lambda: sorted(landed) == [3, 4], timeout=5000)
    assert not pane.is_busy() and not pane.strip.is_busy()
    assert pane.cell_text(3, COLUMN_STATE) == "Closed by ada"
    assert pane.cell_text(4, COLUMN_STATE) == "Closed by ada"
    assert pane.strip.error() == ""


def test_refusals_of_overlapping_acknowledgements_each_keep_their_red_line(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    refusal = PermissionDeniedError(
        Actor("visitor", frozenset()), Permission.ACKNOWLEDGE, "acknowledge alerts"
    )
    backend.refusal = refusal
    backend.release.clear()
    for alert_id in (3, 2):
        look_at(qtbot, pane, alert_id)
        assert pane.acknowledge_selected()
    failed: list[int] = []
    pane.sig_acknowledge_failed.connect(lambda alert_id, _message: failed.append(alert_id))
    backend.release.set()
    qtbot.waitUntil(lambda: sorted(failed) == [2, 3], timeout=5000)
    assert sorted(pane.strip.error().splitlines()) == [
        f"Could not close alert 2: {refusal}",
        f"Could not close alert 3: {refusal}",
    ]
    assert not pane.strip.is_busy() and pane.strip.status() == ""
    assert pane.open_count() == 2  # nothing was acknowledged

    # The next acknowledgement, started with nothing running, begins with a clear red line.
    backend.refusal = None
    look_at(qtbot, pane, 3)
    with acknowledged(qtbot, pane):
        assert pane.acknowledge_selected()
        assert pane.strip.error() == ""
    assert pane.strip.error() == "" and "Alert 3 closed by ada" in pane.strip.status()


def test_the_strip_stays_busy_while_an_acknowledgement_outlasts_an_escalation(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    pane.set_escalate_allowed(True)
    backend.release.clear()  # holds acknowledgements, not escalations
    look_at(qtbot, pane, 3)
    assert pane.acknowledge_selected()
    pane.select(2)
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=5000) as escalated:
        assert pane.escalate_selected("Resident on the floor")
        assert not pane.escalate_button.isEnabled()  # one escalation at a time
        assert pane.escalate_button.text() == "Escalating…"
        assert not pane.escalate_selected("again")
    assert escalated.args == [2, 7]
    assert pane.strip.status().startswith("Alert 2 escalated: new incident 7")
    assert pane.is_busy() and pane.strip.is_busy()  # alert 3's acknowledgement still runs
    assert pane.escalate_button.isEnabled()
    with acknowledged(qtbot, pane) as done:
        backend.release.set()
    assert done.args == [3]
    assert not pane.is_busy() and not pane.strip.is_busy()


def test_a_new_alert_and_an_escalation_sound_the_chime_once_unless_muted(
    qtbot: QtBot, pane: AlertStreamPane, sound: FakeSound
) -> None:
    new = alert(5, 0)
    with (
        qtbot.waitSignal(pane.sig_sound_requested, timeout=1000) as chimed,
        qtbot.waitSignal(pane.sig_attention_requested, timeout=1000) as attention,
        qtbot.waitSignal(pane.sig_open_count_changed, timeout=1000) as counted,
    ):
        pane.on_alert_raised(new)
    assert chimed.args == [5, "raised"] and attention.args == [5] and counted.args == [3]
    assert pane.alerts()[0].alert_id == 5  # newest first
    assert pane.is_flashing()
    assert (pane.sound_requests, sound.plays) == (1, 1)
    pane.on_alert_raised(new)  # the same alert again (a listing raced it): no second chime
    assert (pane.sound_requests, sound.plays) == (1, 1)

    escalated = replace(new, escalated_at=NOW)
    with qtbot.waitSignal(pane.sig_sound_requested, timeout=1000) as chimed:
        pane.on_alert_changed(escalated, "escalated")
    assert chimed.args == [5, "escalated"]
    assert pane.cell_text(5, COLUMN_STATE) == STATE_ESCALATED
    assert (pane.sound_requests, sound.plays) == (2, 2)

    # An acknowledgement makes no sound.
    pane.on_alert_changed(
        replace(escalated, acknowledged_at=NOW, acknowledged_by="account:x"), "acknowledged"
    )
    assert (pane.sound_requests, sound.plays) == (2, 2)
    assert pane.cell_text(5, COLUMN_STATE) == "Closed by x"

    # Muted: no chime, but the alert still shows and asks for attention.
    with qtbot.waitSignal(pane.sig_mute_changed, timeout=1000) as muted:
        pane.mute_box.click()
    assert muted.args == [True] and pane.muted
    requested: list[object] = []
    pane.sig_sound_requested.connect(lambda *args: requested.append(args))
    with qtbot.waitSignal(pane.sig_attention_requested, timeout=1000):
        pane.on_alert_raised(alert(6, 0))
    pane.on_alert_changed(alert(6, 0, escalated_at=NOW), "escalated")
    assert requested == [] and (pane.sound_requests, sound.plays) == (2, 2)
    assert pane.cell_text(6, COLUMN_STATE) == STATE_ESCALATED

    pane.set_muted(False)
    pane.on_alert_raised(alert(7, 0))
    assert (pane.sound_requests, sound.plays) == (3, 3)


def test_live_events_and_a_late_listing_merge_without_going_back(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    # Acknowledged live (from another console) after the listing below was read.
    live = replace(FRESH, acknowledged_at=NOW, acknowledged_by="account:olga")
    pane.on_alert_changed(live, "acknowledged")
    backend.alerts = [FRESH, ESCALATED, OLD_ACKED]  # the stale read: FRESH still open
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.refresh()
    assert pane.cell_text(3, COLUMN_STATE) == "Closed by olga"
    assert pane.open_count() == 1

    # Deliveries reported live add to what was stored; the errors join the tooltip.
    pane.on_alert_delivered(2, True, "hooks.example:443", False, "timed out after 5 s")
    assert pane.cell_text(2, COLUMN_WEBHOOKS) == "webhooks 1 ok, 1 failed"
    tip = pane.cell_data(2, COLUMN_WEBHOOKS, Qt.ItemDataRole.ToolTipRole)
    assert "hooks.example:443 (escalation): timed out after 5 s" in tip
    pane.on_alert_delivered(7, False, "hooks.example:443", True, None)  # not listed: ignored
    assert pane.alert(7) is None


def test_escalate_to_incident_files_the_alerts_event_for_those_allowed(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    answer: list[str | None] = [None]

    def ask(alert: AlertView) -> str | None:
        asked.append(alert.title)
        return answer[0]

    monkeypatch.setattr(pane, "_ask_escalation_text", ask)
    look_at(qtbot, pane, 3)
    # Only people who may file reports (the console says so at login).
    assert not pane.escalate_allowed and not pane.escalate_button.isEnabled()
    assert "file_report permission" in pane.escalate_button.toolTip()
    assert not pane.escalate_selected("smoke")
    pane.set_escalate_allowed(True)
    assert pane.escalate_button.isEnabled()
    menu = pane._context_menu()
    assert [a.text() for a in menu.actions()] == ["Take", "Close", "Escalate to incident…"]
    assert all(a.isEnabled() for a in menu.actions())
    menu.deleteLater()
    pane.escalate_button.click()  # the operator cancels the description: nothing is filed
    assert asked == [FRESH.title] and not [c for c in backend.calls if c[0] == "escalate"]
    answer[0] = "Resident on the floor, not answering"
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=5000) as escalated:
        pane.escalate_button.click()
    assert escalated.args == [3, 7]
    assert backend.calls[-1] == ("escalate", 3, "Resident on the floor, not answering")
    assert pane.strip.status() == (
        "Alert 3 escalated: new incident 7: medical, severity 5, classified by keywords."
    )
    assert pane.alert(3) is not None and pane.alert(3).open  # escalating does not acknowledge
    # The engine's refusal is shown.
    backend.refusal = PermissionDeniedError(
        Actor("ian", frozenset()), Permission.FILE_REPORT, "escalate an event to an incident"
    )
    pane.select(2)
    assert pane.escalate_selected("again")
    qtbot.waitUntil(lambda: not pane.is_busy(), timeout=5000)
    assert pane.strip.error().startswith("Could not escalate alert 2 to an incident: ian")
    assert not pane.strip.is_busy()
    # An alert of a rule has no event of its own: it is escalated all the same (the console
    # files its sequence's event, or a report at its place).
    pane.on_alert_raised(alert(4, 0, event_id=None))
    pane.select(4)
    assert pane.escalate_button.isEnabled()


def test_merged_alert_keeps_the_furthest_state_of_each_field() -> None:
    acked = replace(FRESH, acknowledged_at=NOW, acknowledged_by="account:olga")
    escalated = replace(FRESH, escalated_at=NOW, deliveries_ok=3)
    both = merged_alert(acked, escalated)
    assert both.acknowledged_by == "account:olga" and both.escalated_at == NOW
    assert both.deliveries_ok == 3 and both.deliveries_failed == 1
    assert merged_alert(escalated, acked) == both
    assert acknowledged_by_text("account:ada") == "ada"
    assert acknowledged_by_text("service:night-bot") == "night-bot (service)"
    assert acknowledged_by_text("engine:camera-watch") == "the system (camera-watch)"


def test_the_chime_is_a_short_wav_and_plays_or_beeps_without_crashing(qtbot: QtBot) -> None:
    with wave.open(io.BytesIO(chime_wav_bytes())) as chime:
        assert (chime.getnchannels(), chime.getsampwidth()) == (1, 2)
        assert chime.getframerate() == CHIME_SAMPLE_RATE_HZ
        assert 0.2 < chime.getnframes() / CHIME_SAMPLE_RATE_HZ < 0.6
    sound = AlertSound()
    with qtbot.waitSignal(sound.sig_sound_played, timeout=2000) as played:
        how = sound.play()
    # Headless (no sound server) it falls back to QApplication.beep(); with an audio output
    # it plays the effect. Either way it sounds and says how.
    assert played.args == [how] and how in ("effect", "beep")
    assert sound.mode in ("effect", "beep") and sound.plays == 1
    if sound.mode == "beep":
        assert sound.detail
    sound.play()
    assert sound.plays == 2
    sound.deleteLater()


def test_the_preview_shows_the_alerts_picture_or_plays_its_clip(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts, tmp_path: Path
) -> None:
    from tests.widgets.test_event_history import write_h264_clip
    from widgets.alerts.preview import LEAD_IN_S

    image = QImage(64, 48, QImage.Format.Format_RGB888)
    image.fill(QColor("#e3b341"))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPG")
    backend.evidence_of[3] = AlertEvidence(
        3, caption="Unrecognised person 4 appeared on Plaza east", snapshot=bytes(buffer.data())
    )
    clip = tmp_path / "clip.mp4"
    write_h264_clip(clip)
    backend.evidence_of[2] = AlertEvidence(
        2, caption="Person seen", clip=clip, clip_offset_s=5.0, camera="plaza"
    )
    look_at(qtbot, pane, 3)
    assert pane.preview.showing() == "picture"
    assert not pane.preview.picture.pixmap().isNull()
    assert pane.preview.caption.text() == "Unrecognised person 4 appeared on Plaza east"
    look_at(qtbot, pane, 2)
    assert pane.preview.showing() == "clip"
    player = pane.preview.player
    assert player is not None
    qtbot.waitUntil(lambda: player.position_s() > 0 or bool(player.error_text()), timeout=5000)
    assert player.error_text() == ""
    assert player.position_s() >= 5.0 - LEAD_IN_S - 0.5  # from a little before the event
    # A lock ends it: the next person finds no clip playing.
    pane.close_what_was_opened()
    assert pane.preview.showing() == "nothing" and pane.selected_alert() is None


def test_the_list_and_the_preview_share_the_width_whatever_they_hold(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts
) -> None:
    """Before: the columns sized to their text ("Closed by olga at 14:02:00") or a clip's
    long name set the split, squeezing the alert's title or the clip's controls."""
    pane.resize(700, 400)
    qtbot.waitUntil(lambda: pane.splitter.width() > 600, timeout=5000)

    def halves() -> bool:
        left, right = pane.splitter.sizes()
        return abs(left - right) <= 0.1 * (left + right)

    qtbot.waitUntil(halves, timeout=5000)
    with qtbot.waitSignal(pane.sig_evidence_shown, timeout=5000):
        pane.select(1)  # the closed one: its state is the longest text
    pane.resize(701, 400)
    qtbot.waitUntil(lambda: pane.splitter.width() > 600, timeout=5000)
    qtbot.waitUntil(halves, timeout=5000)
    qtbot.wait(50)  # a later layout pass (the list's columns resized) does not undo it
    assert halves(), pane.splitter.sizes()
