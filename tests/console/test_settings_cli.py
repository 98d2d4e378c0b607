"""``watchfloor settings`` and ``watchfloor status`` as a script would use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from console.cli import main
from engine.settings import read_settings
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.models import Event, Setting
from tests.actors import ADMIN
from tests.conftest import write_site


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_settings_are_validated_bounded_stored_and_audited(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _run(
        capsys, "--db", db_url, "settings", "set", "retention.clips_days", "1000000"
    )
    assert code == 2 and "retention.clips_days: 1000000 is out of range (1–3650 days)" in err
    code, _out, err = _run(capsys, "--db", db_url, "settings", "set", "retention.clip_days", "9")
    assert code == 2 and "unknown setting 'retention.clip_days'" in err
    code, _out, err = _run(capsys, "--db", db_url, "settings", "set", "retention.clips_days", "ten")
    assert code == 2 and "expected a whole number" in err

    code, out, _err = _run(
        capsys, "--db", db_url, "settings", "set", "retention.clips_days", "45", "--json"
    )
    assert code == 0 and json.loads(out) == {
        "key": "retention.clips_days",
        "value": 45,
        "previous": None,
    }
    code, out, _err = _run(
        capsys, "--db", db_url, "settings", "set", "retention.min_free_bytes", "5GiB", "--json"
    )
    assert code == 0 and json.loads(out)["value"] == 5 * 2**30
    code, out, _err = _run(
        capsys, "--db", db_url, "settings", "get", "retention.clips_days", "--json"
    )
    got = json.loads(out)
    assert (got["value"], got["default"], got["maximum"], got["is_default"]) == (
        45,
        30,
        3650,
        False,
    )

    store = Store(db_url)
    with store.sessions() as session:
        audit = session.scalars(select(Event).where(Event.kind == "settings.changed")).all()
        row = session.get(Setting, "retention")
    assert [a.detail["key"] for a in audit] == ["retention.clips_days", "retention.min_free_bytes"]
    assert row is not None and row.value["clips_days"] == 45
    store.close()


def test_a_bad_stored_value_falls_back_to_the_default_with_a_problem(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bad.db'}")
    from datetime import UTC, datetime

    with store.transaction() as session:  # as written by an older version
        session.add(
            Setting(
                key="retention",
                value={"clips_days": 1000000},
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    values = {v.spec.key: v for v in read_settings(store)}
    assert values["retention.clips_days"].value == 30
    assert "out of range" in (values["retention.clips_days"].problem or "")
    store.close()


@pytest.mark.sql
def test_status_reports_storage_counts_and_the_floor(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _run(capsys, "--db", db_url, "settings", "set", "retention.min_free_bytes", "1GiB")[0] == 0
    )
    code, out, _err = _run(capsys, "--db", db_url, "status", "--json")
    assert code == 0
    status = json.loads(out)
    assert status["free_floor_bytes"] == 2**30 and status["below_floor"] is False
    assert status["events_total"] == 1  # the settings.changed audit event
    assert status["events_per_day"][0][1] == 1 and len(status["events_per_day"]) == 7
    assert status["database_bytes"] > 0 and status["persons"] == 0


def test_a_detector_cadence_stored_in_frames_becomes_milliseconds(tmp_path: Path) -> None:
    """Before migration 0007 the cadence was ``detect_every`` frames; N frames become
    N × 100 ms (its cadence at 10 fps, where the tracker was measured)."""
    import sqlite3

    from alembic import command

    from engine.store.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0006")
    raw = sqlite3.connect(tmp_path / "old.db")
    raw.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES "
        "('analytics', '{\"detect_every\": 5}', '2026-01-01')"
    )
    raw.commit()
    raw.close()
    store = Store(url)
    values = {v.spec.key: v for v in read_settings(store)}
    store.close()
    assert values["analytics.detect_interval_ms"].value == 500
    assert not values["analytics.detect_interval_ms"].is_default


def test_recording_tiers_are_shown_and_set_per_camera_over_the_site_file(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        cameras=(
            '[[cameras]]\nid = "gate"\nurl = "gate.mp4"\nrecording = { keep_all_days = 2 }\n'
            '[[cameras]]\nid = "yard"\nurl = "yard.mp4"\n'
        ),
    )
    base = ("--db", db_url, "--site", str(site), "retention")
    code, out, _err = _run(capsys, *base, "tiers", "--json")
    rows = {row["camera"]: row for row in json.loads(out)}
    assert code == 0 and rows["gate"]["days"]["keep_all_days"] == 2
    assert rows["gate"]["set_here"] == [] and rows["yard"]["days"]["keep_all_days"] == 7

    # Bad input: a clear error naming it, exit 2, nothing stored.
    code, _out, err = _run(capsys, *base, "set-tiers", "--camera", "dock", "--all", "3")
    assert code == 2 and "dock: not a camera of" in err and "gate, yard" in err
    code, _out, err = _run(capsys, *base, "set-tiers", "--all", "ten")
    assert code == 2 and "--all: expected a whole number of days or 'file', got 'ten'" in err
    code, _out, err = _run(capsys, *base, "set-tiers", "--events", "4000")
    assert code == 2 and "keep_events_days = 4000 is outside 0..3650 days" in err
    code, _out, err = _run(capsys, *base, "set-tiers", "--camera", "gate")
    assert code == 2 and "no tier given" in err

    # Every camera's events tier, then the gate back to the file's.
    code, out, _err = _run(capsys, *base, "set-tiers", "--events", "90", "--json")
    assert code == 0 and json.loads(out) == {"changed": ["gate", "yard"]}
    code, out, _err = _run(capsys, *base, "set-tiers", "--camera", "gate", "--events", "file")
    assert code == 0 and out.strip() == "changed: gate"
    code, out, _err = _run(capsys, *base, "tiers")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "with people, events or alerts 30 d" in lines["gate"]
    assert "with people, events or alerts 90 d (set here)" in lines["yard"]


def test_the_roles_no_console_locks_when_idle_are_set_by_name_and_audited(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``security.idle_lock_exempt_roles`` takes role names; a name that is no role is
    refused naming it, and nothing is stored."""
    key = "security.idle_lock_exempt_roles"
    code, _out, err = _run(capsys, "--db", db_url, "settings", "set", key, "operator,guard")
    assert code == 2
    assert f"{key}: 'guard' is not a role (roles: operator, investigator, admin)" in err

    code, out, _err = _run(capsys, "--db", db_url, "settings", "set", key, "operator")
    assert code == 0 and out.strip() == f"{key} = operator"
    code, out, _err = _run(capsys, "--db", db_url, "settings", "get", key, "--json")
    got = json.loads(out)
    assert (got["value"], got["default"], got["is_default"]) == (["operator"], [], False)
    code, out, _err = _run(capsys, "--db", db_url, "settings", "list")
    listed = out.splitlines()
    line = next(i for i, text in enumerate(listed) if text.startswith(key))
    assert listed[line].split(maxsplit=1)[1] == "operator"
    assert listed[line + 1].rstrip().endswith("; roles: operator, investigator, admin")
    code, out, _err = _run(capsys, "--db", db_url, "settings", "set", key, "none", "--json")
    assert code == 0 and json.loads(out) == {"key": key, "value": [], "previous": ["operator"]}

    store = Store(db_url)
    try:
        audited = AuditListRequest(reader=ADMIN, action="settings.change").run(store)
    finally:
        store.close()
    assert [(e.target, e.detail["old"], e.detail["new"]) for e in reversed(audited)] == [
        (key, None, ["operator"]),
        (key, ["operator"], []),
    ]
