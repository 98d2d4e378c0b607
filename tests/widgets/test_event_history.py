"""Events pane and clip player, rendered for real, playing a real H.264 clip.

The pane's reads go through a fake query client that answers from a list on the GUI thread
after ``submit`` has returned (as the real client does), newest request per channel only."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtMultimedia import QMediaPlayer
from pytestqt.qtbot import QtBot

from engine.access import Actor, Permission, PermissionDeniedError
from engine.activity import ROUTINE_KINDS
from engine.history.events import (
    CoveringClipsRequest,
    EventFilter,
    EventKindsRequest,
    EventPage,
    EventPageRequest,
    EventView,
)
from engine.history.query_service import CallRequest, QueryRequest, QueryResult
from engine.incidents.records import Filed
from tests.machine_text import machine_text
from tests.widgets.test_incident_list import incident
from widgets.events.clip_player import ClipPlayer
from widgets.events.view import (
    LOADING_TEXT,
    MAX_ROWS,
    NO_CLIP_TEXT,
    PLACE_MAX_PX,
    Column,
    EventHistoryPane,
)

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
CAMERAS = [("gate", "Front gate"), ("yard", "Yard")]
SUMMARY = ROUTINE_KINDS  # what the pane's default view leaves out
CLIP_REL = "clips/gate/clip.mp4"
CLIP_FPS, CLIP_FRAMES = 10, 40  # a 4.0 s clip
CLIP_OFFSET_S = 2.5
READY = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)


def write_h264_clip(path: Path) -> None:
    """A real MP4 the way the recorder writes them: libx264, yuv420p, a moving rectangle."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=CLIP_FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(CLIP_FRAMES):
            image = np.zeros((240, 320, 3), np.uint8)
            image[100:140, i * 7 : i * 7 + 40] = (255, 120, 0)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    write_h264_clip(root / CLIP_REL)
    return root


def event(
    id: int,
    kind: str,
    camera: str | None,
    *,
    seconds: int,
    clip: str | None = None,
    **detail: Any,
) -> EventView:
    return EventView(
        id=id,
        ts=T0 + timedelta(seconds=seconds),
        kind=kind,
        source=f"camera:{camera}" if camera else "engine",
        camera=camera,
        detail=detail,
        clip_path=clip,
        clip_offset_s=CLIP_OFFSET_S if clip else None,
    )


STORED = [  # newest first, as the engine's query returns them
    event(
        6,
        "face.recognised",
        "gate",
        seconds=60,
        clip=CLIP_REL,
        name="Alice Ward",
        person_id="Person_0001",
    ),
    event(5, "person.entered", "yard", seconds=50, track_id=7),
    event(
        4, "face.unknown", "gate", seconds=40, clip="clips/gate/gone.mp4", person_id="Person_0042"
    ),
    event(3, "camera.offline", "yard", seconds=30, detail="no frames for 10 s"),
    event(2, "face.recognised", "yard", seconds=20, name="Bob Stone", person_id="Person_0002"),
    event(1, "engine.started", None, seconds=10, version="0.1.0"),
]


class FakeHistory:
    """Stands in for the store behind the query client: answers page, kinds and clip
    requests from a list (newest first), recording the filter of every page asked for."""

    def __init__(self, events: list[EventView]) -> None:
        self.events = events
        self.filters: list[EventFilter] = []
        self.pages: list[EventPageRequest] = []
        self.kinds = sorted({e.kind for e in events})
        self.clips: dict[str, str] = {}  # camera -> clip path of any later lookup
        self.clip_lookups: list[CoveringClipsRequest] = []
        self.failure: Exception | None = None

    def answer(self, request: QueryRequest[Any]) -> Any:
        if self.failure is not None:
            raise self.failure
        if isinstance(request, EventPageRequest):
            return self.page(request)
        if isinstance(request, EventKindsRequest):
            return list(self.kinds)
        if isinstance(request, CoveringClipsRequest):
            self.clip_lookups.append(request)
            return {
                p.key: (self.clips[p.camera], 0.5) for p in request.probes if p.camera in self.clips
            }
        if isinstance(request, CallRequest):  # an action (submit_action): the call itself
            return request.call()
        raise AssertionError(f"unexpected request {request!r}")

    def page(self, request: EventPageRequest) -> EventPage:
        flt = request.filter
        if request.cursor is None:
            self.filters.append(flt)
        self.pages.append(request)
        rows = [
            e
            for e in self.events
            if (flt.camera is None or e.camera == flt.camera)
            and (flt.kind is None or e.kind == flt.kind)
            and (flt.person is None or flt.person.lower() in str(e.detail).lower())
            and (flt.kind is not None or e.kind not in flt.hidden)
            and (flt.source is None or e.source == flt.source)
            and (flt.after is None or e.ts >= flt.after)
            and (flt.before is None or e.ts < flt.before)
            and (request.cursor is None or (e.ts, e.id) < (request.cursor.ts, request.cursor.id))
        ]
        page = rows[: request.limit]
        more = len(rows) > request.limit
        return EventPage(tuple(page), page[-1].cursor if more else None)


class FakeQueryClient:
    """The pane's query client without threads: answers on the GUI thread once control
    returns to the event loop, dropping answers superseded on their channel. ``hold`` keeps
    answers back until :meth:`release`."""

    def __init__(self, history: FakeHistory) -> None:
        self.history = history
        self.hold = False
        self._latest: dict[str, int] = {}
        self._actions = 0
        self._pending: list[tuple[QueryResult[Any], Callable[..., None], bool]] = []

    def submit(self, channel: str, request: QueryRequest[Any], on_done: Callable[..., None]) -> int:
        generation = self._latest.get(channel, 0) + 1
        self._latest[channel] = generation
        self._queue(channel, generation, request, on_done, True)
        return generation

    def submit_action(
        self,
        channel: str,
        action: Callable[[], Any],
        on_done: Callable[..., None],
        *,
        name: str = "",
    ) -> int:
        self._actions += 1  # never superseded; like the real client's, never 0 while open
        self._queue(channel, self._actions, CallRequest(action, name), on_done, False)
        return self._actions

    def pending(self) -> int:
        return len(self._pending)

    def release(self) -> None:
        pending, self._pending = self._pending, []
        for result, on_done, supersedable in pending:
            if supersedable and self._latest[result.channel] != result.generation:
                continue  # stale: a newer request was made on this channel
            on_done(result)

    def _queue(
        self,
        channel: str,
        generation: int,
        request: QueryRequest[Any],
        on_done: Callable[..., None],
        supersedable: bool,
    ) -> None:
        try:
            result = QueryResult(channel, request, generation, value=self.history.answer(request))
        except Exception as exc:
            result = QueryResult(channel, request, generation, error=exc)
        self._pending.append((result, on_done, supersedable))
        if not self.hold:
            QTimer.singleShot(0, self.release)


def make_pane(
    qtbot: QtBot, media_root: Path, events: list[EventView] = STORED
) -> tuple[EventHistoryPane, FakeHistory]:
    history = FakeHistory(events)
    client = FakeQueryClient(history)
    pane = EventHistoryPane(client, CAMERAS, media_root)
    pane.client = client  # type: ignore[attr-defined]
    qtbot.addWidget(pane)
    pane.resize(900, 600)
    pane.show()
    settle(qtbot, pane)
    return pane, history


def settle(qtbot: QtBot, pane: EventHistoryPane) -> None:
    """Wait until every answer the pane asked for has been shown."""
    client: FakeQueryClient = pane.client  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: client.pending() == 0 and not pane.is_loading(), timeout=2000)


def texts(pane: EventHistoryPane, row: int) -> list[str]:
    model = pane.table.model()
    return [model.index(row, column).data() for column in Column]


def ids(pane: EventHistoryPane) -> list[int]:
    return [view.id for row in range(pane.row_count()) if (view := pane.event_at(row))]


def test_rows_are_newest_first_with_readable_columns(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    assert history.filters == [EventFilter(limit=500, hidden=SUMMARY)]
    assert ids(pane) == [6, 5, 4, 3, 2, 1]
    local = (T0 + timedelta(seconds=60)).astimezone()
    assert texts(pane, 0) == [
        f"{local:%H:%M:%S}",
        "Face recognised",
        "Front gate",
        "Alice Ward",
        "Alice Ward recognised on Front gate",
        "▶",
    ]
    # A kind no renderer knows still reads as words, its detail as labelled fields.
    row = texts(pane, 1)
    assert row == [row[0], "Person entered", "Yard", "", "Person entered on Yard: Track 7", ""]
    assert texts(pane, 2)[3:] == [
        "Person_0042",
        "Face unknown on Front gate: Person Person_0042",
        "▶",
    ]
    assert texts(pane, 3)[1:] == [
        "Camera offline",
        "Yard",
        "",
        "Yard went offline: no frames for 10 s",
        "",
    ]
    assert texts(pane, 5)[1:] == ["Engine started", "", "", "Engine started: Version 0.1.0", ""]
    for row in range(6):
        for text in texts(pane, row):
            assert machine_text(text) is None, text
    time_tip = pane.table.model().index(0, Column.TIME).data(Qt.ItemDataRole.ToolTipRole)
    assert f"{local:%Y-%m-%d %H:%M:%S}" in time_tip
    assert pane.status_text() == "6 events"


def test_cameras_added_removed_or_renamed_while_it_runs_are_offered_and_named(
    qtbot: QtBot, media_root: Path
) -> None:
    """A camera renamed from Administration is named by its new name in the rows and the
    filter; an added one is offered; a filtered camera that is removed lists all again."""
    pane, history = make_pane(qtbot, media_root)
    assert texts(pane, 0)[2] == "Front gate"
    pane.camera_combo.setCurrentIndex(pane.camera_combo.findText("Yard"))
    settle(qtbot, pane)
    pane.set_cameras([("gate", "Main gate"), ("yard", "Yard"), ("dock", "Loading dock")])
    offered = [pane.camera_combo.itemText(i) for i in range(pane.camera_combo.count())]
    assert offered == ["All cameras", "Main gate", "Yard", "Loading dock"]
    assert pane.camera_combo.currentText() == "Yard"  # the filter stays
    pane.camera_combo.setCurrentIndex(0)
    settle(qtbot, pane)
    assert texts(pane, 0)[2] == "Main gate"
    assert texts(pane, 0)[4] == "Alice Ward recognised on Main gate"
    pane.camera_combo.setCurrentIndex(pane.camera_combo.findText("Loading dock"))
    settle(qtbot, pane)
    asked = len(history.filters)
    pane.set_cameras([("yard", "Yard")])  # the gate is removed: its rows keep its name
    settle(qtbot, pane)
    assert pane.camera_combo.currentText() == "All cameras"
    assert len(history.filters) == asked + 1 and history.filters[-1].camera is None
    assert texts(pane, 0)[2] == "Main gate"
    assert pane.camera_combo.findText("Main gate") == -1


def test_camera_and_type_filters_query_and_narrow_rows(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    offered = [pane.kind_combo.itemText(i).strip() for i in range(pane.kind_combo.count())]
    # Every kind a person may look for, by category: falls first, then people and cameras;
    # the stored kinds no renderer knows among them, each by its title.
    assert offered[:3] == ["All types", "Falls", "Possible fall"]
    assert offered.index("People") < offered.index("Cameras") < offered.index("System")
    assert {"Face unknown", "Person entered", "Engine started", "Camera offline"} <= set(offered)
    assert pane.kind_combo.itemData(offered.index("Falls")) is None
    pane.camera_combo.setCurrentIndex(pane.camera_combo.findText("Front gate"))
    settle(qtbot, pane)
    assert history.filters[-1] == EventFilter(camera="gate", limit=500, hidden=SUMMARY)
    assert ids(pane) == [6, 4]

    pane.kind_combo.setCurrentIndex(pane.kind_combo.findData("face.unknown"))
    settle(qtbot, pane)
    assert history.filters[-1] == EventFilter(
        camera="gate", kind="face.unknown", limit=500, hidden=SUMMARY
    )
    assert pane.current_filter() == history.filters[-1]
    assert ids(pane) == [4]

    pane.camera_combo.setCurrentIndex(0)
    pane.kind_combo.setCurrentIndex(0)
    settle(qtbot, pane)
    assert history.filters[-1] == EventFilter(limit=500, hidden=SUMMARY)
    assert pane.row_count() == 6


def test_person_filter_waits_for_typing_to_pause(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    queries_before = len(history.filters)
    qtbot.keyClicks(pane.person_edit, "alice")
    assert len(history.filters) == queries_before  # not once per key
    qtbot.waitUntil(lambda: len(history.filters) == queries_before + 1, timeout=2000)
    settle(qtbot, pane)
    assert history.filters[-1] == EventFilter(person="alice", limit=500, hidden=SUMMARY)
    assert ids(pane) == [6]

    # Enter applies at once, without waiting for the timer.
    pane.person_edit.clear()
    qtbot.keyClicks(pane.person_edit, "person_0042")
    qtbot.keyClick(pane.person_edit, Qt.Key.Key_Return)
    settle(qtbot, pane)
    assert history.filters[-1] == EventFilter(person="person_0042", limit=500, hidden=SUMMARY)
    assert ids(pane) == [4]
    queries = len(history.filters)
    qtbot.wait(400)  # the pending timer was cancelled: no second identical query
    assert len(history.filters) == queries


def test_set_filter_and_refresh(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    pane.set_filter(camera="yard", kind="face.recognised", person="BOB")
    settle(qtbot, pane)
    assert history.filters[-1] == EventFilter(
        camera="yard", kind="face.recognised", person="BOB", limit=500, hidden=SUMMARY
    )
    assert pane.camera_combo.currentText() == "Yard"
    assert pane.person_edit.text() == "BOB"
    assert ids(pane) == [2]
    pane.set_filter(person="nobody")
    settle(qtbot, pane)
    assert pane.row_count() == 0
    assert pane.status_text() == "No events match"
    with pytest.raises(ValueError, match="unknown camera"):
        pane.set_filter(camera="attic")

    pane.set_filter()
    history.events = [event(7, "door.forced", "gate", seconds=70), *STORED]
    history.kinds.append("door.forced")
    queries = len(history.filters)
    pane.refresh_button.click()
    settle(qtbot, pane)
    assert len(history.filters) == queries + 1
    assert ids(pane)[0] == 7
    assert pane.kind_combo.findText("   Door forced") > 0


def test_newly_stored_events_respect_the_filter(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    pane.set_filter(camera="gate", person="alice")
    settle(qtbot, pane)
    assert ids(pane) == [6]
    pane.on_events_stored(
        [
            event(10, "face.recognised", "yard", seconds=80, name="Alice Ward"),
            event(11, "face.recognised", "gate", seconds=81, name="Bob Stone"),
            event(12, "person.entered", "gate", seconds=82, track_id=3),
        ]
    )
    assert ids(pane) == [6]
    pane.on_events_stored(
        [
            event(13, "face.recognised", "gate", seconds=83, person_id="x", name="ALICE Ward"),
            event(14, "face.unknown", "gate", seconds=84, person_id="Alice_9"),
        ]
    )
    assert ids(pane) == [14, 13, 6]
    pane.on_events_stored([event(14, "face.unknown", "gate", seconds=84, person_id="Alice_9")])
    assert ids(pane) == [14, 13, 6]  # already listed (a refresh raced the announcement)

    pane.set_filter(kind="tick")
    pane.on_events_stored(
        [event(100 + i, "tick", None, seconds=100 + i) for i in range(MAX_ROWS + 5)]
    )
    assert pane.row_count() == MAX_ROWS
    assert ids(pane)[0] == 100 + MAX_ROWS + 4  # newest on top, oldest dropped


def test_opening_a_clip_emits_and_plays_from_the_event(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    assert pane.player is None  # created on first use
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000) as blocker:
        assert pane.open_row(0) is True
    assert blocker.args == [str(media_root / CLIP_REL), CLIP_OFFSET_S]
    player = pane.player
    assert isinstance(player, ClipPlayer) and player.isVisible()
    media = player.media_player
    qtbot.waitUntil(lambda: media.mediaStatus() in READY, timeout=5000)
    qtbot.waitUntil(lambda: abs(media.duration() - 4000) <= 300, timeout=5000)
    qtbot.waitUntil(lambda: media.position() >= CLIP_OFFSET_S * 1000, timeout=5000)
    assert player.error_text() == ""
    assert player.duration_label.text() == "00:04"
    assert player.slider.maximum() == media.duration()

    with qtbot.waitSignal(player.sig_position_changed, timeout=3000) as moved:
        player.slider.setValue(1000)  # what a drag on the slider does
    assert moved.args[0] == pytest.approx(1.0, abs=0.3)
    player.close_clip()
    assert media.mediaStatus() == QMediaPlayer.MediaStatus.NoMedia


def test_double_click_and_enter_open_the_clip(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    requests: list[tuple[str, float]] = []
    pane.sig_clip_requested.connect(lambda path, offset: requests.append((path, offset)))
    view = pane.table
    rect = view.visualRect(pane.model.index(0, Column.DETAIL))
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        # A real double-click is press, release, double-click; QTest's DClick alone lacks
        # the first press, which QAbstractItemView needs to know the pressed row.
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(requests) == 1  # once per double-click, not once per click
    assert pane.player is not None
    pane.player.close_clip()

    view.setFocus()
    view.setCurrentIndex(pane.model.index(0, 0))
    assert pane.open_button.isEnabled()
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        pane.open_button.click()
    # Re-opening while a load is under way cancels it quietly: the last clip plays, no error.
    player = pane.player
    qtbot.waitUntil(lambda: player.media_player.mediaStatus() in READY, timeout=5000)
    assert player.error_text() == ""
    assert len(requests) == 3


def test_missing_clip_file_is_explained(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    missing = pane.event_at(2)
    assert missing is not None and missing.clip_path == "clips/gate/gone.mp4"
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        assert pane.open_row(2) is False
    assert pane.player is not None and pane.player.isVisible()
    assert pane.player.error_text() == f"clip file missing: {media_root / 'clips/gate/gone.mp4'}"
    assert not pane.player.play_button.isEnabled()


def test_row_without_clip_says_so(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    with qtbot.assertNotEmitted(pane.sig_clip_requested):
        assert pane.open_row(1) is False
    assert pane.status_text() == NO_CLIP_TEXT
    assert pane.player is None
    pane.table.setCurrentIndex(pane.model.index(1, 0))
    assert not pane.open_button.isEnabled()


def test_undecodable_clip_reports_the_backend_error(qtbot: QtBot, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"not really a video" * 50)
    player = ClipPlayer()
    qtbot.addWidget(player)
    player.show()
    with qtbot.waitSignal(player.sig_error, timeout=5000) as error:
        assert player.open(broken) is True
    assert error.args[0].startswith("cannot play clip")
    assert player.error_text() == error.args[0]

    # The same player recovers with a good clip afterwards.
    good = tmp_path / "good.mp4"
    write_h264_clip(good)
    player.open(good, 1.0)
    qtbot.waitUntil(lambda: player.media_player.mediaStatus() in READY, timeout=5000)
    assert player.error_text() == ""


def test_only_stored_rows_are_listed(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root, [])
    pane.on_events_stored([event(0, "camera.online", "gate", seconds=s) for s in range(3)])
    assert pane.row_count() == 0  # no id: not a stored row, nothing to act on
    pane.on_events_stored([event(7 + s, "camera.online", "gate", seconds=s) for s in range(3)])
    assert ids(pane) == [9, 8, 7]


def many_events(count: int) -> list[EventView]:
    """``count`` events newest first, in pairs sharing a timestamp (ties across pages)."""
    return [
        event(count - i, "person.appeared", "gate", seconds=(count - i) // 2) for i in range(count)
    ]


def test_the_list_says_loading_and_drops_answers_to_older_filters(
    qtbot: QtBot, media_root: Path
) -> None:
    pane, history = make_pane(qtbot, media_root)
    client: FakeQueryClient = pane.client  # type: ignore[attr-defined]
    client.hold = True
    pane.set_filter(camera="yard")
    assert pane.status_text() == LOADING_TEXT and pane.is_loading()
    assert not pane.load_more_button.isEnabled()
    pane.set_filter(camera="gate")
    pane.set_filter(kind="face.recognised")  # three filters before any answer
    client.release()
    assert ids(pane) == [6, 2]  # only the newest filter's answer was shown
    assert not pane.is_loading() and pane.status_text() == "2 events"
    assert [f.camera for f in history.filters[-3:]] == ["yard", "gate", None]

    # An event stored while a page loads is kept when the page lands.
    pane.set_filter()
    pane.on_events_stored([event(7, "camera.online", "gate", seconds=500)])
    client.release()
    assert ids(pane) == [7, 6, 5, 4, 3, 2, 1]


def test_rows_stored_while_a_page_loads_are_merged_by_id(qtbot: QtBot, media_root: Path) -> None:
    """Before: rows announced while the first page loaded were kept only if newer than the
    page's newest row, so a row stored after the page was read but stamped the same second
    (another camera, the same frame time) was lost until the next refresh."""
    pane, _history = make_pane(qtbot, media_root)
    client: FakeQueryClient = pane.client  # type: ignore[attr-defined]
    client.hold = True
    pane.refresh()  # the page is read now, before events 6 (again) and 7 are announced
    pane.on_events_stored([STORED[0], event(7, "camera.online", "yard", seconds=60, detail="back")])
    client.release()
    assert ids(pane) == [7, 6, 5, 4, 3, 2, 1]  # 7 kept, 6 not twice


def test_older_events_load_page_by_page_from_the_cursor(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root, many_events(1200))
    pane.set_summary(False)  # every event: each track's rows too
    settle(qtbot, pane)
    assert pane.row_count() == 500 and pane.has_more()
    assert pane.status_text() == "500 events (newest first; Load more for older ones)"
    assert pane.load_more_button.isEnabled()
    client: FakeQueryClient = pane.client  # type: ignore[attr-defined]
    client.hold = True
    pane.load_more_button.click()
    # The page lands with no event processing after it, so the table's layout of the new
    # rows is still pending (Qt lays out inserted rows on a zero timer).
    client.hold = False
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=2000) as loaded:
        client.release()
    assert loaded.args == [500]
    assert history.pages[-1].cursor == pane.event_at(499).cursor  # type: ignore[union-attr]
    assert pane.row_count() == 1000

    # Scrolling to the bottom asks for the rest. As a user does it (End, or dragging the
    # bar to its end): at the bottom of the laid-out list. The scroll bar's maximum read
    # now is still the 500-row list's; setting that value once made Qt lay out the rows
    # first, and the list's bottom moved away (the flake of a CI run).
    with qtbot.waitSignal(pane.sig_page_loaded, timeout=2000) as loaded:
        pane.table.scrollToBottom()
    assert loaded.args == [200]
    assert ids(pane) == list(range(1200, 0, -1))  # nothing twice, nothing skipped
    assert not pane.has_more() and not pane.load_more_button.isEnabled()
    assert pane.load_more() is False
    assert pane.status_text() == "1200 events"

    # Live rows keep coming: the list stays at what was loaded, the oldest can come back.
    for i in range(10):
        pane.on_events_stored([event(5000 + i, "person.appeared", "gate", seconds=5000 + i)])
    assert pane.row_count() == 1200 and ids(pane)[0] == 5009
    assert pane.has_more() and pane.load_more_button.isEnabled()


def test_a_failed_page_is_explained_in_the_pane(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    history.failure = RuntimeError("database is locked")
    pane.set_filter(camera="yard")
    settle(qtbot, pane)
    assert pane.row_count() == 0  # the stale list is not left looking current
    assert pane.status_text() == "could not load events: database is locked"
    history.failure = None
    pane.refresh_button.click()
    settle(qtbot, pane)
    assert pane.status_text() == "3 events"


def test_a_stored_clip_looks_up_the_clips_of_rows_stored_before_it(
    qtbot: QtBot, media_root: Path
) -> None:
    """A person's appearance is stored as its clip starts recording; the clip's own row is
    stored seconds later. The clip.finalised announcement (after the clip's media row,
    written first) gets the rows without a clip theirs, in one lookup per announcement."""
    pane, history = make_pane(qtbot, media_root)
    pane.set_summary(False)  # every event: each track's and clip's rows too
    settle(qtbot, pane)
    pane.on_events_stored([event(7, "person.appeared", "yard", seconds=90)])
    settle(qtbot, pane)
    assert history.clip_lookups == []  # nothing was finished: nothing to look up
    pages = len(history.pages)
    history.clips = {"yard": "clips/yard/new.mp4"}
    pane.on_events_stored(
        [
            event(8, "clip.finalised", "yard", seconds=98, clip="clips/yard/new.mp4"),
            event(9, "clip.finalised", "gate", seconds=98),
        ]
    )
    settle(qtbot, pane)
    assert len(history.clip_lookups) == 1 and len(history.pages) == pages  # no list reload
    asked = {(p.key, p.camera, p.ts) for p in history.clip_lookups[0].probes}
    assert asked == {(v.id, v.camera, v.ts) for v in STORED if v.camera and not v.clip_path} | {
        (7, "yard", T0 + timedelta(seconds=90)),
        (9, "gate", T0 + timedelta(seconds=98)),
    }
    assert ids(pane)[:3] == [9, 8, 7]
    assert texts(pane, 2)[Column.CLIP] == "▶"
    assert pane.event_at(2).clip_path == "clips/yard/new.mp4"  # type: ignore[union-attr]
    assert pane.event_at(3).clip_path == CLIP_REL  # type: ignore[union-attr]  # kept


def test_person_column_shows_the_stored_persons_current_name(
    qtbot: QtBot, media_root: Path
) -> None:
    renamed = EventView(
        id=1,
        ts=T0,
        kind="face.recognised",
        source="camera:gate",
        camera="gate",
        detail={"name": "Old Name", "person_id": "Person_0001"},
        clip_path=None,
        clip_offset_s=None,
        person="Dana Shore",
        person_public_id="Person_0001",
    )
    pane, _ = make_pane(qtbot, media_root, [renamed])
    assert texts(pane, 0)[Column.PERSON] == "Dana Shore"


class FakeEscalation:
    """The console's ``escalate_event``: records what it was asked, answers an incident."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.refusal: Exception | None = None

    def escalate_event(self, event_id: int, text: str) -> Filed:
        self.calls.append((event_id, text))
        if self.refusal is not None:
            raise self.refusal
        view = incident(21, 0, category="suspicious_activity", reporter_count=2, report_count=2)
        return Filed(report_id=210, incident=view, merged=True, matched_report_id=200)


def test_a_stored_event_is_escalated_to_an_incident_by_those_allowed(
    qtbot: QtBot, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = FakeEscalation()
    client = FakeQueryClient(FakeHistory(STORED))
    pane = EventHistoryPane(client, CAMERAS, media_root, actions=actions)
    pane.client = client  # type: ignore[attr-defined]
    qtbot.addWidget(pane)
    pane.show()
    settle(qtbot, pane)
    monkeypatch.setattr(pane, "_ask_escalation_text", lambda view: f"seen on {view.camera}")
    pane.table.selectRow(1)  # event 5: person.entered in the yard
    assert pane.escalate_button.isVisible() and not pane.escalate_button.isEnabled()
    assert "file_report permission" in pane.escalate_button.toolTip()
    assert not pane.escalate_selected("x")
    pane.set_escalate_allowed(True)
    assert pane.escalate_button.isEnabled()
    menu = pane._context_menu()
    assert [a.text() for a in menu.actions()] == ["Open clip", "Escalate to incident…"]
    assert [a.isEnabled() for a in menu.actions()] == [False, True]
    menu.deleteLater()
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=2000) as escalated:
        pane.escalate_button.click()
    assert escalated.args == [5, 21]
    assert actions.calls == [(5, "seen on yard")]
    assert pane.strip.status() == (
        "Event 5 escalated: merged into incident 21 (2 reporters): suspicious_activity, "
        "severity 2, classified by keywords."
    )
    assert pane.strip.error() == "" and not pane.strip.is_busy()
    # The engine's refusal is shown in the pane, in the strip's red line.
    actions.refusal = PermissionDeniedError(
        Actor("ian", frozenset()), Permission.FILE_REPORT, "escalate an event to an incident"
    )
    assert pane.escalate_selected("again")
    qtbot.waitUntil(lambda: "Could not escalate event 5" in pane.strip.error(), timeout=2000)
    assert "file_report permission" in pane.strip.error()
    assert pane.strip.status() == "" and pane.escalate_button.isEnabled()
    # A row the store writer has just announced is escalated straight away, by its id.
    actions.refusal = None
    pane.on_events_stored([event(9, "person.entered", "gate", seconds=90)])
    pane.table.selectRow(0)
    assert pane.escalate_button.isEnabled()
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=2000) as escalated:
        assert pane.escalate_selected("just now")
    assert escalated.args == [9, 21]
    assert actions.calls[-1] == (9, "just now")


def test_one_escalation_runs_at_a_time_and_the_pane_shows_it_busy(
    qtbot: QtBot, media_root: Path
) -> None:
    actions = FakeEscalation()
    client = FakeQueryClient(FakeHistory(STORED))
    pane = EventHistoryPane(client, CAMERAS, media_root, actions=actions)
    pane.client = client  # type: ignore[attr-defined]
    qtbot.addWidget(pane)
    pane.show()
    settle(qtbot, pane)
    pane.set_escalate_allowed(True)
    pane.table.selectRow(1)  # event 5
    client.hold = True  # the first escalation's answer has not come back yet
    assert pane.escalate_selected("first")
    assert pane.is_busy() and pane.strip.is_busy()
    assert pane.strip.status() == "Filing event 5 as an incident report…"
    assert not pane.escalate_button.isEnabled()
    menu = pane._context_menu()
    assert [a.isEnabled() for a in menu.actions()] == [False, False]  # no clip; escalating
    menu.deleteLater()
    # Another row, or the same one again: refused until the first one is answered.
    pane.table.selectRow(0)
    assert not pane.escalate_button.isEnabled()
    assert not pane.escalate_selected("second")
    pane.table.selectRow(1)
    assert not pane.escalate_selected("again")
    assert actions.calls == [(5, "first")]
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=2000) as escalated:
        client.release()
    assert escalated.args == [5, 21]
    assert not pane.is_busy() and not pane.strip.is_busy()
    assert pane.strip.status().startswith("Event 5 escalated: merged into incident 21")
    assert pane.escalate_button.isEnabled()
    client.hold = False
    pane.table.selectRow(0)  # event 6 may be escalated now
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=2000) as escalated:
        assert pane.escalate_selected("second")
    assert escalated.args == [6, 21]
    assert actions.calls == [(5, "first"), (6, "second")]


def test_without_actions_the_pane_offers_no_escalation(qtbot: QtBot, media_root: Path) -> None:
    pane, _history = make_pane(qtbot, media_root)
    pane.set_escalate_allowed(True)
    pane.table.selectRow(0)
    assert pane.escalate_button.isHidden() and not pane.escalate_selected("x")
    assert [a.text() for a in pane._context_menu().actions()] == ["Open clip"]


ACTIVITY_ROWS = [  # newest first: a plaza activity with its tracks, a camera going dark
    EventView(
        id=15,
        ts=T0 + timedelta(seconds=200),
        kind="activity.ended",
        source="camera:gate",
        camera="gate",
        detail={
            "started_at": (T0 + timedelta(seconds=100)).isoformat(),
            "duration_s": 100.0,
            "people": 2,
            "tracks": 3,
        },
        clip_path=None,
        clip_offset_s=None,
    ),
    event(14, "person.left", "gate", seconds=200, track_id=3),
    event(13, "clip.finalised", "gate", seconds=190),
    event(12, "camera.offline", "yard", seconds=180, detail="no frames for 10 s"),
    event(11, "person.appeared", "gate", seconds=150, track_id=3),
    event(10, "person.appeared", "gate", seconds=110, track_id=2),
    EventView(
        id=9,
        ts=T0 + timedelta(seconds=100),
        kind="activity.began",
        source="camera:gate",
        camera="gate",
        detail={"people": 1},
        clip_path=None,
        clip_offset_s=None,
    ),
    event(8, "person.appeared", "gate", seconds=100, track_id=1),
    event(7, "person.appeared", "yard", seconds=50, track_id=9),
]


def test_the_summary_shows_activities_and_what_matters_and_opens_an_activity(
    qtbot: QtBot, media_root: Path
) -> None:
    pane, history = make_pane(qtbot, media_root, ACTIVITY_ROWS)
    assert pane.is_summary() and pane.view_combo.currentText() == "Summary"
    assert ids(pane) == [15, 12, 9]  # each track's rows and the clip's are left out
    assert texts(pane, 0)[1] == "Activity"
    assert texts(pane, 0)[4].startswith("Up to 2 people on Front gate, ")
    # A routine row stored now stays out of the summary; a camera going dark comes in.
    pane.on_events_stored([event(16, "person.appeared", "gate", seconds=300, track_id=4)])
    pane.on_events_stored([event(17, "camera.online", "yard", seconds=301)])
    assert ids(pane) == [17, 15, 12, 9]

    # Opening the activity lists every row of its place and time, then Escape goes back.
    pane.table.setCurrentIndex(pane.table.model().index(1, 0))
    pane.table.setFocus()
    qtbot.keyClick(pane.table, Qt.Key.Key_Return)
    settle(qtbot, pane)
    assert history.filters[-1].source == "camera:gate"
    assert ids(pane) == [15, 14, 13, 11, 10, 9, 8]  # not the yard's, not after it ended
    scope = pane.activity_scope()
    assert scope is not None and scope.startswith("Activity on Front gate: every row from ")
    assert pane.scope_label.isVisible()
    qtbot.keyClick(pane.table, Qt.Key.Key_Escape)
    settle(qtbot, pane)
    assert pane.activity_scope() is None and not pane.scope_label.isVisible()
    assert ids(pane) == [15, 12, 9]

    # Choosing a type lists it even in the summary; every event lists everything.
    pane.kind_combo.setCurrentIndex(pane.kind_combo.findData("person.appeared"))
    settle(qtbot, pane)
    assert ids(pane) == [11, 10, 8, 7]
    pane.kind_combo.setCurrentIndex(0)
    pane.set_summary(False)
    settle(qtbot, pane)
    assert ids(pane) == [15, 14, 13, 12, 11, 10, 9, 8, 7]


def test_a_clip_kept_on_another_machine_is_fetched_then_played(
    qtbot: QtBot, media_root: Path, tmp_path: Path
) -> None:
    """Attached to a shared site, the pane's media root is this console's cache: a clip not
    there yet is fetched (on a worker) by the function the console gives, then played; a
    clip that cannot be fetched says why."""
    cache = tmp_path / "from-engines"
    fetched: list[Path] = []

    def fetch(path: Path) -> Path:
        relative = path.relative_to(cache)
        if not (media_root / relative).is_file():
            raise RuntimeError("server-b keeps this recording and is not running")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((media_root / relative).read_bytes())  # what the HTTP fetch does
        fetched.append(path)
        return path

    history = FakeHistory(STORED)
    client = FakeQueryClient(history)
    client.hold = True  # the fetch is on its way while the pane is looked at
    pane = EventHistoryPane(client, CAMERAS, cache, fetch_recording=fetch)
    pane.client = client  # type: ignore[attr-defined]
    qtbot.addWidget(pane)
    pane.resize(900, 600)
    pane.show()
    client.release()
    qtbot.waitUntil(lambda: pane.row_count() > 0, timeout=2000)
    assert pane.open_row(0) is True
    player = pane.player
    assert player is not None
    assert player.error_text() == "Fetching the clip from the server that recorded it…"
    assert not player.play_button.isEnabled()
    client.release()
    media = player.media_player
    qtbot.waitUntil(lambda: media.mediaStatus() in READY, timeout=5000)
    assert fetched == [cache / CLIP_REL]
    assert player.error_text() == ""

    client.hold = False
    assert pane.open_row(2) is True  # its clip is on its way, then cannot be
    qtbot.waitUntil(lambda: "cannot be played here" in player.error_text(), timeout=2000)
    assert player.error_text() == (
        "The clip cannot be played here: server-b keeps this recording and is not running"
    )


def test_the_where_column_shows_the_site_s_longest_place_name_whole(
    qtbot: QtBot, media_root: Path
) -> None:
    """In the operator's dock (about 610 px wide at 1400 × 860) the Where column was 100 px,
    and a sensing room called "Demo plaza sensing" read "Demo plaza s…". It now fits the
    site's longest camera or room name, up to PLACE_MAX_PX."""
    history = FakeHistory(STORED)
    client = FakeQueryClient(history)
    pane = EventHistoryPane(client, CAMERAS, media_root, rooms=[("plaza", "Demo plaza sensing")])
    pane.client = client  # type: ignore[attr-defined]
    qtbot.addWidget(pane)
    pane.resize(610, 400)
    pane.show()
    settle(qtbot, pane)
    needed = pane.table.fontMetrics().horizontalAdvance("Demo plaza sensing")
    assert pane.table.columnWidth(Column.PLACE) >= needed + 8
    assert pane.table.columnWidth(Column.PLACE) <= PLACE_MAX_PX
    assert pane.table.columnWidth(Column.DETAIL) >= 100  # the detail still has room


def test_a_clip_played_to_its_end_holds_its_last_picture(qtbot: QtBot, hamilton_clip: Path) -> None:
    """Before: the backend blanked the video when the clip ended, so the preview of an
    alert showed a black box where the person had just been."""
    player = ClipPlayer()
    qtbot.addWidget(player)
    player.resize(480, 360)
    player.show()
    media = player.media_player
    assert player.open(hamilton_clip, 8.6)  # 9.2 s long: the last half second plays
    qtbot.waitUntil(player.showing_picture, timeout=10_000)
    qtbot.waitUntil(
        lambda: media.mediaStatus() == QMediaPlayer.MediaStatus.EndOfMedia, timeout=15_000
    )
    qtbot.wait(100)  # anything queued after the end (a blank frame) is delivered
    assert player.showing_picture()
    image = player.video_widget.videoSink().videoFrame().toImage()
    assert not image.isNull() and image.width() == 640
    # Another clip never shows the last one's picture: opened, then closed.
    player.close_clip()
    assert not player.showing_picture()


def test_a_long_clip_name_does_not_hold_the_player_wide(
    qtbot: QtBot, hamilton_clip: Path, tmp_path: Path
) -> None:
    """Before: the clip's file name (55 characters with its moment) set the player's least
    width, so the Alerts pane's list beside the preview was squeezed to two columns."""
    player = ClipPlayer()
    qtbot.addWidget(player)
    long_name = "plaza_20261129T090503_090533_b996d476489b.mp4"
    clip = tmp_path / long_name
    shutil.copyfile(hamilton_clip, clip)
    assert player.open(clip, 2.0)
    assert player.title_text() == f"{long_name}  @ 00:02"  # the whole name is kept
    assert player.minimumSizeHint().width() < 300, player.minimumSizeHint()
