"""Snoozing a camera's alerts from the alert stream: "Snooze alerts of CAMERA…" in the
context menu of an alert a camera raised (for people who may acknowledge), the minutes
asked, the call made on a query worker, the "alerts snoozed until HH:MM" line in site time
that goes when the snooze ends, and "End snooze of CAMERA". Against a fake of the pane's
api (:class:`widgets.alerts.api.AlertActions`) through the console's real query client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.access import Actor, Permission, PermissionDeniedError
from engine.alerts.snoozes import NotSnoozedError, SnoozeView
from engine.history.query_service import QueryService
from engine.sitetime import SiteTime
from tests.widgets.test_alert_stream import NOW, FakeAlerts, FakeSound, alert
from widgets.alerts.api import AlertListing, snooze_choice_text
from widgets.alerts.view import AlertStreamPane

GATE_ALERT = alert(
    5, 2, kind="person", source="camera:gate", title="Person at Gate", detail={"camera": "gate"}
)


class FakeSnoozes(FakeAlerts):
    """The fake alert actions, with snoozes kept as the engine keeps them: each ends by
    itself at its time on ``clock``."""

    def __init__(self, clock: list[datetime]) -> None:
        super().__init__()
        self.clock = clock
        self.alerts.append(GATE_ALERT)
        self.snoozes: dict[str, SnoozeView] = {}

    def list_alerts(self) -> AlertListing:
        listing = super().list_alerts()
        now = self.clock[0]
        running = tuple(s for s in self.snoozes.values() if s.active(now))
        return replace(listing, snoozes=running)

    def snooze(self, camera: str, minutes: int) -> SnoozeView:
        self.calls.append(("snooze", camera, minutes))
        self.threads.add(threading.current_thread().name)
        if self.refusal is not None:
            raise self.refusal
        now = self.clock[0]
        view = SnoozeView(camera, "Gate", now, now + timedelta(minutes=minutes), "account:olga")
        self.snoozes[camera] = view
        return view

    def unsnooze(self, camera: str) -> SnoozeView:
        self.calls.append(("unsnooze", camera))
        self.threads.add(threading.current_thread().name)
        running = self.snoozes.pop(camera, None)
        if running is None or not running.active(self.clock[0]):
            raise NotSnoozedError(f"camera {camera}'s alerts are not snoozed")
        return replace(running, ended_at=self.clock[0], ended_by="account:olga")


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> None:
    """The console shows a site at UTC+05:30 all year: NOW is 15:30 there."""
    shown_zone("Asia/Kolkata")


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def backend(clock: list[datetime]) -> FakeSnoozes:
    return FakeSnoozes(clock)


@pytest.fixture
def pane(qtbot: QtBot, backend: FakeSnoozes, clock: list[datetime]) -> Iterator[AlertStreamPane]:
    client = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    pane = AlertStreamPane(client, backend, sound=FakeSound(), now=lambda: clock[0])
    qtbot.addWidget(pane)
    pane.resize(900, 400)
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.show()
    yield pane
    client.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


def _menu_texts(pane: AlertStreamPane) -> list[tuple[str, bool]]:
    menu = pane._context_menu()
    try:
        return [(a.text(), a.isEnabled()) for a in menu.actions() if not a.isSeparator()]
    finally:
        menu.deleteLater()


def _trigger(pane: AlertStreamPane, text: str) -> None:
    menu: QMenu = pane._context_menu()
    (action,) = [a for a in menu.actions() if a.text() == text]
    action.trigger()
    menu.deleteLater()


def test_an_alert_of_a_camera_offers_to_snooze_its_camera_which_shows_until_when(
    qtbot: QtBot,
    pane: AlertStreamPane,
    backend: FakeSnoozes,
    clock: list[datetime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    answer: list[int | None] = [None]

    def ask(camera: str) -> int | None:
        asked.append(camera)
        return answer[0]

    monkeypatch.setattr(pane, "_ask_snooze_minutes", ask)
    pane.select(3)  # a fall in a room: no camera to snooze
    assert [t for t, _ in _menu_texts(pane)] == ["Take", "Close", "Escalate to incident…"]
    pane.select(5)
    assert _menu_texts(pane)[-1] == ("Snooze alerts of gate…", True)
    assert not pane.snooze_label.isVisible() and pane.snooze_text() == ""

    _trigger(pane, "Snooze alerts of gate…")  # cancelled: nothing is asked of the engine
    assert asked == ["gate"] and not [c for c in backend.calls if c[0] == "snooze"]
    answer[0] = 30
    with qtbot.waitSignal(pane.sig_snooze_changed, timeout=5000) as changed:
        _trigger(pane, "Snooze alerts of gate…")
    assert changed.args == ["gate"]
    assert backend.calls[-1] == ("snooze", "gate", 30)
    assert all(t.startswith("query-") for t in backend.threads)  # never the GUI thread
    # 10:00 UTC is 15:30 at the site: snoozed until 16:00 there.
    assert pane.snooze_label.isVisible()
    assert pane.snooze_label.text() == "Gate: alerts snoozed until 16:00"
    assert pane.strip.status() == (
        "Gate: alerts snoozed until 16:00; its detections are still recorded."
    )
    assert _menu_texts(pane)[-1] == ("End snooze of gate", True)

    # It ends by itself at 16:00: the line goes within a second, with no refresh.
    clock[0] = NOW + timedelta(minutes=30) - timedelta(seconds=1)
    qtbot.wait(1200)
    assert pane.snooze_label.isVisible()
    clock[0] = NOW + timedelta(minutes=30)
    qtbot.waitUntil(lambda: not pane.snooze_label.isVisible(), timeout=3000)
    assert pane.snooze_text() == ""
    assert _menu_texts(pane)[-1] == ("Snooze alerts of gate…", True)


def test_a_listed_snooze_is_shown_and_ended_early_and_refusals_are_in_the_engines_words(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeSnoozes, clock: list[datetime]
) -> None:
    # Snoozed elsewhere (the CLI, another console) for a day: the next listing shows it,
    # with the date, since it ends on another day of the site.
    backend.snoozes["gate"] = SnoozeView(
        "gate", "Gate", NOW, NOW + timedelta(days=1), "account:ian"
    )
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.refresh()
    assert pane.snooze_label.text() == "Gate: alerts snoozed until 2026-02-04 15:30"
    pane.select(5)
    with qtbot.waitSignal(pane.sig_snooze_changed, timeout=5000):
        _trigger(pane, "End snooze of gate")
    assert backend.calls[-1] == ("unsnooze", "gate")
    assert not pane.snooze_label.isVisible()
    assert pane.strip.status() == "Gate: alerts are raised again."

    # The engine's refusal, in its words; nothing is shown as snoozed.
    backend.refusal = PermissionDeniedError(
        Actor("guest", frozenset()), Permission.ACKNOWLEDGE, "alert.snooze"
    )
    assert pane.snooze_camera("gate", 15)
    qtbot.waitUntil(lambda: not pane.is_busy(), timeout=5000)
    assert pane.strip.error().startswith("Could not snooze the alerts of gate: guest")
    assert "needs the acknowledge permission" in pane.strip.error()
    assert not pane.snooze_label.isVisible()

    # Someone who may not acknowledge is not offered it.
    pane.set_acknowledge_allowed(False)
    assert _menu_texts(pane)[-1] == ("Snooze alerts of gate…", False)
    calls = len(backend.calls)
    assert not pane.snooze_camera("gate", 15) and not pane.snooze_selected()
    assert len(backend.calls) == calls


def test_the_lengths_offered_read_as_people_say_them() -> None:
    assert [snooze_choice_text(m) for m in (1, 15, 30, 60, 120, 480, 1440)] == [
        "1 minute",
        "15 minutes",
        "30 minutes",
        "1 hour",
        "2 hours",
        "8 hours",
        "24 hours",
    ]


def test_the_alert_lists_filter_line_tells_snoozed_alerts_from_low_risk_ones() -> None:
    """Before: an alert a snooze hid was counted as "hidden by the low-risk filter"."""
    from engine.alerts.filtering import RiskGate
    from widgets.alert_list.view import filter_summary

    gate = RiskGate(None, None, "no risk classes")
    assert filter_summary(gate, 4, 2, 3).endswith(" — 4 shown, 2 hidden, 3 held back by a snooze")
    assert filter_summary(gate, 4, 2, 0).endswith(" — 4 shown, 2 hidden")
