"""What the Sensing pane asks of the engine: the rooms it runs, the explanation of a live
blob, and a room's pairing window (:class:`SensingActions`). It shows the engine's sensing
snapshots (:mod:`engine.sensing.view`) the console hands it, and the re-run dialog a
:class:`~engine.history.replay.SensingComparison`.

No Qt here (``import widgets.sensing.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from engine.sensing.view import BlobExplanation


class SensingActions(Protocol):
    def rooms(self) -> list[tuple[str, str]]:
        """The sensing rooms the engine runs, ``(id, name)``."""
        ...

    def runs_elsewhere(self, room_id: str | None = None) -> str:
        """Why the live room ``room_id`` (None: the site's rooms) is not in this process
        ("" when it is): a console attached to a shared site shows the pictures its engines
        send, and says which engine explanations and pairing are done on."""
        ...

    def pairing_unavailable(self) -> str:
        """Why no node can be paired here ("" when real nodes can)."""
        ...

    def explain(self, room_id: str, track_id: int) -> BlobExplanation | None:
        """A live blob's explanation (memory only: may be called on the GUI thread)."""
        ...

    def open_pairing(self, seconds: int, room_id: str) -> datetime:
        """Open room ``room_id``'s pairing window (blocking: on a query worker); when it
        closes."""
        ...
