"""The Alerts pane as an operator's alarm manager: alerts in priority order (open ones by
severity then newest, closed ones after), their state in words, cameras by their site names,
the selected alert's instructions and history (who and when, site time), Take, Add note and
Close (a comment where the rule requires one), and "Escalate to incident…" on an escalated
alert of a rule (no stored event of its own). Against the fake actions of the alert stream's
tests, through the console's real query client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.access import Actor, Role
from engine.alerts.records import AlertNoteView
from engine.history.query_service import QueryService
from engine.sitetime import SiteTime
from tests.widgets.test_alert_stream import NOW, FakeAlerts, FakeSound, alert, look_at
from widgets.alerts.api import AlertListing
from widgets.alerts.view import (
    COLUMN_CAMERAS,
    COLUMN_STATE,
    COMMENT_NEEDED_TEXT,
    AlertStreamPane,
)

OLGA = Actor("olga", frozenset({Role.OPERATOR}))
INSTRUCTIONS = "Call the site manager on 555-0100; check gate 2 first"

# An escalated alert of a rule: raised by sequences, so no event of its own.
GATE = alert(
    11,
    6,
    kind="loitering",
    source="camera:gate",
    severity="warning",
    title="Loitering at the front gate",
    detail={"camera": "gate"},
    event_id=None,
    escalated_at=NOW - timedelta(minutes=4),
    cameras=("gate", "yard"),
    max_conf=0.97,
    instructions=(INSTRUCTIONS,),
    comment_required=True,
    notes=(AlertNoteView(NOW - timedelta(minutes=3), "account:ian", "note", "Gate 2 checked"),),
)
INFO_NEW = alert(12, 1, severity="info", title="Someone in the yard", event_id=None)
WARNING_OLD = alert(13, 30, severity="warning", title="Person at the door")
CLOSED_CRITICAL = alert(
    14,
    0.5,
    title="Fall, closed",
    acknowledged_at=NOW,
    acknowledged_by="account:olga",
    notes=(AlertNoteView(NOW, "account:olga", "closed", "Resident helped up"),),
)


class FakeShift(FakeAlerts):
    def __init__(self) -> None:
        super().__init__()
        self.alerts = [CLOSED_CRITICAL, INFO_NEW, WARNING_OLD, GATE]

    def list_alerts(self) -> AlertListing:
        listing = super().list_alerts()
        return replace(listing, camera_names={"gate": "Front gate", "yard": "Yard"})


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> None:
    shown_zone("Asia/Kolkata")


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def backend() -> FakeShift:
    return FakeShift()


@pytest.fixture
def pane(qtbot: QtBot, client: QtQueryClient, backend: FakeShift) -> AlertStreamPane:
    pane = AlertStreamPane(client, backend, sound=FakeSound(), now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.resize(1000, 500)
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.show()
    pane.on_actor_changed(OLGA)
    return pane


def test_alerts_are_in_priority_order_with_their_state_in_words_and_cameras_named(
    pane: AlertStreamPane,
) -> None:
    """Before: newest first whatever their state ("OPEN", "ESCALATED", "acknowledged by"),
    cameras by id or not at all."""
    # Open first: the warnings (newest first), then the info; the closed critical last.
    assert [a.alert_id for a in pane.alerts()] == [11, 13, 12, 14]
    assert pane.cell_text(11, COLUMN_STATE) == "New, escalated"
    assert pane.cell_text(12, COLUMN_STATE) == "New"
    assert pane.cell_text(14, COLUMN_STATE) == "Closed by olga"
    assert pane.cell_text(11, COLUMN_CAMERAS) == "Front gate, Yard"


def test_the_selected_alert_shows_its_instructions_confidence_and_history(
    qtbot: QtBot, pane: AlertStreamPane
) -> None:
    """Before: acknowledgement notes were stored and shown nowhere; rules had no
    instructions."""
    look_at(qtbot, pane, 11)
    assert pane.instructions_label.text() == f"What to do: {INSTRUCTIONS}"
    assert "highest confidence 0.97" in pane.details_label.text()
    assert "cameras: Front gate, Yard" in pane.details_label.text()
    assert pane.history_label.text() == "History:\n15:27:00  ian: Gate 2 checked"
    look_at(qtbot, pane, 14)
    assert pane.history_label.text() == "History:\n15:30:00  olga closed it: Resident helped up"
    assert not pane.instructions_label.isVisibleTo(pane)


def test_take_then_close_needs_the_comment_the_rule_requires(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeShift
) -> None:
    look_at(qtbot, pane, 11)
    assert pane.take_button.isEnabled()
    pane.take_button.click()
    qtbot.waitUntil(
        lambda: pane.cell_text(11, COLUMN_STATE).startswith("In progress"), timeout=5000
    )
    assert pane.cell_text(11, COLUMN_STATE) == "In progress: ada"
    assert "In progress: ada since 15:30:00, escalated" in pane.details_label.text()
    assert "ada has it" in pane.strip.status()
    # Closing without a comment: refused in words before anything is sent.
    assert pane.note_edit.placeholderText() == "Closing comment (required for this alert)"
    assert not pane.acknowledge_selected()
    assert pane.strip.error() == f"Alert 11 is not closed. {COMMENT_NEEDED_TEXT}"
    assert backend.acknowledged() == []
    # A note goes into the history; then the close with its comment.
    pane.note_edit.setText("Man waiting for a taxi")
    assert pane.note_button.isEnabled()
    pane.note_button.click()
    qtbot.waitUntil(lambda: pane.note_edit.text() == "", timeout=5000)
    assert pane.history_label.text().endswith("15:30:00  ada: Man waiting for a taxi")
    pane.note_edit.setText("Taxi came, he left")
    with qtbot.waitSignal(pane.sig_alert_acknowledged, timeout=5000):
        assert pane.acknowledge_selected()
    assert backend.notes[11] == "Taxi came, he left"
    assert pane.cell_text(11, COLUMN_STATE) == "Closed by ada"
    # Closed, it goes below the open ones.
    assert [a.alert_id for a in pane.alerts()] == [13, 12, 14, 11]


def test_escalate_to_incident_is_offered_on_an_escalated_alert_of_a_rule(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeShift
) -> None:
    """Before: greyed, since the alert (raised by a rule's sequences) has no event."""
    pane.set_escalate_allowed(True)
    look_at(qtbot, pane, 11)
    assert pane.escalate_button.isEnabled()
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=5000) as escalated:
        assert pane.escalate_selected("Loiterer at the gate for 20 minutes")
    assert escalated.args == [11, 7]
    assert backend.calls[-1] == ("escalate", 11, "Loiterer at the gate for 20 minutes")
    look_at(qtbot, pane, 14)  # a closed one too
    assert pane.escalate_button.isEnabled()


def test_a_taken_alert_leaves_its_title_readable_in_the_list(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeShift
) -> None:
    """Before: the state cell said "In progress: ada since 15:30:00, escalated" and took the
    list's width at the operator layout's size (1400×860: the pane about 700 px, the list
    half), leaving the alert's title "Lo…". Who has it stays in the cell; when, and that it
    had escalated, are in the tooltip and in the details under the list."""
    from widgets.alerts.view import COLUMN_TITLE

    pane.resize(700, 400)
    qtbot.waitUntil(lambda: pane.splitter.width() > 600, timeout=5000)
    look_at(qtbot, pane, 11)
    pane.take_button.click()
    qtbot.waitUntil(lambda: pane.cell_text(11, COLUMN_STATE) == "In progress: ada", timeout=5000)
    tooltip = pane.cell_data(11, COLUMN_STATE, Qt.ItemDataRole.ToolTipRole)
    assert "Taken by ada at" in tooltip and "Escalated at 15:26:00" in tooltip
    assert "In progress: ada since 15:30:00, escalated" in pane.details_label.text()
    header = pane.view.horizontalHeader()
    qtbot.waitUntil(
        lambda: header.sectionSize(COLUMN_TITLE) >= 0.4 * pane.view.viewport().width(),
        timeout=5000,
    )
