"""Fixtures shared by the engine's continuous-recording tests (segments, views)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.test_recording import write_video


@pytest.fixture
def no_leaked_segment_writers() -> Iterator[None]:
    """Fails a test that leaves a ``segment-writer-<camera>`` thread running (use it with
    ``pytest.mark.usefixtures``)."""
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("segment-writer-")]
    assert not leaked, f"test leaked segment writers: {leaked}"


@pytest.fixture(scope="module")
def h264_12s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of vtest's pedestrians as an H.264 camera sends them: 15 fps, a keyframe a
    second."""
    folder = tmp_path_factory.mktemp("segments")
    return write_video(folder / "camera.mp4", "libx264", seconds=12.0, gop=15)
