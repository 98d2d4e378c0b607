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
    not a real scene; its tile says so. ``watch_main``: the grid calls it with True when it
    shows the camera alone (False when it stops): the engine decodes the camera's main
    stream meanwhile, and ``main_getter`` gives its newest picture (None until the first
    keyframe: the tile shows the sub stream's picture till then); it returns False for a
    camera with no main stream to decode here."""

    camera_id: str
    name: str
    frame_getter: FrameGetter
    engine_of: EngineGetter | None = None
    video_state: VideoStateGetter | None = None
    simulated: bool = False
    main_getter: FrameGetter | None = None
    watch_main: Callable[[bool], bool] | None = None
