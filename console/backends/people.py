"""What the People pane may do, bound to the running engine's store and face memory.

Every method blocks until its work is stored; the console runs them on the query service's
worker threads (through :class:`console.queries.QtQueryClient`), never on the GUI thread.
Changes are made as the person logged in at the console (:class:`console.session.ConsoleSession`),
whose permissions the engine checks; with nobody logged in they are refused. A change also
refreshes the sensing room's BLE registry: it names blobs by their carriers' names.
"""

from __future__ import annotations

import threading

from console.session import ConsoleSession
from engine.identity.erasure import erase_person
from engine.identity.faces_store import FaceMemory
from engine.identity.people import PersonView, list_people
from engine.paths import data_dir
from engine.runtime import EngineRuntime
from engine.store.database import Store
from engine.store.writer import StoreWriter


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
        self._runtime.refresh_ble_registry()  # the absorbed person's devices moved to keep

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
        self._runtime.refresh_ble_registry()  # their devices went with them
        return report.summary
