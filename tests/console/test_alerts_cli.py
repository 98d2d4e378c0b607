"""``watchfloor alerts list|ack``: the stored alerts, acknowledged from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from console.cli import main
from engine.alerts.records import RaiseAlert
from engine.store import Store
from engine.store.writer import StoreWriter


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
