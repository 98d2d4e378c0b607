"""The investigator's timeline: what happened in a visible time range, lane by lane, at the
level of detail the pane can draw.

A :class:`TimelineRequest` names a window (UTC), the pane's width in pixels and its lanes:
``camera:KEY`` and ``sensing:ROOM`` (events), ``alerts``, ``incidents`` and ``bookmarks``.
Each lane comes back either as *markers* (one per row, with what a tooltip and a click need)
when the window holds few enough of its rows to draw them apart (at most one per
:data:`MARKER_SPACING_PX` pixels, never more than :data:`MAX_MARKERS_PER_LANE`, and no more
than :data:`MAX_MARKERS_PER_SLICE` over all lanes), or as *density bars*: row counts per
bucket of :func:`bucket_seconds`, about :data:`BUCKET_PX` pixels wide, aligned to multiples
of the bucket since the epoch so that panning does not make the bars shimmer.

Camera lanes also carry their *coverage*: where the camera's footage (event clips and
continuous-recording segments) is in the window, as merged intervals
(:func:`clip_coverage`), so the pane can show where footage exists.

Nothing is ever loaded whole, and a slice costs a fixed number of statements (at most
fourteen) whatever the lanes and the window:
the cameras, the rooms (small tables and one index probe per room of ``event_rollup``), one
probe counting each lane's rows up to the marker cap (``LIMIT cap + 1`` over the lane's
index), the markers (one statement for all camera lanes, one for sensing lanes, one each for
alerts, incidents and bookmarks; each event's covering clip found by one probe of
``ix_media_camera_span``), the counts of the busy lanes, and the camera lanes' clips (one
statement reading a bounded number per lane, and one probing per bucket for lanes with more).

Counts come from ``event_rollup`` (the events per source per 5 minutes, 30 minutes and hour,
kept by triggers) when a rollup span divides the bucket, as it does for every bucket of 5 minutes
and more (windows of about a day and wider at 1400 px): the whole rollup buckets inside the
window are summed per bar in SQL, and the two ragged ends are made up from the narrower span
and, under five minutes, counted from the index, so the bars are exact. A month of
1,000,000 events reads about 6,000 hourly rows instead of a million index entries; a week,
about 2,700 half-hourly ones. Narrower
buckets, and the alerts, incidents and bookmarks lanes, are counted as one correlated
``count(*)`` per lane and bucket over the lane's ``(…, ts, id)`` index, the buckets
numbered by a recursive CTE: a range count walks only index entries and needs neither a
per-row expression nor a sort, and the same SQL runs on PostgreSQL.

:class:`TimelineThumbnailRequest` finds what a camera saw at a moment: a snapshot taken
then, else the frame of the covering clip at its offset (decoded with OpenCV), else the
nearest snapshot, scaled to a small RGB array.

Every function here runs on the caller's thread with its own connection; the console runs
the requests on the query service's pool (:mod:`engine.history.query_service`), never on
the GUI thread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import (
    ColumnElement,
    FunctionElement,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from engine.history.events import (
    _CLIP,
    CLIP_SPAN_BOUND_S,
    ClipProbe,
    CoveringClipsRequest,
    _covering_clip_id,
    shifted_time,
)
from engine.media import FOOTAGE_KINDS, SEGMENT_KIND, is_view_path
from engine.store.alert_models import Alert, AlertRule
from engine.store.database import Store
from engine.store.history_models import Bookmark, EvidenceLockSource
from engine.store.incident_models import Incident
from engine.store.models import ROLLUP_SPANS_S, Camera, Event, EventRollup, Media, UTCDateTime
from engine.store.person_models import Person

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LANE_ALERTS: Final = "alerts"
LANE_INCIDENTS: Final = "incidents"
LANE_BOOKMARKS: Final = "bookmarks"
CAMERA_PREFIX: Final = "camera:"
SENSING_PREFIX: Final = "sensing:"

MAX_MARKERS_PER_LANE: Final = 1500  # beyond this a lane is drawn as density bars anyway
# Markers cost the worker about 20 µs each (row, detail, clip probe, object): a slice keeps
# to this many so that it stays well inside 50 ms however many lanes the site has.
MAX_MARKERS_PER_SLICE: Final = 1500
MARKER_SPACING_PX: Final = 4  # markers closer than this would merge into a smear
_CLIP_IDS_PER_STATEMENT: Final = 2000  # bound parameters per clip lookup (SQLite allows 32,766)
BUCKET_PX: Final = 3  # a density bar's width on screen, about
MAX_BUCKETS: Final = 2000  # a window wider than the screen must not make thousands more

# Bucket widths people read easily (seconds); each divides a day or is a whole number of
# days, so buckets aligned on the epoch also start on round times of day (UTC).
NICE_BUCKETS_S: Final = (
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10800.0,
    21600.0,
    43200.0,
    86400.0,
    2 * 86400.0,
    7 * 86400.0,
)

THUMBNAIL_WIDTH_PX: Final = 160
SNAPSHOT_EXACT_S: Final = 1.0  # a snapshot this close is as good as the clip's frame
SEGMENT_SPAN_BOUND_S: Final = 75.0  # longer than any continuous-recording segment
SNAPSHOT_NEAR_S: Final = 30.0  # without a clip, a snapshot this close still shows the scene
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SENSING_CUT: Final = len(SENSING_PREFIX)
_SUMMARY_KEYS: Final = ("detail", "name", "person_id")  # as EventView.summary reads them


class detail_field(FunctionElement[Any]):  # noqa: N801 - a SQL function's name
    """``detail[key]`` of a JSON column as a scalar (text, number; NULL when absent), in
    SQL, on SQLite and PostgreSQL alike. ``key`` is a constant of this module."""

    type = String()
    name = "detail_field"
    inherit_cache = True

    def __init__(self, column: Any, key: str) -> None:
        if not key.replace("_", "").isalnum():
            raise ValueError(f"not a plain JSON key: {key!r}")
        super().__init__(column, literal_column(f"'{key}'"))


@compiles(detail_field, "sqlite")
def _detail_field_sqlite(element: detail_field, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_extract({column}, '$.' || {key})"


@compiles(detail_field)
def _detail_field_default(element: detail_field, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({column} ->> {key})"


class LaneDetail(StrEnum):
    """How a lane's rows come back: one marker each, or counts per bucket."""

    MARKERS = "markers"
    DENSITY = "density"


class MarkerRecord(StrEnum):
    """What a marker stands for (the table its ``id`` is a key of)."""

    EVENT = "event"
    ALERT = "alert"
    INCIDENT = "incident"
    BOOKMARK = "bookmark"


@dataclass(frozen=True, slots=True)
class TimelineMarker:
    """One row on a lane: an event, an alert, an incident or a bookmark.

    ``ts`` is when it happened (UTC; a bookmark's range start), ``ended_at`` the end of a
    range (bookmarks; None for moments). ``kind`` is the event's kind, the alert's kind
    (``fall``, ``person``…), the incident's category, or ``bookmark``. ``camera`` is a
    camera key, ``room`` a sensing room. ``clip_path`` (relative to the data dir) and
    ``clip_offset_s`` (seconds into it) point at the clip that covers the moment, when one
    does. ``event_id`` is the stored event behind it (the event itself, an alert's event).
    """

    lane: str
    record: MarkerRecord
    id: int
    ts: datetime
    kind: str
    summary: str
    person: str | None = None
    camera: str | None = None
    room: str | None = None
    severity: str | None = None
    clip_path: str | None = None
    clip_offset_s: float | None = None
    ended_at: datetime | None = None
    event_id: int | None = None
    # An event's detail as far as the slice read it (its ``detail``, ``name``,
    # ``person_id`` and ``track_id`` fields; the whole detail when none of them is set):
    # what :func:`engine.wording.describe` words the marker from.
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_range(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True, slots=True)
class DensityBars:
    """Rows per bucket: bucket ``i`` covers ``[origin + i·bucket_s, origin + (i+1)·bucket_s)``
    (UTC, seconds). The buckets cover the request's window; the first and last may reach
    past it (their counts are still only of rows inside the window)."""

    origin: datetime
    bucket_s: float
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)

    def bucket_start(self, index: int) -> datetime:
        return self.origin + timedelta(seconds=index * self.bucket_s)


Coverage = tuple[tuple[datetime, datetime], ...]
"""Where recordings exist: ``(start, end)`` pairs (UTC), oldest first, apart and inside the
window they were read for."""


@dataclass(frozen=True, slots=True)
class TimelineLane:
    """One lane of a slice: its name (``camera:gate``, ``alerts``…), a label to show
    (the camera's name, the room, "Alerts"), and either markers (oldest first) or density
    bars, as ``detail`` says. ``total`` is the lane's row count in the window.
    ``coverage`` (camera lanes) is where the camera's footage is in the window (see
    :func:`clip_coverage`); ``motion`` and ``people`` where that footage had motion, and
    people in view; empty for other lanes and when nothing was recorded."""

    name: str
    label: str
    detail: LaneDetail
    total: int
    markers: tuple[TimelineMarker, ...] = ()
    density: DensityBars | None = None
    coverage: Coverage = ()
    motion: Coverage = ()
    people: Coverage = ()


@dataclass(frozen=True, slots=True)
class TimelineSlice:
    """What a window holds, lane by lane, as asked for by ``request``; ``bucket_s`` is the
    density bucket width and ``marker_cap`` the most markers a lane may have."""

    request: TimelineRequest
    lanes: tuple[TimelineLane, ...]
    bucket_s: float
    marker_cap: int

    @property
    def start(self) -> datetime:
        return self.request.start

    @property
    def end(self) -> datetime:
        return self.request.end

    def lane(self, name: str) -> TimelineLane | None:
        return next((lane for lane in self.lanes if lane.name == name), None)


@dataclass(frozen=True, slots=True)
class TimelineRequest:
    """The timeline between ``start`` and ``end`` (UTC, end exclusive) for a pane
    ``width_px`` pixels wide. ``lanes`` names the lanes in display order (``camera:KEY``,
    ``sensing:ROOM``, ``alerts``, ``incidents``, ``bookmarks``); None: every lane the site
    has (its cameras, the sensing rooms known, then alerts, incidents and bookmarks)."""

    start: datetime
    end: datetime
    width_px: int
    lanes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("timeline windows are in UTC: give timezone-aware datetimes")
        if self.end <= self.start:
            raise ValueError(f"empty timeline window: {self.start} … {self.end}")
        if self.width_px < 1:
            raise ValueError(f"width_px must be at least 1, got {self.width_px}")

    def run(self, store: Store) -> TimelineSlice:
        """Read the slice (caller's thread, own connection; see :func:`timeline_slice`)."""
        return timeline_slice(store, self)


def bucket_seconds(window_s: float, width_px: int) -> float:
    """The density bucket for a window of ``window_s`` seconds drawn ``width_px`` wide:
    the smallest of :data:`NICE_BUCKETS_S` at least as long as :data:`BUCKET_PX` pixels
    (and making at most :data:`MAX_BUCKETS` buckets)."""
    wanted = max(window_s / max(width_px / BUCKET_PX, 1.0), window_s / MAX_BUCKETS)
    for nice in NICE_BUCKETS_S:
        if nice >= wanted:
            return nice
    return math.ceil(wanted / 86400.0) * 86400.0


def marker_cap(width_px: int) -> int:
    """The most markers one lane gets in a pane ``width_px`` wide (at least 1)."""
    return max(1, min(MAX_MARKERS_PER_LANE, width_px // MARKER_SPACING_PX))


def bucket_origin(start: datetime, bucket_s: float) -> datetime:
    """The start of the epoch-aligned bucket holding ``start``."""
    micros = round(bucket_s * 1_000_000)
    since = (start - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=(since // micros) * micros)


# -- lanes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LaneQuery:
    """How one lane reads its rows: its table, the row's time column and the conditions
    (besides the window) that pick its rows. Camera lanes carry their cameras' ids."""

    name: str
    label: str
    table: Any
    time_column: Any
    conditions: tuple[ColumnElement[bool], ...]
    id_column: Any
    camera_ids: tuple[int, ...] = ()
    ranged: bool = False  # bookmarks: the rows overlapping the window, not starting in it


def timeline_slice(store: Store, request: TimelineRequest) -> TimelineSlice:
    """The slice ``request`` asks for: each lane as markers or density bars.

    Caller's thread, its own connection. At most fourteen statements whatever the lanes
    and the window: the cameras, the site's lanes (two, when the lanes are not given), the
    probe, the markers of camera lanes, of sensing lanes, of alerts, incidents and
    bookmarks (each only if it has any), the counts of the lanes drawn as density bars
    (the rollup's sums and the window's ragged ends, and the rows counted per bucket), and
    the camera lanes' coverage (two at most: :func:`_coverage`).
    """
    window_s = (request.end - request.start).total_seconds()
    bucket_s = bucket_seconds(window_s, request.width_px)
    cap = marker_cap(request.width_px)
    with store.engine.connect() as connection:
        cameras = _cameras(connection)
        names = request.lanes if request.lanes is not None else _site_lanes(connection, request)
        queries = [_lane_query(name, cameras) for name in dict.fromkeys(names)]
        counts = _probe(connection, queries, request, cap)
        marker_lanes, density_lanes = _choose_detail(queries, counts, cap)
        markers = _markers(connection, marker_lanes, request, cap)
        bars = _density(connection, density_lanes, request, bucket_s)
        coverage = _coverage(connection, [q for q in queries if q.camera_ids], request, bucket_s)
    lanes: list[TimelineLane] = []
    for query in queries:
        recorded = coverage[Footage.RECORDED].get(query.name, ())
        motion = coverage[Footage.MOTION].get(query.name, ())
        people = coverage[Footage.PEOPLE].get(query.name, ())
        if query.name in bars:
            found = bars[query.name]
            lanes.append(
                TimelineLane(
                    query.name,
                    query.label,
                    LaneDetail.DENSITY,
                    found.total,
                    density=found,
                    coverage=recorded,
                    motion=motion,
                    people=people,
                )
            )
        else:
            shown = markers.get(query.name, ())
            lanes.append(
                TimelineLane(
                    query.name,
                    query.label,
                    LaneDetail.MARKERS,
                    len(shown),
                    shown,
                    coverage=recorded,
                    motion=motion,
                    people=people,
                )
            )
    return TimelineSlice(request, tuple(lanes), bucket_s, cap)


def _choose_detail(
    queries: Sequence[_LaneQuery], counts: Sequence[int], cap: int
) -> tuple[list[_LaneQuery], list[_LaneQuery]]:
    """Which lanes come as markers and which as density bars: a lane with more than
    ``cap`` rows in the window is counted; the others get markers while the slice's
    :data:`MAX_MARKERS_PER_SLICE` lasts, alerts, incidents and bookmarks first (they are
    few and what an investigator looks for), then the quietest lanes."""
    candidates = sorted(
        (
            (query.table is Event.__table__, count, index)
            for index, (query, count) in enumerate(zip(queries, counts, strict=True))
            if 0 < count <= cap
        ),
    )
    budget = MAX_MARKERS_PER_SLICE
    chosen: set[int] = set()
    for _is_event_lane, count, index in candidates:
        if count > budget:
            break
        budget -= count
        chosen.add(index)
    markers = [query for index, query in enumerate(queries) if index in chosen]
    density = [
        query
        for index, (query, count) in enumerate(zip(queries, counts, strict=True))
        if count > 0 and index not in chosen
    ]
    return markers, density


def _cameras(connection: Connection) -> dict[str, tuple[list[int], str]]:
    """Camera key -> (database ids, display name), for every camera of every site."""
    cameras: dict[str, tuple[list[int], str]] = {}
    rows = connection.execute(
        select(Camera.id, Camera.key, Camera.name).order_by(Camera.site_id, Camera.key)
    ).all()
    for camera_id, key, name in rows:
        ids, _name = cameras.setdefault(str(key), ([], str(name)))
        ids.append(int(camera_id))
    return cameras


def _site_lanes(connection: Connection, request: TimelineRequest) -> tuple[str, ...]:
    """Every lane of the site: its enabled cameras, the sensing rooms known, then alerts,
    incidents and bookmarks.

    Rooms have no table: they are the rooms named by alert rules, bookmarks and evidence
    locks (small tables), and every room that has events stored (the distinct
    ``sensing:…`` sources of ``event_rollup``, walked one index probe per room), whether
    or not the window holds any: lanes do not come and go while the investigator pans."""
    del request  # every room known, not only the window's
    cameras = connection.execute(
        select(Camera.key).where(Camera.enabled.is_(True)).order_by(Camera.site_id, Camera.key)
    ).scalars()
    camera_lanes = list(dict.fromkeys(f"{CAMERA_PREFIX}{key}" for key in cameras))
    rooms_stmt = union_all(
        select(AlertRule.room.label("room")).where(AlertRule.room.is_not(None)),
        select(Bookmark.room.label("room")).where(Bookmark.room.is_not(None)),
        select(EvidenceLockSource.room.label("room")).where(EvidenceLockSource.room.is_not(None)),
        select(func.substr(_ROOM_SOURCES.c.source, len(SENSING_PREFIX) + 1).label("room")).where(
            _ROOM_SOURCES.c.source.is_not(None)
        ),
    )
    rooms = sorted({str(room) for room in connection.execute(rooms_stmt).scalars() if room})
    return (
        *camera_lanes,
        *(f"{SENSING_PREFIX}{room}" for room in rooms),
        LANE_ALERTS,
        LANE_INCIDENTS,
        LANE_BOOKMARKS,
    )


def _room_sources() -> Any:
    """The distinct ``sensing:…`` sources of ``event_rollup`` as a recursive CTE: each step
    takes the next source after the last one found from the primary key (a loose index
    scan: one probe per room however many buckets each has)."""

    def next_after(previous: Any) -> Any:
        return (
            select(EventRollup.source)
            .where(
                EventRollup.camera_id == 0,
                EventRollup.source > previous,
                EventRollup.source.like(f"{SENSING_PREFIX}%"),
            )
            .order_by(EventRollup.camera_id, EventRollup.source)
            .limit(1)
            .scalar_subquery()
        )

    seed = select(next_after(literal(SENSING_PREFIX[:-1])).label("source")).cte(
        "room_sources", recursive=True
    )
    return seed.union_all(
        select(next_after(seed.c.source).label("source")).where(seed.c.source.is_not(None))
    )


_ROOM_SOURCES: Final = _room_sources()


def _lane_query(name: str, cameras: dict[str, tuple[list[int], str]]) -> _LaneQuery:
    """The rows of lane ``name``. Raises ValueError for a name that is no lane."""
    if name.startswith(CAMERA_PREFIX):
        key = name.removeprefix(CAMERA_PREFIX)
        ids, label = cameras.get(key, ([], key))
        condition: ColumnElement[bool] = (
            Event.camera_id == ids[0] if len(ids) == 1 else Event.camera_id.in_(ids)
        )
        return _LaneQuery(
            name, label, Event.__table__, Event.ts, (condition,), Event.id, tuple(ids)
        )
    if name.startswith(SENSING_PREFIX):
        room = name.removeprefix(SENSING_PREFIX)
        # Camera-less events are a range of ix_events_camera_ts_id; the source is checked
        # on the rows in it (there is no index on source).
        conditions = (Event.camera_id.is_(None), Event.source == name)
        return _LaneQuery(name, room, Event.__table__, Event.ts, conditions, Event.id)
    if name == LANE_ALERTS:
        return _LaneQuery(name, "Alerts", Alert.__table__, Alert.raised_at, (), Alert.id)
    if name == LANE_INCIDENTS:
        return _LaneQuery(
            name, "Incidents", Incident.__table__, Incident.occurred_at, (), Incident.id
        )
    if name == LANE_BOOKMARKS:
        return _LaneQuery(
            name,
            "Bookmarks",
            Bookmark.__table__,
            Bookmark.started_at,
            (),
            Bookmark.id,
            ranged=True,
        )
    raise ValueError(f"unknown timeline lane {name!r}")


def _window(query: _LaneQuery, request: TimelineRequest) -> tuple[ColumnElement[bool], ...]:
    if query.ranged:  # a bookmark shows while any of its range is in the window
        return (Bookmark.started_at < request.end, Bookmark.ended_at >= request.start)
    return (query.time_column >= request.start, query.time_column < request.end)


def _probe(
    connection: Connection, queries: Sequence[_LaneQuery], request: TimelineRequest, cap: int
) -> list[int]:
    """Each lane's rows in the window, counted up to ``cap + 1`` (one statement; each count
    stops after ``cap + 1`` index entries)."""
    if not queries:
        return []
    columns = []
    for index, query in enumerate(queries):
        limited = (
            select(query.id_column)
            .where(*query.conditions, *_window(query, request))
            .limit(cap + 1)
            .subquery()
        )
        columns.append(
            select(func.count()).select_from(limited).scalar_subquery().label(f"lane_{index}")
        )
    row = connection.execute(select(*columns)).one()
    return [int(value or 0) for value in row]


def _markers(
    connection: Connection, queries: Sequence[_LaneQuery], request: TimelineRequest, cap: int
) -> dict[str, tuple[TimelineMarker, ...]]:
    """The markers of ``queries`` (lanes the probe found at most ``cap`` rows in), oldest
    first, at most ``cap`` per lane: one statement for all camera lanes, one for all
    sensing lanes, one each for alerts, incidents and bookmarks."""
    found: dict[str, tuple[TimelineMarker, ...]] = {}
    camera_lanes = [q for q in queries if q.camera_ids]
    sensing_lanes = [q for q in queries if q.name.startswith(SENSING_PREFIX)]
    if camera_lanes:
        lane_of = {camera_id: q.name for q in camera_lanes for camera_id in q.camera_ids}
        found.update(
            _event_markers(connection, Event.camera_id.in_(list(lane_of)), request, cap, lane_of)
        )
    if sensing_lanes:
        sources = [q.name for q in sensing_lanes]
        condition = and_(Event.camera_id.is_(None), Event.source.in_(sources))
        found.update(_event_markers(connection, condition, request, cap, None))
    for query in queries:
        if query.name == LANE_ALERTS:
            found[query.name] = _alert_markers(connection, query, request, cap)
        elif query.name == LANE_INCIDENTS:
            found[query.name] = _incident_markers(connection, query, request, cap)
        elif query.name == LANE_BOOKMARKS:
            found[query.name] = _bookmark_markers(connection, query, request, cap)
    return found


def _event_markers(
    connection: Connection,
    condition: ColumnElement[bool],
    request: TimelineRequest,
    cap: int,
    lane_of_camera: dict[int, str] | None,
) -> dict[str, tuple[TimelineMarker, ...]]:
    """Markers of the events matching ``condition`` in the window, per lane: by camera id
    (``lane_of_camera``), else by source (sensing lanes)."""
    # Times and detail come back as the driver gives them (text on SQLite) and are parsed
    # here: the markers of a window can be a few thousand rows, and the generic type
    # processing per value would cost more than the query.
    stmt = (
        select(
            Event.id,
            type_coerce(Event.ts, String).label("ts"),
            Event.kind,
            Event.source,
            Event.camera_id,
            detail_field(Event.detail, "detail").label("detail_text"),
            detail_field(Event.detail, "name").label("detail_name"),
            detail_field(Event.detail, "person_id").label("detail_person"),
            detail_field(Event.detail, "track_id").label("detail_track"),
            # The whole detail only when none of those says what happened (a sensing
            # blob's detail carries its explanation: kilobytes nobody hovers over).
            case(
                (
                    and_(
                        *(
                            detail_field(Event.detail, key).is_(None)
                            for key in (*_SUMMARY_KEYS, "track_id")
                        )
                    ),
                    type_coerce(Event.detail, String),
                ),
                else_=null(),
            ).label("detail"),
            Camera.key,
            Person.public_id,
            Person.name,
            _covering_clip_id().label("clip_id"),
        )
        .outerjoin(Camera, Camera.id == Event.camera_id)
        .outerjoin(Person, Person.id == Event.person_id)
        .where(condition, Event.ts >= request.start, Event.ts < request.end)
        .order_by(Event.ts, Event.id)
    )
    rows = connection.execute(stmt).all()
    # The clips' paths in a second statement by id: joined to the covering clip's id
    # instead, PostgreSQL hashes the whole media table (24 of 32 ms for an hour's 1,400
    # markers over 57,600 clips); by primary key it reads only the clips found.
    clip_ids = sorted({row.clip_id for row in rows if row.clip_id is not None})
    clips: dict[int, tuple[str, str]] = {}
    for chunk in range(0, len(clip_ids), _CLIP_IDS_PER_STATEMENT):
        for clip_id, path, started_at in connection.execute(
            select(Media.id, Media.path, type_coerce(Media.started_at, String)).where(
                Media.id.in_(clip_ids[chunk : chunk + _CLIP_IDS_PER_STATEMENT])
            )
        ):
            clips[int(clip_id)] = (str(path), started_at)
    lanes: dict[str, list[TimelineMarker]] = {}
    event_record = MarkerRecord.EVENT
    for row in rows:
        (
            event_id,
            ts,
            kind,
            source,
            camera_id,
            detail_text,
            detail_name,
            detail_person,
            detail_track,
            detail,
            key,
            public_id,
            name,
            clip_id,
        ) = row
        clip, clip_at = clips.get(clip_id, (None, None)) if clip_id is not None else (None, None)
        if lane_of_camera is None:
            lane: str | None = source
        else:
            lane = None if camera_id is None else lane_of_camera.get(camera_id)
        if lane is None:
            continue
        markers = lanes.setdefault(lane, [])
        if len(markers) >= cap:  # rows stored since the probe counted them
            continue
        at = _utc(ts)
        read = {
            key: value
            for key, value in (
                ("detail", detail_text),
                ("name", detail_name),
                ("person_id", detail_person),
                ("track_id", detail_track),
            )
            if value is not None
        }
        markers.append(
            TimelineMarker(
                lane=lane,
                record=event_record,
                id=event_id,
                ts=at,
                kind=kind,
                summary=(
                    str(detail_text or detail_name or detail_person)
                    if detail_text or detail_name or detail_person
                    else f"track {detail_track}"
                    if detail_track is not None
                    else _summary(_json(detail))
                ),
                person=name or public_id,
                camera=key,
                room=source[_SENSING_CUT:] if source.startswith(SENSING_PREFIX) else None,
                clip_path=clip,
                clip_offset_s=None if clip_at is None else _offset(at, _utc(clip_at)),
                event_id=event_id,
                detail=read or _json(detail),
            )
        )
    return {lane: tuple(markers) for lane, markers in lanes.items()}


def _alert_markers(
    connection: Connection, query: _LaneQuery, request: TimelineRequest, cap: int
) -> tuple[TimelineMarker, ...]:
    # The alert's event (if any) gives the camera and, through it, the covering clip.
    stmt = (
        select(
            Alert.id,
            Alert.raised_at,
            Alert.kind,
            Alert.source,
            Alert.severity,
            Alert.title,
            Alert.event_id,
            Event.ts.label("event_ts"),
            Camera.key,
            Person.public_id,
            Person.name,
            _CLIP.path.label("clip_path"),
            _CLIP.started_at.label("clip_started_at"),
        )
        .outerjoin(Event, Event.id == Alert.event_id)
        .outerjoin(Camera, Camera.id == Event.camera_id)
        .outerjoin(Person, Person.id == Alert.person_id)
        .outerjoin(_CLIP, _CLIP.id == _covering_clip_id())
        .where(*_window(query, request))
        .order_by(Alert.raised_at, Alert.id)
        .limit(cap)
    )
    markers = []
    for row in connection.execute(stmt).all():
        source = str(row.source)
        camera = row.key or (
            source.removeprefix(CAMERA_PREFIX) if source.startswith(CAMERA_PREFIX) else None
        )
        room = source.removeprefix(SENSING_PREFIX) if source.startswith(SENSING_PREFIX) else None
        markers.append(
            TimelineMarker(
                lane=query.name,
                record=MarkerRecord.ALERT,
                id=int(row.id),
                ts=row.raised_at,
                kind=str(row.kind),
                summary=str(row.title),
                person=row.name or row.public_id,
                camera=camera,
                room=room,
                severity=str(row.severity),
                clip_path=row.clip_path,
                clip_offset_s=_offset(row.event_ts, row.clip_started_at),
                event_id=None if row.event_id is None else int(row.event_id),
            )
        )
    return tuple(markers)


def _incident_markers(
    connection: Connection, query: _LaneQuery, request: TimelineRequest, cap: int
) -> tuple[TimelineMarker, ...]:
    stmt = (
        select(
            Incident.id,
            Incident.occurred_at,
            Incident.category,
            Incident.severity,
            Incident.report_count,
        )
        .where(*_window(query, request))
        .order_by(Incident.occurred_at, Incident.id)
        .limit(cap)
    )
    return tuple(
        TimelineMarker(
            lane=query.name,
            record=MarkerRecord.INCIDENT,
            id=int(row.id),
            ts=row.occurred_at,
            kind=str(row.category),
            summary=(
                f"{str(row.category).replace('_', ' ')}, severity {row.severity}, "
                f"{row.report_count} report{'s' if row.report_count != 1 else ''}"
            ),
            severity=str(row.severity),
        )
        for row in connection.execute(stmt).all()
    )


def _bookmark_markers(
    connection: Connection, query: _LaneQuery, request: TimelineRequest, cap: int
) -> tuple[TimelineMarker, ...]:
    stmt = (
        select(
            Bookmark.id,
            Bookmark.title,
            Bookmark.note,
            Bookmark.marked_at,
            Bookmark.started_at,
            Bookmark.ended_at,
            Bookmark.room,
            Bookmark.author,
            Camera.key,
        )
        .outerjoin(Camera, Camera.id == Bookmark.camera_id)
        .where(*_window(query, request))
        .order_by(Bookmark.started_at, Bookmark.id)
        .limit(cap)
    )
    return tuple(
        TimelineMarker(
            lane=query.name,
            record=MarkerRecord.BOOKMARK,
            id=int(row.id),
            ts=row.started_at,
            ended_at=row.ended_at,
            kind="bookmark",
            summary=str(row.title) + (f" — {row.note}" if row.note else ""),
            person=str(row.author),
            camera=row.key,
            room=row.room,
        )
        for row in connection.execute(stmt).all()
    )


def _density(
    connection: Connection,
    queries: Sequence[_LaneQuery],
    request: TimelineRequest,
    bucket_s: float,
) -> dict[str, DensityBars]:
    """The rows of each lane of ``queries`` in the window, counted per bucket: event lanes
    from ``event_rollup`` when a rollup span divides the bucket (buckets of 5 minutes and
    more; :func:`_rollup_density`), the rest by counting rows (:func:`_counted_density`)."""
    span = rollup_span(bucket_s)
    rolled = [q for q in queries if span is not None and q.table is Event.__table__]
    counted = [q for q in queries if q not in rolled]
    # No rolled lanes, no statement (an empty OR would sum every lane's rollup rows).
    bars = _rollup_density(connection, rolled, request, bucket_s, span) if span and rolled else {}
    if counted:
        bars.update(_counted_density(connection, counted, request, bucket_s))
    return bars


def rollup_span(bucket_s: float) -> int | None:
    """The widest span of :data:`~engine.store.models.ROLLUP_SPANS_S` that divides a density
    bucket of ``bucket_s`` seconds (None: none does, the rows are counted)."""
    whole = round(bucket_s)
    if abs(bucket_s - whole) > 1e-9:
        return None
    return next((span for span in ROLLUP_SPANS_S if whole >= span and whole % span == 0), None)


def _rollup_rows(query: _LaneQuery) -> ColumnElement[bool]:
    """The ``event_rollup`` rows of an event lane (its cameras, or its sensing source)."""
    if query.name.startswith(SENSING_PREFIX):
        return and_(EventRollup.camera_id == 0, EventRollup.source == query.name)
    return and_(EventRollup.camera_id.in_(query.camera_ids), EventRollup.source == "")


def _units(moment: datetime, span: int) -> tuple[int, int]:
    """The rollup buckets of ``span`` around ``moment``: (the first starting at or after
    it, the last starting at or before it)."""
    since = (moment - _EPOCH) // timedelta(microseconds=1)
    micros = span * 1_000_000
    return -(-since // micros), since // micros


def _piece_counts(
    query: _LaneQuery, low: datetime, high: datetime, spans: Sequence[int]
) -> list[Any]:
    """Scalar subqueries whose sum is the lane's rows in ``[low, high)``: the whole buckets
    of the widest of ``spans`` inside it from the rollup, the ragged ends by the narrower
    spans, and what is left (under the narrowest span at each end) counted from the index."""
    if low >= high:
        return []
    if spans:
        span, finer = spans[0], spans[1:]
        first, _ = _units(low, span)
        _, last = _units(high, span)
        if first < last:
            rolled = (
                select(func.coalesce(func.sum(EventRollup.n), 0))
                .where(
                    _rollup_rows(query),
                    EventRollup.span_s == span,
                    EventRollup.bucket >= first,
                    EventRollup.bucket < last,
                )
                .scalar_subquery()
            )
            unit = timedelta(seconds=span)
            return [
                rolled,
                *_piece_counts(query, low, _EPOCH + first * unit, finer),
                *_piece_counts(query, _EPOCH + last * unit, high, finer),
            ]
        return _piece_counts(query, low, high, finer)
    return [
        select(func.count())
        .select_from(query.table)
        .where(*query.conditions, query.time_column >= low, query.time_column < high)
        .scalar_subquery()
    ]


def _rollup_density(
    connection: Connection,
    queries: Sequence[_LaneQuery],
    request: TimelineRequest,
    bucket_s: float,
    span: int,
) -> dict[str, DensityBars]:
    """Event lanes' counts per bucket (a whole number of rollup buckets of ``span``) in two
    statements whatever the window: the sums of ``event_rollup``'s ``span`` rows wholly
    inside the window, grouped into the lane's buckets in SQL; and, in one statement, each
    lane's rows in the two ragged ends of the window (each shorter than ``span``, so inside
    one bar), from the narrower spans' rows and, under 5 minutes, the lane's index. A month
    of 1,000,000 events over 8 cameras reads about 6,000 hourly rows instead of a million
    index entries."""
    origin = bucket_origin(request.start, bucket_s)
    buckets = max(1, math.ceil((request.end - origin) / timedelta(seconds=bucket_s)))
    first, _ = _units(request.start, span)
    _, last = _units(request.end, span)
    if first >= last:  # no whole rollup bucket in the window (not at 466 bars or fewer)
        return _counted_density(connection, queries, request, bucket_s)
    per_bar = round(bucket_s) // span
    origin_unit, _ = _units(origin, span)
    counts = [[0] * buckets for _ in queries]
    lane_of: dict[tuple[int, str], int] = {}
    for index, query in enumerate(queries):
        if query.name.startswith(SENSING_PREFIX):
            lane_of[(0, query.name)] = index
        else:
            lane_of.update(((camera_id, ""), index) for camera_id in query.camera_ids)
    bar = ((EventRollup.bucket - origin_unit) // per_bar).label("bar")
    stmt = (
        select(EventRollup.camera_id, EventRollup.source, bar, func.sum(EventRollup.n))
        .where(
            or_(*(_rollup_rows(query) for query in queries)),
            EventRollup.span_s == span,
            EventRollup.bucket >= first,
            EventRollup.bucket < last,
        )
        .group_by(EventRollup.camera_id, EventRollup.source, bar)
    )
    for camera_id, source, index, found in connection.execute(stmt).all():
        lane = lane_of.get((int(camera_id), str(source)))
        if lane is not None and 0 <= int(index) < buckets:
            counts[lane][int(index)] += int(found or 0)
    # The ragged ends: [start, first) lies in bar 0, [last, end) in the bar holding `last`.
    unit = timedelta(seconds=span)
    finer = ROLLUP_SPANS_S[ROLLUP_SPANS_S.index(span) + 1 :]
    high_bar = min(buckets - 1, (last - origin_unit) // per_bar)
    ends: list[Any] = []
    where: list[tuple[int, int]] = []  # (lane, bar) of each end count
    for index, query in enumerate(queries):
        low_piece = _piece_counts(query, request.start, _EPOCH + first * unit, finer)
        high_piece = _piece_counts(query, _EPOCH + last * unit, request.end, finer)
        ends.extend(low_piece)
        where.extend((index, 0) for _ in low_piece)
        ends.extend(high_piece)
        where.extend((index, high_bar) for _ in high_piece)
    if ends:
        row = connection.execute(select(*ends)).one()
        for (lane, index), found in zip(where, row, strict=True):
            counts[lane][index] += int(found or 0)
    return {
        query.name: DensityBars(origin, bucket_s, tuple(lane_counts))
        for query, lane_counts in zip(queries, counts, strict=True)
    }


def _counted_density(
    connection: Connection,
    queries: Sequence[_LaneQuery],
    request: TimelineRequest,
    bucket_s: float,
) -> dict[str, DensityBars]:
    """The rows of each lane of ``queries`` in the window, counted per bucket, in one
    statement: the buckets are numbered by a recursive CTE, and each lane's count in a
    bucket is a correlated ``count(*)`` over a range of the lane's index (the bucket's
    bounds are computed in SQL from the origin, whole milliseconds, by
    :class:`~engine.history.events.shifted_time`). A bookmark counts in the bucket of its
    start."""
    if not queries:
        return {}
    origin = bucket_origin(request.start, bucket_s)
    buckets = max(1, math.ceil((request.end - origin) / timedelta(seconds=bucket_s)))
    seed = select(literal(0, Integer).label("i")).cte("b", recursive=True)
    numbers = seed.union_all(select((seed.c.i + 1).label("i")).where(seed.c.i < buckets - 1))
    at_origin = literal(origin, UTCDateTime())
    # The first and last buckets are cut to the window (one range per bucket: a second
    # pair of bounds could make the database walk the window for every bucket).
    low = case(
        (numbers.c.i == 0, literal(request.start, UTCDateTime())),
        else_=shifted_time(at_origin, numbers.c.i * literal(bucket_s)),
    )
    high = case(
        (numbers.c.i == buckets - 1, literal(request.end, UTCDateTime())),
        else_=shifted_time(at_origin, (numbers.c.i + 1) * literal(bucket_s)),
    )
    columns = []
    for index, query in enumerate(queries):
        time_column = query.time_column
        columns.append(
            select(func.count())
            .select_from(query.table)
            .where(
                *query.conditions,
                time_column >= low,
                time_column < high,
            )
            .correlate(numbers)
            .scalar_subquery()
            .label(f"lane_{index}")
        )
    counts = [[0] * buckets for _ in queries]
    for row in connection.execute(select(numbers.c.i, *columns)).all():
        bucket = int(row[0])
        if 0 <= bucket < buckets:
            for lane, found in enumerate(row[1:]):
                counts[lane][bucket] = int(found or 0)
    return {
        query.name: DensityBars(origin, bucket_s, tuple(lane_counts))
        for query, lane_counts in zip(queries, counts, strict=True)
    }


# -- coverage -----------------------------------------------------------------------------


def clip_coverage(
    spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime, width_px: int
) -> Coverage:
    """Clip spans (``(started_at, ended_at)``, UTC, any order) merged into the intervals a
    pane ``width_px`` wide showing ``start``–``end`` can draw: cut to the window, and
    joined where the gap between them is under one pixel's worth of time (back-to-back
    clips leave gaps of milliseconds; a gap nobody can see is no gap), so an interval and
    the gap after it take at least a pixel: never more intervals than pixels."""
    pixel = (end - start) / max(width_px, 1)
    merged: list[list[datetime]] = []
    for low, high in sorted(spans):
        low, high = max(low, start), min(high, end)
        if high <= low:
            continue
        if merged and low - merged[-1][1] < pixel:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


class Footage(StrEnum):
    """Which footage a coverage bar shows: all of it, that with motion, that with people."""

    RECORDED = "recorded"
    MOTION = "motion"
    PEOPLE = "people"


def _clip_rows(query: _LaneQuery) -> ColumnElement[bool]:
    """The footage of a camera lane's cameras: event clips and continuous-recording
    segments."""
    ids = list(query.camera_ids)
    camera = Media.camera_id == ids[0] if len(ids) == 1 else Media.camera_id.in_(ids)
    return and_(camera, Media.kind.in_(FOOTAGE_KINDS))


def _footage_holds(footage: Footage, kind: str, motion: float | None, people: int | None) -> bool:
    """Whether a footage row counts for ``footage``: any row; a segment with motion; a
    segment with people, or an event clip (clips are recorded while people are in view)."""
    if footage is Footage.MOTION:
        return kind == SEGMENT_KIND and (motion or 0) > 0
    if footage is Footage.PEOPLE:
        return kind == "clip" or (people or 0) > 0
    return True


def _footage_condition(footage: Footage) -> ColumnElement[bool]:
    """:func:`_footage_holds` as SQL on ``media``."""
    if footage is Footage.MOTION:
        return and_(Media.kind == SEGMENT_KIND, Media.motion_share > 0)
    if footage is Footage.PEOPLE:
        return or_(Media.kind == "clip", Media.people_seen > 0)
    return Media.kind.in_(FOOTAGE_KINDS)


Coverages = dict[Footage, dict[str, Coverage]]


def _coverage(
    connection: Connection,
    queries: Sequence[_LaneQuery],
    request: TimelineRequest,
    bucket_s: float,
) -> Coverages:
    """Each camera lane's coverage (:func:`clip_coverage`) of all its footage, of its
    footage with motion and of its footage with people, in at most two statements: one
    reading the footage overlapping the window, at most :func:`marker_cap` + 1 rows per
    lane (a bounded range of ``ix_media_camera_span`` each, no sort, so a month of
    continuous recording costs no more than an hour); and, for lanes with more rows than
    that, one asking per density bucket (``bucket_s`` seconds, about three pixels) whether
    any footage of each kind overlaps it, the covered buckets merged. Either way a lane
    gets at most one interval per pixel."""
    found: Coverages = {footage: {} for footage in Footage}
    if not queries:
        return found
    cap = marker_cap(request.width_px)
    bound = timedelta(seconds=CLIP_SPAN_BOUND_S)
    selects = [
        select(
            literal(index, Integer).label("lane"),
            Media.started_at,
            Media.ended_at,
            Media.kind,
            Media.motion_share,
            Media.people_seen,
        )
        .where(
            _clip_rows(query),
            Media.started_at < request.end,
            Media.started_at >= request.start - bound,
            Media.ended_at > request.start,
        )
        .limit(cap + 1)
        .subquery()
        .select()
        for index, query in enumerate(queries)
    ]
    rows: list[list[Any]] = [[] for _ in queries]
    for row in connection.execute(union_all(*selects)).all():
        rows[int(row.lane)].append(row)
    busy: list[_LaneQuery] = []
    for query, lane_rows in zip(queries, rows, strict=True):
        if len(lane_rows) > cap:
            busy.append(query)
            continue
        for footage in Footage:
            spans = [
                (_utc(r.started_at), _utc(r.ended_at))
                for r in lane_rows
                if _footage_holds(footage, r.kind, r.motion_share, r.people_seen)
            ]
            if spans:
                found[footage][query.name] = clip_coverage(
                    spans, request.start, request.end, request.width_px
                )
    if busy:
        for footage, lanes in _bucket_coverage(connection, busy, request, bucket_s).items():
            found[footage].update(lanes)
    return found


def _bucket_coverage(
    connection: Connection,
    queries: Sequence[_LaneQuery],
    request: TimelineRequest,
    bucket_s: float,
) -> Coverages:
    """Coverage of lanes with much footage: for every bucket of ``bucket_s`` seconds (epoch
    aligned, as the density bars) whether footage of the lane (of each :class:`Footage`)
    overlaps it, one ``EXISTS`` over a bounded range of ``ix_media_camera_span`` per lane,
    kind and bucket, in one statement; runs of covered buckets become intervals. Each
    bucket's bounds are computed once, as columns of the recursive CTE numbering the
    buckets: computed inside the probe they were recomputed for every index entry compared
    (and a ``VALUES`` list of them cost more to compile than to run)."""
    origin = bucket_origin(request.start, bucket_s)
    buckets = max(1, math.ceil((request.end - origin) / timedelta(seconds=bucket_s)))
    step = timedelta(seconds=bucket_s)
    at_origin = literal(origin, UTCDateTime())
    width = literal(bucket_s)

    def bounds(i: Any) -> tuple[Any, ...]:
        return (
            shifted_time(at_origin, i * width).label("low"),
            shifted_time(at_origin, (i + 1) * width).label("high"),
            shifted_time(at_origin, i * width - CLIP_SPAN_BOUND_S).label("earliest"),
        )

    first = literal(0, Integer)
    seed = select(first.label("i"), *bounds(first)).cte("buckets", recursive=True)
    following = seed.c.i + 1
    grid = seed.union_all(
        select(following.label("i"), *bounds(following)).where(seed.c.i < buckets - 1)
    )
    kinds = list(Footage)
    columns = [
        case(
            (
                select(Media.id)
                .where(
                    _clip_rows(query),
                    _footage_condition(footage),
                    Media.started_at < grid.c.high,
                    Media.started_at >= grid.c.earliest,
                    Media.ended_at > grid.c.low,
                )
                .correlate(grid)
                .exists(),
                1,
            ),
            else_=0,
        ).label(f"lane_{index}_{footage.value}")
        for index, query in enumerate(queries)
        for footage in kinds
    ]
    covered: list[list[tuple[datetime, datetime]]] = [[] for _ in columns]
    for row in connection.execute(select(grid.c.i, *columns)).all():
        at = origin + int(row[0]) * step
        for column, hit in enumerate(row[1:]):
            if hit:
                covered[column].append((at, at + step))
    found: Coverages = {footage: {} for footage in Footage}
    for column, spans in enumerate(covered):
        if spans:
            query, footage = queries[column // len(kinds)], kinds[column % len(kinds)]
            found[footage][query.name] = clip_coverage(
                spans, request.start, request.end, request.width_px
            )
    return found


def _utc(value: Any) -> datetime:
    """A time as the driver returned it (SQLite: text in UTC; PostgreSQL: aware) as an
    aware UTC datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return cast(datetime, value.replace(tzinfo=UTC))
    return cast(datetime, value.astimezone(UTC))


def _json(value: Any) -> dict[str, Any]:
    """An event's detail as the driver returned it (text, or already decoded)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _summary(detail: dict[str, Any]) -> str:
    """One line about an event, as the event list shows it (see ``EventView.summary``)."""
    for key in _SUMMARY_KEYS:
        if detail.get(key):
            return str(detail[key])
    if "track_id" in detail:
        return f"track {detail['track_id']}"
    return ", ".join(f"{k}={v}" for k, v in list(detail.items())[:3])


def _offset(ts: datetime | None, clip_started_at: datetime | None) -> float | None:
    if ts is None or clip_started_at is None:
        return None
    return max(0.0, (ts - clip_started_at).total_seconds())


# -- thumbnails ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class TimelineThumbnail:
    """What camera ``camera`` saw near ``at``: ``image`` (RGB, uint8, height × width × 3,
    :data:`THUMBNAIL_WIDTH_PX` wide unless asked otherwise) taken at ``frame_at`` (UTC),
    from ``source`` (``snapshot``, ``clip`` or ``segment``) file ``path`` (relative to the
    data dir)."""

    camera: str
    at: datetime
    frame_at: datetime
    image: npt.NDArray[np.uint8]
    source: str
    path: str


@dataclass(frozen=True, slots=True)
class TimelineThumbnailRequest:
    """A small picture of what camera ``camera`` (its key) saw at ``at`` (UTC), from the
    media under ``media_root`` (the data dir), ``width_px`` wide. ``run`` returns a
    :class:`TimelineThumbnail`, or None when no snapshot or clip is near that moment."""

    media_root: Path
    camera: str
    at: datetime
    width_px: int = THUMBNAIL_WIDTH_PX

    def run(self, store: Store) -> TimelineThumbnail | None:
        """Find and decode the picture (caller's thread; reads files, decodes with
        OpenCV: a pool thread's work, never the GUI thread's)."""
        return timeline_thumbnail(store, self)


def timeline_thumbnail(store: Store, request: TimelineThumbnailRequest) -> TimelineThumbnail | None:
    """See :class:`TimelineThumbnailRequest`. A snapshot within :data:`SNAPSHOT_EXACT_S`
    of the moment wins (a JPEG is cheap to read); else the covering clip's frame at the
    moment's offset; else the nearest snapshot within :data:`SNAPSHOT_NEAR_S`. A file that
    cannot be read is skipped for the next candidate."""
    snapshots = _nearest_snapshots(store, request.camera, request.at)
    candidates: list[tuple[str, str, datetime, float | None]] = []  # source, path, at, offset
    exact = [s for s in snapshots if abs((s[1] - request.at).total_seconds()) <= SNAPSHOT_EXACT_S]
    candidates.extend(("snapshot", path, at, None) for path, at in exact)
    probe = ClipProbe(0, request.camera, request.at)
    clip = CoveringClipsRequest((probe,)).run(store).get(0)
    if clip is not None and not is_view_path(clip[0]):
        clip_path, clip_offset_s = clip
        candidates.append(("clip", clip_path, request.at, clip_offset_s))
    segment = _covering_segment(store, request.camera, request.at)
    if segment is not None:  # continuous recording (an event clip of it is a view onto it)
        candidates.append(("segment", segment[0], request.at, segment[1]))
    candidates.extend(
        ("snapshot", path, at, None) for path, at in snapshots if (path, at) not in exact
    )
    for source, path, frame_at, offset_s in candidates:
        image = _read_image(request.media_root / path, offset_s, request.width_px)
        if image is not None:
            return TimelineThumbnail(request.camera, request.at, frame_at, image, source, path)
    return None


def _covering_segment(store: Store, camera: str, at: datetime) -> tuple[str, float] | None:
    """The segment of ``camera``'s continuous recording covering ``at``: its path and the
    offset of ``at`` in it (one range on ``ix_media_kind_camera_start``)."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(Media.path, Media.started_at)
            .where(
                Media.kind == SEGMENT_KIND,
                Media.camera_id.in_(select(Camera.id).where(Camera.key == camera)),
                Media.started_at <= at,
                Media.started_at >= at - timedelta(seconds=SEGMENT_SPAN_BOUND_S),
                Media.ended_at >= at,
            )
            .order_by(Media.started_at.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return str(row.path), max(0.0, (at - row.started_at).total_seconds())


def _nearest_snapshots(store: Store, camera: str, at: datetime) -> list[tuple[str, datetime]]:
    """The snapshots of ``camera`` just before and just after ``at`` within
    :data:`SNAPSHOT_NEAR_S`, nearest first (one statement over ``ix_media_created_at``)."""
    near = timedelta(seconds=SNAPSHOT_NEAR_S)
    of_camera = (
        Media.kind == "snapshot",
        Media.camera_id.in_(select(Camera.id).where(Camera.key == camera)),
    )
    before = (
        select(Media.path, Media.created_at)
        .where(*of_camera, Media.created_at <= at, Media.created_at >= at - near)
        .order_by(Media.created_at.desc())
        .limit(1)
    )
    after = (
        select(Media.path, Media.created_at)
        .where(*of_camera, Media.created_at > at, Media.created_at <= at + near)
        .order_by(Media.created_at)
        .limit(1)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(
            union_all(before.subquery().select(), after.subquery().select())
        ).all()
    found = [(str(path), created_at) for path, created_at in rows]
    found.sort(key=lambda item: abs((item[1] - at).total_seconds()))
    return found


def _read_image(path: Path, offset_s: float | None, width_px: int) -> npt.NDArray[np.uint8] | None:
    """The picture at ``path`` (a clip's frame at ``offset_s`` seconds), ``width_px`` wide,
    RGB; None if it cannot be read."""
    from engine.cv import import_cv2

    cv2 = import_cv2()
    if offset_s is None:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    else:
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            if not capture.isOpened():
                return None
            if offset_s > 0:
                capture.set(cv2.CAP_PROP_POS_MSEC, offset_s * 1000.0)
            ok, image = capture.read()
            if not ok:  # past the last frame (the event sits in the clip's slack)
                frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
                capture.set(cv2.CAP_PROP_POS_FRAMES, max(0, frames - 1))
                ok, image = capture.read()
            if not ok:
                return None
        finally:
            capture.release()
    if image is None or image.size == 0:
        return None
    height, width = image.shape[:2]
    size = (width_px, max(1, round(height * width_px / width)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    rgb: npt.NDArray[np.uint8] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    return rgb
