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
EngineGetter = Callable[[], str | None]
VideoStateGetter = Callable[[], str | None]
TILE_COUNTS = (1, 4, 9)


@dataclass(frozen=True, slots=True)
class CameraFeed:
    """What the grid needs to show one camera. ``engine_of``: the camera runs in another
    process (a console attached to a shared site): which engine runs it now, as the
    site's engines last told (None: none does); its frames are not here. None: the camera
    runs in this console's engine. ``video_state``: with ``engine_of``, why there is no
    picture of the camera now, in one line (None: a picture is coming or shown).
    ``simulated``: the camera films the site's simulated walkers (``url = "simulated"``),
    not a real scene; its tile says so."""

    camera_id: str
    name: str
    frame_getter: FrameGetter
    engine_of: EngineGetter | None = None
    video_state: VideoStateGetter | None = None
    simulated: bool = False
