"""The alert service: turns detections into sequences and alerts by the admin's rules, raises
alerts for falls, notifies (bus, webhooks) when an alert passes the low-risk gate, escalates
those nobody acknowledged in time, and takes acknowledgements and labels.

::

    PeopleDetected (camera worker) / SensingUpdated (fusion thread)
        └─▶ SequenceBuilder (rules: zone, loitering, armed schedule; see .sequences)
              └─▶ CreateSequence / ExtendSequence (store writer)
                    └─▶ SequenceAdded on the bus (console: the alert list refreshes)
                    └─▶ the first time one of an alert's sequences passes the gate (today's
                        risk classes: very_low needs max_conf ≥ 0.60, low ≥ 0.45; no
                        classes: everything passes), AlertRaised + webhooks, and the
                        alert escalates if nobody acknowledges it. A sequence hidden on a
                        low-risk day notifies nobody; if later detections raise its
                        confidence past the threshold, it notifies then. A sequence of a
                        camera whose alerts are snoozed (see .snoozes) notifies nobody
                        while the snooze runs (checked in its command's transaction).

    SensingRecord "sensing.fall_detected" (fusion thread)
        └─▶ RaiseAlert (store writer; the fusion thread never waits)
              └─▶ AlertRaised on the bus (console: alert stream, sound)
                  └─▶ WebhookDispatcher (a worker per webhook: JSON POST, timeout, one retry)
                        └─▶ RecordDelivery (outcome stored) + AlertDelivered on the bus
    "alert-escalation" thread, once a second: open alerts older than escalate_after_s (120 s)
        └─▶ EscalateAlert ─▶ AlertChanged("escalated") + webhooks again ("escalated": true)
    MediaWriteFailed / MediaWriteRecovered (clip writers, camera workers, face worker,
    sensing recorders)
        └─▶ RecordingAlerts (see .recording): "Recording failing on camera …: disk full"
            or "… in sensing room …", one alert per place while its recording fails,
            acknowledged by the engine when it is written again; a gap in a camera's
            continuous recording (RecordingGap) of at least its gap_alert_s: a warning
    CameraStatusChanged (camera worker): offline, failing or without footage for
    camera_offline_s (60 s; checked on "alert-escalation")
        └─▶ RaiseAlertOnce (a warning, "camera") ─▶ AlertRaised + webhooks; back online (or
            stopped) ─▶ AcknowledgeAlert by the engine ("engine:camera-watch", noted)
    acknowledge(actor, id) (a console worker, the CLI)
        └─▶ AcknowledgeAlert (guarded: acknowledge permission; audited) ─▶ AlertChanged

A webhook that hangs or answers 500 delays nothing: deliveries run on the dispatcher's own
threads and their failures are stored with the alert and published (the console shows them).
Alerts still open when the engine starts (from an earlier run) are escalated on the same
schedule, counted from when they were raised.

Threads: bus handlers run on the publisher's thread and only submit to the writer; the rest
runs on the writer's thread (done callbacks), the dispatcher's workers and "alert-escalation".
:meth:`acknowledge` blocks on the writer: call it off the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any, Final

from engine.access import Actor, Role
from engine.alerts.filtering import AlertListRequest, RiskGate, passes
from engine.alerts.recording import RecordingAlerts, submit_then
from engine.alerts.records import (
    AcknowledgeAlert,
    AlertView,
    EscalateAlert,
    RaiseAlert,
    RaiseAlertOnce,
    RaisedOnce,
    RecordDelivery,
    list_alerts,
)
from engine.alerts.risk_classes import STATE_PENDING, RiskClassCache
from engine.alerts.rules import list_rules
from engine.alerts.sequences import (
    GROUP_WINDOW_S,
    CreateSequence,
    ExtendSequence,
    LabelSequence,
    SequenceBuilder,
    SequenceExtended,
    SequenceStored,
)
from engine.alerts.webhooks import DeliveryOutcome, WebhookDispatcher, WebhookTarget
from engine.bus import EventBus
from engine.clock import Clock
from engine.events import (
    CameraStatus,
    CameraStatusChanged,
    Event,
    MediaWriteFailed,
    MediaWriteRecovered,
    PeopleDetected,
    PeoplePlaced,
    PeopleSensedInView,
    RecordingGap,
    to_console,
)
from engine.gestures.worker import GestureDetected
from engine.sensing.service import SensingRecord, SensingUpdated
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread
from engine.text import printable

log = logging.getLogger(__name__)

ESCALATE_AFTER_S: Final = 120.0  # an unacknowledged alert escalates after two minutes
CHECK_EVERY_S: Final = 1.0
NOTIFIED_KEPT: Final = 10_000
CAMERA_OFFLINE_S: Final = 60.0  # a camera down this long raises an alert
CAMERA_WATCH: Final = Actor("camera-watch", frozenset({Role.ADMIN}), "engine")
_DOWN: Final = frozenset({CameraStatus.OFFLINE, CameraStatus.ERROR, CameraStatus.NO_FOOTAGE})
_UP: Final = frozenset({CameraStatus.ONLINE, CameraStatus.STOPPED})
RULES_RELOAD_S: Final = 30.0  # rules changed by the CLI (another process) apply this soon


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    """A new alert (any thread)."""

    alert: AlertView


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class AlertChanged(Event):
    """An alert was ``acknowledged`` or ``escalated`` (any thread)."""

    alert: AlertView
    change: str


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class SequenceAdded(Event):
    """A sequence was stored (``new_alert``: it started alert ``alert``) or grew past the
    gate; ``shown``: it passes today's low-risk gate and its camera's alerts are not
    snoozed (any thread)."""

    alert: AlertView
    sequence_id: int
    camera: str | None
    max_conf: float | None
    new_alert: bool
    shown: bool


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class AlertDelivered(Event):
    """A webhook delivery of alert ``alert_id`` ended: ``delivered`` or not, with the masked
    ``url``, attempts and the error (any thread)."""

    alert_id: int
    escalation: bool
    url: str
    delivered: bool
    attempts: int
    error: str | None


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class AlertProblem(Event):
    """An alert could not be raised or escalated (the store refused it): ``message``."""

    message: str


@dataclass(slots=True)
class _CameraDown:
    """A camera that is down: since when (engine monotonic s and wall time), its latest
    status and words, and the alert it raised (once ``camera_offline_s`` passed)."""

    since_s: float
    since: datetime
    status: CameraStatus
    detail: str
    alert_id: int | None = None
    raising: bool = False
    handed_over: bool = False  # another engine took the camera while its alert was stored


class AlertService:
    """See the module docstring. ``webhooks``: where alerts are POSTed; ``escalate_after_s``:
    how long an alert may stay unacknowledged; ``site_time``: the site's zone, in which
    rules' armed hours are read (the engine passes its site file's)."""

    def __init__(
        self,
        *,
        bus: EventBus,
        writer: StoreWriter,
        store: Store,
        clock: Clock,
        webhooks: Sequence[WebhookTarget] = (),
        escalate_after_s: float = ESCALATE_AFTER_S,
        site: str | None = None,
        risk_classes: RiskClassCache | None = None,
        group_window_s: float = GROUP_WINDOW_S,
        site_time: SiteTime = UTC_TIME,
        camera_offline_s: float = CAMERA_OFFLINE_S,
        camera_names: Mapping[str, str] | None = None,
    ) -> None:
        self._bus = bus
        self._writer = writer
        self._store = store
        self._clock = clock
        self._site = site
        self._site_time = site_time
        self.escalate_after_s = escalate_after_s
        self._dispatcher = (
            WebhookDispatcher(webhooks, on_outcome=self._on_outcome, now=clock.now)
            if webhooks
            else None
        )
        self._open: dict[int, float] = {}  # alert id → engine monotonic time it was raised
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.raised = 0
        self.risk_classes = risk_classes
        self.builder = SequenceBuilder(
            site=site,
            site_time=site_time,
            group_window_s=group_window_s,
            place_names=dict(camera_names or {}),
        )
        self._sequences: dict[str, tuple[int, str | None]] = {}  # seq key → alert, camera
        # Alerts notified (at most once each); the newest NOTIFIED_KEPT, in order: only an
        # alert with live sequences can pass the gate later, and those are recent.
        self._notified: dict[int, None] = {}
        self._rules_loaded_at = -1e9
        # Open alerts of earlier runs (id → raised at): whether they passed the gate then is
        # not stored, so each escalates only if it passes today's (hidden ones never do).
        self._taken_over: dict[int, datetime] = {}
        self.sequences = 0
        self.camera_offline_s = camera_offline_s  # 0: cameras never raise alerts
        self._camera_names = dict(camera_names or {})
        self._cameras_down: dict[str, _CameraDown] = {}  # under the lock
        self.recording = RecordingAlerts(
            writer=writer,
            clock=clock,
            raised=self._raised,
            cleared=self._cleared,
            problem=self._problem,
            site=site,
            camera_names=self._camera_names,
            site_time=site_time,
        )

    def set_place_names(self, names: Mapping[str, str]) -> None:
        """The names of the site's places after its cameras changed (new alerts, and the
        recording alerts, word them so)."""
        with self._lock:
            self._camera_names.update(names)  # in place: the recording alerts share it
            self.builder.place_names = {**self.builder.place_names, **names}

    @property
    def webhooks(self) -> int:
        return 0 if self._dispatcher is None else len(self._dispatcher.targets)

    def start(self) -> None:
        """Take over the open alerts of earlier runs, listen for events (after the store
        writer has been attached to the bus), start the webhook workers and the escalation
        thread. Reads the store: not on the GUI thread."""
        now_wall, now_s = self._clock.now(), self._clock.monotonic()
        for alert in list_alerts(self._store, open_only=True, limit=1000):
            self._remember_notified(alert.alert_id)
            if alert.escalated_at is None:
                self._taken_over[alert.alert_id] = alert.raised_at
                age = (now_wall - alert.raised_at).total_seconds()
                self._open[alert.alert_id] = now_s - max(age, 0.0)
        self.reload_rules()
        if self.risk_classes is not None:
            self.risk_classes.start()
        # On Event, like the store writer (attached first): the bus calls handlers of one
        # type in subscription order, so the fall's own row is queued before its alert,
        # which links to it.
        self._unsubscribe = self._bus.subscribe(Event, self._on_event)
        if self._dispatcher is not None:
            self._dispatcher.start()
        self._thread = SupervisedThread(
            self._run, name="alert-escalation", stop=self._stop, clock=self._clock
        )
        self._thread.start()

    def start_reading(self) -> None:
        """For a console attached to a shared site (``watchfloor --attach``): the rules and
        today's risk classes only, for its lists. The site's engines raise, escalate and
        deliver alerts; this service acknowledges and labels through the console's writer."""
        self.reload_rules()
        if self.risk_classes is not None:
            self.risk_classes.start()

    def stop(self) -> None:
        """Stop listening and escalating (live sequences write their last detections);
        webhook deliveries in flight get a few seconds."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        for command in self.builder.flush_all():
            self._submit_sequence(command)
        if self.risk_classes is not None:
            self.risk_classes.stop()
        if self._dispatcher is not None:
            self._dispatcher.stop(5.0)

    def open_alerts(self) -> int:
        with self._lock:
            return len(self._open)

    def acknowledge(self, actor: Actor, alert_id: int, note: str = "") -> AlertView:
        """``actor`` acknowledges the alert, with their ``note`` (kept in the audit trail):
        checked (acknowledge permission) and audited by the writer; raises
        PermissionDeniedError or UnknownAlertError. Blocks on the writer."""
        alert: AlertView = self._writer.execute(
            AcknowledgeAlert(alert_id=alert_id, at=self._clock.now(), actor=actor, note=note)
        )
        with self._lock:
            self._open.pop(alert_id, None)
        self._bus.publish(AlertChanged(at=self._clock.now(), alert=alert, change="acknowledged"))
        return alert

    def label(self, actor: Actor, sequence_id: int, label: str | None) -> int:
        """``actor`` labels a sequence a true or false alarm (None clears it): checked (label
        permission) and audited by the writer; returns its alert's id. Blocks on the
        writer."""
        alert_id: int = self._writer.execute(
            LabelSequence(sequence_id=sequence_id, label=label, at=self._clock.now(), actor=actor)
        )
        return alert_id

    def reload_rules(self) -> None:
        """Read the rules again (the CLI changes them from another process). Reads the
        store: not on the GUI thread."""
        self.builder.set_rules(list_rules(self._store))
        self._rules_loaded_at = self._clock.monotonic()

    def risk_gate(self, day: date | None = None, override: str | None = None) -> RiskGate:
        """The gate for a list of ``day`` (None: today's classes) with an operator's
        ``override``: the classes (None: fail open) and a sentence saying where they come
        from. With an override that is all: it decides every camera's class, so the
        provider is not asked. Otherwise it may ask the provider for a past day's classes
        (up to its timeout): not on the GUI thread."""
        if override is not None:
            return RiskGate(None, override)
        if self.risk_classes is None:
            return RiskGate(None, override, "no risk-class provider: nothing is hidden")
        today = self._clock.now().date()
        classes = self.risk_classes.classes(None if day is None or day == today else day)
        status = self.risk_classes.status()
        note = status.describe(self._site_time)
        if day is not None and day != today:
            error = self.risk_classes.last_error_for(day)
            if classes is None and error:
                note = f"classes of {day.isoformat()} unavailable ({error}): nothing is hidden"
            elif classes is not None:
                note = f"classes of {day.isoformat()} from the {status.provider}"
        return RiskGate(classes, override, note)

    def _shown_today(self, camera: str | None, max_conf: float | None) -> bool:
        if self.risk_classes is None:
            return True
        classes = self.risk_classes.classes()
        return classes is None or passes(max_conf, classes.get(camera) if camera else None)

    # --- raising ------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CameraStatusChanged):
            self._camera_status(event)
            return
        if isinstance(event, MediaWriteFailed | MediaWriteRecovered | RecordingGap):
            self.recording.on_event(event)
            return
        if isinstance(event, PeopleDetected):
            for command in self.builder.observe_camera(
                event.camera, event.at, event.frame_size, event.sightings
            ):
                self._submit_sequence(command)
            return
        if isinstance(event, GestureDetected):
            if event.alerting:
                for command in self.builder.observe_gesture(
                    event.camera, event.at, event.track_id, event.gesture, event.confidence
                ):
                    self._submit_sequence(command)
            return
        if isinstance(event, PeopleSensedInView):
            # Someone a room senses where the camera's picture shows the floor, while the
            # camera does not see them: its rules fire on either sense.
            for command in self.builder.observe_sensed(event.camera, event.at, event.people):
                self._submit_sequence(command)
            return
        if isinstance(event, PeoplePlaced):
            # Someone a camera places in the room while the room does not sense them: a
            # room's rule fires on either sense (fusion's person keys, negated, never meet
            # a blob's id).
            people = [-key for key in event.people]
            for command in self.builder.observe_room(event.room, event.at, people):
                self._submit_sequence(command)
            return
        if isinstance(event, SensingUpdated):
            snapshot = event.snapshot
            blobs = [b.track_id for b in snapshot.blobs if not b.coasting]
            if blobs:
                for command in self.builder.observe_room(snapshot.room_id, event.at, blobs):
                    self._submit_sequence(command)
            return
        if not isinstance(event, SensingRecord) or event.kind != "sensing.fall_detected":
            return
        name = event.detail.get("name")
        who = f"{name} " if name else "someone "
        room = event.room
        room_name = printable(self._camera_names.get(room) or room)
        command = RaiseAlert(
            raised_at=event.at,
            kind="fall",
            source=f"sensing:{room}",
            severity="critical",
            title=f"Fall: {who}fell in {room_name} and has not got up",
            detail={**event.detail, "room": room, "site": self._site},
            event_kind=event.kind,
            track_id=event.blob_id,
            person=event.person,
        )
        self._submit(command, self._raised)

    # --- cameras ------------------------------------------------------------------------

    def _camera_status(self, event: CameraStatusChanged) -> None:
        """Note when a camera goes down and when it is back (a camera worker's thread)."""
        camera = event.camera_id
        with self._lock:
            down = self._cameras_down.get(camera)
            if event.handed_over:
                # Another engine runs it now: an outage goes on there (its alert, if raised,
                # stays open for that engine to keep); nothing is cleared or raised here.
                if down is not None and down.raising:
                    down.handed_over = True  # its alert is being stored: forgotten after
                else:
                    self._cameras_down.pop(camera, None)
                    if down is not None and down.alert_id is not None:
                        self._open.pop(down.alert_id, None)  # escalated there, not twice
                return
            if event.status in _DOWN:
                if down is None:
                    self._cameras_down[camera] = _CameraDown(
                        self._clock.monotonic(), event.since, event.status, event.detail
                    )
                else:
                    down.status, down.detail = event.status, event.detail
                return
            if event.status not in _UP or down is None:
                return  # starting again: still down until it is online
            del self._cameras_down[camera]
            alert_id = down.alert_id
        if alert_id is not None:
            self._clear_camera_alert(camera, alert_id, event.status)

    def check_cameras(self) -> None:
        """Raise an alert for each camera down for ``camera_offline_s`` or longer (the
        escalation thread calls it every second)."""
        if self.camera_offline_s <= 0:
            return
        now_s = self._clock.monotonic()
        with self._lock:
            due = [
                (camera, down)
                for camera, down in self._cameras_down.items()
                if down.alert_id is None
                and not down.raising
                and now_s - down.since_s >= self.camera_offline_s
            ]
            for _camera, down in due:
                down.raising = True
        for camera, down in due:
            name = self._camera_names.get(camera, camera)
            words = {
                CameraStatus.OFFLINE: "offline",
                CameraStatus.ERROR: "cannot be opened",
                CameraStatus.NO_FOOTAGE: "has no footage",
            }[down.status]
            minutes = max(1, round((now_s - down.since_s) / 60))
            why = f": {down.detail}" if down.detail else ""
            # Once per outage across the site: an engine taking over a dead one's camera (or
            # a restarted engine) finds its alert still open and keeps it.
            command = RaiseAlertOnce(
                raised_at=self._clock.now(),
                kind="camera",
                source=f"camera:{camera}",
                severity="warning",
                title=f"Camera {name} {words} for {minutes} min{why}",
                detail={
                    "camera": camera,
                    "status": down.status.value,
                    "detail": down.detail,
                    "since": down.since.isoformat(),
                    "site": self._site,
                },
                event_kind=f"camera.{down.status.value}",
            )
            self._submit(command, partial(self._camera_alert_raised, camera))

    def _camera_alert_raised(self, camera: str, once: RaisedOnce) -> None:
        alert = once.alert
        handed_over = False
        with self._lock:
            down = self._cameras_down.get(camera)
            if down is not None and down.handed_over:
                del self._cameras_down[camera]  # another engine keeps the outage and alert
                handed_over, down = True, None
            if down is not None:
                down.alert_id, down.raising = alert.alert_id, False
            if not once.new and not handed_over:  # told when raised; escalated here now
                self._remember_notified(alert.alert_id)
                if alert.escalated_at is None:
                    age = (self._clock.now() - alert.raised_at).total_seconds()
                    self._open[alert.alert_id] = self._clock.monotonic() - max(age, 0.0)
        if once.new:
            self._raised(alert)  # (handed over meanwhile: told, escalated by the new holder)
            if handed_over:
                with self._lock:
                    self._open.pop(alert.alert_id, None)
        if down is None and not handed_over:  # it came back while the alert was being stored
            self._clear_camera_alert(camera, alert.alert_id, CameraStatus.ONLINE)

    def _clear_camera_alert(self, camera: str, alert_id: int, status: CameraStatus) -> None:
        """The camera is back (or stopped on purpose): its alert is acknowledged by the
        engine, with a note saying so."""
        name = self._camera_names.get(camera, camera)
        back = "is back online" if status is CameraStatus.ONLINE else "was stopped"
        note = f"Camera {name} {back} at {self._site_time.clock(self._clock.now())}"
        command = AcknowledgeAlert(
            alert_id=alert_id, at=self._clock.now(), actor=CAMERA_WATCH, note=note
        )
        self._submit(command, self._cleared)

    def _cleared(self, alert: AlertView) -> None:
        with self._lock:
            self._open.pop(alert.alert_id, None)
        self._bus.publish(AlertChanged(at=self._clock.now(), alert=alert, change="acknowledged"))

    def _submit(self, command: Any, then: Callable[[Any], None]) -> None:
        submit_then(self._writer, command, then, self._problem)

    def _problem(self, message: str) -> None:
        log.error("alerts: %s", message)
        self._bus.publish(AlertProblem(at=self._clock.now(), message=message))

    def _submit_sequence(self, command: Any) -> None:
        if isinstance(command, CreateSequence):
            self._submit(command, self._sequence_stored)
        elif isinstance(command, ExtendSequence):
            with self._lock:
                known = self._sequences.get(command.seq_key)
                pending = known is not None and known[0] not in self._notified
            if pending:  # it may pass the gate now: bring its alert back with the result
                command = replace(command, want_alert=True)
            self._submit(command, partial(self._extended, command.seq_key))
        else:  # pragma: no cover - the builder makes only these two
            raise TypeError(f"unexpected command {command!r}")

    def _sequence_stored(self, stored: SequenceStored) -> None:
        with self._lock:
            self.sequences += 1
        self._sequence_seen(
            stored.alert,
            stored.sequence_id,
            stored.seq_key,
            stored.camera,
            stored.max_conf,
            stored.new_alert,
            snoozed=stored.snoozed_until is not None,
        )

    def _sequence_seen(
        self,
        alert: AlertView,
        sequence_id: int,
        seq_key: str,
        camera: str | None,
        max_conf: float | None,
        new_alert: bool,
        *,
        snoozed: bool = False,
    ) -> None:
        camera = camera if camera is not None else self._camera_of(seq_key)
        with self._lock:
            self._sequences.setdefault(seq_key, (alert.alert_id, camera))
            while len(self._sequences) > 10_000:  # live sequences only; oldest forgotten
                del self._sequences[next(iter(self._sequences))]
        # A snoozed camera's sequence is stored (evidence) but notifies nobody; its alert
        # stays un-notified, so the sequence's first extension after the snooze notifies.
        shown = not snoozed and self._shown_today(camera, max_conf)
        self._bus.publish(
            SequenceAdded(
                at=self._clock.now(),
                alert=alert,
                sequence_id=sequence_id,
                camera=camera,
                max_conf=max_conf,
                new_alert=new_alert,
                shown=shown,
            )
        )
        if shown:
            self._notify(alert)

    def _camera_of(self, seq_key: str) -> str | None:
        with self._lock:
            known = self._sequences.get(seq_key)
        return None if known is None else known[1]

    def _extended(self, seq_key: str, result: SequenceExtended | None) -> None:
        if result is None or result.alert is None or result.snoozed_until is not None:
            return
        camera = self._camera_of(seq_key)
        if self._shown_today(camera, result.max_conf):
            self._notify(result.alert)

    def _notify(self, alert: AlertView) -> None:
        """Notify once per alert: the bus (chime, desktop notification), webhooks, and the
        escalation clock."""
        with self._lock:
            if alert.alert_id in self._notified:
                return
            self._remember_notified(alert.alert_id)
        self._raised(alert)

    def _remember_notified(self, alert_id: int) -> None:
        """Under the lock."""
        self._notified[alert_id] = None
        while len(self._notified) > NOTIFIED_KEPT:
            del self._notified[next(iter(self._notified))]

    def _raised(self, alert: AlertView) -> None:
        with self._lock:
            self._remember_notified(alert.alert_id)
            self._open[alert.alert_id] = self._clock.monotonic()
            self.raised += 1
        self._bus.publish(AlertRaised(at=self._clock.now(), alert=alert))
        self._deliver(alert, escalation=False)

    def _deliver(self, alert: AlertView, *, escalation: bool) -> None:
        if self._dispatcher is None:
            return
        # "text" makes the same POST a Slack (or Mattermost) incoming-webhook message; other
        # receivers read the alert's fields.
        text = (
            f"{'ESCALATED, nobody acknowledged: ' if escalation else ''}"
            f"[{alert.severity.upper()}] {alert.title} (alert {alert.alert_id}"
            f"{', site ' + self._site if self._site else ''}, "
            f"{self._site_time.with_zone(alert.raised_at)})"  # a person reads it: site time
        )
        payload = {"text": text, **alert.as_json(), "escalated": escalation, "site": self._site}
        self._dispatcher.deliver(f"{alert.alert_id}:{int(escalation)}", payload)

    def _on_outcome(self, outcome: DeliveryOutcome) -> None:
        alert_id, escalation = str(outcome.delivery_id).split(":")
        self._writer.post(
            RecordDelivery(
                alert_id=int(alert_id),
                escalation=escalation == "1",
                url=outcome.url,
                attempts=outcome.attempts,
                delivered=outcome.delivered,
                status_code=outcome.status_code,
                error=outcome.error,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
            )
        )
        self._bus.publish(
            AlertDelivered(
                at=self._clock.now(),
                alert_id=int(alert_id),
                escalation=escalation == "1",
                url=outcome.url,
                delivered=outcome.delivered,
                attempts=outcome.attempts,
                error=outcome.error,
            )
        )

    # --- escalation ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._clock.wait(self._stop, CHECK_EVERY_S):
            self.escalate_due()
            self.check_cameras()
            for command in self.builder.tick(self._clock.now()):
                self._submit_sequence(command)
            if self._clock.monotonic() - self._rules_loaded_at >= RULES_RELOAD_S:
                try:
                    self.reload_rules()
                except Exception as exc:  # the store is down: keep the rules we have
                    log.warning("alerts: could not reload the rules: %s", exc)

    def escalate_due(self) -> None:
        """Escalate every open alert raised ``escalate_after_s`` ago or more (the escalation
        thread calls it every second)."""
        now_s = self._clock.monotonic()
        classes_known = self.risk_classes is None or self.risk_classes.status().state != (
            STATE_PENDING
        )
        with self._lock:
            due = [i for i, t in self._open.items() if now_s - t >= self.escalate_after_s]
            if not classes_known:  # earlier runs' alerts wait for today's classes
                due = [i for i in due if i not in self._taken_over]
            for alert_id in due:
                del self._open[alert_id]
            checks = {i: self._taken_over.pop(i) for i in due if i in self._taken_over}
        for alert_id in due:
            raised = checks.get(alert_id)
            if raised is not None and not self._passes_today(alert_id, raised):
                continue  # hidden by today's gate: nobody was told, nobody is chased
            self._submit(EscalateAlert(alert_id=alert_id, at=self._clock.now()), self._escalated)

    def _passes_today(self, alert_id: int, raised_at: datetime) -> bool:
        """Whether the alert is listed through today's gate (one keyset row starting at
        it). On the escalation thread."""
        request = AlertListRequest(
            gate=self.risk_gate(), open_only=True, limit=1, before=(raised_at, alert_id + 1)
        )
        try:
            rows = request.run(self._store).rows
        except Exception as exc:  # the store is down: escalate rather than stay silent
            log.warning("alerts: could not check alert %s against the gate: %s", alert_id, exc)
            return True
        return bool(rows) and rows[0].alert_id == alert_id

    def _escalated(self, alert: AlertView | None) -> None:
        if alert is None:
            return  # acknowledged meanwhile
        self._bus.publish(AlertChanged(at=self._clock.now(), alert=alert, change="escalated"))
        self._deliver(alert, escalation=True)
