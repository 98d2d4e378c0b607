"""Ingest and the per-link signal chain at fleet scale: 16 nodes sending every directed pair at
20 Hz (240 directions, 120 links, 4,800 frames/s), on one thread.

Each frame is built with ``encode_csi_frame`` beforehand; the timed loop does what the node
server and the fusion thread do: ``parse_csi_frame`` and ``SignalChain.push`` for every frame
in arrival order, and every 0.1 s (the fusion rate) ``SignalChain.link_arrays``, which runs
the vectorised tick over the frames since the last one. The fleet: 64-subcarrier frames of a
stationary channel per direction with Gaussian I/Q noise, someone moving on 20 links, and 5 %
all-zero frames (real nodes send many). One run = 1 s untimed (warm-up) + 5 s timed, on a fresh
chain; figures are medians over the runs:

- ``frames_per_s``: frames one core ingests (parse + push + tick) per second of this thread's
  CPU time; ``frames_per_s_wall`` the same over wall time.
- ``cpu_share_at_4800_fps``: the share of one core that 4,800 frames/s take (parse included),
  split into ``parse_share`` and ``chain_share``; ``cpu_share_without_phase``: the same with
  the phase diagnostic off (``compute_phase=False``).
- ``tick_ms_median`` / ``tick_ms_p99``: one 0.1 s tick (480 frames through the chain).

Target (issue 9): the whole keeps up on one core, a share below 1.

``python -m benchmarks.sensing_signal [--runs N]`` or ``python -m benchmarks sensing_signal``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np

from engine.sensing.nodes.protocol import encode_csi_frame, parse_csi_frame
from engine.sensing.signal import GUARD_SUBCARRIERS, NULL_SUBCARRIERS, SignalChain

NODES = 16
RATE_HZ = 20
SUBCARRIERS = 64
FRAMES_PER_S = NODES * (NODES - 1) * RATE_HZ  # every directed pair: 4,800
TICK_S = 0.1  # the fusion reads the chain 10 times a second
WARMUP_S = 1.0
TIMED_S = 5.0
RUNS = 5
MOVING_LINKS = 20
ZERO_SHARE = 0.05
TARGET_CORE_SHARE = 1.0

Fleet = list[tuple[float, list[tuple[float, bytes]]]]  # (tick time, frames since last tick)


def run(runs: int = RUNS, seed: int = 0) -> dict[str, Any]:
    fleet = _fleet(seed)
    timed = [tick for tick in fleet if tick[0] > WARMUP_S + 1e-9]
    frames = sum(len(batch) for _, batch in timed)
    totals = [_run_once(fleet, compute_phase=True) for _ in range(runs)]
    without_phase = [_run_once(fleet, compute_phase=False)[0] for _ in range(runs)]
    parse_s = [_parse_only(timed) for _ in range(runs)]
    cpu_s = statistics.median(cpu for cpu, _, _ in totals)
    wall_s = statistics.median(wall for _, wall, _ in totals)
    ticks_ms = sorted(ms for _, _, run_ticks in totals for ms in run_ticks)
    share = FRAMES_PER_S * cpu_s / frames
    parse_share = FRAMES_PER_S * statistics.median(parse_s) / frames
    return {
        "nodes": NODES,
        "links": NODES * (NODES - 1) // 2,
        "rate_hz": RATE_HZ,
        "subcarriers": SUBCARRIERS,
        "frames_per_run": frames,
        "runs": runs,
        "frames_per_s": round(frames / cpu_s),
        "frames_per_s_wall": round(frames / wall_s),
        "cpu_share_at_4800_fps": round(share, 4),
        "parse_share": round(parse_share, 4),
        "chain_share": round(share - parse_share, 4),
        "cpu_share_without_phase": round(
            FRAMES_PER_S * statistics.median(without_phase) / frames, 4
        ),
        "tick_ms_median": round(statistics.median(ticks_ms), 3),
        "tick_ms_p99": round(ticks_ms[min(len(ticks_ms) - 1, int(0.99 * len(ticks_ms)))], 3),
        "targets_met": share < TARGET_CORE_SHARE,
    }


def _run_once(fleet: Fleet, *, compute_phase: bool) -> tuple[float, float, list[float]]:
    """(CPU seconds, wall seconds, per-tick milliseconds) of the timed part of one run."""
    chain = SignalChain(compute_phase=compute_phase)
    parse = parse_csi_frame
    push = chain.push
    cpu = wall = 0.0
    ticks_ms: list[float] = []
    for tick_t, batch in fleet:
        timed = tick_t > WARMUP_S + 1e-9
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        for arrival, data in batch:
            push(parse(data), arrival)
        tick0 = time.perf_counter()
        chain.link_arrays(tick_t)
        wall1, cpu1 = time.perf_counter(), time.thread_time()
        if timed:
            cpu += cpu1 - cpu0
            wall += wall1 - wall0
            ticks_ms.append((wall1 - tick0) * 1000)
    return cpu, wall, ticks_ms


def _parse_only(timed: Fleet) -> float:
    parse = parse_csi_frame
    cpu0 = time.thread_time()
    for _, batch in timed:
        for _, data in batch:
            parse(data)
    return time.thread_time() - cpu0


def _fleet(seed: int) -> Fleet:
    """Frames of WARMUP_S + TIMED_S seconds, grouped by the fusion tick they arrive before."""
    rng = np.random.default_rng(seed)
    macs = [f"24:6F:28:00:00:{i:02X}" for i in range(NODES)]
    pairs = [(a, b) for a in range(NODES) for b in range(NODES) if a != b]
    silent = list(NULL_SUBCARRIERS | GUARD_SUBCARRIERS)
    channels = rng.uniform(15.0, 60.0, (len(pairs), SUBCARRIERS)) * np.exp(
        1j * rng.uniform(-np.pi, np.pi, (len(pairs), SUBCARRIERS))
    )
    channels[:, silent] = 0.0
    moving_links = rng.choice(NODES * (NODES - 1) // 2, MOVING_LINKS, replace=False)
    link_of = {pair: i for i, pair in enumerate((a, b) for a in range(NODES) for b in range(a))}
    moving = np.array([link_of[(max(a, b), min(a, b))] in moving_links for a, b in pairs])
    disturbed = rng.choice(np.arange(2, 27), 8, replace=False)
    rssi = rng.integers(-75, -40, len(pairs))

    fleet: Fleet = []
    frame_period = 1.0 / RATE_HZ
    steps = round((WARMUP_S + TIMED_S) * RATE_HZ)
    per_tick = round(TICK_S / frame_period)
    batch: list[tuple[float, bytes]] = []
    for step in range(steps):
        t = step * frame_period
        csi = channels.copy()
        swing = 1.0 + 0.25 * np.sin(2.0 * np.pi * 0.8 * t + np.arange(disturbed.size))
        csi[np.ix_(moving, disturbed)] *= swing
        csi += 1.0 * (rng.standard_normal(csi.shape) + 1j * rng.standard_normal(csi.shape))
        iq = np.empty((len(pairs), SUBCARRIERS, 2))
        iq[..., 0], iq[..., 1] = csi.real, csi.imag
        iq = np.clip(np.rint(iq), -128, 127).astype(np.int8)
        iq[rng.random(len(pairs)) < ZERO_SHARE] = 0
        for index, (a, b) in enumerate(pairs):
            data = encode_csi_frame(
                node_mac=macs[a],
                peer_mac=macs[b],
                timestamp_us=1_000_000 + step * 50_000,
                rssi_dbm=int(rssi[index]),
                noise_dbm=-95,
                channel=6,
                iq=iq[index],
            )
            batch.append((t + index * 0.0002, data))  # arrivals spread over 48 ms
        if (step + 1) % per_tick == 0:
            fleet.append(((step + 1) * frame_period, batch))
            batch = []
    return fleet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "sensing_signal", **run(args.runs)}), flush=True)


if __name__ == "__main__":
    main()
