"""Gestures pane and teach wizard: listing with usage, replay as a skeleton, rename, remove,
options, permissions, and the wizard's steps (countdown, recording, discarding, a clip,
testing live, saving, cancelling), against fake gesture actions run through the console's
real query client (so every call runs on a query worker and answers on the GUI thread, as
in the console). The examples are real engine objects made of drawn poses."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.gestures.library import GestureError, GestureView
from engine.gestures.teach import RecordedExample, TeachError
from engine.gestures.templates import GestureTemplate
from engine.history.query_service import QueryService
from tests.gesture_motions import motion3d
from widgets.gestures.api import Cancelled, LiveTestResult, TeachProgress
from widgets.gestures.skeleton import SkeletonView
from widgets.gestures.teach_dialog import (
    NO_CAMERAS_TEXT,
    STEP_RECORD,
    STEP_SAVE,
    STEP_SOURCE,
    TeachGestureDialog,
)
from widgets.gestures.view import (
    COLUMN_ALERTING,
    COLUMN_DETECTIONS,
    COLUMN_EXAMPLES,
    COLUMN_LAST_DETECTED,
    COLUMN_MIRROR,
    COLUMN_TYPICAL,
    NOT_ALLOWED_TEXT,
    GesturesPane,
)

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
WAVE = GestureView("wave", True, False, 3, 1.42, "account:ada", T0, T0, 7, T0)
SQUAT = GestureView("squat", False, True, 4, 2.0, "account:ada", T0, T0, 0, None)
CAMERAS = [("cam-door", "Door"), ("cam-yard", "Yard")]


def drawn_example(seed: int, source: str = "camera Door (12:00:00)") -> RecordedExample:
    return RecordedExample(source, 0.8, 1.2, motion3d("wave", seed, frames=36).astype(np.float32))


class FakeGestures:
    """The console's gesture actions over a list, recording every call and its thread."""

    def __init__(self) -> None:
        self.gestures = [SQUAT, WAVE]
        self.calls: list[tuple[object, ...]] = []
        self.threads: set[str] = set()
        self.refusal: Exception | None = None
        self.recordings = 0
        self.file_examples = [drawn_example(s, "clip.mp4") for s in range(3)]
        self.live = LiveTestResult("wave2", "wave2", 0.83, 0.7)
        self.hold = threading.Event()  # set: a recording waits to be cancelled
        self.saw_cancel = threading.Event()

    def _call(self, *call: object) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)

    def list_gestures(self) -> list[GestureView]:
        self._call("list")
        return list(self.gestures)

    def template(self, name: str) -> GestureTemplate:
        self._call("template", name)
        return GestureTemplate(
            name, True, False, tuple(drawn_example(s).normalised() for s in range(3)), (1, 1, 1)
        )

    def record_example(
        self,
        camera: str,
        seconds: float,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> RecordedExample:
        self._call("record", camera, seconds)
        assert progress is not None and cancelled is not None
        progress("recording", 0.5)
        while self.hold.is_set():
            if cancelled():
                self.saw_cancel.set()
                raise TeachError("camera Door: cancelled")
            time.sleep(0.01)
        progress("posing", 1.0)
        if self.refusal is not None:
            raise self.refusal
        self.recordings += 1
        return drawn_example(self.recordings)

    def examples_from_file(
        self,
        path: str,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> list[RecordedExample]:
        self._call("file", path)
        assert progress is not None and cancelled is not None
        progress("reading", 0.4)
        while self.hold.is_set():
            if cancelled():
                self.saw_cancel.set()
                raise TeachError(f"{path}: cancelled")
            time.sleep(0.01)
        if self.refusal is not None:
            raise self.refusal
        return list(self.file_examples)

    def test_live(
        self,
        camera: str,
        seconds: float,
        examples: Sequence[RecordedExample],
        name: str,
        mirror: bool,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> LiveTestResult:
        self._call("test", camera, seconds, len(examples), name, mirror)
        return self.live

    def save(
        self,
        name: str,
        examples: Sequence[RecordedExample],
        alerting: bool,
        mirror: bool,
        replace: bool,
    ) -> GestureView:
        self._call("save", name, len(examples), alerting, mirror, replace)
        if self.refusal is not None:
            raise self.refusal
        view = GestureView(
            name, alerting, mirror, len(examples), 1.2, "account:ada", T0, T0, 0, None
        )
        self.gestures.append(view)
        return view

    def rename(self, name: str, new_name: str) -> GestureView:
        self._call("rename", name, new_name)
        if self.refusal is not None:
            raise self.refusal
        old = next(g for g in self.gestures if g.name == name)
        new = dataclasses.replace(old, name=new_name)
        self.gestures = [new if g is old else g for g in self.gestures]
        return new

    def set_options(
        self, name: str, alerting: bool | None = None, mirror: bool | None = None
    ) -> GestureView:
        self._call("options", name, alerting, mirror)
        return next(g for g in self.gestures if g.name == name)

    def remove(self, name: str) -> GestureView:
        self._call("remove", name)
        view = next(g for g in self.gestures if g.name == name)
        self.gestures.remove(view)
        return view

    def changes(self) -> list[tuple[object, ...]]:
        return [c for c in self.calls if c[0] not in ("list", "template")]


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()


@pytest.fixture
def actions() -> Iterator[FakeGestures]:
    fake = FakeGestures()
    yield fake
    fake.hold.clear()


def make_pane(
    qtbot: QtBot, client: QtQueryClient, actions: FakeGestures, cameras: Sequence[tuple[str, str]]
) -> GesturesPane:
    pane = GesturesPane(client, actions, cameras, countdown_step_ms=10)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.sig_gestures_listed, timeout=5000):
        pane.show()
    return pane


@pytest.fixture
def pane(qtbot: QtBot, client: QtQueryClient, actions: FakeGestures) -> GesturesPane:
    return make_pane(qtbot, client, actions, CAMERAS)


def open_wizard(qtbot: QtBot, pane: GesturesPane) -> TeachGestureDialog:
    dialog = pane.open_teach_dialog()
    assert dialog is not None
    qtbot.addWidget(dialog)
    return dialog


def record(qtbot: QtBot, dialog: TeachGestureDialog) -> list[object]:
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000) as done:
        dialog.record_button.click()
    return list(done.args)


# -- the pane ----------------------------------------------------------------------------------


def test_the_list_shows_each_gesture_with_its_options_and_usage(
    pane: GesturesPane, actions: FakeGestures
) -> None:
    assert [g.name for g in pane.gestures()] == ["squat", "wave"]
    assert pane.count_label.text() == "2 gestures taught"
    assert pane.cell_text("wave", COLUMN_EXAMPLES) == "3"
    assert pane.cell_text("wave", COLUMN_TYPICAL) == "1.4 s"
    assert pane.cell_text("wave", COLUMN_ALERTING) == "yes"
    assert pane.cell_text("squat", COLUMN_MIRROR) == "yes"
    assert pane.cell_text("wave", COLUMN_DETECTIONS) == "7"
    assert pane.cell_text("squat", COLUMN_LAST_DETECTED) == "—"
    assert pane.cell_text("wave", COLUMN_LAST_DETECTED) == T0.astimezone().strftime(
        "%Y-%m-%d %H:%M"
    )
    assert actions.threads and threading.main_thread().name not in actions.threads
    # Nothing selected: only Teach… is offered.
    assert pane.teach_button.isEnabled()
    assert not pane.rename_button.isEnabled() and not pane.remove_button.isEnabled()
    pane.select("wave")
    assert pane.alerting_check.isChecked() and not pane.mirror_check.isChecked()
    assert pane.rename_button.isEnabled() and pane.replay_button.isEnabled()


def test_replay_animates_the_examples_as_a_skeleton(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    pane.select("wave")
    with qtbot.waitSignal(pane.sig_template_loaded, timeout=5000) as loaded:
        pane.replay_button.click()
    assert loaded.args == ["wave", 3]
    assert pane.skeleton.sequence_count() == 3 and pane.skeleton.is_playing()
    frames: list[tuple[int, int]] = []
    pane.skeleton.sig_frame_shown.connect(lambda s, f: frames.append((s, f)))
    qtbot.waitUntil(lambda: any(s == 1 for s, _ in frames), timeout=5000)  # next example
    assert not pane.skeleton.grab().isNull()
    assert "its 3 examples" in pane.replay_label.text()


def test_rename_remove_and_options_act_on_the_selected_gesture(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    pane.select("wave")
    pane._ask_new_name = lambda _view: "hello"  # type: ignore[method-assign]
    with (
        qtbot.waitSignal(pane.sig_gesture_renamed, timeout=5000) as renamed,
        qtbot.waitSignal(pane.sig_gestures_listed, timeout=5000),
    ):
        pane.rename_button.click()
    assert renamed.args == ["wave", "hello"]
    assert pane.selected_gesture() is not None and pane.selected_gesture().name == "hello"  # type: ignore[union-attr]

    with qtbot.waitSignal(pane.sig_gesture_changed, timeout=5000):
        pane.mirror_check.click()
    assert ("options", "hello", None, True) in actions.changes()

    pane._confirm_remove = lambda _view: False  # type: ignore[method-assign]
    pane.remove_button.click()
    assert not any(c[0] == "remove" for c in actions.changes())
    pane._confirm_remove = lambda _view: True  # type: ignore[method-assign]
    with qtbot.waitSignal(pane.sig_gesture_removed, timeout=5000) as removed:
        pane.remove_button.click()
    assert removed.args == ["hello"] and ("remove", "hello") in actions.changes()
    qtbot.waitUntil(lambda: [g.name for g in pane.gestures()] == ["squat"], timeout=5000)


def test_a_refusal_is_shown_in_red_as_the_engine_words_it(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    actions.refusal = GestureError("new name: a gesture called 'squat' exists")
    pane.select("wave")
    pane._ask_new_name = lambda _view: "squat"  # type: ignore[method-assign]
    with qtbot.waitSignal(pane.sig_action_finished, timeout=5000) as done:
        pane.rename_button.click()
    assert done.args[1] is False
    assert pane.error_label.isVisibleTo(pane) and "#f85149" in pane.error_label.styleSheet()
    assert pane.error_label.text() == (
        "Could not rename wave: new name: a gesture called 'squat' exists"
    )


def test_without_the_permission_the_list_stays_and_changes_are_off(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    dialog = open_wizard(qtbot, pane)
    assert dialog.isVisible()
    pane.set_changes_allowed(False)
    assert not dialog.isVisible()  # an open wizard closes, saving nothing
    assert pane.permission_label.text() == NOT_ALLOWED_TEXT
    pane.select("wave")
    assert not pane.teach_button.isEnabled() and not pane.remove_button.isEnabled()
    assert not pane.alerting_check.isEnabled() and pane.replay_button.isEnabled()
    assert pane.open_teach_dialog() is None
    assert actions.changes() == []


# -- the wizard --------------------------------------------------------------------------------


def test_the_wizard_counts_down_records_examples_tests_and_saves(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    dialog = open_wizard(qtbot, pane)
    assert dialog.step == STEP_SOURCE and dialog.camera_radio.isChecked()
    assert dialog.chosen_camera() == "cam-door" and dialog.next_button.isEnabled()
    dialog.camera_combo.setCurrentIndex(1)
    dialog.next_button.click()
    assert dialog.step == STEP_RECORD and not dialog.next_button.isEnabled()

    counted: list[int] = []
    dialog.sig_countdown.connect(counted.append)
    assert record(qtbot, dialog) == [True]
    assert counted == [3, 2, 1]
    assert actions.changes() == [("record", "cam-yard", 3.0)]
    assert dialog.examples_list.count() == 1 and dialog.skeleton.is_playing()
    assert "Record 2 more." in dialog.strip.status()

    # A refused recording: the engine's words in red, no example added.
    actions.refusal = TeachError("camera Yard: the person left the frame at 1.5 s")
    assert record(qtbot, dialog) == [False]
    assert dialog.strip.error() == (
        "No example recorded: camera Yard: the person left the frame at 1.5 s"
    )
    assert len(dialog.examples()) == 1
    actions.refusal = None
    for _ in range(4):
        assert record(qtbot, dialog) == [True]
    assert len(dialog.examples()) == 5 and not dialog.record_button.isEnabled()  # at most 5
    dialog.examples_list.setCurrentRow(0)
    dialog.discard_button.click()
    assert len(dialog.examples()) == 4 and dialog.record_button.isEnabled()
    assert dialog.next_button.isEnabled()
    dialog.next_button.click()
    assert dialog.step == STEP_SAVE

    # Save needs a name; a taught name needs Replace ticked.
    assert not dialog.save_button.isEnabled()
    dialog.name_edit.setText("Wave")
    assert dialog.replace_check.isVisibleTo(dialog) and not dialog.save_button.isEnabled()
    dialog.name_edit.setText("wave2")
    assert not dialog.replace_check.isVisibleTo(dialog) and dialog.save_button.isEnabled()

    assert dialog.test_camera_combo.currentData() == "cam-yard"  # the recording camera
    assert dialog.mirror_check.isChecked()  # either hand, unless the admin says otherwise
    dialog.mirror_check.setChecked(False)
    with qtbot.waitSignal(dialog.sig_test_finished, timeout=5000) as tested:
        dialog.test_button.click()
    assert tested.args == ["recognised as wave2 (0.83)"]
    assert ("test", "cam-yard", 3.0, 4, "wave2", False) in actions.changes()
    actions.live = LiveTestResult("wave2", "wave", 0.41, 0.7)
    with qtbot.waitSignal(dialog.sig_test_finished, timeout=5000) as tested:
        dialog.test_button.click()
    assert dialog.test_result_label.text() == "not recognised (best 0.41)"

    dialog.mirror_check.setChecked(True)
    with qtbot.waitSignal(pane.sig_gesture_taught, timeout=5000) as taught:
        dialog.save_button.click()
    assert taught.args == ["wave2"]
    assert actions.changes()[-1] == ("save", "wave2", 4, False, True, False)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: pane.gesture("wave2") is not None, timeout=5000)


def test_a_refused_save_keeps_the_wizard_open_with_the_reason(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    dialog = open_wizard(qtbot, pane)
    dialog.file_radio.setChecked(True)
    dialog.file_edit.setText("/clips/wave.mp4")
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000):
        dialog.next_button.click()
    dialog.next_button.click()
    dialog.name_edit.setText("wave")
    dialog.replace_check.setChecked(True)
    actions.refusal = GestureError("example 2: lasts 0.10 s; a gesture example lasts 0.3–6 s")
    with qtbot.waitSignal(dialog.sig_save_failed, timeout=5000):
        dialog.save_button.click()
    assert actions.changes()[-1] == ("save", "wave", 3, False, True, True)
    assert dialog.isVisible() and "#f85149" in dialog.strip.error_label.styleSheet()
    assert dialog.strip.error() == (
        "Not saved: example 2: lasts 0.10 s; a gesture example lasts 0.3–6 s"
    )


def test_with_no_cameras_only_a_clip_can_be_used(
    qtbot: QtBot, client: QtQueryClient, actions: FakeGestures
) -> None:
    pane = make_pane(qtbot, client, actions, [])
    dialog = open_wizard(qtbot, pane)
    assert not dialog.camera_radio.isEnabled() and dialog.file_radio.isChecked()
    assert dialog.no_cameras_label.text() == NO_CAMERAS_TEXT
    assert not dialog.next_button.isEnabled()  # no file yet
    dialog._ask_video_file = lambda: "/clips/wave.mp4"  # type: ignore[method-assign]
    dialog.browse_button.click()
    actions.file_examples = [drawn_example(s, "wave.mp4") for s in range(7)]
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000):
        dialog.next_button.click()
    assert actions.changes() == [("file", "/clips/wave.mp4")]
    assert len(dialog.examples()) == 5  # the first five of seven repetitions
    assert "7 repetitions; the first 5 added" in dialog.strip.status()
    assert not dialog.record_button.isVisible()
    dialog.next_button.click()
    assert not dialog.test_button.isEnabled()
    assert dialog.test_result_label.text() == "Testing live needs a camera; this site has none."


def test_cancel_stops_a_recording_and_saves_nothing(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    dialog = open_wizard(qtbot, pane)
    dialog.next_button.click()
    actions.hold.set()
    dialog.record_button.click()
    qtbot.waitUntil(lambda: dialog.busy_with == "recording", timeout=5000)
    qtbot.waitUntil(lambda: any(c[0] == "record" for c in actions.calls), timeout=5000)
    # The recording reported half done: the bar says so, and "Now!" what to do.
    qtbot.waitUntil(lambda: dialog.strip.progress() == (50, 100), timeout=5000)
    assert dialog.strip.busy_bar.isVisible() and dialog.countdown_label.text() == "Now!"
    assert dialog.strip.status() == "Recording: perform the gesture once, then stand still."
    dialog.cancel_button.click()
    assert not dialog.isVisible()
    assert actions.saw_cancel.wait(5)
    assert not any(c[0] == "save" for c in actions.calls)


def test_cancel_on_the_strip_stops_reading_a_clip_and_keeps_the_wizard_open(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    dialog = open_wizard(qtbot, pane)
    dialog.file_radio.setChecked(True)
    dialog.file_edit.setText("/clips/wave.mp4")
    actions.hold.set()
    dialog.next_button.click()  # the clip is read on entering the recording step
    assert dialog.busy_with == "reading" and not dialog.read_file_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.strip.progress() == (40, 100), timeout=5000)
    assert dialog.strip.status() == "Reading the poses in wave.mp4…"
    assert dialog.strip.cancel_button.isVisible()

    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000) as finished:
        dialog.strip.cancel_button.click()
    assert finished.args == [False] and actions.saw_cancel.is_set()
    # Said plainly, not as a failure; nothing was added and the wizard stays open.
    assert dialog.strip.status() == "Reading the poses in wave.mp4: stopped; nothing was kept"
    assert dialog.strip.error() == ""
    assert not dialog.strip.busy_bar.isVisible() and not dialog.strip.cancel_button.isVisible()
    assert dialog.isVisible() and dialog.examples() == [] and not dialog.is_busy()

    # Read again, to the end this time.
    actions.hold.clear()
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000) as finished:
        dialog.read_file_button.click()
    assert finished.args == [True] and len(dialog.examples()) == 3
    assert dialog.strip.status().startswith("wave.mp4: 3 repetitions added.")


def test_the_skeleton_view_fits_and_loops_sequences(qtbot: QtBot) -> None:
    view = SkeletonView()
    qtbot.addWidget(view)
    view.resize(200, 300)
    view.show()
    assert not view.grab().isNull()  # empty: a hint is drawn
    short = drawn_example(1).normalised()
    view.set_sequences([(short, 0.3), (short, 0.3)])
    seen: set[int] = set()
    view.sig_frame_shown.connect(lambda s, _f: seen.add(s))
    qtbot.waitUntil(lambda: seen == {0, 1}, timeout=5000)
    assert not view.grab().isNull()
    view.clear()
    assert not view.is_playing()


# -- what teaching says of the examples ----------------------------------------------------------

ALIKE = (
    "The examples are nearly copies of each other (little variety): it will be recognised "
    "best when performed exactly like this."
)


def test_the_selected_gestures_advice_about_its_examples_is_shown_in_words(
    qtbot: QtBot, client: QtQueryClient, actions: FakeGestures
) -> None:
    actions.gestures = [SQUAT, dataclasses.replace(WAVE, advice=(ALIKE,))]
    pane = make_pane(qtbot, client, actions, CAMERAS)
    pane.select("wave")
    assert pane.advice_label.isVisibleTo(pane)
    assert pane.advice_label.text() == f"About wave's examples: {ALIKE}"
    pane.select("squat")
    assert not pane.advice_label.isVisibleTo(pane)


def test_the_wizard_says_in_words_what_teaching_would_make_of_the_examples(
    qtbot: QtBot, pane: GesturesPane, actions: FakeGestures
) -> None:
    dialog = open_wizard(qtbot, pane)
    dialog.file_radio.setChecked(True)
    dialog.file_edit.setText("/clips/wave.mp4")
    one = drawn_example(1, "wave.mp4")
    actions.file_examples = [one, one, one]  # one repetition, three times: refused at Save
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000):
        dialog.next_button.click()
    assert dialog.advice_label.isVisibleTo(dialog)
    assert dialog.advice_label.text() == (
        "Its examples are identical; record it again with natural repetitions."
    )
    # Natural repetitions: nothing to say.
    dialog.examples_list.setCurrentRow(2)
    dialog.discard_button.click()
    dialog.examples_list.setCurrentRow(1)
    dialog.discard_button.click()
    actions.file_examples = [drawn_example(2, "wave.mp4"), drawn_example(3, "wave.mp4")]
    with qtbot.waitSignal(dialog.sig_recording_finished, timeout=5000):
        dialog.read_file_button.click()
    assert len(dialog.examples()) == 3
    assert dialog.advice() == () and not dialog.advice_label.isVisibleTo(dialog)
