"""What the chat pane may do, bound to the running engine: answer a question about recorded
history as the person signed in, and read back their conversation.

Every method blocks (the API, the store, the store writer) and runs on the query service's
workers (through :class:`console.queries.QtQueryClient`), never on the GUI thread. The engine's
:class:`~engine.history.chat.ChatService` is built on first use, on a worker, because building
it reads the API key from the environment or the OS keyring (which may block on D-Bus).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from console.remote_media import RemoteMedia, fetched
from console.session import ConsoleSession
from engine.data_dirs import data_dir
from engine.history.chat import ChatAnswer, ChatHistoryRequest, ChatService, read_pictures
from engine.history.chat.service import MAX_PICTURES_READ
from engine.runtime import EngineRuntime
from engine.store.database import Store
from widgets.chat.api import ChatHistory

HISTORY_TURNS = 200  # the pane shows this many of the newest turns


class ChatBackend:
    """Blocking calls for :class:`widgets.chat.view.ChatPane`, run on query workers (two
    may run at once). Satisfies :class:`widgets.chat.api.ChatActions`."""

    def __init__(
        self,
        runtime: EngineRuntime,
        store: Store,
        session: ConsoleSession,
        media_root: Path | None = None,
        recordings: RemoteMedia | None = None,
    ) -> None:
        self._runtime = runtime
        # Snapshots are written under the data dir (engine.runtime), so read from there.
        self._media_root = media_root if media_root is not None else data_dir()
        self._recordings = recordings  # attached: other machines' files, fetched on demand
        self._store = store
        self._session = session
        self._lock = threading.Lock()
        self._service: ChatService | None = None

    def service(self) -> ChatService:
        """The engine's chat service, built on first use (reads the API key; blocks)."""
        with self._lock:
            if self._service is None:
                self._service = ChatService(
                    self._store,
                    clock=self._runtime.clock,
                    site_time=self._runtime.site.site_time,  # "today" is the site's
                    writer=self._runtime.writer,
                    # Rooms by id and name before anything was sensed or handed over in them.
                    rooms={room.id: room.name for room in self._runtime.site.rooms},
                    # "How many people … now": the cameras this engine runs, as shown.
                    live=self._runtime.cameras.people_in_view,
                )
            return self._service

    def close(self) -> None:
        """Release the service's HTTP client (the window is closing; its queries are done)."""
        with self._lock:
            service, self._service = self._service, None
        if service is not None:
            service.close()

    def history(self) -> ChatHistory:
        actor = self._session.require_actor("read the chat history")
        service = self.service()
        turns = ChatHistoryRequest(account=actor.name, limit=HISTORY_TURNS).run(self._store)
        return ChatHistory(turns=turns, mode=service.mode, mode_reason=service.mode_reason)

    def ask(self, question: str, offline: bool, on_text: Callable[[str], None]) -> ChatAnswer:
        actor = self._session.require_actor("ask about recorded history")
        return self.service().ask(question, actor=actor, on_text=on_text, offline=offline)

    def pictures(self, paths: Sequence[str]) -> dict[str, bytes]:
        self._session.require_actor("see the people an answer counted")
        if self._recordings is not None:  # attached: fetched from the engines first
            for path in list(dict.fromkeys(paths))[:MAX_PICTURES_READ]:
                fetched(self._media_root, self._recordings, path)
        return read_pictures(self._media_root, paths)
