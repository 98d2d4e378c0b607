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

Every topic is declared once, in :data:`TOPIC_TABLE` (its name, direction, whether it is
retained and what it carries): :class:`Topics` names topics and subscriptions from it, and
the docs site's MQTT reference is generated from it and from the payload functions below.
"""

from __future__ import annotations

import enum
import json
import re
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from engine.mqtt.settings import MqttConfig
from engine.text import printable

ONLINE: Final = "online"
OFFLINE: Final = "offline"
HA_STATUS: Final = "status"  # <discovery_prefix>/status: Home Assistant's birth and will
COMMANDS: Final = ("ack", "arm", "disarm")


class Direction(enum.StrEnum):
    """Which way a topic's messages go."""

    PUBLISHED = "published"  # the engine sends them
    SUBSCRIBED = "subscribed"  # the engine listens to them


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic Watchfloor uses. ``pattern``: the topic with ``{base}``
    (``<topic_prefix>/<site>``), ``{discovery_prefix}``, ``{node_id}`` and its variable
    levels in braces; ``retained``: the broker keeps the last message (state, not events);
    ``watched``: the engine also subscribes to it, to notice a retained message it did not
    publish; ``carries``: what a message says, in words."""

    name: str
    pattern: str
    direction: Direction
    retained: bool
    carries: str
    watched: bool = False

    @property
    def levels(self) -> tuple[str, ...]:
        """The pattern's variable levels (``camera``, ``user``…), in order."""
        fixed = ("base", "discovery_prefix", "node_id")
        named = [name for _text, name, _spec, _conv in string.Formatter().parse(self.pattern)]
        return tuple(name for name in named if name and name not in fixed)


_OUT, _IN = Direction.PUBLISHED, Direction.SUBSCRIBED
TOPIC_TABLE: Final[tuple[TopicSpec, ...]] = (
    TopicSpec(
        "availability",
        "{base}/availability",
        _OUT,
        True,
        "online or offline (offline is also the engine's last will)",
        watched=True,
    ),
    TopicSpec(
        "open_alerts", "{base}/alerts/open", _OUT, True, "the open alerts' ids", watched=True
    ),
    TopicSpec(
        "alert",
        "{base}/alert/{alert}",
        _OUT,
        True,
        "one open alert; emptied when it is acknowledged",
        watched=True,
    ),
    TopicSpec(
        "camera",
        "{base}/camera/{camera}/state",
        _OUT,
        True,
        "a camera's status and how many people it sees",
        watched=True,
    ),
    TopicSpec(
        "room",
        "{base}/room/{room}/state",
        _OUT,
        True,
        "how many people WiFi sensing finds in a room",
        watched=True,
    ),
    TopicSpec(
        "node",
        "{base}/node/{node}/state",
        _OUT,
        True,
        "whether a sensing node is online, and its room",
        watched=True,
    ),
    TopicSpec(
        "alert_events",
        "{base}/alerts/event",
        _OUT,
        False,
        "an alert raised, updated (another person joined it), acknowledged or escalated",
    ),
    TopicSpec("fall", "{base}/room/{room}/fall", _OUT, False, "a possible fall in a room"),
    TopicSpec("incidents", "{base}/incidents", _OUT, False, "an incident as filed or joined"),
    TopicSpec(
        "ha_status",
        "{discovery_prefix}/" + HA_STATUS,
        _IN,
        False,
        "Home Assistant's birth and last will: online makes the engine send its discovery "
        "configs and state again",
    ),
    TopicSpec(
        "command",
        "{base}/command/{user}/{command}",
        _IN,
        False,
        "a command from a broker user: ack, arm or disarm (a retained one is ignored)",
    ),
    TopicSpec(
        "result",
        "{base}/command/{user}/result",
        _OUT,
        False,
        "the answer to a broker user's command",
    ),
    TopicSpec(
        "discovery",
        "{discovery_prefix}/{component}/{node_id}/{object}/config",
        _OUT,
        True,
        "a Home Assistant discovery config (sent when discovery is on)",
        watched=True,
    ),
)
TOPIC: Final = {spec.name: spec for spec in TOPIC_TABLE}


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

    def topic(self, name: str, **levels: str | int) -> str:
        """Topic ``name`` of :data:`TOPIC_TABLE` with its variable ``levels`` filled in."""
        return TOPIC[name].pattern.format(
            base=self.base,
            discovery_prefix=self.config.discovery_prefix,
            node_id=self.node_id,
            **levels,
        )

    def subscription(self, name: str) -> str:
        """Topic ``name`` with every variable level a ``+`` wildcard."""
        return self.topic(name, **dict.fromkeys(TOPIC[name].levels, "+"))

    @property
    def availability(self) -> str:
        return self.topic("availability")

    @property
    def alert_events(self) -> str:
        return self.topic("alert_events")

    @property
    def open_alerts(self) -> str:
        return self.topic("open_alerts")

    def alert(self, alert_id: int) -> str:
        return self.topic("alert", alert=alert_id)

    def camera(self, camera: str) -> str:
        return self.topic("camera", camera=topic_word(camera))

    def room(self, room: str) -> str:
        return self.topic("room", room=topic_word(room))

    def fall(self, room: str) -> str:
        return self.topic("fall", room=topic_word(room))

    def node(self, node: str) -> str:
        return self.topic("node", node=topic_word(node))

    @property
    def incidents(self) -> str:
        return self.topic("incidents")

    @property
    def commands(self) -> str:
        """The subscription for every broker user's commands."""
        return self.subscription("command")

    @property
    def own_retained(self) -> list[str]:
        """Subscriptions covering every retained topic the engine publishes (its state and
        Home Assistant's discovery configs), to notice one holding what it did not say."""
        return [
            self.subscription(spec.name)
            for spec in TOPIC_TABLE
            if spec.watched and (spec.name != "discovery" or self.config.discovery)
        ]

    @property
    def subscriptions(self) -> list[str]:
        """Everything the engine subscribes to: the topics it listens to (Home Assistant's
        status, the commands), then its own retained topics."""
        listened = [self.subscription(s.name) for s in TOPIC_TABLE if s.direction is _IN]
        return listened + self.own_retained

    def result(self, broker_user: str) -> str:
        return self.topic("result", user=broker_user)

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
        return self.topic("ha_status")

    def discovery(self, component: str, object_id: str) -> str:
        return self.topic("discovery", component=component, object=object_id)


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- the payloads (JSON objects; ``dumps`` makes them bytes) -------------------------------


def open_alerts_state(alert_ids: list[int]) -> dict[str, Any]:
    """``alerts/open``: how many alerts are open, and their ids (sorted)."""
    return {"count": len(alert_ids), "alerts": alert_ids}


def camera_state(status: str, detail: str, people: int) -> dict[str, Any]:
    """``camera/<camera>/state``: its status (``starting``, ``online``, ``offline``…) and
    why, and the people it sees now."""
    return {"status": status, "detail": detail, "people": people, "occupied": people > 0}


def room_state(people: int) -> dict[str, Any]:
    """``room/<room>/state``: the people WiFi sensing finds in the room now."""
    return {"people": people, "occupied": people > 0}


def node_state(status: str, room: str) -> dict[str, Any]:
    """``node/<node>/state``: ``online`` or ``offline``, and the node's room."""
    return {"status": status, "room": room}


def alert_event(event: str, alert: dict[str, Any], **more: Any) -> dict[str, Any]:
    """``alerts/event``: ``event`` (``new``, ``updated``, ``acknowledged``, ``escalated``)
    happened to ``alert`` (:meth:`engine.alerts.records.AlertView.as_json`). ``more``: a
    new alert's ``thumbnail`` (base64 JPEG or null, when the site asks for them) or
    ``late`` (raised while nobody published), an updated one's ``sequence`` and ``camera``
    (what joined it)."""
    return {"event": event, "alert": alert, **more}


def fall_event(at: datetime, room: str, event_id: int, detail: dict[str, Any]) -> dict[str, Any]:
    """``room/<room>/fall``: a possible fall, as Home Assistant's event entity reads it."""
    return {
        "event_type": "fall",
        "at": at.isoformat(),
        "room": room,
        "event_id": event_id,
        "detail": detail,
    }


def command_result(command: str, result: dict[str, Any]) -> dict[str, Any]:
    """``command/<user>/result``: which command this answers (as sent, made printable and
    cut at 32 characters), ``ok``, and the ``error`` or what it did."""
    return {"command": printable(command)[:32], **result}


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
