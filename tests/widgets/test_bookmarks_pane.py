"""The bookmarks pane over a real store: a real query service (QtQueryClient), a real store
writer, and the console's own :class:`console.backends.evidence.EvidenceBackend` acting as
whoever the test signs in (an investigator, or an operator who is refused)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import insert, select

from console.backends.evidence import EvidenceBackend
from console.queries import QtQueryClient
from engine.access import Actor
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.history.query_service import CallRequest, QueryRequest, QueryService
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.audit_models import AuditEntry
from engine.store.models import Camera, Media
from engine.store.writer import StoreWriter
from tests.actors import INVESTIGATOR, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site
from widgets.bookmarks.view import BookmarksPane, range_text
from widgets.colours import ALARM_RED
from widgets.queries import OnResult

MOMENT = datetime(2026, 11, 20, 9, 14, 3, tzinfo=UTC)
TIMEOUT_MS = 10_000


class FlakyReads:
    """The real query client, whose reads fail while :attr:`failing` is set (as when the
    store is unreachable); changes go through untouched."""

    def __init__(self, client: QtQueryClient) -> None:
        self.client = client
        self.failing = False

    def submit(self, channel: str, request: QueryRequest[Any], on_done: OnResult) -> int:
        if self.failing:
            request = CallRequest(_unreachable, name="a read while the store is unreachable")
        return self.client.submit(channel, request, on_done)

    def submit_action(
        self, channel: str, action: Callable[[], Any], on_done: OnResult, *, name: str = ""
    ) -> int:
        return self.client.submit_action(channel, action, on_done, name=name)


def _unreachable() -> None:
    raise ConnectionError("the store is unreachable")


@dataclass
class World:
    store: Store
    writer: StoreWriter
    pane: BookmarksPane
    signed_in: list[Actor]
    reads: FlakyReads


@pytest.fixture
def world(db_url: str, tmp_path: Path, qtbot: QtBot) -> Iterator[World]:
    site = load_site(
        write_site(tmp_path / "site.toml", '[[cameras]]\nid = "gate"\nurl = "gate.mp4"\n')
    )
    store = Store(db_url)
    sync_site(store, site, REAL_CLOCK)
    writer = StoreWriter(store)
    writer.start()
    client = QtQueryClient(QueryService(store))
    signed_in = [INVESTIGATOR]
    backend = EvidenceBackend(
        store,
        writer,
        REAL_CLOCK,
        lambda _action: signed_in[0],
        media_root=tmp_path,
        key_dir=tmp_path,
        site_time=site.site_time,
    )
    reads = FlakyReads(client)
    pane = BookmarksPane(reads, backend, cameras=[("gate", "Gate")], rooms=[("lab", "Lab")])
    pane.set_permissions(bookmark=True, lock=True)
    qtbot.addWidget(pane)
    try:
        yield World(store, writer, pane, signed_in, reads)
    finally:
        client.close()
        writer.stop()
        store.close()


def add(world: World, qtbot: QtBot, title: str, note: str = "", source: int = 0) -> None:
    pane = world.pane
    pane.new_button.setChecked(True)
    pane.title_edit.setText(title)
    pane.note_edit.setText(note)
    pane.set_moment(MOMENT)
    pane.source_combo.setCurrentIndex(source)
    with qtbot.waitSignal(pane.sig_bookmarks_changed, timeout=TIMEOUT_MS):
        pane.add_button.click()
    qtbot.waitUntil(lambda: any(b.title == title for b in pane.bookmarks), timeout=TIMEOUT_MS)


def test_bookmarks_are_added_listed_searched_and_activated(world: World, qtbot: QtBot) -> None:
    pane = world.pane
    add(world, qtbot, "Man at the gate", "red jacket, 100% sure", source=1)
    add(world, qtbot, "Van parked")
    assert {b.title for b in pane.bookmarks} == {"Van parked", "Man at the gate"}
    gate = next(b for b in pane.bookmarks if b.title == "Man at the gate")
    assert gate.camera == "gate" and gate.author == "account:ian"
    assert (gate.started_at, gate.ended_at) == (
        MOMENT - timedelta(seconds=10),
        MOMENT + timedelta(seconds=20),
    )
    assert pane.bookmark_list.topLevelItemCount() == 2
    # Search by note, "%" literal; then by a word in no bookmark.
    pane.search_edit.setText("100%")
    qtbot.waitUntil(lambda: len(pane.bookmarks) == 1, timeout=TIMEOUT_MS)
    assert pane.bookmarks[0].title == "Man at the gate"
    pane.search_edit.setText("bicycle")
    qtbot.waitUntil(lambda: pane.bookmarks == (), timeout=TIMEOUT_MS)
    pane.search_edit.clear()
    qtbot.waitUntil(lambda: len(pane.bookmarks) == 2, timeout=TIMEOUT_MS)
    item = pane.bookmark_list.topLevelItem(
        [b.title for b in pane.bookmarks].index("Man at the gate")
    )
    assert item.text(2) == "camera Gate"  # by its name
    assert item.text(3) == range_text(gate.started_at, gate.ended_at)
    with qtbot.waitSignal(pane.sig_bookmark_activated, timeout=TIMEOUT_MS) as activated:
        pane.bookmark_list.itemActivated.emit(item, 0)
    assert activated.args[0].id == gate.id
    # An empty title is named, and nothing is stored.
    pane.new_button.setChecked(True)
    pane.title_edit.clear()
    pane.add_button.click()
    assert pane.strip.error() == "Title: give the bookmark a title"
    assert pane.strip.status() == ""  # the last "Added…" no longer stands beside it


@pytest.fixture
def site_in_kolkata(shown_zone: Callable[[str], SiteTime]) -> None:
    shown_zone("Asia/Kolkata")  # UTC+05:30: neither this machine's zone nor UTC


def test_a_moment_is_typed_and_shown_in_site_time(
    site_in_kolkata: None, world: World, qtbot: QtBot
) -> None:
    pane = world.pane
    pane.new_button.setChecked(True)
    pane.set_moment(MOMENT)
    assert pane.moment_edit.text() == "2026-11-20 14:44:03"  # 09:14:03 UTC
    # The investigator types 21:00 on the site's clock: 15:30 UTC is stored.
    pane.moment_edit.lineEdit().setText("2026-11-20 21:00:00")
    pane.moment_edit.interpretText()
    pane.title_edit.setText("Evening")
    with qtbot.waitSignal(pane.sig_bookmarks_changed, timeout=TIMEOUT_MS):
        pane.add_button.click()
    qtbot.waitUntil(lambda: len(pane.bookmarks) == 1, timeout=TIMEOUT_MS)
    (evening,) = pane.bookmarks
    assert evening.marked_at == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    item = pane.bookmark_list.topLevelItem(0)
    assert item.text(0) == "2026-11-20 21:00:00"
    assert item.text(3) == "2026-11-20 20:59:50–21:00:20"
    assert pane.bookmark_list.headerItem().text(0) == "Moment"


def test_a_bookmark_is_locked_and_unlocked_with_reasons_and_audited(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane
    with world.store.transaction() as session:
        camera_id = session.scalar(select(Camera.id).where(Camera.key == "gate"))
        session.execute(
            insert(Media),
            [
                {
                    "kind": "clip",
                    "path": "clips/gate/a.mp4",
                    "sha256": "0" * 64,
                    "size_bytes": 10,
                    "created_at": MOMENT + timedelta(seconds=5),
                    "camera_id": camera_id,
                    "started_at": MOMENT - timedelta(seconds=3),
                    "ended_at": MOMENT + timedelta(seconds=5),
                }
            ],
        )
    add(world, qtbot, "Fight", source=1)
    pane.bookmark_list.setCurrentItem(pane.bookmark_list.topLevelItem(0))
    pane.lock_button.click()
    assert pane.strip.error() == "Reason: say why the range must be kept"
    pane.lock_reason_edit.setText("police request 4471")
    with qtbot.waitSignal(pane.sig_bookmarks_changed, timeout=TIMEOUT_MS):
        pane.lock_button.click()
        assert not pane.lock_button.isEnabled() and pane.strip.is_busy()  # one at a time
    assert "keeps 1 recordings" in pane.strip.status() and pane.strip.error() == ""
    assert not pane.strip.is_busy()
    qtbot.waitUntil(lambda: len(pane.locks) == 1, timeout=TIMEOUT_MS)
    lock = pane.locks[0]
    assert lock.reason == "police request 4471" and lock.cameras == ("gate",)
    assert pane.lock_list.topLevelItem(0).text(4) == "active, keeps 1 recordings"
    with world.store.sessions() as session:
        assert session.scalar(select(Media.locked)) is True
    pane.lock_list.setCurrentItem(pane.lock_list.topLevelItem(0))
    pane.lock_reason_edit.setText("case closed")
    with qtbot.waitSignal(pane.sig_bookmarks_changed, timeout=TIMEOUT_MS):
        pane.unlock_button.click()
    qtbot.waitUntil(lambda: pane.locks == (), timeout=TIMEOUT_MS)  # active only
    pane.show_released_box.setChecked(True)
    qtbot.waitUntil(lambda: len(pane.locks) == 1, timeout=TIMEOUT_MS)
    assert pane.lock_list.topLevelItem(0).text(4).startswith("released by account:ian")
    with world.store.sessions() as session:
        assert session.scalar(select(Media.locked)) is False
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert [a for a in actions if a.startswith(("bookmark.", "evidence."))] == [
        "bookmark.add",
        "evidence.lock",
        "evidence.unlock",
    ]


def test_an_operator_is_refused_and_the_pane_says_why(world: World, qtbot: QtBot) -> None:
    pane = world.pane
    world.signed_in[0] = OPERATOR
    pane.new_button.setChecked(True)
    pane.title_edit.setText("Not mine to mark")
    pane.add_button.click()
    qtbot.waitUntil(lambda: pane.strip.error().startswith("Not added: "), timeout=TIMEOUT_MS)
    assert "bookmark permission" in pane.strip.error()
    assert ALARM_RED in pane.strip.error_label.styleSheet()  # the theme's one red
    assert pane.strip.error_label.property("role") == "error"
    pane.set_permissions(bookmark=False, lock=False)
    assert not pane.new_button.isEnabled() and not pane.form.isVisible()


def test_a_failed_read_is_shown_in_red_until_the_lists_read_again(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane
    world.reads.failing = True
    pane.refresh()
    qtbot.waitUntil(
        lambda: pane.strip.error().endswith(": the store is unreachable"), timeout=TIMEOUT_MS
    )
    assert pane.strip.error().startswith("Could not read the ")
    assert ALARM_RED in pane.strip.error_label.styleSheet()
    world.reads.failing = False
    add(world, qtbot, "After the outage")  # a change that works, then both lists read
    qtbot.waitUntil(lambda: pane.strip.error() == "", timeout=TIMEOUT_MS)
    assert pane.strip.status() == "Added bookmark “After the outage”"
    world.reads.failing = True
    pane.refresh_locks()
    qtbot.waitUntil(
        lambda: pane.strip.error() == "Could not read the evidence locks: the store is unreachable",
        timeout=TIMEOUT_MS,
    )
    world.reads.failing = False
    pane.refresh_locks()  # the lists read again: the error is over
    qtbot.waitUntil(lambda: pane.strip.error() == "", timeout=TIMEOUT_MS)
