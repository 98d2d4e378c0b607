"""What the camera grid is handed: a feed per camera (its frame getter) and the tile
counts it lays out.

No Qt here (``import widgets.cameras.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.frames import Frame

FrameGetter = Callable[[], Frame | None]
TILE_COUNTS = (1, 4, 9)


@dataclass(frozen=True, slots=True)
class CameraFeed:
    """What the grid needs to show one camera."""

    camera_id: str
    name: str
    frame_getter: FrameGetter
