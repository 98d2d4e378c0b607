"""Names heard in introductions (:func:`engine.speech.service.names_in_file`): accuracy and
speed of the Whisper recogniser and the name extraction, for both shipped models (``base``
and ``tiny.en``) side by side, each on one CPU thread as the engine runs it.

Two sets:

- ``testdata``: ``../shared/testdata/audio`` (manifest: file|expected name|transcript).
  Figures: ``names_exact`` of ``introductions``, ``false_names`` on the non-introductions,
  ``rtf`` (processing time / audio duration, median of ``ROUNDS`` runs; target ≤ 0.5).
- ``espeak``: a larger set synthesised now with espeak-ng into a temporary folder (nothing
  kept): ``len(NAMES)`` introductions in ``len(VOICES)`` voices, ``len(RATES_WPM)`` rates and
  ``len(PHRASINGS)`` phrasings, with names from several languages, about half of them not
  in ``resources/first_names.txt`` (``unknown_names``), and ``len(ORDINARY)`` ordinary
  sentences built to tempt ("I'm fine", "this is the front door", "call me later").
  Figures: ``accuracy`` (exact names; also for listed and unlisted names apart), misses by
  kind (no name heard; the same sound spelled otherwise, e.g. Chivon for Siobhan; misheard),
  ``false_names``, ``rtf`` (one run). Each miss lists what Whisper wrote and how espeak-ng
  pronounced the name (its phonemes), the evidence for a name nobody could hear as written.
  Skipped (``espeak: null``) without espeak-ng (``scripts/bootstrap.sh --dev`` installs it).

``python -m benchmarks.speech_names`` or ``watchfloor bench speech_names``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from engine.speech.names import load_first_names, sound_key
from engine.speech.recognise import MODELS, SpeechRecogniser
from engine.speech.service import names_in_file

AUDIO_DIR = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "audio"
ROUNDS = 3
TARGET_RTF = 0.5
TARGET_ACCURACY = 0.9
VOICES = (
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
RATES_WPM = (130, 150, 175)
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
    pronounced: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Exact names, false names and the median real-time factor over ``rounds`` runs."""
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
                    misses.append(
                        {"said": path.name, "name": result.name, "heard": result.transcript}
                    )
                continue
            kind = "known" if expected.lower() in known else "unlisted"
            total_by_kind[kind] += 1
            if result.name == expected:
                exact += 1
                exact_by_kind[kind] += 1
            else:
                why = _miss_kind(expected, result.name)
                kinds[why] += 1
                miss = {
                    "expected": expected,
                    "name": result.name,
                    "why": why,
                    "heard": result.transcript,
                }
                if pronounced is not None:
                    miss["espeak"] = pronounced.get(path.name, "")
                misses.append(miss)
        rtfs.append(taken / audio)
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
        "misses": misses,
    }


def _miss_kind(expected: str, name: str | None) -> str:
    """Why a name was missed: ``no_name`` (no introduction heard), ``spelled_otherwise``
    (the same sound written another way: Chivon for Siobhan, Thomas for Tomasz, the same
    sound key or at most a third of the letters changed), or ``misheard``."""
    if name is None:
        return "no_name"
    a, b = expected.lower(), name.lower()
    if sound_key(a) == sound_key(b) or _distance(a, b) <= max(1, len(a) // 3):
        return "spelled_otherwise"
    return "misheard"


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def espeak_set(folder: Path) -> tuple[list[tuple[Path, str | None]], dict[str, str]]:
    """The synthesised cases (path, expected name) and, per file, the phonemes espeak-ng
    spoke for the name (its ``-x`` notation, e.g. Siobhan → ``SI2v'O:n``)."""
    cases: list[tuple[Path, str | None]] = []
    pronounced: dict[str, str] = {}
    for index, name in enumerate(NAMES):
        text = PHRASINGS[index % len(PHRASINGS)].format(name)
        path = _speak(folder, index, text)
        pronounced[path.name] = _phonemes(name, VOICES[index % len(VOICES)])
        cases.append((path, name))
    for index, sentence in enumerate(ORDINARY, start=len(NAMES)):
        cases.append((_speak(folder, index, sentence), None))
    return cases, pronounced


def _speak(folder: Path, index: int, text: str) -> Path:
    path = folder / f"utt_{index:03d}.wav"
    voice = VOICES[index % len(VOICES)]
    rate = RATES_WPM[(index // len(VOICES)) % len(RATES_WPM)]
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def _phonemes(name: str, voice: str) -> str:
    done = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", voice, name], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {"models": {}}
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as folder:
        cases: list[tuple[Path, str | None]] | None = None
        pronounced: dict[str, str] = {}
        if shutil.which("espeak-ng") is not None:
            cases, pronounced = espeak_set(Path(folder))
            known = load_first_names()
            figures["espeak_set"] = {
                "introductions": len(NAMES),
                "unlisted_names": sum(1 for n in NAMES if n.lower() not in known),
                "non_introductions": len(ORDINARY),
                "voices": len(VOICES),
                "rates_wpm": list(RATES_WPM),
            }
        for model in MODELS:
            with SpeechRecogniser(model) as recogniser:
                row: dict[str, Any] = {"testdata": _score(recogniser, _manifest(), ROUNDS)}
                row["espeak"] = None if cases is None else _score(recogniser, cases, 1, pronounced)
            testdata, espeak = row["testdata"], row["espeak"]
            row["target_met"] = (
                testdata["names_exact"] == testdata["introductions"]
                and testdata["false_names"] == 0
                and testdata["rtf"] <= TARGET_RTF
                and (
                    espeak is None
                    or (espeak["accuracy"] >= TARGET_ACCURACY and espeak["false_names"] == 0)
                )
            )
            figures["models"][model] = row
    figures["target_rtf"] = TARGET_RTF
    figures["target_accuracy"] = TARGET_ACCURACY
    return figures


if __name__ == "__main__":
    print(json.dumps({"benchmark": "speech_names", **run()}))
