"""``watchfloor sense token MAC`` and ``watchfloor sense serve``: the WiFi-sensing nodes.

``token MAC`` says whether a node has a token (when and how it was issued; never the token:
the store keeps only its hash); ``--rotate`` issues a new random token, printed once, for
flashing a node by hand or replacing a leaked one, and ``--revoke`` removes it; a running
engine closes the node's connection within a second either way. Both need the nodes
permission and are audited. ``serve`` runs the node server alone (``/ws/node`` and ``POST
/api/provision``) and, when it ends, reports each node's frames, malformed frames and
protocol errors, and the hellos it refused. With ``--site``, the room's nodes of an install
of old keep the token derived from ``node_install_secret`` (``$WATCHFLOOR_NODE_SECRET`` or
the OS keyring) until rotated (see :mod:`engine.sensing.nodes.tokens`).

``simulate`` runs a simulated room through the whole live path (simulated nodes → loopback
WebSocket → node server → signal chain → fusion → tracker → events in the store) and reports
how well the blobs followed the walkers (:mod:`engine.sim.sensing_score`). ``explain`` prints
a stored blob's explanation: the links that put it there, their shares, Fresnel zones and
ellipsoids.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import exit_codes
from console.commands import (
    emit_report,
    iso_time,
    row_id,
    say_sensing_recording_lost,
    stop_on_signals,
)
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable

if TYPE_CHECKING:  # heavy: loaded where a command runs, not for --help
    from engine.config import SiteConfig
    from engine.sensing.grid.capability import RoomCapability
    from engine.sensing.service import RoomSpec


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sense", help="WiFi-sensing nodes: tokens and the server")
    actions = parser.add_subparsers(dest="sense_command", metavar="ACTION", required=True)
    token = actions.add_parser(
        "token",
        parents=parents,
        help="whether a node has a token; --rotate issues a new one, --revoke removes it",
    )
    token.add_argument("mac", metavar="MAC", help="the node's MAC, e.g. AA:BB:CC:DD:EE:01")
    change = token.add_mutually_exclusive_group()
    change.add_argument(
        "--rotate",
        action="store_true",
        help="issue a new random token (printed once) in place of any the node had (audited)",
    )
    change.add_argument(
        "--revoke", action="store_true", help="remove the node's token: it is refused (audited)"
    )
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
    serve.add_argument(
        "--site",
        metavar="FILE",
        help="take host and port from this site file ([sensing], or the room's own port)",
    )
    serve.add_argument(
        "--room",
        metavar="ID",
        help="the sensing room whose nodes connect here (default: the site's one room)",
    )
    serve.add_argument(
        "--pair",
        metavar="SECONDS",
        type=float,
        help="open the pairing window at start for this long (admin; audited)",
    )
    pair = actions.add_parser(
        "pair",
        parents=parents,
        help="open the pairing window of a running engine or sense serve (admin; audited)",
    )
    pair.add_argument(
        "--seconds", metavar="S", type=float, required=True, help="how long it stays open"
    )
    pair.add_argument(
        "--room",
        metavar="ID",
        default="room",
        help="the sensing room's id (default \"room\", the id of a site file's one [room])",
    )
    simulate = actions.add_parser(
        "simulate",
        parents=parents,
        help="simulated walkers → WebSocket → engine; report localisation error and timings",
    )
    simulate.add_argument(
        "--nodes",
        type=int,
        help="nodes around the walls (2-32; default 4, 8 with --fall-at/--sit-at)",
    )
    simulate.add_argument(
        "--layout",
        choices=("walls", "advised"),
        default="walls",
        help="walls: nodes spread around the walls at --heights (default); advised: where "
        "`sense plan --advise` puts --nodes nodes",
    )
    simulate.add_argument(
        "--heights",
        metavar="Z,Z",
        help="node heights in turn, metres (default 0.9,1.1; 0.15,1.9 with --fall-at/--sit-at,"
        " so that height can be told)",
    )
    simulate.add_argument(
        "--fall-at", type=float, metavar="T", help="walker 1 falls T s after walking in"
    )
    simulate.add_argument(
        "--fall-where",
        choices=("walk", "confirmable"),
        default="walk",
        help="with --fall-at: walk: wherever the walk has taken walker 1 (default); "
        "confirmable: walker 1 walks to a spot where the layout can confirm a fall (drawn "
        "with --seed) and falls there",
    )
    simulate.add_argument(
        "--sit-at", type=float, metavar="T", help="a walker sits down T s after walking in"
    )
    simulate.add_argument(
        "--lie-at",
        type=float,
        metavar="T",
        help="a walker lies down slowly (a sofa) T s after walking in",
    )
    simulate.add_argument("--walkers", type=int, default=1, help="people walking (0-8)")
    simulate.add_argument(
        "--duration", metavar="S", type=float, default=60.0, help="seconds of walking"
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument(
        "--ble",
        action="store_true",
        help="walkers carry BLE tags (Walker 1, 2, …): report how soon blobs get the right name",
    )
    simulate.add_argument(
        "--room", metavar="WxDxH", default="5x5x2.5", help="room in metres (default 5x5x2.5)"
    )
    simulate.add_argument(
        "--report", type=Path, metavar="FILE", help="write the report here as JSON"
    )
    simulate.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="record what the nodes send into DIR (a ring of 512 MiB), as a live room does",
    )
    simulate.add_argument("--json", action="store_true", help="print the report as JSON")
    plan = actions.add_parser(
        "plan",
        parents=parents,
        help="what a node layout can see: expected accuracy and where falls can be confirmed",
    )
    plan.add_argument("--site", metavar="FILE", help="the site's room and nodes (default: demo)")
    plan.add_argument("--room", metavar="WxDxH", help="a room in metres instead, e.g. 5x5x2.5")
    plan.add_argument(
        "--room-id", metavar="ID", help="which of the site's rooms (default: its one room)"
    )
    plan.add_argument("--nodes-at", metavar="X,Y,Z;…", help="node positions in metres, with --room")
    plan.add_argument(
        "--advise",
        metavar="N",
        type=int,
        help="suggest where to put N nodes (3-16) in the room (--room, or the site's) and rate it",
    )
    plan.add_argument("--json", action="store_true", help="print the figures and maps as JSON")
    explain = actions.add_parser(
        "explain", parents=parents, help="why a stored blob was where it was"
    )
    explain.add_argument("blob_id", metavar="BLOB_ID", type=row_id, help="the blob's id")
    explain.add_argument("--json", action="store_true", help="print as JSON")
    replay = actions.add_parser(
        "replay",
        parents=parents,
        help="re-run the recorded node frames of a period with these settings; report blobs",
    )
    replay.add_argument(
        "--from", dest="from_ts", type=iso_time, metavar="ISO", help="start (site time)"
    )
    replay.add_argument("--to", dest="to_ts", type=iso_time, metavar="ISO", help="end (site time)")
    replay.add_argument(
        "--motion-threshold",
        type=float,
        metavar="X",
        help="relative deltaRMS above which a link shows motion (live: 0.02)",
    )
    replay.add_argument("--cell-size", type=float, metavar="M", help="fusion cell edge (m)")
    replay.add_argument("--zone-cutoff", type=int, metavar="N", help="Fresnel zones used (1-20)")
    replay.add_argument(
        "--site", metavar="FILE", help="the site whose room was recorded (default: the demo)"
    )
    replay.add_argument(
        "--room", metavar="ID", help="which of the site's rooms (default: its one room)"
    )
    replay.add_argument(
        "--recording",
        type=Path,
        metavar="DIR",
        help="replay this recording folder (e.g. an evidence export's sensing/SITE/ROOM) "
        "instead of the room's own",
    )
    replay.add_argument("--report", type=Path, metavar="FILE", help="write the report as JSON")
    replay.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    if args.sense_command == "simulate":
        return _simulate(args, db_url)
    if args.sense_command == "explain":
        return _explain(args, db_url)
    if args.sense_command == "replay":
        return _replay(args)
    if args.sense_command == "plan":
        return _plan(args)
    if args.sense_command == "pair":
        return _pair(args, db_url)
    if args.sense_command == "token":
        return _token(args, db_url)
    return _serve(args, db_url)


def _token(args: argparse.Namespace, db_url: str) -> int:
    """``sense token MAC [--rotate | --revoke]``: a node's token state, a new token printed
    once, or the token removed (the writer checks the nodes permission and audits)."""
    from engine.access import PermissionDeniedError
    from engine.clock import REAL_CLOCK
    from engine.sensing.nodes.protocol import ProtocolError, normalise_mac
    from engine.sensing.nodes.tokens import (
        IssueNodeToken,
        RevokeNodeToken,
        new_node_token,
        stored_node_tokens,
        token_sha256,
    )
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = "watchfloor sense token"
    try:
        mac = normalise_mac(args.mac, "MAC")
    except ProtocolError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        if not (args.rotate or args.revoke):
            stored = stored_node_tokens(store).get(mac)
            if stored is None:
                print(f"{mac}: no token (not paired, or revoked)")
                return exit_codes.OK
            how = {"paired": "paired", "rotated": "issued", "derived": "adopted"}[stored.origin]
            print(
                f"{mac}: token {how} {stored.issued_at.isoformat(timespec='seconds')} by "
                f"{printable(stored.issued_by)}"
                + (
                    " (derived from the install secret: rotate it)"
                    if stored.origin == "derived"
                    else ""
                )
            )
            return exit_codes.OK
        token = new_node_token()
        change = (
            IssueNodeToken(
                mac=mac, token_sha256=token_sha256(token), at=REAL_CLOCK.now(), actor=args.caller
            )
            if args.rotate
            else RevokeNodeToken(mac=mac, at=REAL_CLOCK.now(), actor=args.caller)
        )
        try:
            with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
                outcome = writer.execute(change)
        except PermissionDeniedError as exc:  # the writer has audited the refusal
            said = PermissionDeniedError(exc.actor, exc.permission, "change a node's token")
            print(f"{command}: not allowed: {said}", file=sys.stderr)
            return exit_codes.NOT_ALLOWED
    finally:
        store.close()
    if args.revoke:
        print(f"{mac}: token revoked" if outcome else f"{mac}: had no token; nothing to revoke")
        return exit_codes.OK
    print(token)
    print(
        f"{mac}: new token above, shown once (only its hash is kept); a running engine "
        "closes the node's connection within a second, until it presents this one",
        file=sys.stderr,
    )
    return exit_codes.OK


def _pairing_seconds_problem(flag: str, seconds: float) -> str:
    """Why ``seconds`` cannot be a pairing window's length ("" when it can)."""
    from engine.sensing.nodes.pairing import MAX_PAIRING_S

    if not (math.isfinite(seconds) and 0 < seconds <= MAX_PAIRING_S):
        return f"{flag} {seconds:g}: more than 0 and at most {MAX_PAIRING_S:g} seconds"
    return ""


def _pair(args: argparse.Namespace, db_url: str) -> int:
    """Store a pairing request and wait for a running node server of the room to answer."""
    from engine.sensing.nodes.pairing import ANSWER_WAIT_S
    from engine.sensing.records import RequestNodePairing, pairing_request
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = "watchfloor sense pair"
    problem = _pairing_seconds_problem("--seconds", args.seconds)
    if problem:
        print(f"{command}: {problem}", file=sys.stderr)
        return exit_codes.USAGE
    room = printable(args.room)
    clock = args.clock
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=clock) as writer:
            seq = writer.execute(
                RequestNodePairing(
                    room=args.room, seconds=args.seconds, at=clock.now(), actor=args.caller
                )
            )
        # A running engine looks every second; give it the freshness window and one look.
        deadline = clock.monotonic() + ANSWER_WAIT_S
        answers: tuple[dict[str, Any], ...] = ()
        while not answers and clock.monotonic() < deadline:
            clock.sleep(0.2)
            request = pairing_request(store, args.room)
            if request is None or request.seq != seq:
                break  # a newer request replaced ours: its command reports for it
            answers = request.answers
    finally:
        store.close()
    if not answers:
        print(
            f"{command}: no running engine serves room {room} (no engine or sense serve "
            f"answered within {ANSWER_WAIT_S:g} s)",
            file=sys.stderr,
        )
        return exit_codes.FAILED
    for answer in answers:
        print(
            f"pairing open for {args.seconds:g} s on the {printable(str(answer['by']))} "
            f"(room {room})"
        )
    return exit_codes.OK


def _serve(args: argparse.Namespace, db_url: str) -> int:
    from engine.access import PermissionDeniedError
    from engine.secrets import SecretError, read_secret
    from engine.sensing.nodes.pairing import PairingDesk
    from engine.sensing.nodes.server import NodeServer, NodeServerError
    from engine.sensing.nodes.tokens import NodeTokenBook, StoredTokens
    from engine.sensing.records import OpenNodePairing
    from engine.store import Store
    from engine.store.writer import StoreWriter

    if args.duration is not None and (not math.isfinite(args.duration) or args.duration <= 0):
        print("watchfloor sense serve: --duration must be more than 0 seconds", file=sys.stderr)
        return exit_codes.USAGE
    if args.pair is not None:
        problem = _pairing_seconds_problem("--pair", args.pair)
        if problem:
            print(f"watchfloor sense serve: {problem}", file=sys.stderr)
            return exit_codes.USAGE
    room = args.room or "room"  # the id of a site file's one [room]
    site_macs: list[str] = []
    if args.site:
        found = _site_room(Path(args.site), "watchfloor sense serve", args.room)
        if isinstance(found, int):
            return found
        site, spec = found
        room = spec.room_id
        site_macs = [n.mac for n in spec.nodes if n.mac]
        config = next(r for r in site.rooms if r.id == room)
        args.host, args.port = site.sensing.host, site.node_port(config)
        if args.port == 0 and not site.sensing.simulate:
            args.port = 8080  # real nodes need a port they know

    def on_node_event(kind: str, mac: str, detail: dict[str, Any]) -> None:
        reason = detail.get("reason")
        print(f"{kind} {mac}{': ' + printable(str(reason)) if reason else ''}", file=sys.stderr)

    clock = args.clock
    tokens = NodeTokenBook()
    server = NodeServer(
        tokens=tokens,
        clock=clock,
        on_frame=lambda _frame, _arrival: None,  # counted by the server; fusion comes later
        on_node_event=on_node_event,
        host=args.host,
        port=args.port,
    )
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=clock) as writer:
            # The stored tokens are read before the first node can say hello.
            tokens.attach(StoredTokens(store, writer, clock, room))
            if site_macs:
                try:  # an install of old: its nodes' derived tokens (engine.sensing.nodes.tokens)
                    secret = read_secret("node_install_secret").reveal().encode("utf-8")
                except SecretError:
                    secret = b""
                if secret:
                    tokens.adopt_derived(secret, site_macs)
            try:
                server.start()
            except NodeServerError as exc:
                print(f"watchfloor sense serve: {printable(str(exc))}", file=sys.stderr)
                return exit_codes.FAILED
            if args.pair is not None:
                try:  # the writer checks the caller (the nodes permission) and audits
                    writer.execute(
                        OpenNodePairing(
                            room=room, seconds=args.pair, at=clock.now(), actor=args.caller
                        )
                    )
                except PermissionDeniedError as exc:  # the writer has audited the refusal
                    server.stop()
                    said = PermissionDeniedError(exc.actor, exc.permission, "open node pairing")
                    print(f"watchfloor sense serve: not allowed: {said}", file=sys.stderr)
                    return exit_codes.NOT_ALLOWED
                except BaseException:
                    server.stop()
                    raise
                server.open_pairing(args.pair)
            desk = PairingDesk(server, room=room, store=store, writer=writer, clock=clock)
            desk.start()  # `watchfloor sense pair` reaches this server through the store
            print(f"listening on {args.host}:{server.port} (/ws/node)", file=sys.stderr, flush=True)
            if args.pair is not None:
                print(f"pairing open for {args.pair:g} s", file=sys.stderr, flush=True)
            try:
                with stop_on_signals() as stop:
                    clock.wait(stop, args.duration)
            finally:
                desk.stop()
                nodes = server.nodes()
                server.stop()
    finally:
        store.close()
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
    rejected = server.rejections()
    rejected["reasons"] = dict(rejected["reasons"])
    if args.json:
        print(json.dumps({"port": server.port, "nodes": rows, "rejected": rejected}))
    else:
        for node in rows:
            print(
                f"{node['mac']}: {node['frames_received']} frames, "
                f"{sum(node['malformed'].values())} malformed, "
                f"{node['protocol_errors']} protocol errors, "
                f"{node['foreign_frames']} frames of other nodes"
            )
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(rejected["reasons"].items()))
        print(
            f"refused {rejected['rejections']} hellos{f' ({reasons})' if reasons else ''}, "
            f"{rejected['provisions_refused']} provisioning requests for their rate"
        )
    for mac in tokens.derived():
        print(
            f"{mac}: still on a token derived from the install secret: rotate it with "
            f"`watchfloor sense token {mac} --rotate`",
            file=sys.stderr,
        )
    return exit_codes.OK


def _parse_room(text: str) -> tuple[float, float, float]:
    parts = text.lower().split("x")
    if len(parts) != 3:
        raise ValueError(f"--room {text!r}: expected WxDxH in metres, e.g. 5x5x2.5")
    try:
        width, depth, height = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--room {text!r}: expected WxDxH in metres, e.g. 5x5x2.5") from None
    if not all(math.isfinite(v) and 1.0 <= v <= 100.0 for v in (width, depth, height)):
        raise ValueError(f"--room {text!r}: each side must be 1-100 m")
    return width, depth, height


def _simulate(args: argparse.Namespace, db_url: str) -> int:
    from engine.alerts.service import AlertService
    from engine.bus import EventBus
    from engine.clock import REAL_CLOCK
    from engine.record.losses import MediaWriteWatch
    from engine.sensing.falls import RECOMMENDED_HEIGHTS_M
    from engine.sensing.recording.recorder import SensingRecorder
    from engine.sensing.records import LastBlobId
    from engine.sensing.service import SensingRecord
    from engine.sim.sensing_score import (
        advised_room,
        confirmable_fall_spot,
        simulate_room,
        simulated_room,
    )
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = "watchfloor sense simulate"
    try:
        size = _parse_room(args.room)
        postures = any(v is not None for v in (args.fall_at, args.sit_at, args.lie_at))
        if args.nodes is None:
            args.nodes = 8 if postures else 4
        heights = _parse_heights(args.heights) if args.heights else None
        for flag, value in (
            ("--fall-at", args.fall_at),
            ("--sit-at", args.sit_at),
            ("--lie-at", args.lie_at),
        ):
            if value is not None and not (math.isfinite(value) and 0 <= value < args.duration):
                raise ValueError(f"{flag} {value}: within the walk (0 to --duration)")
        if postures and args.walkers < 1:
            raise ValueError("--fall-at, --sit-at and --lie-at need at least one walker")
        if args.fall_where != "walk" and args.fall_at is None:
            raise ValueError(f"--fall-where {args.fall_where}: only with --fall-at")
        if not 2 <= args.nodes <= 32:
            raise ValueError(f"--nodes {args.nodes}: 2-32 nodes")
        if args.layout == "advised" and not 3 <= args.nodes <= 16:
            raise ValueError(f"--nodes {args.nodes}: the advisor places 3-16 nodes")
        if args.layout == "advised" and args.heights:
            raise ValueError("--heights and --layout advised do not go together")
        if not 0 <= args.walkers <= 8:
            raise ValueError(f"--walkers {args.walkers}: 0-8 walkers")
        if not (math.isfinite(args.duration) and 0 < args.duration <= 86_400):
            raise ValueError(f"--duration {args.duration}: more than 0 and at most a day")
        if args.seed < 0:
            raise ValueError(f"--seed {args.seed}: 0 or more")
    except ValueError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    if heights is None and postures:
        heights = RECOMMENDED_HEIGHTS_M
    if args.layout == "advised":
        room = advised_room(size, args.nodes)
    else:
        room = (
            simulated_room(size, args.nodes)
            if heights is None
            else simulated_room(size, args.nodes, heights)
        )
    fall_spot = None
    if args.fall_where == "confirmable":
        fall_spot = confirmable_fall_spot(room, args.seed)
        if fall_spot is None:
            print(
                f"{command}: --fall-where confirmable: this layout can confirm a fall nowhere "
                "(see `watchfloor sense plan`)",
                file=sys.stderr,
            )
            return exit_codes.USAGE
    store = Store(db_url)
    try:
        with stop_on_signals() as stop, StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            bus = EventBus()
            writer.attach(bus)
            alerts = AlertService(
                bus=bus,
                writer=writer,
                store=store,
                clock=REAL_CLOCK,
                camera_names={room.room_id: room.name},
            )
            alerts.start()  # falls and a failing recording raise stored alerts, as live
            recorded: list[SensingRecord] = []
            bus.subscribe(SensingRecord, recorded.append)
            first = int(writer.execute(LastBlobId())) + 1
            print(
                f"simulating {args.walkers} walker(s), {args.nodes} nodes, room {args.room} m, "
                f"{args.duration:g} s (+ calibration)",
                file=sys.stderr,
                flush=True,
            )
            report = simulate_room(
                room,
                walkers=args.walkers,
                duration_s=args.duration,
                seed=args.seed,
                bus=bus,
                first_blob_id=first,
                stop=stop,
                ble=args.ble,
                recorder=(
                    None
                    if args.record is None
                    else SensingRecorder(
                        args.record,
                        # A write that fails, records dropped: events, an alert, exit 6.
                        watch=MediaWriteWatch(bus, REAL_CLOCK).room(room.room_id, str(args.record)),
                    )
                ),
                fall_at_s=args.fall_at,
                sit_at_s=args.sit_at,
                lie_at_s=args.lie_at,
                fall_spot=fall_spot,
            )
            alerts.stop()
            report["alerts_raised"] = alerts.raised
            if not writer.flush(30):
                raise RuntimeError("the store writer did not write the sensing events in 30 s")
            report["events_stored"] = len(recorded)
    finally:
        store.close()
    emit_report(report, args.report, args.json)
    if not args.json:
        error = report["error_m"]
        tick = report["fusion_tick_ms"]
        print(
            f"error median {error['median']} m, p90 {error['p90']} m; presence "
            f"{report['presence']:.1%}; first blob {report['first_blob_s']} s; "
            f"ID switches {report['id_switches']}; fusion tick median {tick.get('median')} ms, "
            f"p99 {tick.get('p99')} ms; frames {report['frames_received']} received, "
            f"{report['frames_dropped']} dropped"
        )
        if report["falls"]["alerts_at_s"] or report["falls"]["fall_at_s"] is not None:
            falls = report["falls"]
            print(
                f"fall alert after {falls['fall_alert_latency_s']} s; false alerts "
                f"{falls['false_alerts']} (alerts at {falls['alerts_at_s']} s)"
            )
        if "identity" in report:
            names = report["identity"]
            print(
                f"named after {names['time_to_name_s']} s; longest wrong name "
                f"{names['longest_wrong_name_s']} s"
            )
    if say_sensing_recording_lost(command, report["recording"]):
        return exit_codes.MEDIA_LOST
    return exit_codes.OK


def _parse_heights(text: str) -> tuple[float, ...]:
    try:
        heights = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--heights {text!r}: metres separated by commas, e.g. 0.15,1.9") from None
    if not heights or not all(math.isfinite(h) and 0 <= h <= 10 for h in heights):
        raise ValueError(f"--heights {text!r}: each 0-10 m")
    return heights


def _site_room(
    site_file: Path | None, command: str, room_id: str | None = None, flag: str = "--room"
) -> tuple[SiteConfig, RoomSpec] | int:
    """The site (``site_file``, default the demo site) and its sensing room ``room_id``
    (None: its one room), or the exit code after saying on stderr what is wrong (an invalid
    site, a site without that room, a site of several rooms and no ``flag`` naming one)."""
    from engine.config import SiteConfigError, load_site
    from engine.runtime import sensing_rooms
    from resources import DEMO_SITE

    try:
        site = load_site(site_file or DEMO_SITE)
    except SiteConfigError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.SITE
    rooms = sensing_rooms(site)
    ids = ", ".join(printable(room.room_id) for room in rooms)
    if not rooms:
        print(f"{command}: site {printable(site.name)} has no sensing room", file=sys.stderr)
        return exit_codes.SITE
    if room_id is None:
        if len(rooms) > 1:
            print(
                f"{command}: site {printable(site.name)} has {len(rooms)} sensing rooms "
                f"({ids}): name one with {flag}",
                file=sys.stderr,
            )
            return exit_codes.USAGE
        return site, rooms[0]
    room = next((r for r in rooms if r.room_id == room_id), None)
    if room is None:
        print(
            f"{command}: {flag} {printable(room_id)}: site {printable(site.name)} has no such "
            f"sensing room (rooms: {ids})",
            file=sys.stderr,
        )
        return exit_codes.SITE
    return site, room


def _replay(args: argparse.Namespace) -> int:
    from engine.data_dirs import sensing_recording_dir
    from engine.sensing.recording.replay import ReplaySettings, replay_recording

    command = "watchfloor sense replay"
    found = _site_room(args.site, command, args.room)
    if isinstance(found, int):
        return found
    site, room = found
    directory = args.recording or sensing_recording_dir(site.name, room.room_id)
    if not directory.is_dir():
        problem = (
            f"--recording {directory}: no such folder"
            if args.recording is not None
            else f"nothing recorded for this room ({directory})"
        )
        print(f"{command}: {printable(problem)}", file=sys.stderr)
        return exit_codes.FAILED
    settings = ReplaySettings(
        motion_threshold=args.motion_threshold, voxel_m=args.cell_size, max_zone=args.zone_cutoff
    )

    def progress(fraction: float) -> None:
        if not args.json:
            print(f"\rreplaying… {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    try:
        report = replay_recording(
            directory,
            room,
            from_wall_s=None if args.from_ts is None else args.from_ts.timestamp(),
            to_wall_s=None if args.to_ts is None else args.to_ts.timestamp(),
            settings=settings,
            progress=progress,
        )
    except ValueError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    if not args.json:
        print(file=sys.stderr)
    data = report.as_json()
    emit_report(data, args.report, args.json)
    if not args.json:
        zone = site.site_time  # the room's site: its clock
        for blob in report.blobs:
            left = zone.with_zone(blob.left) if blob.left else "still there at the end"
            name = f" {printable(blob.name)}" if blob.name else ""
            print(f"blob {blob.blob_id}{name}: {zone.with_zone(blob.appeared)} → {left}")
        print(
            f"{len(report.blobs)} blobs in {report.recorded_s:.1f} s recorded, replayed in "
            f"{report.elapsed_s:.1f} s ({data['speed_x']}× real time); settings "
            f"{report.settings}"
        )
    if report.stopped_at is not None:
        print(f"{command}: stopped early: {printable(report.stopped_at)}", file=sys.stderr)
        return exit_codes.FAILED
    return exit_codes.OK


def _parse_nodes_at(text: str) -> dict[str, tuple[float, float, float]]:
    nodes: dict[str, tuple[float, float, float]] = {}
    for number, part in enumerate((p for p in text.split(";") if p.strip()), start=1):
        try:
            x, y, z = (float(v) for v in part.split(","))
        except ValueError:
            raise ValueError(
                f"--nodes-at: node {number} {part.strip()!r} is not x,y,z in metres"
            ) from None
        nodes[f"node {number}"] = (x, y, z)
    return nodes


# One character per accuracy class, finest first; a fall-capable cell is a capital.
_PLAN_MARKS = ((0.5, "a"), (1.0, "b"), (math.inf, "c"))


def _plan(args: argparse.Namespace) -> int:
    from engine.sensing.grid.capability import room_capability

    command = "watchfloor sense plan"
    try:
        if args.advise is not None and args.nodes_at is not None:
            raise ValueError("give either --nodes-at (rate a layout) or --advise N (suggest one)")
        if args.room is not None and args.nodes_at is None and args.advise is None:
            raise ValueError("--room goes with --nodes-at or --advise N")
        if args.nodes_at is not None and args.room is None:
            raise ValueError("--nodes-at goes with --room")
        if args.room is not None and args.site is not None:
            raise ValueError("give either --site or --room")
        if args.advise is not None:
            return _advise(args, command)
        if args.room is not None:
            size = _parse_room(args.room)
            nodes = _parse_nodes_at(args.nodes_at)
            channel = None
        else:
            found = _site_room(args.site, command, args.room_id, "--room-id")
            if isinstance(found, int):
                return found
            _site, room = found
            size = room.size
            nodes = {n.name or n.node_id: n.position for n in room.nodes}
            channel = room.channel
        capability = (
            room_capability(size, nodes)
            if channel is None
            else room_capability(size, nodes, channel)
        )
    except ValueError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    if args.json:
        print(json.dumps(capability.as_json()))
        return exit_codes.OK
    width, depth, height = size
    print(
        f"{capability.rating}: {width:g} x {depth:g} x {height:g} m room, "
        f"{capability.node_count} nodes ({capability.link_count} links)"
    )
    _print_figures(capability)
    print(f"advice: {capability.advice}")
    print("map (north at the top; a within 0.5 m, b within 1 m, c coarser, . unseen;")
    print("     capital: a fall can be confirmed there; ? ambiguous):")
    for row in range(capability.ys.size - 1, -1, -1):
        line = []
        for column in range(capability.xs.size):
            accuracy = float(capability.accuracy_m[row, column])
            mark = next((m for limit, m in _PLAN_MARKS if accuracy <= limit), ".")
            if capability.fall_capable[row, column]:
                mark = mark.upper()
            if capability.ambiguous[row, column]:
                mark = "?"
            line.append(mark)
        print("  " + "".join(line))
    return exit_codes.OK


def _print_figures(capability: RoomCapability) -> None:
    """A layout's rating reasons and its figures, as `sense plan` prints them."""
    for reason in capability.reasons:
        print(f"  - {reason}")
    median = capability.median_accuracy_m
    print(
        f"expected error median {median:.2f} m; within 0.5 m in {capability.within_half_m:.0%} "
        f"of the floor, within 1 m in {capability.within_one_m:.0%}; falls confirmed in "
        f"{capability.fall_capable_fraction:.0%}; ambiguous {capability.ambiguous_fraction:.0%}"
        if math.isfinite(median)
        else f"most of the floor is seen by no link; falls confirmed in "
        f"{capability.fall_capable_fraction:.0%}"
    )


def _advise(args: argparse.Namespace, command: str) -> int:
    """``sense plan --advise N``: the advised layout, its rating and the site-file lines."""
    from engine.sensing.grid.capability import advise_layout

    if args.room is not None:
        size = _parse_room(args.room)
        channel = None
    else:
        found = _site_room(args.site, command, args.room_id, "--room-id")
        if isinstance(found, int):
            return found
        size, channel = found[1].size, found[1].channel
    advice = (
        advise_layout(size, args.advise)
        if channel is None
        else advise_layout(size, args.advise, channel)
    )
    capability = advice.capability
    if args.json:
        figures = capability.as_json()
        figures["advised_nodes"] = [
            {"x_m": p[0], "y_m": p[1], "z_m": p[2], "place": place}
            for p, place in zip(advice.positions, advice.places, strict=True)
        ]
        figures["layouts_compared"] = advice.compared
        print(json.dumps(figures))
        return exit_codes.OK
    width, depth, height = size
    print(
        f"advised layout for {args.advise} nodes in a {width:g} x {depth:g} x {height:g} m room "
        f"(best of {advice.compared} rated): {capability.rating}"
    )
    _print_figures(capability)
    more = args.advise + 2
    if capability.rating != "good" and more <= 16:
        bigger = (
            advise_layout(size, more) if channel is None else advise_layout(size, more, channel)
        ).capability
        print(
            f"with {more} nodes: {bigger.rating}, expected error median "
            f"{bigger.median_accuracy_m:.2f} m, falls confirmed in "
            f"{bigger.fall_capable_fraction:.0%}, ambiguous {bigger.ambiguous_fraction:.0%}"
        )
    print("nodes (paste into the site file; give each its mac):")
    for number, (position, place) in enumerate(
        zip(advice.positions, advice.places, strict=True), start=1
    ):
        x, y, z = position
        print(f"  # {place}")
        print(f'  [[sensing_nodes]]\n  id = "node-{number}"\n  name = "Node {number}"')
        print(f"  position = {{ x = {x:g}, y = {y:g}, z = {z:g} }}")
    return exit_codes.OK


def _explain(args: argparse.Namespace, db_url: str) -> int:
    from engine.sensing.records import stored_blob
    from engine.store import Store

    store = Store(db_url)
    try:
        blob = stored_blob(store, args.blob_id)
    finally:
        store.close()
    if blob is None:
        print(f"watchfloor sense explain: no blob {args.blob_id} is stored", file=sys.stderr)
        return exit_codes.FAILED
    data = blob.as_json()
    if args.json:
        print(json.dumps(data))
        return exit_codes.OK
    print(
        f"blob {data['blob']} ({data['kind']} at {data['ts']}, room {data['room']}) "
        f"at {data['position']}"
    )
    if not data["explanation"]:
        print("  no explanation was stored with this event")
    for share in data["explanation"] or ():
        a, b = share["link"]
        ellipsoid = share["ellipsoid"]
        print(
            f"  {printable(a)}-{printable(b)}: {share['share']:.1%} of the value, zone "
            f"{share['zone']}, activation {share['activation']:.3f}, ellipsoid a "
            f"{ellipsoid['semi_major_m']:.3f} m b {ellipsoid['semi_minor_m']:.3f} m"
        )
    return exit_codes.OK


REGISTRATION = Registration(
    add_parser,
    (
        guarded("sense", "token", run, Permission.CONFIGURE_NODES, "issue a node token"),
        guarded("sense", "serve", run, Permission.WATCH, "run the sensing node server"),
        guarded("sense", "pair", run, Permission.CONFIGURE_NODES, "open node pairing"),
        guarded("sense", "simulate", run, Permission.WATCH, "run a simulated sensing room"),
        guarded("sense", "explain", run, Permission.WATCH, "explain a sensing blob"),
        guarded("sense", "replay", run, Permission.REPLAY, "replay recorded sensing"),
        guarded("sense", "plan", run, Permission.WATCH, "plan a sensing layout"),
    ),
)
