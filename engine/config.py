"""Site configuration: a TOML file describing cameras, sensing rooms and nodes, geo origin.

The whole file is parsed and validated before anything starts, and every problem is reported
as ``file:line: field: what is wrong`` so an admin can fix it without guessing.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tomllib
import urllib.parse
from collections import defaultdict
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

from engine.camera_view import DEFAULT_HEIGHT_PX, DEFAULT_WIDTH_PX, CameraView
from engine.cluster.names import check_engine_name
from engine.inbound import OutsideFileError, read_outside_file
from engine.mqtt.settings import MqttConfig, read_mqtt
from engine.secrets import KEYRING_SERVICE, keyring_entry, keyring_failures, remember_secret
from engine.secrets import KeyringUnavailableError as AnyKeyringUnavailableError
from engine.sitetime import SiteTime, UnknownTimeZoneError
from engine.text import control_character_at

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp")
BUILTIN_DETECTORS = ("yolov3-tiny", "hog")  # people detectors that ship; the first is default
MAX_SITE_FILE_BYTES = 4 * 1024 * 1024  # the demo site is 3 KB; a FIFO or device is refused
# How many of each a site file may list. Each camera costs a worker thread (two while a file
# decodes ahead), a decoder and tens of MB of frames on the engine that runs it, each room a
# node server and a fusion thread, each node up to its room's links (n² / 2): a site beyond
# these is a mistake or an attack (10,000 cameras started ~9,000 threads and ignored
# SIGTERM), not a site one engine runs. The largest recorders take 64-256 channels; a
# shared site's engines divide its cameras, still under one site file.
SITE_FILE_LIMITS: Final[dict[str, int]] = {
    "cameras": 256,
    "rooms": 64,
    "sensing_nodes": 512,
    "webhooks": 32,
}
# Seconds a camera may take to deliver its first frame before it counts as offline (its
# ``first_frame_s``): an IP camera's RTSP handshake and first key frame take 1-4 s.
FIRST_FRAME_S: Final = 10.0
MAX_WEBCAM_INDEX = 1023  # /dev/video0../dev/video1023; OpenCV's index is a C int
PASSWORD_MASK = "***"  # what a camera URL shows in place of its password, everywhere
DEFAULT_KEYRING_SERVICE = KEYRING_SERVICE  # the service of ``password_keyring = true``
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_KEYRING_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


class CameraSecretError(RuntimeError):
    """A camera's password cannot be found or stored: its environment variable is not set,
    or its keyring entry is missing or the keyring cannot be used. The message names the
    camera and where the password was looked for, never the password."""


class KeyringUnavailableError(CameraSecretError, AnyKeyringUnavailableError):
    """The OS keyring cannot be used at all: no backend, or the backend failed (as opposed
    to a keyring that works but holds no password for the camera). Also an
    :class:`engine.secrets.KeyringUnavailableError`, as the named secrets' is."""


def with_password(url: str, password: str) -> str:
    """``url`` with its user info's password set to ``password`` (already URL-quoted), the
    user name, host, port, path and query kept."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{parts.username or ''}:{password}@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class CameraSecret:
    """Where a stream camera's password comes from: the environment variable ``env``
    (``password_env`` in the site file); the OS keyring entry ``keyring_service`` /
    ``keyring_username`` (``password_keyring``; the username is the camera's id); or, for an
    older site file, the password that was written into its URL (kept here only, never
    shown). ``repr`` never shows the value."""

    env: str | None = None
    inline: str | None = field(default=None, repr=False)
    keyring_service: str | None = None
    keyring_username: str | None = None

    def resolve(self) -> str:
        """The password, read when the camera connects (so a rotated secret is picked up
        at the next reconnect). Raises :class:`CameraSecretError` naming the variable, or
        the camera, keyring service and username. Runs on the camera's worker thread."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise CameraSecretError(
                    f"the camera's password variable {self.env} is not set in the environment"
                )
        elif self.keyring_service is not None:
            value = self._from_keyring(self.keyring_service, self.keyring_username or "")
        else:
            value = self.inline or ""
        # masked in every log line from now on (or warned about, when too short to mask)
        remember_secret(value, self._who())
        return value

    def _who(self) -> str:
        """The password as a warning names it (never its value)."""
        if self.env is not None:
            return f"the camera password in ${self.env}"
        if self.keyring_service is not None:
            return f"camera {self.keyring_username}'s password"
        return "a camera password written in its URL"

    @staticmethod
    def _from_keyring(service: str, username: str) -> str:
        import keyring  # imported when a camera first connects, not at start-up

        where = _keyring_entry(service, username)
        with _keyring_failures(username, "read", where):
            value = keyring.get_password(service, username)
        if not value:
            raise CameraSecretError(
                f"camera {username}: no password in the keyring ({where}); store it with "
                f"`watchfloor cameras set-password {username} --site FILE`"
            )
        return value

    def __repr__(self) -> str:
        if self.env:
            return f"CameraSecret(env={self.env!r})"
        if self.keyring_service is not None:
            return (
                f"CameraSecret(keyring_service={self.keyring_service!r}, "
                f"keyring_username={self.keyring_username!r})"
            )
        return "CameraSecret(inline)"


def store_camera_password(camera: CameraConfig, password: str) -> tuple[str, str]:
    """Store ``password`` for ``camera`` (one whose site file entry has
    ``password_keyring``) in the OS keyring and read it back; returns the entry's
    (service, username). Raises :class:`CameraSecretError` when the camera takes no password
    from the keyring, or the keyring is missing, fails or does not keep the password."""
    secret = camera.secret
    if secret is None or secret.keyring_service is None:
        raise CameraSecretError(f"camera {camera.id} takes no password from the keyring")
    import keyring

    service, username = secret.keyring_service, secret.keyring_username or ""
    where = _keyring_entry(service, username)
    with _keyring_failures(camera.id, "store", where, password):
        keyring.set_password(service, username, password)
        kept = keyring.get_password(service, username) == password
    if not kept:
        backend = type(keyring.get_keyring())
        raise CameraSecretError(
            f"camera {camera.id}: the keyring did not keep the password ({where}; "
            f"backend {backend.__module__}.{backend.__name__})"
        )
    return service, username


def _keyring_failures(
    camera_id: str, doing: str, where: str, password: str | None = None
) -> AbstractContextManager[None]:
    """Turn any keyring failure into a :class:`KeyringUnavailableError` naming the camera and the
    entry: :func:`engine.secrets.keyring_failures` in the camera's words."""
    return keyring_failures(
        f"camera {camera_id}",
        f"{doing} its password",
        where,
        hint="use password_env",
        error=KeyringUnavailableError,
        value=password,
    )


_keyring_entry = keyring_entry


class SiteConfigError(ValueError):
    """A site file that cannot be used. ``line`` is 1-based, or None when unknown."""

    def __init__(self, file: Path, line: int | None, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class SourceKind(StrEnum):
    FILE = "file"
    STREAM = "stream"
    WEBCAM = "webcam"
    SIMULATED = "simulated"  # url = "simulated": films the site's simulated walkers


SIMULATED_URL = "simulated"
# A simulated camera's ``view`` keys → CameraView's fields (degrees; fov is horizontal).
_VIEW_FIELDS = {
    "x": "x",
    "y": "y",
    "z": "z",
    "yaw": "yaw_deg",
    "pitch": "pitch_deg",
    "fov": "hfov_deg",
    "width": "width",
    "height": "height",
}


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """WGS84 position in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class FloorPoint:
    """Position on the site's floor plan in metres from the plan origin; z is height."""

    x_m: float
    y_m: float
    z_m: float = 0.0


@dataclass(frozen=True, slots=True)
class RoomGeometry:
    """The sensed room as a box, metres."""

    width_m: float
    depth_m: float
    height_m: float


SINGLE_ROOM_ID = "room"  # the id of a site file's one ``[room]`` (stored data carries it)


@dataclass(frozen=True, slots=True)
class SensingRoomConfig:
    """One sensing room: the site file's one ``[room]`` (id ``"room"``, named after the
    site) or an entry of ``[[rooms]]``. ``port``: where this room's nodes connect (when
    not given, the ``[sensing]`` port, see :meth:`SiteConfig.node_port`); each room runs a
    node server of its own, as a node's hello names no room."""

    id: str
    name: str
    box: RoomGeometry
    port: int | None = None
    # Where the room's origin corner (its nodes' and blobs' (0, 0)) lies on the site's floor
    # plan, the axes cameras are calibrated to; the room's walls run along the plan's axes.
    origin: FloorPoint = FloorPoint(0.0, 0.0)

    def to_floor(self, x_m: float, y_m: float) -> tuple[float, float]:
        """A point of the room (metres from its origin corner) on the site's floor plan."""
        return (self.origin.x_m + x_m, self.origin.y_m + y_m)

    def from_floor(self, x_m: float, y_m: float) -> tuple[float, float]:
        """A floor-plan point in the room's own metres (inside or not)."""
        return (x_m - self.origin.x_m, y_m - self.origin.y_m)

    def contains_floor(self, x_m: float, y_m: float, margin_m: float = 0.0) -> bool:
        """Whether floor-plan point (x, y) is inside the room, ``margin_m`` in from its walls."""
        rx, ry = self.from_floor(x_m, y_m)
        return (
            margin_m <= rx <= self.box.width_m - margin_m
            and margin_m <= ry <= self.box.depth_m - margin_m
        )


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera of the site. ``url`` is safe to show, store and log: a password is
    replaced by ``***``; :meth:`connect_url` puts the real one in, for the source only."""

    id: str
    name: str
    url: str
    kind: SourceKind
    loop: bool
    position: FloorPoint | None
    geo: GeoPoint | None
    secret: CameraSecret | None = field(default=None, compare=False)
    # The microphone that hears this camera's scene, for introductions: "default" (the
    # computer's default input) or a part of an input device's name; None: none.
    microphone: str | None = None
    # A shared site (several ``watchfloor engine --name``): the engine that runs this camera
    # while it is alive (others take it over only while it is not); None: any engine.
    engine: str | None = None
    # A simulated camera's pinhole view over the floor plan (only simulated cameras have
    # one, and they always do).
    view: CameraView | None = None
    # Seconds after starting within which the first frame must come, else the camera is
    # offline (with an offline period and, in time, an alert) whatever holds it up.
    first_frame_s: float = FIRST_FRAME_S
    # The camera's own ``recording = { ... }`` values (see :class:`RecordingConfig`), in
    # file order; the site's ``[recording]`` gives the rest (:meth:`SiteConfig.recording_of`).
    recording: tuple[tuple[str, Any], ...] = ()
    # ``enabled = false``: kept in the file, not run (see :attr:`SiteConfig.disabled_cameras`).
    enabled: bool = True
    # The camera's second, smaller stream (``sub_url``, same kind and password as ``url``):
    # analysis, the motion gate and the wall's tiles use it, while the main stream is
    # recorded as it comes, never decoded (:mod:`engine.vision.paired`). None: one stream.
    sub_url: str | None = None

    def connect_url(self) -> str:
        """The URL to open, with the password (raises :class:`CameraSecretError`). Hand it
        to the video library only: never log, store or show it."""
        if self.secret is None:
            return self.url
        return with_password(self.url, quote(self.secret.resolve(), safe=""))

    def connect_sub_url(self) -> str | None:
        """:meth:`connect_url` for the sub stream (None without one)."""
        if self.sub_url is None or self.secret is None or self.kind is not SourceKind.STREAM:
            return self.sub_url
        return with_password(self.sub_url, quote(self.secret.resolve(), safe=""))

    @property
    def file_path(self) -> Path | None:
        return Path(self.url) if self.kind is SourceKind.FILE else None

    @property
    def webcam_index(self) -> int | None:
        return int(self.url) if self.kind is SourceKind.WEBCAM else None


@dataclass(frozen=True, slots=True)
class SensingNodeConfig:
    id: str
    name: str
    position: FloorPoint
    mac: str | None = None  # upper case, colon separated; None: not yet known (or simulated)
    room: str = SINGLE_ROOM_ID  # the id of the sensing room the node stands in


_FALL_ALERTS = ("confirmable", "everywhere", "off")
SCENES = ("walkthrough",)  # engine.sim.walkthrough  # engine.sensing.falls.FALL_ALERT_CHOICES


@dataclass(frozen=True, slots=True)
class SensingConfig:
    """The ``[sensing]`` table: where the node server listens (loopback unless the site says
    otherwise; port 8080 by default, any free one for a simulated room, whose nodes run in
    the engine), and whether the room's CSI comes from the built-in simulator (a demo
    feature: ``simulate = true`` with ``walkers`` people walking at random, ``seed``)."""

    host: str = "127.0.0.1"
    port: int | None = None  # None: 8080 for real nodes, any free port for a simulated room
    simulate: bool = False
    walkers: int = 1
    seed: int = 0
    voxel_m: float = 0.2
    # [sensing.falls]: where a confirmed fall raises an alert ("confirmable": only where the
    # layout can tell lying from standing; "everywhere"; "off") and how long a body must
    # lie low and still first (seconds).
    fall_alerts: str = "confirmable"
    fall_confirm_s: float = 8.0
    # A simulated scene over the whole site instead of random walkers in each room:
    # "walkthrough" (engine.sim.walkthrough): people walk through the simulated
    # cameras' views and from room to room; the first room's nodes hear their tags.
    scene: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """One ``[[alerts.webhooks]]`` entry (or a bare URL in ``webhooks``): an http(s) URL the
    engine POSTs each alert to as JSON, with a timeout in seconds."""

    url: str
    timeout_s: float = 5.0


RISK_PROVIDERS = ("local", "http", "none")


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """The ``[alerts]`` table: where alerts are delivered, after how many seconds an
    unacknowledged alert escalates (default 120), how long after an alert's latest activity
    a new sequence of the site still joins it (``group_window_s``, 300), and where each
    camera's daily risk class comes from: ``risk_provider`` ``"local"`` (the nightly risk
    model, the default), ``"http"`` (a risk API at ``risk_api_url``, basic auth as
    ``risk_api_user`` with the ``risk_api_password`` secret) or ``"none"`` (nothing is ever
    hidden); refreshed daily at ``risk_refresh_hour_utc`` (4; clamped to 0-23). A camera
    that stays offline (or cannot be opened) for ``camera_offline_s`` (60; 0: never) raises
    a warning alert, which clears when the camera is back. ``default_rules`` (true): each
    camera the engine mirrors into the store for the first time gets the default alert
    rules (after hours, loitering; :func:`engine.store.sites.give_default_rules`), which an
    admin may switch off or remove; false for a site that starts with none."""

    webhooks: tuple[WebhookConfig, ...] = ()
    escalate_after_s: float = 120.0
    group_window_s: float = 300.0
    risk_provider: str = "local"
    risk_api_url: str | None = None
    risk_api_user: str | None = None
    risk_refresh_hour_utc: int = 4
    camera_offline_s: float = 60.0
    default_rules: bool = True


@dataclass(frozen=True, slots=True)
class RecordingConfig:
    """Continuous recording of a camera (``[recording]``, and a camera's own
    ``recording = { ... }`` over it). ``continuous``: every second is recorded into
    segments of ``segment_s`` seconds (each ends at the first keyframe after that long).
    Retention keeps, by tier: every segment ``keep_all_days`` days; a segment with motion
    ``keep_motion_days``; one with people seen, or overlapping an event or alert of its
    camera, ``keep_events_days``; evidence locks until released. A recording gap longer
    than ``gap_alert_s`` seconds raises an alert (every gap is an event)."""

    continuous: bool = True
    segment_s: float = 10.0
    keep_all_days: int = 7
    keep_motion_days: int = 14
    keep_events_days: int = 30
    gap_alert_s: float = 60.0


# What a ``[[cameras]]`` table may hold (see :class:`CameraConfig`).
CAMERA_KEYS: Final = frozenset(
    {
        "id",
        "name",
        "url",
        "sub_url",
        "password_env",
        "password_keyring",
        "loop",
        "position",
        "geo",
        "microphone",
        "engine",
        "view",
        "first_frame_s",
        "recording",
        "enabled",
    }
)
RECORDING_DAYS_MAX = 3650
RECORDING_NUMBERS: dict[str, tuple[float, float]] = {
    "segment_s": (2.0, 60.0),
    "gap_alert_s": (1.0, 86400.0),
}
RECORDING_DAYS = ("keep_all_days", "keep_motion_days", "keep_events_days")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The whole site file. ``site_time`` is the site's zone (``[site] timezone``, an IANA name;
    the machine's zone when the file gives none): every time a person reads or types is in
    it, while stored times stay UTC."""

    name: str
    file: Path
    geo_origin: GeoPoint
    rooms: tuple[SensingRoomConfig, ...]  # ``[room]`` or ``[[rooms]]``; () without sensing
    cameras: tuple[CameraConfig, ...]
    sensing_nodes: tuple[SensingNodeConfig, ...]
    detector_model: Path | None = None  # a user's YOLO ONNX export; overrides ``detector``
    detector: str = BUILTIN_DETECTORS[0]  # a built-in people detector: "yolov3-tiny" or "hog"
    sensing: SensingConfig = SensingConfig()
    alerts: AlertsConfig = AlertsConfig()
    # A factory, not a value read at import: the machine's zone is read when a site is
    # built, so a changed $TZ is seen by the next site opened.
    site_time: SiteTime = field(default_factory=SiteTime.machine)
    mqtt: MqttConfig | None = None  # the broker alerts and presence are published to
    recording: RecordingConfig = RecordingConfig()
    # Cameras the file keeps but switches off (``enabled = false``): not run, not shown on
    # the wall; their recordings and history stay. ``cameras`` holds the others.
    disabled_cameras: tuple[CameraConfig, ...] = ()

    def recording_of(self, camera_id: str) -> RecordingConfig:
        """Camera ``camera_id``'s recording: the site's ``[recording]`` with the camera's
        own ``recording = { ... }`` values over it (the site's for an unknown camera)."""
        for camera in self.cameras:
            if camera.id == camera_id:
                return replace(self.recording, **dict(camera.recording))
        return self.recording

    def nodes_of(self, room_id: str) -> tuple[SensingNodeConfig, ...]:
        """The ``[[sensing_nodes]]`` standing in room ``room_id``, in file order."""
        return tuple(node for node in self.sensing_nodes if node.room == room_id)

    def node_port(self, room: SensingRoomConfig) -> int:
        """The port ``room``'s node server listens on: the room's own ``port``, else the
        ``[sensing]`` port, else 8080 for real nodes and any free port (0) for a simulated
        room, whose nodes run in the engine."""
        if room.port is not None:
            return room.port
        if self.sensing.port is not None:
            return self.sensing.port
        return 0 if self.sensing.simulate else 8080


def load_site(path: Path | str) -> SiteConfig:
    """Read and validate a site TOML file. Raises :class:`SiteConfigError` naming file,
    line and field on the first problem found."""
    file = Path(path)
    try:
        text = read_outside_file(file, MAX_SITE_FILE_BYTES).decode("utf-8")
    except OutsideFileError as exc:
        if exc.missing:
            raise SiteConfigError(file, None, "", "site file does not exist") from None
        raise SiteConfigError(file, None, "", f"cannot read site file: {exc.problem}") from None
    except UnicodeDecodeError as exc:
        raise SiteConfigError(file, None, "", f"cannot read site file: {exc}") from None
    return parse_site(file, text)


def parse_site(file: Path, text: str) -> SiteConfig:
    """Validate ``text`` as the site file ``file`` (relative paths in it are taken from
    ``file``'s folder): :func:`load_site` without the read, for a file about to be saved.
    Raises :class:`SiteConfigError` naming file, line and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise SiteConfigError(file, line, "", f"not valid TOML: {exc}") from None
    return _SiteReader(file, text).read(data)


class _SiteReader:
    """Walks the parsed TOML, remembering where each field stands in the text."""

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = _key_lines(text)

    def fail(self, path: tuple[str | int, ...], message: str) -> SiteConfigError:
        line = None
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                line = self.lines[path[:n]]
                break
        return SiteConfigError(self.file, line, _dotted(path), message)

    def table(self, value: Any, path: tuple[str | int, ...], allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a table, got {_type_name(value)}")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    (*path, key), f"unknown field (allowed: {', '.join(sorted(allowed))})"
                )
        return value

    def string(self, table: dict[str, Any], key: str, path: tuple[str | int, ...]) -> str:
        if key not in table:
            raise self.fail((*path, key), "required field is missing")
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail((*path, key), f"expected a non-empty string, got {_type_name(value)}")
        at = control_character_at(value)
        if at is not None:  # a name shown in the terminal must not drive it
            raise self.fail(
                (*path, key),
                f"control character U+{ord(value[at]):04X} at position {at + 1} "
                "(escape sequences, tabs and new lines are not allowed)",
            )
        return value.strip()

    def number(
        self,
        table: dict[str, Any],
        key: str,
        path: tuple[str | int, ...],
        low: float = -math.inf,
        high: float = math.inf,
    ) -> float:
        if key not in table:
            raise self.fail((*path, key), "required field is missing")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail((*path, key), f"expected a number, got {_type_name(value)}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # a TOML integer of hundreds of digits: no float holds it
            finite = False
        if not finite:
            shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:40]}…"
            raise self.fail((*path, key), f"expected a finite number, got {shown}")
        if not low <= value <= high:
            raise self.fail((*path, key), f"{value} is outside {low:g}..{high:g}")
        return float(value)

    def geo(self, value: Any, path: tuple[str | int, ...]) -> GeoPoint:
        table = self.table(value, path, {"lat", "lon"})
        return GeoPoint(
            lat=self.number(table, "lat", path, -90, 90),
            lon=self.number(table, "lon", path, -180, 180),
        )

    def floor_point(self, value: Any, path: tuple[str | int, ...], need_z: bool) -> FloorPoint:
        table = self.table(value, path, {"x", "y", "z"})
        z = self.number(table, "z", path, -100, 1000) if need_z or "z" in table else 0.0
        return FloorPoint(self.number(table, "x", path), self.number(table, "y", path), z)

    def read(self, data: dict[str, Any]) -> SiteConfig:
        root = self.table(
            data,
            (),
            {
                "site",
                "room",
                "rooms",
                "cameras",
                "sensing_nodes",
                "sensing",
                "analytics",
                "alerts",
                "mqtt",
                "recording",
            },
        )
        if "site" not in root:
            raise self.fail(("site",), "required table [site] is missing")
        site = self.table(root["site"], ("site",), {"name", "geo", "timezone"})
        name = self.string(site, "name", ("site",))
        if "geo" not in site:
            raise self.fail(("site", "geo"), "required field is missing (site geo origin)")
        geo_origin = self.geo(site["geo"], ("site", "geo"))
        site_time = SiteTime.machine()
        if "timezone" in site:
            zone_name = self.string(site, "timezone", ("site",))
            try:
                site_time = SiteTime.named(zone_name)
            except UnknownTimeZoneError as exc:
                raise self.fail(("site", "timezone"), str(exc)) from None

        rooms = self.rooms(root, name)
        every_camera = tuple(
            self.camera(item, ("cameras", i)) for i, item in enumerate(self.array(root, "cameras"))
        )
        cameras = tuple(c for c in every_camera if c.enabled)
        nodes = tuple(
            self.sensing_node(item, ("sensing_nodes", i), rooms)
            for i, item in enumerate(self.array(root, "sensing_nodes"))
        )
        self.unique_ids([c.id for c in every_camera], "cameras")
        self.unique_ids([n.id for n in nodes], "sensing_nodes")
        macs = [n.mac for n in nodes if n.mac is not None]
        for index, node in enumerate(nodes):
            if node.mac is not None and macs.count(node.mac) > 1:
                raise self.fail(("sensing_nodes", index, "mac"), f"duplicate MAC {node.mac}")
        sensing = self.sensing(root["sensing"]) if "sensing" in root else SensingConfig()
        if "rooms" in root:
            self.room_nodes_and_ports(rooms, nodes, sensing)
        elif sensing.simulate and (not rooms or len(nodes) < 2):
            raise self.fail(
                ("sensing", "simulate"),
                "a simulated sensing room needs a [room] and at least two [[sensing_nodes]]",
            )
        detector_model = None
        detector = BUILTIN_DETECTORS[0]
        if "analytics" in root:
            analytics = self.table(
                root["analytics"], ("analytics",), {"detector_model", "detector"}
            )
            if "detector" in analytics:
                detector = self.string(analytics, "detector", ("analytics",))
                if detector not in BUILTIN_DETECTORS:
                    raise self.fail(
                        ("analytics", "detector"),
                        f"{detector!r} is not a built-in detector ({', '.join(BUILTIN_DETECTORS)})",
                    )
            if "detector_model" in analytics:
                raw = self.string(analytics, "detector_model", ("analytics",))
                detector_model = Path(self.resolve_file(raw))
                if not detector_model.is_file():
                    raise self.fail(
                        ("analytics", "detector_model"), f"ONNX model not found: {detector_model}"
                    )
        alerts = self.alerts(root["alerts"]) if "alerts" in root else AlertsConfig()
        return SiteConfig(
            name,
            self.file,
            geo_origin,
            rooms,
            cameras,
            nodes,
            detector_model,
            detector,
            sensing,
            alerts,
            site_time,
            mqtt=read_mqtt(self, root["mqtt"]) if "mqtt" in root else None,
            recording=(
                RecordingConfig(**self.recording_values(root["recording"], ("recording",)))
                if "recording" in root
                else RecordingConfig()
            ),
            disabled_cameras=tuple(c for c in every_camera if not c.enabled),
        )

    def rooms(self, root: dict[str, Any], site_name: str) -> tuple[SensingRoomConfig, ...]:
        """The sensing rooms: the one ``[room]`` box (id ``"room"``, named after the site,
        as before rooms had ids) or every ``[[rooms]]`` entry; never both."""
        if "room" in root and "rooms" in root:
            raise self.fail(
                ("rooms",),
                "[room] and [[rooms]] cannot both be given: describe one room with [room], "
                "or every room with [[rooms]]",
            )
        if "room" in root:
            r = self.table(root["room"], ("room",), {"width_m", "depth_m", "height_m", "origin"})
            box = self.room_box(r, ("room",))
            origin = self.room_origin(r, ("room",))
            return (SensingRoomConfig(SINGLE_ROOM_ID, f"{site_name} sensing", box, None, origin),)
        if "rooms" not in root:
            return ()
        entries = self.array(root, "rooms")
        if not entries:
            raise self.fail(("rooms",), "expected at least one [[rooms]] entry")
        rooms: list[SensingRoomConfig] = []
        for index, item in enumerate(entries):
            path: tuple[str | int, ...] = ("rooms", index)
            table = self.table(
                item, path, {"id", "name", "width_m", "depth_m", "height_m", "port", "origin"}
            )
            room_id = self.identifier(table, path)
            room_name = self.string(table, "name", path) if "name" in table else room_id
            port = int(self.integer(table, "port", path, 0, 65535)) if "port" in table else None
            rooms.append(
                SensingRoomConfig(
                    room_id,
                    room_name,
                    self.room_box(table, path),
                    port,
                    self.room_origin(table, path),
                )
            )
        self.unique_ids([room.id for room in rooms], "rooms")
        return tuple(rooms)

    def room_origin(self, table: dict[str, Any], path: tuple[str | int, ...]) -> FloorPoint:
        """Where the room's origin corner is on the floor plan (``origin = { x, y }``)."""
        if "origin" not in table:
            return FloorPoint(0.0, 0.0)
        point = self.floor_point(table["origin"], (*path, "origin"), need_z=False)
        if point.z_m != 0.0:
            raise self.fail((*path, "origin", "z"), "a room's origin is on the floor: give x and y")
        return point

    def room_box(self, table: dict[str, Any], path: tuple[str | int, ...]) -> RoomGeometry:
        return RoomGeometry(
            width_m=self.number(table, "width_m", path, 0.1, 10_000),
            depth_m=self.number(table, "depth_m", path, 0.1, 10_000),
            height_m=self.number(table, "height_m", path, 0.1, 100),
        )

    def room_nodes_and_ports(
        self,
        rooms: tuple[SensingRoomConfig, ...],
        nodes: tuple[SensingNodeConfig, ...],
        sensing: SensingConfig,
    ) -> None:
        """``[[rooms]]``: each room stands at least two nodes; where the site has several
        rooms, each room's nodes connect to a port of its own (the ``[sensing]`` port would
        be every room's), given per room unless the rooms are simulated (any free port)."""
        for index, room in enumerate(rooms):
            count = sum(node.room == room.id for node in nodes)
            if count < 2:
                raise self.fail(
                    ("rooms", index),
                    f"room {room.id!r} has {count} sensing node{'' if count == 1 else 's'}; "
                    f"it needs at least two (give them room = {room.id!r} in [[sensing_nodes]])",
                )
        if len(rooms) < 2:
            return
        if sensing.port is not None:
            raise self.fail(
                ("sensing", "port"),
                "with more than one room, give each [[rooms]] entry its own port instead",
            )
        taken: dict[int, str] = {}
        for index, room in enumerate(rooms):
            if room.port is None:
                if sensing.simulate:
                    continue  # simulated nodes find their room's server on any free port
                raise self.fail(
                    ("rooms", index, "port"),
                    "required when the site has more than one room of real nodes: each "
                    "room's nodes connect to a port of its own",
                )
            if room.port != 0 and room.port in taken:
                raise self.fail(
                    ("rooms", index, "port"),
                    f"port {room.port} is already room {taken[room.port]!r}'s",
                )
            taken[room.port] = room.id

    def alerts(self, value: Any) -> AlertsConfig:
        path: tuple[str | int, ...] = ("alerts",)
        table = self.table(
            value,
            path,
            {
                "webhooks",
                "escalate_after_s",
                "group_window_s",
                "risk_provider",
                "risk_api_url",
                "risk_api_user",
                "risk_refresh_hour_utc",
                "camera_offline_s",
                "default_rules",
            },
        )
        default_rules = table.get("default_rules", True)
        if not isinstance(default_rules, bool):
            raise self.fail(
                (*path, "default_rules"), f"expected true or false, got {_type_name(default_rules)}"
            )
        escalate = (
            self.number(table, "escalate_after_s", path, 10, 86_400)
            if "escalate_after_s" in table
            else 120.0
        )
        raw = table.get("webhooks", [])
        if not isinstance(raw, list):
            raise self.fail((*path, "webhooks"), "expected an array of URLs or tables")
        self.bounded(raw, (*path, "webhooks"))
        hooks: list[WebhookConfig] = []
        for index, item in enumerate(raw):
            where = (*path, "webhooks", index)
            if isinstance(item, str):
                entry = {"url": item}
            else:
                entry = self.table(item, where, {"url", "timeout_s"})
            if "url" not in entry:
                raise self.fail((*where, "url"), "required field is missing")
            url = self.string(entry, "url", where).strip()
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail((*where, "url"), "expected an http:// or https:// URL with a host")
            timeout = (
                self.number(entry, "timeout_s", where, 0.1, 120) if "timeout_s" in entry else 5.0
            )
            hooks.append(WebhookConfig(url, timeout))
        window = (
            self.number(table, "group_window_s", path, 0, 86_400)
            if "group_window_s" in table
            else 300.0
        )
        provider = (
            self.string(table, "risk_provider", path) if "risk_provider" in table else "local"
        )
        if provider not in RISK_PROVIDERS:
            raise self.fail(
                (*path, "risk_provider"),
                f"expected one of {', '.join(RISK_PROVIDERS)}, got {provider!r}",
            )
        api_url = (
            self.string(table, "risk_api_url", path).strip() if "risk_api_url" in table else None
        )
        if provider == "http":
            if not api_url:
                raise self.fail((*path, "risk_api_url"), "risk_provider 'http' needs the API's URL")
            parts = urllib.parse.urlsplit(api_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(
                    (*path, "risk_api_url"), "expected an http:// or https:// URL with a host"
                )
        user = self.string(table, "risk_api_user", path) if "risk_api_user" in table else None
        hour = 4
        if "risk_refresh_hour_utc" in table:
            raw_hour = table["risk_refresh_hour_utc"]
            if isinstance(raw_hour, bool) or not isinstance(raw_hour, int):
                raise self.fail(
                    (*path, "risk_refresh_hour_utc"),
                    f"expected an hour (integer), got {_type_name(raw_hour)}",
                )
            hour = min(23, max(0, raw_hour))  # clamped, as the risk provider's schedule is
        offline = (
            self.number(table, "camera_offline_s", path, 0, 86_400)
            if "camera_offline_s" in table
            else 60.0
        )
        return AlertsConfig(
            tuple(hooks), escalate, window, provider, api_url, user, hour, offline, default_rules
        )

    def sensing(self, value: Any) -> SensingConfig:
        path: tuple[str | int, ...] = ("sensing",)
        table = self.table(
            value,
            path,
            {"host", "port", "simulate", "walkers", "seed", "voxel_m", "falls", "scene"},
        )
        default = SensingConfig()
        host = self.string(table, "host", path) if "host" in table else default.host
        port = int(self.integer(table, "port", path, 0, 65535)) if "port" in table else None
        simulate = table.get("simulate", False)
        if not isinstance(simulate, bool):
            raise self.fail(
                (*path, "simulate"), f"expected true or false, got {_type_name(simulate)}"
            )
        walkers = int(self.integer(table, "walkers", path, 0, 8)) if "walkers" in table else 1
        seed = int(self.integer(table, "seed", path, 0, 2**31 - 1)) if "seed" in table else 0
        voxel = self.number(table, "voxel_m", path, 0.05, 1.0) if "voxel_m" in table else 0.2
        fall_alerts, fall_confirm_s = default.fall_alerts, default.fall_confirm_s
        if "falls" in table:
            falls_path = (*path, "falls")
            falls = self.table(table["falls"], falls_path, {"alerts", "confirm_s"})
            if "alerts" in falls:
                fall_alerts = self.string(falls, "alerts", falls_path)
                if fall_alerts not in _FALL_ALERTS:
                    raise self.fail(
                        (*falls_path, "alerts"),
                        f"expected one of {', '.join(_FALL_ALERTS)}, got {fall_alerts!r}",
                    )
            if "confirm_s" in falls:
                fall_confirm_s = self.number(falls, "confirm_s", falls_path, 3, 14)
        scene = self.string(table, "scene", path) if "scene" in table else None
        if scene is not None:
            if scene not in SCENES:
                raise self.fail(
                    (*path, "scene"), f"expected one of {', '.join(SCENES)}, got {scene!r}"
                )
            if not simulate:
                raise self.fail(
                    (*path, "scene"), "a simulated scene needs simulate = true (it is a demo)"
                )
            if not 1 <= walkers <= 5:
                raise self.fail(
                    (*path, "walkers"), f"a {scene} scene has 1 to 5 walkers, got {walkers}"
                )
        return SensingConfig(
            host, port, simulate, walkers, seed, voxel, fall_alerts, fall_confirm_s, scene
        )

    def integer(
        self, table: dict[str, Any], key: str, path: tuple[str | int, ...], low: int, high: int
    ) -> int:
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail((*path, key), f"expected a whole number, got {_type_name(value)}")
        if not low <= value <= high:
            raise self.fail((*path, key), f"{value} is outside {low}..{high}")
        return value

    def unique_ids(self, ids: list[str], label: str) -> None:
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if item_id in seen:
                raise self.fail((label, index, "id"), f"duplicate id {item_id!r}")
            seen.add(item_id)

    def array(self, root: dict[str, Any], key: str) -> list[Any]:
        value = root.get(key, [])
        if not isinstance(value, list):
            raise self.fail((key,), f"expected an array of tables [[{key}]]")
        self.bounded(value, (key,))
        return value

    def bounded(self, entries: list[Any], path: tuple[str | int, ...]) -> None:
        """Refuse more ``entries`` than :data:`SITE_FILE_LIMITS` allows for ``path``'s last
        key, before any of them is read (named at the first entry past the limit)."""
        limit = SITE_FILE_LIMITS[str(path[-1])]
        if len(entries) > limit:
            raise self.fail(
                (*path, limit),
                f"{len(entries)} entries; a site file may list at most {limit} "
                f"(each runs on the engine: threads and memory)",
            )

    def camera(self, value: Any, path: tuple[str | int, ...]) -> CameraConfig:
        table = self.table(value, path, set(CAMERA_KEYS))
        camera_id = self.identifier(table, path)
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise self.fail(
                (*path, "enabled"), f"expected true or false, got {_type_name(enabled)}"
            )
        name = self.string(table, "name", path) if "name" in table else camera_id
        if "url" not in table:
            raise self.fail((*path, "url"), "required field is missing")
        raw = table["url"]
        if isinstance(raw, int) and not isinstance(raw, bool):
            url, kind = self.webcam_index(raw, (*path, "url")), SourceKind.WEBCAM
        else:
            url = self.string(table, "url", path)
            url, kind = self.resolve_url(url, (*path, "url"))
        url, secret = self.camera_secret(table, camera_id, url, kind, path)
        sub_url = self.sub_url(table, kind, path) if "sub_url" in table else None
        view = self.camera_view(table, kind, path)
        loop = table.get("loop", kind is SourceKind.FILE)
        if not isinstance(loop, bool):
            raise self.fail((*path, "loop"), f"expected true or false, got {_type_name(loop)}")
        position = (
            self.floor_point(table["position"], (*path, "position"), need_z=False)
            if "position" in table
            else None
        )
        geo = self.geo(table["geo"], (*path, "geo")) if "geo" in table else None
        microphone = self.string(table, "microphone", path) if "microphone" in table else None
        engine = self.string(table, "engine", path) if "engine" in table else None
        if engine is not None:
            try:
                check_engine_name(engine)
            except ValueError as exc:
                raise self.fail((*path, "engine"), str(exc)) from None
        return CameraConfig(
            camera_id,
            name,
            url,
            kind,
            loop,
            position,
            geo,
            secret,
            microphone=microphone,
            engine=engine,
            view=view,
            first_frame_s=(
                self.number(table, "first_frame_s", path, 1, 3600)
                if "first_frame_s" in table
                else FIRST_FRAME_S
            ),
            recording=(
                tuple(self.recording_values(table["recording"], (*path, "recording")).items())
                if "recording" in table
                else ()
            ),
            enabled=enabled,
            sub_url=sub_url,
        )

    def sub_url(self, table: dict[str, Any], kind: SourceKind, path: tuple[str | int, ...]) -> str:
        """A camera's ``sub_url``: a stream for a stream camera, a file for a file one,
        without a password of its own (the camera's password serves both streams)."""
        where = (*path, "sub_url")
        if kind not in (SourceKind.STREAM, SourceKind.FILE):
            raise self.fail(where, "only a stream or file camera has a sub stream")
        raw = self.string(table, "sub_url", path)
        sub, sub_kind = self.resolve_url(raw, where)
        if sub_kind is not kind:
            raise self.fail(
                where, f"a {kind.value} camera's sub stream is a {kind.value} too, not {raw!r}"
            )
        if kind is SourceKind.STREAM:
            try:
                has_password = urlsplit(sub).password is not None
            except ValueError as exc:
                raise self.fail(where, f"bad address: {exc}") from None
            if has_password:
                raise self.fail(
                    where,
                    "carries a password: the camera's password (password_env, "
                    "password_keyring) serves both of its streams",
                )
        return sub

    def recording_values(self, value: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
        """The values a ``[recording]`` table (or a camera's ``recording = { ... }``) gives,
        checked: whole days 0..3650, seconds within their bounds, ``continuous`` a bool."""
        table = self.table(value, path, {f.name for f in fields(RecordingConfig)})
        values: dict[str, Any] = {}
        for key, raw in table.items():
            if key == "continuous":
                if not isinstance(raw, bool):
                    raise self.fail((*path, key), f"expected true or false, got {_type_name(raw)}")
                values[key] = raw
            elif key in RECORDING_DAYS:
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise self.fail(
                        (*path, key), f"expected a whole number of days, got {_type_name(raw)}"
                    )
                if not 0 <= raw <= RECORDING_DAYS_MAX:
                    raise self.fail((*path, key), f"{raw} is outside 0..{RECORDING_DAYS_MAX} days")
                values[key] = raw
            else:
                low, high = RECORDING_NUMBERS[key]
                values[key] = self.number(table, key, path, low, high)
        return values

    def camera_view(
        self, table: dict[str, Any], kind: SourceKind, path: tuple[str | int, ...]
    ) -> CameraView | None:
        """A simulated camera's ``view = { x, y, z, yaw, pitch, fov }`` (metres on the floor
        plan and degrees; ``width`` and ``height`` in pixels may follow): required for a
        simulated camera, refused for any other."""
        where = (*path, "view")
        if kind is not SourceKind.SIMULATED:
            if "view" in table:
                raise self.fail(
                    where, f'only a simulated camera (url = "{SIMULATED_URL}") has a view'
                )
            return None
        if "view" not in table:
            raise self.fail(
                where,
                "required for a simulated camera: where it hangs and looks, "
                "view = { x, y, z, yaw, pitch, fov } (metres, degrees)",
            )
        view = self.table(table["view"], where, set(_VIEW_FIELDS))

        def size(key: str, default: int) -> int:
            return self.integer(view, key, where, 16, 8192) if key in view else default

        x, y, z, yaw, pitch, fov = (
            self.number(view, key, where) for key in ("x", "y", "z", "yaw", "pitch", "fov")
        )
        width, height = size("width", DEFAULT_WIDTH_PX), size("height", DEFAULT_HEIGHT_PX)
        try:
            return CameraView(x, y, z, yaw, pitch, fov, width, height)
        except ValueError as exc:  # "pitch_deg: ..." names CameraView's field
            field_name, _, message = str(exc).partition(": ")
            key = next((k for k, f in _VIEW_FIELDS.items() if f == field_name), field_name)
            raise self.fail((*where, key), message) from None

    def camera_secret(
        self,
        table: dict[str, Any],
        camera_id: str,
        url: str,
        kind: SourceKind,
        path: tuple[str | int, ...],
    ) -> tuple[str, CameraSecret | None]:
        """The URL with any password masked, and where the password comes from: at most
        one of ``password_env``, ``password_keyring`` and a password in the URL."""
        env = self.string(table, "password_env", path) if "password_env" in table else None
        if env is not None and kind is not SourceKind.STREAM:
            raise self.fail((*path, "password_env"), "only a stream camera has a password")
        if env is not None and not _ENV_NAME.fullmatch(env):
            raise self.fail((*path, "password_env"), f"{env!r} is not an environment variable name")
        service = self.keyring_service(table, path)
        if service is not None and kind is not SourceKind.STREAM:
            raise self.fail((*path, "password_keyring"), "only a stream camera has a password")
        if service is not None and env is not None:
            raise self.fail(
                (*path, "password_keyring"),
                "password_env already names this camera's password; keep one of the two",
            )
        if kind is not SourceKind.STREAM:
            return url, None
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise self.fail((*path, "url"), f"bad port: {exc}") from None
        inline = parts.password
        if inline is not None and env is not None:
            raise self.fail((*path, "url"), "the URL has a password and password_env names another")
        if inline is not None and service is not None:
            raise self.fail(
                (*path, "url"), "the URL has a password and password_keyring names another"
            )
        if inline is None and env is None and service is None:
            return url, None
        if inline is not None:
            log.warning(
                "%s: camera %s has its password in the URL; move it to the keyring "
                "(password_keyring) or an environment variable (password_env)",
                self.file,
                camera_id,
            )
        secret = CameraSecret(
            env=env,
            inline=inline,
            keyring_service=service,
            keyring_username=camera_id if service is not None else None,
        )
        return with_password(url, PASSWORD_MASK), secret

    def keyring_service(self, table: dict[str, Any], path: tuple[str | int, ...]) -> str | None:
        """``password_keyring``: ``true`` for the service ``watchfloor``, or a service name."""
        if "password_keyring" not in table:
            return None
        value = table["password_keyring"]
        where = (*path, "password_keyring")
        if value is True:
            return DEFAULT_KEYRING_SERVICE
        if not isinstance(value, str):
            raise self.fail(
                where,
                f'expected true (service "{DEFAULT_KEYRING_SERVICE}") or a keyring service '
                f"name, got {_type_name(value)}",
            )
        if not _KEYRING_SERVICE.fullmatch(value):
            raise self.fail(
                where,
                f"{value!r} is not a keyring service name (1-128 letters, digits, '.', '_' "
                "or '-', starting with a letter or digit)",
            )
        return value

    def webcam_index(self, index: int, path: tuple[str | int, ...]) -> str:
        """A webcam index as the URL string; OpenCV takes a C int, and no machine has more
        than a few hundred video devices."""
        if not 0 <= index <= MAX_WEBCAM_INDEX:
            raise self.fail(path, f"webcam index {index} is outside 0..{MAX_WEBCAM_INDEX}")
        return str(index)

    def resolve_url(self, url: str, path: tuple[str | int, ...]) -> tuple[str, SourceKind]:
        if url.lower() == SIMULATED_URL:
            return SIMULATED_URL, SourceKind.SIMULATED
        if url.isdigit():
            return self.webcam_index(int(url), path), SourceKind.WEBCAM
        scheme, sep, _ = url.partition("://")
        if sep:
            if scheme.lower() == "file":
                return self.resolve_file(url[len("file://") :]), SourceKind.FILE
            if scheme.lower() not in STREAM_SCHEMES:
                raise self.fail(
                    path,
                    f"unsupported scheme {scheme!r} (use a file path, a webcam index, "
                    f"or one of {', '.join(STREAM_SCHEMES)})",
                )
            return url, SourceKind.STREAM
        return self.resolve_file(url), SourceKind.FILE

    def resolve_file(self, raw: str) -> str:
        file_path = Path(raw).expanduser()
        if not file_path.is_absolute():
            file_path = (self.file.parent / file_path).resolve()
        return str(file_path)

    def identifier(self, table: dict[str, Any], path: tuple[str | int, ...]) -> str:
        value = self.string(table, "id", path)
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", value):
            raise self.fail((*path, "id"), f"{value!r} must be 1-64 letters, digits, '_' or '-'")
        return value

    def sensing_node(
        self, value: Any, path: tuple[str | int, ...], rooms: tuple[SensingRoomConfig, ...]
    ) -> SensingNodeConfig:
        table = self.table(value, path, {"id", "name", "position", "mac", "room"})
        node_id = self.identifier(table, path)
        name = self.string(table, "name", path) if "name" in table else node_id
        if "position" not in table:
            raise self.fail((*path, "position"), "required field is missing")
        position = self.floor_point(table["position"], (*path, "position"), need_z=True)
        mac = None
        if "mac" in table:
            raw = self.string(table, "mac", path)
            if not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", raw):
                raise self.fail((*path, "mac"), f"{raw!r} is not a MAC like AA:BB:CC:DD:EE:FF")
            mac = raw.upper()
        return SensingNodeConfig(node_id, name, position, mac, self.node_room(table, path, rooms))

    def node_room(
        self,
        table: dict[str, Any],
        path: tuple[str | int, ...],
        rooms: tuple[SensingRoomConfig, ...],
    ) -> str:
        """The id of the room a node stands in: its ``room``, which must name a room of the
        site; required where there are several (one room, or none, is the default)."""
        ids = [room.id for room in rooms]
        if "room" not in table:
            if len(ids) > 1:
                raise self.fail(
                    (*path, "room"),
                    f"required when the site has more than one room (rooms: {', '.join(ids)})",
                )
            return ids[0] if ids else SINGLE_ROOM_ID
        room_id = self.string(table, "room", path)
        if room_id not in ids:
            known = f"rooms: {', '.join(ids)}" if ids else "the site has no [room] or [[rooms]]"
            raise self.fail((*path, "room"), f"unknown room {room_id!r} ({known})")
        return room_id


def _key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each table header and key path in ``text`` to its 1-based line number.

    Array-of-tables entries are addressed by index, as in ``("cameras", 1, "url")``.
    """
    lines: dict[tuple[str | int, ...], int] = {}
    counts: dict[str, int] = defaultdict(int)
    current: tuple[str | int, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("[["):
            name = stripped[2:].split("]]", 1)[0].strip()
            lines.setdefault(_split_key(name), number)  # the array itself: its first entry
            current = (*_split_key(name), counts[name])
            counts[name] += 1
        elif stripped.startswith("["):
            current = _split_key(stripped[1:].split("]", 1)[0])
        else:
            match = re.match(r"""\s*([A-Za-z0-9_\-."' ]+?)\s*=""", raw)
            if not match:
                continue
            key_path = (*current, *_split_key(match.group(1)))
            lines.setdefault(key_path, number)
            continue
        lines.setdefault(current, number)
    return lines


def _split_key(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
