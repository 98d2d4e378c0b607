"""Webhook delivery against a real HTTP server on loopback: the JSON POST, retries, timeouts,
refused connections, a hanging target that delays nobody, full queues, stopping, and URLs
that never show their secrets."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine.alerts.webhooks import (
    DROPPED_QUEUE_FULL,
    NOT_SENT_STOPPING,
    THREAD_PREFIX,
    DeliveryOutcome,
    WebhookDispatcher,
    WebhookTarget,
    mask_url,
    parse_webhook_target,
)
from engine.clock import SimulatedClock

WAIT_S = 5.0  # real seconds a test waits for a worker to report
HANG_LIMIT_S = 10.0  # a hanging handler answers after this at the latest (or when released)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookServer:
    """A loopback HTTP server whose path picks the answer: ``/ok`` 200, ``/fail`` 500,
    ``/hang`` no answer until released, ``/flaky`` 500 then 200, ``/moved`` 302."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.changed = threading.Condition()
        self.release = threading.Event()
        self._flaky_seen = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                path = self.path.split("?")[0]
                with server.changed:
                    server.received.append(Received("POST", path, dict(self.headers), body))
                    server.changed.notify_all()
                    flaky_first = path == "/flaky" and server._flaky_seen == 0
                    if path == "/flaky":
                        server._flaky_seen += 1
                if path == "/hang":
                    server.release.wait(HANG_LIMIT_S)
                    status = 200
                elif path == "/fail" or flaky_first:
                    status = 500
                elif path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/ok")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                else:
                    status = 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(
            target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, name="test-webhooks"
        )

    def url(self, path: str, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"

    def wait_for_requests(self, count: int, timeout_s: float = WAIT_S) -> list[Received]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout_s), (
                f"server got {len(self.received)} requests, expected {count}"
            )
            return list(self.received)


class Outcomes:
    """Collects what the dispatcher reports, with the real time each arrived."""

    def __init__(self) -> None:
        self.items: list[tuple[DeliveryOutcome, float]] = []
        self.changed = threading.Condition()

    def __call__(self, outcome: DeliveryOutcome) -> None:
        with self.changed:
            self.items.append((outcome, time.perf_counter()))
            self.changed.notify_all()

    def wait_for(
        self, count: int, timeout_s: float = WAIT_S, *, url: str | None = None
    ) -> list[DeliveryOutcome]:
        def matching() -> list[DeliveryOutcome]:
            return [o for o, _ in self.items if url is None or o.url == url]

        with self.changed:
            assert self.changed.wait_for(lambda: len(matching()) >= count, timeout_s), (
                f"got {len(matching())} outcomes, expected {count}: {self.items}"
            )
            return matching()

    def arrival(self, outcome: DeliveryOutcome) -> float:
        with self.changed:
            return next(t for o, t in self.items if o is outcome)


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.thread.start()
    yield server
    server.release.set()
    server.http.shutdown()
    server.http.server_close()
    server.thread.join(WAIT_S)


@pytest.fixture
def outcomes() -> Outcomes:
    return Outcomes()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def make_dispatcher(
    server: WebhookServer, outcomes: Outcomes, clock: SimulatedClock
) -> Iterator[Callable[..., WebhookDispatcher]]:
    """Builds dispatchers reporting to ``outcomes`` (started unless ``start=False``) and
    stops them at the end, after releasing any hanging request."""
    made: list[WebhookDispatcher] = []

    def make(*targets: WebhookTarget, start: bool = True, **kwargs: Any) -> WebhookDispatcher:
        kwargs.setdefault("retry_delay_s", 0.05)
        dispatcher = WebhookDispatcher(targets, on_outcome=outcomes, now=clock.now, **kwargs)
        made.append(dispatcher)
        if start:
            dispatcher.start()
        return dispatcher

    yield make
    server.release.set()
    for dispatcher in made:
        dispatcher.stop(timeout_s=WAIT_S)


def webhook_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- what arrives ---------------------------------------------------------------------------


def test_the_alert_arrives_as_a_json_post(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    target = WebhookTarget(server.url("/ok"), headers=(("X-Site", "demo"),))
    dispatcher = make_dispatcher(target)
    payload = {"kind": "fall", "room": "Küche", "confidence": 0.93, "blob": [1, 2]}

    dispatcher.deliver("alert-1", payload)

    (request,) = server.wait_for_requests(1)
    assert request.method == "POST"
    assert request.path == "/ok"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("Watchfloor/")
    assert request.headers["X-Site"] == "demo"
    assert json.loads(request.body.decode("utf-8")) == payload
    assert "Küche".encode() in request.body  # UTF-8, not \u escapes
    outcomes.wait_for(1)


def test_a_200_is_delivered_at_the_first_attempt(
    server: WebhookServer,
    make_dispatcher: Callable[..., WebhookDispatcher],
    outcomes: Outcomes,
    clock: SimulatedClock,
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/ok")))

    dispatcher.deliver(7, {"kind": "fall"})

    (outcome,) = outcomes.wait_for(1)
    assert outcome.delivery_id == 7
    assert outcome.target == 0
    assert outcome.delivered
    assert outcome.attempts == 1
    assert outcome.status_code == 200
    assert outcome.error is None
    assert outcome.url == f"http://127.0.0.1:{server.port}/…"
    assert outcome.started_at == outcome.finished_at == clock.now()  # the injected clock
    assert outcome.started_at.tzinfo == UTC
    assert 0 <= outcome.elapsed_s < WAIT_S


def test_a_500_then_200_is_delivered_at_the_retry(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/flaky")))

    dispatcher.deliver(1, {"kind": "fall"})

    (outcome,) = outcomes.wait_for(1)
    assert outcome.delivered
    assert outcome.attempts == 2
    assert outcome.status_code == 200
    assert outcome.error is None
    assert len(server.wait_for_requests(2)) == 2
    assert outcome.elapsed_s >= 0.05  # the retry delay


def test_a_webhook_that_always_answers_500_fails_after_two_attempts(
    server: WebhookServer,
    make_dispatcher: Callable[..., WebhookDispatcher],
    outcomes: Outcomes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/fail")))

    with caplog.at_level(logging.WARNING, logger="engine.alerts.webhooks"):
        dispatcher.deliver(1, {"kind": "fall"})
        (outcome,) = outcomes.wait_for(1)

    assert not outcome.delivered
    assert outcome.attempts == 2
    assert outcome.status_code == 500
    assert outcome.error == "HTTP 500 Internal Server Error"
    assert len(server.received) == 2
    assert f"127.0.0.1:{server.port}/…" in caplog.text
    assert "HTTP 500" in caplog.text


def test_a_redirect_is_a_failure_not_a_bodiless_get(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/moved")))

    dispatcher.deliver(1, {"kind": "fall"})

    (outcome,) = outcomes.wait_for(1)
    assert not outcome.delivered
    assert outcome.error == "HTTP 302 Found"
    assert [r.path for r in server.received] == ["/moved", "/moved"]


def test_a_hanging_webhook_times_out_and_deliver_never_waits(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/hang"), timeout_s=0.3))

    started = time.perf_counter()
    dispatcher.deliver(1, {"kind": "fall"})
    returned_after_s = time.perf_counter() - started

    assert returned_after_s < 0.05
    (outcome,) = outcomes.wait_for(1)
    assert not outcome.delivered
    assert outcome.attempts == 2
    assert outcome.status_code is None
    assert outcome.error == "timed out after 0.3 s"
    assert outcome.elapsed_s >= 0.6


def test_a_refused_connection_is_a_failure(
    make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(f"http://127.0.0.1:{closed_port()}/hook"))

    dispatcher.deliver(1, {"kind": "fall"})

    (outcome,) = outcomes.wait_for(1)
    assert not outcome.delivered
    assert outcome.attempts == 2
    assert outcome.status_code is None
    assert outcome.error == "connection refused"


def test_a_hanging_webhook_does_not_delay_another(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    hanging = WebhookTarget(server.url("/hang"), timeout_s=2.0)
    answering = WebhookTarget(server.url("/ok"), timeout_s=2.0)
    dispatcher = make_dispatcher(hanging, answering)

    sent_at = time.perf_counter()
    dispatcher.deliver(1, {"kind": "fall"})

    (good,) = outcomes.wait_for(1)
    assert good.target == 1
    assert good.delivered
    assert outcomes.arrival(good) - sent_at < 1.0  # well before the hanging one's 2 s timeout
    assert len(outcomes.items) == 1  # the hanging one has not reported yet
    assert {t.name for t in webhook_threads()} == {f"{THREAD_PREFIX}0", f"{THREAD_PREFIX}1"}


# -- nothing vanishes -----------------------------------------------------------------------


def test_a_full_queue_reports_dropped_deliveries(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/ok")), start=False, queue_limit=2)

    for delivery_id in range(5):
        dispatcher.deliver(delivery_id, {"kind": "fall", "n": delivery_id})

    dropped = outcomes.wait_for(3)
    assert [o.delivery_id for o in dropped] == [2, 3, 4]
    assert all(o.error == DROPPED_QUEUE_FULL for o in dropped)
    assert all(not o.delivered and o.attempts == 0 for o in dropped)

    dispatcher.start()  # what was queued before the start is sent now
    later = outcomes.wait_for(5)[3:]
    assert sorted(o.delivery_id for o in later) == [0, 1]
    assert all(o.delivered for o in later)


def test_stop_reports_queued_deliveries_and_joins_its_threads(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(
        WebhookTarget(server.url("/hang"), timeout_s=0.3),
        WebhookTarget(server.url("/ok")),
        retry_delay_s=5.0,
    )
    for delivery_id in range(3):
        dispatcher.deliver(delivery_id, {"kind": "fall"})
    outcomes.wait_for(3)  # the answering target has delivered all three
    with server.changed:  # the hanging target is in its first request
        assert server.changed.wait_for(
            lambda: any(r.path == "/hang" for r in server.received), WAIT_S
        )

    started = time.perf_counter()
    dispatcher.stop(timeout_s=3.0)
    stopped_after_s = time.perf_counter() - started

    assert stopped_after_s < 1.5  # the in-flight request's 0.3 s timeout, no retry delay
    assert webhook_threads() == []
    assert len(outcomes.items) == 6  # 3 deliveries × 2 targets, each reported once
    hanging = sorted(
        ((o.delivery_id, o.attempts, o.error) for o, _ in outcomes.items if o.target == 0),
        key=lambda item: item[0],
    )
    assert hanging == [
        (0, 1, "timed out after 0.3 s; not retried: engine stopping"),
        (1, 0, NOT_SENT_STOPPING),
        (2, 0, NOT_SENT_STOPPING),
    ]
    assert all(o.delivered for o, _ in outcomes.items if o.target == 1)

    dispatcher.stop(timeout_s=1.0)  # idempotent
    dispatcher.deliver(9, {"kind": "fall"})  # after stop: reported, not lost
    late = outcomes.wait_for(8)[6:]
    assert sorted((o.target, o.delivery_id, o.error) for o in late) == [
        (0, 9, NOT_SENT_STOPPING),
        (1, 9, NOT_SENT_STOPPING),
    ]


def test_stop_waits_no_longer_than_its_timeout(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/hang"), timeout_s=3.0))
    dispatcher.deliver(1, {"kind": "fall"})
    server.wait_for_requests(1)

    started = time.perf_counter()
    dispatcher.stop(timeout_s=0.2)

    assert time.perf_counter() - started < 1.0
    server.release.set()  # the request in flight ends; its outcome still arrives
    (outcome,) = outcomes.wait_for(1)
    assert outcome.delivery_id == 1
    for thread in webhook_threads():
        thread.join(WAIT_S)


def test_a_payload_that_is_not_json_is_reported_not_raised(
    server: WebhookServer, make_dispatcher: Callable[..., WebhookDispatcher], outcomes: Outcomes
) -> None:
    dispatcher = make_dispatcher(WebhookTarget(server.url("/ok")))

    dispatcher.deliver(1, {"at": object()})

    (outcome,) = outcomes.wait_for(1)
    assert not outcome.delivered
    assert outcome.attempts == 0
    assert outcome.error is not None
    assert outcome.error.startswith("not sent: payload is not JSON")
    assert server.received == []


# -- configuration and secrets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "timeout_s", "headers", "message"),
    [
        ("ftp://example.com/hook", 5.0, (), "webhook url: scheme must be http or https, got 'ftp'"),
        ("hooks.example.com/x", 5.0, (), "webhook url: scheme must be http or https, got ''"),
        ("https:///no-host", 5.0, (), "webhook url: no host"),
        ("https://example.com:99999/", 5.0, (), "webhook url: .*port"),
        ("https://example.com/a b", 5.0, (), "webhook url: must not contain spaces"),
        ("https://example.com/", 0.0, (), "webhook timeout_s: must be a number of seconds > 0"),
        ("https://example.com/", 5.0, (("X-A", "1\r\nX-B: 2"),), "webhook headers: .*line break"),
    ],
)
def test_an_invalid_target_names_the_field(
    url: str, timeout_s: float, headers: tuple[tuple[str, str], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_webhook_target(url, timeout_s, headers)


def test_parse_webhook_target_strips_whitespace() -> None:
    target = parse_webhook_target("  https://example.com/hook \n", timeout_s=2.5)
    assert target == WebhookTarget("https://example.com/hook", 2.5)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "https://user:pa55@hooks.example.com/services/T0/B0/XYZ",
            "https://user:***@hooks.example.com/…",
        ),
        ("https://hooks.example.com/hook?token=abc", "https://hooks.example.com/…"),
        ("http://user@10.0.0.5:8080", "http://user@10.0.0.5:8080"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("not a url", "***"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_a_password_in_the_url_is_sent_as_basic_auth_and_never_shown(
    server: WebhookServer,
    make_dispatcher: Callable[..., WebhookDispatcher],
    outcomes: Outcomes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = WebhookTarget(server.url("/fail?token=t0ken", userinfo="alice:s3cret@"))
    dispatcher = make_dispatcher(target)

    with caplog.at_level(logging.DEBUG, logger="engine.alerts.webhooks"):
        dispatcher.deliver(1, {"kind": "fall"})
        (outcome,) = outcomes.wait_for(1)

    masked = f"http://alice:***@127.0.0.1:{server.port}/…"
    assert outcome.url == masked
    assert masked in caplog.text
    for secret in ("s3cret", "t0ken"):
        assert secret not in caplog.text
        assert secret not in repr(outcome)
        assert secret not in repr(target)
    request = server.received[0]
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
