"""The test broker's client helper: a :class:`Subscriber` is subscribed when it is made.

Before, it subscribed on its own network thread once the broker had accepted it, so a test
that made one and at once published (the MQTT flood test: 5,000 commands whose first answers
came back before its SUBSCRIBE reached the broker) lost those answers now and then, on a
busy machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mosquitto import Broker, Subscriber, mosquitto_installed

pytestmark = pytest.mark.skipif(not mosquitto_installed(), reason="mosquitto is not installed")


def test_a_subscriber_hears_what_is_published_the_moment_it_exists(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker", acl=False)
    broker.start()
    speaker = Subscriber(broker, "watchfloor", [])
    try:
        for attempt in range(20):  # each a fresh subscriber, each must hear its message
            listener = Subscriber(broker, "homeassistant", [f"helper/{attempt}"])
            try:
                speaker.publish(f"helper/{attempt}", b"now")
                heard = listener.wait(lambda: listener.on(f"helper/{attempt}"))  # noqa: B023
                assert heard[0].payload == b"now"
            finally:
                listener.close()
    finally:
        speaker.close()
        broker.stop()
