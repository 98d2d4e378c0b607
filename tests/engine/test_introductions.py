"""Introductions end to end on a live engine: a camera playing real footage of a speaker,
with a microphone; a real recording of "This is David speaking" fed as that microphone's
audio is heard as "David" and offered to the person nearest the camera (recognised by
face), an operator gives it, the person is named in the register and on the live track,
and it is history (``person.named``) and audited. With the setting on, the name is given
at once; an utterance that introduces nobody offers nothing; a camera without anyone
tracked says so."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.access import Actor, PermissionDeniedError, Role
from engine.bus import EventBus
from engine.config import load_site
from engine.events import HealthState
from engine.identity.introduced import NameFromIntroduction
from engine.introductions import IntroductionError, NameGiven, NameOffered
from engine.runtime import EngineRuntime
from engine.settings import ChangeSetting
from engine.store import Store
from engine.store.models import Event
from engine.store.person_models import Person
from tests.actors import ADMIN, OPERATOR
from tests.conftest import TESTDATA, write_site
from tests.gesture_videos import still_speaker_video
from tests.waiting import wait_for

AUDIO = TESTDATA / "audio"
CLIP = TESTDATA / "video" / "short_hamilton_clip.mp4"


class Seen:
    def __init__(self, bus: EventBus) -> None:
        self.offers: list[NameOffered] = []
        self.given: list[NameGiven] = []
        self._lock = threading.Lock()
        bus.subscribe(NameOffered, self._keep)
        bus.subscribe(NameGiven, self._keep)

    def _keep(self, event: NameOffered | NameGiven) -> None:
        with self._lock:
            (self.offers if isinstance(event, NameOffered) else self.given).append(event)


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[tuple[EngineRuntime, Seen]]:
    speaker = still_speaker_video(tmp_path / "speaker.avi")
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "stage"\nurl = "{speaker}"\nmicrophone = "default"\n'
        f'[[cameras]]\nid = "door"\nurl = "{CLIP}"\n',
    )
    store = Store(db_url)
    bus = EventBus()
    seen = Seen(bus)
    runtime = EngineRuntime(load_site(site), store, bus=bus)
    runtime.start()
    try:
        yield runtime, seen
    finally:
        runtime.stop()
        store.close()


def recognised_on(runtime: EngineRuntime, camera: str) -> Callable[[], bool]:
    def check() -> bool:
        assert runtime.faces is not None
        return bool(runtime.faces.tracks_of(camera))

    return check


@pytest.mark.slow
def test_a_heard_introduction_is_offered_and_given_by_an_operator(
    live: tuple[EngineRuntime, Seen],
) -> None:
    runtime, seen = live
    assert set(runtime.speech.services) == {"stage"}  # only the camera with a microphone listens
    (speech,) = [h for h in runtime.health() if h.subsystem == "speech"]
    assert speech.state is HealthState.OK and "1 microphones" in speech.detail
    wait_for(recognised_on(runtime, "stage"), what="the speaker's face")

    # "This is David speaking." (Whisper base writes "This is David Beaking."): the name is
    # checked exactly.
    heard = runtime.speech.feed_audio("stage", AUDIO / "intro_4.wav")
    assert heard.name == "David", heard.transcript
    name = heard.name
    wait_for(lambda: bool(seen.offers), what="the offer")
    (offer,) = seen.offers
    assert offer.camera == "stage" and offer.name == name and not offer.given
    assert offer.track_id is not None and offer.person_id is not None
    assert f"give “{name}” to" in offer.detail
    assert runtime.introductions is not None
    assert runtime.introductions.offers() == [offer]

    given = runtime.introductions.give(offer.offer_id, OPERATOR)
    assert (given.person_id, given.name, given.actor) == (offer.person_id, name, "account:olga")
    assert runtime.introductions.offers() == []
    assert runtime.faces is not None
    assert runtime.faces.tracks_of("stage")[offer.track_id] == (offer.person_id, name)
    with pytest.raises(IntroductionError, match="no open offer"):
        runtime.introductions.give(offer.offer_id, OPERATOR)

    assert runtime.writer is not None
    runtime.writer.flush()
    store = runtime.store
    assert store is not None
    with store.sessions() as session:
        person = session.scalars(select(Person).where(Person.public_id == offer.person_id)).one()
        named = session.scalars(select(Event).where(Event.kind == "person.named")).one()
        heard_rows = session.scalars(select(Event).where(Event.kind == "speech.name_heard")).all()
    assert person.name == name
    assert named.track_id == offer.track_id and named.detail["heard"] == heard.transcript
    assert [r.detail["name"] for r in heard_rows] == [name]


def test_names_are_given_at_once_when_the_setting_says_so(
    live: tuple[EngineRuntime, Seen],
) -> None:
    runtime, seen = live
    assert runtime.writer is not None
    runtime.writer.execute(
        ChangeSetting(key="analytics.speech_names_auto", value=1, at=datetime.now(UTC), actor=ADMIN)
    )
    wait_for(recognised_on(runtime, "stage"), what="the speaker's face")
    runtime.speech.feed_audio("stage", AUDIO / "intro_4.wav")  # "This is David speaking."
    wait_for(lambda: bool(seen.given), what=f"the name to be given ({seen.offers})")
    (given,) = seen.given
    assert (given.name, given.actor) == ("David", "engine:introductions")
    assert runtime.introductions is not None
    assert runtime.introductions.offers() == []  # nothing left for an operator to decide


@pytest.mark.slow
def test_no_introduction_offers_nothing_and_nobody_in_view_is_said(
    live: tuple[EngineRuntime, Seen], tmp_path: Path
) -> None:
    runtime, seen = live
    heard = runtime.speech.feed_audio("stage", AUDIO / "intro_6.wav")  # a sentence about a parcel
    assert heard.name is None and heard.transcript
    # The door camera analyses nothing yet at first: pretend its picture is old by asking
    # about a camera whose analyzer has seen no frame.
    door = runtime.cameras.pipelines["door"].analyzer
    door.latest = None
    runtime.speech.feed_audio("door", AUDIO / "intro_4.wav")  # "This is David speaking."
    wait_for(lambda: bool(seen.offers), what="the offer")
    offer = seen.offers[-1]
    if offer.camera == "door" and offer.track_id is None:
        assert "nobody is tracked there" in offer.detail
        with pytest.raises(IntroductionError, match="has been recognised by face yet"):
            assert runtime.introductions is not None
            runtime.introductions.give(offer.offer_id, OPERATOR)
    with pytest.raises(ValueError, match="no camera 'attic'"):
        runtime.speech.feed_audio("attic", AUDIO / "intro_4.wav")


def test_only_someone_who_manages_people_renames_a_named_person(db_url: str) -> None:
    from engine.identity.faces_store import unused_public_id
    from engine.store.writer import StoreWriter

    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer, store.sessions() as session:
            public_id = unused_public_id(session)
            session.add(Person(public_id=public_id, name="Jon", appearances=0))
            session.commit()

            def name(actor: Actor) -> object:
                return writer.execute(
                    NameFromIntroduction(
                        public_id=public_id,
                        name="John",
                        camera="stage",
                        transcript="hi there i'm john",
                        at=datetime.now(UTC),
                        actor=actor,
                    )
                )

            with pytest.raises(PermissionDeniedError, match="rename Jon to John"):
                name(OPERATOR)
            assert name(Actor("ada", frozenset({Role.ADMIN}))).previous == "Jon"
    finally:
        store.close()


def test_the_speech_model_setting_chooses_whisper_tiny_en(db_url: str, tmp_path: Path) -> None:
    """``analytics.speech_model_tiny`` = 1: the engine's recogniser (loaded on first use
    here, as no camera has a microphone) is Whisper tiny.en, and says so in what it heard."""
    site = write_site(tmp_path / "site.toml", f'[[cameras]]\nid = "door"\nurl = "{CLIP}"\n')
    store = Store(db_url)
    runtime = EngineRuntime(load_site(site), store, bus=EventBus())
    runtime.start()
    try:
        assert runtime.writer is not None
        runtime.writer.execute(
            ChangeSetting(
                key="analytics.speech_model_tiny", value=1, at=datetime.now(UTC), actor=ADMIN
            )
        )
        heard = runtime.speech.feed_audio(
            "door", AUDIO / "intro_1.wav"
        )  # "Hello, my name is Sarah."
        assert (heard.name, heard.pass_used) == ("Sarah", "tiny.en")
        assert heard.confidence is not None and heard.confidence > 0.3
    finally:
        runtime.stop()
        store.close()
