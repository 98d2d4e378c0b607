"""What happens on a shared site *now*, told to consoles on other machines.

History reaches an attached console as stored events (:mod:`engine.cluster.feed`). What is
not history travels here: an alert raised, acknowledged or escalated; a sequence added to
an alert; a camera's state; a sensing room's latest picture; the names the fusion gives the
camera tracks and blobs, and the tags the rooms no sense names in hold. Each process of a
shared site (an engine, an attached console) runs a :class:`LiveRelay`: it hears these on
its own bus and sends a small ``NOTIFY`` on :data:`~engine.store.writer.LIVE_CHANNEL` (ids
and states, never the rows; a room's picture is written to its ``live_rooms`` row first, in
the same transaction). A console runs a :class:`LiveFollower`: it listens on the same
connection as its event feed, reads what a note names, and publishes the same bus events an
embedded engine would have (``AlertRaised``, ``AlertChanged``, ``SequenceAdded``,
``CameraStatusChanged``, ``SensingUpdated``, ``FusionUpdated``, ``EventsStored``), so the
panes cannot tell the difference. (A ``FusionUpdated`` told this way carries the named
people and what they are made of, the tags inside rooms, and nothing more: a pane shows
names from it.)

Nothing here holds up the bus: the relay queues at most :data:`MAX_QUEUED` notes and counts
what it had to drop while the database was away. A follower that was cut off reads, on its
return, the alerts raised and acknowledged meanwhile and every camera's state from the
engines' heartbeats; events it catches up by id (see the feed). The relay's and the
follower's threads are supervised (:class:`~engine.supervise.SupervisedThread`): a failure
that ends one is logged, counted in the engine's health, and followed by a new run after a
backoff.

PostgreSQL only: SQLite has no ``LISTEN``, and a SQLite site has one engine anyway.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.engine import make_url

from engine.alerts.filtering import AlertListRequest, RiskGate
from engine.alerts.records import AlertView, alerts_by_id
from engine.alerts.service import AlertChanged, AlertRaised, SequenceAdded
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.cluster.feed import EventFeed
from engine.cluster.leases import HEARTBEAT_S
from engine.cluster.snapshots import decode_snapshot, encode_snapshot
from engine.cluster.status import RUNNING, EngineLine, engines_status
from engine.events import CameraStatus, CameraStatusChanged, Event
from engine.frames import Frame
from engine.fusion.associate import MemberKey, PersonView
from engine.fusion.service import FusionUpdated
from engine.sensing.service import SensingUpdated
from engine.store.alert_models import Alert, AlertNote
from engine.store.cluster_models import LiveRoom
from engine.store.database import Store, display_url
from engine.store.event_views import EventsStored, EventView
from engine.store.writer import LIVE_CHANNEL, describe_failure
from engine.supervise import SupervisedThread
from engine.vision.analysis import TrackView
from engine.vision.geometry import Box

log = logging.getLogger(__name__)

MAX_QUEUED: Final = 1000  # notes waiting for the database; more are dropped (and counted)
ROOM_EVERY_S: Final = 0.5  # a room's picture is sent at most this often
DETAIL_CHARS: Final = 300  # a camera's reason, cut to fit a NOTIFY payload (8000 bytes)
RECONNECT_S: Final = 2.0  # the relay's first wait to connect again (doubling)
RECONNECT_MAX_S: Final = 16.0  # seconds: its longest (live notes are of the last seconds)
# An alert's history entry (engine.store.alert_models.AlertNote.kind) as the change told.
_NOTE_CHANGES: Final = {
    "took": "taken",
    "note": "noted",
    "closed": "acknowledged",
    "escalated": "escalated_to_incident",
}
CAUGHT_UP_ALERTS: Final = 200  # at most this many alerts raised while away are told again
TRACK_FRAMES_PER_NOTE: Final = 20  # a camera's boxes of this many frames at most per note
BOXES_KEPT_S: Final = 5.0  # a console keeps each camera's boxes this long, to match frames
NOTIFY_MAX_BYTES: Final = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
FUSION_EVERY_S: Final = 0.5  # the fusion's names are sent at most this often…
FUSION_AGAIN_S: Final = 5.0  # …and again this often when unchanged (for consoles just come)
FUSION_KEPT_S: Final = 3 * FUSION_AGAIN_S  # an engine not heard from this long fuses nothing

LIVE_EVENTS: Final = (
    AlertRaised,
    AlertChanged,
    SequenceAdded,
    CameraStatusChanged,
    SensingUpdated,
    FusionUpdated,
)


class NotAttachableError(RuntimeError):
    """A console was asked to attach to a site no engine has run on that database."""


def check_attachable(store: Store, site_name: str) -> None:
    """Raise :class:`NotAttachableError` unless an engine has run site ``site_name`` on
    ``store`` (an attached console never creates a site of its own)."""
    known = {line.site for line in engines_status(store).engines}
    if site_name in known:
        return
    others = f" (it has engines of {', '.join(sorted(known))})" if known else ""
    raise NotAttachableError(
        f"no engine has run site {site_name!r} on {display_url(store.url)}{others}: start "
        "`watchfloor engine --site FILE --name NAME --db URL` on a server first, then attach "
        "with the same site file (--site FILE)"
    )


def process_name(role: str) -> str:
    """Who sends a note (so each sender skips its own): ``role@host:pid/nonce``, unique
    even for two consoles in one process."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}/{uuid.uuid4().hex[:8]}"


def note_of(event: Event, sender: str) -> dict[str, Any] | None:
    """The small payload told about ``event`` (None: not told this way)."""
    if isinstance(event, AlertRaised):
        return {"from": sender, "kind": "alert", "alert": event.alert.alert_id, "change": "raised"}
    if isinstance(event, AlertChanged):
        return {
            "from": sender,
            "kind": "alert",
            "alert": event.alert.alert_id,
            "change": event.change,
        }
    if isinstance(event, SequenceAdded):
        return {
            "from": sender,
            "kind": "sequence",
            "alert": event.alert.alert_id,
            "sequence": event.sequence_id,
            "camera": event.camera,
            "max_conf": event.max_conf,
            "new": event.new_alert,
            "shown": event.shown,
        }
    if isinstance(event, CameraStatusChanged):
        if event.handed_over:
            return None  # the engine taking the camera over says its state
        return {
            "from": sender,
            "kind": "camera",
            "camera": event.camera_id,
            "status": event.status.value,
            "detail": event.detail[:DETAIL_CHARS],
            "since": event.since.isoformat(),
            "retry_in_s": event.retry_in_s,
        }
    return None


@dataclass
class RelayStats:
    sent: int = 0
    dropped: int = 0
    rooms_sent: int = 0
    tracks_sent: int = 0
    fusion_sent: int = 0


class LiveRelay:
    """Tells the site's other processes what this one's bus hears (see the module doc).

    ``site_id`` and ``engine`` name the rows a room's picture is written to. Runs a thread;
    the bus handlers only queue."""

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        site_id: int,
        sender: str,
        engine: str,
        clock: Clock = REAL_CLOCK,
        room_every_s: float = ROOM_EVERY_S,
    ) -> None:
        self._store = store
        self._bus = bus
        self._site_id = site_id
        self.sender = sender
        self._engine = engine
        self._clock = clock
        self._room_every_s = room_every_s
        self._queue: deque[dict[str, Any]] = deque()
        self._rooms: dict[str, SensingUpdated] = {}  # newest picture per room, not yet sent
        self._tracks: dict[str, list[list[Any]]] = {}  # camera → frames' boxes not yet sent
        self._room_sent_s: dict[str, float] = {}
        self._fusion: FusionUpdated | None = None  # the newest, not yet sent
        self._fusion_told: tuple[float, Any] = (-1e9, None)  # when and what was sent last
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._unsubscribe: list[Callable[[], None]] = []
        # Supervised: a failure (the database away, a statement refused) ends a connection;
        # the supervisor says so, counts it and connects again after a backoff.
        self._thread = SupervisedThread(
            self._relay,
            name="live-relay",
            stop=self._stop,
            clock=clock,
            first_backoff_s=RECONNECT_S,
            max_backoff_s=RECONNECT_MAX_S,
            on_restart=self._lost,
        )
        self.stats = RelayStats()
        self.problem: str | None = None
        self.quiet = threading.local()  # set while a follower republishes a note it heard

    def start(self) -> None:
        for kind in LIVE_EVENTS:
            self._unsubscribe.append(self._bus.subscribe(kind, self._heard))
        self._thread.start()

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _heard(self, event: Event) -> None:
        if getattr(self.quiet, "on", False):
            return  # heard from another process: it told everyone itself
        with self._lock:
            if isinstance(event, SensingUpdated):
                self._rooms[event.snapshot.room_id] = event
            elif isinstance(event, FusionUpdated):
                self._fusion = event
            else:
                note = note_of(event, self.sender)
                if note is None:
                    return
                if len(self._queue) >= MAX_QUEUED:
                    self._queue.popleft()
                    self.stats.dropped += 1
                self._queue.append(note)
        self._wake.set()

    def tell_tracks(self, camera: str, stamped_ms: int, frame: Frame) -> None:
        """The boxes of ``frame`` of ``camera``, as streamed with ``stamped_ms`` in its
        picture (the media server's thread): sent with the next notes, several frames of a
        camera to a note, for consoles to draw on that frame."""
        analysis = frame.analysis
        height, width = frame.image.shape[:2]
        boxes = [
            [
                t.track_id,
                round(t.box.x / width, 4),
                round(t.box.y / height, 4),
                round(t.box.w / width, 4),
                round(t.box.h / height, 4),
                round(t.confidence, 2),
                int(t.coasting),
                t.person or "",
            ]
            for t in (analysis.tracks if analysis is not None else ())
        ]
        with self._lock:
            pending = self._tracks.setdefault(camera, [])
            pending.append([stamped_ms, boxes])
            del pending[:-TRACK_FRAMES_PER_NOTE]  # a slow database: the newest only
        self._wake.set()

    def _relay(self) -> None:
        """One connection's worth of telling, until stopped (the ``live-relay`` thread); a
        failure is raised to the thread's supervisor (:meth:`_lost`)."""
        import psycopg

        url = make_url(self._store.url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
                self.problem = None
                while not self._stop.is_set():
                    self._send(connection)
                    self._wake.wait(self._room_every_s / 2)
                    self._wake.clear()
                self._send(connection)  # what was told before stopping
        except Exception as exc:
            if not self._stop.is_set():
                raise
            log.warning("live relay: what was told last was not sent: %s", describe_failure(exc))

    def _lost(self, exc: BaseException) -> None:
        """The relay failed (supervisor's listener, on its thread): say so until it is back."""
        self.problem = describe_failure(exc)

    def _send(self, connection: Any) -> None:
        with self._lock:
            tracks, self._tracks = self._tracks, {}
        for camera, frames in tracks.items():
            for told in _notes_within(
                {"from": self.sender, "kind": "tracks", "camera": camera}, "frames", frames
            ):
                connection.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, told))
                self.stats.tracks_sent += 1
        while True:
            with self._lock:
                if not self._queue:
                    break
                note = self._queue[0]
            connection.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, json.dumps(note)))
            with self._lock:
                self._queue.popleft()
                self.stats.sent += 1
        now_s = self._clock.monotonic()
        self._send_fusion(connection, now_s)
        with self._lock:
            due = [
                event
                for room, event in self._rooms.items()
                if now_s - self._room_sent_s.get(room, -1e9) >= self._room_every_s
            ]
            for event in due:
                del self._rooms[event.snapshot.room_id]
        for event in due:
            room = event.snapshot.room_id
            body = encode_snapshot(event.snapshot)
            told = json.dumps({"from": self.sender, "kind": "room", "room": room})
            with connection.transaction():
                connection.execute(
                    "INSERT INTO live_rooms (site_id, room, engine, updated_at, snapshot)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (site_id, room) DO UPDATE SET"
                    " engine = EXCLUDED.engine, updated_at = EXCLUDED.updated_at,"
                    " snapshot = EXCLUDED.snapshot",
                    (self._site_id, room, self._engine, event.at, body),
                )
                connection.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, told))
            self._room_sent_s[room] = now_s
            self.stats.rooms_sent += 1

    def _send_fusion(self, connection: Any, now_s: float) -> None:
        """The fusion's newest names, at most every :data:`FUSION_EVERY_S`, when they changed
        or :data:`FUSION_AGAIN_S` after they were last sent."""
        told_s, told = self._fusion_told
        if now_s - told_s < FUSION_EVERY_S:
            return
        with self._lock:
            update, self._fusion = self._fusion, None
        if update is None:
            return
        people, inside = fusion_names(update)
        if (people, inside) == told and now_s - told_s < FUSION_AGAIN_S:
            return
        head = {
            "from": self.sender,
            "kind": "fusion",
            "at": update.at.isoformat(),
            "inside": inside,
        }
        for note in _notes_within(head, "people", people) or [json.dumps({**head, "people": []})]:
            connection.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, note))
            self.stats.fusion_sent += 1
        self._fusion_told = (now_s, (people, inside))


def fusion_names(update: FusionUpdated) -> tuple[list[Any], list[Any]]:
    """What a console is told of a fusion update: each named person (key, name, where the
    name came from, their members as [kind, where, id]) and each room's tags inside."""
    people = [
        [p.person_key, p.name, p.name_source, [list(m) for m in p.members]]
        for p in update.people
        if p.name is not None and p.members and not p.waiting
    ]
    inside = [[room, list(names)] for room, names in update.inside]
    return people, inside


def fusion_update_of(at: datetime, people: list[Any], inside: list[Any]) -> FusionUpdated:
    """The :class:`FusionUpdated` a console publishes for what it was told
    (:func:`fusion_names`): the named people (no places, no path) and the tags inside."""
    return FusionUpdated(
        at=at,
        people=tuple(
            PersonView(
                person_key=int(key),
                name=str(name),
                name_source=None if source is None else str(source),
                person_id=None,
                position=(0.0, 0.0),
                last_t=at.timestamp(),
                members=tuple(_member_key(*member) for member in members),
                segments=(),
            )
            for key, name, source, members in people
        ),
        links=(),
        inside=tuple((str(room), tuple(str(n) for n in names)) for room, names in inside),
    )


def _member_key(kind: Any, where: Any, ident: Any) -> MemberKey:
    if kind == "camera":
        return ("camera", str(where), int(ident))
    if kind == "sensing":
        return ("sensing", str(where), int(ident))
    raise ValueError(f"a person's member is a camera track or a blob, not {kind!r}")


def _notes_within(head: dict[str, Any], key: str, items: list[Any]) -> list[str]:
    """``head`` with ``items`` under ``key``, as few JSON notes as fit PostgreSQL's NOTIFY
    payload (:data:`NOTIFY_MAX_BYTES`); an item too big for a note of its own is left out."""
    notes: list[str] = []
    batch: list[Any] = []
    for item in items:
        candidate = json.dumps({**head, key: [*batch, item]})
        if len(candidate.encode("utf-8")) <= NOTIFY_MAX_BYTES:
            batch.append(item)
            continue
        if batch:
            notes.append(json.dumps({**head, key: batch}))
        alone = json.dumps({**head, key: [item]})
        batch = [item] if len(alone.encode("utf-8")) <= NOTIFY_MAX_BYTES else []
    if batch:
        notes.append(json.dumps({**head, key: batch}))
    return notes


@dataclass(frozen=True)
class CameraState:
    """A camera as an attached console knows it: its state, the reason, since when and
    which engine runs it (None: none does)."""

    status: CameraStatus
    detail: str
    since: datetime
    engine: str | None


class LiveFollower:
    """An attached console's view of the site's engines: publishes on ``bus`` what they
    store and tell (see the module doc). ``gate``: the alert list's risk gate (alerts hidden
    by it are not told again after a reconnect). ``relay``: this process's own relay, kept
    quiet while republishing."""

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        site_id: int,
        site_name: str,
        sender: str,
        relay: LiveRelay | None = None,
        gate: Callable[[], RiskGate] | None = None,
        clock: Clock = REAL_CLOCK,
        engines_every_s: float = HEARTBEAT_S,
    ) -> None:
        self._store = store
        self._bus = bus
        self._site_id = site_id
        self._site_name = site_name
        self.sender = sender  # also the feed connection's application_name
        self._engines_every_s = engines_every_s
        self._stop = threading.Event()
        self._look = threading.Event()  # an engine not known to be running was heard
        self._thread = SupervisedThread(
            self._watch, name="live-follower", stop=self._stop, clock=clock
        )
        self.engines: tuple[EngineLine, ...] = ()
        self._sender = sender
        self._relay = relay
        self._gate = gate
        self._clock = clock
        self._lock = threading.Lock()
        self.cameras: dict[str, CameraState] = {}
        # Per camera, the boxes of recent streamed frames: (stamped ms, boxes), oldest first.
        self._boxes: dict[str, deque[tuple[int, tuple[TrackView, ...]]]] = {}
        self._lost_at: datetime | None = None
        # Each engine's fusion update last told (a big one comes in several notes): when it
        # was made, its people and tags inside, and when it was heard (monotonic seconds).
        self._fusions: dict[str, tuple[datetime, list[Any], list[Any], float]] = {}
        self._newest_alert = 0
        self.notes = 0
        self.feed = EventFeed(
            store, self._events, on_live=self._live, on_state=self._state, name=sender
        )

    @property
    def connected(self) -> bool:
        return self.feed.connected

    @property
    def problem(self) -> str | None:
        return self.feed.problem

    def start(self) -> None:
        with self._store.engine.connect() as connection:
            newest = connection.execute(select(Alert.id).order_by(Alert.id.desc()).limit(1))
            self._newest_alert = int(newest.scalar() or 0)
        self._read_cameras()
        self._read_rooms()
        self.feed.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._look.set()
        self.feed.stop()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    # -- on the feed's thread ------------------------------------------------------------
    def _publish(self, event: Event) -> None:
        quiet = self._relay.quiet if self._relay is not None else None
        if quiet is not None:
            quiet.on = True
        try:
            self._bus.publish(event)
        finally:
            if quiet is not None:
                quiet.on = False

    def _events(self, views: tuple[EventView, ...]) -> None:
        self._heard_from({view.engine for view in views if view.engine is not None})
        self._publish(EventsStored(at=self._clock.now(), views=views))

    def _heard_from(self, engines: set[str]) -> None:
        """Engines heard from that were not running at the last look: look again now."""
        if engines - set(self.engines_running()):
            self._look.set()

    def _state(self, connected: bool, problem: str | None) -> None:
        if not connected:
            if self._lost_at is None:
                self._lost_at = self._clock.now()
            return
        lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None:  # back: what was told while away
            self._catch_up_alerts(lost_at)
            self._read_cameras()
            self._read_rooms()

    def _live(self, notes: list[dict[str, Any]]) -> None:
        for note in notes:
            if note.get("from") == self._sender:
                continue
            self.notes += 1
            self._heard_from({str(note.get("from", "")).split("@", 1)[0]} - {"console"})
            try:
                self._one(note)
            except Exception:
                log.exception("live note %r could not be followed", note)

    def boxes_at(self, camera: str, stamped_ms: int) -> tuple[TrackView, ...] | None:
        """The boxes the engine found in ``camera``'s frame stamped ``stamped_ms`` (boxes
        in fractions of the picture: x, y, w, h in 0–1), None when not (yet) told. Any
        thread."""
        with self._lock:
            frames = self._boxes.get(camera)
            if not frames:
                return None
            for at, boxes in reversed(frames):
                if at == stamped_ms:
                    return boxes
        return None

    def _tracks(self, note: dict[str, Any]) -> None:
        camera = str(note["camera"])
        told = [
            (
                int(at),
                tuple(
                    TrackView(
                        track_id=int(b[0]),
                        box=Box(float(b[1]), float(b[2]), float(b[3]), float(b[4])),
                        confidence=float(b[5]),
                        coasting=bool(b[6]),
                        person=str(b[7]) or None,
                    )
                    for b in boxes
                ),
            )
            for at, boxes in note["frames"]
        ]
        with self._lock:
            frames = self._boxes.setdefault(camera, deque())
            frames.extend(told)
            newest = frames[-1][0] if frames else 0
            while frames and newest - frames[0][0] > BOXES_KEPT_S * 1000:
                frames.popleft()

    def _one(self, note: dict[str, Any]) -> None:
        kind = note.get("kind")
        if kind == "tracks":
            self._tracks(note)
        elif kind == "camera":
            camera = str(note["camera"])
            state = CameraState(
                CameraStatus(note["status"]),
                str(note.get("detail") or ""),
                datetime.fromisoformat(note["since"]),
                str(note["from"]).split("@", 1)[0] or None,
            )
            with self._lock:
                known = self.cameras.get(camera)
                if known is not None and known.since > state.since:
                    return  # an older state heard late (another engine's, a slow note)
                self.cameras[camera] = state
            retry = note.get("retry_in_s")
            self._publish(
                CameraStatusChanged(
                    at=self._clock.now(),
                    camera_id=camera,
                    status=state.status,
                    detail=state.detail,
                    since=state.since,
                    retry_in_s=float(retry) if retry is not None else None,
                )
            )
        elif kind == "room":
            self._read_rooms(str(note["room"]))
        elif kind == "fusion":
            self._fusion(note)
        elif kind in ("alert", "sequence"):
            found = alerts_by_id(self._store, [int(note["alert"])])
            if not found:
                return
            alert = found[0]
            self._newest_alert = max(self._newest_alert, alert.alert_id)
            if kind == "sequence":
                self._publish(
                    SequenceAdded(
                        at=self._clock.now(),
                        alert=alert,
                        sequence_id=int(note["sequence"]),
                        camera=note.get("camera"),
                        max_conf=note.get("max_conf"),
                        new_alert=bool(note.get("new")),
                        shown=bool(note.get("shown")),
                    )
                )
            elif note.get("change") == "raised":
                self._publish(AlertRaised(at=self._clock.now(), alert=alert))
            else:
                self._publish(
                    AlertChanged(at=self._clock.now(), alert=alert, change=str(note["change"]))
                )

    def _catch_up_alerts(self, lost_at: datetime) -> None:
        """Alerts raised (and shown) while away are told as raised; alerts changed while
        away (taken, noted, closed, escalated, or escalated to an incident) as changed, with
        the change last made."""
        gate = self._gate() if self._gate is not None else RiskGate()
        page = AlertListRequest(gate=gate, limit=CAUGHT_UP_ALERTS).run(self._store)
        shown = {row.alert_id for row in page.rows if row.alert_id > self._newest_alert}
        since = lost_at - timedelta(seconds=5)  # engines' clocks may be a little behind
        changes: dict[int, tuple[datetime, str]] = {}  # alert: its last change while away

        def changed(alert_id: int, at: datetime, change: str) -> None:
            if alert_id not in changes or changes[alert_id][0] <= at:
                changes[alert_id] = (at, change)

        with self._store.engine.connect() as connection:
            for alert_id, acknowledged_at, escalated_at in connection.execute(
                select(Alert.id, Alert.acknowledged_at, Alert.escalated_at).where(
                    or_(Alert.acknowledged_at >= since, Alert.escalated_at >= since)
                )
            ):
                if escalated_at is not None and escalated_at >= since:
                    changed(alert_id, escalated_at, "escalated")
                if acknowledged_at is not None and acknowledged_at >= since:
                    changed(alert_id, acknowledged_at, "acknowledged")
            for alert_id, at, kind in connection.execute(
                select(AlertNote.alert_id, AlertNote.at, AlertNote.kind)
                .where(AlertNote.at >= since)
                .order_by(AlertNote.id.desc())
                .limit(CAUGHT_UP_ALERTS * 4)
            ):
                changed(alert_id, at, _NOTE_CHANGES.get(kind, "noted"))
        ids = sorted(shown | set(changes))[-CAUGHT_UP_ALERTS:]
        views: list[AlertView] = alerts_by_id(self._store, ids)
        for alert in sorted(views, key=lambda a: a.alert_id):
            if alert.alert_id in shown:
                self._publish(AlertRaised(at=self._clock.now(), alert=alert))
            if alert.alert_id in changes:
                change = changes[alert.alert_id][1]
                self._publish(AlertChanged(at=self._clock.now(), alert=alert, change=change))
            self._newest_alert = max(self._newest_alert, alert.alert_id)

    def _read_cameras(self) -> None:
        """Every engine of the site as the ``engines`` table says now, and each camera's
        state as its engine said at its last heartbeat (told again where it is newer than
        what was heard)."""
        status = engines_status(self._store)
        lines = tuple(line for line in status.engines if line.site == self._site_name)
        self.engines = lines
        for line in lines:
            if line.state != RUNNING:
                continue
            for camera, said in line.camera_states.items():
                try:
                    state = CameraState(
                        CameraStatus(said["status"]),
                        str(said.get("detail") or ""),
                        datetime.fromisoformat(said["since"]),
                        line.name,
                    )
                except (KeyError, ValueError, TypeError):
                    continue
                with self._lock:
                    known = self.cameras.get(camera)
                    if known is not None and known.since >= state.since:
                        continue
                    self.cameras[camera] = state
                self._publish(
                    CameraStatusChanged(
                        at=self._clock.now(),
                        camera_id=camera,
                        status=state.status,
                        detail=state.detail,
                        since=state.since,
                    )
                )

    def engines_running(self) -> tuple[str, ...]:
        """The names of the site's engines heard from lately (as last read)."""
        return tuple(line.name for line in self.engines if line.state == RUNNING)

    def _watch(self) -> None:
        """Every heartbeat: who runs the site, and the cameras' states."""
        while not self._stop.is_set():
            self._look.wait(self._engines_every_s)
            self._look.clear()
            if self._stop.is_set():
                return
            try:
                self._read_cameras()
            except Exception as exc:  # the database is away: the feed says so
                log.debug("engines could not be read: %s", exc)

    def _fusion(self, note: dict[str, Any]) -> None:
        """The fusion's names, as an engine's bus would have them. One update may come in
        several notes (each adds its people to the update's), and each engine of the site
        fuses what it runs: what every engine told last, within :data:`FUSION_KEPT_S`, is
        shown together."""
        sender = str(note.get("from", ""))
        at = datetime.fromisoformat(str(note["at"]))
        now_s = self._clock.monotonic()
        with self._lock:
            told = self._fusions.get(sender)
            people = list(told[1]) if told is not None and told[0] == at else []
            people.extend(note.get("people") or [])
            self._fusions[sender] = (at, people, list(note.get("inside") or []), now_s)
            for other in [s for s, f in self._fusions.items() if now_s - f[3] > FUSION_KEPT_S]:
                del self._fusions[other]
            fusions = list(self._fusions.values())
        self._publish(
            fusion_update_of(
                max(f[0] for f in fusions),
                [person for f in fusions for person in f[1]],
                [room for f in fusions for room in f[2]],
            )
        )

    def _read_rooms(self, room: str | None = None) -> None:
        condition = [LiveRoom.site_id == self._site_id]
        if room is not None:
            condition.append(LiveRoom.room == room)
        with self._store.engine.connect() as connection:
            rows = connection.execute(
                select(LiveRoom.updated_at, LiveRoom.snapshot).where(*condition)
            ).all()
        for updated_at, body in rows:
            try:
                snapshot = decode_snapshot(bytes(body))
            except ValueError as exc:
                log.warning("a sensing room's picture could not be read: %s", exc)
                continue
            self._publish(SensingUpdated(at=updated_at, snapshot=snapshot))
