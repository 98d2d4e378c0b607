"""Introductions pane: microphones and their states, open offers given or dismissed (and
refused as the engine words it), names given, permissions, and an audio file fed with
progress then what was heard or why not; against fake actions run through the console's
real query client (so every call runs on a query worker and answers on the GUI thread, as
in the console)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.query_service import QueryService
from engine.introductions import IntroductionError, NameGiven, NameOffered
from engine.speech.audio import SpeechInputError
from widgets.introductions.api import GivenName, HeardInFile
from widgets.introductions.view import (
    GIVEN_BY,
    GIVEN_CAMERA,
    GIVEN_NAME,
    GIVEN_WHO,
    NO_MICROPHONES_TEXT,
    NO_OFFERS_TEXT,
    NO_RENAME_TEXT,
    NOT_ALLOWED_TEXT,
    IntroductionsPane,
    introductions_title,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CAMERAS = [("stage", "Stage"), ("door", "Front door")]


def offer(
    offer_id: int,
    name: str = "John",
    *,
    track_id: int | None = 3,
    person_id: str | None = "Person_A1A1A1A1",
    current_name: str | None = None,
    detail: str = "",
) -> NameOffered:
    return NameOffered(
        at=T0 + timedelta(seconds=offer_id),
        offer_id=offer_id,
        camera="stage",
        name=name,
        transcript=f"hi there i'm {name.lower()}",
        track_id=track_id,
        person_id=person_id,
        current_name=current_name,
        given=False,
        detail=detail or f"heard “hi there i'm {name.lower()}” on stage: give “{name}” to …?",
    )


class FakeIntroductions:
    """The console's introduction actions over a dict of offers, recording each call and
    the thread it ran on. ``hold`` keeps feed_audio waiting until it is set, ``giving``
    likewise give."""

    def __init__(self) -> None:
        self.open: dict[int, NameOffered] = {}
        self.recent: list[GivenName] = []
        self.calls: list[tuple[object, ...]] = []
        self.threads: set[str] = set()
        self.refusal: Exception | None = None
        self.heard: HeardInFile | Exception = HeardInFile("stage", "intro.wav", "", None)
        self.hold = threading.Event()
        self.hold.set()
        self.giving = threading.Event()
        self.giving.set()
        self.listing = threading.Event()  # offers() waits for it
        self.listing.set()

    def _call(self, *call: object) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)

    def offers(self) -> list[NameOffered]:
        self._call("offers")
        listed = list(self.open.values())
        assert self.listing.wait(10)
        return listed

    def recent_names(self) -> list[GivenName]:
        self._call("recent")
        return list(self.recent)

    def give(self, offer_id: int) -> NameGiven:
        self._call("give", offer_id)
        assert self.giving.wait(10)
        if self.refusal is not None:
            raise self.refusal
        made = self.open.pop(offer_id)
        return NameGiven(
            at=T0 + timedelta(minutes=1),
            camera=made.camera,
            track_id=made.track_id,
            person_id=made.person_id or "Person_A1A1A1A1",  # recognised since the offer
            name=made.name,
            previous=made.current_name,
            transcript=made.transcript,
            actor="account:olga",
        )

    def dismiss(self, offer_id: int) -> None:
        self._call("dismiss", offer_id)
        self.open.pop(offer_id, None)

    def feed_audio(self, camera: str, path: str) -> HeardInFile:
        self._call("feed", camera, path)
        assert self.hold.wait(10)
        if isinstance(self.heard, Exception):
            raise self.heard
        return self.heard

    def changes(self) -> list[tuple[object, ...]]:
        return [c for c in self.calls if c[0] not in ("offers", "recent")]


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def actions() -> FakeIntroductions:
    fake = FakeIntroductions()
    fake.open = {1: offer(1)}
    fake.recent = [GivenName(T0, "door", "Person_B2B2B2B2", "Sarah", None, "engine:intro")]
    return fake


_KEPT: list[IntroductionsPane] = []


@pytest.fixture(autouse=True)
def kept_until_closed() -> Iterator[None]:
    """Panes a test makes stay referenced until pytest-qt closes them: a pane collected at
    the end of the test would be deleted by Python's garbage collector in no set order."""
    yield
    _KEPT.clear()


def make_pane(
    qtbot: QtBot,
    client: QtQueryClient,
    actions: FakeIntroductions,
    microphones: dict[str, str] | None = None,
) -> IntroductionsPane:
    pane = IntroductionsPane(
        client, actions, CAMERAS, {"stage": "default"} if microphones is None else microphones
    )
    qtbot.addWidget(pane)
    _KEPT.append(pane)
    pane.resize(700, 900)
    pane.set_permissions(give=True)
    with (
        qtbot.waitSignal(pane.sig_offers_changed, timeout=5000),
        qtbot.waitSignal(pane.sig_recent_listed, timeout=5000),
    ):
        pane.show()  # the first showing loads the offers and the names given
    return pane


@pytest.fixture
def pane(qtbot: QtBot, client: QtQueryClient, actions: FakeIntroductions) -> IntroductionsPane:
    return make_pane(qtbot, client, actions)


def test_microphones_say_whether_they_listen_and_red_when_not(
    qtbot: QtBot, pane: IntroductionsPane, client: QtQueryClient, actions: FakeIntroductions
) -> None:
    assert "Stage: opening microphone 'default'" in pane.microphone_text("stage")
    assert pane.microphone_text("door") == ""  # no microphone in the site file
    assert not pane.no_microphones_label.isVisible()
    pane.on_microphone_status_changed(
        "stage", False, "no microphone on this computer: introductions are not heard"
    )
    assert pane.microphone_text("stage") == (
        "Stage: no microphone on this computer: introductions are not heard"
    )
    assert not pane.microphone_listening("stage")
    assert "#f85149" in pane.microphone_labels["stage"].styleSheet()
    pane.on_microphone_status_changed("stage", True, "listening on USB Audio")
    assert pane.microphone_text("stage") == "Stage: listening on USB Audio"
    assert pane.microphone_listening("stage")

    # A site without microphones says how to add one.
    bare = make_pane(qtbot, client, actions, microphones={})
    assert bare.no_microphones_label.isVisible()
    assert bare.no_microphones_label.text() == NO_MICROPHONES_TEXT
    assert 'microphone = "default"' in NO_MICROPHONES_TEXT


def test_open_offers_show_when_where_and_the_engines_sentence_and_names_given(
    pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    (shown,) = pane.offers()
    assert shown == actions.open[1]
    row = pane.offer_row(1)
    assert row is not None and row.isVisible()
    heading = row.heading_label.text()
    assert T0.astimezone().strftime("%H:%M:%S")[:5] in heading  # local time
    assert "Stage" in heading and "“John”" in heading
    assert row.detail_label.text() == actions.open[1].detail
    assert row.give_button.isEnabled() and row.dismiss_button.isEnabled()
    assert pane.count_label.text() == "1 introduction waiting"
    assert not pane.no_offers_label.isVisible()
    # The names given lately, from the history, "automatically" for the setting.
    (sarah,) = pane.given_names()
    assert sarah.name == "Sarah"
    assert pane.given_text(0, GIVEN_BY) == "automatically (setting)"
    assert pane.given_text(0, GIVEN_CAMERA) == "Front door"
    assert actions.threads and all(t.startswith("query-worker") for t in actions.threads)
    assert introductions_title(0) == "Introductions"
    assert introductions_title(2) == "Introductions (2)"


def test_a_live_offer_appears_and_giving_it_lists_the_name(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    mike = offer(2, "Mike", person_id=None)
    actions.open[2] = mike
    with qtbot.waitSignal(pane.sig_offers_changed, timeout=1000) as changed:
        pane.on_name_offered(mike)  # as the console's bridge hands it over
    assert changed.args == [2]
    assert [o.offer_id for o in pane.offers()] == [1, 2]

    row = pane.offer_row(2)
    assert row is not None
    with (
        qtbot.waitSignal(pane.sig_name_give_requested, timeout=1000) as requested,
        qtbot.waitSignal(pane.sig_name_given, timeout=5000) as given,
        qtbot.waitSignal(pane.sig_offer_finished, timeout=5000) as finished,
    ):
        row.give_button.click()
    assert requested.args == [2] and finished.args == [2, True]
    assert ("give", 2) in actions.changes()
    assert given.args[1] == "Mike"
    assert pane.offer_row(2) is None and [o.offer_id for o in pane.offers()] == [1]
    assert "Gave “Mike”" in pane.strip.status()
    assert [g.name for g in pane.given_names()] == ["Mike", "Sarah"]
    assert pane.given_text(0, GIVEN_NAME) == "Mike"
    assert pane.given_text(0, GIVEN_BY) == "olga"

    # The engine publishes the same name on the bus: listed once, not twice.
    event = NameGiven(
        at=T0 + timedelta(minutes=1),
        camera="stage",
        track_id=3,
        person_id="Person_A1A1A1A1",
        name="Mike",
        previous=None,
        transcript="hi there i'm mike",
        actor="account:olga",
    )
    with qtbot.waitSignal(pane.sig_offers_changed, timeout=5000):
        pane.on_name_given(event)  # and the open offers are read again
    assert [g.name for g in pane.given_names()] == ["Mike", "Sarah"]


def test_a_given_name_that_replaces_another_says_so(
    qtbot: QtBot, client: QtQueryClient, actions: FakeIntroductions
) -> None:
    actions.open = {5: offer(5, "Jon", current_name="Jonathan")}
    pane = make_pane(qtbot, client, actions)
    row = pane.offer_row(5)
    assert row is not None
    # Renaming someone already named is for who may manage people.
    assert not row.give_button.isEnabled() and row.give_button.toolTip() == NO_RENAME_TEXT
    pane.set_permissions(give=True, rename=True)
    assert row.give_button.isEnabled()
    with qtbot.waitSignal(pane.sig_offer_finished, timeout=5000):
        row.give_button.click()
    assert "(was Jonathan)" in pane.strip.status()
    assert pane.given_text(0, GIVEN_WHO) == "Person_A1A1A1A1 (was Jonathan)"


def test_dismiss_forgets_the_offer_and_a_refusal_is_shown_in_red(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    actions.open[2] = offer(2, "Mike")
    pane.on_name_offered(actions.open[2])
    row = pane.offer_row(1)
    assert row is not None
    with qtbot.waitSignal(pane.sig_offer_finished, timeout=5000) as finished:
        row.dismiss_button.click()
    assert finished.args == [1, True] and ("dismiss", 1) in actions.changes()
    assert pane.offer_row(1) is None and "Dismissed “John”" in pane.strip.status()

    actions.refusal = IntroductionError(
        "nobody on track 3 of stage has been recognised by face yet: the name has no one to go to"
    )
    row = pane.offer_row(2)
    assert row is not None
    with qtbot.waitSignal(pane.sig_offer_finished, timeout=5000) as finished:
        row.give_button.click()
    assert finished.args == [2, False]
    assert pane.strip.error_label.isVisible() and "#f85149" in pane.strip.error_label.styleSheet()
    assert pane.strip.error() == (
        "“Mike” not given: nobody on track 3 of stage has been recognised by face yet: the "
        "name has no one to go to"
    )
    assert pane.offer_row(2) is not None  # still open: it can be given later
    assert [g.name for g in pane.given_names()] == ["Sarah"]


def test_one_name_at_a_time_is_given_while_a_file_may_be_recognised(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    mike = offer(2, "Mike", person_id=None)
    actions.open[2] = mike
    pane.on_name_offered(mike)
    actions.hold.clear()  # a file is being recognised meanwhile
    pane.feed("stage", "/audio/intro_2.wav")
    actions.giving.clear()
    pane.give(1)
    mike_row = pane.offer_row(2)
    assert mike_row is not None
    # The offers' strip says what runs, and no other offer can be acted on until it ends.
    assert pane.strip.busy_bar.isVisible() and pane.strip.status() == "Giving “John”…"
    assert not mike_row.give_button.isEnabled() and not mike_row.dismiss_button.isEnabled()
    pane.dismiss(2)
    assert ("dismiss", 2) not in actions.changes()
    with qtbot.waitSignal(pane.sig_offer_finished, timeout=5000) as finished:
        actions.giving.set()
    assert finished.args == [1, True] and pane.offer_row(1) is None
    assert mike_row.give_button.isEnabled() and not pane.strip.busy_bar.isVisible()
    # The file is recognised on its own strip all along.
    assert pane.is_feeding() and pane.feed_strip.busy_bar.isVisible()
    assert "Listening to intro_2.wav" in pane.feed_strip.status()
    with qtbot.waitSignal(pane.sig_audio_fed, timeout=5000) as fed:
        actions.hold.set()
    assert fed.args == [True] and not pane.feed_strip.busy_bar.isVisible()


def test_an_offer_given_or_dismissed_elsewhere_leaves_the_list_on_refresh(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    actions.open.clear()  # another console gave it, or the setting did
    with qtbot.waitSignal(pane.sig_offers_changed, timeout=5000) as changed:
        pane.refresh()
    assert changed.args == [0]
    assert pane.offers() == [] and pane.no_offers_label.isVisible()
    assert pane.no_offers_label.text() == NO_OFFERS_TEXT


def test_an_offer_heard_while_the_list_was_read_is_not_lost(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    actions.listing.clear()
    pane.refresh()  # reads the engine's offers before the next one is made
    qtbot.waitUntil(lambda: actions.calls.count(("offers",)) == 2, timeout=5000)
    late = offer(9, "Maria")
    pane.on_name_offered(late)  # the bridge delivers it before the listing answers
    with qtbot.waitSignal(pane.sig_offers_changed, timeout=5000) as listed:
        actions.listing.set()
    assert listed.args == [2]
    assert [o.offer_id for o in pane.offers()] == [1, 9]


def test_nobody_tracked_cannot_be_given_a_name(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    nobody = offer(3, "David", track_id=None, person_id=None)
    pane.on_name_offered(nobody)
    row = pane.offer_row(3)
    assert row is not None
    assert not row.give_button.isEnabled() and "Nobody is tracked" in row.give_button.toolTip()
    assert row.dismiss_button.isEnabled()


def test_without_the_label_permission_nothing_can_be_given_dismissed_or_fed(
    pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    pane.file_edit.setText("/tmp/intro.wav")
    assert pane.feed_button.isEnabled()
    pane.set_permissions(give=False)
    row = pane.offer_row(1)
    assert row is not None
    assert not row.give_button.isEnabled() and not row.dismiss_button.isEnabled()
    assert not pane.feed_button.isEnabled() and not pane.file_edit.isEnabled()
    assert pane.permission_label.isVisible() and pane.permission_label.text() == NOT_ALLOWED_TEXT
    pane.give(1)
    pane.dismiss(1)
    pane.feed("stage", "/tmp/intro.wav")
    assert actions.changes() == []
    assert pane.offers()  # still readable


def test_feeding_a_file_shows_progress_then_what_was_heard(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    assert not pane.feed_button.isEnabled()  # no file yet
    pane.camera_combo.setCurrentIndex(1)
    pane._ask_audio_file = lambda: "/audio/intro_2.wav"  # type: ignore[method-assign]
    pane.browse_button.click()
    assert pane.file_edit.text() == "/audio/intro_2.wav"
    actions.heard = HeardInFile("door", "intro_2.wav", "hi there i'm john", "John", "offered")
    actions.hold.clear()
    with qtbot.waitSignal(pane.sig_audio_feed_requested, timeout=1000) as requested:
        pane.feed_button.click()
    assert requested.args == ["door", "/audio/intro_2.wav"]
    # While it is recognised: progress, and nothing else can be fed.
    assert pane.is_feeding() and pane.feed_strip.busy_bar.isVisible()
    assert "Listening to intro_2.wav" in pane.feed_strip.status()
    assert not pane.feed_button.isEnabled() and pane.feed_button.text() == "Listening…"
    with qtbot.waitSignal(pane.sig_audio_fed, timeout=5000) as fed:
        actions.hold.set()
    assert fed.args == [True]
    assert ("feed", "door", "/audio/intro_2.wav") in actions.changes()
    assert not pane.is_feeding() and not pane.feed_strip.busy_bar.isVisible()
    assert pane.feed_strip.status() == "heard: “hi there i'm john” → name John (offered)"
    assert pane.feed_strip.error() == "" and not pane.feed_strip.error_label.isVisible()
    assert pane.feed_button.isEnabled()

    actions.heard = HeardInFile("door", "intro_6.wav", "the package arrived", None)
    with qtbot.waitSignal(pane.sig_audio_fed, timeout=5000):
        pane.feed("door", "/audio/intro_6.wav")
    assert pane.feed_strip.status() == (
        "no introduction heard in intro_6.wav (heard: “the package arrived”)"
    )


def test_a_corrupt_file_is_said_in_red(
    qtbot: QtBot, pane: IntroductionsPane, actions: FakeIntroductions
) -> None:
    actions.heard = SpeechInputError("/tmp/bad.wav: corrupt WAV file (file does not start)")
    with qtbot.waitSignal(pane.sig_audio_fed, timeout=5000) as fed:
        pane.feed("stage", "/tmp/bad.wav")
    assert fed.args == [False]
    assert (
        pane.feed_strip.error() == "Not heard: /tmp/bad.wav: corrupt WAV file (file does not start)"
    )
    assert pane.feed_strip.error_label.isVisible()
    assert "#f85149" in pane.feed_strip.error_label.styleSheet()
    assert pane.feed_button.isEnabled()  # another file may be tried


def test_a_site_without_cameras_cannot_feed(qtbot: QtBot, client: QtQueryClient) -> None:
    pane = IntroductionsPane(client, FakeIntroductions(), [], {})
    qtbot.addWidget(pane)
    _KEPT.append(pane)
    pane.set_permissions(give=True)
    pane.file_edit.setText("/tmp/intro.wav")
    with qtbot.waitSignal(pane.sig_recent_listed, timeout=5000):
        pane.show()
    assert not pane.feed_button.isEnabled() and pane.no_cameras_label.isVisible()
