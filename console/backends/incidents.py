"""What the incident panes may do, bound to the running engine: read the risk map, the
incidents and their reports; file a report (the form), import a file of reports, escalate a
stored engine event; validate or correct an incident and split a wrongly merged report off.

Every method blocks (a store read, the H3 grid, a classifier, a wait on the store writer):
the console runs them on the query service's workers (through
:class:`console.queries.QtQueryClient`), never on the GUI thread. Changes go through
:class:`engine.incidents.service.IncidentService` (``runtime.site_services.incidents``, on a live
engine only) as the person logged in; the engine checks their permission (filing needs
``file_report``, validating, correcting and un-merging ``label``) and audits the change. With
nobody logged in a change is refused here first; without a live engine it raises
RuntimeError saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from console.session import ConsoleSession
from engine.data_dirs import data_dir
from engine.incidents.records import (
    Filed,
    IncidentView,
    ReportView,
    incident_media,
    incident_reports,
    list_incidents,
)
from engine.incidents.service import IncidentService, RiskMap
from engine.incidents.site_plan import (
    PinPlace,
    PlanImage,
    SitePlanShown,
    SitePlanView,
    check_plan_image,
    load_site_plan,
    site_plan_shown,
)
from engine.runtime import EngineRuntime
from engine.store.database import Store
from widgets.incidents.api import MediaShown

NO_ENGINE_TEXT = "incidents need a live engine (this console runs none): {what} is not possible"
ATTACHED_TEXT = (
    "{what} needs the incident service, which runs on the site's engines, not in this "
    "attached console"
)


class IncidentsBackend:
    """Blocking calls for the risk map, the incident list, the report form and the
    escalation actions of the alert stream and the event history; run on query worker
    threads (two may run at once). Satisfies :class:`widgets.risk_map.api.RiskMapActions`,
    :class:`widgets.incidents.api.IncidentListActions`,
    :class:`widgets.incidents.api.ReportFormActions` and
    :class:`widgets.events.api.EventHistoryActions`."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person

    def _service(self, what: str) -> IncidentService:
        service = self._runtime.site_services.incidents
        if service is None:
            text = ATTACHED_TEXT if self._runtime.attached else NO_ENGINE_TEXT
            raise RuntimeError(text.format(what=what))
        return service

    # -- reads -----------------------------------------------------------------------------
    def risk_map(self, hours: int = 24) -> RiskMap:
        """The area around the site with its live and predicted risk for the next ``hours``
        hours (builds the H3 grid: tens of milliseconds)."""
        return self._service("the risk map").risk_map(hours=hours)

    def site_plan(self) -> SitePlanShown | None:
        """The site's plan for the map, with its picture's bytes (None: no plan, or no
        site in the store yet). A store read and a bounded file read."""
        ids = self._runtime.site_ids
        if ids is None:
            return None
        origin = self._runtime.site.geo_origin
        return site_plan_shown(self._store, ids.site_id, (origin.lat, origin.lon), data_dir())

    def check_plan_image(self, path: Path) -> PlanImage:
        """The picture an admin chose for the plan, checked (SitePlanError names what is
        wrong): the pin dialog shows it. A bounded file read."""
        return check_plan_image(Path(path))

    def pin_site_plan(self, path: Path, pins: tuple[PinPlace, PinPlace]) -> SitePlanView:
        """Make the picture at ``path`` the site's plan, pinned by ``pins``, as the person
        logged in (the change-settings permission; audited). SitePlanError names a bad file
        or pin; PermissionDeniedError, NotLoggedInError; RuntimeError without an engine."""
        actor = self._session.require_actor("pin the site plan")
        writer, ids = self._runtime.writer, self._runtime.site_ids
        if writer is None or ids is None:
            raise RuntimeError(NO_ENGINE_TEXT.format(what="pinning the site plan"))
        origin = self._runtime.site.geo_origin
        return load_site_plan(
            writer,
            actor=actor,
            site_id=ids.site_id,
            centre=(origin.lat, origin.lon),
            source=Path(path),
            pins=pins,
            at=self._runtime.clock.now(),
            root=data_dir(),
        )

    def incidents(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        category: str | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[IncidentView]:
        """Incidents newest first, from ``since`` up to (excluding) ``until``, of one
        ``category`` (None: any), ``limit`` of them after skipping ``offset``. A store read:
        it works whether or not the engine's incident desk runs."""
        return list_incidents(
            self._store, since=since, until=until, category=category, limit=limit, offset=offset
        )

    def incident_reports(self, incident_id: int) -> list[ReportView]:
        """The reports of ``incident_id``, oldest first (UnknownIncidentError if none)."""
        return incident_reports(self._store, incident_id)

    def incident_media(self, incident_id: int) -> list[MediaShown]:
        """The photos and videos of ``incident_id``'s reports with what the camera pipeline
        found in them, and their thumbnails read from the data dir (None when unreadable)."""
        shown = []
        root = data_dir()
        for media in incident_media(self._store, incident_id):
            thumbnail = None
            if media.thumbnail_path:
                try:
                    thumbnail = (root / media.thumbnail_path).read_bytes()
                except OSError:
                    thumbnail = None  # deleted or unreadable: the caption still says what
            shown.append(
                MediaShown(media.media_id, media.report_id, media.summary(), media.path, thumbnail)
            )
        return shown

    def llm_status(self) -> str:
        """How reports are classified now ("LLM classifier configured…" or why not)."""
        return self._service("classifying reports").llm_status()

    # -- changes (as the person logged in) -------------------------------------------------
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
        """File one report from the form (``at`` timezone-aware; ``media`` a photo or video
        path). Raises ReportInputError naming a bad field, the media's error for an unusable
        file, PermissionDeniedError, NotLoggedInError, or RuntimeError without an engine."""
        actor = self._session.require_actor("file an incident report")
        return self._service("filing a report").file_report(
            actor,
            text=text,
            latitude=latitude,
            longitude=longitude,
            at=at,
            reporter=reporter,
            media=media,
        )

    def import_file(
        self, path: Path, progress: Callable[[int, int], None] | None = None
    ) -> list[Filed]:
        """File every report of a CSV / JSON-lines file or none: ReportFileError lists
        every bad line. ``progress(done, total)`` is called on this worker thread."""
        actor = self._session.require_actor("import incident reports")
        return self._service("importing reports").import_file(actor, Path(path), progress)

    def escalate_event(self, event_id: int, text: str) -> Filed:
        """Turn stored engine event ``event_id`` into an incident report with the
        operator's ``text`` (its time and its camera's place). LookupError for an unknown
        event."""
        actor = self._session.require_actor("escalate an event to an incident")
        return self._service("escalating an event").escalate_event(actor, event_id, text)

    def validate(
        self, incident_id: int, category: str | None = None, severity: int | None = None
    ) -> IncidentView:
        """Confirm ``incident_id``'s category (``category`` None) or correct it (another
        category, ``severity`` 1–5 optional). ValueError for an unknown category,
        UnknownIncidentError for an unknown incident."""
        actor = self._session.require_actor("validate incidents")
        return self._service("validating an incident").validate(
            actor, incident_id, category=category, severity=severity
        )

    def unmerge(self, report_id: int) -> tuple[IncidentView, IncidentView]:
        """Split report ``report_id`` off its incident into a new one; returns (old, new).
        UnmergeError if it is its incident's only report."""
        actor = self._session.require_actor("un-merge incident reports")
        return self._service("un-merging a report").unmerge(actor, report_id)
