"""``watchfloor speech names AUDIO... [--json]``: the transcript and introduced name per file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import exit_codes
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
    names.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    """Run ``speech names``; every file is processed, a bad one is reported on stderr (and
    in the JSON as ``error``) and makes the exit code 1. Reads no store."""
    from engine.speech.audio import SpeechInputError
    from engine.speech.recognise import SpeechRecogniser
    from engine.speech.service import names_in_file

    rows: list[dict[str, Any]] = []
    failed = False
    with SpeechRecogniser() as recogniser:
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
            print(
                f"{printable(row['path'])}: {name}  ({row['pass']} pass, "
                f"{row['audio_s']:.2f} s of audio in {row['seconds_taken']:.2f} s)"
            )
            print(f"  heard: {printable(row['transcript']) or '(nothing)'}")
    return exit_codes.FAILED if failed else exit_codes.OK


def _row(result: FileNames) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "transcript": result.transcript,
        "name": result.name,
        "pass": result.pass_used,
        "audio_s": round(result.audio_s, 3),
        "seconds_taken": round(result.seconds_taken, 3),
    }
