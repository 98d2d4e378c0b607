"""Probing a camera URL before it is added (engine.vision.probe): codec, size, frame rate,
bitrate, keyframe interval and a snapshot, from real files and a real RTSP server
(GStreamer's, with a main and a sub stream and a password); bad input is refused naming
what was wrong, never with the password. Each failure a camera can give (a closed port, an
address that does not answer, a wrong password, a missing stream, video Watchfloor cannot
decode, a stream that closes) is said in plain words with its kind (``reason``), each met
for real: a closed port, a TEST-NET address, GStreamer's RTSP server, an HTTP server on
loopback."""

from __future__ import annotations

import http.server
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.cluster.media import system_python
from engine.cv import import_cv2
from engine.vision.probe import ProbeError, probe_stream, probe_with_password
from tests.engine.test_recording import write_video
from tests.rtsp_camera import RtspCamera, has_rtsp_server


def file_bitrate(path: Path) -> tuple[float, int]:
    """The video's bits per second over the whole file, and its packets (read here with
    PyAV, independently of the probe)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size and p.pts is not None]
        span = max(p.pts for p in packets) - min(p.pts for p in packets) + packets[-1].duration
        seconds = float(span * stream.time_base)
    return sum(p.size for p in packets) * 8 / seconds, len(packets)


def test_an_h264_file_is_measured_and_gives_a_snapshot(tmp_path: Path) -> None:
    video = write_video(tmp_path / "camera.mp4", "libx264", seconds=6.0, fps=15, gop=30)
    probe = probe_stream(str(video), seconds=3.0)
    assert (probe.codec, probe.codec_name, probe.width, probe.height) == ("h264", "H.264", 320, 240)
    assert probe.declared_fps == pytest.approx(15.0) and probe.measured_fps == pytest.approx(15.0)
    assert probe.keyframe_interval_s == pytest.approx(2.0)
    assert 3.0 <= probe.seconds <= 3.2 and probe.recordable and not probe.notes
    assert probe.summary().startswith("H.264 320×240 at 15.0 fps, ")
    assert "a keyframe every 2.0 s" in probe.summary()
    # The whole file read: the same bitrate as counting its packets independently.
    whole = probe_stream(str(video), seconds=30.0)
    expected, packets = file_bitrate(video)
    assert whole.packets == packets == 90
    assert whole.bitrate_bps == pytest.approx(expected, rel=1e-6)
    # The snapshot is the file's first picture.
    assert probe.snapshot_jpeg is not None
    cv2 = import_cv2()
    picture = cv2.imdecode(np.frombuffer(probe.snapshot_jpeg, np.uint8), cv2.IMREAD_COLOR)
    with av.open(str(video)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert picture.shape == first.shape
    assert float(np.abs(picture.astype(int) - first.astype(int)).mean()) < 4.0  # JPEG's loss


def test_the_pedestrian_sample_is_not_recordable_as_it_comes(vtest_avi: Path) -> None:
    probe = probe_stream(str(vtest_avi), seconds=2.0)
    assert (probe.width, probe.height) == (768, 576) and not probe.recordable
    assert probe.fps == pytest.approx(10.0, rel=0.01)
    assert probe.snapshot_jpeg is not None


def test_bad_input_is_refused_naming_it(tmp_path: Path, vtest_avi: Path) -> None:
    with pytest.raises(ProbeError, match=r"missing\.mp4: No such file"):
        probe_stream(str(tmp_path / "missing.mp4"))
    fifo = tmp_path / "camera.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ProbeError, match="not a regular file"):
        probe_stream(str(fifo))  # would block the open forever
    with pytest.raises(ProbeError, match="not a regular file"):
        probe_stream(str(tmp_path))
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    with pytest.raises(ProbeError, match=r"notes\.mp4: not a video file"):
        probe_stream(str(text))
    with pytest.raises(ProbeError, match="0–30 s"):
        probe_stream(str(vtest_avi), seconds=0)
    # A closed port: refused at once, the URL shown without its password.
    with pytest.raises(ProbeError) as refused:
        probe_stream(
            "rtsp://admin:s3cret@127.0.0.1:9/main",
            shown_url="rtsp://admin:***@127.0.0.1:9/main",
            timeouts_s=(3.0, 3.0),
        )
    assert "s3cret" not in str(refused.value) and "admin:***@" in str(refused.value)


@pytest.mark.slow
@pytest.mark.skipif(
    not has_rtsp_server(system_python()), reason="GStreamer's RTSP server is not installed"
)
def test_a_real_rtsp_cameras_main_and_sub_streams_are_probed_with_its_password(
    tmp_path: Path,
) -> None:
    main = write_video(tmp_path / "main.mp4", "libx264", seconds=8.0, fps=15, gop=15)
    sub = tmp_path / "sub.mp4"
    with av.open(str(main)) as source, av.open(str(sub), "w") as target:
        # The sub stream: the same scene, smaller (as a camera's second encoder gives it).
        out = target.add_stream("libx264", rate=15)
        out.width, out.height, out.pix_fmt = 160, 120, "yuv420p"
        out.codec_context.gop_size = 15
        for frame in source.decode(video=0):
            small = frame.reformat(width=160, height=120, format="yuv420p")
            small.pts, small.time_base = frame.pts, frame.time_base
            target.mux(out.encode(small))
        target.mux(out.encode(None))
    with RtspCamera(system_python(), {"main": main, "sub": sub}, password="p4ss") as camera:
        probe = probe_stream(
            camera.url("main", password="p4ss"), shown_url=camera.url("main"), seconds=2.0
        )
        assert (probe.codec, probe.width, probe.height) == ("h264", 320, 240)
        assert probe.measured_fps == pytest.approx(15.0, rel=0.05)
        assert probe.keyframe_interval_s == pytest.approx(1.0, rel=0.05)
        assert probe.snapshot_jpeg is not None and probe.url == camera.url("main")
        small = probe_stream(camera.url("sub", password="p4ss"), seconds=2.0)
        assert (small.width, small.height) == (160, 120)
        assert small.bitrate_bps is not None and probe.bitrate_bps is not None
        assert small.bitrate_bps < probe.bitrate_bps
        # A wrong password: refused, and the message does not carry it.
        with pytest.raises(ProbeError) as refused:
            probe_stream(
                camera.url("main", password="wrong-one"),
                shown_url=camera.url("main"),
                timeouts_s=(5.0, 5.0),
            )
        assert "wrong-one" not in str(refused.value) and refused.value.reason == "wrong_password"
        assert "the camera refused the user name or password (401)" in str(refused.value)


def _refusal(url: str, **kwargs: object) -> ProbeError:
    with pytest.raises(ProbeError) as refused:
        probe_stream(url, **kwargs)  # type: ignore[arg-type]
    return refused.value


def test_each_kind_of_bad_input_is_named(tmp_path: Path, vtest_avi: Path) -> None:
    assert _refusal(str(tmp_path / "missing.mp4")).reason == "not_found"
    fifo = tmp_path / "camera.fifo"
    os.mkfifo(fifo)
    assert _refusal(str(fifo)).reason == "not_a_file"
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    assert _refusal(str(text)).reason == "not_a_video"
    assert _refusal(str(vtest_avi), seconds=0).reason == "bad_request"


def test_a_closed_port_is_said_to_have_nothing_answering() -> None:
    with socket.socket() as holder:  # a port known free: bound, never listening
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        refused = _refusal(
            f"rtsp://admin:s3cret@127.0.0.1:{port}/main",
            shown_url=f"rtsp://admin:***@127.0.0.1:{port}/main",
            timeouts_s=(3.0, 3.0),
        )
    assert refused.reason == "refused"
    assert f"rtsp://admin:***@127.0.0.1:{port}/main: nothing answers on port {port} of " in str(
        refused
    )
    assert "s3cret" not in str(refused)


def test_an_address_that_does_not_answer_ends_the_probe_within_its_timeout() -> None:
    # TEST-NET-1 (RFC 5737) is never routed: its SYN goes unanswered (a timeout), or the
    # network says at once that there is no route to it; either way within the 1 s asked.
    started = time.monotonic()
    silent = _refusal("rtsp://192.0.2.77/main", timeouts_s=(1.0, 1.0))
    assert time.monotonic() - started < 4.0
    assert silent.reason in ("timeout", "unreachable"), silent
    assert "no answer from 192.0.2.77 on port 554 within 1 s" in str(
        silent
    ) or "no route to 192.0.2.77 (is the camera on this network?)" in str(silent)


def test_a_name_that_is_not_known_is_said_so() -> None:
    unknown = _refusal("rtsp://camera.invalid/main", timeouts_s=(3.0, 3.0))  # RFC 6761
    assert unknown.reason == "unknown_host"
    assert "the name camera.invalid is not known here" in str(unknown)


def test_video_watchfloor_cannot_decode_is_named_with_what_to_set(tmp_path: Path) -> None:
    # Real video standards FFmpeg has no decoder for unless built with an external library
    # (AVS3: libuavs3d, AVS2: libdavs2, MPEG-5 EVC: libxevd), so the engine could neither
    # analyse nor record them (it decodes every camera; it re-encodes all but H.264/H.265).
    codec = next((name for name in ("avs3", "avs2", "evc") if not _has_decoder(name)), None)
    if codec is None:
        pytest.skip("this FFmpeg decodes AVS3, AVS2 and EVC")
    path = tmp_path / "camera.ts"
    with av.open(str(path), "w") as container:
        # Its packets as the camera's encoder gave them (muxed, never decoded here).
        stream = container.add_mux_stream(codec, rate=15, width=320, height=240)
        stream.time_base = Fraction(1, 90000)
        for index in range(30):
            packet = av.Packet(bytes(range(256)) * 4)
            packet.stream, packet.time_base = stream, stream.time_base
            packet.pts = packet.dts = index * 6000
            packet.is_keyframe = index % 15 == 0
            container.mux(packet)
    unsupported = _refusal(str(path))
    assert unsupported.reason == "unsupported_codec"
    assert "the camera sends video in a format Watchfloor cannot decode" in str(unsupported)
    assert "set the camera's stream to H.264 or H.265" in str(unsupported)


def _has_decoder(name: str) -> bool:
    try:
        av.Codec(name, "r")
    except (av.error.FFmpegError, ValueError):
        return False
    return True


class _Camera(http.server.BaseHTTPRequestHandler):
    """An HTTP camera: ``/status/401`` answers that status; ``/short.ts`` sends its few
    seconds of MPEG-TS and closes the connection, as a camera that cuts its stream."""

    short_ts = b""

    def do_GET(self) -> None:
        if self.path.startswith("/status/"):
            self.send_response(int(self.path.rsplit("/", 1)[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(self.short_ts)  # no length: the stream ends when the camera closes
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_camera(tmp_path: Path) -> Iterator[str]:
    short = write_video(tmp_path / "short.ts", "libx264", seconds=1.0, fps=15, gop=15)
    handler = type("Camera", (_Camera,), {"short_ts": short.read_bytes()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="http-camera", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_an_http_cameras_answers_are_said_in_words(http_camera: str) -> None:
    timeouts = (3.0, 3.0)
    wrong = _refusal(f"{http_camera.replace('//', '//admin:s3cret@')}/status/401",
                     shown_url=f"{http_camera}/status/401", timeouts_s=timeouts)  # fmt: skip
    assert wrong.reason == "wrong_password" and "s3cret" not in str(wrong)
    assert str(wrong).endswith("the camera refused the user name or password (401)")
    needed = _refusal(f"{http_camera}/status/401", timeouts_s=timeouts)
    assert needed.reason == "password_needed" and "wants a user name and password" in str(needed)
    forbidden = _refusal(f"{http_camera}/status/403", timeouts_s=timeouts)
    assert forbidden.reason == "forbidden" and "does not let this user see" in str(forbidden)
    missing = _refusal(f"{http_camera}/status/404", timeouts_s=timeouts)
    assert missing.reason == "not_found" and "has no stream at this path (404)" in str(missing)
    broken = _refusal(f"{http_camera}/status/503", timeouts_s=timeouts)
    assert broken.reason == "camera_error" and "an error of its own (5xx)" in str(broken)


def test_a_stream_that_closes_before_the_probe_ends_is_said_with_how_much_came(
    http_camera: str,
) -> None:
    closed = _refusal(f"{http_camera}/short.ts", seconds=3.0, timeouts_s=(3.0, 3.0))
    assert closed.reason == "stream_closed"
    assert f"{http_camera}/short.ts: the stream closed after 1.0 s (15 packets)" in str(closed)
    # Shorter than what the stream gave: measured as usual.
    probe = probe_stream(f"{http_camera}/short.ts", seconds=0.5, timeouts_s=(3.0, 3.0))
    assert probe.codec == "h264" and probe.packets >= 8


@pytest.mark.skipif(
    not has_rtsp_server(system_python()), reason="GStreamer's RTSP server is not installed"
)
def test_a_real_rtsp_cameras_refusals_are_said_in_words(tmp_path: Path) -> None:
    main = write_video(tmp_path / "main.mp4", "libx264", seconds=1.0, fps=15, gop=15)
    password = "p4ss/:@ word"  # what URLs quote: put into the URL by probe_with_password
    with RtspCamera(system_python(), {"main": main}, password=password) as camera:
        with pytest.raises(ProbeError) as refused:
            probe_with_password(camera.url("main", password=""), "wrong-one", timeouts_s=(3.0, 3.0))
        wrong = refused.value
        assert wrong.reason == "wrong_password" and "wrong-one" not in str(wrong)
        assert str(wrong) == (
            f"rtsp://viewer:***@127.0.0.1:{camera.port}/main: the camera refused the user name "
            "or password (401)"
        )
        with pytest.raises(ProbeError) as missing:
            probe_with_password(camera.url("side", password=""), password, timeouts_s=(3.0, 3.0))
        assert missing.value.reason == "not_found" and password not in str(missing.value)
        # The right password, quoted: the camera's one second of video, then it closes.
        with pytest.raises(ProbeError) as closed:
            probe_with_password(camera.url("main", password=""), password, seconds=3.0)
        assert closed.value.reason == "stream_closed" and password not in str(closed.value)
        # (the server's first packet may go before the probe reads: 14 or 15 of 15 come)
        assert re.search(r"/main: the stream closed after (0\.9|1\.0) s \(1[45] packets\)",
                         str(closed.value))  # fmt: skip
        probe = probe_with_password(camera.url("main", password=""), password, seconds=0.5)
        assert probe.codec == "h264" and probe.url.startswith("rtsp://viewer:***@")
