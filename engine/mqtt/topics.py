"""Every MQTT topic Watchfloor uses and every payload it sends: JSON, UTF-8, stable.

``<base>`` is ``<topic_prefix>/<site>``, the site's name made a topic level (lower case,
letters, digits and ``_``). Retained topics say how things are now and are sent again each
time the engine (re)connects, so a broker that was away, or a subscriber that comes later,
has them right; the others are events, sent once.

Retained (state):

- ``<base>/availability``: ``online`` / ``offline`` (also the last will);
- ``<base>/alerts/open``: ``{"count": n, "alerts": [ids]}``;
- ``<base>/alert/<id>``: the open alert ``{…}``, emptied when acknowledged;
- ``<base>/camera/<camera>/state``: ``{"status", "detail", "people", "occupied"}``;
- ``<base>/room/<room>/state``: ``{"people", "occupied"}``;
- ``<base>/node/<node>/state``: ``{"status": "online"|"offline", "room"}``.

Events (not retained):

- ``<base>/alerts/event``: ``{"event": "new"|"updated"|"acknowledged"|"escalated",
  "alert": {…}}``; a new one has ``"thumbnail"`` (base64 JPEG, or null), an updated one the
  ``"sequence"`` and ``"camera"`` that joined it;
- ``<base>/room/<room>/fall``: ``{"event_type": "fall", "at", "room", "event_id", "detail"}``;
- ``<base>/incidents``: an incident report as filed or joined (``incident_id``, ``category``,
  ``severity``, ``confidence``, ``occurred_at``, …);
- ``<base>/command/<broker user>/result``: ``{"command", "ok", "error"?, …}``.

Commands in: ``<base>/command/<broker user>/ack`` ``{"token": "wft_…", "alert": id,
"note": "…"}``, ``…/arm`` and ``…/disarm`` ``{"token": "wft_…", "rule": "name"}``. The token
is that of the service account an admin granted the broker user (:mod:`engine.mqtt.grants`);
retained command messages are ignored (they would run again on every reconnection).

The engine also listens to its own retained topics: one that holds a payload the engine did
not publish is given the engine's own again (:class:`~engine.mqtt.publisher.MqttService`).

An alert's ``{…}`` is :meth:`engine.alerts.records.AlertView.as_json`. Times are ISO 8601
UTC. Home Assistant discovery configs go to
``<discovery_prefix>/<component>/watchfloor_<site>/<object>/config`` (retained).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from engine.mqtt.settings import MqttConfig

ONLINE: Final = "online"
OFFLINE: Final = "offline"
HA_STATUS: Final = "status"  # <discovery_prefix>/status: Home Assistant's birth and will
COMMANDS: Final = ("ack", "arm", "disarm")


def topic_word(text: str) -> str:
    """``text`` as one topic level: lower case, letters, digits and ``_``."""
    word = re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")
    return word or "site"


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one site under ``config``'s prefixes."""

    config: MqttConfig
    site: str

    @property
    def base(self) -> str:
        return f"{self.config.topic_prefix}/{topic_word(self.site)}"

    @property
    def node_id(self) -> str:
        """Home Assistant's node id (and the device's identifier) for this site."""
        return f"watchfloor_{topic_word(self.site)}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def alert_events(self) -> str:
        return f"{self.base}/alerts/event"

    @property
    def open_alerts(self) -> str:
        return f"{self.base}/alerts/open"

    def alert(self, alert_id: int) -> str:
        return f"{self.base}/alert/{alert_id}"

    def camera(self, camera: str) -> str:
        return f"{self.base}/camera/{topic_word(camera)}/state"

    def room(self, room: str) -> str:
        return f"{self.base}/room/{topic_word(room)}/state"

    def fall(self, room: str) -> str:
        return f"{self.base}/room/{topic_word(room)}/fall"

    def node(self, node: str) -> str:
        return f"{self.base}/node/{topic_word(node)}/state"

    @property
    def incidents(self) -> str:
        return f"{self.base}/incidents"

    @property
    def commands(self) -> str:
        """The subscription for every broker user's commands."""
        return f"{self.base}/command/+/+"

    @property
    def own_retained(self) -> list[str]:
        """Subscriptions covering every retained topic the engine publishes (its state and
        Home Assistant's discovery configs), to notice one holding what it did not say."""
        base = self.base
        patterns = [
            self.availability,
            self.open_alerts,
            f"{base}/alert/+",
            f"{base}/camera/+/state",
            f"{base}/room/+/state",
            f"{base}/node/+/state",
        ]
        if self.config.discovery:
            patterns.append(f"{self.config.discovery_prefix}/+/{self.node_id}/+/config")
        return patterns

    def result(self, broker_user: str) -> str:
        return f"{self.base}/command/{broker_user}/result"

    def command_of(self, topic: str) -> tuple[str, str] | None:
        """``(broker user, command)`` of a command topic (None: not one)."""
        prefix = f"{self.base}/command/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 2 or not parts[0] or parts[1] == "result":
            return None
        return parts[0], parts[1]

    @property
    def ha_status(self) -> str:
        return f"{self.config.discovery_prefix}/{HA_STATUS}"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.config.discovery_prefix}/{component}/{self.node_id}/{object_id}/config"


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def discovery_configs(
    topics: Topics, cameras: list[tuple[str, str]], rooms: list[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """Home Assistant's discovery configs, by topic: per camera an occupancy binary sensor,
    a people count and its status; per room an occupancy binary sensor, a people count and
    a fall event; for the site the open alerts. ``cameras``/``rooms``: ``(id, name)``."""
    device = {
        "identifiers": [topics.node_id],
        "name": f"Watchfloor {topics.site}",
        "manufacturer": "Watchfloor",
        "model": "Watchfloor engine",
    }
    common = {"availability_topic": topics.availability, "device": device}
    out: dict[str, dict[str, Any]] = {}

    def add(component: str, object_id: str, config: dict[str, Any]) -> None:
        unique = f"{topics.node_id}_{object_id}"
        out[topics.discovery(component, object_id)] = {
            **config,
            "unique_id": unique,
            "object_id": unique,
            **common,
        }

    def presence(word: str, name: str, state: str) -> None:
        """A place's occupancy and people count, read from its state topic."""
        add(
            "binary_sensor",
            f"{word}_occupancy",
            {
                "name": f"{name} occupancy",
                "device_class": "occupancy",
                "state_topic": state,
                "value_template": "{{ 'ON' if value_json.occupied else 'OFF' }}",
            },
        )
        add(
            "sensor",
            f"{word}_people",
            {
                "name": f"{name} people",
                "state_topic": state,
                "value_template": "{{ value_json.people }}",
                "state_class": "measurement",
                "unit_of_measurement": "people",
                "icon": "mdi:account-group",
            },
        )

    for camera, name in cameras:
        word = topic_word(camera)
        presence(word, name, topics.camera(camera))
        add(
            "sensor",
            f"{word}_status",
            {
                "name": f"{name} status",
                "state_topic": topics.camera(camera),
                "value_template": "{{ value_json.status }}",
                "icon": "mdi:cctv",
            },
        )
    for room, name in rooms:
        word = topic_word(room)
        presence(word, name, topics.room(room))
        add(
            "event",
            f"{word}_fall",
            {
                "name": f"{name} fall",
                "state_topic": topics.fall(room),
                "event_types": ["fall"],
                "icon": "mdi:human-handsdown",
            },
        )
    add(
        "sensor",
        "open_alerts",
        {
            "name": "Open alerts",
            "state_topic": topics.open_alerts,
            "value_template": "{{ value_json.count }}",
            "state_class": "measurement",
            "icon": "mdi:alarm-light",
        },
    )
    return out
