"""How a capability declares its ``watchfloor`` subcommands, and how the CLI collects them.

Each module under :mod:`console.commands` declares one :class:`Registration`: the function
that adds its parsers, and beside each runnable subcommand (a :class:`Subcommand`) its
handler, the permission it needs and what it does. :func:`install` adds every
registration's parsers, checks that each subcommand the parsers offer is declared (and
each declared one offered), and stamps each leaf parser with its declaration, so the
parsed arguments name the subcommand to run (:func:`chosen`): nothing dispatches on
command names. :data:`console.auth.NEEDS` is derived from the same declarations.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.access import Permission

Handler = Callable[[argparse.Namespace, str], int]
"""Runs a parsed subcommand against the database URL; returns the exit code."""

AddParsers = Callable[[Any, list[argparse.ArgumentParser]], None]
"""Adds a capability's parsers to the subcommands (``add_subparsers``), with the parents
that give ``--db`` and ``--user`` after the subcommand."""

_DEST = "watchfloor_subcommand"  # where a leaf parser leaves its declaration


@dataclass(frozen=True)
class Subcommand:
    """One runnable subcommand: ``command`` and ``action`` (None: the command has no
    action; ``"devices add"``: a verb under an action), its handler, and the permission
    its caller needs with what it does, for messages and the audit trail. ``needs`` None:
    no account check (the command touches no stored data, maintains the database file as
    its owner, or has its own rule); ``doing`` then says why."""

    command: str
    action: str | None
    run: Handler
    needs: Permission | None
    doing: str

    @property
    def key(self) -> tuple[str, str | None]:
        return self.command, self.action

    @property
    def name(self) -> str:
        """``"ble devices add"``: how messages and the audit trail name it."""
        return f"{self.command} {self.action}" if self.action else self.command


def guarded(
    command: str, action: str | None, run: Handler, needs: Permission, doing: str
) -> Subcommand:
    """A subcommand whose caller must hold ``needs`` to ``doing``."""
    return Subcommand(command, action, run, needs, doing)


def unguarded(command: str, action: str | None, run: Handler, why: str) -> Subcommand:
    """A subcommand with no account check, and ``why`` it needs none."""
    return Subcommand(command, action, run, None, why)


def without_database(run: Callable[[argparse.Namespace], int]) -> Handler:
    """A handler for a subcommand that opens no database (the URL is not used)."""

    def handler(args: argparse.Namespace, _db_url: str) -> int:
        return run(args)

    return handler


@dataclass(frozen=True)
class Registration:
    """A capability's subcommands: what adds their parsers, and each one's declaration."""

    add_parsers: AddParsers
    subcommands: tuple[Subcommand, ...]


def install(
    subparsers: Any, registrations: Iterable[Registration], db_option: argparse.ArgumentParser
) -> None:
    """Add every registration's parsers to ``subparsers`` and stamp each leaf parser with
    its :class:`Subcommand`. A subcommand offered but not declared (or declared but not
    offered, or declared twice) is a programming error, raised here."""
    declared: dict[tuple[str, str | None], Subcommand] = {}
    for registration in registrations:
        registration.add_parsers(subparsers, [db_option])
        for subcommand in registration.subcommands:
            if declared.setdefault(subcommand.key, subcommand) is not subcommand:
                raise ValueError(f"subcommand {subcommand.name!r} is declared twice")
    offered = dict(leaf_parsers(subparsers))
    if set(offered) != set(declared):
        undeclared = sorted(_named(k) for k in set(offered) - set(declared))
        unoffered = sorted(_named(k) for k in set(declared) - set(offered))
        raise ValueError(
            f"subcommands without a declaration: {undeclared}; declared without a parser: "
            f"{unoffered}"
        )
    for key, parser in offered.items():
        parser.set_defaults(**{_DEST: declared[key]})


def leaf_parsers(subparsers: Any) -> Iterator[tuple[tuple[str, str | None], Any]]:
    """Each runnable subcommand's key and parser: the parsers with no subcommands below."""
    for name, parser in subparsers.choices.items():
        for path, leaf in _leaves(parser, ()):
            yield (name, " ".join(path) or None), leaf


def _leaves(parser: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        yield path, parser
        return
    for action in nested:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def _named(key: tuple[str, str | None]) -> str:
    command, action = key
    return f"{command} {action}" if action else command


def chosen(args: argparse.Namespace) -> Subcommand | None:
    """The subcommand ``args`` were parsed for (None: no subcommand, the console)."""
    subcommand = getattr(args, _DEST, None)
    return subcommand if isinstance(subcommand, Subcommand) else None
