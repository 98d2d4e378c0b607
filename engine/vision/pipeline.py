"""One camera's frame pipeline: analysis, then event clips while people are in view.

Runs on the camera's worker thread (``CameraSource`` calls :meth:`CameraPipeline.process`
for every frame, live and for analysed files alike). The clip recorder is attached once the
camera's database id is known (``EngineRuntime.start``).
"""

from __future__ import annotations

from typing import Protocol

from engine.frames import Frame
from engine.vision.analysis import CameraAnalyzer, FrameAnalysis


class FrameRecorder(Protocol):
    """What the pipeline needs of a clip recorder (``engine.record.ClipRecorder``)."""

    def push(self, frame: Frame) -> None: ...

    def mark_activity(self, at_monotonic: float, event_id: int | None = None) -> None: ...

    def note_analysis(self, captured_at: float, motion: bool, people: int) -> None: ...

    def note_boxes(
        self,
        captured_at: float,
        size: tuple[int, int],
        boxes: tuple[tuple[int, float, float, float, float], ...],
    ) -> None: ...

    def finish_if_idle(self) -> bool: ...

    def close(self, timeout_s: float = 30.0) -> bool: ...


class CameraPipeline:
    """``process`` is the camera source's frame processor.

    The analyzer and the recorder get the same :class:`Frame`, so a frame's events and the
    clip holding it share its ``captured_at`` and ``wall_at`` (one time base).
    """

    def __init__(self, analyzer: CameraAnalyzer, recorder: FrameRecorder | None = None) -> None:
        self.analyzer = analyzer
        self.recorder = recorder

    def process(self, frame: Frame) -> FrameAnalysis:
        recorder = self.recorder
        if recorder is not None:
            recorder.push(frame)  # first: its encoder (if any) works while we analyse
        if frame.scene_cut:
            # A looping file started again: the people followed up to its end leave (their
            # tracks would carry on onto the first picture's people, twice as many boxes).
            self.analyzer.finish()
        analysis = self.analyzer.process(frame.image, frame.seq, frame.captured_at, frame.wall_at)
        if recorder is not None:
            people = sum(not track.coasting for track in analysis.tracks)
            if people:
                recorder.mark_activity(frame.captured_at)
            recorder.note_analysis(frame.captured_at, bool(analysis.motion_regions), people)
            # Every confirmed track's box, for the clip's track sidecar: the people followed
            # through the footage (in pixels of the analysed picture; the clip scales them).
            height, width = frame.image.shape[:2]
            recorder.note_boxes(
                frame.captured_at,
                (width, height),
                tuple((t.track_id, t.box.x, t.box.y, t.box.w, t.box.h) for t in analysis.tracks),
            )
        return analysis

    def close(self, timeout_s: float = 30.0, *, error: str | None = None) -> bool:
        """End open tracks (with an ``analysis.error`` event first if the stream broke:
        ``error``) and finish the open clip; True if every clip was written."""
        if error is None:
            self.analyzer.finish()
        else:
            self.analyzer.fail(error)
        return self.recorder.close(timeout_s) if self.recorder is not None else True
