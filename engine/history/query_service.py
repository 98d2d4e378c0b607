"""Store reads (and blocking write actions) off the caller's thread, latest request wins.

Modelled on napari's ``components/_layer_slicer.py``: the caller (the console's GUI thread)
builds an immutable request, :class:`QueryService` runs it on a small thread pool, and the
result comes back as an immutable :class:`QueryResult`. Requests are grouped in *channels*
(``"events.page"``, ``"people.list"``): submitting on a channel supersedes the request still
pending there, which is cancelled if it has not started and has its result dropped if it
finishes anyway. Actions (renames, merges, erasures that wait on the store writer) are never
superseded: each one runs and reports.

Nothing here imports Qt; the console wraps the service to hand results to the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from engine.store.database import Store

_log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

THREAD_NAME_PREFIX = "query-worker"
"""Pool threads are named ``query-worker_0``, ``query-worker_1``…"""

DEFAULT_WORKERS = 2


@runtime_checkable
class QueryRequest(Protocol[T_co]):
    """A frozen description of one read: :meth:`run` executes it on a pool thread.

    Implementations are frozen dataclasses, so equal requests compare equal and a request can
    be handed between threads without locks. ``run`` opens its own session(s) on ``store``.
    """

    def run(self, store: Store) -> T_co:
        """Execute the request on the calling (pool) thread and return its value."""
        ...


@dataclass(frozen=True, slots=True)
class CallRequest(Generic[T]):
    """A blocking callable as a request: ``run`` ignores the store and calls ``call()``.

    For work the console already has as a function (listing people through the face memory,
    or a write that waits on the store writer's future). ``name`` is for logs and tests.
    """

    call: Callable[[], T]
    name: str = ""

    def run(self, store: Store) -> T:
        return self.call()


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    """The outcome of one request: ``value`` on success, else ``error`` (the exception
    ``run`` raised). ``generation`` numbers the submissions on ``channel`` (1, 2, …), so a
    receiver can tell whether a newer request has been made since."""

    channel: str
    request: QueryRequest[T]
    generation: int
    value: T | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


OnDone = Callable[[QueryResult[Any]], None]


@dataclass(slots=True)
class _Pending:
    generation: int
    future: Future[None] | None = field(default=None)


class QueryService:
    """Runs :class:`QueryRequest` objects for one store on ``workers`` named pool threads.

    Every public method may be called from any thread. ``on_done`` callbacks are called on
    a pool thread (never on the caller's thread), once per request that was neither
    cancelled nor superseded, and never after :meth:`close` has returned.
    """

    def __init__(self, store: Store, workers: int = DEFAULT_WORKERS) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.store = store
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=THREAD_NAME_PREFIX
        )
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._generations: dict[str, int] = {}
        self._closed = False
        self.superseded = 0
        """Requests cancelled or dropped because a newer one came on their channel."""

    def submit(self, channel: str, request: QueryRequest[T], on_done: OnDone) -> int:
        """Run ``request`` on the pool; supersede the request still pending on ``channel``.

        The previous request on the channel is cancelled if it has not started; if it is
        already running its result is dropped when it ends. Returns the new request's
        generation on the channel. Raises RuntimeError after :meth:`close`.
        """
        with self._lock:
            generation = self._next_generation(channel)
            previous = self._pending.get(channel)
            if previous is not None and previous.future is not None and previous.future.cancel():
                self.superseded += 1
            pending = _Pending(generation)
            self._pending[channel] = pending
            pending.future = self._executor.submit(
                self._run, channel, generation, request, on_done, True
            )
        return generation

    def submit_action(
        self, channel: str, action: Callable[[], T], on_done: OnDone, *, name: str = ""
    ) -> int:
        """Run the blocking ``action()`` on the pool and report it through ``on_done``.

        Unlike :meth:`submit`, an action is never cancelled or superseded (it changes
        data), and it does not supersede a request pending on ``channel``. The result's
        ``request`` is a :class:`CallRequest`. Returns the action's generation on the channel.
        """
        request = CallRequest(action, name)
        with self._lock:
            generation = self._next_generation(channel)
            self._executor.submit(self._run, channel, generation, request, on_done, False)
        return generation

    def is_current(self, channel: str, generation: int) -> bool:
        """Whether ``generation`` is the newest submission on ``channel`` (any thread)."""
        with self._lock:
            return self._generations.get(channel) == generation

    def close(self) -> None:
        """Cancel what has not started, wait for running requests, stop the pool threads.

        Results of requests still running are dropped. Call from the thread that owns the
        service (not from an ``on_done`` callback). Idempotent.
        """
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- pool side -----------------------------------------------------------------------

    def _next_generation(self, channel: str) -> int:
        if self._closed:
            raise RuntimeError("query service is closed")
        generation = self._generations.get(channel, 0) + 1
        self._generations[channel] = generation
        return generation

    def _run(
        self,
        channel: str,
        generation: int,
        request: QueryRequest[Any],
        on_done: OnDone,
        supersedable: bool,
    ) -> None:
        """Pool thread: run the request, then deliver unless closed or superseded."""
        try:
            result: QueryResult[Any] = QueryResult(
                channel, request, generation, value=request.run(self.store)
            )
        except Exception as exc:  # delivered to the receiver, who shows it
            result = QueryResult(channel, request, generation, error=exc)
        with self._lock:
            if self._closed:
                return
            if supersedable:
                pending = self._pending.get(channel)
                if pending is None or pending.generation != generation:
                    self.superseded += 1
                    return
                del self._pending[channel]
        try:
            on_done(result)
        except Exception:
            _log.exception("query %s: result callback failed", channel)
