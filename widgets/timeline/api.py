"""What the timeline's replay bar shares with the console's replay controller: how a
message line reads and the badge's text.

No Qt here (``import widgets.timeline.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from engine.sitetime import display


class MessageLevel(StrEnum):
    """How a message line reads: plain, amber (missing clips), red (errors)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def replay_label(position: datetime, speed: float) -> str:
    """``REPLAY 09:14:03 ×4`` (site time, to the second): the text of the badge, and of
    tiles."""
    return f"REPLAY {display().clock(position)} ×{speed:g}"
