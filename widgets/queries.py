"""What a pane needs to read the store without touching it: a query client.

The console gives each pane an object satisfying :class:`QueryClient` (its Qt adapter over
the engine's query service). Panes build frozen requests, submit them and get the results
back on the GUI thread; they never open sessions or start threads themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from engine.history.query_service import QueryRequest, QueryResult

OnResult = Callable[[QueryResult[Any]], None]
"""Receives a result on the GUI thread."""


class QueryClient(Protocol):
    """Runs requests off the GUI thread and calls back on it.

    ``submit`` supersedes the request still pending on the same channel: ``on_done`` runs on
    the GUI thread only for the newest request of each channel (stale answers are dropped).
    ``submit_action`` runs a blocking callable (a write that waits on the store writer) that
    is never superseded; its ``on_done`` always runs on the GUI thread, with the value or the
    exception in the result. Both return the submission's generation on its channel.
    """

    def submit(self, channel: str, request: QueryRequest[Any], on_done: OnResult) -> int: ...

    def submit_action(
        self, channel: str, action: Callable[[], Any], on_done: OnResult, *, name: str = ""
    ) -> int: ...
