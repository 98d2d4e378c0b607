"""``verify_evidence`` means "contained and intact": a hostile tester's changes to an export
folder (symbolic links, FIFOs, sockets, empty folders, manifest paths leading out of the
folder, a manifest pointed at ``/dev/zero``, a malformed manifest) are each named, never
followed, never waited on, and never pass as intact.

Exports here are real ones (:func:`export_evidence` on a real store, real files); the
changes are real symlinks, FIFOs and sockets. What could hang or exhaust memory before it
was fixed runs in a subprocess under a memory limit and a timeout."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from engine.history.evidence import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    export_evidence,
    verify_evidence,
)
from engine.history.signing import signing_key
from engine.media import MediaFile
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.commands import InsertMedia
from tests.store_helpers import run_command

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CLIP = "clips/gate/2026-11-20/0800.mp4"  # as the export lays it out: clips/<media path>
SNAPSHOT = "snapshots/gate/0801.jpg"
REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1024**3  # address space of a verify subprocess; reading /dev/zero whole exceeds it


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A real export of one clip and one snapshot (in nested folders, as recorded), with
    events.json, report.html, the manifest, its signature and the public key."""
    data = tmp_path / "data"
    store = Store(f"sqlite:///{tmp_path / 'verify.db'}")
    try:
        for kind, path, body in (
            ("clip", "gate/2026-11-20/0800.mp4", b"\x00\x01clip" * 5000),
            ("snapshot", "gate/0801.jpg", b"\xff\xd8snapshot" * 300),
        ):
            (data / path).parent.mkdir(parents=True, exist_ok=True)
            (data / path).write_bytes(body)
            file = MediaFile(kind, path, hashlib.sha256(body).hexdigest(), len(body))
            run_command(
                store,
                InsertMedia(
                    file=file,
                    created_at=T0 + timedelta(seconds=10),
                    started_at=T0,
                    ended_at=T0 + timedelta(seconds=10),
                ),
            )
        folder = tmp_path / "case-9"
        export_evidence(
            store,
            start=T0 - timedelta(minutes=1),
            end=T0 + timedelta(minutes=1),
            out_dir=folder,
            media_root=data,
            key_dir=data,
            exporter="account:ian",
            now=T0 + timedelta(hours=1),
            site_time=UTC_TIME,
        )
    finally:
        store.close()
    listed = {f["path"] for f in manifest_of(folder)["files"]}
    assert listed == {CLIP, SNAPSHOT, "events.json", "report.html"}
    return folder


def manifest_of(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / MANIFEST).read_bytes())
    return loaded


def resign(folder: Path, manifest: Any, key_dir: Path) -> None:
    """Write ``manifest`` into ``folder`` signed by another installation's key, with that
    key's public half beside it: what anyone can do to a folder."""
    body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    key = signing_key(key_dir)
    (folder / MANIFEST).write_bytes(body)
    (folder / SIGNATURE).write_bytes(base64.b64encode(key.sign(body)) + b"\n")
    (folder / PUBLIC_KEY).write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def verify_in_subprocess(folder: Path) -> dict[str, Any]:
    """``verify_evidence(folder)`` in a fresh interpreter limited to :data:`MEMORY_LIMIT`
    of address space and a timeout: the result as JSON. Fails the test (rather than hanging
    the run or the machine) when verify blocks, or dies exhausting memory."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from engine.history.evidence import verify_evidence\n"
        "print(json.dumps(verify_evidence(Path(sys.argv[1])).as_json()))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(folder)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("verify blocked: it did not return within 60 s")
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_an_export_as_written_is_intact(export: Path) -> None:
    """The export's own layout (nested media folders, the manifest, its signature and the
    public key) is what verify expects: nothing in it is "added"."""
    result = verify_evidence(export)
    assert result.ok, result.as_json()
    assert result.files == 4 and not result.added and not result.irregular


def _symlink_to_a_folder_outside(folder: Path) -> tuple[str, str]:
    outside = folder.parent / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("not evidence")
    (folder / "more").symlink_to(outside, target_is_directory=True)
    return "more", "symbolic link"


def _symlink_to_a_file_outside(folder: Path) -> tuple[str, str]:
    (folder.parent / "note.txt").write_text("not evidence")
    (folder / "note.txt").symlink_to(folder.parent / "note.txt")
    return "note.txt", "symbolic link"


def _dangling_symlink(folder: Path) -> tuple[str, str]:
    (folder / "clips" / "gone.mp4").symlink_to(folder.parent / "nothing-here")
    return "clips/gone.mp4", "symbolic link"


def _fifo(folder: Path) -> tuple[str, str]:
    os.mkfifo(folder / "snapshots" / "pipe")
    return "snapshots/pipe", "FIFO"


def _empty_folder(folder: Path) -> tuple[str, str]:
    (folder / "clips" / "empty").mkdir()
    return "clips/empty", "folder"


def _empty_folder_at_the_top(folder: Path) -> tuple[str, str]:
    (folder / "extra").mkdir()
    return "extra", "folder"


def _socket(folder: Path) -> tuple[str, str]:
    # A socket's path must fit sockaddr_un (108 bytes): bind it by a short relative name.
    here = os.getcwd()
    os.chdir(folder)
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind("sock")
        listener.close()  # the socket file stays
    finally:
        os.chdir(here)
    return "sock", "socket"


@pytest.mark.parametrize(
    "plant",
    [
        _symlink_to_a_folder_outside,
        _symlink_to_a_file_outside,
        _dangling_symlink,
        _fifo,
        _empty_folder,
        _empty_folder_at_the_top,
        _socket,
    ],
)
def test_anything_added_that_is_not_a_listed_file_is_named_and_not_intact(
    export: Path, plant: Any
) -> None:
    name, kind = plant(export)
    result = verify_evidence(export)
    assert not result.ok
    assert result.signature_ok  # the manifest itself is untouched
    assert result.added == (name,)
    assert dict(result.irregular) == {name: kind}
    assert not result.altered and not result.missing


def test_a_folder_added_with_files_in_it_names_the_folder_and_each_file(export: Path) -> None:
    (export / "clips" / "more" / "deeper").mkdir(parents=True)
    (export / "clips" / "more" / "deeper" / "x.mp4").write_bytes(b"x")
    result = verify_evidence(export)
    assert not result.ok
    assert result.added == ("clips/more", "clips/more/deeper", "clips/more/deeper/x.mp4")
    assert dict(result.irregular) == {"clips/more": "folder", "clips/more/deeper": "folder"}


def test_a_listed_clip_replaced_by_a_symlink_to_an_identical_copy_is_not_intact(
    export: Path,
) -> None:
    copy = export.parent / "copy.mp4"
    copy.write_bytes((export / CLIP).read_bytes())
    (export / CLIP).unlink()
    (export / CLIP).symlink_to(copy)
    result = verify_evidence(export)
    assert not result.ok and result.signature_ok
    assert dict(result.irregular) == {CLIP: "symbolic link"}
    assert not result.added and not result.altered and not result.missing


def test_a_listed_clips_folder_replaced_by_a_symlink_to_an_identical_copy_is_not_intact(
    export: Path,
) -> None:
    """Every folder on a listed file's path is the folder's own: a ``clips`` that is a
    symbolic link to a faithful copy elsewhere does not contain the evidence."""
    elsewhere = export.parent / "elsewhere-clips"
    (export / "clips").rename(elsewhere)
    (export / "clips").symlink_to(elsewhere, target_is_directory=True)
    result = verify_evidence(export)
    assert not result.ok
    assert result.missing == (CLIP,)
    assert result.added == ("clips",) and dict(result.irregular) == {"clips": "symbolic link"}


def test_a_listed_file_replaced_by_a_fifo_is_named_and_never_waited_on(export: Path) -> None:
    (export / SNAPSHOT).unlink()
    os.mkfifo(export / SNAPSHOT)
    result = verify_in_subprocess(export)
    assert not result["ok"]
    assert result["irregular"] == {SNAPSHOT: "FIFO"}
    assert result["missing"] == [] and result["added"] == []


def test_a_listed_file_replaced_by_a_folder_is_named(export: Path) -> None:
    (export / "events.json").unlink()
    (export / "events.json").mkdir()
    (export / "events.json" / "inside").write_text("x")
    result = verify_evidence(export)
    assert not result.ok
    assert dict(result.irregular) == {"events.json": "folder"}
    assert result.added == ("events.json/inside",)


@pytest.mark.parametrize(
    "own",
    [MANIFEST, SIGNATURE, PUBLIC_KEY],
)
@pytest.mark.parametrize("how", ["dev-zero", "fifo", "symlink-to-copy", "huge"])
def test_the_exports_own_files_are_read_bounded_never_followed_never_waited_on(
    export: Path, own: str, how: str
) -> None:
    """manifest.json, manifest.sig and public_key.pem pointed at /dev/zero, made FIFOs,
    symbolic links to a faithful copy, or grown to a gigabyte (sparse): each is a named
    problem, found quickly in bounded memory (the subprocess's address space is limited to
    a gigabyte, so reading /dev/zero whole cannot pass)."""
    path = export / own
    if how == "dev-zero":
        path.unlink()
        path.symlink_to("/dev/zero")
    elif how == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif how == "symlink-to-copy":
        copy = export.parent / f"copy-{own}"
        path.rename(copy)
        path.symlink_to(copy)
    else:
        with path.open("r+b") as handle:
            handle.truncate(1024**3)  # sparse: no disk used, a gigabyte to read
    result = verify_in_subprocess(export)
    assert not result["ok"]
    problems = " ".join(result["problems"])
    assert own in problems, result
    expected = {
        "dev-zero": "symbolic link",
        "fifo": "FIFO",
        "symlink-to-copy": "symbolic link",
        "huge": "bigger than",
    }[how]
    assert expected in problems, result


def test_deep_folders_are_reported_without_exhausting_the_walk(export: Path) -> None:
    deep = export / "clips"
    for _ in range(80):
        deep = deep / "d"
    deep.mkdir(parents=True)
    result = verify_evidence(export)
    assert not result.ok
    assert result.added and all(name.startswith("clips/d") for name in result.added)


@pytest.mark.parametrize(
    "path",
    [
        "../host-file",
        "../../host-file",
        "clips/../../host-file",
        "/HOST",  # replaced by the absolute path of the host file
        "clips\\..\\..\\host-file",
        "..\\host-file",
        "clips/./0800.mp4",
        "./events.json",
        "clips//gate",
        "clips/gate/",
        "events.json\x00.txt",
        "",
        ".",
        MANIFEST,
        PUBLIC_KEY,
    ],
)
def test_a_manifest_path_outside_the_folder_is_named_without_revealing_the_host(
    export: Path, path: str, tmp_path: Path
) -> None:
    """A manifest re-signed by another key lists a path that is not a plain relative path
    inside the folder: it is a named problem, and the report is the same whether or not
    a host file of that name exists (its true hash listed) — verify never touched it."""
    host = export.parent / "host-file"
    body = b"root:x:0:0:root:/root:/bin/bash\n"
    if path == "/HOST":
        path = str(host)
    original = manifest_of(export)

    def report_with_host(present: bool) -> dict[str, Any]:
        if present:
            host.write_bytes(body)
        else:
            host.unlink(missing_ok=True)
        manifest = json.loads(json.dumps(original))
        manifest["files"].append(
            {"path": path, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        )
        resign(export, manifest, tmp_path / "attacker")
        return verify_evidence(export).as_json()

    with_host, without_host = report_with_host(True), report_with_host(False)
    assert with_host == without_host
    assert not with_host["ok"] and with_host["signature_ok"]
    assert with_host["missing"] == [] and with_host["altered"] == []
    assert with_host["added"] == [] and with_host["irregular"] == {}
    assert len(with_host["problems"]) == 1 and repr(path) in with_host["problems"][0]


def test_a_file_listed_twice_is_a_problem(export: Path, tmp_path: Path) -> None:
    manifest = manifest_of(export)
    manifest["files"].append(dict(manifest["files"][0]))
    resign(export, manifest, tmp_path / "attacker")
    result = verify_evidence(export)
    assert not result.ok
    assert any("twice" in problem for problem in result.problems), result.problems


@pytest.mark.parametrize(
    ("manifest", "named"),
    [
        ({"files": {"clips/a.mp4": {}}}, "'files' is not a list"),
        ({"files": "events.json"}, "'files' is not a list"),
        ({"files": None}, "'files' is not a list"),
        ({"format": "watchfloor-evidence/1"}, "'files' is not a list"),
        ([], "not a JSON object"),
        ("files", "not a JSON object"),
        ({"files": [1]}, "files[0] is not an object"),
        ({"files": [["events.json"]]}, "files[0] is not an object"),
        ({"files": [{"path": 1, "sha256": "0" * 64, "bytes": 1}]}, "files[0]"),
        ({"files": [{"path": "events.json", "sha256": 1, "bytes": 1}]}, "sha256"),
        ({"files": [{"path": "events.json", "sha256": "0" * 64, "bytes": "1"}]}, "bytes"),
        ({"files": [{"path": "events.json", "sha256": "0" * 64, "bytes": True}]}, "bytes"),
        ({"files": [{"path": "events.json", "sha256": "0" * 64, "bytes": -1}]}, "bytes"),
        ({"files": [{"path": "events.json", "sha256": "0" * 64, "bytes": 1.0}]}, "bytes"),
        ({"files": [{"path": "events.json", "bytes": 1}]}, "sha256"),
        ({"files": [{"sha256": "0" * 64, "bytes": 1}]}, "files[0]"),
        (b"[" * 200_000 + b"]" * 200_000, "nested"),
        (b'{"files": ' + b"[" * 200_000, MANIFEST),
        (b"\xff\xfe not text", MANIFEST),
        (b'{"files": [], "n": 1' + b"0" * 10_000 + b"}", MANIFEST),
    ],
)
def test_a_malformed_manifest_is_a_named_problem_not_a_traceback(
    export: Path, tmp_path: Path, manifest: Any, named: str
) -> None:
    resign(export, manifest, tmp_path / "attacker")
    result = verify_evidence(export)
    assert not result.ok
    assert result.problems and MANIFEST in result.problems[0]
    assert named in " ".join(result.problems), result.problems


def test_a_trusted_key_is_compared_as_a_key_not_as_pem_text(export: Path, tmp_path: Path) -> None:
    own = (export / PUBLIC_KEY).read_bytes()
    for same in (
        own + b"\n",
        own.replace(b"\n", b"\r\n"),
        b"\n" + own.rstrip(b"\n"),
        b"the installation's key:\n" + own,
    ):
        result = verify_evidence(export, same)
        assert result.trusted is True and result.ok, (same, result.problems)
    other = (
        signing_key(tmp_path / "elsewhere")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert verify_evidence(export, other).trusted is False
    garbage = verify_evidence(export, b"not a key")
    assert garbage.trusted is False and not garbage.ok
    assert any("trusted key" in problem for problem in garbage.problems)


def test_a_reformatted_public_key_in_the_folder_keeps_its_fingerprint(export: Path) -> None:
    """The fingerprint is the key's (as recorded in the audit trail at export), not that
    of the PEM text: a re-wrapped public_key.pem still shows the exporting key."""
    before = verify_evidence(export).fingerprint
    path = export / PUBLIC_KEY
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    after = verify_evidence(export)
    assert after.ok and after.fingerprint == before
