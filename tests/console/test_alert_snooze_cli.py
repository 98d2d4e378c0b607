"""``watchfloor alerts snooze|unsnooze|snoozes``: holding back one camera's alerts from the
command line, in site time, with bad input refused in words."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from engine.access import ENGINE
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.audit import AuditListRequest
from tests.conftest import write_site
from tests.console.cli_runs import watchfloor

PARIS = SiteTime.named("Europe/Paris")


def _args(db_url: str, tmp_path: Path) -> list[str]:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "a.mp4"\n'
        '[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
        extra='timezone = "Europe/Paris"\n',
    )
    return ["--db", db_url, "--site", str(site), "alerts"]


def test_a_camera_is_snoozed_listed_and_unsnoozed_in_site_time_and_audited(
    db_url: str, tmp_path: Path
) -> None:
    args = _args(db_url, tmp_path)
    ran = watchfloor(*args, "snoozes")
    assert (ran.returncode, ran.stdout) == (0, "no camera's alerts are snoozed\n")

    ran = watchfloor(*args, "snooze", "gate", "--minutes", "30", "--json")
    assert ran.returncode == 0, ran.stderr
    snooze = json.loads(ran.stdout)
    snoozed_at = datetime.fromisoformat(snooze["snoozed_at"])
    until = datetime.fromisoformat(snooze["until"])
    assert until - snoozed_at == timedelta(minutes=30)
    assert (snooze["camera"], snooze["name"]) == ("gate", "Gate")
    assert snooze["snoozed_by"].startswith("machine:")

    # Again, in words: a new snooze replaces the running one.
    ran = watchfloor(*args, "snooze", "gate", "--minutes", "45")
    assert ran.returncode == 0, ran.stderr
    found = re.fullmatch(
        r"camera gate: alerts snoozed until (\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d) \((CET|CEST)\); "
        r"its detections are still recorded\n",
        ran.stdout,
    )
    assert found, ran.stdout
    ran = watchfloor(*args, "snoozes", "--json")
    (listed,) = json.loads(ran.stdout)
    later = datetime.fromisoformat(listed["until"])
    assert later - datetime.fromisoformat(listed["snoozed_at"]) == timedelta(minutes=45)
    assert found.group(1) in (PARIS.minutes(later), PARIS.full_minutes(later))
    ran = watchfloor(*args, "snoozes")
    assert ran.stdout.startswith("gate  Gate: alerts snoozed until ")
    assert f"at {PARIS.minutes(datetime.fromisoformat(listed['snoozed_at']))})" in ran.stdout

    ran = watchfloor(*args, "unsnooze", "gate")
    assert (ran.returncode, ran.stdout) == (
        0,
        f"camera gate: alerts no longer snoozed (it was until {PARIS.minutes(later)})\n",
    )
    assert watchfloor(*args, "snoozes", "--json").stdout == "[]\n"
    ran = watchfloor(*args, "unsnooze", "gate")
    assert ran.returncode == 1
    assert "watchfloor alerts unsnooze: camera gate's alerts are not snoozed" in ran.stderr

    store = Store(db_url)
    try:
        trail = AuditListRequest(reader=ENGINE, limit=50).run(store)
    finally:
        store.close()
    done = [
        (r.action, r.target, r.detail["until"])
        for r in reversed(trail)
        if r.action in ("alert.snooze", "alert.unsnooze")
    ]
    assert done == [
        ("alert.snooze", "camera gate", until.isoformat()),
        ("alert.snooze", "camera gate", later.isoformat()),
        ("alert.unsnooze", "camera gate", later.isoformat()),
    ]
    assert all(r.actor.startswith("machine:") for r in trail if r.action.startswith("alert."))


def test_bad_minutes_and_unknown_cameras_are_refused_in_words(db_url: str, tmp_path: Path) -> None:
    args = _args(db_url, tmp_path)
    for minutes, words in (
        ("0", "argument --minutes: minutes must be from 1 to 1440 (a day), got 0"),
        ("1441", "argument --minutes: minutes must be from 1 to 1440 (a day), got 1441"),
        ("ten", "argument --minutes: minutes must be a whole number from 1 to 1440, got 'ten'"),
    ):
        ran = watchfloor(*args, "snooze", "gate", "--minutes", minutes)
        assert ran.returncode == 2 and words in ran.stderr, ran.stderr
    ran = watchfloor(*args, "snooze", "gate")
    assert ran.returncode == 2 and "--minutes" in ran.stderr
    ran = watchfloor(*args, "snooze", "lobby", "--minutes", "5")
    assert ran.returncode == 2
    assert "watchfloor alerts snooze: no camera 'lobby' (cameras: gate, yard)" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert watchfloor(*args, "snoozes", "--json").stdout == "[]\n"
