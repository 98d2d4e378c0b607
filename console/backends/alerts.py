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
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

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
from engine.events import PeopleDetected
from engine.history.events import ClipProbe, CoveringClipsRequest
from engine.incidents.records import Filed
from engine.media import read_small_file
from engine.record.recorder import MAX_CLIP_S, POST_ACTIVITY_S
from engine.record.tracks import ClipTracksError, read_clip_tracks, tracks_media_path
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
from engine.store.models import Camera, Event
from engine.vision.snapshots import SNAPSHOT_MARGIN
from engine.wording import describe
from widgets.alert_list.api import AlertListPage, AlertListView
from widgets.alerts.api import AlertEvidence, AlertListing, ClipPending, delivery_error_text

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
        # Each camera's detection frame size (width, height in pixels), as its detector last
        # told the rules: what places a rule's zone (fractions of that frame) on a snapshot
        # (a crop of it). Written on camera threads, read on query workers (one assignment).
        self._frame_sizes: dict[str, tuple[int, int]] = {}
        runtime.bus.subscribe(PeopleDetected, self._on_people_detected)

    def _on_people_detected(self, event: PeopleDetected) -> None:
        self._frame_sizes[event.camera] = event.frame_size

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
        picture = (
            read_small_file(self._file(snapshot), MAX_THUMBNAIL_BYTES)
            if isinstance(snapshot, str) and snapshot
            else None
        )
        footage = self._footage(view.clip_path, view.clip_offset_s, view.camera, view.ts)
        return AlertEvidence(
            alert.alert_id,
            caption=words.summary,
            snapshot=picture,
            camera=view.camera,
            **footage,
            **self._marks(picture, _box_of(view.detail), view.camera, None),
            **self._pending(footage, view.camera, view.ts, view.ts),
            **self._clip_boxes(footage, view.clip_path, view.ts, view.track_id),
        )

    def _marks(
        self,
        picture: bytes | None,
        box: tuple[float, float, float, float] | None,
        camera: str | None,
        rule_id: object,
    ) -> dict[str, Any]:
        """What to draw on the picture: the person's box in its pixels (the snapshot is a
        crop around ``box``, a box in pixels of the camera's frame), the rule's zone and what
        places it on the picture (the frame's size, where the crop starts in it)."""
        out: dict[str, Any] = {"zone": _rule_zone(self._store, rule_id)}
        if picture is None or box is None:
            return out
        origin = snapshot_origin(box)
        out["box"] = (box[0] - origin[0], box[1] - origin[1], box[2], box[3])
        out["picture_origin"] = origin
        frame = self._frame_sizes.get(camera) if camera is not None else None
        if frame is not None:
            out["frame_size"] = frame
        return out

    def _pending(
        self, footage: dict[str, Any], camera: str | None, at: datetime, last_seen: datetime
    ) -> dict[str, Any]:
        """``clip_ready_in_s`` when no footage could be shown yet, or only the footage so
        far, but its camera is recording it (see :func:`clip_ready_in_s`): the preview asks
        again then, for the whole clip with its people's boxes."""
        if footage.get("clip") is not None and not footage.get("recording"):
            return {}
        return {"clip_ready_in_s": clip_ready_in_s(self._runtime, camera, at, last_seen)}

    def _clip_boxes(
        self, footage: dict[str, Any], clip: str | None, at: datetime, track_id: int | None
    ) -> dict[str, Any]:
        """Where the people are in the footage played, frame by frame: the track sidecar of
        the clip ``clip`` (its media path; None: footage cut without a clip row, no boxes)
        read here, off the GUI thread, and put on the played file's time line (the event at
        ``at`` lies ``clip_offset_s`` into it). A sidecar missing or damaged gives no boxes
        and a quiet note (``boxes_note``), never an error."""
        if footage.get("clip") is None or not clip:
            return {}
        try:
            tracks = read_clip_tracks(self._file(tracks_media_path(clip)))
        except ClipTracksError as exc:
            log.info("no boxes over clip %s: %s", clip, exc)
            return {"boxes_note": _boxes_note(exc)}
        played_from = at - timedelta(seconds=float(footage.get("clip_offset_s") or 0.0))
        shift = (tracks.started_at - played_from).total_seconds()
        return {
            "clip_boxes": tracks.shifted(shift),
            "clip_size": (tracks.width, tracks.height),
            "track_id": track_id,
        }

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
        # A loitering sequence starts long after its person was confirmed, on a frame
        # without a snapshot: the picture is the one taken when its track was confirmed.
        trigger = trigger_detection(self._store, first.camera, first.track_id, first.started_at)
        snapshot = first.snapshot or (trigger[0] if trigger is not None else None)
        picture = read_small_file(self._file(snapshot), MAX_THUMBNAIL_BYTES) if snapshot else None
        box = trigger[1] if trigger is not None and trigger[0] == snapshot else None
        footage = self._footage(
            None if clip is None else clip[0],
            None if clip is None else clip[1],
            first.camera,
            first.started_at,
        )
        return AlertEvidence(
            alert.alert_id,
            caption=caption,
            snapshot=picture,
            camera=first.camera,
            **footage,
            **self._marks(picture, box, first.camera, alert.detail.get("rule_id")),
            **self._pending(footage, first.camera, first.started_at, first.last_seen_at),
            **self._clip_boxes(
                footage, None if clip is None else clip[0], first.started_at, first.track_id
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


def _boxes_note(problem: ClipTracksError) -> str:
    """What the preview says, quietly, when it draws no boxes over a clip."""
    if problem.missing:
        return "No boxes over this clip: none were kept with it"
    return "No boxes over this clip: the file of its boxes is damaged"


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


CLIP_WRITE_S = 2.0  # a clip or segment is written, indexed and readable this soon after its end
CLIP_OVERDUE_S = 20.0  # footage this late after its expected end is not coming: none was kept


def clip_ready_in_s(
    runtime: EngineRuntime, camera: str | None, at: datetime, last_seen: datetime
) -> float | None:
    """About how many seconds until footage of camera ``camera`` covering ``at`` (activity
    seen until ``last_seen``) is finalised and playable, or None when none is coming (no
    camera of this site, or it is overdue by :data:`CLIP_OVERDUE_S`: nothing was kept).

    The camera's event clip ends :data:`~engine.record.recorder.POST_ACTIVITY_S` after the
    last activity, and at most :data:`~engine.record.recorder.MAX_CLIP_S` after it began
    (at or before ``at``); with continuous recording, the segment holding ``at`` ends at
    most ``segment_s`` (plus a keyframe) after ``at``. Whichever comes first, plus the time
    to write it (≤ 0: due now, not yet found)."""
    if camera is None or all(c.id != camera for c in runtime.site.cameras):
        return None
    clip_end = min(
        at + timedelta(seconds=MAX_CLIP_S), last_seen + timedelta(seconds=POST_ACTIVITY_S)
    )
    recording = runtime.site.recording_of(camera)
    if recording.continuous:
        clip_end = min(clip_end, at + timedelta(seconds=recording.segment_s + 1.0))
    remaining = (clip_end - runtime.clock.now()).total_seconds() + CLIP_WRITE_S
    if remaining < -CLIP_OVERDUE_S:
        return None
    return float(math.ceil(remaining))


def trigger_detection(
    store: Store, camera: str | None, track_id: int | None, at: datetime
) -> tuple[str | None, tuple[float, float, float, float] | None] | None:
    """The detection that confirmed track ``track_id`` of camera ``camera`` (a key) at or
    before ``at``, from its ``person.appeared`` event: its snapshot (data-dir relative,
    None: none written) and the person's box (x, y, w, h in pixels of the camera's
    detection frame). None without one, or when that track had left before ``at`` (then
    the sequence's person is not the camera's track: someone the sensing rooms placed
    there). Track ids are unique per camera across runs; the latest before ``at`` is taken."""
    if camera is None or track_id is None:
        return None
    with store.sessions() as session:
        row = session.execute(
            select(Event.detail, Event.camera_id)
            .join(Camera, Camera.id == Event.camera_id)
            .where(
                Camera.key == camera,
                Event.track_id == track_id,
                Event.kind == "person.appeared",
                Event.ts <= at + timedelta(seconds=1),
            )
            .order_by(Event.ts.desc(), Event.id.desc())
            .limit(1)
        ).first()
        left = row is not None and session.scalar(
            select(Event.id)
            .where(
                Event.camera_id == row.camera_id,
                Event.track_id == track_id,
                Event.kind == "person.left",
                Event.ts < at - timedelta(seconds=1),
            )
            .limit(1)
        )
    detail = None if row is None or left else row.detail
    if not isinstance(detail, dict):
        return None
    snapshot = detail.get("snapshot")
    return (snapshot if isinstance(snapshot, str) and snapshot else None), _box_of(detail)


def snapshot_origin(box: tuple[float, float, float, float]) -> tuple[float, float]:
    """Where in the frame (pixels) the snapshot of a person at ``box`` starts: the engine
    crops the box with a margin of :data:`~engine.vision.snapshots.SNAPSHOT_MARGIN` of its
    size on each side, clipped to the frame (whose left and top edges are at 0)."""
    x, y, w, h = box
    return float(round(max(0.0, x - w * SNAPSHOT_MARGIN))), float(
        round(max(0.0, y - h * SNAPSHOT_MARGIN))
    )


def _box_of(detail: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """An event's ``box`` (x, y, w, h in pixels), None without a well-formed one."""
    box = detail.get("box")
    if not isinstance(box, list | tuple) or len(box) != 4:
        return None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in box):
        return None
    x, y, w, h = (float(v) for v in box)
    return (x, y, w, h) if w > 0 and h > 0 else None


def _rule_zone(store: Store, rule_id: object) -> tuple[tuple[float, float], ...] | None:
    """Rule ``rule_id``'s zone (fractions of its camera's frame); None: no such rule, or
    its zone is the whole view."""
    if not isinstance(rule_id, int):
        return None
    for rule in list_rules(store):
        if rule.rule_id == rule_id:
            return rule.zone
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

    def clip_for(self, sequence: SequenceView) -> Path | ClipPending | None:
        """The clip covering ``sequence`` (None: none was kept), else a view of its start
        cut from the camera's continuous recording, else, while its camera is still
        recording it, how long until it is ready (:class:`ClipPending`); on an attached
        console fetched from the engine keeping it, or RecordingUnavailableError saying
        why not."""
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
        if view is not None:
            return view.path
        ready_in_s = clip_ready_in_s(
            self._runtime, sequence.camera, sequence.started_at, sequence.last_seen_at
        )
        return None if ready_in_s is None else ClipPending(ready_in_s)

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
