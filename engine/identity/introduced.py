"""Naming a person from their own introduction ("Hi, I'm John", heard by a camera's
microphone): the store command that gives the name.

An operator confirming what a person said about themselves is labelling, not managing the
people register: :class:`NameFromIntroduction` needs the ``label`` permission (operators
hold it) for a person who has no name yet, and ``manage_people`` to replace a name someone
gave before. Audited as ``person.introduced`` with what was heard and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission, PermissionDeniedError
from engine.identity.faces_store import _person, clean_person_name
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand


@dataclass(frozen=True, slots=True)
class Introduced:
    """The person after the command: their public id, the name now and the one before."""

    public_id: str
    name: str
    previous: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NameFromIntroduction(GuardedCommand, StoreCommand):
    """``actor`` gives person ``public_id`` the ``name`` they introduced themselves with on
    ``camera`` (``transcript``: what was heard). A person already named otherwise keeps it
    unless the actor may manage people (:class:`PermissionDeniedError`).
    :class:`~engine.identity.faces_store.UnknownPersonError` for an unknown id; ValueError
    for an unusable name."""

    permission: ClassVar[Permission] = Permission.LABEL
    action: ClassVar[str] = "person.introduced"

    public_id: str
    name: str
    camera: str
    transcript: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.public_id

    def apply(self, session: Session) -> Introduced:
        clean = clean_person_name(self.name)
        person = _person(session, self.public_id)
        previous = person.name
        if previous and previous != clean and not self.actor.may(Permission.MANAGE_PEOPLE):
            raise PermissionDeniedError(
                self.actor, Permission.MANAGE_PEOPLE, f"rename {previous} to {clean}"
            )
        person.name = clean
        audit_command(
            session,
            self,
            {
                "old": previous,
                "new": clean,
                "camera": self.camera,
                "heard": self.transcript[:500],
            },
        )
        session.flush()
        return Introduced(self.public_id, clean, previous)
