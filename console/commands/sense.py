"""``watchfloor sense token MAC`` and ``watchfloor sense serve``: the WiFi-sensing nodes.

``token`` prints the token a node with that MAC presents (HMAC-SHA256 of the install secret
and the MAC), for flashing a node by hand; it needs the nodes permission and is audited.
``serve`` runs the node server alone (``/ws/node`` and ``POST /api/provision``) and, when it
ends, reports each node's frames, malformed frames and protocol errors. The install secret
is ``node_install_secret`` (``$WATCHFLOOR_NODE_SECRET`` or the OS keyring; made once when
missing). Fusion, blobs and the console's view come with later work on the sensing issue.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from typing import Any

from console import exit_codes
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sense", help="WiFi-sensing nodes: tokens and the server")
    actions = parser.add_subparsers(dest="sense_command", metavar="ACTION", required=True)
    token = actions.add_parser(
        "token",
        parents=parents,
        help="print the token a node with this MAC presents (audited)",
    )
    token.add_argument("mac", metavar="MAC", help="the node's MAC, e.g. AA:BB:CC:DD:EE:01")
    serve = actions.add_parser(
        "serve",
        parents=parents,
        help="run the node server alone; report the nodes when it ends",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback)"
    )
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    serve.add_argument(
        "--duration", metavar="S", type=float, help="seconds to run (default: until Ctrl+C)"
    )
    serve.add_argument("--json", action="store_true", help="print the node report as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.secrets import SecretError, generate_secret
    from engine.sensing.protocol import ProtocolError, node_token, normalise_mac

    command = f"watchfloor sense {args.sense_command}"
    try:
        secret, _made = generate_secret("node_install_secret")
    except SecretError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    if args.sense_command == "token":
        try:
            mac = normalise_mac(args.mac, "MAC")
        except ProtocolError as exc:
            print(f"{command}: {printable(str(exc))}", file=sys.stderr)
            return exit_codes.USAGE
        _audit_token(db_url, args, mac)
        print(node_token(secret.reveal().encode("utf-8"), mac))
        return exit_codes.OK
    return _serve(args, secret.reveal().encode("utf-8"))


def _audit_token(db_url: str, args: argparse.Namespace, mac: str) -> None:
    from engine.clock import REAL_CLOCK
    from engine.store import Store
    from engine.store.audit import AppendAudit
    from engine.store.writer import StoreWriter

    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            writer.execute(
                AppendAudit(at=REAL_CLOCK.now(), actor=args.caller, action="node.token", target=mac)
            )
    finally:
        store.close()


def _serve(args: argparse.Namespace, install_secret: bytes) -> int:
    from engine.clock import REAL_CLOCK
    from engine.sensing.server import NodeServer, NodeServerError

    if args.duration is not None and (not math.isfinite(args.duration) or args.duration <= 0):
        print("watchfloor sense serve: --duration must be more than 0 seconds", file=sys.stderr)
        return exit_codes.USAGE
    stop = threading.Event()

    def on_node_event(kind: str, mac: str, detail: dict[str, Any]) -> None:
        reason = detail.get("reason")
        print(f"{kind} {mac}{': ' + printable(str(reason)) if reason else ''}", file=sys.stderr)

    server = NodeServer(
        install_secret=install_secret,
        clock=REAL_CLOCK,
        on_frame=lambda _frame, _arrival: None,  # counted by the server; fusion comes later
        on_node_event=on_node_event,
        host=args.host,
        port=args.port,
    )
    try:
        server.start()
    except NodeServerError as exc:
        print(f"watchfloor sense serve: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    print(f"listening on {args.host}:{server.port} (/ws/node)", file=sys.stderr, flush=True)
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        stop.wait(args.duration)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        nodes = server.nodes()
        server.stop()
    rows: list[dict[str, Any]] = [
        {
            "mac": n.mac,
            "frames_received": n.frames_received,
            "malformed": dict(n.malformed),
            "protocol_errors": n.protocol_errors,
            "unknown_messages": n.unknown_messages,
            "foreign_frames": n.foreign_frames,
            "online_at_end": n.online,
        }
        for n in nodes
    ]
    if args.json:
        print(json.dumps({"port": server.port, "nodes": rows}))
    else:
        for node in rows:
            print(
                f"{node['mac']}: {node['frames_received']} frames, "
                f"{sum(node['malformed'].values())} malformed, "
                f"{node['protocol_errors']} protocol errors"
            )
    return exit_codes.OK
