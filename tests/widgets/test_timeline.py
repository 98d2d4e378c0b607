"""The timeline pane over a real store and the console's real query client: the slice of the
visible range, zooming (wheel, buttons, bounds) and panning ask for new ranges, scrubbing
emits throttled times and shows thumbnails, clicking a marker activates it, errors are shown
and answers to an older range are dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from console.queries import QtQueryClient
from engine.cv import import_cv2
from engine.history.query_service import QueryRequest, QueryResult, QueryService
from engine.history.timeline import (
    LANE_ALERTS,
    LANE_BOOKMARKS,
    LaneDetail,
    MarkerRecord,
    TimelineMarker,
    TimelineRequest,
    TimelineThumbnailRequest,
)
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.alert_models import Alert
from engine.store.history_models import Bookmark
from engine.store.models import Camera, Event, Media, Site
from tests.machine_text import machine_text
from widgets.timeline.view import (
    AXIS_HEIGHT,
    COVERAGE_HEIGHT,
    ERROR_PREFIX,
    INFO_BLUE,
    LABEL_WIDTH,
    LOADING_TEXT,
    MAX_SPAN,
    MIN_SPAN,
    RECORDED_GREEN,
    UNRECORDED,
    ZOOM_PRESETS,
    ZOOM_STEP,
    TimelinePane,
    axis_ticks,
    marker_tooltip,
    thumbnail_caption,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
START, END = T0, T0 + timedelta(minutes=10)
CLIP_REL = "clips/gate/clip.mp4"
SNAPSHOT_REL = "snapshots/gate/at-300.jpg"


class RecordingClient:
    """The console's query client with every submission recorded; with ``hold`` set the
    answers it would hand the pane wait for :meth:`release` (all of them, stale ones too, so
    the pane's own check is what drops them)."""

    def __init__(self, inner: QtQueryClient) -> None:
        self.inner = inner
        self.submitted: list[tuple[str, QueryRequest[Any]]] = []
        self.hold = False
        self.held: list[tuple[Callable[[QueryResult[Any]], None], QueryResult[Any]]] = []
        self.delivered = 0

    def submit(self, channel: str, request: QueryRequest[Any], on_done: Any) -> int:
        self.submitted.append((channel, request))

        def deliver(result: QueryResult[Any]) -> None:
            if self.hold:
                self.held.append((on_done, result))
            else:
                self.delivered += 1
                on_done(result)

        return self.inner.submit(channel, request, deliver)

    def submit_action(self, channel: str, action: Any, on_done: Any, *, name: str = "") -> int:
        return self.inner.submit_action(channel, action, on_done, name=name)

    def ranges(self) -> list[TimelineRequest]:
        return [r for _c, r in self.submitted if isinstance(r, TimelineRequest)]

    def release(self) -> None:
        held, self.held = self.held, []
        for on_done, result in held:
            self.delivered += 1
            on_done(result)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'timeline.db'}")
    seed(opened)
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> Iterator[RecordingClient]:
    real = QtQueryClient(QueryService(store))
    yield RecordingClient(real)
    real.close()


def seed(store: Store) -> None:
    """Cameras gate and yard: a few gate events (one in a clip), a busy yard (density when
    the pane is narrow), a critical fall alert and a bookmark."""
    with store.transaction() as session:
        site_id = session.execute(
            insert(Site).returning(Site.id),
            [{"name": "Test", "geo_lat": 0.0, "geo_lon": 0.0, "updated_at": T0}],
        ).scalar_one()
        ids = {}
        for key in ("gate", "yard"):
            ids[key] = session.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site_id,
                        "key": key,
                        "name": key.title(),
                        "url": f"{key}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
        rows = [
            event_row(ids["gate"], "gate", 60, "person.appeared", track_id=7),
            event_row(ids["gate"], "gate", 300, "face.recognised", name="Alice Ward"),
            event_row(ids["gate"], "gate", 480, "camera.offline"),
        ] + [event_row(ids["yard"], "yard", 100 + i * 0.5, "person.left") for i in range(800)]
        session.execute(insert(Event), rows)
        session.execute(
            insert(Media),
            [
                {
                    "kind": "clip",
                    "path": CLIP_REL,
                    "sha256": "0" * 64,
                    "size_bytes": 1,
                    "created_at": T0 + timedelta(seconds=296),
                    "camera_id": ids["gate"],
                    "locked": False,
                    "started_at": T0 + timedelta(seconds=296),
                    "ended_at": T0 + timedelta(seconds=304),
                },
                {
                    "kind": "snapshot",
                    "path": SNAPSHOT_REL,
                    "sha256": "0" * 64,
                    "size_bytes": 1,
                    "created_at": T0 + timedelta(seconds=300),
                    "camera_id": ids["gate"],
                    "locked": False,
                },
            ],
        )
        session.execute(
            insert(Alert),
            [
                {
                    "raised_at": T0 + timedelta(seconds=200),
                    "kind": "fall",
                    "source": "sensing:room",
                    "severity": "critical",
                    "title": "Fall in the lab",
                    "detail": {},
                }
            ],
        )
        marked = T0 + timedelta(seconds=400)
        session.execute(
            insert(Bookmark),
            [
                {
                    "title": "Van arrives",
                    "note": "",
                    "marked_at": marked,
                    "pre_s": 30.0,
                    "post_s": 30.0,
                    "started_at": marked - timedelta(seconds=30),
                    "ended_at": marked + timedelta(seconds=30),
                    "camera_id": ids["gate"],
                    "room": None,
                    "author": "ada",
                    "created_at": marked,
                }
            ],
        )


def event_row(camera_id: int, key: str, seconds: float, kind: str, **detail: Any) -> dict[str, Any]:
    return {
        "ts": T0 + timedelta(seconds=seconds),
        "kind": kind,
        "source": f"camera:{key}",
        "site_id": None,
        "camera_id": camera_id,
        "track_id": detail.get("track_id"),
        "person_id": None,
        "detail": detail,
    }


def make_pane(
    qtbot: QtBot,
    client: RecordingClient,
    media_root: Path | None = None,
    *,
    width: int = 1000,
) -> TimelinePane:
    pane = TimelinePane(client, media_root, initial_range=(START, END))
    qtbot.addWidget(pane)
    pane.resize(width, 420)
    with qtbot.waitExposed(pane):
        pane.show()
    settle(qtbot, pane)
    return pane


def settle(qtbot: QtBot, pane: TimelinePane) -> None:
    qtbot.waitUntil(lambda: not pane.is_loading(), timeout=5000)


def send_mouse(
    widget: QWidget,
    kind: QEvent.Type,
    pos: QPointF,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    buttons: Qt.MouseButton | None = None,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    if kind == QEvent.Type.MouseMove:
        button = Qt.MouseButton.NoButton
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(
    widget: QWidget,
    points: list[QPointF],
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    send_mouse(widget, QEvent.Type.MouseButtonPress, points[0], button, modifiers=modifiers)
    for point in points[1:]:
        send_mouse(widget, QEvent.Type.MouseMove, point, button, button, modifiers)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, points[-1], button, modifiers=modifiers)


def wheel(widget: QWidget, pos: QPointF, notches: int) -> None:
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def lane_names(pane: TimelinePane) -> list[str]:
    found = pane.current_slice()
    return [] if found is None else [lane.name for lane in found.lanes]


def test_shows_the_slice_of_the_visible_range(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    assert pane.visible_range() == (START, END)
    (request,) = client.ranges()
    assert (request.start, request.end, request.lanes) == (START, END, None)
    assert request.width_px == pane.canvas.width() - LABEL_WIDTH
    assert client.submitted[0][0] == "timeline.range"
    assert lane_names(pane) == ["camera:gate", "camera:yard", "alerts", "incidents", "bookmarks"]
    found = pane.current_slice()
    assert found is not None
    gate, yard = found.lanes[0], found.lanes[1]
    assert gate.detail is LaneDetail.MARKERS and len(gate.markers) == 3
    assert yard.detail is LaneDetail.DENSITY and yard.total == 800
    assert pane.lane_rect("camera:yard") is not None
    assert "items in 5 lanes" in pane.status_text()
    assert pane.error_text() is None
    image = pane.canvas.grab().toImage()
    assert not image.isNull()


def test_loading_shows_until_the_answer_comes(qtbot: QtBot, client: RecordingClient) -> None:
    client.hold = True
    pane = TimelinePane(client, None, initial_range=(START, END))
    qtbot.addWidget(pane)
    pane.resize(900, 400)
    pane.show()
    qtbot.waitUntil(lambda: len(client.held) == 2, timeout=5000)  # the slice and the paths
    assert pane.is_loading() and pane.status_text() == LOADING_TEXT
    client.hold = False
    client.release()
    assert not pane.is_loading() and pane.status_text() != LOADING_TEXT


def test_wheel_zooms_around_the_pointer_and_asks_for_that_range(
    qtbot: QtBot, client: RecordingClient
) -> None:
    pane = make_pane(qtbot, client)
    x = LABEL_WIDTH + 0.25 * (pane.canvas.width() - LABEL_WIDTH)
    under_pointer = pane.time_at(x)
    with qtbot.waitSignal(pane.sig_range_changed):
        wheel(pane.canvas, QPointF(x, 100), 1)
    start, end = pane.visible_range()
    assert (end - start).total_seconds() == pytest.approx(600 / ZOOM_STEP)
    assert abs((pane.time_at(x) - under_pointer).total_seconds()) < 0.01  # stays put
    settle(qtbot, pane)
    latest = client.ranges()[-1]
    assert (latest.start, latest.end) == (start, end)

    wheel(pane.canvas, QPointF(x, 100), -2)  # back out, past the first range
    start2, end2 = pane.visible_range()
    assert (end2 - start2).total_seconds() == pytest.approx(600 * ZOOM_STEP)
    settle(qtbot, pane)
    assert (client.ranges()[-1].start, client.ranges()[-1].end) == (start2, end2)


def test_zoom_buttons_keep_between_ten_seconds_and_thirty_days(
    qtbot: QtBot, client: RecordingClient
) -> None:
    pane = make_pane(qtbot, client)
    pane.set_cursor(T0 + timedelta(seconds=300))
    for _ in range(30):
        pane.zoom_in_button.click()
    start, end = pane.visible_range()
    assert end - start == MIN_SPAN
    assert start <= T0 + timedelta(seconds=300) <= end  # zoomed around the cursor
    assert not pane.zoom_in_button.isEnabled()
    for _ in range(80):
        pane.zoom_out()
    start, end = pane.visible_range()
    assert end - start == MAX_SPAN
    assert not pane.zoom_out_button.isEnabled()
    settle(qtbot, pane)
    request = client.ranges()[-1]
    assert request.end - request.start == MAX_SPAN
    # A range asked for beyond the bounds is clamped around its centre.
    pane.set_range(T0, T0 + timedelta(seconds=2))
    assert pane.visible_range()[1] - pane.visible_range()[0] == MIN_SPAN


def test_dragging_the_background_pans(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    rect = pane.lane_rect("incidents")
    assert rect is not None
    y = rect.center().y()
    per_px = 600 / (pane.canvas.width() - LABEL_WIDTH)
    drag(
        pane.canvas,
        [QPointF(500, y), QPointF(450, y), QPointF(400, y)],
        Qt.MouseButton.MiddleButton,
    )
    start, end = pane.visible_range()
    assert (start - START).total_seconds() == pytest.approx(100 * per_px, abs=0.01)
    assert end - start == END - START
    drag(pane.canvas, [QPointF(400, y), QPointF(450, y), QPointF(500, y)])  # left button
    assert abs((pane.visible_range()[0] - START).total_seconds()) < 0.01
    settle(qtbot, pane)
    assert client.ranges()[-1].start == pane.visible_range()[0]


def test_scrubbing_the_axis_emits_throttled_times(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    emitted: list[datetime] = []
    pane.sig_time_scrubbed.connect(emitted.append)
    xs = [300.0 + i for i in range(40)]
    drag(pane.canvas, [QPointF(x, AXIS_HEIGHT / 2) for x in xs])
    assert emitted[0] == pane.time_at(xs[0])
    assert emitted[-1] == pane.time_at(xs[-1])  # where the drag ended, always
    assert len(emitted) < len(xs) / 2  # 40 moves in a few milliseconds: throttled
    assert all(isinstance(at, datetime) and at.tzinfo is not None for at in emitted)
    assert pane.cursor_time() == pane.time_at(xs[-1])

    # Grabbing the cursor line in a lane scrubs too.
    rect = pane.lane_rect("camera:gate")
    assert rect is not None
    cursor_x = pane.x_of(emitted[-1])
    emitted.clear()
    drag(pane.canvas, [QPointF(cursor_x + 2, rect.center().y()), QPointF(600, rect.center().y())])
    assert emitted[-1] == pane.time_at(600)


def test_set_cursor_repaints_only_the_overlay(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    pane.canvas.repaint()
    cached = pane._static
    assert cached is not None
    for seconds in range(0, 600, 60):
        pane.set_cursor(T0 + timedelta(seconds=seconds))
        pane.canvas.repaint()
    assert pane._static is cached
    assert pane.cursor_time() == T0 + timedelta(seconds=540)
    pane.zoom_in()
    pane.canvas.repaint()
    assert pane._static is not cached  # a new range redraws the lanes


def test_clicking_a_marker_activates_it(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    found = pane.current_slice()
    assert found is not None
    recognised = found.lanes[0].markers[1]
    assert recognised.kind == "face.recognised"
    point = pane.marker_position(recognised)
    assert point is not None
    with qtbot.waitSignal(pane.sig_event_activated) as blocker:
        send_mouse(pane.canvas, QEvent.Type.MouseButtonPress, point + QPointF(2, 0))
        send_mouse(pane.canvas, QEvent.Type.MouseButtonRelease, point + QPointF(2, 0))
    marker = blocker.args[0]
    assert isinstance(marker, TimelineMarker)
    assert marker.id == marker.event_id == recognised.id
    assert marker.clip_path == CLIP_REL
    assert marker.clip_offset_s == pytest.approx(4.0)

    # Hovering shows its details.
    send_mouse(pane.canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton)
    assert "Face recognised" in pane.hover_text() and "Alice Ward" in pane.hover_text()
    assert "Click to play its clip" in pane.hover_text()
    # A density lane says how many events a bar holds.
    yard = pane.lane_rect("camera:yard")
    assert yard is not None
    send_mouse(
        pane.canvas,
        QEvent.Type.MouseMove,
        QPointF(pane.x_of(T0 + timedelta(seconds=200)), yard.center().y()),
        Qt.MouseButton.NoButton,
    )
    assert pane.hover_text().startswith("Yard: ") and " events" in pane.hover_text()


def test_alerts_and_bookmarks_are_drawn_and_activated(
    qtbot: QtBot, client: RecordingClient
) -> None:
    pane = make_pane(qtbot, client)
    found = pane.current_slice()
    assert found is not None
    alerts = found.lane(LANE_ALERTS)
    bookmarks = found.lane(LANE_BOOKMARKS)
    assert alerts is not None and bookmarks is not None
    (fall,) = alerts.markers
    (bookmark,) = bookmarks.markers
    assert bookmark.is_range and bookmark.summary == "Van arrives"
    assert "Fall in the lab" in marker_tooltip(fall) and "Critical alert" in marker_tooltip(fall)
    point = pane.marker_position(bookmark)
    assert point is not None
    inside = QPointF(pane.x_of(T0 + timedelta(seconds=410)), point.y())  # within the range
    with qtbot.waitSignal(pane.sig_event_activated) as blocker:
        send_mouse(pane.canvas, QEvent.Type.MouseButtonPress, inside)
        send_mouse(pane.canvas, QEvent.Type.MouseButtonRelease, inside)
    assert blocker.args[0].record is MarkerRecord.BOOKMARK


def test_a_failing_request_shows_its_error(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    pane.set_lanes(["camera:gate", "pigeons"])
    settle(qtbot, pane)
    error = pane.error_text()
    assert error is not None and error.startswith(ERROR_PREFIX)
    assert "unknown timeline lane 'pigeons'" in pane.status_text()
    assert pane.current_slice() is None  # nothing stale looks current
    pane.canvas.grab()  # paints the error
    pane.set_lanes(None)
    settle(qtbot, pane)
    assert pane.error_text() is None and pane.current_slice() is not None


def test_answers_for_an_older_range_are_dropped(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    client.hold = True
    pane.set_range(T0, T0 + timedelta(seconds=30))  # only the first gate event: none
    qtbot.waitUntil(lambda: len(client.held) == 2, timeout=5000)  # its slice and paths
    pane.set_range(T0 + timedelta(seconds=290), T0 + timedelta(seconds=310))
    qtbot.waitUntil(lambda: len(client.held) == 4, timeout=5000)
    client.hold = False
    loaded: list[Any] = []
    pane.sig_slice_loaded.connect(loaded.append)
    client.release()  # the older answers first, then the newer
    assert pane.dropped == 2  # the older slice and the older paths
    assert len(loaded) == 1
    found = pane.current_slice()
    assert found is not None
    assert (found.start, found.end) == pane.visible_range()
    gate = found.lane("camera:gate")
    assert gate is not None and [m.kind for m in gate.markers] == ["face.recognised"]


def test_refresh_asks_again_for_the_same_range(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    before = len(client.ranges())
    pane.refresh()
    settle(qtbot, pane)
    assert len(client.ranges()) == before + 1
    assert client.ranges()[-1] == client.ranges()[-2]


def test_scrubbing_shows_thumbnails_of_the_cameras(
    qtbot: QtBot, client: RecordingClient, tmp_path: Path
) -> None:
    cv2 = import_cv2()
    media_root = tmp_path / "media"
    (media_root / SNAPSHOT_REL).parent.mkdir(parents=True)
    picture = np.full((240, 320, 3), (0, 0, 255), np.uint8)  # red, in BGR
    assert cv2.imwrite(str(media_root / SNAPSHOT_REL), picture)
    pane = make_pane(qtbot, client, media_root)
    x = pane.x_of(T0 + timedelta(seconds=300.2))
    drag(pane.canvas, [QPointF(x - 3, AXIS_HEIGHT / 2), QPointF(x, AXIS_HEIGHT / 2)])
    qtbot.waitUntil(lambda: "gate" in pane.thumbnails(), timeout=5000)
    thumbnail = pane.thumbnails()["gate"]
    assert thumbnail.path == SNAPSHOT_REL and thumbnail.image.shape[1] == 160
    assert thumbnail.image[..., 0].mean() > 200  # RGB: red
    channels = [c for c, r in client.submitted if isinstance(r, TimelineThumbnailRequest)]
    assert "timeline.thumbnail.gate" in channels and "timeline.thumbnail.yard" in channels
    pane.canvas.grab()  # paints the strip


def test_axis_ticks_adapt_from_a_month_to_seconds() -> None:
    month = axis_ticks(T0, T0 + timedelta(days=30), 1400)
    assert 4 <= len(month) <= 16
    assert all(label[:3].isalpha() for _at, label in month)  # "Mar 02"
    hour = axis_ticks(T0, T0 + timedelta(hours=1), 1400)
    assert [label for _at, label in hour][:2] == ["12:00", "12:05"]
    seconds = axis_ticks(T0, T0 + timedelta(seconds=10), 1400)
    assert [label for _at, label in seconds][:3] == ["12:00:00", "12:00:01", "12:00:02"]
    for ticks in (month, hour, seconds):
        times = [at for at, _label in ticks]
        assert times == sorted(times)


def test_axis_ticks_are_round_on_the_site_clock_and_days_start_at_its_midnight() -> None:
    kolkata = SiteTime.named("Asia/Kolkata")  # UTC+05:30: UTC's round hours are not its
    hour = axis_ticks(T0, T0 + timedelta(hours=1), 1400, kolkata)
    assert [label for _at, label in hour][:2] == ["17:30", "17:35"]
    six_hours = axis_ticks(T0, T0 + timedelta(hours=6), 200, kolkata)
    assert all(label.endswith(":00") for _at, label in six_hours)
    assert six_hours[0][0] == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)  # 18:00 there
    # Across London's spring-forward day the day ticks stay at its midnights.
    london = SiteTime.named("Europe/London")
    days = axis_ticks(
        datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC), 900, london
    )
    assert [(at, label) for at, label in days][2:4] == [
        (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), "Mar 29"),
        (datetime(2026, 3, 29, 23, 0, tzinfo=UTC), "Mar 30"),
    ]


def test_a_long_drag_or_a_stream_of_refreshes_still_loads(
    qtbot: QtBot, client: RecordingClient
) -> None:
    pane = make_pane(qtbot, client)
    before = len(client.ranges())
    for step in range(30):  # 30 × 20 ms: a pan that never pauses for FETCH_DELAY_MS
        pane.set_range(START + timedelta(seconds=step), END + timedelta(seconds=step))
        qtbot.wait(20)
    assert len(client.ranges()) > before
    settle(qtbot, pane)
    assert client.ranges()[-1].start == pane.visible_range()[0]
    before = len(client.ranges())
    for _ in range(20):  # live updates arriving faster than the fetch delay
        pane.refresh()
        qtbot.wait(15)
    assert len(client.ranges()) > before


def test_a_thumbnail_is_captioned_in_site_time(shown_zone: Callable[[str], SiteTime]) -> None:
    shown_zone("Asia/Kolkata")  # UTC+05:30: a UTC caption cannot pass
    assert thumbnail_caption("gate", datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC)) == "gate 17:30:02"


def test_markers_and_lanes_read_in_words_with_names(qtbot: QtBot, client: RecordingClient) -> None:
    # A sensing marker as the slice reads it (its whole detail: no summary field is set).
    sensed = TimelineMarker(
        lane="sensing:room",
        record=MarkerRecord.EVENT,
        id=9,
        ts=T0,
        kind="sensing.blob_left",
        summary="",
        room="room",
        detail={
            "blob": 3,
            "duration_s": 4.5,
            "explanation": [{"link": ["node-a", "node-c"], "share": 0.7}],
        },
    )
    text = marker_tooltip(sensed, {"room": "Demo room"})
    assert "Movement ended\nSomeone no longer sensed in Demo room, after 4.5 s" in text
    assert machine_text(text) is None, text
    names = {"gate": "Front gate", "room": "Demo plaza sensing room"}
    pane = TimelinePane(
        client,
        None,
        initial_range=(START, END),
        names=names,
        lanes=("camera:gate", "sensing:room", LANE_ALERTS),
    )
    qtbot.addWidget(pane)
    pane.resize(1000, 420)
    with qtbot.waitExposed(pane):
        pane.show()
    settle(qtbot, pane)
    found = pane.current_slice()
    assert found is not None
    gate, room = found.lane("camera:gate"), found.lane("sensing:room")
    assert gate is not None and pane.lane_label(gate) == "Front gate"
    assert room is not None and pane.lane_label(room) == "Demo plaza sensing room"  # not "room"
    (appeared, *_rest) = gate.markers
    assert appeared.detail == {"track_id": 7}  # what the slice read, for the words
    tooltip = marker_tooltip(appeared, {"gate": "Front gate"})
    assert "Unrecognised person 7 appeared on Front gate" in tooltip
    # A name too long for the lane's label column reads whole under the pointer.
    rect = pane.lane_rect("sensing:room")
    assert rect is not None
    none = Qt.MouseButton.NoButton
    send_mouse(pane.canvas, QEvent.Type.MouseMove, QPointF(20, rect.center().y()), none, none)
    assert pane.hover_text() == "Demo plaza sensing room"


def test_presets_show_their_span_around_the_playhead_or_the_centre(
    qtbot: QtBot, client: RecordingClient
) -> None:
    pane = make_pane(qtbot, client)
    assert list(pane.preset_buttons) == ["10 min", "1 h", "8 h", "Day", "Week"]
    centre = START + (END - START) / 2
    with qtbot.waitSignal(pane.sig_range_changed):
        pane.preset_buttons["1 h"].click()
    assert pane.visible_range() == (centre - timedelta(minutes=30), centre + timedelta(minutes=30))
    settle(qtbot, pane)
    asked = client.ranges()[-1]
    assert asked.end - asked.start == timedelta(hours=1)
    # With the playhead in view, the span is centred on it.
    playhead = T0 + timedelta(seconds=60)
    pane.set_cursor(playhead)
    pane.preset_buttons["10 min"].click()
    assert pane.visible_range() == (
        playhead - timedelta(minutes=5),
        playhead + timedelta(minutes=5),
    )
    for words, span in ZOOM_PRESETS:
        pane.preset_buttons[words].click()
        start, end = pane.visible_range()
        assert end - start == span and start + span / 2 == playhead, words
    # Keys 1-5 while the timeline has focus: a day to ten minutes in one key press.
    pane.activateWindow()
    pane.canvas.setFocus()
    qtbot.waitUntil(lambda: pane.canvas.hasFocus(), timeout=2000)
    qtbot.keyClick(pane.canvas, Qt.Key.Key_1)
    start, end = pane.visible_range()
    assert end - start == timedelta(minutes=10)
    qtbot.keyClick(pane.canvas, Qt.Key.Key_3)
    start, end = pane.visible_range()
    assert end - start == timedelta(hours=8)


def test_shift_drag_selects_a_range_and_zooms_to_it(
    qtbot: QtBot, client: RecordingClient, shown_zone: Callable[[str], SiteTime]
) -> None:
    shown_zone("Asia/Kolkata")  # UTC+05:30: the band's times are the site's
    pane = make_pane(qtbot, client)
    rect = pane.lane_rect("camera:gate")
    assert rect is not None
    y = rect.center().y()
    low_x, high_x = 600.0, 300.0  # dragged right to left
    expected = (pane.time_at(high_x), pane.time_at(low_x))
    shift = Qt.KeyboardModifier.ShiftModifier
    press, move, release = (
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.MouseButtonRelease,
    )
    left = Qt.MouseButton.LeftButton
    send_mouse(pane.canvas, press, QPointF(low_x, y), modifiers=shift)
    for x in (500.0, 400.0, high_x):
        send_mouse(pane.canvas, move, QPointF(x, y), left, left, shift)
    assert pane.selection() == expected
    band = pane.selection_text()
    site = SiteTime.named("Asia/Kolkata")
    assert band == f"{site.clock(expected[0])} – {site.clock(expected[1])} (" + (
        f"{(expected[1] - expected[0]).total_seconds() / 60:.0f} min)"
    )
    assert band.startswith("17:") and machine_text(band) is None, band
    # The band is drawn while dragging.
    image = pane.canvas.grab().toImage()
    assert image.pixelColor(450, int(y)) != QColor("#161b22")
    assert pane.visible_range() == (START, END)  # nothing zooms before the release
    with qtbot.waitSignal(pane.sig_range_changed):
        send_mouse(pane.canvas, release, QPointF(high_x, y), modifiers=shift)
    start, end = pane.visible_range()
    assert abs((start - expected[0]).total_seconds()) < 1e-3
    assert abs((end - expected[1]).total_seconds()) < 1e-3
    assert pane.selection() is None
    settle(qtbot, pane)
    asked = client.ranges()[-1]
    assert (asked.start, asked.end) == (start, end)
    # On the axis too; a Shift+click without a drag changes nothing.
    drag(pane.canvas, [QPointF(500, AXIS_HEIGHT / 2)], modifiers=shift)
    assert pane.visible_range() == (start, end)
    drag(
        pane.canvas,
        [QPointF(300, AXIS_HEIGHT / 2), QPointF(700, AXIS_HEIGHT / 2)],
        modifiers=shift,
    )
    assert pane.visible_range()[1] - pane.visible_range()[0] < end - start


def test_escape_cancels_a_range_being_selected(qtbot: QtBot, client: RecordingClient) -> None:
    pane = make_pane(qtbot, client)
    rect = pane.lane_rect("incidents")
    assert rect is not None
    y = rect.center().y()
    shift = Qt.KeyboardModifier.ShiftModifier
    left = Qt.MouseButton.LeftButton
    send_mouse(pane.canvas, QEvent.Type.MouseButtonPress, QPointF(300, y), modifiers=shift)
    send_mouse(pane.canvas, QEvent.Type.MouseMove, QPointF(700, y), left, left, shift)
    assert pane.selection() is not None
    pane.canvas.setFocus()
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Escape)
    assert pane.selection() is None and pane.selection_text() == ""
    send_mouse(pane.canvas, QEvent.Type.MouseMove, QPointF(800, y), left, left, shift)
    send_mouse(pane.canvas, QEvent.Type.MouseButtonRelease, QPointF(800, y), modifiers=shift)
    assert pane.visible_range() == (START, END)


def test_camera_lanes_show_where_footage_was_recorded(
    qtbot: QtBot, client: RecordingClient, shown_zone: Callable[[str], SiteTime]
) -> None:
    shown_zone("Asia/Kolkata")
    pane = make_pane(qtbot, client)
    found = pane.current_slice()
    assert found is not None
    gate, yard = found.lane("camera:gate"), found.lane("camera:yard")
    assert gate is not None and yard is not None
    # The seeded clip: 296-304 s.
    assert gate.coverage == ((T0 + timedelta(seconds=296), T0 + timedelta(seconds=304)),)
    assert yard.coverage == ()
    rect = pane.lane_rect("camera:gate")
    assert rect is not None
    bar_y = rect.bottom() - 2
    recorded_x = pane.x_of(T0 + timedelta(seconds=300))
    image = pane.canvas.grab().toImage()
    assert image.pixelColor(int(recorded_x), int(bar_y)) == RECORDED_GREEN
    assert image.pixelColor(int(pane.x_of(T0 + timedelta(seconds=100))), int(bar_y)) == UNRECORDED
    # Above the bar: blue where people were in view (an event clip is recorded for them).
    activity_y = rect.bottom() - COVERAGE_HEIGHT - 2
    assert image.pixelColor(int(recorded_x), int(activity_y)) == INFO_BLUE
    alerts = pane.lane_rect(LANE_ALERTS)
    assert alerts is not None  # no bar where there are no cameras
    assert image.pixelColor(int(recorded_x), int(alerts.bottom() - 2)) != RECORDED_GREEN
    hover = QEvent.Type.MouseMove
    none = Qt.MouseButton.NoButton
    send_mouse(pane.canvas, hover, QPointF(recorded_x, bar_y), none, none)
    assert pane.hover_text() == "Gate: recorded 17:34:56 – 17:35:04; here: people in view"
    send_mouse(pane.canvas, hover, QPointF(pane.x_of(T0 + timedelta(seconds=100)), bar_y), none)
    assert pane.hover_text() == "Gate: nothing recorded here"


def test_the_timeline_pane_follows_the_sites_cameras_while_the_console_runs(
    qtbot: QtBot, client: RecordingClient, store: Store, tmp_path: Path
) -> None:
    """A renamed camera's lane reads its new name, an added camera's lane comes, a removed
    camera's lane (its recordings stay) keeps its last name, and an export opened after the
    change offers the site's cameras as they are."""
    from types import SimpleNamespace

    from console.bridge import QtBridge
    from engine.bus import EventBus
    from tests.actors import INVESTIGATOR
    from tests.widgets.test_activity_follows_cameras import site_cameras_changed
    from widgets.timeline import plugin as timeline_plugin
    from widgets.timeline.investigation import InvestigationPane

    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        queries=client,
        backend=SimpleNamespace(evidence=None),
        cameras=[("gate", "Gate"), ("yard", "Yard")],
        room_ids=[],
        rooms=[],
        media_root=tmp_path,
        fetch_recording=None,
        events=bridge,
        when_closing=lambda **_: None,
        now=lambda: END,
    )
    try:
        pane = timeline_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, InvestigationPane)
        qtbot.addWidget(pane)
        pane.resize(1000, 420)
        with qtbot.waitExposed(pane):
            pane.show()
        timeline = pane.timeline
        timeline.set_range(START, END)
        qtbot.waitUntil(lambda: lane_names(timeline)[:2] == ["camera:gate", "camera:yard"])
        settle(qtbot, timeline)

        def label(lane: str) -> str:
            found = timeline.current_slice()
            shown = None if found is None else found.lane(lane)
            return "" if shown is None else timeline.lane_label(shown)

        assert label("camera:gate") == "Gate"
        with store.transaction() as session:  # the engine mirrors the site into the store
            session.execute(
                insert(Camera),
                [
                    {
                        "site_id": 1,
                        "key": "dock",
                        "name": "Dock",
                        "url": "d.mp4",
                        "source_kind": "file",
                    }
                ],
            )
        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("gate", "Front gate"), ("dock", "Loading dock")],
            added=("dock",),
            removed=("yard",),
            renamed=("gate",),
        )
        assert label("camera:gate") == "Front gate"
        qtbot.waitUntil(lambda: "camera:dock" in lane_names(timeline), timeout=5000)
        assert label("camera:dock") == "Loading dock"
        assert label("camera:yard") == "Yard"  # its recordings stay, under its last name

        pane.on_actor_changed(INVESTIGATOR)
        dialog = pane.open_export(START, END)
        assert dialog is not None
        listed = dialog.camera_list
        offered = [listed.item(i).text() for i in range(listed.count())]
        assert offered == ["Front gate (gate)", "Loading dock (dock)"]
        dialog.reject()
    finally:
        bridge.close()


def test_the_timeline_opens_on_now_and_follows_live_until_moved_back(
    qtbot: QtBot, client: RecordingClient
) -> None:
    """An investigator opening the pane sees the last hour up to now (the engine clock's),
    and it moves on with now; panning back stops that, Live starts it again, and a preset
    while live keeps now at the end."""
    now = [END]
    pane = TimelinePane(client, None, now=lambda: now[0])
    qtbot.addWidget(pane)
    pane.resize(900, 400)
    assert pane.following_live and pane.live_button.isChecked()
    start, end = pane.visible_range()
    assert start < END < end and end - END == (end - start) * 0.04
    assert end - start == timedelta(hours=1)

    now[0] = END + timedelta(minutes=17)  # the console ran a while before it was opened
    with qtbot.waitExposed(pane):
        pane.show()
    assert pane.visible_range() == (start + timedelta(minutes=17), end + timedelta(minutes=17))
    now[0] += timedelta(seconds=30)
    pane._follow_timer.timeout.emit()  # the follow clock ticks
    start, end = pane.visible_range()
    assert start < now[0] < end and (end - now[0]) == (end - start) * 0.04

    pane.show_span(timedelta(minutes=10))  # a preset: still ending at now
    start, end = pane.visible_range()
    assert pane.following_live and end - start == timedelta(minutes=10) and start < now[0] < end

    y = AXIS_HEIGHT + 40  # drag the lanes' background right: back in time
    qtbot.mousePress(pane.canvas, Qt.MouseButton.LeftButton, pos=QPoint(600, y))
    qtbot.mouseMove(pane.canvas, QPoint(800, y))
    qtbot.mouseRelease(pane.canvas, Qt.MouseButton.LeftButton, pos=QPoint(800, y))
    assert not pane.following_live and not pane.live_button.isChecked()
    moved = pane.visible_range()
    now[0] += timedelta(seconds=30)
    pane._follow_timer.timeout.emit()
    assert pane.visible_range() == moved  # it stays where the person put it

    pane.live_button.click()
    start, end = pane.visible_range()
    assert pane.following_live and start < now[0] < end
    pane.hide()  # not shown: nothing moves (nor is asked for)
    before = pane.visible_range()
    now[0] += timedelta(minutes=5)
    pane._follow_timer.timeout.emit()
    assert pane.visible_range() == before
