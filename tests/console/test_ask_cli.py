"""``watchfloor ask "QUESTION" [--json] [--offline]``: answers from a seeded store with the
mode and the cited events (text and JSON), exit 1 for a question it cannot answer, the
question kept and audited for the caller, and an operator refused."""

from __future__ import annotations

import getpass
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.history.chat import ChatHistoryRequest
from engine.secrets import SECRETS
from engine.store import Store
from engine.store.audit import AuditListRequest
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.engine.keyring_backends import DictKeyring, installed
from tests.engine.test_chat_offline import Seeded, seed_history

NO_KEY = "LLM not configured (no anthropic_api_key)"


@pytest.fixture(autouse=True)
def empty_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No API key anywhere: not in the environment, not in the (test) keyring."""
    for spec in SECRETS:
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with installed(DictKeyring()):
        yield


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    store = Store(db_url)
    try:
        return seed_history(store)
    finally:
        store.close()


def test_a_question_is_answered_with_its_cited_events_and_the_mode(
    db_url: str, seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db_url, "ask", "When did I last see Sarah?"]) == exit_codes.OK
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == (
        "Sarah Okafor was last seen at 2026-11-20 08:15:00 GMT on Front gate (gate) "
        f"(person.appeared, event {seeded.events['sarah_gate']})."
    )
    assert lines[1].startswith(f"  [event {seeded.events['sarah_gate']}] 2026-11-20 08:15:00 GMT")
    assert "Sarah Okafor appeared on Front gate" in lines[1]
    assert err.strip().endswith(f"answered by: offline answers ({NO_KEY})")
    # Kept in the caller's conversation (set-up mode: the machine account), and audited.
    store = Store(db_url)
    try:
        turns = ChatHistoryRequest(getpass.getuser()).run(store)
        assert [(t.role, t.text) for t in turns] == [
            ("user", "When did I last see Sarah?"),
            ("assistant", lines[0]),
        ]
        audited = [e for e in AuditListRequest(reader=ADMIN).run(store) if e.action == "chat.ask"]
        assert [e.detail["question"] for e in audited] == ["When did I last see Sarah?"]
    finally:
        store.close()


def test_json_gives_the_answer_mode_citations_and_clips(
    db_url: str, seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "When did I last see John on camera 2 between 9:00 and 9:31 on 2026-11-23?"
    assert main(["--db", db_url, "ask", question, "--json"]) == exit_codes.OK
    answer = json.loads(capsys.readouterr().out)
    assert answer["mode"] == "offline" and answer["answered"] is True
    assert answer["fallback_reason"] == NO_KEY
    assert answer["cited_event_ids"] == [seeded.events["john_face"]]
    assert answer["clip_paths"] == ["clips/cam2/2026-11-23T0929.mp4"]
    [citation] = answer["citations"]
    assert citation == {
        "event_id": seeded.events["john_face"],
        "ts": "2026-11-23T09:30:02Z",
        "kind": "face.recognised",
        "source": "camera:cam2",
        "camera": "cam2",
        "summary": "John Carter recognised on Lobby",
        "clip_path": "clips/cam2/2026-11-23T0929.mp4",
        "clip_offset_s": 7.0,
    }
    assert answer["answer"].startswith("John Carter was last seen on Lobby (cam2)")

    assert main(["--db", db_url, "ask", "Were there any falls on 2026-11-22?", "--json"]) == 0
    falls = json.loads(capsys.readouterr().out)
    assert falls["cited_event_ids"] == [seeded.events["fall_sunday"]]
    # The demo site is in London: GMT in November.
    assert falls["answer"] == ("1 fall recorded on 2026-11-22: 2026-11-22 07:10:00 GMT in ward.")


def test_the_day_asked_about_and_the_times_shown_are_the_sites_while_json_stays_utc(
    db_url: str, seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In Los Angeles the fall at 07:10 UTC on the 22nd happened at 23:10 on the 21st."""
    site = write_site(tmp_path / "site.toml", extra='timezone = "America/Los_Angeles"\n')
    argv = ["--db", db_url, "--site", str(site), "ask", "Were there any falls on 2026-11-21?"]
    assert main(argv) == exit_codes.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 fall recorded on 2026-11-21: 2026-11-21 23:10:00 PST in ward."
    assert lines[1].startswith(f"  [event {seeded.events['fall_sunday']}] 2026-11-21 23:10:00 PST")
    assert main([*argv, "--json"]) == exit_codes.OK
    answer = json.loads(capsys.readouterr().out)
    assert answer["cited_event_ids"] == [seeded.events["fall_sunday"]]
    assert answer["citations"][0]["ts"] == "2026-11-22T07:10:00Z"


def test_a_question_it_cannot_answer_exits_1_and_says_what_it_can(
    db_url: str, seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db_url, "ask", "Is John a thief?", "--json"]) == exit_codes.FAILED
    answer = json.loads(capsys.readouterr().out)
    assert (answer["answered"], answer["cited_event_ids"], answer["clip_paths"]) == (False, [], [])
    assert answer["answer"].startswith("I can't answer that from the records. I can answer:")
    assert main(["--db", db_url, "ask", "When did I last see Zoe?"]) == exit_codes.FAILED
    assert "I have no record of anyone called \u201cZoe\u201d." in capsys.readouterr().out


def test_offline_answers_on_request_even_with_a_key(
    db_url: str,
    seeded: Seeded,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A key and an unreachable API: --offline never calls it.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-never-used")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    argv = ["--db", db_url, "ask", "Any alerts on 2026-11-22?", "--offline", "--json"]
    assert main(argv) == exit_codes.OK
    answer = json.loads(capsys.readouterr().out)
    assert (answer["mode"], answer["fallback_reason"]) == ("offline", "offline answers requested")
    assert answer["answer"].startswith("1 alert raised on 2026-11-22: #")


def test_an_operator_may_not_ask(
    db_url: str,
    seeded: Seeded,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = ["--db", db_url]
    monkeypatch.setattr("sys.stdin", io.StringIO("ada-secret-1\n"))
    assert main([*db, "accounts", "init", "ada"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("ada-secret-1\nolga-secret-1\n"))
    assert main([*db, "--user", "ada", "accounts", "add", "olga", "--roles", "operator"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("olga-secret-1\n"))
    code = main([*db, "--user", "olga", "ask", "When did I last see Sarah?"])
    out, err = capsys.readouterr()
    assert code == exit_codes.NOT_ALLOWED and out == ""
    assert "may not ask about recorded history: it needs the chat_history permission" in err
    store = Store(db_url)
    try:
        assert ChatHistoryRequest("olga").run(store) == ()
        denied = [e for e in AuditListRequest(reader=ADMIN).run(store) if e.outcome == "denied"]
        assert [(e.actor, e.action) for e in denied] == [("account:olga", "ask")]
    finally:
        store.close()


def test_the_cli_knows_the_sites_rooms_before_anyone_was_sensed_in_them(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`watchfloor ask` about a room by its name on a site where nobody was sensed or
    followed across senses yet: an answer about the room, not "I don't know a room"."""
    from tests.engine.test_chat_paths import SITE

    Store(db_url).close()  # an empty store: no paths, no hand-overs
    site = write_site(tmp_path / "site.toml", extra=SITE)
    argv = ["--db", db_url, "--site", str(site), "ask", "--offline"]
    main([*argv, "How many people were sensed in the store room today?"])
    out = capsys.readouterr().out
    assert "don't know a room" not in out
    assert "Store room" in out
