"""``watchfloor sense simulate`` and ``watchfloor sense explain`` as a user runs them: a simulated
room through the whole live path (simulated nodes, loopback WebSocket, node server, fusion,
tracker, store writer, a real SQLite file), its report, and a stored blob explained later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from console import exit_codes
from console.cli import main
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.sensing.records import stored_blob
from engine.sensing.service import BLOB_HISTORY_S, SensingRecord
from engine.store import Store
from engine.store.models import Event
from engine.store.writer import StoreWriter

NODE_IDS = {"sim-1", "sim-2", "sim-3", "sim-4"}
SEEDED_BLOB = 500  # a blob an earlier run stored: new blobs number on from it


def sensing_events(db: str) -> list[dict[str, Any]]:
    store = Store(db)
    try:
        with store.transaction() as session:
            rows = session.execute(
                select(Event.id, Event.kind, Event.source, Event.track_id, Event.detail)
                .where(Event.source.like("sensing:%"))
                .order_by(Event.id)
            ).all()
    finally:
        store.close()
    return [row._asdict() for row in rows]


def check_shares(shares: list[dict[str, Any]]) -> None:
    assert shares
    assert sum(s["share"] for s in shares) == pytest.approx(1.0, abs=2e-3)
    for share in shares:
        a, b = share["link"]
        assert {a, b} <= NODE_IDS and a != b
        assert share["zone"] >= 1 and share["ellipsoid"]["semi_major_m"] > 0


@pytest.mark.slow
def test_simulate_reports_scores_stores_blobs_and_explain_reads_them_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    seed_store = Store(db)
    try:
        with StoreWriter.running(seed_store, clock=REAL_CLOCK) as writer:
            bus = EventBus()
            writer.attach(bus)
            bus.publish(
                SensingRecord(
                    at=REAL_CLOCK.now(),
                    kind="sensing.blob_left",
                    room="sim",
                    detail={"blob": SEEDED_BLOB, "duration_s": 4.0, "path_m": 3.0},
                    blob_id=SEEDED_BLOB,
                )
            )
    finally:
        seed_store.close()

    report_file = tmp_path / "report.json"
    argv = ["--db", db, "sense", "simulate", "--nodes", "4", "--walkers", "1"]
    # Long enough for the blob to be history whenever it appears within the 2 s allowed
    # below: a blob is stored once still sensed BLOB_HISTORY_S (3 s) after it appeared (in
    # 4 s, a blob first sensed after 1 s on a busy machine left nothing stored).
    duration_s = 2.0 + BLOB_HISTORY_S + 1.0
    argv += ["--duration", str(duration_s), "--seed", "1", "--report", str(report_file)]
    argv += ["--json"]
    assert main(argv) == exit_codes.OK
    out, err = capsys.readouterr()
    assert "simulating 1 walker(s), 4 nodes" in err
    report = json.loads(out)
    assert json.loads(report_file.read_text(encoding="utf-8")) == report

    assert report["room"] == [5.0, 5.0, 2.5] and report["links"] == 6
    assert {n["id"] for n in report["nodes"]} == NODE_IDS
    assert (report["walkers"], report["seed"], report["duration_s"]) == (1, 1, duration_s)
    # The walker is scored on each 0.1 s tick of the 6 s it walks.
    assert 50 <= report["walker_ticks"] <= 65
    error = report["error_m"]
    assert error["count"] > 0 and error["median"] < 1.0 and error["median"] <= error["p90"]
    assert report["presence"] >= 0.5
    assert report["first_blob_s"] is not None and 0.0 <= report["first_blob_s"] <= 2.0
    assert 0 <= report["id_switches"] <= 3
    tick = report["fusion_tick_ms"]
    assert 0.0 < tick["median"] <= tick["p99"] < 100.0  # a tick fits in its 0.1 s
    sent = report["frames_sent"]
    assert report["frames_received"] > 12 * 20 * 5  # 12 directed pairs at 20 Hz for 9 s
    assert 0 <= report["frames_dropped"] <= 0.01 * sent
    assert report["frames_received"] + report["frames_dropped"] == sent
    assert report["malformed"] == 0

    events = sensing_events(db)
    online = [e for e in events if e["kind"] == "sensing.node_online"]
    assert {e["detail"]["node"] for e in online} == NODE_IDS
    appeared = [e for e in events if e["kind"] == "sensing.blob_appeared"]
    assert appeared, "the walker's blob is stored"
    assert all(e["source"] == "sensing:sim" for e in appeared)
    assert all(e["track_id"] > SEEDED_BLOB for e in appeared), "ids number on from the store"
    for event in appeared:
        assert event["detail"]["blob"] == event["track_id"]
        check_shares(event["detail"]["explanation"])
    blob_id = appeared[0]["track_id"]

    store = Store(db)
    try:
        stored = stored_blob(store, blob_id)
        seeded = stored_blob(store, SEEDED_BLOB)
    finally:
        store.close()
    assert stored is not None and stored.blob_id == blob_id
    assert seeded is not None and seeded.kind == "sensing.blob_left"

    assert main(["--db", db, "sense", "explain", str(blob_id), "--json"]) == exit_codes.OK
    explained = json.loads(capsys.readouterr().out)
    assert explained["blob"] == blob_id and explained["room"] == "sim"
    assert explained["kind"] in ("sensing.blob_appeared", "sensing.blob_left")
    assert explained["event_id"] == stored.event_id
    assert len(explained["position"]) == 3
    check_shares(explained["explanation"])

    assert main(["--db", db, "sense", "explain", str(blob_id)]) == exit_codes.OK
    text = capsys.readouterr().out
    assert text.startswith(f"blob {blob_id} (")
    first_link = explained["explanation"][0]
    assert f"{first_link['link'][0]}-{first_link['link'][1]}:" in text and "zone" in text

    # A blob stored without an explanation says so rather than listing nothing.
    assert main(["--db", db, "sense", "explain", str(SEEDED_BLOB), "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["explanation"] is None
    assert main(["--db", db, "sense", "explain", str(SEEDED_BLOB)]) == exit_codes.OK
    assert "no explanation was stored" in capsys.readouterr().out


def test_explain_of_an_unknown_blob_fails_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--db", db, "sense", "explain", "99999"]) == exit_codes.FAILED
    out, err = capsys.readouterr()
    assert out == "" and "99999" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--room", "5x5"),
        ("--room", "5x5x0.5"),
        ("--room", "fivexfivextwo"),
        ("--nodes", "1"),
        ("--nodes", "33"),
        ("--walkers", "9"),
        ("--duration", "0"),
        ("--seed", "-1"),
    ],
)
def test_simulate_refuses_a_bad_option_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    argv = ["--db", db, "sense", "simulate", "--duration", "1", option, value]
    assert main(argv) == exit_codes.USAGE
    out, err = capsys.readouterr()
    assert out == "" and option in err and value in err
    assert not (tmp_path / "s.db").exists(), "refused before anything ran"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--layout", "advised", "--nodes", "2"], "the advisor places 3-16 nodes"),
        (["--layout", "advised", "--nodes", "8", "--heights", "0.5,1"], "do not go together"),
        (["--fall-where", "confirmable"], "--fall-where confirmable: only with --fall-at"),
        (
            ["--fall-at", "0.5", "--fall-where", "confirmable", "--heights", "1,1.1"],
            "can confirm a fall nowhere",
        ),
    ],
)
def test_simulate_refuses_an_advised_layout_it_cannot_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--db", db, "sense", "simulate", "--duration", "1", *extra]) == exit_codes.USAGE
    assert words in capsys.readouterr().err
    assert not (tmp_path / "s.db").exists()
