"""MQTT: how soon what the engine stores reaches a subscriber, and whether a broker that is
away for a minute costs any alert state.

The real engine (``EngineRuntime``, as ``watchfloor`` runs it: store, writer, camera,
detector, tracker, clips, alerts, the simulated sensing room) runs the demo plaza with an
``[mqtt]`` table pointing at a real broker (Debian's mosquitto on loopback, with passwords
and an ACL). An alert rule ("anyone on the plaza") raises alerts; a subscriber playing Home
Assistant acknowledges each one over MQTT as soon as it hears of it (as the service account
an admin granted its broker user, with that account's token in each command; ``[mqtt]
commands_per_minute = 600`` so that no acknowledgement waits on the rate limit), so the next
person raises the next. ``[alerts]
group_window_s = 0`` and ``risk_provider = "none"`` as in ``benchmarks/alert_latency.py``.

Latency is measured in this one process on one clock: from the moment the engine publishes
the alert's event on its bus (:class:`AlertRaised` or :class:`AlertChanged`, after the row
is committed) to the moment the subscriber's client hands the message over. Falls (from the
simulated room) are counted the same way when they happen. Messages published while the
broker is away are counted apart (held, then delivered once it is back). Target: p95 <
200 ms.

At ``--outage-at`` the broker is stopped for ``--outage-s`` (60 s); alerts raised and
acknowledged meanwhile are queued or superseded. It comes back without its retained
messages (no persistence, as after a crash); a subscriber that connects after it then
checks that the retained open alerts equal the store's and that availability and the
camera's state are there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.inputs import private_dirs, vtest_path

TARGET_P95_MS = 200.0
RULE = "Anyone on the plaza"
SERVICE = "ha-service"


def _site(tmp: Path, broker_url: str) -> Path:
    from resources import DEMO_SITE

    text = Path(DEMO_SITE).read_text(encoding="utf-8")
    text = text.replace(
        'url = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"', f'url = "{vtest_path()}"'
    )
    text += (
        '\n[alerts]\ngroup_window_s = 0\nrisk_provider = "none"\ncamera_offline_s = 0\n'
        f'[mqtt]\nurl = "{broker_url}"\nuser = "watchfloor"\ncommands_per_minute = 600\n'
    )
    path = tmp / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(seconds: float = 180.0, outage_at: float = 60.0, outage_s: float = 60.0) -> dict[str, Any]:
    with private_dirs("wf-mqtt-") as tmp:
        return _run(seconds, outage_at, outage_s, tmp)


def _run(seconds: float, outage_at: float, outage_s: float, tmp: Path) -> dict[str, Any]:
    import os
    from datetime import UTC, datetime

    from engine.access import Role, machine_actor
    from engine.accounts import CreateAccount, hash_token, new_service_token
    from engine.alerts import actions as alert_actions
    from engine.alerts.records import list_alerts
    from engine.alerts.rules import RuleSpec
    from engine.alerts.service import AlertChanged, AlertRaised
    from engine.config import load_site
    from engine.events import Event
    from engine.mqtt.grants import GrantMqtt
    from engine.mqtt.topics import Topics
    from engine.runtime import EngineRuntime
    from engine.sensing.service import SensingRecord
    from engine.store.database import Store
    from tests.mosquitto import PASSWORDS, Broker, Subscriber

    broker = Broker(tmp / "broker")
    broker.start()
    os.environ["WATCHFLOOR_MQTT_PASSWORD"] = PASSWORDS["watchfloor"]
    site = load_site(_site(tmp, broker.url))
    assert site.mqtt is not None
    topics = Topics(site.mqtt, site.name)
    runtime = EngineRuntime(site, Store(f"sqlite:///{tmp / 'mqtt.db'}"))
    published: dict[tuple[str, int], float] = {}  # (what, id) → perf_counter at the bus
    lock = threading.Lock()

    def on_event(event: Event) -> None:
        now = time.perf_counter()
        key: tuple[str, int] | None = None
        if isinstance(event, AlertRaised):
            key = ("new", event.alert.alert_id)
        elif isinstance(event, AlertChanged):
            key = (event.change, event.alert.alert_id)
        elif isinstance(event, SensingRecord) and event.kind == "sensing.fall_detected":
            key = ("fall", int(event.at.timestamp() * 1000))
        if key is not None:
            with lock:
                published.setdefault(key, now)

    runtime.bus.subscribe(Event, on_event)
    runtime.start()
    assert runtime.writer is not None and runtime.store is not None
    token = new_service_token()
    runtime.writer.execute(
        CreateAccount(
            name=SERVICE,
            roles=frozenset({Role.OPERATOR}),
            at=datetime.now(UTC),
            actor=machine_actor(),
            token_hash=hash_token(token),
        )
    )
    runtime.writer.execute(
        GrantMqtt(
            broker_user="homeassistant", account=SERVICE, at=datetime.now(UTC),
            actor=machine_actor(),
        )
    )  # fmt: skip
    alert_actions.add_rule(
        runtime.alerts,
        runtime.writer,
        runtime.clock,
        machine_actor(),
        RuleSpec(rule_id=0, name=RULE, camera="plaza", room=None, trigger="person"),
    )
    heard: dict[tuple[str, int], float] = {}
    away = [float("inf"), float("inf")]  # perf clock: the broker stopped, its state back
    ha = Subscriber(broker, "homeassistant", [f"{topics.base}/#"])
    acked: set[int] = set()
    outage: dict[str, Any] = {}
    try:
        started = time.monotonic()
        seen = 0
        while time.monotonic() - started < seconds:
            time.sleep(0.05)
            elapsed = time.monotonic() - started
            if not outage and elapsed >= outage_at:
                broker.stop()
                away[0] = time.perf_counter()
                outage = {"stopped_at_s": round(elapsed, 1)}
                ha.close()
            if outage and "started_at_s" not in outage and elapsed >= outage_at + outage_s:
                broker.start()
                outage["started_at_s"] = round(elapsed, 1)
                outage["open_in_store_at_restart"] = len(list_alerts(runtime.store, open_only=True))
                ha = Subscriber(broker, "homeassistant", [f"{topics.base}/#"])
                seen = 0
                _check_state(ha, topics, runtime, outage)
                away[1] = time.perf_counter()
            if not outage or "started_at_s" in outage:
                received = list(zip(ha.received, ha.times, strict=False))
                for message, at in received[seen:]:
                    _hear(message, at, topics, heard, ha, acked, token)
                seen = len(received)
    finally:
        ha.close()
        runtime.stop()
        broker.stop()
    latencies: dict[str, list[float]] = {"alert": [], "fall": []}
    held = 0  # published while the broker was away: delivered when it came back
    for key, at in heard.items():
        sent = published.get(key)
        if sent is None:
            continue
        if away[0] <= sent <= away[1]:
            held += 1
            continue
        latencies["fall" if key[0] == "fall" else "alert"].append((at - sent) * 1000)
    outage["held_then_delivered"] = held
    return {
        "seconds": seconds,
        "alerts_raised": sum(1 for k in published if k[0] == "new"),
        "alert_messages_timed": len(latencies["alert"]),
        "alert_latency_ms": _summary(latencies["alert"]),
        "fall_messages_timed": len(latencies["fall"]),
        "fall_latency_ms": _summary(latencies["fall"]),
        "target_p95_ms": TARGET_P95_MS,
        "acknowledged_over_mqtt": len(acked),
        "commands_run": runtime.mqtt.service.commands_run if runtime.mqtt.service else 0,
        "commands_refused": runtime.mqtt.service.commands_refused if runtime.mqtt.service else 0,
        "outage": outage,
        "mqtt_sent": runtime.mqtt.service.sent if runtime.mqtt.service else 0,
        "mqtt_dropped": runtime.mqtt.service.dropped if runtime.mqtt.service else 0,
    }


def _hear(
    message: Any,
    at_wall: float,
    topics: Any,
    heard: dict[tuple[str, int], float],
    ha: Any,
    acked: set[int],
    token: str,
) -> None:
    """One message the subscriber received: timed (on the perf clock) and, for a new alert,
    acknowledged over MQTT at once."""
    at = time.perf_counter() - (time.time() - at_wall)
    if message.topic == topics.alert_events:
        body = json.loads(message.payload)
        alert_id = int(body["alert"]["alert"])
        heard.setdefault((str(body["event"]), alert_id), at)
        if body["event"] == "new" and alert_id not in acked:
            acked.add(alert_id)
            ha.publish(
                f"{topics.base}/command/homeassistant/ack",
                json.dumps({"alert": alert_id, "note": "benchmark", "token": token}),
            )
    elif message.topic.endswith("/fall"):
        body = json.loads(message.payload)
        from datetime import datetime

        stamp = int(datetime.fromisoformat(body["at"]).timestamp() * 1000)
        heard.setdefault(("fall", stamp), at)


def _check_state(ha: Any, topics: Any, runtime: Any, outage: dict[str, Any]) -> None:
    """After the broker's restart: the retained state as a new subscriber finds it."""
    from engine.alerts.records import list_alerts

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and ha.latest(topics.open_alerts) is None:
        time.sleep(0.05)
    outage["state_back_after_s"] = round(60 - (deadline - time.monotonic()), 2)
    time.sleep(1.0)  # what the engine sends on connecting has all arrived
    told = ha.latest(topics.open_alerts)
    stored = sorted(a.alert_id for a in list_alerts(runtime.store, open_only=True))
    retained = sorted(json.loads(told.payload)["alerts"]) if told is not None else None
    outage["open_alerts_retained"] = retained
    outage["open_alerts_stored"] = stored
    availability = ha.latest(topics.availability)
    outage["availability"] = availability.payload.decode() if availability else None
    outage["camera_state_retained"] = ha.latest(topics.camera("plaza")) is not None
    outage["state_correct"] = (
        retained == stored
        and outage["availability"] == "online"
        and outage["camera_state_retained"]
    )


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--outage-at", type=float, default=60.0)
    parser.add_argument("--outage-s", type=float, default=60.0)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.outage_at, args.outage_s), indent=2))


if __name__ == "__main__":
    main()
