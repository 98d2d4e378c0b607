"""What the risk map asks of the console (:class:`RiskMapActions`).

No Qt here (``import widgets.risk_map.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from engine.incidents.records import IncidentView
from engine.incidents.service import RiskMap


class RiskMapActions(Protocol):
    """What the pane asks of the console. Both calls block (store reads, the forecast): the
    pane runs them on the query workers, never on the GUI thread."""

    def risk_map(self, hours: int) -> RiskMap:
        """The area around the site with live risk and ``hours`` hours of predictions
        (:meth:`engine.incidents.service.IncidentService.risk_map`)."""
        ...

    def incidents(
        self,
        since: datetime | None,
        until: datetime | None,
        category: str | None,
        limit: int,
    ) -> list[IncidentView]:
        """Incidents from ``since`` up to ``until`` of one ``category`` (None: all), newest
        first, at most ``limit``."""
        ...
