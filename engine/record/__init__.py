"""Event clips: a rolling pre-event buffer per camera and an MP4 writer per clip.

One concern per module, in the order the frames flow: :mod:`~engine.record.buffer` (the
pre-event buffer), :mod:`~engine.record.recorder` (the state machine that opens and closes
clips), :mod:`~engine.record.encoder` (codec choice and MP4 encoding),
:mod:`~engine.record.writer` (the per-clip writer thread and finalisation),
:mod:`~engine.record.files` (temp names, fsync, hashes), :mod:`~engine.record.events`
(``ClipFinalised``), :mod:`~engine.record.sweep` (removing temp files of dead processes
and adopting complete clips that never got a media row) and :mod:`~engine.record.losses`
(clips and snapshots that could not be written: published, counted, recovered).
"""

from engine.record.buffer import PRE_BUFFER_MAX_BYTES, PRE_EVENT_S, PreEventBuffer
from engine.record.camera_encoder import ENCODE_QUEUE_FRAMES, CameraEncoder, CameraEncoderStats
from engine.record.encoder import (
    FALLBACK_CODEC,
    KEYFRAME_INTERVAL_S,
    PREFERRED_CODEC,
    X264_OPTIONS,
    ClipCodec,
    ClipCodecError,
    ClipEncoder,
    FrameEncoder,
    select_clip_codec,
)
from engine.record.events import ClipFinalised
from engine.record.files import PARTIAL_SUFFIX, file_sha256
from engine.record.muxer import ClipMuxer, ClipMuxError, EncodedClip
from engine.record.recorder import MAX_CLIP_S, POST_ACTIVITY_S, ClipRecorder, ClipRecorderStats
from engine.record.sweep import SweepReport, remove_orphan_partials, sweep_media

__all__ = [
    "ENCODE_QUEUE_FRAMES",
    "FALLBACK_CODEC",
    "KEYFRAME_INTERVAL_S",
    "MAX_CLIP_S",
    "PARTIAL_SUFFIX",
    "POST_ACTIVITY_S",
    "PREFERRED_CODEC",
    "PRE_BUFFER_MAX_BYTES",
    "PRE_EVENT_S",
    "X264_OPTIONS",
    "CameraEncoder",
    "CameraEncoderStats",
    "ClipCodec",
    "ClipCodecError",
    "ClipEncoder",
    "ClipFinalised",
    "ClipMuxError",
    "ClipMuxer",
    "ClipRecorder",
    "ClipRecorderStats",
    "EncodedClip",
    "FrameEncoder",
    "PreEventBuffer",
    "SweepReport",
    "file_sha256",
    "remove_orphan_partials",
    "select_clip_codec",
    "sweep_media",
]
