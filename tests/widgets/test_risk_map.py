"""The risk map pane, drawn for real (offscreen) from a hand-built map of 19 real H3 cells
around a point in London, two cameras and three incidents: the cells' colours follow the
time slider, hovering describes a cell, an incident or a camera, clicks pick a place or an
incident, the markers follow the filters, and the model's state and backend errors show.

The pane's reads go through a fake query client that answers on the GUI thread once control
returns to the event loop (as the console's does), dropping answers superseded on their
channel; one test runs through the console's real client to check the reads leave the GUI
thread."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.query_service import QueryRequest, QueryResult, QueryService
from engine.incidents.records import IncidentView
from engine.incidents.risk import RISK_CLASSES, risk_class, risk_thresholds
from engine.incidents.service import MapCamera, RiskMap
from engine.sitetime import SiteTime
from engine.wording import number
from tests.machine_text import machine_text
from widgets.risk_map.view import (
    ALL_CATEGORIES_TEXT,
    LIVE_SCALE_TITLE,
    LIVE_TEXT,
    LOADING_TEXT,
    MARKER_LIMIT,
    PREDICTED_SCALE_TITLE,
    RiskMapPane,
    class_indices,
    hour_text,
    level_colours,
    marker_size_px,
)

NOW = datetime(2026, 2, 3, 10, 25, tzinfo=UTC)
CENTRE = (51.5074, -0.1278)
ORIGIN = h3.latlng_to_cell(*CENTRE, 9)
CELLS = sorted(h3.str_to_int(c) for c in h3.grid_disk(ORIGIN, 2))  # 19 cells, ~1.7 km across
CENTRES = np.array([h3.cell_to_latlng(h3.int_to_str(c)) for c in CELLS])
HOURS = 24
NO_MODEL = "no risk model yet (first refit pending)"
VIOLENCE_ROW, THEFT_ROW, FIRE_ROW, GATE_ROW, YARD_ROW = 3, 5, 7, 12, 15
MARKED_ROWS = {VIOLENCE_ROW, THEFT_ROW, FIRE_ROW, GATE_ROW, YARD_ROW}


def latlon(row: int) -> tuple[float, float]:
    return float(CENTRES[row, 0]), float(CENTRES[row, 1])


def predictions() -> np.ndarray:
    """Expected incidents per cell and hour: each cell's value moves with the hour."""
    rows = np.arange(len(CELLS))[:, None]
    hours = np.arange(HOURS)[None, :]
    return ((rows + 3 * hours) % len(CELLS)) / 100.0


def risk_map(**changes: Any) -> RiskMap:
    predicted = predictions()
    built = RiskMap(
        centre=CENTRE,
        cells=np.array(CELLS, dtype=np.int64),
        centres=CENTRES,
        corners=tuple(np.array(h3.cell_to_boundary(h3.int_to_str(c))) for c in CELLS),
        live=np.arange(len(CELLS), dtype=np.float64) * 0.1,
        predicted=predicted,
        start=NOW.replace(minute=0),
        hours=HOURS,
        cameras=(
            MapCamera("gate", "Front gate", *latlon(GATE_ROW), "high"),
            MapCamera("yard", "Yard", *latlon(YARD_ROW), None),
        ),
        model_fitted_at=datetime(2026, 2, 3, 2, 0, 12, tzinfo=UTC),
        model_problem=None,
        thresholds=risk_thresholds(predicted.ravel()),
    )
    return replace(built, **changes)


def incident(incident_id: int, row: int, category: str, hours_ago: float, **changes: Any) -> Any:
    lat, lon = (float(v) for v in CENTRES[row])
    at = NOW - timedelta(hours=hours_ago)
    view = IncidentView(
        incident_id=incident_id,
        occurred_at=at,
        last_report_at=at,
        latitude=lat,
        longitude=lon,
        cell=CELLS[row],
        category=category,
        severity=3,
        confidence=0.9,
        classifier="keywords",
        category_basis="single",
        llm_pending=False,
        report_count=1,
        reporter_count=1,
        validated_by=None,
        validated_at=None,
        report_ids=(incident_id,),
        media_ids=(),
    )
    return replace(view, **changes)


INCIDENTS = [  # newest first, as the service lists them
    incident(1, VIOLENCE_ROW, "violence", 2),
    incident(
        2, THEFT_ROW, "theft", 30, reporter_count=2, report_count=3, category_basis="majority"
    ),
    incident(3, FIRE_ROW, "fire", 240, validated_by="ada"),
]


class FakeIncidents:
    """The console's incident backend over the map and list above, recording its calls."""

    def __init__(self) -> None:
        self.map = risk_map()
        self.incident_views = list(INCIDENTS)
        self.failure: Exception | None = None
        self.calls: list[tuple[Any, ...]] = []
        self.threads: set[str] = set()

    def risk_map(self, hours: int) -> RiskMap:
        self.calls.append(("risk_map", hours))
        self.threads.add(threading.current_thread().name)
        if self.failure is not None:
            raise self.failure
        return self.map

    def incidents(
        self,
        since: datetime | None,
        until: datetime | None,
        category: str | None,
        limit: int,
    ) -> list[IncidentView]:
        self.calls.append(("incidents", since, until, category, limit))
        self.threads.add(threading.current_thread().name)
        return [
            i
            for i in self.incident_views
            if (since is None or i.occurred_at >= since)
            and (until is None or i.occurred_at < until)
            and (category is None or i.category == category)
        ][:limit]

    def site_plan(self) -> None:
        """No plan: the map looks as it always did (tests/widgets/test_risk_map_plan.py
        draws one)."""
        self.calls.append(("site_plan",))
        return None

    def incident_calls(self) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == "incidents"]


class FakeQueryClient:
    """The pane's query client without threads: runs each request when submitted and hands
    the answer over on the GUI thread once control returns to the event loop, dropping
    answers superseded on their channel. ``hold`` keeps answers back until :meth:`release`."""

    def __init__(self) -> None:
        self.hold = False
        self._latest: dict[str, int] = {}
        self._pending: list[tuple[QueryResult[Any], Callable[..., None]]] = []

    def submit(self, channel: str, request: QueryRequest[Any], on_done: Callable[..., None]) -> int:
        generation = self._latest.get(channel, 0) + 1
        self._latest[channel] = generation
        try:
            result = QueryResult(channel, request, generation, value=request.run(None))  # type: ignore[arg-type]
        except Exception as exc:
            result = QueryResult(channel, request, generation, error=exc)
        self._pending.append((result, on_done))
        if not self.hold:
            QTimer.singleShot(0, self.release)
        return generation

    def submit_action(
        self,
        channel: str,
        action: Callable[[], Any],
        on_done: Callable[..., None],
        *,
        name: str = "",
    ) -> int:
        raise AssertionError("the risk map only reads")

    def pending(self) -> int:
        return len(self._pending)

    def release(self) -> None:
        pending, self._pending = self._pending, []
        for result, on_done in pending:
            if self._latest[result.channel] == result.generation:
                on_done(result)


@pytest.fixture
def backend() -> FakeIncidents:
    return FakeIncidents()


@pytest.fixture
def client() -> FakeQueryClient:
    return FakeQueryClient()


def settle(qtbot: QtBot, pane: RiskMapPane, client: FakeQueryClient) -> None:
    qtbot.waitUntil(lambda: client.pending() == 0 and not pane.is_loading(), timeout=3000)


@pytest.fixture
def pane(qtbot: QtBot, client: FakeQueryClient, backend: FakeIncidents) -> RiskMapPane:
    shown = RiskMapPane(client, backend, now=lambda: NOW)
    qtbot.addWidget(shown)
    shown.resize(1000, 700)
    shown.show()  # the first showing loads the map and the markers
    settle(qtbot, shown, client)
    return shown


def image_of(pane: RiskMapPane) -> QImage:
    image: QImage = pane.plot_widget.viewport().grab().toImage()
    return image


def near(a: QColor, b: QColor | str, tolerance: int = 12) -> bool:
    """Whether two colours match within ``tolerance`` per channel (Xvfb may draw at 16-bit
    depth, rounding each channel)."""
    b = QColor(b)
    return all(
        abs(x - y) <= tolerance
        for x, y in ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue()))
    )


def distance(a: QColor, b: QColor) -> int:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue()))


def pixel(pane: RiskMapPane, lat: float, lon: float) -> QColor:
    return image_of(pane).pixelColor(pane.view_point(lat, lon))


def quiet_rows(pane: RiskMapPane) -> list[int]:
    """Cells whose centres no marker, camera or camera label covers."""
    busy = [pane.view_point(*CENTRES[row]) for row in MARKED_ROWS]
    quiet = []
    for row in range(len(CELLS)):
        point = pane.view_point(*CENTRES[row])
        clear = all(
            math.hypot(point.x() - b.x(), point.y() - b.y()) > 30
            and not (-10 < point.x() - b.x() < 140 and -40 < point.y() - b.y() < 10)
            for b in busy
        )
        if clear and row not in MARKED_ROWS:
            quiet.append(row)
    assert quiet, "the test map has no uncluttered cell"
    return quiet


def move_to(pane: RiskMapPane, point: QPoint) -> str:
    """Move the pointer over the map to ``point`` (viewport pixels); the hover text there.

    The move is sent to the map's viewport as the window system would deliver it:
    ``QTest.mouseMove`` on the offscreen platform drops moves after the first."""
    viewport = pane.plot_widget.viewport()
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(point),
        QPointF(viewport.mapToGlobal(point)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)
    return pane.hover_label.text()


def click(pane: RiskMapPane, point: QPoint) -> None:
    """A left click on the map at ``point`` (viewport pixels): a press and a release."""
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(pane.plot_widget.viewport(), left, none, point)


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * 111_195.0
    dx = (lon2 - lon1) * 111_195.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


# -- drawing ---------------------------------------------------------------------------


def test_every_cell_is_drawn_in_its_colour_and_the_slider_recolours_them(
    qtbot: QtBot, pane: RiskMapPane
) -> None:
    assert pane.hour_slider.maximum() == HOURS and pane.hour() == 0
    assert pane.hour_label.text() == LIVE_TEXT
    assert pane.colour_bar.title == LIVE_SCALE_TITLE
    rows = quiet_rows(pane)
    for row in rows:
        assert near(pixel(pane, *CENTRES[row]), pane.cell_colour(row))
    # Live risk grows with the row here: more risk, a later colour on the scale.
    colours = level_colours()
    levels = [colours.index(pane.cell_colour(row)) for row in range(len(CELLS))]
    assert levels == sorted(levels) and levels[0] < levels[-1]

    live = {row: pane.cell_colour(row) for row in rows}
    drawn_live = {row: pixel(pane, *CENTRES[row]) for row in rows}
    pane.set_hour(1)
    assert pane.hour_label.text() == "Predicted 10:00–11:00 UTC (+1 h)"
    assert pane.colour_bar.title == PREDICTED_SCALE_TITLE
    first = {row: pane.cell_colour(row) for row in rows}
    for row in rows:
        assert pane.cell_value(row) == pytest.approx(predictions()[row, 0])
        assert near(pixel(pane, *CENTRES[row]), first[row])
    assert first != live
    pane.set_hour(6)
    assert pane.hour_label.text() == "Predicted 15:00–16:00 UTC (+6 h)"
    sixth = {row: pane.cell_colour(row) for row in rows}
    assert sixth != first
    for row in rows:
        assert near(pixel(pane, *CENTRES[row]), sixth[row])
        assert pane.cell_value(row) == pytest.approx(predictions()[row, 5])
        assert pane.cell_class(row) == risk_class(predictions()[row, 5], pane_thresholds(pane))
    # An hour where a cell's colour moves far from the live one: its drawing moves too.
    row = rows[0]
    far = next(h for h in range(1, HOURS + 1) if distance(colour_at(pane, row, h), live[row]) > 60)
    pane.set_hour(far)
    assert distance(pixel(pane, *CENTRES[row]), drawn_live[row]) > 40
    pane.set_hour(24)  # the next day is named
    assert pane.hour_label.text() == "Predicted Wed 04 Feb 09:00–10:00 UTC (+24 h)"


def colour_at(pane: RiskMapPane, row: int, hour: int) -> QColor:
    prepared = pane.prepared_map()
    assert prepared is not None
    return level_colours()[int(prepared.levels[hour, row])]


def pane_thresholds(pane: RiskMapPane) -> tuple[float, ...]:
    prepared = pane.prepared_map()
    assert prepared is not None and prepared.predicted_thresholds is not None
    return prepared.predicted_thresholds


def test_the_colour_bar_names_the_classes_and_the_model_state_shows(pane: RiskMapPane) -> None:
    labels = pane.colour_bar.labels()
    assert labels[:6] == ["very low", "low", "moderate", "high", "very high", "extreme"]
    assert pane.model_label.text() == "Risk model fitted 2026-02-03 02:00 UTC"
    assert not pane.error_label.isVisible()
    # The category legend names every category.
    assert "suspicious activity" in pane.legend_label.text()


def test_cameras_and_incident_markers_are_drawn_where_they_are(pane: RiskMapPane) -> None:
    image = image_of(pane)
    theft = image.pixelColor(pane.view_point(*CENTRES[THEFT_ROW]))
    assert near(theft, "#2f8fe0")  # theft's colour, at the incident's place
    gate = image.pixelColor(pane.view_point(*CENTRES[GATE_ROW]))
    assert gate.red() > 200 and gate.blue() < 120  # the "high" class's orange
    assert pane.marker_ids() == [1, 2]  # the last 7 days by default; incident 3 is older
    assert marker_size_px(3) > marker_size_px(1)


def test_markers_redraw_in_place_after_the_view_moves(qtbot: QtBot, pane: RiskMapPane) -> None:
    """The marker layer is cached as a pixmap: panning and zooming must redraw it."""
    pane.view_box.translateBy(x=150.0, y=-80.0)
    pane.view_box.scaleBy((0.8, 0.8))
    qtbot.waitUntil(lambda: near(pixel(pane, *CENTRES[THEFT_ROW]), "#2f8fe0"), timeout=2000)


# -- hover -----------------------------------------------------------------------------


def test_hover_describes_a_cell_an_incident_and_a_camera(qtbot: QtBot, pane: RiskMapPane) -> None:
    row = quiet_rows(pane)[0]
    text = move_to(pane, pane.view_point(*CENTRES[row]))
    risk_class = pane.cell_class(row).replace("_", " ")
    # The class by name, the value without an exponent, no cell index or coordinates.
    assert text.startswith(f"{risk_class[:1].upper()}{risk_class[1:]} risk: live risk ")
    assert "of the site's centre" in text
    assert machine_text(text) is None and f"{CELLS[row]:x}" not in text
    pane.set_hour(3)  # the description follows the slider under a still pointer
    text = pane.hover_label.text()
    assert "expected incidents 12:00–13:00 UTC (+3 h)" in text
    assert f"{number(float(predictions()[row, 2]))} expected" in text
    assert machine_text(text) is None

    text = move_to(pane, pane.view_point(*CENTRES[THEFT_ROW]))
    assert text.startswith("Incident 2: theft, severity 3, 2 reporters (3 reports)")
    assert "2026-02-02 04:25 UTC" in text and "classified by keywords (majority)" in text

    text = move_to(pane, pane.view_point(*CENTRES[GATE_ROW]))
    assert text == "Camera Front gate: today's risk class high"
    text = move_to(pane, pane.view_point(*CENTRES[YARD_ROW]))
    assert text == "Camera Yard: today's risk class —"


def test_hover_off_the_grid_says_nothing(qtbot: QtBot, pane: RiskMapPane) -> None:
    corner = pane.view_box.viewRect().topLeft()
    lat, lon = pane.prepared_map().projection.to_degrees(corner.x() + 5, corner.y() + 5)  # type: ignore[union-attr]
    assert move_to(pane, pane.view_point(lat, lon)) == ""


# -- clicks ----------------------------------------------------------------------------


def test_a_click_on_the_map_picks_its_place(qtbot: QtBot, pane: RiskMapPane) -> None:
    lat, lon = (float(v) for v in CENTRES[quiet_rows(pane)[0]])
    lat, lon = lat + 0.0004, lon - 0.0006  # between cell centres, anywhere will do
    with qtbot.waitSignal(pane.sig_location_picked, timeout=2000) as picked:
        click(pane, pane.view_point(lat, lon))
    got_lat, got_lon = picked.args
    # Within a pixel or two of the point clicked (about 3 m a pixel here).
    assert metres_between(lat, lon, got_lat, got_lon) < 10.0


def test_a_click_on_an_incident_selects_it(qtbot: QtBot, pane: RiskMapPane) -> None:
    picked: list[tuple[float, float]] = []
    pane.sig_location_picked.connect(lambda lat, lon: picked.append((lat, lon)))
    with qtbot.waitSignal(pane.sig_incident_selected, timeout=2000) as selected:
        click(pane, pane.view_point(*CENTRES[VIOLENCE_ROW]))
    assert selected.args == [1]
    assert picked == []
    assert pane.selected_incident() == 1 and pane.is_highlighted(1)


# -- selection and filters -------------------------------------------------------------


def test_select_incident_highlights_it_without_signalling(qtbot: QtBot, pane: RiskMapPane) -> None:
    emitted: list[int] = []
    pane.sig_incident_selected.connect(emitted.append)
    before = pixel(pane, *CENTRES[THEFT_ROW])
    ring = pane.view_point(*CENTRES[THEFT_ROW]) + QPoint(0, (marker_size_px(2) + 10) // 2)
    pane.select_incident(2)
    assert pane.is_highlighted(2) and not pane.is_highlighted(1)
    assert near(pixel(pane, *CENTRES[THEFT_ROW]), before, 0)  # the marker still shows
    assert near(image_of(pane).pixelColor(ring), "#ffffff")  # inside a white ring
    assert emitted == []
    pane.select_incident(3)  # older than the period shown
    assert not pane.is_highlighted(3)
    assert "incident 3 is not shown" in pane.marker_label.text()
    pane.set_period(2)  # 30 days: now it is on the map, and highlighted
    qtbot.waitUntil(lambda: pane.is_highlighted(3), timeout=2000)
    pane.select_incident(None)
    assert not pane.is_highlighted(3)


def test_markers_follow_the_category_and_period_filters(
    qtbot: QtBot, pane: RiskMapPane, client: FakeQueryClient, backend: FakeIncidents
) -> None:
    assert pane.category_box.currentText() == ALL_CATEGORIES_TEXT
    since = backend.incident_calls()[-1][1]
    assert since == NOW - timedelta(days=7)
    assert backend.incident_calls()[-1][3:] == (None, MARKER_LIMIT)

    pane.set_category("theft")
    settle(qtbot, pane, client)
    assert backend.incident_calls()[-1][3] == "theft"
    assert pane.marker_ids() == [2]
    assert "1 theft incident in the last 7 days" in pane.marker_label.text()
    assert " risk: " in move_to(pane, pane.view_point(*CENTRES[VIOLENCE_ROW]))

    pane.set_category(None)
    pane.set_period(0)
    settle(qtbot, pane, client)
    assert backend.incident_calls()[-1][1] == NOW - timedelta(hours=24)
    assert pane.marker_ids() == [1]
    pane.set_period(2)
    settle(qtbot, pane, client)
    assert pane.marker_ids() == [1, 2, 3]
    assert "3 incidents in the last 30 days" in pane.marker_label.text()


# -- loading, model state, errors ------------------------------------------------------


def test_loading_is_shown_until_the_answers_arrive(
    qtbot: QtBot, client: FakeQueryClient, backend: FakeIncidents
) -> None:
    client.hold = True
    pane = RiskMapPane(client, backend, now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.show()
    assert pane.is_loading() and pane.model_label.text() == LOADING_TEXT
    client.release()
    assert not pane.is_loading()
    assert pane.model_label.text().startswith("Risk model fitted")
    pane.refresh()  # a reload keeps the map and says it is loading
    assert pane.model_label.text().endswith(LOADING_TEXT)
    client.release()
    assert not pane.model_label.text().endswith(LOADING_TEXT)


def test_without_a_model_the_map_shows_live_risk_and_says_why(
    qtbot: QtBot, client: FakeQueryClient, backend: FakeIncidents
) -> None:
    backend.map = risk_map(
        predicted=np.zeros((0, 0)), thresholds=None, model_fitted_at=None, model_problem=NO_MODEL
    )
    pane = RiskMapPane(client, backend, now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.resize(1000, 700)
    pane.show()
    settle(qtbot, pane, client)
    assert pane.model_label.text() == f"Predictions unavailable: {NO_MODEL}"
    assert pane.model_label.isVisible()
    assert pane.hour_slider.maximum() == 0 and not pane.hour_slider.isEnabled()
    assert pane.hour_label.text() == LIVE_TEXT
    row = quiet_rows(pane)[0]
    assert near(pixel(pane, *CENTRES[row]), pane.cell_colour(row))
    assert pane.colour_bar.title == LIVE_SCALE_TITLE


def test_a_backend_error_is_shown_in_the_pane(
    qtbot: QtBot, client: FakeQueryClient, backend: FakeIncidents
) -> None:
    backend.failure = RuntimeError("database is locked")
    pane = RiskMapPane(client, backend, now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.show()
    settle(qtbot, pane, client)
    assert pane.error_label.isVisible()
    assert pane.error_label.text() == "Could not load the risk map: database is locked"
    assert pane.model_label.text() == "No risk map."
    backend.failure = None
    pane.refresh()
    settle(qtbot, pane, client)
    assert not pane.error_label.isVisible()
    # A later failure keeps the map drawn and says so.
    backend.failure = ValueError("the site has no geo position")
    pane.on_model_refitted()
    settle(qtbot, pane, client)
    assert "the site has no geo position" in pane.error_label.text()
    assert pane.prepared_map() is not None and pane.marker_ids() == [1, 2]


def test_new_incidents_reload_markers_and_live_risk(
    qtbot: QtBot, pane: RiskMapPane, client: FakeQueryClient, backend: FakeIncidents
) -> None:
    row = quiet_rows(pane)[0]
    pane.set_hour(4)
    backend.incident_views.insert(0, incident(9, row, "weapons", 0.1))
    live = np.array(backend.map.live)
    live[row] = 50.0
    backend.map = replace(backend.map, live=live)
    maps_before = len([c for c in backend.calls if c[0] == "risk_map"])
    pane.on_incidents_changed()
    settle(qtbot, pane, client)
    assert len([c for c in backend.calls if c[0] == "risk_map"]) == maps_before + 1
    assert pane.marker_ids() == [9, 1, 2]
    assert pane.hour() == 4  # the slider stays where the operator left it
    pane.set_hour(0)
    assert pane.cell_class(row) == "extreme"


def test_reads_run_on_query_workers(qtbot: QtBot, backend: FakeIncidents) -> None:
    real = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    try:
        pane = RiskMapPane(real, backend, now=lambda: NOW)
        qtbot.addWidget(pane)
        with qtbot.waitSignals([pane.sig_map_loaded, pane.sig_markers_loaded], timeout=5000):
            pane.show()
        assert pane.marker_ids() == [1, 2]
        assert backend.threads and all(t.startswith("query-") for t in backend.threads)
    finally:
        real.close()


# -- helpers ---------------------------------------------------------------------------


def test_classes_agree_with_the_engine() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.exponential(0.05, 500), [0.0, -1.0]])
    thresholds = risk_thresholds(values)
    ours = class_indices(values, thresholds)
    assert [RISK_CLASSES[i] for i in ours] == [risk_class(float(v), thresholds) for v in values]
    zeros = (0.0, 0.0, 0.0, 0.0, 0.2)  # most of the area expects nothing
    assert [RISK_CLASSES[i] for i in class_indices([0.0, 0.1, 0.3], zeros)] == [
        risk_class(v, zeros) for v in (0.0, 0.1, 0.3)
    ]


def test_hour_text_names_the_window() -> None:
    start = datetime(2026, 2, 3, 23, 0, tzinfo=UTC)
    assert hour_text(start, 0) == LIVE_TEXT
    assert hour_text(start, 1) == "Predicted 23:00–00:00 UTC (+1 h)"
    assert hour_text(start, 2) == "Predicted Wed 04 Feb 00:00–01:00 UTC (+2 h)"


def test_predicted_hours_read_the_sites_clock(shown_zone: Callable[[str], SiteTime]) -> None:
    """Kolkata is 05:30 ahead: the hour from 10:00 UTC is 15:30-16:30 IST, and the one
    that starts at 19:00 UTC is on the next day there."""
    shown_zone("Asia/Kolkata")
    start = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)
    assert hour_text(start, 1) == "Predicted 15:30–16:30 IST (+1 h)"
    assert hour_text(start, 9) == "Predicted 23:30–00:30 IST (+9 h)"
    assert hour_text(start, 10) == "Predicted Wed 04 Feb 00:30–01:30 IST (+10 h)"


def test_the_map_shows_the_sites_cameras_as_they_are_now(
    qtbot: QtBot, client: FakeQueryClient, backend: FakeIncidents
) -> None:
    """A camera renamed, added or removed while the console runs: the map reads its
    cameras again (names and places from the store the engine keeps in line)."""
    from types import SimpleNamespace

    from console.bridge import QtBridge
    from engine.bus import EventBus
    from tests.widgets.test_activity_follows_cameras import site_cameras_changed
    from widgets.risk_map import plugin as risk_map_plugin

    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(queries=client, backend=backend, now=lambda: NOW, events=bridge)
    try:
        pane = risk_map_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, RiskMapPane)
        qtbot.addWidget(pane)
        pane.resize(1000, 700)
        pane.show()
        settle(qtbot, pane, client)
        gate, yard = pane.view_point(*CENTRES[GATE_ROW]), pane.view_point(*CENTRES[YARD_ROW])
        assert move_to(pane, gate) == "Camera Front gate: today's risk class high"

        backend.map = risk_map(
            cameras=(
                MapCamera("gate", "Main gate", *latlon(GATE_ROW), "high"),
                MapCamera("dock", "Loading dock", *latlon(YARD_ROW), None),
            )
        )
        site_cameras_changed(
            qtbot, bus, bridge, ctx, [], added=("dock",), removed=("yard",), renamed=("gate",)
        )
        settle(qtbot, pane, client)
        assert move_to(pane, gate) == "Camera Main gate: today's risk class high"
        assert move_to(pane, yard) == "Camera Loading dock: today's risk class —"
    finally:
        bridge.close()
