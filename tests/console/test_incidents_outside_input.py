"""``watchfloor incidents import|report`` given what a hostile tester gives it: a ``.csv``
that is a link to ``/dev/zero`` or a FIFO, JSON nested thousands deep, a 400-digit number,
times in the year 9999 or 1999. Each is refused naming the file, line or field, exit 2, no
traceback, nothing stored. The device and FIFO cases run the real command in a child
process with a timeout, so a regression fails the test instead of hanging the suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.incidents.classify import Classification
from engine.incidents.records import FileReports, NewReport
from engine.incidents.reports import ReportInput
from tests.actors import ADMIN
from tests.conftest import write_site

CHILD_TIMEOUT_S = 120.0  # a start-up of the CLI takes a few seconds; a hang takes forever


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def import_in_child(tmp_path: Path, file: Path) -> subprocess.CompletedProcess[str]:
    db = tmp_path / "child.db"
    command = [sys.executable, "-m", "console", "--db", f"sqlite:///{db}", "incidents", "import"]
    return subprocess.run(
        [*command, str(file)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        env={**os.environ, "ANTHROPIC_API_KEY": ""},
    )


def test_an_import_of_a_link_to_dev_zero_is_refused_naming_the_file(tmp_path: Path) -> None:
    zero = tmp_path / "reports.csv"
    zero.symlink_to("/dev/zero")
    done = import_in_child(tmp_path, zero)
    assert done.returncode == exit_codes.USAGE, done.stderr
    assert f"{zero}: nothing imported: is a device, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_import_of_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "reports.csv"
    os.mkfifo(fifo)
    done = import_in_child(tmp_path, fifo)
    assert done.returncode == exit_codes.USAGE, done.stderr
    assert str(fifo) in done.stderr and "FIFO" in done.stderr
    assert "Traceback" not in done.stderr


def test_deep_json_and_huge_numbers_are_refused_by_line_and_field(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = '{"text": "Glass broken", "lat": 51.5, "lon": -0.14, "at": "2026-11-22T01:00Z"}'
    deep = '{"text": ' + "[" * 100_000 + "]" * 100_000 + ', "lat": 1, "lon": 2, "at": "x"}'
    nested = '{"text": ' + "[" * 40 + "1" + "]" * 40 + ', "lat": 1, "lon": 2}'
    huge = '{"text": "big", "lat": 1' + "0" * 400 + ', "lon": 2, "at": "2026-11-22T01:00Z"}'
    listed = '{"text": ["a", "list"], "lat": 1, "lon": 2, "at": "2026-11-22T01:00Z"}'
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([good, deep, nested, huge, listed]) + "\n", encoding="utf-8")
    db = ["--db", db_url]
    assert main([*db, "incidents", "import", str(path)]) == exit_codes.USAGE
    err = capsys.readouterr().err
    assert "line 2: nested deeper than 32 levels" in err
    assert "line 3: nested deeper than 32 levels" in err
    assert "line 4: latitude:" in err and "line 5: text: not text" in err
    assert main([*db, "incidents", "list", "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("at", "problem"),
    [("9999-12-31T23:00:00Z", "in the future"), ("1999-12-31T23:00:00Z", "before 2000-01-01")],
)
def test_times_outside_the_plausible_window_are_refused(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    at: str,
    problem: str,
) -> None:
    db = ["--db", db_url]
    path = tmp_path / "r.csv"
    path.write_text(
        f"text,lat,lon,at\nFine,51.5,-0.14,2026-11-20T21:00:00Z\nOdd,51.5,-0.14,{at}\n",
        encoding="utf-8",
    )
    assert main([*db, "incidents", "import", str(path)]) == exit_codes.USAGE
    err = capsys.readouterr().err
    assert f"line 3: at: {problem}" in err.replace(at.replace("Z", "+00:00") + " is ", "")
    report = ["incidents", "report", "--lat", "51.5", "--lon", "-0.14", "--text", "Odd"]
    assert main([*db, *report, "--at", at]) == exit_codes.USAGE
    err = capsys.readouterr().err
    assert "at: " in err and problem in err and "Traceback" not in err
    assert main([*db, "incidents", "list", "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out) == []


def test_a_time_utc_cannot_hold_is_refused_as_in_the_future_not_a_traceback(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """23:30 on 31 December 9999 in New York is in the year 10000 in UTC."""
    site = write_site(tmp_path / "ny.toml", extra='timezone = "America/New_York"\n')
    report = ["incidents", "report", "--lat", "51.5", "--lon", "-0.14", "--text", "Odd"]
    for at in ("9999-12-31T23:30:00-05:00", "9999-12-31 23:30"):
        code = main(["--db", db_url, "--site", str(site), *report, "--at", at])
        err = capsys.readouterr().err
        assert code == exit_codes.USAGE, err
        assert "at: " in err and "in the future" in err and "Traceback" not in err


def test_a_time_just_ahead_of_the_clock_is_still_filed(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reporter's clock a few hours fast (or a zone mixed up) is within the day allowed."""
    soon = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    report = ["incidents", "report", "--lat", "51.5", "--lon", "-0.14", "--text", "Fire"]
    assert main(["--db", db_url, *report, "--at", soon, "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["merged"] is False


def test_a_batch_command_in_a_log_line_does_not_carry_the_reports_texts() -> None:
    """The store writer logs a command it rejects with ``%r``: the reports' words (and who
    sent them) must not reach the log."""
    at = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    report = ReportInput("Secret words of a witness", 51.5, -0.14, at, reporter="Ann Witness")
    verdict = Classification("theft", 2, 0.5, "keywords")
    command = FileReports(
        reports=(NewReport(report=report, verdict=verdict, cell=1, source="import"),) * 3,
        at=at,
        actor=ADMIN,
        origin="r.csv",
    )
    shown = repr(command) + repr(report)
    assert "Secret words" not in shown and "Ann Witness" not in shown
    assert "3 reports" in repr(command) and "r.csv" in repr(command)
