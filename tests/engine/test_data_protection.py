"""The data dir is private: folders 0700 and files 0600 whatever the umask.

Face embeddings, snapshots of faces and clips of people are personal data. Under the usual
umask 022 they used to be created readable by every user of the machine (files 0644,
folders 0755). The CLI and the console set the umask to 077 at start; the engine also
creates every folder 0700 and every file 0600 itself, for a program that embeds it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from engine.analyze import analyze_video
from engine.clock import REAL_CLOCK
from engine.data_dirs import data_dir, private_dir, restrict_new_files, secure_data_dir
from engine.instance import EngineLock
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.writer import _Journal
from engine.vision.geometry import Box
from engine.vision.snapshots import write_snapshot

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

REPO = Path(__file__).resolve().parents[2]
USUAL_UMASK = 0o022  # most distributions' default: new files 0644, folders 0755


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Run the test under umask 022 (as an embedding program would), restoring the
    test process's own afterwards."""
    previous = os.umask(USUAL_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def not_private(root: Path) -> list[str]:
    """Every folder under ``root`` (itself included) that is not 0700 and every file that
    is not 0600, as ``"<mode> <path>"``."""
    wrong = []
    for folder, _dirs, files in os.walk(root):
        if mode(Path(folder)) != 0o700:
            wrong.append(f"{mode(Path(folder)):o} {folder}/")
        for name in files:
            path = Path(folder, name)
            if mode(path) != 0o600:
                wrong.append(f"{mode(path):o} {path}")
    return wrong


def files_of(root: Path, pattern: str) -> list[Path]:
    return [p for p in root.rglob(pattern) if p.is_file()]


@pytest.mark.slow
def test_analyze_from_the_cli_leaves_only_private_files_under_umask_022(
    tmp_path: Path, hamilton_clip: Path
) -> None:
    data = tmp_path / "private-data"
    env = {
        **os.environ,
        "WATCHFLOOR_DATA_DIR": str(data),
        "WATCHFLOOR_CONFIG_DIR": str(tmp_path / "config"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.cli",
            "--db",
            f"sqlite:///{data}/wf.db",
            "analyze",
            str(hamilton_clip),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=REPO,
        preexec_fn=lambda: os.umask(USUAL_UMASK),  # the parent shell's usual umask
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["clips"] and report["persons"]
    # Everything personal was written: the database, face and person snapshots, a clip.
    assert (data / "wf.db").is_file()
    assert files_of(data, "*_face_*.jpg") and files_of(data, "*_best_*.jpg")
    assert files_of(data, "*.mp4")
    assert not_private(data) == []


@pytest.mark.slow
def test_the_engine_keeps_its_data_private_without_the_cli_umask(
    usual_umask: None, hamilton_clip: Path
) -> None:
    data = data_dir()  # the test's own (WATCHFLOOR_DATA_DIR), not made yet
    assert not data.exists()
    store = Store(f"sqlite:///{data / 'watchfloor.db'}")
    try:
        report = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
        assert report["clips"] and report["persons"]
        assert Path(f"{data / 'watchfloor.db'}-wal").exists()  # the -wal too, while open
        assert not_private(data) == []
    finally:
        store.close()
    assert files_of(data, "*_face_*.jpg") and files_of(data, "*.mp4")
    assert not_private(data) == []


def test_private_dir_makes_each_missing_folder_0700_and_leaves_existing_ones(
    usual_umask: None, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    nested = shared / "clips" / "plaza" / "2026-05-04"
    assert private_dir(nested) == nested
    assert private_dir(nested) == nested  # again: nothing to do
    assert [mode(p) for p in (shared / "clips", shared / "clips" / "plaza", nested)] == [
        0o700,
        0o700,
        0o700,
    ]
    assert mode(shared) == 0o755  # not the engine's to change
    (shared / "file").write_text("x")
    with pytest.raises(FileExistsError):
        private_dir(shared / "file")


def test_a_data_dir_open_to_others_is_made_private_with_a_warning(
    usual_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    data = data_dir()
    data.mkdir(parents=True, mode=0o755)
    (data / "snapshots").mkdir(mode=0o755)  # as an older version left it
    assert mode(data) == 0o755
    with caplog.at_level(logging.WARNING, logger="engine.data_dirs"):
        store = Store(f"sqlite:///{data / 'watchfloor.db'}")  # the default place
        store.close()
    assert mode(data) == 0o700
    assert f"data dir {data} was open to other users (mode 755)" in caplog.text
    caplog.clear()
    assert secure_data_dir() == data
    assert caplog.text == ""  # private now: nothing more to say


def test_the_database_is_created_0600_and_an_older_readable_one_is_made_private(
    usual_umask: None, tmp_path: Path
) -> None:
    new = tmp_path / "new" / "wf.db"
    store = Store(f"sqlite:///{new}")  # migrated: written, so the -wal and -shm exist
    try:
        assert mode(new.parent) == 0o700
        for suffix in ("", "-wal", "-shm"):
            assert mode(Path(f"{new}{suffix}")) == 0o600, suffix
    finally:
        store.close()

    old = tmp_path / "old.db"
    connection = sqlite3.connect(old)  # as an older version created it: 0644, with a -wal
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    assert mode(old) == 0o644 and mode(Path(f"{old}-wal")) == 0o644
    store = Store(f"sqlite:///{old}")
    try:
        assert mode(old) == 0o600 and mode(Path(f"{old}-wal")) == 0o600
    finally:
        store.close()
        connection.close()


def test_snapshots_journal_and_lock_file_are_0600(usual_umask: None) -> None:
    data = data_dir()
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    snapshot = write_snapshot(
        image, Box(10, 10, 40, 60), data, "snapshots/plaza/2026-05-04/plaza_face.jpg"
    )
    assert mode(data / snapshot.path) == 0o600

    journal = _Journal(data / "journal" / "writer-1-cafe.jsonl")
    at = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    journal.append([InsertEvent(ts=at, kind="test.row", source="test", detail={"n": 1})])
    journal.append([InsertEvent(ts=at, kind="test.row", source="test", detail={"n": 2})])
    assert len(journal.path.read_text().splitlines()) == 2  # appended, as before

    with EngineLock(data) as lock:
        assert lock.path.read_text() == f"{os.getpid()}\n"
    assert not_private(data) == []


def test_restrict_new_files_sets_umask_077_and_returns_the_previous_one(
    usual_umask: None, tmp_path: Path
) -> None:
    assert restrict_new_files() == USUAL_UMASK
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    assert mode(tmp_path / "folder") == 0o700 and mode(tmp_path / "file") == 0o600
