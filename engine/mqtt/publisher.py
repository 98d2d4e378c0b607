"""The engine's MQTT client: what happens is published as it happens, and the broker never
makes the engine wait.

:class:`MqttService` listens on the engine's bus (on the publishing thread it only updates a
dict or appends to a bounded queue) and has two threads of its own: paho's network loop and
a sender. The sender publishes, in this order, Home Assistant's discovery configs when they
are due (each connection, and when Home Assistant says it is back online), the retained
state topics that changed (always their newest value: a broker that was away gets how
things are now, not a replay), then the queued events. While the broker is away events queue
up to ``[mqtt] queue``; past that the oldest are dropped and counted. The sender and the
command thread are supervised (:class:`~engine.supervise.SupervisedThread`): a loop that
raises is logged, counted (the engine's health, ``engine --report``) and run again after a
backoff on the engine clock, what it had not sent put back.

Commands from the broker run on a third thread. Each must prove who sent it
(:mod:`engine.mqtt.grants`): the topic's broker user has an admin's grant and the payload
carries the token of the service account granted; it then acts as that account, checked and
audited like the same action at a console. Before anything is checked, each sender's
commands are rate-limited and its refusals summarised (:mod:`engine.mqtt.limits`): a sender
costs at most one audit entry and one log line a minute, however much it sends. Every
command is answered on the user's ``result`` topic, a refusal with a named error (except
those over the rate: the first of them is). Retained command messages are ignored.

The engine also listens to its own retained topics: one that holds a payload the engine did
not publish (another client wrote it: a broker without an ACL lets anyone) is given the
engine's own again, at most :data:`RESTORES_PER_MINUTE` a minute, and counted in the health
line as "forged state restored". Topics and payloads: :mod:`engine.mqtt.topics`.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from engine.access import Actor, PermissionDeniedError
from engine.alerts.filtering import first_sequence
from engine.alerts.records import AlertView, list_alerts
from engine.alerts.service import AlertChanged, AlertRaised, SequenceAdded
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.events import CameraStatusChanged, Event, HealthState
from engine.incidents.service import IncidentFiled
from engine.media import read_small_file
from engine.mqtt.grants import TOKEN_FIELD, Proof, shown
from engine.mqtt.limits import Admission, RefusalSummary, SenderLimits
from engine.mqtt.settings import MqttConfig, is_broker_user
from engine.mqtt.topics import (
    COMMANDS,
    OFFLINE,
    ONLINE,
    Topics,
    alert_event,
    camera_state,
    command_result,
    discovery_configs,
    dumps,
    fall_event,
    node_state,
    open_alerts_state,
    room_state,
)
from engine.sensing.service import SensingUpdated
from engine.store.audit import AppendAudit
from engine.store.database import Store
from engine.store.event_views import EventsStored, EventView, read_event_views
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread
from engine.text import printable

log = logging.getLogger(__name__)

KEEPALIVE_S: Final = 30
RECONNECT_MIN_S: Final = 1
RECONNECT_MAX_S: Final = 10  # a broker back is found within this
THUMBNAIL_WIDTH: Final = 320
MAX_SNAPSHOT_BYTES: Final = 512 * 1024
COMMAND_QUEUE: Final = 100
MAX_COMMAND_BYTES: Final = 4096
MAX_COMMAND_DEPTH: Final = 4  # a command is a flat JSON object; deeper is not one
MAX_ALERT_ID: Final = 2**63 - 1  # the store's 64-bit ids
RESTORES_PER_MINUTE: Final = 20  # forged retained state given back the engine's own
RESTORE_RETRY_S: Final = 60.0 / RESTORES_PER_MINUTE
IN_FLIGHT_KEPT: Final = 16  # per retained topic: own messages published, not heard back yet
STATE: Final = "state"  # the key of the forged-state restores in their limiter
OPEN_ALERTS_READ: Final = 500
CATCH_UP_S: Final = 120.0  # a broker told nothing yet hears of alerts this recent as new


@dataclass(frozen=True, slots=True)
class CommandActions:
    """What a command from the broker may do, each as the given actor (checked and audited
    by the engine): ``acknowledge(actor, alert_id, note)``, ``arm(actor, rule, armed)``,
    and ``prove(broker_user, token)``: who a command from that broker user carrying that
    token acts as (:func:`engine.mqtt.grants.prove_sender`)."""

    acknowledge: Callable[[Actor, int, str], object]
    arm: Callable[[Actor, str, bool], object]
    prove: Callable[[str, object], Proof]


@dataclass(frozen=True, slots=True)
class _Event:
    topic: str
    payload: bytes | Callable[[], bytes]
    qos: int = 1


class MqttService:
    """See the module doc. ``cameras``/``rooms``: ``(id, name)`` of what this engine runs;
    ``password``: the ``mqtt_password`` secret (None: no password); ``media_root``: where
    snapshots are (thumbnails). Start it after the store writer is on the bus."""

    def __init__(
        self,
        config: MqttConfig,
        site: str,
        *,
        cameras: list[tuple[str, str]],
        rooms: list[tuple[str, str]],
        bus: EventBus,
        store: Store | None,
        writer: StoreWriter | None,
        actions: CommandActions | None,
        password: str | None = None,
        media_root: Path | None = None,
        clock: Clock = REAL_CLOCK,
        client_id: str | None = None,
        catch_up: bool = False,
    ) -> None:
        self.config = config
        # Taking over from another engine (a shared site): alerts raised while nobody
        # published are told as new once the broker says which alerts it was last told of.
        self._catch_up = catch_up
        self.topics = Topics(config, site)
        self._cameras = list(cameras)
        self._rooms = list(rooms)
        self._bus = bus
        self._store = store
        self._writer = writer
        self._actions = actions
        self._media_root = media_root
        self._clock = clock
        self._lock = threading.Condition()
        self._events: deque[_Event] = deque()
        self._state: dict[str, bytes] = {}  # retained topic → newest payload ("" clears)
        self._dirty: set[str] = set()
        self._discovery_due = False
        self._connected = False
        self._stop = threading.Event()
        self._unsubscribe: list[Callable[[], None]] = []
        self._tracks: dict[str, set[int]] = {camera: set() for camera, _ in cameras}
        self._camera_status: dict[str, tuple[str, str]] = {
            camera: ("starting", "") for camera, _ in cameras
        }
        self._room_people: dict[str, int] = {}
        self._open: dict[int, dict[str, Any]] = {}
        # (sender's key in the limits, broker user, command, payload); None: stop.
        self._commands: queue.Queue[tuple[str, str, str, bytes] | None] = queue.Queue(COMMAND_QUEUE)
        self._wake = threading.Event()  # the command thread has something to do
        self._limits = SenderLimits(clock, per_minute=config.commands_per_minute)
        self._told: deque[RefusalSummary] = deque()  # to audit and log (command thread)
        self._failures = SenderLimits(clock)  # unexpected failures: logged once a minute
        # Retained topics: what was published and not heard back yet, and what the engine
        # last said on each discovery topic (the state topics' are in _state).
        self._in_flight: dict[str, deque[bytes]] = {}
        self._discovery_sent: dict[str, bytes] = {}
        self._forged = SenderLimits(clock, per_minute=RESTORES_PER_MINUTE)
        self._forged_pending: set[str] = set()
        self.sent = 0
        self.dropped = 0
        self.commands_run = 0
        self.commands_refused = 0  # counted by two threads: under _counting
        self._counting = threading.Lock()
        self.commands_retained_ignored = 0
        self.forged_restored = 0
        self.problem: str | None = "connecting"
        self.since: datetime | None = None
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"watchfloor-{self.topics.node_id}",
            clean_session=True,
        )
        if config.user is not None:
            self._client.username_pw_set(config.user, password)
        if config.tls:
            self._client.tls_set(
                ca_certs=str(config.ca_file) if config.ca_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        self._client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        # Supervised: a loop that raises runs again after a backoff on the engine clock
        # (paho's own network thread reconnects by itself).
        self._sender = SupervisedThread(
            self._send_loop, name="mqtt-sender", stop=self._stop, clock=clock
        )
        self._worker = SupervisedThread(
            self._command_loop, name="mqtt-commands", stop=self._stop, clock=clock
        )

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (never waits for the broker) and start listening."""
        if self.site_file_warning is not None:
            log.warning("MQTT: %s", self.site_file_warning)
        self._load_open_alerts()
        for camera, _name in self._cameras:
            self._set_camera(camera)
        for room, _name in self._rooms:
            self._set_room(room, 0)
        self._unsubscribe = [
            self._bus.subscribe(Event, self._on_event),
        ]
        self._sender.start()
        self._worker.start()
        self._client.connect_async(self.config.host, self.config.port, KEEPALIVE_S)
        self._client.loop_start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Say "offline" (retained), send what is queued if the broker is there, stop."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        with self._lock:
            self._dirty.add(self.topics.availability)
            self._state[self.topics.availability] = OFFLINE.encode()
            self._lock.notify_all()
        self._stop.set()
        self._sender.join(timeout_s)
        try:
            self._commands.put(None, timeout=timeout_s)
        except queue.Full:
            log.warning("MQTT: commands still waiting at stop are not run")
        self._wake.set()
        self._worker.join(timeout_s)
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def site_file_warning(self) -> str | None:
        """Why the site file's ``[mqtt.commands]`` does nothing, and what does (None: the
        site file has none)."""
        mapped = self.config.ignored_commands
        if not mapped:
            return None
        said = ", ".join(
            f"{shown(user)} = {printable(account)[:64]}" for user, account in mapped.items()
        )
        return (
            f"the site file's [mqtt.commands] ({said}) is ignored: a site file grants no "
            "rights. An admin grants a broker user a service account with `watchfloor mqtt "
            "grant BROKER_USER ACCOUNT`, and each command carries that account's token"
        )

    def health(self) -> tuple[HealthState, str]:
        """The status bar's ``mqtt`` line: connected or not, what was sent, commands run and
        refused, forged state restored, and the site file's ignored ``[mqtt.commands]``
        (which makes it degraded until the table is gone)."""
        with self._lock:
            queued = len(self._events)
        lost = f", {self.dropped} dropped" if self.dropped else ""
        notes = []
        if self.commands_run or self.commands_refused:
            notes.append(f"commands: {self.commands_run} run, {self.commands_refused} refused")
        if self.forged_restored:
            notes.append(f"forged state restored: {self.forged_restored}")
        warning = self.site_file_warning
        if warning is not None:
            notes.append(warning)
        tail = "".join(f"; {note}" for note in notes)
        if self._connected:
            return (
                HealthState.DEGRADED if warning else HealthState.OK,
                f"connected to {self.config.url}; {self.sent} messages sent{lost}{tail}",
            )
        return (
            HealthState.DEGRADED,
            f"{self.config.url}: {self.problem or 'not connected'}; reconnecting "
            f"({queued} queued{lost}); the engine carries on{tail}",
        )

    def report(self) -> dict[str, Any]:
        """The MQTT figures of ``watchfloor engine --report``."""
        state, detail = self.health()
        warning = self.site_file_warning
        return {
            "state": state.value,
            "detail": detail,
            "sent": self.sent,
            "dropped": self.dropped,
            "commands_run": self.commands_run,
            "commands_refused": self.commands_refused,
            "commands_retained_ignored": self.commands_retained_ignored,
            "forged_state_restored": self.forged_restored,
            "warnings": [warning] if warning else [],
        }

    # -- the bus (any thread: a dict write or a queue append, never the network) ---------------
    def _on_event(self, event: Event) -> None:
        if isinstance(event, AlertRaised):
            self._alert(event.alert, "new")
        elif isinstance(event, AlertChanged):
            self._alert(event.alert, event.change)
        elif isinstance(event, SequenceAdded) and event.shown and not event.new_alert:
            # An open alert grew: another person, or the same one again.
            self._queue(
                _Event(
                    self.topics.alert_events,
                    dumps(
                        alert_event(
                            "updated",
                            event.alert.as_json(),
                            sequence=event.sequence_id,
                            camera=event.camera,
                        )
                    ),
                )
            )
        elif isinstance(event, EventsStored):
            for view in event.views:
                self._stored(view)
        elif isinstance(event, CameraStatusChanged):
            # A camera handed over to another engine: that engine says its state.
            if event.camera_id in self._camera_status and not event.handed_over:
                self._camera_status[event.camera_id] = (event.status.value, event.detail)
                if event.status.value != "online":
                    self._tracks[event.camera_id].clear()  # a camera down sees nobody
                self._set_camera(event.camera_id)
        elif isinstance(event, SensingUpdated):
            room = event.snapshot.room_id
            people = len(event.snapshot.blobs)
            if self._room_people.get(room) != people:
                self._set_room(room, people)
        elif isinstance(event, IncidentFiled):
            for incident in event.incidents:
                self._queue(_Event(self.topics.incidents, dumps(incident.as_json())))

    def _stored(self, view: EventView) -> None:
        """A stored event: people arriving and leaving a camera's view, falls and sensing
        nodes' health (published once stored, whichever engine stored it)."""
        camera = view.camera
        if view.kind in ("person.appeared", "person.left") and view.track_id is not None:
            if camera is None or camera not in self._tracks:
                return
            if view.kind == "person.appeared":
                self._tracks[camera].add(view.track_id)
            else:
                self._tracks[camera].discard(view.track_id)
            self._set_camera(camera)
            return
        room = view.source.removeprefix("sensing:") if view.source.startswith("sensing:") else None
        if room is None:
            return
        if view.kind == "sensing.fall_detected":
            self._queue(
                _Event(
                    self.topics.fall(room),
                    dumps(fall_event(view.ts, room, view.id, view.detail)),
                )
            )
        elif view.kind in ("sensing.node_online", "sensing.node_offline"):
            node = view.detail.get("node")
            if isinstance(node, str) and node:
                status = view.kind.removeprefix("sensing.node_")
                self._set(self.topics.node(node), node_state(status, room))

    def _alert(self, alert: AlertView, change: str) -> None:
        body = alert.as_json()
        with self._lock:
            if alert.open:
                self._open[alert.alert_id] = body
            else:
                self._open.pop(alert.alert_id, None)
        self._set(self.topics.alert(alert.alert_id), body if alert.open else None)
        self._set_open_alerts()
        payload: bytes | Callable[[], bytes]
        if change == "new" and self.config.thumbnails == "base64":
            payload = lambda: dumps(  # noqa: E731 - read and scaled on the sender thread
                alert_event(change, body, thumbnail=self._thumbnail(alert))
            )
        else:
            payload = dumps(alert_event(change, body))
        self._queue(_Event(self.topics.alert_events, payload))

    def _set_camera(self, camera: str) -> None:
        status, detail = self._camera_status.get(camera, ("starting", ""))
        people = len(self._tracks.get(camera, ()))
        self._set(self.topics.camera(camera), camera_state(status, detail, people))

    def _set_room(self, room: str, people: int) -> None:
        self._room_people[room] = people
        self._set(self.topics.room(room), room_state(people))

    def _set_open_alerts(self) -> None:
        with self._lock:
            ids = sorted(self._open)
        self._set(self.topics.open_alerts, open_alerts_state(ids))

    def _set(self, topic: str, payload: Mapping[str, Any] | None) -> None:
        """Retained ``topic`` is now ``payload`` (None: cleared); sent when connected."""
        with self._lock:
            self._state[topic] = b"" if payload is None else dumps(dict(payload))
            self._dirty.add(topic)
            self._lock.notify_all()

    def _queue(self, event: _Event) -> None:
        with self._lock:
            if len(self._events) >= self.config.queue:
                self._events.popleft()
                self.dropped += 1
            self._events.append(event)
            self._lock.notify_all()

    # -- the sender thread ----------------------------------------------------------------
    def _send_loop(self) -> None:
        while True:
            with self._lock:
                while not self._stop.is_set() and not (
                    self._connected and (self._discovery_due or self._dirty or self._events)
                ):
                    self._lock.wait(1.0)
                if self._stop.is_set() and not self._connected:
                    return
                discovery, self._discovery_due = self._discovery_due, False
                dirty = {topic: self._state[topic] for topic in self._dirty}
                self._dirty.clear()
                events = list(self._events)
                self._events.clear()
                stopping = self._stop.is_set()
            self._send(discovery, dirty, events)
            if stopping:
                return

    def _send(self, discovery: bool, dirty: dict[str, bytes], events: list[_Event]) -> None:
        """Publish; what could not be sent (the broker went away) is put back. A message
        whose payload cannot be made (its picture's path is nonsense) is dropped and
        counted, the rest put back, and the error raised: the sender thread's supervisor
        logs it and runs the loop again."""
        client = self._client
        try:
            if discovery and self.config.discovery:
                for topic, config in discovery_configs(
                    self.topics, self._cameras, self._rooms
                ).items():
                    payload = dumps(config)
                    with self._lock:
                        self._discovery_sent[topic] = payload
                    self._publish(client, topic, payload, 1, True)
            for topic, payload in list(dirty.items()):
                self._publish(client, topic, payload, 1, True)
                del dirty[topic]
            while events:
                event = events[0]
                try:
                    payload = event.payload() if callable(event.payload) else event.payload
                except Exception:
                    events.pop(0)  # not tried again: it would fail again
                    with self._lock:
                        self.dropped += 1
                    raise
                self._publish(client, event.topic, payload, event.qos, False)
                events.pop(0)
        except Exception as exc:
            with self._lock:
                if discovery:
                    self._discovery_due = True
                for topic in dirty:
                    self._dirty.add(topic)
                for event in reversed(events):
                    self._events.appendleft(event)
                while len(self._events) > self.config.queue:
                    self._events.pop()
                    self.dropped += 1
            if not isinstance(exc, _NotSentError):
                raise

    def _publish(
        self, client: paho.Client, topic: str, payload: bytes, qos: int, retain: bool
    ) -> None:
        if retain:  # noted before it can come back: the engine hears its own topics
            with self._lock:
                flight = self._in_flight.get(topic)
                if flight is None:
                    flight = self._in_flight[topic] = deque(maxlen=IN_FLIGHT_KEPT)
                flight.append(payload)
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise _NotSentError(paho.error_string(info.rc))
        self.sent += 1

    def _thumbnail(self, alert: AlertView) -> str | None:
        """The alert's picture as a small JPEG in base64 (None: it has none): its own, or
        that of the sequence that raised it (a rule's alert), or its event's."""
        path = self._snapshot_of(alert)
        if path is None or self._media_root is None:
            return None
        data = read_small_file(self._media_root / path, MAX_SNAPSHOT_BYTES)
        if not data:
            return None
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return None
        height, width = image.shape[:2]
        if width > THUMBNAIL_WIDTH:
            image = cv2.resize(
                image,
                (THUMBNAIL_WIDTH, max(1, round(height * THUMBNAIL_WIDTH / width))),
                interpolation=cv2.INTER_AREA,
            )
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
        return base64.b64encode(encoded.tobytes()).decode("ascii") if ok else None

    def _snapshot_of(self, alert: AlertView) -> str | None:
        path = alert.detail.get("snapshot")
        if isinstance(path, str) and path:
            return path
        if self._store is None:
            return None
        try:
            first = first_sequence(self._store, alert.alert_id)
            if first is not None and first.snapshot:
                return first.snapshot
            if alert.event_id is not None:
                with self._store.engine.connect() as connection:
                    found = read_event_views(connection, [alert.event_id])
                said = found[0].detail.get("snapshot") if found else None
                return said if isinstance(said, str) and said else None
        except Exception as exc:  # the database away: the alert goes without its picture
            log.warning("MQTT: alert %d's picture not read: %s", alert.alert_id, exc)
        return None

    # -- paho's network thread -------------------------------------------------------------
    def _on_connect(
        self,
        client: paho.Client,
        _userdata: object,
        _flags: object,
        reason: Any,
        _properties: object = None,
    ) -> None:
        if reason.is_failure:
            self.problem = f"the broker refused: {reason}"
            log.warning("MQTT: %s", self.problem)
            return
        # The retained topics include alerts/open: its retained value is what the engine
        # publishing before this one told (catch-up), before it is this engine's own.
        client.subscribe([(pattern, 1) for pattern in self.topics.subscriptions])
        with self._lock:
            self._in_flight.clear()  # what was in flight on the last connection is not
            self._connected = True
            self.problem = None
            self.since = self._clock.now()
            self._state[self.topics.availability] = ONLINE.encode()
            self._dirty.update(self._state)  # the broker may have lost or never had them
            self._discovery_due = True
            self._lock.notify_all()
        log.info("MQTT: connected to %s", self.config.url)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: object,
        _flags: object,
        reason: Any,
        _properties: object = None,
    ) -> None:
        with self._lock:
            was = self._connected
            self._connected = False
            self.since = self._clock.now()
            if reason is not None and getattr(reason, "is_failure", False):
                self.problem = f"lost the broker: {reason}"
            else:
                self.problem = "disconnected"
            self._lock.notify_all()
        if was:
            log.warning("MQTT: %s", self.problem)

    def _caught_up(self, client: paho.Client, message: paho.MQTTMessage) -> None:
        """The broker's ``alerts/open`` as the engine publishing before this one left it
        (a retained message): the open alerts it did not list were raised while nobody
        published. A broker that had none (its first message is this engine's own) was told
        nothing: the alerts raised in the last :data:`CATCH_UP_S` are. Told now, as new."""
        self._catch_up = False
        told: set[int] = set()
        if message.retain:
            try:
                told = set(json.loads(message.payload or b"{}").get("alerts", []))
            except (ValueError, AttributeError):
                told = set()
        since = (self._clock.now() - timedelta(seconds=CATCH_UP_S)).isoformat()
        with self._lock:
            missed = [
                body
                for alert_id, body in sorted(self._open.items())
                if alert_id not in told and (message.retain or str(body["raised_at"]) >= since)
            ]
        for body in missed:
            log.info("MQTT: alert %s was raised while nobody published: told now", body["alert"])
            self._queue(
                _Event(self.topics.alert_events, dumps(alert_event("new", body, late=True)))
            )

    def _on_message(
        self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        if message.topic == self.topics.open_alerts and self._catch_up:
            self._caught_up(_client, message)
            return
        if message.topic == self.topics.ha_status:
            if message.payload.strip() == ONLINE.encode():
                with self._lock:
                    self._discovery_due = True  # Home Assistant restarted: tell it again
                    self._dirty.update(self._state)
                    self._lock.notify_all()
            return
        command = self.topics.command_of(message.topic)
        if command is None:
            self._check_retained(message.topic, bytes(message.payload))
            return
        if message.retain:
            # Kept by the broker, it would run again on every reconnection: a command is
            # something sent now.
            self.commands_retained_ignored += 1
            return
        broker_user, name = command
        key = self._limits.key(broker_user if is_broker_user(broker_user) else None)
        admission = self._limits.take(key)
        if admission is not Admission.ADMITTED:
            words = (
                f"more than {self._limits.per_minute} commands a minute from this broker "
                "user: the rest of the minute's are ignored"
            )
            self._refused(key, "rate limited", words)
            if admission is Admission.LIMITED_FIRST:
                self._answer(broker_user, name, _no(words))
            return
        try:
            self._commands.put_nowait((key, broker_user, name, bytes(message.payload)))
        except queue.Full:
            self._refused(key, "engine busy", "too many commands waiting in the engine")
            return
        self._wake.set()

    # -- the engine's own retained topics (paho's network thread) ------------------------------
    def _check_retained(self, topic: str, payload: bytes) -> None:
        """A message on one of the engine's retained topics: its own coming back, or one
        another client wrote, which is given the engine's own again (rate-limited)."""
        with self._lock:
            own = self._state.get(topic)
            discovery = own is None
            if discovery:
                own = self._discovery_sent.get(topic)
            if own is None:
                return  # a topic this engine has said nothing on (another run's, a site's)
            flight = self._in_flight.get(topic)
            if flight and payload in flight:
                while flight.popleft() != payload:
                    pass  # older ones were not heard back: superseded, not pending
                return
            if flight or topic in self._dirty or (discovery and self._discovery_due):
                return  # the engine's own is on its way and will overwrite it
            if payload == own:
                return
            self._forged_pending.add(topic)
        summary = self._forged.refuse(STATE, "forged", topic)
        if summary is not None:
            self._told.append(summary)
        self._wake.set()

    def _restore_forged(self) -> None:
        """Give each forged topic the engine's own again, as fast as the rate allows
        (command thread)."""
        with self._lock:
            pending = sorted(self._forged_pending)
        for topic in pending:
            if self._forged.take(STATE) is not Admission.ADMITTED:
                return
            with self._lock:
                self._forged_pending.discard(topic)
                if topic in self._state:
                    self._dirty.add(topic)
                elif topic in self._discovery_sent:
                    self._discovery_due = True
                else:
                    continue
                self._lock.notify_all()
            self.forged_restored += 1

    # -- commands (their own thread: they wait on the store writer) ----------------------------
    def _command_loop(self) -> None:
        """Run the commands queued, tell the refusals due, restore forged state; wait on
        the engine clock for the next of these (a summary's minute, a restore's turn)."""
        self._wake.set()  # run again after a failure: what was queued meanwhile is run now
        while True:
            waits = [self._limits.next_due_in(), self._forged.next_due_in()]
            waits.append(self._failures.next_due_in())
            with self._lock:
                if self._forged_pending:
                    waits.append(RESTORE_RETRY_S)
            due = [w for w in waits if w is not None]
            self._clock.wait(self._wake, min(due) if due else None)
            self._wake.clear()
            stopping = False
            while not stopping:
                try:
                    item = self._commands.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    self._handle(*item)
            self._restore_forged()
            self._told.extend(self._limits.due())
            self._told.extend(self._forged.due())
            self._told.extend(self._failures.due())
            if stopping:  # nothing counted goes untold
                self._told.extend(self._limits.flush())
                self._told.extend(self._forged.flush())
                self._told.extend(self._failures.flush())
            while self._told:
                self._tell(self._told.popleft())
            if stopping:
                return

    def _handle(self, key: str, broker_user: str, command: str, payload: bytes) -> None:
        try:
            result, refusal = self._run_command(broker_user, command, payload)
        except Exception:  # never let one command stop the others; logged once a minute
            if self._failures.refuse(key, "failed", printable(command)[:32]) is not None:
                log.exception("MQTT: command %s from %r failed", printable(command)[:32], key)
            result, refusal = _no("failed in the engine (see its log)"), None
        if refusal is not None:
            self._refused(key, refusal, str(result.get("error", "")))
        self._answer(broker_user, command, result)

    def _answer(self, broker_user: str, command: str, result: dict[str, Any]) -> None:
        """Tell the sender on its result topic (a topic level that names no broker user
        has none)."""
        if is_broker_user(broker_user):
            self._queue(
                _Event(
                    self.topics.result(broker_user),
                    dumps(command_result(command, result)),
                )
            )

    def _refused(self, key: str, reason: str, words: str) -> None:
        """Count a refusal of sender ``key``'s command; the first of its minute is audited
        and logged now, the others in the minute's summary (any thread)."""
        with self._counting:
            self.commands_refused += 1
        summary = self._limits.refuse(key, reason, words)
        if summary is not None:
            self._told.append(summary)
            self._wake.set()

    def _run_command(
        self, broker_user: str, command: str, payload: bytes
    ) -> tuple[dict[str, Any], str | None]:
        """Check and run one command: its answer, and why it was refused before it could act
        as anyone (None: it was proved, whatever came of it then)."""
        if command not in COMMANDS:
            said = printable(command)[:32]
            return _no(f"unknown command {said!r} ({', '.join(COMMANDS)})"), "unknown command"
        body, problem = parse_command(payload)
        if body is None:
            return _no(problem), "bad payload"
        if self._actions is None:
            return _no("this engine takes no commands (it has no store)"), "no store"
        try:
            proof = self._actions.prove(broker_user, body.get(TOKEN_FIELD))
        except Exception as exc:  # the database away: nothing may be proved now
            log.debug("MQTT: a command could not be checked: %s", exc)
            return _no("the command could not be checked now (the database is away)"), "unchecked"
        actor = proof.actor
        if actor is None:
            return _no(proof.reason), proof.refusal
        try:
            if command == "ack":
                alert_id = body.get("alert")
                note = body.get("note", "")
                if (
                    isinstance(alert_id, bool)
                    or not isinstance(alert_id, int)
                    or not 1 <= alert_id <= MAX_ALERT_ID
                ):
                    error = f"'alert' must be an alert id: a whole number from 1 to {MAX_ALERT_ID}"
                    return _no(error), None
                if not isinstance(note, str):
                    return _no("'note' must be text"), None
                self._actions.acknowledge(actor, alert_id, note)
                self.commands_run += 1
                return {"ok": True, "alert": alert_id}, None
            rule = body.get("rule")
            if not isinstance(rule, str) or not rule:
                return _no("'rule' must be a rule's name"), None
            self._actions.arm(actor, rule, command == "arm")
            self.commands_run += 1
            return {"ok": True, "rule": rule, "armed": command == "arm"}, None
        except PermissionDeniedError as exc:
            with self._counting:
                self.commands_refused += 1
            return _no(str(exc)), None  # the store writer audited the refusal
        except (LookupError, ValueError, RuntimeError) as exc:
            return _no(str(exc)), None

    def _tell(self, summary: RefusalSummary) -> None:
        """Log, and for a sender's refused commands audit, one summary (command thread)."""
        if summary.sender == STATE and set(summary.reasons) == {"forged"}:
            log.warning(
                "MQTT: %d retained message(s) another client wrote on this engine's topics "
                "(the first on %s) are given the engine's own again; let only the engine's "
                "broker user write them (a broker ACL)",
                summary.refused,
                summary.example,
            )
            return
        if set(summary.reasons) == {"failed"}:
            if not summary.first:  # the first was logged with its traceback
                log.warning(
                    "MQTT: %d more command(s) from %r failed in the engine since %s",
                    summary.refused,
                    summary.sender,
                    summary.since.isoformat(),
                )
            return
        reasons = ", ".join(f"{why}: {n}" for why, n in sorted(summary.reasons.items()))
        if summary.first:
            log.warning(
                "MQTT: a command from broker user %r was refused: %s",
                summary.sender,
                summary.example,
            )
        else:
            log.warning(
                "MQTT: %d more command(s) from broker user %r refused since %s (%s); the first: %s",
                summary.refused,
                summary.sender,
                summary.since.isoformat(),
                reasons,
                summary.example,
            )
        if self._writer is not None:
            self._writer.post(
                AppendAudit(
                    at=self._clock.now(),
                    actor=f"mqtt:{summary.sender}",
                    action="mqtt.command",
                    target=f"mqtt:{self.topics.base}",
                    outcome="denied",
                    detail={
                        "refused": summary.refused,
                        "reasons": summary.reasons,
                        "since": summary.since.isoformat(),
                        "example": summary.example,
                    },
                )
            )

    def _load_open_alerts(self) -> None:
        if self._store is None:
            return
        try:
            alerts = list_alerts(
                self._store, open_only=True, limit=OPEN_ALERTS_READ, awake_only=True
            )
        except Exception as exc:  # the database away: the open alerts come as they change
            log.warning("MQTT: open alerts not read: %s", exc)
            return
        with self._lock:
            for alert in alerts:
                self._open[alert.alert_id] = alert.as_json()
        for alert in alerts:
            self._set(self.topics.alert(alert.alert_id), alert.as_json())
        self._set_open_alerts()


def _no(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def parse_command(payload: bytes) -> tuple[dict[str, Any] | None, str]:
    """A command's payload as its JSON object, or None and what is wrong with it: bounded
    before it is parsed (:data:`MAX_COMMAND_BYTES`, :data:`MAX_COMMAND_DEPTH`), so that no
    payload costs more than reading 4 kB once."""
    if not payload:
        return None, f'the payload is empty: expected a JSON object with the "{TOKEN_FIELD}"'
    if len(payload) > MAX_COMMAND_BYTES:
        return None, f"the payload has {len(payload)} bytes: at most {MAX_COMMAND_BYTES}"
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"the payload is not UTF-8 text (byte {exc.start})"
    if nested_deeper_than(text, MAX_COMMAND_DEPTH):
        return None, (
            f"the payload is nested more than {MAX_COMMAND_DEPTH} levels deep: a command is "
            "a flat JSON object"
        )
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"the payload is not JSON: {exc.msg} at character {exc.pos}"
    except (ValueError, RecursionError) as exc:
        return None, f"the payload is not JSON a command may hold: {printable(str(exc))[:100]}"
    if not isinstance(body, dict):
        return None, "expected a JSON object"
    return body, ""


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON ``text`` opens more than ``limit`` arrays or objects inside each other
    (strings skipped); one pass, no recursion, so a 2,000-deep payload costs no stack."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class _NotSentError(RuntimeError):
    """paho did not take a message (the broker is away)."""
