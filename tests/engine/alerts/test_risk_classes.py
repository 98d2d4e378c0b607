"""Daily risk classes per camera for the alert filter, against a real HTTP risk API on
loopback and the local risk model in a real store: normalised classes, basic auth, failed
refreshes that keep the cache, empty and malformed answers, past dates, failing open, and
the 04:00 UTC schedule driven by a simulated clock."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.alerts.risk_classes import (
    RETRY_AFTER_FAILURE_S,
    THREAD_NAME,
    HttpRiskProvider,
    LocalRiskProvider,
    RiskClassCache,
    RiskClassStatus,
    RiskProviderError,
)
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.config import load_site
from engine.incidents.nightly import CameraRisk, RecordRetrain
from engine.secrets import SecretValue
from engine.sitetime import SiteTime
from engine.store import Store
from tests.conftest import write_site
from tests.store_helpers import run_command, sync_site
from tests.waiting import wait_for

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
TODAY = NOW.date()
PAST = date(2026, 11, 20)
WAIT_S = 5.0  # real seconds a test waits for the refresh thread
SLOW_ANSWER_S = 5.0  # a delayed answer comes after this at the latest (or when released)
PASSWORD = "s3cret-Pa55"

# pyro-api's camera ids are integers, named "id" or "camera_id"
TODAY_ROWS = [
    {"id": 1, "fwi_class": "Very Low"},
    {"id": 3, "fwi_class": " HIGH"},
    {"camera_id": 7, "fwi_class": "very-high"},
]
TODAY_CLASSES = {"1": "very_low", "3": "high", "7": "very_high"}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"[]"
    delay_s: float = 0.0


class RiskApi:
    """A loopback risk API: each path answers what the test set (:meth:`answer`; 404
    otherwise), and every request's path and Authorization header is recorded."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with api._lock:
                    api.requests.append((self.path, dict(self.headers)))
                    answer = api.answers.get(self.path, Answer(404, b'{"error": "no"}'))
                if answer.delay_s:
                    api.release.wait(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    if 300 <= answer.status < 400:
                        self.send_header("Location", "http://example.invalid/cameras")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False

    def answer(self, path: str, body: object, *, status: int = 200, delay: float = 0) -> None:
        """Have ``path`` answer ``body`` (bytes as they are, anything else as JSON) after
        ``delay`` seconds (or when the server closes)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self._lock:
            self.answers[path] = Answer(status, data, delay)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    def close(self) -> None:
        """Stop serving and free the port (a later request is refused). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def api() -> Iterator[RiskApi]:
    server = RiskApi()
    yield server
    server.close()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


@pytest.fixture(autouse=True)
def no_refresh_thread_left() -> Iterator[None]:
    """The refresh thread is the engine's: no test may leave it running."""
    yield
    leaked = [t.name for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not leaked, f"test leaked {leaked}"


def provider_for(api: RiskApi, **kwargs: object) -> HttpRiskProvider:
    options: dict[str, object] = {"username": None, "password": None} | kwargs
    return HttpRiskProvider(api.url, **options)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the HTTP provider -------------------------------------------------------------------


def test_classes_are_normalised_and_integer_ids_become_camera_keys(
    api: RiskApi, clock: SimulatedClock
) -> None:
    api.answer("/cameras", TODAY_ROWS)
    provider = provider_for(api)
    assert provider.today() == TODAY_CLASSES
    assert provider.last_skipped == 0

    cache = RiskClassCache(provider, clock=clock)
    status = cache.refresh()
    assert status.state == "ok" and status.filtering
    assert status.cameras == 3 and status.refreshed_at == NOW and status.error is None
    assert cache.classes() == TODAY_CLASSES
    assert cache.classes(TODAY) == TODAY_CLASSES
    assert status.provider == f"risk API {api.url}"
    assert (
        status.describe()
        == f"risk classes from the risk API {api.url}, refreshed 03:00 UTC (3 cameras)"
    )
    # a copy: the caller cannot change the cache
    mine = cache.classes()
    assert mine is not None
    mine["1"] = "extreme"
    assert cache.classes() == TODAY_CLASSES


def test_basic_auth_is_sent_and_the_password_never_shows(api: RiskApi) -> None:
    api.answer("/cameras", TODAY_ROWS)
    provider = provider_for(api, username="watch", password=PASSWORD)
    provider.today()
    path, headers = api.requests[-1]
    assert path == "/cameras"
    expected = base64.b64encode(f"watch:{PASSWORD}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert headers["Accept"] == "application/json"
    assert PASSWORD not in repr(provider) and PASSWORD not in provider.name

    # a SecretValue (what read_secret gives) works as the password too
    provider_for(api, username="watch", password=SecretValue(PASSWORD)).today()
    assert api.requests[-1][1]["Authorization"] == f"Basic {expected}"

    # no username: no Authorization header at all
    provider_for(api).today()
    assert "Authorization" not in api.requests[-1][1]

    errors = []
    for answer in (Answer(500), Answer(401), Answer(200, b"not json"), Answer(200, b"{}")):
        api.answers["/cameras"] = answer
        with pytest.raises(RiskProviderError) as caught:
            provider.today()
        errors.append(str(caught.value))
    assert "HTTP 401 Unauthorized" in errors[1]
    api.close()
    with pytest.raises(RiskProviderError) as caught:
        provider.today()
    errors.append(str(caught.value))
    for error in errors:
        assert PASSWORD not in error
        assert f"{api.url}/cameras" in error


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("http 500", "HTTP 500 Internal Server Error"),
        ("timeout", "timed out after 0.2 s"),
        ("refused", "connection refused"),
        ("not json", "the answer is not JSON"),
        ("not a list", "the answer is not a JSON list (got an object)"),
        ("redirect", "HTTP 302 Found"),
    ],
)
def test_a_failed_refresh_keeps_the_previous_classes(
    api: RiskApi, clock: SimulatedClock, failure: str, expected: str
) -> None:
    api.answer("/cameras", TODAY_ROWS)
    # The 03:00 classes come with the provider's usual timeout: the 0.2 s one below is for
    # the failing refresh alone (a loaded CI worker's loopback server once took longer to
    # answer this first request, and the setup failed instead of the case under test).
    cache = RiskClassCache(provider_for(api), clock=clock)
    assert cache.refresh().state == "ok"
    cache.provider = provider_for(api, timeout_s=0.2)  # the same API, a short timeout

    if failure == "http 500":
        api.answer("/cameras", {"error": "boom"}, status=500)
    elif failure == "timeout":
        api.answer("/cameras", [], delay=SLOW_ANSWER_S)
    elif failure == "refused":
        api.close()
    elif failure == "not json":
        api.answer("/cameras", b"<html>maintenance</html>")
    elif failure == "not a list":
        api.answer("/cameras", {"cameras": TODAY_ROWS})
    else:
        api.answer("/cameras", [], status=302)
    clock.advance(3600)  # 04:00
    started = time.monotonic()
    status = cache.refresh()
    assert time.monotonic() - started < 2.0  # the timeout bounded it

    assert status.state == "failed"
    assert status.filtering  # the classes of 03:00 are still used
    assert status.error is not None and expected in status.error
    assert f"{api.url}/cameras" in status.error
    assert status.refreshed_at == NOW
    assert status.failed_at == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert status.cameras == 3
    assert cache.classes() == TODAY_CLASSES
    assert status.describe() == (
        f"risk API {api.url} unreachable since 04:00 UTC ({status.error}): "
        "keeping the classes of 2026-11-23 03:00 UTC"
    )


def test_a_connection_refused_names_the_url(clock: SimulatedClock) -> None:
    base = f"http://127.0.0.1:{closed_port()}/risk"
    provider = HttpRiskProvider(base + "/", username=None, password=None)
    assert provider.name == f"risk API {base}"
    status = RiskClassCache(provider, clock=clock).refresh()
    assert status.state == "failed" and not status.filtering
    assert status.error == f"risk API {base}/cameras: connection refused"


def test_a_later_success_clears_the_failure(api: RiskApi, clock: SimulatedClock) -> None:
    api.answer("/cameras", TODAY_ROWS)
    cache = RiskClassCache(provider_for(api), clock=clock)
    cache.refresh()
    api.answer("/cameras", [], status=503)
    assert cache.refresh().state == "failed"
    api.answer("/cameras", [{"id": 1, "fwi_class": "Extreme"}])
    clock.advance(60)
    status = cache.refresh()
    assert status.state == "ok" and status.error is None
    assert status.refreshed_at == datetime(2026, 11, 23, 3, 1, tzinfo=UTC)
    assert status.failed_at == NOW  # when it last failed, for the record
    assert cache.classes() == {"1": "extreme"}


def test_an_empty_answer_empties_the_cache(api: RiskApi, clock: SimulatedClock) -> None:
    api.answer("/cameras", TODAY_ROWS)
    cache = RiskClassCache(provider_for(api), clock=clock)
    cache.refresh()
    api.answer("/cameras", [])
    status = cache.refresh()
    assert status.state == "ok" and status.filtering and status.cameras == 0
    assert cache.classes() == {}  # filtering on, nothing to filter
    assert "(0 cameras)" in status.describe()


def test_malformed_rows_are_skipped_counted_and_logged_once(
    api: RiskApi, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    rows: list[object] = [
        "plaza",
        7,
        None,
        ["id", "low"],
        {"id": "a"},
        {"fwi_class": "low"},
        {"id": "b", "fwi_class": "purple"},
        {"id": "c", "fwi_class": 3},
        {"id": 1.5, "fwi_class": "low"},
        {"id": True, "fwi_class": "low"},
        {"id": None, "fwi_class": "low"},
        {"id": ["x"], "fwi_class": "low"},
        {"id": "", "fwi_class": "low"},
        {"camera_id": "d", "fwi_class": "low"},
        {"id": 5, "fwi_class": "Moderate", "extra": "ignored"},
        {"id": 12, "fwi_class": "LOW"},
    ]
    api.answer("/cameras", rows)
    provider = provider_for(api)
    cache = RiskClassCache(provider, clock=clock)
    with caplog.at_level(logging.WARNING, logger="engine.alerts.risk_classes"):
        status = cache.refresh()
    assert cache.classes() == {"5": "moderate", "12": "low"}
    assert provider.last_skipped == 14
    assert status.skipped_rows == 14 and status.cameras == 2 and status.state == "ok"
    assert "14 malformed rows skipped" in status.describe()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "skipped 14 malformed rows of 16" in warnings[0].getMessage()
    assert "row 0: not an object (text)" in warnings[0].getMessage()


def test_either_key_names_the_camera_in_both_answers(
    api: RiskApi, caplog: pytest.LogCaptureFixture
) -> None:
    """pyro-api names a camera ``id`` or ``camera_id`` in /cameras and in /scores alike: a
    row with the other key still filters its camera."""
    api.answer(
        "/cameras", [{"camera_id": 3, "fwi_class": "Very Low"}, {"id": 4, "fwi_class": "low"}]
    )
    api.answer(
        "/scores/2026-11-20",
        [
            {"id": 3, "fwi_class": "low"},
            {"camera_id": 4, "fwi_class": "very_low"},
            {"id": 5, "camera_id": 5, "fwi_class": "high"},  # both, agreeing
        ],
    )
    provider = provider_for(api)
    with caplog.at_level(logging.WARNING, logger="engine.alerts.risk_classes"):
        assert provider.today() == {"3": "very_low", "4": "low"}
        assert provider.last_skipped == 0
        assert provider.scores(PAST) == {"3": "low", "4": "very_low", "5": "high"}
        assert provider.last_skipped == 0
    assert not caplog.records


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"id": "plaza", "fwi_class": "low"}, "id is text, not an integer"),
        ({"camera_id": "3", "fwi_class": "low"}, "camera_id is text, not an integer"),
        ({"camera_id": True, "fwi_class": "low"}, "camera_id is a boolean, not an integer"),
        ({"id": 3.0, "fwi_class": "low"}, "id is a number, not an integer"),
        ({"camera_id": None, "fwi_class": "low"}, "camera_id is null, not an integer"),
        ({"id": 3, "camera_id": 4, "fwi_class": "low"}, "id 3 and camera_id 4 differ"),
        ({"fwi_class": "low"}, "no 'id' or 'camera_id'"),
    ],
)
@pytest.mark.parametrize("path", ["/cameras", "/scores/2026-11-20"])
def test_a_row_without_an_integer_id_is_skipped_naming_the_field(
    api: RiskApi, caplog: pytest.LogCaptureFixture, path: str, row: dict[str, object], reason: str
) -> None:
    api.answer(path, [row, {"id": 9, "fwi_class": "low"}])
    provider = provider_for(api)
    with caplog.at_level(logging.WARNING, logger="engine.alerts.risk_classes"):
        classes = provider.today() if path == "/cameras" else provider.scores(PAST)
    assert classes == {"9": "low"} and provider.last_skipped == 1
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"{api.url}{path}: skipped 1 malformed row of 2 (first: row 0: {reason})" in warning


# -- past dates --------------------------------------------------------------------------


def test_a_past_date_uses_that_dates_scores_memoised(api: RiskApi, clock: SimulatedClock) -> None:
    api.answer("/cameras", TODAY_ROWS)
    api.answer("/scores/2026-11-20", [{"camera_id": 1, "fwi_class": "Extreme"}, {"id": 1}])
    cache = RiskClassCache(provider_for(api), clock=clock)
    cache.refresh()
    assert cache.classes(PAST) == {"1": "extreme"}
    assert cache.classes(PAST) == {"1": "extreme"}
    assert api.hits("/scores/2026-11-20") == 1  # memoised
    assert api.hits("/cameras") == 1  # not today's classes
    assert cache.classes() == TODAY_CLASSES and api.hits("/cameras") == 1
    assert cache.last_error_for(PAST) is None
    assert cache.status().skipped_rows == 0  # a past list's rows are not the cache's

    # a day the API cannot give: fail open for that list, remember why, not memoised
    other = date(2026, 11, 19)
    api.answer("/scores/2026-11-19", [], status=500)
    assert cache.classes(other) is None
    error = cache.last_error_for(other)
    assert error is not None and "HTTP 500" in error and "/scores/2026-11-19" in error
    assert cache.status().state == "ok"  # today's classes are unaffected
    api.answer("/scores/2026-11-19", [{"camera_id": 4, "fwi_class": "low"}])
    assert cache.classes(other) == {"4": "low"}
    assert cache.last_error_for(other) is None
    assert api.hits("/scores/2026-11-19") == 2

    # the day after, today's cache is that day's, and yesterday is a past date
    clock.advance(24 * 3600)
    api.answer("/scores/2026-11-23", [{"camera_id": 1, "fwi_class": "low"}])
    assert cache.classes(TODAY) == {"1": "low"}
    assert cache.classes() == TODAY_CLASSES  # not refreshed in this test


def test_a_successful_refresh_forgets_memoised_days(api: RiskApi, clock: SimulatedClock) -> None:
    api.answer("/cameras", TODAY_ROWS)
    api.answer("/scores/2026-11-20", [{"camera_id": 1, "fwi_class": "low"}])
    cache = RiskClassCache(provider_for(api), clock=clock)
    cache.refresh()
    cache.classes(PAST)
    cache.refresh()
    cache.classes(PAST)
    assert api.hits("/scores/2026-11-20") == 2


# -- failing open ------------------------------------------------------------------------


def test_no_provider_fails_open(clock: SimulatedClock) -> None:
    cache = RiskClassCache(None, clock=clock)
    assert cache.classes() is None and cache.classes(PAST) is None
    status = cache.refresh()
    assert status == RiskClassStatus("off", None, None, None, None, 0, 0)
    assert not status.filtering
    assert status.describe() == "no risk-class provider: nothing is hidden"
    cache.start()  # nothing to refresh: no thread
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())
    cache.stop()


def test_never_refreshed_or_first_refresh_failed_fails_open(
    api: RiskApi, clock: SimulatedClock
) -> None:
    api.answer("/cameras", [], status=500)
    cache = RiskClassCache(provider_for(api), clock=clock)
    status = cache.status()
    assert status.state == "pending" and not status.filtering
    assert cache.classes() is None
    assert (
        status.describe()
        == f"risk classes from the risk API {api.url} not loaded yet: nothing is hidden"
    )

    status = cache.refresh()
    assert status.state == "failed" and not status.filtering
    assert status.refreshed_at is None and status.failed_at == NOW
    assert cache.classes() is None and cache.classes(PAST) is None
    assert api.hits("/scores/2026-11-20") == 0
    assert status.describe() == (
        f"risk API {api.url} never answered ({status.error}): nothing is hidden"
    )
    assert "HTTP 500" in status.describe()


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://risk.example.com/api", "scheme must be http or https"),
        ("risk.example.com/api", "scheme must be http or https"),
        ("https://", "no host"),
        ("https://watch:hunter2@risk.example.com/api", "must not contain credentials"),
        ("https://risk.example.com/api?token=abc", "must not have a query"),
        ("https://risk.example.com:99999/api", "invalid port"),
        (" https://risk.example.com/api", "spaces"),
        ("", "empty"),
    ],
)
def test_a_bad_url_is_refused_at_construction(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match="risk API url") as caught:
        HttpRiskProvider(url, username=None, password=None)
    assert problem in str(caught.value)
    assert "hunter2" not in str(caught.value) and "abc" not in str(caught.value)


def test_bad_credentials_and_timeouts_are_refused() -> None:
    url = "https://risk.example.com/api/"
    assert HttpRiskProvider(url, username=None, password=None).name == (
        "risk API https://risk.example.com/api"
    )
    with pytest.raises(ValueError, match="no username"):
        HttpRiskProvider(url, username=None, password=PASSWORD)
    with pytest.raises(ValueError, match="username"):
        HttpRiskProvider(url, username="a:b", password=PASSWORD)
    for timeout in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="timeout_s"):
            HttpRiskProvider(url, username=None, password=None, timeout_s=timeout)


def test_a_trailing_slash_is_not_doubled(api: RiskApi) -> None:
    api.answer("/cameras", TODAY_ROWS)
    HttpRiskProvider(api.url + "/", username=None, password=None).today()
    assert api.requests[-1][0] == "/cameras"


def test_refresh_hour_is_clamped_and_next_refresh_is_strictly_later(
    clock: SimulatedClock,
) -> None:
    assert RiskClassCache(None, clock=clock).refresh_hour_utc == 4
    assert RiskClassCache(None, clock=clock, refresh_hour_utc=-3).refresh_hour_utc == 0
    assert RiskClassCache(None, clock=clock, refresh_hour_utc=30).refresh_hour_utc == 23
    cache = RiskClassCache(None, clock=clock)

    def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)

    assert cache.next_refresh(at(23, 3, 59)) == at(23, 4)
    assert cache.next_refresh(at(23, 4)) == at(24, 4)
    assert cache.next_refresh(at(23, 4, 0, 1)) == at(24, 4)
    assert cache.next_refresh(at(23, 23, 59)) == at(24, 4)
    assert cache.next_refresh(datetime(2026, 11, 30, 5, 0, tzinfo=UTC)) == datetime(
        2026, 12, 1, 4, 0, tzinfo=UTC
    )
    midnight = RiskClassCache(None, clock=clock, refresh_hour_utc=-3)
    assert midnight.next_refresh(at(23, 0)) == at(24, 0)
    assert midnight.next_refresh(at(23, 23, 59)) == at(24, 0)


# -- the schedule ------------------------------------------------------------------------


def test_start_refreshes_now_and_daily_at_the_hour(api: RiskApi, clock: SimulatedClock) -> None:
    api.answer("/cameras", TODAY_ROWS)
    cache = RiskClassCache(provider_for(api), clock=clock)
    cache.start()
    try:
        # refreshed at once, on the thread (an engine start never waits on the API)
        wait_for(lambda: cache.status().refreshed_at == NOW, what="the first refresh")
        assert api.hits("/cameras") == 1
        assert next(t for t in threading.enumerate() if t.name == THREAD_NAME).daemon
        with pytest.raises(RuntimeError):
            cache.start()

        assert clock.wait_for_waiters(1, WAIT_S)
        assert clock.next_deadline_in() == pytest.approx(3600)  # 04:00
        api.answer("/cameras", [{"id": 1, "fwi_class": "high"}])
        clock.advance(3599)
        # Not yet: the refresh still waits, for the second left until 04:00.
        assert clock.wait_for_waiters(1, WAIT_S)
        assert clock.next_deadline_in() == pytest.approx(1)
        assert api.hits("/cameras") == 1
        clock.advance(1)
        wait_for(lambda: api.hits("/cameras") == 2, what="the 04:00 refresh")
        wait_for(lambda: cache.status().cameras == 1, what="the refreshed classes")
        assert cache.classes() == {"1": "high"}
        assert cache.status().refreshed_at == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)

        # a failed scheduled refresh keeps the classes, and the next day is still planned
        assert clock.wait_for_waiters(1, WAIT_S)
        assert clock.next_deadline_in() == pytest.approx(24 * 3600)
        api.answer("/cameras", [], status=500)
        clock.advance(24 * 3600)
        wait_for(lambda: cache.status().state == "failed", what="the failed refresh")
        assert cache.classes() == {"1": "high"}
        # ... and it is tried again in 15 minutes, until it succeeds
        assert clock.wait_for_waiters(1, WAIT_S)
        assert clock.next_deadline_in() == pytest.approx(RETRY_AFTER_FAILURE_S)
        api.answer("/cameras", [{"id": 1, "fwi_class": "low"}])
        clock.advance(RETRY_AFTER_FAILURE_S)
        wait_for(lambda: cache.status().state == "ok", what="the retried refresh")
        assert cache.classes() == {"1": "low"}
        assert clock.wait_for_waiters(1, WAIT_S)
        assert clock.next_deadline_in() == pytest.approx(24 * 3600 - RETRY_AFTER_FAILURE_S)
    finally:
        cache.stop()
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())
    cache.stop()  # idempotent


def test_stop_interrupts_the_wait_at_once(api: RiskApi) -> None:
    api.answer("/cameras", TODAY_ROWS)
    cache = RiskClassCache(provider_for(api), clock=REAL_CLOCK)
    cache.start()
    started = time.monotonic()
    cache.stop()
    assert time.monotonic() - started < 1.0
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())


# -- the local risk model ----------------------------------------------------------------


def test_the_local_risk_model_gives_each_days_stored_classes(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "plaza"\nurl = "a.mp4"\n[[cameras]]\nid = "gate"\nurl = "b.mp4"\n',
    )
    ids = sync_site(store, load_site(site), REAL_CLOCK)
    plaza, gate = ids.cameras["plaza"], ids.cameras["gate"]
    run_command(
        store,
        RecordRetrain(
            slot=NOW,
            started_at=NOW,
            finished_at=NOW,
            status="ok",
            incidents=0,
            path=None,
            quality={},
            cameras=(
                CameraRisk(plaza, "plaza", TODAY, "high", 3.0),
                CameraRisk(gate, "gate", TODAY, "very_low", 0.1),
                CameraRisk(plaza, "plaza", PAST, "low", 1.0),
            ),
        ),
    )
    provider = LocalRiskProvider(store, now=clock.now)
    assert provider.name == "local risk model"
    assert provider.today() == {"plaza": "high", "gate": "very_low"}
    assert provider.scores(PAST) == {"plaza": "low"}
    assert provider.scores(date(2026, 11, 1)) == {}

    cache = RiskClassCache(provider, clock=clock)
    status = cache.refresh()
    assert status.state == "ok"
    assert (
        status.describe()
        == "risk classes from the local risk model, refreshed 03:00 UTC (2 cameras)"
    )
    assert cache.classes() == {"plaza": "high", "gate": "very_low"}
    assert cache.classes(PAST) == {"plaza": "low"}

    # the next day has no classes yet: an empty answer, nothing to filter
    clock.advance(24 * 3600)
    assert provider.today() == {}


def test_the_status_reads_the_sites_clock_while_the_refresh_stays_04_utc() -> None:
    """A refresh at 04:00 UTC is 20:00 the evening before in Los Angeles: a person there
    reads that, with the zone, and the failure after it likewise."""
    refreshed = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    ok = RiskClassStatus("ok", "local risk model", refreshed, None, None, 3, 0)
    los_angeles = SiteTime.named("America/Los_Angeles")
    assert ok.describe(los_angeles) == (
        "risk classes from the local risk model, refreshed 20:00 PST (3 cameras)"
    )
    assert (
        ok.describe() == "risk classes from the local risk model, refreshed 04:00 UTC (3 cameras)"
    )
    failed = RiskClassStatus(
        "failed", "risk API", refreshed, datetime(2026, 11, 24, 4, 0, tzinfo=UTC), "timeout", 3, 0
    )
    assert failed.describe(los_angeles) == (
        "risk API unreachable since 20:00 PST (timeout): keeping the classes of "
        "2026-11-22 20:00 PST"
    )
