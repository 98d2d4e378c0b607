"""The whole camera pipeline on real footage: people, faces remembered across sessions,
event clips covering the events, and the history that ties them together."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from engine.clock import REAL_CLOCK
from engine.history.events import EventFilter, event_kinds, query_events
from engine.identity.faces_store import FaceMemory
from engine.store import Store
from engine.store.models import Media
from engine.store.person_models import Person
from engine.vision.video_analysis import analyze_video

TRAIN = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces" / "train"


@pytest.fixture
def store(db_url: str) -> Store:
    opened = Store(db_url)
    yield opened  # type: ignore[misc]
    opened.close()


def test_faces_are_remembered_across_sessions_and_clips_cover_events(
    store: Store, hamilton_clip: Path
) -> None:
    first = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
    second = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
    people = {p["person_id"] for p in first["persons"]}
    assert len(people) == 2  # two people talk in this clip
    assert all(p.startswith("Person_") and len(p) == 15 for p in people)
    assert {p["person_id"] for p in second["persons"]} == people  # the same, remembered
    with store.sessions() as session:
        persons = session.scalars(select(Person)).all()
    assert {p.public_id for p in persons} == people
    assert all(p.appearances == 2 for p in persons)

    assert len(first["clips"]) == 1
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    with store.sessions() as session:
        clips = session.scalars(select(Media).where(Media.kind == "clip")).all()
    assert len(clips) == 2
    for clip in clips:
        file = data / clip.path
        assert hashlib.sha256(file.read_bytes()).hexdigest() == clip.sha256
        assert clip.started_at is not None and clip.ended_at is not None
        assert 8.0 < (clip.ended_at - clip.started_at).total_seconds() < 10.0
        with av.open(str(file)) as container:
            assert container.streams.video[0].codec_context.name == "h264"


def test_history_lists_newest_first_with_filters_and_clips(
    store: Store, hamilton_clip: Path
) -> None:
    report = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
    person = report["persons"][0]["person_id"]
    everything = query_events(store, EventFilter())
    assert [e.ts for e in everything] == sorted((e.ts for e in everything), reverse=True)
    assert {"person.appeared", "person.left", "face.recognised", "clip.finalised"} <= set(
        event_kinds(store)
    )
    faces = query_events(store, EventFilter(kind="face.recognised"))
    assert faces and all(e.kind == "face.recognised" for e in faces)
    mine = query_events(store, EventFilter(person=person.lower()))
    assert mine and all(e.detail.get("person_id") == person for e in mine)
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    assert all((data / e.detail["snapshot"]).is_file() for e in mine)  # the face as seen
    assert query_events(store, EventFilter(camera="nowhere")) == []
    # Person events during the clip open it, at the right offset.
    appeared = query_events(store, EventFilter(kind="person.appeared", camera="stage"))
    assert appeared and all(e.clip_path == report["clips"][0]["path"] for e in appeared)
    assert all(0.0 <= (e.clip_offset_s or 0.0) <= 10.0 for e in appeared)


def test_enrolled_name_is_reported_when_the_face_is_seen(
    store: Store, tmp_path: Path, vtest_avi: Path
) -> None:
    memory = FaceMemory(store, REAL_CLOCK)
    memory.enroll("Barack Obama", [TRAIN / "obama" / "obama.jpg"])
    # vtest's pedestrians are far away: people are tracked, no face is big enough to read.
    report = analyze_video(vtest_avi, clock=REAL_CLOCK, store=store, camera="plaza", clips=False)
    assert report["persons"] == [] and report["faces"]["found"] == 0
    with store.sessions() as session:
        assert [p.name for p in session.scalars(select(Person))] == ["Barack Obama"]
