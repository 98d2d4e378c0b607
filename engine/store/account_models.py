"""Typed model of the accounts table (revision ``0009``). See :mod:`engine.accounts`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

ACCOUNT_KINDS = ("person", "service")


class Account(Base):
    """Someone (``person``: a password) or something (``service``: a token for scripts and
    the headless engine) that may act, with its roles. Secrets are stored only as hashes.
    Times are UTC microseconds since 1970, like the audit trail's."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('person', 'service')", name="ck_accounts_kind"),
        UniqueConstraint("name_key", name="uq_accounts_name_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))  # as typed when created
    name_key: Mapped[str] = mapped_column(String(64))  # case-folded: "Ada" and "ada" are one
    kind: Mapped[str] = mapped_column(String(16))
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated, sorted
    secret_hash: Mapped[str] = mapped_column(String(300))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    retry_after_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_login_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    secret_changed_us: Mapped[int] = mapped_column(BigInteger)
