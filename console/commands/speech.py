"""``watchfloor speech names AUDIO... [--json]``: the transcript and introduced name per file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import exit_codes
from console.commands.registry import Registration, unguarded, without_database
from engine.text import printable

if TYPE_CHECKING:
    from engine.speech.service import FileNames


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    speech = subparsers.add_parser(
        "speech", help="speech: names people give when they introduce themselves"
    )
    actions = speech.add_subparsers(dest="speech_command", metavar="ACTION", required=True)
    names = actions.add_parser(
        "names",
        parents=parents,
        help="transcribe audio files and extract the name each speaker introduces",
    )
    names.add_argument("audio", nargs="+", type=Path, metavar="AUDIO", help="audio file(s)")
    names.add_argument(
        "--model",
        choices=("base", "tiny.en"),
        default="base",
        help="Whisper model: base (default, more accurate) or tiny.en (about 2.5x faster)",
    )
    names.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    """Run ``speech names``; every file is processed, a bad one is reported on stderr (and
    in the JSON as ``error``) and makes the exit code 1. Reads no store; a Whisper model
    that is not installed is said on stderr (exit code 1)."""
    from engine.speech.audio import SpeechInputError
    from engine.speech.recognise import SpeechModelMissingError, SpeechRecogniser, parse_model
    from engine.speech.service import names_in_file

    rows: list[dict[str, Any]] = []
    failed = False
    model = parse_model(getattr(args, "model", "base"))
    try:
        recogniser = SpeechRecogniser(model)
    except SpeechModelMissingError as exc:
        print(f"watchfloor speech names: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    with recogniser:
        for path in args.audio:
            try:
                rows.append(_row(names_in_file(path, recogniser)))
            except SpeechInputError as exc:
                failed = True
                print(f"watchfloor speech names: {printable(str(exc))}", file=sys.stderr)
                rows.append({"path": str(path), "error": str(exc)})
    if args.json:
        print(json.dumps({"files": rows}))
    else:
        for row in rows:
            if "error" in row:
                continue
            name = printable(row["name"]) if row["name"] else "no name"
            sure = f", confidence {row['confidence']:.2f}" if row["confidence"] is not None else ""
            print(
                f"{printable(row['path'])}: {name}  (Whisper {model}, "
                f"{row['audio_s']:.2f} s of audio in {row['seconds_taken']:.2f} s{sure})"
            )
            print(f"  heard: {printable(row['transcript']) or '(nothing)'}")
    return exit_codes.FAILED if failed else exit_codes.OK


def _row(result: FileNames) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "transcript": result.transcript,
        "name": result.name,
        "pass": result.pass_used,
        "confidence": None if result.confidence is None else round(result.confidence, 3),
        "audio_s": round(result.audio_s, 3),
        "seconds_taken": round(result.seconds_taken, 3),
    }


def _add_parsers(subparsers: Any, _db_parents: list[argparse.ArgumentParser]) -> None:
    add_parser(subparsers, [])  # audio files only, no database: no --db after it


REGISTRATION = Registration(
    _add_parsers,
    (
        unguarded(
            "speech", "names", without_database(run), "reads only the audio files it is given"
        ),
    ),
)
