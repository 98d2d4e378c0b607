"""Pairing from another process: a request stored through the writer opens a real node
server's window (loopback HTTP), and each provisioning is stored (the token's hash), an
event and an audit entry; a token rotated or revoked in the store closes the node's
connection."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from engine.access import PermissionDeniedError
from engine.clock import REAL_CLOCK
from engine.sensing.nodes.pairing import REQUEST_FRESH_S, PairingDesk
from engine.sensing.nodes.server import NOT_PROVISIONED, NodeServer
from engine.sensing.nodes.tokens import (
    IssueNodeToken,
    NodeTokenBook,
    RevokeNodeToken,
    new_node_token,
    stored_node_tokens,
    token_sha256,
)
from engine.sensing.records import RequestNodePairing, pairing_request
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.models import Event
from engine.store.writer import StoreWriter
from engine.wording import describe
from tests.actors import ADMIN, OPERATOR

MAC = "AA:BB:CC:DD:EE:07"


@pytest.fixture
def served(store: Store) -> Iterator[tuple[NodeServer, PairingDesk, StoreWriter]]:
    server = NodeServer(
        tokens=NodeTokenBook(), clock=REAL_CLOCK, on_frame=lambda _f, _a: None, port=0
    )
    with StoreWriter.running(store) as writer, server:
        yield (
            server,
            PairingDesk(server, room="room", store=store, writer=writer, clock=REAL_CLOCK),
            writer,
        )


def provision(server: NodeServer) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/api/provision", body=json.dumps({"mac": MAC}).encode())
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_stored_request_opens_the_window_and_each_provisioning_is_filed(
    store: Store, served: tuple[NodeServer, PairingDesk, StoreWriter]
) -> None:
    server, desk, writer = served
    assert provision(server)[0] == 403  # closed until someone asks
    assert desk.poll() is None  # no request yet
    seq = writer.execute(
        RequestNodePairing(room="room", seconds=30.0, at=REAL_CLOCK.now(), actor=ADMIN)
    )
    until = desk.poll()
    assert until is not None and server.pairing_open_until == until
    assert desk.poll() is None  # one request opens the window once
    request = pairing_request(store, "room")
    assert request is not None and request.seq == seq
    assert [a["by"] for a in request.answers] == [f"node server on 127.0.0.1:{server.port}"]

    code, reply = provision(server)
    assert code == 200
    assert stored_node_tokens(store)[MAC].token_sha256 == token_sha256(reply["node_token"])
    assert stored_node_tokens(store)[MAC].origin == "paired"
    with store.transaction() as session:
        events = session.scalars(select(Event).where(Event.kind == "sensing.node_paired")).all()
        assert [(e.source, e.detail["mac"]) for e in events] == [("sensing:room", MAC)]
        address = events[0].detail["address"]
        assert address.startswith("127.0.0.1:")
        summary = describe(events[0].kind, events[0].source, events[0].detail).summary
    assert MAC in summary and address in summary
    audit = AuditListRequest(reader=ADMIN, action="node.provisioned").run(store)
    assert [(e.target, e.detail["address"], e.actor) for e in audit] == [
        (MAC, address, "engine:engine")
    ]
    opened = AuditListRequest(reader=ADMIN, action="node.pairing_opened").run(store)
    assert [(e.actor, e.target, e.detail) for e in opened] == [
        ("account:ada", "sensing:room", {"seconds": 30.0, "requested": True})
    ]


def test_a_request_its_command_gave_up_on_opens_nothing(
    store: Store, served: tuple[NodeServer, PairingDesk, StoreWriter]
) -> None:
    server, desk, writer = served
    old = REAL_CLOCK.now() - timedelta(seconds=REQUEST_FRESH_S + 1)
    writer.execute(RequestNodePairing(room="room", seconds=30.0, at=old, actor=ADMIN))
    assert desk.poll() is None
    assert server.pairing_open_until is None
    request = pairing_request(store, "room")
    assert request is not None and request.answers == ()
    # A request for another room is not this server's to answer.
    writer.execute(RequestNodePairing(room="attic", seconds=30.0, at=REAL_CLOCK.now(), actor=ADMIN))
    assert desk.poll() is None and server.pairing_open_until is None


def hello(mac: str, token: str) -> dict[str, object]:
    return {
        "type": "hello",
        "mac": mac,
        "firmware_version": "1",
        "capabilities": ["csi"],
        "token": token,
    }


def join(server: NodeServer, mac: str, token: str) -> ClientConnection:
    """A node connected with ``token`` and accepted (its role and config read)."""
    ws = connect(
        f"ws://127.0.0.1:{server.port}/ws/node", open_timeout=10, close_timeout=1, legacy=True
    )
    ws.send(json.dumps(hello(mac, token)))
    assert json.loads(ws.recv(timeout=10))["type"] == "role"
    assert json.loads(ws.recv(timeout=10))["type"] == "config"
    return ws


def refused(server: NodeServer, mac: str, token: str) -> bool:
    with connect(f"ws://127.0.0.1:{server.port}/ws/node", open_timeout=10) as ws:
        ws.send(json.dumps(hello(mac, token)))
        return bool(json.loads(ws.recv(timeout=10))["type"] == "reject")


def closed_code(ws: ClientConnection) -> tuple[int | None, str]:
    with pytest.raises(ConnectionClosed) as caught:
        while True:
            ws.recv(timeout=10)
    close = caught.value.rcvd
    return (None, "") if close is None else (close.code, close.reason)


@pytest.mark.hostile(5)
def test_a_rotated_or_revoked_token_closes_the_node_and_a_paired_node_gets_nothing(
    store: Store, served: tuple[NodeServer, PairingDesk, StoreWriter]
) -> None:
    server, desk, writer = served
    server.open_pairing(60)
    code, reply = provision(server)
    assert code == 200
    first = reply["node_token"]
    # Paired (in the store): provisioning gives nothing more, to anyone, in any window.
    assert provision(server) == (403, {"error": NOT_PROVISIONED})
    assert len(AuditListRequest(reader=ADMIN, action="node.provisioned").run(store)) == 1

    ws = join(server, MAC, first)
    second = new_node_token()
    writer.execute(
        IssueNodeToken(mac=MAC, token_sha256=token_sha256(second), at=REAL_CLOCK.now(), actor=ADMIN)
    )
    desk.poll()  # a running server rereads the tokens every second
    assert closed_code(ws) == (1008, "its token was rotated or revoked")
    assert refused(server, MAC, first)
    ws = join(server, MAC, second)
    with pytest.raises(PermissionDeniedError):  # an operator may not revoke it
        writer.execute(RevokeNodeToken(mac=MAC, at=REAL_CLOCK.now(), actor=OPERATOR))
    desk.poll()
    writer.execute(RevokeNodeToken(mac=MAC, at=REAL_CLOCK.now(), actor=ADMIN))
    desk.poll()
    assert closed_code(ws)[0] == 1008
    assert refused(server, MAC, second)
    assert MAC not in stored_node_tokens(store)
    audit = [e for e in AuditListRequest(reader=ADMIN).run(store) if e.target == MAC]
    assert [(e.action, e.actor, e.outcome) for e in reversed(audit)][-3:] == [
        ("node.token_rotated", "account:ada", "ok"),
        ("node.token_revoked", "account:olga", "denied"),
        ("node.token_revoked", "account:ada", "ok"),
    ]
