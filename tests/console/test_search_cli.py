"""``watchfloor search`` on a real database with the real sentence model: reports and
bookmarks filed through the CLI are found by what they mean, in the site's time, with the
incident's id to open; ``--json`` keeps UTC; a bad option or nothing found says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from tests.conftest import write_site


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A site in Los Angeles with two incident reports and a bookmark filed by the CLI."""
    site = write_site(tmp_path / "site.toml", extra='timezone = "America/Los_Angeles"\n')
    options = ["--db", db_url, "--site", str(site)]
    for n, text in enumerate(
        (
            "Man fell down on the stairs by the north entrance, cannot stand.",
            "Wheelie bin alight behind the restaurant, flames reaching the fence.",
        )
    ):
        code, _, err = run(
            capsys,
            *options,
            "incidents",
            "report",
            "--lat",
            str(51.5 + n * 0.05),
            "--lon",
            "-0.12",
            "--at",
            f"2026-11-20T1{n}:00:00Z",
            "--text",
            text,
            "--no-llm",
        )
        assert code == 0, err
    code, _, err = run(
        capsys,
        *options,
        "bookmarks",
        "add",
        "--title",
        "Gate 2",
        "--note",
        "Courier leaves a parcel; a second man collects it a minute later.",
        "--at",
        "2026-11-20T18:00:00Z",
    )
    assert code == 0, err
    return options


def test_a_paraphrase_finds_the_report_in_site_time_after_indexing_what_was_stored(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *db, "search", "someone collapsed", "--limit", "1")
    assert code == exit_codes.OK, err
    assert "indexing texts for meaning search: 3/3" in err
    # 10:00 UTC is 02:00 in Los Angeles; the id is the incident's.
    assert out.startswith("2026-11-20 02:00  incident 1  ")
    assert out.rstrip().endswith("Man fell down on the stairs by the north entrance, cannot stand.")

    code, out, err = run(capsys, *db, "search", "package picked up by a stranger", "--json")
    assert code == exit_codes.OK, err
    answer = json.loads(out)
    first = answer["hits"][0]
    assert (first["kind"], first["id"]) == ("bookmark", 1)
    assert first["at"] == "2026-11-20T18:00:00+00:00"
    assert first["site_time"] == "2026-11-20 10:00:00 PST"
    assert answer["searched"] == 3 and answer["encode_ms"] > 0
    assert "indexing" not in err  # nothing new to embed


def test_kind_narrows_and_nothing_found_or_a_bad_limit_say_so(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *db, "search", "fire", "--kind", "bookmark", "--json")
    assert all(hit["kind"] == "bookmark" for hit in json.loads(out)["hits"]), err
    code, out, err = run(capsys, *db, "search", "zzqx vvbn", "--kind", "incident")
    assert code == exit_codes.FAILED
    assert out.strip() == "nothing found among 3 texts"
    code, out, err = run(capsys, *db, "search", "fire", "--limit", "0")
    assert code == exit_codes.USAGE and "--limit must be 1-200" in err
    code, out, err = run(capsys, *db, "search", "fire", "--no-index", "--limit", "3")
    assert code == exit_codes.OK, err
