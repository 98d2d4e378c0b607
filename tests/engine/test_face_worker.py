"""The face worker: adaptive whole-scene scans and one appearance per visit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.identity.faces import FaceEncoder, read_image
from engine.identity.faces_store import FaceMemory
from engine.store import Store
from engine.store.person_models import Person
from engine.store.writer import StoreWriter
from engine.vision.face_worker import (
    REVISIT_S,
    SCENE_SCAN_MAX_S,
    SCENE_SCAN_S,
    SCENE_TRACK,
    FaceRecognised,
    FaceWorker,
)
from tests.conftest import TESTDATA

FACES = TESTDATA / "faces"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def encoder() -> FaceEncoder:
    encoder = FaceEncoder()
    encoder.load()
    return encoder


@pytest.fixture
def worker(
    tmp_path_factory: pytest.TempPathFactory,
    encoder: FaceEncoder,
    start_writer: Callable[..., StoreWriter],
) -> Iterator[tuple[FaceWorker, list[FaceRecognised], Store]]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('faces') / 'wf.db'}")
    memory = FaceMemory(store, start_writer(store), SimulatedClock(T0), encoder)
    bus = EventBus()
    seen: list[FaceRecognised] = []
    bus.subscribe(FaceRecognised, seen.append)
    worker = FaceWorker(memory, bus, blocking=True)
    worker.start()
    yield worker, seen, store
    worker.stop()
    store.close()


def settle(worker: FaceWorker, done: int) -> None:
    deadline = time.monotonic() + 30
    while worker.crops_done < done:
        assert time.monotonic() < deadline, "the face worker did not finish its crops"
        time.sleep(0.01)


def test_scene_scans_back_off_where_they_find_no_faces_and_resume_where_they_do(
    worker: tuple[FaceWorker, list[FaceRecognised], Store],
) -> None:
    faces, _, _ = worker
    empty = read_image(FACES / "obama3.jpg")[:40, :40].copy()  # a corner: no face
    assert faces.scene_scan_interval("plaza") == SCENE_SCAN_S
    for n in range(1, 8):
        faces.submit("plaza", SCENE_TRACK, empty, T0 + timedelta(seconds=n))
        settle(faces, n)
    assert faces.scene_scan_interval("plaza") == SCENE_SCAN_MAX_S  # 2 → 4 → … capped at 60
    assert faces.scene_scan_interval("door") == SCENE_SCAN_S  # per camera
    faces.submit("plaza", SCENE_TRACK, read_image(FACES / "obama3.jpg"), T0 + timedelta(seconds=9))
    settle(faces, 8)
    assert faces.scene_scan_interval("plaza") == SCENE_SCAN_S


def test_a_track_recognised_during_a_visit_is_named_without_another_appearance(
    worker: tuple[FaceWorker, list[FaceRecognised], Store],
) -> None:
    faces, seen, store = worker
    photo = read_image(FACES / "obama3.jpg")
    faces.submit("door", SCENE_TRACK, photo, T0)  # a scan sees him first
    faces.submit("door", 7, photo, T0 + timedelta(seconds=5))  # then his track
    faces.submit("door", 8, photo, T0 + timedelta(seconds=REVISIT_S + 10))  # a later visit
    settle(faces, 3)
    assert [e.track_id for e in seen] == [0, 7, 8]
    assert len({e.person_id for e in seen}) == 1
    assert faces.label("door", 7) == (seen[0].person_id, None)
    with store.sessions() as session:
        (person,) = session.scalars(select(Person)).all()
    assert person.appearances == 2  # the scan and track 7 are one visit; track 8 another


def test_a_renamed_person_is_named_on_the_tracks_showing_them(
    worker: tuple[FaceWorker, list[FaceRecognised], Store],
) -> None:
    faces, seen, _ = worker
    photo = read_image(FACES / "obama3.jpg")
    faces.submit("door", 7, photo, T0)
    settle(faces, 1)
    person = seen[0].person_id
    assert faces.tracks_of("door") == {7: (person, None)} and faces.tracks_of("yard") == {}
    faces.renamed(person, "Barack")
    assert faces.label("door", 7) == (person, "Barack")
    assert faces.persons() == {person: "Barack"}
    faces.renamed("Person_00000000", "Nobody")  # someone not on any track: nothing changes
    assert faces.tracks_of("door") == {7: (person, "Barack")}
