"""What the Sensing pane may ask of the running engine: explain a live blob, open the
room's pairing window, and whether pairing means anything here. A console attached to a
shared site runs no room: its pictures arrive over the database, and what needs the live
room (an explanation, pairing) is done on the engine holding it, which this says."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from console.session import ConsoleSession
from engine.cluster.status import RUNNING
from engine.runtime import sensing_room
from engine.sensing.view import BlobExplanation

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime


class SensingBackend:
    """Satisfies :class:`widgets.sensing.api.SensingActions`."""

    def __init__(self, runtime: EngineRuntime, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._session = session

    def rooms(self) -> list[tuple[str, str]]:
        if self._runtime.attached:
            room = sensing_room(self._runtime.site)
            return [(room.room_id, room.name)] if room is not None else []
        sensing = self._runtime.sensing
        return [(sensing.room.room_id, sensing.room.name)] if sensing is not None else []

    def _holder(self) -> str:
        """The engine holding the site's room (attached), by name, as its heartbeat last
        said; "the engine holding the room" when none is known to."""
        room = sensing_room(self._runtime.site)
        follower = self._runtime.follower
        if room is not None and follower is not None:
            for line in follower.engines:
                if line.state == RUNNING and room.room_id in line.rooms:
                    return f"engine {line.name}"
        return "the engine holding the room"

    def runs_elsewhere(self) -> str:
        """Attached to a shared site: that the live room runs on another machine (named
        when known), so explanations and pairing are done there; "" when it runs here."""
        if not self._runtime.attached or sensing_room(self._runtime.site) is None:
            return ""
        return (
            f"The room runs on {self._holder()}, not in this attached console: blob "
            "explanations and node pairing are done there"
        )

    def pairing_unavailable(self) -> str:
        """Why no node can be paired here ("" when real nodes can)."""
        if self._runtime.attached and sensing_room(self._runtime.site) is not None:
            if self._runtime.site.sensing.simulate:
                return "The room is simulated: no real nodes to pair"
            return (
                f"Pairing is opened on {self._holder()} (`watchfloor sense pair` there): "
                "this console is attached and runs no room"
            )
        sensing = self._runtime.sensing
        if sensing is None:
            return "This site has no sensing room"
        if sensing.simulated:
            return "The room is simulated: no real nodes to pair"
        return ""

    def explain(self, room_id: str, track_id: int) -> BlobExplanation | None:
        """The live room's explanation of a blob from its latest tick (memory only: a few
        milliseconds of arithmetic, fine on the GUI thread); None for another room."""
        sensing = self._runtime.sensing
        if sensing is None or sensing.room.room_id != room_id:
            return None
        return sensing.explain(track_id)

    def open_pairing(self, seconds: int) -> datetime:
        """Open the pairing window as the person logged in (blocking: the audit waits on
        the store writer); when it closes."""
        actor = self._session.require_actor("open node pairing")
        return self._runtime.open_pairing(actor, seconds)
