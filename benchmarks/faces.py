"""Face memory: gallery match speed at 10,000 people, encode cost per face, and how well the
shared photos are identified (enrolled from one photo each, one person held out)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.identity.faces import (
    EMBEDDING_DIM,
    FACE_MATCH_THRESHOLD,
    Embedding,
    FaceEncoder,
    FaceGallery,
    read_image,
)
from engine.identity.faces_store import MAX_OBSERVED_PER_PERSON

FACES_DIR = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "faces"
# Who is in each photo, left to right, for the photos outside train/<person>/.
OTHER_PHOTOS = {
    "obama3.jpg": ["obama"],
    "obama_partial_face.jpg": ["obama"],
    "two_people.jpg": ["obama", "biden"],
}
HOLDOUT = "alex_lacamoire"  # never enrolled: his face must be rejected
GALLERY_PEOPLE = 10_000
QUERIES = 2000
# Per-dimension spread of real dlib embeddings (their norms are ~1.4).
EMBEDDING_STD = 0.125


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {"threshold": FACE_MATCH_THRESHOLD}
    figures.update(_gallery_speed("gallery", per_person=1, queries=QUERIES))
    # Every person at the cap of stored observed embeddings: the worst case for one gallery.
    figures.update(
        _gallery_speed("gallery_at_cap", per_person=MAX_OBSERVED_PER_PERSON, queries=200)
    )
    figures.update(_encode_and_identify())
    return figures


def _gallery_speed(prefix: str, per_person: int, queries: int) -> dict[str, Any]:
    """One query at a time against 10,000 people with ``per_person`` embeddings each, as a
    camera worker asks; and the same queries as one batch. Half the queries are near a known
    embedding, half are strangers."""
    rng = np.random.default_rng(0)
    rows = GALLERY_PEOPLE * per_person
    known = rng.normal(0, EMBEDDING_STD, (rows, EMBEDDING_DIM)).astype(np.float32)
    owners = np.repeat(np.arange(GALLERY_PEOPLE), per_person)
    gallery = FaceGallery()
    gallery.replace(known, owners.tolist())
    half = queries // 2
    targets = rng.integers(0, rows, half)
    near = known[targets] + rng.normal(0, 0.02, (half, EMBEDDING_DIM)).astype(np.float32)
    strangers = rng.normal(0, EMBEDDING_STD, (half, EMBEDDING_DIM)).astype(np.float32)
    all_queries = np.concatenate([near, strangers])
    for query in all_queries[:20]:  # warm caches
        gallery.match(query)
    times_ms = []
    results = []
    for query in all_queries:
        start = time.perf_counter()
        results.append(gallery.match(query))
        times_ms.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    batch = gallery.match_many(all_queries)
    batch_ms = (time.perf_counter() - start) * 1000
    found = sum(
        m is not None and m.person_id == owners[t]
        for m, t in zip(results[:half], targets, strict=True)
    )
    batch_agrees = all(
        (a is None and b is None)
        or (a is not None and b is not None and a.person_id == b.person_id)
        for a, b in zip(batch, results, strict=True)
    )
    times_ms.sort()
    return {
        f"{prefix}_people": GALLERY_PEOPLE,
        f"{prefix}_embeddings": rows,
        f"{prefix}_queries": queries,
        f"{prefix}_match_ms_median": round(statistics.median(times_ms), 4),
        f"{prefix}_match_ms_p99": round(times_ms[int(0.99 * (len(times_ms) - 1))], 4),
        f"{prefix}_match_many_ms_per_query": round(batch_ms / queries, 4),
        f"{prefix}_match_many_agrees": batch_agrees,
        f"{prefix}_near_queries_found": f"{found}/{half}",
        f"{prefix}_strangers_rejected": f"{sum(m is None for m in results[half:])}/{half}",
    }


def _encode_and_identify() -> dict[str, Any]:
    if not (FACES_DIR / "train").is_dir():
        raise FileNotFoundError(f"the shared face photos are missing: {FACES_DIR}")
    encoder = FaceEncoder()
    start = time.perf_counter()
    encoder.load()
    load_s = time.perf_counter() - start

    photos = sorted(FACES_DIR.glob("train/*/*.jp*g")) + [FACES_DIR / n for n in OTHER_PHOTOS]
    labelled: list[tuple[Path, str, Embedding]] = []
    detect_ms: dict[str, float] = {}
    encode_ms: dict[str, float] = {}
    total_faces = 0
    for path in photos:
        image = read_image(path)
        start = time.perf_counter()
        encoder.detect(image)
        detected = time.perf_counter()
        faces = encoder.encode(image)  # detects again, then landmarks and embeddings
        encoded = time.perf_counter()
        name = path.relative_to(FACES_DIR).as_posix()
        people = OTHER_PHOTOS.get(name) or [path.parent.name]
        if len(faces) != len(people):
            raise RuntimeError(f"{name}: found {len(faces)} faces, expected {len(people)}")
        detect_ms[name] = round((detected - start) * 1000, 1)
        encode_ms[name] = round((encoded - detected) * 1000, 1)
        total_faces += len(faces)
        labelled.extend(
            (path, person, face.embedding) for person, face in zip(people, faces, strict=True)
        )
    embed_ms_per_face = (sum(encode_ms.values()) - sum(detect_ms.values())) / total_faces

    # Enroll the first train photo of every person but the holdout; identify everything else.
    enrolled_photos = {
        sorted((FACES_DIR / "train" / d.name).iterdir())[0]
        for d in (FACES_DIR / "train").iterdir()
        if d.name != HOLDOUT
    }
    names = sorted({person for _, person, _ in labelled})
    gallery = FaceGallery()
    for path, person, embedding in labelled:
        if path in enrolled_photos:
            gallery.add(names.index(person), embedding)
    correct = checked = rejected = strangers = 0
    for path, person, embedding in labelled:
        if path in enrolled_photos:
            continue
        match = gallery.match(embedding)
        if person == HOLDOUT:
            strangers += 1
            rejected += match is None
        else:
            checked += 1
            correct += match is not None and names[match.person_id] == person
    return {
        "model_load_s": round(load_s, 2),
        "faces": total_faces,
        "embed_ms_per_face": round(embed_ms_per_face, 1),
        "encode_ms_per_face_with_detection": round(sum(encode_ms.values()) / total_faces, 1),
        "detect_ms_per_image": detect_ms,
        "identified_correctly": f"{correct}/{checked}",
        "holdout_rejected": f"{rejected}/{strangers}",
    }
