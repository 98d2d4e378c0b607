"""The People pane's "Path across senses" section over a real store, read by the console's
own reader (:class:`console.backends.people.PersonPaths`) through the real query client:
the selected person's paths newest first in site time, today's paths of people nobody
named ("Someone unknown", an automatic id included), the actions other panes offer on a
path, and a read that fails."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from console.backends.people import PersonPaths
from console.queries import QtQueryClient
from engine.history.paths import PersonPath
from engine.history.query_service import QueryService
from engine.identity.people import list_people
from engine.sitetime import SiteTime, display
from engine.store import Store
from tests.machine_text import machine_text
from tests.person_paths import ADA, AUTO, BO, SeededPaths, open_store_with_paths
from widgets.people.paths import CHOOSE_TEXT, UNKNOWN, UNNAMED_TITLE, PersonPathsSection
from widgets.people.view import COLUMN_ID, PeoplePane

BASE = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
NOW = BASE + timedelta(minutes=40)


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> SiteTime:
    return shown_zone("Asia/Kolkata")


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Store, SeededPaths]]:
    store, paths = open_store_with_paths(f"sqlite:///{tmp_path / 'paths.db'}", tmp_path, BASE)
    yield store, paths
    store.close()


@pytest.fixture
def client(seeded: tuple[Store, SeededPaths]) -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(seeded[0]))
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def reader(seeded: tuple[Store, SeededPaths]) -> PersonPaths:
    return PersonPaths(seeded[0], display(), lambda: NOW)


def refuse(_public_id: str) -> list[PersonPath]:
    raise RuntimeError("database is locked")


def make_pane(
    qtbot: QtBot,
    client: QtQueryClient,
    store: Store,
    reader: PersonPaths,
    tmp_path: Path,
    list_paths: Callable[[str], list[PersonPath]] | None = None,
) -> tuple[PeoplePane, PersonPathsSection]:
    def unused(*_args: object) -> None:
        raise AssertionError("no change is made here")

    pane = PeoplePane(
        client,
        lambda: list_people(store),
        unused,
        unused,
        unused,  # type: ignore[arg-type]
        tmp_path,
        list_paths=list_paths or reader.of_person,
        list_unnamed_paths=reader.unnamed_today,
    )
    qtbot.addWidget(pane)
    pane.resize(900, 560)
    pane.show()
    with qtbot.waitSignal(pane.sig_people_listed, timeout=5000):
        pane.refresh()
    section = pane.paths_section
    assert section is not None
    return pane, section


def select(
    qtbot: QtBot, pane: PeoplePane, section: PersonPathsSection, *ids: str, read: bool = True
) -> None:
    """Select exactly these people; with ``read``, wait for one person's paths."""
    model, selection = pane.view.model(), pane.view.selectionModel()
    shown = [str(model.index(row, COLUMN_ID).data()) for row in range(pane.row_count())]
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows

    def choose() -> None:
        selection.clearSelection()
        for public_id in ids:
            selection.select(model.index(shown.index(public_id), 0), flags)

    if read and len(ids) == 1:
        with qtbot.waitSignal(section.sig_paths_listed, timeout=5000):
            choose()
    else:
        choose()


def expected_when(start: datetime, end: datetime) -> str:
    site = display()
    return f"{site.short(start)}–{site.minutes(end)}"


def test_a_selected_person_s_paths_are_listed_newest_first(
    qtbot: QtBot,
    client: QtQueryClient,
    seeded: tuple[Store, SeededPaths],
    reader: PersonPaths,
    tmp_path: Path,
) -> None:
    store, ids = seeded
    pane, section = make_pane(qtbot, client, store, reader, tmp_path)
    assert section.paths() == [] and section.message_label.text() == CHOOSE_TEXT

    select(qtbot, pane, section, ADA)
    assert section.title_label.text() == "Path across senses: Ada"
    assert [p.event_id for p in section.paths()] == [ids.ada, ids.ada_earlier]
    # Site time (UTC+05:30): 14:00 UTC is 19:30 there.
    assert section.row_text(0) == [
        expected_when(BASE, BASE + timedelta(minutes=12)),
        "Ada",
        "seen by Plaza east 19:30–19:33, sensed in Lobby 19:32–19:38, "
        "sensed in Front office 19:38–19:42",
    ]
    yesterday = BASE - timedelta(days=1)
    assert section.row_text(1)[0] == expected_when(yesterday, yesterday + timedelta(minutes=6))
    assert not section.message_label.isVisible()
    for row in range(2):
        assert all(machine_text(text) is None for text in section.row_text(row))

    select(qtbot, pane, section, BO)
    assert [p.event_id for p in section.paths()] == [ids.bo]
    assert section.row_text(0)[2].endswith(
        "seen by Plaza east 19:39–19:41, device ‘Bo's phone’ throughout"
    )

    # Two people selected: nobody's paths.
    select(qtbot, pane, section, ADA, BO)
    assert section.paths() == []
    assert section.message_label.text() == CHOOSE_TEXT
    assert section.title_label.text() == "Path across senses"


def test_today_s_paths_of_people_nobody_named_are_listed_as_someone_unknown(
    qtbot: QtBot,
    client: QtQueryClient,
    seeded: tuple[Store, SeededPaths],
    reader: PersonPaths,
    tmp_path: Path,
) -> None:
    store, ids = seeded
    pane, section = make_pane(qtbot, client, store, reader, tmp_path)
    select(qtbot, pane, section, ADA)
    with qtbot.waitSignal(section.sig_paths_listed, timeout=5000):
        section.unnamed_button.click()
    assert section.title_label.text() == UNNAMED_TITLE
    # Someone the face memory knows only by an automatic id, and someone nobody knows.
    assert [p.event_id for p in section.paths()] == [ids.auto, ids.unknown]
    assert [section.row_text(row)[1] for row in range(2)] == [UNKNOWN, UNKNOWN]
    assert (
        section.row_text(1)[2]
        == "seen by Plaza east 19:43–19:45, sensed in Front office 19:44–19:49"
    )
    model = section.view.model()
    tip = model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    assert tip == f"Not named yet: known only as {AUTO}"
    assert model.data(model.index(1, 2), Qt.ItemDataRole.ToolTipRole) == (
        "Someone unknown: seen by Plaza east 19:43–19:45, sensed in Front office 19:44–19:49"
    )
    # Selecting someone else leaves today's unnamed paths in view …
    select(qtbot, pane, section, BO, read=False)
    assert [p.event_id for p in section.paths()] == [ids.auto, ids.unknown]
    # … until the button is let go: then the person selected.
    with qtbot.waitSignal(section.sig_paths_listed, timeout=5000):
        section.unnamed_button.click()
    assert [p.event_id for p in section.paths()] == [ids.bo]


def test_unnamed_paths_are_today_s_only(
    qtbot: QtBot,
    client: QtQueryClient,
    seeded: tuple[Store, SeededPaths],
    tmp_path: Path,
) -> None:
    store, _ids = seeded
    tomorrow = PersonPaths(store, display(), lambda: NOW + timedelta(days=1))
    _pane, section = make_pane(qtbot, client, store, tomorrow, tmp_path)
    with qtbot.waitSignal(section.sig_paths_listed, timeout=5000):
        section.set_unnamed(True)
    assert section.paths() == []
    assert section.message_label.text() == (
        "No paths across senses today of people nobody has named."
    )


def test_a_path_offers_the_actions_of_other_panes(
    qtbot: QtBot,
    client: QtQueryClient,
    seeded: tuple[Store, SeededPaths],
    reader: PersonPaths,
    tmp_path: Path,
) -> None:
    store, ids = seeded
    pane, section = make_pane(qtbot, client, store, reader, tmp_path)
    shown: list[PersonPath] = []
    section.add_path_action("Show in timeline", shown.append)
    select(qtbot, pane, section, ADA)
    menu = section.context_menu(1)
    (action,) = menu.actions()
    assert action.text() == "Show in timeline"
    action.trigger()
    assert [p.event_id for p in shown] == [ids.ada_earlier]
    # A double-click runs the first action.
    section.view.doubleClicked.emit(section.view.model().index(0, 2))
    assert [p.event_id for p in shown] == [ids.ada_earlier, ids.ada]


def test_a_read_that_fails_says_why(
    qtbot: QtBot,
    client: QtQueryClient,
    seeded: tuple[Store, SeededPaths],
    reader: PersonPaths,
    tmp_path: Path,
) -> None:
    store, _ids = seeded
    pane, section = make_pane(qtbot, client, store, reader, tmp_path, list_paths=refuse)
    model, selection = pane.view.model(), pane.view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.select(model.index(0, 0), flags)
    qtbot.waitUntil(lambda: "Could not read paths" in section.message_label.text(), timeout=5000)
    assert section.message_label.text() == "Could not read paths: database is locked"
    assert section.message_label.property("role") == "error"
    assert section.paths() == []
