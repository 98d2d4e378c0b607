"""Speech to text with pocketsphinx 5 (its bundled en-us model), tuned for introductions.

Two passes over one utterance, on one decoder loaded once:

1. **grammar**: a JSGF grammar of introductions (``[opener] phrase NAME [trailer]``, e.g.
   "good morning, my name is X, nice to meet you") whose names are the known first names
   that the decoder's dictionary can pronounce (one spelling per pronunciation). Fast
   (≈0.05× real time here) and far more accurate on names than the general model.
2. **language model**: the general en-us model, when the grammar's answer is not believable.

A grammar always answers with *some* introduction, even for "the package arrived at the
front door", so its answer is accepted only when both hold (measured on the shared test set,
64 espeak-ng introductions and 10 non-introductions; see benchmarks/speech_names.py):

- ``coverage ≥ MIN_GRAMMAR_COVERAGE``: the grammar's words span at least 80 % of the
  frames that carry speech energy. Introductions measured 0.84–1.2 (padding and word
  boundaries make it exceed 1); an ordinary sentence forced into the grammar leaves much of
  its speech to silence and fillers (0.3–0.75), e.g. the shared non-introduction: 0.63.
- ``score_per_frame ≥ MIN_GRAMMAR_SCORE_PER_FRAME``: the best path's score (pocketsphinx
  log base 1.0001) per frame. Accepted introductions measured −18…−40; sentences that fit the
  grammar's length but not its words −42…−54.

Otherwise the language-model pass answers (it is ≈0.3–0.4× real time, so it runs only then).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from engine.speech.audio import SAMPLE_RATE_HZ, Samples, duration_s, pad_with_silence
from engine.speech.names import extract_name, load_first_names

Pass = Literal["grammar", "lm", "none"]

MIN_GRAMMAR_COVERAGE = 0.8
MIN_GRAMMAR_SCORE_PER_FRAME = -42.0  # pocketsphinx log units (base 1.0001) per 10 ms frame
# Digital silence (synthesised speech, the padding) upsets pocketsphinx's noise removal and
# cepstral mean: dither of this many LSB (standard deviation) measured 16 → 29 of 70 names.
DITHER_LSB = 5.0
SPEECH_WITHIN_DB = 35.0  # a frame within this of the loudest frame carries speech
FRAME_SAMPLES = SAMPLE_RATE_HZ // 100  # pocketsphinx's 10 ms frame
GRAMMAR_SEARCH = "introductions"
LM_SEARCH = "_default"
OPENERS = (
    "hello",
    "hi",
    "hi there",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
    "please",
)
PHRASES = ("my name is", "i'm", "i am", "this is", "call me")
TRAILERS = ("speaking", "here", "nice to meet you", "thank you")


@dataclass(frozen=True, slots=True)
class Recognition:
    """What was said in one utterance.

    ``transcript``: lower-case words of the answering pass ("" if none); ``pass_used``:
    which pass answered; ``name``: the introduced first name, if any; ``confidence``:
    pocketsphinx's posterior of the answer (0–1, often small; None without an answer);
    ``grammar_transcript``, ``coverage`` and ``score_per_frame``: the grammar pass, kept to
    explain a fallback; ``audio_s``: seconds of audio; ``seconds_taken``: processing time."""

    transcript: str
    pass_used: Pass
    name: str | None
    confidence: float | None
    grammar_transcript: str
    coverage: float
    score_per_frame: float | None
    audio_s: float
    seconds_taken: float


class SpeechRecogniser:
    """One pocketsphinx decoder with the introductions grammar and the general model.

    Loading takes about half a second; reuse one recogniser and :meth:`close` it. Calls are
    serialised by a lock (the decoder is not thread-safe), so any thread may call
    :meth:`recognise`."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        """``names``: lower case → written first names (default: the shipped list)."""
        from pocketsphinx import Decoder

        self._names = dict(load_first_names() if names is None else names)
        self._lock = threading.Lock()
        self._decoder: Any = Decoder(loglevel="FATAL")
        self.grammar_names = self._speakable(self._names)
        self._decoder.add_jsgf_string(GRAMMAR_SEARCH, introduction_grammar(self.grammar_names))
        self._logmath = self._decoder.get_logmath()

    def _speakable(self, names: Mapping[str, str]) -> tuple[str, ...]:
        """Names the dictionary can pronounce, the first spelling of each pronunciation."""
        seen: set[str] = set()
        out: list[str] = []
        for word in names:
            if not word.isalpha():
                continue
            phones = self._decoder.lookup_word(word)
            if phones and phones not in seen:
                seen.add(phones)
                out.append(word)
        return tuple(out)

    def __enter__(self) -> SpeechRecogniser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the decoder (the models take about 30 MB); the recogniser is then unusable."""
        with self._lock:
            self._decoder = None

    def recognise(self, samples: Samples) -> Recognition:
        """Recognise one utterance of 16 kHz mono int16 samples (padded here with
        silence); grammar first, the general model when the grammar's answer fails the
        rule in the module docstring. Raises RuntimeError after :meth:`close`."""
        started = time.perf_counter()
        with self._lock:
            if self._decoder is None:
                raise RuntimeError("the speech recogniser is closed")
            audio = _dithered(pad_with_silence(samples))
            speech_frames = _speech_frames(audio)
            grammar, words_frames, grammar_score, grammar_prob = self._decode(GRAMMAR_SEARCH, audio)
            coverage = words_frames / speech_frames if speech_frames else 0.0
            name = extract_name(grammar, self._names) if grammar else None
            if (
                name is not None
                and coverage >= MIN_GRAMMAR_COVERAGE
                and grammar_score is not None
                and grammar_score >= MIN_GRAMMAR_SCORE_PER_FRAME
            ):
                transcript, confidence = grammar, grammar_prob
                used: Pass = "grammar"
            else:
                transcript, _frames, _score, confidence = self._decode(LM_SEARCH, audio)
                used = "lm" if transcript else "none"
                name = extract_name(transcript, self._names) if transcript else None
        return Recognition(
            transcript=transcript,
            pass_used=used,
            name=name,
            confidence=confidence,
            grammar_transcript=grammar,
            coverage=round(coverage, 3),
            score_per_frame=grammar_score,
            audio_s=duration_s(samples),
            seconds_taken=time.perf_counter() - started,
        )

    def _decode(self, search: str, audio: Samples) -> tuple[str, int, float | None, float | None]:
        """(transcript, frames spanned by words, score per frame, posterior) of one pass."""
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(audio.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is None or not hypothesis.hypstr:
            return "", 0, None, None
        word_frames = sum(
            segment.end_frame - segment.start_frame + 1
            for segment in decoder.seg() or ()
            if not segment.word.startswith(("<", "[", "+"))
        )
        frames = max(1, decoder.n_frames())
        score = self._logmath.log(hypothesis.score) / frames if hypothesis.score > 0 else None
        return hypothesis.hypstr, word_frames, score, float(hypothesis.prob)


def introduction_grammar(names: tuple[str, ...]) -> str:
    """The JSGF grammar of introductions naming one of ``names`` (dictionary words)."""
    if not names:
        raise ValueError("no known first name can be pronounced by the speech dictionary")
    return "\n".join(
        (
            "#JSGF V1.0;",
            "grammar introductions;",
            "public <introduction> = [<opener>] <phrase> <name> [<trailer>];",
            f"<opener> = {' | '.join(OPENERS)};",
            f"<phrase> = {' | '.join(PHRASES)};",
            f"<trailer> = {' | '.join(TRAILERS)};",
            f"<name> = {' | '.join(names)};",
            "",
        )
    )


def _dithered(audio: Samples) -> Samples:
    noise = np.random.default_rng(0).normal(0.0, DITHER_LSB, audio.size)
    return np.clip(audio + noise, -32768, 32767).astype(np.int16)


def _speech_frames(audio: Samples) -> int:
    """Frames (10 ms) whose energy is within ``SPEECH_WITHIN_DB`` of the loudest one."""
    whole = audio.size // FRAME_SAMPLES * FRAME_SAMPLES
    if whole == 0:
        return 0
    frames = audio[:whole].astype(np.float64).reshape(-1, FRAME_SAMPLES)
    energy_db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1.0)
    return int(np.count_nonzero(energy_db > energy_db.max() - SPEECH_WITHIN_DB))
