"""What the Incidents pane and the report form ask of the console
(:class:`IncidentListActions`, :class:`ReportFormActions`) and the media it shows.

No Qt here (``import widgets.incidents.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from engine.incidents.records import Filed, IncidentView, ReportView


class ReportFormActions(Protocol):
    """What the form asks of the console. It blocks (classifier, store writer): the form
    runs it off the GUI thread."""

    def file_report(
        self,
        *,
        text: str,
        latitude: float,
        longitude: float,
        at: datetime,
        reporter: str | None = None,
        media: str | None = None,
    ) -> Filed:
        """File one report as the person logged in; ReportInputError names a bad field."""
        ...


@dataclass(frozen=True, slots=True)
class MediaShown:
    """A report's photo or video as the detail shows it: what the camera pipeline found
    (``summary``: people, known and unknown faces), its stored path, and its thumbnail as
    JPEG bytes (None when there is none or it cannot be read)."""

    media_id: int
    report_id: int
    summary: str
    path: str
    thumbnail: bytes | None


class IncidentListActions(ReportFormActions, Protocol):
    """What the pane asks of the console. Every call blocks (a store read, the classifier,
    a wait on the store writer): the pane runs them off the GUI thread."""

    def incidents(
        self,
        since: datetime | None,
        until: datetime | None,
        category: str | None,
        limit: int,
        offset: int,
    ) -> list[IncidentView]:
        """Incidents newest first (see :meth:`IncidentService.incidents`)."""
        ...

    def incident_reports(self, incident_id: int) -> list[ReportView]:
        """The reports of one incident, oldest first."""
        ...

    def incident_media(self, incident_id: int) -> list[MediaShown]:
        """The photos and videos of one incident's reports, with their thumbnails read."""
        ...

    def validate(
        self, incident_id: int, category: str | None = None, severity: int | None = None
    ) -> IncidentView:
        """Confirm (``category`` None) or correct an incident as the person logged in."""
        ...

    def unmerge(self, report_id: int) -> tuple[IncidentView, IncidentView]:
        """Split a report off its incident; returns (old, new)."""
        ...

    def import_file(
        self, path: Path, progress: Callable[[int, int], None] | None = None
    ) -> list[Filed]:
        """File every report of a file, or none (ReportFileError naming each bad line)."""
        ...

    def llm_status(self) -> str:
        """How reports are classified now."""
        ...
