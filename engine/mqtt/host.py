"""The site's MQTT client (``[mqtt]``) as the runtime runs it: started before the cameras
(it hears them start), on a shared site by the engine holding the site services only,
where it follows every engine of the site over the database and publishes the whole site.
A problem shows in the ``mqtt`` health line; it never makes the engine wait."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from engine.alerts import actions as alert_actions
from engine.alerts.service import AlertService
from engine.bus import EventBus
from engine.clock import Clock
from engine.cluster.live import LiveFollower, process_name
from engine.data_dirs import data_dir
from engine.events import HealthState
from engine.health import HealthReport
from engine.mqtt.grants import prove_sender
from engine.mqtt.publisher import CommandActions, MqttService
from engine.mqtt.settings import MqttConfig
from engine.mqtt.topics import Topics
from engine.secrets import SecretError, read_secret
from engine.store.database import Store
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

SHARED_MQTT = "published by the engine holding the site services"  # a shared site's others


class MqttHost:
    """Runs the site's MQTT client (none without ``config``). ``alerts`` gives the alert
    service a command from the broker acts on (read at each command)."""

    def __init__(
        self,
        config: MqttConfig | None,
        site: str,
        *,
        cameras: Sequence[tuple[str, str]],
        rooms: Sequence[tuple[str, str]],
        store: Store | None,
        writer: StoreWriter | None,
        alerts: Callable[[], AlertService | None],
        clock: Clock,
    ) -> None:
        self.config = config
        self._site = site
        self._cameras = list(cameras)
        self._rooms = list(rooms)
        self._store = store
        self._writer = writer
        self._alerts = alerts
        self._clock = clock
        self.service: MqttService | None = None
        self._follower: LiveFollower | None = None  # a shared site's
        self.problem: str | None = None

    def start(self, bus: EventBus, *, shared: bool) -> None:
        """Publish to the broker (connecting in the background). On a shared site
        (``shared``) the engine holding the site services publishes (:meth:`start_shared`)."""
        if self.config is None:
            return
        if shared:
            self.problem = SHARED_MQTT
            return
        self.service = self._service(self.config, bus, None)
        if self.service is not None:
            self.service.start()

    def _service(self, config: MqttConfig, bus: EventBus, engine: str | None) -> MqttService | None:
        """The MQTT client of this site, hearing ``bus`` (None: no password for its user)."""
        password = None
        if config.user is not None:
            try:
                password = read_secret("mqtt_password").reveal()
            except SecretError as exc:
                self.problem = f"user {config.user} needs a password: {exc}"
                log.error("MQTT off: %s", self.problem)
                return None
        store = self._store
        actions = (
            CommandActions(
                acknowledge=lambda actor, alert_id, note: alert_actions.acknowledge_alert(
                    self._alerts(), actor, alert_id, note
                ),
                arm=lambda actor, name, armed: alert_actions.arm_rule(
                    self._alerts(), self._writer, self._clock, actor, name, armed
                ),
                prove=functools.partial(prove_sender, store),
            )
            if store is not None
            else None
        )
        node_id = Topics(config, self._site).node_id
        return MqttService(
            config,
            self._site,
            cameras=self._cameras,
            rooms=self._rooms,
            bus=bus,
            store=store,
            writer=self._writer,
            actions=actions,
            password=password,
            media_root=data_dir(),
            clock=self._clock,
            client_id=f"watchfloor-{node_id}" + (f"-{engine}" if engine else ""),
            catch_up=engine is not None,  # a shared site's: it may take over from another
        )

    def start_shared(self, site_id: int, engine: str) -> None:
        """A shared site's MQTT, on the engine holding the site services: it follows every
        engine of the site as an attached console does (LISTEN/NOTIFY, on a bus of its own,
        this engine's own notes included) and publishes the whole site."""
        if self.config is None:
            return
        store = self._store
        if store is None or store.backend != "postgresql":
            self.problem = "a shared site publishes to MQTT from PostgreSQL only"
            return
        bus = EventBus()
        service = self._service(self.config, bus, engine)
        if service is None:
            return
        follower = LiveFollower(
            store,
            bus,
            site_id=site_id,
            site_name=self._site,
            sender=f"{process_name(engine)}/mqtt",  # hears this engine's notes too
            clock=self._clock,
        )
        service.start()
        follower.start()
        self.service, self._follower = service, follower
        self.problem = None

    def stop_shared(self) -> None:
        """This engine no longer holds the site services: another one publishes."""
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.stop()
        service, self.service = self.service, None
        if service is not None:
            service.stop()
        self.problem = SHARED_MQTT

    def stop(self) -> None:
        if self._follower is not None:
            self._follower.stop()
        if self.service is not None:
            self.service.stop()  # says "offline" while the broker is there to hear it

    def health(self) -> HealthReport | None:
        """The ``mqtt`` line (None: no MQTT here, nothing to say)."""
        if self.service is None and not self.problem:
            return None
        if self.service is None and self.problem == SHARED_MQTT:
            return HealthReport("mqtt", HealthState.OFF, SHARED_MQTT)  # another engine's
        if self.service is None:
            return HealthReport("mqtt", HealthState.DOWN, self.problem or "not started")
        state, detail = self.service.health()
        return HealthReport("mqtt", state, detail)

    def report(self) -> dict[str, Any] | None:
        return self.service.report() if self.service is not None else None
