"""What the Events pane asks of the console besides reads (:class:`EventHistoryActions`).

No Qt here (``import widgets.events.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from typing import Protocol

from engine.incidents.records import Filed


class EventHistoryActions(Protocol):
    """What the pane asks of the console besides reads. It blocks (the classifier, a wait on
    the store writer): the pane runs it off the GUI thread."""

    def escalate_event(self, event_id: int, text: str) -> Filed:
        """File stored event ``event_id`` as an incident report with the operator's
        ``text``, as the person logged in; the engine checks the permission."""
        ...
