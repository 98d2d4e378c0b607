"""What the timeline needs from the engine (:class:`TimelineSources`: the evidence
actions behind "Export range…", the sensing room and its recordings, the clock), and what
its replay bar shares with the replay controller: how a message line reads and the badge's
text.

No Qt here (``import widgets.timeline.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from engine.clock import Clock
from engine.sensing.service import RoomSpec
from engine.sitetime import display
from widgets.evidence_export.api import EvidenceActions


class TimelineSources(Protocol):
    """What the console gives the timeline pane."""

    @property
    def evidence(self) -> EvidenceActions:
        """Exports of the visible range."""
        ...

    @property
    def room(self) -> RoomSpec | None:
        """The sensing room a replay re-runs (None: the site has none)."""
        ...

    @property
    def sensing_directory(self) -> Path | None:
        """Where that room's sensing is recorded."""
        ...

    def sensing_room(self, room_id: str) -> tuple[RoomSpec, Path] | None:
        """Room ``room_id`` and where its sensing is recorded, for a replay of the room the
        Sensing pane shows (None: it does not run here)."""
        ...

    @property
    def clock(self) -> Clock:
        """The engine clock (a replay's pacing)."""
        ...


class MessageLevel(StrEnum):
    """How a message line reads: plain, amber (missing clips), red (errors)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def replay_label(position: datetime, speed: float) -> str:
    """``REPLAY 09:14:03 ×4`` (site time, to the second): the text of the badge, and of
    tiles."""
    return f"REPLAY {display().clock(position)} ×{speed:g}"
