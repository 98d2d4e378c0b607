"""The simulated camera: pictures of a simulated scene, read like any camera's.

A site's ``[[cameras]]`` entry with ``url = "simulated"`` and a ``view`` films the simulated
walkers of the site's simulated sensing rooms (:mod:`engine.sim.scene` draws them), so
that camera tracks can be joined to sensing blobs against known truth. A product feature,
shown as simulated: the picture says SIMULATED, and so does the camera's tile.

:class:`SimulatedCapture` renders the scene at the time its clock gives, on a grid of
``1/fps`` seconds: frame ``n`` shows the scene at ``n / fps`` seconds of scene time, which is
also its presentation time (``pts_s``), so whoever reads a frame knows exactly which moment
of the truth it shows. It never waits: like a file, it is paced by its reader (the camera
source, through the engine clock). Read from one thread at a time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Final

from engine.camera_view import CameraView
from engine.sim.scene import Floor, FloorRect, ScenePerson, render
from engine.vision.capture import Capture, Decoded

log = logging.getLogger(__name__)

SIMULATED_FPS: Final = 10.0  # the simulated sensing room's tick rate is 10-20 Hz
DEFAULT_FLOOR_HALF_M: Final = 10.0  # a scene without rooms: this far around the view's centre


class SimulatedCapture(Capture):
    """Pictures of a simulated scene seen through ``view`` (see the module docstring).

    ``time_s`` gives the scene's current time in seconds, ``people_at`` the people at a
    time; ``floor`` (default: a plain floor 20 m across around where the camera looks)
    what they stand on. A frame is rendered at the latest ``1/fps`` step the scene has
    reached, or the step after the previous frame's if the scene has not moved on since
    (frames never repeat a time). A failure of either callable ends reading with
    :attr:`problem` set (a camera source then reconnects)."""

    def __init__(
        self,
        view: CameraView,
        time_s: Callable[[], float],
        people_at: Callable[[float], Sequence[ScenePerson]],
        *,
        floor: Floor | None = None,
        fps: float = SIMULATED_FPS,
    ) -> None:
        if not (math.isfinite(fps) and 0.5 <= fps <= 60.0):
            raise ValueError(f"fps: {fps} is outside 0.5..60")
        self.view = view
        self.fps = float(fps)
        self._time_s = time_s
        self._people_at = people_at
        self.floor = floor if floor is not None else default_floor(view)
        self._last_step: int | None = None
        self._released = False

    def read(self) -> Decoded | None:
        if self._released:
            return None
        try:
            now_s = float(self._time_s())
            if not math.isfinite(now_s):
                raise ValueError(f"the scene's time is {now_s}")
            step = math.floor(now_s * self.fps + 1e-6)  # float steps land just short
            if self._last_step is not None and step <= self._last_step:
                step = self._last_step + 1
            t_s = step / self.fps
            people = self._people_at(t_s)
            image = render(self.view, people, t_s, floor=self.floor)
        except Exception as exc:  # the scene's code failed: this camera is lost, not the engine
            log.warning("simulated camera: the scene failed: %s", exc, exc_info=True)
            self.problem = f"the simulated scene failed: {type(exc).__name__}: {exc}"
            return None
        self._last_step = step
        return Decoded(image, t_s, None)

    def rewind(self) -> bool:
        return False  # a live scene: time only goes forward

    def release(self) -> None:
        self._released = True


def default_floor(view: CameraView) -> Floor:
    """A plain tiled floor 20 m across, centred where the camera's optical axis meets the
    floor (no rooms)."""
    centre = view.image_to_floor([[view.width / 2.0, view.height / 2.0]])[0]
    cx, cy = round(float(centre[0])), round(float(centre[1]))
    half = DEFAULT_FLOOR_HALF_M
    return Floor(FloorRect(cx - half, cy - half, cx + half, cy + half))
