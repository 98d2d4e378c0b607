"""The speech service: audio chunks in, ``speech.name_heard`` events out.

Any audio source (a microphone's capture callback, a file fed by the console) calls
:meth:`SpeechService.push` with chunks of int16 samples, their sample rate and the capture
time of the chunk's first sample. One thread ("speech-worker") resamples, cuts utterances
with voice activity detection, recognises them with Whisper and extracts introduced names,
publishing a :class:`NameHeard` on the bus for each. :func:`names_in_file` does the same for
a whole file without a thread or a bus (the CLI).
"""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from engine.bus import EventBus
from engine.events import Event, EventRecord
from engine.speech.audio import Samples, duration_s, read_audio, resample, to_mono_int16
from engine.speech.recognise import Pass, Recognition, SpeechRecogniser
from engine.speech.vad import Utterance, VoiceActivityDetector, split_utterances
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

QUEUE_CHUNKS = 256  # live: ~25 s of 100 ms chunks; a stalled worker drops rather than grows
FILE_CHUNK_S = 0.1  # a file is cut into chunks this long for the VAD
LONG_FILE_S = 15.0  # files longer than this are cut into utterances first


@dataclass(frozen=True, slots=True, kw_only=True)
class NameHeard(Event):
    """Someone said their name near a microphone. ``at``: when the utterance began.
    Published on the speech worker's thread. ``camera`` is the camera the microphone belongs
    to (None: a microphone on its own); ``pass_used``: the Whisper model that heard it;
    ``confidence``: Whisper's certainty of the transcript (0–1); ``heard_as``: the name as
    Whisper first spelled it, when a listed spelling was taken instead ("Demetri")."""

    name: str
    transcript: str
    pass_used: Pass
    confidence: float | None
    microphone: str
    camera: str | None = None
    heard_as: str | None = None

    def record(self) -> EventRecord:
        source = f"camera:{self.camera}" if self.camera else f"microphone:{self.microphone}"
        return EventRecord(
            "speech.name_heard",
            source,
            {
                "name": self.name,
                "transcript": self.transcript,
                "pass": self.pass_used,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "microphone": self.microphone,
                "heard_as": self.heard_as,
            },
        )


@dataclass(frozen=True, slots=True)
class _Chunk:
    samples: Samples
    rate_hz: int
    captured_at: datetime


class SpeechService:
    """Listens to one microphone's audio on its own thread.

    :meth:`push` is called from the audio source's thread (never blocks; a full queue drops
    the chunk and counts it in ``chunks_dropped``); :meth:`stop` drains what was pushed.
    The recogniser may be shared with other services (its calls are serialised); one
    created here is closed by :meth:`stop`."""

    def __init__(
        self,
        bus: EventBus,
        microphone: str,
        *,
        camera: str | None = None,
        recogniser: SpeechRecogniser | None = None,
    ) -> None:
        self._bus = bus
        self.microphone = microphone
        self.camera = camera
        self._own_recogniser = recogniser is None
        self._recogniser = recogniser
        self._queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._vad = VoiceActivityDetector()
        self._stream_start: datetime | None = None
        self._thread = SupervisedThread(self._run, name="speech-worker")
        self.chunks_dropped = 0
        self.utterances = 0
        self.names_heard = 0
        self.failures = 0

    def start(self) -> None:
        """Load the recogniser (Whisper base, under a second) and start the worker thread."""
        if self._recogniser is None:
            self._recogniser = SpeechRecogniser()
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the pushed audio (the utterance in progress ends there), end the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)
        if self._own_recogniser and self._recogniser is not None:
            self._recogniser.close()

    def push(self, samples: Any, rate_hz: int, captured_at: datetime) -> bool:
        """Queue a chunk (copied): int16 or float (−1…1) samples, mono or frames × channels,
        at ``rate_hz``; ``captured_at`` is its first sample's time. False if dropped."""
        chunk = _Chunk(to_mono_int16(samples).copy(), rate_hz, captured_at)
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:
            self.chunks_dropped += 1
            return False
        return True

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                self._handle(self._vad.flush())
                return
            if self._stream_start is None:
                self._stream_start = chunk.captured_at
            try:
                self._handle(self._vad.push(resample(chunk.samples, chunk.rate_hz)))
            except Exception:
                self.failures += 1
                log.exception("speech: a chunk from microphone %s failed", self.microphone)

    def _handle(self, utterances: list[Utterance]) -> None:
        assert self._recogniser is not None
        for utterance in utterances:
            self.utterances += 1
            try:
                result = self._recogniser.recognise(utterance.samples)
            except Exception:
                self.failures += 1
                log.exception("speech: recognition failed on microphone %s", self.microphone)
                continue
            if result.name is None:
                continue
            self.names_heard += 1
            start = self._stream_start or datetime.now().astimezone()
            self._bus.publish(
                NameHeard(
                    at=start + timedelta(seconds=utterance.start_s),
                    name=result.name,
                    transcript=result.transcript,
                    pass_used=result.pass_used,
                    confidence=result.confidence,
                    microphone=self.microphone,
                    camera=self.camera,
                    heard_as=result.respelled_from,
                )
            )


@dataclass(frozen=True, slots=True)
class FileNames:
    """What was heard in one audio file: the transcript of all its utterances (joined),
    the first introduced name, the model that answered for it ("none" if nothing was heard)
    and its confidence (of the naming utterance, else of the last one), the name as Whisper
    first spelled it when a listed spelling was taken instead, seconds of audio and of
    processing."""

    path: Path
    transcript: str
    name: str | None
    pass_used: Pass
    confidence: float | None
    heard_as: str | None
    audio_s: float
    seconds_taken: float
    utterances: tuple[Recognition, ...]


def names_in_file(
    path: Path, recogniser: SpeechRecogniser, *, split: bool | None = None
) -> FileNames:
    """Read ``path``, recognise it and extract the introduced name. A short file (under
    ``LONG_FILE_S``, or ``split=False``) is one utterance; a long one is cut by the VAD.
    Raises :class:`~engine.speech.audio.SpeechInputError` for a file that is no audio."""
    started = time.perf_counter()
    samples = read_audio(path)
    audio_s = duration_s(samples)
    if split is None:
        split = audio_s > LONG_FILE_S
    if split:
        step = round(FILE_CHUNK_S * 16_000)
        pieces = [u.samples for u in split_utterances(_chunks(samples, step))]
    else:
        pieces = [samples]
    results = tuple(recogniser.recognise(piece) for piece in pieces)
    named = next((r for r in results if r.name is not None), None)
    answer = named or next((r for r in reversed(results) if r.transcript), None)
    return FileNames(
        path=path,
        transcript=" ".join(r.transcript for r in results if r.transcript),
        name=named.name if named else None,
        pass_used=answer.pass_used if answer else "none",
        confidence=answer.confidence if answer else None,
        heard_as=named.respelled_from if named else None,
        audio_s=audio_s,
        seconds_taken=time.perf_counter() - started,
        utterances=results,
    )


def _chunks(samples: Samples, step: int) -> list[Samples]:
    return [samples[i : i + step] for i in range(0, samples.size, step)] or [np.zeros(0, np.int16)]
