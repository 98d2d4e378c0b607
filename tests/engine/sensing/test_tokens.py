"""Node tokens in the store: random, kept as their hash, issued once; an install of old keeps
its site nodes' derived tokens until they are rotated (real SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from engine.clock import REAL_CLOCK
from engine.sensing.nodes.protocol import node_token
from engine.sensing.nodes.tokens import (
    IssueNodeToken,
    NodeTokenBook,
    StoredNodeToken,
    StoredTokens,
    new_node_token,
    stored_node_tokens,
    token_sha256,
)
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN

pytestmark = pytest.mark.sql

SECRET = b"install secret of old"
SITE_NODE, ROTATED_NODE, STRANGER = "24:6F:28:00:00:01", "24:6F:28:00:00:02", "24:6F:28:00:00:99"


def test_a_store_keeps_only_the_hash_and_hands_a_token_out_once(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        book = NodeTokenBook()
        book.attach(StoredTokens(store, writer, REAL_CLOCK, "room"))
        token = book.provision(SITE_NODE, "127.0.0.1:4000")
        assert token is not None and book.check(SITE_NODE, token)
        assert book.provision(SITE_NODE, "127.0.0.1:4000") is None
        # Another engine on the same store: the node is paired there too.
        other = NodeTokenBook()
        other.attach(StoredTokens(store, writer, REAL_CLOCK, "room"))
        assert other.provision(SITE_NODE, "127.0.0.1:4001") is None
        assert other.check(SITE_NODE, token) and not other.check(SITE_NODE, token + "x")
    (row,) = stored_node_tokens(store).values()
    assert (row.mac, row.token_sha256, row.origin) == (SITE_NODE, token_sha256(token), "paired")
    assert token not in str(row)


def test_an_install_of_old_keeps_its_site_nodes_derived_tokens_until_rotated(
    store: Store,
) -> None:
    with StoreWriter.running(store) as writer:
        writer.execute(
            IssueNodeToken(
                mac=ROTATED_NODE,
                token_sha256=token_sha256(new_node_token()),
                at=REAL_CLOCK.now(),
                actor=ADMIN,
            )
        )
        book = NodeTokenBook()
        book.attach(StoredTokens(store, writer, REAL_CLOCK, "room"))
        adopted = book.adopt_derived(SECRET, [SITE_NODE, ROTATED_NODE])
        assert adopted == (SITE_NODE,)  # a node with a token of its own keeps it
        assert book.check(SITE_NODE, node_token(SECRET, SITE_NODE))
        assert not book.check(ROTATED_NODE, node_token(SECRET, ROTATED_NODE))
        assert not book.check(STRANGER, node_token(SECRET, STRANGER))  # not in the site file
        assert book.derived() == [SITE_NODE]
        assert book.adopt_derived(SECRET, [SITE_NODE]) == ()  # once only
        fresh = new_node_token()
        writer.execute(
            IssueNodeToken(
                mac=SITE_NODE, token_sha256=token_sha256(fresh), at=REAL_CLOCK.now(), actor=ADMIN
            )
        )
        assert book.reload() == {SITE_NODE}  # its connection is closed by the server
        assert book.check(SITE_NODE, fresh)
        assert not book.check(SITE_NODE, node_token(SECRET, SITE_NODE))
        assert book.derived() == []
        # A restart with the secret still set does not bring the derived token back.
        assert book.adopt_derived(SECRET, [SITE_NODE]) == ()
    adoptions = AuditListRequest(reader=ADMIN, action="node.token_adopted").run(store)
    assert [(e.target, e.detail) for e in adoptions] == [("sensing:room", {"macs": [SITE_NODE]})]


def test_a_simulated_nodes_token_is_checked_like_any_and_never_stored(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        book = NodeTokenBook()
        book.attach(StoredTokens(store, writer, REAL_CLOCK, "room"))
        token = book.grant(STRANGER)
        assert book.check(STRANGER, token) and not book.check(STRANGER, new_node_token())
        assert book.provision(STRANGER, "127.0.0.1:4000") is None
        assert book.reload() == set()
        assert book.check(STRANGER, token)
    assert stored_node_tokens(store) == {}


@pytest.mark.parametrize("given", ["", "é" * 50, "\udcff", "x" * 10_000])
def test_any_text_is_checked_without_error(given: str) -> None:
    book = NodeTokenBook({SITE_NODE: "right"})
    assert not book.check(SITE_NODE, given)
    assert book.check(SITE_NODE, "right")


def test_a_node_paired_while_the_tokens_are_reread_is_kept(store: Store) -> None:
    """The pairing desk rereads the tokens while a node may be provisioned on the server's
    worker: a read that began before the provisioning committed must not drop the new node
    (nor report it changed, which would close its connection)."""
    with StoreWriter.running(store) as writer:
        stored = StoredTokens(store, writer, REAL_CLOCK, "room")
        book = NodeTokenBook()
        tokens: list[str | None] = []

        class ProvisionedDuringTheRead:
            """The real store, with a provisioning committed just after its read."""

            def hashes(self) -> dict[str, StoredNodeToken]:
                read = stored.hashes()
                tokens.append(book.provision(SITE_NODE, "127.0.0.1:4000"))
                return read

            def pair(self, mac: str, digest: str, address: str) -> bool:
                return stored.pair(mac, digest, address)

            def adopt(self, hashes: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
                return stored.adopt(hashes)

        book.attach(ProvisionedDuringTheRead())
        (token,) = tokens
        assert token is not None and book.check(SITE_NODE, token)
        assert stored_node_tokens(store)[SITE_NODE].token_sha256 == token_sha256(token)
