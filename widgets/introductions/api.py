"""What the Introductions pane asks of the console (:class:`IntroductionActions`): the
names given and what feeding an audio file heard.

No Qt here (``import widgets.introductions.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engine.introductions import NameGiven, NameOffered

RECENT_NAMES = 20  # names given recently, newest first
SAME_GIVEN_S = 2.0  # a live given name and its stored row are the same within this


@dataclass(frozen=True, slots=True)
class HeardInFile:
    """What feeding one audio file heard: the ``camera`` it was fed as, the ``file``'s
    name, the ``transcript``, the introduced ``name`` (None: nobody introduced), what the
    engine did with that name (``outcome``: "offered", "given to … at once", "not offered:
    …"; "" without a name), and seconds of audio and of recognition."""

    camera: str
    file: str
    transcript: str
    name: str | None
    outcome: str = ""
    audio_s: float = 0.0
    seconds_taken: float = 0.0


@dataclass(frozen=True, slots=True)
class GivenName:
    """A name given from an introduction: when, on which camera, to whom (their id, and
    the name they had before), and by whom (an audit label: ``account:olga``,
    ``engine:introductions`` for the setting)."""

    at: datetime
    camera: str | None
    person_id: str | None
    name: str
    previous: str | None
    by: str

    @classmethod
    def from_event(cls, given: NameGiven) -> GivenName:
        return cls(given.at, given.camera, given.person_id, given.name, given.previous, given.actor)

    def same_as(self, other: GivenName) -> bool:
        """Whether ``other`` is this naming (a live event and its stored row)."""
        return (self.person_id, self.name, self.by) == (
            other.person_id,
            other.name,
            other.by,
        ) and abs((self.at - other.at).total_seconds()) <= SAME_GIVEN_S


class IntroductionActions(Protocol):
    """What the pane asks of the console. Every call blocks (the store writer, the store,
    seconds of speech recognition): the pane runs them off the GUI thread."""

    def offers(self) -> list[NameOffered]:
        """The offers nobody has decided on yet, oldest first."""
        ...

    def recent_names(self) -> list[GivenName]:
        """Names given from introductions, newest first."""
        ...

    def give(self, offer_id: int) -> NameGiven:
        """Give offer ``offer_id``'s name to its person; the engine checks and audits it."""
        ...

    def dismiss(self, offer_id: int) -> None:
        """Forget offer ``offer_id`` (nobody is named)."""
        ...

    def feed_audio(self, camera: str, path: str) -> HeardInFile:
        """Recognise the audio file ``path`` as if ``camera``'s microphone heard it."""
        ...

    def hear(self, camera: str, samples: Any, rate_hz: int, captured_at: datetime) -> bool:
        """A microphone's audio, queued for the camera's speech worker. Never blocks (a
        chunk the full queue refuses is dropped, False): called on the GUI thread."""
        ...

    def set_microphone_status(self, camera: str, listening: bool, detail: str) -> None:
        """What this console's capture says of ``camera``'s microphone (memory only)."""
        ...
