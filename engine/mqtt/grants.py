"""Who may send commands over MQTT, and the proof each command carries.

A command acts only with proof of who sent it, never on the topic's word alone: on a
broker without an ACL any client may publish on ``…/command/<anyone>/…``, and a site file
is written by whoever runs an engine. So two things must hold, and both are checked for
every command:

- an admin granted the topic's broker user a Watchfloor **service account**, in the store
  (:class:`GrantMqtt`, ``watchfloor mqtt grant BROKER_USER ACCOUNT``; audited as
  ``mqtt.grant``, taken back by :class:`RevokeMqtt` as ``mqtt.revoke``);
- the command's JSON carries ``"token": "wft_…"``, that account's service token, and the
  account is enabled (:func:`prove_sender`).

Why a token in the payload rather than a signature or trusting a broker ACL: service tokens
exist already (issued by an admin, shown once, stored only as SHA-256, revocable with
``accounts reset``/``disable``), checking one is one hash and one lookup by primary key,
and Home Assistant can send it as a static payload from its secrets; an ACL is the broker's
configuration, which the engine cannot see. The token travels to the broker, so use TLS
(``mqtts://``) where the network is not trusted, and a broker ACL still matters: it keeps
other clients off the engine's state topics and off each other's command topics. The token
is never logged, answered or audited.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.accounts import hash_token, parse_roles, roles_text
from engine.mqtt.settings import is_broker_user
from engine.store.account_models import Account
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.mqtt_models import MqttGrant
from engine.text import printable

TOKEN_FIELD = "token"


class MqttGrantError(ValueError):
    """A grant or revocation was refused; the message says what was wrong."""


def check_broker_user(name: str) -> str:
    """``name`` if it can be a broker user's name in a topic: 1–64 characters, none of
    ``/ # +``, no spaces or control characters."""
    if not isinstance(name, str) or not is_broker_user(name):
        raise MqttGrantError(
            f"{printable(str(name))[:64]!r} cannot be a broker user in a topic: use 1–64 "
            "characters without '/', '#', '+', spaces or control characters"
        )
    return name


def shown(name: str) -> str:
    """``name`` (a topic level, anyone's to write) as it may appear in a message, a log
    line or the audit trail: itself when it is a broker user's name, else made printable
    and cut to 64 characters."""
    return name if is_broker_user(name) else printable(name)[:64]


def _quoted(name: str) -> str:
    return repr(shown(name))


@dataclass(frozen=True, slots=True)
class GrantView:
    """One grant as an admin sees it: the broker user, the service account its commands
    act as (its roles, whether it is disabled), who granted it and when (UTC)."""

    broker_user: str
    account: str
    roles: str
    disabled: bool
    granted_by: str
    granted_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "broker_user": self.broker_user,
            "account": self.account,
            "roles": self.roles.split(","),
            "disabled": self.disabled,
            "granted_by": self.granted_by,
            "granted_at": self.granted_at.isoformat(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantMqtt(GuardedCommand, StoreCommand):
    """Broker user ``broker_user`` may send commands as the service account ``account``
    (a grant it had is replaced). Refused for a person's account or an unknown one."""

    permission: ClassVar[Permission] = Permission.MANAGE_ACCOUNTS
    action: ClassVar[str] = "mqtt.grant"

    broker_user: str
    account: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"mqtt:{shown(self.broker_user)}"

    def apply(self, session: Session) -> GrantView:
        check_broker_user(self.broker_user)
        account = session.scalars(
            select(Account).where(Account.name_key == str(self.account).casefold())
        ).first()
        if account is None:
            raise MqttGrantError(f"no account named {printable(str(self.account))[:64]!r}")
        if account.kind != "service":
            raise MqttGrantError(
                f"{account.name} is a person's account: a broker user acts only as a service "
                "account (watchfloor accounts add-service NAME --roles …)"
            )
        grant = session.get(MqttGrant, self.broker_user)
        replaced = None
        if grant is None:
            grant = MqttGrant(broker_user=self.broker_user, account_id=account.id)
            session.add(grant)
        elif grant.account_id != account.id:
            replaced = session.scalar(select(Account.name).where(Account.id == grant.account_id))
        grant.account_id = account.id
        grant.granted_by = self.actor.label
        grant.granted_at = self.at
        audit_command(
            session,
            self,
            {"account": account.name, "replaced": replaced, "disabled": account.disabled},
        )
        return GrantView(
            self.broker_user,
            account.name,
            roles_text(parse_roles(account.roles)),
            account.disabled,
            grant.granted_by,
            self.at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeMqtt(GuardedCommand, StoreCommand):
    """Broker user ``broker_user`` may no longer send commands; returns the account it
    acted as. Refused when it had no grant."""

    permission: ClassVar[Permission] = Permission.MANAGE_ACCOUNTS
    action: ClassVar[str] = "mqtt.revoke"

    broker_user: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"mqtt:{shown(self.broker_user)}"

    def apply(self, session: Session) -> str:
        grant = (
            session.get(MqttGrant, self.broker_user) if is_broker_user(self.broker_user) else None
        )
        if grant is None:
            raise MqttGrantError(f"broker user {_quoted(self.broker_user)} has no grant")
        account = session.scalar(select(Account.name).where(Account.id == grant.account_id))
        session.delete(grant)
        audit_command(session, self, {"account": account})
        return str(account)


@dataclass(frozen=True, slots=True)
class MqttGrantListRequest:
    """Every grant, by broker user: only an actor who may manage accounts may read them
    (they say who acts as whom)."""

    actor: Actor

    def run(self, store: Store) -> list[GrantView]:
        self.actor.require(Permission.MANAGE_ACCOUNTS, "list the MQTT grants")
        with store.sessions() as session:
            rows = session.execute(
                select(MqttGrant, Account)
                .join(Account, Account.id == MqttGrant.account_id)
                .order_by(MqttGrant.broker_user)
            ).all()
            return [
                GrantView(
                    grant.broker_user,
                    account.name,
                    roles_text(parse_roles(account.roles)),
                    account.disabled,
                    grant.granted_by,
                    grant.granted_at,
                )
                for grant, account in rows
            ]


@dataclass(frozen=True, slots=True)
class Proof:
    """Who a command acts as (``actor``), or why it acts as nobody: ``refusal``, a short key
    for the summaries ("no grant", "no token", "wrong token", "disabled"), and ``reason``,
    the words the sender is answered with (they never name the granted account: anyone who
    reads the result topic reads them)."""

    actor: Actor | None
    refusal: str = ""
    reason: str = ""


def prove_sender(store: Store, broker_user: str, token: object) -> Proof:
    """The service account a command from ``broker_user`` carrying ``token`` acts as: the
    account granted to that broker user, when ``token`` is that account's and it is enabled.
    One lookup by primary key and one SHA-256; the comparison takes the same time whatever
    the token. Reads the store: call it off the GUI thread."""
    with store.sessions() as session:
        row = session.execute(
            select(Account.name, Account.kind, Account.roles, Account.secret_hash, Account.disabled)
            .join(MqttGrant, MqttGrant.account_id == Account.id)
            .where(MqttGrant.broker_user == broker_user)
        ).first()
    if row is None:
        return Proof(
            None,
            "no grant",
            f"broker user {_quoted(broker_user)} may not send commands: an admin grants it a "
            f"service account with `watchfloor mqtt grant {shown(broker_user)} ACCOUNT`",
        )
    if not isinstance(token, str) or not token:
        return Proof(
            None,
            "no token",
            f'the command carries no "{TOKEN_FIELD}": give the token (wft_…) of the service '
            "account granted to this broker user",
        )
    if not hmac.compare_digest(hash_token(token), str(row.secret_hash)):
        return Proof(
            None,
            "wrong token",
            "the token is not that of the service account granted to broker user "
            f"{_quoted(broker_user)}",
        )
    if row.disabled or row.kind != "service":
        return Proof(
            None, "disabled", "the service account granted to this broker user is disabled"
        )
    return Proof(Actor(str(row.name), parse_roles(row.roles), "service"))
