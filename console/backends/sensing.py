"""What the Sensing pane may ask of the running engine: its rooms, explain a live blob,
open a room's pairing window, and whether pairing means anything here. A console attached
to a shared site runs no room: its pictures arrive over the database, and what needs the
live room (an explanation, pairing) is done on the engine holding it, which this says."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from console.session import ConsoleSession
from engine.cluster.status import RUNNING
from engine.sensing import actions as sensing_actions
from engine.sensing.host import rooms_shown, sensing_rooms
from engine.sensing.view import BlobExplanation

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime


class SensingBackend:
    """Satisfies :class:`widgets.sensing.api.SensingActions`."""

    def __init__(self, runtime: EngineRuntime, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._session = session

    def rooms(self) -> list[tuple[str, str]]:
        runtime = self._runtime
        return rooms_shown(
            runtime.site, attached=runtime.attached, running=runtime.sensing.services
        )

    def _holder(self, room_id: str | None = None) -> str:
        """The engine holding room ``room_id`` (attached; None: any of the site's rooms),
        by name, as its heartbeat last said; "the engine holding the room" when none is
        known to."""
        rooms = {room.room_id for room in sensing_rooms(self._runtime.site)}
        wanted = rooms if room_id is None else {room_id} & rooms
        follower = self._runtime.shared.follower
        if wanted and follower is not None:
            holders = [
                line.name
                for line in follower.engines
                if line.state == RUNNING and wanted & set(line.rooms)
            ]
            if len(holders) == 1:
                return f"engine {holders[0]}"
            if holders:
                return "engines " + ", ".join(holders)
        return "the engine holding the room"

    def runs_elsewhere(self, room_id: str | None = None) -> str:
        """Attached to a shared site: that the live room ``room_id`` (None: the site's
        rooms) runs on another machine (named when known), so explanations and pairing are
        done there; "" when it runs here."""
        if not self._runtime.attached or not sensing_rooms(self._runtime.site):
            return ""
        return (
            f"The room runs on {self._holder(room_id)}, not in this attached console: blob "
            "explanations and node pairing are done there"
        )

    def pairing_unavailable(self) -> str:
        """Why no node can be paired here ("" when real nodes can)."""
        if self._runtime.attached and sensing_rooms(self._runtime.site):
            if self._runtime.site.sensing.simulate:
                return "The room is simulated: no real nodes to pair"
            return (
                f"Pairing is opened on {self._holder()} (`watchfloor sense pair --room ID` "
                "there): this console is attached and runs no room"
            )
        services = self._runtime.sensing.services
        if not services:
            return "This site has no sensing room"
        if all(sensing.simulated for sensing in services.values()):
            return "The room is simulated: no real nodes to pair"
        return ""

    def explain(self, room_id: str, track_id: int) -> BlobExplanation | None:
        """The live room's explanation of a blob from its latest tick (memory only: a few
        milliseconds of arithmetic, fine on the GUI thread); None for another room."""
        sensing = self._runtime.sensing.services.get(room_id)
        if sensing is None:
            return None
        return sensing.explain(track_id)

    def open_pairing(self, seconds: int, room_id: str) -> datetime:
        """Open room ``room_id``'s pairing window as the person logged in (blocking: the
        audit waits on the store writer); when it closes."""
        actor = self._session.require_actor("open node pairing")
        rt = self._runtime
        return sensing_actions.open_pairing(
            rt.sensing.services, rt.writer, rt.clock, actor, seconds, room_id
        )
