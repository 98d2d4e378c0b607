"""Re-emits engine bus events as Qt signals on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from engine.alerts.service import (
    AlertChanged,
    AlertDelivered,
    AlertProblem,
    AlertRaised,
    SequenceAdded,
)
from engine.bus import EventBus
from engine.events import (
    CameraStatusChanged,
    Event,
    MediaWriteFailed,
    MediaWriteRecovered,
    PeopleDetected,
    PeoplePlaced,
    PeopleSeenInRoom,
    PeopleSensedInView,
    SubsystemHealth,
)
from engine.fusion.service import FusionUpdated
from engine.incidents.service import IncidentFiled, RiskRefitted
from engine.introductions import NameGiven, NameOffered
from engine.sensing.service import SensingUpdated
from engine.store.event_views import EventsStored


class QtBridge(QObject):
    """Subscribes to the bus from any thread; every signal below fires on the GUI thread."""

    sig_event_received = Signal(object)
    """Any engine event (internal hop: emitted on the worker, delivered queued)."""
    sig_camera_status_changed = Signal(object)
    """A :class:`CameraStatusChanged`."""
    sig_health_changed = Signal(object)
    """A :class:`SubsystemHealth`."""
    sig_recording_changed = Signal(object)
    """A :class:`MediaWriteFailed` (a camera's clip or snapshot, or a sensing room's
    recording, could not be written: the reason and what was lost so far) or a
    :class:`MediaWriteRecovered` (written again); ``camera`` or ``room`` says which place."""
    sig_events_stored = Signal(object)
    """A tuple of :class:`~engine.store.event_views.EventView`: history events the store
    writer has committed, with their ids, in commit order (one emission per transaction).
    Live copies of events are never emitted: a row shown from here exists in the store."""
    sig_sensing_updated = Signal(object)
    """The latest :class:`SensingSnapshot` of a sensing room. Snapshots are coalesced: if
    the GUI thread is behind, it gets the newest one, never a backlog."""
    sig_alert_raised = Signal(object)
    """An :class:`AlertRaised`: the engine raised a new alert."""
    sig_alert_changed = Signal(object)
    """An :class:`AlertChanged`: an alert was acknowledged or escalated."""
    sig_alert_delivered = Signal(object)
    """An :class:`AlertDelivered`: a webhook delivery of an alert ended (delivered or not)."""
    sig_alert_problem = Signal(object)
    """An :class:`AlertProblem`: an alert could not be raised or escalated."""
    sig_sequence_added = Signal(object)
    """A :class:`SequenceAdded`: a sequence was stored (shown or hidden by the risk gate)."""
    sig_incident_filed = Signal(object)
    """An :class:`IncidentFiled`: reports were filed, or incidents validated, corrected or
    split (the incidents as they now stand)."""
    sig_risk_refitted = Signal(object)
    """A :class:`RiskRefitted`: the risk model was refitted (nightly or on request)."""
    sig_name_offered = Signal(object)
    """A :class:`NameOffered`: a name heard in an introduction waits for an operator (or an
    open offer's sentence changed)."""
    sig_name_given = Signal(object)
    """A :class:`NameGiven`: a person was given a name from their introduction."""
    sig_fusion_updated = Signal(object)
    """A :class:`FusionUpdated`: the people across senses now (the names cameras and rooms
    show for each other's people)."""
    _sig_sensing_ready = Signal()

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sig_event_received.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._sig_sensing_ready.connect(self._deliver_sensing, Qt.ConnectionType.QueuedConnection)
        self._sensing_lock = threading.Lock()
        self._sensing_latest: dict[str, SensingUpdated] = {}
        self._sensing_pending = False
        self._unsubscribe: Callable[[], None] = bus.subscribe(Event, self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        """Any thread: hand the event to the GUI thread (sensing snapshots coalesced; the
        detector's per-frame people are for the alert rules, not for the screen)."""
        if isinstance(event, PeopleDetected | PeoplePlaced | PeopleSeenInRoom | PeopleSensedInView):
            return
        if isinstance(event, SensingUpdated):
            with self._sensing_lock:
                self._sensing_latest[event.snapshot.room_id] = event
                if self._sensing_pending:
                    return
                self._sensing_pending = True
            self._sig_sensing_ready.emit()
            return
        self.sig_event_received.emit(event)

    @Slot()
    def _deliver_sensing(self) -> None:
        with self._sensing_lock:
            latest = list(self._sensing_latest.values())
            self._sensing_latest.clear()
            self._sensing_pending = False
        for event in latest:
            self.sig_sensing_updated.emit(event.snapshot)

    @Slot(object)
    def _dispatch(self, event: Event) -> None:
        if isinstance(event, CameraStatusChanged):
            self.sig_camera_status_changed.emit(event)
        elif isinstance(event, SubsystemHealth):
            self.sig_health_changed.emit(event)
        elif isinstance(event, MediaWriteFailed | MediaWriteRecovered):
            self.sig_recording_changed.emit(event)
        elif isinstance(event, AlertRaised):
            self.sig_alert_raised.emit(event)
        elif isinstance(event, AlertChanged):
            self.sig_alert_changed.emit(event)
        elif isinstance(event, AlertDelivered):
            self.sig_alert_delivered.emit(event)
        elif isinstance(event, AlertProblem):
            self.sig_alert_problem.emit(event)
        elif isinstance(event, SequenceAdded):
            self.sig_sequence_added.emit(event)
        elif isinstance(event, IncidentFiled):
            self.sig_incident_filed.emit(event)
        elif isinstance(event, RiskRefitted):
            self.sig_risk_refitted.emit(event)
        elif isinstance(event, NameOffered):
            self.sig_name_offered.emit(event)
        elif isinstance(event, NameGiven):
            self.sig_name_given.emit(event)
        elif isinstance(event, FusionUpdated):
            self.sig_fusion_updated.emit(event)
        elif isinstance(event, EventsStored):
            self.sig_events_stored.emit(event.views)
