"""``watchfloor verify DIR [--key PUBLIC.pem] [--json]`` on a real export a hostile tester
changed: what the user reads, the exit code (0 only when the folder contains its evidence,
intact; 1 when it does not; 2 for a --key that is not a key), and no traceback, no wait
and no unbounded read whatever the folder or the key file holds."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.history.evidence import MANIFEST, PUBLIC_KEY
from tests.engine.test_evidence_verify import (
    CLIP,
    MEMORY_LIMIT,
    REPO,
    export,
    resign,
)

__all__ = ["export"]  # the fixture, used by name below


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_in_subprocess(*argv: str) -> subprocess.CompletedProcess[str]:
    """``watchfloor *argv`` in a fresh interpreter with a gigabyte of address space and a
    timeout: fails the test, rather than hanging the run, when it blocks."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    try:
        return subprocess.run(
            [sys.executable, "-m", "console", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("watchfloor verify blocked: it did not return within 60 s")


def test_an_intact_export_verifies_with_its_key_however_the_key_file_is_wrapped(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The right public key with a trailing newline, Windows line ends or a note above the
    PEM block is the same key: trusted."""
    own = (export / PUBLIC_KEY).read_bytes()
    for number, pem in enumerate((own + b"\n", own.replace(b"\n", b"\r\n"), b"ours:\n" + own)):
        key = tmp_path / f"trusted-{number}.pem"
        key.write_bytes(pem)
        code, out, _ = run(capsys, "verify", str(export), "--key", str(key))
        assert code == exit_codes.OK, out
        assert f"{export}: intact" in out


def test_a_key_file_that_is_not_a_key_is_a_usage_error_naming_it(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "notes.txt"
    key.write_text("call Ian about the gate\n")
    code, out, err = run(capsys, "verify", str(export), "--key", str(key))
    assert code == exit_codes.USAGE and out == ""
    assert "--key" in err and str(key) in err and "not an Ed25519 public key" in err


@pytest.mark.parametrize("how", ["dev-zero", "fifo"])
def test_a_key_file_that_is_dev_zero_or_a_fifo_is_refused_without_waiting(
    export: Path, tmp_path: Path, how: str
) -> None:
    key = tmp_path / "key.pem"
    if how == "dev-zero":
        key.symlink_to("/dev/zero")
    else:
        os.mkfifo(key)
    done = run_in_subprocess("verify", str(export), "--key", str(key))
    assert done.returncode == exit_codes.USAGE, done.stderr[-2000:]
    assert str(key) in done.stderr
    assert {"dev-zero": "is a device", "fifo": "is a FIFO"}[how] in done.stderr


def test_a_changed_folder_is_named_line_by_line_and_not_intact(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the hostile tester did, as the user reads it: exit 1, every change named."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (export / "more").symlink_to(elsewhere, target_is_directory=True)
    os.mkfifo(export / "pipe")
    (export / "snapshots" / "empty").mkdir()
    copy = tmp_path / "copy.mp4"
    copy.write_bytes((export / CLIP).read_bytes())
    (export / CLIP).unlink()
    (export / CLIP).symlink_to(copy)
    code, out, _ = run(capsys, "verify", str(export), "--key", str(export / PUBLIC_KEY))
    assert code == exit_codes.FAILED
    lines = out.splitlines()
    assert f"REPLACED {CLIP} (now a symbolic link)" in lines
    assert "ADDED    more (a symbolic link)" in lines
    assert "ADDED    pipe (a FIFO)" in lines
    assert "ADDED    snapshots/empty (a folder)" in lines
    assert f"{export}: NOT intact" in lines[-1]
    code, out, _ = run(capsys, "verify", str(export), "--json")
    assert code == exit_codes.FAILED
    reported = json.loads(out)
    assert reported["ok"] is False and reported["irregular"] == {
        CLIP: "symbolic link",
        "more": "symbolic link",
        "pipe": "FIFO",
        "snapshots/empty": "folder",
    }


def test_a_manifest_path_outside_the_folder_is_a_named_problem(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``../../etc/passwd`` listed with its true hash and re-signed by another key: not
    intact, named, and neither MISSING nor ALTERED (which would tell whether it exists)."""
    passwd = Path("/etc/passwd")
    manifest = json.loads((export / MANIFEST).read_bytes())
    body = passwd.read_bytes()
    manifest["files"].append(
        {"path": "../../etc/passwd", "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    )
    resign(export, manifest, tmp_path / "attacker")
    code, out, _ = run(capsys, "verify", str(export))
    assert code == exit_codes.FAILED
    assert (
        "PROBLEM  manifest.json lists '../../etc/passwd', which is not a plain path inside "
        "the folder (not read)"
    ) in out.splitlines()
    assert "MISSING" not in out and "ALTERED" not in out


@pytest.mark.parametrize(
    "manifest",
    [
        {"files": {"a": 1}},
        {"files": [1, "x"]},
        {"files": [{"path": "events.json", "sha256": None, "bytes": []}]},
        b"[" * 100_000,
    ],
)
def test_a_malformed_manifest_exits_1_with_a_named_problem_not_a_traceback(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: object
) -> None:
    resign(export, manifest, tmp_path / "attacker")
    code, out, _ = run(capsys, "verify", str(export))
    assert code == exit_codes.FAILED
    assert any(line.startswith(f"PROBLEM  {MANIFEST}") for line in out.splitlines()), out
    assert "NOT intact" in out


def test_a_manifest_that_is_a_symlink_to_dev_zero_is_a_named_problem_at_once(
    export: Path,
) -> None:
    (export / MANIFEST).unlink()
    (export / MANIFEST).symlink_to("/dev/zero")
    done = run_in_subprocess("verify", str(export))
    assert done.returncode == exit_codes.FAILED, done.stderr[-2000:]
    assert f"PROBLEM  {MANIFEST} is a symbolic link, not a file" in done.stdout.splitlines()


def test_names_from_the_folder_are_shown_without_terminal_escapes(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (export / "\x1b]0;all good\x07\x1b[2Kreport.pdf").write_text("planted")
    code, out, _ = run(capsys, "verify", str(export))
    assert code == exit_codes.FAILED
    assert "\x1b" not in out and "\x07" not in out
    assert "ADDED    report.pdf" in out.splitlines()
