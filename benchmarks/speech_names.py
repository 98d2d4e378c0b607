"""Names heard in introductions (:func:`engine.speech.service.names_in_file`): accuracy and
speed of the recogniser (introductions grammar, general model as fallback) and extraction.

Two sets:

- ``testdata``: ``../shared/testdata/audio`` (manifest: file|expected name|transcript).
  Figures: ``names_exact`` of ``introductions``, ``false_names`` on the non-introductions,
  ``rtf`` (processing time / audio duration; median of ``ROUNDS`` runs; target < 0.5).
- ``espeak``: a larger set synthesised now with espeak-ng into a temporary folder (nothing
  kept): ``INTRODUCTIONS`` introductions in several voices, rates and phrasings, with names
  drawn from the known-first-names list that the recogniser can pronounce, and
  ``NON_INTRODUCTIONS`` ordinary sentences (several built to tempt: "I'm fine", "this is the
  front door", "call me later"). Figures: ``accuracy`` (exact names), ``false_names``,
  ``rtf``, and how many answers came from each pass. Skipped (``espeak: null``) without
  espeak-ng (``scripts/bootstrap.sh --dev`` installs it).

``python -m benchmarks.speech_names`` or ``watchfloor bench speech_names``.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from engine.speech.recognise import SpeechRecogniser
from engine.speech.service import names_in_file

AUDIO_DIR = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "audio"
ROUNDS = 3
TARGET_RTF = 0.5
INTRODUCTIONS = 48
NON_INTRODUCTIONS = 12
VOICES = ("en-us", "en", "en+f3", "en-us+m7", "en+m3", "en-us+f2", "en-gb-x-rp", "en+f4")
RATES_WPM = (130, 150, 170)
PHRASINGS = (
    "Hello, my name is {}.",
    "Hi, I'm {}.",
    "This is {} speaking.",
    "Please call me {}.",
    "I am {}.",
    "Good morning, my name is {}, nice to meet you.",
    "Hi there, I'm {}.",
    "My name is {}.",
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
)


def _manifest() -> list[tuple[Path, str | None]]:
    rows = []
    for line in (AUDIO_DIR / "manifest.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            file, name, _transcript = line.split("|", 2)
            rows.append((AUDIO_DIR / file, name or None))
    return rows


def _score(
    recogniser: SpeechRecogniser, cases: list[tuple[Path, str | None]], rounds: int
) -> dict[str, Any]:
    """Exact names, false names and the median real-time factor over ``rounds`` runs."""
    rtfs: list[float] = []
    exact = false_names = 0
    passes: dict[str, int] = {}
    misses: list[str] = []
    for round_index in range(rounds):
        audio = taken = 0.0
        for path, expected in cases:
            result = names_in_file(path, recogniser)
            audio += result.audio_s
            taken += result.seconds_taken
            if round_index:
                continue
            passes[result.pass_used] = passes.get(result.pass_used, 0) + 1
            if expected is None:
                false_names += result.name is not None
            elif result.name == expected:
                exact += 1
            else:
                misses.append(f"{expected}->{result.name}")
        rtfs.append(taken / audio)
    introductions = sum(1 for _p, expected in cases if expected is not None)
    return {
        "introductions": introductions,
        "names_exact": exact,
        "accuracy": round(exact / introductions, 3) if introductions else None,
        "non_introductions": len(cases) - introductions,
        "false_names": false_names,
        "rtf": round(statistics.median(rtfs), 3),
        "passes": passes,
        "misses": misses[:20],
    }


def _espeak_set(folder: Path, recogniser: SpeechRecogniser) -> list[tuple[Path, str | None]]:
    rng = random.Random(14)
    names = sorted(recogniser.grammar_names)
    cases: list[tuple[Path, str | None]] = []
    texts = [
        (PHRASINGS[i % len(PHRASINGS)], rng.choice(names).capitalize())
        for i in range(INTRODUCTIONS)
    ]
    for index, (phrasing, name) in enumerate(texts):
        cases.append((_speak(folder, index, phrasing.format(name)), name))
    for index, sentence in enumerate(ORDINARY[:NON_INTRODUCTIONS], start=len(texts)):
        cases.append((_speak(folder, index, sentence), None))
    return cases


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


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with SpeechRecogniser() as recogniser:
        figures["grammar_names"] = len(recogniser.grammar_names)
        figures["testdata"] = _score(recogniser, _manifest(), ROUNDS)
        if shutil.which("espeak-ng") is None:
            figures["espeak"] = None
        else:
            with tempfile.TemporaryDirectory(prefix="speech-bench-") as folder:
                cases = _espeak_set(Path(folder), recogniser)
                figures["espeak"] = _score(recogniser, cases, 1)
    figures["target_rtf"] = TARGET_RTF
    figures["target_met"] = figures["testdata"]["rtf"] < TARGET_RTF
    return figures


if __name__ == "__main__":
    print(json.dumps({"benchmark": "speech_names", **run()}))
