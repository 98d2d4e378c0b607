"""Names heard in introductions (:func:`engine.speech.service.names_in_file`): accuracy and
speed of the Whisper recogniser and the name extraction, for both shipped models (``base``
and ``tiny.en``) side by side in one run, each on one CPU thread as the engine runs it.

Two sets:

- ``testdata``: ``../shared/testdata/audio`` (manifest: file|expected name|transcript).
  Figures: ``names_exact`` of ``introductions``, ``false_names`` on the non-introductions,
  ``rtf`` (processing time / audio duration, median of ``ROUNDS`` runs; target ≤ 0.5).
- ``synthesised``: a larger set synthesised now into a temporary folder (nothing kept) by
  three offline synthesisers from Debian (``SYNTHESISERS``): espeak-ng (formant synthesis,
  9 voices), flite (5 built-in voices: kal, kal16, awb, rms, slt) and festival (the
  HTS voice cmu_us_slt_arctic_hts and the diphone voice kal_diphone), each at 3 rates. Each
  synthesiser says all ``len(NAMES)`` introductions (``len(PHRASINGS)`` phrasings; names
  from several languages, some not in ``resources/first_names.txt``: ``unlisted_names``) and
  the ``len(ORDINARY)`` ordinary sentences built to tempt ("I'm fine", "this is the front
  door", "My name is on the visitor list"). The files go through the product's audio path
  (:func:`engine.speech.audio.read_audio`: whatever rate a voice writes, 8, 16 or 32 kHz,
  is resampled to 16 kHz mono). Figures per synthesiser and ``overall``: ``accuracy``
  (exact names; also for listed and unlisted names apart), misses by kind (no name heard;
  the same sound spelled otherwise, e.g. Chivon for Siobhan; misheard), ``false_names``,
  ``rtf`` (one run); ``side_by_side`` puts base and tiny.en next to each other. Each miss
  lists what Whisper wrote and how the synthesiser pronounced the name (espeak-ng's ``-x``
  phonemes, flite's and festival's phone segments), the evidence for a name nobody could
  hear as written. espeak-ng says many names as nobody would, so its figure is kept apart
  (``espeak-ng``) as well as in ``overall``; ``natural`` is flite and festival together.
  A synthesiser that is not installed is skipped and listed in ``missing_synthesisers``
  (``scripts/bootstrap.sh --dev`` installs all three).

``python -m benchmarks speech_names`` or ``python -m benchmarks speech_names``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.speech.names import edit_distance, load_first_names, sound_key
from engine.speech.recognise import MODELS, SpeechRecogniser
from engine.speech.service import names_in_file

AUDIO_DIR = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "audio"
ROUNDS = 5
TARGET_RTF = 0.5
TARGET_ACCURACY = 0.9
ESPEAK_VOICES = (
    "en-us",
    "en-gb",
    "en-us+f3",
    "en-gb-x-rp",
    "en+m3",
    "en-gb-scotland",
    "en-us+f2",
    "en-029",
    "en+f4",
)
ESPEAK_RATES_WPM = (130, 150, 175)
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = ("cmu_us_slt_arctic_hts", "kal_diphone")
# Slower, as the voice speaks, faster: how much longer each sound is held (flite's and
# festival's duration stretch; the HTS voice takes the inverse, a speed).
STRETCHES = (1.25, 1.0, 0.85)

PHRASINGS = (
    "Hello, my name is {}.",
    "Hi, I'm {}.",
    "This is {} speaking.",
    "Please call me {}.",
    "I am {}.",
    "Good morning, my name is {}, nice to meet you.",
    "Hi there, I'm {}.",
    "My name is {}.",
    "Hello everyone, my name is {} and I work in maintenance.",
    "Good evening, I'm {}, here for the night shift.",
)
# Names from English, Spanish, Italian, Portuguese, Irish, Nordic, German, French, Slavic,
# Yoruba, Igbo, Akan, Zulu, Swahili, Arabic, Persian, Turkish, Hindi, Tamil, Bengali,
# Chinese, Japanese, Korean and Vietnamese use.
NAMES = (
    "Priya",
    "Miguel",
    "Oluwaseun",
    "Siobhan",
    "Hiroshi",
    "Fatima",
    "Giulia",
    "Dmitri",
    "Sarah",
    "Kwame",
    "Ingrid",
    "Sven",
    "Lars",
    "Chiara",
    "Deepak",
    "Ananya",
    "Chinedu",
    "Zainab",
    "Leila",
    "Reza",
    "Tomasz",
    "Bogdan",
    "Olga",
    "Nikolai",
    "Svetlana",
    "Camille",
    "Klaus",
    "Thabo",
    "Mei",
    "Kofi",
    "Emeka",
    "Tariq",
    "Ravi",
    "Anjali",
    "Kenji",
    "Yuki",
    "Minh",
    "Joon",
    "Mehmet",
    "Emre",
    "Farid",
    "Hamza",
    "Amina",
    "Wanjiru",
    "Baraka",
    "Joao",
    "Rafael",
    "Lucia",
    "Javier",
    "Matteo",
    "Francesca",
    "Pierre",
    "Amelie",
    "Niamh",
    "Declan",
    "Magnus",
    "Astrid",
    "Helga",
    "Juergen",
    "Wojciech",
    "Nadia",
    "Ahmed",
    "David",
    "Maria",
    "Kavya",
    "Arjun",
)
ORDINARY = (
    "I'm fine, thank you.",
    "This is the front door.",
    "Call me later tonight.",
    "I am here to fix the heating.",
    "This is great news.",
    "The package arrived at the front door this morning.",
    "Please close the gate behind you.",
    "Is anyone in the parking lot?",
    "We need more coffee in the kitchen.",
    "The camera on the second floor is offline.",
    "I'm going to the car park now.",
    "Call me when the delivery arrives.",
    "This is reception, how can I help?",
    "I am sorry, I am late.",
    "My name is on the visitor list.",
    "I'm looking for the lift.",
)


@dataclass(frozen=True, slots=True)
class Synthesiser:
    """One offline synthesiser: its program, voices and rates, how it writes a WAV of a
    sentence and how it pronounces a name (its phonemes, the evidence for a miss)."""

    name: str
    program: str
    voices: tuple[str, ...]
    rates: tuple[float, ...]
    speak: Callable[[str, float, str, Path], None]
    phonemes: Callable[[str, str], str]


def _run(command: list[str], stdin: str | None = None) -> str:
    done = subprocess.run(command, check=True, capture_output=True, text=True, input=stdin)
    return str(done.stdout).strip()


def _espeak_speak(voice: str, rate: float, text: str, path: Path) -> None:
    _run(["espeak-ng", "-v", voice, "-s", str(int(rate)), "-w", str(path), text])


def _espeak_phonemes(voice: str, name: str) -> str:
    return _run(["espeak-ng", "-q", "-x", "-v", voice, name])


def _flite_speak(voice: str, rate: float, text: str, path: Path) -> None:
    _run(
        [
            "flite",
            "-voice",
            voice,
            "--setf",
            f"duration_stretch={rate}",
            "-t",
            text,
            "-o",
            str(path),
        ]
    )


def _flite_phonemes(voice: str, name: str) -> str:
    return _run(["flite", "-voice", voice, "-ps", "-t", name, "-o", "none"])


def _festival_voice(voice: str, rate: float) -> list[str]:
    select = f"(voice_{voice})"
    if voice.endswith("_hts"):  # the HTS engine ignores Duration_Stretch; it takes a speed
        speed = f'(set! hts_engine_params (append hts_engine_params \'(("-r" {1 / rate:.3f}))))'
        return ["-eval", select, "-eval", speed]
    return ["-eval", select, "-eval", f"(Parameter.set 'Duration_Stretch {rate})"]


def _festival_speak(voice: str, rate: float, text: str, path: Path) -> None:
    text_file = path.with_suffix(".txt")
    text_file.write_text(text, encoding="utf-8")
    _run(["text2wave", *_festival_voice(voice, rate), str(text_file), "-o", str(path)])


def _festival_phonemes(voice: str, name: str) -> str:
    script = (
        f"(voice_{voice}) (set! u (utt.synth (Utterance Text {json.dumps(name)}))) "
        '(format t "%l\\n" (mapcar item.name (utt.relation.items u \'Segment)))'
    )
    return _run(["festival", "--pipe"], stdin=script).strip("()").replace('"', "")


SYNTHESISERS = (
    Synthesiser(
        "espeak-ng", "espeak-ng", ESPEAK_VOICES, ESPEAK_RATES_WPM, _espeak_speak, _espeak_phonemes
    ),
    Synthesiser("flite", "flite", FLITE_VOICES, STRETCHES, _flite_speak, _flite_phonemes),
    Synthesiser(
        "festival", "text2wave", FESTIVAL_VOICES, STRETCHES, _festival_speak, _festival_phonemes
    ),
)


@dataclass(frozen=True, slots=True)
class Clip:
    """One synthesised sentence: its file, the name it introduces (None: none), and who
    said it how."""

    path: Path
    expected: str | None
    synthesiser: Synthesiser
    voice: str
    rate: float
    text: str


def synthesise(synthesiser: Synthesiser, folder: Path) -> list[Clip]:
    """Every introduction (``NAMES`` in ``PHRASINGS``) and ``ORDINARY`` sentence, said by
    ``synthesiser``: clip ``i`` in voice ``i mod voices`` at rate ``(i div voices) mod 3``
    and phrasing ``i mod phrasings`` (for espeak-ng, the same clips as before flite and
    festival joined the set)."""
    sentences: list[tuple[str, str | None]] = [
        (PHRASINGS[index % len(PHRASINGS)].format(name), name) for index, name in enumerate(NAMES)
    ]
    sentences += [(sentence, None) for sentence in ORDINARY]
    clips = []
    for index, (text, expected) in enumerate(sentences):
        voice = synthesiser.voices[index % len(synthesiser.voices)]
        rate = synthesiser.rates[(index // len(synthesiser.voices)) % len(synthesiser.rates)]
        path = folder / f"{synthesiser.name}_{index:03d}.wav"
        synthesiser.speak(voice, rate, text, path)
        clips.append(Clip(path, expected, synthesiser, voice, rate, text))
    return clips


def _manifest() -> list[tuple[Path, str | None]]:
    rows = []
    for line in (AUDIO_DIR / "manifest.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            file, name, _transcript = line.split("|", 2)
            rows.append((AUDIO_DIR / file, name or None))
    return rows


def _score(
    recogniser: SpeechRecogniser,
    cases: list[tuple[Path, str | None]],
    rounds: int,
    evidence: Callable[[Path], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Exact names, false names and the median real-time factor over ``rounds`` runs;
    ``evidence`` adds to each miss how its clip was said."""
    known = load_first_names()
    rtfs: list[float] = []
    exact = false_names = 0
    exact_by_kind = {"known": 0, "unlisted": 0}
    total_by_kind = {"known": 0, "unlisted": 0}
    misses: list[dict[str, Any]] = []
    kinds = {"spelled_otherwise": 0, "misheard": 0, "no_name": 0}
    for round_index in range(rounds):
        audio = taken = 0.0
        for path, expected in cases:
            result = names_in_file(path, recogniser)
            audio += result.audio_s
            taken += result.seconds_taken
            if round_index:
                continue
            if expected is None:
                if result.name is not None:
                    false_names += 1
                    false: dict[str, Any] = {
                        "said": path.name,
                        "name": result.name,
                        "heard": result.transcript,
                    }
                    if evidence is not None:
                        false.update(evidence(path))
                    misses.append(false)
                continue
            kind = "known" if expected.lower() in known else "unlisted"
            total_by_kind[kind] += 1
            if result.name == expected:
                exact += 1
                exact_by_kind[kind] += 1
            else:
                why = _miss_kind(expected, result.name)
                kinds[why] += 1
                miss: dict[str, Any] = {
                    "expected": expected,
                    "name": result.name,
                    "why": why,
                    "heard": result.transcript,
                }
                if evidence is not None:
                    miss.update(evidence(path))
                misses.append(miss)
        rtfs.append(taken / audio)
        audio_s = audio
    introductions = sum(1 for _p, expected in cases if expected is not None)
    return {
        "introductions": introductions,
        "names_exact": exact,
        "accuracy": round(exact / introductions, 3) if introductions else None,
        "known_exact": f"{exact_by_kind['known']}/{total_by_kind['known']}",
        "unlisted_exact": f"{exact_by_kind['unlisted']}/{total_by_kind['unlisted']}",
        "misses_by_kind": kinds,
        "non_introductions": len(cases) - introductions,
        "false_names": false_names,
        "rtf": round(statistics.median(rtfs), 3),
        "rtf_runs": [round(r, 3) for r in rtfs],
        "audio_s": round(audio_s, 1),
        "misses": misses,
    }


def _score_clips(recogniser: SpeechRecogniser, clips: list[Clip]) -> dict[str, Any]:
    """:func:`_score` of one synthesiser's clips (one run), each miss with the voice, rate
    and sentence, and for a missed name the synthesiser's phonemes for it."""
    by_path = {clip.path: clip for clip in clips}

    def evidence(path: Path) -> dict[str, Any]:
        clip = by_path[path]
        said: dict[str, Any] = {"voice": clip.voice, "rate": clip.rate, "text": clip.text}
        if clip.expected is not None:
            said["phonemes"] = clip.synthesiser.phonemes(clip.voice, clip.expected)
        return said

    return _score(recogniser, [(c.path, c.expected) for c in clips], 1, evidence)


def _miss_kind(expected: str, name: str | None) -> str:
    """Why a name was missed: ``no_name`` (no introduction heard), ``spelled_otherwise``
    (the same sound written another way: Chivon for Siobhan, Thomas for Tomasz, the same
    sound key or at most a third of the letters changed), or ``misheard``."""
    if name is None:
        return "no_name"
    a, b = expected.lower(), name.lower()
    ceiling = max(1, len(a) // 3)
    if sound_key(a) == sound_key(b) or edit_distance(a, b, ceiling) <= ceiling:
        return "spelled_otherwise"
    return "misheard"


def _summary(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Several synthesisers' scores taken together (no misses listed)."""
    introductions = sum(s["introductions"] for s in scores)
    exact = sum(s["names_exact"] for s in scores)
    audio = sum(s["audio_s"] for s in scores)

    def fraction(key: str) -> str:
        pairs = [s[key].split("/") for s in scores]
        return f"{sum(int(a) for a, _ in pairs)}/{sum(int(b) for _, b in pairs)}"

    return {
        "introductions": introductions,
        "names_exact": exact,
        "accuracy": round(exact / introductions, 3) if introductions else None,
        "known_exact": fraction("known_exact"),
        "unlisted_exact": fraction("unlisted_exact"),
        "misses_by_kind": {
            kind: sum(s["misses_by_kind"][kind] for s in scores)
            for kind in scores[0]["misses_by_kind"]
        },
        "non_introductions": sum(s["non_introductions"] for s in scores),
        "false_names": sum(s["false_names"] for s in scores),
        "rtf": round(sum(s["rtf"] * s["audio_s"] for s in scores) / audio, 3) if audio else None,
    }


def run() -> dict[str, Any]:
    known = load_first_names()
    figures: dict[str, Any] = {
        "synthesised_set": {
            "per_synthesiser": {
                "introductions": len(NAMES),
                "unlisted_names": sum(1 for n in NAMES if n.lower() not in known),
                "non_introductions": len(ORDINARY),
                "phrasings": len(PHRASINGS),
            },
            "synthesisers": {
                s.name: {"voices": list(s.voices), "rates": list(s.rates)} for s in SYNTHESISERS
            },
        },
        "missing_synthesisers": [s.name for s in SYNTHESISERS if shutil.which(s.program) is None],
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as folder:
        clips = {
            s.name: synthesise(s, Path(folder))
            for s in SYNTHESISERS
            if shutil.which(s.program) is not None
        }
        for model in MODELS:
            with SpeechRecogniser(model) as recogniser:
                row: dict[str, Any] = {"testdata": _score(recogniser, _manifest(), ROUNDS)}
                synthesised = {name: _score_clips(recogniser, set_) for name, set_ in clips.items()}
            natural = [synthesised[n] for n in ("flite", "festival") if n in synthesised]
            row["synthesised"] = {
                "overall": _summary(list(synthesised.values())) if synthesised else None,
                "natural": _summary(natural) if natural else None,
                **synthesised,
            }
            testdata, overall = row["testdata"], row["synthesised"]["overall"]
            row["target_met"] = (
                testdata["names_exact"] == testdata["introductions"]
                and testdata["false_names"] == 0
                and testdata["rtf"] <= TARGET_RTF
                and (
                    overall is None
                    or (overall["accuracy"] >= TARGET_ACCURACY and overall["false_names"] == 0)
                )
            )
            figures["models"][model] = row
    figures["side_by_side"] = _side_by_side(figures["models"])
    figures["target_rtf"] = TARGET_RTF
    figures["target_accuracy"] = TARGET_ACCURACY
    return figures


def _side_by_side(models: dict[str, Any]) -> dict[str, dict[str, str]]:
    """One line per set: each model's exact names, false names and real-time factor."""
    table: dict[str, dict[str, str]] = {}
    for model, row in models.items():
        sets = {"testdata": row["testdata"], **row["synthesised"]}
        for name, score in sets.items():
            if score is None:
                continue
            table.setdefault(name, {})[model] = (
                f"{score['names_exact']}/{score['introductions']} exact, "
                f"{score['false_names']}/{score['non_introductions']} false, "
                f"rtf {score['rtf']}"
            )
    return table


if __name__ == "__main__":
    print(json.dumps({"benchmark": "speech_names", **run()}))
