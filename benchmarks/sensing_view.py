"""Frame rate of the WiFi-sensing 3D view at site scale: 16 nodes, all 120 links, a
10 × 10 × 2.5 m room fused at 0.2 m (50 × 50 × 13 voxels).

Two people walk circles through the room. Every frame gets a new snapshot, built before the
clock starts, as the engine would publish it: every link's activation changes (from the
people's excess path length, in Fresnel-zone terms, plus noise), the voxels come from the
real ``GridModel.tick`` of those activations, and both blobs move and carry 20-point trails.
A frame is ``SensingView3D.set_snapshot`` plus a forced render:

- ``grab``: ``render_now()`` renders the scene into the GL window's buffer and reads it
  back (the read-back is the only part the operator's screen does not pay);
- ``repaint``: an update request sent to the GL window (it draws and swaps at once) and
  ``processEvents()``, the path a live window takes.

- ``repaint_haze``: as ``repaint``, but drawing every voxel above the absolute threshold
  (``voxel_peak_fraction`` 0): most of the room, the scatter's worst case.

Figures per mode: ``frame_ms_median``, ``frame_ms_p99`` and ``fps`` (1000 / median) over
``--frames`` frames after a 30-frame warm-up; ``set_snapshot_ms_*`` is the update alone (numpy
into the GL items); ``voxels_drawn_median``. Target: ≥ 20 fps in ``grab`` and ``repaint``
(the fusion tick runs at 10–20 Hz).

OpenGL needs an X display (it does not render under ``QT_QPA_PLATFORM=offscreen``), so the
measurement always runs in a child process on the xcb platform: on ``$DISPLAY`` when there is
one, otherwise under ``xvfb-run`` (Debian's xvfb package), and the figures say which and name
the GL renderer (llvmpipe under Xvfb: software rendering on the CPU).

``python -m benchmarks.sensing_view [--frames N] [--size 960x640]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.sensing_fusion import node_positions
from engine.sensing.view import BlobView, LinkView, NodeView, SensingSnapshot, VoxelView

REPO = Path(__file__).resolve().parents[1]
ROOM = (10.0, 10.0, 2.5)
VOXEL_M = 0.2
WAVELENGTH_M = 0.123  # 2.4 GHz WiFi, channel 6
FRAMES = 300
WARM_UP_FRAMES = 30
TRAIL_POINTS = 20
SIZE = (960, 640)
TARGET_FPS = 20.0
XVFB_SCREEN = "-screen 0 1600x1000x24"  # 24-bit: GL has no visual at xvfb-run's default 8
CHILD_TIMEOUT_S = 600


class Scene:
    """The room, its nodes and links, and the fusion model the voxels come from."""

    def __init__(self, seed: int = 0) -> None:
        from engine.sensing.grid.fresnel import GridModel, VoxelGrid

        self.positions = node_positions()
        self.grid = VoxelGrid((0.0, 0.0, 0.0), ROOM, VOXEL_M)
        self.model = GridModel.all_pairs(self.grid, self.positions)  # channel 6
        self.links = [(link.node_a, link.node_b) for link in self.model.links]
        ends = np.array([(self.positions[a], self.positions[b]) for a, b in self.links], np.float64)
        self.a, self.b = ends[:, 0], ends[:, 1]
        self.length = np.linalg.norm(self.b - self.a, axis=1)
        self.rng = np.random.default_rng(seed)
        self.nodes = tuple(
            NodeView(node_id, node_id, f"aa:bb:cc:00:00:{i:02x}", pos, True, frame_rate_hz=20.0)
            for i, (node_id, pos) in enumerate(self.positions.items())
        )

    @staticmethod
    def people(t: float) -> npt.NDArray[np.float64]:
        """Where the two walkers are at ``t`` seconds (metres)."""
        return np.array(
            [
                (5.0 + 3.0 * np.cos(0.6 * t), 5.0 + 3.0 * np.sin(0.6 * t), 1.1),
                (5.0 + 2.0 * np.cos(-0.9 * t + 1.0), 4.0 + 2.5 * np.sin(-0.9 * t + 1.0), 1.0),
            ]
        )

    def snapshot(self, frame: int) -> SensingSnapshot:
        t = frame / 10.0  # a fusion tick every 100 ms
        people = self.people(t)
        # A person shadows a link by how little they lengthen its path (first zones count
        # most), as the signal chain's relative deltaRMS would show it.
        activation = np.zeros(len(self.links))
        for person in people:
            excess = (
                np.linalg.norm(person - self.a, axis=1)
                + np.linalg.norm(person - self.b, axis=1)
                - self.length
            )
            activation += 0.12 * np.exp(-excess / (2.0 * WAVELENGTH_M))
        activation += self.rng.uniform(0.0, 0.008, len(self.links))
        values = self.model.tick(activation.astype(np.float32))
        links = tuple(
            LinkView(a, b, float(act), bool(act > 0.02))
            for (a, b), act in zip(self.links, activation, strict=True)
        )
        blobs = tuple(
            BlobView(
                track_id=i + 1,
                position=_vec3(people[i]),
                velocity=(0.0, 0.0, 0.0),
                value=float(values.max()),
                coasting=False,
                trail=tuple(_vec3(self.people(t - 0.1 * k)[i]) for k in range(TRAIL_POINTS, 0, -1)),
            )
            for i in range(len(people))
        )
        return SensingSnapshot(
            room_id="bench",
            room_name="Bench hall",
            room_size=ROOM,
            simulated=True,
            t_s=t,
            nodes=self.nodes,
            links=links,
            blobs=blobs,
            voxels=VoxelView((0.0, 0.0, 0.0), VOXEL_M, self.grid.shape, values),
            channel=6,
            wavelength_m=WAVELENGTH_M,
            truth=tuple(_vec3(p) for p in people),
        )


def _vec3(values: npt.ArrayLike) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in np.asarray(values).reshape(3))
    return (x, y, z)


def _median_p99(times_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(times_ms)
    return statistics.median(ordered), ordered[round(0.99 * (len(ordered) - 1))]


def measure(frames: int = FRAMES, size: tuple[int, int] = SIZE) -> dict[str, Any]:
    """The measurement itself; needs an X display (run it through :func:`run`)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from widgets.sensing.view import SensingView3D

    app = QApplication.instance() or QApplication([])
    scene = Scene()
    view = SensingView3D()
    view.resize(*size)
    view.show()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and view.gl_view is not None and not view.gl_view.isValid():
        app.processEvents()  # the GL window is shown when the X server maps it
        time.sleep(0.01)
    if view.gl_view is None or not view.gl_view.isValid():
        return {"error": f"no OpenGL: {view.gl_error}"}
    from OpenGL import GL

    view.gl_view.makeCurrent()
    renderer = GL.glGetString(GL.GL_RENDERER).decode()
    version = GL.glGetString(GL.GL_VERSION).decode()
    view.gl_view.doneCurrent()

    figures: dict[str, Any] = {
        "nodes": len(scene.nodes),
        "links": len(scene.links),
        "room_m": list(ROOM),
        "voxel_m": VOXEL_M,
        "voxels": scene.grid.size,
        "frames": frames,
        "size": f"{view.gl_view.width()}x{view.gl_view.height()}",
        "platform": QGuiApplication.platformName(),
        "gl_renderer": renderer,
        "gl_version": version,
    }
    default_fraction = view.voxel_peak_fraction
    for mode in ("grab", "repaint", "repaint_haze"):
        # "repaint_haze": every voxel above the absolute threshold, none hidden for being
        # under 40 % of the peak: the worst case for the voxel scatter.
        view.set_voxel_threshold(view.voxel_threshold, 0.0 if mode == "repaint_haze" else None)
        set_times: list[float] = []
        frame_times: list[float] = []
        drawn: list[int] = []
        for frame in range(WARM_UP_FRAMES + frames):
            snapshot = scene.snapshot(frame)
            started = time.perf_counter()
            view.set_snapshot(snapshot)
            updated = time.perf_counter()
            if mode == "grab":
                view.gl_view.render_now()
            else:
                app.sendEvent(view.gl_view, QEvent(QEvent.Type.UpdateRequest))
                app.processEvents()
            done = time.perf_counter()
            if mode == "grab":
                app.processEvents()
            if frame >= WARM_UP_FRAMES:
                set_times.append((updated - started) * 1000)
                frame_times.append((done - started) * 1000)
                drawn.append(int(view.voxel_item.pos.shape[0]))
        view.set_voxel_threshold(view.voxel_threshold, default_fraction)
        set_median, set_p99 = _median_p99(set_times)
        median, p99 = _median_p99(frame_times)
        figures[mode] = {
            "frame_ms_median": round(median, 2),
            "frame_ms_p99": round(p99, 2),
            "fps": round(1000.0 / median, 1),
            "set_snapshot_ms_median": round(set_median, 2),
            "set_snapshot_ms_p99": round(set_p99, 2),
            "voxels_drawn_median": int(statistics.median(drawn)),
        }
    figures["voxel_threshold"] = view.voxel_threshold
    figures["voxel_peak_fraction"] = default_fraction
    figures["target_fps"] = TARGET_FPS
    figures["target_met"] = all(figures[m]["fps"] >= TARGET_FPS for m in ("grab", "repaint"))
    view.close()
    app.processEvents()
    return figures


def run(frames: int = FRAMES, size: tuple[int, int] = SIZE) -> dict[str, Any]:
    """Measure in a child process on an X display: ``$DISPLAY``, or a new Xvfb."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.sensing_view",
        "--child",
        "--frames",
        str(frames),
        "--size",
        f"{size[0]}x{size[1]}",
    ]
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    if os.environ.get("DISPLAY"):
        display = f"existing display {os.environ['DISPLAY']}"
    elif shutil.which("xvfb-run"):
        display = f"xvfb-run ({XVFB_SCREEN})"
        command = ["xvfb-run", "-a", "-s", XVFB_SCREEN, *command]
    else:
        return {"skipped": "no X display and no xvfb-run (install Debian's xvfb package)"}
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"display": display, "error": done.stderr.strip()[-2000:] or "no output"}
    figures: dict[str, Any] = json.loads(lines[-1])
    return {"display": display, **figures}


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument("--size", type=_size, default=SIZE, help="GL view size, e.g. 960x640")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.frames, args.size)), flush=True)
        return
    figures = run(args.frames, args.size)
    print(json.dumps({"benchmark": "sensing_view_fps", **figures}), flush=True)


if __name__ == "__main__":
    main()
