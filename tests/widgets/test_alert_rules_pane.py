"""Alert rules pane: adding rules drawn and scheduled in the form, refusals, rooms, removal,
permissions and the zone editor, against the real engine: a real store with a synced site
(cameras gate and yard), the real AddRule/RemoveRule through a running store writer, run by
the console's real query client (so every call runs on a query worker and answers on the
GUI thread, as in the console)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTime
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.access import Actor
from engine.alerts.rules import (
    AddRule,
    RemoveRule,
    RuleSpec,
    SetRuleHandling,
    UpdateRule,
    list_rules,
    parse_days,
)
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.store import Store
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from engine.vocabulary import ALERT_SEVERITIES, RULE_TRIGGERS
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site
from tests.widgets.camera_picture_helpers import vtest_picture
from widgets import colours
from widgets.alert_rules.view import (
    COLUMN_SCHEDULE,
    COLUMN_SEVERITY,
    COLUMN_TRIGGER,
    COLUMN_WHERE,
    COLUMN_ZONE,
    DRAWING_HINT,
    NO_PICTURE_TEXT,
    NOT_ALLOWED_TEXT,
    TRIGGER_TEXTS,
    AlertRulesPane,
    ZoneEditor,
)

CAMERAS = (("gate", "Front gate"), ("yard", "Yard"))
ROOMS = (("lab", "Lab"), ("server-room", "Server room"))
PLACEHOLDER_GREY = QColor(colours.RAISED)  # the picture area before a frame
TOLERANCE = 0.01  # of the picture's width or height


class EngineRuleActions:
    """The console's alert rule actions: the real commands through the real writer, as
    ``actor``; every call and the thread it ran on are recorded."""

    def __init__(self, store: Store, writer: StoreWriter, actor: Actor) -> None:
        self.store = store
        self.writer = writer
        self.actor = actor
        self.calls: list[tuple[object, ...]] = []
        self.threads: set[str] = set()

    def _call(self, *call: object) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)

    def list_rules(self) -> list[RuleSpec]:
        self._call("list")
        return list_rules(self.store)

    def add_rule(self, rule: RuleSpec) -> RuleSpec:
        self._call("add", rule)
        stored: RuleSpec = self.writer.execute(
            AddRule(rule=rule, at=REAL_CLOCK.now(), actor=self.actor), timeout_s=30
        )
        return stored

    def remove_rule(self, name: str) -> None:
        self._call("remove", name)
        self.writer.execute(RemoveRule(name=name, at=REAL_CLOCK.now(), actor=self.actor), 30)

    def update_rule(self, name: str, rule: RuleSpec) -> RuleSpec:
        self._call("update", name, rule)
        stored: RuleSpec = self.writer.execute(
            UpdateRule(name=name, rule=rule, at=REAL_CLOCK.now(), actor=self.actor), timeout_s=30
        )
        return stored

    def set_handling(self, name: str, instructions: str, comment_required: bool) -> RuleSpec:
        self._call("handling", name, instructions, comment_required)
        changed: RuleSpec = self.writer.execute(
            SetRuleHandling(
                name=name,
                instructions=instructions,
                comment_required=comment_required,
                at=REAL_CLOCK.now(),
                actor=self.actor,
            ),
            timeout_s=30,
        )
        return changed

    def changes(self) -> list[tuple[object, ...]]:
        return [call for call in self.calls if call[0] != "list"]


class Frames:
    """``frame_of``: the yard camera has a picture, the gate none yet; asks are recorded."""

    def __init__(self) -> None:
        self.pictures: dict[str, QImage] = {"yard": vtest_picture()}
        self.asked: list[str] = []

    def __call__(self, camera: str) -> QImage | None:
        self.asked.append(camera)
        return self.pictures.get(camera)


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )
    opened = Store(db_url)
    sync_site(opened, load_site(site), REAL_CLOCK)
    yield opened
    opened.close()


@pytest.fixture
def frames() -> Frames:
    return Frames()


@pytest.fixture
def answers() -> list[bool]:
    """What the removal confirmation answers, in turn."""
    return []


@pytest.fixture
def questions() -> list[str]:
    """The removal confirmations asked."""
    return []


@pytest.fixture
def make_pane(
    qtbot: QtBot,
    client: QtQueryClient,
    store: Store,
    writer: StoreWriter,
    frames: Frames,
    answers: list[bool],
    questions: list[str],
) -> Callable[[Actor], tuple[AlertRulesPane, EngineRuleActions]]:
    def confirm(question: str) -> bool:
        questions.append(question)
        return answers.pop(0)

    def make(actor: Actor) -> tuple[AlertRulesPane, EngineRuleActions]:
        actions = EngineRuleActions(store, writer, actor)
        pane = AlertRulesPane(
            client, actions, cameras=CAMERAS, rooms=ROOMS, frame_of=frames, confirm=confirm
        )
        qtbot.addWidget(pane)
        pane.resize(1300, 950)
        with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
            pane.show()  # the first showing loads the list
            assert pane.count_label.text() == "Loading…"
        return pane, actions

    return make


@pytest.fixture
def admin_pane(
    make_pane: Callable[[Actor], tuple[AlertRulesPane, EngineRuleActions]],
) -> tuple[AlertRulesPane, EngineRuleActions]:
    return make_pane(ADMIN)


def choose(combo_owner: AlertRulesPane, which: str, value: str) -> None:
    combo = getattr(combo_owner, which)
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered in {which}"
    combo.setCurrentIndex(index)


def offered(pane: AlertRulesPane, which: str) -> list[str]:
    combo = getattr(pane, which)
    return [combo.itemData(i) for i in range(combo.count())]


def click(qtbot: QtBot, editor: ZoneEditor, x: float, y: float, right: bool = False) -> None:
    button = Qt.MouseButton.RightButton if right else Qt.MouseButton.LeftButton
    qtbot.mouseClick(editor.canvas, button, pos=editor.canvas.position_of(x, y))


def assert_near(got: object, want: list[tuple[float, float]]) -> None:
    """``got`` is a zone of as many points as ``want``, each within TOLERANCE of it."""
    assert isinstance(got, tuple) and len(got) == len(want), (got, want)
    for (gx, gy), (wx, wy) in zip(got, want, strict=True):
        assert abs(gx - wx) <= TOLERANCE and abs(gy - wy) <= TOLERANCE, (got, want)


def test_every_trigger_has_a_wording_and_severities_are_the_engines(
    admin_pane: tuple[AlertRulesPane, EngineRuleActions],
) -> None:
    pane, _ = admin_pane
    assert set(TRIGGER_TEXTS) == set(RULE_TRIGGERS)
    assert [pane.severity_combo.itemText(i) for i in range(3)] == list(ALERT_SEVERITIES)
    assert pane.severity_combo.currentText() == "warning"
    assert [c.text() for c in pane.day_checks] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert pane.count_label.text() == "0 alert rules" and pane.rules() == []


def test_a_loitering_rule_with_a_drawn_zone_armed_at_night_on_weekdays_is_stored_and_listed(
    qtbot: QtBot,
    admin_pane: tuple[AlertRulesPane, EngineRuleActions],
    store: Store,
    frames: Frames,
) -> None:
    pane, actions = admin_pane
    assert pane.camera_radio.isChecked()
    assert offered(pane, "place_combo") == ["gate", "yard"]
    assert pane.place_combo.currentText() == "Front gate"
    choose(pane, "place_combo", "yard")
    editor = pane.zone_editor
    assert editor.isEnabled() and editor.camera() == "yard" and frames.asked[-1] == "yard"
    assert editor.canvas.has_frame()
    picture = editor.canvas.picture_rect()
    assert picture.width() / picture.height() == pytest.approx(768 / 576, rel=0.01)

    pane.name_edit.setText("Yard at night")
    choose(pane, "trigger_combo", "loitering")
    assert pane.loiter_spin.isEnabled() and not pane.gesture_edit.isEnabled()
    pane.loiter_spin.setValue(45)

    corners = [(0.2, 0.3), (0.7, 0.25), (0.8, 0.8), (0.25, 0.75)]
    announced: list[object] = []
    editor.sig_zone_changed.connect(announced.append)
    for x, y in corners:
        click(qtbot, editor, x, y)
    # Announced once there were three points (a zone), then four; two points were no zone.
    assert len(announced) == 2
    assert_near(announced[0], corners[:3])
    assert_near(announced[1], corners)
    # A click beside the picture (the 4:3 frame leaves bars in the wider canvas) adds nothing.
    canvas = editor.canvas
    outside = (
        QPoint(int(picture.left()) - 3, canvas.height() // 2)
        if picture.left() >= 4
        else QPoint(canvas.width() // 2, int(picture.top()) - 3)
    )
    assert canvas.rect().contains(outside) and canvas.fraction_at(QPointF(outside)) is None
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=outside)
    assert len(canvas.points()) == 4
    # A double-click closes the zone: no fifth corner, and further clicks add none.
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.position_of(0.25, 0.75))
    assert canvas.is_closed() and len(canvas.points()) == 4
    click(qtbot, editor, 0.5, 0.5)
    assert len(canvas.points()) == 4
    assert editor.status_label.text() == "Zone of 4 points (closed)."

    for check in pane.day_checks[5:]:  # Sat, Sun off: Mon-Fri
        check.setChecked(False)
    assert pane.all_day_check.isChecked() and not pane.from_time.isEnabled()
    pane.all_day_check.setChecked(False)
    assert pane.from_time.isEnabled() and pane.until_time.isEnabled()
    pane.from_time.setTime(QTime(22, 0))
    pane.until_time.setTime(QTime(6, 0))
    pane.severity_combo.setCurrentText("critical")

    with (
        qtbot.waitSignal(pane.sig_rule_added, timeout=10000) as added,
        qtbot.waitSignal(pane.sig_rules_listed, timeout=10000) as listed,
    ):
        pane.add_button.click()
    assert added.args == ["Yard at night"] and listed.args == [1]
    assert pane.error_text() == ""

    (stored,) = list_rules(store)
    assert stored.name == "Yard at night"
    assert (stored.camera, stored.room) == ("yard", None)
    assert (stored.trigger, stored.loiter_s, stored.gesture) == ("loitering", 45.0, None)
    assert_near(stored.zone, corners)
    assert stored.days == parse_days("mon-fri") == 0b0011111
    assert (stored.armed_from_min, stored.armed_until_min) == (22 * 60, 6 * 60)
    assert stored.severity == "critical" and stored.enabled
    assert stored.created_by == ADMIN.label == "account:ada"
    ((_, sent),) = actions.changes()
    assert isinstance(sent, RuleSpec) and sent.rule_id == 0
    assert actions.threads and all(t.startswith("query-worker") for t in actions.threads)

    assert pane.rules() == [stored]
    assert pane.cell_text("Yard at night", COLUMN_WHERE) == "Yard"
    assert pane.cell_text("Yard at night", COLUMN_TRIGGER) == "loitering > 45 s"
    assert pane.cell_text("Yard at night", COLUMN_ZONE) == "4 points"
    assert pane.cell_text("Yard at night", COLUMN_SCHEDULE) == ("mon,tue,wed,thu,fri, 22:00-06:00")
    assert pane.cell_text("Yard at night", COLUMN_SEVERITY) == "critical"
    assert pane.count_label.text() == "1 alert rule"
    selected = pane.selected_rule()
    assert selected is not None and selected.name == "Yard at night"  # the new rule is shown
    # The form shows it as stored, its zone closed on its camera's picture; New rule blanks
    # the form for the next rule, on the same camera.
    assert pane.name_edit.text() == "Yard at night" and pane.loiter_spin.value() == 45
    assert_near(editor.zone(), corners)
    assert canvas.is_closed() and canvas.has_frame()
    pane.new_button.click()
    assert pane.selected_rule() is None
    assert pane.name_edit.text() == "" and pane.loiter_spin.value() == 0
    assert editor.zone() is None and canvas.points() == []
    assert all(c.isChecked() for c in pane.day_checks) and pane.all_day_check.isChecked()
    assert pane.severity_combo.currentText() == "warning"
    assert pane.place_combo.currentData() == "yard"
    assert pane.status_label.text() == "Added rule Yard at night."


def test_an_invalid_form_is_refused_beside_it_naming_the_field_and_nothing_is_stored(
    qtbot: QtBot, admin_pane: tuple[AlertRulesPane, EngineRuleActions], store: Store
) -> None:
    pane, actions = admin_pane
    pane.name_edit.setText("Gate loiter")
    choose(pane, "trigger_combo", "loitering")
    assert pane.loiter_spin.value() == 0 and pane.loiter_spin.text() == "not set"
    with qtbot.assertNotEmitted(pane.sig_action_finished, wait=200):
        pane.add_button.click()
    assert pane.error_text() == "loiter_s: loitering needs a time of 1-86400 s"
    assert not pane.form_error_label.isHidden()
    assert "#f85149" in pane.form_error_label.styleSheet()

    pane.loiter_spin.setValue(30)
    pane.name_edit.setText("   ")
    pane.add_button.click()
    assert pane.error_text() == "name: give a name of 1-100 characters"

    pane.name_edit.setText("Gate loiter")
    for check in pane.day_checks:
        check.setChecked(False)
    pane.add_button.click()
    assert pane.error_text() == "days: arm it on at least one day"
    pane.day_checks[0].setChecked(True)

    pane.all_day_check.setChecked(False)
    pane.from_time.setTime(QTime(8, 0))
    pane.until_time.setTime(QTime(8, 0))
    pane.add_button.click()
    assert pane.error_text().startswith("armed: ")

    pane.all_day_check.setChecked(True)
    editor = pane.zone_editor
    for x in (0.1, 0.4, 0.7):  # three points on one line
        click(qtbot, editor, x, 0.5)
    assert editor.zone_error() == "zone: the points enclose no area"
    assert editor.status_label.text() == "zone: the points enclose no area"
    pane.add_button.click()
    assert pane.error_text() == "zone: the points enclose no area"

    qtbot.wait(100)  # nothing was sent to a worker
    assert actions.changes() == [] and list_rules(store) == []
    assert pane.name_edit.text() == "Gate loiter"  # to correct, not to type again


def test_sensing_blob_is_offered_only_for_rooms_and_a_room_rule_has_no_zone(
    qtbot: QtBot, admin_pane: tuple[AlertRulesPane, EngineRuleActions], store: Store
) -> None:
    pane, _ = admin_pane
    assert offered(pane, "trigger_combo") == ["person", "loitering", "gesture"]
    click(qtbot, pane.zone_editor, 0.1, 0.1)
    assert pane.zone_editor.canvas.points() != []

    pane.room_radio.setChecked(True)
    assert offered(pane, "place_combo") == ["lab", "server-room"]
    combo = pane.place_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Lab", "Server room"]
    assert offered(pane, "trigger_combo") == ["sensing_blob"]
    assert not pane.loiter_spin.isEnabled() and not pane.gesture_edit.isEnabled()
    assert not pane.zone_editor.isEnabled() and pane.zone_editor.canvas.points() == []
    click(qtbot, pane.zone_editor, 0.5, 0.5)  # a disabled editor takes no points
    assert pane.zone_editor.canvas.points() == []

    pane.name_edit.setText("Lab closed")
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.add_button.click()
    (stored,) = list_rules(store)
    assert (stored.camera, stored.room, stored.trigger) == (None, "lab", "sensing_blob")
    assert stored.zone is None and stored.days == 0b1111111
    assert (stored.armed_from_min, stored.armed_until_min) == (0, 1440)
    assert pane.cell_text("Lab closed", COLUMN_WHERE) == "room Lab"
    assert pane.cell_text("Lab closed", COLUMN_TRIGGER) == "anyone sensed"
    assert pane.cell_text("Lab closed", COLUMN_ZONE) == "whole room"
    assert pane.cell_text("Lab closed", COLUMN_SCHEDULE) == "every day, all day"

    # Back on a camera: a gesture rule, its name field enabled only for gestures.
    pane.camera_radio.setChecked(True)
    assert offered(pane, "trigger_combo") == ["person", "loitering", "gesture"]
    assert pane.zone_editor.isEnabled() and pane.zone_editor.camera() == "gate"
    choose(pane, "trigger_combo", "gesture")
    assert pane.gesture_edit.isEnabled() and not pane.loiter_spin.isEnabled()
    pane.name_edit.setText("Gate wave")
    pane.gesture_edit.setText("wave")
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.add_button.click()
    gesture = next(r for r in list_rules(store) if r.name == "Gate wave")
    assert (gesture.camera, gesture.trigger, gesture.gesture, gesture.zone) == (
        "gate",
        "gesture",
        "wave",
        None,
    )
    assert pane.cell_text("Gate wave", COLUMN_WHERE) == "Front gate"
    assert pane.cell_text("Gate wave", COLUMN_TRIGGER) == "gesture: wave"
    assert pane.cell_text("Gate wave", COLUMN_ZONE) == "whole view"


def test_remove_asks_first_then_removes_the_selected_rule(
    qtbot: QtBot,
    admin_pane: tuple[AlertRulesPane, EngineRuleActions],
    store: Store,
    answers: list[bool],
    questions: list[str],
) -> None:
    pane, actions = admin_pane
    actions.add_rule(RuleSpec(0, "Gate person", "gate", None, "person"))
    actions.add_rule(RuleSpec(0, "Lab closed", None, "lab", "sensing_blob"))
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000) as listed:
        pane.refresh()
    assert listed.args == [2] and [r.name for r in pane.rules()] == ["Gate person", "Lab closed"]
    assert not pane.remove_button.isEnabled()  # nothing selected

    pane.select_rule("Gate person")
    assert pane.remove_button.isEnabled()
    answers.append(False)
    with qtbot.assertNotEmitted(pane.sig_action_finished, wait=200):
        pane.remove_button.click()  # cancelled
    assert len(questions) == 1 and "Gate person" in questions[0]
    assert len(list_rules(store)) == 2

    answers.append(True)
    with (
        qtbot.waitSignal(pane.sig_rule_removed, timeout=10000) as removed,
        qtbot.waitSignal(pane.sig_rules_listed, timeout=10000) as listed,
    ):
        pane.remove_button.click()
    assert removed.args == ["Gate person"] and listed.args == [1]
    assert [r.name for r in list_rules(store)] == ["Lab closed"]
    assert [r.name for r in pane.rules()] == ["Lab closed"]
    assert actions.changes()[-1] == ("remove", "Gate person")
    assert pane.status_label.text() == "Removed rule Gate person."
    assert pane.selected_rule() is None and not pane.remove_button.isEnabled()


def test_an_operators_add_shows_the_engines_permission_refusal(
    qtbot: QtBot,
    make_pane: Callable[[Actor], tuple[AlertRulesPane, EngineRuleActions]],
    store: Store,
) -> None:
    pane, actions = make_pane(OPERATOR)
    pane.name_edit.setText("Gate person")
    with (
        qtbot.assertNotEmitted(pane.sig_rule_added),
        qtbot.waitSignal(pane.sig_action_finished, timeout=10000) as done,
    ):
        pane.add_button.click()
    assert done.args == ["add", False]
    assert pane.error_text() == (
        "Could not add rule Gate person: olga (operator) may not add alert rules: it needs "
        "the configure_rules permission"
    )
    assert list_rules(store) == [] and actions.changes()[0][0] == "add"
    assert pane.name_edit.text() == "Gate person" and pane.add_button.isEnabled()


def test_without_the_permission_the_rules_show_but_adding_and_removing_are_disabled(
    qtbot: QtBot, admin_pane: tuple[AlertRulesPane, EngineRuleActions]
) -> None:
    pane, actions = admin_pane
    actions.add_rule(RuleSpec(0, "Gate person", "gate", None, "person"))
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.refresh()
    pane.set_changes_allowed(False)
    pane.select_rule("Gate person")
    assert not pane.add_button.isEnabled() and not pane.remove_button.isEnabled()
    assert pane.add_button.toolTip() == NOT_ALLOWED_TEXT == pane.remove_button.toolTip()
    assert not pane.name_edit.isEnabled() and not pane.zone_editor.canvas.isEnabled()
    assert not pane.permission_label.isHidden() and pane.permission_label.text() == NOT_ALLOWED_TEXT
    pane.name_edit.setText("Sneaky")
    with qtbot.assertNotEmitted(pane.sig_action_finished, wait=200):
        pane.name_edit.returnPressed.emit()  # Enter in the form sends nothing either
    assert [r.name for r in pane.rules()] == ["Gate person"]  # still listed

    pane.set_changes_allowed(True)
    assert pane.add_button.isEnabled() and pane.remove_button.isEnabled()
    assert pane.permission_label.isHidden()


def test_a_listing_failure_is_shown_in_the_pane(
    qtbot: QtBot,
    admin_pane: tuple[AlertRulesPane, EngineRuleActions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pane, actions = admin_pane

    def broken() -> list[RuleSpec]:
        raise OSError("database is locked")

    monkeypatch.setattr(actions, "list_rules", broken)
    pane.refresh()
    qtbot.waitUntil(lambda: pane.error_text() != "", timeout=10000)
    assert pane.error_text() == "Could not list the alert rules: database is locked"
    assert pane.count_label.text() == "Not loaded"


def test_the_zone_editor_takes_points_back_and_needs_three_for_a_zone(
    qtbot: QtBot, frames: Frames
) -> None:
    editor = ZoneEditor(frames)
    qtbot.addWidget(editor)
    editor.resize(640, 480)
    with qtbot.waitExposed(editor):
        editor.show()
    assert not editor.isEnabled()  # no camera chosen
    editor.set_camera("gate")  # no picture from the gate yet: a grey 16:9 stand-in
    canvas = editor.canvas
    assert editor.isEnabled() and not canvas.has_frame() and frames.asked == ["gate"]
    picture = canvas.picture_rect()
    assert picture.width() / picture.height() == pytest.approx(16 / 9, rel=0.01)

    corners = [(0.1, 0.2), (0.6, 0.1), (0.5, 0.9)]
    click(qtbot, editor, *corners[0])
    click(qtbot, editor, *corners[1])
    assert editor.zone() is None  # two points: still the whole view
    assert editor.status_label.text() == (
        f"2 points: the whole view until there are 3. {DRAWING_HINT}"
    )
    with qtbot.waitSignal(editor.sig_zone_changed, timeout=1000) as changed:
        click(qtbot, editor, *corners[2])
    assert_near(changed.args[0], corners)
    assert_near(editor.zone(), corners)

    # The zone is drawn: a translucent fill over the grey inside, plain grey outside.
    inside = canvas.position_of(0.4, 0.4)
    outside = canvas.position_of(0.9, 0.9)
    image = canvas.grab().toImage()
    assert image.pixelColor(outside) == PLACEHOLDER_GREY
    tinted = image.pixelColor(inside)
    grey = PLACEHOLDER_GREY
    assert tinted.red() > grey.red() + 20  # orange: redder, and more so than bluer
    assert tinted.red() - tinted.blue() > grey.red() - grey.blue() + 20

    with qtbot.waitSignal(editor.sig_zone_changed, timeout=1000) as changed:
        click(qtbot, editor, 0.5, 0.5, right=True)  # takes the last point back
    assert changed.args == [None] and editor.zone() is None
    assert_near(tuple(canvas.points()), corners[:2])
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)
    assert_near(tuple(canvas.points()), corners[:1])

    editor.set_zone(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)))
    assert editor.zone() == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)) and canvas.is_closed()
    with qtbot.waitSignal(editor.sig_zone_changed, timeout=1000) as changed:
        editor.clear_button.click()
    assert changed.args == [None] and canvas.points() == []

    frames.pictures["gate"] = vtest_picture()  # the camera sends its first picture
    editor.refresh_button.click()
    assert canvas.has_frame() and frames.asked == ["gate", "gate"]
    picture = canvas.picture_rect()
    assert picture.width() / picture.height() == pytest.approx(4 / 3, rel=0.01)
    assert NO_PICTURE_TEXT == "No picture from this camera yet"

    click(qtbot, editor, 0.3, 0.3)
    assert len(canvas.points()) == 1
    editor.set_camera("yard")  # another camera's view: the zone starts afresh
    assert frames.asked[-1] == "yard" and canvas.points() == []


def test_a_name_in_use_is_refused_by_the_engine_in_its_own_words(
    qtbot: QtBot, admin_pane: tuple[AlertRulesPane, EngineRuleActions], store: Store
) -> None:
    pane, actions = admin_pane
    actions.add_rule(RuleSpec(0, "Gate person", "gate", None, "person", severity="info"))
    pane.name_edit.setText("Gate person")
    pane.severity_combo.setCurrentText("critical")
    with qtbot.waitSignal(pane.sig_action_finished, timeout=10000) as done:
        pane.add_button.click()
    assert done.args == ["add", False]
    assert pane.error_text() == (
        "Could not add rule Gate person: name: a rule named 'Gate person' exists already"
    )
    (kept,) = list_rules(store)
    assert kept.severity == "info"  # the first rule is untouched


@pytest.mark.sql
def test_an_admin_writes_a_rules_instructions_and_asks_for_a_closing_comment(
    qtbot: QtBot,
    make_pane: Callable[[Actor], tuple[AlertRulesPane, EngineRuleActions]],
    store: Store,
) -> None:
    """Operating instructions and "a comment is required to close" are set on a new rule in
    the form, and changed on a stored one in the selected rule's box; the engine keeps both."""
    pane, actions = make_pane(ADMIN)
    pane.name_edit.setText("gate at night")
    pane.instructions_edit.setPlainText("Call the site manager on 555-0100")
    pane.comment_required_check.setChecked(True)
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.add_button.click()
    (stored,) = list_rules(store)
    assert (stored.instructions, stored.comment_required) == (
        "Call the site manager on 555-0100",
        True,
    )
    assert "Instructions: Call the site manager on 555-0100" in str(
        pane.view.model().index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    )
    pane.select_rule("gate at night")
    assert pane.handling_edit.toPlainText() == "Call the site manager on 555-0100"
    assert pane.handling_check.isChecked() and pane.handling_button.isEnabled()
    pane.handling_edit.setPlainText("Check gate 2 first")
    pane.handling_check.setChecked(False)
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.handling_button.click()
    (changed,) = list_rules(store)
    assert (changed.instructions, changed.comment_required) == ("Check gate 2 first", False)
    assert actions.changes()[-1] == ("handling", "gate at night", "Check gate 2 first", False)
    assert pane.strip.status() == "Saved how alerts of gate at night are handled."


def test_selecting_a_rule_fills_the_form_with_its_zone_on_its_camera_and_save_changes_it(
    qtbot: QtBot,
    admin_pane: tuple[AlertRulesPane, EngineRuleActions],
    store: Store,
    frames: Frames,
) -> None:
    """Issue 68: rules could not be edited and a selected rule's zone was not shown."""
    pane, actions = admin_pane
    zone = ((0.2, 0.2), (0.8, 0.2), (0.8, 0.9), (0.2, 0.9))
    added = actions.add_rule(
        RuleSpec(
            0,
            "Yard loitering",
            "yard",
            None,
            "loitering",
            loiter_s=120.0,
            zone=zone,
            days=parse_days("mon-fri"),
            armed_from_min=22 * 60,
            armed_until_min=6 * 60,
            severity="critical",
            instructions="Radio the guard",
            comment_required=True,
        )
    )
    actions.add_rule(RuleSpec(0, "Lab closed", None, "lab", "sensing_blob"))
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.refresh()
    assert not pane.save_button.isEnabled()  # nothing selected: only Add

    pane.select_rule("Yard loitering")
    editor, canvas = pane.zone_editor, pane.zone_editor.canvas
    assert pane.name_edit.text() == "Yard loitering"
    assert pane.camera_radio.isChecked() and pane.place_combo.currentData() == "yard"
    assert pane.trigger_combo.currentData() == "loitering" and pane.loiter_spin.value() == 120
    assert [c.isChecked() for c in pane.day_checks] == [True] * 5 + [False] * 2
    assert not pane.all_day_check.isChecked()
    assert (pane.from_time.time(), pane.until_time.time()) == (QTime(22, 0), QTime(6, 0))
    assert pane.severity_combo.currentText() == "critical"
    assert pane.instructions_edit.toPlainText() == "Radio the guard"
    assert pane.comment_required_check.isChecked() and pane.enabled_check.isChecked()
    # The zone is drawn, closed, on the yard camera's own picture.
    assert editor.camera() == "yard" and canvas.has_frame() and frames.asked[-1] == "yard"
    assert editor.zone() == zone and canvas.is_closed()
    assert "Yard loitering" in pane.editor_box.title()
    assert pane.save_button.isEnabled()

    # Change it: another camera (its zone goes with the old view), a new zone, 5 minutes,
    # all day, switched off.
    choose(pane, "place_combo", "gate")
    assert editor.zone() is None
    corners = [(0.1, 0.1), (0.6, 0.1), (0.6, 0.6)]
    for x, y in corners:
        click(qtbot, editor, x, y)
    click(qtbot, editor, *corners[0])  # the first corner again closes it
    assert canvas.is_closed() and len(canvas.points()) == 3
    pane.loiter_spin.setValue(300)
    pane.all_day_check.setChecked(True)
    pane.enabled_check.setChecked(False)
    pane.name_edit.setText("Gate loitering")
    with (
        qtbot.waitSignal(pane.sig_action_finished, timeout=10000) as finished,
        qtbot.waitSignal(pane.sig_rules_listed, timeout=10000),
    ):
        pane.save_button.click()
    assert finished.args == ["update", True] and pane.error_text() == ""
    assert actions.changes()[-1][:2] == ("update", "Yard loitering")
    (stored,) = [r for r in list_rules(store) if r.rule_id == added.rule_id]
    assert (stored.name, stored.camera, stored.loiter_s, stored.enabled) == (
        "Gate loitering",
        "gate",
        300.0,
        False,
    )
    assert_near(stored.zone, corners)
    assert (stored.armed_from_min, stored.armed_until_min) == (0, 24 * 60)
    assert stored.instructions == "Radio the guard" and stored.comment_required
    assert pane.status_label.text() == "Saved rule Gate loitering."
    selected = pane.selected_rule()
    assert selected is not None and selected.name == "Gate loitering"
    assert pane.cell_text("Gate loitering", COLUMN_SCHEDULE) == "off (mon,tue,wed,thu,fri, all day)"
    assert not pane.enabled_check.isChecked()

    # A room rule fills the form with the room and no zone.
    pane.select_rule("Lab closed")
    assert pane.room_radio.isChecked() and pane.place_combo.currentData() == "lab"
    assert pane.trigger_combo.currentData() == "sensing_blob"
    assert not editor.isEnabled() and editor.zone() is None


def test_a_zone_closes_by_its_first_corner_a_double_click_enter_or_close_zone(
    qtbot: QtBot, frames: Frames
) -> None:
    """Issue 68: zones closed only by a double-click here, unlike privacy masks."""
    editor = ZoneEditor(frames)
    qtbot.addWidget(editor)
    editor.resize(640, 420)
    editor.show()
    editor.set_camera("yard")
    canvas = editor.canvas
    assert DRAWING_HINT in canvas.toolTip() and DRAWING_HINT in editor.status_label.text()
    corners = [(0.2, 0.2), (0.7, 0.2), (0.7, 0.7)]

    def draw() -> None:
        editor.clear()
        for x, y in corners:
            click(qtbot, editor, x, y)
        assert not canvas.is_closed() and editor.close_button.isEnabled()

    draw()  # the first corner again
    click(qtbot, editor, *corners[0])
    assert canvas.is_closed() and len(canvas.points()) == 3
    assert not editor.close_button.isEnabled()
    draw()  # Enter
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert canvas.is_closed() and len(canvas.points()) == 3
    draw()  # the button
    editor.close_button.click()
    assert canvas.is_closed() and len(canvas.points()) == 3
    draw()  # a double-click on a fourth corner: its first press places it, then it closes
    click(qtbot, editor, 0.2, 0.7)
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.position_of(0.2, 0.7))
    assert canvas.is_closed() and len(canvas.points()) == 4
    # Right-click and Backspace take the last corner back (and reopen the zone).
    click(qtbot, editor, 0.5, 0.5, right=True)
    assert len(canvas.points()) == 3 and not canvas.is_closed()
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)
    assert len(canvas.points()) == 2
    # With fewer than three corners nothing closes.
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not canvas.is_closed() and not editor.close_button.isEnabled()


def test_a_new_sites_default_rules_are_listed_and_an_admin_switches_one_off(
    qtbot: QtBot,
    make_pane: Callable[[Actor], tuple[AlertRulesPane, EngineRuleActions]],
    store: Store,
    writer: StoreWriter,
    client: QtQueryClient,
    frames: Frames,
    tmp_path: Path,
) -> None:
    """Issue 68: a new site had no alert rules; the camera-offline alert of the site file
    was shown nowhere among them."""
    writer.execute(
        SyncSite(site=load_site(tmp_path / "site.toml"), at=REAL_CLOCK.now(), default_rules=True)
    )
    pane, _actions = make_pane(ADMIN)
    names = [r.name for r in pane.rules()]
    assert names == ["After hours: gate", "After hours: yard", "Loitering: gate", "Loitering: yard"]
    assert pane.cell_text("After hours: gate", COLUMN_SCHEDULE) == "every day, 22:00-06:00"
    assert pane.cell_text("Loitering: yard", COLUMN_TRIGGER) == "loitering > 120 s"
    assert not pane.site_rules_label.isVisibleTo(pane)  # the site file's alerts not given

    pane.select_rule("After hours: gate")
    assert pane.enabled_check.isChecked() and pane.from_time.time() == QTime(22, 0)
    pane.enabled_check.setChecked(False)
    with qtbot.waitSignal(pane.sig_rules_listed, timeout=10000):
        pane.save_button.click()
    (off,) = [r for r in list_rules(store) if r.name == "After hours: gate"]
    assert not off.enabled and off.armed_from_min == 22 * 60
    assert pane.cell_text("After hours: gate", COLUMN_SCHEDULE) == "off (every day, 22:00-06:00)"

    # The camera-offline alert the site file sets is listed with the rules.
    offline = AlertRulesPane(
        client, _actions, cameras=CAMERAS, rooms=ROOMS, frame_of=frames, camera_offline_s=60
    )
    qtbot.addWidget(offline)
    assert offline.site_rules_label.isVisibleTo(offline)
    assert offline.site_rules_label.text().startswith("Camera offline for 60 s (site file)")
    never = AlertRulesPane(
        client, _actions, cameras=CAMERAS, rooms=ROOMS, frame_of=frames, camera_offline_s=0
    )
    qtbot.addWidget(never)
    assert never.site_rules_label.text().startswith("Camera offline: raises no alert")
