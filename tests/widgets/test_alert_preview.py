"""A new alert's preview (issue 68): its picture shows at once with the person's box and the
rule's zone drawn over it (and where in the camera's view that is); while its clip is still
being recorded it says "Recording… about N s until the clip is ready", counted down, never
that nothing was kept; once due it asks again and plays the clip when it comes.

The pane runs against the fake backend of :mod:`tests.widgets.test_alert_stream` through
the console's real query client; the countdown is driven by its timer's ticks."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QIODevice, QRect
from PySide6.QtGui import QColor, QImage, QPainter
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.query_service import QueryService
from engine.record.tracks import TrackBox, TrackSample
from tests.widgets.test_alert_stream import NOW, FakeAlerts, FakeSound, look_at
from widgets.alerts.api import AlertEvidence
from widgets.alerts.preview import LEAD_IN_S, STILL_RECORDING, AlertPreview, MarkedVideo
from widgets.alerts.view import AlertStreamPane
from widgets.colours import ALARM_RED, ZONE_ORANGE

FRAME = (640, 360)  # the camera's detection frame (pixels)
BOX = (300.0, 120.0, 60.0, 160.0)  # the person in it (x, y, w, h pixels)
ORIGIN = (291.0, 96.0)  # where the snapshot (the box and 15 % around it) starts in the frame
ZONE = ((0.4, 0.5), (0.9, 0.5), (0.9, 0.95), (0.4, 0.95))  # the rule's zone (fractions)
REPO = Path(__file__).resolve().parents[2]
SHOTS = (
    Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or REPO / "artifacts" / "screenshots")
    / "alert_preview"
)


@pytest.fixture
def backend() -> FakeAlerts:
    return FakeAlerts()


@pytest.fixture
def pane(qtbot: QtBot, backend: FakeAlerts) -> Iterator[AlertStreamPane]:
    client = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    pane = AlertStreamPane(client, backend, sound=FakeSound(), now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.resize(1000, 460)
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.show()  # the first showing loads the list
    yield pane
    pane.close_what_was_opened()
    client.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


def _snapshot() -> bytes:
    """A crop around a person as the engine writes one: 78 × 208 pixels, grey."""
    image = QImage(78, 208, QImage.Format.Format_RGB888)
    image.fill(QColor("#6e7681"))
    painter = QPainter(image)
    painter.fillRect(QRect(20, 30, 38, 150), QColor("#30363d"))  # a figure
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPG")
    return bytes(buffer.data())


def _evidence(alert_id: int, **changes: object) -> AlertEvidence:
    fields: dict[str, object] = {
        "caption": "Loitering on Plaza east: first seen 03:12:05",
        "snapshot": _snapshot(),
        "camera": "plaza",
        "box": (BOX[0] - ORIGIN[0], BOX[1] - ORIGIN[1], BOX[2], BOX[3]),
        "zone": ZONE,
        "frame_size": FRAME,
        "picture_origin": ORIGIN,
        "clip_ready_in_s": 12.0,
    }
    fields.update(changes)
    return AlertEvidence(alert_id, **fields)  # type: ignore[arg-type]


def _near(colour: QColor, wanted: str, slack: int = 40) -> bool:
    want = QColor(wanted)
    return (
        abs(colour.red() - want.red()) <= slack
        and abs(colour.green() - want.green()) <= slack
        and abs(colour.blue() - want.blue()) <= slack
    )


def _pixels_like(image: QImage, wanted: str, within: QRect | None = None) -> int:
    area = within or image.rect()
    return sum(
        _near(image.pixelColor(x, y), wanted)
        for y in range(area.top(), area.bottom() + 1)
        for x in range(area.left(), area.right() + 1)
    )


def test_a_new_alerts_picture_shows_the_box_and_the_zone_at_once_while_its_clip_records(
    qtbot: QtBot,
) -> None:
    preview = AlertPreview()
    qtbot.addWidget(preview)
    preview.resize(480, 420)
    preview.show()
    asked: list[int] = []
    preview.show_evidence(_evidence(5), lambda: asked.append(5))

    assert preview.showing() == "picture"
    assert preview.recording_text() == "Recording… about 12 s until the clip is ready"
    assert preview.recording_note.isVisible()
    assert "kept" not in preview.picture.text()
    drawn = preview.picture.pixmap().toImage()
    assert not drawn.isNull()
    # The person's box in red on the picture, the zone (dashed orange) across its lower
    # part where the person stands, and both again on the map of the whole view.
    assert _pixels_like(drawn, ALARM_RED) > 40
    assert _pixels_like(drawn, ZONE_ORANGE) > 40
    corner = QRect(drawn.width() // 2, drawn.height() // 2, drawn.width() // 2, drawn.height() // 2)
    assert _pixels_like(drawn, ZONE_ORANGE, corner) > 10

    SHOTS.mkdir(parents=True, exist_ok=True)
    assert preview.grab().save(str(SHOTS / "recording_with_box_and_zone.png"))

    # Counted down a second at a time; once due it asks again (every two seconds).
    for _ in range(11):
        preview.countdown.timeout.emit()
    assert preview.recording_text() == "Recording… about 1 s until the clip is ready"
    assert asked == []
    preview.countdown.timeout.emit()
    assert preview.recording_text() == "Recording… the clip should be ready any moment"
    assert asked == [5]
    preview.countdown.timeout.emit()
    assert asked == [5]
    preview.countdown.timeout.emit()
    assert asked == [5, 5]


def test_without_a_picture_a_clip_on_its_way_is_said_never_that_none_was_kept(
    qtbot: QtBot,
) -> None:
    preview = AlertPreview()
    qtbot.addWidget(preview)
    preview.resize(480, 360)
    preview.show_evidence(_evidence(6, snapshot=None, box=None, clip_ready_in_s=4.0))
    assert preview.showing() == "nothing"
    assert preview.picture.text() == "Recording… about 4 s until the clip is ready"
    preview.countdown.timeout.emit()
    assert preview.picture.text() == "Recording… about 3 s until the clip is ready"
    # Nothing on its way (overdue, or never recorded): then it says so.
    preview.show_evidence(_evidence(6, snapshot=None, box=None, clip_ready_in_s=None))
    assert preview.picture.text() == "No picture or clip of this alert was kept"
    assert preview.recording_text() == ""
    assert not preview.countdown.isActive()


def test_the_pane_asks_again_when_the_clip_is_due_and_plays_it_when_it_comes(
    qtbot: QtBot, pane: AlertStreamPane, backend: FakeAlerts, tmp_path: Path
) -> None:
    from tests.widgets.test_event_history import write_h264_clip

    backend.evidence_of[3] = _evidence(3, clip_ready_in_s=1.0)
    look_at(qtbot, pane, 3)
    preview = pane.preview
    assert preview.showing() == "picture"
    assert preview.recording_text() == "Recording… about 1 s until the clip is ready"
    asked = backend.calls.count(("evidence", 3))
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert pane.grab().save(str(SHOTS / "pane_recording.png"))

    clip = tmp_path / "clip.mp4"
    write_h264_clip(clip)
    backend.evidence_of[3] = _evidence(3, clip=clip, clip_offset_s=5.0, clip_ready_in_s=None)
    with qtbot.waitSignal(pane.sig_evidence_shown, timeout=5000):
        preview.countdown.timeout.emit()  # due: asked again, on a worker
    assert backend.calls.count(("evidence", 3)) == asked + 1
    assert preview.showing() == "clip"
    assert preview.recording_text() == ""
    # The marked picture stays beside the caption while the clip plays.
    assert preview.still.isVisible()
    still = preview.still.pixmap().toImage()
    assert _pixels_like(still, ALARM_RED) > 10
    player = preview.player
    assert player is not None
    qtbot.waitUntil(lambda: player.position_s() > 0 or bool(player.error_text()), timeout=5000)
    assert player.error_text() == ""
    assert pane.grab().save(str(SHOTS / "pane_clip_with_still.png"))


CLIP_SIZE = (320, 240)  # tests.widgets.test_event_history.write_h264_clip's picture
BEFORE = TrackBox(7, 40.0, 60.0, 60.0, 120.0)  # the alert's person until 2 s into the clip
AFTER = TrackBox(7, 200.0, 60.0, 60.0, 120.0)  # ...and from then
OTHER = TrackBox(9, 8.0, 8.0, 30.0, 60.0)  # someone else in view throughout


def _clip_samples() -> tuple[TrackSample, ...]:
    return tuple(TrackSample(i / 10, (OTHER, BEFORE if i < 20 else AFTER)) for i in range(40))


def _clip_evidence(alert_id: int, clip: Path, **changes: object) -> AlertEvidence:
    fields: dict[str, object] = {
        "clip": clip,
        "clip_offset_s": LEAD_IN_S,  # played from the clip's start
        "clip_ready_in_s": None,
        "clip_boxes": _clip_samples(),
        "clip_size": CLIP_SIZE,
        "track_id": 7,
    }
    fields.update(changes)
    return _evidence(alert_id, **fields)


def _on_picture(video: MarkedVideo, box: TrackBox) -> QRect:
    """Where ``box`` (pixels of the clip) lies on the video widget."""
    target = video.picture_rect()
    sx, sy = target.width() / CLIP_SIZE[0], target.height() / CLIP_SIZE[1]
    return QRect(
        round(target.x() + box.x * sx),
        round(target.y() + box.y * sy),
        round(box.w * sx),
        round(box.h * sy),
    )


def _edge(rect: QRect) -> QRect:
    """A band across ``rect``'s left edge, where its outline is drawn."""
    return QRect(rect.left() - 3, rect.top() + rect.height() // 4, 7, rect.height() // 2)


def test_while_the_clip_plays_the_persons_box_follows_them_and_the_zone_is_drawn(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from tests.widgets.test_event_history import write_h264_clip

    clip = tmp_path / "clip.mp4"
    write_h264_clip(clip)
    preview = AlertPreview()
    qtbot.addWidget(preview)
    preview.resize(520, 520)
    preview.show()
    preview.show_evidence(_clip_evidence(8, clip))
    assert preview.showing() == "clip"
    player, video = preview.player, preview.video
    assert player is not None and video is not None
    assert not preview.boxes_note.isVisible()
    # The player's frames come to the marked picture as it plays.
    qtbot.waitUntil(lambda: video.frame_time_s() is not None, timeout=5000)
    assert player.error_text() == ""
    player.media_player.pause()

    # At a given play position (paused there): the box the clip keeps for that moment.
    for position_s, now, then in ((2.5, AFTER, BEFORE), (0.5, BEFORE, AFTER)):
        player.media_player.setPosition(round(position_s * 1000))
        qtbot.waitUntil(
            lambda p=position_s: abs((video.frame_time_s() or -9.0) - p) < 0.15, timeout=5000
        )
        sample = video.boxes_now()
        assert sample is not None and now in sample.boxes and then not in sample.boxes
        drawn = video.grab().toImage()
        # The alert's person: bold red where they are now, nothing red where they were.
        assert _pixels_like(drawn, ALARM_RED, _edge(_on_picture(video, now))) > 20
        assert _pixels_like(drawn, ALARM_RED, _edge(_on_picture(video, then))) == 0
        # Someone else: thin and pale, not red.
        assert (
            _pixels_like(
                drawn,
                "#c9d1d9",
                _edge(_on_picture(video, OTHER)),
            )
            > 3
        )
        assert _pixels_like(drawn, ALARM_RED, _edge(_on_picture(video, OTHER))) == 0
        # The rule's zone over the footage (below the clip's moving rectangle).
        target = video.picture_rect().toRect()
        lower = QRect(
            target.left(),
            target.top() + target.height() * 3 // 4,
            target.width(),
            target.height() // 4,
        )
        assert _pixels_like(drawn, ZONE_ORANGE, lower) > 40
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert preview.grab().save(str(SHOTS / "clip_with_box_and_zone.png"))


def test_a_clip_without_usable_boxes_plays_without_them_and_says_so_quietly(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from tests.widgets.test_event_history import write_h264_clip

    clip = tmp_path / "clip.mp4"
    write_h264_clip(clip)
    preview = AlertPreview()
    qtbot.addWidget(preview)
    preview.resize(520, 520)
    preview.show()
    note = "No boxes over this clip: the file of its boxes is damaged"
    preview.show_evidence(
        _clip_evidence(9, clip, clip_boxes=(), clip_size=None, track_id=None, boxes_note=note)
    )
    player, video = preview.player, preview.video
    assert player is not None and video is not None
    assert preview.boxes_note.isVisible() and preview.boxes_note.text() == note
    qtbot.waitUntil(lambda: video.frame_time_s() is not None, timeout=5000)
    assert player.error_text() == "" and video.boxes_now() is None
    player.media_player.pause()
    drawn = video.grab().toImage()
    assert _pixels_like(drawn, ALARM_RED) == 0  # no box
    assert _pixels_like(drawn, ZONE_ORANGE) > 40  # the zone still
    # Another alert with good boxes: the note goes.
    preview.show_evidence(_clip_evidence(10, clip))
    assert not preview.boxes_note.isVisible()


def test_marks_follow_the_frame_time_not_the_wall_clock(qtbot: QtBot) -> None:
    """The marked picture draws the boxes of the frame it shows (by that frame's time in
    the clip), whatever the player's position says: a frame late on screen keeps its
    own boxes."""
    video = MarkedVideo()
    qtbot.addWidget(video)
    video.resize(320, 240)
    video.set_marks(ZONE, _clip_samples(), CLIP_SIZE, 7)
    frame = QImage(320, 240, QImage.Format.Format_RGB32)
    frame.fill(QColor("#202020"))
    video.set_position(3.0)
    video.show_frame(frame, 1.0)
    drawn = video.grab().toImage()
    assert _pixels_like(drawn, ALARM_RED, _edge(_on_picture(video, BEFORE))) > 20
    assert _pixels_like(drawn, ALARM_RED, _edge(_on_picture(video, AFTER))) == 0
    video.show_frame(frame, 9.0)  # long after the last analysed frame: no boxes
    assert video.boxes_now() is None
    assert _pixels_like(video.grab().toImage(), ALARM_RED) == 0


def test_in_a_short_pane_the_clip_has_the_height_and_the_still_sits_beside_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Before: at 1400×860 the preview is about 440×290 and the still took a row of its own
    under the clip, which shrank to a 120×90 thumbnail."""
    from tests.widgets.test_event_history import write_h264_clip

    clip = tmp_path / "clip.mp4"
    write_h264_clip(clip)
    preview = AlertPreview()
    qtbot.addWidget(preview)
    preview.resize(440, 290)
    preview.show()
    preview.show_evidence(_clip_evidence(8, clip))
    video = preview.video
    assert video is not None and preview.still.isVisible()
    qtbot.waitUntil(lambda: video.frame_time_s() is not None, timeout=5000)
    assert video.height() >= preview.height() // 2, (video.height(), preview.height())
    still = preview.still.geometry()
    assert still.left() >= preview.stack.geometry().right()  # beside the clip
    assert still.top() < video.mapTo(preview, video.rect().bottomLeft()).y()


@pytest.mark.slow  # plays two clips in real time
def test_footage_still_recording_is_followed_by_the_rest_and_then_the_whole_clip(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Before: footage cut while the camera still recorded it played to its end and stopped
    ("double-click the alert for the footage since"), and the whole clip, the one with the
    people's boxes, came only if the operator asked again."""
    from tests.widgets.test_event_history import write_h264_clip

    clips = {name: tmp_path / f"{name}.mp4" for name in ("so-far", "more", "whole")}
    for clip in clips.values():
        write_h264_clip(clip)  # 4.0 s each
    asked: list[int] = []
    preview = AlertPreview()
    qtbot.addWidget(preview)
    preview.resize(480, 360)
    preview.show()
    preview.countdown.setInterval(20)  # its seconds, shortened
    so_far = _clip_evidence(
        8, clips["so-far"], clip_offset_s=3.5, recording=True, clip_ready_in_s=2.0
    )
    preview.show_evidence(so_far, lambda: asked.append(1))
    player = preview.player
    assert player is not None and player.path == clips["so-far"]
    assert STILL_RECORDING in preview.caption.text()
    # The camera goes on recording it: asked again when the whole clip should be ready.
    qtbot.waitUntil(lambda: len(asked) >= 1, timeout=5000)
    assert "Recording" in preview.recording_text()

    # More of the recording comes while the footage so far plays: it waits for its end.
    more = _clip_evidence(8, clips["more"], clip_offset_s=1.5, recording=True, clip_ready_in_s=0)
    qtbot.waitUntil(lambda: player.position_s() > 0.6, timeout=5000)
    preview.show_evidence(more, lambda: asked.append(2))
    assert player.path == clips["so-far"] and preview.evidence is so_far
    # ...then follows on from the same moment: 4.0 s into the first is 2.0 s into it.
    qtbot.waitUntil(lambda: player.path == clips["more"], timeout=10_000)
    assert preview.evidence is more
    qtbot.waitUntil(lambda: player.position_s() >= 1.9, timeout=5000)
    assert player.position_s() < 3.5

    # The whole clip is ready: it takes over at once, from the moment on screen.
    whole = _clip_evidence(8, clips["whole"], clip_offset_s=1.5)
    moment = player.position_s()
    preview.show_evidence(whole, lambda: asked.append(3))
    assert player.path == clips["whole"] and preview.evidence is whole
    qtbot.waitUntil(lambda: player.position_s() >= moment - 0.05, timeout=5000)
    assert STILL_RECORDING not in preview.caption.text()
    assert preview.recording_text() == ""
