"""``watchfloor speech names AUDIO... [--json]``, parsed by the module's own parser and by
the real ``watchfloor`` entry point (no database, no account needed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from console import cli, exit_codes
from console.commands import speech
from tests.conftest import TESTDATA

AUDIO = TESTDATA / "audio"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="watchfloor")
    speech.add_parser(parser.add_subparsers(dest="command"), [])
    return parser.parse_args(argv)


def test_names_as_json_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("speech", "names", str(AUDIO / "intro_4.wav"), str(AUDIO / "intro_6.wav"))
    args.json = True
    assert speech.run(args) == exit_codes.OK
    files = json.loads(capsys.readouterr().out)["files"]
    assert [f["path"] for f in files] == [str(AUDIO / "intro_4.wav"), str(AUDIO / "intro_6.wav")]
    door, package = files
    assert door["name"] == "David" and "David" in door["transcript"]
    assert door["pass"] == "base"
    assert package["name"] is None and package["pass"] == "base"
    for row in files:
        assert set(row) == {
            "path",
            "transcript",
            "name",
            "pass",
            "confidence",
            "audio_s",
            "seconds_taken",
        }
        assert row["audio_s"] > 2.0 and row["seconds_taken"] > 0
        assert 0.3 < row["confidence"] <= 1.0


def test_a_bad_file_is_named_and_the_others_still_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all\n" * 50)
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    code = cli.main(["speech", "names", str(bad), str(AUDIO / "intro_4.wav"), str(empty), "--json"])
    assert code == exit_codes.FAILED
    out, err = capsys.readouterr()
    assert f"watchfloor speech names: {bad}: not an audio file" in err
    assert f"watchfloor speech names: {empty}: the file is empty" in err
    files = json.loads(out)["files"]
    assert [f.get("name") for f in files] == [None, "David", None]
    assert "error" in files[0] and "error" in files[2]


def test_plain_output_says_name_pass_and_timing(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["speech", "names", str(AUDIO / "intro_4.wav")]) == exit_codes.OK
    out = capsys.readouterr().out
    assert f"{AUDIO / 'intro_4.wav'}: David  (Whisper base, " in out
    assert "heard: This is David" in out


def test_the_smaller_model_is_chosen_with_model(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["speech", "names", "--model", "tiny.en", str(AUDIO / "intro_1.wav")])
    assert code == exit_codes.OK
    out = capsys.readouterr().out
    assert f"{AUDIO / 'intro_1.wav'}: Sarah  (Whisper tiny.en, " in out
    assert "heard: Hello, my name is Sarah." in out


def test_an_unknown_model_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["speech", "names", "--model", "large", str(AUDIO / "intro_1.wav")])
    assert exited.value.code == exit_codes.USAGE
    assert "invalid choice: 'large'" in capsys.readouterr().err


def test_no_file_at_all_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["speech", "names"])
    assert exited.value.code == exit_codes.USAGE
