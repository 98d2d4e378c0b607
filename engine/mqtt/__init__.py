"""Watchfloor on MQTT: alerts, presence, falls and health published to a broker, Home
Assistant discovery, and acknowledgements and rule arming received from it.

:mod:`~engine.mqtt.settings` reads the site file's ``[mqtt]`` table,
:mod:`~engine.mqtt.topics` names the topics and builds every payload (the README's list),
:mod:`~engine.mqtt.publisher` keeps the broker told without ever making the engine wait.
"""
