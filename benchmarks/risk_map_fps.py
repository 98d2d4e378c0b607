"""Frame rate of the risk map while the operator drags its time slider, at site scale.

A site in central London with the map the incident service draws: every H3 cell within 3 km
(resolution 9, the default: 300 cells; and resolution 10, 2,102 cells, for a site that
chose the finer grid), live risk from 5,000 incidents of the past week (decayed as the
engine does, ``(1 − d/2 km)`` around each, one-week half-life), 24 hours of predictions (a
per-cell rate from where incidents cluster, times a daily cycle, with noise) classed by the
engine's percentile thresholds, 12 cameras, and the 5,000 incidents as markers (coloured by
category, sized by reporters). The pane is shown offscreen at 1000 × 700.

A frame is one slider step plus a forced render of the whole pane, the slider swept
0 → 24 → 0 again and again (every position, both directions):

- ``repaint``: ``set_hour`` then ``pane.repaint()`` and ``processEvents()``, the path a live
  window takes;
- ``grab``: ``set_hour`` then ``pane.grab()``, rendering the pane into a pixmap.

Figures per grid and mode: ``fps`` (median over ``--runs`` runs of frames / seconds, after
one warm-up sweep that also builds each position's paths), ``fps_runs``, ``frame_ms_p99``,
``recolour_ms_median`` (the slider step alone: swapping the level paths, no render);
``first_sweep_fps`` is the first drag after a load (``repaint``, building each hour's paths
as it goes); ``prepare_ms`` is
:func:`widgets.risk_map.view.prepare_map` (a query worker's share in the console) and ``load_ms``
the GUI thread's share of a load (drawing cells, cameras and 5,000 markers). Target: ≥ 30 fps
in both modes; ``frames_differ`` checks that the hours really render differently.

``python -m benchmarks.risk_map_fps [--runs N] [--sweeps N] [--size 1000x700]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import h3.api.basic_int as h3
import numpy as np
import numpy.typing as npt

from engine.history.query_service import QueryRequest, QueryResult
from engine.incidents.geo import EARTH_RADIUS_M
from engine.incidents.records import IncidentView
from engine.incidents.risk import (
    DEFAULT_HALF_LIFE_H,
    DEFAULT_WEIGHTS,
    RISK_CLASSES,
    RiskSettings,
    cells_around,
    risk_thresholds,
)
from engine.incidents.service import MAP_RADIUS_M, MapCamera, RiskMap
from engine.vocabulary import INCIDENT_CATEGORIES

LONDON = (51.5074, -0.1278)  # Trafalgar Square
NOW = datetime(2026, 2, 3, 10, 25, tzinfo=UTC)
RESOLUTIONS = (9, 10)
INCIDENTS = 5000
CAMERAS = 12
HOTSPOTS = 8
HOURS = 24
RISK_RADIUS_M = 2000.0  # how far one incident raises the risk (the engine's default)
SIZE = (1000, 700)
RUNS = 5
SWEEPS = 3
TARGET_FPS = 30.0


def _offsets_to_degrees(x_m: npt.NDArray[np.float64], y_m: npt.NDArray[np.float64]) -> Any:
    lat0, lon0 = LONDON
    per_degree = EARTH_RADIUS_M * math.pi / 180.0
    return lat0 + y_m / per_degree, lon0 + x_m / (per_degree * math.cos(math.radians(lat0)))


def build_scene(resolution: int, seed: int = 0) -> tuple[RiskMap, list[IncidentView]]:
    """The map and the week's incidents as the incident service would return them."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = LONDON
    cells, _ = cells_around(lat0, lon0, RiskSettings(resolution=resolution, radius_m=MAP_RADIUS_M))
    centres = np.array([h3.cell_to_latlng(int(c)) for c in cells.tolist()])
    corners = tuple(np.array(h3.cell_to_boundary(int(c))) for c in cells.tolist())

    # Incidents cluster around a few hot spots (a station, a night-life street, …).
    spots = rng.uniform(-2500, 2500, size=(HOTSPOTS, 2))
    which = rng.integers(0, HOTSPOTS, INCIDENTS)
    spread = rng.uniform(120, 600, HOTSPOTS)[which]
    xy = spots[which] + rng.normal(0.0, 1.0, (INCIDENTS, 2)) * spread[:, None]
    lats, lons = _offsets_to_degrees(xy[:, 0], xy[:, 1])
    ages_h = rng.uniform(0.0, 7 * 24.0, INCIDENTS)
    categories = rng.choice(
        INCIDENT_CATEGORIES, INCIDENTS, p=[0.14, 0.04, 0.3, 0.04, 0.1, 0.12, 0.18, 0.08]
    )
    reporters = np.minimum(rng.geometric(0.55, INCIDENTS), 12)
    incidents = []
    for i in np.argsort(ages_h):  # newest first, as the service lists them
        at = NOW - timedelta(hours=float(ages_h[i]))
        incidents.append(
            IncidentView(
                incident_id=int(i) + 1,
                occurred_at=at,
                last_report_at=at,
                latitude=float(lats[i]),
                longitude=float(lons[i]),
                cell=int(h3.latlng_to_cell(float(lats[i]), float(lons[i]), resolution)),
                category=str(categories[i]),
                severity=int(rng.integers(1, 6)),
                confidence=0.8,
                classifier="keywords",
                category_basis="single" if reporters[i] == 1 else "majority",
                llm_pending=False,
                report_count=int(reporters[i]),
                reporter_count=int(reporters[i]),
                validated_by=None,
                validated_at=None,
                report_ids=(),
                media_ids=(),
            )
        )

    # Live risk: each incident's weighted, distance-tapered, decayed share.
    per_degree = EARTH_RADIUS_M * math.pi / 180.0
    cx = (centres[:, 1] - lon0) * per_degree * math.cos(math.radians(lat0))
    cy = (centres[:, 0] - lat0) * per_degree
    weights = np.array([DEFAULT_WEIGHTS[str(c)] for c in categories])
    decay = 0.5 ** (ages_h / DEFAULT_HALF_LIFE_H)
    live = np.zeros(cells.size)
    nearby = np.zeros(cells.size)
    for begin in range(0, INCIDENTS, 500):
        part = slice(begin, begin + 500)
        d = np.hypot(cx[:, None] - xy[part, 0], cy[:, None] - xy[part, 1])
        taper = np.clip(1.0 - d / RISK_RADIUS_M, 0.0, None)
        live += (taper * weights[part] * decay[part]).sum(axis=1)
        nearby += (d < 500.0).sum(axis=1)

    # Predictions: the cell's hourly rate, busier in the evening, with noise.
    hours_of_day = (NOW.hour + np.arange(HOURS)) % 24
    daily = 0.6 + 0.8 * np.exp(-(((hours_of_day - 21) % 24 - 0) ** 2) / 18.0)
    rate = (nearby + 0.05) / (7 * 24.0) * 0.05
    predicted = rate[:, None] * daily[None, :] * rng.lognormal(0.0, 0.25, (cells.size, HOURS))
    thresholds = risk_thresholds(predicted.ravel())

    camera_xy = spots[rng.integers(0, HOTSPOTS, CAMERAS)] + rng.normal(0, 300, (CAMERAS, 2))
    cam_lats, cam_lons = _offsets_to_degrees(camera_xy[:, 0], camera_xy[:, 1])
    cameras = tuple(
        MapCamera(
            f"cam-{k + 1:02d}",
            f"Camera {k + 1}",
            float(cam_lats[k]),
            float(cam_lons[k]),
            RISK_CLASSES[int(rng.integers(0, len(RISK_CLASSES)))],
        )
        for k in range(CAMERAS)
    )
    risk_map = RiskMap(
        centre=LONDON,
        cells=cells,
        centres=centres,
        corners=corners,
        live=live,
        predicted=predicted,
        start=NOW.replace(minute=0, second=0, microsecond=0),
        hours=HOURS,
        cameras=cameras,
        model_fitted_at=NOW.replace(hour=2, minute=0),
        model_problem=None,
        thresholds=thresholds,
    )
    return risk_map, incidents


class _Actions:
    """The console's incident backend, answering from memory."""

    def __init__(self, risk_map: RiskMap, incidents: list[IncidentView]) -> None:
        self._map = risk_map
        self._incidents = incidents

    def risk_map(self, hours: int) -> RiskMap:
        return self._map

    def site_plan(self) -> None:
        return None  # no plan: the cells are drawn opaque, as measured before plans

    def incidents(
        self,
        since: datetime | None,
        until: datetime | None,
        category: str | None,
        limit: int,
    ) -> list[IncidentView]:
        return [
            i
            for i in self._incidents
            if (since is None or i.occurred_at >= since)
            and (until is None or i.occurred_at < until)
            and (category is None or i.category == category)
        ][:limit]


class _ImmediateQueries:
    """A query client answering inside ``submit`` (no threads: the load is timed whole)."""

    def submit(self, channel: str, request: QueryRequest[Any], on_done: Callable[..., None]) -> int:
        on_done(QueryResult(channel, request, 1, value=request.run(None)))  # type: ignore[arg-type]
        return 1

    def submit_action(
        self,
        channel: str,
        action: Callable[[], Any],
        on_done: Callable[..., None],
        *,
        name: str = "",
    ) -> int:
        raise AssertionError("the risk map submits no actions")


def _sweep(hours: int) -> list[int]:
    """Slider positions of one drag there and back: 1 … hours … 0."""
    return [*range(1, hours + 1), *range(hours - 1, -1, -1)]


def measure(
    resolution: int, runs: int = RUNS, sweeps: int = SWEEPS, size: tuple[int, int] = SIZE
) -> dict[str, Any]:
    """Frames per second of one grid (see the module)."""
    from PySide6.QtWidgets import QApplication

    from widgets.risk_map.view import RiskMapPane, prepare_map

    app = QApplication.instance() or QApplication([])
    risk_map, incidents = build_scene(resolution)
    started = time.perf_counter()
    prepare_map(risk_map)
    prepare_ms = (time.perf_counter() - started) * 1000
    pane = RiskMapPane(_ImmediateQueries(), _Actions(risk_map, incidents), now=lambda: NOW)
    pane.resize(*size)
    pane.show()  # loads: the map (prepared on the spot) and the markers
    app.processEvents()
    started = time.perf_counter()
    pane.refresh()
    load_ms = (time.perf_counter() - started) * 1000 - prepare_ms
    app.processEvents()
    figures: dict[str, Any] = {
        "cells": int(risk_map.cells.size),
        "markers": len(pane.marker_ids()),
        "cameras": len(risk_map.cameras),
        "positions": pane.hour_slider.maximum() + 1,
        "prepare_ms": round(prepare_ms, 1),
        "load_ms": round(load_ms, 1),
    }
    positions = _sweep(HOURS)
    frame_times: list[float] = []

    def frame(position: int, mode: str) -> float:
        """One slider step and render; returns the step's own milliseconds."""
        begin = time.perf_counter()
        pane.set_hour(position)
        recoloured = time.perf_counter()
        if mode == "grab":
            pane.grab()
        else:
            pane.repaint()
        app.processEvents()
        frame_times.append((time.perf_counter() - begin) * 1000)
        return (recoloured - begin) * 1000

    # The first drag after a load also builds each hour's paths.
    started = time.perf_counter()
    for position in positions:
        frame(position, "repaint")
    first_sweep_fps = len(positions) / (time.perf_counter() - started)
    figures["first_sweep_fps"] = round(first_sweep_fps, 1)
    pane.set_hour(0)
    live_image = pane.grab().toImage()
    pane.set_hour(HOURS // 2)
    figures["frames_differ"] = live_image != pane.grab().toImage()

    for mode in ("repaint", "grab"):
        for position in positions:  # warm-up
            frame(position, mode)
        run_fps: list[float] = []
        recolour: list[float] = []
        frame_times.clear()
        for _ in range(runs):
            started = time.perf_counter()
            count = 0
            for _ in range(sweeps):
                for position in positions:
                    recolour.append(frame(position, mode))
                    count += 1
            run_fps.append(count / (time.perf_counter() - started))
        ordered = sorted(frame_times)
        figures[mode] = {
            "fps": round(statistics.median(run_fps), 1),
            "fps_runs": [round(f, 1) for f in run_fps],
            "frames_per_run": sweeps * len(positions),
            "frame_ms_median": round(statistics.median(ordered), 2),
            "frame_ms_p99": round(ordered[round(0.99 * (len(ordered) - 1))], 2),
            "recolour_ms_median": round(statistics.median(recolour), 3),
        }
    figures["target_met"] = all(figures[m]["fps"] >= TARGET_FPS for m in ("repaint", "grab"))
    pane.close()
    pane.deleteLater()
    app.processEvents()
    return figures


def run(runs: int = RUNS, sweeps: int = SWEEPS, size: tuple[int, int] = SIZE) -> dict[str, Any]:
    """Both grids, offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    figures: dict[str, Any] = {
        "site": list(LONDON),
        "radius_m": MAP_RADIUS_M,
        "size": f"{size[0]}x{size[1]}",
        "platform": QGuiApplication.platformName(),
        "runs": runs,
        "target_fps": TARGET_FPS,
    }
    for resolution in RESOLUTIONS:
        figures[f"res{resolution}"] = measure(resolution, runs, sweeps, size)
    figures["target_met"] = all(figures[f"res{r}"]["target_met"] for r in RESOLUTIONS)
    return figures


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--sweeps", type=int, default=SWEEPS, help="drags 0 → 24 → 0 per run")
    parser.add_argument("--size", type=_size, default=SIZE, help="pane size, e.g. 1000x700")
    args = parser.parse_args()
    figures = run(args.runs, args.sweeps, args.size)
    print(json.dumps({"benchmark": "risk_map_fps", **figures}), flush=True)


if __name__ == "__main__":
    main()
