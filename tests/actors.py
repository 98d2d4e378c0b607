"""Actors for tests: one per role, as the engine's permission check sees them."""

from engine.access import Actor, Role

ADMIN = Actor("ada", frozenset({Role.ADMIN}))
INVESTIGATOR = Actor("ian", frozenset({Role.INVESTIGATOR}))
OPERATOR = Actor("olga", frozenset({Role.OPERATOR}))
