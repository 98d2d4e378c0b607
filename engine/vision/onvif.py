"""ONVIF cameras for the add-camera wizard: find them on the local network (WS-Discovery)
and read one (maker, model, firmware, its media profiles with their stream addresses).

:func:`discover` sends a WS-Discovery Probe for ``dn:NetworkVideoTransmitter`` over UDP to
the multicast group 239.255.255.250:3702 (and to any unicast addresses given: a camera on
another subnet, or a test) and collects the ProbeMatches that answer it for a set time.
:func:`read_device` speaks SOAP 1.2 over HTTP to a device's service: GetSystemDateAndTime
(to sign with the camera's clock), GetDeviceInformation, GetServices (or GetCapabilities)
for the media service (ONVIF's Media2 when the camera lists it, where H.265 profiles are;
else Media), GetProfiles, and GetStreamUri and GetSnapshotUri per profile, each signed with
a WS-Security UsernameToken whose password is a digest (Base64(SHA1(nonce + created +
password))) and, for a camera that asks (401 with a challenge), HTTP Digest (RFC 7616: MD5
or SHA-256, ``qop=auth``, a stale nonce answered again): the password itself is never sent,
logged or put in a message. :func:`main_and_sub` picks the profile to record and the one to
analyse.

Everything read from the network is hostile input and bounded: time (discovery listens
``timeout_s``; each HTTP exchange ends ``timeout_s`` after it starts, connect and whole
answer, and a device is read within :data:`READ_DEVICE_BUDGET` exchanges' time), size (a
datagram at most 64 KiB, an HTTP answer at most 1 MiB), count (devices, profiles, scopes,
addresses) and form (XML with a DOCTYPE or an entity is refused before parsing; only
http/https device addresses; text cleaned of control characters). Stdlib only (socket,
http.client, ElementTree): no SOAP library. Time limits are real seconds (socket
timeouts), not the engine clock's. Blocking: call from a worker thread or the CLI.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import logging
import os
import re
import socket
import ssl
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from engine.clock import REAL_CLOCK
from engine.text import printable

log = logging.getLogger(__name__)

MULTICAST_GROUP: Final = ("239.255.255.250", 3702)  # WS-Discovery's IPv4 group and port
DISCOVERY_PORT: Final = 3702
DISCOVERY_SECONDS: Final = 3.0
MAX_DISCOVERY_SECONDS: Final = 30.0
MULTICAST_TTL: Final = 1  # the local network only: another subnet is asked by unicast
MAX_DEVICES: Final = 256
MAX_DATAGRAM_BYTES: Final = 64 * 1024
HTTP_TIMEOUT_S: Final = 5.0  # connect and the whole answer, per exchange
READ_DEVICE_BUDGET: Final = 8  # a device is read within 8 exchanges' timeouts in all
MAX_ANSWER_BYTES: Final = 1024 * 1024
READ_CHUNK_BYTES: Final = 64 * 1024
MAX_PROFILES: Final = 32
MAX_CHALLENGE_CHARS: Final = 4096  # a WWW-Authenticate header read at most this long
MAX_SCOPES: Final = 64
MAX_XADDRS: Final = 8
MAX_TEXT_CHARS: Final = 256  # a name, model, token...
MAX_URI_CHARS: Final = 2048
MAX_PICTURE_SIDE: Final = 16_384  # pixels: larger is not a camera's picture
MAX_FPS: Final = 1000.0
DEVICE_SERVICE_PATH: Final = "/onvif/device_service"
DEFAULT_HTTP_PORT: Final = 80

_SOAP12: Final = "http://www.w3.org/2003/05/soap-envelope"
_WSA: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
_DN: Final = "http://www.onvif.org/ver10/network/wsdl"
_TDS: Final = "http://www.onvif.org/ver10/device/wsdl"
_TRT: Final = "http://www.onvif.org/ver10/media/wsdl"
_TR2: Final = "http://www.onvif.org/ver20/media/wsdl"  # Media2: H.265 profiles, newer cameras
_TT: Final = "http://www.onvif.org/ver10/schema"
_WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PASSWORD_DIGEST: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
_BASE64_BINARY: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
_SCOPE_PREFIX: Final = "onvif://www.onvif.org/"
_URI_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class OnvifError(RuntimeError):
    """A camera could not be found or read: the message names the address and what failed
    (never a password)."""


class OnvifAuthError(OnvifError):
    """The camera refused the user name or password (or asks for them)."""


class _SoapFaultError(OnvifError):
    """The camera answered a request with a SOAP fault (not about the credentials);
    ``reason`` is the fault's reason, cleaned."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """A device that answered the WS-Discovery Probe. ``endpoint`` is its WS-Addressing
    endpoint (usually ``urn:uuid:…``, stable across restarts); ``xaddrs`` its device
    service addresses (http/https only); ``name``, ``hardware`` and ``location`` come from
    its ``onvif://www.onvif.org/name|hardware|location/…`` scopes, URL-decoded (None when it
    gives none); ``responder`` is the ``ip:port`` the answer came from."""

    endpoint: str
    xaddrs: tuple[str, ...]
    name: str | None
    hardware: str | None
    location: str | None
    scopes: tuple[str, ...]
    types: tuple[str, ...]
    responder: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "xaddrs": list(self.xaddrs),
            "name": self.name,
            "hardware": self.hardware,
            "location": self.location,
            "scopes": list(self.scopes),
            "types": list(self.types),
            "responder": self.responder,
        }


@dataclass(frozen=True, slots=True)
class OnvifProfile:
    """One media profile: its ``token`` (what ONVIF requests name it by) and ``name``, its
    video ``encoding`` (``H264``, ``H265``, ``JPEG``, ``MPEG4``…), picture ``width`` and
    ``height`` in pixels, frame rate limit ``fps`` (None when not given), its RTSP
    ``stream_uri`` and its ``snapshot_uri`` (None when the camera gives none; a password in
    either is replaced by ``***``)."""

    token: str
    name: str
    encoding: str
    width: int
    height: int
    fps: float | None
    stream_uri: str | None
    snapshot_uri: str | None

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def summary(self) -> str:
        """``H264 1920×1080 at 25 fps``."""
        rate = f" at {self.fps:g} fps" if self.fps else ""
        return f"{self.encoding} {self.width}×{self.height}{rate}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "name": self.name,
            "encoding": self.encoding,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "stream_uri": self.stream_uri,
            "snapshot_uri": self.snapshot_uri,
        }


@dataclass(frozen=True, slots=True)
class OnvifDevice:
    """What :func:`read_device` read: the device service ``address`` it used, the maker,
    model, firmware, serial number and hardware id the camera gives (empty when it gives
    none), the media service address, its video profiles (at most :data:`MAX_PROFILES`)
    and ``notes`` on what was missing or changed (e.g. a media address on another host);
    ``media_service``: which ONVIF media service it was read through (Media2 when the
    camera offers it: its H.265 profiles are there)."""

    address: str
    manufacturer: str
    model: str
    firmware: str
    serial_number: str
    hardware_id: str
    media_address: str
    profiles: tuple[OnvifProfile, ...]
    notes: tuple[str, ...] = field(default=())
    media_service: str = "Media"  # "Media2" when the camera offers ONVIF's newer one

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "firmware": self.firmware,
            "serial_number": self.serial_number,
            "hardware_id": self.hardware_id,
            "media_address": self.media_address,
            "media_service": self.media_service,
            "profiles": [p.as_dict() for p in self.profiles],
            "notes": list(self.notes),
        }


# --- WS-Discovery ---------------------------------------------------------------------------


def discover(
    timeout_s: float = DISCOVERY_SECONDS,
    targets: Iterable[tuple[str, int]] = (MULTICAST_GROUP,),
    max_devices: int = MAX_DEVICES,
) -> list[DiscoveredDevice]:
    """Send a WS-Discovery Probe for ONVIF video transmitters to each of ``targets``
    (``(host, port)``: the multicast group, or a camera's own address for one on another
    subnet) and collect the devices that answer within ``timeout_s`` seconds (at most
    :data:`MAX_DISCOVERY_SECONDS`), one per endpoint, in the order they answered; stops
    early at ``max_devices`` (at most :data:`MAX_DEVICES`). Answers that are too large,
    not XML, carry a DOCTYPE or an entity, answer another probe, or give no http/https
    address are ignored. Raises :class:`OnvifError` when the Probe could not be sent to
    any target. Blocks for ``timeout_s``."""
    timeout_s = min(max(float(timeout_s), 0.0), MAX_DISCOVERY_SECONDS)
    max_devices = min(max(int(max_devices), 0), MAX_DEVICES)
    message_id = f"urn:uuid:{uuid.uuid4()}"
    probe = _probe_message(message_id)
    targets = list(targets)
    devices: dict[str, DiscoveredDevice] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
        sock.bind(("", 0))
        failures = []
        for host, port in targets:
            try:
                sock.sendto(probe, _udp_address(host, port))
            except OSError as exc:
                failures.append(f"{host}:{port} ({_reason(exc)})")
        if targets and len(failures) == len(targets):
            raise OnvifError(f"the discovery probe could not be sent to {', '.join(failures)}")
        for failure in failures:
            log.info("ONVIF discovery: the probe could not be sent to %s", failure)
        deadline = time.monotonic() + timeout_s
        while len(devices) < max_devices:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                data, sender = sock.recvfrom(MAX_DATAGRAM_BYTES + 1)
            except TimeoutError:
                break
            except OSError as exc:  # e.g. an ICMP "port unreachable" reported late
                log.debug("ONVIF discovery: %s", _reason(exc))
                continue
            responder = f"{sender[0]}:{sender[1]}"
            if len(data) > MAX_DATAGRAM_BYTES:
                log.info("ONVIF discovery: ignored an answer over 64 KiB from %s", responder)
                continue
            try:
                found = _probe_matches(data, message_id, responder)
            except ValueError as exc:
                log.info("ONVIF discovery: ignored an answer from %s: %s", responder, exc)
                continue
            for device in found:
                if len(devices) >= max_devices:
                    break
                devices.setdefault(device.endpoint, device)
    return list(devices.values())


def _udp_address(host: str, port: int) -> tuple[str, int]:
    """``(host, port)`` resolved to an IPv4 address (a name is looked up)."""
    if not 0 < int(port) < 65536:
        raise OSError(f"port {port} is not a port")
    info = socket.getaddrinfo(host, int(port), socket.AF_INET, socket.SOCK_DGRAM)
    address = info[0][4]
    return str(address[0]), int(address[1])


def _probe_message(message_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{_SOAP12}" xmlns:a="{_WSA}" xmlns:d="{_WSD}" xmlns:dn="{_DN}">'
        "<s:Header>"
        f"<a:MessageID>{message_id}</a:MessageID>"
        '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
        f'<a:Action s:mustUnderstand="1">{_WSD}/Probe</a:Action>'
        "</s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    ).encode()


def _probe_matches(data: bytes, message_id: str, responder: str) -> list[DiscoveredDevice]:
    """The devices in a ProbeMatches answer to the probe ``message_id`` (ValueError: not
    an answer we read)."""
    root = _parse_xml(data)
    if _local(root.tag) != "Envelope":
        raise ValueError("not a SOAP envelope")
    relates_to = _find_text(root, "RelatesTo")
    if relates_to is not None and relates_to != message_id:
        raise ValueError("an answer to another probe")
    devices: list[DiscoveredDevice] = []
    for match in (e for e in root.iter() if _local(e.tag) == "ProbeMatch"):
        if len(devices) >= MAX_DEVICES:
            break
        xaddrs = tuple(
            uri for uri in (_web_address(t) for t in (_find_text(match, "XAddrs") or "").split())
            if uri is not None
        )[:MAX_XADDRS]  # fmt: skip
        if not xaddrs:
            continue  # nothing to read it at
        scopes = _split_scopes(_find_text(match, "Scopes") or "")
        endpoint = _clean(_find_text(match, "Address") or "") or xaddrs[0]
        types = tuple(_clean(t) for t in (_find_text(match, "Types") or "").split())
        devices.append(
            DiscoveredDevice(
                endpoint=endpoint,
                xaddrs=xaddrs,
                name=_scope_value(scopes, "name"),
                hardware=_scope_value(scopes, "hardware"),
                location=_scope_value(scopes, "location"),
                scopes=scopes,
                types=types[:MAX_SCOPES],
                responder=responder,
            )
        )
    return devices


def _split_scopes(text: str) -> tuple[str, ...]:
    """Scopes are URIs separated by white space. Some cameras put a name with spaces in
    its scope unencoded: a word that is not a URI continues the scope before it."""
    scopes: list[str] = []
    for word in text.split():
        if scopes and not _URI_SCHEME.match(word):
            scopes[-1] = f"{scopes[-1]} {word}"
        elif len(scopes) < MAX_SCOPES:
            scopes.append(word)
        else:
            break
    return tuple(_clean(s, MAX_URI_CHARS) for s in scopes)


def _scope_value(scopes: Sequence[str], kind: str) -> str | None:
    """The URL-decoded values of ``onvif://www.onvif.org/<kind>/…`` scopes, joined with
    ", " (None: none)."""
    prefix = f"{_SCOPE_PREFIX}{kind}/"
    values = [
        _clean(unquote(scope[len(prefix) :], errors="replace"))
        for scope in scopes
        if scope.lower().startswith(prefix)
    ]
    values = [v for v in values if v]
    return _clean(", ".join(values)) if values else None


# --- reading a device -----------------------------------------------------------------------


def device_service_url(address: str) -> str:
    """The device service URL for ``address``: ``http(s)://host[:port][/path]`` (the path
    defaults to ``/onvif/device_service``) or ``host[:port]`` (http, port 80). Raises
    :class:`OnvifError` for another scheme, a user or password in the address, or no
    host."""
    text = address.strip()
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        raise OnvifError(f"{printable(address)!r} is not an address (host[:port] or a URL)")
    if "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise OnvifError(f"{printable(address)!r} is not an address (bad port?)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OnvifError(f"{printable(address)!r}: an ONVIF device is read over http or https")
    if parts.username is not None or parts.password is not None:
        raise OnvifError(
            "give the user name and password separately, not in the address "
            f"({parts.hostname or 'the address'})"
        )
    host = parts.hostname
    if not host:
        raise OnvifError(f"{printable(address)!r} names no host")
    if ":" in host:
        host = f"[{host}]"
    default = DEFAULT_HTTP_PORT if scheme == "http" else 443
    netloc = f"{host}:{port if port is not None else default}"
    path = parts.path if parts.path not in ("", "/") else DEVICE_SERVICE_PATH
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def read_device(
    address: str,
    user: str | None,
    password: str | None,
    timeout_s: float = HTTP_TIMEOUT_S,
) -> OnvifDevice:
    """Read the ONVIF device at ``address`` (see :func:`device_service_url`) with ``user``
    and ``password`` (None: without credentials): maker, model, firmware, its video
    profiles with their RTSP stream and snapshot addresses. Each exchange ends after
    ``timeout_s`` seconds (connect and answer), the whole read after
    :data:`READ_DEVICE_BUDGET` times that. Raises :class:`OnvifAuthError` when the camera
    refuses the credentials, :class:`OnvifError` for anything else (nothing listening, a
    timeout, not ONVIF, an answer too large…), naming the address."""
    url = device_service_url(address)
    client = _SoapClient(url, user, password, timeout_s)
    notes: list[str] = []
    client.sync_clock()
    info = client.call(
        url, f"{_TDS}/GetDeviceInformation", f'<GetDeviceInformation xmlns="{_TDS}"/>'
    )
    media_url, media, note = _media_address(client, url)
    if note:
        notes.append(note)
    asked = "<Type>VideoEncoder</Type>" if media == _TR2 else ""
    answer = client.call(
        media_url, f"{media}/GetProfiles", f'<GetProfiles xmlns="{media}">{asked}</GetProfiles>'
    )
    profiles, skipped = _profiles(answer)
    notes.extend(skipped)
    read: list[OnvifProfile] = []
    snapshots = True  # until the camera refuses one: then it is not asked again
    for token, name, encoding, width, height, fps in profiles:
        try:
            stream = _profile_uri(client, media_url, media, "GetStreamUri", token, notes)
        except _SoapFaultError as exc:
            stream = None
            notes.append(f"profile {token}: no stream address ({exc.reason})")
        snapshot = None
        if snapshots:
            try:
                snapshot = _profile_uri(client, media_url, media, "GetSnapshotUri", token, notes)
            except _SoapFaultError as exc:
                snapshots = False
                notes.append(
                    f"the camera gives no snapshot address (profile {token}: {exc.reason})"
                )
        if stream is not None and urlsplit(stream).scheme.lower() not in ("rtsp", "rtsps"):
            notes.append(f"profile {token}: the stream address is not RTSP ({stream})")
        read.append(OnvifProfile(token, name, encoding, width, height, fps, stream, snapshot))
    return OnvifDevice(
        address=url,
        manufacturer=_clean(_find_text(info, "Manufacturer") or ""),
        model=_clean(_find_text(info, "Model") or ""),
        firmware=_clean(_find_text(info, "FirmwareVersion") or ""),
        serial_number=_clean(_find_text(info, "SerialNumber") or ""),
        hardware_id=_clean(_find_text(info, "HardwareId") or ""),
        media_address=media_url,
        profiles=tuple(read),
        notes=tuple(notes),
        media_service="Media2" if media == _TR2 else "Media",
    )


SUB_WIDTH: Final = 640  # the sub stream analysed: about 640×360, as cameras offer it
SUB_MIN_WIDTH: Final = 320  # a 176×144 profile is too small to find people in
SUB_MAX_WIDTH: Final = 1280  # the widest picture taken for the sub stream


def main_and_sub(
    profiles: Sequence[OnvifProfile],
) -> tuple[OnvifProfile, OnvifProfile | None]:
    """The profile to record (main: the largest picture, then the highest frame rate) and
    the one to analyse (sub: among the pictures smaller than main's and at most
    :data:`SUB_MAX_WIDTH` pixels wide, the one nearest :data:`SUB_WIDTH` wide, never under
    :data:`SUB_MIN_WIDTH`, where a person far away is still tens of pixels tall; None when
    there is none). Profiles
    with a stream address are preferred when any has one. Raises :class:`ValueError` for
    no profiles."""
    if not profiles:
        raise ValueError("no media profiles to choose from")
    streamed = [p for p in profiles if p.stream_uri] or list(profiles)
    main = max(streamed, key=lambda p: (p.pixels, p.fps or 0.0))
    smaller = [
        p for p in streamed if SUB_MIN_WIDTH <= p.width <= SUB_MAX_WIDTH and p.pixels < main.pixels
    ]
    sub = min(
        smaller, key=lambda p: (abs(p.width - SUB_WIDTH), p.pixels, -(p.fps or 0.0)), default=None
    )
    return main, sub


def _media_address(client: _SoapClient, device_url: str) -> tuple[str, str, str | None]:
    """The media service to read profiles from: its address, its namespace (Media2's when
    the camera lists it in GetServices, else Media's, from GetServices or GetCapabilities,
    else the device service's own address), and a note when the address was not used as
    given."""
    found: str | None = None
    media = _TRT
    try:
        answer = client.call(
            device_url,
            f"{_TDS}/GetServices",
            f'<GetServices xmlns="{_TDS}"><IncludeCapability>false</IncludeCapability>'
            "</GetServices>",
        )
        offered: dict[str, str] = {}
        for service in (e for e in answer.iter() if _local(e.tag) == "Service"):
            namespace, address = _find_text(service, "Namespace"), _find_text(service, "XAddr")
            if namespace in (_TR2, _TRT) and address and _web_address(address) is not None:
                offered.setdefault(namespace, address)
        media = _TR2 if _TR2 in offered else _TRT
        found = offered.get(media)
    except OnvifAuthError:
        raise
    except OnvifError:  # an older camera may not know GetServices at all: GetCapabilities
        pass
    if found is None:
        media = _TRT
        try:
            answer = client.call(
                device_url,
                f"{_TDS}/GetCapabilities",
                f'<GetCapabilities xmlns="{_TDS}"><Category>Media</Category></GetCapabilities>',
            )
            element = next((e for e in answer.iter() if _local(e.tag) == "Media"), None)
            found = _find_text(element, "XAddr") if element is not None else None
        except _SoapFaultError:
            pass
    if found is None:
        return device_url, media, "the camera names no media service: its device service is asked"
    media_url = _web_address(found)
    if media_url is None:
        return device_url, media, "the camera's media service address is not http(s): ignored"
    given, used = urlsplit(media_url), urlsplit(device_url)
    if given.netloc.lower() != used.netloc.lower() or given.scheme != used.scheme:
        # A camera behind NAT, or one that names another host: the credentials' digest
        # goes only to the host the person named.
        rewritten = urlunsplit((used.scheme, used.netloc, given.path or "/", given.query, ""))
        return (
            rewritten,
            media,
            (f"the camera gives its media service at {given.netloc}; read at {used.netloc}"),
        )
    return media_url, media, None


def _profiles(
    answer: ET.Element,
) -> tuple[list[tuple[str, str, str, int, int, float | None]], list[str]]:
    """GetProfiles' video profiles (at most :data:`MAX_PROFILES`) and notes on those left
    out."""
    found: list[tuple[str, str, str, int, int, float | None]] = []
    notes: list[str] = []
    for profile in (e for e in answer.iter() if _local(e.tag) == "Profiles"):
        token = _clean(profile.get("token") or "", 64)  # ONVIF's ReferenceToken: 64 chars
        if not token:
            notes.append("a profile without a token was left out")
            continue
        # Media: VideoEncoderConfiguration; Media2: Configurations/VideoEncoder.
        encoder = _child(profile, "VideoEncoderConfiguration")
        if encoder is None:
            encoder = _child(_child(profile, "Configurations"), "VideoEncoder")
        if encoder is None:
            continue  # audio or metadata only
        width = _int(_find_text(_child(encoder, "Resolution"), "Width"))
        height = _int(_find_text(_child(encoder, "Resolution"), "Height"))
        if (
            width is None
            or height is None
            or not (0 < width <= MAX_PICTURE_SIDE and 0 < height <= MAX_PICTURE_SIDE)
        ):
            notes.append(f"profile {token}: no usable picture size, left out")
            continue
        fps = _float(_find_text(_child(encoder, "RateControl"), "FrameRateLimit"))
        if fps is not None and not 0 < fps <= MAX_FPS:
            fps = None
        if len(found) == MAX_PROFILES:
            notes.append(f"the camera has more than {MAX_PROFILES} profiles: the rest left out")
            break
        encoding = _clean(_find_text(encoder, "Encoding") or "", 32) or "unknown"
        name = _clean(_find_text(profile, "Name") or "") or token
        found.append((token, name, encoding, width, height, fps))
    return found, notes


def _profile_uri(
    client: _SoapClient, media_url: str, media: str, request: str, token: str, notes: list[str]
) -> str | None:
    """GetStreamUri (RTP unicast over RTSP) or GetSnapshotUri for profile ``token`` from
    the ``media`` service (Media or Media2); None (with a note) when the camera gives an
    unusable one; :class:`_SoapFaultError` when it refuses."""
    if request != "GetStreamUri":
        setup = ""
    elif media == _TR2:
        setup = "<Protocol>RTSP</Protocol>"
    else:
        setup = (
            "<StreamSetup>"
            f'<Stream xmlns="{_TT}">RTP-Unicast</Stream>'
            f'<Transport xmlns="{_TT}"><Protocol>RTSP</Protocol></Transport>'
            "</StreamSetup>"
        )
    profile = f"<ProfileToken>{escape(token)}</ProfileToken>"
    body = f'<{request} xmlns="{media}">{setup}{profile}</{request}>'
    what = "stream" if request == "GetStreamUri" else "snapshot"
    answer = client.call(media_url, f"{media}/{request}", body)
    uri = _find_text(answer, "Uri")
    schemes = ("rtsp", "rtsps", "http", "https") if what == "stream" else ("http", "https")
    checked = _uri(uri, schemes) if uri else None
    if checked is None:
        notes.append(f"profile {token}: no usable {what} address")
    return checked


class _SoapClient:
    """SOAP 1.2 exchanges with one device, signed with a WS-Security UsernameToken (a
    password digest) when a user is given. Holds the password only to sign; it never
    appears in a message, a log or a repr."""

    def __init__(self, url: str, user: str | None, password: str | None, timeout_s: float):
        self._url = url
        self._user = user
        self._password = password or ""
        self._timeout_s = max(0.05, float(timeout_s))
        self._deadline = time.monotonic() + self._timeout_s * READ_DEVICE_BUDGET
        self._clock_offset = timedelta(0)
        self._where = f"ONVIF device at {url}"
        self._digest: _DigestChallenge | None = None  # the camera's HTTP Digest challenge

    def __repr__(self) -> str:
        return f"_SoapClient({self._url!r})"

    def sync_clock(self) -> None:
        """Ask the camera's time (unsigned, as ONVIF allows) so tokens are created in its
        time: a camera whose clock is off refuses a token created too far from it. A camera
        that will not say keeps ours."""
        try:
            answer = self.call(
                self._url,
                f"{_TDS}/GetSystemDateAndTime",
                f'<GetSystemDateAndTime xmlns="{_TDS}"/>',
                signed=False,
            )
        except (OnvifAuthError, _SoapFaultError):
            return
        utc = next((e for e in answer.iter() if _local(e.tag) == "UTCDateTime"), None)
        if utc is None:
            return
        date, clock = _child(utc, "Date"), _child(utc, "Time")
        parts = [
            _int(_find_text(date, "Year")),
            _int(_find_text(date, "Month")),
            _int(_find_text(date, "Day")),
            _int(_find_text(clock, "Hour")),
            _int(_find_text(clock, "Minute")),
            _int(_find_text(clock, "Second")),
        ]
        numbers = [p for p in parts if p is not None]
        if len(numbers) != len(parts):
            return
        year, month, day, hour, minute, second = numbers
        try:
            camera_now = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return
        self._clock_offset = camera_now - REAL_CLOCK.now()

    def call(self, url: str, action: str, body: str, *, signed: bool = True) -> ET.Element:
        """POST ``body`` as ``action`` to ``url``; the answer's envelope. Raises
        :class:`OnvifAuthError`, :class:`_SoapFaultError` or :class:`OnvifError`."""
        request = self._name(action)
        header = self._security() if signed and self._user is not None else ""
        envelope = (
            f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{_SOAP12}">'
            f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
        ).encode()
        status, answer, challenge = self._exchange(url, action, envelope, request)
        if status == 401 and challenge is not None and self._user is not None:
            # HTTP Digest (RFC 7616) on top of, or instead of, the WS-Security token: asked
            # once per new challenge (a stale nonce is a new one), then sent with each call.
            digest = _DigestChallenge.parse(challenge)
            if digest is None:
                raise OnvifAuthError(
                    f"{self._where}: the camera asks for an HTTP sign-in Watchfloor does not "
                    f"speak ({request}: {_clean(challenge.split(' ', 1)[0], 32)})"
                )
            if self._digest is None or digest.stale or digest.nonce != self._digest.nonce:
                self._digest = digest
                status, answer, _challenge = self._exchange(url, action, envelope, request)
        if status in (401, 403):
            raise self._refused(request)
        root: ET.Element | None = None
        try:
            root = _parse_xml(answer)
            problem = "the answer is not SOAP"
        except ValueError as exc:
            problem = str(exc)
        if root is None or _local(root.tag) != "Envelope":
            if status != 200:
                raise OnvifError(
                    f"{self._where}: {request} was answered HTTP {status} (no ONVIF service "
                    "at this address?)"
                )
            raise OnvifError(f"{self._where}: {request}: not ONVIF ({problem})")
        fault = next((e for e in root.iter() if _local(e.tag) == "Fault"), None)
        if fault is not None:
            codes = " ".join(
                (e.text or "").strip() for e in fault.iter() if _local(e.tag) == "Value"
            )
            reason = _clean(_find_text(fault, "Text") or _find_text(fault, "faultstring") or "")
            if "NotAuthorized" in codes or "not authorized" in reason.lower():
                raise self._refused(request)
            reason = reason or _clean(codes) or "a fault"
            raise _SoapFaultError(f"{self._where}: {request} failed: {reason}", reason)
        if status != 200:
            raise OnvifError(f"{self._where}: {request} was answered HTTP {status}")
        return root

    def _refused(self, request: str) -> OnvifAuthError:
        if self._user is None:
            return OnvifAuthError(
                f"{self._where}: the camera asks for a user name and password ({request})"
            )
        return OnvifAuthError(
            f"{self._where}: the camera refused the user name or password ({request}; is its "
            "clock right?)"
        )

    def _security(self) -> str:
        nonce = os.urandom(16)
        created = (REAL_CLOCK.now() + self._clock_offset).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hashlib.sha1(nonce + created.encode() + self._password.encode()).digest()
        return (
            f'<wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}" s:mustUnderstand="1">'
            "<wsse:UsernameToken>"
            f"<wsse:Username>{escape(self._user or '')}</wsse:Username>"
            f'<wsse:Password Type="{_PASSWORD_DIGEST}">'
            f"{base64.b64encode(digest).decode()}</wsse:Password>"
            f'<wsse:Nonce EncodingType="{_BASE64_BINARY}">'
            f"{base64.b64encode(nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security>"
        )

    @staticmethod
    def _name(action: str) -> str:
        return action.rsplit("/", 1)[-1]

    def _exchange(
        self, url: str, action: str, envelope: bytes, request: str
    ) -> tuple[int, bytes, str | None]:
        """One POST: its status, body (at most 1 MiB) and, for a 401, the camera's Digest
        challenge (its ``WWW-Authenticate`` header, None without one), within the
        exchange's time."""
        overall = self._deadline - time.monotonic()
        if overall <= 0:
            raise OnvifError(
                f"{self._where}: reading the camera took over "
                f"{self._timeout_s * READ_DEVICE_BUDGET:g} s in all ({request})"
            )
        limit = min(self._timeout_s, overall)
        parts = urlsplit(url)
        where = f"{self._where}: {request}"
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            # Cameras serve self-signed certificates; the password is never sent (a digest).
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=limit, context=context
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=limit)
        expired = threading.Event()

        def expire() -> None:  # a slow trickle of bytes must not outlast the limit
            expired.set()
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(limit, expire)
        timer.daemon = True
        timer.start()
        try:
            path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
            headers = {
                "Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"',
                "SOAPAction": f'"{action}"',
                "Connection": "close",
                "User-Agent": "Watchfloor",
            }
            if self._digest is not None and self._user is not None:
                headers["Authorization"] = self._digest.answer(
                    "POST", path, self._user, self._password
                )
            connection.connect()
            connection.request("POST", path, body=envelope, headers=headers)
            response = connection.getresponse()
            length = response.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > MAX_ANSWER_BYTES:
                raise OnvifError(f"{where}: the answer is larger than 1 MiB ({int(length)} bytes)")
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = response.read1(READ_CHUNK_BYTES)
                if expired.is_set():
                    raise TimeoutError
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise OnvifError(f"{where}: the answer is larger than 1 MiB")
                chunks.append(chunk)
            challenge = None
            if response.status == 401:
                offered = response.msg.get_all("WWW-Authenticate") or []
                challenge = next(
                    (
                        c[:MAX_CHALLENGE_CHARS]
                        for c in offered
                        if c.strip().lower().startswith("digest ")
                    ),
                    None,
                )
            return response.status, b"".join(chunks), challenge
        except OnvifError:
            raise
        except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise OnvifError(f"{where}: no complete answer within {limit:g} s") from None
            raise OnvifError(f"{where}: {_reason(exc)}") from None
        finally:
            timer.cancel()
            connection.close()


_DIGEST_HASHES: Final = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_CHALLENGE_PARAM: Final = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)')


@dataclass(slots=True)
class _DigestChallenge:
    """A camera's HTTP Digest challenge (RFC 7616: MD5 or SHA-256, plain or ``-sess``,
    ``qop=auth`` or none, as RFC 2069) and the count of answers made to it."""

    realm: str
    nonce: str
    algorithm: str
    qop: str | None
    opaque: str | None
    stale: bool
    count: int = 0

    @classmethod
    def parse(cls, header: str) -> _DigestChallenge | None:
        """The challenge in ``header`` (``Digest realm="…", nonce="…", …``); None when it
        is not one this client can answer (another scheme or algorithm, ``auth-int``
        only, no nonce)."""
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            return None
        params: dict[str, str] = {}
        for key, value in _CHALLENGE_PARAM.findall(rest[:MAX_CHALLENGE_CHARS]):
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params.setdefault(key.lower(), value)
        algorithm = params.get("algorithm", "MD5")  # sent back as the camera spelled it
        if algorithm.upper().removesuffix("-SESS") not in _DIGEST_HASHES or not params.get("nonce"):
            return None
        qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            return None  # auth-int only: the body's hash, which no camera asks for
        return cls(
            realm=params.get("realm", ""),
            nonce=params["nonce"],
            algorithm=algorithm,
            qop="auth" if qops else None,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
        )

    def answer(
        self, method: str, uri: str, user: str, password: str, cnonce: str | None = None
    ) -> str:
        """The ``Authorization`` header for one request (``cnonce``: fixed only to check
        against the RFC's examples)."""
        digest = _DIGEST_HASHES[self.algorithm.upper().removesuffix("-SESS")]

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        self.count += 1
        nc = f"{self.count:08x}"
        cnonce = cnonce or base64.b64encode(os.urandom(24)).decode()
        secret = h(f"{user}:{self.realm}:{password}")
        if self.algorithm.upper().endswith("-SESS"):
            secret = h(f"{secret}:{self.nonce}:{cnonce}")
        request = h(f"{method}:{uri}")
        if self.qop is None:
            response = h(f"{secret}:{self.nonce}:{request}")
        else:
            response = h(f"{secret}:{self.nonce}:{nc}:{cnonce}:{self.qop}:{request}")

        def quoted(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        parts = [
            f"username={quoted(user)}",
            f"realm={quoted(self.realm)}",
            f"uri={quoted(uri)}",
            f"algorithm={self.algorithm}",
            f"nonce={quoted(self.nonce)}",
        ]
        if self.qop is not None:
            parts += [f"nc={nc}", f"cnonce={quoted(cnonce)}", f"qop={self.qop}"]
        parts.append(f"response={quoted(response)}")
        if self.opaque is not None:
            parts.append(f"opaque={quoted(self.opaque)}")
        return "Digest " + ", ".join(parts)


# --- hostile text ---------------------------------------------------------------------------


def _parse_xml(data: bytes) -> ET.Element:
    """``data`` parsed as UTF-8 XML; ValueError when it is not, or declares a DOCTYPE or
    an entity (entity expansion is how a small answer becomes a huge one)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("XML with a DOCTYPE or an entity is refused")
    parser = ET.XMLParser(encoding="utf-8")  # whatever the document says it is
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None


def _local(tag: Any) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: ET.Element | None, name: str | None) -> ET.Element | None:
    """``element``'s first child named ``name`` (any namespace; None: its first child)."""
    if element is None:
        return None
    return next((c for c in element if name is None or _local(c.tag) == name), None)


def _find_text(element: ET.Element | None, name: str) -> str | None:
    """The stripped text of the first element named ``name`` (any namespace) at or below
    ``element``."""
    if element is None:
        return None
    for found in element.iter():
        if _local(found.tag) == name:
            return (found.text or "").strip()
    return None


def _clean(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Network text as it may be shown: control characters and escapes removed, bounded."""
    return printable(text).strip()[:limit]


def _int(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _float(text: str | None) -> float | None:
    if text is None or len(text) > 32:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None  # not NaN


def _web_address(text: str) -> str | None:
    """``text`` if it is an http/https URL with a host (a device or media service)."""
    return _uri(text, ("http", "https"))


def _uri(text: str, schemes: Sequence[str]) -> str | None:
    """``text`` if it is a URL of one of ``schemes`` with a host and no control characters
    or spaces, with any password in it replaced by ``***``; else None."""
    if len(text) > MAX_URI_CHARS or any(c.isspace() or not c.isprintable() for c in text):
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return None
    if parts.scheme.lower() not in schemes or not parts.hostname:
        return None
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        text = urlunsplit(
            (parts.scheme, f"{parts.username or ''}:***@{host}", parts.path, parts.query, "")
        )
    return text


def _reason(exc: BaseException) -> str:
    """What went wrong, in words, for a network error."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    if isinstance(exc, socket.gaierror):
        return f"the host name cannot be found ({exc.strerror})"
    if isinstance(exc, ssl.SSLError):
        return f"the TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, http.client.HTTPException):
        return f"not an HTTP answer ({type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:MAX_TEXT_CHARS]
    return printable(str(exc))[:MAX_TEXT_CHARS] or type(exc).__name__
