"""Evidence export and verification of 1 GB of clips, against ``sha256sum`` and ``cp`` on the
same files.

A data dir gets 128 clips of 8 MiB (1 GiB; an 8 s 1080p H.264 clip is about that size)
registered as media rows of two cameras in a SQLite store, and each figure is the median of
``--runs`` runs, taken in turns so that the machine's noise falls on all of them alike:

- ``export_mb_s``: ``watchfloor export``'s path (:func:`engine.history.evidence.export_evidence`):
  read, SHA-256 and write every clip in one pass, fsync each file, write and sign the manifest.
- ``verify_mb_s``: :func:`engine.history.evidence.verify_evidence` on the exported folder:
  check the signature and re-hash every file.
- ``sha256sum_mb_s``: ``sha256sum`` over the same source clips (the hashing limit).
- ``cp_sync_mb_s``: ``cp`` of the same clips to a new folder plus ``sync`` (the copying
  limit of the disk).

The files are in the page cache after the first run (24 GiB of RAM here), so reads are not
disk-bound; export and ``cp`` still write and flush 1 GiB each run. MB is 10^6 bytes.

``python -m benchmarks.evidence [--mib N] [--runs N]`` or ``python -m benchmarks evidence``;
prints one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from engine.history.evidence import export_evidence, verify_evidence
from engine.sitetime import UTC_TIME
from engine.store.database import Store
from engine.store.models import Camera, Media, Site

TOTAL_MIB = 1024
CLIP_MIB = 8
RUNS = 3
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CAMERAS = ("gate", "yard")


def run(total_mib: int = TOTAL_MIB, runs: int = RUNS) -> dict[str, Any]:
    """Export, verify, sha256sum and cp+sync of ``total_mib`` MiB of clips; median MB/s."""
    with tempfile.TemporaryDirectory(prefix="wf-evidence-bench-", dir=_scratch()) as tmp:
        root = Path(tmp)
        media_root = root / "data"
        paths = _make_clips(media_root, total_mib)
        store = Store(f"sqlite:///{root / 'store.db'}")
        try:
            total_bytes = _register(store, media_root, paths)
            timings: dict[str, list[float]] = {
                "export": [],
                "verify": [],
                "sha256sum": [],
                "cp_sync": [],
            }
            intact = True
            for index in range(runs):
                out = root / f"export-{index}"
                timings["export"].append(_timed(partial(_export, store, media_root, root, out)))
                started = time.perf_counter()
                intact = verify_evidence(out).ok and intact
                timings["verify"].append(time.perf_counter() - started)
                shutil.rmtree(out)
                timings["sha256sum"].append(_timed(partial(_sha256sum, paths)))
                copy = root / f"copy-{index}"
                timings["cp_sync"].append(_timed(partial(_cp_sync, media_root, copy)))
                shutil.rmtree(copy)
        finally:
            store.close()
    megabytes = total_bytes / 1e6
    figures: dict[str, Any] = {
        "bytes": total_bytes,
        "clips": len(paths),
        "runs": runs,
        "intact": intact,
    }
    for name, seconds in timings.items():
        median = statistics.median(seconds)
        figures[f"{name}_s"] = round(median, 3)
        figures[f"{name}_mb_s"] = round(megabytes / median, 1)
    figures["export_vs_cp_sync"] = round(figures["cp_sync_s"] / figures["export_s"], 2)
    figures["verify_vs_sha256sum"] = round(figures["sha256sum_s"] / figures["verify_s"], 2)
    return figures


def _scratch() -> str | None:
    """A folder on the real disk (``/tmp`` may be RAM-backed, which would hide the disk)."""
    here = Path.cwd()
    return str(here) if os.access(here, os.W_OK) else None


def _make_clips(media_root: Path, total_mib: int) -> list[Path]:
    """Write ``total_mib`` MiB of incompressible clip files (hashing does not care what
    the bytes are; incompressible keeps the disk honest)."""
    paths: list[Path] = []
    block = os.urandom(CLIP_MIB * 1024 * 1024)
    for index in range(max(1, total_mib // CLIP_MIB)):
        camera = CAMERAS[index % len(CAMERAS)]
        path = media_root / "clips" / camera / f"clip-{index:04d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Each file differs (its own first bytes), as real clips do.
        path.write_bytes(index.to_bytes(8, "big") + block[8:])
        paths.append(path)
    return paths


def _register(store: Store, media_root: Path, paths: list[Path]) -> int:
    total = 0
    with store.transaction() as session:
        site_id = session.execute(
            insert(Site).returning(Site.id),
            [{"name": "bench", "geo_lat": 0.0, "geo_lon": 0.0, "updated_at": T0}],
        ).scalar_one()
        camera_ids = {}
        for key in CAMERAS:
            camera_ids[key] = session.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site_id,
                        "key": key,
                        "name": key,
                        "url": f"{key}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
        rows = []
        for index, path in enumerate(paths):
            body = path.read_bytes()
            total += len(body)
            started = T0 + timedelta(seconds=10 * index)
            rows.append(
                {
                    "kind": "clip",
                    "path": path.relative_to(media_root).as_posix(),
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "size_bytes": len(body),
                    "created_at": started + timedelta(seconds=8),
                    "camera_id": camera_ids[path.parent.name],
                    "started_at": started,
                    "ended_at": started + timedelta(seconds=8),
                }
            )
        session.execute(insert(Media), rows)
    return total


def _export(store: Store, media_root: Path, key_dir: Path, out: Path) -> None:
    result = export_evidence(
        store,
        start=T0 - timedelta(minutes=1),
        end=T0 + timedelta(days=1),
        out_dir=out,
        media_root=media_root,
        key_dir=key_dir,
        exporter="benchmark",
        now=datetime.now(UTC),
        site_time=UTC_TIME,
    )
    if result.clips == 0:
        raise RuntimeError("the export found no clips")


def _sha256sum(paths: list[Path]) -> None:
    subprocess.run(
        ["sha256sum", *map(str, paths)], check=True, stdout=subprocess.DEVNULL, timeout=600
    )


def _cp_sync(source: Path, target: Path) -> None:
    subprocess.run(["cp", "-r", str(source), str(target)], check=True, timeout=600)
    subprocess.run(["sync"], check=True, timeout=600)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=TOTAL_MIB, help="MiB of clips (1024)")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per figure (3)")
    args = parser.parse_args()
    print(json.dumps(run(args.mib, args.runs)))


if __name__ == "__main__":
    main()
