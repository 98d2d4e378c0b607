"""Are the people counts the console shows right? The demo site as a user runs it, for ten
minutes: the real engine (``EngineHost`` on ``resources/demo_site.toml``: store, cameras
analysed live, faces, clips, the simulated sensing room) and the real main window under a
real X server (the Sensing pane's GL view needs one), an admin logged in. Every
``SAMPLE_S`` every count of people the panes show is read from their words or model, as a
person would read it, and compared with the truth at that moment:

- **camera tile**: the boxes drawn on the plaza tile's picture, against the people annotated
  on that frame of vtest.avi (``tests/data/vtest_gt/``; the frame is found by matching the
  picture to the file's own frames; the nearest annotated frame within ±10 frames, else the
  sample is skipped). ``hard`` boxes (less than half visible, under 40 px) may or may not
  be counted: the truth is the range [firm boxes, all boxes].
- **Activity pane, plaza People**: "at most N at once (T tracks)" over its window (the last
  hour: since the engine started here), against the most people annotated at once on the
  frames played since.
- **Ask**: "how many people are on the plaza now?" against the frame shown when asked, and
  "how many people were on the plaza in the last minute?" against the most at once on the
  frames played in that minute; the first number of people the answer says.
- **Sensing pane**: its "N people known (M blobs)" / "at most N people at once" words,
  against the simulator's walkers in the room at that snapshot (the snapshot's truth); the
  Activity pane's Sensed column against the most walkers at once so far.

A count is right when it is within ±1 of the truth's range. Figures per count: samples,
share within ±1, median and worst error, and the words read (first and worst).
``WATCHFLOOR_DEMO_S`` shortens the run (default 600 s); ``WATCHFLOOR_DEMO_COUNTS_SAMPLES``
names a file to write every sample to (JSON lines). Needs ``Xvfb`` when DISPLAY is unset.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.console_journey import x_display
from benchmarks.inputs import vtest_path
from benchmarks.people_quality import FRAMES_FILE, GT_DIR, SEGMENT_FILE, load_truth

DEMO_S = float(os.environ.get("WATCHFLOOR_DEMO_S", "600"))
SAMPLE_S = 5.0
NEAREST_FRAMES = 10  # an annotated frame this near the shown one stands for it
VIDEO_FPS = 10.0  # vtest.avi's rate
CAMERA = "plaza"
ASK_NOW = "how many people are on the plaza now?"
ASK_MINUTE = "how many people were on the plaza in the last minute?"
ANSWER_TIMEOUT_S = 30.0
PASSWORD = "correct horse 1"
THUMB = (32, 24)  # the picture matched to the file's frames at this size (grey)

TruthRange = tuple[int, int]  # (firm people, all people incl. hard) on one frame


# -- the truth: pure functions (tests/test_demo_counts.py) ---------------------------------


def truth_ranges(folder: Path = GT_DIR) -> dict[int, TruthRange]:
    """Each annotated frame's people as a range: (boxes not hard, all boxes)."""
    truth = load_truth(SEGMENT_FILE, FRAMES_FILE, folder=folder)
    return {f: (sum(not t.hard for t in ts), len(ts)) for f, ts in truth.items()}


def nearest_annotated(
    frame: int, annotated: Sequence[int], within: int = NEAREST_FRAMES
) -> int | None:
    """The annotated frame nearest ``frame`` (the earlier on a tie), None when none is
    within ``within`` frames. ``annotated`` sorted."""
    best: int | None = None
    for candidate in annotated:
        distance = abs(candidate - frame)
        if distance <= within and (best is None or distance < abs(best - frame)):
            best = candidate
    return best


def truth_at(frame: int, ranges: Mapping[int, TruthRange]) -> TruthRange | None:
    """The people on frame ``frame`` of the file: its nearest annotated frame's range."""
    near = nearest_annotated(frame, sorted(ranges))
    return None if near is None else ranges[near]


def truth_over(
    last_frame: int, played: int, frames_per_loop: int, ranges: Mapping[int, TruthRange]
) -> TruthRange | None:
    """The most people at once on the ``played`` frames of the looping file that end with
    ``last_frame`` (inclusive; earlier ones wrap round the loop): the largest firm and the
    largest all-boxes count of the annotated frames among them (None: none annotated)."""
    if played >= frames_per_loop:
        inside = list(ranges)
    else:
        first = last_frame - played + 1
        frames = {f % frames_per_loop for f in range(first, last_frame + 1)}
        inside = [f for f in ranges if f in frames]
    if not inside:
        return None
    return max(ranges[f][0] for f in inside), max(ranges[f][1] for f in inside)


def count_error(shown: int, truth: TruthRange) -> int:
    """How far ``shown`` is outside the truth's range (0 inside it)."""
    low, high = truth
    return low - shown if shown < low else shown - high if shown > high else 0


_NUMBER_WORDS = {"no": 0, "nobody": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_PEOPLE_NUMBER = re.compile(r"\b(\d+|no|one|two|three|four|five) (?:people|persons?)\b", re.I)


def number_of_people(words: str) -> int | None:
    """The first number of people ``words`` say ("at most 4 people at once", "2 people
    known", "3 known (5 tracks)", "Nobody was seen", "nobody sensed", "0"), None when they
    say none."""
    text = words.strip().removeprefix("≥").strip()
    if re.match(r"^(?:nobody|no one|no people)\b", text, re.I):
        return 0
    found = _PEOPLE_NUMBER.search(text)
    if found is not None:
        word = found.group(1).lower()
        return int(word) if word.isdigit() else _NUMBER_WORDS[word]
    cell = re.match(r"^(?:at most |at least )?(\d+)\b", text, re.I)  # an Activity cell
    return int(cell.group(1)) if cell is not None else None


# -- the run ---------------------------------------------------------------------------


@dataclass(slots=True)
class CountFigures:
    """One count's samples: (error, words, truth) each; skipped: no truth or no words."""

    samples: list[tuple[int, str, TruthRange]] = field(default_factory=list)
    skipped: int = 0
    unread: list[str] = field(default_factory=list)

    def add(self, words: str | None, truth: TruthRange | None) -> None:
        shown = None if words is None else number_of_people(words)
        if truth is None or shown is None:
            self.skipped += 1
            if words is not None and shown is None and len(self.unread) < 3:
                self.unread.append(words)
            return
        self.samples.append((count_error(shown, truth), words or "", truth))

    def figures(self) -> dict[str, Any]:
        if not self.samples:
            return {"samples": 0, "skipped": self.skipped, "unread": self.unread}
        errors = [e for e, _w, _t in self.samples]
        worst = max(self.samples, key=lambda s: s[0])
        return {
            "samples": len(errors),
            "within_1": round(sum(e <= 1 for e in errors) / len(errors), 3),
            "error_median": statistics.median(errors),
            "error_worst": worst[0],
            "worst_words": worst[1],
            "worst_truth": list(worst[2]),
            "words_read": self.samples[0][1],
            "skipped": self.skipped,
            **({"unread": self.unread} if self.unread else {}),
        }


def file_thumbnails(path: Path) -> np.ndarray:
    """Every frame of ``path`` (read in order, as annotated) as a small grey picture."""
    from benchmarks.people_quality import video_frames

    return np.stack([_thumbnail(image) for _i, image in video_frames(path)])


def _thumbnail(image: np.ndarray) -> np.ndarray:
    from engine.cv import import_cv2

    cv2 = import_cv2()
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA), dtype=np.float32)


def frame_of(image: np.ndarray, thumbnails: np.ndarray) -> int:
    """Which frame of the file ``image`` is: the one whose small picture is nearest."""
    differences = np.abs(thumbnails - _thumbnail(image)).mean(axis=(1, 2))
    return int(np.argmin(differences))


_DISPLAY = ExitStack()  # the X server started here, kept until the process ends


def run() -> dict[str, Any]:
    if not os.environ.get("DISPLAY"):
        # Qt keeps its X connection until the process ends: an X server stopped before that
        # makes the process exit with 1 (as console_journey's does).
        _DISPLAY.enter_context(x_display())
        atexit.register(_DISPLAY.close)
    with tempfile.TemporaryDirectory(prefix="wf-demo-counts-") as tmp:
        os.environ["WATCHFLOOR_DATA_DIR"] = str(Path(tmp) / "data")
        return _run(Path(tmp))


def _run(tmp: Path) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest

    from console.app import application, prefer_gui_thread
    from console.host import EngineHost, console_settings
    from console.login_flow import IDLE_EXEMPT_ROLES_KEY
    from console.main_window import MainWindow
    from engine.access import Actor, Role
    from engine.accounts import create_account
    from engine.events import CameraStatus
    from engine.history.chat import ChatAnswer
    from resources import DEMO_SITE
    from widgets.activity.api import PEOPLE_COLUMN, SENSED_COLUMN
    from widgets.activity.view import ActivityPane
    from widgets.chat.view import ChatPane
    from widgets.login_panel import LoginMode
    from widgets.sensing.view import SensingPane

    ranges = truth_ranges()
    thumbnails = file_thumbnails(vtest_path())
    frames_per_loop = len(thumbnails)
    prefer_gui_thread()
    app = application()
    host = EngineHost.open(DEMO_SITE, f"sqlite:///{tmp / 'demo.db'}")
    writer = host.runtime.writer
    assert writer is not None
    create_account(
        writer,
        Actor("ada", frozenset({Role.ADMIN})),
        "ada",
        "admin",
        datetime.now(UTC),
        password=PASSWORD,
    )
    assert writer.flush(10)
    settings = console_settings(tmp / "c.ini")
    # A watch station: the admin watching is not locked out for not touching anything.
    settings.setValue(IDLE_EXEMPT_ROLES_KEY, ["admin"])
    window = MainWindow(host.runtime, host.bridge, settings)
    loop = QEventLoop()

    def wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the demo counts stalled: {what}")
            guard = QTimer()
            guard.setSingleShot(True)
            guard.timeout.connect(loop.quit)
            guard.start(20)
            loop.exec()

    counts = {
        name: CountFigures()
        for name in (
            "camera_tile",
            "activity_plaza_people",
            "ask_now",
            "ask_last_minute",
            "sensing_pane",
            "activity_sensed",
        )
    }
    dump = os.environ.get("WATCHFLOOR_DEMO_COUNTS_SAMPLES")
    dump_file = Path(dump).open("w", encoding="utf-8") if dump else None  # noqa: SIM115
    agreement: list[int] = []  # |picture's frame − frame by count of frames|, looped
    history: list[tuple[float, int]] = []  # (monotonic s, frames delivered) per sample
    walkers_most = 0
    unanswered: list[str] = []  # questions Ask did not answer in time
    try:
        window.resize(1920, 1080)
        window.show()
        panel = window.login_panel
        wait(lambda: panel.mode is LoginMode.LOGIN, 20, "the login form")
        panel.name_edit.setText("ada")
        panel.password_edit.setText(PASSWORD)
        QTest.keyClick(panel.password_edit, Qt.Key.Key_Return)
        wait(lambda: not window.locked, 30, "ada logged in")
        tile = next(t for t in window.camera_grid.tiles if t.camera_id == CAMERA)
        wait(lambda: tile.status is CameraStatus.ONLINE, 60, "the plaza camera online")
        activity = window.pane("activity", ActivityPane)
        sensing = window.pane("sensing", SensingPane)
        chat = window.pane("chat", ChatPane)
        for name in ("activity", "chat"):
            window.show_pane(name)
        chat.offline_box.setChecked(True)  # no key on a demo: never call the API
        answers: list[ChatAnswer | str] = []
        chat.sig_answer_received.connect(answers.append)
        chat.sig_question_failed.connect(lambda why: answers.append(f"failed: {why}"))

        def ask(question: str) -> str | None:
            """Ask's answer (None: none in :data:`ANSWER_TIMEOUT_S`, counted as unread)."""
            answers.clear()
            try:
                wait(lambda: not chat.busy, ANSWER_TIMEOUT_S, "the Ask pane idle")
                chat.ask(question)
                wait(lambda: bool(answers), ANSWER_TIMEOUT_S, f"an answer to {question!r}")
            except TimeoutError:
                unanswered.append(question)
                return None
            answer = answers[0]
            return answer.text if isinstance(answer, ChatAnswer) else str(answer)

        def activity_words(key: str, column: int) -> str | None:
            model = activity.model
            for row in range(model.rowCount()):
                if model.row(row).key == key:
                    return str(model.data(model.index(row, column + 1)))
            return None

        started = time.monotonic()
        due = [started]  # the next sample's time
        while time.monotonic() - started < DEMO_S:
            wait(lambda: time.monotonic() >= due[0], SAMPLE_S + 5, "the next sample")
            due[0] += SAMPLE_S
            if window.locked:
                raise RuntimeError("the console locked itself during the run")
            now = time.monotonic()
            frame = tile._frame  # the picture the tile shows now, with its boxes
            sample: dict[str, Any] = {"t_s": round(now - started, 1)}
            shown_index: int | None = None
            if frame is not None:
                shown_index = frame_of(frame.image, thumbnails)
                looped = (frame.seq - 1) % frames_per_loop
                apart = abs(looped - shown_index)
                agreement.append(min(apart, frames_per_loop - apart))
                history.append((now, frame.seq))
                sample.update(seq=frame.seq, frame=shown_index)
                boxes = None if frame.analysis is None else len(frame.analysis.tracks)
                words = None if boxes is None else f"{boxes} people boxed"
                counts["camera_tile"].add(words, truth_at(shown_index, ranges))
                sample["camera_tile"] = words
                played = frame.seq
                window_truth = truth_over(shown_index, played, frames_per_loop, ranges)
                words = activity_words(CAMERA, PEOPLE_COLUMN)
                counts["activity_plaza_people"].add(words, window_truth)
                sample["activity_plaza_people"] = words
            snapshot = sensing._latest.get(sensing.current_room_id or "")
            if snapshot is not None:
                walkers = len(snapshot.truth)
                walkers_most = max(walkers_most, walkers)
                words = sensing.people_now(snapshot).words()
                counts["sensing_pane"].add(words, (walkers, walkers))
                sample.update(sensing_pane=words, walkers=walkers)
                room = f"sensing:{snapshot.room_id}"
                words = activity_words(room, SENSED_COLUMN)
                counts["activity_sensed"].add(words, (walkers_most, walkers_most))
                sample["activity_sensed"] = words
            if shown_index is not None and frame is not None:
                text = ask(ASK_NOW)
                counts["ask_now"].add(text, truth_at(shown_index, ranges))
                sample["ask_now"] = text
                minute_ago = now - 60.0
                then = min(history, key=lambda h: abs(h[0] - minute_ago))
                played = frame.seq - then[1] + 1 if now - started >= 60.0 else frame.seq
                text = ask(ASK_MINUTE)
                counts["ask_last_minute"].add(
                    text, truth_over(shown_index, played, frames_per_loop, ranges)
                )
                sample["ask_last_minute"] = text
            if dump_file is not None:
                dump_file.write(json.dumps(sample) + "\n")
                dump_file.flush()
        elapsed = time.monotonic() - started
    finally:
        if dump_file is not None:
            dump_file.close()
        window.close()
        host.close()
        app.processEvents()
    delivered = history[-1][1] - history[0][1] if len(history) > 1 else 0
    return {
        "duration_s": round(elapsed, 1),
        "sample_s": SAMPLE_S,
        "frames_per_loop": frames_per_loop,
        "camera_fps": round(delivered / (history[-1][0] - history[0][0]), 2) if delivered else None,
        "frame_by_count_agrees": round(sum(a <= 2 for a in agreement) / len(agreement), 3)
        if agreement
        else None,
        "questions": [ASK_NOW, ASK_MINUTE],
        "unanswered": len(unanswered),
        "counts": {name: count.figures() for name, count in counts.items()},
    }


if __name__ == "__main__":
    print(json.dumps({"benchmark": "demo_counts", **run()}))
