"""The frame time carried under a re-streamed picture (engine.cluster.stamp): read back
exactly, after H.264 at a low bit rate too, and the picture comes back without the band;
pictures without a band read as none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import av
import cv2
import numpy as np

from engine.cluster.stamp import BAND_ROWS, read_stamp, stamp, unwrap_ms, wall_ms

AT = datetime(2026, 11, 26, 12, 0, 0, 123000, tzinfo=UTC)


def _picture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    return cv2.GaussianBlur(image, (0, 0), 3)


def test_a_stamp_reads_back_and_the_picture_is_the_same() -> None:
    picture = _picture(1)
    stamped = stamp(picture, wall_ms(AT))
    assert stamped.shape == (480 + BAND_ROWS, 640, 3)
    value, back = read_stamp(stamped)
    assert value == wall_ms(AT)
    assert np.array_equal(back, picture)
    assert unwrap_ms(value, AT + timedelta(seconds=3)) == AT


def test_a_picture_without_a_band_has_no_time() -> None:
    for picture in (
        _picture(2),
        np.zeros((496, 640, 3), np.uint8),
        np.full((496, 640, 3), 255, np.uint8),
    ):
        value, back = read_stamp(picture)
        assert value is None and back is picture


def test_the_time_survives_h264_at_a_low_bit_rate() -> None:
    times = [wall_ms(AT + timedelta(milliseconds=100 * i)) for i in range(30)]
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 640, 480 + BAND_ROWS, "yuv420p"
    codec.time_base = Fraction(1, 10)
    codec.bit_rate = 300_000
    codec.options = {"preset": "ultrafast", "tune": "zerolatency"}
    decoder = av.CodecContext.create("h264", "r")
    read: list[int | None] = []
    for i, value in enumerate(times):
        frame = av.VideoFrame.from_ndarray(stamp(_picture(10 + i), value), format="bgr24")
        frame.pts = i
        for packet in codec.encode(frame.reformat(format="yuv420p")):
            for decoded in decoder.decode(packet):
                read.append(read_stamp(decoded.to_ndarray(format="bgr24"))[0])
    for packet in codec.encode(None):
        for decoded in decoder.decode(packet):
            read.append(read_stamp(decoded.to_ndarray(format="bgr24"))[0])
    assert read == times
