"""``watchfloor alerts list|ack``: the alerts the engine raised (falls, for now).

``list`` shows the newest alerts (``--open``: only those nobody acknowledged), with their
webhook deliveries; ``ack ID`` acknowledges one as the caller (who and when are stored and
audited; the acknowledge permission). The engine escalates an alert nobody acknowledged
within ``[alerts] escalate_after_s`` (120 s); acknowledging from here stops that in a running
engine at its next check, as the alert is no longer open in the store.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("alerts", help="alerts raised by the engine: list, acknowledge")
    actions = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=parents, help="the newest alerts")
    listing.add_argument("--open", action="store_true", help="only unacknowledged ones")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    ack = actions.add_parser("ack", parents=parents, help="acknowledge an alert")
    ack.add_argument("alert_id", metavar="ID", type=int)
    ack.add_argument("--json", action="store_true", help="print the alert as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.alerts.records import AcknowledgeAlert, UnknownAlertError, list_alerts
    from engine.clock import REAL_CLOCK
    from engine.store import Store
    from engine.store.writer import StoreWriter

    store = Store(db_url)
    try:
        if args.alerts_command == "list":
            if not 1 <= args.limit <= 10_000:
                print("watchfloor alerts list: --limit 1-10000", file=sys.stderr)
                return exit_codes.USAGE
            alerts = list_alerts(store, open_only=args.open, limit=args.limit)
            if args.json:
                print(json.dumps([a.as_json() for a in alerts]))
                return exit_codes.OK
            for a in alerts:
                if a.acknowledged_at is not None:
                    state = f"acknowledged by {a.acknowledged_by} {a.acknowledged_at:%H:%M:%S}"
                else:
                    state = "ESCALATED" if a.escalated_at is not None else "OPEN"
                hooks = (
                    f"; webhooks {a.deliveries_ok} ok, {a.deliveries_failed} failed"
                    if a.deliveries_ok or a.deliveries_failed
                    else ""
                )
                print(
                    f"{a.alert_id:6d}  {a.raised_at:%Y-%m-%d %H:%M:%S}  {a.severity:8} "
                    f"{printable(a.title)}  [{state}{hooks}]"
                )
            if not alerts:
                print("no alerts")
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            alert = writer.execute(
                AcknowledgeAlert(alert_id=args.alert_id, at=REAL_CLOCK.now(), actor=args.caller)
            )
        if args.json:
            print(json.dumps(alert.as_json()))
        else:
            print(
                f"alert {alert.alert_id} acknowledged by {alert.acknowledged_by} at "
                f"{alert.acknowledged_at:%Y-%m-%d %H:%M:%S}"
            )
        return exit_codes.OK
    except UnknownAlertError as exc:
        print(f"watchfloor alerts {args.alerts_command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()
