"""Opening a node server's pairing window from another process, through the store.

``watchfloor sense pair`` stores a pairing request (:class:`~engine.sensing.records.
RequestNodePairing`: checked and audited by the store writer); a :class:`PairingDesk`
beside each running node server (the engine's sensing room, or ``watchfloor sense
serve``) looks for a new request every second, opens its window and answers the request
in the store, which is how the command learns that someone heard it. The store is the
one thing both processes share, so no socket of our own is opened and no other way in
needs securing.

The desk also keeps the server's node tokens in the store (:class:`~engine.sensing.nodes.tokens.
StoredTokens`, attached to the server's book unless it already has a store): a
provisioning is stored there, with a ``sensing.node_paired`` event and a
``node.provisioned`` audit entry, before the node gets its token; and every poll rereads
the tokens, closing the connection of a node whose token an admin rotated or revoked
(``watchfloor sense token MAC --rotate`` / ``--revoke``, from any process).

Threads: the desk polls on its own ``sensing-pairing`` thread (two store reads a second,
kept off the sensing and server threads).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Final

from engine.clock import Clock
from engine.sensing.nodes.server import NodeServer
from engine.sensing.nodes.tokens import StoredTokens
from engine.sensing.records import AnswerPairingRequest, pairing_request
from engine.store.database import Store
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

POLL_S: Final = 1.0  # seconds between looks for a new request
# A request older than this (seconds) when first seen is not honoured: its command has
# given up waiting (ANSWER_WAIT_S) and told its user no engine serves the room.
REQUEST_FRESH_S: Final = 5.0
# How long ``sense pair`` waits for an answer (seconds): the freshness window plus one poll,
# so that a request honoured is always one the command still waits for.
ANSWER_WAIT_S: Final = REQUEST_FRESH_S + POLL_S
MAX_PAIRING_S: Final = 3600.0  # a pairing window is short by design (spaxel's never closes)


class PairingDesk:
    """Answers pairing requests for ``room`` by opening ``server``'s window, and files
    provisionings. Start it after the server; stop it before."""

    def __init__(
        self,
        server: NodeServer,
        *,
        room: str,
        store: Store,
        writer: StoreWriter,
        clock: Clock,
        poll_s: float = POLL_S,
    ) -> None:
        self._server = server
        self._room = room
        self._store = store
        self._writer = writer
        self._clock = clock
        self._poll_s = poll_s
        self._seen = 0  # the latest request's sequence number already handled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not server.tokens.attached:
            server.tokens.attach(StoredTokens(store, writer, clock, room))

    def start(self) -> None:
        """Look for requests every ``poll_s`` seconds on the ``sensing-pairing`` thread."""
        if self._thread is not None:
            raise RuntimeError("the pairing desk was already started")
        self._thread = threading.Thread(target=self._run, name="sensing-pairing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking (idempotent)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a store hiccup must not end pairing: log, look again
                log.exception("sensing room %s: looking for pairing requests failed", self._room)
            self._stop.wait(self._poll_s)

    def poll(self) -> datetime | None:
        """Look once: reread the node tokens (closing the connections of nodes whose token
        changed or went), then open the window for a new, fresh request and answer it in
        the store. Returns when the window opened now closes (UTC), or None if nothing was
        opened."""
        for mac in sorted(self._server.tokens.reload()):
            self._server.close_node(mac, "its token was rotated or revoked")
        request = pairing_request(self._store, self._room)
        if request is None or request.seq <= self._seen:
            return None
        self._seen = request.seq
        age_s = (self._clock.now() - request.requested_at).total_seconds()
        if age_s > REQUEST_FRESH_S:
            log.info(
                "sensing room %s: pairing request %d is %.0f s old; its command gave up",
                self._room,
                request.seq,
                age_s,
            )
            return None
        seconds = min(request.seconds, MAX_PAIRING_S)
        until = self._server.open_pairing(seconds)
        log.info(
            "sensing room %s: pairing opened for %g s at the request of %s",
            self._room,
            seconds,
            request.actor,
        )
        self._writer.execute(
            AnswerPairingRequest(
                room=self._room,
                seq=request.seq,
                by=f"node server on {self._server.host}:{self._server.port}",
                until=until,
                at=self._clock.now(),
            )
        )
        return until
