"""The engine's MQTT client: what happens is published as it happens, and the broker never
makes the engine wait.

:class:`MqttService` listens on the engine's bus (on the publishing thread it only updates a
dict or appends to a bounded queue) and has two threads of its own: paho's network loop and
a sender. The sender publishes, in this order, Home Assistant's discovery configs when they
are due (each connection, and when Home Assistant says it is back online), the retained
state topics that changed (always their newest value: a broker that was away gets how
things are now, not a replay), then the queued events. While the broker is away events queue
up to ``[mqtt] queue``; past that the oldest are dropped and counted. Commands from the
broker run on a third thread, as the service account their broker user is mapped to
(``[mqtt.commands]``), checked and audited like any other; a refusal is audited too and
answered on the user's ``result`` topic. Topics and payloads: :mod:`engine.mqtt.topics`.
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
from engine.mqtt.settings import MqttConfig
from engine.mqtt.topics import (
    COMMANDS,
    OFFLINE,
    ONLINE,
    Topics,
    discovery_configs,
    dumps,
)
from engine.sensing.service import SensingUpdated
from engine.store.audit import AppendAudit
from engine.store.database import Store
from engine.store.event_views import EventsStored, EventView, read_event_views
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

KEEPALIVE_S: Final = 30
RECONNECT_MIN_S: Final = 1
RECONNECT_MAX_S: Final = 10  # a broker back is found within this
THUMBNAIL_WIDTH: Final = 320
MAX_SNAPSHOT_BYTES: Final = 512 * 1024
COMMAND_QUEUE: Final = 100
MAX_COMMAND_BYTES: Final = 4096
OPEN_ALERTS_READ: Final = 500
CATCH_UP_S: Final = 120.0  # a broker told nothing yet hears of alerts this recent as new


@dataclass(frozen=True, slots=True)
class CommandActions:
    """What a command from the broker may do, each as the given actor (checked and audited
    by the engine): ``acknowledge(actor, alert_id, note)``, ``arm(actor, rule, armed)``,
    and ``actor_of(account)``: the service account's actor now (None: no such enabled
    service account)."""

    acknowledge: Callable[[Actor, int, str], object]
    arm: Callable[[Actor, str, bool], object]
    actor_of: Callable[[str], Actor | None]


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
        self._commands: queue.Queue[tuple[str, str, bytes] | None] = queue.Queue(COMMAND_QUEUE)
        self.sent = 0
        self.dropped = 0
        self.commands_run = 0
        self.commands_refused = 0
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
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self._worker = threading.Thread(
            target=self._command_loop, name="mqtt-commands", daemon=True
        )

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (never waits for the broker) and start listening."""
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
        self._worker.join(timeout_s)
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected

    def health(self) -> tuple[HealthState, str]:
        """The status bar's ``mqtt`` line."""
        with self._lock:
            queued = len(self._events)
        lost = f", {self.dropped} dropped" if self.dropped else ""
        if self._connected:
            return (
                HealthState.OK,
                f"connected to {self.config.url}; {self.sent} messages sent{lost}",
            )
        return (
            HealthState.DEGRADED,
            f"{self.config.url}: {self.problem or 'not connected'}; reconnecting "
            f"({queued} queued{lost}); the engine carries on",
        )

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
                        {
                            "event": "updated",
                            "alert": event.alert.as_json(),
                            "sequence": event.sequence_id,
                            "camera": event.camera,
                        }
                    ),
                )
            )
        elif isinstance(event, EventsStored):
            for view in event.views:
                self._stored(view)
        elif isinstance(event, CameraStatusChanged):
            if event.camera_id in self._camera_status:
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
                    dumps(
                        {
                            "event_type": "fall",
                            "at": view.ts.isoformat(),
                            "room": room,
                            "event_id": view.id,
                            "detail": view.detail,
                        }
                    ),
                )
            )
        elif view.kind in ("sensing.node_online", "sensing.node_offline"):
            node = view.detail.get("node")
            if isinstance(node, str) and node:
                status = view.kind.removeprefix("sensing.node_")
                self._set(self.topics.node(node), {"status": status, "room": room})

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
                {"event": change, "alert": body, "thumbnail": self._thumbnail(alert)}
            )
        else:
            payload = dumps({"event": change, "alert": body})
        self._queue(_Event(self.topics.alert_events, payload))

    def _set_camera(self, camera: str) -> None:
        status, detail = self._camera_status.get(camera, ("starting", ""))
        people = len(self._tracks.get(camera, ()))
        self._set(
            self.topics.camera(camera),
            {"status": status, "detail": detail, "people": people, "occupied": people > 0},
        )

    def _set_room(self, room: str, people: int) -> None:
        self._room_people[room] = people
        self._set(self.topics.room(room), {"people": people, "occupied": people > 0})

    def _set_open_alerts(self) -> None:
        with self._lock:
            ids = sorted(self._open)
        self._set(self.topics.open_alerts, {"count": len(ids), "alerts": ids})

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
        """Publish; what could not be sent (the broker went away) is put back."""
        client = self._client
        try:
            if discovery and self.config.discovery:
                for topic, config in discovery_configs(
                    self.topics, self._cameras, self._rooms
                ).items():
                    self._publish(client, topic, dumps(config), 1, True)
            for topic, payload in list(dirty.items()):
                self._publish(client, topic, payload, 1, True)
                del dirty[topic]
            while events:
                event = events[0]
                payload = event.payload() if callable(event.payload) else event.payload
                self._publish(client, event.topic, payload, event.qos, False)
                events.pop(0)
        except _NotSentError:
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

    def _publish(
        self, client: paho.Client, topic: str, payload: bytes, qos: int, retain: bool
    ) -> None:
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
        wanted = [(self.topics.ha_status, 1), (self.topics.commands, 1)]
        if self._catch_up:
            wanted.append((self.topics.open_alerts, 1))  # its retained value: what was told
        client.subscribe(wanted)
        with self._lock:
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
        client.unsubscribe(self.topics.open_alerts)
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
                _Event(
                    self.topics.alert_events, dumps({"event": "new", "alert": body, "late": True})
                )
            )

    def _on_message(
        self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        if message.topic == self.topics.open_alerts:
            if self._catch_up:
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
            return
        try:
            self._commands.put_nowait((command[0], command[1], bytes(message.payload)))
        except queue.Full:
            log.warning("MQTT: command from %s dropped: too many waiting", command[0])

    # -- commands (their own thread: they wait on the store writer) ----------------------------
    def _command_loop(self) -> None:
        while (item := self._commands.get()) is not None:
            broker_user, command, payload = item
            try:
                result = self._run_command(broker_user, command, payload)
            except Exception as exc:  # never let one command stop the others
                log.exception("MQTT command %s from %s failed", command, broker_user)
                result = {"ok": False, "error": f"failed: {exc}"}
            self._queue(
                _Event(self.topics.result(broker_user), dumps({"command": command, **result}))
            )

    def _run_command(self, broker_user: str, command: str, payload: bytes) -> dict[str, Any]:
        account = self.config.commands.get(broker_user)
        actor = self._actions.actor_of(account) if self._actions and account else None
        if actor is None:
            why = (
                f"broker user {broker_user!r} is not mapped to a service account ([mqtt.commands])"
                if account is None
                else f"{account!r} is not an enabled service account"
            )
            self._refuse(broker_user, command, why)
            return {"ok": False, "error": why}
        if command not in COMMANDS:
            return {"ok": False, "error": f"unknown command {command!r} ({', '.join(COMMANDS)})"}
        try:
            body = json.loads(payload[:MAX_COMMAND_BYTES].decode("utf-8")) if payload else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {"ok": False, "error": f"the payload is not JSON: {exc}"}
        if not isinstance(body, dict) or len(payload) > MAX_COMMAND_BYTES:
            return {"ok": False, "error": "expected a JSON object of at most 4 kB"}
        assert self._actions is not None
        try:
            if command == "ack":
                alert_id = body.get("alert")
                note = body.get("note", "")
                if isinstance(alert_id, bool) or not isinstance(alert_id, int):
                    return {"ok": False, "error": "'alert' must be an alert id (a number)"}
                if not isinstance(note, str):
                    return {"ok": False, "error": "'note' must be text"}
                self._actions.acknowledge(actor, alert_id, note)
                self.commands_run += 1
                return {"ok": True, "alert": alert_id}
            rule = body.get("rule")
            if not isinstance(rule, str) or not rule:
                return {"ok": False, "error": "'rule' must be a rule's name"}
            self._actions.arm(actor, rule, command == "arm")
            self.commands_run += 1
            return {"ok": True, "rule": rule, "armed": command == "arm"}
        except PermissionDeniedError as exc:
            self.commands_refused += 1
            return {"ok": False, "error": str(exc)}  # the engine audited the refusal
        except (LookupError, ValueError, RuntimeError) as exc:
            return {"ok": False, "error": str(exc)}

    def _refuse(self, broker_user: str, command: str, why: str) -> None:
        """Audit a command from a broker user no service account stands behind."""
        self.commands_refused += 1
        log.warning("MQTT command %s refused: %s", command, why)
        if self._writer is not None:
            self._writer.post(
                AppendAudit(
                    at=self._clock.now(),
                    actor=f"mqtt:{broker_user}",
                    action=f"mqtt.{command}",
                    target=f"mqtt:{self.topics.base}",
                    outcome="denied",
                    detail={"reason": why},
                )
            )

    def _load_open_alerts(self) -> None:
        if self._store is None:
            return
        try:
            alerts = list_alerts(self._store, open_only=True, limit=OPEN_ALERTS_READ)
        except Exception as exc:  # the database away: the open alerts come as they change
            log.warning("MQTT: open alerts not read: %s", exc)
            return
        with self._lock:
            for alert in alerts:
                self._open[alert.alert_id] = alert.as_json()
        for alert in alerts:
            self._set(self.topics.alert(alert.alert_id), alert.as_json())
        self._set_open_alerts()


class _NotSentError(RuntimeError):
    """paho did not take a message (the broker is away)."""
