"""The teach wizard: :class:`TeachGestureDialog` teaches one gesture in three steps: where
the examples come from (a camera, or a recorded clip or video file), recording them (a
3-2-1 countdown, then a few seconds of the camera; or every repetition in the clip) with
each example replayed as a skeleton (:class:`~widgets.gestures.skeleton.SkeletonView`),
then its name and options, a live test on a camera, and Save. Nothing is saved before
Save, and Cancel at any time saves nothing.

The dialog touches no store, camera or thread: every call to its
:class:`~widgets.gestures.api.GestureActions` runs on the query client's workers, and refusals
are shown in red as the engine words them. Its busy bar, progress, Cancel and error line are
the shared :class:`~widgets.action_strip.ActionStrip`'s: recording, reading a file and testing
live run as long actions of an :class:`~widgets.action_strip.ActionRunner` (the strip's Stop
ends one and keeps the wizard open; the wizard's Cancel stops it and closes). Every method
here runs on the GUI thread, except the progress callback handed to a blocking call
(:func:`_percent_of`), which only hands its report to the runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.gestures.library import (
    MAX_TEACH_EXAMPLES,
    MIN_TEACH_EXAMPLES,
    GestureView,
    example_advice,
)
from engine.gestures.sequence import LandmarkError
from engine.gestures.teach import RecordedExample
from engine.text import printable
from widgets.action_strip import ActionProgress, ActionRunner, ActionStrip
from widgets.gestures.api import GestureActions, LiveTestResult, TeachProgress
from widgets.gestures.skeleton import SkeletonView
from widgets.queries import QueryClient

_log = logging.getLogger(__name__)

NO_CAMERAS_TEXT = "This site has no cameras: teach from a recorded clip or video file."
RECORD_SECONDS = 3.0
MAX_RECORD_SECONDS = 10.0  # a recording holds one of the console's query workers
COUNTDOWN_FROM = 3
COUNTDOWN_STEP_MS = 1000
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.m4v);;All files (*)"
_OK_STYLE = "color: #3fb950;"
_COUNTDOWN_STYLE = "font-size: 28pt; font-weight: bold;"
STEP_SOURCE, STEP_RECORD, STEP_SAVE = 0, 1, 2
PERCENT = 100  # a blocking call reports a fraction; the strip's bar counts it in percent
NO_EXAMPLE = "No example recorded"
NO_EXAMPLES_READ = "No examples read"
TEST_FAILED = "Test failed"
NOT_SAVED = "Not saved"


_STEP_TITLES = (
    "1. Where the examples come from",
    f"2. Record {MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES} examples",
    "3. Name it, test it, save it",
)


class TeachGestureDialog(QDialog):
    """The teach wizard (see the module docstring). ``cameras`` are (id, name) pairs;
    ``existing`` the names already taught (a name among them is taught again only when the
    admin ticks Replace). Blocking calls run through ``client``; nothing is saved before
    Save, and closing or Cancel stops a recording underway and saves nothing."""

    sig_examples_changed = Signal(int)
    """The examples changed (GUI thread): how many there are now."""

    sig_countdown = Signal(int)
    """The countdown before a recording shows a number (GUI thread): 3, 2, 1."""

    sig_recording_finished = Signal(bool)
    """A camera recording or clip read finished (GUI thread): whether examples were added."""

    sig_test_finished = Signal(str)
    """A live test finished (GUI thread): what it said (or the error)."""

    sig_gesture_saved = Signal(str)
    """The gesture was taught (GUI thread): its name as stored."""

    sig_save_failed = Signal(str)
    """Saving was refused (GUI thread): the engine's words."""

    def __init__(
        self,
        client: QueryClient,
        actions: GestureActions,
        cameras: Sequence[tuple[str, str]],
        *,
        existing: Sequence[str] = (),
        parent: QWidget | None = None,
        channel: str = "gestures.teach",
        countdown_step_ms: int = COUNTDOWN_STEP_MS,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teach a gesture")
        self.setModal(False)
        self._actions = actions
        self._cameras = list(cameras)
        self._existing = list(existing)
        self._channel = channel
        self._countdown_step_ms = countdown_step_ms
        self._examples: list[RecordedExample] = []
        self._busy: str | None = None  # what runs now: countdown, recording, reading, …
        self._countdown_left = 0
        self._recording_started = False
        self._reading_file = ""
        self.saved_view: GestureView | None = None

        self.step_label = QLabel()
        self.step_label.setStyleSheet("font-weight: bold;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_source_page())
        self.pages.addWidget(self._build_record_page())
        self.pages.addWidget(self._build_save_page())

        self.strip = ActionStrip()
        self._runner = ActionRunner(
            client, self.strip, channel=channel, update_controls=self._update_controls, parent=self
        )
        self._runner.sig_action_finished.connect(self._on_action_finished)
        self.back_button = QPushButton("< Back")
        self.back_button.clicked.connect(self._on_back_requested)
        self.next_button = QPushButton("Next >")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self._on_next_requested)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self._on_save_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Close without saving anything")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.back_button, self.next_button, self.save_button, self.cancel_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.step_label)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.strip)
        layout.addLayout(buttons)
        self.resize(640, 620)
        self._go_to(STEP_SOURCE)

    # -- pages -----------------------------------------------------------------------------
    def _build_source_page(self) -> QWidget:
        self.camera_radio = QRadioButton("A camera: you perform the gesture in front of it")
        self.file_radio = QRadioButton("A recorded clip or video file of one person")
        self._source_group = QButtonGroup(self)
        self._source_group.addButton(self.camera_radio)
        self._source_group.addButton(self.file_radio)
        self.camera_combo = QComboBox()
        self.camera_combo.setAccessibleName("Camera")
        for camera_id, name in self._cameras:
            self.camera_combo.addItem(printable(name), camera_id)
        self.no_cameras_label = QLabel(NO_CAMERAS_TEXT)
        self.no_cameras_label.setWordWrap(True)
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("a clip or video file with 3–5 repetitions")
        self.file_edit.setAccessibleName("Video file")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_requested)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_button)
        if self._cameras:
            self.camera_radio.setChecked(True)
            self.no_cameras_label.hide()
        else:
            self.camera_radio.setEnabled(False)
            self.camera_combo.setEnabled(False)
            self.file_radio.setChecked(True)
        for widget in (self.camera_radio, self.file_radio):
            widget.toggled.connect(self._update_controls)
        self.camera_combo.currentIndexChanged.connect(self._update_controls)
        self.file_edit.textChanged.connect(self._update_controls)
        hint = QLabel(
            "From a camera: after a 3-2-1 countdown the camera records a few seconds; "
            "perform the gesture once, whole upper body in view, standing still before and "
            "after. From a file: every repetition in it becomes an example (pause between "
            "repetitions)."
        )
        hint.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.camera_radio)
        layout.addWidget(self.camera_combo)
        layout.addWidget(self.no_cameras_label)
        layout.addSpacing(8)
        layout.addWidget(self.file_radio)
        layout.addLayout(file_row)
        layout.addSpacing(8)
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

    def _build_record_page(self) -> QWidget:
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(1.0, MAX_RECORD_SECONDS)
        self.seconds_spin.setSingleStep(0.5)
        self.seconds_spin.setValue(RECORD_SECONDS)
        self.seconds_spin.setSuffix(" s")
        self.seconds_spin.setAccessibleName("Recording length")
        self.record_button = QPushButton("Record an example")
        self.record_button.clicked.connect(self._on_record_requested)
        self.read_file_button = QPushButton("Read the clip again")
        self.read_file_button.clicked.connect(self._on_read_file_requested)
        self.countdown_label = QLabel()
        self.countdown_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown_label.setStyleSheet(_COUNTDOWN_STYLE)
        self.countdown_label.hide()
        self._countdown_timer = QTimer(self)
        self._countdown_timer.timeout.connect(self._on_countdown_tick)
        record_row = QHBoxLayout()
        record_row.addWidget(QLabel("Record for"))
        record_row.addWidget(self.seconds_spin)
        record_row.addWidget(self.record_button)
        record_row.addWidget(self.read_file_button)
        record_row.addStretch(1)
        self.examples_list = QListWidget()
        self.examples_list.setAccessibleName("Examples")
        self.examples_list.currentRowChanged.connect(self._on_example_selected)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Drop the selected example")
        self.discard_button.clicked.connect(self._on_discard_requested)
        self.examples_label = QLabel()
        list_row = QHBoxLayout()
        list_row.addWidget(self.examples_label, 1)
        list_row.addWidget(self.discard_button)
        self.advice_label = QLabel()  # what teaching would make of these examples
        self.advice_label.setWordWrap(True)
        self.advice_label.setAccessibleName("About these examples")
        self.advice_label.hide()
        self.skeleton = SkeletonView()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.source_label)
        layout.addLayout(record_row)
        layout.addWidget(self.countdown_label)
        layout.addLayout(list_row)
        layout.addWidget(self.advice_label)
        body = QHBoxLayout()
        body.addWidget(self.examples_list, 1)
        body.addWidget(self.skeleton, 1)
        layout.addLayout(body, 1)
        return page

    def _build_save_page(self) -> QWidget:
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. wave, hand raised")
        self.name_edit.setAccessibleName("Gesture name")
        self.name_edit.textChanged.connect(self._on_name_changed)
        self.alerting_check = QCheckBox("Alerting: recognising it raises the camera's alerts")
        self.mirror_check = QCheckBox("Mirror image counts too (either hand)")
        self.mirror_check.setChecked(True)  # a wave for help is a wave with either hand
        self.mirror_check.toggled.connect(self._on_mirror_toggled)
        self.replace_check = QCheckBox()
        self.replace_check.toggled.connect(self._update_controls)
        self.replace_check.hide()
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.alerting_check)
        form.addRow("", self.mirror_check)
        form.addRow("", self.replace_check)
        self.test_camera_combo = QComboBox()
        self.test_camera_combo.setAccessibleName("Test camera")
        for camera_id, name in self._cameras:
            self.test_camera_combo.addItem(printable(name), camera_id)
        self.test_button = QPushButton("Test live")
        self.test_button.setToolTip("Count down, record the camera and say what it would recognise")
        self.test_button.clicked.connect(self._on_test_requested)
        self.test_result_label = QLabel(
            "Perform the gesture (or another movement) in front of a camera to see whether "
            "it is recognised before saving."
            if self._cameras
            else "Testing live needs a camera; this site has none."
        )
        self.test_result_label.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(QLabel("Camera"))
        test_row.addWidget(self.test_camera_combo, 1)
        test_row.addWidget(self.test_button)
        test_layout = QVBoxLayout()
        test_layout.addLayout(test_row)
        test_layout.addWidget(self.test_result_label)
        test_box = QGroupBox("Test it live")
        test_box.setLayout(test_layout)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(test_box)
        layout.addStretch(1)
        return page

    # -- public API ------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self.pages.currentIndex()

    def examples(self) -> list[RecordedExample]:
        return list(self._examples)

    def is_busy(self) -> bool:
        return self._busy is not None

    @property
    def busy_with(self) -> str | None:
        return self._busy

    def set_existing(self, names: Sequence[str]) -> None:
        """The names taught now (listed again by the pane)."""
        self._existing = list(names)
        self._on_name_changed(self.name_edit.text())

    def chosen_camera(self) -> str | None:
        """The camera examples come from (None: a file)."""
        if self.camera_radio.isChecked() and self.camera_combo.currentIndex() >= 0:
            return str(self.camera_combo.currentData())
        return None

    def reject(self) -> None:
        """Cancel: stop what runs (a recording stops at its next frame) and save nothing."""
        if self._busy == "saving":
            return  # the store writer has it; closing now would hide whether it was taught
        self._runner.cancel()
        self._countdown_timer.stop()
        if self._busy is not None and self._busy.startswith("countdown:"):
            self._busy = None  # nothing was started yet
        self.skeleton.clear()
        super().reject()

    # -- navigation ------------------------------------------------------------------------
    def _go_to(self, step: int) -> None:
        self.pages.setCurrentIndex(step)
        self.step_label.setText(_STEP_TITLES[step])
        if step == STEP_RECORD:
            camera = self.chosen_camera()
            from_camera = camera is not None
            if from_camera:
                self.source_label.setText(
                    f"From camera {self.camera_combo.currentText()}: press Record, stand "
                    "still during the countdown, then perform the gesture once."
                )
                index = self.test_camera_combo.findData(camera)
                if index >= 0:
                    self.test_camera_combo.setCurrentIndex(index)
            else:
                self.source_label.setText(
                    f"From {printable(Path(self.file_edit.text().strip()).name)}: every "
                    "repetition in it becomes an example."
                )
            for widget in (self.seconds_spin, self.record_button):
                widget.setVisible(from_camera)
            self.read_file_button.setVisible(not from_camera)
        self._update_controls()

    def _on_back_requested(self) -> None:
        if self.step > STEP_SOURCE and self._busy is None:
            self._go_to(self.step - 1)

    def _on_next_requested(self) -> None:
        if self._busy is not None:
            return
        if self.step == STEP_SOURCE:
            self.strip.clear_error()
            self._go_to(STEP_RECORD)
            if self.chosen_camera() is None and len(self._examples) < MAX_TEACH_EXAMPLES:
                self._on_read_file_requested()
        elif self.step == STEP_RECORD and self._enough_examples():
            self.strip.show_status("")
            self._go_to(STEP_SAVE)
            self.name_edit.setFocus()

    def _on_browse_requested(self) -> None:
        path = self._ask_video_file()
        if path:
            self.file_edit.setText(path)
            self.file_radio.setChecked(True)

    def _ask_video_file(self) -> str:
        """The file the admin picks ("" when cancelled). Replaceable in tests."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "A recorded clip or video of the gesture", "", VIDEO_FILTER
        )
        return path

    # -- recording -------------------------------------------------------------------------
    def _on_record_requested(self) -> None:
        if self._busy is not None or len(self._examples) >= MAX_TEACH_EXAMPLES:
            return
        if self.chosen_camera() is None:
            return
        self._start_countdown("record")

    def _start_countdown(self, then: str) -> None:
        self.strip.clear_error()
        self._busy = f"countdown:{then}"
        self._countdown_left = COUNTDOWN_FROM
        self._show_countdown()
        self._countdown_timer.start(self._countdown_step_ms)
        self._update_controls()

    def _show_countdown(self) -> None:
        self.countdown_label.setText(str(self._countdown_left))
        self.countdown_label.show()
        self.strip.show_status("Get ready: stand still, whole upper body in view…")
        self.sig_countdown.emit(self._countdown_left)

    def _on_countdown_tick(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left > 0:
            self._show_countdown()
            return
        self._countdown_timer.stop()
        then = (self._busy or "").removeprefix("countdown:")
        if then == "test":
            self._start_test()
        else:
            self._start_recording()

    def _start_recording(self) -> None:
        camera = self.chosen_camera()
        if camera is None:
            self._finish_busy()
            return
        actions, seconds = self._actions, float(self.seconds_spin.value())
        self._busy = "recording"

        def record(progress: ActionProgress) -> RecordedExample:
            return actions.record_example(
                camera, seconds, _percent_of(progress), progress.cancelled
            )

        self._run_long(
            "Recording an example…",
            record,
            self._on_example_recorded,
            describe=self._describe_recording,
            failure=NO_EXAMPLE,
            channel=f"{self._channel}.record",
        )

    def _on_example_recorded(self, example: RecordedExample) -> None:
        self._finish_busy()
        self._add_examples([example])
        self.strip.show_status(
            f"Example {len(self._examples)} recorded ({example.duration_s:.1f} s)."
            + self._more_text()
        )
        self.sig_recording_finished.emit(True)

    def _on_read_file_requested(self) -> None:
        path = self.file_edit.text().strip()
        if self._busy is not None or not path:
            return
        if len(self._examples) >= MAX_TEACH_EXAMPLES:
            self._show_error(f"{MAX_TEACH_EXAMPLES} examples already: discard some to add others.")
            return
        actions = self._actions
        self._busy = "reading"
        self._reading_file = Path(path).name
        reading = f"Reading the poses in {printable(self._reading_file)}…"

        def read(progress: ActionProgress) -> list[RecordedExample]:
            return actions.examples_from_file(path, _percent_of(progress), progress.cancelled)

        self._run_long(
            reading,
            read,
            self._on_file_read,
            describe=lambda _done, _total, _stage: reading,  # the bar says how far
            failure=NO_EXAMPLES_READ,
            channel=f"{self._channel}.read",
        )

    def _on_file_read(self, found: list[RecordedExample]) -> None:
        file_name = self._reading_file
        self._finish_busy()
        room = MAX_TEACH_EXAMPLES - len(self._examples)
        added = found[:room]
        self._add_examples(added)
        text = f"{printable(file_name)}: {len(found)} repetition{'' if len(found) == 1 else 's'}"
        if len(added) < len(found):
            text += (
                f"; the first {len(added)} added (at most {MAX_TEACH_EXAMPLES} examples: "
                "discard some to add others)"
            )
        else:
            text += " added"
        self.strip.show_status(text + "." + self._more_text())
        self.sig_recording_finished.emit(bool(added))

    def _on_discard_requested(self) -> None:
        row = self.examples_list.currentRow()
        if self._busy is not None or not 0 <= row < len(self._examples):
            return
        del self._examples[row]
        self._refresh_examples(select=min(row, len(self._examples) - 1))
        self.strip.show_status(f"Example discarded.{self._more_text()}")

    def _on_example_selected(self, row: int) -> None:
        if 0 <= row < len(self._examples):
            example = self._examples[row]
            self.skeleton.set_sequences(
                [(example.normalised(), example.duration_s)], f"example {row + 1}"
            )
        else:
            self.skeleton.clear()
        self._update_controls()

    # -- testing and saving ----------------------------------------------------------------
    def _on_test_requested(self) -> None:
        if self._busy is not None or self.test_camera_combo.currentIndex() < 0:
            return
        self.test_result_label.setStyleSheet("")
        self.test_result_label.setText("")
        self._start_countdown("test")

    def _start_test(self) -> None:
        camera = str(self.test_camera_combo.currentData())
        actions, seconds = self._actions, float(self.seconds_spin.value())
        examples, name = list(self._examples), self.name_edit.text().strip()
        mirror = self.mirror_check.isChecked()
        self._busy = "testing"

        def test(progress: ActionProgress) -> LiveTestResult:
            return actions.test_live(
                camera,
                seconds,
                examples,
                name,
                mirror,
                _percent_of(progress),
                progress.cancelled,
            )

        self._run_long(
            "Testing the gesture live…",
            test,
            self._on_tested,
            describe=self._describe_recording,
            failure=TEST_FAILED,
            channel=f"{self._channel}.test",
        )

    def _on_tested(self, outcome: LiveTestResult) -> None:
        self._finish_busy()
        text = outcome.text()
        self.test_result_label.setStyleSheet(
            _OK_STYLE if outcome.recognised == outcome.candidate else ""
        )
        self.test_result_label.setText(text)
        self.strip.show_status("")
        self.sig_test_finished.emit(text)

    def _on_save_requested(self) -> None:
        if self._busy is not None or not self._can_save():
            return
        name = self.name_edit.text().strip()
        self._busy = "saving"
        started = self._runner.run(
            f"Teaching {printable(name)}…",
            partial(
                self._actions.save,
                name,
                list(self._examples),
                self.alerting_check.isChecked(),
                self.mirror_check.isChecked(),
                self.replace_check.isVisible() and self.replace_check.isChecked(),
            ),
            self._on_saved,
            failure=NOT_SAVED,
            channel=f"{self._channel}.save",
        )
        if not started:
            self._finish_busy()

    def _on_saved(self, view: GestureView) -> None:
        self._finish_busy()
        self.saved_view = view
        self.sig_gesture_saved.emit(view.name)
        self.accept()

    # -- internals -------------------------------------------------------------------------
    def _run_long(
        self,
        what: str,
        fn: Callable[[ActionProgress], object],
        on_done: Callable[[Any], object],
        *,
        describe: Callable[[int, int, str], str],
        failure: str,
        channel: str,
    ) -> None:
        """Run a recording, read or test (``self._busy`` says which) on the runner; the
        strip shows it until it ends, and its Cancel stops it."""
        started = self._runner.run_long(
            what, fn, on_done, describe=describe, failure=failure, channel=channel
        )
        if not started:  # the console is closing: nothing will answer
            self._finish_busy()
        elif self._busy in ("recording", "testing"):
            self._announce_start()

    def _announce_start(self) -> None:
        """The camera is being opened for the recording (the pose model loads first, about
        a second): "Now!" comes with the first recorded picture."""
        self._recording_started = False
        self.countdown_label.setText("…")
        self.strip.show_status("Starting the recording: keep still…")

    def _describe_recording(self, _done: int, _total: int, phase: str) -> str:
        """The line for a camera recording's report (the bar shows how far): "Now!" with its
        first picture, then what to do, then that the poses are being read."""
        if phase == "posing":
            self.countdown_label.hide()
            return "Reading the poses…"
        if not self._recording_started:
            self._recording_started = True
            self.countdown_label.setText("Now!")
        if self._busy == "testing":
            return "Testing: perform the gesture once."
        return "Recording: perform the gesture once, then stand still."

    def _on_action_finished(self, _what: str, ok: bool) -> None:
        """An action ended. One that worked was taken in by its ``on_done``; here the one
        that failed or was cancelled (the strip says which) is announced."""
        if ok:
            return
        busy = self._busy
        self._finish_busy()
        said = self.strip.error() or self.strip.status()
        if busy in ("recording", "reading"):
            self.sig_recording_finished.emit(False)
        elif busy == "testing":
            self.sig_test_finished.emit(said)
        elif busy == "saving":
            self.sig_save_failed.emit(said.removeprefix(f"{NOT_SAVED}: "))

    def _finish_busy(self) -> None:
        self._busy = None
        self.countdown_label.hide()
        self._update_controls()

    def _add_examples(self, examples: Sequence[RecordedExample]) -> None:
        self._examples.extend(examples)
        self._refresh_examples(select=len(self._examples) - 1)

    def _refresh_examples(self, select: int) -> None:
        self.examples_list.blockSignals(True)
        self.examples_list.clear()
        for number, example in enumerate(self._examples, 1):
            item = QListWidgetItem(
                f"{number}. {printable(example.label)} ({example.duration_s:.1f} s)"
            )
            self.examples_list.addItem(item)
        self.examples_list.blockSignals(False)
        self.examples_list.setCurrentRow(select)
        self._on_example_selected(select)
        count = len(self._examples)
        self.examples_label.setText(
            f"{count} example{'' if count == 1 else 's'} "
            f"(teach from {MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES})"
        )
        self._show_advice()
        self._update_controls()
        self.sig_examples_changed.emit(count)

    def advice(self) -> tuple[str, ...]:
        """What the engine says of the examples so far (too alike, one unlike the others,
        or why they cannot be taught); empty when they are fine or too few to tell."""
        try:
            examples = [e.normalised() for e in self._examples]
        except LandmarkError:
            return ()
        mirror = self.mirror_check.isChecked() if hasattr(self, "mirror_check") else True
        durations = [e.duration_s for e in self._examples]
        return example_advice(examples, durations, mirror_invariant=mirror)

    def _on_mirror_toggled(self, _mirror: bool) -> None:
        self._show_advice()  # either hand or not changes how the examples compare

    def _show_advice(self) -> None:
        advice = self.advice()
        self.advice_label.setText(" ".join(printable(a) for a in advice))
        self.advice_label.setVisible(bool(advice))

    def _more_text(self) -> str:
        count = len(self._examples)
        if count < MIN_TEACH_EXAMPLES:
            more = MIN_TEACH_EXAMPLES - count
            return f" Record {more} more."
        if count < MAX_TEACH_EXAMPLES:
            return " Enough to teach it: press Next, or record more."
        return " That is the most a gesture takes: press Next."

    def _enough_examples(self) -> bool:
        return MIN_TEACH_EXAMPLES <= len(self._examples) <= MAX_TEACH_EXAMPLES

    def _name_exists(self, name: str) -> str | None:
        wanted = name.strip().lower()
        return next((n for n in self._existing if n.lower() == wanted), None) if wanted else None

    def _on_name_changed(self, text: str) -> None:
        existing = self._name_exists(text)
        if existing is None:
            self.replace_check.setChecked(False)
            self.replace_check.hide()
        else:
            self.replace_check.setText(
                f"Replace {printable(existing)}: teach it again (its examples are replaced, "
                "its usage kept)"
            )
            self.replace_check.show()
        self._update_controls()

    def _can_save(self) -> bool:
        name = self.name_edit.text().strip()
        if not name or not self._enough_examples():
            return False
        return self._name_exists(name) is None or self.replace_check.isChecked()

    def _update_controls(self) -> None:
        idle = self._busy is None
        step = self.step
        source_ready = (
            self.camera_radio.isChecked() and self.camera_combo.currentIndex() >= 0
        ) or (self.file_radio.isChecked() and bool(self.file_edit.text().strip()))
        self.camera_combo.setEnabled(bool(self._cameras) and self.camera_radio.isChecked())
        self.file_edit.setEnabled(self.file_radio.isChecked())
        self.browse_button.setEnabled(self.file_radio.isChecked())
        self.back_button.setEnabled(idle and step > STEP_SOURCE)
        self.next_button.setVisible(step < STEP_SAVE)
        self.next_button.setEnabled(
            idle
            and (
                (step == STEP_SOURCE and source_ready)
                or (step == STEP_RECORD and self._enough_examples())
            )
        )
        room = len(self._examples) < MAX_TEACH_EXAMPLES
        self.record_button.setEnabled(idle and room)
        self.seconds_spin.setEnabled(idle)
        self.read_file_button.setEnabled(idle and room)
        self.discard_button.setEnabled(idle and self.examples_list.currentRow() >= 0)
        self.test_button.setEnabled(idle and bool(self._cameras) and self._enough_examples())
        self.test_camera_combo.setEnabled(idle and bool(self._cameras))
        self.save_button.setVisible(step == STEP_SAVE)
        self.save_button.setEnabled(idle and step == STEP_SAVE and self._can_save())
        self.cancel_button.setEnabled(self._busy != "saving")
        count = len(self._examples)
        self.examples_label.setText(
            f"{count} example{'' if count == 1 else 's'} "
            f"(teach from {MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES})"
        )

    def _show_error(self, message: str) -> None:
        _log.warning("%s", message)
        self.strip.show_error(message)


def _percent_of(progress: ActionProgress) -> TeachProgress:
    """A teach call's progress callback (its phase: ``recording``, ``posing``, ``reading``;
    and the fraction done, 0–1) reporting to ``progress`` as percent done in that phase.
    Runs on the worker."""

    def report(phase: str, fraction: float) -> None:
        progress.report(round(PERCENT * max(0.0, min(1.0, fraction))), PERCENT, phase)

    return report
