"""What the Alerts list page asks of the console (:class:`AlertListActions`) and the
frozen view and page it exchanges with it.

No Qt here (``import widgets.alert_list.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from engine.alerts.filtering import AlertPage, SequenceView
from widgets.alerts.api import ClipPending


@dataclass(frozen=True, slots=True)
class AlertListView:
    """What the list shows: alerts of the site's ``day`` (None: every day, newest first), only open
    ones, and the operator's class override (None: the provider's classes)."""

    day: date | None = None
    override: str | None = None
    open_only: bool = False


@dataclass(frozen=True, slots=True)
class AlertListPage:
    page: AlertPage  # engine.alerts.filtering.AlertPage (rows, gate, shown, hidden)
    thumbnails: Mapping[str, bytes]  # snapshot path (as in SequenceView.snapshot) -> JPEG bytes
    camera_names: Mapping[str, str] = field(default_factory=dict)  # key -> the site's name


class AlertListActions(Protocol):
    """Blocking calls, run on query workers (never on the GUI thread)."""

    def page(
        self,
        view: AlertListView,
        before: tuple[datetime, int] | None,
        limit: int,
        with_counts: bool,
    ) -> AlertListPage: ...

    def acknowledge(self, alert_id: int) -> object: ...

    def label(self, sequence_id: int, label: str | None) -> int: ...

    def clip_for(self, sequence: SequenceView) -> Path | ClipPending | None:
        """The clip covering ``sequence``'s start; :class:`ClipPending` while its camera is
        still recording it; None: none was kept."""
        ...
