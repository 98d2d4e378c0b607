"""Importing OpenCV without letting it redirect Qt.

``opencv-contrib-python`` (the non-headless wheel, needed for contrib modules) sets
``QT_QPA_PLATFORM_PLUGIN_PATH`` to its own bundled Qt plugins when imported. If the console's
Qt later reads that variable it loads an incompatible platform plugin and aborts, so the
variable is put back as it was.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

_QT_PLUGIN_VAR = "QT_QPA_PLATFORM_PLUGIN_PATH"


@functools.cache
def import_cv2() -> ModuleType:
    """Import and return ``cv2``, leaving the process environment as it found it."""
    saved = os.environ.get(_QT_PLUGIN_VAR)
    import cv2

    if saved is None:
        os.environ.pop(_QT_PLUGIN_VAR, None)
    else:
        os.environ[_QT_PLUGIN_VAR] = saved
    return cv2
