"""Sensing node tokens (revision 0025): the SHA-256 of each paired node's token, never the
token itself. Written by the commands of :mod:`engine.sensing.nodes.tokens`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base

# How a node's token came to be: handed out by provisioning in a pairing window, issued by
# an admin (``sense token MAC --rotate``), or adopted from an install that derived tokens
# from its install secret (kept until the node is rotated).
TOKEN_ORIGINS = ("paired", "rotated", "derived")


class NodeTokenRow(Base):
    """One paired node: its MAC (``AA:BB:CC:DD:EE:FF``), the lower-case hex SHA-256 of its
    token, how the token came (:data:`TOKEN_ORIGINS`), by whom (an audit label) and when.
    An unpaired or revoked node has no row."""

    __tablename__ = "sensing_node_tokens"
    __table_args__ = (
        CheckConstraint(
            "origin IN ('paired', 'rotated', 'derived')", name="ck_sensing_node_tokens_origin"
        ),
    )

    mac: Mapped[str] = mapped_column(String(17), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime]
