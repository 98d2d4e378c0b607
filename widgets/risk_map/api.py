"""What the risk map asks of the console (:class:`RiskMapActions`).

No Qt here (``import widgets.risk_map.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from engine.incidents.records import IncidentView
from engine.incidents.service import RiskMap
from engine.incidents.site_plan import PinPlace, PlanImage, SitePlanShown, SitePlanView


class RiskMapActions(Protocol):
    """What the pane asks of the console. Every call blocks (store reads, the forecast, file
    reads, the store writer): the pane runs them on the query workers, never on the GUI
    thread."""

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

    def site_plan(self) -> SitePlanShown | None:
        """The site's plan with its picture's bytes (None: no plan)
        (:func:`engine.incidents.site_plan.site_plan_shown`)."""
        ...


@runtime_checkable
class SitePlanActions(RiskMapActions, Protocol):
    """What an admin's pin dialog asks of the console besides the map's reads (the
    console's incident backend offers both; a read-only map may offer only the reads)."""

    def check_plan_image(self, path: Path) -> PlanImage:
        """The picture at ``path`` checked for use as the plan (SitePlanError names what is
        wrong with it)."""
        ...

    def pin_site_plan(self, path: Path, pins: tuple[PinPlace, PinPlace]) -> SitePlanView:
        """Make the picture at ``path`` the site's plan pinned by ``pins``, as the person
        logged in (who needs the change-settings permission; audited)."""
        ...
