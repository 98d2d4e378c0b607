"""``watchfloor secrets list|set NAME|generate NAME``: the named secrets (the LLM API key,
the risk API password, the sensing nodes' install secret) in the OS keyring of the user
running this command. ``list`` says where each is set (environment, keyring, or missing),
never a value; ``set`` takes the value typed twice without echo at a terminal, or the next
line of stdin; ``generate`` makes a random secret once. Storing is audited (``secret.set``,
``secret.generate``) with the secret's name as the target, never its value."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from console import exit_codes
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.secrets import SECRETS
from engine.text import printable

if TYPE_CHECKING:
    from engine.store.writer import StoreWriter


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "secrets", help="named secrets (API keys, passwords) in the environment or OS keyring"
    )
    actions = parser.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        parents=parents,
        help="which secrets exist and where each is set (never the value)",
    )
    listing.add_argument("--json", action="store_true", help="print as JSON")
    put = actions.add_parser(
        "set",
        parents=parents,
        help="store a secret in the OS keyring (prompted, or one line on stdin)",
        description="Store a named secret in the OS keyring of the user running this command "
        "(run it as the user who runs the console or engine). At a terminal it is asked "
        "twice without echo; otherwise the next line of stdin is the value (after the "
        "--user password, when one is asked). Its environment variable, when set, wins.",
    )
    put.add_argument("name", metavar="NAME", choices=[s.name for s in SECRETS])
    make = actions.add_parser(
        "generate",
        parents=parents,
        help="make a random secret (256 bits) in the OS keyring, unless one exists",
    )
    make.add_argument("name", metavar="NAME", choices=[s.name for s in SECRETS if s.generated])


def run(args: argparse.Namespace, db_url: str) -> int:
    """Run ``secrets list|set|generate``. Exit 2 for an empty or mistyped value; 1 when
    the keyring cannot be used or does not keep the secret."""
    if args.secrets_command == "list":
        return _list(args.json)
    from engine.clock import REAL_CLOCK
    from engine.store import Store
    from engine.store.writer import StoreWriter

    # The database first: a secret is not stored when its audit entry cannot be written.
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.secrets_command == "set":
                return _set(args, writer)
            return _generate(args, writer)
    finally:
        store.close()


def _list(as_json: bool) -> int:
    from engine.secrets import secret_status

    statuses = [secret_status(spec.name) for spec in SECRETS]
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "name": s.spec.name,
                        "env": s.spec.env,
                        "source": str(s.source),
                        "in_env": s.in_env,
                        "in_keyring": s.in_keyring,
                        "keyring_problem": s.keyring_problem,
                        "description": s.spec.description,
                    }
                    for s in statuses
                ]
            )
        )
    else:
        for s in statuses:
            note = " (the keyring also holds one, unused)" if s.in_env and s.in_keyring else ""
            print(f"{s.spec.name:22} {s.source!s:8} ${s.spec.env:30} {s.spec.description}{note}")
    problems = {s.keyring_problem for s in statuses if s.keyring_problem}
    for problem in sorted(problems):
        print(f"watchfloor secrets list: {printable(problem)}", file=sys.stderr)
    return exit_codes.OK


def _set(args: argparse.Namespace, writer: StoreWriter) -> int:
    from console.commands.typed_secrets import SECRETS as TYPED
    from engine.secrets import (
        SecretError,
        redact,
        secret_spec,
        secret_status,
        short_secret_warning,
        store_secret,
        too_short_to_mask,
    )

    command = "watchfloor secrets set"
    spec = secret_spec(args.name)
    problem = secret_status(spec.name).keyring_problem
    if problem:  # said before asking (and a locked keyring is unlocked now)
        print(f"{command}: {printable(problem)}", file=sys.stderr)
        return exit_codes.FAILED
    try:
        value = TYPED.read(f"value of {spec.name} ({spec.description}): ", confirm=True)
    except ValueError as exc:
        print(f"{command}: {exc}; nothing stored", file=sys.stderr)
        return exit_codes.USAGE
    if not value:
        print(f"{command}: no value typed; nothing stored", file=sys.stderr)
        return exit_codes.USAGE
    try:
        service, username = store_secret(spec.name, value)
    except SecretError as exc:
        reason = redact(str(exc))
        _audit(writer, args, "secret.set", spec.name, "failed", {"reason": reason})
        print(f"{command}: {printable(reason)}", file=sys.stderr)
        return exit_codes.FAILED
    _audit(writer, args, "secret.set", spec.name, "ok", {"keyring_service": service})
    print(f"secret {spec.name}: stored in the keyring (service {service!r}, username {username!r})")
    if too_short_to_mask(value):  # stored all the same: whoever issued it chose it
        print(f"{command}: warning: {short_secret_warning(f'secret {spec.name}')}", file=sys.stderr)
    _warn_if_overridden(spec.name, spec.env)
    return exit_codes.OK


def _generate(args: argparse.Namespace, writer: StoreWriter) -> int:
    from engine.secrets import (
        GENERATED_SECRET_BYTES,
        KEYRING_SERVICE,
        SecretError,
        generate_secret,
        redact,
        secret_spec,
        secret_status,
    )

    command = "watchfloor secrets generate"
    spec = secret_spec(args.name)
    status = secret_status(spec.name)
    if status.in_env or status.in_keyring:
        where = f"in the environment ({spec.env})" if status.in_env else "in the keyring"
        print(f"secret {spec.name}: already set {where}; nothing generated")
        return exit_codes.OK
    if status.keyring_problem:
        print(f"{command}: {printable(status.keyring_problem)}", file=sys.stderr)
        return exit_codes.FAILED
    try:
        _value, made = generate_secret(spec.name)
    except SecretError as exc:
        reason = redact(str(exc))
        _audit(writer, args, "secret.generate", spec.name, "failed", {"reason": reason})
        print(f"{command}: {printable(reason)}", file=sys.stderr)
        return exit_codes.FAILED
    if not made:  # another process made it between the check and now
        print(f"secret {spec.name}: already set; nothing generated")
        return exit_codes.OK
    _audit(writer, args, "secret.generate", spec.name, "ok", {"keyring_service": KEYRING_SERVICE})
    print(
        f"secret {spec.name}: {GENERATED_SECRET_BYTES * 8} random bits generated and stored "
        f"in the keyring (service {KEYRING_SERVICE!r}, username {spec.name!r}); it is never "
        "shown"
    )
    return exit_codes.OK


def _audit(
    writer: StoreWriter,
    args: argparse.Namespace,
    action: str,
    name: str,
    outcome: str,
    detail: dict[str, Any],
) -> None:
    """An audit entry: the secret's name as the target, never its value."""
    from engine.clock import REAL_CLOCK
    from engine.store.audit import AppendAudit

    writer.execute(
        AppendAudit(
            at=REAL_CLOCK.now(),
            actor=args.caller,
            action=action,
            target=name,
            outcome=outcome,
            detail={**detail, "via": f"cli: secrets {args.secrets_command}"},
        )
    )


def _warn_if_overridden(name: str, env: str) -> None:
    if os.environ.get(env):
        print(
            f"note: {env} is set in this environment and is used instead of the keyring's "
            f"{name} while it is set",
            file=sys.stderr,
        )


# Secrets live in the OS keyring, but setting one is an admin's change of the site's
# configuration, audited like a setting; one permission for all three, as `set` may set
# any secret (the node install secret included).
REGISTRATION = Registration(
    add_parser,  # the OS keyring; the database for the audit trail
    (
        guarded("secrets", "list", run, Permission.CHANGE_SETTINGS, "list the secrets"),
        guarded("secrets", "set", run, Permission.CHANGE_SETTINGS, "store a secret"),
        guarded("secrets", "generate", run, Permission.CHANGE_SETTINGS, "generate a secret"),
    ),
)
