"""People pane: listing, filter, thumbnails, rename, merge and erase against a fake backend.

The pane runs the backend's callables through the console's real query client, so they run
on query worker threads and their answers come back on the GUI thread, as in the console."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.cv import import_cv2
from engine.history.query_service import QueryService
from engine.identity.people import PersonView
from engine.sitetime import SiteTime
from widgets.people.view import (
    COLUMN_APPEARANCES,
    COLUMN_FACES,
    COLUMN_FIRST_SEEN,
    COLUMN_ID,
    COLUMN_LAST_SEEN,
    COLUMN_NAME,
    COLUMN_THUMBNAIL,
    PeoplePane,
)

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
SNAPSHOT = "snapshots/alice.jpg"

ALICE = PersonView("Person_A1A1A1A1", "Alice", 12, T0, T0.replace(hour=9), SNAPSHOT, False, 5)
BOB = PersonView("Person_B2B2B2B2", None, 3, T0.replace(day=1), T0.replace(day=2), None, False, 3)
CAROL = PersonView("Person_C3C3C3C3", "Carol", 0, None, None, "snapshots/gone.jpg", False, 1)


class FakePeople:
    """The console's four callables over a list of people, recording every call."""

    def __init__(self, people: list[PersonView]) -> None:
        self.people = list(people)
        self.calls: list[tuple[str | None, ...]] = []
        self.threads: set[str] = set()  # where the callables ran
        self.failing: set[str] = set()  # operation names that raise
        self.gate: threading.Event | None = None  # changes wait for it when set

    def _call(self, *call: str | None) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)
        if self.gate is not None and call[0] != "list":
            assert self.gate.wait(10), "the test never let the change finish"
        if call[0] in self.failing:
            raise RuntimeError("database is locked")

    def list_people(self) -> list[PersonView]:
        self._call("list")
        return list(self.people)

    def rename(self, public_id: str, name: str | None) -> None:
        self._call("rename", public_id, name)
        self.people = [
            replace(p, name=name) if p.public_id == public_id else p for p in self.people
        ]

    def merge(self, keep: str, absorb: str) -> None:
        self._call("merge", keep, absorb)
        absorbed = next(p for p in self.people if p.public_id == absorb)
        self.people = [
            replace(p, appearances=p.appearances + absorbed.appearances)
            if p.public_id == keep
            else p
            for p in self.people
            if p.public_id != absorb
        ]

    def erase(self, public_id: str) -> str:
        self._call("erase", public_id)
        self.people = [p for p in self.people if p.public_id != public_id]
        return f"Erased {public_id}: 5 faces, 7 face events, 2 clips (1 locked clip kept)"

    def operations(self) -> list[tuple[str | None, ...]]:
        """Calls other than listing."""
        return [call for call in self.calls if call[0] != "list"]


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> None:
    """The console shows a site at UTC+05:30 all year, far from this machine's zone."""
    shown_zone("Asia/Kolkata")


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """A data dir holding Alice's snapshot: a pure red 80×60 JPEG."""
    cv2 = import_cv2()
    image = np.zeros((80, 60, 3), np.uint8)
    image[:] = (0, 0, 255)  # BGR red
    (tmp_path / "snapshots").mkdir()
    assert cv2.imwrite(str(tmp_path / SNAPSHOT), image)
    return tmp_path


@pytest.fixture
def backend() -> FakePeople:
    return FakePeople([ALICE, BOB, CAROL])


@pytest.fixture
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Warning boxes the pane would have shown (recorded instead of blocking the test)."""
    shown: list[str] = []
    monkeypatch.setattr(PeoplePane, "_show_warning", lambda _self, _title, text: shown.append(text))
    return shown


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    # The pane's requests are the backend's callables: they never read the store.
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def pane(
    qtbot: QtBot,
    client: QtQueryClient,
    backend: FakePeople,
    media_root: Path,
    warnings_shown: list[str],
) -> PeoplePane:
    pane = PeoplePane(
        client, backend.list_people, backend.rename, backend.merge, backend.erase, media_root
    )
    qtbot.addWidget(pane)
    pane.resize(900, 300)
    pane.show()
    with qtbot.waitSignal(pane.sig_thumbnails_loaded, timeout=5000):
        refreshed(qtbot, pane)
    return pane


def refreshed(qtbot: QtBot, pane: PeoplePane, **kwargs: bool) -> None:
    """List the people again and wait until the answer is shown."""
    with qtbot.waitSignal(pane.sig_people_listed, timeout=5000):
        pane.refresh(**kwargs)


def acted(qtbot: QtBot, pane: PeoplePane, trigger: Callable[[], object]) -> None:
    """Start a change and wait until it has finished and the list was read again."""
    with qtbot.waitSignals([pane.sig_action_finished, pane.sig_people_listed], timeout=5000):
        trigger()


def cell(
    pane: PeoplePane, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole
) -> object:
    model = pane.view.model()
    return model.data(model.index(row, column), role)


def shown_ids(pane: PeoplePane) -> list[str]:
    return [str(cell(pane, row, COLUMN_ID)) for row in range(pane.row_count())]


def select(pane: PeoplePane, *public_ids: str) -> None:
    """Select exactly these people, as ctrl-clicks would."""
    model, selection = pane.view.model(), pane.view.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for public_id in public_ids:
        selection.select(model.index(shown_ids(pane).index(public_id), 0), flags)


def thumbnail(pane: PeoplePane, public_id: str) -> QPixmap:
    pixmap = cell(
        pane, shown_ids(pane).index(public_id), COLUMN_THUMBNAIL, Qt.ItemDataRole.DecorationRole
    )
    assert isinstance(pixmap, QPixmap)
    return pixmap


def test_rows_show_each_person_in_the_engine_order(pane: PeoplePane) -> None:
    assert pane.row_count() == 3
    rows = [
        [cell(pane, row, column) for column in range(COLUMN_NAME, COLUMN_FACES + 1)]
        for row in range(3)
    ]
    assert rows == [
        ["Alice", "Person_A1A1A1A1", "12", "2026-02-03 09:35", "2026-02-03 14:35", "5"],
        ["—", "Person_B2B2B2B2", "3", "2026-02-01 09:35", "2026-02-02 09:35", "3"],
        ["Carol", "Person_C3C3C3C3", "0", "—", "—", "1"],
    ]
    assert pane.count_label.text() == "3 people"


def test_snapshot_is_a_48_px_thumbnail_and_stays_cached(
    qtbot: QtBot, pane: PeoplePane, media_root: Path
) -> None:
    picture = thumbnail(pane, ALICE.public_id)
    assert picture.cacheKey() != pane.placeholder_thumbnail().cacheKey()
    assert round(picture.deviceIndependentSize().height()) == 48
    image = picture.toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    assert (centre.red(), centre.green(), centre.blue()) > (240, 0, 0)
    assert max(centre.green(), centre.blue()) < 20
    (media_root / SNAPSHOT).unlink()
    refreshed(qtbot, pane)
    assert thumbnail(pane, ALICE.public_id).cacheKey() == picture.cacheKey()


def test_missing_or_absent_snapshot_shows_the_placeholder(pane: PeoplePane) -> None:
    placeholder = pane.placeholder_thumbnail().cacheKey()
    assert thumbnail(pane, CAROL.public_id).cacheKey() == placeholder  # file missing
    assert thumbnail(pane, BOB.public_id).cacheKey() == placeholder  # no snapshot at all
    carol_row = shown_ids(pane).index(CAROL.public_id)
    assert "missing" in str(cell(pane, carol_row, COLUMN_THUMBNAIL, Qt.ItemDataRole.ToolTipRole))
    assert not pane.placeholder_thumbnail().toImage().isNull()


def test_filter_matches_name_or_id_ignoring_case(qtbot: QtBot, pane: PeoplePane) -> None:
    qtbot.keyClicks(pane.filter_edit, "aLI")
    assert shown_ids(pane) == [ALICE.public_id]
    assert pane.count_label.text() == "1 of 3 people"
    pane.filter_edit.setText("person_b2")
    assert shown_ids(pane) == [BOB.public_id]
    pane.filter_edit.setText("nobody")
    assert pane.row_count() == 0
    pane.filter_edit.clear()
    assert pane.row_count() == 3


def test_sorting_by_appearances_is_numeric(pane: PeoplePane) -> None:
    pane.view.sortByColumn(COLUMN_APPEARANCES, Qt.SortOrder.AscendingOrder)
    assert shown_ids(pane) == [CAROL.public_id, BOB.public_id, ALICE.public_id]
    pane.view.sortByColumn(COLUMN_LAST_SEEN, Qt.SortOrder.DescendingOrder)
    assert shown_ids(pane)[:2] == [ALICE.public_id, BOB.public_id]
    pane.view.sortByColumn(COLUMN_FIRST_SEEN, Qt.SortOrder.AscendingOrder)
    assert shown_ids(pane)[0] == CAROL.public_id  # never seen: sorts first ascending


def test_actions_are_enabled_only_for_a_selection_they_fit(pane: PeoplePane) -> None:
    def enabled() -> tuple[bool, bool, bool]:
        return (
            pane.rename_action.isEnabled(),
            pane.merge_action.isEnabled(),
            pane.erase_action.isEnabled(),
        )

    assert enabled() == (False, False, False)
    select(pane, BOB.public_id)
    assert enabled() == (True, False, True)
    select(pane, ALICE.public_id, BOB.public_id)
    assert enabled() == (False, True, False)
    select(pane, ALICE.public_id, BOB.public_id, CAROL.public_id)
    assert enabled() == (False, False, False)


def test_refresh_keeps_the_selection_by_person_id(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople
) -> None:
    select(pane, BOB.public_id)
    backend.people = [BOB, CAROL, ALICE]  # Bob seen again: the engine's order changes
    with qtbot.waitSignal(pane.sig_people_listed, timeout=5000):
        pane.refresh_action.trigger()
    assert shown_ids(pane)[0] == BOB.public_id
    assert pane.selected_ids() == [BOB.public_id]


def test_rename_calls_rename_and_shows_the_new_name(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[PersonView] = []
    answers = iter(["  Bob Smith ", None, ""])

    def answer(person: PersonView) -> str | None:
        asked.append(person)
        return next(answers)

    monkeypatch.setattr(pane, "_ask_new_name", answer)
    select(pane, BOB.public_id)
    with qtbot.waitSignal(pane.sig_person_renamed) as renamed:
        acted(qtbot, pane, pane.rename_action.trigger)
    assert asked == [BOB]
    assert renamed.args == [BOB.public_id]
    assert backend.operations() == [("rename", BOB.public_id, "Bob Smith")]
    assert cell(pane, shown_ids(pane).index(BOB.public_id), COLUMN_NAME) == "Bob Smith"
    assert pane.selected_ids() == [BOB.public_id]

    pane.rename_action.trigger()  # dialog cancelled
    assert len(backend.operations()) == 1

    acted(qtbot, pane, pane.rename_action.trigger)  # empty text clears the name
    assert backend.operations()[-1] == ("rename", BOB.public_id, None)
    assert cell(pane, shown_ids(pane).index(BOB.public_id), COLUMN_NAME) == "—"


def test_merge_needs_exactly_two_and_passes_keep_then_absorb(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[tuple[str, str]] = []

    def keep_second(first: PersonView, second: PersonView) -> str:
        offered.append((first.public_id, second.public_id))
        return second.public_id

    monkeypatch.setattr(pane, "_ask_which_to_keep", keep_second)
    select(pane, ALICE.public_id)
    pane._on_merge_requested()  # one selected: not asked, nothing merged
    select(pane, ALICE.public_id, BOB.public_id, CAROL.public_id)
    pane._on_merge_requested()
    assert offered == [] and backend.operations() == []

    select(pane, ALICE.public_id, BOB.public_id)
    with qtbot.waitSignal(pane.sig_people_merged) as merged:
        acted(qtbot, pane, pane.merge_action.trigger)
    assert offered == [(ALICE.public_id, BOB.public_id)]
    assert backend.operations() == [("merge", BOB.public_id, ALICE.public_id)]
    assert merged.args == [BOB.public_id, ALICE.public_id]
    assert shown_ids(pane) == [BOB.public_id, CAROL.public_id]
    assert cell(pane, 0, COLUMN_APPEARANCES) == "15"
    assert pane.selected_ids() == [BOB.public_id]


def test_merge_cancelled_merges_nothing(
    pane: PeoplePane, backend: FakePeople, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pane, "_ask_which_to_keep", lambda _first, _second: None)
    select(pane, ALICE.public_id, CAROL.public_id)
    pane.merge_action.trigger()
    assert backend.operations() == []
    assert pane.row_count() == 3


def test_erase_asks_first_and_shows_the_summary(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople, monkeypatch: pytest.MonkeyPatch
) -> None:
    confirmations: list[PersonView] = []

    def decline(person: PersonView) -> bool:
        confirmations.append(person)
        return False

    monkeypatch.setattr(pane, "_confirm_erase", decline)
    select(pane, ALICE.public_id)
    pane.erase_action.trigger()
    assert confirmations == [ALICE]
    assert backend.operations() == []
    assert pane.row_count() == 3

    monkeypatch.setattr(pane, "_confirm_erase", lambda _person: True)
    with qtbot.waitSignal(pane.sig_person_erased) as erased:
        acted(qtbot, pane, pane.erase_action.trigger)
    assert erased.args == [ALICE.public_id]
    assert backend.operations() == [("erase", ALICE.public_id)]
    assert shown_ids(pane) == [BOB.public_id, CAROL.public_id]
    assert pane.status_label.isVisible()
    assert pane.status_label.text() == (
        "Erased Person_A1A1A1A1: 5 faces, 7 face events, 2 clips (1 locked clip kept)"
    )
    assert pane.selected_ids() == []


def test_a_failing_callable_is_shown_and_the_list_refreshed(
    qtbot: QtBot,
    pane: PeoplePane,
    backend: FakePeople,
    warnings_shown: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend.failing.add("erase")
    monkeypatch.setattr(pane, "_confirm_erase", lambda _person: True)
    select(pane, CAROL.public_id)
    listings = backend.calls.count(("list",))
    acted(qtbot, pane, pane.erase_action.trigger)
    message = "Could not erase Carol: database is locked"
    assert pane.error_label.isVisible()
    assert pane.error_label.text() == message
    assert pane.error_label.styleSheet() == "color: #f85149;"
    assert warnings_shown == [message]
    assert backend.calls.count(("list",)) == listings + 1
    assert not pane.status_label.isVisible()

    backend.failing = set()
    acted(qtbot, pane, pane.erase_action.trigger)  # the next action clears the old error
    assert not pane.error_label.isVisible()


def test_a_failing_listing_keeps_the_rows_until_it_works_again(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople, warnings_shown: list[str]
) -> None:
    backend.failing.add("list")
    pane.refresh()
    qtbot.waitUntil(pane.error_label.isVisible, timeout=5000)
    assert pane.error_label.text() == "Could not list people: database is locked"
    assert warnings_shown == ["Could not list people: database is locked"]
    assert pane.row_count() == 3
    backend.failing = set()
    refreshed(qtbot, pane)
    assert not pane.error_label.isVisible()


def test_a_background_refresh_shows_failures_in_the_pane_without_a_dialog(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople, warnings_shown: list[str]
) -> None:
    backend.failing.add("list")
    pane.refresh(warn=False)
    qtbot.waitUntil(pane.error_label.isVisible, timeout=5000)
    assert pane.error_label.text() == "Could not list people: database is locked"
    assert warnings_shown == []


def click_in_next_message_box(qtbot: QtBot, button_text: str) -> list[str]:
    """Click the button labelled ``button_text`` in the next modal box; returns its text."""
    seen: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(f"{box.text()}\n{box.informativeText()}")
        button = next(b for b in box.buttons() if b.text() == button_text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)
    return seen


def test_real_dialogs_name_both_people_and_default_to_safe_answers(
    qtbot: QtBot, pane: PeoplePane
) -> None:
    seen = click_in_next_message_box(qtbot, "Keep Alice")
    assert pane._ask_which_to_keep(BOB, ALICE) == ALICE.public_id
    assert "Person_B2B2B2B2" in seen[0] and "Alice (Person_A1A1A1A1)" in seen[0]

    seen = click_in_next_message_box(qtbot, "Cancel")
    assert pane._confirm_erase(ALICE) is False
    assert "face data" in seen[0] and "face events" in seen[0] and "locked" in seen[0]

    seen = click_in_next_message_box(qtbot, "Erase")
    assert pane._confirm_erase(ALICE) is True


def test_the_callables_run_off_the_gui_thread_while_the_pane_shows_progress(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pane, "_confirm_erase", lambda _person: True)
    backend.gate = threading.Event()
    select(pane, ALICE.public_id)
    pane.erase_action.trigger()  # returns at once: the erase waits on a worker thread
    assert pane.is_busy()
    assert pane.progress.isVisible() and pane.progress_label.text() == "Erasing Alice…"
    assert not pane.erase_action.isEnabled()  # one change at a time
    ticks: list[int] = []
    timer = QTimer(pane)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=2000)  # the GUI thread stays free
    timer.stop()
    assert backend.operations() == [("erase", ALICE.public_id)]
    with qtbot.waitSignals([pane.sig_action_finished, pane.sig_people_listed], timeout=5000):
        backend.gate.set()
    assert not pane.is_busy() and not pane.progress.isVisible()
    assert shown_ids(pane) == [BOB.public_id, CAROL.public_id]
    main = threading.current_thread().name
    assert main not in backend.threads
    assert all(name.startswith("query-") for name in backend.threads)


def test_a_slow_listing_is_superseded_by_a_newer_one(
    qtbot: QtBot, pane: PeoplePane, backend: FakePeople
) -> None:
    listed: list[int] = []
    pane.sig_people_listed.connect(listed.append)
    backend.people = [ALICE]
    pane.refresh()
    backend.people = [ALICE, BOB]
    refreshed(qtbot, pane)
    qtbot.wait(100)
    assert listed == [2] and pane.row_count() == 2  # the older answer was dropped


def test_snapshot_files_are_read_off_the_gui_thread(
    qtbot: QtBot,
    client: QtQueryClient,
    backend: FakePeople,
    media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: every new thumbnail was read from disk on the GUI thread while listing."""
    import threading

    import widgets.people.view as people_pane

    readers: list[str] = []
    real = people_pane.load_thumbnail_images

    def recording(*args: Any) -> Any:
        readers.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(people_pane, "load_thumbnail_images", recording)
    pane = PeoplePane(
        client, backend.list_people, backend.rename, backend.merge, backend.erase, media_root
    )
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.sig_thumbnails_loaded, timeout=5000):
        refreshed(qtbot, pane)
    assert readers and all(name.startswith("query-") for name in readers)
    picture = thumbnail(pane, ALICE.public_id)
    assert picture.cacheKey() != pane.placeholder_thumbnail().cacheKey()


def test_other_panes_actions_are_offered_on_one_selected_person(pane: PeoplePane) -> None:
    chosen: list[str] = []
    pane.add_person_action("Find similar", lambda person: chosen.append(person.public_id))
    select(pane, "Person_A1A1A1A1")
    menu = pane._context_menu()
    offered = next(a for a in menu.actions() if a.text() == "Find similar")
    assert offered.isEnabled()
    offered.trigger()
    assert chosen == ["Person_A1A1A1A1"]
    menu.deleteLater()
    select(pane, *shown_ids(pane)[:2])  # two people: nothing to find similar to
    menu = pane._context_menu()
    assert not next(a for a in menu.actions() if a.text() == "Find similar").isEnabled()
    menu.deleteLater()
