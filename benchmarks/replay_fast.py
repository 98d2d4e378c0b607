"""Fast replay of continuous recording: frames shown and frames decoded at 1×, 4× and 16×,
for one and for four cameras, every frame (frame-exact) against keyframes only.

Target (issue 66): the timeline plays any moment at ¼× to 16×; keyframes only where
decoding cannot keep up.

- The recording: the 1080p15 H.264 loop of :mod:`benchmarks.recording` (3 Mbit/s, a
  keyframe every 2 s) muxed as the recorder does (fragmented MP4, 10 s segments): its two
  halves, hard-linked as many times as the longest run needs (16× for ``PLAY_S`` is four
  minutes of each camera), laid out as a plan of consecutive segments. No store: the
  plan is built in memory (:class:`~engine.history.replay.ReplayPlan`).
- Each run: a :class:`~engine.history.replay.ReplayDecoder` over one or four cameras
  plays ``PLAY_S`` seconds of real time (real clock) at a speed, with its readers forced
  to every frame (``exact``), to keyframes only (``keyframes``) or deciding by measured
  cost as the console does (``auto``). A tile's repaint at 50 Hz samples each camera's
  newest frame: frames shown per second (distinct frames per camera, averaged over the
  cameras), how far the frame shown lagged the position (mean seconds of video), frames
  decoded (all cameras) and the process's CPU.
- ``load`` is ``/proc/loadavg`` before and after (another job on the machine shows there).

``python -m benchmarks replay_fast`` or ``python -m benchmarks.replay_fast --output F``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.inputs import private_dirs
from benchmarks.recording import camera_loop, read_loop
from engine.clock import RealClock
from engine.frames import VideoStreamInfo
from engine.history.replay import ClipSpan, PlaybackClock, ReplayDecoder, ReplayPlan
from engine.record.muxer import ClipMuxer

PLAY_S = float(os.environ.get("WATCHFLOOR_REPLAY_FAST_S", "15"))
SPEEDS = (1.0, 4.0, 16.0)
CAMERA_COUNTS = (1, 4)
MODES: dict[str, bool | None] = {"exact": False, "keyframes": True, "auto": None}
SEGMENT_S = 10
REPAINT_S = 1 / 50  # the tiles' repaint, faster than the source
START = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


def mux_segments(video: Path, folder: Path, segment_s: int = SEGMENT_S) -> list[Path]:
    """``video`` (H.264, a keyframe at every ``segment_s`` boundary) cut into fragmented
    MP4 segments of ``segment_s`` seconds as the recorder muxes them (its packets copied,
    not re-encoded); the last one may be shorter."""
    loop = read_loop(video)
    stream = VideoStreamInfo(loop.codec, loop.width, loop.height, loop.time_base, None)
    first = loop.packets[0].pts_s
    files: list[Path] = []
    muxer: ClipMuxer | None = None
    for packet in loop.packets:
        index = int((packet.pts_s - first + 1e-6) // segment_s)
        if index == len(files):
            if muxer is not None:
                muxer.close()
            files.append(folder / f"segment{index:03d}.mp4")
            muxer = ClipMuxer(files[-1], fragmented=True)
        assert muxer is not None
        muxer.add(packet.stamped(stream, packet.pts_s, None))
    if muxer is not None:
        muxer.close()
    return files


def _plan(root: Path, segments: list[Path], cameras: int, span_s: float) -> ReplayPlan:
    """``cameras`` cameras each recorded continuously for ``span_s`` seconds from START:
    consecutive segments, hard links to ``segments`` in turn."""
    keys = tuple(f"cam{n}" for n in range(cameras))
    clips: dict[str, tuple[ClipSpan, ...]] = {}
    count = int(span_s // SEGMENT_S) + 1
    media_id = 0
    for key in keys:
        spans = []
        (root / key).mkdir(parents=True, exist_ok=True)
        for n in range(count):
            relative = f"{key}/{n:05d}.mp4"
            os.link(segments[n % len(segments)], root / relative)
            start = START + timedelta(seconds=n * SEGMENT_S)
            media_id += 1
            spans.append(
                ClipSpan(media_id, relative, start, start + timedelta(seconds=SEGMENT_S), True)
            )
        clips[key] = tuple(spans)
    end = START + timedelta(seconds=count * SEGMENT_S)
    return ReplayPlan(
        start=START,
        end=end,
        media_root=root,
        cameras=keys,
        clips=clips,
        missing=(),
        gaps=(),
        event_times=(),
    )


def _load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _play(plan: ReplayPlan, speed: float, keyframes: bool | None) -> dict[str, Any]:
    """Play ``plan`` at ``speed`` for PLAY_S seconds of real time; what the tiles saw."""
    clock = RealClock()
    playback = PlaybackClock(plan.start, plan.end, clock, speed=speed)
    decoder = ReplayDecoder(plan, playback, clock, keyframes=keyframes)
    shown: dict[str, set[datetime]] = {key: set() for key in plan.cameras}
    lags: list[float] = []
    getters = {key: decoder.frame_getter(key) for key in plan.cameras}
    cpu = time.process_time()
    decoder.start()
    playback.play()
    began = time.monotonic()
    try:
        while (elapsed := time.monotonic() - began) < PLAY_S:
            position = playback.position()
            for key, getter in getters.items():
                frame = getter()
                if frame is not None and frame.wall_at is not None:
                    shown[key].add(frame.wall_at)
                    lags.append((position - frame.wall_at).total_seconds())
            time.sleep(REPAINT_S)
        modes = {key: decoder.keyframes_only(key) for key in plan.cameras}
    finally:
        decoder.close()
    cpu = time.process_time() - cpu
    return {
        "frames_shown_per_s": round(
            statistics.mean(len(times) for times in shown.values()) / elapsed, 1
        ),
        "frames_decoded": decoder.decoded_frames(),
        "frames_decoded_per_s": round(decoder.decoded_frames() / elapsed, 1),
        "lag_s_mean": round(statistics.mean(lags), 3) if lags else None,
        "cpu_cores": round(cpu / elapsed, 2),
        "keyframes_only_at_end": sum(modes.values()),
    }


def run() -> dict[str, Any]:
    load_before = _load()
    runs: dict[str, Any] = {}
    with private_dirs("wf-bench-replay-fast-") as tmp:
        segments = mux_segments(camera_loop(), tmp)
        for cameras in CAMERA_COUNTS:
            root = tmp / f"media{cameras}"
            plan = _plan(root, segments, cameras, max(SPEEDS) * PLAY_S + 2 * SEGMENT_S)
            for speed in SPEEDS:
                runs[f"{cameras}cam_{speed:g}x"] = {
                    mode: _play(plan, speed, forced) for mode, forced in MODES.items()
                }
    return {
        "benchmark": "replay_fast",
        "source": "1080p15 H.264, keyframe every 2 s, 10 s fragmented MP4 segments",
        "play_s": PLAY_S,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": _load(),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="also write the figures (JSON) here")
    args = parser.parse_args()
    figures = run()
    print(json.dumps(figures), flush=True)
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
