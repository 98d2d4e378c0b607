"""A camera read by role shows its main stream at full size only while someone looks
(engine.vision.main_view): nothing is decoded otherwise, decoding starts at a keyframe, and
the last watcher leaving stops it; the picture comes with the sub stream's analysis and
the size its boxes are in."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import load_site
from engine.events import CameraStatus
from engine.frames import EncodedPacket
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.vision.capture import open_pyav
from engine.vision.main_view import MainPictures
from tests.conftest import write_site
from tests.engine.test_paired_streams import said, write_stream
from tests.waiting import wait_for


def main_packets(path: Path) -> list[EncodedPacket]:
    """Every packet of ``path`` as the camera's thread hands it over, unstamped times."""
    capture = open_pyav(str(path), live=False, shown_url=str(path), decode=False)
    assert capture.stream is not None
    packets: list[EncodedPacket] = []
    while (more := capture.read_packets()) is not None:
        packets += [p.stamped(capture.stream, p.pts_s, None) for p in more]
    capture.release()
    return packets


def test_the_main_stream_is_decoded_from_a_keyframe_only_while_watched(tmp_path: Path) -> None:
    packets = main_packets(write_stream(tmp_path / "main.mp4", "libx264", (640, 480), 3.0))
    assert packets[0].keyframe and packets[15].keyframe and not packets[3].keyframe
    main = MainPictures("gate")

    main.feed(tuple(packets[:15]))  # nobody watches: not even a thread
    assert not main.decoding and main.latest() is None

    main.watch()
    main.feed(tuple(packets[3:15]))  # mid-group: nothing can be decoded before a keyframe
    main.feed(tuple(packets[15:20]))
    wait_for(lambda: main.latest() is not None, what="a main picture")
    picture = main.latest()
    assert picture is not None and picture.image.shape == (480, 640, 3)
    # From the keyframe on: a picture of packets 15–19, never of the group before it.
    assert packets[15].captured_at <= picture.captured_at <= packets[19].captured_at
    assert main.decode_errors == 0

    main.watch()  # a second watcher (another window)
    main.unwatch()
    assert main.watched and main.decoding
    main.unwatch()  # the last one: the thread ends, the picture is forgotten
    wait_for(lambda: not main.decoding, what="the decoder to stop")
    assert main.latest() is None
    main.feed(tuple(packets[30:]))
    assert not main.decoding and main.latest() is None


def test_a_decoder_that_falls_behind_starts_again_at_a_keyframe(tmp_path: Path) -> None:
    packets = main_packets(write_stream(tmp_path / "main.mp4", "libx264", (320, 240), 12.0))
    assert packets[135].keyframe and not packets[136].keyframe
    main = MainPictures("gate")
    main.watch()
    with main._cond:  # the decoder takes nothing meanwhile (the feed's lock is re-entrant)
        main.feed(tuple(packets[:135]))  # more than MAX_WAITING wait
    assert main.dropped == 135
    main.feed(tuple(packets[136:150]))  # no keyframe: nothing to start from
    main.feed(tuple(packets[150:]))
    wait_for(lambda: main.latest() is not None, what="a picture after the drop")
    picture = main.latest()
    assert picture is not None and picture.captured_at >= packets[150].captured_at
    main.unwatch()


@pytest.mark.slow
def test_a_paired_camera_shown_alone_gives_its_main_picture_with_the_sub_streams_boxes(
    tmp_path: Path, db_url: str
) -> None:
    main = write_stream(tmp_path / "main.mp4", "libx264", (640, 480), 6.0)
    sub = write_stream(tmp_path / "sub.mp4", "libx264", (160, 120), 6.0)
    single = write_stream(tmp_path / "single.mp4", "libx264", (320, 240), 6.0)
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            f'[[cameras]]\nid = "gate"\nurl = "{main}"\nsub_url = "{sub}"\n'
            f'[[cameras]]\nid = "yard"\nurl = "{single}"\n',
        )
    )
    runtime = EngineRuntime(site, Store(db_url))
    online, _details = said(runtime, CameraStatus.ONLINE)
    runtime.start()
    try:
        assert online.wait(60)
        cameras = runtime.cameras
        assert cameras.main_frame("gate") is None  # nobody looks: nothing decoded
        assert not cameras.main_pictures["gate"].decoding
        assert not cameras.watch_main("yard", True)  # one stream: nothing more to show
        assert not cameras.watch_main("nowhere", True)

        assert cameras.watch_main("gate", True)
        wait_for(lambda: cameras.main_frame("gate") is not None, what="the main picture")
        frame = cameras.main_frame("gate")
        assert frame is not None
        assert frame.image.shape[:2] == (480, 640)
        assert frame.analysis_size == (160, 120)  # the boxes are the sub picture's
        assert frame.analysis is not None  # the sub stream's analysis comes with it

        assert cameras.watch_main("gate", False)
        wait_for(lambda: not cameras.main_pictures["gate"].decoding, what="decoding to stop")
        assert cameras.main_frame("gate") is None
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()
