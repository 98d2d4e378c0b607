"""What the People pane may do, bound to the running engine's store and face memory.

Every method blocks until its work is stored; the console runs them on the query service's
worker threads (through :class:`console.queries.QtQueryClient`), never on the GUI thread.
Changes are made as the person logged in at the console (:class:`console.session.ConsoleSession`),
whose permissions the engine checks; with nobody logged in they are refused. A change also
refreshes the sensing room's BLE registry: it names blobs by their carriers' names.

The pane's "Path across senses" section reads people's paths (:class:`PersonPaths`): a
person's recent ones, and today's (the site's day) of people nobody has named.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from console.session import ConsoleSession
from engine.data_dirs import data_dir
from engine.history.paths import PathsRequest, PersonPath
from engine.identity.erasure import erase_person
from engine.identity.faces_store import FaceMemory
from engine.identity.people import PersonView, list_people
from engine.runtime import EngineRuntime
from engine.sitetime import SiteTime
from engine.store.database import Store
from engine.store.writer import StoreWriter

RECENT_PATHS: Final = 20  # a person's paths listed, newest first
UNNAMED_PATHS: Final = 100  # today's paths of people nobody named, newest first


@dataclass(frozen=True, slots=True)
class PersonPaths:
    """People's paths across senses as the People pane lists them (blocking reads, run on
    query workers); ``now`` is the engine clock, ``site_time`` the site's zone (its day)."""

    store: Store
    site_time: SiteTime
    now: Callable[[], datetime]

    def of_person(self, public_id: str) -> list[PersonPath]:
        """The person's :data:`RECENT_PATHS` newest paths."""
        request = PathsRequest(self.site_time, person=public_id, limit=RECENT_PATHS)
        return request.run(self.store)

    def unnamed_today(self) -> list[PersonPath]:
        """Today's paths (since the site's midnight) of people nobody has named: someone
        unknown, or known only by an automatic id."""
        start, end = self.site_time.day_bounds(self.site_time.day_of(self.now()))
        request = PathsRequest(
            self.site_time, after=start, before=end, limit=UNNAMED_PATHS, unnamed=True
        )
        return request.run(self.store)


class PeopleBackend:
    """Blocking calls for the People pane, run on query worker threads (two may run at
    once). Uses the engine's own face memory when it runs one, so renames and erasures take
    effect in live recognition."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._session = session  # who the engine checks and audits: the logged-in person
        self._store = store
        self._memory: FaceMemory | None = runtime.faces.memory if runtime.faces else None
        self._memory_lock = threading.Lock()  # worker threads may ask for it at once
        self.paths = PersonPaths(store, runtime.site.site_time, runtime.clock.now)

    def _writer(self) -> StoreWriter:
        writer = self._runtime.writer
        if writer is None:
            raise RuntimeError("the engine runs without a database")
        return writer

    def memory(self) -> FaceMemory:
        with self._memory_lock:
            return self._memory_locked()

    def _memory_locked(self) -> FaceMemory:
        if self._memory is None:
            self._memory = FaceMemory(self._store, self._writer(), self._runtime.clock)
        return self._memory

    # Before list(): in the class body, ``list`` names that method from there on.
    def paths_of(self, public_id: str) -> list[PersonPath]:
        return self.paths.of_person(public_id)

    def unnamed_paths_today(self) -> list[PersonPath]:
        return self.paths.unnamed_today()

    def list(self) -> list[PersonView]:
        return list_people(self._store)

    def rename(self, public_id: str, name: str | None) -> None:
        actor = self._session.require_actor("rename people")
        person = self.memory().rename(public_id, name, actor=actor)
        # Tracks showing them and blobs carrying their devices take the new name.
        self._runtime.person_renamed(public_id, person.name)

    def merge(self, keep: str, absorb: str) -> None:
        actor = self._session.require_actor("merge people")
        self.memory().merge(keep, absorb, actor=actor)
        self._runtime.sensing.refresh_ble_registry()  # the absorbed person's devices moved to keep

    def erase(self, public_id: str) -> str:
        actor = self._session.require_actor("erase people")
        report = erase_person(
            self._writer(),
            self.memory(),
            public_id,
            data_dir(),
            self._runtime.clock,
            actor=actor,
        )
        self._runtime.sensing.refresh_ble_registry()  # their devices went with them
        return report.summary
