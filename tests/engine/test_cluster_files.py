"""The recordings server opens what it serves in one step, beneath its data dir, never
following a symlink (issue 64, scenario 14: a symlink swapped in and out of a served file
while requesting sent files from outside the data dir, as the server checked a path and then
opened it again). Real aiohttp over loopback, a real SQLite store and store writer.

The swap is made deterministic by construction: the server calls ``on_served`` after it has
decided to serve a file and before the response is sent, so a test that swaps the file (or
a directory on its path) there lands exactly between the check and the old second open."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from engine.cluster.files import FileOptions, MediaFileServer, file_url, open_beneath
from engine.media import MediaFile
from engine.store.commands import InsertMedia
from engine.store.database import Store
from engine.store.writer import StoreWriter

PASSWORD = "files-test-password-1"
ENGINE = "server-a"
CLIP = "clips/plaza/a.mp4"
ORIGINAL = bytes(range(256)) * 64  # 16 KiB, the recording
SECRET = b"outside the data dir: must never be served\n" * 100

# The store only says which files are recordings: SQLite is enough (SQL is not the subject).
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _recorded(store: Store, root: Path, path: str, data: bytes) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(data)
    with StoreWriter.running(store, engine_name=ENGINE) as writer:
        writer.execute(
            InsertMedia(
                file=MediaFile("clip", path, hashlib.sha256(data).hexdigest(), len(data)),
                created_at=datetime.now(UTC),
            )
        )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the data dir holding what an attacker wants: the secret, at the
    same relative name as the clip."""
    folder = tmp_path / "outside"
    (folder / "plaza").mkdir(parents=True)
    (folder / "plaza" / "a.mp4").write_bytes(SECRET)
    (folder / "secret.bin").write_bytes(SECRET)
    return folder


def _serve(
    store: Store, root: Path, on_served: Callable[[str, int], None] | None = None
) -> MediaFileServer:
    server = MediaFileServer(
        store,
        FileOptions(port=0, host="127.0.0.1", bind="127.0.0.1"),
        engine=ENGINE,
        root=root,
        password=PASSWORD,
        on_served=on_served,
    )
    server.start()
    return server


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def _swap_file(root: Path, outside: Path) -> None:
    """The clip becomes a symlink to the secret."""
    (root / CLIP).rename(root / "clips/plaza/a.mp4.away")
    (root / CLIP).symlink_to(outside / "secret.bin")


def _swap_folder(root: Path, outside: Path) -> None:
    """The clip's folder becomes a symlink to a folder outside holding the secret under
    the clip's name."""
    (root / "clips/plaza").rename(root / "clips/plaza.away")
    (root / "clips/plaza").symlink_to(outside / "plaza", target_is_directory=True)


@SQLITE
@pytest.mark.hostile(14)
@pytest.mark.parametrize("swap", [_swap_file, _swap_folder], ids=["file", "folder"])
def test_a_symlink_swapped_in_after_the_check_serves_nothing_from_outside(
    store: Store, root: Path, outside: Path, swap: Callable[[Path, Path], None]
) -> None:
    _recorded(store, root, CLIP, ORIGINAL)
    swapped: list[str] = []

    def swap_now(path: str, size: int) -> None:  # after the server's decision, before sending
        swap(root, outside)
        swapped.append(path)

    server = _serve(store, root, swap_now)
    try:
        with httpx2.Client(auth=("watchfloor", PASSWORD)) as client:
            answer = client.get(file_url(server.url, CLIP))
    finally:
        server.stop()
    assert swapped == [CLIP]  # the swap did land between the decision and the send
    assert SECRET[:40] not in answer.content
    assert answer.status_code == 200 and answer.content == ORIGINAL


@SQLITE
@pytest.mark.hostile(14)
@pytest.mark.parametrize("swap", [_swap_file, _swap_folder], ids=["file", "folder"])
def test_a_symlink_anywhere_on_the_path_is_refused(
    store: Store, root: Path, outside: Path, swap: Callable[[Path, Path], None]
) -> None:
    _recorded(store, root, CLIP, ORIGINAL)
    swap(root, outside)
    server = _serve(store, root)
    try:
        with httpx2.Client(auth=("watchfloor", PASSWORD)) as client:
            answer = client.get(file_url(server.url, CLIP))
    finally:
        server.stop()
    assert answer.status_code == 404 and "not a regular file" in answer.text
    assert server.served == 0


@SQLITE
def test_a_fifo_is_refused_without_waiting_for_a_writer(store: Store, root: Path) -> None:
    _recorded(store, root, CLIP, ORIGINAL)
    (root / CLIP).unlink()
    os.mkfifo(root / CLIP)
    server = _serve(store, root)
    try:
        with httpx2.Client(auth=("watchfloor", PASSWORD), timeout=30) as client:
            answer = client.get(file_url(server.url, CLIP))
    finally:
        server.stop()
    assert answer.status_code == 404 and "not a regular file" in answer.text


@SQLITE
@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=1000-1099", 206, ORIGINAL[1000:1100], "bytes 1000-1099/16384"),
        ("bytes=16000-", 206, ORIGINAL[16000:], "bytes 16000-16383/16384"),
        ("bytes=-84", 206, ORIGINAL[-84:], "bytes 16300-16383/16384"),
        ("bytes=20000-", 416, b"", "bytes */16384"),
    ],
)
def test_ranges_are_served_from_the_opened_file(
    store: Store, root: Path, header: str, status: int, body: bytes, content_range: str
) -> None:
    _recorded(store, root, CLIP, ORIGINAL)
    server = _serve(store, root)
    try:
        with httpx2.Client(auth=("watchfloor", PASSWORD)) as client:
            answer = client.get(file_url(server.url, CLIP), headers={"Range": header})
    finally:
        server.stop()
    assert answer.status_code == status
    assert answer.headers["Content-Range"] == content_range
    if status == 206:
        assert answer.content == body
        assert answer.headers["X-Watchfloor-Sha256"] == hashlib.sha256(ORIGINAL).hexdigest()


@pytest.fixture
def root_fd(root: Path) -> Iterator[int]:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


def test_open_beneath_names_what_is_wrong(root: Path, root_fd: int, outside: Path) -> None:
    (root / "clips").mkdir()
    (root / "clips/real.mp4").write_bytes(b"ok")
    (root / "clips/link.mp4").symlink_to(outside / "secret.bin")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    fd = open_beneath(root_fd, "clips/real.mp4")
    with os.fdopen(fd, "rb") as opened:
        assert opened.read() == b"ok"
    with pytest.raises(FileNotFoundError):
        open_beneath(root_fd, "clips/none.mp4")
    with pytest.raises(OSError, match=r"Too many levels of symbolic links|Not a directory"):
        open_beneath(root_fd, "clips/link.mp4")
    with pytest.raises(OSError, match=r"Too many levels of symbolic links|Not a directory"):
        open_beneath(root_fd, "linked/secret.bin")
    with pytest.raises(OSError, match="not a regular file"):
        open_beneath(root_fd, "clips")
