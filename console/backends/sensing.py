"""What the Sensing pane may ask of the running engine: explain a live blob, open the
room's pairing window, and whether pairing means anything here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from console.session import ConsoleSession
from engine.sensing.view import BlobExplanation

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime


class SensingBackend:
    """Satisfies :class:`widgets.sensing.api.SensingActions`."""

    def __init__(self, runtime: EngineRuntime, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._session = session

    def rooms(self) -> list[tuple[str, str]]:
        sensing = self._runtime.sensing
        return [(sensing.room.room_id, sensing.room.name)] if sensing is not None else []

    def pairing_unavailable(self) -> str:
        """Why no node can be paired here ("" when real nodes can)."""
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
