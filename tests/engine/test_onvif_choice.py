"""Which of an ONVIF camera's profiles is recorded (main) and which analysed (sub)."""

from __future__ import annotations

from engine.vision.onvif import OnvifProfile, main_and_sub


def profile(name: str, width: int, height: int, fps: float = 15.0) -> OnvifProfile:
    return OnvifProfile(name, name, "H264", width, height, fps, f"rtsp://cam/{name}", None)


def test_the_sub_stream_is_the_one_nearest_640_wide_never_a_tiny_one() -> None:
    main = profile("main", 1920, 1080)
    qcif, vga, d1 = profile("qcif", 176, 144), profile("vga", 640, 360), profile("d1", 704, 576)
    assert main_and_sub([qcif, d1, main, vga]) == (main, vga)
    assert main_and_sub([qcif, d1, main]) == (main, d1)
    # Only a 176×144 besides the main: people far away would be a few pixels; none.
    assert main_and_sub([qcif, main]) == (main, None)
    assert main_and_sub([main]) == (main, None)
