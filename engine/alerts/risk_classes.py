"""Each camera's daily risk class, for the alert filter: on a low-risk day a camera's
low-confidence alert sequences are hidden.

A :class:`RiskClassProvider` answers with camera key → class (one of ``very_low``, ``low``,
``moderate``, ``high``, ``very_high``, ``extreme``) for today or for a given UTC date: the
local risk model (:class:`LocalRiskProvider`, the nightly refit's ``camera_risk_days``) or
an HTTP risk API (:class:`HttpRiskProvider`: ``GET {url}/cameras`` for today,
``GET {url}/scores/{YYYY-MM-DD}`` for a date, HTTP basic auth, 5 s timeout; each row names
its camera by the integer ``id`` or ``camera_id``, in either answer, as pyro-api does).
Classes are normalised as people write them ("Very Low" is ``very_low``); malformed rows
are skipped, counted and logged once per answer with the first one's reason.

:class:`RiskClassCache` keeps today's classes: it refreshes at :meth:`~RiskClassCache.start`
and then daily at ``refresh_hour_utc``:00 UTC on its ``risk-class-refresh`` thread, waiting
on the engine :class:`~engine.clock.Clock` (so a simulated clock drives the schedule). A
failed refresh keeps the classes it had; an empty answer empties them. A list of a past
date asks the provider for that date's classes (memoised). Whenever there are no classes
to trust (no provider, or none ever answered) :meth:`~RiskClassCache.classes` gives None
and the filter fails open: nothing is hidden. :class:`RiskClassStatus` says which case
holds, for the UI.

Passwords never appear in messages, logs or ``repr``: the URL is refused with credentials
in it (the password is the ``risk_api_password`` secret) and errors name it without them.
"""

from __future__ import annotations

import base64
import collections
import http.client
import json
import logging
import math
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from typing import Final, Protocol
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from engine.alerts.webhooks import NoRedirects, mask_url
from engine.clock import Clock
from engine.config import AlertsConfig
from engine.incidents.risk import normalise_risk_class
from engine.secrets import (
    KeyringUnavailableError,
    SecretMissingError,
    SecretValue,
    mask_value,
    read_secret,
    remember_secret,
)
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.database import Store
from engine.supervise import SupervisedThread
from engine.text import printable

log = logging.getLogger(__name__)

THREAD_NAME: Final = "risk-class-refresh"
DEFAULT_TIMEOUT_S: Final = 5.0  # per request: connect, and each read of the answer
DEFAULT_REFRESH_HOUR_UTC: Final = 4
DAYS_MEMOISED: Final = 32  # other days' classes kept (a month of past lists)
RETRY_AFTER_FAILURE_S: Final = 900.0  # a failed refresh is tried again in 15 min
STOP_TIMEOUT_S: Final = 5.0  # stop() waits this long (real seconds) for the thread
MAX_ANSWER_BYTES: Final = 16 * 1024 * 1024  # far more than any site's cameras need
LOCAL_PROVIDER_NAME: Final = "local risk model"
# pyro-api names a row's camera by either key, in /cameras and in /scores/<date> alike
HTTP_ID_KEYS: Final = ("id", "camera_id")
LOCAL_ID_KEYS: Final = ("id",)  # the local model's rows, made here from camera keys

STATE_OFF: Final = "off"
STATE_PENDING: Final = "pending"
STATE_OK: Final = "ok"
STATE_FAILED: Final = "failed"


class RiskProviderError(RuntimeError):
    """The provider could not answer (unreachable, timeout, HTTP error, not JSON, not a
    list); the message says which URL (masked: no password) and why."""


class RiskClassProvider(Protocol):
    """Where the daily risk classes come from. ``name`` is shown in the UI ("local risk
    model", "risk API https://host/path", never a password)."""

    name: str

    def today(self) -> dict[str, str]:
        """Camera key → canonical class for today (UTC); :class:`RiskProviderError` when
        the provider cannot answer."""
        ...

    def scores(self, day: date) -> dict[str, str]:
        """Camera key → canonical class for the UTC date ``day``; :class:`RiskProviderError`
        when the provider cannot answer."""
        ...


# -- providers ---------------------------------------------------------------------------


class LocalRiskProvider:
    """The local risk model: the classes the nightly refit stored per camera and UTC day
    (:func:`engine.incidents.nightly.camera_risk`). ``now`` is the engine clock's wall
    time (UTC); its date is "today". A database failure is a :class:`RiskProviderError`.
    Any thread (each call opens its own session)."""

    def __init__(self, store: Store, *, now: Callable[[], datetime]) -> None:
        self.name = LOCAL_PROVIDER_NAME
        self.last_skipped = 0  # rows with a class that is not one of ours, last answer
        self._store = store
        self._now = now

    def today(self) -> dict[str, str]:
        """Each camera's class on the clock's UTC date."""
        return self.scores(self._now().astimezone(UTC).date())

    def scores(self, day: date) -> dict[str, str]:
        """Each camera's class on UTC ``day`` (empty when the refit stored none for it)."""
        # imported here: the refit's module brings the forecast's libraries with it
        from engine.incidents.nightly import camera_risk

        try:
            stored = camera_risk(self._store, day)
        except SQLAlchemyError as exc:
            raise RiskProviderError(
                f"{self.name}: cannot read the classes of {day.isoformat()} from the "
                f"database ({type(exc).__name__}: {_first_line(exc)})"
            ) from None
        rows: list[object] = [{"id": key, "fwi_class": cls} for key, cls in stored.items()]
        classes, skipped, example = _parse_rows(rows, LOCAL_ID_KEYS, integer_ids=False)
        self.last_skipped = skipped
        _warn_skipped(f"{self.name} ({day.isoformat()})", skipped, len(rows), example)
        return classes


class HttpRiskProvider:
    """An HTTP risk API: ``GET {url}/cameras`` answers today's classes as a JSON list of
    ``{"id": ..., "fwi_class": ...}``, ``GET {url}/scores/{YYYY-MM-DD}`` a date's as
    ``{"camera_id": ..., "fwi_class": ...}``; pyro-api answers either key in either place,
    so both are read in both. Ids are integers (not text, not a boolean) and become camera
    keys as text (``3`` → ``"3"``); classes are normalised ("Very Low" → ``very_low``). A
    row that is not an object, has no id or class, an id that is not an integer, an ``id``
    and a ``camera_id`` that differ, or an unknown class is skipped, counted in
    :attr:`last_skipped` (of the last answer) and logged once per answer, naming the field
    at fault.

    ``url`` must be http or https with a host, without credentials, query or fragment (a
    trailing ``/`` is dropped); ``username`` and ``password`` (the ``risk_api_password``
    secret; a :class:`~engine.secrets.SecretValue` is accepted too) are sent as HTTP Basic
    auth when ``username`` is set; ``timeout_s`` (seconds, > 0) bounds the connect and each
    read. Redirects are not followed. Raises ValueError naming the problem. Any thread
    (each request opens its own connection)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None,
        password: str | SecretValue | None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._base = _validated_base_url(url)
        self.name = f"risk API {self._base}"
        if (
            isinstance(timeout_s, bool)
            or not isinstance(timeout_s, int | float)
            or not math.isfinite(timeout_s)
            or timeout_s <= 0
        ):
            raise ValueError(f"risk API timeout_s: must be seconds > 0, got {timeout_s!r}")
        self.timeout_s = float(timeout_s)
        secret = password.reveal() if isinstance(password, SecretValue) else password
        self._password = secret or None
        if self._password is not None:
            # masked should anything ever log it (or warned about, when too short to mask)
            remember_secret(self._password, "the risk API password (risk_api_password)")
        self._headers = {"Accept": "application/json", "User-Agent": "Watchfloor"}
        if username:
            if ":" in username or any(c in username for c in "\r\n"):
                raise ValueError("risk API username: must not contain ':' or line breaks")
            credentials = f"{username}:{self._password or ''}".encode()
            self._headers["Authorization"] = f"Basic {base64.b64encode(credentials).decode()}"
        elif self._password is not None:
            raise ValueError(
                "risk API: a password is set (risk_api_password) but no username: "
                "set the username too, or remove the password"
            )
        self.last_skipped = 0
        self._opener = urllib.request.build_opener(NoRedirects)

    def __repr__(self) -> str:
        return f"HttpRiskProvider({self.name!r}, timeout_s={self.timeout_s!r})"

    def today(self) -> dict[str, str]:
        """Today's classes: ``GET {url}/cameras``."""
        return self._classes(f"{self._base}/cameras")

    def scores(self, day: date) -> dict[str, str]:
        """UTC ``day``'s classes: ``GET {url}/scores/{YYYY-MM-DD}``."""
        return self._classes(f"{self._base}/scores/{day.isoformat()}")

    def _classes(self, url: str) -> dict[str, str]:
        rows = self._get_list(url)
        classes, skipped, example = _parse_rows(rows, HTTP_ID_KEYS, integer_ids=True)
        self.last_skipped = skipped
        _warn_skipped(f"risk API {url}", skipped, len(rows), example)
        return classes

    def _get_list(self, url: str) -> list[object]:
        """The JSON list at ``url``; :class:`RiskProviderError` naming ``url`` otherwise."""
        request = urllib.request.Request(url, headers=self._headers, method="GET")
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                body: bytes = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise self._error(url, _http_status_text(exc.code, exc.reason)) from None
        except urllib.error.URLError as exc:
            raise self._error(url, self._describe(exc.reason)) from None
        except (OSError, http.client.HTTPException) as exc:  # while reading the answer
            raise self._error(url, self._describe(exc)) from None
        if len(body) > MAX_ANSWER_BYTES:
            raise self._error(url, f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, too deep
            raise self._error(url, f"the answer is not JSON ({_first_line(exc)})") from None
        if not isinstance(answer, list):
            raise self._error(url, f"the answer is not a JSON list (got {_json_kind(answer)})")
        return answer

    def _error(self, url: str, why: str) -> RiskProviderError:
        message = f"risk API {url}: {why}"
        if self._password:  # a library's text should never carry it, but make sure
            message = mask_value(message, self._password)
        return RiskProviderError(message)

    def _describe(self, reason: object) -> str:
        if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
            return f"timed out after {self.timeout_s:g} s"
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        if isinstance(reason, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(reason, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(reason, socket.gaierror):
            return f"host not found ({reason.strerror or reason})"
        if isinstance(reason, OSError):
            return f"connection failed ({reason.strerror or reason})"
        if isinstance(reason, Exception):
            return f"request failed ({type(reason).__name__}: {_first_line(reason)})"
        return f"request failed ({reason})"


def _validated_base_url(url: str) -> str:
    """``url`` without a trailing ``/`` once it is known to be http(s), with a host and
    no credentials, query or fragment; ValueError naming the problem (never a password)."""
    if not isinstance(url, str):
        raise ValueError(f"risk API url: must be text, got {type(url).__name__}")
    if not url.strip():
        raise ValueError("risk API url: empty")
    if url != url.strip() or any(c.isspace() for c in url):
        raise ValueError("risk API url: must not contain spaces or line breaks")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError as exc:
        raise ValueError(f"risk API url: invalid port or address ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"risk API url: scheme must be http or https, got {parts.scheme or 'none'!r} "
            f"in {mask_url(url)}"
        )
    if not parts.hostname:
        raise ValueError(f"risk API url: no host in {mask_url(url)}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"risk API url: must not contain credentials ({mask_url(url)}); set the "
            "username in the configuration and the password as secret risk_api_password"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"risk API url: must not have a query or fragment ({mask_url(url)}): "
            "/cameras and /scores/<date> are appended to it"
        )
    return url.rstrip("/")


def _parse_rows(
    rows: list[object], id_keys: tuple[str, ...], *, integer_ids: bool
) -> tuple[dict[str, str], int, str | None]:
    """Camera key → canonical class from ``rows`` of ``{key: id, "fwi_class": class}``
    where ``key`` is any of ``id_keys`` (several must agree), how many rows were skipped,
    and why the first one was (for the log). ``integer_ids``: an id must be a JSON integer
    (a boolean is not one); otherwise text or an integer."""
    classes: dict[str, str] = {}
    skipped = 0
    example: str | None = None
    for position, row in enumerate(rows):
        problem: str | None = None
        if not isinstance(row, dict):
            problem = f"not an object ({_json_kind(row)})"
        elif not any(k in row for k in id_keys):
            problem = f"no {' or '.join(repr(k) for k in id_keys)}"
        elif "fwi_class" not in row:
            problem = "no 'fwi_class'"
        elif (problem := _id_problem(row, id_keys, integer_ids)) is None:
            camera = next(row[k] for k in id_keys if k in row)
            cls = row["fwi_class"]
            if not isinstance(cls, str):
                problem = f"fwi_class is {_json_kind(cls)}, not text"
            else:
                try:
                    classes[str(camera)] = normalise_risk_class(cls)
                except ValueError:
                    problem = f"unknown class {cls[:40]!r}"
        if problem is not None:
            skipped += 1
            if example is None:
                example = f"row {position}: {problem}"
    return classes, skipped, example


def _id_problem(row: dict[str, object], id_keys: tuple[str, ...], integer_ids: bool) -> str | None:
    """Why ``row``'s camera id cannot be used (naming the field), or None."""
    present = [k for k in id_keys if k in row]
    for key in present:
        value = row[key]
        if integer_ids:
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{key} is {_json_kind(value)}, not an integer"
        elif isinstance(value, bool) or not isinstance(value, str | int):
            return f"{key} is {_json_kind(value)}, not text or an integer"
        elif not str(value).strip():
            return f"{key} is empty"
    first, *others = present
    for key in others:
        if str(row[key]) != str(row[first]):
            shown = [printable(str(row[k]))[:40] for k in (first, key)]
            return f"{first} {shown[0]} and {key} {shown[1]} differ"
    return None


def _warn_skipped(source: str, skipped: int, total: int, example: str | None) -> None:
    if skipped:
        log.warning(
            "%s: skipped %d malformed row%s of %d (first: %s)",
            source,
            skipped,
            "" if skipped == 1 else "s",
            total,
            example,
        )


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _http_status_text(code: int, server_reason: object) -> str:
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:  # a status the standard does not name: the server's words, shortened
        phrase = str(server_reason)[:80]
    text = f"HTTP {code} {phrase}"
    if code in (401, 403):
        text += " (check the username and the risk_api_password secret)"
    elif 300 <= code < 400:
        text += " (redirects are not followed: configure the final URL)"
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# -- the cache ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskClassStatus:
    """Where the risk classes stand, for the UI.

    ``state`` is ``"off"`` (no provider configured), ``"pending"`` (not refreshed yet),
    ``"ok"`` (the last refresh succeeded) or ``"failed"`` (the last refresh failed; the
    classes of the last success, if any, are kept). ``provider`` is the provider's name;
    ``refreshed_at`` the last successful refresh and ``failed_at`` the last failed one
    (UTC); ``error`` why the last refresh failed (None unless ``state`` is failed);
    ``cameras`` how many cameras have a class; ``skipped_rows`` the malformed rows skipped
    in the last successful answer."""

    state: str
    provider: str | None
    refreshed_at: datetime | None
    failed_at: datetime | None
    error: str | None
    cameras: int
    skipped_rows: int

    @property
    def filtering(self) -> bool:
        """Whether classes can be trusted: a provider is set and has answered at least
        once (its last answer is kept through failures). When False the alert filter fails
        open: nothing is hidden."""
        return self.provider is not None and self.refreshed_at is not None

    def describe(self, site_time: SiteTime = UTC_TIME) -> str:
        """One sentence for the UI, its times on ``site_time``'s clock with the zone, e.g.
        "risk classes from the local risk model, refreshed 05:00 CET (12 cameras)" (the
        refresh itself runs at 04:00 UTC, whatever the site's zone)."""

        def clock(at: datetime) -> str:
            return f"{site_time.minutes(at)} {site_time.zone_label(at)}"

        def day_and_clock(at: datetime) -> str:
            return f"{site_time.full_minutes(at)} {site_time.zone_label(at)}"

        if self.state == STATE_OFF or self.provider is None:
            return "no risk-class provider: nothing is hidden"
        if self.refreshed_at is None:
            if self.state == STATE_FAILED:
                return f"{self.provider} never answered ({self.error}): nothing is hidden"
            return f"risk classes from the {self.provider} not loaded yet: nothing is hidden"
        if self.state == STATE_FAILED:
            since = clock(self.failed_at) if self.failed_at else "the last refresh"
            return (
                f"{self.provider} unreachable since {since} ({self.error}): keeping the "
                f"classes of {day_and_clock(self.refreshed_at)}"
            )
        cameras = f"{self.cameras} camera{'' if self.cameras == 1 else 's'}"
        if self.skipped_rows:
            cameras += (
                f", {self.skipped_rows} malformed row{'' if self.skipped_rows == 1 else 's'}"
                " skipped"
            )
        return (
            f"risk classes from the {self.provider}, refreshed "
            f"{clock(self.refreshed_at)} ({cameras})"
        )


class RiskClassCache:
    """Today's risk class per camera from ``provider``, refreshed at :meth:`start` and
    daily at ``refresh_hour_utc``:00 UTC (clamped to 0–23) on the ``risk-class-refresh``
    thread, timed by ``clock``. ``provider`` None means no filtering: :meth:`classes` is
    None and the status is ``"off"``.

    A failed refresh keeps the classes of the last success (status ``"failed"``); an empty
    answer empties them. Other days' classes are asked of the provider and memoised (the
    last :data:`DAYS_MEMOISED` days that answered; forgotten at each successful refresh,
    so a day's classes refitted overnight are read again). Thread-safe: :meth:`classes`
    and :meth:`status` never wait for a refresh's request; refreshes run one at a time."""

    def __init__(
        self,
        provider: RiskClassProvider | None,
        *,
        clock: Clock,
        refresh_hour_utc: int = DEFAULT_REFRESH_HOUR_UTC,
    ) -> None:
        self.provider = provider
        self.refresh_hour_utc = min(23, max(0, int(refresh_hour_utc)))
        self._clock = clock
        self._lock = threading.Lock()  # the state below
        self._refreshing = threading.Lock()  # one refresh at a time
        self._classes: dict[str, str] | None = None  # None: never refreshed successfully
        self._refreshed_at: datetime | None = None
        self._failed_at: datetime | None = None
        self._error: str | None = None
        self._last_failed = False
        self._skipped_rows = 0
        self._days: collections.OrderedDict[date, dict[str, str]] = collections.OrderedDict()
        self._day_errors: dict[date, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading -----------------------------------------------------------------------

    def classes(self, day: date | None = None) -> dict[str, str] | None:
        """Camera key → class for UTC ``day`` (None or the clock's date: today's cached
        classes; another date: the provider's classes of that date, memoised). None means
        fail open: no provider, no successful refresh yet, or (for another date) the
        provider could not answer (see :meth:`last_error_for`). A fresh dict each call.
        Any thread; another date may wait for one request (at most the provider's
        timeout)."""
        provider = self.provider
        with self._lock:
            if provider is None or self._classes is None:
                return None
            if day is None or day == self._clock.now().astimezone(UTC).date():
                return dict(self._classes)
            if day in self._days:
                self._days.move_to_end(day)
                return dict(self._days[day])
        try:
            answer = dict(provider.scores(day))
        except RiskProviderError as exc:
            with self._lock:
                self._day_errors[day] = str(exc)
                while len(self._day_errors) > DAYS_MEMOISED:
                    del self._day_errors[next(iter(self._day_errors))]
            log.warning("risk classes of %s: %s; nothing is hidden in that list", day, exc)
            return None
        with self._lock:
            self._day_errors.pop(day, None)
            self._days[day] = answer
            self._days.move_to_end(day)
            while len(self._days) > DAYS_MEMOISED:
                self._days.popitem(last=False)
        return dict(answer)

    def last_error_for(self, day: date) -> str | None:
        """Why the provider could not give ``day``'s classes the last time it was asked
        (None when it answered, or was not asked)."""
        with self._lock:
            return self._day_errors.get(day)

    def status(self) -> RiskClassStatus:
        """Where the classes stand now. Any thread."""
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> RiskClassStatus:
        if self.provider is None:
            state = STATE_OFF
        elif self._last_failed:
            state = STATE_FAILED
        elif self._refreshed_at is None:
            state = STATE_PENDING
        else:
            state = STATE_OK
        return RiskClassStatus(
            state=state,
            provider=self.provider.name if self.provider is not None else None,
            refreshed_at=self._refreshed_at,
            failed_at=self._failed_at,
            error=self._error if self._last_failed else None,
            cameras=len(self._classes) if self._classes is not None else 0,
            skipped_rows=self._skipped_rows,
        )

    # -- refreshing --------------------------------------------------------------------

    def refresh(self) -> RiskClassStatus:
        """Ask the provider for today's classes now: an answer replaces the cache (an
        empty one empties it), a :class:`RiskProviderError` keeps it and is recorded in the
        status. Returns the status after it. Never raises for a provider that cannot answer;
        blocks for at most the provider's timeout. Any thread."""
        provider = self.provider
        if provider is None:
            return self.status()
        with self._refreshing:
            try:
                answer = dict(provider.today())
            except RiskProviderError as exc:
                return self._record_failure(str(exc))
            # Read at once, on this thread: a concurrent scores() call may set it too, and
            # the count is only shown in the status, so that rare race costs nothing more.
            skipped = getattr(provider, "last_skipped", 0)
            with self._lock:
                self._classes = answer
                self._refreshed_at = self._clock.now()
                self._last_failed = False
                self._error = None
                self._skipped_rows = skipped if isinstance(skipped, int) else 0
                self._days.clear()  # a day refitted overnight is read again
                self._day_errors.clear()
                status = self._status_locked()
        log.info("risk classes: %s", status.describe())
        return status

    def _record_failure(self, error: str) -> RiskClassStatus:
        with self._lock:
            self._failed_at = self._clock.now()
            self._error = error
            self._last_failed = True
            status = self._status_locked()
        log.warning("risk classes: %s", status.describe())
        return status

    def next_refresh(self, now: datetime) -> datetime:
        """The first ``refresh_hour_utc``:00 UTC strictly after ``now`` (a naive ``now``
        is taken as UTC)."""
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        slot = now.replace(hour=self.refresh_hour_utc, minute=0, second=0, microsecond=0)
        return slot if slot > now else slot + timedelta(days=1)

    def start(self) -> None:
        """Start the ``risk-class-refresh`` daemon thread: it refreshes at once, then at
        every ``refresh_hour_utc``:00 UTC until :meth:`stop`, and after a failed refresh
        tries again every :data:`RETRY_AFTER_FAILURE_S` until one succeeds (the filter
        fails open meanwhile; an unreachable API at start must not leave a day unfiltered).
        The first refresh runs on the thread, so an engine start never waits on the
        provider's timeout. Without a provider there is nothing to refresh and no thread.
        RuntimeError if it is already running."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the risk-class cache is already running")
        if self.provider is None:
            return
        self._stop.clear()
        self._thread = SupervisedThread(
            self._run, name=THREAD_NAME, stop=self._stop, clock=self._clock
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the refresh thread and wait for it (at most :data:`STOP_TIMEOUT_S` real
        seconds; a refresh in flight ends within the provider's timeout). Idempotent; any
        thread but the refresh thread."""
        self._stop.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(STOP_TIMEOUT_S)
        if thread.is_alive():
            log.warning("risk classes: %s still running after %g s", THREAD_NAME, STOP_TIMEOUT_S)
        else:
            self._thread = None

    def _run(self) -> None:
        """The refresh thread: refresh, wait for the next slot on the clock (sooner after a
        failure), repeat."""
        self._refresh_logged()
        while not self._stop.is_set():
            now = self._clock.now()
            slot = self.next_refresh(now)
            if self.status().state == STATE_FAILED or self.status().refreshed_at is None:
                slot = min(slot, now + timedelta(seconds=RETRY_AFTER_FAILURE_S))
            # Wait until the slot has really come: a wait may end a little early.
            while (remaining := (slot - self._clock.now()).total_seconds()) > 0:
                if self._clock.wait(self._stop, remaining):
                    return
            self._refresh_logged()

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # a provider's bug must not end the schedule
            log.exception("risk classes: refresh failed unexpectedly")
            self._record_failure(f"{type(exc).__name__}: {_first_line(exc)}")


def risk_class_cache(config: AlertsConfig, store: Store | None, clock: Clock) -> RiskClassCache:
    """The cache the site's ``[alerts]`` table asks for: the local risk model (needs the
    store), the HTTP risk API (password: the ``risk_api_password`` secret, when a user is
    set and the secret exists; a missing one shows as the API's refusal), or none."""
    provider: RiskClassProvider | None = None
    if config.risk_provider == "local" and store is not None:
        provider = LocalRiskProvider(store, now=clock.now)
    elif config.risk_provider == "http" and config.risk_api_url:
        password: SecretValue | None = None
        if config.risk_api_user:
            try:
                password = read_secret("risk_api_password")
            except (SecretMissingError, KeyringUnavailableError) as exc:
                log.warning("risk API: no password (%s); asking without one", exc)
        provider = HttpRiskProvider(
            config.risk_api_url, username=config.risk_api_user, password=password
        )
    return RiskClassCache(provider, clock=clock, refresh_hour_utc=config.risk_refresh_hour_utc)
