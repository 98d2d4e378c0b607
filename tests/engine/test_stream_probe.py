"""Probing a camera URL before it is added (engine.vision.probe): codec, size, frame rate,
bitrate, keyframe interval and a snapshot, from real files and a real RTSP server
(GStreamer's, with a main and a sub stream and a password); bad input is refused naming
what was wrong, never with the password."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from engine.cluster.media import system_python
from engine.cv import import_cv2
from engine.vision.probe import ProbeError, probe_stream
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
    with pytest.raises(ProbeError, match=r"notes\.mp4: cannot open"):
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
        assert "wrong-one" not in str(refused.value)
        assert "401" in str(refused.value) or "nauthorized" in str(refused.value)
