"""Speech as the runtime runs it: a speech service for each camera with a microphone, all
sharing one Whisper recogniser (loaded on first use); audio files fed as if a microphone
had heard them; what the console's capture says of each microphone; the ``speech`` health
line. Heard names are offered to people by the runtime's introductions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import HealthState
from engine.health import HealthReport
from engine.settings import setting_values
from engine.speech.service import FileNames, NameHeard, SpeechService, names_in_file
from engine.store.database import Store

log = logging.getLogger(__name__)


class SpeechHost:
    """``cameras``: the cameras analysed here now (a file is fed to one of them)."""

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        store: Store | None,
        cameras: Callable[[], Collection[str]],
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._store = store
        self._cameras = cameras
        self.services: dict[str, SpeechService] = {}  # by camera
        self._recogniser: Any = None
        self._recogniser_lock = threading.Lock()
        self._problem: str | None = None
        self._microphones: dict[str, tuple[bool, str]] = {}  # camera → (listening, detail)

    def start(self, microphones: Sequence[tuple[str, str]]) -> None:
        """A speech service for each ``(camera, microphone)``. No recogniser (a Whisper
        model missing or unreadable): said in the speech health; the rest carries on."""
        if not microphones:
            return
        try:
            recogniser = self.recogniser()
        except Exception as exc:
            log.exception("speech recognition unavailable")
            self._problem = f"speech recognition unavailable: {exc}"
            return
        for camera, microphone in microphones:
            service = SpeechService(self._bus, microphone, camera=camera, recogniser=recogniser)
            service.start()
            self.services[camera] = service

    def recogniser(self) -> Any:
        """The one Whisper recogniser every microphone and fed file shares (loaded on first
        use, under a second; its calls are serialised): base, or tiny.en when the setting
        ``analytics.speech_model_tiny`` is on."""
        with self._recogniser_lock:
            if self._recogniser is None:
                from engine.speech.recognise import SpeechRecogniser

                tiny = (
                    self._store is not None
                    and setting_values(self._store)["analytics.speech_model_tiny"] == 1
                )
                self._recogniser = SpeechRecogniser("tiny.en" if tiny else "base")
            return self._recogniser

    def hear(self, camera: str, samples: Any, rate_hz: int, captured_at: datetime) -> bool:
        """Audio from ``camera``'s microphone (any thread; never blocks). False when the
        camera has no speech service or its queue is full (the chunk is dropped)."""
        service = self.services.get(camera)
        return service.push(samples, rate_hz, captured_at) if service is not None else False

    def set_microphone_status(self, camera: str, listening: bool, detail: str) -> None:
        """What the console's capture says of ``camera``'s microphone (shown in the speech
        health)."""
        self._microphones[camera] = (listening, detail)

    def feed_audio(self, camera: str, path: Path) -> FileNames:
        """Recognise an audio file as if ``camera``'s microphone had heard it: an introduced
        name is stored as heard and offered to the person nearest the camera like a live
        one. Blocks for about a third of the file's length: call it off the GUI thread.
        :class:`~engine.speech.audio.SpeechInputError` names a file that is no audio."""
        if camera not in self._cameras():
            raise ValueError(f"camera: no camera {camera!r} in this site")
        heard = names_in_file(path, self.recogniser())
        if heard.name is not None:
            self._bus.publish(
                NameHeard(
                    at=self._clock.now(),
                    name=heard.name,
                    transcript=heard.transcript,
                    pass_used=heard.pass_used,
                    confidence=heard.confidence,
                    microphone=f"file:{path.name}",
                    camera=camera,
                    heard_as=heard.heard_as,
                )
            )
        return heard

    def stop_listening(self) -> None:
        for service in self.services.values():
            service.stop()  # what was heard is recognised; its names offered

    def close(self) -> None:
        """The recogniser closed (after the introductions that offer what it heard)."""
        with self._recogniser_lock:
            if self._recogniser is not None:
                self._recogniser.close()
                self._recogniser = None

    def health(self) -> HealthReport | None:
        """The ``speech`` line (None: no microphone, nothing to say)."""
        if not (self.services or self._problem or self._microphones):
            return None
        if self._problem:
            return HealthReport("speech", HealthState.DOWN, self._problem)
        deaf = {cam: detail for cam, (on, detail) in self._microphones.items() if not on}
        if deaf:
            cam, detail = next(iter(deaf.items()))
            more = f" (+{len(deaf) - 1} more)" if len(deaf) > 1 else ""
            return HealthReport("speech", HealthState.DEGRADED, f"{cam}: {detail}{more}")
        heard = sum(s.names_heard for s in self.services.values())
        model = f" (Whisper {self._recogniser.model})" if self._recogniser is not None else ""
        return HealthReport(
            "speech",
            HealthState.OK,
            f"{len(self.services)} microphones{model}, {heard} names heard",
        )
