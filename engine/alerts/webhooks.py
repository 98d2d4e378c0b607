"""Alert delivery to webhooks: a JSON POST per alert and target, with a timeout and one
retry, and every delivery's outcome reported so that failures are visible.

A webhook that hangs or answers 500 never delays detection: :meth:`WebhookDispatcher.deliver`
only encodes the payload and queues it, one bounded queue per target, and returns at once.
Each target has its own worker thread (``alert-webhook-<n>``, ``n`` its position in the
targets), so a hanging target never delays another. A worker POSTs the payload (UTF-8
JSON), treats a non-2xx answer, a timeout or a connection error as a failure, waits
``retry_delay_s`` and tries exactly once more, then reports one :class:`DeliveryOutcome`.
Nothing vanishes silently: an alert that a full queue cannot take, that cannot be encoded,
or that is still queued when the dispatcher stops is reported as an outcome too.

URLs are shown masked (:func:`mask_url`) everywhere: outcomes, log lines, errors and
``repr``. A webhook URL often *is* the secret (Slack and Discord put the token in the path),
so only the scheme, user, host and port are shown.
"""

from __future__ import annotations

import base64
import collections
import http.client
import importlib.metadata
import json
import logging
import math
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from http import HTTPStatus
from typing import IO, Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

from engine.clock import REAL_CLOCK
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

THREAD_PREFIX: Final = "alert-webhook-"  # + the target's position in the dispatcher's targets
DEFAULT_TIMEOUT_S: Final = 5.0  # per attempt: connect, and each read of the answer
DEFAULT_RETRY_DELAY_S: Final = 1.0  # between the first attempt and the retry
DEFAULT_QUEUE_LIMIT: Final = 1000  # alerts waiting per target before new ones are dropped
DEFAULT_STOP_TIMEOUT_S: Final = 10.0
MASK: Final = "***"
ELIDED_PATH: Final = "/…"

DROPPED_QUEUE_FULL: Final = "dropped: queue full"
NOT_SENT_STOPPING: Final = "not sent: engine stopping"
NOT_RETRIED_STOPPING: Final = "not retried: engine stopping"

DeliveryId = int | str  # the caller's key for one delivery, e.g. the alert's id


def _user_agent() -> str:
    try:
        return f"Watchfloor/{importlib.metadata.version('watchfloor')}"
    except importlib.metadata.PackageNotFoundError:  # a frozen build without metadata
        return "Watchfloor"


USER_AGENT: Final = _user_agent()


def mask_url(url: str) -> str:
    """``url`` as it may be logged or shown: scheme, user, host and port only. A password
    becomes ``***`` and any path or query becomes ``/…`` (webhook tokens live there), e.g.
    ``https://user:***@hooks.example.com/…``. Something that is not a URL at all shows
    as ``***``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not parts.hostname:
        return MASK
    netloc = _host_port(parts.hostname, port)
    if parts.username is not None:
        user = parts.username + (f":{MASK}" if parts.password is not None else "")
        netloc = f"{user}@{netloc}"
    elided = ELIDED_PATH if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{netloc}{elided}"


def _host_port(hostname: str, port: int | None) -> str:
    host = f"[{hostname}]" if ":" in hostname else hostname  # IPv6 literal
    return host if port is None else f"{host}:{port}"


@dataclass(frozen=True, repr=False)
class WebhookTarget:
    """One configured webhook: ``url`` (http or https; a ``user:password@`` part is sent as
    HTTP Basic authentication, never in the request line), ``timeout_s`` (seconds, > 0)
    bounding each attempt's connect and each read of the answer, and extra ``headers``
    (name, value) sent with every POST. Raises ValueError naming the field and what is
    wrong; messages and ``repr`` show the URL masked."""

    url: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.url, str):
            raise ValueError(f"webhook url: must be text, got {type(self.url).__name__}")
        if self.url != self.url.strip() or any(c.isspace() for c in self.url):
            raise ValueError("webhook url: must not contain spaces or line breaks")
        try:
            parts = urlsplit(self.url)
            parts.port  # noqa: B018 - parsing the port is what validates it
        except ValueError as exc:
            raise ValueError(f"webhook url: invalid port or address ({exc})") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError(f"webhook url: scheme must be http or https, got {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError(f"webhook url: no host in {mask_url(self.url)}")
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int | float)
            or not math.isfinite(self.timeout_s)
            or self.timeout_s <= 0
        ):
            raise ValueError(
                f"webhook timeout_s: must be a number of seconds > 0, got {self.timeout_s!r}"
            )
        for header in self.headers:
            if (
                not isinstance(header, tuple)
                or len(header) != 2
                or not all(isinstance(part, str) for part in header)
            ):
                raise ValueError("webhook headers: each must be a (name, value) pair of text")
            name, value = header
            if not name or any(c in name for c in ":\r\n") or name != name.strip():
                raise ValueError(f"webhook headers: invalid header name {name!r}")
            if any(c in value for c in "\r\n"):
                raise ValueError(f"webhook headers: the value of {name!r} contains a line break")

    @property
    def masked_url(self) -> str:
        """The URL as it may be logged or shown (see :func:`mask_url`)."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.headers)
        return (
            f"WebhookTarget(url={self.masked_url!r}, timeout_s={self.timeout_s!r}, "
            f"headers=[{names}])"
        )


def parse_webhook_target(
    url: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    headers: Iterable[tuple[str, str]] = (),
) -> WebhookTarget:
    """A :class:`WebhookTarget` from configuration values: ``url`` with surrounding
    whitespace removed, ``timeout_s`` in seconds, ``headers`` as (name, value) pairs.
    Raises ValueError naming the field and what is wrong (the URL masked)."""
    if not isinstance(url, str):
        raise ValueError(f"webhook url: must be text, got {type(url).__name__}")
    try:
        pairs = tuple((name, value) for name, value in headers)
    except (TypeError, ValueError):
        raise ValueError("webhook headers: each must be a (name, value) pair of text") from None
    return WebhookTarget(url.strip(), timeout_s, pairs)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What became of one delivery to one target, reported once.

    ``delivery_id`` is the caller's key (e.g. the alert's id); ``target`` the target's
    position in the dispatcher's targets (the ``n`` of its thread: the masked URLs of two
    webhooks on one host look alike); ``url`` the target's masked URL; ``attempts`` the
    POSTs made (1 or 2; 0 when it was never sent: dropped from a full queue, not encodable,
    or still queued when the dispatcher stopped); ``status_code`` the last HTTP status
    received (None if there was none); ``error`` None when delivered, else why not, for
    people ("timed out after 5.0 s", "HTTP 500 Internal Server Error", "connection
    refused", "dropped: queue full", "not sent: engine stopping"). ``started_at`` and
    ``finished_at`` are UTC wall times from the dispatcher's clock; ``elapsed_s`` the
    seconds spent, retry delay included."""

    delivery_id: DeliveryId
    target: int
    url: str
    attempts: int
    delivered: bool
    status_code: int | None
    error: str | None
    started_at: datetime
    finished_at: datetime
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class _Queued:
    delivery_id: DeliveryId
    body: bytes


@dataclass(frozen=True, slots=True)
class _Attempt:
    status_code: int | None
    error: str | None  # None: delivered


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is a failure like any other non-2xx: urllib would otherwise turn a POST
    into a bodiless GET, or carry the credentials (basic auth) to whatever host the server
    names, and call it a success. For every outgoing request that carries credentials."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class _TargetWorker:
    """One target's queue and thread. The queue is shared with any thread calling
    :meth:`WebhookDispatcher.deliver` or ``stop`` (under ``cond``); the opener and the
    sending belong to the worker thread."""

    def __init__(self, index: int, target: WebhookTarget, dispatcher: WebhookDispatcher) -> None:
        self.index = index
        self.target = target
        self.masked_url = target.masked_url
        self.cond = threading.Condition()
        self.queue: collections.deque[_Queued] = collections.deque()
        self.thread = SupervisedThread(self._run, name=f"{THREAD_PREFIX}{index}")
        self._dispatcher = dispatcher
        self._opener = urllib.request.build_opener(NoRedirects)
        parts = urlsplit(target.url)
        assert parts.hostname is not None  # checked by WebhookTarget
        self._request_url = urlunsplit(
            (
                parts.scheme,
                _host_port(parts.hostname, parts.port),
                parts.path or "/",
                parts.query,
                "",
            )
        )
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(credentials.encode("utf-8")).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        headers.update(dict(target.headers))
        self._headers = headers

    # -- worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        stopping = self._dispatcher._stopping
        while True:
            with self.cond:
                while not self.queue and not stopping.is_set():
                    self.cond.wait()
                if stopping.is_set():
                    return  # what is still queued is reported by stop()
                item = self.queue.popleft()
            self._dispatcher._report(self._send(item))

    def _send(self, item: _Queued) -> DeliveryOutcome:
        """POST ``item``, once more after ``retry_delay_s`` if that failed (unless the
        dispatcher is stopping), and say how it went. Worker thread."""
        dispatcher = self._dispatcher
        started_at, started_s = dispatcher._now(), time.monotonic()
        attempt, attempts = self._post(item.body), 1
        if attempt.error is not None:
            if dispatcher._stopping.wait(dispatcher.retry_delay_s):
                attempt = _Attempt(attempt.status_code, f"{attempt.error}; {NOT_RETRIED_STOPPING}")
            else:
                log.info(
                    "webhook %s: delivery %r failed (%s), retrying",
                    self.masked_url,
                    item.delivery_id,
                    attempt.error,
                )
                attempt, attempts = self._post(item.body), 2
        outcome = DeliveryOutcome(
            delivery_id=item.delivery_id,
            target=self.index,
            url=self.masked_url,
            attempts=attempts,
            delivered=attempt.error is None,
            status_code=attempt.status_code,
            error=attempt.error,
            started_at=started_at,
            finished_at=dispatcher._now(),
            elapsed_s=time.monotonic() - started_s,
        )
        if outcome.delivered:
            log.debug("webhook %s: delivery %r delivered", self.masked_url, item.delivery_id)
        else:
            log.warning(
                "webhook %s: delivery %r failed after %d attempt%s: %s",
                self.masked_url,
                item.delivery_id,
                attempts,
                "" if attempts == 1 else "s",
                outcome.error,
            )
        return outcome

    def _post(self, body: bytes) -> _Attempt:
        """One POST of ``body``; any failure is described, never raised. Worker thread."""
        request = urllib.request.Request(
            self._request_url, data=body, headers=self._headers, method="POST"
        )
        timeout_s = self.target.timeout_s
        try:
            with self._opener.open(request, timeout=timeout_s) as response:
                return _Attempt(response.status, None)  # urllib raises for anything not 2xx
        except urllib.error.HTTPError as exc:
            exc.close()
            return _Attempt(exc.code, f"HTTP {exc.code} {_reason_phrase(exc.code, exc.reason)}")
        except urllib.error.URLError as exc:
            return _Attempt(None, self._describe(exc.reason, timeout_s))
        except (OSError, http.client.HTTPException) as exc:  # while reading the answer
            return _Attempt(None, self._describe(exc, timeout_s))
        except Exception as exc:  # a worker must outlive anything a request raises
            return _Attempt(None, self._describe(exc, timeout_s))

    def _describe(self, reason: object, timeout_s: float) -> str:
        if isinstance(reason, TimeoutError):
            text = f"timed out after {timeout_s} s"
        elif isinstance(reason, ConnectionRefusedError):
            text = "connection refused"
        elif isinstance(reason, ConnectionResetError):
            text = "connection reset by the server"
        elif isinstance(reason, socket.gaierror):
            text = f"host not found: {reason.strerror or reason}"
        elif isinstance(reason, http.client.RemoteDisconnected):
            text = "the server closed the connection without answering"
        elif isinstance(reason, OSError):
            text = f"connection failed: {reason.strerror or reason}"
        elif isinstance(reason, Exception):
            text = f"request failed: {type(reason).__name__}: {reason}"
        else:
            text = f"request failed: {reason}"
        # A library's message should never carry the URL, but make sure it is masked.
        return text.replace(self.target.url, self.masked_url).replace(
            self._request_url, self.masked_url
        )


def _reason_phrase(code: int, server_reason: object) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:  # a status the standard does not name: the server's words, shortened
        return str(server_reason)[:80]


class WebhookDispatcher:
    """Delivers alerts to ``targets`` without ever making the caller wait.

    :meth:`deliver` queues a payload for every target and returns at once; each target's
    ``alert-webhook-<n>`` thread POSTs it (see the module docstring) and reports the result
    to ``on_outcome`` exactly once per delivery and target. ``on_outcome`` is called on the
    target's worker thread for deliveries that were sent, on the thread calling
    :meth:`deliver` for deliveries it could not queue (full queue, payload not JSON), and on
    the thread calling :meth:`stop` for deliveries still queued then; it must be quick and
    thread-safe (an exception it raises is logged and ignored). ``now`` is the clock giving
    outcomes' UTC wall times; ``retry_delay_s`` the seconds between a failed attempt and the
    retry; ``queue_limit`` how many deliveries may wait per target before new ones are
    dropped (reported as ``"dropped: queue full"``).
    """

    def __init__(
        self,
        targets: Iterable[WebhookTarget],
        *,
        on_outcome: Callable[[DeliveryOutcome], None],
        now: Callable[[], datetime] = REAL_CLOCK.now,
        retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> None:
        if not math.isfinite(retry_delay_s) or retry_delay_s < 0:
            raise ValueError(f"webhook retry_delay_s: must be seconds >= 0, got {retry_delay_s!r}")
        if queue_limit < 1:
            raise ValueError(f"webhook queue_limit: must be at least 1, got {queue_limit!r}")
        self.retry_delay_s = retry_delay_s
        self.queue_limit = queue_limit
        self._on_outcome = on_outcome
        self._now = now
        self._stopping = threading.Event()
        self._started = False
        self._workers = tuple(
            _TargetWorker(index, target, self) for index, target in enumerate(targets)
        )

    @property
    def targets(self) -> tuple[WebhookTarget, ...]:
        """The targets, in the order of their thread numbers."""
        return tuple(worker.target for worker in self._workers)

    def start(self) -> None:
        """Start one ``alert-webhook-<n>`` thread per target. Deliveries queued before
        this are sent now. A dispatcher starts once: it cannot be restarted after stop."""
        if self._started:
            raise RuntimeError("the webhook dispatcher was already started")
        if self._stopping.is_set():
            raise RuntimeError("the webhook dispatcher was stopped and cannot be restarted")
        self._started = True
        for worker in self._workers:
            worker.thread.start()

    def deliver(self, delivery_id: DeliveryId, payload: Mapping[str, Any]) -> None:
        """Queue ``payload`` (JSON-encoded now, so later changes to it are not sent) for
        every target and return at once; never blocks on the network. A target whose queue
        is full, a payload that is not JSON (NaN included) and a dispatcher that is stopping
        each give an outcome at once (on this thread) instead. Any thread."""
        try:
            body = json.dumps(
                dict(payload), ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode("utf-8")
        except (TypeError, ValueError) as exc:
            error = f"not sent: payload is not JSON ({exc})"
            log.warning("webhook delivery %r: %s", delivery_id, error)
            for worker in self._workers:
                self._report(self._unsent(delivery_id, worker, error))
            return
        unsent: list[DeliveryOutcome] = []
        for worker in self._workers:
            with worker.cond:
                if self._stopping.is_set():
                    unsent.append(self._unsent(delivery_id, worker, NOT_SENT_STOPPING))
                elif len(worker.queue) >= self.queue_limit:
                    unsent.append(self._unsent(delivery_id, worker, DROPPED_QUEUE_FULL))
                else:
                    worker.queue.append(_Queued(delivery_id, body))
                    worker.cond.notify()
        for outcome in unsent:
            if outcome.error == DROPPED_QUEUE_FULL:
                log.warning(
                    "webhook %s: delivery %r dropped: %d deliveries already waiting",
                    outcome.url,
                    delivery_id,
                    self.queue_limit,
                )
            self._report(outcome)

    def stop(self, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        """Stop the threads and wait for them, at most ``timeout_s`` seconds in all. A
        request in flight ends within its target's timeout and is not retried; deliveries
        still queued are reported as ``"not sent: engine stopping"``. A thread still in a
        request when ``timeout_s`` runs out is left to finish it (its outcome is reported
        when it does) and logged. Idempotent; any thread but a worker's."""
        deadline = time.monotonic() + timeout_s
        self._stopping.set()
        unsent: list[DeliveryOutcome] = []
        for worker in self._workers:
            with worker.cond:
                while worker.queue:
                    item = worker.queue.popleft()
                    unsent.append(self._unsent(item.delivery_id, worker, NOT_SENT_STOPPING))
                worker.cond.notify_all()
        if unsent:
            log.warning(
                "webhooks: %d queued deliver%s not sent: engine stopping",
                len(unsent),
                "y" if len(unsent) == 1 else "ies",
            )
        for outcome in unsent:
            self._report(outcome)
        for worker in self._workers:
            if worker.thread.is_alive() and worker.thread is not threading.current_thread():
                worker.thread.join(max(0.0, deadline - time.monotonic()))
                if worker.thread.is_alive():
                    log.warning(
                        "webhook %s: %s still waits for an answer after %g s; its outcome "
                        "is reported when the request times out",
                        worker.masked_url,
                        worker.thread.name,
                        timeout_s,
                    )

    def _unsent(
        self, delivery_id: DeliveryId, worker: _TargetWorker, error: str
    ) -> DeliveryOutcome:
        at = self._now()
        return DeliveryOutcome(
            delivery_id=delivery_id,
            target=worker.index,
            url=worker.masked_url,
            attempts=0,
            delivered=False,
            status_code=None,
            error=error,
            started_at=at,
            finished_at=at,
            elapsed_s=0.0,
        )

    def _report(self, outcome: DeliveryOutcome) -> None:
        try:
            self._on_outcome(outcome)
        except Exception:  # a failing listener must not end a worker or fail deliver()
            log.exception(
                "webhook %s: on_outcome failed for delivery %r", outcome.url, outcome.delivery_id
            )
