"""Playing continuous recording: a seek to a random moment of a day, and four cameras
played together.

Target (issue 66): seek to a random moment of a 24-hour recording, first frame p95 <
500 ms in the console, < 1.5 s on an attached console over loopback; 4-camera
synchronised playback at 1× holds ≥ 90 % of the source frame rate.

- The recording: the 1080p15 H.264 loop of :mod:`benchmarks.recording` (3 Mbit/s, a
  keyframe every 2 s) muxed as the recorder does (fragmented MP4, 10 s segments), then a
  day of it for each of four cameras: 8,640 segment rows a camera, each naming its own
  file (a hard link to one of the loop's two segments, so a day costs no disk), inserted
  through the store writer. Built once per run in a private data dir.
- Seek: for each of ``SEEKS`` random moments of the day, what the console does when an
  investigator jumps there: the replay plan of a ten-minute window around it
  (:class:`~engine.history.replay.ReplayPlanRequest`, the store's query) and the frame at
  that moment from a new reader (:class:`~engine.history.replay.ClipFrameReader`: open
  the segment, seek, decode to the moment). Wall time of both, from request to picture.
- Attached seek: the same, on a console attached to the shared site. The day's rows are
  signed by the engine ``recorder``, whose data dir keeps the files and whose recordings
  server (:class:`~engine.cluster.files.MediaFileServer`: real sockets on loopback, the
  media password) says where it serves in its heartbeat; the console's media root is a
  second, empty folder, filled by :class:`~console.remote_media.RemoteMedia` (the fetch
  the console's replay pane is given). Each seek's time includes fetching its segment
  (the whole file, SHA-256 checked) before it is opened; the bytes fetched per seek are
  reported with it, the console's first seek (its first fetch) apart, and the machine's
  load average around the phase (another benchmark running at once shows there).
- A view: an event clip of a camera recording continuously is a view onto its segments
  (:mod:`engine.record.views`); for ``SEEKS`` random moments, the time to cut the 30 s
  view an event there plays (the segments' query, their packets copied into one MP4).
- Four cameras at 1×: a :class:`~engine.history.replay.ReplayDecoder` over the four
  cameras' plans plays 20 s (real clock); frames shown per camera (distinct frame times)
  against the source's 15 a second.

``python -m benchmarks recording_seek``.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.inputs import private_dirs
from benchmarks.recording import FPS, camera_loop, read_loop
from console.remote_media import RemoteMedia
from engine.clock import RealClock
from engine.cluster.files import FileOptions, MediaFileServer
from engine.cluster.leases import LeaseBook
from engine.data_dirs import data_dir
from engine.frames import VideoStreamInfo
from engine.history.replay import (
    ClipFrameReader,
    PlaybackClock,
    ReplayDecoder,
    ReplayPlanRequest,
)
from engine.media import SEGMENT_KIND, MediaFile
from engine.record.files import file_sha256
from engine.record.muxer import ClipMuxer
from engine.record.segments import RECORDINGS_DIR
from engine.record.views import footage_around
from engine.store import Store
from engine.store.commands import InsertMedia
from engine.store.sites import SiteIds, SyncSite
from engine.store.writer import StoreWriter

SEEKS = int(os.environ.get("WATCHFLOOR_SEEKS", "40"))
CAMERAS = ("gate", "plaza", "dock", "yard")
DAY_S = 86_400
SEGMENT_S = 10
PLAY_S = 20.0
START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
RECORDER = "recorder"  # the engine whose data dir keeps the day
PASSWORD = "bench-media-password"  # the site's media_password


def _segments(folder: Path) -> list[Path]:
    """The loop's two 10 s halves, muxed as the recorder muxes segments."""
    loop = read_loop(camera_loop())
    stream = VideoStreamInfo(loop.codec, loop.width, loop.height, loop.time_base, None)
    per_segment = SEGMENT_S * FPS
    files = []
    for half in range(2):
        path = folder / f"half{half}.mp4"
        muxer = ClipMuxer(path, fragmented=True)
        for packet in loop.packets[half * per_segment : (half + 1) * per_segment]:
            muxer.add(packet.stamped(stream, packet.pts_s, None))
        muxer.close()
        files.append(path)
    return files


def _site(folder: Path) -> Path:
    cameras = "".join(
        f'[[cameras]]\nid = "{key}"\nurl = "rtsp://127.0.0.1:8554/{key}"\n' for key in CAMERAS
    )
    site = folder / "day.toml"
    site.write_text(
        '[site]\nname = "A day"\ngeo = { lat = 51.5, lon = -0.14 }\n' + cameras,
        encoding="utf-8",
    )
    return site


def _build_day(store: Store, halves: list[Path]) -> int:
    """A day of 10 s segments for every camera: rows through the writer (signed by
    :data:`RECORDER`), files linked. Returns the site's id."""
    from engine.config import load_site

    root = data_dir()
    hashes = [file_sha256(path) for path in halves]
    with StoreWriter.running(store, engine_name=RECORDER) as writer:
        ids: SiteIds = writer.execute(SyncSite(site=load_site(_site(root.parent)), at=START))
        for key in CAMERAS:
            folder = root / RECORDINGS_DIR / key / START.strftime("%Y-%m-%d")
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(DAY_S // SEGMENT_S):
                start = START + timedelta(seconds=n * SEGMENT_S)
                path = folder / f"{key}_{start:%Y%m%dT%H%M%S}.000Z.mp4"
                os.link(halves[n % 2], path)
                sha256, size = hashes[n % 2]
                writer.submit(
                    InsertMedia(
                        file=MediaFile(
                            SEGMENT_KIND, path.relative_to(root).as_posix(), sha256, size
                        ),
                        created_at=start,
                        camera_id=ids.cameras[key],
                        started_at=start,
                        ended_at=start + timedelta(seconds=SEGMENT_S),
                    )
                )
        writer.flush(timeout_s=600)
    return ids.site_id


def _seek(store: Store, at: datetime, clock: RealClock, remote: RemoteMedia | None = None) -> float:
    """Seconds from asking for moment ``at`` of camera gate to having its picture;
    ``remote``: as an attached console, whose media root is its cache."""
    began = time.perf_counter()
    window = timedelta(minutes=5)
    root, fetch = (data_dir(), None) if remote is None else (remote.root, remote.fetch_file)
    plan = ReplayPlanRequest(at - window, at + window, ("gate",), root, fetch=fetch).run(store)
    reader = ClipFrameReader("gate", plan.clips["gate"], plan.media_root, clock, plan.fetch)
    try:
        found = reader.frame_at(at)
    finally:
        reader.close()
    if found.frame is None:
        raise RuntimeError(f"no picture at {at}: {found.reason}")
    return time.perf_counter() - began


def _attached_seeks(
    store: Store, site_id: int, moments: list[datetime], cache: Path, clock: RealClock
) -> tuple[float, list[float], list[int]]:
    """The first seek's time (s, the console's first fetch), then the time and the bytes
    fetched of each later seek, of an attached console whose files :data:`RECORDER`'s
    recordings server serves on loopback. The server runs in this process, on its own
    thread, as the console's fetch does on the seek's."""
    server = MediaFileServer(
        store,
        FileOptions(port=0, host="127.0.0.1", bind="127.0.0.1"),
        engine=RECORDER,
        root=data_dir(),
        password=PASSWORD,
    )
    server.start()
    try:
        book = LeaseBook(store, site_id, RECORDER)
        book.join(len(CAMERAS), datetime.now(UTC))
        remote = RemoteMedia(store, cache, site="A day", password=lambda: PASSWORD)
        times: list[float] = []
        fetched: list[int] = []
        for at in moments:
            # The engine's heartbeat (its own thread in an engine): keeps it running.
            book.heartbeat(datetime.now(UTC), {"media": {"files": server.url}})
            before = remote.fetched_bytes
            times.append(_seek(store, at, clock, remote))
            fetched.append(remote.fetched_bytes - before)
        return times[0], times[1:], fetched[1:]
    finally:
        server.stop()


def _play_four(store: Store, at: datetime, clock: RealClock) -> dict[str, float]:
    """Frames each camera showed per second while four play together at 1×, as a share
    of the source's rate."""
    plan = ReplayPlanRequest(at, at + timedelta(minutes=2), CAMERAS, data_dir()).run(store)
    playback = PlaybackClock(plan.start, plan.end, clock, at=at)
    decoder = ReplayDecoder(plan, playback, clock)
    shown: dict[str, set[datetime]] = {key: set() for key in CAMERAS}
    getters = {key: decoder.frame_getter(key) for key in CAMERAS}
    decoder.start()
    playback.play()
    began = time.monotonic()
    try:
        while (elapsed := time.monotonic() - began) < PLAY_S:
            for key, getter in getters.items():
                frame = getter()
                if frame is not None and frame.wall_at is not None:
                    shown[key].add(frame.wall_at)
            time.sleep(1 / 50)  # the tiles' repaint, faster than the source
    finally:
        decoder.close()
    return {key: len(times) / (elapsed * FPS) for key, times in shown.items()}


def run() -> dict[str, Any]:
    rng = random.Random(66)
    clock = RealClock()
    with private_dirs("wf-bench-seek-") as tmp:
        halves = _segments(tmp)
        store = Store(f"sqlite:///{tmp / 'day.db'}")
        try:
            began = time.perf_counter()
            site_id = _build_day(store, halves)
            built_s = time.perf_counter() - began
            moments = [START + timedelta(seconds=rng.uniform(60, DAY_S - 60)) for _ in range(SEEKS)]
            _seek(store, moments[0], clock)  # the first read warms the page cache
            seeks = sorted(_seek(store, at, clock) for at in moments)
            rates = _play_four(store, START + timedelta(hours=13, seconds=3), clock)
            view_moments = [
                START + timedelta(seconds=rng.uniform(60, DAY_S - 60)) for _ in range(SEEKS)
            ]
            views = sorted(_view(store, at, tmp) for at in view_moments)
            remote_moments = [
                START + timedelta(seconds=rng.uniform(60, DAY_S - 60)) for _ in range(SEEKS + 1)
            ]
            load_before = os.getloadavg()[0]
            first_remote, remote_seeks, remote_bytes = _attached_seeks(
                store, site_id, remote_moments, tmp / "console-cache", clock
            )
        finally:
            store.close()
    p95 = _p95(seeks)
    remote_seeks.sort()
    return {
        "benchmark": "recording_seek",
        "day_rows": len(CAMERAS) * DAY_S // SEGMENT_S,
        "day_built_s": round(built_s, 1),
        "seeks": len(seeks),
        "seek_ms_p50": round(1000 * statistics.median(seeks), 1),
        "seek_ms_p95": round(1000 * p95, 1),
        "seek_ms_max": round(1000 * seeks[-1], 1),
        "attached_seeks": len(remote_seeks),
        "attached_first_seek_ms": round(1000 * first_remote, 1),
        "attached_seek_ms_p50": round(1000 * statistics.median(remote_seeks), 1),
        "attached_seek_ms_p95": round(1000 * _p95(remote_seeks), 1),
        "attached_seek_ms_max": round(1000 * remote_seeks[-1], 1),
        "attached_bytes_per_seek_p50": int(statistics.median(remote_bytes)),
        "attached_bytes_per_seek_max": max(remote_bytes),
        # Other work on the machine (another benchmark) shows here: 1-minute load average
        # before the attached seeks and after them.
        "attached_load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        # An event clip that is a view onto the segments, played: the view of an event at a
        # random moment (10 s before to 20 s after) cut from the segments, s and bytes.
        "view_cuts": len(views),
        "view_cut_ms_p50": round(1000 * statistics.median(v[0] for v in views), 1),
        "view_cut_ms_p95": round(1000 * _p95([v[0] for v in views]), 1),
        "view_bytes_p50": int(statistics.median(v[1] for v in views)),
        "four_cameras_frame_share": {key: round(share, 3) for key, share in rates.items()},
        "four_cameras_frame_share_min": round(min(rates.values()), 3),
    }


def _view(store: Store, at: datetime, tmp: Path) -> tuple[float, int]:
    """Cut the view an event at ``at`` on the first camera plays (as the Events pane or an
    alert does), from the request to the file renamed: seconds, and the view's bytes."""
    began = time.perf_counter()
    view = footage_around(CAMERAS[0], at, data_dir()).run(store)
    elapsed = time.perf_counter() - began
    assert view is not None and view.frames > 0, f"no view at {at}"
    size = view.path.stat().st_size
    view.path.unlink()
    return elapsed, size


def _p95(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
