"""What the gestures pane and its teach wizard may do, bound to the running engine: list the
taught gestures with their usage, load one to replay it, record examples from a camera or
read them from a recorded clip, test a gesture being taught on a camera, and teach, rename,
change and remove gestures.

Every method blocks (a store read, a wait on the store writer, seconds of a camera's
pictures and their poses); the console runs them on the query service's workers (through
:class:`console.queries.QtQueryClient`), never on the GUI thread. Everything is done as the
person logged in at the console (:class:`console.session.ConsoleSession`): the store
commands are guarded by the engine (``manage_gestures``), and recording a camera for
teaching is checked here against the same permission (a camera's pictures are no store
command). After each change the runtime reloads its gestures, so live cameras match the
change from the next pose on.

A camera example: the camera's newest frames are sampled at its own rate (each frame once,
by sequence number) for a few seconds, kept scaled down, then posed on the whole picture by
one video pose estimator created for the call (it is not thread-safe), and cut into
repetitions by :func:`engine.gestures.teach.split_examples`. Exactly one repetition is
expected; none, several, one cut off by the start or end of the recording, a person leaving
the picture, or a camera with no picture are refused with a sentence saying what happened
and when, and nothing is kept.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import numpy as np

from console.session import ConsoleSession
from engine.access import Actor, Permission
from engine.clock import Clock
from engine.cv import import_cv2
from engine.frames import Frame, Image
from engine.gestures.dtw import MATCH_CONFIDENCE, GestureTemplateError
from engine.gestures.library import (
    GestureError,
    GestureListRequest,
    GestureTemplateRequest,
    GestureView,
    RemoveGesture,
    RenameGesture,
    SetGestureOptions,
    TeachGesture,
    check_gesture_name,
    load_templates,
)
from engine.gestures.pose import Pose, PoseEstimator
from engine.gestures.sequence import LandmarkError
from engine.gestures.teach import (
    ACTIVE_SPEED,
    PoseSeries,
    RecordedExample,
    TeachError,
    limb_speed,
    poses_from_video,
    series_from_poses,
    split_examples,
)
from engine.gestures.templates import GestureSet, GestureTemplate
from engine.runtime import EngineRuntime
from engine.settings import setting_values
from engine.sitetime import display
from engine.store.database import Store
from engine.store.writer import StoreWriter
from widgets.gestures.api import Cancelled, LiveTestResult, TeachProgress

log = logging.getLogger(__name__)

FrameOf = Callable[[str], Frame | None]
"""A camera's newest frame by camera id (None: no picture yet). Any thread, memory only."""

RECORD_SECONDS: Final = 3.0  # one repetition with a still moment either side
MIN_RECORD_S: Final = 1.0
MAX_RECORD_S: Final = 10.0  # a recording holds one of the console's two query workers
NO_PICTURE_S: Final = 2.0  # no new frame for this long: the camera has no picture
STALE_FRAME_S: Final = 1.0  # a newest frame older than this when recording starts is not live
DEFAULT_FPS: Final = 25.0  # polling rate until the camera's own rate is known
RECORD_WIDTH_PX: Final = 640  # frames are kept this wide while recording (3 s of 1080p: 0.5 GB)
MIN_RECORD_FRAMES: Final = 10  # fewer frames than this in a recording is no usable picture
RECORDING_SHARE: Final = 0.6  # of a recording's progress: the pictures; the rest, the poses
LIVE_REPORT_FLOOR: Final = 0.01  # test_live reports the best match down to this confidence
LOST_MARGIN_S: Final = 0.3  # the person stays in view this long before and after a repetition
LIVE_COVERAGE: Final = 0.9  # a test window must cover this share of its length with frames


def _never_cancelled() -> bool:
    return False


def _no_progress(_phase: str, _fraction: float) -> None:
    return None


class GesturesBackend:
    """Blocking calls for the gestures pane and the teach wizard, run on query worker
    threads (two may run at once). Satisfies :class:`widgets.gestures.api.GestureActions`.
    ``frame_of`` gives a camera's newest frame by id (the console's frame getters)."""

    def __init__(
        self,
        runtime: EngineRuntime,
        store: Store,
        session: ConsoleSession,
        frame_of: FrameOf,
        *,
        pose_estimator: Callable[[], PoseEstimator] | None = None,
        recording_clock: Clock | None = None,
    ) -> None:
        """``recording_clock`` times camera recordings (how long to record, when to look
        for the next frame; the domain of :attr:`Frame.captured_at`): the engine's clock
        unless given."""
        self._runtime = runtime
        self._recording_clock = recording_clock or runtime.clock
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person
        self._frame_of = frame_of
        self._new_estimator = pose_estimator or (lambda: PoseEstimator(video=True))

    # -- reading ---------------------------------------------------------------------------
    def list_gestures(self) -> list[GestureView]:
        return list(GestureListRequest().run(self._store))

    def template(self, name: str) -> GestureTemplate:
        """Gesture ``name``'s normalised examples, to replay them."""
        return GestureTemplateRequest(name).run(self._store)

    def camera_name(self, camera: str) -> str:
        source = self._runtime.cameras.sources.get(camera)
        return source.camera.name if source is not None else camera

    # -- examples --------------------------------------------------------------------------
    def record_example(
        self,
        camera: str,
        seconds: float = RECORD_SECONDS,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> RecordedExample:
        """Record ``camera`` for ``seconds`` and return the one repetition performed in it.
        :class:`TeachError` says what was wrong: no picture, nobody seen, no movement, more
        than one repetition, one cut off by the recording's start or end, the person
        leaving the picture during it."""
        self._require_teacher("record gesture examples")
        series = self._record_poses(camera, seconds, progress, cancelled)
        examples = split_examples(series)
        if len(examples) != 1:
            found = ", ".join(f"{e.start_s:.1f}–{e.start_s + e.duration_s:.1f} s" for e in examples)
            raise TeachError(
                f"{series.source}: {len(examples)} repetitions seen ({found}); perform the "
                "gesture once per recording"
            )
        example = examples[0]
        _refuse_lost_person(series, example)
        _refuse_cut_off(series, example)
        return example

    def examples_from_file(
        self,
        path: str,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> list[RecordedExample]:
        """Every repetition in a recorded clip or video file of one person, in order.
        :class:`TeachError` names a missing, unreadable or unusable file and the moment."""
        self._require_teacher("read gesture examples")
        report = progress or _no_progress
        with self._new_estimator() as estimator:
            series = poses_from_video(
                Path(path),
                estimator,
                progress=lambda fraction: report("reading", fraction),
                cancelled=cancelled,
            )
        examples = split_examples(series)
        report("reading", 1.0)
        return examples

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
        """Record ``camera`` for ``seconds`` and match every window of it, as the cameras
        do, against the gesture being taught (``examples``, named ``name``, ``mirror``) and
        every taught gesture (a taught one of the same name is the one being replaced). The
        result names the best gesture and its confidence, and whether that reaches the
        recognition threshold (the ``analytics.gesture_confidence_pct`` setting)."""
        self._require_teacher("test gestures")
        candidate_name = check_gesture_name(name) if name.strip() else "the new gesture"
        candidate = GestureTemplate(
            name=candidate_name,
            alerting=False,
            mirror_invariant=mirror,
            examples=tuple(e.normalised() for e in examples),
            durations_s=tuple(e.duration_s for e in examples),
        )
        taught = [
            t for t in load_templates(self._store) if t.name.lower() != candidate_name.lower()
        ]
        try:
            gestures = GestureSet([*taught, candidate], LIVE_REPORT_FLOOR)
        except GestureTemplateError as exc:
            raise GestureError(f"{exc}; record more examples before testing") from exc
        threshold = self._threshold()
        series = self._record_poses(camera, seconds, progress, cancelled)
        if not series.found.any():
            raise TeachError(f"{series.source}: no person seen (nobody in view, or too small)")
        best_gesture, confidence = best_live_match(series, gestures)
        return LiveTestResult(
            candidate=candidate_name,
            best_gesture=best_gesture,
            confidence=confidence,
            threshold=threshold,
        )

    # -- changes ---------------------------------------------------------------------------
    def save(
        self,
        name: str,
        examples: Sequence[RecordedExample],
        alerting: bool,
        mirror: bool,
        replace: bool,
    ) -> GestureView:
        """Teach gesture ``name`` from ``examples`` (3–5), whole or not at all."""
        actor = self._session.require_actor("teach gestures")
        view: GestureView = self._writer().execute(
            TeachGesture(
                name=name,
                examples=tuple(e.normalised() for e in examples),
                durations_s=tuple(e.duration_s for e in examples),
                sources=tuple(e.label for e in examples),
                alerting=alerting,
                mirror_invariant=mirror,
                replace=replace,
                at=self._runtime.clock.now(),
                actor=actor,
            )
        )
        self._reload()
        return view

    def rename(self, name: str, new_name: str) -> GestureView:
        actor = self._session.require_actor("rename gestures")
        view: GestureView = self._writer().execute(
            RenameGesture(name=name, new_name=new_name, at=self._runtime.clock.now(), actor=actor)
        )
        self._reload()
        return view

    def set_options(
        self, name: str, alerting: bool | None = None, mirror: bool | None = None
    ) -> GestureView:
        actor = self._session.require_actor("change gestures")
        view: GestureView = self._writer().execute(
            SetGestureOptions(
                name=name,
                alerting=alerting,
                mirror_invariant=mirror,
                at=self._runtime.clock.now(),
                actor=actor,
            )
        )
        self._reload()
        return view

    def remove(self, name: str) -> GestureView:
        actor = self._session.require_actor("remove gestures")
        view: GestureView = self._writer().execute(
            RemoveGesture(name=name, at=self._runtime.clock.now(), actor=actor)
        )
        self._reload()
        return view

    # -- internals -------------------------------------------------------------------------
    def _require_teacher(self, action: str) -> Actor:
        actor = self._session.require_actor(action)
        actor.require(Permission.MANAGE_GESTURES, action)
        return actor

    def _writer(self) -> StoreWriter:
        writer = self._runtime.writer
        if writer is None:
            raise RuntimeError("this engine has no database writer: gestures cannot be changed")
        return writer

    def _reload(self) -> None:
        """Live cameras match the changed library from the next pose on."""
        reload = getattr(getattr(self._runtime, "gestures", None), "reload", None)
        if not callable(reload):
            return
        try:
            reload()
        except Exception:  # the change is saved; the cameras keep the gestures they had
            log.exception("the taught gestures could not be reloaded after a change")

    def _threshold(self) -> float:
        pct = setting_values(self._store).get("analytics.gesture_confidence_pct")
        return pct / 100.0 if pct else MATCH_CONFIDENCE

    def _record_poses(
        self,
        camera: str,
        seconds: float,
        progress: TeachProgress | None,
        cancelled: Cancelled | None,
    ) -> PoseSeries:
        """``seconds`` of ``camera``'s pictures, posed. The pose estimator is made first,
        so a missing pose model is said before anyone performs."""
        if not MIN_RECORD_S <= seconds <= MAX_RECORD_S:
            raise TeachError(
                f"recording: {seconds:g} s; record {MIN_RECORD_S:g}–{MAX_RECORD_S:g} s"
            )
        report = progress or _no_progress
        stop = cancelled or _never_cancelled
        name = self.camera_name(camera)
        with self._new_estimator() as estimator:
            source = f"camera {name} ({display().clock(self._runtime.clock.now())})"
            pictures = self._capture(camera, name, seconds, report, stop)
            poses: list[tuple[float, Pose | None]] = []
            for index, (at, image) in enumerate(pictures, 1):
                if stop():
                    raise TeachError(f"{source}: cancelled")
                poses.append((at, estimator.estimate(image, at_s=at)))
                report("posing", RECORDING_SHARE + (1 - RECORDING_SHARE) * index / len(pictures))
        return series_from_poses(source, poses)

    def _capture(
        self,
        camera: str,
        name: str,
        seconds: float,
        report: TeachProgress,
        cancelled: Cancelled,
    ) -> list[tuple[float, Image]]:
        """(seconds since the first, picture scaled down) for each new frame of ``camera``
        during ``seconds``."""
        clock = self._recording_clock
        start = clock.monotonic()
        last_new = start
        last_seq: int | None = None
        first_at: float | None = None
        fps = DEFAULT_FPS
        pictures: list[tuple[float, Image]] = []
        while True:
            if cancelled():
                raise TeachError(f"camera {name}: cancelled")
            now = clock.monotonic()
            if now - start >= seconds:
                break
            frame = self._frame_of(camera)
            if (
                frame is not None
                and frame.seq != last_seq
                and frame.captured_at >= start - STALE_FRAME_S
            ):
                last_seq, last_new = frame.seq, now
                if first_at is None:
                    first_at = frame.captured_at
                if frame.source_fps > 0:
                    fps = frame.source_fps
                pictures.append((frame.captured_at - first_at, _scaled_down(frame.image)))
            elif now - last_new > NO_PICTURE_S:
                if not pictures:
                    raise TeachError(
                        f"camera {name} has no picture (offline, or not started yet); "
                        "choose another camera or use a recorded clip"
                    )
                raise TeachError(
                    f"camera {name} stopped sending pictures {last_new - start:.1f} s into the "
                    "recording; record again when it is back"
                )
            report("recording", RECORDING_SHARE * min(1.0, (now - start) / seconds))
            clock.sleep(min(0.05, 0.5 / fps))  # twice the camera's rate: no frame missed
        if len(pictures) < MIN_RECORD_FRAMES:
            raise TeachError(
                f"camera {name} has no picture: {len(pictures)} frames in {seconds:g} s"
            )
        return pictures


def _scaled_down(image: Image) -> Image:
    """A copy at most :data:`RECORD_WIDTH_PX` wide (the pose model looks at 256 px)."""
    width = image.shape[1]
    if width <= RECORD_WIDTH_PX:
        return image.copy()
    cv2 = import_cv2()
    scale = RECORD_WIDTH_PX / width
    scaled: Image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return scaled


def _refuse_lost_person(series: PoseSeries, example: RecordedExample) -> None:
    """:class:`TeachError` when the person was lost around the repetition: the limbs' speed
    is measured over a span either side of a frame, so a person who leaves the picture while
    moving ends the movement early, and what remains looks whole."""
    times = series.times_s
    around = (times >= example.start_s - LOST_MARGIN_S) & (
        times <= example.start_s + example.duration_s + LOST_MARGIN_S
    )
    lost = around & ~series.found
    if lost.any():
        at = float(times[int(np.argmax(lost))])
        raise TeachError(
            f"{series.source}: the person left the frame (or turned away) at {at:.1f} s, "
            "during the repetition; record it again with the whole upper body in view"
        )


def _refuse_cut_off(series: PoseSeries, example: RecordedExample) -> None:
    """:class:`TeachError` when the repetition was already under way when the recording
    started, or still going when it ended: half a gesture is no example."""
    speed = np.nan_to_num(limb_speed(series), nan=0.0)
    times = series.times_s
    moving = speed > ACTIVE_SPEED
    if moving[0] and example.start_s <= times[0] + 1e-6:
        raise TeachError(
            f"{series.source}: already moving when the recording started; stand still "
            "during the countdown, then perform the gesture once"
        )
    if moving[-1] and example.start_s + example.duration_s >= times[-1] - 1e-6:
        raise TeachError(
            f"{series.source}: still moving when the recording ended at {times[-1]:.1f} s; "
            "start right after the countdown, or record for longer"
        )


def best_live_match(series: PoseSeries, gestures: GestureSet) -> tuple[str | None, float]:
    """The best (gesture, confidence) over every window of ``series`` that ends at one of
    its frames, for each window length ``gestures`` match over (as a camera matches a
    tracked person's recent poses); (None, 0.0) when nothing matched at all. Windows that
    miss the person are skipped."""
    times = series.times_s
    found = series.found
    best: tuple[str | None, float] = (None, 0.0)
    for window_s in gestures.windows_s:
        for end in range(len(times)):
            first = int(np.searchsorted(times, times[end] - window_s, side="left"))
            if times[end] - times[0] < window_s * LIVE_COVERAGE or end - first < 2:
                continue
            if not found[first : end + 1].all():
                continue
            try:
                match = gestures.match(series.landmarks[first : end + 1], window_s)
            except LandmarkError:
                continue
            if match is not None and match.confidence > best[1]:
                best = (match.gesture, match.confidence)
    return best if math.isfinite(best[1]) else (None, 0.0)
