"""Benchmark inputs: the real videos the product plays."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

DEBIAN_VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SHARED_VTEST = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "video" / "vtest.avi"


def vtest_path() -> Path:
    """vtest.avi as the demo site plays it (Debian's opencv-doc), else ../shared's copy."""
    for path in (DEBIAN_VTEST, SHARED_VTEST):
        if path.exists():
            return path
    raise FileNotFoundError("vtest.avi not found: install Debian's opencv-doc")


SHARED_HAMILTON = SHARED_VTEST.parent / "short_hamilton_clip.mp4"


def hamilton_path() -> Path:
    """The shared Hamilton clip (H.264 640×360, 29.97 fps), as an H.264 camera sends."""
    if not SHARED_HAMILTON.exists():
        raise FileNotFoundError(f"{SHARED_HAMILTON} missing (../shared/testdata)")
    return SHARED_HAMILTON


@contextlib.contextmanager
def private_dirs(prefix: str) -> Iterator[Path]:
    """A temporary folder whose ``data`` and ``config`` folders the product uses
    (``WATCHFLOOR_DATA_DIR``, ``WATCHFLOOR_CONFIG_DIR``) while the block runs in this
    process; the variables are put back as they were after it."""
    keys = ("WATCHFLOOR_DATA_DIR", "WATCHFLOOR_CONFIG_DIR")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        saved = {key: os.environ.get(key) for key in keys}
        os.environ["WATCHFLOOR_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["WATCHFLOOR_CONFIG_DIR"] = str(Path(tmp) / "config")
        try:
            yield Path(tmp)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
