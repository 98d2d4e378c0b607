"""The site services: what a site runs once, on the engine holding their lease on a shared
site. The incident service (reports, the risk model and its nightly refit) and meaning
search's indexer; on a shared site the MQTT client publishing the whole site goes with
them (:meth:`engine.mqtt.host.MqttHost.start_shared`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import SiteConfig
from engine.data_dirs import data_dir
from engine.identity.faces_store import FaceMemory
from engine.incidents.records import MediaInput
from engine.incidents.service import IncidentService
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.text_search.index import TextIndexer
from engine.text_search.search import search_for
from engine.vision.detect import DEFAULT_DETECTOR, make_detector

log = logging.getLogger(__name__)


class SiteServices:
    def __init__(self, site: SiteConfig, bus: EventBus, clock: Clock) -> None:
        self._site = site
        self._bus = bus
        self._clock = clock
        self.incidents: IncidentService | None = None  # reports, risk map, nightly refit
        # Meaning search's vectors of reports, bookmarks and events.
        self.text_indexer: TextIndexer | None = None

    def start(self, store: Store, writer: StoreWriter, site_id: int) -> None:
        origin = self._site.geo_origin
        prepare, similarity = incident_media_tools(
            store, writer, self._clock, self._site.detector_model, self._site.detector
        )
        self.incidents = IncidentService(
            store,
            writer,
            self._clock,
            models_dir=data_dir() / "models",
            bus=self._bus,
            site_id=site_id,
            site_centre=(origin.lat, origin.lon),
            prepare_media=prepare,
            similarity=similarity,
        )
        self.incidents.start()  # loads the risk model; catches up a missed refit
        self.text_indexer = TextIndexer(
            search_for(store), store, writer.submit, clock=self._clock, bus=self._bus
        )
        self.text_indexer.start()  # its own thread: stored vectors, then what is new

    def stop_incidents(self) -> None:
        """At the engine's stop, before the cameras: a refit under way finishes (it writes)."""
        if self.incidents is not None:
            self.incidents.stop()

    def stop_indexer(self) -> None:
        """At the engine's stop, after retention: the batch in hand is stored; the rest
        waits for next time."""
        if self.text_indexer is not None:
            self.text_indexer.stop()

    def hand_over(self) -> None:
        """A shared site's engine lost their lease: both stop here (another engine runs
        them)."""
        incidents, self.incidents = self.incidents, None
        if incidents is not None:
            incidents.stop()
        indexer, self.text_indexer = self.text_indexer, None
        if indexer is not None:
            indexer.stop()


def incident_media_tools(
    store: Store,
    writer: StoreWriter,
    clock: Clock,
    detector_model: Path | None = None,
    detector: str = DEFAULT_DETECTOR,
) -> tuple[Callable[[Path], MediaInput], Callable[[Any, Any], float]]:
    """How a report's photo or video is prepared (checked, copied into the data dir,
    analysed with the cameras' person detector and the face memory) and compared: for the
    incident desk. The detector is made on first use, its own (not a camera's), and one
    file is analysed at a time."""
    from engine.incidents.media import prepare_media, similarity

    lock = threading.Lock()
    tools: dict[str, Any] = {}

    def prepare(path: Path) -> MediaInput:
        with lock:
            if "detector" not in tools:
                tools["detector"] = make_detector(detector_model, detector)
                try:
                    tools["faces"] = FaceMemory(store, writer, clock)
                except Exception as exc:  # face models missing: people are still counted
                    log.warning("incident media: faces not matched: %s", exc)
                    tools["faces"] = None
            return prepare_media(
                path, detector=tools["detector"], faces=tools["faces"], now=clock.now()
            )

    return prepare, similarity
