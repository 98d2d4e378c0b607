"""An attached console plays recordings another machine keeps: the engine serves its own
recordings over HTTP (aiohttp, real sockets on loopback) to whoever has the media password,
and the console fetches them into its cache, checked against the stored size and SHA-256,
saying plainly why when it cannot. Real SQLite and PostgreSQL, real store writers, a real
engines table written by the lease book."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from console.remote_media import RecordingUnavailableError, RemoteMedia, fetched
from engine.cluster.files import FileOptions, MediaFileServer, file_url, path_problem
from engine.cluster.leases import LeaseBook
from engine.events import HealthState
from engine.media import MediaFile
from engine.store.commands import InsertMedia
from engine.store.database import Store
from engine.store.models import Site
from engine.store.writer import StoreWriter

PASSWORD = "clip-test-password-1"
SITE = "Shared site"


def _site(store: Store) -> int:
    with store.write_transaction() as session:
        row = Site(
            name=SITE, config_path="site.toml", geo_lat=0.0, geo_lon=0.0,
            updated_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _record(writer: StoreWriter, root: Path, path: str, data: bytes, kind: str = "clip") -> None:
    import hashlib

    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(data)
    writer.execute(
        InsertMedia(
            file=MediaFile(kind, path, hashlib.sha256(data).hexdigest(), len(data)),
            created_at=datetime.now(UTC),
        )
    )


@pytest.fixture
def served(store: Store, tmp_path: Path) -> Iterator[tuple[MediaFileServer, LeaseBook, Path]]:
    """server-a: its data dir, its recordings server on a free port, and its row in the
    engines table saying where it serves."""
    root = tmp_path / "server-a"
    root.mkdir()
    server = MediaFileServer(
        store, FileOptions(port=0, host="127.0.0.1"), engine="server-a", root=root,
        password=PASSWORD,
    )  # fmt: skip
    server.start()
    book = LeaseBook(store, _site(store), "server-a")
    book.join(4, datetime.now(UTC))
    book.heartbeat(datetime.now(UTC), {"media": {"files": server.url}})
    try:
        yield server, book, root
    finally:
        server.stop()


def _console(store: Store, tmp_path: Path, **kwargs: object) -> RemoteMedia:
    return RemoteMedia(store, tmp_path / "console", site=SITE, password=lambda: PASSWORD, **kwargs)  # type: ignore[arg-type]


def test_a_console_fetches_a_clip_another_engine_keeps_once(
    store: Store, tmp_path: Path, served: tuple[MediaFileServer, LeaseBook, Path]
) -> None:
    server, _book, root = served
    data = os.urandom(1_300_000)  # several chunks
    with StoreWriter.running(store, engine_name="server-a") as writer:
        _record(writer, root, "clips/plaza/2026-11-26/a.mp4", data)
    remote = _console(store, tmp_path)
    progress: list[tuple[int, int]] = []
    local = remote.fetch("clips/plaza/2026-11-26/a.mp4", lambda got, of: progress.append((got, of)))
    assert local == tmp_path / "console" / "clips/plaza/2026-11-26/a.mp4"
    assert local.read_bytes() == data
    assert progress[-1] == (len(data), len(data)) and len(progress) > 1
    assert remote.fetch_file(local) == local  # cached: not asked again
    assert server.served == 1
    health = remote.health()  # the status bar's "recordings" line
    assert (health.subsystem, health.state) == ("recordings", HealthState.OK)
    assert health.detail == "1 file (1.3 MB) fetched from the site's engines"
    assert [p.name for p in local.parent.iterdir()] == ["a.mp4"]  # no temporary file left


def test_a_player_may_seek_in_a_served_clip(
    store: Store, served: tuple[MediaFileServer, LeaseBook, Path]
) -> None:
    server, _book, root = served
    data = bytes(range(256)) * 40
    with StoreWriter.running(store, engine_name="server-a") as writer:
        _record(writer, root, "clips/plaza/b.mp4", data)
    url = file_url(server.url, "clips/plaza/b.mp4")
    with httpx2.Client(auth=("watchfloor", PASSWORD)) as client:
        part = client.get(url, headers={"Range": "bytes=1000-1099"})
    assert part.status_code == 206
    assert part.content == data[1000:1100]


def test_the_server_serves_only_its_own_regular_recordings_to_the_password(
    store: Store, tmp_path: Path, served: tuple[MediaFileServer, LeaseBook, Path]
) -> None:
    server, _book, root = served
    secret = tmp_path / "secret.txt"
    secret.write_text("not a recording")
    with (
        StoreWriter.running(store, engine_name="server-a") as a,
        StoreWriter.running(store, engine_name="server-b") as b,
    ):
        _record(b, tmp_path / "server-b", "clips/gate/b.mp4", b"server-b's clip")
        _record(a, root, "clips/plaza/link.mp4", b"x" * 10)
    (root / "clips/plaza/link.mp4").unlink()
    (root / "clips/plaza/link.mp4").symlink_to(secret)
    (root / "clips/gate").mkdir(parents=True)
    (root / "clips/gate/b.mp4").write_bytes(b"a copy server-a should not hand out")
    with httpx2.Client(auth=("watchfloor", PASSWORD)) as client:
        other = client.get(file_url(server.url, "clips/gate/b.mp4"))
        link = client.get(file_url(server.url, "clips/plaza/link.mp4"))
        unknown = client.get(file_url(server.url, "clips/plaza/none.mp4"))
        escape = client.get(server.url + "clips/%2E%2E/%2E%2E/secret.txt")
    with httpx2.Client(auth=("watchfloor", "wrong")) as client:
        wrong = client.get(file_url(server.url, "clips/plaza/link.mp4"))
    assert other.status_code == 404 and "server-a keeps no recording" in other.text
    assert link.status_code == 404 and "not a regular file" in link.text
    assert unknown.status_code == 404
    assert escape.status_code in (400, 404) and "not a recording" not in escape.text
    assert wrong.status_code == 401 and "media_password" in wrong.text
    assert server.refused == 1


@pytest.mark.parametrize(
    ("disturb", "said"),
    [
        ("wrong password", "refused this console's media_password"),
        ("engine stopped", "server-a keeps this recording and is not running"),
        ("no clip port", "start it with --clip-port"),
        ("changed on disk", "arrived damaged"),
        ("grown on disk", "sent more than the recording's stored"),
        ("purged", "no longer has clips/plaza/c.mp4"),
        ("not stored", "no recording clips/plaza/none.mp4 is stored"),
    ],
)
def test_a_console_says_why_it_cannot_fetch_a_recording(
    store: Store,
    tmp_path: Path,
    served: tuple[MediaFileServer, LeaseBook, Path],
    disturb: str,
    said: str,
) -> None:
    _server, book, root = served
    path = "clips/plaza/c.mp4"
    with StoreWriter.running(store, engine_name="server-a") as writer:
        _record(writer, root, path, b"c" * 5000)
    remote = _console(store, tmp_path)
    if disturb == "wrong password":
        remote = RemoteMedia(store, tmp_path / "console", site=SITE, password=lambda: "nope")
    elif disturb == "engine stopped":
        book.leave({})
    elif disturb == "no clip port":
        book.heartbeat(datetime.now(UTC), {"media": {"url": "rtsp://127.0.0.1:1/live/"}})
    elif disturb == "changed on disk":
        (root / path).write_bytes(b"d" * 5000)
    elif disturb == "grown on disk":
        (root / path).write_bytes(b"c" * 9000)
    elif disturb == "purged":
        (root / path).unlink()
    elif disturb == "not stored":
        path = "clips/plaza/none.mp4"
    with pytest.raises(RecordingUnavailableError, match=said):
        remote.fetch(path)
    # Nothing half-fetched is left where the panes would read it.
    assert not (tmp_path / "console" / path).exists()
    leftovers = list((tmp_path / "console").rglob("*")) if (tmp_path / "console").exists() else []
    assert [p for p in leftovers if p.is_file()] == []
    # A picture that cannot be fetched is missing, with the reason kept for the System pane.
    assert fetched(remote.root, remote, path) == remote.root / path
    health = remote.health()
    assert health.state is HealthState.DEGRADED
    assert health.detail.startswith("0 files (0.0 MB) fetched; the last could not be: ")
    assert said in health.detail


def test_the_cache_keeps_its_size_dropping_the_least_recently_used(
    store: Store, tmp_path: Path, served: tuple[MediaFileServer, LeaseBook, Path]
) -> None:
    _server, _book, root = served
    with StoreWriter.running(store, engine_name="server-a") as writer:
        for name in ("one", "two", "three"):
            _record(writer, root, f"clips/plaza/{name}.mp4", os.urandom(4000))
    remote = _console(store, tmp_path, cache_bytes=9000)
    first = remote.fetch("clips/plaza/one.mp4")
    second = remote.fetch("clips/plaza/two.mp4")
    os.utime(first, (1, 1))  # one is the least recently used
    os.utime(second, (2, 2))
    remote.fetch("clips/plaza/two.mp4")  # used again: now the most recent
    third = remote.fetch("clips/plaza/three.mp4")
    assert not first.exists()
    assert second.exists() and third.exists()


def test_new_snapshots_are_fetched_as_they_are_stored(
    store: Store, tmp_path: Path, served: tuple[MediaFileServer, LeaseBook, Path]
) -> None:
    _server, _book, root = served
    remote = _console(store, tmp_path)
    remote.start()
    try:
        with StoreWriter.running(store, engine_name="server-a") as writer:
            _record(writer, root, "snapshots/plaza/p1.jpg", b"\xff\xd8picture", kind="snapshot")
        wanted = remote.local("snapshots/plaza/p1.jpg")
        for _ in range(100):
            if wanted.exists():
                break
            remote._stop.wait(0.1)
        assert wanted.read_bytes() == b"\xff\xd8picture"
    finally:
        remote.stop()


@pytest.mark.parametrize("path", ["", "/etc/passwd", "a/../b", "a//b", "a\\b", "./a"])
def test_paths_that_name_no_recording_are_refused(path: str) -> None:
    assert path_problem(path) is not None
    assert path_problem("clips/plaza/2026-11-26/a.mp4") is None
