"""The audit trail at scale and the cost of the permission check.

- ``verify``: ``verify_audit`` (what ``watchfloor audit verify`` runs) over 1,000,000 chained
  entries on SQLite, and on PostgreSQL when a server is named (``--db`` or
  ``WATCHFLOOR_TEST_PG_URL``): median of 3 runs. Target < 10 s.
- ``permission_check_us``: the store writer's check of a guarded command (the actor's roles
  against the command's permission), median per command over 100,000. Target < 1 ms.
- ``login_ms``: one password login through the store writer on SQLite (scrypt, the
  failed-login bookkeeping and its audit entry), median of 9. Paid once per login or
  unlock, never per command.

``python -m benchmarks.audit [--db URL] [--entries N]`` or ``python -m benchmarks audit``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from benchmarks.event_queries import _fresh_pg_database
from engine.access import Actor, Role, machine_actor
from engine.accounts import create_first_admin, login
from engine.settings import ChangeSetting
from engine.store.audit import GENESIS_HASH, canonical_json, entry_hash, to_us, verify_audit
from engine.store.audit_models import AuditEntry, AuditHead
from engine.store.database import Store
from engine.store.writer import StoreWriter

ENTRIES = 1_000_000
REPEATS = 3
T0 = datetime(2025, 1, 1, tzinfo=UTC)
ACTIONS = ("login", "settings.change", "person.rename", "person.erase", "export")
INSERT_BATCH = 20_000


def run(db_url: str | None = None, entries: int = ENTRIES) -> dict[str, Any]:
    figures: dict[str, Any] = {"entries": entries}
    with tempfile.TemporaryDirectory(prefix="wf-bench-audit-") as tmp:
        figures["sqlite"] = _measure(f"sqlite:///{Path(tmp) / 'audit.db'}", entries)
        figures["login_ms"] = _login_ms(f"sqlite:///{Path(tmp) / 'login.db'}")
    pg_url = db_url or os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if pg_url and make_url(pg_url).get_backend_name() == "postgresql":
        with _fresh_pg_database(pg_url) as url:
            figures["postgresql"] = _measure(url, entries)
    figures["permission_check_us"] = _permission_check_us()
    figures["targets_met"] = all(
        figures[b]["verify_s_median"] < 10.0 for b in ("sqlite", "postgresql") if b in figures
    ) and (figures["permission_check_us"] < 1000.0)
    return figures


def _measure(url: str, entries: int) -> dict[str, Any]:
    store = Store(url)
    try:
        started = time.perf_counter()
        _generate(store, entries)
        generate_s = time.perf_counter() - started
        runs = []
        for _ in range(REPEATS):
            result = verify_audit(store)
            assert result.ok and result.entries == entries, result.as_dict()
            runs.append(result.seconds)
        return {
            "generate_s": round(generate_s, 1),
            "verify_s_runs": [round(s, 2) for s in runs],
            "verify_s_median": round(statistics.median(runs), 2),
        }
    finally:
        store.close()


def _generate(store: Store, entries: int) -> None:
    """``entries`` chained entries written in bulk (hashes as ``append_audit`` makes them)."""
    previous = GENESIS_HASH
    with store.transaction() as session:
        batch: list[dict[str, Any]] = []
        for seq in range(1, entries + 1):
            ts = to_us(T0 + timedelta(seconds=seq * 30, microseconds=seq % 1000))
            actor = f"account:user{seq % 17}"
            action = ACTIONS[seq % len(ACTIONS)]
            target = f"Person_{seq:08X}"
            detail = canonical_json({"old": seq % 90, "new": (seq + 1) % 90})
            digest = entry_hash(seq, ts, actor, action, target, "ok", detail, previous)
            batch.append(
                {
                    "seq": seq,
                    "ts_us": ts,
                    "actor": actor,
                    "action": action,
                    "target": target,
                    "outcome": "ok",
                    "detail": detail,
                    "prev_hash": previous,
                    "hash": digest,
                }
            )
            previous = digest
            if len(batch) >= INSERT_BATCH:
                session.execute(insert(AuditEntry), batch)
                batch = []
        if batch:
            session.execute(insert(AuditEntry), batch)
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=entries))
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=previous))


def _permission_check_us(count: int = 100_000) -> float:
    """Median over 5 rounds of the writer's check, per command, in microseconds."""
    writer = StoreWriter.__new__(StoreWriter)  # the check touches nothing but the command
    admin = Actor("ada", frozenset({Role.OPERATOR, Role.ADMIN}))
    command = ChangeSetting(key="retention.clips_days", value=30, at=T0, actor=admin)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            writer._authorize(command)
        rounds.append((time.perf_counter() - started) / count * 1e6)
    return round(statistics.median(rounds), 3)


def _login_ms(url: str, count: int = 9) -> float:
    store = Store(url)
    try:
        with StoreWriter.running(store) as writer:
            create_first_admin(writer, "ada", "benchmark-password", T0, machine_actor())
            times = []
            for _ in range(count):
                started = time.perf_counter()
                login(writer, "ada", "benchmark-password", T0)
                times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 1)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a PostgreSQL server URL to measure too")
    parser.add_argument("--entries", type=int, default=ENTRIES)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "audit", **run(args.db, args.entries)}), flush=True)


if __name__ == "__main__":
    main()
