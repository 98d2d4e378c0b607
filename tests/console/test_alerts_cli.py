"""``watchfloor alerts list|count|ack|label|rules``: the stored alerts from the command line,
filtered by the day's risk classes with exact pages and counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli import main
from engine.alerts.records import RaiseAlert
from engine.alerts.sequences import CreateSequence
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.incidents.nightly import CameraRisk, RecordRetrain
from engine.store import Store
from engine.store.writer import StoreWriter
from tests.conftest import write_site
from tests.engine.alerts.test_risk_classes import SLOW_ANSWER_S, RiskApi
from tests.store_helpers import run_command, sync_site


def test_alerts_are_listed_and_acknowledged_once(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(db_url)
    with StoreWriter.running(store) as writer:
        writer.execute(
            RaiseAlert(
                raised_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
                kind="fall",
                source="sensing:room",
                severity="critical",
                title="Fall: someone fell in room and has not got up",
                detail={"blob": 3},
            )
        )
    store.close()
    db = ["--db", db_url]
    assert main([*db, "alerts", "list", "--open", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["kind"] == "fall" and listed["acknowledged_at"] is None
    assert main([*db, "alerts", "ack", str(listed["alert"]), "--json"]) == 0
    acked = json.loads(capsys.readouterr().out)
    assert acked["acknowledged_by"].startswith("machine:") and acked["acknowledged_at"]
    assert main([*db, "alerts", "list", "--open", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main([*db, "alerts", "ack", "999"]) == 1
    assert "no alert 999" in capsys.readouterr().err


def seeded_low_day(db_url: str, tmp_path: Path) -> tuple[list[str], dict[str, int]]:
    """A site whose gate camera is ``low`` and yard ``very_low`` on 2026-11-20 (the local
    risk model's stored classes), with alerts of one sequence each that day."""
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )
    store = Store(db_url)
    ids = sync_site(store, load_site(site), REAL_CLOCK)
    run_command(
        store,
        RecordRetrain(
            slot=DAY,
            started_at=DAY,
            finished_at=DAY,
            status="ok",
            incidents=0,
            path=None,
            quality={},
            cameras=(
                CameraRisk(ids.cameras["gate"], "gate", DAY.date(), "low", 0.1),
                CameraRisk(ids.cameras["yard"], "yard", DAY.date(), "very_low", 0.1),
            ),
        ),
    )
    alerts: dict[str, int] = {}
    with StoreWriter.running(store) as writer:
        for i, (camera, conf) in enumerate(
            [
                ("gate", 0.30),
                ("gate", 0.45),
                ("yard", 0.59),
                ("yard", 0.60),
                ("gate", 0.9),
                ("yard", None),
                ("gate", 0.2),
            ]
        ):
            stored = writer.execute(
                CreateSequence(
                    seq_key=f"k{i}",
                    source=f"camera:{camera}",
                    camera=camera,
                    site=load_site(site).name,
                    trigger="person",
                    rule_id=None,
                    track_id=i,
                    started_at=DAY + timedelta(minutes=10 * i),
                    last_seen_at=DAY + timedelta(minutes=10 * i, seconds=5),
                    detections=3,
                    max_conf=conf,
                    snapshot=None,
                    severity="warning",
                    title=f"Person on camera {camera}",
                    group_window_s=0,
                )
            )
            alerts[f"{camera} {conf}"] = stored.alert.alert_id
    store.close()
    return ["--db", db_url, "--site", str(site)], alerts


DAY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_a_past_day_is_filtered_by_that_days_classes_with_exact_pages_and_counts(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, alerts = seeded_low_day(db_url, tmp_path)
    day = ["--date", "2026-11-20"]
    assert main([*args, "alerts", "list", *day, "--json"]) == 0
    listed = [a["alert"] for a in json.loads(capsys.readouterr().out)]
    passing = [alerts[k] for k in ("yard None", "gate 0.9", "yard 0.6", "gate 0.45")]
    assert listed == passing  # newest first; 0.30, 0.59 and 0.2 hidden
    assert main([*args, "alerts", "count", *day, "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert (counted["count"], counted["hidden"], counted["snoozed"]) == (len(listed), 3, 0)
    # A page of three on a low day holds three passing alerts; the next page the rest.
    assert main([*args, "alerts", "list", *day, "--limit", "3", "--json"]) == 0
    assert [a["alert"] for a in json.loads(capsys.readouterr().out)] == passing[:3]
    assert main([*args, "alerts", "list", *day, "--limit", "3", "--offset", "3", "--json"]) == 0
    assert [a["alert"] for a in json.loads(capsys.readouterr().out)] == passing[3:]
    # The override: moderate shows everything.
    assert main([*args, "alerts", "list", *day, "--risk-score", "Moderate", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(alerts)
    assert main([*args, "alerts", "list", *day, "--risk-score", "bright"]) == 2
    err = capsys.readouterr().err
    assert "unknown risk class 'bright'" in err and "very_low" in err and "extreme" in err
    # Another day without classes: nothing hidden (and it says so).
    assert main([*args, "alerts", "count", "--date", "2026-11-21"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "0 alerts (0 hidden by the low-risk filter)"
    assert "filter:" in out.err


def test_rules_and_labels_from_the_command_line(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, _ = seeded_low_day(db_url, tmp_path)
    add = [*args, "alerts", "rules", "add", "night gate", "--camera", "gate"]
    assert main([*add, "--trigger", "loitering", "--armed", "22:00-06:00", "--json"]) == 2
    assert "loiter_s" in capsys.readouterr().err
    assert (
        main([*add, "--trigger", "person", "--armed", "22:00-06:00", "--zone", "0,0 1,0 1,1"]) == 0
    )
    assert "alert rule night gate added" in capsys.readouterr().out
    assert main([*args, "alerts", "rules", "list", "--json"]) == 0
    (rule,) = json.loads(capsys.readouterr().out)
    assert rule["armed"] == "22:00-06:00" and rule["camera"] == "gate"
    assert main([*args, "alerts", "rules", "remove", "night gate"]) == 0
    assert main([*args, "alerts", "rules", "remove", "night gate"]) == 1
    assert "no alert rule 'night gate'" in capsys.readouterr().err

    assert main([*args, "alerts", "list", "--date", "2026-11-20", "--json"]) == 0
    sequence = json.loads(capsys.readouterr().out)[0]["sequences"][0]["sequence"]
    assert main([*args, "alerts", "label", str(sequence), "false", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] == "false_alarm"
    assert main([*args, "alerts", "list", "--date", "2026-11-20", "--json"]) == 0
    labelled = json.loads(capsys.readouterr().out)[0]["sequences"][0]
    assert labelled["label"] == "false_alarm" and labelled["labelled_by"].startswith("machine:")
    assert main([*args, "alerts", "label", "99999", "true"]) == 1
    assert "no alert sequence 99999" in capsys.readouterr().err


def test_human_output_and_the_day_are_site_time_while_json_stays_utc(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site.toml", extra='timezone = "America/Los_Angeles"\n')
    store = Store(db_url)
    with StoreWriter.running(store) as writer:
        writer.execute(
            RaiseAlert(
                raised_at=datetime(2026, 11, 22, 5, 0, tzinfo=UTC),  # 21:00 on the 21st there
                kind="fall",
                source="sensing:room",
                severity="critical",
                title="Fall in the room",
                detail={},
            )
        )
    store.close()
    args = ["--db", db_url, "--site", str(site), "alerts", "list", "--date", "2026-11-21"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2026-11-21 21:00:00" in out and "05:00" not in out
    assert main([*args, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["raised_at"] == "2026-11-22T05:00:00+00:00"
    assert main([*args[:-1], "2026-11-22", "--json"]) == 0  # not on the site's 22nd
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("day", [[], ["--date", "2026-11-20"]], ids=["today", "a past day"])
@pytest.mark.parametrize("command", ["list", "count"])
def test_an_override_does_not_ask_the_risk_api(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, day: list[str]
) -> None:
    """``--risk-score`` decides every camera's class: the site's risk API (slow here, as
    an unreachable one is) is not asked, and the filter line says what the override hides."""
    api = RiskApi()
    try:
        api.answer("/cameras", [], delay=SLOW_ANSWER_S)
        api.answer("/scores/2026-11-20", [], delay=SLOW_ANSWER_S)
        site = write_site(
            tmp_path / "site.toml",
            '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n',
            extra=f'[alerts]\nrisk_provider = "http"\nrisk_api_url = "{api.url}"\n',
        )
        args = ["--db", db_url, "--site", str(site), "alerts", command, *day]
        assert main([*args, "--risk-score", "low"]) == 0
        err = capsys.readouterr().err
        assert api.requests == []  # not asked at all
        assert "filter: override: every camera treated as low" in err
        assert "nothing is hidden" not in err
        assert main([*args, "--risk-score", "moderate", "--json"]) == 0
        err = capsys.readouterr().err
        assert api.requests == []
        assert "override: every camera treated as moderate (nothing hidden)" in err
    finally:
        api.close()


def test_an_operator_takes_notes_and_closes_an_alert_with_the_comment_its_rule_requires(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(
        tmp_path / "site.toml", '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "a.mp4"\n'
    )
    store = Store(db_url)
    sync_site(store, load_site(site), REAL_CLOCK)
    store.close()
    base = ["--db", db_url, "--site", str(site), "alerts"]
    rule = ["rules", "add", "gate", "--camera", "gate", "--trigger", "person"]
    assert main([*base, *rule, "--instructions", "Call 555-0100", "--comment-required"]) == 0
    capsys.readouterr()
    store = Store(db_url)
    with StoreWriter.running(store) as writer:
        (rule_id,) = [r["id"] for r in _rules(db_url, capsys)]
        alert_id = writer.execute(
            CreateSequence(
                seq_key="s1",
                source="camera:gate",
                camera="gate",
                site=None,
                trigger="person",
                rule_id=rule_id,
                track_id=1,
                started_at=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
                last_seen_at=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
                detections=3,
                max_conf=0.8,
                snapshot=None,
                severity="warning",
                title="Person at the front gate",
            )
        ).alert.alert_id
    store.close()
    assert main([*base, "take", str(alert_id)]) == 0
    assert f"alert {alert_id}: In progress: " in capsys.readouterr().out
    assert main([*base, "note", str(alert_id), "Gate 2 checked"]) == 0
    capsys.readouterr()
    assert main([*base, "close", str(alert_id)]) == 1
    assert "needs a closing comment: its rule 'gate' asks for one" in capsys.readouterr().err
    assert main([*base, "close", str(alert_id), "--comment", "A delivery"]) == 0
    assert f"alert {alert_id}: Closed by " in capsys.readouterr().out
    assert main([*base, "show", str(alert_id)]) == 0
    shown = capsys.readouterr().out
    assert "highest confidence 0.80; cameras: Front gate" in shown
    assert "what to do: Call 555-0100" in shown
    assert ": Gate 2 checked" in shown and "closed it: A delivery" in shown
    # What `rules set` is not given stays as it was (issue 68: it cleared the instructions).
    assert main([*base, "rules", "set", "gate", "--no-comment-required"]) == 0
    said = capsys.readouterr().out
    assert said == "alert rule gate: on; closing needs no comment; instructions: Call 555-0100\n"
    assert main([*base, "rules", "set", "gate", "--no-enabled"]) == 0
    said = capsys.readouterr().out
    assert said.startswith("alert rule gate: off (raises nothing); closing needs no comment")
    (listed,) = _rules(db_url, capsys)
    assert (listed["enabled"], listed["instructions"]) == (False, "Call 555-0100")
    assert main([*base, "rules", "set", "gate", "--enabled", "--instructions", ""]) == 0
    assert "gate: on; closing needs no comment; instructions: none" in capsys.readouterr().out
    assert main([*base, "rules", "set", "nope", "--no-enabled"]) == 1
    assert "no alert rule 'nope' (rules: gate)" in capsys.readouterr().err


def _rules(db_url: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["--db", db_url, "alerts", "rules", "list", "--json"]) == 0
    rules: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rules
