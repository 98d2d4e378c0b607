"""``watchfloor bookmarks …``, ``watchfloor evidence lock|unlock|list`` and ``export --lock``
on real databases: what a user types, what they read back, and who is refused."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from console import exit_codes
from console.cli import main
from engine.accounts import create_account
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.history.evidence import verify_evidence
from engine.media import MediaFile
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.commands import InsertMedia
from engine.store.models import Media
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.store_helpers import run_command, sync_site

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse 1"


def seeded(db_url: str, tmp_path: Path, zone: str = "UTC") -> tuple[list[str], dict[str, int]]:
    """A site in ``zone`` with cameras ``gate`` and ``yard`` in the store; the CLI's global
    options."""
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
        extra=f'timezone = "{zone}"\n',
    )
    store = Store(db_url)
    ids = sync_site(store, load_site(site), REAL_CLOCK)
    store.close()
    return ["--db", db_url, "--site", str(site)], ids.cameras


def add_clip(
    db_url: str, camera_id: int, name: str, start: datetime, *, data: Path | None = None
) -> None:
    """A 10 s clip's row (and, given the data dir, its file)."""
    path = f"clips/{name}"
    body = name.encode() * 100
    if data is not None:
        (data / "clips").mkdir(parents=True, exist_ok=True)
        (data / path).write_bytes(body)
    store = Store(db_url)
    run_command(
        store,
        InsertMedia(
            file=MediaFile("clip", path, hashlib.sha256(body).hexdigest(), len(body)),
            created_at=start + timedelta(seconds=10),
            camera_id=camera_id,
            started_at=start,
            ended_at=start + timedelta(seconds=10),
        ),
    )
    store.close()


def locked(db_url: str) -> set[str]:
    store = Store(db_url)
    with store.sessions() as session:
        paths = set(session.scalars(select(Media.path).where(Media.locked)).all())
    store.close()
    return paths


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_times_typed_without_an_offset_are_the_sites_and_so_are_those_printed(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site in Los Angeles (UTC-8 in November): "09:00" typed is 17:00 UTC, read back as
    09:00 by a person and as 17:00 UTC by --json; a time with its offset is that instant."""
    db, _cameras = seeded(db_url, tmp_path, "America/Los_Angeles")
    code, out, err = run(
        capsys, *db, "bookmarks", "add", "--title", "Van", "--at", "2026-11-20 09:00", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["marked_at"] == "2026-11-20T17:00:00+00:00"
    code, out, err = run(capsys, *db, "bookmarks", "list")
    assert code == 0, err
    assert "2026-11-20 09:00:00 (-10 s/+20 s)  whole site  Van" in out
    assert "17:00" not in out
    code, out, err = run(
        capsys, *db, "bookmarks", "list", "--from", "2026-11-20 08:59", "--to", "2026-11-20 09:01"
    )
    assert "Van" in out, err
    code, out, err = run(  # 17:30 UTC: after the bookmark's range, in any zone
        capsys, *db, "bookmarks", "list", "--from", "2026-11-20T17:30:00Z", "--json"
    )
    assert json.loads(out) == [], err

    span = ["--from", "2026-11-20 09:00", "--to", "2026-11-20 10:00", "--reason", "case 9"]
    code, out, err = run(capsys, *db, "evidence", "lock", *span, "--json")
    assert code == 0, err
    lock = json.loads(out)
    assert (lock["started_at"], lock["ended_at"]) == (
        "2026-11-20T17:00:00+00:00",
        "2026-11-20T18:00:00+00:00",
    )
    code, out, err = run(capsys, *db, "evidence", "list")
    assert code == 0, err
    assert "2026-11-20 09:00:00 – 2026-11-20 10:00:00" in out


def test_bookmarks_are_added_listed_searched_and_removed(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _cameras = seeded(db_url, tmp_path)
    at = T0.isoformat()
    code, out, err = run(
        capsys,
        *db,
        "bookmarks",
        "add",
        "--title",
        "Van at the gate",
        "--at",
        at,
        "--camera",
        "gate",
        "--note",
        "plate 50% visible",
        "--json",
    )
    assert code == 0, err
    van = json.loads(out)
    assert van["camera"] == "gate" and van["author"].startswith("machine:")
    assert (van["pre_s"], van["post_s"]) == (10.0, 20.0)
    assert van["started_at"] == (T0 - timedelta(seconds=10)).isoformat()
    later = (T0 + timedelta(hours=1)).replace(tzinfo=None).isoformat()  # no offset: the site's
    code, out, err = run(
        capsys,
        *db,
        "bookmarks",
        "add",
        "--title",
        "Fall",
        "--at",
        later,
        "--room",
        "lab",
        "--pre",
        "0",
        "--post",
        "60",
        "--note",
        "500 lux",
    )
    assert code == 0, err
    assert "bookmark 2 added:" in out and "room lab" in out and "Fall — 500 lux" in out

    code, _out, err = run(
        capsys, *db, "bookmarks", "add", "--title", "x", "--at", at, "--pre", "4000"
    )
    assert code == exit_codes.USAGE and "pre_s: 4000.0 seconds must be 0–3600" in err
    code, _out, err = run(
        capsys, *db, "bookmarks", "add", "--title", "x", "--at", at, "--camera", "gaet"
    )
    assert code == exit_codes.USAGE and "camera: no camera 'gaet' (known: gate, yard)" in err
    code, _out, err = run(capsys, *db, "bookmarks", "add", "--title", " ", "--at", at)
    assert code == exit_codes.USAGE and "title: empty" in err

    code, out, _err = run(capsys, *db, "bookmarks", "list", "--json")
    assert [b["title"] for b in json.loads(out)] == ["Fall", "Van at the gate"]
    window = ["--from", (T0 + timedelta(minutes=30)).isoformat(), "--to", later + "Z"]
    code, out, _err = run(capsys, *db, "bookmarks", "list", *window, "--json")
    assert [b["title"] for b in json.loads(out)] == ["Fall"]
    code, out, _err = run(capsys, *db, "bookmarks", "search", "50%", "--json")
    assert [b["id"] for b in json.loads(out)] == [van["id"]]
    code, out, _err = run(capsys, *db, "bookmarks", "search", "LUX")
    assert "Fall" in out and "Van" not in out

    code, out, err = run(capsys, *db, "bookmarks", "remove", str(van["id"]))
    assert code == 0 and f"bookmark {van['id']} (Van at the gate) removed" in out, err
    code, _out, err = run(capsys, *db, "bookmarks", "remove", str(van["id"]))
    assert code == exit_codes.FAILED and f"no bookmark {van['id']}" in err
    code, out, _err = run(capsys, *db, "bookmarks", "search", "gate")
    assert out.strip() == "no bookmarks"


def test_evidence_is_locked_listed_and_unlocked(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, cameras = seeded(db_url, tmp_path)
    add_clip(db_url, cameras["gate"], "gate-in.mp4", T0 + timedelta(minutes=5))
    add_clip(db_url, cameras["gate"], "gate-out.mp4", T0 + timedelta(hours=2))
    add_clip(db_url, cameras["yard"], "yard-in.mp4", T0 + timedelta(minutes=5))
    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=1)).isoformat()]

    code, out, err = run(
        capsys,
        *db,
        "evidence",
        "lock",
        *span,
        "--cameras",
        "gate",
        "--reason",
        "case 17",
        "--json",
    )
    assert code == 0, err
    first = json.loads(out)
    assert first["cameras"] == ["gate"] and first["media_locked"] == 1 and first["active"]
    assert first["reason"] == "case 17" and first["created_by"].startswith("machine:")
    assert locked(db_url) == {"clips/gate-in.mp4"}

    # Refusals name what to fix.
    code, _out, err = run(capsys, *db, "evidence", "lock", *span, "--reason", "  ")
    assert code == exit_codes.USAGE and "reason: empty" in err
    code, _out, err = run(capsys, *db, "evidence", "lock", "--reason", "x")
    assert code == exit_codes.USAGE and "give --from ISO and --to ISO, or --bookmark ID" in err
    code, _out, err = run(
        capsys, *db, "evidence", "lock", *span, "--bookmark", "1", "--reason", "x"
    )
    assert code == exit_codes.USAGE and "not both" in err
    code, _out, err = run(
        capsys, *db, "evidence", "lock", *span, "--cameras", "gaet", "--reason", "x"
    )
    assert code == exit_codes.USAGE and "cameras: no camera 'gaet' (known: gate, yard)" in err

    # From a bookmark: its range and its camera.
    code, out, err = run(
        capsys,
        *db,
        "bookmarks",
        "add",
        "--title",
        "Yard",
        "--at",
        (T0 + timedelta(minutes=5, seconds=5)).isoformat(),
        "--camera",
        "yard",
        "--json",
    )
    mark = json.loads(out)
    code, out, err = run(
        capsys, *db, "evidence", "lock", "--bookmark", str(mark["id"]), "--reason", "case 18"
    )
    assert code == 0, err
    assert "of cameras yard; 1 media files locked (reason: case 18)" in out
    assert locked(db_url) == {"clips/gate-in.mp4", "clips/yard-in.mp4"}

    code, out, _err = run(capsys, *db, "evidence", "list", "--json")
    assert [(v["reason"], v["bookmark_id"]) for v in json.loads(out)] == [
        ("case 18", mark["id"]),
        ("case 17", None),
    ]
    code, out, err = run(
        capsys, *db, "evidence", "unlock", str(first["id"]), "--reason", "case closed"
    )
    assert code == 0 and f"evidence lock {first['id']} released by machine:" in out, err
    assert locked(db_url) == {"clips/yard-in.mp4"}
    code, out, _err = run(capsys, *db, "evidence", "list")
    assert "case 18" in out and "case 17" not in out and "[ACTIVE]" in out
    code, out, _err = run(capsys, *db, "evidence", "list", "--all")
    assert "case 17" in out and "released by machine:" in out
    code, _out, err = run(capsys, *db, "evidence", "unlock", str(first["id"]), "--reason", "x")
    assert code == exit_codes.USAGE and "was released already" in err
    code, _out, err = run(capsys, *db, "evidence", "unlock", "999", "--reason", "x")
    assert code == exit_codes.FAILED and "no evidence lock 999" in err


def test_export_lock_locks_the_exported_range(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, cameras = seeded(db_url, tmp_path)
    data = tmp_path / "data"  # WATCHFLOOR_DATA_DIR (tests/conftest.py)
    add_clip(db_url, cameras["gate"], "gate.mp4", T0 + timedelta(minutes=5), data=data)
    add_clip(db_url, cameras["yard"], "yard.mp4", T0 + timedelta(minutes=5), data=data)
    out_dir = tmp_path / "case-5"
    code, out, err = run(
        capsys,
        *db,
        "export",
        "--from",
        T0.isoformat(),
        "--to",
        (T0 + timedelta(hours=1)).isoformat(),
        "--cameras",
        "gate",
        "--out",
        str(out_dir),
        "--lock",
        "case 5",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["clips"] == 1 and verify_evidence(out_dir).ok
    lock = result["lock"]
    assert lock["export_path"] == str(out_dir.resolve()) and lock["reason"] == "case 5"
    assert lock["cameras"] == ["gate"] and lock["media_locked"] == 1
    assert locked(db_url) == {"clips/gate.mp4"}
    store = Store(db_url)
    records = AuditListRequest(reader=ADMIN, limit=10).run(store)
    store.close()
    actions = [r.action for r in records]
    assert "evidence.lock" in actions
    # The export itself is in the audit trail, with what it holds and the key that signed it.
    exported = next(r for r in records if r.action == "evidence.export")
    assert exported.target == f"evidence:{out_dir}"
    assert exported.detail["cameras"] == ["gate"] and exported.detail["files"] == result["files"]
    assert exported.detail["fingerprint"] == result["fingerprint"]


@pytest.mark.slow
def test_an_operator_is_refused_and_only_the_author_removes_a_bookmark(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, _cameras = seeded(db_url, tmp_path)
    store = Store(db_url)
    with StoreWriter.running(store) as writer:
        for name, roles in (("olga", "operator"), ("ian", "investigator"), ("ivy", "investigator")):
            create_account(writer, ADMIN, name, roles, REAL_CLOCK.now(), password=PASSWORD)
    store.close()

    def as_user(user: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        return run(capsys, *db, "--user", user, *argv)

    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=1)).isoformat()]
    for argv, doing, permission in (
        (["evidence", "lock", *span, "--reason", "x"], "lock evidence", "lock_evidence"),
        (["evidence", "unlock", "1", "--reason", "x"], "release an evidence lock", "lock_evidence"),
        (["evidence", "list"], "list evidence locks", "replay"),
        (
            ["bookmarks", "add", "--title", "x", "--at", T0.isoformat()],
            "add a bookmark",
            "bookmark",
        ),
        (["bookmarks", "search", "x"], "search bookmarks", "replay"),
    ):
        code, _out, err = as_user("olga", *argv)
        assert code == exit_codes.NOT_ALLOWED, err
        assert f"olga (operator) may not {doing}: it needs the {permission} permission" in err
    # Refused before anything is exported.
    code, _out, err = as_user(
        "olga", "export", *span, "--out", str(tmp_path / "x"), "--lock", "case"
    )
    assert code == exit_codes.NOT_ALLOWED and not (tmp_path / "x").exists()

    code, out, err = as_user(
        "ian", "bookmarks", "add", "--title", "Van", "--at", T0.isoformat(), "--json"
    )
    assert code == 0, err
    mark = json.loads(out)
    assert mark["author"] == "account:ian"
    code, _out, err = as_user("ivy", "bookmarks", "remove", str(mark["id"]))
    assert code == exit_codes.NOT_ALLOWED
    assert f"bookmark {mark['id']} is account:ian's: only its author or an admin" in err
    code, _out, err = as_user("ian", "bookmarks", "remove", str(mark["id"]))
    assert code == 0, err


@pytest.mark.hostile(15)
def test_times_and_ids_no_database_holds_are_named_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bookmark at the end of year 9999 (its padded range would overflow a datetime) or in
    the year 9999 at all is refused naming ``marked_at``; an id past 2^63 - 1 is a usage
    error naming the range, not an OverflowError from the driver."""
    db, _cameras = seeded(f"sqlite:///{tmp_path / 'h.db'}", tmp_path)
    for at in ("9999-12-31T23:59:59", "9999-06-01", "1999-12-31T23:00:00Z"):
        code, out, err = run(capsys, *db, "bookmarks", "add", "--title", "x", "--at", at)
        assert code == exit_codes.USAGE, (at, out, err)
        assert err.startswith("watchfloor bookmarks add: marked_at: "), err
    code, out, _err = run(capsys, *db, "bookmarks", "list", "--json")
    assert json.loads(out) == []
    for argv in (
        ["alerts", "ack", "9223372036854775808"],
        ["alerts", "list", "--offset", "9223372036854775808"],
        ["bookmarks", "remove", "0"],
        ["incidents", "show", "-1"],
    ):
        with pytest.raises(SystemExit) as usage:
            main([*db, *argv])
        _out, err = capsys.readouterr()
        assert usage.value.code == exit_codes.USAGE, argv
        assert "out of range" in err and "Traceback" not in err, (argv, err)
