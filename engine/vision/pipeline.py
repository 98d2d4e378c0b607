"""One camera's frame pipeline: analysis, then event clips while people are in view.

Runs on the camera's worker thread (live) or the analysis thread (files). The clip recorder
is attached once the camera's database id is known (``EngineRuntime.start``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.vision.analysis import CameraAnalyzer, FrameAnalysis
from engine.vision.clips import ClipRecorder
from engine.vision.source import Frame

Image = npt.NDArray[np.uint8]


class CameraPipeline:
    """``process`` is the camera source's frame processor.

    ``clip_time_offset_s`` maps the analyzer's stream time to the clock's monotonic time
    for the recorder (0 live; the decode start for files analysed faster than real time).
    """

    def __init__(self, analyzer: CameraAnalyzer, recorder: ClipRecorder | None = None) -> None:
        self.analyzer = analyzer
        self.recorder = recorder
        self.clip_time_offset_s = 0.0

    def process(self, image: Image, seq: int, t: float) -> FrameAnalysis:
        analysis = self.analyzer.process(image, seq, t)
        recorder = self.recorder
        if recorder is not None:
            captured_at = t + self.clip_time_offset_s
            recorder.push(Frame(seq, image, captured_at, 0.0, analysis))
            if any(not track.coasting for track in analysis.tracks):
                recorder.mark_activity(captured_at)
        return analysis

    def close(self, timeout_s: float = 30.0) -> bool:
        """End open tracks and finish the open clip; True if every clip was written."""
        self.analyzer.finish()
        return self.recorder.close(timeout_s) if self.recorder is not None else True
