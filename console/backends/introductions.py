"""What the introductions pane may do, bound to the running engine: list the open offers of
heard names and the names given lately, give or dismiss an offer, and feed an audio file as
if a camera's microphone had heard it.

Every method blocks (the store writer, a store read, or recognising seconds of speech); the
console runs them on query workers (through :class:`console.queries.QtQueryClient`), never
on the GUI thread. Everything is done as the person logged in at the console
(:class:`console.session.ConsoleSession`): giving a name is a store command the engine
checks (the label permission; renaming someone already named, manage_people) and audits;
dismissing an offer and feeding a file are checked here against the label permission
(neither is a store command, and a fed file's name may be given at once by the setting).
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from console.session import ConsoleSession
from engine.access import Permission
from engine.history.events import EventFilter, query_events
from engine.introductions import IntroductionError, Introductions, NameGiven, NameOffered
from engine.runtime import EngineRuntime
from engine.speech.service import FileNames
from engine.store.database import Store
from widgets.introductions.api import RECENT_NAMES, GivenName, HeardInFile

NAMED_KIND: Final = "person.named"  # the history event of a name given from an introduction


def outcome_of(
    heard: FileNames, camera: str, seen: list[NameOffered | NameGiven], introductions: bool
) -> str:
    """What became of the name ``heard`` in a file fed as ``camera``'s microphone, from the
    offers and given names the engine published meanwhile (``seen``): given at once (the
    setting), offered, or not offered and why. "" when no name was heard."""
    if heard.name is None:
        return ""
    mine = [e for e in seen if e.camera == camera and e.transcript == heard.transcript]
    given = next((e for e in mine if isinstance(e, NameGiven)), None)
    if given is not None:
        return f"given to {given.person_id} at once, as the setting says"
    offer = next((e for e in mine if isinstance(e, NameOffered)), None)
    if offer is not None:
        if offer.track_id is None:
            return "offered, but nobody is tracked on that camera to give it to"
        return "offered"
    if not introductions:
        return "not offered: this engine gives no names (it has no database)"
    return "not offered: the person nearest the camera has that name already"


class IntroductionsBackend:
    """Blocking calls for the introductions pane, run on query worker threads. Satisfies
    :class:`widgets.introductions.api.IntroductionActions`."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person

    def offers(self) -> list[NameOffered]:
        introductions = self._runtime.introductions
        return introductions.offers() if introductions is not None else []

    def recent_names(self) -> list[GivenName]:
        """The newest names given from introductions, from the history (``person.named``)."""
        rows = query_events(self._store, EventFilter(kind=NAMED_KIND, limit=RECENT_NAMES))
        return [
            GivenName(
                at=row.ts,
                camera=row.camera,
                person_id=row.person_public_id,
                name=str(row.detail.get("name") or ""),
                previous=row.detail.get("previous") or None,
                by=str(row.detail.get("by") or ""),
            )
            for row in rows
        ]

    def give(self, offer_id: int) -> NameGiven:
        """Give offer ``offer_id``'s name to its person as the logged-in person.
        :class:`~engine.introductions.IntroductionError` when the offer is gone or nobody
        on it is recognised; the engine's refusal when they may not."""
        actor = self._session.require_actor("give names")
        return self._introductions().give(offer_id, actor)

    def dismiss(self, offer_id: int) -> None:
        actor = self._session.require_actor("dismiss introductions")
        actor.require(Permission.LABEL, "dismiss introductions")
        self._introductions().dismiss(offer_id)

    def feed_audio(self, camera: str, path: str) -> HeardInFile:
        """Recognise the audio file ``path`` as if ``camera``'s microphone had heard it
        (about a third of its length); a name in it is offered (or given) like a live one.
        :class:`~engine.speech.audio.SpeechInputError` names a missing, unreadable or
        corrupt file; ValueError an unknown camera."""
        actor = self._session.require_actor("feed audio files")
        actor.require(Permission.LABEL, "feed audio files")
        if not path.strip():
            raise ValueError("choose an audio file to feed")
        file = Path(path.strip()).expanduser()
        seen: list[NameOffered | NameGiven] = []
        lock = threading.Lock()

        def keep(event: NameOffered | NameGiven) -> None:  # this thread: the bus is synchronous
            with lock:
                seen.append(event)

        bus = self._runtime.bus
        unsubscribe = [bus.subscribe(NameOffered, keep), bus.subscribe(NameGiven, keep)]
        try:
            heard = self._runtime.speech.feed_audio(camera, file)
        finally:
            for stop in unsubscribe:
                stop()
        with lock:
            outcome = outcome_of(heard, camera, seen, self._runtime.introductions is not None)
        return HeardInFile(
            camera=camera,
            file=file.name,
            transcript=heard.transcript,
            name=heard.name,
            outcome=outcome,
            audio_s=heard.audio_s,
            seconds_taken=heard.seconds_taken,
        )

    def hear(self, camera: str, samples: Any, rate_hz: int, captured_at: datetime) -> bool:
        """Queued for the camera's speech worker (never blocks): the GUI thread may call it."""
        return self._runtime.speech.hear(camera, samples, rate_hz, captured_at)

    def set_microphone_status(self, camera: str, listening: bool, detail: str) -> None:
        self._runtime.speech.set_microphone_status(camera, listening, detail)

    def _introductions(self) -> Introductions:
        introductions = self._runtime.introductions
        if introductions is None:
            raise IntroductionError(
                "names are given on the site's engines, not in this attached console"
                if self._runtime.attached
                else "this engine gives no names (it has no database)"
            )
        return introductions
