"""Reading a small media file (a snapshot) without trusting what the path is."""

from __future__ import annotations

import os
from pathlib import Path

from engine.media import read_small_file


def test_only_a_regular_file_within_the_limit_is_read(tmp_path: Path) -> None:
    small = tmp_path / "snap.jpg"
    small.write_bytes(b"x" * 100)
    assert read_small_file(small, 100) == b"x" * 100
    assert read_small_file(small, 99) is None  # one byte over
    assert read_small_file(tmp_path / "gone.jpg", 100) is None
    assert read_small_file(tmp_path, 100) is None  # a directory
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)
    assert read_small_file(fifo, 100) is None  # returns at once, no writer needed
    link = tmp_path / "zero.jpg"
    link.symlink_to("/dev/zero")
    assert read_small_file(link, 100) is None  # a device: its st_size says 0
