"""Teaching gestures at the console: the real backend on a real store with the real pose
landmarker, over real footage (tests/gesture_videos.py). The wizard teaches a gesture from a
recorded clip and the pane lists it with its usage; a camera (a frame getter replaying a
video in real time, as a camera's frame slot does) gives one example per recording and tests
a gesture live; a camera without a picture, a scene without a person and a person leaving
the picture mid-repetition are refused with a clear sentence and nothing is saved; an
operator may do none of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from console.backends.gestures import GesturesBackend
from console.layouts import Layout
from engine.access import PermissionDeniedError
from engine.clock import Clock, SimulatedClock
from engine.frames import Frame
from engine.gestures.teach import RecordedExample, TeachError
from engine.gestures.worker import GestureDetected
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, audit_entries
from tests.gesture_motions import motion3d
from tests.gesture_videos import FPS, STILL, _frames, repetition, teaching_video
from widgets.gestures.teach_dialog import STEP_RECORD, STEP_SAVE
from widgets.gestures.view import COLUMN_DETECTIONS, COLUMN_EXAMPLES

CAMERA = "door"


class ReplayCamera:
    """A camera's newest frame, as its frame slot gives it: ``frames`` played in ``clock``'s
    time from the first call (each frame numbered by its position), the last one held after
    the end. With no frames, no picture (None)."""

    def __init__(self, frames: Sequence[np.ndarray], clock: Clock, fps: float = FPS) -> None:
        self._frames = list(frames)
        self._clock = clock
        self._fps = fps
        self._start: float | None = None

    def __call__(self) -> Frame | None:
        if not self._frames:
            return None
        now = self._clock.monotonic()
        if self._start is None:
            self._start = now
        index = min(int((now - self._start) * self._fps), len(self._frames) - 1)
        return Frame(
            seq=index,
            image=self._frames[index],
            captured_at=self._start + index / self._fps,
            source_fps=self._fps,
        )


def one_repetition() -> list[np.ndarray]:
    """Standing still 0.8 s, the movement once (1.5 s), still again 0.8 s: 3.1 s."""
    rep = repetition()
    hold = [rep[0]] * round(0.8 * FPS)
    return [*hold, *rep, *hold]


def leaving_mid_repetition() -> list[np.ndarray]:
    """Still, then half the movement, then the picture holds nobody (the person left)."""
    rep = repetition()
    hold = [rep[0]] * round(0.8 * FPS)
    empty = np.zeros_like(rep[0])
    return [*hold, *rep[: len(rep) // 2], *[empty] * round(1.5 * FPS)]


def late_start() -> list[np.ndarray]:
    """The recording starts while the movement is under way."""
    rep = repetition()
    return [*rep[len(rep) // 4 :], *[rep[0]] * round(1.5 * FPS)]


def twice() -> list[np.ndarray]:
    """The movement twice, a little faster, with pauses: 4.4 s."""
    rep = repetition(1.25)
    hold = [rep[0]] * round(0.7 * FPS)
    return [*hold, *rep, *hold, *rep, *hold]


def nobody() -> list[np.ndarray]:
    """The same room's light with no person in it: a plain picture of its mean colour."""
    still = _frames(STILL, STILL)[0]
    return [np.full_like(still, int(still.mean()))] * round(3.5 * FPS)


class Cameras:
    """The console's frame getters, by camera id, swapped per recording, in the simulated
    time of :attr:`clock` (a recording made with it sleeps no real seconds)."""

    def __init__(self) -> None:
        self.getters: dict[str, Callable[[], Frame | None]] = {}
        self.clock = SimulatedClock()

    def play(self, frames: Sequence[np.ndarray]) -> None:
        self.getters[CAMERA] = ReplayCamera(frames, self.clock)

    def __call__(self, camera: str) -> Frame | None:
        getter = self.getters.get(camera)
        return getter() if getter is not None else None


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return teaching_video(tmp_path_factory.mktemp("gestures") / "sweep.avi")


def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site.toml")


@pytest.mark.slow
def test_the_wizard_teaches_from_a_clip_and_the_pane_lists_it_with_its_usage(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, drill: Path
) -> None:
    host, window = open_console(site(tmp_path))
    assert window.current_layout is Layout.ADMIN
    pane = window.panes["gestures"]
    assert window.open_administration("gestures") is not None and pane.isVisible()
    qtbot.waitUntil(lambda: "No gestures taught yet" in pane.count_label.text(), timeout=5000)
    assert pane.changes_allowed and pane.teach_button.isEnabled()

    dialog = pane.open_teach_dialog()
    assert dialog is not None
    qtbot.addWidget(dialog)
    # This site has no cameras: only a file can be used.
    assert not dialog.camera_radio.isEnabled() and dialog.file_radio.isChecked()
    assert dialog.no_cameras_label.isVisibleTo(dialog)
    dialog.file_edit.setText(str(drill))
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=60_000) as read:
        dialog.next_button.click()  # the clip is read on entering the recording step
    assert read.args == [True], dialog.strip.error()
    assert dialog.step == STEP_RECORD and len(dialog.examples()) == 3
    assert all(e.label.startswith("sweep.avi @ ") for e in dialog.examples())
    assert dialog.skeleton.sequence_count() == 1  # the newest example replays as a skeleton
    dialog.next_button.click()
    assert dialog.step == STEP_SAVE and not dialog.test_button.isEnabled()  # no camera
    dialog.name_edit.setText("sweep")
    dialog.alerting_check.setChecked(True)
    with (
        qtbot.waitSignal(pane.sig_gesture_taught, timeout=10_000) as taught,
        qtbot.waitSignal(pane.sig_gestures_listed, timeout=10_000),
    ):
        dialog.save_button.click()
    assert taught.args == ["sweep"]
    view = pane.gesture("sweep")
    assert view is not None and view.examples == 3 and view.alerting
    assert view.created_by == "account:ada" and 1.0 <= view.typical_s <= 2.0
    assert pane.cell_text("sweep", COLUMN_DETECTIONS) == "0"
    # The runtime reloaded its gestures: live cameras match it from now on.
    assert host.runtime.gestures.current().names == ("sweep",)
    assert [(e.actor, e.target) for e in audit_entries(host, action="gesture.teach")] == [
        ("account:ada", "gesture:sweep")
    ]

    # A camera recognised it: the usage is counted, and shown once the detection's row is
    # stored (the pane re-reads on the store writer's announcement, not after a guessed delay).
    host.runtime.bus.publish(
        GestureDetected(
            at=datetime.now(UTC),
            camera="plaza",
            track_id=1,
            gesture="sweep",
            confidence=0.9,
            alerting=False,
        )
    )
    qtbot.waitUntil(lambda: pane.cell_text("sweep", COLUMN_DETECTIONS) == "1", timeout=10_000)
    assert pane.cell_text("sweep", COLUMN_EXAMPLES) == "3"
    listed = pane.gesture("sweep")
    assert listed is not None and listed.last_detected_at is not None

    # Replaying it loads its examples as skeletons.
    pane.select("sweep")
    with qtbot.waitSignal(pane.sig_template_loaded, timeout=5000) as loaded:
        pane.replay_button.click()
    assert loaded.args == ["sweep", 3] and pane.skeleton.is_playing()


@pytest.mark.slow
def test_a_camera_gives_one_example_per_recording_and_tests_a_gesture_live(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, drill: Path
) -> None:
    host, window = open_console(site(tmp_path))
    cameras = Cameras()
    backend = GesturesBackend(
        host.runtime, host.store, window.session, cameras, recording_clock=cameras.clock
    )
    taught = backend.examples_from_file(str(drill))
    assert len(taught) == 3

    cameras.play(one_repetition())
    progress: list[tuple[str, float]] = []
    example = backend.record_example(CAMERA, 3.0, lambda *p: progress.append(p))
    assert isinstance(example, RecordedExample)
    assert example.label.startswith(f"camera {CAMERA} (")
    assert 1.0 <= example.duration_s <= 2.2 and example.frames.shape[1:] == (33, 3)
    assert {phase for phase, _ in progress} == {"recording", "posing"}
    assert progress[-1][1] == pytest.approx(1.0)

    # The same movement in front of the camera is recognised as the gesture being taught.
    cameras.play(one_repetition())
    result = backend.test_live(CAMERA, 3.0, [*taught, example], "sweep", False)
    assert result.recognised == "sweep", result
    assert result.confidence >= result.threshold == pytest.approx(0.7)
    assert result.text().startswith("recognised as sweep (0.")

    # Taught from the camera's example and the clip's, then listed.
    saved = backend.save("sweep", [*taught[:2], example], False, True, False)
    assert saved.examples == 3 and saved.mirror_invariant
    (listed,) = backend.list_gestures()
    assert (listed.name, listed.examples, listed.detections) == ("sweep", 3, 0)
    assert [s for s in backend.template("sweep").durations_s] == pytest.approx(
        [taught[0].duration_s, taught[1].duration_s, example.duration_s]
    )


@pytest.mark.slow
def test_no_picture_nobody_and_a_person_leaving_are_refused_and_nothing_is_saved(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    host, window = open_console(site(tmp_path))
    cameras = Cameras()
    backend = GesturesBackend(
        host.runtime, host.store, window.session, cameras, recording_clock=cameras.clock
    )

    with pytest.raises(TeachError, match=f"camera {CAMERA} has no picture"):
        backend.record_example(CAMERA, 3.0)

    cameras.play(nobody())
    with pytest.raises(TeachError, match="no person seen"):
        backend.record_example(CAMERA, 3.0)

    cameras.play(leaving_mid_repetition())
    with pytest.raises(TeachError, match=r"the person left the frame .*at \d+\.\d s"):
        backend.record_example(CAMERA, 3.0)

    cameras.play(late_start())
    with pytest.raises(TeachError, match="already moving when the recording started"):
        backend.record_example(CAMERA, 3.0)

    cameras.play(twice())
    with pytest.raises(TeachError, match=r"2 repetitions seen .*perform the gesture once"):
        backend.record_example(CAMERA, 4.5)

    assert backend.list_gestures() == []
    assert audit_entries(host, action="gesture.teach") == []


def test_an_operator_is_offered_no_gestures_pane_and_is_refused(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    host, window = open_console(site(tmp_path), accounts={"olga": "operator"}, login="olga")
    assert "gestures" not in window.admin_window.allowed_pages()
    assert (
        window.open_administration("gestures") is None and not window.panes["gestures"].isVisible()
    )
    assert (
        not window.panes["gestures"].changes_allowed
        and not window.panes["gestures"].teach_button.isEnabled()
    )
    cameras = Cameras()
    cameras.play(one_repetition())
    backend = window.backends["gestures"]
    with pytest.raises(PermissionDeniedError):
        backend.record_example(CAMERA, 3.0)
    examples = [
        RecordedExample("drawn", 0.0, 1.0, motion3d("wave", seed).astype(np.float32))
        for seed in range(3)
    ]
    with pytest.raises(PermissionDeniedError):
        backend.save("wave", examples, False, False, False)
    with pytest.raises(PermissionDeniedError):
        backend.remove("wave")
    refused = audit_entries(host, action="gesture.teach")
    assert [(e.actor, e.outcome) for e in refused] == [("account:olga", "denied")]
    assert backend.list_gestures() == []
