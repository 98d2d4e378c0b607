"""A shared site's engine re-streams its cameras over RTSP (GStreamer's RTSP server under
the system Python): a console with the password watches the camera the engine runs, without
it the server refuses, and the engine says where its streams are in its heartbeat. A real
engine process, real video, a real RTSP client (OpenCV's FFmpeg)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest
from sqlalchemy import select

from console.remote_media import RemoteMedia
from engine.cluster.media import system_python
from engine.cluster.stamp import read_stamp, unwrap_ms
from engine.cluster.status import engines_status
from engine.store.database import Store
from engine.store.models import Media
from tests.conftest import write_site

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "rtsp-test-password-1"

pytestmark = pytest.mark.slow


def _has_rtsp_server() -> bool:
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import GstRtspServer"
    )
    try:
        return subprocess.run([system_python(), "-c", probe], capture_output=True).returncode == 0
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(not _has_rtsp_server(), reason="GStreamer's RTSP server is not installed")
def test_an_engine_re_streams_its_camera_to_a_console_with_the_password(
    tmp_path: Path, vtest_avi: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml", f'[[cameras]]\nid = "cam1"\nurl = "{vtest_avi}"\nloop = true\n'
    )
    url = f"sqlite:///{tmp_path / 'site.db'}"
    port, clip_port = _free_port(), _free_port()
    engine = subprocess.Popen(
        [
            *(sys.executable, "-m", "console", "--db", url, "engine", "--site", str(site)),
            *("--name", "server-a", "--rtsp-port", str(port), "--rtsp-host", "127.0.0.1"),
            *("--clip-port", str(clip_port)),
        ],
        cwd=REPO,
        env={
            **os.environ,
            "WATCHFLOOR_DATA_DIR": str(tmp_path / "server-a"),
            "WATCHFLOOR_MEDIA_PASSWORD": PASSWORD,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The engine says where its streams are, and that its camera is online.
        deadline = time.monotonic() + 90
        told: dict[str, object] = {}
        while time.monotonic() < deadline and not told:
            assert engine.poll() is None, engine.stderr.read() if engine.stderr else ""
            time.sleep(0.5)
            try:
                store = Store(url)
            except Exception:
                continue
            try:
                for line in engines_status(store).engines:
                    if line.camera_states.get("cam1", {}).get("status") == "online":
                        told = dict(line.media or {})
            finally:
                store.close()
        assert told == {
            "url": f"rtsp://127.0.0.1:{port}/live/",
            "files": f"http://127.0.0.1:{clip_port}/media/",
        }, told
        listed = subprocess.run(
            [sys.executable, "-m", "console", "--db", url, "engines"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "WATCHFLOOR_DATA_DIR": str(tmp_path / "cli")},
        )
        assert f"video at rtsp://127.0.0.1:{port}/live/<camera>" in listed.stdout, listed
        assert f"recordings at http://127.0.0.1:{clip_port}/media/" in listed.stdout, listed

        # A console elsewhere fetches what the engine recorded (its first snapshots), the
        # very bytes the engine keeps.
        store = Store(url)
        try:
            remote = RemoteMedia(
                store, tmp_path / "console", site="Test site", password=lambda: PASSWORD
            )
            kept: list[str] = []
            while time.monotonic() < deadline + 60 and not kept:
                with store.transaction() as session:
                    kept = list(
                        session.scalars(select(Media.path).where(Media.engine.is_not(None)))
                    )
                time.sleep(0.5)
            assert kept, "the engine stored no recording in time"
            local = remote.fetch(kept[0])
            assert local.read_bytes() == (tmp_path / "server-a" / kept[0]).read_bytes()
        finally:
            store.close()

        watched = cv2.VideoCapture(
            f"rtsp://watchfloor:{PASSWORD}@127.0.0.1:{port}/live/cam1", cv2.CAP_FFMPEG
        )
        try:
            assert watched.isOpened()
            shapes, lags = set(), []
            for _ in range(20):
                ok, image = watched.read()
                assert ok
                # The frame's time is in the band under the picture (engine.cluster.stamp).
                stamped, picture = read_stamp(image)
                assert stamped is not None
                now = datetime.now(UTC)
                lags.append((now - unwrap_ms(stamped, now)).total_seconds())
                shapes.add(picture.shape)
            assert shapes == {(576, 768, 3)}  # vtest.avi as the engine analyses it
            assert float(picture.std()) > 10  # a picture, not a flat fill
            assert all(-1.0 < lag < 30.0 for lag in lags), lags  # this machine's clock
        finally:
            watched.release()
        refused = cv2.VideoCapture(
            f"rtsp://watchfloor:wrong-password@127.0.0.1:{port}/live/cam1", cv2.CAP_FFMPEG
        )
        assert not refused.isOpened()
        refused.release()
    finally:
        engine.terminate()
        try:
            engine.wait(60)
        finally:
            if engine.stderr is not None:
                engine.stderr.close()
    # The server went with its engine: the port is free again.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.skipif(not _has_rtsp_server(), reason="GStreamer's RTSP server is not installed")
def test_a_frame_the_media_thread_cannot_send_is_counted_and_streaming_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The frames thread is supervised: a camera's frame it cannot read (a picture of one
    dimension) ends a round; it is said and counted, and after a backoff on the engine's
    clock the loop runs again with the same server and declares the camera's next frame."""
    import numpy as np

    from engine.clock import SimulatedClock
    from engine.cluster.media import MediaOptions, MediaServer, MediaServerError
    from engine.frames import Frame
    from engine.supervise import FIRST_BACKOFF_S, supervised_health
    from tests.waiting import wait_for

    monkeypatch.setenv("WATCHFLOOR_MEDIA_PASSWORD", PASSWORD)
    clock = SimulatedClock(datetime.now(UTC))
    given: list[Frame] = []

    def latest() -> Frame:
        shape = (640,) if not given else (480, 640, 3)  # the first is broken
        given.append(Frame(seq=len(given), image=np.zeros(shape, np.uint8), captured_at=0.0,
                           source_fps=10.0))  # fmt: skip
        return given[-1]

    for _attempt in range(5):  # a port found free may be taken before the server binds it
        with socket.socket() as probe:  # free on every address: the server binds 0.0.0.0
            probe.bind(("0.0.0.0", 0))
            port = int(probe.getsockname()[1])
        server = MediaServer(
            MediaOptions(port=port, host="127.0.0.1"), lambda: {"cam1": latest}, clock=clock
        )
        try:
            server.start()
            break
        except MediaServerError as exc:
            if "in use" not in str(exc):
                raise
    else:
        pytest.fail("no free port for the RTSP server in 5 tries")
    try:
        assert clock.wait_for_waiters(1)
        clock.advance(0.1)  # a round is due
        wait_for(lambda: server._thread.health().backing_off, what="the frames loop's backoff")
        assert server.problem is not None and server.problem.startswith("RTSP frames: ValueError")
        assert server._declared == {} and server._thread.restarts == 0
        assert clock.wait_for_waiters(1) and clock.next_deadline_in() == FIRST_BACKOFF_S
        clock.advance(FIRST_BACKOFF_S)
        assert clock.wait_for_waiters(1)  # run again: waiting for its next round
        clock.advance(0.1)
        wait_for(
            lambda: "cam1" in server._declared and server.problem is None,
            what="the next frame declared",
        )
        assert server.restarts == 0  # the same server process
        [row] = [h for h in supervised_health() if h.name == "media-server" and h.alive]
        assert row.restarts == 1 and row.last_error is not None
        assert row.last_error.startswith("ValueError")
    finally:
        server.stop()
    assert not server._thread.is_alive()
