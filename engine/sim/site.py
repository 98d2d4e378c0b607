"""The simulated site as the runtime composes it: what each simulated sensing room
simulates, and, for a walkthrough (``[sensing] scene = "walkthrough"``), one scene over the
whole site: the same walkers in every room (each room sees them only inside its walls) and
in the simulated cameras, on one time origin (the clock's monotonic time at the engine's
start)."""

from __future__ import annotations

from engine.clock import Clock
from engine.config import SiteConfig
from engine.sensing.service import ENTER_AFTER_S
from engine.sim.room import SimulationSpec
from engine.sim.walkthrough import FloorWalker, InRoom, WalkthroughScene, walkthrough


class SimulatedSite:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self._site = site
        self._clock = clock
        self.walkers: tuple[FloorWalker, ...] = ()
        self.origin_s: float | None = None  # set at the engine's start
        self.camera_scene: WalkthroughScene | None = None  # what simulated cameras film
        sensing = site.sensing
        if sensing.simulate and sensing.scene == "walkthrough":
            self.walkers = tuple(walkthrough(site.rooms, sensing.walkers, sensing.seed))
            self.camera_scene = WalkthroughScene(
                self.walkers, site.rooms, clock, lambda: self.origin_s
            )

    def start(self) -> None:
        """The scene's t = 0: now."""
        self.origin_s = self._clock.monotonic()

    def room(self, room_id: str, index: int) -> SimulationSpec | None:
        """What sensing room ``room_id`` (number ``index`` of the site's rooms) simulates
        (None: real nodes), from a seed of its own: the ``[sensing]`` seed plus ``index``."""
        config = self._site.sensing
        if not config.simulate:
            return None
        if config.scene != "walkthrough":
            return SimulationSpec(
                walkers=config.walkers, seed=config.seed + index, enter_after_s=ENTER_AFTER_S
            )
        walls = next(room for room in self._site.rooms if room.id == room_id)
        in_room = tuple(InRoom(w, walls) for w in self.walkers)
        return SimulationSpec(
            walkers=len(in_room),
            seed=config.seed + index,
            enter_after_s=0.0,
            walker_list=in_room,
            truth_walkers=in_room,
            ble=index == 0,  # the first room's nodes hear the walkers' tags
            time_origin_s=self.origin_s,
        )
