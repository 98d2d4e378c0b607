"""``watchfloor incidents …`` and ``watchfloor risk …`` as a user runs them: import a file
(all or nothing, bad lines named), file a report that joins an incident, list, show,
validate and correct, un-merge; refit the risk model and read hotspots and cameras' classes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli import main
from tests.console.cli_runs import watchfloor

T0 = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def history_file(path: Path, days: int = 21) -> Path:
    lines = ["text,latitude,longitude,at,reporter"]
    for day in range(days):
        for n in range(4):
            at = T0 - timedelta(days=day, hours=n)
            lat = 51.5 + 0.003 * n
            lines.append(f"Phone snatched by a man on a bike,{lat},-0.14,{at.isoformat()},r{n}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_incidents_from_import_to_unmerge(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", db_url]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "text,latitude,longitude,at\n"
        "fine,51.5,-0.14,2026-11-20T21:00:00Z\n"
        "no place,,-0.14,2026-11-20T21:00:00Z\n"
        "no zone,51.5,-0.14,2026-11-20T21:00:00\n",
        encoding="utf-8",
    )
    assert main([*db, "incidents", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "latitude" in err and "line 4" in err
    assert main([*db, "incidents", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing from the bad file

    assert main([*db, "incidents", "import", str(history_file(tmp_path / "h.csv")), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["reports"] == 84 and summary["new_incidents"] == 84

    assert (
        main(
            [
                *db,
                "incidents",
                "report",
                "--lat",
                "51.50005",
                "--lon",
                "-0.14",
                "--at",
                (T0 + timedelta(minutes=2)).isoformat(),
                "--text",
                "A man pulled a knife on the phone thief",
                "--reporter",
                "Ann",
                "--json",
            ]
        )
        == 0
    )
    filed = json.loads(capsys.readouterr().out)
    for key in ("incident_id", "merged", "reporter_count", "category", "severity", "classifier"):
        assert key in filed
    assert filed["merged"] is True and filed["reporter_count"] == 2
    incident = filed["incident_id"]

    assert main([*db, "incidents", "show", str(incident), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(shown["reports"]) == 2
    assert "LLM not configured" in (shown["reports"][1]["fallback_reason"] or "")

    assert main([*db, "incidents", "validate", str(incident), "--category", "violence"]) == 0
    assert "violence (severity" in capsys.readouterr().out
    assert main([*db, "incidents", "show", str(incident), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["category_basis"] == "corrected"
    assert main([*db, "incidents", "validate", str(incident), "--category", "arson"]) == 2
    assert "valid: violence" in capsys.readouterr().err

    second_report = shown["reports"][1]["report_id"]
    assert main([*db, "incidents", "unmerge", str(second_report), "--json"]) == 0
    split = json.loads(capsys.readouterr().out)
    assert split["from"]["report_count"] == 1 and split["to"]["report_ids"] == [second_report]
    assert main([*db, "incidents", "unmerge", str(second_report)]) == 1
    assert "only report" in capsys.readouterr().err

    assert main([*db, "incidents", "list", "--category", "violence", "--json"]) == 0
    assert {i["incident_id"] for i in json.loads(capsys.readouterr().out)} >= {incident}


def test_risk_retrain_hotspots_and_cameras(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", db_url]
    spots = ["risk", "hotspots", "--lat", "51.5", "--lon", "-0.14", "--radius-km", "1"]
    assert main([*db, *spots, "--json"]) == 1
    assert "no risk model yet" in capsys.readouterr().err
    assert main([*db, "risk", "retrain"]) == 1
    assert "no incidents stored yet" in capsys.readouterr().err
    assert main([*db, "incidents", "import", str(history_file(tmp_path / "h.csv"))]) == 0
    capsys.readouterr()
    assert main([*db, "risk", "retrain", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["incidents"] == 84 and report["path"].endswith("risk_forecast.npz")
    assert main([*db, *spots, "--hours-ahead", "12", "--limit", "3", "--json"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert len(cells) == 3
    assert all(c["distance_m"] <= 1000 for c in cells)
    assert cells[0]["expected"] >= cells[1]["expected"] >= cells[2]["expected"]
    assert main([*db, *spots, "--hours-ahead", "500"]) == 2
    assert main([*db, "risk", "cameras", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cameras"] == {}  # no site, no cameras


@pytest.mark.slow
def test_an_import_killed_while_storing_stores_nothing(tmp_path: Path) -> None:
    """The process is killed (SIGKILL) while it stores a 3,000-report file: the database
    holds none of it, and the same file then imports whole. The killed import is a real
    process (the kill is the subject).

    It is killed once it holds the database's write lock after saying it stores (inside
    the one transaction: the lock is let go at its commit), not after a fixed 2 s. And
    3,000 reports, not 6,000: storing them still takes seconds (~5 s on this machine), far
    longer than it takes to see the lock and kill, and the whole import this test then
    does in-process takes less than half as long."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    lines = ["text,latitude,longitude,at"]
    for n in range(3_000):
        at = T0 - timedelta(minutes=7 * n)
        lines.append(
            f"Window smashed on a parked car,{51.4 + (n % 97) * 0.002},-0.14,{at.isoformat()}"
        )
    big = tmp_path / "big.csv"
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "x.db"
    command = [sys.executable, "-m", "console", "--db", f"sqlite:///{db}", "incidents", "import"]
    process = subprocess.Popen(
        [*command, str(big)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ},
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("storing 3000 reports"):
            break
    else:
        pytest.fail("the import never said it was storing")

    def holds_the_write_lock() -> bool:
        """Whether another connection holds the database's write lock (a write
        transaction under way): this one cannot begin one without waiting."""
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error), error
            return True
        finally:
            probe.close()  # rolls back the probe's own (empty) transaction
        return False

    deadline = time.monotonic() + 60
    while not holds_the_write_lock():
        assert process.poll() is None, "the import finished before it could be interrupted"
        assert time.monotonic() < deadline, "the import never began storing"
        time.sleep(0.005)
    assert process.poll() is None, "the import finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    with sqlite3.connect(db) as connection:
        counts = [
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("incidents", "incident_reports", "risk_cells")
            if connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        ]
    assert counts[:3] == [0, 0, 0]
    done = watchfloor(*command[3:], str(big), "--json")  # in this process: the import itself
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reports"] == 3_000
