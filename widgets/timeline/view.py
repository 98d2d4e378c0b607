"""The investigator's timeline pane: one horizontal time axis (site time), a lane per camera, per
sensing room, for alerts, incidents and bookmarks; zoom from a month to seconds, drag to pan
and to scrub, markers with hover details, density bars when zoomed out, and a strip of
thumbnails while scrubbing.

The pane reads the store only through a :class:`~widgets.queries.QueryClient`. Every change
of the visible range (zoom, pan, resize, :meth:`TimelinePane.set_range`) asks, once the
changes pause for :data:`FETCH_DELAY_MS`, for a :class:`~engine.history.timeline.TimelineRequest`
of exactly that range and the pane's width on channel ``<channel>.range`` (the engine picks
markers or density bars per lane); "Loading…" shows meanwhile, an error is shown in the pane,
and an answer to anything but the newest request is dropped. While the answer is on its way
the slice already shown is drawn at the new range (times are times), so zooming never blanks
the pane. Thumbnails (``TimelineThumbnailRequest``) are asked for on one superseding channel
per camera while scrubbing, at most every :data:`THUMBNAIL_INTERVAL_MS`.

Drawing is cheap by construction: a slice is turned once into per-lane arrays (times,
colours, counts); the axis, lanes, markers, bars and bookmarks are drawn into a cached pixmap
only when the slice, the range or the size changes; moving the cursor or hovering repaints
that pixmap plus the cursor line, the hover highlight and the thumbnails.

Mouse: the wheel zooms around the pointer; ``+``/``−`` zoom around the cursor (or the
centre); the preset buttons (10 min, 1 h, 8 h, Day, Week; keys 1–5) show that span centred
on the playhead when it is in view, else on the view's centre; dragging the background (left
or middle button) pans; dragging on the axis or the cursor line scrubs
(:attr:`TimelinePane.sig_time_scrubbed`, throttled); Shift+drag (lanes or axis) selects a
range, shown as a band with its start and end in site time, and zooms to it on release
(Escape cancels): VMS clients keep the plain drag for moving through time and the ruler for
the playhead, so selecting is the modified drag; clicking a marker activates it
(:attr:`TimelinePane.sig_event_activated`).

Camera lanes show a thin coverage bar along their bottom: green where the camera's footage
is, event clips and continuous recording (the slice's
:attr:`~engine.history.timeline.TimelineLane.coverage`), dark where none; above it, amber
where that footage had motion and blue where people were in view (``motion``, ``people``).

People's paths across senses (:mod:`widgets.timeline.paths`) are drawn over the lanes they
crossed: with each slice a :class:`~engine.history.paths.PathsRequest` of the same range is
asked for on channel ``<channel>.paths`` (an answer to an older range is dropped as the
slice's is). Hovering a path's bar shows its sentence; clicking one selects the path (its
sentence stays under the lanes, :attr:`TimelinePane.sig_path_selected`) and activates the
stretch (:attr:`TimelinePane.sig_stretch_activated`: the investigation pane replays from
its start, as it does from a clicked marker).

Every method here runs on the GUI thread; the pane never touches the store or starts threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
from PySide6.QtCore import QElapsedTimer, QLineF, QPoint, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.history.paths import PathsRequest, PersonPath, Stretch, path_sentence
from engine.history.query_service import QueryResult
from engine.history.timeline import (
    CAMERA_PREFIX,
    LANE_ALERTS,
    LANE_BOOKMARKS,
    LANE_INCIDENTS,
    Coverage,
    LaneDetail,
    MarkerRecord,
    TimelineLane,
    TimelineMarker,
    TimelineRequest,
    TimelineSlice,
    TimelineThumbnail,
    TimelineThumbnailRequest,
)
from engine.sitetime import SiteTime, display
from engine.text import printable
from engine.wording import describe
from widgets.colours import ALARM_RED as ALARM_RED_HEX
from widgets.queries import QueryClient
from widgets.timeline.paths import (
    PathBar,
    PathsLayout,
    assign_rows,
    band_height,
    lanes_crossed,
    layout_paths,
    paint_path_outline,
    paint_paths,
)

MIN_SPAN: Final = timedelta(seconds=10)
MAX_SPAN: Final = timedelta(days=30)
DEFAULT_SPAN: Final = timedelta(hours=1)
LIVE_MARGIN: Final = 0.04  # following live: this share of the range lies after now
FOLLOW_MS: Final = 2000  # following live: the range moves on this often (while shown)
ZOOM_STEP: Final = 1.25  # one wheel notch or one button press
FETCH_DELAY_MS: Final = 80  # ask once zooming or panning pauses this long
FETCH_MAX_WAIT_MS: Final = 400  # … or this long after the first change of a long drag
SCRUB_EMIT_MS: Final = 40  # at most 25 scrub times a second reach the replay
THUMBNAIL_INTERVAL_MS: Final = 150  # thumbnails asked for at most this often while scrubbing
THUMBNAIL_LINGER_MS: Final = 2000  # the strip stays this long after scrubbing ends
MAX_THUMBNAILS: Final = 6

LABEL_WIDTH: Final = 150  # lane names, left of the time area ("Demo plaza sensing" fits)
AXIS_HEIGHT: Final = 26
LANE_HEIGHT: Final = 30
BANDED_MARKERS_HEIGHT: Final = 22  # a lane's markers above a band of paths: lanes stay short
LANE_GAP: Final = 2
STRIP_HEIGHT: Final = 112  # thumbnails (90 px high) with their captions
THUMBNAIL_HEIGHT: Final = 90
MIN_TICK_SPACING_PX: Final = 90
CURSOR_GRAB_PX: Final = 5
MARKER_HIT_PX: Final = 4
DRAG_THRESHOLD_PX: Final = 4
COVERAGE_HEIGHT: Final = 4  # the recorded-footage bar along a camera lane's bottom
ACTIVITY_HEIGHT: Final = 3  # above it: where that footage had motion (amber) or people (blue)
# The bars and a pixel between them and the markers.
COVERAGE_STRIP: Final = COVERAGE_HEIGHT + ACTIVITY_HEIGHT + 1

# The spans a preset button shows (its words, its span; keys 1–5 in this order).
ZOOM_PRESETS: Final = (
    ("10 min", timedelta(minutes=10)),
    ("1 h", timedelta(hours=1)),
    ("8 h", timedelta(hours=8)),
    ("Day", timedelta(days=1)),
    ("Week", timedelta(days=7)),
)

LOADING_TEXT: Final = "Loading…"
ERROR_PREFIX: Final = "Could not load the timeline: "
PATHS_ERROR_PREFIX: Final = "Could not load people's paths: "
MAX_PATHS_SHOWN: Final = (
    200  # the newest paths of the range; a month holds more than a lane can show
)

BACKGROUND: Final = QColor("#0d1117")
LANE_BACKGROUND: Final = QColor("#161b22")
GRID: Final = QColor("#30363d")
TEXT: Final = QColor("#c9d1d9")
DIM_TEXT: Final = QColor("#8b949e")
ALARM_RED: Final = QColor(ALARM_RED_HEX)
WARNING_AMBER: Final = QColor("#d29922")
INFO_BLUE: Final = QColor("#58a6ff")
PERSON_GREEN: Final = QColor("#3fb950")
FACE_TEAL: Final = QColor("#39c5cf")
SENSING_CYAN: Final = QColor("#79c0ff")
INCIDENT_PURPLE: Final = QColor("#a371f7")
DEFAULT_GREY: Final = QColor("#8b949e")
DENSITY_BLUE: Final = QColor("#1f6feb")
BOOKMARK_FILL: Final = QColor(227, 179, 65, 70)
BOOKMARK_EDGE: Final = QColor("#e3b341")
CURSOR_COLOUR: Final = QColor("#ff7b72")
HOVER_COLOUR: Final = QColor("#ffffff")
RECORDED_GREEN: Final = QColor("#2ea043")
UNRECORDED: Final = QColor("#30363d")
SELECTION_FILL: Final = QColor(88, 166, 255, 60)
SELECTION_EDGE: Final = QColor("#58a6ff")

# Tick steps in seconds; the first leaving MIN_TICK_SPACING_PX between ticks is used.
TICK_STEPS_S: Final = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LANE_NOUNS: Final = {LANE_ALERTS: "alert", LANE_INCIDENTS: "incident", LANE_BOOKMARKS: "bookmark"}


def to_seconds(at: datetime) -> float:
    """``at`` as seconds since the epoch (UTC)."""
    return (at - _EPOCH).total_seconds()


def from_seconds(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def axis_ticks(
    start: datetime, end: datetime, width_px: int, site: SiteTime | None = None
) -> list[tuple[datetime, str]]:
    """Tick times (UTC) and labels (site time, default :func:`display`) for an axis
    ``width_px`` wide showing ``start``–``end``: round steps (a second … a week) of the
    site's wall clock at least :data:`MIN_TICK_SPACING_PX` apart, labelled with the seconds
    when the step is under a minute, the date when it is a day or more, and the date at
    midnight otherwise. Round on the wall clock, not in UTC, so an hour tick is on the hour
    in a zone half an hour off UTC and a day tick at the site's midnight; a wall time the
    clocks skip or repeat gets one tick."""
    site = site or display()
    span_s = max((end - start).total_seconds(), 1e-6)
    wanted = span_s * MIN_TICK_SPACING_PX / max(width_px, 1)
    step = next((s for s in TICK_STEPS_S if s >= wanted), TICK_STEPS_S[-1])
    # Weeks start on Monday (1970-01-01 was a Thursday). Wall times are counted as seconds
    # of a naive epoch, so steps are round on the site's clock.
    offset = 4 * 86400 if step == 7 * 86400 else 0
    wall_start = to_seconds(site.local(start).replace(tzinfo=UTC))
    wall_end = to_seconds(site.local(end).replace(tzinfo=UTC))
    ticks: list[tuple[datetime, str]] = []
    wall_s = math.ceil((wall_start - offset) / step) * step + offset
    while wall_s <= wall_end + 3600:  # an hour more: the end may be in a repeated hour
        wall = from_seconds(wall_s).replace(tzinfo=None)
        at = site.to_utc(wall)
        wall_s += step
        if at < start or at > end or (ticks and at <= ticks[-1][0]):
            continue
        if step < 60:
            label = f"{wall:%H:%M:%S}"
        elif step >= 86400 or (wall.hour == 0 and wall.minute == 0):
            label = f"{wall:%b %d}"
        else:
            label = f"{wall:%H:%M}"
        ticks.append((at, label))
    return ticks


def thumbnail_caption(camera: str, frame_at: datetime) -> str:
    """``plaza 14:02:05``: the camera and the site time of the frame under a thumbnail."""
    return f"{camera} {display().clock(frame_at)}"


def marker_colour(marker: TimelineMarker) -> QColor:
    """Falls and critical alerts in alarm red, warnings amber, incidents purple; events by
    what they are about (people green, faces teal, sensing cyan, camera trouble amber)."""
    kind = marker.kind
    if "fall" in kind:
        return ALARM_RED
    if marker.record is MarkerRecord.ALERT:
        return {"critical": ALARM_RED, "warning": WARNING_AMBER}.get(
            marker.severity or "", INFO_BLUE
        )
    if marker.record is MarkerRecord.INCIDENT:
        return INCIDENT_PURPLE
    if marker.record is MarkerRecord.BOOKMARK:
        return BOOKMARK_EDGE
    if kind.startswith("person."):
        return PERSON_GREEN
    if kind.startswith("face."):
        return FACE_TEAL
    if kind.startswith("sensing."):
        return SENSING_CYAN
    if kind.endswith((".offline", ".error", ".lost")) or "degraded" in kind:
        return WARNING_AMBER
    return DEFAULT_GREY


def marker_tooltip(marker: TimelineMarker, names: Mapping[str, str] | None = None) -> str:
    """What hovering a marker shows: time (site time), what happened in words, where (by
    name: ``names`` maps camera keys and room ids to names) and whether a clip covers it."""
    names = names or {}
    site = display()
    lines = [site.full(marker.ts)]
    if marker.ended_at is not None:
        lines[0] += f" – {site.clock(marker.ended_at)}"
    where_key = marker.camera or marker.room
    where = printable(names.get(where_key, where_key)) if where_key else ""
    if marker.record is MarkerRecord.EVENT:
        source = (
            f"camera:{marker.camera}"
            if marker.camera
            else f"sensing:{marker.room}"
            if marker.room
            else ""
        )
        words = describe(marker.kind, source, marker.detail, names=names, person=marker.person)
        lines += [words.title, words.summary]
    else:
        what = {
            MarkerRecord.ALERT: f"{(marker.severity or 'info').capitalize()} alert",
            MarkerRecord.INCIDENT: f"Incident: {marker.kind.replace('_', ' ')}",
            MarkerRecord.BOOKMARK: "Bookmark",
        }[marker.record]
        lines.append(what)
        if marker.summary:
            lines.append(printable(marker.summary))
        if marker.person:
            lines.append(f"Person: {printable(marker.person)}")
        if where:
            lines.append(f"Where: {where}")
    if marker.clip_path:
        lines.append("Click to play its clip")
    return "\n".join(lines)


# How a path's person was named (PersonPath.named_by), as a tooltip says it.
NAMED_BY: Final = {
    "face": "Named by their face",
    "introduced": "Named when they introduced themselves",
    "ble": "Named by the device they carry",
}


def path_tooltip(path: PersonPath, stretch: Stretch) -> str:
    """What hovering a path's bar shows: the path's sentence (times in site time), the
    stretch under the pointer with its times to the second, and what a click does."""
    site = display()
    where = {"camera": "Seen by", "sensing": "Sensed in"}.get(stretch.sense, "Device")
    lines = [path_sentence(path)]
    if path.named and path.named_by in NAMED_BY:
        lines.append(NAMED_BY[path.named_by])
    lines += [
        f"{where} {printable(stretch.label)} {site.clock(stretch.start)} – "
        f"{site.clock(stretch.end)}",
        f"Click to replay from {site.clock(stretch.start)}",
    ]
    return "\n".join(lines)


@dataclass(slots=True)
class _LaneGeometry:
    """One lane of the shown slice, ready to draw: marker times (seconds since the epoch)
    and colour indices, or bucket counts."""

    lane: TimelineLane
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0))
    colours: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    origin_s: float = 0.0
    bucket_s: float = 1.0
    recorded_starts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    recorded_ends: np.ndarray = field(default_factory=lambda: np.zeros(0))
    motion_starts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    motion_ends: np.ndarray = field(default_factory=lambda: np.zeros(0))
    people_starts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    people_ends: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def has_coverage_bar(self) -> bool:
        return self.lane.name.startswith(CAMERA_PREFIX)


def _intervals(coverage: Coverage) -> tuple[np.ndarray, np.ndarray]:
    """A coverage's starts and ends in seconds since the epoch."""
    starts = np.fromiter((to_seconds(low) for low, _high in coverage), np.float64, len(coverage))
    ends = np.fromiter((to_seconds(high) for _low, high in coverage), np.float64, len(coverage))
    return starts, ends


def _lane_geometry(lane: TimelineLane, palette: list[QColor]) -> _LaneGeometry:
    geometry = _LaneGeometry(lane)
    if lane.coverage:
        geometry.recorded_starts, geometry.recorded_ends = _intervals(lane.coverage)
    if lane.motion:
        geometry.motion_starts, geometry.motion_ends = _intervals(lane.motion)
    if lane.people:
        geometry.people_starts, geometry.people_ends = _intervals(lane.people)
    if lane.detail is LaneDetail.DENSITY and lane.density is not None:
        geometry.counts = np.asarray(lane.density.counts, dtype=np.float64)
        geometry.origin_s = to_seconds(lane.density.origin)
        geometry.bucket_s = lane.density.bucket_s
        return geometry
    markers = lane.markers
    geometry.starts = np.fromiter((to_seconds(m.ts) for m in markers), np.float64, len(markers))
    geometry.ends = np.fromiter(
        (to_seconds(m.ended_at) if m.ended_at else to_seconds(m.ts) for m in markers),
        np.float64,
        len(markers),
    )
    indices = []
    for marker in markers:
        colour = marker_colour(marker)
        if colour not in palette:
            palette.append(colour)
        indices.append(palette.index(colour))
    geometry.colours = np.asarray(indices, dtype=np.int32)
    return geometry


class TimelineCanvas(QWidget):
    """The painted part of :class:`TimelinePane` (axis, lanes, cursor, thumbnails). It
    keeps no state of its own: the pane owns the range, slice and cursor."""

    def __init__(self, pane: TimelinePane) -> None:
        super().__init__(pane)
        self._pane = pane
        self.setMouseTracking(True)
        self.setMinimumHeight(AXIS_HEIGHT + 3 * LANE_HEIGHT)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def sizeHint(self) -> QSize:
        return QSize(900, AXIS_HEIGHT + 8 * (LANE_HEIGHT + LANE_GAP) + STRIP_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._pane._paint(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pane._on_mouse_pressed(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._pane._on_mouse_moved(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._pane._on_mouse_released(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._pane._on_wheel_turned(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._pane._on_key_pressed(event):
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._pane._on_canvas_resized()

    def leaveEvent(self, event: Any) -> None:
        self._pane._on_pointer_left()


class TimelinePane(QWidget):
    """A zoomable timeline of everything recorded, lane by lane, read through ``client``.

    ``media_root`` (the data dir) enables the thumbnail strip while scrubbing (None: no
    thumbnails). ``lanes`` names the lanes to show (None: every lane the site has).
    ``channel`` prefixes the query channels (``<channel>.range``,
    ``<channel>.thumbnail.<camera>``). ``initial_range`` is the first visible range (None:
    the last :data:`DEFAULT_SPAN` up to now).
    """

    sig_time_scrubbed = Signal(object)
    """The operator scrubbed to a time (GUI thread): a ``datetime`` (UTC). At most every
    :data:`SCRUB_EMIT_MS` while dragging; the time where the drag ended always follows."""

    sig_event_activated = Signal(object)
    """A marker was clicked (GUI thread): its :class:`~engine.history.timeline.TimelineMarker`
    (record and id, ``event_id``, ``clip_path`` relative to the data dir, ``clip_offset_s``)."""

    sig_range_changed = Signal(object, object)
    """The visible range changed (GUI thread): start and end ``datetime`` (UTC)."""

    sig_slice_loaded = Signal(object)
    """A slice for the visible range was shown (GUI thread): the
    :class:`~engine.history.timeline.TimelineSlice`."""

    sig_paths_loaded = Signal(object)
    """People's paths across senses for the visible range are shown (GUI thread): the
    list of :class:`~engine.history.paths.PersonPath`, newest first."""

    sig_path_selected = Signal(object)
    """A path was selected by a click or :meth:`TimelinePane.select_path` (GUI thread):
    its :class:`~engine.history.paths.PersonPath`, None when the selection is cleared."""

    sig_stretch_activated = Signal(object, object)
    """A path's bar was clicked (GUI thread): the
    :class:`~engine.history.paths.PersonPath` and the
    :class:`~engine.history.paths.Stretch` clicked."""

    def __init__(
        self,
        client: QueryClient,
        media_root: Path | None = None,
        parent: QWidget | None = None,
        *,
        lanes: Sequence[str] | None = None,
        channel: str = "timeline",
        initial_range: tuple[datetime, datetime] | None = None,
        names: Mapping[str, str] | None = None,
        site_time: SiteTime | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._now = now or (lambda: datetime.now(UTC))  # the engine clock's, in the console
        # Following live (the pane opens so, unless given a range): the range ends at now
        # and moves on with it, until the person moves back in time.
        self.following_live = initial_range is None
        self._site_time = site_time  # None: the console's (display()), read when asking
        self._names = dict(names or {})  # camera keys and room ids to their names
        self._media_root = None if media_root is None else Path(media_root)
        self._lanes = None if lanes is None else tuple(lanes)
        self._channel = channel
        if initial_range is None:
            initial_range = self._live_range(DEFAULT_SPAN.total_seconds())
        self._start_s, self._end_s = self._clamped(
            to_seconds(initial_range[0]), to_seconds(initial_range[1])
        )
        self._slice: TimelineSlice | None = None
        self._geometry: list[_LaneGeometry] = []
        self._palette: list[QColor] = []
        self._requested: TimelineRequest | None = None  # newest request submitted, pending
        self._error: str | None = None
        self._cursor_s: float | None = None
        self._static: QPixmap | None = None  # axis, lanes, markers, bars: redrawn on change
        self._hover: tuple[int, int] | None = None  # (lane row, marker index)
        self._hover_text = ""
        self._drag_mode: str | None = None  # "pan", "scrub", "press", "select"
        self._selection_s: tuple[float, float] | None = None  # Shift+drag: (from, to)
        self._press_pos = QPointF()
        self._press_start_s = 0.0
        self._pressed_marker: TimelineMarker | None = None
        self._last_width = 0
        self._scrub_clock = QElapsedTimer()
        self._last_scrub_emitted: float | None = None
        self._scrub_pending: float | None = None
        self._thumbnails: dict[str, TimelineThumbnail] = {}
        self._thumbnail_clock = QElapsedTimer()
        self._strip_visible = False
        self._paths: list[PersonPath] = []
        self._paths_requested: PathsRequest | None = None  # newest asked for, pending
        self._paths_error: str | None = None
        self._paths_layout: PathsLayout | None = None  # with the static picture
        self._hover_path: int | None = None  # index in _paths
        self._selected_path: int | None = None  # event id of the selected path
        self._shown_path: int | None = None  # … once it is among the paths shown
        self._pressed_bar: PathBar | None = None
        self._path_rows: list[int] = []  # each path's row in the bands
        self._band = 0.0  # the band's height under each lane a path crosses
        self._banded: set[str] = set()  # those lanes
        self._lane_tops: list[float] = []  # each shown lane's top, in order
        self.dropped = 0
        """Slices that arrived for a request that was no longer the newest."""

        self.zoom_out_button = QPushButton("−", self)
        self.zoom_out_button.setAccessibleName("Zoom out")
        self.zoom_out_button.setToolTip("Zoom out (show a longer time)")
        self.zoom_in_button = QPushButton("+", self)
        self.zoom_in_button.setAccessibleName("Zoom in")
        self.zoom_in_button.setToolTip("Zoom in (show a shorter time)")
        for button in (self.zoom_out_button, self.zoom_in_button):
            button.setFixedWidth(32)
        self.preset_buttons: dict[str, QPushButton] = {}
        for number, (words, span) in enumerate(ZOOM_PRESETS, start=1):
            button = QPushButton(words, self)
            button.setToolTip(
                f"Show {_span_words(span)} around the playhead or the centre ({number})"
            )
            button.setAccessibleName(f"Show {_span_words(span)}")
            button.clicked.connect(lambda _=False, chosen=span: self.show_span(chosen))
            shortcut = QShortcut(QKeySequence(str(number)), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda chosen=span: self.show_span(chosen))
            self.preset_buttons[words] = button
        self.live_button = QPushButton("Live", self)
        self.live_button.setCheckable(True)
        self.live_button.setChecked(self.following_live)
        self.live_button.setAccessibleName("Follow live")
        self.live_button.setToolTip(
            "Follow live: the timeline ends at now and moves on with it (moving back in "
            "time stops following)"
        )
        self.live_button.clicked.connect(lambda _=False: self.follow_live())
        self.range_label = QLabel(self)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        # Wide enough for "120 items in 9 lanes, 3 paths" on two lines, never a tower.
        self.status_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("120 items in 9 l"))
        self.canvas = TimelineCanvas(self)

        bar = QHBoxLayout()
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_in_button)
        for button in self.preset_buttons.values():
            bar.addWidget(button)
        bar.addWidget(self.live_button)
        bar.addWidget(self.range_label)
        bar.addStretch(1)
        bar.addWidget(self.status_label, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        # Many lanes scroll vertically rather than make the window taller than the screen.
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self.canvas)
        self.scroll_area.setMinimumHeight(AXIS_HEIGHT + 2 * LANE_HEIGHT)
        layout.addWidget(self.scroll_area, 1)
        # The selected path's sentence, under the lanes while it is selected.
        self.path_label = QLabel(self)
        self.path_label.setWordWrap(True)
        self.path_label.setTextFormat(Qt.TextFormat.PlainText)
        self.path_label.setAccessibleName("Selected path")
        self.path_label.setVisible(False)
        layout.addWidget(self.path_label)

        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(FETCH_DELAY_MS)
        self._fetch_timer.timeout.connect(self._on_fetch_timer_elapsed)
        self._fetch_waiting = QElapsedTimer()
        self._scrub_timer = QTimer(self)
        self._scrub_timer.setSingleShot(True)
        self._scrub_timer.timeout.connect(self._on_scrub_timer_elapsed)
        self._thumbnail_timer = QTimer(self)
        self._thumbnail_timer.setSingleShot(True)
        self._thumbnail_timer.timeout.connect(self._request_thumbnails)
        self._strip_timer = QTimer(self)
        self._strip_timer.setSingleShot(True)
        self._strip_timer.setInterval(THUMBNAIL_LINGER_MS)
        self._strip_timer.timeout.connect(self._on_strip_timer_elapsed)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._follow_step)
        if self.following_live:
            self._follow_timer.start()
        self._scrub_clock.start()
        self._thumbnail_clock.start()
        self._schedule_fetch()

    # -- public API ---------------------------------------------------------------------------

    def visible_range(self) -> tuple[datetime, datetime]:
        """The range shown, start and end (UTC)."""
        return from_seconds(self._start_s), from_seconds(self._end_s)

    def set_range(self, start: datetime, end: datetime) -> None:
        """Show ``start``–``end`` (UTC; kept between :data:`MIN_SPAN` and :data:`MAX_SPAN`
        around its centre) and ask for its slice once changes pause; stops following live."""
        self.stop_following()
        self._set_range_s(to_seconds(start), to_seconds(end))

    # -- following live ------------------------------------------------------------------------
    def follow_live(self) -> None:
        """End the range at now (keeping its length) and move on with it every
        :data:`FOLLOW_MS` while the pane is shown (the Live button)."""
        self.following_live = True
        self.live_button.setChecked(True)
        self._follow_timer.start()
        self._follow_step()

    def stop_following(self) -> None:
        """The person moved back in time (panned, scrubbed, chose a moment): the range
        stays where they put it."""
        self.following_live = False
        self.live_button.setChecked(False)
        self._follow_timer.stop()

    def _live_range(self, span_s: float) -> tuple[datetime, datetime]:
        end = self._now() + timedelta(seconds=span_s * LIVE_MARGIN)
        return end - timedelta(seconds=span_s), end

    def _follow_step(self) -> None:
        if not self.following_live or not self.isVisible():
            return
        start, end = self._live_range(self._end_s - self._start_s)
        self._set_range_s(to_seconds(start), to_seconds(end), live=True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._follow_step()  # opened (or brought forward) on now when following

    def set_lanes(self, lanes: Sequence[str] | None) -> None:
        """Show these lanes (None: every lane the site has) and reload."""
        self._lanes = None if lanes is None else tuple(lanes)
        self._schedule_fetch()

    def set_names(self, names: Mapping[str, str]) -> None:
        """Name cameras and rooms by ``names`` from now on (the site's cameras changed while
        the console runs; one not in it, such as a removed camera, keeps its last name),
        and read the visible range again: an added camera's lane comes with it."""
        self._names.update(names)
        self._static = None
        self._update_labels()
        self.canvas.update()
        self.refresh()

    def refresh(self) -> None:
        """Ask again for the visible range (after new events, alerts or bookmarks). Calls
        closer together than :data:`FETCH_DELAY_MS` make one request."""
        self._schedule_fetch(restart=False)

    def set_cursor(self, at: datetime | None) -> None:
        """Put the cursor (the replay time) at ``at`` (None: hide it). Repaints only the
        overlay; emits nothing."""
        self._cursor_s = None if at is None else to_seconds(at)
        self.canvas.update()

    def cursor_time(self) -> datetime | None:
        """Where the cursor is (UTC), None when hidden."""
        return None if self._cursor_s is None else from_seconds(self._cursor_s)

    def zoom_in(self) -> None:
        """Show a :data:`ZOOM_STEP` times shorter range around the cursor (or the centre)."""
        self._zoom(1 / ZOOM_STEP, self._zoom_anchor())

    def zoom_out(self) -> None:
        self._zoom(ZOOM_STEP, self._zoom_anchor())

    def show_span(self, span: timedelta) -> None:
        """Show ``span`` (kept between :data:`MIN_SPAN` and :data:`MAX_SPAN`) centred on the
        playhead when it is in view, else on the view's centre: the preset buttons."""
        if self.following_live:  # the span, still ending at now
            start, end = self._live_range(span.total_seconds())
            self._set_range_s(to_seconds(start), to_seconds(end), live=True)
            return
        half = span.total_seconds() / 2
        anchor = self._zoom_anchor()
        self._set_range_s(anchor - half, anchor + half)

    def selection(self) -> tuple[datetime, datetime] | None:
        """The range being selected by a Shift+drag, earliest first (UTC); None if none."""
        if self._selection_s is None:
            return None
        low, high = sorted(self._selection_s)
        return from_seconds(low), from_seconds(high)

    def selection_text(self) -> str:
        """What the band of a Shift+drag says: its start and end in site time and how long
        it is ("" when nothing is being selected)."""
        chosen = self.selection()
        if chosen is None:
            return ""
        low, high = chosen
        site = display()
        span = high - low
        start = site.clock(low) if span < timedelta(days=1) else site.full(low)
        end = site.clock(high) if site.day_of(low) == site.day_of(high) else site.full(high)
        return f"{start} – {end} ({_span_text(span)})"

    def cancel_selection(self) -> None:
        """Drop a Shift+drag selection without zooming (Escape)."""
        if self._drag_mode == "select":
            self._drag_mode = None
        if self._selection_s is not None:
            self._selection_s = None
            self.canvas.update()

    def zoom_at(self, factor: float, at: datetime) -> None:
        """Scale the range by ``factor`` (< 1 zooms in) keeping ``at`` where it is."""
        self._zoom(factor, to_seconds(at))

    def current_slice(self) -> TimelineSlice | None:
        return self._slice

    def is_loading(self) -> bool:
        """Whether a slice (or the paths) for the visible range is still to come."""
        return (
            self._requested is not None
            or self._paths_requested is not None
            or self._fetch_timer.isActive()
        )

    def status_text(self) -> str:
        return self.status_label.text()

    def error_text(self) -> str | None:
        return self._error

    def hover_text(self) -> str:
        """What the tooltip under the pointer says ("" if nothing)."""
        return self._hover_text

    def thumbnails(self) -> dict[str, TimelineThumbnail]:
        """The thumbnails in the strip, by camera key."""
        return dict(self._thumbnails)

    def time_at(self, x: float) -> datetime:
        """The time at canvas x coordinate ``x``."""
        return from_seconds(self._time_at_x(x))

    def x_of(self, at: datetime) -> float:
        """The canvas x coordinate of time ``at``."""
        return self._x_of_s(to_seconds(at))

    def lane_rect(self, name: str) -> QRectF | None:
        """Where lane ``name`` is drawn on the canvas, its band of paths included (None if
        it is not shown)."""
        for row, geometry in enumerate(self._geometry):
            if geometry.lane.name == name:
                return self._lane_rect(row)
        return None

    def marker_position(self, marker: TimelineMarker) -> QPointF | None:
        """The canvas point of a shown marker (its moment, the middle of its lane)."""
        for row, geometry in enumerate(self._geometry):
            if geometry.lane.name == marker.lane:
                return QPointF(self.x_of(marker.ts), self._marker_rect(row).center().y())
        return None

    def paths(self) -> list[PersonPath]:
        """People's paths across senses shown for the visible range, newest first."""
        return list(self._paths)

    def paths_error(self) -> str | None:
        """Why the paths could not be read (None: they were, or are being)."""
        return self._paths_error

    def path_bars(self, event_id: int) -> list[tuple[Stretch, QRectF]]:
        """Where path ``event_id``'s stretches are drawn on the canvas, in time order:
        each stretch on a shown lane and its bar (a device stretch has none)."""
        index = self._path_index(event_id)
        if index is None:
            return []
        path = self._paths[index]
        return [
            (path.stretches[bar.stretch], QRectF(bar.rect))
            for bar in self._layout_of_paths().bars_of(index)
        ]

    def device_badges(self, event_id: int) -> list[str]:
        """The device labels drawn under path ``event_id``."""
        index = self._path_index(event_id)
        return [m.label for m in self._layout_of_paths().devices if m.path == index]

    def select_path(self, event_id: int | None) -> None:
        """Select the path filed as event ``event_id`` (None: none): it is outlined and
        its sentence shown under the lanes, now or once the visible range's paths arrive
        with it. Emits :attr:`sig_path_selected` when it is shown."""
        self._selected_path = event_id
        self._show_selected_path()

    def selected_path(self) -> PersonPath | None:
        """The selected path when it is among those shown."""
        index = None if self._selected_path is None else self._path_index(self._selected_path)
        return None if index is None else self._paths[index]

    def selected_path_text(self) -> str:
        """What the line under the lanes says of the selected path ("" when none)."""
        return self.path_label.text() if self.path_label.isVisibleTo(self) else ""

    # -- geometry ------------------------------------------------------------------------------

    def _plot_width(self) -> int:
        return max(1, self.canvas.width() - LABEL_WIDTH)

    def _x_of_s(self, seconds: float) -> float:
        span = self._end_s - self._start_s
        return LABEL_WIDTH + (seconds - self._start_s) / span * self._plot_width()

    def _time_at_x(self, x: float) -> float:
        span = self._end_s - self._start_s
        return self._start_s + (x - LABEL_WIDTH) / self._plot_width() * span

    def _lane_height(self, row: int) -> float:
        """Lane ``row``'s height: its markers, and the paths' band when a path crosses it."""
        if self._geometry[row].lane.name in self._banded:
            return BANDED_MARKERS_HEIGHT + self._band
        return LANE_HEIGHT

    def _lane_rect(self, row: int) -> QRectF:
        """The whole of lane ``row``: its markers, and under them its band of paths."""
        return QRectF(0, self._lane_tops[row], self.canvas.width(), self._lane_height(row))

    def _marker_rect(self, row: int) -> QRectF:
        """The part of lane ``row`` that shows its markers (and coverage bar)."""
        return QRectF(0, self._lane_tops[row], self.canvas.width(), self._markers_height(row))

    def _markers_height(self, row: int) -> float:
        banded = self._geometry[row].lane.name in self._banded
        return BANDED_MARKERS_HEIGHT if banded else LANE_HEIGHT

    def _band_rect(self, row: int) -> QRectF | None:
        """Lane ``row``'s band of paths under its markers (None: no path crosses it)."""
        if self._geometry[row].lane.name not in self._banded:
            return None
        return QRectF(
            LABEL_WIDTH,
            self._lane_tops[row] + BANDED_MARKERS_HEIGHT,
            self._plot_width(),
            self._band,
        )

    def _stack_lanes(self) -> None:
        """Place the lanes top to bottom (a lane a path crosses is taller by the band)."""
        self._path_rows = assign_rows(self._paths)
        self._band = band_height(max(self._path_rows, default=-1) + 1)
        self._banded = lanes_crossed(self._paths)
        tops, top = [], float(AXIS_HEIGHT)
        for row in range(len(self._geometry)):
            tops.append(top)
            top += self._lane_height(row) + LANE_GAP
        self._lane_tops = tops
        wanted = int(top) + STRIP_HEIGHT
        self.canvas.setMinimumHeight(max(AXIS_HEIGHT + 3 * LANE_HEIGHT, wanted))

    def _lane_row_at(self, y: float) -> int | None:
        if y < AXIS_HEIGHT:
            return None
        for row, top in enumerate(self._lane_tops):
            if top <= y < top + self._lane_height(row) + LANE_GAP:
                return row
        return None

    def _in_markers(self, row: int, y: float) -> bool:
        """Whether ``y`` is in lane ``row``'s markers (not its band of paths)."""
        return y < self._lane_tops[row] + self._markers_height(row)

    def _clamped(self, start_s: float, end_s: float) -> tuple[float, float]:
        span = end_s - start_s
        lowest, highest = MIN_SPAN.total_seconds(), MAX_SPAN.total_seconds()
        if lowest <= span <= highest:
            return start_s, end_s
        centre = (start_s + end_s) / 2
        span = min(max(span, lowest), highest)
        return centre - span / 2, centre + span / 2

    def _zoom_anchor(self) -> float:
        if self._cursor_s is not None and self._start_s <= self._cursor_s <= self._end_s:
            return self._cursor_s
        return (self._start_s + self._end_s) / 2

    def _zoom(self, factor: float, anchor_s: float) -> None:
        span = self._end_s - self._start_s
        lowest, highest = MIN_SPAN.total_seconds(), MAX_SPAN.total_seconds()
        new_span = min(max(span * factor, lowest), highest)
        if math.isclose(new_span, span):
            return
        if self.following_live:  # zooming while live keeps now at the end
            start, end = self._live_range(new_span)
            self._set_range_s(to_seconds(start), to_seconds(end), live=True)
            return
        share = (anchor_s - self._start_s) / span
        start_s = anchor_s - share * new_span
        self._set_range_s(start_s, start_s + new_span)

    def _set_range_s(self, start_s: float, end_s: float, *, live: bool = False) -> None:
        """Show this range (``live``: following now; any other change, a pan or a
        selection, stops following)."""
        if not live and self.following_live:
            self.stop_following()
        start_s, end_s = self._clamped(start_s, end_s)
        if (start_s, end_s) == (self._start_s, self._end_s):
            return
        self._start_s, self._end_s = start_s, end_s
        self._static = None
        self._paths_layout = None
        self._hover = None
        self._hover_path = None
        self._schedule_fetch()
        self.canvas.update()
        self.sig_range_changed.emit(*self.visible_range())

    # -- queries ------------------------------------------------------------------------------

    def _schedule_fetch(self, *, restart: bool = True) -> None:
        """Ask for the visible range once changes pause for :data:`FETCH_DELAY_MS`, and at
        least every :data:`FETCH_MAX_WAIT_MS` while they go on (a long drag still loads)."""
        if not self._fetch_timer.isActive():
            self._fetch_waiting.restart()
            self._fetch_timer.start(FETCH_DELAY_MS)
        elif restart:
            waited = self._fetch_waiting.elapsed()
            self._fetch_timer.start(max(0, min(FETCH_DELAY_MS, FETCH_MAX_WAIT_MS - waited)))
        self._update_labels()

    def _on_fetch_timer_elapsed(self) -> None:
        start, end = self.visible_range()
        request = TimelineRequest(start, end, self._plot_width(), self._lanes)
        self._requested = request
        self._client.submit(f"{self._channel}.range", request, self._on_slice_loaded)
        paths = PathsRequest(
            self._site_time or display(), after=start, before=end, limit=MAX_PATHS_SHOWN
        )
        self._paths_requested = paths
        self._client.submit(f"{self._channel}.paths", paths, self._on_paths_loaded)
        self._update_labels()

    def _on_paths_loaded(self, result: QueryResult[Any]) -> None:
        if result.request != self._paths_requested:
            self.dropped += 1  # paths of a range asked for before the newest one
            return
        self._paths_requested = None
        if result.error is not None or not isinstance(result.value, list):
            self._paths_error = f"{PATHS_ERROR_PREFIX}{printable(str(result.error))}"
            self._paths = []
        else:
            self._paths_error = None
            self._paths = list(result.value)
        self._paths_layout = None
        self._hover_path = None
        self._hover = None
        self._static = None
        self._stack_lanes()
        self._show_selected_path()
        self.canvas.update()
        self._update_labels()
        if self._paths_error is None:
            self.sig_paths_loaded.emit(list(self._paths))

    def _on_slice_loaded(self, result: QueryResult[Any]) -> None:
        if result.request != self._requested:
            self.dropped += 1  # an answer to a range asked for before the newest one
            return
        self._requested = None
        if result.error is not None or not isinstance(result.value, TimelineSlice):
            self._error = f"{ERROR_PREFIX}{printable(str(result.error))}"
            self._show_slice(None)
            self._update_labels()
            return
        self._error = None
        self._show_slice(result.value)
        self._update_labels()
        self.sig_slice_loaded.emit(result.value)

    def _show_slice(self, found: TimelineSlice | None) -> None:
        self._slice = found
        self._palette = []
        self._geometry = (
            [] if found is None else [_lane_geometry(lane, self._palette) for lane in found.lanes]
        )
        self._hover = None
        self._static = None
        self._paths_layout = None
        self._hover_path = None
        self._stack_lanes()
        self.canvas.update()

    def _camera_lanes(self) -> list[str]:
        return [
            g.lane.name.removeprefix(CAMERA_PREFIX)
            for g in self._geometry
            if g.lane.name.startswith(CAMERA_PREFIX)
        ][:MAX_THUMBNAILS]

    def _request_thumbnails(self) -> None:
        if self._media_root is None or self._cursor_s is None:
            return
        self._thumbnail_clock.restart()
        at = from_seconds(self._cursor_s)
        for camera in self._camera_lanes():
            self._client.submit(
                f"{self._channel}.thumbnail.{camera}",
                TimelineThumbnailRequest(self._media_root, camera, at),
                self._on_thumbnail_loaded,
            )

    def _on_thumbnail_loaded(self, result: QueryResult[Any]) -> None:
        request = result.request
        if not isinstance(request, TimelineThumbnailRequest):
            return
        if isinstance(result.value, TimelineThumbnail):
            self._thumbnails[request.camera] = result.value
        else:  # nothing recorded near that moment (or it could not be read)
            self._thumbnails.pop(request.camera, None)
        if self._strip_visible:
            self.canvas.update()

    # -- mouse -----------------------------------------------------------------------------

    def _on_mouse_pressed(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._press_pos = pos
        self._press_start_s = self._start_s
        button = event.button()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if button == Qt.MouseButton.MiddleButton:
            self._drag_mode = "pan"
            return
        if button != Qt.MouseButton.LeftButton or pos.x() < LABEL_WIDTH:
            return
        if shift:  # select a range to zoom to (lanes or axis)
            self._drag_mode = "select"
            at = self._time_at_x(self._clamped_x(pos.x()))
            self._selection_s = (at, at)
            self.canvas.update()
            return
        near_cursor = (
            self._cursor_s is not None
            and abs(pos.x() - self._x_of_s(self._cursor_s)) <= CURSOR_GRAB_PX
        )
        if pos.y() < AXIS_HEIGHT or near_cursor:
            self._drag_mode = "scrub"
            self._strip_visible = self._media_root is not None
            self._strip_timer.stop()
            self._scrub_to(pos.x())
            return
        self._drag_mode = "press"
        self._pressed_bar = self._bar_at(pos)
        self._pressed_marker = None if self._pressed_bar is not None else self._marker_at(pos)

    def _on_mouse_moved(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._drag_mode == "scrub":
            self._scrub_to(pos.x())
            return
        if self._drag_mode == "select" and self._selection_s is not None:
            self._selection_s = (self._selection_s[0], self._time_at_x(self._clamped_x(pos.x())))
            self.canvas.update()
            return
        if self._drag_mode == "press" and (
            abs(pos.x() - self._press_pos.x()) > DRAG_THRESHOLD_PX
            or abs(pos.y() - self._press_pos.y()) > DRAG_THRESHOLD_PX
        ):
            self._drag_mode = "pan"
            self._pressed_marker = None
            self._pressed_bar = None
        if self._drag_mode == "pan":
            span = self._end_s - self._start_s
            shift_s = (pos.x() - self._press_pos.x()) / self._plot_width() * span
            start_s = self._press_start_s - shift_s
            self._set_range_s(start_s, start_s + span)
            return
        self._update_hover(pos, event.globalPosition().toPoint())

    def _on_mouse_released(self, event: QMouseEvent) -> None:
        mode, self._drag_mode = self._drag_mode, None
        if mode == "select":
            self._finish_selection()
        elif mode == "scrub":
            self._scrub_to(event.position().x(), final=True)
            if self._strip_visible:
                self._strip_timer.start()
        elif mode == "press" and self._pressed_bar is not None:
            bar, self._pressed_bar = self._pressed_bar, None
            path = self._paths[bar.path]
            self.select_path(path.event_id)
            self.sig_stretch_activated.emit(path, path.stretches[bar.stretch])
        elif mode == "press" and self._pressed_marker is not None:
            marker, self._pressed_marker = self._pressed_marker, None
            self.sig_event_activated.emit(marker)

    def _on_wheel_turned(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120
        if not notches:
            return
        anchor = (
            self._time_at_x(event.position().x())
            if event.position().x() >= LABEL_WIDTH
            else ((self._start_s + self._end_s) / 2)
        )
        self._zoom(ZOOM_STEP ** (-notches), anchor)
        event.accept()

    def _on_key_pressed(self, event: QKeyEvent) -> bool:
        """Escape cancels a Shift+drag selection, else clears a selected path; True when
        the key was used."""
        if event.key() == Qt.Key.Key_Escape and self._selection_s is not None:
            self.cancel_selection()
            event.accept()
            return True
        if event.key() == Qt.Key.Key_Escape and self._selected_path is not None:
            self.select_path(None)
            event.accept()
            return True
        return False

    def _finish_selection(self) -> None:
        chosen, self._selection_s = self._selection_s, None
        self.canvas.update()
        if chosen is None:
            return
        low, high = sorted(chosen)
        # A Shift+click is no range: too narrow to see is too narrow to mean.
        if (high - low) / (self._end_s - self._start_s) * self._plot_width() < DRAG_THRESHOLD_PX:
            return
        self._set_range_s(low, high)

    def _clamped_x(self, x: float) -> float:
        return min(max(x, LABEL_WIDTH), LABEL_WIDTH + self._plot_width())

    def _on_canvas_resized(self) -> None:
        self._static = None
        width = self._plot_width()
        if width != self._last_width:
            self._last_width = width
            self._schedule_fetch()  # the level of detail depends on the width

    def _on_pointer_left(self) -> None:
        if self._hover is not None or self._hover_path is not None:
            self._hover = None
            self._hover_path = None
            self.canvas.update()
        self._hover_text = ""

    def _scrub_to(self, x: float, *, final: bool = False) -> None:
        x = min(max(x, LABEL_WIDTH), LABEL_WIDTH + self._plot_width())
        self._cursor_s = self._time_at_x(x)
        self.canvas.update()
        if final or self._scrub_clock.elapsed() >= SCRUB_EMIT_MS:
            self._scrub_timer.stop()
            self._emit_scrub(self._cursor_s)
        else:
            self._scrub_pending = self._cursor_s
            if not self._scrub_timer.isActive():
                self._scrub_timer.start(max(1, SCRUB_EMIT_MS - self._scrub_clock.elapsed()))
        if self._media_root is not None and not self._thumbnail_timer.isActive():
            wait = THUMBNAIL_INTERVAL_MS - self._thumbnail_clock.elapsed()
            self._thumbnail_timer.start(max(0, wait))

    def _emit_scrub(self, seconds: float) -> None:
        self._scrub_pending = None
        if self._last_scrub_emitted == seconds:
            return
        self._last_scrub_emitted = seconds
        self._scrub_clock.restart()
        self.sig_time_scrubbed.emit(from_seconds(seconds))

    def _on_scrub_timer_elapsed(self) -> None:
        if self._scrub_pending is not None:
            self._emit_scrub(self._scrub_pending)

    def _on_strip_timer_elapsed(self) -> None:
        self._strip_visible = False
        self.canvas.update()

    def _marker_at(self, pos: QPointF) -> TimelineMarker | None:
        found = self._marker_index_at(pos)
        if found is None:
            return None
        row, index = found
        return self._geometry[row].lane.markers[index]

    def _marker_index_at(self, pos: QPointF) -> tuple[int, int] | None:
        row = self._lane_row_at(pos.y())
        if row is None or pos.x() < LABEL_WIDTH:
            return None
        geometry = self._geometry[row]
        if geometry.lane.detail is not LaneDetail.MARKERS or not len(geometry.starts):
            return None
        if not self._in_markers(row, pos.y()) or self._over_coverage_bar(row, pos.y()):
            return None
        at_s = self._time_at_x(pos.x())
        per_px = (self._end_s - self._start_s) / self._plot_width()
        slack = MARKER_HIT_PX * per_px
        inside = np.nonzero((geometry.starts - slack <= at_s) & (geometry.ends + slack >= at_s))[0]
        if not len(inside):
            return None
        # Nearest moment wins; a range under the pointer counts as distance 0.
        distance = np.where(
            (geometry.starts[inside] <= at_s) & (geometry.ends[inside] >= at_s),
            0.0,
            np.minimum(
                np.abs(geometry.starts[inside] - at_s), np.abs(geometry.ends[inside] - at_s)
            ),
        )
        return row, int(inside[int(np.argmin(distance))])

    def _update_hover(self, pos: QPointF, global_pos: QPoint) -> None:
        bar = self._bar_at(pos)
        found = None if bar is not None else self._marker_index_at(pos)
        text = ""
        if bar is not None:
            path = self._paths[bar.path]
            text = path_tooltip(path, path.stretches[bar.stretch])
        elif found is not None:
            row, index = found
            text = marker_tooltip(self._geometry[row].lane.markers[index], self._names)
        else:
            text = self._coverage_text(pos) or self._bucket_text(pos) or self._label_text(pos)
        hover_path = None if bar is None else bar.path
        if found != self._hover or hover_path != self._hover_path:
            self._hover = found
            self._hover_path = hover_path
            self.canvas.update()
        if text != self._hover_text:
            self._hover_text = text
            if text:
                QToolTip.showText(global_pos, text, self.canvas)
            else:
                QToolTip.hideText()

    # -- paths --------------------------------------------------------------------------------

    def _path_index(self, event_id: int) -> int | None:
        return next((i for i, p in enumerate(self._paths) if p.event_id == event_id), None)

    def _layout_of_paths(self) -> PathsLayout:
        """Where the paths are drawn at the range, lanes and size shown (made once per
        change of any of them, with the static picture)."""
        if self._paths_layout is None:
            rows = {g.lane.name: row for row, g in enumerate(self._geometry)}

            def band_rect(name: str) -> QRectF | None:
                row = rows.get(name)
                return None if row is None else self._band_rect(row)

            self._paths_layout = layout_paths(
                self._paths,
                self._path_rows,
                band_rect,
                self._x_of_s,
                (LABEL_WIDTH, LABEL_WIDTH + self._plot_width()),
            )
        return self._paths_layout

    def _bar_at(self, pos: QPointF) -> PathBar | None:
        if pos.x() < LABEL_WIDTH or not self._paths:
            return None
        return self._layout_of_paths().bar_at(pos)

    def _show_selected_path(self) -> None:
        path = self.selected_path()
        self.path_label.setText("" if path is None else path_sentence(path))
        self.path_label.setVisible(path is not None)
        self.canvas.update()
        shown = None if path is None else path.event_id
        if shown != self._shown_path:
            self._shown_path = shown
            self.sig_path_selected.emit(path)

    def _label_text(self, pos: QPointF) -> str:
        """Over a lane's name: the whole name (a long one is cut short with "…")."""
        row = self._lane_row_at(pos.y())
        if row is None or pos.x() >= LABEL_WIDTH:
            return ""
        return self.lane_label(self._geometry[row].lane)

    def _over_coverage_bar(self, row: int, y: float) -> bool:
        """Whether ``y`` is on lane ``row``'s coverage bar (a camera lane's bottom pixels,
        with a pixel or two of slack: it is thin)."""
        if not self._geometry[row].has_coverage_bar:
            return False
        return (
            self._in_markers(row, y) and y >= self._marker_rect(row).bottom() - COVERAGE_STRIP - 2
        )

    def _coverage_text(self, pos: QPointF) -> str:
        """Over a camera lane's coverage bar: whether footage was recorded there, and the
        stretch it belongs to (site time)."""
        row = self._lane_row_at(pos.y())
        if row is None or pos.x() < LABEL_WIDTH:
            return ""
        geometry = self._geometry[row]
        if not self._over_coverage_bar(row, pos.y()):
            return ""
        at_s = self._time_at_x(pos.x())
        label = self.lane_label(geometry.lane)
        starts, ends = geometry.recorded_starts, geometry.recorded_ends
        inside = np.nonzero((starts <= at_s) & (ends >= at_s))[0]
        if not len(inside):
            return f"{label}: nothing recorded here"
        index = int(inside[0])
        site = display()
        low = from_seconds(float(geometry.recorded_starts[index]))
        high = from_seconds(float(geometry.recorded_ends[index]))
        seen = [
            what
            for what, starts, ends in (
                ("people in view", geometry.people_starts, geometry.people_ends),
                ("motion", geometry.motion_starts, geometry.motion_ends),
            )
            if np.any((starts <= at_s) & (ends >= at_s))
        ]
        here = f"; here: {' and '.join(seen)}" if seen else ""
        return f"{label}: recorded {site.clock(low)} – {site.clock(high)}{here}"

    def _bucket_text(self, pos: QPointF) -> str:
        row = self._lane_row_at(pos.y())
        if row is None or pos.x() < LABEL_WIDTH:
            return ""
        geometry = self._geometry[row]
        if geometry.lane.detail is not LaneDetail.DENSITY or not len(geometry.counts):
            return ""
        index = int((self._time_at_x(pos.x()) - geometry.origin_s) // geometry.bucket_s)
        if not 0 <= index < len(geometry.counts):
            return ""
        start = from_seconds(geometry.origin_s + index * geometry.bucket_s)
        end = from_seconds(geometry.origin_s + (index + 1) * geometry.bucket_s)
        count = int(geometry.counts[index])
        fmt = "%H:%M:%S" if geometry.bucket_s < 60 else "%Y-%m-%d %H:%M"
        noun = _LANE_NOUNS.get(geometry.lane.name, "event")
        plural = "s" if count != 1 else ""
        site = display()
        return (
            f"{self.lane_label(geometry.lane)}: {count} {noun}{plural}\n"
            f"{site.local(start):{fmt}} – {site.local(end):{fmt}}"
        )

    # -- labels ------------------------------------------------------------------------------

    def lane_label(self, lane: TimelineLane) -> str:
        """A lane's name as a person knows it: the camera's or room's name, else the
        store's label."""
        _scheme, _, key = lane.name.partition(":")
        return printable(self._names.get(key) or lane.label) if key else lane.label

    def _update_labels(self) -> None:
        start, end = self.visible_range()
        span = end - start
        site = display()
        # The day once when the range is within one (the status line beside needs the room).
        until = site.clock(end) if site.day_of(start) == site.day_of(end) else site.full(end)
        self.range_label.setText(f"{site.full(start)} – {until} ({_span_text(span)})")
        if self._error or (self._paths_error and not self.is_loading()):
            self.status_label.setStyleSheet(f"color: {ALARM_RED.name()};")
            self.status_label.setText(self._error or self._summary_text())
        else:
            self.status_label.setStyleSheet("")
            self.status_label.setText(LOADING_TEXT if self.is_loading() else self._summary_text())
        self.zoom_in_button.setEnabled(span > MIN_SPAN + timedelta(milliseconds=1))
        self.zoom_out_button.setEnabled(span < MAX_SPAN - timedelta(milliseconds=1))

    def _summary_text(self) -> str:
        if self._slice is None:
            return ""
        total = sum(lane.total for lane in self._slice.lanes)
        text = f"{total} item{'s' if total != 1 else ''} in {len(self._slice.lanes)} lanes"
        if self._paths_error:
            return f"{text}; {self._paths_error}"
        if self._paths:
            count = len(self._paths)
            text += f", {count} path{'s' if count != 1 else ''}"
        return text

    # -- painting -----------------------------------------------------------------------------

    def _paint(self, canvas: QWidget) -> None:
        if (
            self._static is None
            or self._static.size() != canvas.size() * canvas.devicePixelRatioF()
        ):
            self._static = self._render_static(canvas)
        painter = QPainter(canvas)
        painter.drawPixmap(0, 0, self._static)
        self._paint_overlay(painter, canvas)
        painter.end()

    def _render_static(self, canvas: QWidget) -> QPixmap:
        ratio = canvas.devicePixelRatioF()
        pixmap = QPixmap(canvas.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(BACKGROUND)
        painter = QPainter(pixmap)
        try:
            self._paint_axis(painter, canvas)
            for row, geometry in enumerate(self._geometry):
                self._paint_lane(painter, row, geometry)
            if self._paths and self._geometry:
                plot_right = LABEL_WIDTH + self._plot_width()
                painter.setClipRect(
                    QRectF(LABEL_WIDTH, AXIS_HEIGHT, self._plot_width(), canvas.height())
                )
                paint_paths(painter, self._paths, self._layout_of_paths(), plot_right)
        finally:
            painter.end()
        return pixmap

    def _paint_axis(self, painter: QPainter, canvas: QWidget) -> None:
        height = canvas.height()
        plot_right = LABEL_WIDTH + self._plot_width()
        painter.setPen(GRID)
        painter.drawLine(QLineF(LABEL_WIDTH, AXIS_HEIGHT - 0.5, plot_right, AXIS_HEIGHT - 0.5))
        start, end = self.visible_range()
        grid_lines = []
        for at, label in axis_ticks(start, end, self._plot_width()):
            x = self._x_of_s(to_seconds(at))
            grid_lines.append(QLineF(x, AXIS_HEIGHT - 6, x, height))
            painter.setPen(TEXT)
            painter.drawText(QPointF(x + 3, AXIS_HEIGHT - 9), label)
        painter.setPen(QPen(GRID, 1, Qt.PenStyle.DotLine))
        painter.drawLines(grid_lines)

    def _paint_lane(self, painter: QPainter, row: int, geometry: _LaneGeometry) -> None:
        whole = self._lane_rect(row)
        painter.fillRect(
            QRectF(LABEL_WIDTH, whole.top(), self._plot_width(), whole.height()), LANE_BACKGROUND
        )
        rect = self._marker_rect(row)
        plot = QRectF(LABEL_WIDTH, rect.top(), self._plot_width(), rect.height())
        painter.setPen(TEXT)
        label_rect = QRectF(4, rect.top(), LABEL_WIDTH - 8, rect.height())
        metrics = QFontMetrics(painter.font())
        label = metrics.elidedText(
            self.lane_label(geometry.lane), Qt.TextElideMode.ElideRight, int(label_rect.width())
        )
        painter.drawText(
            label_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
        )
        painter.save()
        if geometry.has_coverage_bar:
            self._paint_coverage(painter, plot, geometry)
            plot = plot.adjusted(0, 0, 0, -COVERAGE_STRIP)
        painter.setClipRect(plot)
        if geometry.lane.detail is LaneDetail.DENSITY:
            self._paint_density(painter, plot, geometry)
        elif geometry.lane.name == LANE_BOOKMARKS:
            self._paint_ranges(painter, plot, geometry)
        else:
            self._paint_markers(painter, plot, geometry)
        painter.restore()

    def _xs(self, seconds: np.ndarray) -> np.ndarray:
        span = self._end_s - self._start_s
        return LABEL_WIDTH + (seconds - self._start_s) * (self._plot_width() / span)

    def _paint_markers(self, painter: QPainter, plot: QRectF, geometry: _LaneGeometry) -> None:
        if not len(geometry.starts):
            return
        xs = self._xs(geometry.starts)
        top, bottom = plot.top() + 4, plot.bottom() - 4
        for index, colour in enumerate(self._palette):
            chosen = xs[geometry.colours == index]
            if not len(chosen):
                continue
            painter.setPen(QPen(colour, 2))
            painter.drawLines([QLineF(x, top, x, bottom) for x in chosen.tolist()])

    def _paint_coverage(self, painter: QPainter, plot: QRectF, geometry: _LaneGeometry) -> None:
        """The lane's coverage bars: dark along the lane, green where footage is; above it,
        amber where that footage had motion and blue where it had people in view."""
        bar = QRectF(plot.left(), plot.bottom() - COVERAGE_HEIGHT, plot.width(), COVERAGE_HEIGHT)
        painter.fillRect(bar, UNRECORDED)
        painter.setPen(Qt.PenStyle.NoPen)
        activity = bar.top() - ACTIVITY_HEIGHT
        for starts, ends, colour, top, height in (
            (geometry.recorded_starts, geometry.recorded_ends, RECORDED_GREEN, bar.top(),
             COVERAGE_HEIGHT),
            (geometry.motion_starts, geometry.motion_ends, WARNING_AMBER, activity,
             ACTIVITY_HEIGHT),
            (geometry.people_starts, geometry.people_ends, INFO_BLUE, activity, ACTIVITY_HEIGHT),
        ):  # fmt: skip
            if not len(starts):
                continue
            lefts = np.clip(self._xs(starts), bar.left(), bar.right())
            rights = np.clip(self._xs(ends), bar.left(), bar.right())
            painter.setBrush(colour)
            painter.drawRects(
                [
                    # At least a pixel: a short clip in a week still shows.
                    QRectF(left, top, max(1.0, right - left), height)
                    for left, right in zip(lefts.tolist(), rights.tolist(), strict=True)
                ]
            )

    def _paint_ranges(self, painter: QPainter, plot: QRectF, geometry: _LaneGeometry) -> None:
        starts, ends = self._xs(geometry.starts), self._xs(geometry.ends)
        metrics = QFontMetrics(painter.font())
        for marker, left, right in zip(
            geometry.lane.markers, starts.tolist(), ends.tolist(), strict=True
        ):
            box = QRectF(left, plot.top() + 2, max(2.0, right - left), plot.height() - 4)
            painter.fillRect(box, BOOKMARK_FILL)
            painter.setPen(BOOKMARK_EDGE)
            painter.drawLine(QLineF(left, box.top(), left, box.bottom()))
            title = metrics.elidedText(
                marker.summary, Qt.TextElideMode.ElideRight, max(0, int(box.width()) - 6)
            )
            if title:
                painter.drawText(box.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter, title)

    def _paint_density(self, painter: QPainter, plot: QRectF, geometry: _LaneGeometry) -> None:
        counts = geometry.counts
        peak = float(counts.max()) if len(counts) else 0.0
        if peak <= 0:
            return
        edges = geometry.origin_s + np.arange(len(counts) + 1) * geometry.bucket_s
        xs = self._xs(edges)
        # sqrt: a quiet hour still shows next to a busy one
        heights = np.sqrt(counts / peak) * (plot.height() - 4)
        bottom = plot.bottom() - 2
        rects = [
            QRectF(left, bottom - h, max(1.0, right - left - 0.5), h)
            for left, right, h, n in zip(
                xs[:-1].tolist(), xs[1:].tolist(), heights.tolist(), counts.tolist(), strict=True
            )
            if n > 0
        ]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(DENSITY_BLUE)
        painter.drawRects(rects)

    def _paint_overlay(self, painter: QPainter, canvas: QWidget) -> None:
        height = canvas.height()
        selected = None if self._selected_path is None else self._path_index(self._selected_path)
        for index, width in ((self._hover_path, 1.0), (selected, 1.5)):
            if index is not None and self._geometry:
                paint_path_outline(painter, self._layout_of_paths(), index, width)
        if self._hover is not None:
            row, index = self._hover
            rect = self._marker_rect(row)
            marker = self._geometry[row].lane.markers[index]
            x = self._x_of_s(to_seconds(marker.ts))
            painter.setPen(QPen(HOVER_COLOUR, 3))
            painter.drawLine(QLineF(x, rect.top() + 1, x, rect.bottom() - 1))
        if self._error or self.is_loading() or not self._geometry:
            message = self._error or (
                LOADING_TEXT if self.is_loading() else "Nothing recorded here"
            )
            painter.setPen(ALARM_RED if self._error else DIM_TEXT)
            box = QRectF(LABEL_WIDTH + 8, AXIS_HEIGHT + 4, self._plot_width() - 16, 20)
            painter.drawText(
                box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, message
            )
        if self._cursor_s is not None and self._start_s <= self._cursor_s <= self._end_s:
            x = self._x_of_s(self._cursor_s)
            painter.setPen(QPen(CURSOR_COLOUR, 2))
            painter.drawLine(QLineF(x, 0, x, height))
            painter.fillRect(QRectF(x - 5, 0, 10, 8), CURSOR_COLOUR)
        if self._selection_s is not None:
            self._paint_selection(painter, canvas)
        if self._strip_visible and self._thumbnails:
            self._paint_strip(painter, canvas)

    def _paint_selection(self, painter: QPainter, canvas: QWidget) -> None:
        """The Shift+drag band across the lanes, its start and end (site time) above it."""
        if self._selection_s is None:
            return
        low, high = sorted(self._x_of_s(s) for s in self._selection_s)
        band = QRectF(low, 0, max(1.0, high - low), canvas.height())
        painter.fillRect(band, SELECTION_FILL)
        painter.setPen(QPen(SELECTION_EDGE, 1))
        painter.drawLines(
            [QLineF(low, 0, low, band.bottom()), QLineF(high, 0, high, band.bottom())]
        )
        text = self.selection_text()
        metrics = QFontMetrics(painter.font())
        width = metrics.horizontalAdvance(text) + 12
        # Over the band, kept inside the plot when the band is near an edge.
        left = min(max(LABEL_WIDTH, (low + high - width) / 2), canvas.width() - width)
        box = QRectF(left, 2, width, AXIS_HEIGHT - 4)
        painter.fillRect(box, BACKGROUND)
        painter.setPen(SELECTION_EDGE)
        painter.drawRect(box)
        painter.setPen(TEXT)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_strip(self, painter: QPainter, canvas: QWidget) -> None:
        top = canvas.height() - STRIP_HEIGHT
        painter.fillRect(QRectF(0, top, canvas.width(), STRIP_HEIGHT), QColor(13, 17, 23, 230))
        x = LABEL_WIDTH
        font = QFont(painter.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() - 1))
        painter.setFont(font)
        for camera in self._camera_lanes():
            thumbnail = self._thumbnails.get(camera)
            if thumbnail is None:
                continue
            image = thumbnail.image
            height, width = image.shape[:2]
            qimage = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888)
            scale = THUMBNAIL_HEIGHT / height
            target = QRectF(x, top + 4, width * scale, THUMBNAIL_HEIGHT)
            painter.drawImage(target, qimage)
            painter.setPen(TEXT)
            painter.drawText(
                QPointF(x, top + THUMBNAIL_HEIGHT + 16),
                thumbnail_caption(printable(self._names.get(camera, camera)), thumbnail.frame_at),
            )
            x += int(target.width()) + 8
            if x > canvas.width():
                break


def _span_words(span: timedelta) -> str:
    """``10 minutes``, ``1 hour``, ``8 hours``, ``1 day``, ``1 week``: a preset's span."""
    seconds = round(span.total_seconds())
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _span_text(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
