"""Sensing node tokens: random, one per node, stored only as their SHA-256.

A node proves who it is with a token of 256 random bits (:func:`new_node_token`). The store
keeps the token's SHA-256 and nothing else (table ``sensing_node_tokens``), so a copy of the
database hands out no token, and a token is shown once: to the node that fetched it while a
pairing window was open (``POST /api/provision``), or to the admin who issued it with
``watchfloor sense token MAC --rotate``. A plain hash is enough, unlike for passwords: a
256-bit random token cannot be guessed from its hash.

- Provisioning (:class:`PairNode`) hands a token only to a MAC that has none: a paired node
  gets nothing back, so a pairing window no longer gives anyone an existing node's token.
- Rotating (:class:`IssueNodeToken`, admins, audited) replaces a node's token, or pairs a
  node by hand; revoking (:class:`RevokeNodeToken`, admins, audited) removes it. A running
  node server rereads the hashes every second and closes the connection of a node whose
  token changed or went (:meth:`NodeTokenBook.reload`).
- Installs from before this (tokens were an HMAC of ``node_install_secret`` and the MAC):
  the site file's nodes keep their derived token, adopted into the store as theirs
  (:class:`AdoptDerivedNodeTokens`, origin ``derived``) when a node server first runs with the
  install secret, so no node needs flashing on upgrade; the sensing report names them until
  each is rotated. A MAC the site file does not list is no longer accepted with a derived
  token: such a node pairs again (or an admin rotates it). Derived tokens are adopted only
  for MACs with no token, so a rotated node never goes back to its derived one.
- Simulated nodes (the demo, ``sense simulate``) get a random token of this run from the
  room's book (:meth:`NodeTokenBook.grant`), checked at hello like any other; it is never
  stored, so two engines never rotate each other's simulated nodes and a demo start writes
  no audit entries.

Threads: :class:`NodeTokenBook` is used from the node server's thread (checks), a worker
thread (provisioning, which waits for the store writer) and the pairing desk's thread
(reloads); it locks its own state. The store commands run on the writer's thread.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.access import ENGINE, Actor, GuardedCommand, Permission
from engine.clock import Clock
from engine.sensing.nodes.protocol import node_token, normalise_mac
from engine.store.audit import append_audit, audit_command
from engine.store.commands import InsertEvent, StoreCommand
from engine.store.database import Store
from engine.store.node_token_models import NodeTokenRow
from engine.store.writer import StoreWriter

TOKEN_BYTES: Final = 32  # 256 random bits: neither guessable nor found from its hash


def new_node_token() -> str:
    """A fresh random node token (43 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    """The lower-case hex SHA-256 of a token as the node sends it (any text; UTF-8)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def derived_token_sha256(install_secret: bytes, mac: str) -> str:
    """The hash of the token an install of old derived for ``mac`` (HMAC of the install
    secret and the MAC, :func:`~engine.sensing.nodes.protocol.node_token`)."""
    return token_sha256(node_token(install_secret, mac))


@dataclass(frozen=True, slots=True)
class StoredNodeToken:
    """A paired node's stored token: its hash, how it came (``paired``, ``rotated`` or
    ``derived``), who issued it (an audit label) and when (UTC)."""

    mac: str
    token_sha256: str
    origin: str
    issued_by: str
    issued_at: datetime


def stored_node_tokens(store: Store) -> dict[str, StoredNodeToken]:
    """Every paired node's stored token, by MAC."""
    with store.transaction() as session:
        rows = session.scalars(select(NodeTokenRow)).all()
        return {
            row.mac: StoredNodeToken(
                row.mac, row.token_sha256, row.origin, row.issued_by, row.issued_at
            )
            for row in rows
        }


# --- store commands ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PairNode(StoreCommand):
    """Provisioning: store ``token_sha256`` as ``mac``'s token, only if ``mac`` has none,
    with one ``sensing.node_paired`` event of ``room`` and one ``node.provisioned`` audit
    entry (target the MAC, detail the address it asked from), in one transaction. ``actor``
    is the engine: the node, not a person, asked; whoever opened the window has the
    ``node.pairing_opened`` entry before it. Returns whether the node was paired (False:
    it already had a token, and nothing was written)."""

    room: str
    mac: str
    token_sha256: str
    address: str
    at: datetime
    actor: Actor = ENGINE

    def apply(self, session: Session) -> bool:
        if session.get(NodeTokenRow, self.mac) is not None:
            return False
        session.add(
            NodeTokenRow(
                mac=self.mac,
                token_sha256=self.token_sha256,
                origin="paired",
                issued_by=self.actor.label,
                issued_at=self.at,
            )
        )
        detail: dict[str, Any] = {"room": self.room, "address": self.address}
        append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action="node.provisioned",
            target=self.mac,
            detail=detail,
        )
        InsertEvent(
            ts=self.at,
            kind="sensing.node_paired",
            source=f"sensing:{self.room}",
            detail={"mac": self.mac, "address": self.address},
        ).apply(session)
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueNodeToken(GuardedCommand, StoreCommand):
    """An admin gives ``mac`` a new token (``sense token MAC --rotate``): its hash replaces
    any the node had (or pairs it by hand). Needs the nodes permission (the writer refuses
    and audits anyone else); audited as ``node.token_rotated`` with the origin of the token
    it replaced (None if the node had none). Returns that origin."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_NODES
    action: ClassVar[str] = "node.token_rotated"

    mac: str
    token_sha256: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.mac

    def apply(self, session: Session) -> str | None:
        row = session.get(NodeTokenRow, self.mac)
        replaced = None if row is None else row.origin
        if row is None:
            row = NodeTokenRow(mac=self.mac)
            session.add(row)
        row.token_sha256 = self.token_sha256
        row.origin = "rotated"
        row.issued_by = self.actor.label
        row.issued_at = self.at
        audit_command(session, self, {"replaced": replaced})
        return replaced


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeNodeToken(GuardedCommand, StoreCommand):
    """An admin removes ``mac``'s token (``sense token MAC --revoke``): the node is refused
    from then on, and a running node server closes its connection within a second. Needs the
    nodes permission; audited as ``node.token_revoked`` (detail ``"had_token"``). Returns
    whether the node had a token."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_NODES
    action: ClassVar[str] = "node.token_revoked"

    mac: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.mac

    def apply(self, session: Session) -> bool:
        removed = session.execute(delete(NodeTokenRow).where(NodeTokenRow.mac == self.mac))
        had_token = bool(getattr(removed, "rowcount", 0))
        audit_command(session, self, {"had_token": had_token})
        return had_token


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptDerivedNodeTokens(StoreCommand):
    """An install of old: each of ``hashes`` (``(mac, hash of its derived token)``) becomes
    that node's token if the node has none (origin ``derived``), with one
    ``node.token_adopted`` audit entry naming the MACs adopted (none if none were). Returns
    the MACs adopted."""

    hashes: tuple[tuple[str, str], ...]
    room: str
    at: datetime
    actor: Actor = ENGINE

    def apply(self, session: Session) -> tuple[str, ...]:
        adopted: list[str] = []
        for mac, digest in self.hashes:
            if session.get(NodeTokenRow, mac) is not None:
                continue
            session.add(
                NodeTokenRow(
                    mac=mac,
                    token_sha256=digest,
                    origin="derived",
                    issued_by=self.actor.label,
                    issued_at=self.at,
                )
            )
            adopted.append(mac)
        if adopted:
            append_audit(
                session,
                at=self.at,
                actor=self.actor,
                action="node.token_adopted",
                target=f"sensing:{self.room}",
                detail={"macs": adopted},
            )
        return tuple(adopted)


# --- the book a node server checks ---------------------------------------------------------


class TokenStore(Protocol):
    """Where a :class:`NodeTokenBook` keeps its tokens for good (:class:`StoredTokens`)."""

    def hashes(self) -> dict[str, StoredNodeToken]:
        """Every paired node's stored token, by MAC (a store read)."""
        ...

    def pair(self, mac: str, digest: str, address: str) -> bool:
        """Store ``digest`` as ``mac``'s token if it has none; whether it was stored."""
        ...

    def adopt(self, hashes: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
        """Store derived tokens for MACs with none; the MACs adopted."""
        ...


class StoredTokens:
    """A room's tokens in the store, written through the store writer (the calls wait for
    it: never call them on the node server's event loop)."""

    def __init__(self, store: Store, writer: StoreWriter, clock: Clock, room: str) -> None:
        self._store = store
        self._writer = writer
        self._clock = clock
        self._room = room

    def hashes(self) -> dict[str, StoredNodeToken]:
        return stored_node_tokens(self._store)

    def pair(self, mac: str, digest: str, address: str) -> bool:
        command = PairNode(
            room=self._room, mac=mac, token_sha256=digest, address=address, at=self._clock.now()
        )
        return bool(self._writer.execute(command, timeout_s=30.0))

    def adopt(self, hashes: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
        command = AdoptDerivedNodeTokens(hashes=hashes, room=self._room, at=self._clock.now())
        return tuple(self._writer.execute(command, timeout_s=30.0))


class NodeTokenBook:
    """The tokens a node server accepts: MAC → SHA-256 of the node's token, with how it came
    (``paired``, ``rotated``, ``derived``, or ``simulated`` for this run's simulated nodes).
    Without a :class:`TokenStore` it lives in memory only (tests, a store-less run); with
    one (:meth:`attach`) it mirrors the store: provisioning writes there first and the
    pairing desk rereads it every second (:meth:`reload`). Any thread; see the module doc."""

    def __init__(self, tokens: Mapping[str, str] | None = None) -> None:
        """``tokens``: plain tokens by MAC to accept (a store-less server, tests)."""
        self._lock = threading.Lock()
        self._hashes: dict[str, tuple[str, str]] = {}  # MAC → (hash, origin)
        self._granted: dict[str, str] = {}  # simulated MACs of this run → hash
        self._pending: set[str] = set()  # MACs being provisioned right now
        # Provisionings counted, and the count at each MAC's: a reload whose store read may
        # have begun before a provisioning committed keeps that MAC (see reload).
        self._provisions = 0
        self._provisioned_at: dict[str, int] = {}
        self._store: TokenStore | None = None
        for mac, token in (tokens or {}).items():
            self._hashes[normalise_mac(mac)] = (token_sha256(token), "paired")

    def attach(self, store: TokenStore) -> None:
        """Keep the tokens in ``store`` from now on, and read them now (a store read)."""
        with self._lock:
            self._store = store
        self.reload()

    @property
    def attached(self) -> bool:
        """Whether the book mirrors a store."""
        with self._lock:
            return self._store is not None

    def check(self, mac: str, given: str) -> bool:
        """Whether ``given`` is ``mac``'s token (compared in constant time)."""
        digest = token_sha256(given)
        with self._lock:
            stored = self._hashes.get(mac)
            granted = self._granted.get(mac)
        expected = stored[0] if stored is not None else granted
        return expected is not None and hmac.compare_digest(expected, digest)

    def paired(self, mac: str) -> bool:
        """Whether ``mac`` has a token (stored, or granted for this run)."""
        with self._lock:
            return mac in self._hashes or mac in self._granted

    def provision(self, mac: str, address: str) -> str | None:
        """A new token for ``mac`` if it has none (stored first when the book has a store),
        else None: a paired node gets nothing. Waits for the store writer: call it off the
        event loop. Raises what the store raises (the caller answers 503)."""
        with self._lock:
            if mac in self._hashes or mac in self._granted or mac in self._pending:
                return None
            self._pending.add(mac)
            store = self._store
        try:
            token = new_node_token()
            digest = token_sha256(token)
            if store is not None and not store.pair(mac, digest, address):
                return None  # another engine on the same store paired it first
            with self._lock:
                self._hashes[mac] = (digest, "paired")
                self._provisions += 1
                self._provisioned_at[mac] = self._provisions
            return token
        finally:
            with self._lock:
                self._pending.discard(mac)

    def grant(self, mac: str) -> str:
        """A token of this run for simulated node ``mac``: accepted until the book is
        dropped, never stored (see the module doc)."""
        token = new_node_token()
        with self._lock:
            self._granted[normalise_mac(mac)] = token_sha256(token)
        return token

    def adopt_derived(self, install_secret: bytes, macs: Iterable[str]) -> tuple[str, ...]:
        """Accept the tokens an install of old derived for ``macs`` (the site file's nodes)
        where a MAC has no token yet; stored when the book has a store. Returns the MACs
        adopted now."""
        wanted = tuple(
            (mac, derived_token_sha256(install_secret, mac))
            for mac in dict.fromkeys(normalise_mac(m) for m in macs)
        )
        with self._lock:
            store = self._store
            fresh = tuple((mac, digest) for mac, digest in wanted if mac not in self._hashes)
        if store is not None:
            adopted = store.adopt(fresh)
            self.reload()
            return adopted
        with self._lock:
            for mac, digest in fresh:
                self._hashes.setdefault(mac, (digest, "derived"))
        return tuple(mac for mac, _ in fresh)

    def derived(self) -> list[str]:
        """MACs still accepted with a token derived from the install secret (to rotate)."""
        with self._lock:
            return sorted(mac for mac, (_, origin) in self._hashes.items() if origin == "derived")

    def reload(self) -> set[str]:
        """Reread the store (nothing without one); returns the MACs whose token changed or
        went (rotated or revoked elsewhere): their connections must close."""
        with self._lock:
            store = self._store
            provisions = self._provisions
        if store is None:
            return set()
        stored = store.hashes()
        fresh = {mac: (row.token_sha256, row.origin) for mac, row in stored.items()}
        with self._lock:
            for mac, at in self._provisioned_at.items():
                if at > provisions and mac not in fresh:  # stored after the read began
                    fresh[mac] = self._hashes[mac]
            self._provisioned_at.clear()
            changed = {
                mac
                for mac, (digest, _) in self._hashes.items()
                if mac not in fresh or fresh[mac][0] != digest
            }
            self._hashes = fresh
        return changed
