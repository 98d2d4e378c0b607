"""Re-processing a sensing recording: the signal chain, grid and tracker run again over a
recorded period, with the live settings or others, without touching the live room.

A replay feeds a fresh :class:`~engine.sensing.service.SensingService` (no server thread, no
sensing thread, no snapshots, its own bus) exactly what the live one consumed, in the same
order: the node events and frames each live sensing tick took, then that tick at its recorded
time (see :mod:`engine.sensing.recording.recorder`). With the same settings it therefore reproduces
the live blobs exactly (same ids, times and positions, bit for bit); with other settings it
shows what they would have detected. Blobs still there when the range (or an engine run) ends
are reported without an end. What it reports are the events the service would have
stored (blob appeared / identified / left, node online / offline …), timestamped with the
recorded wall-clock times, and the blobs they describe.

Ranges: the signal chain learns each link's empty-room baseline over its first seconds, so a
replay that starts in the middle of an engine run starts ``warmup_s`` (default 60 s) earlier
and reports only what happens inside the range; it then matches the live run closely but not
necessarily exactly. A range that starts at or before the engine run's start (each run is a
session of the recording) replays it from its first record, numbering blobs as the live run
did. A new session inside the range (the engine was restarted) starts a fresh service, as the
restart did live.

Damage: a corrupt or truncated recording is replayed up to the damage, and the report says
where it stopped (:attr:`ReplayReport.stopped_at`). A recording may come from anywhere
(``sense replay --recording``), so a node event whose detail is not what the live service
writes (a ``session.start`` whose ``macs`` is not an object of MAC to node id, a
``hello_position`` that is not three finite coordinates, …) is damage too: the replay stops
before it and says which event and field, rather than failing somewhere inside the service.

Threads: :func:`replay_recording` runs on the caller's thread and blocks until done; call it
from a worker (the CLI, a query-service request), never the GUI thread.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.bus import EventBus
from engine.identity.ble import KnownDevice
from engine.sensing.nodes.protocol import MalformedFrameError, parse_csi_frame
from engine.sensing.nodes.server import NODE_BLE, NODE_ONLINE
from engine.sensing.recording.recorder import (
    DEFAULT_WARMUP_S,
    RecordedItem,
    RecordedSession,
    RecordingReader,
    RecordKind,
)
from engine.sensing.service import (
    SESSION_START,
    ExplanationBasis,
    RoomSpec,
    SensingRecord,
    SensingService,
)
from engine.sensing.view import NodeView, SensingSnapshot

MAX_COORDINATE_M = 10_000.0  # a node position farther from the site's origin is not a room's
MAX_BLOB_ID = 2**62  # blob ids are stored in 64-bit columns
DEFAULT_SNAPSHOT_INTERVAL_S = 0.5
NODE_SEEN_S = 2.0  # a replayed node that sent a frame this recently is shown online

OnSnapshot = Callable[[datetime, SensingSnapshot, ExplanationBasis | None], None]
"""Receives a replay's recorded wall time (UTC), its 3D snapshot and what explains the
snapshot's blobs (None before the room has a model), on the replay's thread."""


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """Processing settings for a replay; None keeps the room's own. ``motion_threshold``:
    smoothed relative deltaRMS above which a link shows motion (0.02 = 2 %); ``voxel_m``:
    grid cell edge in metres; ``max_zone``: Fresnel zone cut-off (1–20)."""

    motion_threshold: float | None = None
    voxel_m: float | None = None
    max_zone: int | None = None

    def apply(self, room: RoomSpec) -> RoomSpec:
        """``room`` with these settings, or ``ValueError`` naming a bad one."""
        changes: dict[str, Any] = {}
        if self.motion_threshold is not None:
            if not (math.isfinite(self.motion_threshold) and 0 < self.motion_threshold < 10):
                raise ValueError(
                    f"motion threshold: expected a number above 0 and below 10, "
                    f"got {self.motion_threshold!r}"
                )
            changes["motion_threshold"] = float(self.motion_threshold)
        if self.voxel_m is not None:
            if not (math.isfinite(self.voxel_m) and 0.05 <= self.voxel_m <= 2.0):
                raise ValueError(f"cell size: expected 0.05–2 m, got {self.voxel_m!r}")
            changes["voxel_m"] = float(self.voxel_m)
        if self.max_zone is not None:
            if isinstance(self.max_zone, bool) or not 1 <= int(self.max_zone) <= 20:
                raise ValueError(
                    f"zone cut-off: expected a whole number 1–20, got {self.max_zone!r}"
                )
            changes["max_zone"] = int(self.max_zone)
        return dataclasses.replace(room, **changes)


@dataclass(frozen=True, slots=True)
class ReplayedBlob:
    """One blob of a replay: id, when it appeared and left (UTC; ``left`` None if it was
    still there at the end of the range), where, how long and how far it walked, and the
    name it was given, if any."""

    blob_id: int
    appeared: datetime
    left: datetime | None
    first_position: list[float]
    last_position: list[float] | None
    duration_s: float | None
    path_m: float | None
    name: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "blob": self.blob_id,
            "appeared": self.appeared.isoformat(),
            "left": None if self.left is None else self.left.isoformat(),
            "first_position": self.first_position,
            "last_position": self.last_position,
            "duration_s": self.duration_s,
            "path_m": self.path_m,
            "name": self.name,
        }


@dataclass
class ReplayReport:
    """What a replay found and what it cost. ``events``: the sensing events in the range,
    each ``{"ts", "kind", "blob", "detail"}``; ``stopped_at``: why the replay ended early (a
    damaged recording), else None; ``speed_x``: recorded seconds replayed per second;
    ``cpu_speed_x``: per second of this process's CPU time (``cpu_s``), which is what the
    replay costs whatever else the machine is running."""

    room: str
    settings: dict[str, Any]
    from_ts: datetime | None
    to_ts: datetime | None
    sessions: int = 0
    frames: int = 0
    malformed_frames: int = 0
    ticks: int = 0
    node_events: int = 0
    recorded_s: float = 0.0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[ReplayedBlob] = field(default_factory=list)
    stopped_at: str | None = None

    @property
    def speed_x(self) -> float | None:
        return self.recorded_s / self.elapsed_s if self.elapsed_s > 0 else None

    @property
    def cpu_speed_x(self) -> float | None:
        return self.recorded_s / self.cpu_s if self.cpu_s > 0 else None

    def as_json(self) -> dict[str, Any]:
        speed = self.speed_x
        return {
            "room": self.room,
            "settings": self.settings,
            "from": None if self.from_ts is None else self.from_ts.isoformat(),
            "to": None if self.to_ts is None else self.to_ts.isoformat(),
            "sessions": self.sessions,
            "frames": self.frames,
            "malformed_frames": self.malformed_frames,
            "ticks": self.ticks,
            "node_events": self.node_events,
            "recorded_s": round(self.recorded_s, 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "speed_x": None if speed is None else round(speed, 1),
            "cpu_s": round(self.cpu_s, 3),
            "blobs": [b.as_json() for b in self.blobs],
            "events": self.events,
            "stopped_at": self.stopped_at,
        }


class ReplayClock:
    """The engine clock of a replay: the recorded monotonic time and its wall-clock anchor,
    advanced by the replay before each record it feeds."""

    def __init__(self) -> None:
        self.t_s = 0.0
        self.anchor_s = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.anchor_s + self.t_s, UTC)

    def monotonic(self) -> float:
        return self.t_s

    def sleep(self, seconds: float) -> None:
        self.t_s += seconds

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        return event.is_set()


def replay_recording(
    directory: Path | str,
    room: RoomSpec,
    *,
    from_wall_s: float | None = None,
    to_wall_s: float | None = None,
    settings: ReplaySettings = ReplaySettings(),
    warmup_s: float = DEFAULT_WARMUP_S,
    ble_registry: Sequence[KnownDevice] = (),
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    on_snapshot: OnSnapshot | None = None,
    snapshot_interval_s: float = DEFAULT_SNAPSHOT_INTERVAL_S,
) -> ReplayReport:
    """Re-run ``room``'s recording in ``directory`` over ``[from_wall_s, to_wall_s)`` (epoch
    seconds; None: from the start / to the end) with ``settings`` and report the blobs and
    events (see the module docstring). ``progress(fraction)`` is called now and then (0–1 of
    the range); ``cancel`` stops it early (the report then says so).

    ``on_snapshot(wall time, snapshot, basis)``: the 3D view's snapshot of the tick and
    what explains its blobs (:class:`ExplanationBasis`), handed out
    for ticks inside the range at most once per ``snapshot_interval_s`` recorded seconds
    (a snapshot costs a little more than the tick; the others are not built). Replayed
    nodes show online while their frames arrive. Blobs and events are the same with or
    without it."""
    if not (math.isfinite(snapshot_interval_s) and snapshot_interval_s > 0):
        raise ValueError(
            f"snapshot interval: expected seconds above 0, got {snapshot_interval_s!r}"
        )
    if from_wall_s is not None and to_wall_s is not None and to_wall_s <= from_wall_s:
        raise ValueError("the replay range ends before it starts")
    replayed_room = settings.apply(room)
    reader = RecordingReader(directory)
    extent = reader.extent()
    report = ReplayReport(
        room=room.room_id,
        settings={
            "motion_threshold": replayed_room.motion_threshold,
            "voxel_m": replayed_room.voxel_m,
            "max_zone": replayed_room.max_zone,
        },
        from_ts=None if from_wall_s is None else datetime.fromtimestamp(from_wall_s, UTC),
        to_ts=None if to_wall_s is None else datetime.fromtimestamp(to_wall_s, UTC),
    )
    if extent is None:
        for _ in reader.records():  # no readable block: is that damage, or nothing at all?
            pass
        damage = reader.damage
        report.stopped_at = "the recording is empty" if damage is None else damage.reason
        return report
    start_s = extent[0] if from_wall_s is None else max(from_wall_s, extent[0])
    end_s = extent[1] if to_wall_s is None else min(to_wall_s, extent[1])
    span_s = max(end_s - start_s, 1e-9)
    read_from = None if from_wall_s is None else from_wall_s - warmup_s
    clock = ReplayClock()
    bus = EventBus()
    collected: list[SensingRecord] = []
    bus.subscribe(SensingRecord, collected.append)
    service: SensingService | None = None
    sessions = {s.session_id: s for s in reader.sessions()}
    session: str | None = None
    first_wall: float | None = None
    last_wall: float | None = None
    started, cpu_started = time.perf_counter(), time.process_time()
    last_progress = started
    next_snapshot_wall = -math.inf
    heard: dict[str, float] = {}  # MAC -> recorded wall time of its last frame

    for item in reader.records(read_from, to_wall_s):
        if cancel is not None and cancel.is_set():
            report.stopped_at = "cancelled"
            break
        problem = _bad_node_event(item)
        if problem is not None:
            report.stopped_at = problem
            break
        if item.session_id != session:  # an engine run: a fresh service, as it was live
            session = item.session_id
            known = sessions.get(session)
            clock.anchor_s = item.wall_s - item.t_s if known is None else known.wall_anchor_s
            clock.t_s = item.t_s
            start = _session_start(directory, known) if item.event_kind != SESSION_START else item
            problem = None if start is None else _bad_node_event(start)
            if problem is not None:
                report.stopped_at = problem
                break
            first_id, id_step = _blob_numbering(item)
            service = SensingService(
                replayed_room,
                bus=bus,
                clock=clock,
                install_secret=b"replay",  # no server is started; nodes never connect
                port=0,
                first_blob_id=first_id,
                blob_id_step=id_step,
                run_thread=False,
                publish_snapshots=False,
                ble_registry=ble_registry,
                wall_anchor_s=clock.anchor_s,
            )
            if start is not None and start.detail is not None:
                service.place_macs(dict(start.detail.get("macs") or {}))
            report.sessions += 1
        assert service is not None
        clock.t_s = item.t_s
        inside = from_wall_s is None or item.wall_s >= from_wall_s
        if inside:
            first_wall = item.wall_s if first_wall is None else first_wall
            last_wall = item.wall_s
        if item.kind is RecordKind.FRAME and item.frame is not None:
            try:
                frame = parse_csi_frame(item.frame)
            except MalformedFrameError:
                report.malformed_frames += 1
                continue
            service._on_frame(frame, item.t_s)
            report.frames += inside
            if on_snapshot is not None:
                heard[frame.node_mac] = heard[frame.peer_mac] = item.wall_s
        elif item.kind is RecordKind.NODE_EVENT and item.event_kind is not None:
            if item.event_kind == SESSION_START:
                continue
            service._on_node_event(item.event_kind, item.mac or "", dict(item.detail or {}))
            report.node_events += inside
        elif item.kind is RecordKind.TICK:
            due = on_snapshot is not None and inside and item.wall_s >= next_snapshot_wall
            if due:
                # Only this tick builds its snapshot (what a live tick publishes).
                service._publish_snapshots = True
            try:
                snapshot = service.tick(item.t_s)
            finally:
                service._publish_snapshots = False
            if due and on_snapshot is not None and snapshot is not None:
                next_snapshot_wall = item.wall_s + snapshot_interval_s
                on_snapshot(
                    datetime.fromtimestamp(item.wall_s, UTC),
                    _with_heard_nodes(snapshot, heard, item.wall_s, service._mac_to_node),
                    service.explanation_basis(),
                )
            report.ticks += inside
            if progress is not None and time.perf_counter() - last_progress > 0.25:
                last_progress = time.perf_counter()
                progress(min(max((item.wall_s - start_s) / span_s, 0.0), 1.0))
    else:
        if reader.damage is not None:
            report.stopped_at = reader.damage.reason
    report.elapsed_s = time.perf_counter() - started
    report.cpu_s = time.process_time() - cpu_started
    if first_wall is not None and last_wall is not None:
        report.recorded_s = last_wall - first_wall
    _collect(report, collected, from_wall_s)
    if progress is not None:
        progress(1.0)
    return report


def _with_heard_nodes(
    snapshot: SensingSnapshot, heard: dict[str, float], wall_s: float, macs: dict[str, str]
) -> SensingSnapshot:
    """``snapshot`` with the nodes whose frames the replay fed lately shown online: a replay
    has no node server, so the service sees every node as never connected. ``macs`` maps
    MAC to node id."""
    mac_of = {node_id: mac for mac, node_id in macs.items()}
    nodes: list[NodeView] = []
    for node in snapshot.nodes:
        mac = node.mac or mac_of.get(node.node_id)
        seen = heard.get(mac or "")
        if seen is not None and wall_s - seen <= NODE_SEEN_S:
            node = dataclasses.replace(
                node,
                mac=mac,
                online=True,
                offline_reason=None,
                seconds_since_seen=max(wall_s - seen, 0.0),
            )
        elif seen is not None:
            node = dataclasses.replace(node, mac=mac, offline_reason="no frames in the recording")
        nodes.append(node)
    return dataclasses.replace(snapshot, nodes=tuple(nodes))


def _session_start(directory: Path | str, session: RecordedSession | None) -> RecordedItem | None:
    """The session's first record, when it is the session start (which MAC is which node)."""
    if session is None:
        return None
    for item in RecordingReader(directory).records(session.first_wall_s, None):
        if item.session_id == session.session_id:
            return item if item.event_kind == SESSION_START else None
        return None
    return None


def _bad_node_event(item: RecordedItem) -> str | None:
    """Why the recorded node event ``item`` cannot be fed to a service (a field the service
    reads that is not what the live service records), or None when it can (and for frames
    and ticks). The recording reader has checked it is ``[kind, mac, detail]`` JSON."""
    if item.kind is not RecordKind.NODE_EVENT or item.detail is None:
        return None
    detail = item.detail
    problem: str | None = None
    if item.event_kind == SESSION_START:
        macs = detail.get("macs")
        first = detail.get("first_blob_id")
        step = detail.get("blob_id_step")
        if macs is not None and not (
            isinstance(macs, dict) and all(isinstance(v, str) for v in macs.values())
        ):
            problem = f"macs: expected an object of MAC to node id, got {_json_type(macs)}"
        elif first is not None and not _whole(first, 1, MAX_BLOB_ID):
            problem = f"first_blob_id: expected a whole number 1-{MAX_BLOB_ID}"
        elif step is not None and not _whole(step, 1, MAX_BLOB_ID):
            problem = f"blob_id_step: expected a whole number 1-{MAX_BLOB_ID}"
    elif item.event_kind == NODE_ONLINE:
        position = detail.get("hello_position")
        node_id = detail.get("hello_node_id")
        if position is not None and not (
            isinstance(position, list)
            and len(position) == 3
            and all(_finite(c, MAX_COORDINATE_M) for c in position)
        ):
            problem = f"hello_position: expected three coordinates within ±{MAX_COORDINATE_M:g} m"
        elif node_id is not None and not isinstance(node_id, str):
            problem = f"hello_node_id: expected a string, got {_json_type(node_id)}"
    elif item.event_kind == NODE_BLE:
        devices = detail.get("devices")
        node = detail.get("node")
        if not _finite(detail.get("at_s"), math.inf):
            problem = "at_s: expected a finite number of seconds"
        elif not (
            isinstance(devices, list)
            and all(
                isinstance(d, list)
                and len(d) == 2
                and isinstance(d[0], str)
                and _finite(d[1], 1000.0)
                for d in devices
            )
        ):
            problem = "devices: expected a list of [address, RSSI dBm]"
        elif node is not None and not isinstance(node, str):
            problem = f"node: expected a string, got {_json_type(node)}"
    if problem is None:
        return None
    when = datetime.fromtimestamp(item.wall_s, UTC).isoformat()  # the reader checked it
    return f"malformed {item.event_kind} node event in the recording at {when}: {problem}"


def _finite(value: object, bound: float) -> bool:
    """``value`` is a JSON number (not a boolean) whose magnitude is at most ``bound``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return False
    return math.isfinite(number) and abs(number) <= bound


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _json_type(value: object) -> str:
    return {list: "a list", dict: "an object", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )


def _blob_numbering(item: RecordedItem) -> tuple[int, int]:
    """The first blob id and the step between ids: as the live run numbered them when the
    replay starts at its beginning (its first record is the session start), else from 1 in
    steps of 1 (a recording made before rooms had steps says none: 1)."""
    first, step = 1, 1
    if item.kind is RecordKind.NODE_EVENT and item.event_kind == SESSION_START:
        detail = item.detail or {}
        value, every = detail.get("first_blob_id"), detail.get("blob_id_step")
        if _whole(value, 1, MAX_BLOB_ID):
            assert isinstance(value, int)
            first = value
            if _whole(every, 1, MAX_BLOB_ID):
                assert isinstance(every, int)
                step = every
    return first, step


def _collect(
    report: ReplayReport, collected: list[SensingRecord], from_wall_s: float | None
) -> None:
    blobs: dict[int, dict[str, Any]] = {}
    for record in collected:
        ts = record.at
        if from_wall_s is not None and ts.timestamp() < from_wall_s:
            continue
        detail = {k: v for k, v in record.detail.items() if k != "explanation"}
        report.events.append(
            {"ts": ts.isoformat(), "kind": record.kind, "blob": record.blob_id, "detail": detail}
        )
        if record.blob_id is None:
            continue
        if record.kind == "sensing.blob_appeared":
            blobs[record.blob_id] = {
                "appeared": ts,
                "first_position": record.detail.get("position"),
                "name": None,
            }
        entry = blobs.get(record.blob_id)
        if entry is None:
            continue
        if record.kind == "sensing.blob_identified":
            entry["name"] = record.detail.get("name")
        elif record.kind == "sensing.blob_left":
            entry.update(
                left=ts,
                last_position=record.detail.get("position"),
                duration_s=record.detail.get("duration_s"),
                path_m=record.detail.get("path_m"),
            )
    report.blobs = [
        ReplayedBlob(
            blob_id=blob_id,
            appeared=entry["appeared"],
            left=entry.get("left"),
            first_position=entry["first_position"],
            last_position=entry.get("last_position"),
            duration_s=entry.get("duration_s"),
            path_m=entry.get("path_m"),
            name=entry["name"],
        )
        for blob_id, entry in sorted(blobs.items())
    ]
