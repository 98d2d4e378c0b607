"""The alert list pane over a real store: a real query service (QtQueryClient), a real store
writer, and the console's role (:class:`AlertListActions`) played by a small class that runs
the engine's own ``AlertListRequest``, ``LabelSequence`` and ``AcknowledgeAlert`` and reads
real JPEG snapshots off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.alerts.filtering import AlertListRequest, RiskGate, SequenceView
from engine.alerts.records import AcknowledgeAlert
from engine.alerts.sequences import CreateSequence, LabelSequence, SequenceStored
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.cv import import_cv2
from engine.history.query_service import QueryService
from engine.sitetime import SiteTime, display
from engine.store import Store
from engine.store.alert_models import Alert, AlertSequence
from engine.store.writer import StoreWriter
from tests.actors import OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site
from widgets.alert_list.api import AlertListPage, AlertListView
from widgets.alert_list.view import (
    ALARM_RED,
    LABEL_NOT_ALLOWED_TEXT,
    LOADING_TEXT,
    NO_CLIP_TEXT,
    NOT_LISTED_TEXT,
    THUMBNAIL_SIZE,
    WARNING_AMBER,
    AlertListPane,
    Column,
    SequenceColumn,
)
from widgets.alerts.api import ClipPending

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ACTED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE_CAMERAS = "".join(
    f'[[cameras]]\nid = "{key}"\nurl = "{key}.mp4"\n' for key in ("gate", "yard", "hall")
)
# The day's classes as the provider would give them: gate low (≥ 0.45), yard very low
# (≥ 0.60), hall moderate (nothing hidden).
LOW_DAY = {"gate": "low", "yard": "very_low", "hall": "moderate"}
SINGLES = [  # one sequence each, ten minutes apart from DAY
    ("gate", 0.30),
    ("gate", 0.45),
    ("yard", 0.59),
    ("yard", 0.60),
    ("gate", 0.9),
    ("yard", None),
    ("gate", 0.2),
]
MIXED = "mixed"  # one alert of two gate sequences, 0.30 then 0.70, two hours after DAY
PASSING = ["mixed", "yard None", "gate 0.9", "yard 0.6", "gate 0.45"]  # newest first
HIDDEN = ["gate 0.3", "yard 0.59", "gate 0.2"]
TIMEOUT_MS = 10_000


@dataclass
class World:
    store: Store
    writer: StoreWriter
    client: QtQueryClient
    site: str
    tmp: Path
    alerts: dict[str, int] = field(default_factory=dict)  # "gate 0.9" -> alert id
    sequences: dict[str, int] = field(default_factory=dict)  # "gate 0.9" -> sequence id
    snapshots: int = 0

    def snapshot(self) -> str:
        """A real small JPEG on disk (each one different), as the recorder leaves them."""
        cv2 = import_cv2()
        self.snapshots += 1
        image = np.zeros((120, 160, 3), np.uint8)
        image[20:100, 30:130] = ((self.snapshots * 40) % 256, 120, 255 - self.snapshots)
        path = self.tmp / "snapshots" / f"snap-{self.snapshots}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), image)
        return str(path)

    def sequence(
        self,
        key: str,
        camera: str,
        conf: float | None,
        at: datetime,
        *,
        group_window_s: float = 0,
        snapshot: str | None = None,
    ) -> CreateSequence:
        return CreateSequence(
            seq_key=key,
            source=f"camera:{camera}",
            camera=camera,
            site=self.site,
            trigger="person",
            rule_id=None,
            track_id=None,
            started_at=at,
            last_seen_at=at + timedelta(seconds=5),
            detections=3,
            max_conf=conf,
            snapshot=snapshot,
            severity="warning",
            title=f"Person on camera {camera}",
            group_window_s=group_window_s,
        )

    def store_sequence(self, name: str, command: CreateSequence) -> SequenceStored:
        stored: SequenceStored = self.writer.execute(command, timeout_s=30)
        self.alerts[name] = stored.alert.alert_id
        self.sequences[name] = stored.sequence_id
        return stored


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    site = load_site(write_site(tmp_path / "site.toml", SITE_CAMERAS))
    store = Store(db_url)
    sync_site(store, site, REAL_CLOCK)
    writer = StoreWriter(store)
    writer.start()
    client = QtQueryClient(QueryService(store))
    try:
        yield World(store, writer, client, site.name, tmp_path)
    finally:
        client.close()
        writer.stop()
        store.close()


def seed_low_day(world: World) -> None:
    """Seven one-sequence alerts and a mixed one on DAY, each sequence with a snapshot."""
    for i, (camera, conf) in enumerate(SINGLES):
        command = world.sequence(
            f"k{i}", camera, conf, DAY + timedelta(minutes=10 * i), snapshot=world.snapshot()
        )
        world.store_sequence(f"{camera} {conf}", command)
    at = DAY + timedelta(hours=2)
    world.store_sequence(
        "mixed 0.3", world.sequence("m1", "gate", 0.30, at, snapshot=world.snapshot())
    )
    second = world.sequence(
        "m2",
        "gate",
        0.70,
        at + timedelta(seconds=30),
        group_window_s=300,
        snapshot=world.snapshot(),
    )
    world.store_sequence("mixed 0.7", second)
    assert world.alerts["mixed 0.3"] == world.alerts["mixed 0.7"]  # one alert, two sequences
    world.alerts[MIXED] = world.alerts["mixed 0.7"]


@dataclass(frozen=True)
class PageCall:
    view: AlertListView
    before: tuple[datetime, int] | None
    limit: int
    with_counts: bool
    thread: threading.Thread


class ConsoleActions:
    """The console's side of the pane (AlertListActions), for real: pages through the
    engine's request with a fixed set of classes, writes through the store writer as the
    operator, snapshots read from disk. ``hold`` blocks the page calls of a view until its
    event is set; ``failure`` makes page calls raise."""

    def __init__(
        self,
        world: World,
        classes: dict[str, str] | None = LOW_DAY,
        note: str = "test classes",
    ) -> None:
        self.world = world
        self.classes = classes
        self.note = note
        self.calls: list[PageCall] = []
        self.finished = 0
        self.hold: dict[AlertListView, threading.Event] = {}
        self.failure: Exception | None = None
        self.clips: dict[str, Path | ClipPending] = {}
        self.clip_failure: Exception | None = None

    def page(
        self,
        view: AlertListView,
        before: tuple[datetime, int] | None,
        limit: int,
        with_counts: bool,
    ) -> AlertListPage:
        self.calls.append(PageCall(view, before, limit, with_counts, threading.current_thread()))
        try:
            held = self.hold.get(view)
            if held is not None:
                assert held.wait(TIMEOUT_MS / 1000)
            if self.failure is not None:
                raise self.failure
            gate = RiskGate(self.classes, override=view.override, note=self.note)
            page = AlertListRequest(
                gate=gate,
                day=view.day,
                open_only=view.open_only,
                limit=limit,
                before=before,
                with_counts=with_counts,
                site_time=display(),  # as the console's: the open site's zone
            ).run(self.world.store)
            thumbnails = {
                s.snapshot: Path(s.snapshot).read_bytes()
                for row in page.rows
                for s in row.sequences
                if s.snapshot
            }
            return AlertListPage(page, thumbnails)
        finally:
            self.finished += 1

    def acknowledge(self, alert_id: int) -> object:
        command = AcknowledgeAlert(alert_id=alert_id, at=ACTED_AT, actor=OPERATOR)
        return self.world.writer.execute(command, timeout_s=30)

    def label(self, sequence_id: int, label: str | None) -> int:
        command = LabelSequence(sequence_id=sequence_id, label=label, at=ACTED_AT, actor=OPERATOR)
        alert_id: int = self.world.writer.execute(command, timeout_s=30)
        return alert_id

    def clip_for(self, sequence: SequenceView) -> Path | ClipPending | None:
        if self.clip_failure is not None:
            raise self.clip_failure
        return self.clips.get(sequence.camera or "")

    def pages(self) -> list[PageCall]:
        """The list's page calls (not the one-row reloads after an action)."""
        return [call for call in self.calls if call.limit != 1]


def make_pane(
    qtbot: QtBot,
    world: World,
    actions: ConsoleActions,
    view: AlertListView | None = None,
    page_size: int = 50,
) -> AlertListPane:
    pane = AlertListPane(world.client, actions, page_size=page_size)
    qtbot.addWidget(pane)
    pane.resize(1100, 800)
    with qtbot.waitExposed(pane):
        pane.show()
    settle(qtbot, pane)
    if view is not None:
        show_view(qtbot, pane, view)
    return pane


def settle(qtbot: QtBot, pane: AlertListPane) -> None:
    """Wait until the page and then its counts (asked for after it) have arrived."""
    qtbot.waitUntil(lambda: not pane.is_loading() and not pane.counts_pending(), timeout=TIMEOUT_MS)


def show_view(qtbot: QtBot, pane: AlertListPane, view: AlertListView) -> None:
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS):
        pane.set_view(view)
    settle(qtbot, pane)


def ids(pane: AlertListPane) -> list[int]:
    return [row.alert_id for row in pane.rows()]


def names(world: World, keys: list[str]) -> list[int]:
    return [world.alerts[key] for key in keys]


def texts(pane: AlertListPane, alert_id: int) -> dict[Column, str]:
    row = ids(pane).index(alert_id)
    return {column: pane.model.index(row, column).data() for column in Column}


def shown_sequences(pane: AlertListPane) -> list[SequenceView]:
    return pane.sequence_model.sequences()


LOW_DAY_VIEW = AlertListView(day=DAY.date())


def test_a_low_day_lists_only_passing_alerts_and_says_how_many_were_hidden(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)

    assert ids(pane) == names(world, PASSING)  # newest first, the hidden three left out
    settle(qtbot, pane)
    assert pane.filter_text() == (
        "Quiet day: on low-risk cameras, alerts less sure than 0.45 are hidden "
        "(0.60 on very-low-risk ones) — 5 shown, 3 hidden"
    )
    assert WARNING_AMBER not in pane.filter_label.styleSheet()
    assert pane.status_text() == "5 alerts listed"
    assert pane.day_mode_combo.currentIndex() == 1 and pane.day_edit.isEnabled()
    assert pane.day_edit.date().toString("yyyy-MM-dd") == "2026-11-20"
    row = texts(pane, world.alerts["gate 0.9"])
    assert row == {
        Column.TIME: "2026-11-20 08:40:00",
        Column.CAMERAS: "gate",
        Column.MAX_CONF: "0.90",
        Column.RISK_CLASS: "Low",
        Column.SNAPSHOT: "",
        Column.TITLE: "Person on camera gate",
        Column.STATE: "New",
        Column.LABEL: "",
    }
    assert texts(pane, world.alerts["yard None"])[Column.MAX_CONF] == "–"
    assert texts(pane, world.alerts["yard 0.6"])[Column.RISK_CLASS] == "Very low"
    # Every page was read off the GUI thread; a page comes without counts, which follow on
    # their own (a one-row page with counts), so the page never waits for the count.
    gui = threading.current_thread()
    assert all(call.thread is not gui for call in actions.calls)
    asked = [(c.before, c.limit, c.with_counts) for c in actions.calls if c.view == LOW_DAY_VIEW]
    assert asked == [(None, 50, False), (None, 1, True)]

    # Another day: nothing listed, and the pane says so.
    empty = AlertListView(day=DAY.date() + timedelta(days=1))
    show_view(qtbot, pane, empty)
    assert pane.rows() == [] and pane.status_text() == "No alerts in this view"
    settle(qtbot, pane)
    assert "0 shown, 0 hidden" in pane.filter_text()
    # "Latest" through the control: every day again.
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS):
        pane.day_mode_combo.setCurrentIndex(0)
    assert pane.view() == AlertListView() and not pane.day_edit.isEnabled()
    assert ids(pane) == names(world, PASSING)


def test_a_snapshot_is_a_thumbnail_in_the_list_and_in_the_sequences(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    pane = make_pane(qtbot, world, ConsoleActions(world), LOW_DAY_VIEW)
    for row in range(pane.model.rowCount()):
        pixmap = pane.model.index(row, Column.SNAPSHOT).data(Qt.ItemDataRole.DecorationRole)
        assert isinstance(pixmap, QPixmap) and not pixmap.isNull()
        assert pixmap.size() == THUMBNAIL_SIZE  # 160×120 scaled to 64×48
    assert pane.select_alert(world.alerts["gate 0.9"])
    seq_pixmap = pane.sequence_model.index(0, SequenceColumn.SNAPSHOT).data(
        Qt.ItemDataRole.DecorationRole
    )
    assert isinstance(seq_pixmap, QPixmap) and not seq_pixmap.isNull()
    assert pane.table.verticalHeader().sectionSize(0) >= THUMBNAIL_SIZE.height()


def test_the_moderate_override_shows_everything_and_hides_nothing(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    pane = make_pane(qtbot, world, ConsoleActions(world), LOW_DAY_VIEW)
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS) as loaded:
        pane.override_combo.setCurrentIndex(pane.override_combo.findText("Moderate"))
    assert loaded.args == [8]
    assert pane.view() == AlertListView(day=DAY.date(), override="moderate")
    assert sorted(ids(pane)) == sorted(set(world.alerts.values()))
    settle(qtbot, pane)
    assert pane.filter_text() == (
        "Showing every alert (you set every camera to moderate risk) — 8 shown, 0 hidden"
    )
    assert texts(pane, world.alerts["gate 0.2"])[Column.RISK_CLASS] == "Moderate"
    # Back to the provider's classes.
    show_view(qtbot, pane, LOW_DAY_VIEW)
    assert pane.override_combo.currentText() == "Each camera's risk today"
    assert ids(pane) == names(world, PASSING)


def test_a_mixed_alert_shows_only_its_passing_sequence(qtbot: QtBot, world: World) -> None:
    seed_low_day(world)
    pane = make_pane(qtbot, world, ConsoleActions(world), LOW_DAY_VIEW)
    assert pane.select_alert(world.alerts[MIXED])
    (only,) = shown_sequences(pane)
    assert (only.sequence_id, only.max_conf) == (world.sequences["mixed 0.7"], 0.70)
    assert pane.details_label.text() == f"Alert {world.alerts[MIXED]}: 1 sequence shown"
    assert texts(pane, world.alerts[MIXED])[Column.MAX_CONF] == "0.70"
    seq_texts = [pane.sequence_model.index(0, c).data() for c in SequenceColumn]
    assert seq_texts == ["gate", "2026-11-20 10:00:30–10:00:35", "3", "0.70", "Low", "", ""]
    # With the override both show (and the alert stays selected across the reload).
    show_view(qtbot, pane, AlertListView(day=DAY.date(), override="moderate"))
    assert pane.selected_alert() is not None
    assert pane.selected_alert().alert_id == world.alerts[MIXED]  # type: ignore[union-attr]
    assert [s.max_conf for s in shown_sequences(pane)] == [0.30, 0.70]


def test_scrolling_and_load_more_append_pages_without_duplicates_or_gaps(
    qtbot: QtBot, world: World
) -> None:
    snapshot = world.snapshot()
    commands = [
        world.sequence(
            f"p{i}",
            "gate" if i % 7 == 3 else "hall",
            0.2 if i % 7 == 3 else 0.5,  # every seventh hidden by the gate's low class
            DAY + timedelta(minutes=i),
            snapshot=snapshot,
        )
        for i in range(150)
    ]
    futures = [world.writer.submit(command) for command in commands]
    stored = [future.result(60) for future in futures]
    passing = [s.alert.alert_id for i, s in enumerate(stored) if i % 7 != 3][::-1]
    assert len(passing) == 129 and len(set(passing)) == 129
    actions = ConsoleActions(world)
    pane = make_pane(qtbot, world, actions, page_size=50)

    assert ids(pane) == passing[:50]
    settle(qtbot, pane)
    assert "129 shown, 21 hidden" in pane.filter_text()
    assert pane.has_more() and pane.load_more_button.isEnabled()
    resets: list[None] = []
    inserted: list[tuple[int, int]] = []
    pane.model.modelReset.connect(lambda: resets.append(None))
    pane.model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))

    bar = pane.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS) as loaded:
        pane.table.scrollToBottom()  # the user scrolls to the bottom of the laid-out list
    assert loaded.args == [100]
    assert ids(pane) == passing[:100]
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS) as loaded:
        pane.load_more_button.click()
    assert loaded.args == [129]
    assert ids(pane) == passing  # in order, every passing alert once
    assert not pane.has_more() and not pane.load_more_button.isEnabled()
    assert not pane.load_more()
    # Keyset pages: each continues from the last row; the counts were asked for once, on
    # their own, after the first page.
    first, second, third = actions.pages()
    rows = pane.rows()
    assert (first.before, first.with_counts) == (None, False)
    assert [c.limit for c in actions.calls if c.with_counts] == [1]
    assert (second.before, second.with_counts) == (rows[49].cursor, False)
    assert (third.before, third.with_counts) == (rows[99].cursor, False)
    assert resets == [] and inserted == [(50, 99), (100, 128)]  # appended, never reset
    pixmap = pane.model.index(120, Column.SNAPSHOT).data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(pixmap, QPixmap) and not pixmap.isNull()
    assert pane.status_text() == "129 alerts listed"


def test_labelling_a_sequence_stores_it_and_the_row_shows_it(qtbot: QtBot, world: World) -> None:
    seed_low_day(world)
    pane = make_pane(qtbot, world, ConsoleActions(world), LOW_DAY_VIEW)
    sequence_id = world.sequences["gate 0.9"]
    alert_id = world.alerts["gate 0.9"]
    assert pane.select_sequence(sequence_id)
    assert pane.selected_alert() is not None
    assert pane.selected_alert().alert_id == alert_id  # type: ignore[union-attr]
    assert not pane.clear_label_button.isEnabled()  # nothing to clear yet

    pane.false_alarm_button.click()
    assert pane.strip.status() == f"Labelling sequence {sequence_id} as a false alarm…"
    qtbot.waitUntil(
        lambda: texts(pane, alert_id)[Column.LABEL] == "False alarm", timeout=TIMEOUT_MS
    )
    with world.store.sessions() as session:
        stored = session.get(AlertSequence, sequence_id)
        assert stored is not None
        assert (stored.label, stored.labelled_by) == ("false_alarm", OPERATOR.label)
    assert pane.strip.status() == f"Sequence {sequence_id} labelled false alarm."
    assert pane.strip.error() == "" and not pane.strip.is_busy()
    assert pane.selected_sequence() is not None
    assert pane.selected_sequence().label == "false_alarm"  # type: ignore[union-attr]
    label_cell = pane.sequence_model.index(0, SequenceColumn.LABEL)
    assert label_cell.data() == "False alarm"
    assert label_cell.data(Qt.ItemDataRole.ToolTipRole) == "labelled by olga"
    assert pane.clear_label_button.isEnabled()

    pane.clear_label_button.click()
    qtbot.waitUntil(lambda: texts(pane, alert_id)[Column.LABEL] == "", timeout=TIMEOUT_MS)
    with world.store.sessions() as session:
        stored = session.get(AlertSequence, sequence_id)
        assert stored is not None and stored.label is None


def test_acknowledging_updates_the_state_and_an_open_only_view_drops_it(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    pane = make_pane(qtbot, world, ConsoleActions(world), LOW_DAY_VIEW)
    alert_id = world.alerts["gate 0.9"]
    assert pane.select_alert(alert_id)
    assert pane.acknowledge_button.isEnabled()
    assert pane.acknowledge_selected()
    assert not pane.acknowledge_button.isEnabled()  # busy while the writer stores it
    qtbot.waitUntil(
        lambda: texts(pane, alert_id)[Column.STATE] == "Closed by olga", timeout=TIMEOUT_MS
    )
    with world.store.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.acknowledged_by == OPERATOR.label
    assert not pane.acknowledge_button.isEnabled()  # acknowledged: nothing more to do
    assert pane.selected_alert() is not None and not pane.selected_alert().open  # type: ignore[union-attr]

    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS) as loaded:
        pane.open_only_box.setChecked(True)
    assert loaded.args == [4]
    assert alert_id not in ids(pane)
    settle(qtbot, pane)
    assert "4 shown, 3 hidden" in pane.filter_text()


def test_overlapping_actions_all_land_and_the_strip_is_busy_until_the_last_answers(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    held = threading.Event()
    acknowledge = actions.acknowledge

    def acknowledge_when_released(alert_id: int) -> object:
        assert held.wait(TIMEOUT_MS / 1000)
        return acknowledge(alert_id)

    actions.acknowledge = acknowledge_when_released  # type: ignore[method-assign]
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)
    first, second = world.alerts["gate 0.9"], world.alerts["yard 0.6"]
    labelled = world.alerts["gate 0.45"]
    # An acknowledgement, a label and another acknowledgement, one after another without
    # waiting for the first (the query service has two workers: the label runs beside the
    # first acknowledgement, the second acknowledgement on the worker it leaves).
    assert pane.select_alert(first)
    assert pane.acknowledge_selected()
    assert pane.strip.status() == f"Acknowledging alert {first}…" and pane.strip.is_busy()
    assert pane.select_sequence(world.sequences["gate 0.45"])
    assert pane.label_selected("true_alarm")
    qtbot.waitUntil(lambda: texts(pane, labelled)[Column.LABEL] == "True alarm", timeout=TIMEOUT_MS)
    sequence_id = world.sequences["gate 0.45"]
    assert pane.strip.status() == f"Sequence {sequence_id} labelled true alarm."
    assert pane.is_busy() and pane.strip.is_busy()  # the first acknowledgement still runs
    assert pane.select_alert(second)
    assert pane.acknowledge_selected()
    assert pane.strip.status() == f"Acknowledging alert {second}…"
    assert pane.is_busy() and pane.strip.is_busy()  # both acknowledgements still run
    held.set()
    qtbot.waitUntil(
        lambda: all(
            texts(pane, alert_id)[Column.STATE] == "Closed by olga" for alert_id in (first, second)
        ),
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: not pane.is_busy(), timeout=TIMEOUT_MS)
    assert not pane.strip.is_busy() and pane.strip.error() == ""
    assert pane.strip.status().startswith("Alert ")
    assert pane.strip.status().endswith(" acknowledged.")
    with world.store.sessions() as session:
        for alert_id in (first, second):
            stored = session.get(Alert, alert_id)
            assert stored is not None and stored.acknowledged_by == OPERATOR.label


def test_refusals_of_overlapping_actions_each_keep_their_red_line(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    held = threading.Event()

    def refuse(alert_id: int) -> object:
        assert held.wait(TIMEOUT_MS / 1000)
        raise PermissionError(f"alert {alert_id} is not yours to acknowledge")

    actions.acknowledge = refuse  # type: ignore[method-assign]
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)
    first, second = world.alerts["gate 0.9"], world.alerts["yard 0.6"]
    for alert_id in (first, second):
        assert pane.select_alert(alert_id)
        assert pane.acknowledge_selected()
    failed: list[str] = []
    pane.sig_action_failed.connect(failed.append)
    held.set()
    qtbot.waitUntil(lambda: len(failed) == 2, timeout=TIMEOUT_MS)
    assert sorted(pane.strip.error().splitlines()) == sorted(
        f"Could not acknowledge alert {alert_id}: alert {alert_id} is not yours to acknowledge"
        for alert_id in (first, second)
    )
    assert ALARM_RED in pane.strip.error_label.styleSheet()
    assert not pane.strip.is_busy() and pane.strip.status() == ""
    assert texts(pane, first)[Column.STATE] == "New"

    # New work, with nothing running, starts with a clear red line.
    assert pane.select_sequence(world.sequences["gate 0.9"])
    pane.play_clip_button.click()
    assert pane.strip.error() == ""
    qtbot.waitUntil(lambda: pane.strip.status() == NO_CLIP_TEXT, timeout=TIMEOUT_MS)


def test_no_risk_classes_means_nothing_is_hidden_and_the_pane_says_so(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world, classes=None, note="risk-class provider did not answer")
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)
    assert len(pane.rows()) == 8
    settle(qtbot, pane)
    assert pane.filter_text() == (
        "Showing every alert: today's risk levels are not known, so none is hidden"
        " — 8 shown, 0 hidden"
    )
    assert WARNING_AMBER in pane.filter_label.styleSheet()
    # The operator previews a low day: the gate then hides, and the warning goes.
    show_view(qtbot, pane, AlertListView(day=DAY.date(), override="low"))
    settle(qtbot, pane)
    assert "6 shown, 2 hidden" in pane.filter_text()
    assert "You set every camera to low risk" in pane.filter_text()
    assert WARNING_AMBER not in pane.filter_label.styleSheet()


def test_a_failing_page_shows_its_error_in_the_pane(qtbot: QtBot, world: World) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    actions.failure = RuntimeError("database is locked")
    pane = make_pane(qtbot, world, actions)
    assert pane.rows() == []
    assert pane.strip.error() == "could not load alerts: database is locked"
    assert ALARM_RED in pane.strip.error_label.styleSheet()
    assert pane.status_text() == NOT_LISTED_TEXT  # not "no alerts": they could not be read

    actions.failure = None
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS):
        pane.refresh_button.click()
    assert ids(pane) == names(world, PASSING)
    assert pane.status_text() == "5 alerts listed"
    assert pane.strip.error() == ""
    assert ALARM_RED not in pane.status_label.styleSheet()


def test_a_stale_answer_is_dropped_and_loading_is_shown_meanwhile(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)
    slow = AlertListView(day=DAY.date(), override="moderate")
    quick = AlertListView(day=DAY.date(), override="very_low")
    release = actions.hold[slow] = threading.Event()
    pane.set_view(slow)
    qtbot.waitUntil(lambda: actions.calls[-1].view == slow, timeout=TIMEOUT_MS)
    assert pane.status_text() == LOADING_TEXT and pane.is_loading()
    assert ids(pane) == names(world, PASSING)  # the rows stay until the answer arrives

    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS):
        pane.set_view(quick)
    very_low = ["mixed", "yard None", "gate 0.9", "yard 0.6"]
    assert ids(pane) == names(world, very_low)
    release.set()
    qtbot.waitUntil(
        lambda: world.client.dropped + world.client.service.superseded >= 1, timeout=TIMEOUT_MS
    )
    assert pane.view() == quick and ids(pane) == names(world, very_low)
    settle(qtbot, pane)
    assert "4 shown, 4 hidden" in pane.filter_text()
    assert pane.override_combo.currentData() == "very_low"


def test_alert_events_reload_the_newest_page_once_keeping_rows_and_selection(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)
    kept = world.alerts["gate 0.9"]
    assert pane.select_sequence(world.sequences["gate 0.9"])
    calls_before = len(actions.pages())
    release = actions.hold[LOW_DAY_VIEW] = threading.Event()

    later = DAY + timedelta(hours=3)
    world.store_sequence("new", world.sequence("n1", "gate", 0.8, later))
    for _ in range(5):  # a burst of alert events
        pane.on_alerts_changed()
    qtbot.waitUntil(lambda: len(actions.pages()) == calls_before + 1, timeout=TIMEOUT_MS)
    assert ids(pane) == names(world, PASSING)  # still shown while the reload runs
    assert pane.status_text().endswith("refreshing…")
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=TIMEOUT_MS) as loaded:
        release.set()
    assert loaded.args == [6]
    assert ids(pane) == [world.alerts["new"], *names(world, PASSING)]
    assert len(actions.pages()) == calls_before + 1  # five events, one reload
    reload = actions.pages()[-1]
    assert (reload.before, reload.with_counts) == (None, False)  # the counts follow it
    settle(qtbot, pane)
    assert "6 shown, 3 hidden" in pane.filter_text()
    assert pane.selected_alert() is not None
    assert pane.selected_alert().alert_id == kept  # type: ignore[union-attr]
    assert pane.selected_sequence() is not None
    assert pane.selected_sequence().sequence_id == world.sequences["gate 0.9"]  # type: ignore[union-attr]


def test_a_clip_is_one_double_click_away_and_a_missing_one_is_said(
    qtbot: QtBot, world: World
) -> None:
    seed_low_day(world)
    actions = ConsoleActions(world)
    clip = world.tmp / "clips" / "gate-0800.mp4"
    actions.clips = {"gate": clip}
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)

    assert pane.select_sequence(world.sequences["gate 0.9"])
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=TIMEOUT_MS) as requested:
        pane.play_clip_button.click()
    assert requested.args == [str(clip)]

    assert pane.select_alert(world.alerts["mixed"])
    cell = pane.sequence_table.visualRect(pane.sequence_model.index(0, SequenceColumn.CAMERA))
    viewport = pane.sequence_table.viewport()
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=TIMEOUT_MS) as requested:
        # As a hand does it: a press, then the double-click.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=cell.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=cell.center())
    assert requested.args == [str(clip)]

    assert pane.select_sequence(world.sequences["yard 0.6"])
    pane.play_clip_button.click()
    qtbot.waitUntil(lambda: pane.strip.status() == NO_CLIP_TEXT, timeout=TIMEOUT_MS)
    assert pane.strip.error() == "" and not pane.strip.is_busy()

    actions.clip_failure = OSError("media disk offline")
    with qtbot.waitSignal(pane.sig_action_failed, timeout=TIMEOUT_MS) as failed:
        pane.play_clip_button.click()
    assert "media disk offline" in failed.args[0]
    assert pane.strip.error() == failed.args[0]
    assert ALARM_RED in pane.strip.error_label.styleSheet()
    assert pane.strip.status() == "" and not pane.strip.is_busy()


def test_without_permission_the_buttons_are_off_and_say_why(qtbot: QtBot, world: World) -> None:
    seed_low_day(world)
    pane = make_pane(qtbot, world, ConsoleActions(world), LOW_DAY_VIEW)
    assert pane.select_sequence(world.sequences["gate 0.45"])
    assert pane.true_alarm_button.isEnabled() and pane.acknowledge_button.isEnabled()

    pane.set_label_allowed(False)
    pane.set_acknowledge_allowed(False, "Only operators acknowledge alerts.")
    for button in (pane.true_alarm_button, pane.false_alarm_button, pane.clear_label_button):
        assert not button.isEnabled() and button.toolTip() == LABEL_NOT_ALLOWED_TEXT
    assert not pane.acknowledge_button.isEnabled()
    assert pane.acknowledge_button.toolTip() == "Only operators acknowledge alerts."
    assert not pane.label_selected("true_alarm") and not pane.acknowledge_selected()

    pane.set_label_allowed(True)
    pane.set_acknowledge_allowed(True)
    assert pane.true_alarm_button.isEnabled() and pane.acknowledge_button.isEnabled()


def test_times_and_the_chosen_day_are_the_site_s_not_utc(
    qtbot: QtBot, world: World, shown_zone: Callable[[str], SiteTime]
) -> None:
    shown_zone("America/Los_Angeles")  # UTC-8 in November
    # 02:30 UTC on the 20th is 18:30 on the 19th in Los Angeles; 09:00 UTC is 01:00 on the 20th.
    evening = world.sequence("e", "hall", 0.9, datetime(2026, 11, 20, 2, 30, tzinfo=UTC))
    night = world.sequence("n", "hall", 0.9, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    world.store_sequence("evening", evening)
    world.store_sequence("night", night)
    pane = make_pane(qtbot, world, ConsoleActions(world))
    assert texts(pane, world.alerts["evening"])[Column.TIME] == "2026-11-19 18:30:00"
    assert pane.model.headerData(Column.TIME, Qt.Orientation.Horizontal) == "Time"

    show_view(qtbot, pane, AlertListView(day=datetime(2026, 11, 19).date()))
    assert ids(pane) == [world.alerts["evening"]]  # UTC's 19th would list neither
    assert pane.select_alert(world.alerts["evening"])
    row = pane.sequence_model.index(0, SequenceColumn.TIME).data()
    assert row == "2026-11-19 18:30:00–18:30:05"


def test_a_clip_still_being_recorded_is_said_with_its_seconds_not_as_missing(
    qtbot: QtBot, world: World
) -> None:
    """Issue 68: the clip of a sequence raised a moment ago is not written yet; the pane says
    it is being recorded and how long until it is ready, never that none was recorded."""
    seed_low_day(world)
    actions = ConsoleActions(world)
    actions.clips = {"gate": ClipPending(8.0)}
    pane = make_pane(qtbot, world, actions, LOW_DAY_VIEW)
    assert pane.select_sequence(world.sequences["gate 0.9"])
    pane.play_clip_button.click()
    qtbot.waitUntil(
        lambda: pane.strip.status() == "Recording… about 8 s until the clip is ready",
        timeout=TIMEOUT_MS,
    )
    assert pane.strip.error() == "" and not pane.strip.is_busy()
    actions.clips = {"gate": ClipPending(-1.0)}  # due: written any moment now
    pane.play_clip_button.click()
    qtbot.waitUntil(
        lambda: pane.strip.status() == "Recording… the clip should be ready any moment",
        timeout=TIMEOUT_MS,
    )
