"""The chat pane over a real store: the engine's own ChatService (offline: the API key is
empty) answers on a real query worker through a real store writer, which keeps the
investigator's conversation; the console's role is a small class that binds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot
from sqlalchemy import insert, select

from console.queries import QtQueryClient
from engine.clock import SimulatedClock
from engine.history.chat import (
    ChatAnswer,
    ChatHistoryRequest,
    ChatService,
    Citation,
    read_pictures,
)
from engine.history.query_service import QueryService
from engine.sitetime import SiteTime, display
from engine.store import Store
from engine.store.models import Camera, Event
from engine.store.person_models import Person
from engine.store.writer import StoreWriter
from tests.actors import INVESTIGATOR
from tests.engine.test_chat_offline import NOW, Seeded, seed_history
from widgets.chat.api import ChatHistory
from widgets.chat.view import CITE_SCHEME, ChatPane
from widgets.colours import ALARM_RED

TIMEOUT_MS = 15_000


@dataclass
class Actions:
    service: ChatService
    store: Store
    media_root: Path | None = None

    def pictures(self, paths: Sequence[str]) -> dict[str, bytes]:
        return {} if self.media_root is None else read_pictures(self.media_root, paths)

    def history(self) -> ChatHistory:
        turns = ChatHistoryRequest(account=INVESTIGATOR.name).run(self.store)
        return ChatHistory(turns, self.service.mode, self.service.mode_reason)

    def ask(self, question: str, offline: bool, on_text: Callable[[str], None]) -> ChatAnswer:
        return self.service.ask(question, actor=INVESTIGATOR, on_text=on_text, offline=offline)


@pytest.fixture
def site_zone() -> str | None:
    """The zone of the site the console has open (None: the tests' UTC); a test picks one
    with ``@pytest.mark.parametrize("site_zone", [...])``."""
    return None


@pytest.fixture
def world(
    db_url: str,
    qtbot: QtBot,
    site_zone: str | None,
    shown_zone: Callable[[str], SiteTime],
    tmp_path: Path,
) -> Iterator[tuple[ChatPane, Seeded, Actions]]:
    if site_zone is not None:
        shown_zone(site_zone)
    store = Store(db_url)
    seeded = seed_history(store)
    writer = StoreWriter(store)
    writer.start()
    service = ChatService(
        store, clock=SimulatedClock(NOW), site_time=display(), writer=writer, api_key=""
    )
    client = QtQueryClient(QueryService(store))
    actions = Actions(service, store, tmp_path / "media")
    pane = ChatPane(client, actions)
    qtbot.addWidget(pane)
    try:
        yield pane, seeded, actions
    finally:
        client.close()
        writer.stop()
        store.close()


def test_an_answer_streams_in_cites_its_events_and_says_it_was_offline(
    world: tuple[ChatPane, Seeded, Actions], qtbot: QtBot
) -> None:
    pane, seeded, _ = world
    with qtbot.waitSignal(pane.sig_history_loaded, timeout=TIMEOUT_MS):
        pane.reload()
    assert pane.mode_label.text().startswith("Offline answers")
    assert "API key is empty" in pane.mode_label.text()
    pane.question_edit.setText("When did I last see John?")
    with qtbot.waitSignal(pane.sig_answer_received, timeout=TIMEOUT_MS) as received:
        pane.ask_button.click()
        assert pane.busy and not pane.ask_button.isEnabled()
    answer = received.args[0]
    assert answer.answered and answer.mode == "offline"
    assert "John" in answer.text
    cited = {c.event_id for c in answer.citations}
    assert seeded.events["john_left"] in cited
    assert pane.citation_list.count() == len(answer.citations) > 0
    assert "answered offline" in pane.status_label.text()
    html = pane.transcript.toHtml()
    assert "When did I last see John?" in html
    assert f"#{seeded.events['john_left']}" in html
    # A cited event activates from the list and from its link in the transcript.
    with qtbot.waitSignal(pane.sig_citation_activated, timeout=TIMEOUT_MS) as activated:
        pane.citation_list.itemClicked.emit(pane.citation_list.item(0))
    assert isinstance(activated.args[0], Citation)
    from PySide6.QtCore import QUrl

    with qtbot.waitSignal(pane.sig_citation_activated, timeout=TIMEOUT_MS) as linked:
        pane.transcript.anchorClicked.emit(QUrl(f"{CITE_SCHEME}:{seeded.events['john_left']}"))
    assert linked.args[0].event_id == seeded.events["john_left"]
    assert not pane.busy and pane.ask_button.isEnabled()


@pytest.mark.parametrize("site_zone", ["Asia/Kolkata"])
def test_answers_and_cited_events_are_in_site_time(
    world: tuple[ChatPane, Seeded, Actions], qtbot: QtBot
) -> None:
    """Asked at 12:00 UTC, 17:30 in Kolkata: "this afternoon" is Kolkata's, and the answer
    and the cited events read Kolkata's clock, the zone named in each event's tooltip."""
    pane, seeded, _ = world
    pane.question_edit.setText("Who was seen this afternoon?")
    with qtbot.waitSignal(pane.sig_answer_received, timeout=TIMEOUT_MS) as received:
        pane.ask_button.click()
    answer = received.args[0]
    assert answer.answered, answer.text
    assert "John Carter 15:00-16:11" in answer.text
    item = pane.citation_list.item(0)
    assert item.text().startswith("2026-11-23 15:00:00  John Carter appeared on Lobby")  # 09:30 UTC
    assert item.toolTip().startswith("2026-11-23 15:00:00 IST (Asia/Kolkata)")
    assert item.data(Qt.ItemDataRole.UserRole).event_id == seeded.events["john_lobby"]


def test_the_conversation_is_kept_and_an_unanswerable_question_says_so(
    world: tuple[ChatPane, Seeded, Actions], qtbot: QtBot
) -> None:
    pane, _seeded, actions = world
    with qtbot.waitSignal(pane.sig_answer_received, timeout=TIMEOUT_MS) as received:
        pane.ask("What is the weather in Paris?")
    answer = received.args[0]
    assert not answer.answered and answer.citations == ()
    assert "can't answer" in answer.text
    assert pane.status_label.text().startswith("No answer in the records")
    assert pane.citation_list.count() == 0
    # A fresh pane for the same person shows the stored conversation.
    fresh_client = QtQueryClient(QueryService(actions.store))
    fresh = ChatPane(fresh_client, actions)
    qtbot.addWidget(fresh)
    with qtbot.waitSignal(fresh.sig_history_loaded, timeout=TIMEOUT_MS) as loaded:
        fresh.reload()
    fresh_client.close()
    assert loaded.args[0] == 2
    assert [t.role for t in fresh.turns] == ["user", "assistant"]
    assert fresh.turns[0].text == "What is the weather in Paris?"
    fresh.clear()
    assert fresh.turns == () and "Ask about what the site recorded" in fresh.transcript.toHtml()


@dataclass
class Refusing(Actions):
    """The actions of a console whose answerer fails outright until told otherwise."""

    refuse: bool = True

    def ask(self, question: str, offline: bool, on_text: Callable[[str], None]) -> ChatAnswer:
        if self.refuse:
            raise RuntimeError("the answerer \x1b[31mstopped\x1b[0m")
        return super().ask(question, offline, on_text)


def test_a_question_that_fails_outright_is_said_in_red_and_the_question_kept(
    world: tuple[ChatPane, Seeded, Actions], qtbot: QtBot
) -> None:
    _pane, _seeded, actions = world
    refusing = Refusing(actions.service, actions.store)
    client = QtQueryClient(QueryService(actions.store))
    pane = ChatPane(client, refusing)
    qtbot.addWidget(pane)
    try:
        with qtbot.waitSignal(pane.sig_question_failed, timeout=TIMEOUT_MS):
            pane.ask("When did I last see John?")
        label = pane.status_label
        # In the engine's words without the terminal escapes, in the theme's one red.
        assert label.text() == "The question could not be answered: the answerer stopped"
        assert label.property("role") == "error" and ALARM_RED in label.styleSheet()
        assert pane.question_edit.text() == "When did I last see John?"  # ask again
        assert not pane.busy and pane.ask_button.isEnabled()

        refusing.refuse = False
        with qtbot.waitSignal(pane.sig_answer_received, timeout=TIMEOUT_MS):
            pane.ask_button.click()
        assert "answered offline" in label.text()
        assert label.property("role") != "error" and ALARM_RED not in label.styleSheet()
    finally:
        client.close()


def test_the_people_an_answer_counted_are_shown_with_their_pictures(
    world: tuple[ChatPane, Seeded, Actions], qtbot: QtBot
) -> None:
    """John's track on the lobby kept a snapshot (a real JPEG under the data dir); the
    person known only by an id kept none. The pane lists both, by name and time, and
    shows John's picture, read by the backend on a worker."""
    pane, _seeded, actions = world
    assert actions.media_root is not None
    picture = actions.media_root / "snapshots" / "cam2" / "john.jpg"
    picture.parent.mkdir(parents=True)
    image = QImage(40, 80, QImage.Format.Format_RGB32)
    image.fill(QColor("steelblue"))
    assert image.save(str(picture), "JPG")
    with actions.store.transaction() as s:
        lobby = s.scalar(select(Camera.id).where(Camera.key == "cam2"))
        john = s.scalar(select(Person.id).where(Person.public_id == "Person_0000000A"))
        s.execute(
            insert(Event),
            [
                {
                    "ts": NOW.replace(hour=9, minute=30) + timedelta(seconds=50),
                    "kind": "person.left",
                    "source": "camera:cam2",
                    "camera_id": lobby,
                    "track_id": 7,
                    "person_id": john,
                    "detail": {"snapshot": "snapshots/cam2/john.jpg"},
                }
            ],
        )
    assert pane.people_list.isHidden()
    with qtbot.waitSignal(pane.sig_pictures_loaded, timeout=TIMEOUT_MS):
        pane.ask("Who was on camera 2 between 9 and 10?")
    answer = pane.turns[-1].text
    assert answer.startswith("2 people were seen on Lobby (cam2)"), answer
    assert not pane.people_list.isHidden() and pane.people_list.count() == 2
    john_item, anon_item = pane.people_list.item(0), pane.people_list.item(1)
    assert john_item.text() == "John Carter\n09:30 on Lobby"
    assert anon_item.text() == "Person_0000000C\n09:45 on Lobby"
    assert not john_item.icon().isNull() and anon_item.icon().isNull()
    assert "last seen 2026-11-23 09:30:50 UTC on Lobby" in john_item.toolTip()
    # An answer that counts nobody hides the strip.
    with qtbot.waitSignal(pane.sig_answer_received, timeout=TIMEOUT_MS):
        pane.ask("Who was on camera 3 yesterday?")
    assert pane.people_list.isHidden() and pane.people_list.count() == 0
