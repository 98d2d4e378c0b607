"""Continuous recording: what ``SegmentRecorder`` costs per camera, and whether it keeps
every byte and every second.

Target (issue 66): 8 cameras of 1080p15 H.264 recorded continuously for 30 min; CPU for
recording ≤ 1 % of one core per camera beyond what the rest costs; bytes on disk within
3 % of the streams' bit rate × time; 0 gaps.

- The camera: vtest.avi's first 20 s scaled to 1920×1080 and re-timed to 15 fps, encoded
  once as an IP camera sends it (libx264 veryfast, 3 Mbit/s with a 3 Mbit/s VBV, a keyframe
  every 2 s, no B-frames) and cached under ``artifacts/recording`` (not in git). Its
  packets are read once through the engine's own capture (``open_pyav(packets=True)``:
  Annex B, parameter sets on keyframes), then looped without decoding: timestamps rise
  across loops (pts/dts shifted by the loop's length, ``captured_at``/``wall_at``
  advancing), as from a camera that never stops.
- Each camera is a thread offering its packets at their time (real time at ``--speed 1``),
  each starting at a different keyframe of the loop so the cameras' segment cuts do not
  fall together. Recording ON: a real :class:`SegmentRecorder` per camera (10 s segments,
  real files under a private data dir, rows through a real ``StoreWriter`` on a SQLite
  store). Recording OFF: the same threads hand the packets to a function that drops them.
- One run, three phases: OFF for a tenth of the time, ON for ``--minutes``, OFF again for
  a tenth (the baseline is the mean of both OFF phases, so a drift of the machine's load
  over the run cancels). CPU is the process's (``time.process_time``) per camera per
  second of video, as % of one core; the ``segment-writer-*`` and ``store-writer``
  threads' own CPU is read from ``/proc/self/task/<tid>/stat``.
- Afterwards: bytes of the segment files against the stream's bit rate × the time fed,
  segments, gaps (``RecordingGap`` events, and rows of a camera whose ``ended_at`` is not
  the next row's ``started_at``), packets dropped, rows in the store against files on
  disk, and packets in the files against packets offered.
- The price of fragmented MP4 (engine.record.segments): 10 s of the loop muxed as a plain
  and as a fragmented MP4 by ``ClipMuxer``: bytes and CPU ms.

Run: ``python -m benchmarks recording`` (30 min, 8 cameras, real time: about 36 min;
``WATCHFLOOR_RECORDING_MINUTES``, ``_CAMERAS``, ``_SPEED`` change it), or
``python -m benchmarks.recording --minutes 1 --cameras 2 --speed 10`` for a quick look.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from sqlalchemy import select

from benchmarks.inputs import private_dirs, vtest_path
from engine.bus import EventBus
from engine.clock import RealClock
from engine.cv import import_cv2
from engine.data_dirs import data_dir
from engine.events import RecordingGap
from engine.frames import EncodedPacket, VideoStreamInfo
from engine.record.muxer import ClipMuxer
from engine.record.segments import RECORDINGS_DIR, SEGMENT_S, SegmentRecorder
from engine.store import Store
from engine.store.models import Media
from engine.store.writer import StoreWriter
from engine.vision.capture import StreamPacket, open_pyav

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "artifacts" / "recording"
SIZE = (1920, 1080)
FPS = 15
LOOP_S = 20  # seconds of vtest in the loop
GOP_S = 2  # keyframe interval of a typical IP camera (s)
BITRATE_KBIT = 3000  # a 1080p15 camera's usual main-stream setting (kbit/s)
MINUTES = float(os.environ.get("WATCHFLOOR_RECORDING_MINUTES", "30"))
CAMERAS = int(os.environ.get("WATCHFLOOR_RECORDING_CAMERAS", "8"))
SPEED = float(os.environ.get("WATCHFLOOR_RECORDING_SPEED", "1"))
BASELINE_SHARE = 0.1  # each OFF phase lasts this share of the ON phase
CONTIGUOUS_TOLERANCE_S = 0.001  # rows further apart than this are a discontinuity
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def camera_loop(cache: Path = CACHE) -> Path:
    """The 1080p15 H.264 loop (MP4), encoded on first use and kept in ``cache``."""
    name = f"vtest_{SIZE[0]}x{SIZE[1]}_{FPS}fps_{LOOP_S}s_gop{GOP_S}s_{BITRATE_KBIT}k.mp4"
    target = cache / name
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.mp4")
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(vtest_path()))
    try:
        with av.open(str(partial), "w") as container:
            stream = container.add_stream("libx264", rate=FPS)
            stream.width, stream.height = SIZE
            stream.pix_fmt = "yuv420p"
            context = stream.codec_context
            context.gop_size = GOP_S * FPS
            context.max_b_frames = 0  # as most IP cameras' main streams
            context.bit_rate = BITRATE_KBIT * 1000
            stream.options = {
                "preset": "veryfast",
                "maxrate": f"{BITRATE_KBIT}k",
                "bufsize": f"{BITRATE_KBIT}k",
                "x264-params": f"keyint={GOP_S * FPS}:min-keyint={GOP_S * FPS}:scenecut=0",
            }
            for index in range(LOOP_S * FPS):
                ok, image = capture.read()
                if not ok:
                    raise RuntimeError(f"{vtest_path()} has fewer than {LOOP_S * FPS} frames")
                frame = av.VideoFrame.from_ndarray(
                    cv2.resize(image, SIZE, interpolation=cv2.INTER_CUBIC), format="bgr24"
                )
                frame.pts, frame.time_base = index, Fraction(1, FPS)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    finally:
        capture.release()
    partial.replace(target)
    return target


@dataclass(frozen=True, slots=True)
class Loop:
    """A camera's packets for one pass of the loop (decode order, Annex B), how long the
    pass lasts in ticks of ``time_base``, and the stream's parameters."""

    packets: tuple[StreamPacket, ...]
    ticks: int
    time_base: Fraction
    codec: str
    width: int
    height: int

    @property
    def seconds(self) -> float:
        return float(self.ticks * self.time_base)

    @property
    def payload_bytes(self) -> int:
        return sum(len(p.data) for p in self.packets)

    @property
    def bitrate_kbit(self) -> float:
        """The stream's bit rate as the camera sends it (kbit/s)."""
        return self.payload_bytes * 8 / self.seconds / 1000

    @property
    def keyframes(self) -> list[int]:
        return [i for i, p in enumerate(self.packets) if p.keyframe]


def read_loop(path: Path) -> Loop:
    """Every packet of ``path`` as the engine's capture gives it for recording."""
    capture = open_pyav(str(path), live=False, shown_url=path.name, packets=True)
    try:
        packets: list[StreamPacket] = []
        while (decoded := capture.read()) is not None:
            packets.extend(decoded.packets or ())
        info = capture.stream
    finally:
        capture.release()
    if info is None or not packets or not packets[0].keyframe:
        raise RuntimeError(f"{path}: no H.264 packets for recording")
    start = min(p.pts for p in packets)
    end = max(p.pts + p.duration for p in packets)
    return Loop(tuple(packets), end - start, info.time_base, info.codec, info.width, info.height)


class Camera(threading.Thread):
    """Offers ``loop``'s packets, looped, to ``sink`` for ``video_s`` seconds of video,
    paced at ``speed`` × real time, starting at the loop's packet ``first``
    (a keyframe). Stops before the first keyframe at or after ``video_s``."""

    def __init__(
        self,
        name: str,
        loop: Loop,
        first: int,
        sink: Callable[[EncodedPacket], None],
        video_s: float,
        speed: float,
    ) -> None:
        super().__init__(name=f"camera-{name}", daemon=True)
        self.loop, self.first, self.sink = loop, first, sink
        self.video_s, self.speed = video_s, speed
        self.stream = VideoStreamInfo(loop.codec, loop.width, loop.height, loop.time_base, None)
        self.offered = 0
        self.offered_bytes = 0
        self.fed_s = 0.0  # video offered (s): up to the next packet not offered
        self.cpu_s = 0.0  # this thread's own CPU

    def run(self) -> None:
        started_cpu = time.thread_time()
        loop, count = self.loop, len(self.loop.packets)
        origin = loop.packets[self.first].pts
        mono0, wall0 = time.monotonic(), datetime.now(UTC)
        for index in itertools.count(self.first):
            packet = loop.packets[index % count]
            shift = (index // count) * loop.ticks - origin
            pts, dts = packet.pts + shift, packet.dts + shift
            video_s = float(pts * loop.time_base)
            if packet.keyframe and video_s >= self.video_s:
                self.fed_s = video_s
                break
            delay = mono0 + video_s / self.speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sink(
                EncodedPacket(
                    data=packet.data,
                    pts=pts,
                    dts=dts,
                    duration=packet.duration,
                    keyframe=packet.keyframe,
                    captured_at=mono0 + video_s,
                    wall_at=wall0 + timedelta(seconds=video_s),
                    stream=self.stream,
                )
            )
            self.offered += 1
            self.offered_bytes += len(packet.data)
        self.cpu_s = time.thread_time() - started_cpu


def _discard(packet: EncodedPacket) -> None:
    """Recording off: the packet goes nowhere."""


def thread_cpu_s(prefixes: Sequence[str]) -> dict[str, float]:
    """User + system CPU seconds of this process's live threads whose name starts with one
    of ``prefixes`` (Linux ``/proc/self/task/<tid>/stat``; 10 ms resolution)."""
    figures: dict[str, float] = {}
    for thread in threading.enumerate():
        if not thread.name.startswith(tuple(prefixes)) or thread.native_id is None:
            continue
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        figures[thread.name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return figures


@dataclass
class Phase:
    recording: bool
    video_s: float  # per camera
    wall_s: float
    cpu_s: float  # the process's
    camera_thread_cpu_s: float
    writer_thread_cpu_s: float = 0.0  # segment-writer-* threads
    store_writer_cpu_s: float = 0.0  # the store-writer thread, during this phase
    offered: int = 0
    offered_bytes: int = 0

    def pct_per_camera(self, cameras: int) -> float:
        """Process CPU per camera per second of video, % of one core."""
        return 100 * self.cpu_s / (cameras * self.video_s)

    def as_dict(self, cameras: int) -> dict[str, Any]:
        return {
            "recording": self.recording,
            "video_s_per_camera": round(self.video_s, 1),
            "wall_s": round(self.wall_s, 1),
            "process_cpu_s": round(self.cpu_s, 2),
            "cpu_pct_of_core_per_camera": round(self.pct_per_camera(cameras), 3),
            "camera_threads_cpu_s": round(self.camera_thread_cpu_s, 2),
            "segment_writer_threads_cpu_s": round(self.writer_thread_cpu_s, 2),
            "store_writer_thread_cpu_s": round(self.store_writer_cpu_s, 2),
            "packets_offered": self.offered,
        }


def run_phase(
    loop: Loop,
    cameras: int,
    video_s: float,
    speed: float,
    recorders: list[SegmentRecorder] | None,
    store_writer: StoreWriter,
) -> Phase:
    """Feed ``cameras`` cameras for ``video_s`` s of video each, into ``recorders`` (closed
    at the end, their last segments written and indexed) or nowhere."""
    keyframes = loop.keyframes
    threads = [
        Camera(
            f"bench{i}",
            loop,
            keyframes[i * len(keyframes) // cameras % len(keyframes)],
            recorders[i].offer if recorders else _discard,
            video_s,
            speed,
        )
        for i in range(cameras)
    ]
    store_before = sum(thread_cpu_s(["store-writer"]).values())
    cpu0, wall0 = time.process_time(), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writers_cpu = 0.0
    if recorders:
        # Read before close(): an ended thread's /proc entry is gone. Misses the last
        # segment's finish of each camera (1 in video_s / SEGMENT_S).
        writers_cpu = sum(thread_cpu_s(["segment-writer-"]).values())
        for recorder in recorders:
            if not recorder.close(timeout_s=120):
                raise RuntimeError(f"{recorder.camera_key}: segment writer did not finish")
        store_writer.flush(timeout_s=120)
    wall_s = time.monotonic() - wall0
    cpu_s = time.process_time() - cpu0
    store_cpu = sum(thread_cpu_s(["store-writer"]).values()) - store_before
    return Phase(
        recording=recorders is not None,
        video_s=sum(t.fed_s for t in threads) / cameras,
        wall_s=wall_s,
        cpu_s=cpu_s,
        camera_thread_cpu_s=sum(t.cpu_s for t in threads),
        writer_thread_cpu_s=writers_cpu,
        store_writer_cpu_s=store_cpu,
        offered=sum(t.offered for t in threads),
        offered_bytes=sum(t.offered_bytes for t in threads),
    )


def count_packets(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.size)


def check_segments(store: Store) -> dict[str, Any]:
    """What the recordings dir and the store hold: files, bytes, rows, discontinuities."""
    root = data_dir()
    files = sorted((root / RECORDINGS_DIR).rglob("*.mp4"))
    partials = sorted((root / RECORDINGS_DIR).rglob("*.partial"))
    with store.sessions() as session:
        rows = list(
            session.scalars(select(Media).where(Media.kind == "segment").order_by(Media.path))
        )
    on_disk = {f.relative_to(root).as_posix(): f.stat().st_size for f in files}
    in_store = {r.path: r.size_bytes for r in rows}
    discontinuities: list[float] = []
    by_camera: dict[str, list[Media]] = {}
    for row in rows:
        by_camera.setdefault(Path(row.path).parts[1], []).append(row)
    spans: list[float] = []
    for camera_rows in by_camera.values():
        camera_rows.sort(key=lambda r: r.started_at or datetime.min)
        for a, b in itertools.pairwise(camera_rows):
            assert a.ended_at is not None and b.started_at is not None
            step = (b.started_at - a.ended_at).total_seconds()
            if abs(step) > CONTIGUOUS_TOLERANCE_S:
                discontinuities.append(round(step, 3))
        first, last = camera_rows[0].started_at, camera_rows[-1].ended_at
        assert first is not None and last is not None
        spans.append((last - first).total_seconds())
    durations = [
        (r.ended_at - r.started_at).total_seconds()
        for r in rows
        if r.ended_at is not None and r.started_at is not None
    ]
    return {
        "files": len(files),
        "partial_files_left": len(partials),
        "rows": len(rows),
        "rows_match_files": on_disk == in_store,
        "cameras_with_rows": len(by_camera),
        "bytes_on_disk": sum(on_disk.values()),
        "segment_s_min": round(min(durations), 3) if durations else None,
        "segment_s_max": round(max(durations), 3) if durations else None,
        "recorded_s_per_camera_min": round(min(spans), 1) if spans else None,
        "discontinuities": len(discontinuities),
        "discontinuities_s": discontinuities[:20],
        "packets_in_files": sum(count_packets(f) for f in files),
    }


def fragmented_price(loop: Loop, folder: Path) -> dict[str, Any]:
    """10 s of the loop muxed by ``ClipMuxer`` as a plain and as a fragmented MP4: bytes
    over the packets' payload, and CPU ms (this thread; median of 5)."""
    stream = VideoStreamInfo(loop.codec, loop.width, loop.height, loop.time_base, None)
    packets = [p.stamped(stream, p.pts_s, None) for p in loop.packets if p.pts_s < SEGMENT_S]
    payload = sum(len(p.data) for p in packets)
    figures: dict[str, Any] = {"packets": len(packets), "payload_bytes": payload}
    for fragmented in (False, True):
        costs, size = [], 0
        for attempt in range(5):
            path = folder / f"price_{fragmented}_{attempt}.mp4"
            muxer = ClipMuxer(path, fragmented=fragmented)
            started = time.thread_time()
            for packet in packets:
                muxer.add(packet)
            muxer.close()
            costs.append(time.thread_time() - started)
            size = path.stat().st_size
            path.unlink()
        figures["fragmented" if fragmented else "plain"] = {
            "bytes": size,
            "overhead_pct": round(100 * (size - payload) / payload, 3),
            "cpu_ms": round(1000 * sorted(costs)[2], 1),
        }
    return figures


def run(
    minutes: float = MINUTES,
    cameras: int = CAMERAS,
    speed: float = SPEED,
    baseline_share: float = BASELINE_SHARE,
) -> dict[str, Any]:
    loop = read_loop(camera_loop())
    on_s = minutes * 60
    off_s = max(on_s * baseline_share, 2 * GOP_S)
    gaps: list[RecordingGap] = []
    bus = EventBus()
    bus.subscribe(RecordingGap, gaps.append)
    with private_dirs("wf-bench-recording-") as tmp:
        root = data_dir()
        root.mkdir(parents=True)
        price = fragmented_price(loop, tmp)
        store = Store(f"sqlite:///{tmp / 'store.db'}")
        try:
            with StoreWriter.running(store, journal_dir=root / "journal") as store_writer:
                before = run_phase(loop, cameras, off_s, speed, None, store_writer)
                recorders = [
                    SegmentRecorder(
                        f"bench{i}",
                        None,
                        store_writer,
                        bus,
                        RealClock(),
                        recordings_dir=root / RECORDINGS_DIR,
                        media_root=root,
                        fps_hint=FPS,
                    )
                    for i in range(cameras)
                ]
                on = run_phase(loop, cameras, on_s, speed, recorders, store_writer)
                after = run_phase(loop, cameras, off_s, speed, None, store_writer)
            stats = [r.stats() for r in recorders]
            segments = check_segments(store)
        finally:
            store.close()
    off_cpu, off_video = before.cpu_s + after.cpu_s, before.video_s + after.video_s
    off_pct = 100 * off_cpu / (cameras * off_video)
    on_pct = on.pct_per_camera(cameras)
    expected_bytes = loop.bitrate_kbit * 1000 / 8 * on.video_s * cameras
    on_disk = segments.pop("bytes_on_disk")
    dropped = sum(s.frames_dropped for s in stats)
    gap_count = len(gaps) + segments["discontinuities"]
    return {
        "cameras": cameras,
        "minutes_recorded": round(on.video_s / 60, 2),
        "speed": speed,
        "stream": {
            "size": f"{loop.width}x{loop.height}",
            "fps": FPS,
            "keyframe_every_s": GOP_S,
            "loop_s": round(loop.seconds, 2),
            "bitrate_kbit": round(loop.bitrate_kbit),
        },
        "cpu_pct_of_core_per_camera": {
            "recording_off": round(off_pct, 3),
            "recording_on": round(on_pct, 3),
            "recording_cost": round(on_pct - off_pct, 3),
            "segment_writer_thread": round(
                100 * on.writer_thread_cpu_s / (cameras * on.video_s), 3
            ),
            "store_writer_thread": round(100 * on.store_writer_cpu_s / (cameras * on.video_s), 3),
            "camera_thread_on": round(100 * on.camera_thread_cpu_s / (cameras * on.video_s), 3),
            "camera_thread_off": round(
                100
                * (before.camera_thread_cpu_s + after.camera_thread_cpu_s)
                / (cameras * off_video),
                3,
            ),
            "target_max": 1.0,
        },
        "bytes": {
            "on_disk": on_disk,
            "stream_bitrate_x_time": round(expected_bytes),
            "offered_payload": on.offered_bytes,
            "ratio_to_bitrate_x_time": round(on_disk / expected_bytes, 4),
            "difference_pct": round(100 * (on_disk - expected_bytes) / expected_bytes, 3),
            "target_within_pct": 3.0,
        },
        "gaps": {
            "recording_gap_events": len(gaps),
            "row_discontinuities": segments["discontinuities"],
            "total": gap_count,
            "reasons": sorted({g.reason for g in gaps}),
        },
        "packets": {
            "offered": on.offered,
            "in_segment_files": segments["packets_in_files"],
            "dropped": dropped,
        },
        "segments": {
            "written": sum(s.segments_written for s in stats),
            "failed": sum(s.segments_failed for s in stats),
            **{k: v for k, v in segments.items() if k not in ("packets_in_files",)},
        },
        "phases": {
            "off_before": before.as_dict(cameras),
            "on": on.as_dict(cameras),
            "off_after": after.as_dict(cameras),
        },
        "fragmented_mp4_price_10s": price,
        "targets_met": {
            "cpu": on_pct - off_pct <= 1.0,
            "bytes": abs(on_disk - expected_bytes) <= 0.03 * expected_bytes,
            "no_gaps": gap_count == 0,
        },
    }


def summary(figures: dict[str, Any]) -> str:
    cpu, size, gaps = figures["cpu_pct_of_core_per_camera"], figures["bytes"], figures["gaps"]
    packets, segments = figures["packets"], figures["segments"]
    return "\n".join(
        [
            f"{figures['cameras']} cameras × {figures['minutes_recorded']} min of "
            f"{figures['stream']['size']}@{figures['stream']['fps']} H.264 "
            f"({figures['stream']['bitrate_kbit']} kbit/s), speed {figures['speed']}×",
            f"CPU per camera, % of one core: off {cpu['recording_off']:.3f}, "
            f"on {cpu['recording_on']:.3f}, recording {cpu['recording_cost']:.3f} "
            f"(segment writer thread {cpu['segment_writer_thread']:.3f}, "
            f"store writer {cpu['store_writer_thread']:.3f}); target ≤ 1",
            f"bytes on disk {size['on_disk'] / 1e6:.1f} MB = {size['ratio_to_bitrate_x_time']:.4f} "
            f"× bit rate × time ({size['difference_pct']:+.2f} %); target ± 3 %",
            f"segments {segments['written']} written, {segments['failed']} failed, "
            f"rows {segments['rows']} / files {segments['files']} "
            f"(match: {segments['rows_match_files']}); gaps {gaps['total']} "
            f"({gaps['recording_gap_events']} events, {gaps['row_discontinuities']} "
            f"discontinuities); packets offered {packets['offered']}, in files "
            f"{packets['in_segment_files']}, dropped {packets['dropped']}",
            f"targets met: {figures['targets_met']}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=MINUTES, help="recording ON (video)")
    parser.add_argument("--cameras", type=int, default=CAMERAS)
    parser.add_argument("--speed", type=float, default=SPEED, help="× real time")
    parser.add_argument("--output", type=Path, help="also write the figures (JSON) here")
    args = parser.parse_args()
    figures = {"benchmark": "recording", **run(args.minutes, args.cameras, args.speed)}
    print(summary(figures), flush=True)
    print(json.dumps(figures), flush=True)
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
