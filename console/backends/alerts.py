"""What the alert stream may do, bound to the running engine: list the alerts, take one (in
progress), write a note on it, close it with a comment (acknowledging is closing) and
escalate it to an incident, as the person logged in.

Every method blocks (a store read, or a wait on the store writer); the console runs them on
the query service's workers (through :class:`console.queries.QtQueryClient`), never on the
GUI thread. An acknowledgement goes through
:func:`engine.alerts.actions.acknowledge_alert`, which checks the acknowledge
permission, stores who and when, audits it, stops the alert's escalation and publishes
``AlertChanged``; with nobody logged in it is refused here first. Escalating an alert to
an incident files its event (or, for an alert of no stored event, a report at its place)
through the engine's incident desk, from any state, and keeps that in the alert's history.
Snoozing a camera's alerts (and ending that early) goes through :func:`engine.alerts.actions.
snooze_camera` and :func:`~engine.alerts.actions.unsnooze_camera` the same way; the
listing carries the snoozes running now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from console.remote_media import RecordingUnavailableError, RemoteMedia, fetched
from console.session import ConsoleSession
from engine.alerts import actions as alert_actions
from engine.alerts.filtering import (
    AlertListRequest,
    AlertRow,
    RiskGate,
    SequenceView,
    first_sequence,
)
from engine.alerts.records import AlertView, alert_event_id, alerts_by_id, deliveries_of
from engine.alerts.rules import RuleSpec, list_rules
from engine.alerts.snoozes import SnoozeView, active_snoozes
from engine.history.events import ClipProbe, CoveringClipsRequest
from engine.incidents.records import Filed
from engine.media import read_small_file
from engine.record.views import (
    EVENT_BEFORE_S,
    FootageView,
    FootageViewError,
    ViewFileRequest,
    footage_around,
)
from engine.runtime import EngineRuntime, place_names
from engine.store.database import Store
from engine.store.event_views import read_event_views
from engine.wording import describe
from widgets.alert_list.api import AlertListPage, AlertListView
from widgets.alerts.api import AlertEvidence, AlertListing, delivery_error_text

RECENT_ALERTS = 100  # the stream lists this many of the newest alerts…
OPEN_ALERTS_LIMIT = 1000  # …and every open one besides (up to this many)


log = logging.getLogger(__name__)


class AlertsBackend:
    """Blocking calls for the alert stream, run on query worker threads (two may run at
    once). Satisfies :class:`widgets.alerts.api.AlertActions`."""

    def __init__(
        self,
        runtime: EngineRuntime,
        store: Store,
        session: ConsoleSession,
        media_root: Path,
        recordings: RemoteMedia | None = None,
    ) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person
        self._media_root = media_root
        self._recordings = recordings  # attached: other machines' files, fetched on demand

    def list_alerts(self) -> AlertListing:
        """The newest alerts and every open one that pass today's low-risk gate (what the
        engine notified), with the errors of their failed webhook deliveries, and how many
        webhooks the engine delivers to."""
        gate = _gate(self._runtime, None, None)
        alerts = {a.alert_id: a for a in _views(self._store, gate, RECENT_ALERTS, False)}
        for alert in _views(self._store, gate, OPEN_ALERTS_LIMIT, True):
            alerts.setdefault(alert.alert_id, alert)
        errors: dict[int, tuple[str, ...]] = {}
        for alert_id, alert in alerts.items():
            if alert.deliveries_failed:
                errors[alert_id] = tuple(
                    delivery_error_text(d.url, d.escalation, d.error)
                    for d in deliveries_of(self._store, alert_id)
                    if not d.delivered
                )
        service = self._runtime.alerts
        ids = self._runtime.site_ids
        snoozes = (
            () if ids is None else tuple(active_snoozes(self._store, ids.site_id, self._now()))
        )
        return AlertListing(
            alerts=tuple(alerts.values()),
            delivery_errors=errors,
            webhooks=0 if service is None else service.webhooks,
            snoozes=snoozes,
            camera_names=place_names(self._runtime.site),
        )

    def _now(self) -> datetime:
        return self._runtime.clock.now()

    def snooze(self, camera: str, minutes: int) -> SnoozeView:
        """Snooze ``camera``'s alerts for ``minutes`` as the person logged in, through
        :func:`engine.alerts.actions.snooze_camera` (blocks on the store writer)."""
        actor = self._session.require_actor("snooze alerts")
        rt = self._runtime
        site_id = rt.site_ids.site_id if rt.site_ids is not None else None
        return alert_actions.snooze_camera(rt.writer, site_id, rt.clock, actor, camera, minutes)

    def unsnooze(self, camera: str) -> SnoozeView:
        """End ``camera``'s snooze as the person logged in (blocks on the store writer)."""
        actor = self._session.require_actor("end a snooze")
        rt = self._runtime
        site_id = rt.site_ids.site_id if rt.site_ids is not None else None
        return alert_actions.unsnooze_camera(rt.writer, site_id, rt.clock, actor, camera)

    def acknowledge(self, alert_id: int, note: str = "") -> AlertView:
        """Acknowledge ``alert_id`` as the person logged in, with their ``note`` (blocks on
        the store writer); raises PermissionDeniedError, UnknownAlertError, ValueError for
        a note too long, or RuntimeError without a live engine."""
        actor = self._session.require_actor("acknowledge alerts")
        alert: AlertView = alert_actions.acknowledge_alert(
            self._runtime.alerts, actor, alert_id, note
        )
        return alert

    def take(self, alert_id: int) -> AlertView:
        """Take ``alert_id`` as the person logged in (in progress; blocks on the writer)."""
        actor = self._session.require_actor("take alerts")
        rt = self._runtime
        return alert_actions.take_alert(rt.writer, rt.bus, rt.clock, actor, alert_id)

    def note(self, alert_id: int, text: str) -> AlertView:
        """Write ``text`` on ``alert_id`` as the person logged in (blocks on the writer)."""
        actor = self._session.require_actor("write notes on alerts")
        rt = self._runtime
        return alert_actions.note_alert(rt.writer, rt.bus, rt.clock, actor, alert_id, text)

    def evidence(self, alert: AlertView) -> AlertEvidence:
        """What raised ``alert``: its event (by id) with the clip covering it, the event's
        picture read here (never on the GUI thread; bounded, regular files only) and the
        event in the words every pane uses."""
        names = place_names(self._runtime.site)
        if alert.event_id is None:
            return self._sequence_evidence(alert, names)
        with self._store.engine.connect() as connection:
            found = read_event_views(connection, [alert.event_id])
        if not found:
            return AlertEvidence(alert.alert_id, caption=f"{alert.title} (its event is gone)")
        view = found[0]
        words = describe(view.kind, view.source, view.detail, names=names, person=view.person)
        snapshot = view.detail.get("snapshot")
        return AlertEvidence(
            alert.alert_id,
            caption=words.summary,
            snapshot=(
                read_small_file(self._file(snapshot), MAX_THUMBNAIL_BYTES)
                if isinstance(snapshot, str) and snapshot
                else None
            ),
            camera=view.camera,
            **self._footage(view.clip_path, view.clip_offset_s, view.camera, view.ts),
        )

    def _file(self, path: str) -> Path:
        return fetched(self._media_root, self._recordings, path)

    def _footage(
        self, clip: str | None, offset_s: float | None, camera: str | None, at: datetime
    ) -> dict[str, Any]:
        """The evidence's footage: the event clip covering it, else a view cut from the
        camera's continuous recording (:mod:`engine.record.views`), which exists from the
        moment the alert is raised (``recording``: it goes on being written)."""
        if clip:
            return {"clip": self._clip(clip), "clip_offset_s": offset_s or 0.0}
        view = _view_around(self._store, self._media_root, self._recordings, camera, at)
        if view is None:
            return {}
        return {"clip": view.path, "clip_offset_s": view.offset_s, "recording": view.recording}

    def _clip(self, path: str) -> Path | None:
        """The clip's file: a view onto the camera's segments cut from them; on an
        attached console fetched from the engine keeping it (None when it cannot be: the
        alert shows its picture instead, and the recordings line of the status bar or the
        log says why)."""
        try:
            return self._clip_file(path)
        except (RecordingUnavailableError, FootageViewError, OSError) as exc:
            log.info("clip %s cannot be played: %s", path, exc)
            return None

    def _clip_file(self, path: str) -> Path:
        fetch = _fetcher(self._recordings)
        return ViewFileRequest(path, self._media_root, fetch).run(self._store)

    def _sequence_evidence(self, alert: AlertView, names: dict[str, str]) -> AlertEvidence:
        """What raised an alert of a rule (no event of its own): its first sequence, with
        the picture taken when the person was confirmed and the clip covering that moment
        (a clip still recording has no row yet: the picture, and the camera to watch)."""
        first = first_sequence(self._store, alert.alert_id)
        if first is None:
            words = describe(alert.kind, alert.source, alert.detail, names=names)
            return AlertEvidence(alert.alert_id, caption=words.summary or alert.title)
        caption = (
            f"{alert.title}: first seen {self._runtime.site.site_time.clock(first.started_at)}"
        )
        clip = _clip_of(self._store, first)
        return AlertEvidence(
            alert.alert_id,
            caption=caption,
            snapshot=(
                read_small_file(self._file(first.snapshot), MAX_THUMBNAIL_BYTES)
                if first.snapshot
                else None
            ),
            camera=first.camera,
            **self._footage(
                None if clip is None else clip[0],
                None if clip is None else clip[1],
                first.camera,
                first.started_at,
            ),
        )

    def escalate_alert(self, alert_id: int, text: str) -> Filed:
        """File alert ``alert_id`` as an incident report with ``text``, as the person logged
        in, whatever its state: its stored event (its own, else its first sequence's), else
        a report at its camera's place (the site's without one); the escalation is kept in
        the alert's history. Raises PermissionDeniedError, UnknownAlertError, ValueError (no
        place known) or RuntimeError without a live engine."""
        actor = self._session.require_actor("escalate an alert to an incident")
        rt = self._runtime
        service = rt.site_services.incidents
        if service is None:
            raise RuntimeError("incidents need a live engine: the alert cannot be escalated")
        event_id = alert_event_id(self._store, alert_id)
        if event_id is not None:
            filed = service.escalate_event(actor, event_id, text)
        else:
            (alert,) = alerts_by_id(self._store, [alert_id]) or (None,)
            if alert is None:
                raise LookupError(f"no alert {alert_id}")
            place = _place_of(rt, alert)
            if place is None:
                raise ValueError(f"alert {alert_id} has no place (no camera or site position)")
            filed = service.file_report(
                actor,
                text=f"{text.strip() or alert.title} [escalated from alert {alert_id}: "
                f"{alert.title}]",
                latitude=place[0],
                longitude=place[1],
                at=alert.raised_at,
                reporter=actor.name,
            )
        alert_actions.record_escalation(
            rt.writer, rt.bus, rt.clock, actor, alert_id, filed.incident.incident_id
        )
        return filed

    def escalate_event(self, event_id: int, text: str) -> Filed:
        """File the alert's stored event ``event_id`` as an incident report with ``text``,
        as the person logged in (blocks on the classifier and the store writer); raises
        PermissionDeniedError, LookupError for an unknown event, or RuntimeError without a
        live engine."""
        actor = self._session.require_actor("escalate an alert to an incident")
        service = self._runtime.site_services.incidents
        if service is None:
            raise RuntimeError("incidents need a live engine: the alert cannot be escalated")
        return service.escalate_event(actor, event_id, text)


def _place_of(runtime: EngineRuntime, alert: AlertView) -> tuple[float, float] | None:
    """Where an alert happened: its first camera's position, else the site's."""
    site = runtime.site
    for camera in site.cameras:
        if camera.id in alert.cameras and camera.geo is not None:
            return camera.geo.lat, camera.geo.lon
    return site.geo_origin.lat, site.geo_origin.lon


def _gate(runtime: EngineRuntime, day: date | None, override: str | None) -> RiskGate:
    service = runtime.alerts
    if override is not None:  # the override decides every class: nothing to ask anyone
        return RiskGate(None, override)
    if service is None:
        return RiskGate(None, override, "no live engine: risk classes unknown, nothing is hidden")
    return service.risk_gate(day, override)


def _views(store: Store, gate: RiskGate, limit: int, open_only: bool) -> list[AlertView]:
    """The newest alerts that pass ``gate``, as the stream shows them."""
    page = AlertListRequest(gate=gate, limit=limit, open_only=open_only).run(store)
    return alerts_by_id(store, [row.alert_id for row in page.rows])


def _clip_of(store: Store, sequence: SequenceView) -> tuple[str, float] | None:
    """The clip covering the start of ``sequence`` (its path relative to the data dir and
    the offset into it), None for a room's sequence or where no clip is stored yet."""
    if sequence.camera is None:
        return None
    probe = ClipProbe(sequence.sequence_id, sequence.camera, sequence.started_at)
    return CoveringClipsRequest((probe,)).run(store).get(sequence.sequence_id)


def _fetcher(recordings: RemoteMedia | None) -> Callable[[Path], Path] | None:
    """What brings a file another machine keeps: on an attached console, its fetch."""
    return recordings.fetch_file if recordings is not None else None


def _view_around(
    store: Store,
    media_root: Path,
    recordings: RemoteMedia | None,
    camera: str | None,
    at: datetime,
    before_s: float = EVENT_BEFORE_S,
) -> FootageView | None:
    """The footage of ``camera`` around ``at`` cut from its continuous recording (from
    ``before_s`` before), None without a camera or footage (said in the log)."""
    if camera is None:
        return None
    request = footage_around(camera, at, media_root, _fetcher(recordings), before_s=before_s)
    try:
        return request.run(store)
    except FootageViewError as exc:
        log.info("no footage of camera %s at %s: %s", camera, at, exc)
        return None


LIST_LEAD_IN_S = 3.0  # a sequence's footage in the alert list starts this long before it
MAX_THUMBNAIL_BYTES = 512 * 1024  # a snapshot is a few tens of kB; anything bigger is not one


class AlertListBackend:
    """Blocking calls for the alert list pane, run on query worker threads. Satisfies
    :class:`widgets.alert_list.api.AlertListActions`: pages of alerts through the engine's
    risk gate (today's classes, a past day's from the provider, or the operator's override),
    with their snapshots read here (never on the GUI thread); acknowledge and label as the
    person logged in; the clip covering a sequence."""

    def __init__(
        self,
        runtime: EngineRuntime,
        store: Store,
        session: ConsoleSession,
        media_root: Path,
        recordings: RemoteMedia | None = None,
    ) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session
        self._media_root = media_root
        self._recordings = recordings  # attached: other machines' files, fetched on demand

    def page(
        self,
        view: AlertListView,
        before: tuple[datetime, int] | None,
        limit: int,
        with_counts: bool,
    ) -> AlertListPage:
        gate = _gate(self._runtime, view.day, view.override)
        page = AlertListRequest(
            gate=gate,
            day=view.day,
            open_only=view.open_only,
            limit=limit,
            before=before,
            with_counts=with_counts,
            site_time=self._runtime.site.site_time,  # the day picked is the site's
        ).run(self._store)
        return AlertListPage(
            page, self._thumbnails(page.rows), camera_names=place_names(self._runtime.site)
        )

    def _thumbnails(self, rows: tuple[AlertRow, ...]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for row in rows:
            for seq in row.sequences:
                if seq.snapshot and seq.snapshot not in out:
                    # Purged by retention (or not a picture at all): no thumbnail.
                    data = read_small_file(self._file(seq.snapshot), MAX_THUMBNAIL_BYTES)
                    if data is not None:
                        out[seq.snapshot] = data
        return out

    def acknowledge(self, alert_id: int, note: str = "") -> AlertView:
        actor = self._session.require_actor("acknowledge alerts")
        alert: AlertView = alert_actions.acknowledge_alert(
            self._runtime.alerts, actor, alert_id, note
        )
        return alert

    def label(self, sequence_id: int, label: str | None) -> int:
        actor = self._session.require_actor("label alert sequences")
        return alert_actions.label_sequence(self._runtime.alerts, actor, sequence_id, label)

    def clip_for(self, sequence: SequenceView) -> Path | None:
        """The clip covering ``sequence`` (None: none was kept), else a view of its start
        cut from the camera's continuous recording; on an attached console fetched from
        the engine keeping it, or RecordingUnavailableError saying why not."""
        hit = _clip_of(self._store, sequence)
        if hit is not None:
            fetch = _fetcher(self._recordings)
            return ViewFileRequest(hit[0], self._media_root, fetch).run(self._store)
        view = _view_around(
            self._store,
            self._media_root,
            self._recordings,
            sequence.camera,
            sequence.started_at,
            before_s=LIST_LEAD_IN_S,
        )
        return None if view is None else view.path

    def _file(self, path: str) -> Path:
        return fetched(self._media_root, self._recordings, path)


class AlertRulesBackend:
    """Blocking calls for the alert rules pane, run on query worker threads: the rules as
    stored, and adding or removing one as the person logged in (the engine checks the
    configure-rules permission, audits it and applies it at once). Satisfies
    :class:`widgets.alert_rules.api.AlertRulesActions`."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session

    def list_rules(self) -> list[RuleSpec]:
        return list_rules(self._store)

    def add_rule(self, rule: RuleSpec) -> RuleSpec:
        actor = self._session.require_actor("add alert rules")
        rt = self._runtime
        return alert_actions.add_rule(rt.alerts, rt.writer, rt.clock, actor, rule)

    def remove_rule(self, name: str) -> None:
        actor = self._session.require_actor("remove alert rules")
        rt = self._runtime
        alert_actions.remove_rule(rt.alerts, rt.writer, rt.clock, actor, name)

    def update_rule(self, name: str, rule: RuleSpec) -> RuleSpec:
        """Change rule ``name`` to ``rule`` as the person logged in."""
        actor = self._session.require_actor("change alert rules")
        rt = self._runtime
        return alert_actions.update_rule(rt.alerts, rt.writer, rt.clock, actor, name, rule)

    def set_handling(self, name: str, instructions: str, comment_required: bool) -> RuleSpec:
        """Set rule ``name``'s operating instructions and whether its alerts close only with
        a comment, as the person logged in."""
        actor = self._session.require_actor("change alert rules")
        rt = self._runtime
        return alert_actions.set_rule_handling(
            rt.alerts, rt.writer, rt.clock, actor, name, instructions, comment_required
        )
