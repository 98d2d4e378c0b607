"""Voice activity detection: a stream of audio chunks cut into utterances.

Energy-based, per 10 ms frame, against an adaptive noise floor: the floor follows quiet
frames quickly downwards and slowly upwards, so a steady hum (fan, traffic) becomes the floor
and speech is what rises ``SPEECH_MARGIN_DB`` above it. Speech must last ``MIN_SPEECH_S`` to
open an utterance; an utterance ends after ``HANGOVER_S`` of quiet (the pauses between words
stay inside it) or at ``MAX_UTTERANCE_S``. Each utterance keeps ``PRE_ROLL_S`` of audio from
before its onset, so the first consonant is not cut.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from engine.speech.audio import SAMPLE_RATE_HZ, Samples

FRAME_S = 0.01
FRAME_SAMPLES = round(FRAME_S * SAMPLE_RATE_HZ)
SPEECH_MARGIN_DB = 12.0  # a frame this far above the noise floor is speech
MIN_FLOOR_DB = 30.0  # floor never below this (digital silence would make any hiss "speech")
FLOOR_FALL = 0.2  # per quiet frame: how fast the floor follows quieter audio down
FLOOR_RISE = 0.005  # ...and louder background up (slowly, so speech does not raise it)
MIN_SPEECH_S = 0.1
HANGOVER_S = 0.5
PRE_ROLL_S = 0.2
MAX_UTTERANCE_S = 15.0


@dataclass(frozen=True, slots=True)
class Utterance:
    """One stretch of speech: ``start_s`` seconds from the start of the stream, and its
    16 kHz mono samples (with the pre-roll before the onset)."""

    start_s: float
    samples: Samples

    @property
    def duration_s(self) -> float:
        return self.samples.size / SAMPLE_RATE_HZ


def frame_energy_db(frame: Samples) -> float:
    """Mean power of a frame of int16 samples in dB (0 dB: digital silence)."""
    power = float(np.mean(frame.astype(np.float64) ** 2)) if frame.size else 0.0
    return 10.0 * math.log10(power + 1.0)


class VoiceActivityDetector:
    """Cuts a stream of 16 kHz int16 chunks into :class:`Utterance` s. Not thread-safe:
    one stream, one caller (the speech service's thread)."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, np.int16)
        self._frames_seen = 0
        self._floor_db: float | None = None
        self._pre_roll: deque[Samples] = deque(maxlen=round(PRE_ROLL_S / FRAME_S))
        self._speech: list[Samples] = []
        self._speech_start_frame = 0
        self._loud_run = 0
        self._quiet_run = 0
        self._in_utterance = False

    @property
    def noise_floor_db(self) -> float | None:
        return self._floor_db

    def push(self, samples: Samples) -> list[Utterance]:
        """Feed the next chunk (any length); returns the utterances it completed."""
        data = np.concatenate([self._pending, samples]) if self._pending.size else samples
        whole = data.size // FRAME_SAMPLES * FRAME_SAMPLES
        self._pending = data[whole:].copy()
        done: list[Utterance] = []
        for offset in range(0, whole, FRAME_SAMPLES):
            utterance = self._frame(data[offset : offset + FRAME_SAMPLES])
            if utterance is not None:
                done.append(utterance)
        return done

    def flush(self) -> list[Utterance]:
        """The end of the stream: the utterance in progress, if any, ends here."""
        if self._pending.size:
            self._pending = np.zeros(0, np.int16)
        if self._in_utterance and self._speech:
            return [self._close()]
        return []

    def _frame(self, frame: Samples) -> Utterance | None:
        energy = frame_energy_db(frame)
        index = self._frames_seen
        self._frames_seen += 1
        if self._floor_db is None:
            self._floor_db = max(energy, MIN_FLOOR_DB)
        loud = energy > self._floor_db + SPEECH_MARGIN_DB
        if not loud:
            rate = FLOOR_FALL if energy < self._floor_db else FLOOR_RISE
            self._floor_db = max(MIN_FLOOR_DB, self._floor_db + rate * (energy - self._floor_db))
        if not self._in_utterance:
            self._pre_roll.append(frame)
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run * FRAME_S >= MIN_SPEECH_S:
                self._in_utterance = True
                self._quiet_run = 0
                self._speech = list(self._pre_roll)
                self._speech_start_frame = index + 1 - len(self._speech)
                self._pre_roll.clear()
            return None
        self._speech.append(frame)
        self._quiet_run = 0 if loud else self._quiet_run + 1
        if self._quiet_run * FRAME_S >= HANGOVER_S or len(self._speech) * FRAME_S >= (
            MAX_UTTERANCE_S
        ):
            return self._close()
        return None

    def _close(self) -> Utterance:
        # Keep a little of the quiet that ended it (the recogniser pads the rest).
        keep = len(self._speech) - max(0, self._quiet_run - round(0.2 / FRAME_S))
        utterance = Utterance(
            self._speech_start_frame * FRAME_S, np.concatenate(self._speech[:keep])
        )
        self._speech = []
        self._in_utterance = False
        self._loud_run = 0
        self._quiet_run = 0
        return utterance


def split_utterances(chunks: Iterable[Samples]) -> Iterator[Utterance]:
    """Every utterance in a finite stream of 16 kHz int16 chunks, in order."""
    vad = VoiceActivityDetector()
    for chunk in chunks:
        yield from vad.push(chunk)
    yield from vad.flush()
