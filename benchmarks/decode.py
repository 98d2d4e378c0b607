"""Decode-only speed of vtest.avi: how many frames per second OpenCV/FFmpeg decodes here."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.inputs import vtest_path
from engine.cv import import_cv2


def run(repeats: int = 3) -> dict[str, Any]:
    cv2 = import_cv2()
    path = vtest_path()
    rates = []
    frames = 0
    for _ in range(repeats):
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        frames = 0
        start = time.perf_counter()
        while True:
            ok, _image = capture.read()
            if not ok:
                break
            frames += 1
        rates.append(frames / (time.perf_counter() - start))
        capture.release()
    return {
        "input": str(path),
        "frames": frames,
        "decode_fps_median": round(sorted(rates)[len(rates) // 2], 1),
        "decode_fps_runs": [round(r, 1) for r in rates],
    }
