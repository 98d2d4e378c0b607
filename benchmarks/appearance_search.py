"""Appearance search: how often "find similar" puts the right person in the top 5, and how
fast a query is over 100,000 stored tracks.

- **Quality** on the path a user runs: ``watchfloor analyze`` (store, faces, snapshots,
  clips on) over vtest.avi and the Hamilton clip into one fresh database, each file as a
  camera of its own on a different day; then every annotated track whose person appears on
  another track (``benchmarks/appearance_people.json``, annotated by eye from strips of crops
  along every stored track, its snapshot and the frames where tracks end and begin) is a
  by-example query over *all* stored tracks of both videos. A hit: another track of the same
  person in the top 5 (also counted with the tracks the tracker switched onto the person for
  part of their length). The same queries are scored with the embedding alone and the colour
  fractions alone (the alternatives measured), and each annotated description's top 5 and
  top 10 are checked against every track a person would accept (precision and recall).
- **Speed**: 100,000 synthetic tracks on 8 cameras over 60 days (vectors drawn around the
  real ones, so the score distribution is realistic) bulk-loaded into SQLite; the first
  (cold) load of the index, an incremental refresh after 100 new rows, and the p50/p95 of
  description and by-example queries through the same request objects the CLI and the pane
  use (refresh check, ranking, reading back the top rows with camera and thumbnail).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.inputs import hamilton_path, vtest_path

ANNOTATIONS = Path(__file__).with_name("appearance_people.json")
TOP_K = 5
SYNTHETIC_TRACKS = 100_000
SYNTHETIC_CAMERAS = 8
QUERY_REPEATS = 60
STARTS = {
    "vtest.avi": "2026-11-20T10:00:00+00:00",
    "short_hamilton_clip.mp4": "2026-11-21T15:00:00+00:00",
}


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {"top_k": TOP_K}
    with tempfile.TemporaryDirectory(prefix="wf-bench-appearance-") as tmp:
        figures["quality"] = _quality(Path(tmp) / "real")
        figures["halves"] = _halves(Path(tmp) / "halves")
        figures["speed"] = _speed(Path(tmp) / "synthetic")
    return figures


# -- quality ------------------------------------------------------------------------------
def _analyze(video: Path, folder: Path) -> tuple[dict[str, Any], float]:
    env = {
        **os.environ,
        "WATCHFLOOR_DATA_DIR": str(folder / "data"),
        "WATCHFLOOR_CONFIG_DIR": str(folder / "config"),
    }
    command = [sys.executable, "-m", "console.cli", "--db", f"sqlite:///{folder / 'wf.db'}"]
    command += ["analyze", str(video), "--json", "--start", STARTS[video.name]]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report, time.perf_counter() - started


def _track_at(report: dict[str, Any], frame: int, x: float, y: float) -> int | None:
    """The track whose path passes nearest (x, y) at ``frame`` (within 60 px)."""
    fps = float(report["fps"])
    best: tuple[float, int] | None = None
    for track in report["tracks"]:
        if not track["first_frame"] - 2 <= frame <= track["last_frame"] + 2:
            continue
        for t, px, py in track["path"]:
            f = track["first_frame"] + (t - track["first_s"]) * fps
            if abs(f - frame) <= 3:
                d = float(np.hypot(px - x, py - y))
                if best is None or d < best[0]:
                    best = (d, int(track["track_id"]))
    return best[1] if best is not None and best[0] <= 60 else None


def _quality(folder: Path) -> dict[str, Any]:
    from engine.history.appearance import (
        AppearanceSearchRequest,
        SimilarTracksRequest,
        find_appearance,
        index_for,
    )
    from engine.store import Store

    folder.mkdir(parents=True)
    reports: dict[str, dict[str, Any]] = {}
    analyze_s: dict[str, float] = {}
    for video in (vtest_path(), hamilton_path()):
        reports[video.name], analyze_s[video.name] = _analyze(video, folder)
    annotations = json.loads(ANNOTATIONS.read_text(encoding="utf-8"))
    store = Store(f"sqlite:///{folder / 'wf.db'}")
    try:
        camera_of = {name: Path(name).stem for name in reports}

        def row_of(s: dict[str, Any]) -> int | None:
            track = _track_at(reports[s["video"]], s["frame"], s["x"], s["y"])
            if track is None:
                return None
            try:
                return find_appearance(store, track, camera_of[s["video"]])
            except ValueError:
                return None  # the track has no appearance (no clean crop of it)

        people = [
            [(row_of(s), bool(s.get("switched"))) for s in person["sightings"]]
            for person in annotations["people"]
        ]
        unresolved = sum(r is None for rows in people for r, _switched in rows)
        index = index_for(store)
        stored = index.refresh(store)
        m = index.snapshot()
        position = {int(row_id): i for i, row_id in enumerate(m.ids)}
        alternatives = _alternative_scores(store, m, folder / "data")
        variants: dict[str, list[float]] = {
            "chosen": [],
            "top1": [],
            "chance": [],
            "counting_switched": [],
            "chance_counting_switched": [],
        }
        variants.update({name: [] for name in alternatives})
        per_query = []
        for person, rows in enumerate(people):
            known = {r for r, switched in rows if r is not None and not switched}
            switched_only = {r for r, switched in rows if r is not None and switched} - known
            for query in sorted(known | switched_only):
                others = known - {query}
                wider = (others | switched_only) - {query}
                if not wider:
                    continue
                hits = SimilarTracksRequest(appearance_id=query, limit=len(m)).run(store).hits
                ids = [hit.appearance_id for hit in hits]
                variants["counting_switched"].append(1 if wider & set(ids[:TOP_K]) else 0)
                variants["chance_counting_switched"].append(
                    _chance_in_top(len(m) - 1, len(wider), TOP_K)
                )
                if query in switched_only or not others:
                    continue  # a switched track is mostly someone else: never a query alone
                rank = next((n for n, a in enumerate(ids, 1) if a in others), None)
                variants["chosen"].append(1 if rank is not None and rank <= TOP_K else 0)
                variants["top1"].append(1 if rank == 1 else 0)
                variants["chance"].append(_chance_in_top(len(m) - 1, len(others), TOP_K))
                per_query.append(
                    {"person": person, "appearance_id": query, "rank": rank, "top": ids[:TOP_K]}
                )
                i = position[query]
                for name, scores in alternatives.items():
                    score = scores(i).astype(np.float64)
                    score[i] = -np.inf
                    top = {int(m.ids[j]) for j in np.argsort(-score)[:TOP_K]}
                    variants[name].append(1 if top & others else 0)
        descriptions = []
        for item in annotations["descriptions"]:
            expected = {r for r in (row_of(s) for s in item["expect"]) if r is not None}
            hits = AppearanceSearchRequest(item["text"], limit=DESCRIPTION_DEPTH).run(store).hits
            ids = [hit.appearance_id for hit in hits]
            descriptions.append(
                {
                    "text": item["text"],
                    "expected": len(expected),
                    f"precision_at_{TOP_K}": round(len(set(ids[:TOP_K]) & expected) / TOP_K, 3),
                    f"precision_at_{TOP_K}_if_ranked_at_random": round(len(expected) / len(m), 3),
                    "precision_at_expected": _share(set(ids[: len(expected)]) & expected, expected),
                    f"recall_at_{TOP_K}": _share(set(ids[:TOP_K]) & expected, expected),
                    f"recall_at_{DESCRIPTION_DEPTH}": _share(set(ids) & expected, expected),
                    "expected_ranks": sorted(ids.index(r) + 1 for r in expected if r in ids),
                }
            )
    finally:
        store.close()
    queries = len(variants["chosen"])
    return {
        "inputs": sorted(reports),
        "path": "watchfloor analyze (store, faces, snapshots, clips) per file, one database",
        "analyze_s": {k: round(v, 1) for k, v in analyze_s.items()},
        "tracks": {k: len(v["tracks"]) for k, v in reports.items()},
        "appearances_stored": stored,
        "annotated_people": len(people),
        "annotated_sightings_unresolved": unresolved,
        "people_with_queries": len({q["person"] for q in per_query}),
        "by_example_queries": queries,
        "top5_hit_rate": _rate(variants["chosen"]),
        "top1_hit_rate": _rate(variants["top1"]),
        "top5_hit_rate_if_ranked_at_random": _rate(variants["chance"]),
        "queries_counting_switched_tracks": len(variants["counting_switched"]),
        "top5_hit_rate_counting_switched_tracks": _rate(variants["counting_switched"]),
        "top5_hit_rate_counting_switched_tracks_if_ranked_at_random": _rate(
            variants["chance_counting_switched"]
        ),
        "top5_hit_rate_alternatives": {
            name: _rate(variants[name]) for name in variants if name not in STANDARD
        },
        "per_query_rank": per_query,
        "descriptions": descriptions,
        f"description_mean_precision_at_{TOP_K}": _mean(
            [d[f"precision_at_{TOP_K}"] for d in descriptions if d["expected"]]
        ),
        "description_mean_precision_at_expected": _mean(
            [d["precision_at_expected"] for d in descriptions if d["expected"]]
        ),
        f"description_mean_recall_at_{TOP_K}": _mean(
            [d[f"recall_at_{TOP_K}"] for d in descriptions if d["expected"]]
        ),
    }


STANDARD = ("chosen", "top1", "chance", "counting_switched", "chance_counting_switched")
DESCRIPTION_DEPTH = 10


def _rate(hits: list[float]) -> float:
    return round(sum(hits) / max(len(hits), 1), 3)


def _mean(values: list[float]) -> float:
    return round(sum(values) / max(len(values), 1), 3)


def _share(found: set[int], expected: set[int]) -> float | None:
    return round(len(found) / len(expected), 3) if expected else None


def _chance_in_top(candidates: int, positives: int, k: int) -> float:
    """Probability that a random order of ``candidates`` puts one of ``positives`` in the
    first ``k``."""
    from math import comb

    return 1.0 - comb(candidates - positives, k) / comb(candidates, k)


def _alternative_scores(store: Any, m: Any, data: Path) -> dict[str, Any]:
    """The alternatives measured against the chosen score, each a function of a row index
    giving every row's score: the embedding alone, the colour fractions alone, the chosen
    score without the same-camera-same-time rule, the chosen features from the track's one
    best snapshot instead of its best 5 crops, and the tracker's own 16 × 4 hue-saturation
    histogram of that snapshot (Bhattacharyya)."""
    from sqlalchemy import select

    from engine.cv import import_cv2
    from engine.history.appearance import similarity_scores
    from engine.store.appearance_models import TrackAppearance
    from engine.store.models import Media
    from engine.vision.appearance import CROP_H, CROP_W, crop_features
    from engine.vision.geometry import Box
    from engine.vision.track import appearance_distance, appearance_of

    cv2 = import_cv2()
    with store.sessions() as session:
        paths = dict(
            session.execute(
                select(TrackAppearance.id, Media.path).join(
                    Media, Media.id == TrackAppearance.snapshot_media_id
                )
            ).all()
        )
    single_emb = np.zeros_like(m.embeddings)
    single_frac = np.zeros_like(m.fractions)
    tracker_hist: list[Any] = []
    for row, row_id in enumerate(m.ids):
        image = cv2.imread(str(data / paths[int(row_id)])) if int(row_id) in paths else None
        if image is None:
            tracker_hist.append(None)
            continue
        h, w = image.shape[:2]  # the best snapshot is the box plus 20 % a side
        box = Box(w * 0.2 / 1.4, h * 0.2 / 1.4, w / 1.4, h / 1.4)
        tracker_hist.append(appearance_of(image, box))
        x, y, bw, bh = box.as_ints()
        crop = cv2.resize(image[y : y + bh, x : x + bw], (CROP_W, CROP_H))
        fractions, embedding = crop_features(crop)
        single_emb[row] = embedding / max(float(np.linalg.norm(embedding)), 1e-9)
        single_frac[row] = fractions

    def agreement(i: int) -> Any:
        return (
            similarity_scores(m.embeddings * 0, m.fractions, m.embeddings[i] * 0, m.fractions[i])
            / 0.3
        )

    return {
        "embedding_only": lambda i: m.embeddings @ m.embeddings[i],
        "colours_only": agreement,
        "without_same_time_rule": lambda i: similarity_scores(
            m.embeddings, m.fractions, m.embeddings[i], m.fractions[i]
        ),
        "best_snapshot_only": lambda i: similarity_scores(
            single_emb, single_frac, single_emb[i], single_frac[i]
        ),
        "tracker_histogram_best_snapshot": lambda i: (
            -np.array([appearance_distance(tracker_hist[i], other) for other in tracker_hist])
        ),
    }


# -- the same person at two times: each long track's two halves ------------------------
MIN_CANDIDATES_PER_HALF = 3


def _halves(folder: Path) -> dict[str, Any]:
    """vtest.avi analysed in-process by the real analyzer, whose appearance collector also
    logs every crop it considers, in time order. Each track with enough clean crops is
    split into its first and second half, and each half is made into a record as a whole
    track is (its best 5 crops). Every half is a by-example query over all halves: the hit
    is its own other half (the same person, seen at another time, place and pose)."""
    from engine.analyze import analyze_video
    from engine.clock import REAL_CLOCK
    from engine.history.appearance import similarity_scores
    from engine.store import Store
    from engine.vision import analysis
    from engine.vision.appearance import KEEP_CROPS, AppearanceCollector, record_from_crops

    logs: dict[int, list[Any]] = {}

    class LoggingCollector(AppearanceCollector):
        def observe(self, image: Any, people: Any, others: Any) -> None:
            single = AppearanceCollector(keep=1)
            for person in people:
                single.observe(image, [person], others)
                held = single._tracks.pop(person[0], None)
                if held is not None:
                    logs.setdefault(person[0], []).extend(held.candidates)
            super().observe(image, people, others)

    folder.mkdir(parents=True)
    saved = getattr(analysis, "AppearanceCollector")  # noqa: B009 - swapped for the run
    setattr(analysis, "AppearanceCollector", LoggingCollector)  # noqa: B010
    os.environ["WATCHFLOOR_DATA_DIR"], previous = (
        str(folder / "data"),
        os.environ.get("WATCHFLOOR_DATA_DIR"),
    )
    store = Store(f"sqlite:///{folder / 'wf.db'}")
    try:
        analyze_video(vtest_path(), clock=REAL_CLOCK, store=store, faces=False, clips=False)
    finally:
        store.close()
        setattr(analysis, "AppearanceCollector", saved)  # noqa: B010
        if previous is None:
            os.environ.pop("WATCHFLOOR_DATA_DIR", None)
        else:
            os.environ["WATCHFLOOR_DATA_DIR"] = previous
    records = []
    for track_id, candidates in sorted(logs.items()):
        half = len(candidates) // 2
        if half < MIN_CANDIDATES_PER_HALF:
            continue
        for part in (candidates[:half], candidates[half:]):
            best = sorted(part, key=lambda c: c.quality, reverse=True)[:KEEP_CROPS]
            records.append((track_id, record_from_crops([c.crop for c in best], [])))
    embeddings = np.stack([r.embedding.astype(np.float32) for _t, r in records])
    fractions = np.stack([r.fractions.astype(np.float32) for _t, r in records])
    owners = np.array([t for t, _r in records])
    ranks: dict[str, list[int]] = {"chosen": [], "embedding_only": [], "colours_only": []}
    zero = embeddings * 0
    for i in range(len(records)):
        for name, score in (
            ("chosen", similarity_scores(embeddings, fractions, embeddings[i], fractions[i])),
            ("embedding_only", embeddings @ embeddings[i]),
            ("colours_only", similarity_scores(zero, fractions, zero[i], fractions[i])),
        ):
            order = [j for j in np.argsort(-score.astype(np.float64)) if j != i]
            ranks[name].append(1 + next(n for n, j in enumerate(order) if owners[j] == owners[i]))
    n = len(records)
    return {
        "input": str(vtest_path()),
        "tracks_split": n // 2,
        "queries": n,
        "candidates_per_query": n - 1,
        **{
            f"top5_hit_rate{'' if name == 'chosen' else '_' + name}": _rate(
                [1.0 if r <= TOP_K else 0.0 for r in found]
            )
            for name, found in ranks.items()
        },
        "top1_hit_rate": _rate([1.0 if r == 1 else 0.0 for r in ranks["chosen"]]),
        "median_rank": float(statistics.median(ranks["chosen"])),
        "top5_hit_rate_if_ranked_at_random": round(_chance_in_top(n - 1, 1, TOP_K), 3),
    }


# -- speed --------------------------------------------------------------------------------
def _speed(folder: Path) -> dict[str, Any]:

    from engine.history.appearance import (
        AppearanceSearchRequest,
        SimilarTracksRequest,
        index_for,
    )
    from engine.store import Store
    from engine.store.appearance_models import EMBEDDING_DIMS, N_COLOURS
    from engine.store.models import Camera, Site

    folder.mkdir(parents=True)
    rng = np.random.default_rng(34)
    store = Store(f"sqlite:///{folder / 'wf.db'}")
    try:
        start = datetime(2026, 9, 1, tzinfo=UTC)
        with store.transaction() as session:
            site = Site(name="bench", geo_lat=0.0, geo_lon=0.0, updated_at=start)
            session.add(site)
            session.flush()
            cameras = [
                Camera(
                    site_id=site.id, key=f"cam{i}", name=f"Camera {i}", url="", source_kind="file"
                )
                for i in range(SYNTHETIC_CAMERAS)
            ]
            session.add_all(cameras)
            session.flush()
            camera_ids = [c.id for c in cameras]
        # 2,000 "people", each seen on ~50 tracks: their vectors plus noise.
        people = rng.normal(0, 1, (2000, EMBEDDING_DIMS)).astype(np.float32)
        palette = rng.dirichlet(np.full(2 * N_COLOURS, 0.3), 2000).astype(np.float32)
        t0 = time.perf_counter()
        _bulk_rows(store, rng, people, palette, camera_ids, start, 0, SYNTHETIC_TRACKS)
        load_s = time.perf_counter() - t0
        index = index_for(store)
        t0 = time.perf_counter()
        held = index.refresh(store)
        cold_s = time.perf_counter() - t0
        _bulk_rows(store, rng, people, palette, camera_ids, start, SYNTHETIC_TRACKS, 100)
        t0 = time.perf_counter()
        held = index.refresh(store)
        incremental_s = time.perf_counter() - t0
        texts = [
            "red top",
            "dark jacket and jeans",
            "white shirt black trousers",
            "blue jacket grey trousers",
            "tall man in a green hoodie",
        ]
        described = []
        for n in range(QUERY_REPEATS):
            t0 = time.perf_counter()
            AppearanceSearchRequest(texts[n % len(texts)]).run(store)
            described.append(time.perf_counter() - t0)
        similar = []
        for _ in range(QUERY_REPEATS):
            t0 = time.perf_counter()
            SimilarTracksRequest(appearance_id=int(rng.integers(1, held))).run(store)
            similar.append(time.perf_counter() - t0)
        windowed = []
        for n in range(QUERY_REPEATS):
            t0 = time.perf_counter()
            AppearanceSearchRequest(
                texts[n % len(texts)],
                cameras=("cam1", "cam2"),
                since=start + timedelta(days=10),
                until=start + timedelta(days=20),
            ).run(store)
            windowed.append(time.perf_counter() - t0)
    finally:
        store.close()
    return {
        "tracks": held,
        "embedding_dims": EMBEDDING_DIMS,
        "bulk_load_s": round(load_s, 2),
        "index_cold_load_ms": round(cold_s * 1000, 1),
        "index_refresh_100_new_ms": round(incremental_s * 1000, 1),
        "description_query_ms": _percentiles(described),
        "similar_query_ms": _percentiles(similar),
        "description_query_2_cameras_10_days_ms": _percentiles(windowed),
    }


def _bulk_rows(
    store: Any,
    rng: np.random.Generator,
    people: npt.NDArray[np.float32],
    palette: npt.NDArray[np.float32],
    camera_ids: list[int],
    start: datetime,
    first: int,
    count: int,
) -> None:
    """``count`` synthetic appearance rows (track ids from ``first`` + 1), bulk-inserted."""
    from sqlalchemy import insert

    from engine.store.appearance_models import FEATURE_VERSION, N_COLOURS, TrackAppearance

    who = rng.integers(0, len(people), count)
    emb = people[who] + rng.normal(0, 0.6, (count, people.shape[1])).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    frac = palette[who] + rng.normal(0, 0.03, (count, 2 * N_COLOURS)).astype(np.float32)
    frac = np.clip(frac, 0, None)
    frac[:, :N_COLOURS] /= frac[:, :N_COLOURS].sum(axis=1, keepdims=True)
    frac[:, N_COLOURS:] /= frac[:, N_COLOURS:].sum(axis=1, keepdims=True)
    seconds = np.sort(rng.uniform(0, 60 * 86400, count))
    rows = [
        {
            "camera_id": camera_ids[int(rng.integers(0, len(camera_ids)))],
            "track_id": first + k + 1,
            "first_seen": start + timedelta(seconds=float(seconds[k])),
            "last_seen": start + timedelta(seconds=float(seconds[k]) + 20.0),
            "snapshot_media_id": None,
            "upper_colour": None,
            "lower_colour": None,
            "colour_fractions": frac[k].astype(np.float16).tobytes(),
            "embedding": emb[k].astype(np.float16).tobytes(),
            "feature_version": FEATURE_VERSION,
            "crops": 5,
            "height_frac": float(rng.uniform(0.2, 0.6)),
            "foot_y_frac": float(rng.uniform(0.4, 1.0)),
        }
        for k in range(count)
    ]
    with store.transaction() as session:
        for chunk in range(0, count, 10_000):
            session.execute(insert(TrackAppearance), rows[chunk : chunk + 10_000])


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run()))
