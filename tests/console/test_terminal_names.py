"""Names shown in the terminal carry no terminal escapes, and new names cannot contain them.

Before: a person named ``"\\x1b[31mMallory\\x07"`` turned ``watchfloor people list`` red and
rang the bell, and any control character could be given as a name.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from console import exit_codes
from console.commands import faces, people
from engine.access import machine_actor
from engine.store import Store
from engine.store.person_models import Person
from tests.conftest import TESTDATA
from tests.console.cli_runs import Ran, watchfloor

KIT_1 = TESTDATA / "faces" / "train" / "kit_harington" / "john1.jpeg"
KIT_2 = TESTDATA / "faces" / "train" / "kit_harington" / "john2.jpeg"
HOSTILE_NAME = "\x1b[31mMallory\x07\x1b]0;owned\x07\x1b[0m"
ESCAPES = ("\x1b", "\x07", "\x9b")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="watchfloor")
    parser.add_argument("--db", default=None)
    commands = parser.add_subparsers(dest="command")
    faces.add_parser(commands, [])
    people.add_parser(commands, [])
    return parser.parse_args(argv)


def run(db_url: str, *argv: str) -> int:
    args = parse("--db", db_url, *argv)
    args.caller = machine_actor()  # no account yet: set-up mode, as console.auth decides
    command = faces if args.command == "faces" else people
    return command.run(args, db_url)


def store_person(db_url: str, public_id: str, name: str) -> None:
    """Write the person straight into the database, as an older version (which refused
    nothing) could have."""
    store = Store(db_url)
    try:
        with store.transaction() as session:
            session.add(Person(public_id=public_id, name=name, appearances=3))
    finally:
        store.close()


def name_of(db_url: str, public_id: str) -> str | None:
    store = Store(db_url)
    try:
        with store.sessions() as session:
            return session.scalar(select(Person.name).where(Person.public_id == public_id))
    finally:
        store.close()


def test_people_list_shows_a_stored_name_without_its_terminal_escapes(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'wf.db'}"
    store_person(db_url, "Person_0000BEEF", HOSTILE_NAME)

    def people_list(*args: str) -> Ran:
        return watchfloor("--db", db_url, "people", "list", *args)

    listed = people_list()
    assert listed.returncode == 0, listed.stderr
    assert not any(escape in listed.stdout for escape in ESCAPES)
    assert "Person_0000BEEF  Mallory" in listed.stdout
    as_json = people_list("--json")  # JSON stays data: the name as stored, escaped by JSON
    assert as_json.returncode == 0, as_json.stderr
    assert "\x1b" not in as_json.stdout
    assert [p["name"] for p in json.loads(as_json.stdout)] == [HOSTILE_NAME]


@pytest.mark.parametrize("name", ["Ann\x1b[31m", "Bell\x07", "Del\x7f", "C1\x9b31m"])
def test_a_name_with_control_characters_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    db_url = f"sqlite:///{tmp_path / 'wf.db'}"
    store_person(db_url, "Person_0000CAFE", "Ann")

    assert run(db_url, "people", "rename", "Person_0000CAFE", name) == exit_codes.FAILED
    err = capsys.readouterr().err
    assert "watchfloor people rename: a person's name cannot contain control characters" in err
    assert repr(name) in err  # the bad input, shown escaped
    assert not any(escape in err for escape in ESCAPES)
    assert name_of(db_url, "Person_0000CAFE") == "Ann"

    assert run(db_url, "faces", "enroll", "--name", name, str(KIT_1)) == exit_codes.FAILED
    err = capsys.readouterr().err
    assert "watchfloor faces enroll: a person's name cannot contain control characters" in err
    assert not any(escape in err for escape in ESCAPES)


def test_tabs_and_newlines_in_a_new_name_become_spaces(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'wf.db'}"
    store_person(db_url, "Person_0000CAFE", "Ann")
    assert run(db_url, "people", "rename", "Person_0000CAFE", "Ann\tLee\nSmith") == 0
    assert name_of(db_url, "Person_0000CAFE") == "Ann Lee Smith"


def test_faces_identify_shows_a_stored_name_without_its_terminal_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'wf.db'}"
    assert run(db_url, "faces", "enroll", "--name", "Kit", str(KIT_1)) == 0
    store = Store(db_url)
    try:
        with store.transaction() as session:
            session.execute(update(Person).values(name=HOSTILE_NAME))
    finally:
        store.close()
    capsys.readouterr()
    assert run(db_url, "faces", "identify", str(KIT_2)) == 0
    out = capsys.readouterr().out
    assert "1 face(s)" in out and "Mallory (Person_" in out
    assert not any(escape in out for escape in ESCAPES)
