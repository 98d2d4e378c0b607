"""Replaying a recorded range in the console: camera tiles, the 3D sensing view and the
replay bar, driven by one playback clock.

:class:`ReplayController` wires the engine's replay pieces (:mod:`engine.history.replay`)
to the widgets. The clips and events of the range come from a :class:`ReplayPlanRequest`
and the recorded sensing from a :class:`SensingReplayRequest`, both on the query service;
a :class:`ReplayDecoder` thread decodes the clips. On the GUI thread a 25 Hz timer only
reads the playback clock and what the decoder and the sensing timeline already hold, so
it never waits on a file or the store.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.clock import Clock
from engine.frames import Frame
from engine.history.query_service import QueryResult
from engine.history.replay import (
    DECODER_RATE_HZ,
    NextEvent,
    NextEventRequest,
    PlaybackClock,
    ReplayDecoder,
    ReplayPlan,
    ReplayPlanRequest,
    SensingCompareRequest,
    SensingComparison,
    SensingReplayRequest,
    SensingTimeline,
)
from engine.sensing.recording.replay import ReplaySettings
from engine.sensing.service import RoomSpec
from widgets.cameras.api import FrameGetter
from widgets.cameras.view import CameraGrid
from widgets.queries import OnResult, QueryClient
from widgets.sensing.view import SensingPane
from widgets.timeline.api import MessageLevel, replay_label
from widgets.timeline.replay_bar import ReplayBar

PLAN_CHANNEL = "replay.plan"
SENSING_CHANNEL = "replay.sensing"
COMPARE_CHANNEL = "replay.sensing.compare"
EVENT_CHANNEL = "replay.next_event"
DEFAULT_STEP_FPS = 10.0  # a frame step when the camera's rate is not known yet
NOT_IN_REPLAY = "Not in this replay"
LOADING = "Loading the replay…"


def settings_text(settings: ReplaySettings) -> str:
    """`` · motion threshold 0.05, cells 0.5 m, zones ≤ 3`` for settings other than
    the room's own ("" when there are none)."""
    parts = []
    if settings.motion_threshold is not None:
        parts.append(f"motion threshold {settings.motion_threshold:g}")
    if settings.voxel_m is not None:
        parts.append(f"cells {settings.voxel_m:g} m")
    if settings.max_zone is not None:
        parts.append(f"zones ≤ {settings.max_zone}")
    return " · " + ", ".join(parts) if parts else ""


class _Progress:
    """How far a worker's re-run is: set from the pool thread (one float assignment), read
    on the GUI thread at the display rate."""

    __slots__ = ("fraction",)

    def __init__(self) -> None:
        self.fraction: float | None = None

    def __call__(self, fraction: float) -> None:
        self.fraction = fraction


class ReplayController(QObject):
    """Shows a recorded range on the camera grid, the sensing pane and the replay bar.

    ``queries`` runs the store reads, ``clock`` is the engine clock (the playback clock's
    monotonic time), ``media_root`` the data dir the clips' paths are relative to. With a
    ``sensing_pane``, ``sensing_directory`` (the room's CSI recording) and ``room``, the
    range's sensing is re-run (with ``sensing_settings``, default the room's own) and the
    pane shows the replayed moment. Create and use on the GUI thread; give it a
    ``parent`` (the main window) or keep a reference to it while it replays.
    """

    sig_position_changed = Signal(object)
    """The replayed moment changed (a UTC ``datetime``), at most 25 times a second: the
    timeline's cursor follows it."""

    sig_replay_started = Signal(object)
    """The range's plan has arrived (a :class:`ReplayPlan`): clips are playing."""

    sig_replay_stopped = Signal()
    """The replay ended (back to live)."""

    sig_sensing_loaded = Signal(object)
    """The range's sensing was re-run (a :class:`SensingTimeline`)."""

    sig_sensing_compared = Signal(object)
    """A comparison of sensing settings finished (a :class:`SensingComparison`)."""

    sig_sensing_compare_failed = Signal(str, bool)
    """A comparison ended without a result: what happened, and whether it was cancelled."""

    sig_sensing_failed = Signal(str)
    """Re-running the range's sensing failed (what went wrong)."""

    sig_sensing_progress = Signal(str, object)
    """A sensing re-run or comparison is under way: what it is doing, and how far (0–1,
    or None before it has said), at the display rate while it runs."""

    def __init__(
        self,
        queries: QueryClient,
        clock: Clock,
        media_root: Path,
        grid: CameraGrid,
        bar: ReplayBar,
        *,
        sensing_pane: SensingPane | None = None,
        sensing_directory: Path | None = None,
        room: RoomSpec | None = None,
        sensing_settings: ReplaySettings | None = None,
        display_hz: float = DECODER_RATE_HZ,
        parent: QObject | None = None,
        fetch_recording: Callable[[Path], Path] | None = None,
    ) -> None:
        super().__init__(parent)
        self._queries = queries
        self._clock = clock
        self._media_root = media_root
        self._fetch_recording = fetch_recording  # attached: clips kept on other machines
        self._grid = grid
        self._bar = bar
        # The pane replays only when there is a recording to replay.
        with_sensing = sensing_directory is not None and room is not None
        self._sensing_pane = sensing_pane
        self._pane = sensing_pane if with_sensing else None
        self._sensing_directory = sensing_directory
        self._room = room
        self.sensing_settings = sensing_settings or ReplaySettings()
        self.playback: PlaybackClock | None = None
        self.decoder: ReplayDecoder | None = None
        self.plan: ReplayPlan | None = None
        self.timeline: SensingTimeline | None = None
        self.comparison: SensingComparison | None = None
        self._cameras: tuple[str, ...] | None = None
        self._position: datetime | None = None
        self._sensing_index = -2  # what the pane shows (-1: nothing recorded)
        self._explained_track: int | None = None  # the replayed blob the pane explains
        self._sensing_cancel: threading.Event | None = None
        self._sensing_progress: _Progress | None = None
        self._sensing_note = ""
        self._compare_cancel: threading.Event | None = None
        self._compare_progress: _Progress | None = None
        self._compare_request: SensingCompareRequest | None = None
        self._plan_message: tuple[str, MessageLevel] = ("", MessageLevel.INFO)
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / display_hz)))
        self._timer.timeout.connect(self._on_timer_timeout)
        bar.sig_play_toggled.connect(self._on_play_toggled)
        bar.sig_speed_changed.connect(self._on_speed_changed)
        bar.sig_step_requested.connect(self._on_step_requested)
        bar.sig_event_jump_requested.connect(self._on_event_jump_requested)
        bar.sig_live_requested.connect(self.stop)

    # -- life cycle ------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.playback is not None

    @property
    def room(self) -> RoomSpec | None:
        """The sensing room whose recording is replayed (None: no sensing replay)."""
        return self._room if self._pane is not None else None

    @property
    def comparing(self) -> bool:
        return self._compare_request is not None

    def start(
        self,
        start: datetime,
        end: datetime,
        cameras: Sequence[str] | None,
        at: datetime | None = None,
    ) -> None:
        """Replay ``[start, end]`` (UTC) of ``cameras`` (keys; None: every camera),
        paused at ``at`` (default ``start``). A replay already running is replaced. Raises
        ValueError for a range that ends before it starts."""
        if self.active:
            self._close_replay()
        self.playback = PlaybackClock(start, end, self._clock, at=at)
        self._cameras = None if cameras is None else tuple(cameras)
        self.plan, self.timeline, self.comparison = None, None, None
        self._position = None
        self._sensing_index = -2
        self._explained_track = None
        self._plan_message = ("", MessageLevel.INFO)
        self._bar.set_speed(self.playback.speed)
        self._bar.set_playing(False)
        self._bar.set_sensing_available(self._pane is not None)
        self._bar.set_message("Loading the clips of the range…")
        self._grid.set_frame_getters({cid: self._getter(cid) for cid in self._grid.camera_ids})
        self._queries.submit(
            PLAN_CHANNEL,
            self._plan_request(self.playback),
            self._weakly(self._on_plan_loaded),
        )
        if self._pane is not None:
            self._pane.set_replay(replay_label(self.playback.position(), self.playback.speed))
        self._submit_sensing(self.sensing_settings)
        self._on_timer_timeout()
        self._timer.start()

    def stop(self) -> None:
        """Back to live: the live frame getters, no REPLAY marks, the decoder closed."""
        if not self.active:
            return
        self._close_replay()
        self._grid.set_frame_getters(None)
        self._grid.set_replay(None)
        if self._pane is not None:
            self._pane.set_replay(None)
        self._bar.set_message("")
        self.sig_replay_stopped.emit()

    def close(self) -> None:
        """Stop any replay (the console calls this when it closes)."""
        self.stop()

    def _close_replay(self) -> None:
        self._timer.stop()
        self._cancel_sensing()
        self.cancel_compare()
        if self.decoder is not None:
            self.decoder.close()
        self.decoder, self.playback, self.plan = None, None, None

    # -- what the widgets ask for ----------------------------------------------------------

    def seek(self, ts: datetime) -> None:
        """Show ``ts`` (clamped to the range); the timeline's scrubbing calls this."""
        if self.playback is None:
            return
        self.playback.seek(ts)
        self._after_move()

    def set_room(self, room: RoomSpec, sensing_directory: Path) -> None:
        """Replay sensing room ``room`` (recorded in ``sensing_directory``) from now on: the
        one the Sensing pane shows. A replay under way re-runs that room's range (with the
        room's own settings)."""
        if self._room is not None and room.room_id == self._room.room_id:
            return
        self._room, self._sensing_directory = room, sensing_directory
        self._pane = self._sensing_pane
        self.cancel_compare()
        self.sensing_settings = ReplaySettings()
        if self.playback is not None:
            self._submit_sensing(self.sensing_settings)

    def rerun_sensing(self, settings: ReplaySettings) -> None:
        """Re-run the range's sensing with ``settings`` and show that instead."""
        self.sensing_settings = settings
        self._submit_sensing(settings)

    def compare_sensing(self, settings: ReplaySettings) -> None:
        """Replay the range's sensing with the room's own settings and with ``settings``
        and report which blobs each found (:attr:`sig_sensing_compared`, bar message)."""
        if self.playback is None or self._room is None or self._sensing_directory is None:
            return
        self.cancel_compare()
        self._compare_cancel = threading.Event()
        self._compare_progress = _Progress()
        self._compare_request = SensingCompareRequest(
            self._sensing_directory,
            self._room,
            self.playback.start,
            self.playback.end,
            settings,
            cancel=self._compare_cancel,
            progress=self._compare_progress,
        )
        self._bar.set_message("Comparing sensing settings…")
        self._queries.submit(
            COMPARE_CHANNEL, self._compare_request, self._weakly(self._on_sensing_compared)
        )
        self._report_progress()

    def cancel_compare(self) -> None:
        """Stop a comparison still running (:attr:`sig_sensing_compare_failed` says so)."""
        if self._compare_cancel is None:
            return
        self._compare_cancel.set()
        self._compare_cancel, self._compare_progress, self._compare_request = None, None, None
        self._bar.set_message("Sensing comparison cancelled")
        self.sig_sensing_compare_failed.emit("Comparison cancelled", True)

    def _weakly(self, method: Callable[[QueryResult[Any]], None]) -> OnResult:
        """``method`` as a query callback that does not keep this controller alive: the
        pool thread holds the callback until it has run, and the last reference to a
        QObject must not be dropped there (it would be destroyed on that thread)."""
        ref = weakref.WeakMethod(method)

        def deliver(result: QueryResult[Any]) -> None:
            target = ref()
            if target is not None:
                target(result)

        return deliver

    def _getter(self, camera: str) -> FrameGetter:
        """A getter that reads whichever decoder is current (None before the plan)."""

        def newest() -> Frame | None:
            decoder = self.decoder
            if decoder is None or camera not in decoder.plan.cameras:
                return None
            return decoder.frame_getter(camera)()

        return newest

    def _submit_sensing(self, settings: ReplaySettings) -> None:
        if self.playback is None or self._pane is None:
            return
        if self._room is None or self._sensing_directory is None:
            return
        self._cancel_sensing()
        self._sensing_cancel = threading.Event()
        self._sensing_progress = _Progress()
        self.timeline = None
        self._sensing_index = -2
        if self._explained_track is not None:  # other settings: other blobs
            self._explained_track = None
            if self._pane is not None:
                self._pane.set_explanation(None)
        self._sensing_note = "re-running sensing…"
        self._queries.submit(
            SENSING_CHANNEL,
            SensingReplayRequest(
                self._sensing_directory,
                self._room,
                self.playback.start,
                self.playback.end,
                settings,
                cancel=self._sensing_cancel,
                progress=self._sensing_progress,
            ),
            self._weakly(self._on_sensing_loaded),
        )

    def _cancel_sensing(self) -> None:
        """Stop a sensing replay still running on the pool (its result is dropped)."""
        if self._sensing_cancel is not None:
            self._sensing_cancel.set()
            self._sensing_cancel = None
        self._sensing_progress = None

    def _report_progress(self) -> None:
        """While a re-run or a comparison runs: the note on the 3D view and
        :attr:`sig_sensing_progress` (display rate)."""
        running = self._sensing_progress
        if running is not None:
            fraction = running.fraction
            self._sensing_note = (
                "re-running sensing…"
                if fraction is None
                else f"re-running sensing… {round(fraction * 100)} %"
            )
            if self._compare_progress is None:
                self.sig_sensing_progress.emit("Re-running the range's sensing…", fraction)
        comparing = self._compare_progress
        if comparing is not None:
            fraction = comparing.fraction
            phase = (
                "with the room's settings"
                if fraction is None or fraction < 0.5
                else "with the other settings"
            )
            self.sig_sensing_progress.emit(f"Comparing: replaying {phase}…", fraction)

    # -- results ---------------------------------------------------------------------------

    def _plan_request(self, playback: PlaybackClock) -> ReplayPlanRequest:
        return ReplayPlanRequest(
            playback.start,
            playback.end,
            self._cameras,
            self._media_root,
            fetch=self._fetch_recording,
        )

    def _on_plan_loaded(self, result: QueryResult[Any]) -> None:
        if self.playback is None or result.request != self._plan_request(self.playback):
            return  # a replay that has been stopped or replaced since
        if not result.ok or not isinstance(result.value, ReplayPlan):
            self._plan_message = (f"Cannot read the range: {result.error}", MessageLevel.ERROR)
            self._bar.set_message(*self._plan_message)
            return
        plan = result.value
        self.plan = plan
        decoder = ReplayDecoder(plan, self.playback, self._clock)
        decoder.start()
        self.decoder = decoder
        if plan.missing:
            self._plan_message = (plan.describe_missing(), MessageLevel.WARNING)
        elif not any(plan.clips.values()):
            self._plan_message = ("No clips recorded in this range", MessageLevel.WARNING)
        else:
            self._plan_message = ("", MessageLevel.INFO)
        self._bar.set_message(*self._plan_message)
        self.sig_replay_started.emit(plan)
        self._on_timer_timeout()

    def _on_sensing_loaded(self, result: QueryResult[Any]) -> None:
        if self.playback is None:
            return
        self._sensing_progress = None
        if not result.ok or not isinstance(result.value, SensingTimeline):
            self._sensing_note = f"sensing replay failed: {result.error}"
            self._bar.set_message(f"Cannot replay sensing: {result.error}", MessageLevel.ERROR)
            self.sig_sensing_failed.emit(f"Cannot replay sensing: {result.error}")
            return
        self.timeline = result.value
        report = self.timeline.report
        stopped = report.stopped_at if report is not None else None
        self._sensing_note = "" if stopped is None else f"sensing stopped: {stopped}"
        self._sensing_index = -2
        self.sig_sensing_loaded.emit(self.timeline)
        self._on_timer_timeout()

    def _on_sensing_compared(self, result: QueryResult[Any]) -> None:
        if self.playback is None or result.request is not self._compare_request:
            return  # cancelled, or replaced by a newer comparison
        self._compare_cancel, self._compare_progress, self._compare_request = None, None, None
        if not result.ok or not isinstance(result.value, SensingComparison):
            message = f"Cannot compare sensing: {result.error}"
            self._bar.set_message(message, MessageLevel.ERROR)
            self.sig_sensing_compare_failed.emit(message, False)
            return
        self.comparison = result.value
        self._bar.set_message(self.comparison.summary())
        self.sig_sensing_compared.emit(self.comparison)

    # -- the bar's signals -----------------------------------------------------------------

    def _on_play_toggled(self, playing: bool) -> None:
        if self.playback is None:
            return
        if playing:
            self.playback.play()
        else:
            self.playback.pause()
        self._after_move()

    def _on_speed_changed(self, speed: float) -> None:
        if self.playback is None:
            return
        try:
            self.playback.set_speed(speed)
        except ValueError as exc:
            self._bar.set_message(str(exc), MessageLevel.ERROR)
        self._bar.set_speed(self.playback.speed)
        self._after_move()

    def _on_step_requested(self, frames: int) -> None:
        if self.playback is None:
            return
        self.playback.step(frames, self._step_fps())
        self._after_move()

    def _step_fps(self) -> float:
        """The frame rate of the first camera showing a frame (else 10 fps)."""
        decoder = self.decoder
        if decoder is not None:
            for camera in decoder.plan.cameras:
                frame = decoder.frame_getter(camera)()
                if frame is not None and frame.source_fps > 0:
                    return frame.source_fps
        return DEFAULT_STEP_FPS

    def _on_event_jump_requested(self, direction: int) -> None:
        playback = self.playback
        if playback is None:
            return
        position = playback.position()
        plan = self.plan
        if plan is not None and not plan.events_truncated:
            ts = plan.next_event_time(position, backwards=direction < 0)
            if ts is None:
                self._bar.set_message("No more events in this range")
            else:
                self.seek(ts)
            return
        self._queries.submit(
            EVENT_CHANNEL,
            NextEventRequest(position, backwards=direction < 0),
            self._weakly(self._on_next_event_found),
        )

    def _on_next_event_found(self, result: QueryResult[Any]) -> None:
        playback = self.playback
        if playback is None:
            return
        event = result.value if result.ok else None
        if isinstance(event, NextEvent) and playback.start <= event.ts <= playback.end:
            self.seek(event.ts)
        elif not result.ok:
            self._bar.set_message(f"Cannot find the next event: {result.error}", MessageLevel.ERROR)
        else:
            self._bar.set_message("No more events in this range")

    # -- display rate --------------------------------------------------------------------

    def _after_move(self) -> None:
        if self.decoder is not None:
            self.decoder.wake()
        self._on_timer_timeout()

    def _on_timer_timeout(self) -> None:
        """Display rate: read the playback clock and show what is ready for it."""
        playback = self.playback
        if playback is None:
            return
        position = playback.position()
        speed = playback.speed
        label = replay_label(position, speed)
        self._bar.set_position(position)
        self._bar.set_playing(playback.playing)
        self._grid.set_replay(label, self._statuses())
        self._report_progress()
        if self._pane is not None:
            self._show_sensing(position, label)
        if position != self._position:
            self._position = position
            self.sig_position_changed.emit(position)

    def _statuses(self) -> dict[str, str]:
        decoder = self.decoder
        statuses: dict[str, str] = {}
        for camera in self._grid.camera_ids:
            if decoder is None:
                statuses[camera] = LOADING
            elif camera not in decoder.plan.cameras:
                statuses[camera] = NOT_IN_REPLAY
            else:
                statuses[camera] = decoder.status(camera) or LOADING
        return statuses

    def explain_blob(self, room_id: str, track_id: int) -> bool:
        """A click on blob ``track_id`` of ``room_id`` in the sensing pane: while that
        room's recording is replayed, the blob is a replayed one, explained from the
        replayed tick's model and link activations, and the explanation follows it as the
        replay moves (cleared once it is gone). False when no replay of that room is shown
        (the live engine explains it). A few milliseconds of arithmetic, no I/O."""
        pane, room = self._pane, self._room
        if self.playback is None or pane is None or room is None or room.room_id != room_id:
            return False
        self._explained_track = track_id
        self._show_explanation()
        return True

    def _show_explanation(self) -> None:
        track, timeline, pane = self._explained_track, self.timeline, self._pane
        if track is None or pane is None:
            return
        explanation = None if timeline is None else timeline.explain(self._sensing_index, track)
        if explanation is None:
            self._explained_track = None
        pane.set_explanation(explanation)

    def _show_sensing(self, position: datetime, label: str) -> None:
        pane = self._pane
        assert pane is not None
        note = f" · {self._sensing_note}" if self._sensing_note else ""
        note += settings_text(self.sensing_settings)
        pane.set_replay(label + note)
        timeline = self.timeline
        if timeline is None:
            return
        index = timeline.index_at(position)
        if index != self._sensing_index:
            self._sensing_index = index
            pane.set_replay_snapshot(timeline.snapshot(index) if index >= 0 else None)
            self._show_explanation()
