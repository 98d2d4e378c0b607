"""The Qt side of the query service: results handed to the GUI thread, stale ones dropped.

:class:`QtQueryClient` wraps an engine :class:`~engine.history.query_service.QueryService`
(napari's ``ensure_main_thread`` in spirit): the service calls back on a pool thread, the
client re-emits the result through a queued signal, and on the GUI thread it drops a result
whose channel has seen a newer request since, then calls the pane's callback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from engine.history.query_service import QueryRequest, QueryResult, QueryService
from widgets.queries import OnResult


class QtQueryClient(QObject):
    """Submits requests to ``service`` and delivers their results on the GUI thread.

    Satisfies :class:`widgets.queries.QueryClient`. Create, use and close it on the GUI
    thread. Callbacks bound to a Qt object that has been deleted meanwhile are skipped.
    """

    sig_result_delivered = Signal(object, object, bool)
    """Internal hop to the GUI thread, emitted on a pool thread: (QueryResult, callback,
    whether the request may be superseded). Connected queued, handled on the GUI thread."""

    def __init__(self, service: QueryService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._latest: dict[str, int] = {}  # channel -> newest supersedable generation
        self._closed = False
        self.dropped = 0
        """Results that reached the GUI thread after a newer request on their channel."""
        self.sig_result_delivered.connect(
            self._on_result_delivered, Qt.ConnectionType.QueuedConnection
        )

    @property
    def service(self) -> QueryService:
        return self._service

    def submit(self, channel: str, request: QueryRequest[Any], on_done: OnResult) -> int:
        """Run ``request`` on the pool, superseding the previous one on ``channel``;
        ``on_done`` runs on the GUI thread if it is still the newest. Returns its
        generation (0 after :meth:`close`, when nothing is submitted)."""
        if self._closed:
            return 0
        generation = self._service.submit(channel, request, self._hop(on_done, True))
        self._latest[channel] = generation
        return generation

    def submit_action(
        self, channel: str, action: Callable[[], Any], on_done: OnResult, *, name: str = ""
    ) -> int:
        """Run the blocking ``action()`` on the pool; ``on_done`` always runs on the GUI
        thread with its value or error. Returns its generation (0 after :meth:`close`)."""
        if self._closed:
            return 0
        return self._service.submit_action(channel, action, self._hop(on_done, False), name=name)

    def close(self) -> None:
        """Stop the service's threads; later submissions are ignored. Idempotent."""
        self._closed = True
        self._service.close()

    def _hop(self, on_done: OnResult, supersedable: bool) -> OnResult:
        def deliver(result: QueryResult[Any]) -> None:  # on a pool thread
            self.sig_result_delivered.emit(result, on_done, supersedable)

        return deliver

    def _on_result_delivered(
        self, result: QueryResult[Any], on_done: OnResult, supersedable: bool
    ) -> None:
        """GUI thread: drop stale or orphaned results, hand the rest to the pane."""
        if self._closed:
            return
        if supersedable and self._latest.get(result.channel) != result.generation:
            self.dropped += 1
            return
        owner = getattr(on_done, "__self__", None)
        if isinstance(owner, QObject) and not shiboken6.isValid(owner):
            return
        on_done(result)  # an exception here reaches sys.excepthook, like any slot's
