"""Runs the benchmarks and prints one JSON line of figures for each."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from benchmarks import (
    alert_latency,
    alerts,
    analytics,
    appearance_search,
    ask_gold,
    audit,
    camera_recovery,
    camera_tile,
    cameras_per_machine,
    chat,
    clips,
    cluster,
    console_journey,
    csi_parse,
    decode,
    demo_counts,
    event_queries,
    evidence,
    faces,
    four_cameras,
    fusion,
    fusion_replay,
    gesture_accuracy,
    gesture_cost,
    gesture_dtw,
    idle_connections,
    incident_generator,
    incidents,
    live_latency,
    meaning_search,
    mqtt,
    people_quality,
    privacy_masks,
    recording,
    recording_crash,
    recording_seek,
    replay_fast,
    risk_map_fps,
    sensing_demo,
    sensing_falls,
    sensing_fusion,
    sensing_identity,
    sensing_localisation,
    sensing_replay,
    sensing_rooms,
    sensing_signal,
    sensing_view,
    sim_camera,
    soak,
    speech_names,
    store_outage,
    timeline,
    writer_latency,
)

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "decode_fps": decode.run,
    "tile_display_fps": camera_tile.run,
    "camera_recovery": camera_recovery.run,
    "analyze_fps": analytics.run_analyze,
    "appearance_search": appearance_search.run,
    "four_cameras_recording": four_cameras.run,
    "cameras_per_machine": cameras_per_machine.run,
    "detection_quality": people_quality.run_detectors,
    "tracking_quality": people_quality.run_tracker,
    "clips": clips.run,
    "recording": recording.run,
    "recording_crash": recording_crash.run,
    "recording_seek": recording_seek.run,
    "replay_fast": replay_fast.run,
    "cluster": cluster.run,
    "idle_connections": idle_connections.run,
    "faces": faces.run,
    "store_outage": store_outage.run,
    "writer_latency": writer_latency.run,
    "soak": soak.run,
    "event_queries": event_queries.run,
    "meaning_search": meaning_search.run,
    "audit": audit.run,
    "csi_parse": csi_parse.run,
    "privacy_masks": privacy_masks.run,
    "sensing_fusion": sensing_fusion.run,
    "sensing_signal": sensing_signal.run,
    "sensing_localisation": sensing_localisation.run,
    "sensing_view_fps": sensing_view.run,
    "sensing_identity": sensing_identity.run,
    "sensing_replay": sensing_replay.run,
    "sensing_falls": sensing_falls.run,
    "sensing_rooms": sensing_rooms.run,
    "sensing_demo": sensing_demo.run,
    "demo_counts": demo_counts.run,
    "sim_camera": sim_camera.run,
    "incidents": incidents.run,
    "risk_forecast": incident_generator.run,
    "risk_map_fps": risk_map_fps.run,
    "alerts": alerts.run,
    "live_latency": live_latency.run,
    "alert_latency": alert_latency.run,
    "mqtt": mqtt.run,
    "fusion": fusion.run,
    "fusion_replay": fusion_replay.run,
    "console_journey": console_journey.run,
    "chat": chat.run,
    "ask_gold": ask_gold.run,
    "evidence": evidence.run,
    "timeline": timeline.run,
    "gesture_dtw": gesture_dtw.run,
    "gesture_accuracy": gesture_accuracy.run,
    "gesture_cost": gesture_cost.run,
    "speech_names": speech_names.run,
}


def run_benchmarks(names: list[str] | None = None) -> int:
    """Run ``names`` (default: all); returns a process exit code."""
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    for name in chosen:
        figures = {"benchmark": name, **BENCHMARKS[name]()}
        print(json.dumps(figures), flush=True)
    return 0
