"""Recording as the runtime runs it: each analysed camera's clip recorder and, for a live
camera, its continuous recording; the watch every clip, segment, snapshot and sensing
recording write reports to (a loss is published and counted, even when the store cannot
take it), and the ``recording`` health line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import RecordingConfig
from engine.data_dirs import data_dir
from engine.events import HealthState
from engine.health import HealthReport
from engine.record import ClipRecorder
from engine.record.losses import MediaWriteWatch
from engine.record.segments import RECORDINGS_DIR, SegmentRecorder, last_segment_end
from engine.store.writer import StoreWriter
from engine.wording import counted

CLIP_FPS_HINT = 15.0  # sizes each clip writer's queue before the camera's own rate is known


class RecordingHost:
    """``blocking``: a file analysis, which loses no clip frames."""

    def __init__(
        self, bus: EventBus, clock: Clock, writer: StoreWriter | None, *, blocking: bool
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._writer = writer
        self._blocking = blocking
        self.media = MediaWriteWatch(bus, clock)

    def clip_recorder(
        self, cam_id: str, camera_id: int | None, recording: RecordingConfig | None = None
    ) -> ClipRecorder:
        """The clip recorder of camera ``cam_id`` (its database id ``camera_id``), with its
        continuous recording when ``recording`` says so (live cameras; None: clips only)."""
        continuous = None
        if recording is not None and recording.continuous:
            root = data_dir()
            engine = self._writer.engine_name if self._writer is not None else None
            previous_end = (
                last_segment_end(self._writer.store, camera_id, engine)
                if self._writer is not None
                else None
            )
            continuous = SegmentRecorder(
                cam_id,
                camera_id,
                self._writer,
                self._bus,
                self._clock,
                recordings_dir=root / RECORDINGS_DIR,
                media_root=root,
                segment_s=recording.segment_s,
                fps_hint=CLIP_FPS_HINT,
                media_watch=self.media,
                engine=engine,
                gap_alert_s=recording.gap_alert_s,
                previous_end=previous_end,
            )
        return ClipRecorder(
            cam_id,
            camera_id,
            self._writer,
            self._bus,
            self._clock,
            clips_dir=data_dir() / "clips",
            fps_hint=CLIP_FPS_HINT,
            blocking=self._blocking,  # a recording loses no clip frames
            media_watch=self.media,
            continuous=continuous,
        )

    @staticmethod
    def report(recorder: object) -> dict[str, Any] | None:
        """A camera's clip recorder: pre-event buffer, encoder and clip figures, and its
        continuous recording's (``continuous``)."""
        if not isinstance(recorder, ClipRecorder):
            return None
        figures = recorder.stats().as_dict()
        if recorder.continuous is not None:
            figures["continuous"] = recorder.continuous.stats().as_dict()
        return figures

    def health(self, names: Mapping[str, str]) -> HealthReport:
        """Are clips, snapshots and the sensing recording being written? Down while any
        camera's media or a room's recording fail (``names``: each place's name)."""
        failing = self.media.failing()
        if failing:
            source, losses = next(iter(failing.items()))
            key = source.partition(":")[2]
            name = names.get(key) or key
            more = f" (+{len(failing) - 1} more)" if len(failing) > 1 else ""
            lost = (
                f"no {losses.unit}s lost yet"
                if not losses.lost
                else f"{counted(losses.lost, losses.unit)} lost"
            )
            return HealthReport(
                "recording", HealthState.DOWN, f"{name}: {losses.reason}, {lost}{more}"
            )
        earlier = []
        if self.media.total_lost:
            earlier.append(counted(self.media.total_lost, "file"))
        records = sum(records for records, _ in self.media.rooms_lost().values())
        if records:
            earlier.append(counted(records, "sensing record"))
        detail = f"saving; {' and '.join(earlier)} lost earlier" if earlier else "saving"
        return HealthReport("recording", HealthState.OK, detail)
