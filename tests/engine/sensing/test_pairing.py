"""Pairing from another process: a request stored through the writer opens a real node
server's window (loopback HTTP), and each provisioning is an event and an audit entry."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import REAL_CLOCK
from engine.sensing.pairing import REQUEST_FRESH_S, PairingDesk
from engine.sensing.protocol import node_token
from engine.sensing.records import RequestNodePairing, pairing_request
from engine.sensing.server import NODE_PROVISIONED, NodeServer
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.models import Event
from engine.store.writer import StoreWriter
from engine.wording import describe
from tests.actors import ADMIN

SECRET = b"s" * 32
MAC = "AA:BB:CC:DD:EE:07"


@pytest.fixture
def served(store: Store) -> Iterator[tuple[NodeServer, PairingDesk, StoreWriter]]:
    desks: list[PairingDesk] = []

    def on_event(kind: str, mac: str, detail: dict[str, object]) -> None:
        if kind == NODE_PROVISIONED:
            desks[0].provisioned(mac, str(detail["remote"]))

    server = NodeServer(
        install_secret=SECRET,
        clock=REAL_CLOCK,
        on_frame=lambda _f, _a: None,
        on_node_event=on_event,
        port=0,
    )
    with StoreWriter.running(store) as writer, server:
        desks.append(PairingDesk(server, room="room", store=store, writer=writer, clock=REAL_CLOCK))
        yield server, desks[0], writer


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

    assert provision(server) == (200, {"node_token": node_token(SECRET, MAC)})
    assert writer.flush(10)
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
