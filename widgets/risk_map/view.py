"""The risk map: the area around the site on H3 hexagons, coloured by the live risk now or by
the incidents the nightly model expects in each of the next 24 hours, with the site's cameras
(today's risk class) and the recent incidents as markers.

The map is drawn in local metres east and north of the site's centre (an equirectangular
projection, exact to a few centimetres over the 3 km shown) with an equal aspect. A time
slider moves from "Live risk now" (position 0) through +1 h … +24 h; the colour bar beside the
map names the risk classes. Hovering shows a cell's value, class and place, an incident's
details or a camera's; a click on an incident selects it
(:attr:`RiskMapPane.sig_incident_selected`), a click elsewhere picks a place for the report
form (:attr:`RiskMapPane.sig_location_picked`).

**How the cells are drawn, and why.** Each cell's value becomes one of a few dozen colour
levels (:data:`LEVELS_PER_CLASS` per risk class), and every level is one
``QGraphicsPathItem`` holding the hexagons of all cells at that level in one
``QPainterPath``: at most :data:`COLOUR_LEVELS` fill calls per frame however many cells there
are, the true H3 boundaries (not a regular-hexagon symbol, which H3 cells only approximate),
and no per-cell Python work while the slider moves. The levels of every cell at every slider
position, and the projected hexagon corners, are computed off the GUI thread with the map's
read (:func:`prepare_map`); each position's paths are built once, the first time it is shown,
and kept, so dragging the slider only swaps the paths of the level items. An ``ImageItem``
would need the hexagons rasterised (blurry edges when zoomed, and the raster rebuilt per
hour); a ``ScatterPlotItem`` in data units draws one path per spot, per frame. The fills are
opaque (each colour mixed with the background beforehand: Qt's raster engine blends several
times slower than it fills), the cells' outlines are one fixed path, and the 5,000 or so
incident markers, which the slider does not change, are drawn from a pixmap cache
(``DeviceCoordinateCache``) rather than blended sprite by sprite on every frame.

The colour scale follows the risk classes: each class gets an equal share of the colour bar
and values are placed linearly inside their class, so colours never disagree with the class a
hover reports, and the heavy-tailed values do not leave most of the map in one colour.
Predictions use the model's thresholds (percentiles of all cells and hours) and one scale for
every hour, so dragging shows real change; the live layer is classed against the area's own
live values now (the same percentiles), its unit being different (decayed incident weight).

The pane never touches the store or starts threads: the console gives it a query client and
a :class:`RiskMapActions` object whose blocking methods run on the query workers. Every method
here runs on the GUI thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

# h3 ships no type information (mypy is told so in pyproject).
import h3.api.basic_int as h3
import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QShowEvent,
    QTransform,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import CallRequest, QueryResult
from engine.incidents.geo import EARTH_RADIUS_M
from engine.incidents.records import IncidentView
from engine.incidents.risk import RISK_CLASSES, RISK_PERCENTILES
from engine.incidents.service import MapCamera, RiskMap
from engine.incidents.site_plan import PlanTransform, SitePlanShown, SitePlanView, pins_transform
from engine.sitetime import display
from engine.text import printable
from engine.vocabulary import INCIDENT_CATEGORIES
from engine.wording import display_actor, number
from widgets.action_strip import show_as_error
from widgets.colours import CANVAS, MARK_WHITE, MUTED_GREY, TEXT, WARNING_AMBER
from widgets.queries import QueryClient
from widgets.risk_map.api import RiskMapActions, SitePlanActions
from widgets.risk_map.pin_dialog import PinPlanDialog

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FORECAST_HOURS: Final = 24
"""The slider's reach: the model's predictions for this many hours from the current one."""
MARKER_LIMIT: Final = 5000
"""At most this many incident markers, the newest (the map stays readable and fast)."""
PERIODS: Final[tuple[tuple[str, timedelta], ...]] = (
    ("24 h", timedelta(hours=24)),
    ("7 days", timedelta(days=7)),
    ("30 days", timedelta(days=30)),
)
DEFAULT_PERIOD: Final = 1  # 7 days: long enough to see where things happen, short enough to matter

LEVELS_PER_CLASS: Final = 8
COLOUR_LEVELS: Final = LEVELS_PER_CLASS * len(RISK_CLASSES)

LIVE_TEXT: Final = "Live risk now"
LOADING_TEXT: Final = "Loading…"
ALL_CATEGORIES_TEXT: Final = "All categories"
LIVE_SCALE_TITLE: Final = "Live risk now\n(incident weight)"
PREDICTED_SCALE_TITLE: Final = "Expected incidents\nin the hour"
NO_PREDICTIONS_TEXT: Final = "no predictions"

BACKGROUND: Final = CANVAS  # the console's darkest panel (resources/theme.qss)
CELL_OUTLINE: Final = QColor(139, 148, 158, 70)  # faint grey: cells of one level stay apart
SELECTED_RING: Final = MARK_WHITE
CAMERA_OUTLINE: Final = MARK_WHITE
PLAN_CELL_OPACITY: Final = 0.55  # over a plan the cells let its walls and labels show through
NO_PLAN_ADMIN_TEXT: Final = (
    "No site plan. To draw the site under the map, use “Add site plan…”: choose a PNG or "
    "JPEG plan and pin two of its points to their places."
)
NO_PLAN_TEXT: Final = "No site plan: an admin can add one."
ADD_PLAN_TEXT: Final = "Add site plan…"
REPLACE_PLAN_TEXT: Final = "Replace site plan…"

# Sequential yellow → orange → dark red (ColorBrewer YlOrRd), readable on the dark console
# and by people with red-green colour blindness (it varies in lightness throughout).
_SCALE_STOPS: Final = (0.0, 0.2, 0.4, 0.55, 0.7, 0.85, 1.0)
_SCALE_COLOURS: Final = (
    "#ffffcc",
    "#ffeda0",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#f03b20",
    "#800026",
)
# Quiet cells recede into the background, risky ones stand out.
_ALPHA_LOW, _ALPHA_HIGH = 110, 240

# One colour per incident category, picked to stand apart from each other and from the
# yellow-to-red cells beneath them (each marker also has a dark outline).
CATEGORY_COLOURS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "violence": "#e7298a",
        "weapons": "#9d7cf0",
        "theft": "#2f8fe0",
        "fire": "#ff7f00",
        "medical": "#33c04a",
        "vandalism": "#b8862f",
        "suspicious_activity": "#17d4e6",
        "other": "#b0b0b0",
    }
)
_UNKNOWN_CATEGORY_COLOUR: Final = "#b0b0b0"

MARKER_MIN_PX: Final = 7  # one reporter
MARKER_MAX_PX: Final = 24
CAMERA_PX: Final = 12
HIT_SLOP_PX: Final = 3.0  # a marker is hit this far outside its drawn edge


class HourSlider(QSlider):
    """The hour slider, its handle light enough to be seen (Fusion drew it in the dark
    button grey: 1.0-1.6:1 on the pane). The theme cannot style it: a styled slider loses
    its tick marks. So its own palette, for this slider only: Fusion fills the handle and
    groove with Button and draws outlines and ticks in Window darkened (7.3:1 on the pane)."""

    def initStyleOption(self, option: QStyleOptionSlider) -> None:
        super().initStyleOption(option)
        option.palette.setColor(QPalette.ColorRole.Button, QColor(TEXT))
        option.palette.setColor(QPalette.ColorRole.Window, QColor(TEXT))


def class_label(name: str | None) -> str:
    """A risk class as people read it: ``very high`` for ``very_high``; ``—`` for none."""
    return "—" if not name else name.replace("_", " ")


def category_label(name: str) -> str:
    return name.replace("_", " ")


def category_colour(name: str) -> str:
    return CATEGORY_COLOURS.get(name, _UNKNOWN_CATEGORY_COLOUR)


def marker_sizes_px(reporters: npt.ArrayLike) -> FloatArray:
    """The diameter of each incident's marker in pixels: more people reporting it, a bigger
    dot (square-root growth, so its area grows with the count), capped. Whole pixels, so
    the scatter's sprite atlas holds few sizes."""
    counts = np.maximum(np.asarray(reporters, dtype=np.float64), 1.0)
    grown = np.rint(MARKER_MIN_PX + 4.0 * np.sqrt(counts - 1.0))
    sizes: FloatArray = np.minimum(grown, float(MARKER_MAX_PX))
    return sizes


def marker_size_px(reporters: int) -> int:
    """:func:`marker_sizes_px` of one incident."""
    return int(marker_sizes_px([reporters])[0])


def class_indices(values: npt.ArrayLike, thresholds: Sequence[float]) -> IntArray:
    """The index in :data:`RISK_CLASSES` of each value, as
    :func:`engine.incidents.risk.risk_class` decides it (vectorised): nothing (0 or less)
    is always the lowest class, else the number of thresholds at or below the value."""
    array = np.asarray(values, dtype=np.float64)
    bounds = np.asarray(thresholds, dtype=np.float64)
    indices = np.searchsorted(bounds, array, side="right").astype(np.int64)
    indices[~(array > 0)] = 0
    return indices


def area_thresholds(reference: npt.ArrayLike) -> tuple[float, ...]:
    """Class thresholds from the area's own values (the engine's percentiles); zeros when
    there is no finite value."""
    values = np.asarray(reference, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return tuple(0.0 for _ in RISK_PERCENTILES)
    return tuple(float(v) for v in np.percentile(values, RISK_PERCENTILES))


def scale_edges(thresholds: Sequence[float], top: float) -> FloatArray:
    """Where each class starts and ends on the colour scale: 0, the thresholds, and the
    largest value shown (kept above the last threshold)."""
    last = float(thresholds[-1]) if len(thresholds) else 0.0
    upper = max(float(top), last * 1.25, last + 1e-9)
    return np.array([0.0, *(float(t) for t in thresholds), upper], dtype=np.float64)


def colour_levels(
    values: npt.ArrayLike, thresholds: Sequence[float], edges: FloatArray
) -> IntArray:
    """The colour level of each value: its class's band of :data:`LEVELS_PER_CLASS` levels,
    and inside it, the value's linear place between the class's edges."""
    array = np.asarray(values, dtype=np.float64)
    classes = class_indices(array, thresholds)
    low, high = edges[classes], edges[classes + 1]
    span = high - low
    fraction = np.divide(array - low, span, out=np.zeros_like(array), where=span > 0)
    step = np.clip(np.floor(fraction * LEVELS_PER_CLASS), 0, LEVELS_PER_CLASS - 1)
    levels: IntArray = classes * LEVELS_PER_CLASS + step.astype(np.int64)
    return levels


@cache
def _level_rgb() -> tuple[tuple[int, int, int], ...]:
    cmap = pg.ColorMap(np.array(_SCALE_STOPS), [QColor(c) for c in _SCALE_COLOURS])
    positions = (np.arange(COLOUR_LEVELS) + 0.5) / COLOUR_LEVELS
    rgb = cmap.map(positions, mode="float")[:, :3]
    # Quiet cells recede into the background, risky ones stand out: each colour is mixed
    # with the background here rather than drawn translucent, because blending is several
    # times slower than an opaque fill in Qt's raster engine (above all on RGB32 surfaces,
    # X11's usual backing store) and the cells are redrawn on every slider step.
    alpha = np.linspace(_ALPHA_LOW, _ALPHA_HIGH, COLOUR_LEVELS)[:, None] / 255.0
    dark = QColor(BACKGROUND)
    background = np.array([dark.redF(), dark.greenF(), dark.blueF()])
    mixed = np.rint((rgb * alpha + background * (1.0 - alpha)) * 255.0).astype(int)
    return tuple((int(r), int(g), int(b)) for r, g, b in mixed)


def level_colours() -> list[QColor]:
    """The fill of each colour level, lowest first (opaque)."""
    return [QColor(r, g, b) for r, g, b in _level_rgb()]


def class_colour(class_index: int) -> QColor:
    """The scale's colour at the middle of a class's band, unmixed (camera markers)."""
    cmap = pg.ColorMap(np.array(_SCALE_STOPS), [QColor(c) for c in _SCALE_COLOURS])
    colour: QColor = cmap.mapToQColor((class_index + 0.5) / len(RISK_CLASSES))
    return colour


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular metres east (x) and north (y) of ``centre`` (lat, lon degrees) on the
    engine's sphere; over a few kilometres it is within centimetres of the great circle."""

    latitude: float
    longitude: float

    @property
    def _metres_per_degree_lat(self) -> float:
        return EARTH_RADIUS_M * math.pi / 180.0

    @property
    def _metres_per_degree_lon(self) -> float:
        return self._metres_per_degree_lat * math.cos(math.radians(self.latitude))

    def to_metres(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = (np.asarray(lon, dtype=np.float64) - self.longitude) * self._metres_per_degree_lon
        y = (np.asarray(lat, dtype=np.float64) - self.latitude) * self._metres_per_degree_lat
        return x, y

    def to_degrees(self, x_m: float, y_m: float) -> tuple[float, float]:
        """(lat, lon) of the point ``x_m`` east and ``y_m`` north of the centre."""
        return (
            self.latitude + y_m / self._metres_per_degree_lat,
            self.longitude + x_m / self._metres_per_degree_lon,
        )


@dataclass(frozen=True, slots=True, eq=False)
class PreparedMap:
    """A :class:`RiskMap` made ready to draw (pure numpy, built on a query worker).

    Slider position 0 is the live risk, position ``h`` (1 … ``hours``) the predictions for
    hour ``h − 1`` from ``risk_map.start``. ``values``, ``classes`` and ``levels`` are
    ``[positions, cells]``; the hexagons' corners are flat arrays in metres (each closed:
    its first corner repeated) with the cell of each corner and whether it ends its cell.
    """

    risk_map: RiskMap
    projection: LocalProjection
    resolution: int | None
    cell_row: Mapping[int, int]
    centres_xy: FloatArray  # [cells, 2] metres
    corner_x: FloatArray
    corner_y: FloatArray
    corner_cell: IntArray
    corner_connects: npt.NDArray[np.int32]  # 0 at each cell's last corner
    values: FloatArray
    classes: IntArray
    levels: IntArray
    live_thresholds: tuple[float, ...]
    live_edges: FloatArray
    predicted_thresholds: tuple[float, ...] | None
    predicted_edges: FloatArray | None

    @property
    def cell_count(self) -> int:
        return int(self.centres_xy.shape[0])

    @property
    def hours(self) -> int:
        """How many hours of predictions there are (0 without a model)."""
        return int(self.values.shape[0]) - 1


def prepare_map(risk_map: RiskMap) -> PreparedMap:
    """Everything the pane draws that depends only on ``risk_map``: the projected hexagons,
    and the value, class and colour level of every cell at every slider position. Pure numpy
    (no Qt): runs on a query worker."""
    lat0, lon0 = risk_map.centre
    projection = LocalProjection(float(lat0), float(lon0))
    cells = np.asarray(risk_map.cells, dtype=np.int64).ravel()
    count = cells.size
    centres = np.asarray(risk_map.centres, dtype=np.float64).reshape(-1, 2)
    cx, cy = projection.to_metres(centres[:, 0], centres[:, 1])
    rings = [np.asarray(c, dtype=np.float64).reshape(-1, 2) for c in risk_map.corners]
    closed = [np.vstack([ring, ring[:1]]) for ring in rings if ring.size]
    if closed:
        corners = np.vstack(closed)
        per_cell = np.array([len(ring) for ring in closed], dtype=np.int64)
    else:
        corners = np.zeros((0, 2))
        per_cell = np.zeros(0, dtype=np.int64)
    corner_x, corner_y = projection.to_metres(corners[:, 0], corners[:, 1])
    corner_cell = np.repeat(np.arange(per_cell.size, dtype=np.int64), per_cell)
    connects = np.ones(corner_cell.size, dtype=np.int32)
    connects[np.cumsum(per_cell) - 1] = 0

    live = np.nan_to_num(np.asarray(risk_map.live, dtype=np.float64).ravel()[:count])
    live_thresholds = area_thresholds(live)
    live_edges = scale_edges(live_thresholds, float(live.max(initial=0.0)))
    values = [live]
    classes = [class_indices(live, live_thresholds)]
    levels = [colour_levels(live, live_thresholds, live_edges)]
    predicted = np.asarray(risk_map.predicted, dtype=np.float64)
    predicted_thresholds: tuple[float, ...] | None = None
    predicted_edges: FloatArray | None = None
    if predicted.ndim == 2 and predicted.size and predicted.shape[0] == count:
        predicted = np.nan_to_num(predicted)
        predicted_thresholds = (
            tuple(float(t) for t in risk_map.thresholds)
            if risk_map.thresholds is not None
            else area_thresholds(predicted)
        )
        predicted_edges = scale_edges(predicted_thresholds, float(predicted.max(initial=0.0)))
        for hour in range(predicted.shape[1]):
            column = predicted[:, hour]
            values.append(column)
            classes.append(class_indices(column, predicted_thresholds))
            levels.append(colour_levels(column, predicted_thresholds, predicted_edges))
    resolution = int(h3.get_resolution(int(cells[0]))) if count else None
    return PreparedMap(
        risk_map=risk_map,
        projection=projection,
        resolution=resolution,
        cell_row={int(c): i for i, c in enumerate(cells.tolist())},
        centres_xy=np.column_stack([cx, cy]) if count else np.zeros((0, 2)),
        corner_x=corner_x,
        corner_y=corner_y,
        corner_cell=corner_cell,
        corner_connects=connects,
        values=np.vstack(values) if count else np.zeros((len(values), 0)),
        classes=np.vstack(classes) if count else np.zeros((len(values), 0), dtype=np.int64),
        levels=np.vstack(levels) if count else np.zeros((len(values), 0), dtype=np.int64),
        live_thresholds=live_thresholds,
        live_edges=live_edges,
        predicted_thresholds=predicted_thresholds,
        predicted_edges=predicted_edges,
    )


def _load_map(actions: RiskMapActions, hours: int) -> PreparedMap:
    """Query worker: the map read and its preparation."""
    return prepare_map(actions.risk_map(hours))


@dataclass(frozen=True, slots=True, eq=False)
class PreparedPlan:
    """The site's plan made ready to draw on a query worker: what the engine read, and its
    picture decoded (None when the file is gone or does not decode)."""

    shown: SitePlanShown
    image: QImage | None


def _load_plan(actions: RiskMapActions) -> PreparedPlan | None:
    """Query worker: the plan read and its picture decoded (QImage is safe off the GUI
    thread)."""
    shown = actions.site_plan()
    if shown is None:
        return None
    image = None if shown.image is None else QImage.fromData(shown.image)
    return PreparedPlan(shown, image if image is not None and not image.isNull() else None)


def _site_text(moment: datetime) -> str:
    """``2026-02-03 02:00 GMT``: a time on the site's clock, with its zone."""
    site = display()
    return f"{site.full_minutes(moment)} {site.zone_label(moment)}"


def hour_text(start: datetime, position: int) -> str:
    """What the slider's ``position`` shows: ``Live risk now`` at 0, else the predicted hour
    on the site's clock (``Predicted 14:00–15:00 GMT (+1 h)``; the day is named when it is
    not ``start``'s site day)."""
    if position <= 0:
        return LIVE_TEXT
    site = display()
    begin = start + timedelta(hours=position - 1)
    end = begin + timedelta(hours=1)
    day = "" if site.day_of(begin) == site.day_of(start) else f" {site.local(begin):%a %d %b}"
    return (
        f"Predicted{day} {site.minutes(begin)}–{site.minutes(end)} {site.zone_label(begin)} "
        f"(+{position} h)"
    )


def _format_value(value: float) -> str:
    """A risk value as a person reads it: no exponent ("under 0.001" below that)."""
    if 0 < abs(value) < 0.001:
        return "under 0.001"
    return number(value)


class ColourBar(QWidget):
    """The colour scale beside the map: one band per risk class (lowest at the bottom),
    its name, and the values where classes change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colours = level_colours()
        self.title = ""
        self.edges: FloatArray | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setFixedWidth(160)

    def set_scale(self, title: str, edges: FloatArray | None) -> None:
        """Show ``edges`` (0, the thresholds, the top) under ``title``; None: no scale."""
        self.title = title
        self.edges = edges
        self.update()

    def labels(self) -> list[str]:
        """The class names and values shown, for tests and accessibility."""
        if self.edges is None:
            return [NO_PREDICTIONS_TEXT]
        return [class_label(c) for c in RISK_CLASSES]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(BACKGROUND))
        painter.setPen(QColor(TEXT))
        metrics = painter.fontMetrics()
        line = metrics.height()
        title_lines = self.title.split("\n") if self.title else []
        for i, text in enumerate(title_lines):
            painter.drawText(QPointF(6, 4 + line * (i + 1) - metrics.descent()), text)
        top = 8 + line * len(title_lines) + line // 2
        bottom = self.height() - line
        if self.edges is None or bottom - top < 3 * len(RISK_CLASSES):
            if self.edges is None:
                painter.drawText(QPointF(6, top + line), NO_PREDICTIONS_TEXT)
            painter.end()
            return
        bar_left, bar_width = 6, 18
        per_level = (bottom - top) / COLOUR_LEVELS
        for level, colour in enumerate(self._colours):
            y = bottom - (level + 1) * per_level
            painter.fillRect(QRectF(bar_left, y, bar_width, per_level + 0.5), colour)
        per_class = (bottom - top) / len(RISK_CLASSES)
        text_left = bar_left + bar_width + 6
        # Where classes change: a tick, not a number (the classes are what a person reads;
        # a cell's value is in its hover text).
        painter.setPen(QColor(MUTED_GREY))
        for i in range(len(self.edges)):
            y = bottom - i * per_class
            painter.drawLine(QPointF(bar_left, y), QPointF(bar_left + bar_width + 3, y))
        painter.setPen(QColor(TEXT))
        for i, name in enumerate(RISK_CLASSES):
            y = bottom - (i + 0.5) * per_class
            painter.drawText(QPointF(text_left, y + metrics.ascent() / 2 - 1), class_label(name))
        painter.end()


@dataclass(frozen=True, slots=True)
class _Markers:
    """The incident markers shown, as arrays for hit tests (metres, pixels)."""

    incidents: tuple[IncidentView, ...]
    x: FloatArray
    y: FloatArray
    size_px: FloatArray
    row_of: Mapping[int, int]


_NO_MARKERS = _Markers((), np.zeros(0), np.zeros(0), np.zeros(0), {})


class RiskMapPane(QWidget):
    """The risk map pane (see the module). Give it the console's query client, its
    :class:`RiskMapActions` and the engine clock's ``now``; it loads when first shown."""

    sig_location_picked = Signal(float, float)
    """The operator clicked the map away from any incident marker: the point's latitude and
    longitude in degrees (GUI thread). The report form takes it as the report's place."""

    sig_incident_selected = Signal(int)
    """The operator clicked an incident's marker: its id (GUI thread). Not emitted by
    :meth:`select_incident`."""

    sig_map_loaded = Signal()
    """A risk map arrived and is drawn, or its read failed (GUI thread)."""

    sig_markers_loaded = Signal(int)
    """Incident markers arrived and are drawn: how many (GUI thread; -1 when the read
    failed)."""

    def __init__(
        self,
        queries: QueryClient,
        actions: RiskMapActions,
        *,
        now: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._queries = queries
        self._actions = actions
        self._now = now
        self._channel = f"risk-{id(self):x}"
        self._loaded_once = False
        self._map: PreparedMap | None = None
        self._map_loading = False
        self._map_error: str | None = None
        self._incidents: tuple[IncidentView, ...] | None = None
        self._markers_loading = False
        self._markers_error: str | None = None
        self._markers = _NO_MARKERS
        self._selected_id: int | None = None
        self._position_paths: dict[int, list[QPainterPath]] = {}
        self._shown_paths: list[QPainterPath | None] = [None] * COLOUR_LEVELS
        self._empty_path = QPainterPath()
        self._hover_view: tuple[float, float] | None = None
        self._range_set = False
        self._colours = level_colours()
        self._category_brushes = {c: QBrush(QColor(category_colour(c))) for c in CATEGORY_COLOURS}
        self._camera_labels: list[pg.TextItem] = []
        self._cameras_drawn: tuple[tuple[MapCamera, ...], LocalProjection] | None = None
        self._markers_projection: LocalProjection | None = None
        self._plan: PreparedPlan | None = None
        self._plan_loaded = False
        self._plan_error: str | None = None
        self._plan_transform: PlanTransform | None = None
        self._plan_fitted = False
        self._may_pin = False
        self._pin_dialog: PinPlanDialog | None = None

        # -- controls ----------------------------------------------------------------------
        self.hour_slider = HourSlider(Qt.Orientation.Horizontal)
        self.hour_slider.setRange(0, 0)
        self.hour_slider.setPageStep(3)
        self.hour_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.hour_slider.setTickInterval(1)
        self.hour_slider.setToolTip("Drag: live risk now, then the model's next 24 hours")
        self.hour_slider.valueChanged.connect(self._on_hour_changed)
        self.hour_label = QLabel(LIVE_TEXT)
        self.hour_label.setMinimumWidth(300)
        self.hour_label.setStyleSheet("font-weight: bold;")
        self.category_box = QComboBox()
        self.category_box.addItem(ALL_CATEGORIES_TEXT, None)
        for category in INCIDENT_CATEGORIES:
            self.category_box.addItem(
                _dot_icon(category_colour(category)), category_label(category), category
            )
        self.category_box.setToolTip("Incident markers of this category only")
        self.category_box.currentIndexChanged.connect(self._on_filter_changed)
        self.period_box = QComboBox()
        for text, _ in PERIODS:
            self.period_box.addItem(f"Last {text}")
        self.period_box.setCurrentIndex(DEFAULT_PERIOD)
        self.period_box.setToolTip("Incident markers from this far back")
        self.period_box.currentIndexChanged.connect(self._on_filter_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        time_row = QHBoxLayout()
        time_row.addWidget(QLabel("Time:"))
        time_row.addWidget(self.hour_slider, 1)
        time_row.addWidget(self.hour_label)
        filter_row = QHBoxLayout()
        filter_row.addWidget(QLabel("Incidents:"))
        filter_row.addWidget(self.category_box)
        filter_row.addWidget(self.period_box)
        self.marker_label = QLabel()
        filter_row.addWidget(self.marker_label, 1)
        filter_row.addWidget(self.refresh_button)

        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plan_button = QPushButton(ADD_PLAN_TEXT)
        self.plan_button.setToolTip(
            "Draw a site or floor plan under the map: a PNG or JPEG, pinned by two points"
        )
        self.plan_button.clicked.connect(self._on_plan_button_clicked)
        self.plan_button.hide()
        plan_row = QHBoxLayout()
        plan_row.addWidget(self.plan_label, 1)
        plan_row.addWidget(self.plan_button)

        self.model_label = QLabel(LOADING_TEXT)
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        show_as_error(self.error_label)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        # -- the map -----------------------------------------------------------------------
        self.plot_widget = pg.PlotWidget(background=BACKGROUND)
        self.plot_widget.setMinimumSize(300, 240)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("bottom", "east of the site", units="m")
        plot.setLabel("left", "north of the site", units="m")
        self.view_box: pg.ViewBox = plot.getViewBox()
        self.view_box.setAspectLocked(True, ratio=1.0)
        # The site plan, under everything (the cells go translucent over it).
        self._plan_item = QGraphicsPixmapItem()
        self._plan_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._plan_item.setZValue(-1)
        self._plan_item.hide()
        self.view_box.addItem(self._plan_item, ignoreBounds=True)
        self._level_items: list[QGraphicsPathItem] = []
        for colour in self._colours:
            item = QGraphicsPathItem()
            item.setPen(QPen(Qt.PenStyle.NoPen))
            item.setBrush(QBrush(colour))
            item.setZValue(0)
            self.view_box.addItem(item, ignoreBounds=True)
            self._level_items.append(item)
        outline_pen = QPen(CELL_OUTLINE)
        outline_pen.setCosmetic(True)
        outline_pen.setWidth(1)
        self._outline_item = QGraphicsPathItem()
        self._outline_item.setPen(outline_pen)
        self._outline_item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self._outline_item.setZValue(1)
        self.view_box.addItem(self._outline_item, ignoreBounds=True)
        self._incident_item = pg.ScatterPlotItem(
            pxMode=True, symbol="o", pen=pg.mkPen(BACKGROUND, width=1), hoverable=False
        )
        self._incident_item.setZValue(5)
        # The markers do not change with the slider: drawn once into a pixmap (again when
        # they, the view or its size change) and copied over each new frame's cells, instead
        # of 5,000 sprites blended per frame. pyqtgraph's scatter maps its points through the
        # painter's transform, which includes the cache's offset, so it draws right into it.
        self._incident_item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.view_box.addItem(self._incident_item)
        self._highlight_item = pg.ScatterPlotItem(
            pxMode=True, symbol="o", pen=pg.mkPen(SELECTED_RING, width=3), brush=None
        )
        self._highlight_item.setZValue(6)
        self.view_box.addItem(self._highlight_item)
        self._camera_item = pg.ScatterPlotItem(
            pxMode=True, symbol="s", size=CAMERA_PX, pen=pg.mkPen(CAMERA_OUTLINE, width=1.5)
        )
        self._camera_item.setZValue(7)
        self.view_box.addItem(self._camera_item)
        # Hover: every move the viewport gets (pyqtgraph's scene signal drops moves closer
        # than its rate limit, so the pointer's last position could go undescribed).
        self.plot_widget.viewport().installEventFilter(self)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_mouse_clicked)

        self.colour_bar = ColourBar()
        map_row = QHBoxLayout()
        map_row.addWidget(self.plot_widget, 1)
        map_row.addWidget(self.colour_bar)

        self.legend_label = QLabel(_legend_html())
        self.legend_label.setWordWrap(True)
        self.hover_label = QLabel("Hover over the map for details; click to pick a place.")
        self.hover_label.setWordWrap(True)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hover_label.setMinimumHeight(self.hover_label.fontMetrics().height() * 2)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(time_row)
        layout.addLayout(filter_row)
        layout.addWidget(self.model_label)
        layout.addWidget(self.error_label)
        layout.addLayout(plan_row)
        layout.addLayout(map_row, 1)
        layout.addWidget(self.legend_label)
        layout.addWidget(self.hover_label)
        self._update_state()
        self._update_scale()
        self._update_plan_label()

    # -- public API --------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the map (live risk, predictions, cameras, model state) and the markers."""
        self._loaded_once = True
        self._load_map()
        self._load_markers()
        self._load_plan()

    def on_incidents_changed(self) -> None:
        """Incidents were filed or changed: reload the markers and the live layer."""
        self.refresh()

    def on_cameras_changed(self) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed):
        read the map again, whose cameras are the site's as they are now (the markers and
        the plan stay). Not before the map was first asked for."""
        if self._loaded_once:
            self._load_map()

    def on_model_refitted(self) -> None:
        """The risk model was refitted: reload everything (predictions, classes, cameras)."""
        self.refresh()

    def select_incident(self, incident_id: int | None) -> None:
        """Highlight incident ``incident_id`` (None: none), panning to it when it is out of
        view; says so when it is not among the markers shown (filtered out)."""
        self._selected_id = incident_id
        self._update_highlight(pan=True)

    def selected_incident(self) -> int | None:
        return self._selected_id

    def is_highlighted(self, incident_id: int) -> bool:
        """Whether ``incident_id``'s marker is drawn highlighted now."""
        return (
            self._selected_id == incident_id
            and incident_id in self._markers.row_of
            and self._highlight_item.isVisible()
            and len(self._highlight_item.data) == 1
        )

    def is_loading(self) -> bool:
        return self._map_loading or self._markers_loading

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed: an admin (the change-settings permission) is offered
        to add or replace the site plan; anyone else is not, and a pin dialog left open
        for someone else closes."""
        self.set_may_pin(actor is not None and actor.may(Permission.CHANGE_SETTINGS))

    def set_may_pin(self, allowed: bool) -> None:
        """Offer adding the site plan (the engine refuses anyone without the permission
        anyway)."""
        allowed = allowed and isinstance(self._actions, SitePlanActions)
        self._may_pin = allowed
        if not allowed and self._pin_dialog is not None:
            self._pin_dialog.close()
            self._pin_dialog = None
        self.plan_button.setVisible(allowed)
        self._update_plan_label()

    def open_pin_dialog(self, path: Path) -> PinPlanDialog | None:
        """Open the dialog that pins the picture at ``path`` as the site plan (None: this
        person may not). When the plan is saved the map reloads it."""
        if not self._may_pin or not isinstance(self._actions, SitePlanActions):
            return None
        if self._pin_dialog is not None:
            self._pin_dialog.close()
        dialog = PinPlanDialog(self._queries, self._actions, Path(path), parent=self)
        dialog.setWindowFlag(Qt.WindowType.Window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_plan_pinned.connect(self._on_plan_pinned)
        dialog.destroyed.connect(lambda _obj=None: self._forget_dialog(dialog))
        self._pin_dialog = dialog
        dialog.show()
        return dialog

    def close_what_was_opened(self) -> None:
        """A lock or logout: the pin dialog closes."""
        if self._pin_dialog is not None:
            self._pin_dialog.close()
            self._pin_dialog = None

    def site_plan(self) -> SitePlanShown | None:
        """The plan drawn under the map (None: none)."""
        return None if self._plan is None else self._plan.shown

    def plan_is_drawn(self) -> bool:
        return self._plan_item.isVisible() and self._plan_transform is not None

    def plan_point(self, x_px: float, y_px: float) -> QPoint:
        """Where the plan's picture pixel (``x_px``, ``y_px``) is drawn, in the map view's
        viewport pixels (as the plan item's own transform places it)."""
        if not self.plan_is_drawn():
            raise LookupError("no plan drawn")
        scene = self._plan_item.mapToScene(QPointF(x_px, y_px))
        point: QPoint = self.plot_widget.mapFromScene(scene)
        return point

    def hour(self) -> int:
        """The slider's position: 0 live, ``h`` the predictions for +``h`` h."""
        return int(self.hour_slider.value())

    def set_hour(self, position: int) -> None:
        self.hour_slider.setValue(position)

    def set_category(self, category: str | None) -> None:
        """Show markers of ``category`` only (None: all); reloads them."""
        index = self.category_box.findData(category)
        if index < 0:
            raise ValueError(f"unknown category {category!r}")
        self.category_box.setCurrentIndex(index)

    def category(self) -> str | None:
        data = self.category_box.currentData()
        return None if data is None else str(data)

    def set_period(self, index: int) -> None:
        """Markers from the last :data:`PERIODS` ``[index]``; reloads them."""
        self.period_box.setCurrentIndex(index)

    def period(self) -> timedelta:
        return PERIODS[max(self.period_box.currentIndex(), 0)][1]

    def prepared_map(self) -> PreparedMap | None:
        return self._map

    def marker_ids(self) -> list[int]:
        """The incidents drawn as markers, newest first."""
        return [i.incident_id for i in self._markers.incidents]

    def cell_value(self, row: int) -> float:
        """The value cell ``row`` shows now (live risk or expected incidents)."""
        if self._map is None:
            raise LookupError("no map yet")
        return float(self._map.values[self.hour(), row])

    def cell_class(self, row: int) -> str:
        if self._map is None:
            raise LookupError("no map yet")
        return RISK_CLASSES[int(self._map.classes[self.hour(), row])]

    def cell_colour(self, row: int) -> QColor:
        """The fill cell ``row`` is drawn with now."""
        if self._map is None:
            raise LookupError("no map yet")
        return QColor(self._colours[int(self._map.levels[self.hour(), row])])

    def view_point(self, latitude: float, longitude: float) -> QPoint:
        """Where (``latitude``, ``longitude``) is drawn, in the map view's viewport pixels."""
        if self._map is None:
            raise LookupError("no map yet")
        x, y = self._map.projection.to_metres(latitude, longitude)
        scene = self.view_box.mapViewToScene(QPointF(float(x), float(y)))
        point: QPoint = self.plot_widget.mapFromScene(scene)
        return point

    def location_at(self, point: QPoint) -> tuple[float, float] | None:
        """(lat, lon) under viewport pixel ``point`` (None off the map or before data)."""
        view = self._view_at_scene(self.plot_widget.mapToScene(point))
        if view is None or self._map is None:
            return None
        return self._map.projection.to_degrees(*view)

    def describe_at(self, point: QPoint) -> str:
        """What hovering at viewport pixel ``point`` tells: a camera, else an incident,
        else a cell, else nothing."""
        view = self._view_at_scene(self.plot_widget.mapToScene(point))
        return "" if view is None else self._describe(view)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The pointer moving over the map, or leaving it, updates the hover details."""
        if watched is self.plot_widget.viewport():
            if event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                self._on_mouse_moved(self.plot_widget.mapToScene(event.position().toPoint()))
            elif event.type() == QEvent.Type.Leave:
                self._hover_view = None
                self.hover_label.setText("")
        return super().eventFilter(watched, event)

    # -- loading -----------------------------------------------------------------------
    def _load_map(self) -> None:
        self._map_loading = True
        self._update_state()
        self._queries.submit(
            f"{self._channel}.map",
            CallRequest(partial(_load_map, self._actions, FORECAST_HOURS), "risk map"),
            self._on_map_loaded,
        )

    def _load_markers(self) -> None:
        self._markers_loading = True
        self._update_state()
        since = self._now() - self.period()
        self._queries.submit(
            f"{self._channel}.incidents",
            CallRequest(
                partial(
                    self._actions.incidents,
                    since=since,
                    until=None,
                    category=self.category(),
                    limit=MARKER_LIMIT,
                ),
                "risk map incidents",
            ),
            self._on_incidents_loaded,
        )

    def _load_plan(self) -> None:
        self._queries.submit(
            f"{self._channel}.plan",
            CallRequest(partial(_load_plan, self._actions), "site plan"),
            self._on_plan_loaded,
        )

    def _on_plan_loaded(self, result: QueryResult[Any]) -> None:
        self._plan_loaded = True
        if result.error is not None:
            self._plan_error = f"Could not load the site plan: {printable(str(result.error))}"
            self._plan = None
        else:
            self._plan_error = None
            self._plan = result.value if isinstance(result.value, PreparedPlan) else None
            self._plan_fitted = False
        self._draw_plan()
        self._update_plan_label()

    def _on_plan_pinned(self, _view: SitePlanView) -> None:
        self._load_plan()

    def _forget_dialog(self, dialog: PinPlanDialog) -> None:
        if self._pin_dialog is dialog:
            self._pin_dialog = None

    def _on_plan_button_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose the site plan", "", "Plans (*.png *.jpg *.jpeg);;All files (*)"
        )
        if path:
            self.open_pin_dialog(Path(path))

    def _on_map_loaded(self, result: QueryResult[Any]) -> None:
        self._map_loading = False
        prepared = result.value
        if result.error is not None or not isinstance(prepared, PreparedMap):
            self._map_error = f"Could not load the risk map: {printable(str(result.error))}"
            self._update_state()
            self.sig_map_loaded.emit()
            return
        self._map_error = None
        self._map = prepared
        self._position_paths.clear()
        self._shown_paths = [None] * COLOUR_LEVELS
        position = min(self.hour(), prepared.hours)
        self.hour_slider.blockSignals(True)
        self.hour_slider.setRange(0, prepared.hours)
        self.hour_slider.setValue(position)
        self.hour_slider.blockSignals(False)
        self.hour_slider.setEnabled(prepared.hours > 0)
        self._outline_item.setPath(
            pg.arrayToQPath(
                prepared.corner_x,
                prepared.corner_y,
                connect=prepared.corner_connects,
                finiteCheck=False,
            )
        )
        if (prepared.risk_map.cameras, prepared.projection) != self._cameras_drawn:
            self._draw_cameras(prepared)
        if not self._range_set and prepared.cell_count:
            self._fit_view(prepared)
        self._draw_plan()
        self._show_position(position)
        if prepared.projection != self._markers_projection:
            self._draw_markers()  # markers that came first, or the site moved
        self._update_state()
        self.sig_map_loaded.emit()

    def _on_incidents_loaded(self, result: QueryResult[Any]) -> None:
        self._markers_loading = False
        if result.error is not None or not isinstance(result.value, list):
            self._markers_error = f"Could not load the incidents: {printable(str(result.error))}"
            self._update_state()
            self.sig_markers_loaded.emit(-1)
            return
        self._markers_error = None
        self._incidents = tuple(result.value)
        self._draw_markers()
        self._update_state()
        self.sig_markers_loaded.emit(len(self._markers.incidents))

    # -- drawing -----------------------------------------------------------------------
    def _fit_view(self, prepared: PreparedMap) -> None:
        xs, ys = prepared.corner_x, prepared.corner_y
        self.view_box.setRange(
            QRectF(
                float(xs.min()), float(ys.min()), float(np.ptp(xs)) or 1.0, float(np.ptp(ys)) or 1.0
            ),
            padding=0.02,
        )
        self._range_set = True

    def _draw_plan(self) -> None:
        """Put the plan's picture where its pins say, under translucent cells; without a
        plan (or before the map, whose centre the pins are measured from) the cells are
        drawn as ever."""
        prepared, plan = self._map, self._plan
        shown = prepared is not None and plan is not None and plan.image is not None
        if not shown:
            self._plan_item.hide()
            self._plan_transform = None
            for item in self._level_items:
                item.setOpacity(1.0)
            return
        assert prepared is not None and plan is not None and plan.image is not None
        centre = (prepared.projection.latitude, prepared.projection.longitude)
        transform = pins_transform(centre, plan.shown.plan.pins)
        self._plan_transform = transform
        self._plan_item.setPixmap(QPixmap.fromImage(plan.image))
        self._plan_item.setTransform(QTransform(*transform.matrix()))
        self._plan_item.show()
        for item in self._level_items:
            item.setOpacity(PLAN_CELL_OPACITY)
        if not self._plan_fitted:
            # The plan is the place people know: show it whole, with some of the area
            # around it, rather than the whole 3 km grid in which it is a speck.
            self._plan_fitted = True
            bounds = self._plan_item.mapRectToParent(self._plan_item.boundingRect())
            grown = bounds.adjusted(
                -bounds.width() * 0.3,
                -bounds.height() * 0.3,
                bounds.width() * 0.3,
                bounds.height() * 0.3,
            )
            self.view_box.setRange(grown, padding=0.0)
            self._range_set = True

    def _update_plan_label(self) -> None:
        plan = self._plan
        colour = ""
        if self._plan_error:
            text, colour = self._plan_error, WARNING_AMBER
        elif plan is None:
            text = (
                ""
                if not self._plan_loaded
                else (NO_PLAN_ADMIN_TEXT if self._may_pin else NO_PLAN_TEXT)
            )
        else:
            view = plan.shown.plan
            text = (
                f"Site plan: {printable(view.original_name)}, pinned by "
                f"{display_actor(view.pinned_by)} on {_site_text(view.pinned_at)}"
            )
            if plan.shown.problem:
                text, colour = (
                    f"Site plan not shown: {printable(plan.shown.problem)}",
                    (WARNING_AMBER),
                )
            elif plan.image is None:
                text, colour = (
                    f"Site plan not shown: {printable(view.original_name)} does not decode; "
                    "load the plan again",
                    WARNING_AMBER,
                )
        self.plan_label.setText(text)
        self.plan_label.setStyleSheet(f"color: {colour};" if colour else "")
        self.plan_label.setVisible(bool(text))
        self.plan_button.setText(REPLACE_PLAN_TEXT if plan is not None else ADD_PLAN_TEXT)

    def _paths_at(self, prepared: PreparedMap, position: int) -> list[QPainterPath]:
        """The hexagons of each colour level at ``position``, built once per map."""
        paths = self._position_paths.get(position)
        if paths is not None:
            return paths
        levels = prepared.levels[position]
        corner_levels = levels[prepared.corner_cell]
        order = np.argsort(corner_levels, kind="stable")
        sorted_levels = corner_levels[order]
        bounds = np.searchsorted(sorted_levels, np.arange(COLOUR_LEVELS + 1))
        x, y = prepared.corner_x[order], prepared.corner_y[order]
        connects = prepared.corner_connects[order]
        paths = []
        for level in range(COLOUR_LEVELS):
            begin, end = int(bounds[level]), int(bounds[level + 1])
            if begin == end:
                paths.append(self._empty_path)
                continue
            paths.append(
                pg.arrayToQPath(
                    x[begin:end], y[begin:end], connect=connects[begin:end], finiteCheck=False
                )
            )
        self._position_paths[position] = paths
        return paths

    def _show_position(self, position: int) -> None:
        """Recolour the cells for slider ``position``: swap the level items' paths."""
        prepared = self._map
        if prepared is None:
            return
        paths = self._paths_at(prepared, position)
        for level, (item, path) in enumerate(zip(self._level_items, paths, strict=True)):
            if self._shown_paths[level] is not path:
                item.setPath(path)
                self._shown_paths[level] = path
        self.hour_label.setText(hour_text(prepared.risk_map.start, position))
        self._update_scale()
        if self._hover_view is not None:
            self.hover_label.setText(self._describe(self._hover_view))

    def _update_scale(self) -> None:
        prepared = self._map
        if prepared is None:
            self.colour_bar.set_scale("", None)
        elif self.hour() == 0:
            if self.colour_bar.edges is not prepared.live_edges:
                self.colour_bar.set_scale(LIVE_SCALE_TITLE, prepared.live_edges)
        elif self.colour_bar.edges is not prepared.predicted_edges:
            self.colour_bar.set_scale(PREDICTED_SCALE_TITLE, prepared.predicted_edges)

    def _draw_cameras(self, prepared: PreparedMap) -> None:
        self._cameras_drawn = (prepared.risk_map.cameras, prepared.projection)
        for label in self._camera_labels:
            self.view_box.removeItem(label)
        self._camera_labels = []
        cameras = prepared.risk_map.cameras
        if not cameras:
            self._camera_item.setData(x=[], y=[])
            return
        x, y = prepared.projection.to_metres(
            [c.latitude for c in cameras], [c.longitude for c in cameras]
        )
        brushes = [
            QBrush(
                class_colour(RISK_CLASSES.index(c.risk_class))
                if c.risk_class in RISK_CLASSES
                else QColor(MUTED_GREY)
            )
            for c in cameras
        ]
        self._camera_item.setData(x=x, y=y, brush=brushes)
        for camera, cx, cy in zip(cameras, x, y, strict=True):
            label = pg.TextItem(
                f"{printable(camera.name)} · {class_label(camera.risk_class)}",
                color=MARK_WHITE,
                fill=pg.mkBrush(13, 17, 23, 190),
                anchor=(-0.08, 1.05),
            )
            label.setPos(float(cx), float(cy))
            label.setZValue(8)
            self.view_box.addItem(label, ignoreBounds=True)
            self._camera_labels.append(label)

    def _draw_markers(self) -> None:
        prepared, incidents = self._map, self._incidents
        if prepared is None or incidents is None:
            return
        x, y = prepared.projection.to_metres(
            [i.latitude for i in incidents], [i.longitude for i in incidents]
        )
        sizes = marker_sizes_px([i.reporter_count for i in incidents])
        fallback = QBrush(QColor(_UNKNOWN_CATEGORY_COLOUR))
        brushes = [self._category_brushes.get(i.category, fallback) for i in incidents]
        # Oldest first, so the newest incidents are drawn on top.
        self._incident_item.setData(x=x[::-1], y=y[::-1], size=sizes[::-1], brush=brushes[::-1])
        self._markers_projection = prepared.projection
        self._markers = _Markers(
            incidents=incidents,
            x=x,
            y=y,
            size_px=sizes,
            row_of={incident.incident_id: row for row, incident in enumerate(incidents)},
        )
        self._update_marker_label()
        self._update_highlight(pan=False)

    def _update_highlight(self, *, pan: bool) -> None:
        row = None if self._selected_id is None else self._markers.row_of.get(self._selected_id)
        if row is None:
            self._highlight_item.setData(x=[], y=[])
            self._highlight_item.hide()
        else:
            x, y = float(self._markers.x[row]), float(self._markers.y[row])
            size = float(self._markers.size_px[row]) + 10
            self._highlight_item.setData(x=[x], y=[y], size=size)
            self._highlight_item.show()
            if pan and not self.view_box.viewRect().contains(QPointF(x, y)):
                rect = self.view_box.viewRect()
                rect.moveCenter(QPointF(x, y))
                self.view_box.setRange(rect, padding=0.0)
        self._update_marker_label()

    def _update_marker_label(self) -> None:
        if self._incidents is None:
            self.marker_label.setText("")
            return
        count = len(self._markers.incidents)
        period_text = PERIODS[max(self.period_box.currentIndex(), 0)][0]
        category = self.category()
        what = "incident" if category is None else f"{category_label(category)} incident"
        text = f"{count:,} {what}{'' if count == 1 else 's'} in the last {period_text}"
        if count >= MARKER_LIMIT:
            text += f" (the newest {MARKER_LIMIT:,} shown)"
        if self._selected_id is not None and self._selected_id not in self._markers.row_of:
            text += f"; incident {self._selected_id} is not shown (outside the filter)"
        self.marker_label.setText(text)

    def _update_state(self) -> None:
        prepared = self._map
        colour = ""
        if self._map_loading and prepared is None:
            text = LOADING_TEXT
        elif prepared is None:
            text = "No risk map."
        else:
            risk_map = prepared.risk_map
            if risk_map.model_problem:
                text = f"Predictions unavailable: {printable(risk_map.model_problem)}"
                colour = WARNING_AMBER
            elif risk_map.model_fitted_at is not None:
                text = f"Risk model fitted {_site_text(risk_map.model_fitted_at)}"
            else:
                text = "No risk model."
                colour = WARNING_AMBER
            if prepared.hours == 0 and not risk_map.model_problem:
                text += " No predictions: live risk only."
            if self.is_loading():
                text += f" {LOADING_TEXT}"
        self.model_label.setText(text)
        self.model_label.setStyleSheet(f"color: {colour};" if colour else "")
        errors = [e for e in (self._map_error, self._markers_error) if e]
        self.error_label.setText("\n".join(errors))
        self.error_label.setVisible(bool(errors))

    # -- hover and click ---------------------------------------------------------------
    def _view_at_scene(self, scene_pos: QPointF) -> tuple[float, float] | None:
        if self._map is None or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        view = self.view_box.mapSceneToView(scene_pos)
        return float(view.x()), float(view.y())

    def _pixels_per_metre(self) -> tuple[float, float]:
        width, height = self.view_box.viewPixelSize()
        return 1.0 / max(width, 1e-12), 1.0 / max(height, 1e-12)

    def _incident_at(self, x_m: float, y_m: float) -> IncidentView | None:
        markers = self._markers
        if not markers.incidents:
            return None
        px, py = self._pixels_per_metre()
        distance = np.hypot((markers.x - x_m) * px, (markers.y - y_m) * py)
        hit = distance <= markers.size_px / 2 + HIT_SLOP_PX
        if not hit.any():
            return None
        # Of the markers under the pointer, the nearest (the newest of equals: drawn on top).
        candidates = np.flatnonzero(hit)
        return markers.incidents[int(candidates[np.argmin(distance[candidates])])]

    def _camera_at(self, x_m: float, y_m: float) -> MapCamera | None:
        prepared = self._map
        if prepared is None or not prepared.risk_map.cameras:
            return None
        cameras = prepared.risk_map.cameras
        cx, cy = prepared.projection.to_metres(
            [c.latitude for c in cameras], [c.longitude for c in cameras]
        )
        px, py = self._pixels_per_metre()
        distance = np.hypot((cx - x_m) * px, (cy - y_m) * py)
        nearest = int(np.argmin(distance))
        return cameras[nearest] if distance[nearest] <= CAMERA_PX / 2 + HIT_SLOP_PX else None

    def _cell_at(self, x_m: float, y_m: float) -> int | None:
        prepared = self._map
        if prepared is None or prepared.resolution is None:
            return None
        lat, lon = prepared.projection.to_degrees(x_m, y_m)
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return None
        cell = int(h3.latlng_to_cell(lat, lon, prepared.resolution))
        return prepared.cell_row.get(cell)

    def _describe(self, view: tuple[float, float]) -> str:
        x_m, y_m = view
        camera = self._camera_at(x_m, y_m)
        if camera is not None:
            return (
                f"Camera {printable(camera.name)}: "
                f"today's risk class {class_label(camera.risk_class)}"
            )
        incident = self._incident_at(x_m, y_m)
        if incident is not None:
            return incident_text(incident)
        row = self._cell_at(x_m, y_m)
        if row is not None and self._map is not None:
            return self._cell_text(self._map, row)
        return ""

    def _cell_text(self, prepared: PreparedMap, row: int) -> str:
        position = self.hour()
        value = float(prepared.values[position, row])
        name = class_label(RISK_CLASSES[int(prepared.classes[position, row])])
        x_m, y_m = prepared.centres_xy[row]
        if position == 0:
            what = f"live risk {_format_value(value)}"
        else:
            window = hour_text(prepared.risk_map.start, position).removeprefix("Predicted ")
            what = f"{_format_value(value)} expected incidents {window}"
        return (
            f"{name[:1].upper()}{name[1:]} risk: {what}; "
            f"{_compass(x_m, 'E', 'W')}, {_compass(y_m, 'N', 'S')} of the site's centre"
        )

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view = self._view_at_scene(scene_pos)
        self._hover_view = view
        self.hover_label.setText("" if view is None else self._describe(view))

    def _on_mouse_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        view = self._view_at_scene(event.scenePos())
        if view is None or self._map is None:
            return
        incident = self._incident_at(*view)
        if incident is not None:
            self.select_incident(incident.incident_id)
            self.sig_incident_selected.emit(incident.incident_id)
            return
        latitude, longitude = self._map.projection.to_degrees(*view)
        self.sig_location_picked.emit(latitude, longitude)

    # -- handlers ----------------------------------------------------------------------
    def _on_hour_changed(self, position: int) -> None:
        self._show_position(position)

    def _on_filter_changed(self) -> None:
        if self._loaded_once:
            self._load_markers()


def incident_text(incident: IncidentView) -> str:
    """An incident as the map's hover describes it."""
    reporters = incident.reporter_count
    reports = incident.report_count
    text = (
        f"Incident {incident.incident_id}: {category_label(incident.category)}, severity "
        f"{incident.severity}, {reporters} reporter{'' if reporters == 1 else 's'} "
        f"({reports} report{'' if reports == 1 else 's'}), {_site_text(incident.occurred_at)}; "
        f"classified by {printable(incident.classifier)} ({incident.category_basis})"
    )
    if incident.validated_by:
        text += f", validated by {printable(incident.validated_by)}"
    return text


def _compass(metres: float, positive: str, negative: str) -> str:
    return f"{abs(metres):,.0f} m {positive if metres >= 0 else negative}"


def _dot_icon(colour: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(BACKGROUND)))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def _legend_html() -> str:
    dots = " ".join(
        f'<span style="color:{category_colour(c)}">●</span>&nbsp;{category_label(c)}'
        for c in INCIDENT_CATEGORIES
    )
    return (
        f"{dots} &nbsp;&nbsp;<span style='color:{MARK_WHITE}'>■</span>&nbsp;camera (filled with "
        "today's risk class) &nbsp; larger dots: more reporters"
    )
