"""People over time: archiving, deletion, erasure from events and clips."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, tuple_

from engine.analyze import analyze_video
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.identity.erasure import erase_person
from engine.identity.faces import read_image
from engine.identity.faces_store import FaceMemory, UnknownPersonError
from engine.identity.people import list_people
from engine.retention import RetentionPolicy, run_retention
from engine.store import Store
from engine.store.models import Event, Media
from engine.store.person_models import FaceEmbedding, Person
from engine.store.writer import StoreWriter
from tests.actors import ADMIN

pytestmark = pytest.mark.sql

TRAIN = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces" / "train"


def test_people_are_archived_then_deleted_and_return_when_seen(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    memory = FaceMemory(store, start_writer(store), REAL_CLOCK)
    obama = memory.enroll("Obama", [TRAIN / "obama" / "obama.jpg"], actor=ADMIN)
    embedding = memory.encoder.encode(read_image(TRAIN / "obama" / "obama2.jpg"))[0]
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    memory.observe(embedding.embedding, seen)
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    plenty = RetentionPolicy(min_free_bytes=0)

    report = run_retention(store, SimulatedClock(seen + timedelta(days=100)), data, plenty)
    assert report.persons_archived == 0
    report = run_retention(store, SimulatedClock(seen + timedelta(days=200)), data, plenty)
    assert report.persons_archived == 1
    assert list_people(store) == [] and len(list_people(store, include_archived=True)) == 1

    memory.observe(embedding.embedding, seen + timedelta(days=201))  # back on camera
    assert [p.public_id for p in list_people(store)] == [obama.public_id]

    run_retention(store, SimulatedClock(seen + timedelta(days=400)), data, plenty)  # archived
    report = run_retention(store, SimulatedClock(seen + timedelta(days=1200)), data, plenty)
    assert report.persons_deleted == 1
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
        assert session.scalar(select(func.count()).select_from(FaceEmbedding)) == 0
    store.close()


@pytest.mark.slow
def test_erasing_a_person_removes_their_events_snapshots_and_clips(
    db_url: str, hamilton_clip: Path, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    report = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
    victim = report["persons"][0]["person_id"]
    other = report["persons"][1]["person_id"]
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    people = {p.public_id: p for p in list_people(store)}
    assert people[victim].snapshot_path is not None  # the face picture shown in the pane
    assert (data / people[victim].snapshot_path).exists()
    with store.transaction() as session:  # an investigator locked the clip as evidence
        clip = session.scalars(select(Media).where(Media.kind == "clip")).one()
        clip.locked = True
        clip_path = clip.path

    with store.sessions() as session:
        faces_seen = [
            e.detail["snapshot"]
            for e in session.scalars(select(Event).where(Event.kind == "face.recognised"))
            if e.detail["person_id"] == victim
        ]
    assert faces_seen and all((data / path).exists() for path in faces_seen)

    writer = start_writer(store)
    memory = FaceMemory(store, writer, REAL_CLOCK)
    with store.sessions() as session:
        victim_id = session.scalar(select(Person.id).where(Person.public_id == victim))
        tracks_shown = set(
            session.execute(
                select(Event.camera_id, Event.track_id).where(Event.person_id == victim_id)
            ).all()
        )
    assert len(tracks_shown) >= 1
    # The camera also recorded continuously: a segment over the time they were in view
    # (the footage that shows them; an event clip of it would be a view onto it), and one
    # of an hour before.
    with store.transaction() as session:
        camera_id, first_seen = session.execute(
            select(Event.camera_id, func.min(Event.ts))
            .where(Event.person_id == victim_id)
            .group_by(Event.camera_id)
        ).first()  # type: ignore[misc]
        segments = {}
        for name, start in (("theirs", first_seen), ("before", first_seen - timedelta(hours=1))):
            path = f"recordings/stage/{name}.mp4"
            (data / path).parent.mkdir(parents=True, exist_ok=True)
            (data / path).write_bytes(b"footage")
            session.add(
                Media(
                    kind="segment",
                    path=path,
                    sha256="0" * 64,
                    size_bytes=7,
                    created_at=start,
                    camera_id=camera_id,
                    started_at=start - timedelta(seconds=2),
                    ended_at=start + timedelta(seconds=8),
                )
            )
            segments[name] = path
        # An event clip of theirs too, with its boxes beside it (where they walked).
        moment = f"clips/stage/theirs-{first_seen:%H%M%S}.mp4"
        (data / moment).parent.mkdir(parents=True, exist_ok=True)
        (data / moment).write_bytes(b"footage")
        (data / moment.replace(".mp4", ".tracks.json")).write_text("{}")
        (data / clip_path.replace(".mp4", ".tracks.json")).write_text("{}")
        session.add(
            Media(
                kind="clip",
                path=moment,
                sha256="0" * 64,
                size_bytes=7,
                created_at=first_seen,
                camera_id=camera_id,
                started_at=first_seen - timedelta(seconds=1),
                ended_at=first_seen + timedelta(seconds=5),
            )
        )
    erased = erase_person(writer, memory, victim, data, REAL_CLOCK, actor=ADMIN)
    assert erased.segments_deleted == 1 and "1 recording segments" in erased.summary
    assert erased.clips_deleted == 1 and not (data / moment).exists()
    assert not (data / moment.replace(".mp4", ".tracks.json")).exists()
    assert (data / clip_path.replace(".mp4", ".tracks.json")).exists()  # locked: kept
    assert not (data / segments["theirs"]).exists() and (data / segments["before"]).exists()
    assert not any((data / path).exists() for path in faces_seen)

    assert erased.embeddings >= 1 and erased.events_deleted >= 1
    assert erased.locked_kept == 1
    assert (data / clip_path).exists()
    assert not (data / people[victim].snapshot_path).exists()
    with store.sessions() as session:
        details = [e.detail for e in session.scalars(select(Event))]
    assert not any(d.get("person_id") == victim for d in details)
    assert any(d.get("person_id") == other for d in details)  # the other person stays
    everyone = {p["person_id"] for p in report["persons"]}
    assert {p.public_id for p in list_people(store)} == everyone - {victim}
    with store.sessions() as session:
        remaining = set(session.scalars(select(Person.id)))
    assert memory.gallery.person_ids() == remaining  # the erased face can never match again
    with pytest.raises(UnknownPersonError):
        erase_person(writer, memory, victim, data, REAL_CLOCK, actor=ADMIN)
    with store.sessions() as session:  # the appeared/left events of their tracks went too
        left = session.execute(
            select(Event.kind).where(
                tuple_(Event.camera_id, Event.track_id).in_(list(tracks_shown))
            )
        ).all()
    assert left == []
    store.close()


@pytest.mark.slow
def test_after_a_merge_erasing_the_kept_person_removes_the_absorbed_persons_events_too(
    db_url: str, hamilton_clip: Path, start_writer: Callable[..., StoreWriter]
) -> None:
    """Before: events named the person in JSON only, so after ``people merge A B`` erasing A
    left B's events and clips behind."""
    store = Store(db_url)
    report = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
    keep, absorb = (p["person_id"] for p in report["persons"][:2])
    writer = start_writer(store)
    memory = FaceMemory(store, writer, REAL_CLOCK)
    with store.sessions() as session:
        absorbed_events = session.scalar(
            select(func.count())
            .select_from(Event)
            .join(Person, Person.id == Event.person_id)
            .where(Person.public_id == absorb)
        )
    assert absorbed_events
    memory.merge(keep, absorb, actor=ADMIN)
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    erased = erase_person(writer, memory, keep, data, REAL_CLOCK, actor=ADMIN)
    assert erased.events_deleted >= absorbed_events
    with store.sessions() as session:
        named = [
            e.detail.get("person_id")
            for e in session.scalars(select(Event).where(Event.kind == "face.recognised"))
        ]
        persons = set(session.scalars(select(Person.public_id)))
    others = {p["person_id"] for p in report["persons"][2:]}  # the audience face
    assert keep not in named and absorb not in named and persons == others
    store.close()
