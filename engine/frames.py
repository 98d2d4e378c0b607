"""Decoded frames and compressed packets as they travel from a camera source to analysis,
clips and the screen.

The lowest layer of the camera path: sources produce :class:`Frame` objects, the clip
recorder buffers their compressed form (:class:`EncodedPacket`), tiles draw them. A frame's
times are read once, together, from the engine clock (``captured_at`` monotonic, ``wall_at``
UTC) and everything derived from the frame, its packets included, uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # analysis sits above frames; only its type is named here
    from engine.vision.analysis import FrameAnalysis

Image = npt.NDArray[np.uint8]
"""A BGR uint8 image, H×W×3."""


@dataclass(frozen=True, slots=True, eq=False)
class VideoStreamInfo:
    """One run of compressed video: a camera connection whose packets are copied, or one
    encoder's output. Compared by identity: packets of two runs (a reconnect restarts the
    timestamps) never share a clip, even when their parameters are equal.

    ``codec`` is the FFmpeg codec name of the packets (``h264``, ``hevc``, ``mpeg4``);
    ``time_base`` is the unit of their ``pts``, ``dts`` and ``duration`` in seconds;
    ``encoder`` names the encoder that made them here (``libx264``), or is None when they
    are the camera's own packets, recorded without re-encoding.
    """

    codec: str
    width: int
    height: int
    time_base: Fraction
    encoder: str | None

    @property
    def stream_copy(self) -> bool:
        """True when these are the camera's own packets (no decode-encode here)."""
        return self.encoder is None


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One compressed video frame, in decode order, ready to be muxed into a clip.

    H.264/H.265 packets are Annex B byte streams, and every keyframe carries its parameter
    sets (SPS/PPS), so a clip may start at any keyframe. ``captured_at`` (monotonic s) and
    ``wall_at`` (UTC) are the frame's times on the engine's one time base; with B-frames
    they do not rise in decode order. ``skipped_before`` counts frames the recorder's encoder
    dropped just before this one because it fell behind (their time is a gap in the clip).
    """

    data: bytes
    pts: int
    dts: int
    duration: int
    keyframe: bool
    captured_at: float
    wall_at: datetime | None
    stream: VideoStreamInfo
    skipped_before: int = 0

    @property
    def pts_s(self) -> float:
        """Presentation time in seconds of the stream's own clock."""
        return float(self.pts * self.stream.time_base)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. ``image`` is BGR uint8 (H×W×3) and must not be modified.

    ``packets``: when the camera sends H.264/H.265, the compressed packets the source
    demuxed since the previous frame (decode order; possibly none for this frame), which the
    recorder keeps as they are; None when the source has no packets to give (the recorder
    then encodes the frame itself).
    """

    seq: int
    image: Image
    captured_at: float  # clock.monotonic() seconds
    source_fps: float  # measured delivery rate over the last couple of seconds
    analysis: FrameAnalysis | None = None  # what the camera's analyzer found in this frame
    wall_at: datetime | None = None  # UTC wall time read with captured_at (one time base)
    packets: tuple[EncodedPacket, ...] | None = None
    # The camera's privacy mask blacked out part of ``image`` (its areas are not shown,
    # recorded or analysed; ``packets`` is then None, so the recorder encodes this image).
    privacy_masked: bool = False
    # The size (width, height) of the picture ``analysis``'s boxes are in, when it is not
    # ``image``: a camera's main picture shown with its sub stream's analysis.
    analysis_size: tuple[int, int] | None = None
    # The picture does not follow from the previous one (a looping file started again):
    # whoever was followed up to it is gone, and the people in it are new.
    scene_cut: bool = False
