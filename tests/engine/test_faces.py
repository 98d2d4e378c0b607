"""Face memory on the real shared photos: encoder, gallery, calibration, and the persisted
memory (enroll, identify, observe, rename, merge, erase) on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.exc import IntegrityError

from engine.clock import SimulatedClock
from engine.cv import import_cv2
from engine.identity.erasure import erase_person
from engine.identity.faces import (
    EMBEDDING_BYTES,
    FACE_MATCH_THRESHOLD,
    FaceEncoder,
    FaceGallery,
    FaceModelsMissingError,
    FaceObservation,
    ImageReadError,
    embedding_from_bytes,
    embedding_to_bytes,
    read_image,
)
from engine.identity.faces_store import (
    EnrollmentError,
    FaceMemory,
    UnknownPersonError,
)
from engine.store import Store
from engine.store.database import alembic_config, head_revision
from engine.store.models import Base
from engine.store.person_models import FaceEmbedding, Person
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.conftest import TESTDATA

FACES = TESTDATA / "faces"
TRAIN = FACES / "train"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PUBLIC_ID = re.compile(r"^Person_[0-9A-F]{8}$")

# Who is in each photo, left to right. two_people.jpg was checked by eye: Obama on the left,
# Biden on the right (the same shots as obama3.jpg and train/biden/biden.jpg, cropped).
PEOPLE_IN: dict[str, list[str]] = {
    "obama3.jpg": ["obama"],
    "obama_partial_face.jpg": ["obama"],  # face runs off the left edge
    "two_people.jpg": ["obama", "biden"],
    **{p.relative_to(FACES).as_posix(): [p.parent.name] for p in TRAIN.glob("*/*.jp*g")},
}
IDENTITIES = sorted(p.name for p in TRAIN.iterdir())
# Enrolled from its first photo each; Alex Lacamoire is held out: his face is the closest
# of all to anyone else's (0.76 from Obama's), the hardest stranger to reject.
HOLDOUT = "alex_lacamoire"


def first_photo(identity: str) -> Path:
    return sorted((TRAIN / identity).iterdir())[0]


def other_photos() -> list[str]:
    """Every photo not used for enrollment that shows an enrolled person."""
    enrolled = {first_photo(i).relative_to(FACES).as_posix() for i in IDENTITIES}
    return sorted(
        name for name, people in PEOPLE_IN.items() if name not in enrolled and HOLDOUT not in people
    )


@pytest.fixture(scope="module")
def encoder() -> FaceEncoder:
    """One loaded encoder for the module (the models take ~0.4 s to load)."""
    encoder = FaceEncoder()
    encoder.load()
    return encoder


@pytest.fixture(scope="module")
def encoded(encoder: FaceEncoder) -> dict[str, list[FaceObservation]]:
    """Every shared photo, encoded once."""
    return {name: encoder.encode(read_image(FACES / name)) for name in PEOPLE_IN}


@pytest.fixture
def no_face_jpg(tmp_path: Path) -> Path:
    """A real photo without a face: the suits and crossed arms below the faces in
    two_people.jpg."""
    cv2 = import_cv2()
    path = tmp_path / "no_face.jpg"
    assert cv2.imwrite(str(path), read_image(FACES / "two_people.jpg")[300:, :])
    return path


def count(store: Store, model: type[Person] | type[FaceEmbedding]) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- encoder -------------------------------------------------------------------------------


@pytest.mark.slow
def test_encoder_finds_each_face_left_to_right_with_a_128_float_embedding(
    encoded: dict[str, list[FaceObservation]],
) -> None:
    for name, people in PEOPLE_IN.items():
        faces = encoded[name]
        assert len(faces) == len(people), name
        height, width = read_image(FACES / name).shape[:2]
        for face in faces:
            left, top, right, bottom = face.box
            assert 0 <= left < right <= width and 0 <= top < bottom <= height, (name, face.box)
            assert face.embedding.dtype == np.float32 and face.embedding.shape == (128,)
            assert np.all(np.isfinite(face.embedding))
            assert face.score > 0
        assert [f.box[0] for f in faces] == sorted(f.box[0] for f in faces)
    # The partial face extends past the left edge; its box is clipped to the image.
    assert encoded["obama_partial_face.jpg"][0].box[0] == 0
    # Faces are large (130–460 px) in these photos.
    assert all(f.box[2] - f.box[0] > 100 for faces in encoded.values() for f in faces)


def test_encoder_finds_no_face_where_there_is_none(encoder: FaceEncoder, no_face_jpg: Path) -> None:
    assert encoder.encode(read_image(no_face_jpg)) == []
    assert encoder.detect(read_image(no_face_jpg)) == []


def test_detect_alone_finds_the_same_boxes_as_encode(
    encoder: FaceEncoder, encoded: dict[str, list[FaceObservation]]
) -> None:
    found = encoder.detect(read_image(FACES / "two_people.jpg"))
    assert found == [(face.box, face.score) for face in encoded["two_people.jpg"]]


def test_encoder_loads_once_and_serves_several_threads(
    encoded: dict[str, list[FaceObservation]],
) -> None:
    (expected,) = encoded["train/kit_harington/john2.jpeg"]
    left, top, right, bottom = expected.box
    image = read_image(TRAIN / "kit_harington" / "john2.jpeg")
    crop = np.ascontiguousarray(image[top - 60 : bottom + 60, left - 60 : right + 60])
    encoder = FaceEncoder()  # not loaded yet: the threads race to load it
    start = threading.Barrier(4)
    results: list[list[FaceObservation]] = []

    def encode() -> None:
        start.wait()
        results.append(encoder.encode(crop))

    threads = [threading.Thread(target=encode) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    for faces in results:
        (face,) = faces
        np.testing.assert_array_equal(face.embedding, results[0][0].embedding)
        assert face.box == results[0][0].box
        assert box_iou(face.box, (60, 60, 60 + right - left, 60 + bottom - top)) > 0.8
        assert np.linalg.norm(face.embedding - expected.embedding) < 0.1


def test_encoders_of_one_process_share_one_copy_of_the_models(tmp_path: Path) -> None:
    first, second = FaceEncoder(), FaceEncoder()
    first.load()
    second.load()  # an engine restarted in the same process: no second ~0.3 s load
    assert second._models is first._models
    # A folder without the model files is named, and what is loaded elsewhere stays usable.
    with pytest.raises(FaceModelsMissingError, match=re.escape(str(tmp_path))):
        FaceEncoder(models_dir=tmp_path).load()
    assert second.detect(read_image(FACES / "two_people.jpg"))


def test_encoder_refuses_what_is_not_a_bgr_image(encoder: FaceEncoder, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="H×W×3 uint8"):
        encoder.encode(np.zeros((10, 10), np.uint8))
    with pytest.raises(ImageReadError, match="no such image file"):
        read_image(tmp_path / "missing.jpg")
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(ImageReadError, match=r"cannot read .*text\.jpg as an image"):
        read_image(tmp_path / "text.jpg")


def test_shrinking_large_photos_for_detection_keeps_full_resolution_boxes(
    encoded: dict[str, list[FaceObservation]],
) -> None:
    """A photo larger than detect_max_side_px is shrunk for detection only: box (in the
    photo's own pixels) and embedding agree with a detection at full resolution (HOG boxes
    snap to its pyramid, so not exactly)."""
    name = "train/obama/obama.jpg"  # 1137 px tall: shrunk to 0.56 here, full size in `encoded`
    (shrunk,) = FaceEncoder(detect_max_side_px=640).encode(read_image(FACES / name))
    (full,) = encoded[name]
    assert box_iou(full.box, shrunk.box) > 0.6
    assert np.linalg.norm(full.embedding - shrunk.embedding) < 0.15


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    overlap = max(0, width) * max(0, height)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return overlap / (area - overlap)


# --- calibration and gallery ---------------------------------------------------------------


def test_threshold_separates_same_and_different_people_with_margin(
    encoded: dict[str, list[FaceObservation]],
) -> None:
    """The numbers behind FACE_MATCH_THRESHOLD (see the comment in engine/vision/faces.py)."""
    labelled = [
        (person, face.embedding)
        for name, people in PEOPLE_IN.items()
        for person, face in zip(people, encoded[name], strict=True)
    ]
    same: list[float] = []
    different: list[float] = []
    for (a, ea), (b, eb) in itertools.combinations(labelled, 2):
        (same if a == b else different).append(float(np.linalg.norm(ea - eb)))
    assert (len(labelled), len(same), len(different)) == (13, 15, 63)
    assert max(same) + 0.1 <= FACE_MATCH_THRESHOLD <= min(different) - 0.1, (
        max(same),
        min(different),
    )


@pytest.mark.parametrize("holdout", IDENTITIES)
def test_gallery_rejects_every_face_of_a_person_it_does_not_know(
    holdout: str, encoded: dict[str, list[FaceObservation]]
) -> None:
    gallery = FaceGallery()
    for number, identity in enumerate(IDENTITIES):
        if identity != holdout:
            (face,) = encoded[first_photo(identity).relative_to(FACES).as_posix()]
            gallery.add(number, face.embedding)
    strangers = [
        face.embedding
        for name, people in PEOPLE_IN.items()
        for person, face in zip(people, encoded[name], strict=True)
        if person == holdout
    ]
    assert strangers
    assert gallery.match_many(np.stack(strangers)) == [None] * len(strangers)
    assert all(gallery.match(s) is None for s in strangers)
    assert all(
        m is not None and m.distance >= FACE_MATCH_THRESHOLD
        for m in map(gallery.nearest, strangers)
    )


def test_gallery_match_is_the_brute_force_nearest_neighbour() -> None:
    rng = np.random.default_rng(7)
    # Random "people" 0.56 apart on average; queries near some of them match, others not.
    known = rng.normal(0, 0.035, (2000, 128)).astype(np.float32)
    owners = rng.integers(1, 300, 2000)
    gallery = FaceGallery(threshold=0.3)
    gallery.replace(known, owners.tolist())
    near = known[rng.integers(0, 2000, 50)] + rng.normal(0, 0.01, (50, 128)).astype(np.float32)
    far = rng.normal(0, 0.035, (50, 128)).astype(np.float32)
    queries = np.concatenate([near, far])
    found = gallery.match_many(queries)
    for query, match in zip(queries, found, strict=True):
        distances = np.linalg.norm(known - query, axis=1)
        best = int(np.argmin(distances))
        if distances[best] < 0.3:
            assert match is not None
            assert match.person_id == owners[best]
            assert match.distance == pytest.approx(distances[best], abs=1e-5)
        else:
            assert match is None
        single = gallery.match(query)
        assert (single is None) == (match is None)
        if single is not None and match is not None:
            assert single.person_id == match.person_id
            assert single.distance == pytest.approx(match.distance, abs=1e-6)
    assert sum(m is not None for m in found) == 50  # the near ones, not the random ones


def test_gallery_add_set_and_remove_people() -> None:
    gallery = FaceGallery()
    assert len(gallery) == 0 and gallery.match(np.zeros(128)) is None
    assert gallery.nearest_many(np.zeros((2, 128))) == [None, None]
    assert gallery.match_many(np.zeros((0, 128))) == []
    a, b = np.zeros(128, np.float32), np.full(128, 0.1, np.float32)
    gallery.add(1, a)
    gallery.add(2, np.stack([b, b + 0.001]))
    assert (len(gallery), gallery.person_ids()) == (3, {1, 2})
    match = gallery.match(b + 0.002)
    assert match is not None and match.person_id == 2
    gallery.set_person(2, a[np.newaxis, :] + 0.01)
    assert len(gallery) == 2
    assert gallery.match(b) is None
    assert gallery.remove_person(1) == 1 and gallery.person_ids() == {2}
    with pytest.raises(ValueError, match="128"):
        gallery.add(3, np.zeros(64))
    with pytest.raises(ValueError, match="NaN"):
        gallery.add(3, np.full(128, np.nan))
    with pytest.raises(ValueError, match="2 embeddings but 1 person ids"):
        gallery.replace(np.zeros((2, 128)), [1])


def test_embeddings_are_stored_as_512_little_endian_float32_bytes() -> None:
    vector = np.linspace(-1, 1, 128, dtype=np.float32)
    blob = embedding_to_bytes(vector)
    assert len(blob) == EMBEDDING_BYTES == 512
    assert blob[:4] == np.float32(-1.0).astype("<f4").tobytes()
    np.testing.assert_array_equal(embedding_from_bytes(blob), vector)
    with pytest.raises(ValueError, match="512 bytes"):
        embedding_from_bytes(blob[:-4])


# --- persisted memory ----------------------------------------------------------------------


@pytest.mark.slow
def test_enrolled_people_are_recognised_in_their_other_photos_and_a_stranger_is_not(
    store: Store, encoder: FaceEncoder, start_writer: Callable[..., StoreWriter]
) -> None:
    memory = FaceMemory(store, start_writer(store), SimulatedClock(T0), encoder)
    ids = {}
    for identity in IDENTITIES:
        if identity != HOLDOUT:
            person = memory.enroll(identity, [first_photo(identity)], actor=ADMIN)
            assert PUBLIC_ID.match(person.public_id) and person.name == identity
            assert (person.appearances, person.first_seen, person.last_seen) == (0, None, None)
            ids[identity] = person.public_id

    checked = other_photos()
    assert len(checked) == 7  # 4 second train photos, obama3, partial face, two_people
    for name in checked:
        found = memory.identify(FACES / name)
        assert [f.name for f in found] == PEOPLE_IN[name], name
        assert [f.public_id for f in found] == [ids[p] for p in PEOPLE_IN[name]]
        assert all(f.distance is not None and f.distance < memory.threshold for f in found)

    (stranger,) = memory.identify(first_photo(HOLDOUT))
    assert (stranger.public_id, stranger.name) == (None, None)
    assert stranger.distance is not None and stranger.distance >= memory.threshold

    # Once enrolled, he is recognised, and the face most like his is still Obama's.
    memory.enroll("Alex Lacamoire", [first_photo(HOLDOUT)], actor=ADMIN)
    assert [f.name for f in memory.identify(first_photo(HOLDOUT))] == ["Alex Lacamoire"]
    assert [f.name for f in memory.identify(FACES / "obama_partial_face.jpg")] == ["obama"]

    # The memory is in the database: a new one (another process) knows the same people.
    again = FaceMemory(store, start_writer(store), SimulatedClock(T0), encoder)
    assert len(again.gallery) == 5
    (kit,) = again.identify(TRAIN / "kit_harington" / "john2.jpeg")
    assert (kit.public_id, kit.name) == (ids["kit_harington"], "kit_harington")
    assert again.identify(read_image(TRAIN / "kit_harington" / "john2.jpeg")) == [kit]
    with store.sessions() as session:
        rows = session.scalars(select(FaceEmbedding)).all()
        assert {r.source for r in rows} == {"enrolled"}
        assert all(len(r.embedding) == 512 and r.created_at == T0 for r in rows)


@pytest.mark.sql
def test_enrollment_errors_name_the_file_and_store_nothing(
    store: Store,
    encoder: FaceEncoder,
    no_face_jpg: Path,
    tmp_path: Path,
    start_writer: Callable[..., StoreWriter],
) -> None:
    memory = FaceMemory(store, start_writer(store), SimulatedClock(T0), encoder)
    good = TRAIN / "kit_harington" / "john2.jpeg"
    two = FACES / "two_people.jpg"
    cases = [
        ([good, no_face_jpg], f"no face found in {re.escape(str(no_face_jpg))}$"),
        ([two], f"^2 faces in {re.escape(str(two))}; use a photo of one person$"),
        ([good, tmp_path / "gone.jpg"], "no such image file: .*gone.jpg"),
        ([good, TRAIN / "rose_leslie" / "img2.jpg"], "do not look like the same person"),
        ([], "at least one photo"),
    ]
    for images, message in cases:
        with pytest.raises(EnrollmentError, match=message):
            memory.enroll("Kit", images, actor=ADMIN)
    with pytest.raises(ValueError, match="cannot be empty"):
        memory.enroll("   ", [good], actor=ADMIN)
    assert count(store, Person) == count(store, FaceEmbedding) == 0
    assert len(memory.gallery) == 0


@pytest.mark.sql
def test_an_unknown_face_becomes_a_person_that_is_recognised_next_time(
    store: Store,
    encoder: FaceEncoder,
    encoded: dict[str, list[FaceObservation]],
    start_writer: Callable[..., StoreWriter],
) -> None:
    clock = SimulatedClock(T0)
    memory = FaceMemory(store, start_writer(store), clock, encoder)
    (obama_a,) = encoded["obama3.jpg"]
    (obama_b,) = encoded["train/obama/obama2.jpg"]
    (biden,) = encoded["train/biden/biden2.jpg"]

    first = memory.observe(obama_a.embedding, T0)
    assert PUBLIC_ID.match(first.public_id) and first.name is None
    assert (first.appearances, first.first_seen, first.last_seen) == (1, T0, T0)

    later = T0 + timedelta(minutes=5)
    second = memory.observe(obama_b.embedding, later)  # another photo of the same face
    assert second.public_id == first.public_id
    assert (second.appearances, second.first_seen, second.last_seen) == (2, T0, later)

    assert count(store, FaceEmbedding) == 2  # a new look (0.43 away) is remembered

    earlier = T0 - timedelta(hours=1)  # a late report of an older sighting
    third = memory.observe(obama_a.embedding, earlier)
    assert (third.appearances, third.first_seen, third.last_seen) == (3, earlier, later)
    assert count(store, FaceEmbedding) == 2  # the same look again adds nothing to remember

    other = memory.observe(biden.embedding, later)
    assert other.public_id != first.public_id and other.appearances == 1
    assert count(store, Person) == 2 and count(store, FaceEmbedding) == 3

    # Persisted: a new memory over the same database recognises both.
    again = FaceMemory(store, start_writer(store), clock, encoder)
    assert again.get(first.public_id).appearances == 3
    match = again.gallery.match(encoded["two_people.jpg"][0].embedding)  # Obama, left
    assert match is not None and match.person_id == first.id
    with pytest.raises(ValueError, match="timezone-aware"):
        memory.observe(biden.embedding, datetime(2026, 1, 1))


@pytest.mark.sql
def test_observed_embeddings_per_person_are_capped_keeping_the_newest_and_enrolled(
    store: Store,
    encoder: FaceEncoder,
    encoded: dict[str, list[FaceObservation]],
    start_writer: Callable[..., StoreWriter],
) -> None:
    memory = FaceMemory(
        store, start_writer(store), SimulatedClock(T0), encoder, max_observed_per_person=3
    )
    kit = memory.enroll("Kit", [TRAIN / "kit_harington" / "john1.jpeg"], actor=ADMIN)
    (face,) = encoded["train/kit_harington/john2.jpeg"]
    rng = np.random.default_rng(1)
    # Five new looks: ~0.24 apart from each other, ~0.43 from the enrolled photo.
    seen = [face.embedding + rng.normal(0, 0.015, 128).astype(np.float32) for _ in range(5)]
    for i, embedding in enumerate(seen):
        person = memory.observe(embedding, T0 + timedelta(seconds=i))
        assert person.public_id == kit.public_id
    assert person.appearances == 5
    with store.sessions() as session:
        rows = session.scalars(select(FaceEmbedding).order_by(FaceEmbedding.id)).all()
    assert [r.source for r in rows] == ["enrolled", "observed", "observed", "observed"]
    stored = [embedding_from_bytes(r.embedding) for r in rows[1:]]
    for kept, newest in zip(stored, seen[2:], strict=True):
        np.testing.assert_array_equal(kept, newest)
    assert len(memory.gallery) == 4


@pytest.mark.sql
def test_enrolling_a_name_for_a_face_already_seen_keeps_that_persons_history(
    store: Store,
    encoder: FaceEncoder,
    encoded: dict[str, list[FaceObservation]],
    start_writer: Callable[..., StoreWriter],
) -> None:
    memory = FaceMemory(store, start_writer(store), SimulatedClock(T0), encoder)
    seen = memory.observe(encoded["obama3.jpg"][0].embedding, T0)
    memory.observe(encoded["obama3.jpg"][0].embedding, T0 + timedelta(seconds=1))
    named = memory.enroll("Barack Obama", [TRAIN / "obama" / "obama2.jpg"], actor=ADMIN)
    assert named.public_id == seen.public_id
    assert (named.name, named.appearances, named.first_seen) == ("Barack Obama", 2, T0)
    assert count(store, Person) == 1
    (face,) = memory.identify(FACES / "obama_partial_face.jpg")
    assert (face.public_id, face.name) == (seen.public_id, "Barack Obama")


@pytest.mark.sql
def test_rename_merge_and_erase(
    tmp_path: Path,
    store: Store,
    encoder: FaceEncoder,
    encoded: dict[str, list[FaceObservation]],
    start_writer: Callable[..., StoreWriter],
) -> None:
    # A strict threshold makes two photos of Obama two people: the mistake merge repairs.
    writer = start_writer(store)
    memory = FaceMemory(store, writer, SimulatedClock(T0), encoder, threshold=0.2)
    (a_face,) = encoded["obama3.jpg"]
    (b_face,) = encoded["train/obama/obama2.jpg"]  # 0.43 from obama3.jpg
    t1, t2, t3 = T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    a = memory.observe(a_face.embedding, t2)
    memory.observe(a_face.embedding, t3)
    b = memory.observe(b_face.embedding, t1)
    assert a.public_id != b.public_id

    renamed = memory.rename(b.public_id, "  Barack   Obama ", actor=ADMIN)
    assert renamed.name == "Barack Obama" and memory.get(b.public_id).name == "Barack Obama"
    assert memory.rename(b.public_id, None, actor=ADMIN).name is None
    memory.rename(b.public_id, "Barack Obama", actor=ADMIN)
    with pytest.raises(UnknownPersonError, match="Person_00000000"):
        memory.rename("Person_00000000", "x", actor=ADMIN)

    with pytest.raises(ValueError, match="into itself"):
        memory.merge(a.public_id, a.public_id, actor=ADMIN)
    merged = memory.merge(a.public_id, b.public_id, actor=ADMIN)
    assert merged.public_id == a.public_id
    assert (merged.name, merged.appearances) == ("Barack Obama", 3)  # name taken from b
    assert (merged.first_seen, merged.last_seen) == (t1, t3)
    with pytest.raises(UnknownPersonError):
        memory.get(b.public_id)
    assert count(store, Person) == 1 and count(store, FaceEmbedding) == 2
    match = memory.gallery.match(b_face.embedding)
    assert match is not None and match.person_id == a.id
    assert memory.gallery.person_ids() == {a.id}

    erased = erase_person(writer, memory, a.public_id, tmp_path, SimulatedClock(T0), actor=ADMIN)
    assert (erased.public_id, erased.embeddings) == (a.public_id, 2)
    assert count(store, Person) == count(store, FaceEmbedding) == 0
    assert len(memory.gallery) == 0
    assert memory.gallery.match(a_face.embedding) is None
    with pytest.raises(UnknownPersonError):
        erase_person(writer, memory, a.public_id, tmp_path, SimulatedClock(T0), actor=ADMIN)
    # Seen again after erasure, the face is a stranger with a new id.
    assert memory.observe(a_face.embedding, t3).public_id != a.public_id


@pytest.mark.sql
def test_migration_0002_matches_the_models_and_enforces_its_constraints(store: Store) -> None:
    tables = {"persons", "face_embeddings"}
    assert tables <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        diffs = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert [d for d in diffs if tables & set(re.findall(r"\w+", str(d)))] == []

    with store.transaction() as session:
        person = Person(public_id="Person_0000ABCD", appearances=0)
        session.add(person)
        session.flush()
        session.add(
            FaceEmbedding(
                person_id=person.id, embedding=bytes(512), source="observed", created_at=T0
            )
        )
    for bad in (
        FaceEmbedding(person_id=person.id, embedding=bytes(511), source="observed", created_at=T0),
        FaceEmbedding(person_id=person.id, embedding=bytes(512), source="guessed", created_at=T0),
        Person(public_id="Person_0000ABCD", appearances=0),
    ):
        with pytest.raises(IntegrityError), store.transaction() as session:
            session.add(bad)
    with store.transaction() as session:  # the database cascades, not only the ORM
        session.execute(delete(Person))
    assert count(store, FaceEmbedding) == 0

    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not tables & set(inspect(store.engine).get_table_names())
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert tables <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
