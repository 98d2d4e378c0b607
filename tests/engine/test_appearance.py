"""Appearance records of tracks (named colours, embedding), stored through the writer, and
searched by description and by example."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from engine.analyze import analyze_video
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.history.appearance import (
    AppearanceQueryError,
    AppearanceSearchRequest,
    Description,
    PersonAppearanceRequest,
    SimilarTracksRequest,
    TrackAppearanceRequest,
    parse_description,
)
from engine.identity.erasure import erase_person
from engine.identity.faces_store import FaceMemory
from engine.media import MediaFile
from engine.retention import PurgeEvents
from engine.store import Store
from engine.store.appearance_models import EMBEDDING_DIMS, TrackAppearance
from engine.store.commands import InsertEvent, RecordAppearance, command_from_json
from engine.store.models import Event
from engine.store.writer import StoreWriter
from engine.vision.appearance import (
    AppearanceCollector,
    AppearanceRecord,
    AppearanceSeen,
    store_appearance,
)
from engine.vision.geometry import Box
from tests.actors import ADMIN
from tests.appearance_people import (
    BGR,
    BLACK,
    BLUE,
    BOX,
    GREEN,
    RED,
    WHITE,
    person_frame,
    record_of,
    recorded,
)
from tests.conftest import write_site
from tests.store_helpers import sync_site

pytestmark = pytest.mark.sql


@pytest.mark.parametrize(
    ("top", "bottom", "names"),
    [
        (RED, BLUE, ("red", "blue")),
        (WHITE, BLACK, ("white", "black")),
        (GREEN, BLACK, ("green", "black")),
    ],
)
def test_clothing_colours_are_named_from_torso_and_legs(
    top: BGR, bottom: BGR, names: tuple[str, str]
) -> None:
    record = record_of(top, bottom)
    assert (record.upper_colour, record.lower_colour) == names
    assert record.embedding.dtype == np.float16 and record.embedding.shape == (EMBEDDING_DIMS,)
    assert float(np.linalg.norm(record.embedding.astype(np.float32))) == pytest.approx(1, abs=1e-2)


def test_a_warm_light_does_not_rename_the_clothes() -> None:
    warm = (0.82, 1.0, 1.2)  # sodium-ish: less blue, more red
    assert (
        record_of(WHITE, BLUE, cast=warm).upper_colour,
        record_of(WHITE, BLUE, cast=warm).lower_colour,
    ) == ("white", "blue")


def test_people_cut_by_the_frame_or_hidden_by_another_give_no_crop() -> None:
    collector = AppearanceCollector()
    at_edge = Box(0, 100, 80, 240)
    collector.observe(person_frame(RED, BLUE, at_edge), [(1, at_edge, 0.9)], [at_edge])
    other = Box(BOX.x + 40, BOX.y, 80, 240)
    collector.observe(person_frame(RED, BLUE), [(2, BOX, 0.9)], [BOX, other])
    small = Box(200, 100, 20, 40)
    collector.observe(person_frame(RED, BLUE, small), [(3, small, 0.9)], [small])
    assert [collector.finish(k) for k in (1, 2, 3)] == [None, None, None]


def test_only_the_best_crops_of_a_track_are_kept() -> None:
    collector = AppearanceCollector(keep=2)
    for height in (120, 240, 200, 60):
        box = Box(200, 100, height / 3, height)
        collector.observe(person_frame(RED, BLUE, box), [(1, box, 0.9)], [box])
    assert len(collector.crops_of(1)) == 2
    record = collector.finish(1)
    assert record is not None and record.crops == 2
    assert record.height_frac == pytest.approx((240 + 200) / 2 / 480)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("red top", Description(upper=frozenset({"red"}))),
        (
            "dark jacket and jeans",
            Description(
                upper=frozenset({"black", "navy", "grey", "brown"}),
                lower=frozenset({"blue", "navy"}),
            ),
        ),
        (
            "white shirt, black trousers",
            Description(upper=frozenset({"white"}), lower=frozenset({"black"})),
        ),
        ("man in red", Description(anywhere=frozenset({"red"}))),
        ("light blue T-shirt", Description(upper=frozenset({"blue"}))),
        ("dark blue coat", Description(upper=frozenset({"navy", "blue"}))),
        ("trousers grey", Description(lower=frozenset({"grey"}))),
        (
            "tall woman, green dress",
            Description(upper=frozenset({"green"}), lower=frozenset({"green"}), height="tall"),
        ),
        ("someone suspicious", Description()),
    ],
)
def test_descriptions_are_read_into_colours_per_body_part(text: str, expected: Description) -> None:
    assert parse_description(text) == expected


@dataclass
class Site:
    store: Store
    writer: StoreWriter
    cameras: dict[str, int]


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    """A store with cameras ``gate`` and ``yard`` and a running writer."""
    store = Store(db_url)
    config = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )
    ids = sync_site(store, load_site(config), REAL_CLOCK)
    try:
        with StoreWriter.running(store) as writer:
            yield Site(store, writer, ids.cameras)
    finally:
        store.close()


T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def seen(
    site: Site,
    camera: str,
    track: int,
    record: AppearanceRecord,
    minute: int,
    snapshot: str | None = None,
) -> int:
    event = AppearanceSeen(
        at=T0,
        camera=camera,
        track_id=track,
        first_seen=T0 + timedelta(minutes=minute),
        last_seen=T0 + timedelta(minutes=minute, seconds=20),
        snapshot=snapshot,
        appearance=record,
    )
    row_id: int = site.writer.execute(store_appearance(event, site.cameras[camera]), timeout_s=30)
    return row_id


def test_search_by_description_ranks_the_described_person_first(site: Site) -> None:
    seen(site, "gate", 1, record_of(RED, BLUE), 0)
    seen(site, "gate", 2, record_of(WHITE, BLACK), 1)
    seen(site, "yard", 3, record_of(GREEN, BLACK), 2)
    top = AppearanceSearchRequest("red top").run(site.store)
    assert [(h.camera_key, h.track_id) for h in top.hits][:1] == [("gate", 1)]
    assert top.hits[0].upper_colour == "red" and top.hits[0].score > 0.9
    assert top.searched == 3 and top.understood == "top: red"
    both = AppearanceSearchRequest("white shirt black trousers").run(site.store)
    assert both.hits[0].track_id == 2 and both.hits[0].score == pytest.approx(1.0)
    assert [
        h.track_id
        for h in AppearanceSearchRequest("dark trousers", cameras=("yard",)).run(site.store).hits
    ] == [3]
    later = AppearanceSearchRequest("black", since=T0 + timedelta(minutes=1, seconds=30)).run(
        site.store
    )
    assert [h.track_id for h in later.hits] == [3]
    assert AppearanceSearchRequest("purple top").run(site.store).hits == ()
    with pytest.raises(AppearanceQueryError, match="no colour"):
        AppearanceSearchRequest("someone suspicious").run(site.store)


def test_find_similar_ranks_the_same_clothes_first_across_cameras(site: Site) -> None:
    first = seen(site, "gate", 1, record_of(RED, BLUE), 0)
    seen(site, "gate", 2, record_of(WHITE, BLACK), 0)  # beside them at the same time
    seen(site, "yard", 7, record_of(GREEN, BLACK), 30)
    again = seen(site, "yard", 8, record_of(RED, BLUE), 60 * 24)  # the next day
    results = SimilarTracksRequest(track_id=1, camera="gate").run(site.store)
    assert results.example is not None and results.example.appearance_id == first
    assert results.hits[0].appearance_id == again
    assert first not in [h.appearance_id for h in results.hits]
    assert SimilarTracksRequest(track_id=8).run(site.store).hits[0].appearance_id == first
    assert TrackAppearanceRequest(site.cameras["yard"], 8).run(site.store) == again
    assert TrackAppearanceRequest(site.cameras["yard"], 99).run(site.store) is None
    with pytest.raises(AppearanceQueryError, match="no appearance recorded for track 99"):
        SimilarTracksRequest(track_id=99).run(site.store)


def test_a_track_number_on_two_cameras_needs_its_camera(site: Site) -> None:
    seen(site, "gate", 5, record_of(RED, BLUE), 0)
    seen(site, "yard", 5, record_of(WHITE, BLACK), 0)
    with pytest.raises(AppearanceQueryError, match="several cameras"):
        SimilarTracksRequest(track_id=5).run(site.store)
    assert SimilarTracksRequest(track_id=5, camera="yard").run(site.store).example is not None


def test_a_track_recorded_again_replaces_its_row_and_the_search_sees_it(site: Site) -> None:
    seen(site, "gate", 1, record_of(RED, BLUE), 0)
    assert AppearanceSearchRequest("red top").run(site.store).hits[0].track_id == 1
    seen(site, "gate", 1, record_of(GREEN, BLACK), 0)  # the file analysed again
    with site.store.sessions() as session:
        assert session.scalar(select(func.count(TrackAppearance.id))) == 1
    assert AppearanceSearchRequest("red top").run(site.store).hits == ()
    assert AppearanceSearchRequest("green top").run(site.store).hits[0].track_id == 1


def test_the_thumbnail_is_the_tracks_stored_snapshot(site: Site) -> None:
    path = "snapshots/gate/2026-11-20/gate_090020_000000_t1_best_abc123.jpg"
    site.writer.execute(
        InsertEvent(
            ts=T0,
            kind="person.left",
            source="camera:gate",
            detail={},
            camera_id=site.cameras["gate"],
            track_id=1,
            media=(MediaFile("snapshot", path, "0" * 64, 10),),
        )
    )
    seen(site, "gate", 1, record_of(RED, BLUE), 0, snapshot=path)
    seen(site, "gate", 2, record_of(RED, BLUE), 5, snapshot="snapshots/gone.jpg")
    hits = AppearanceSearchRequest("red").run(site.store).hits
    assert {h.track_id: h.snapshot for h in hits} == {1: path, 2: None}


def test_an_appearance_command_survives_the_journal() -> None:
    record = record_of(RED, BLUE)
    event = AppearanceSeen(
        at=T0,
        camera="gate",
        track_id=4,
        first_seen=T0,
        last_seen=T0,
        snapshot="s.jpg",
        appearance=record,
    )
    command = store_appearance(event, 3)
    again = command_from_json(command.to_json())
    assert isinstance(again, RecordAppearance) and again == command


@pytest.mark.slow
def test_an_analysis_stores_each_tracks_appearance_with_its_thumbnail(
    plaza_15s_analysed: Path, tmp_path: Path
) -> None:
    shutil.copyfile(plaza_15s_analysed / "evidence.db", tmp_path / "evidence.db")
    store = Store(f"sqlite:///{tmp_path / 'evidence.db'}")
    try:
        with store.sessions() as session:
            rows = session.scalars(select(TrackAppearance)).all()
            left = session.scalars(select(Event).where(Event.kind == "person.left")).all()
        assert rows and len(rows) <= len(left)
        assert {(r.camera_id, r.track_id) for r in rows} <= {
            (e.camera_id, e.track_id) for e in left
        }
        assert all(r.snapshot_media_id is not None and r.crops >= 1 for r in rows)
        assert all(r.first_seen <= r.last_seen for r in rows)
        hits = AppearanceSearchRequest("dark", limit=50).run(store).hits
        assert hits and {h.camera_key for h in hits} == {"plaza"}
    finally:
        store.close()


@pytest.mark.slow
def test_a_known_persons_tracks_are_found_and_erasing_them_erases_how_they_looked(
    db_url: str, hamilton_clip: Path, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    try:
        report = analyze_video(hamilton_clip, clock=REAL_CLOCK, store=store, camera="stage")
        people = [p["person_id"] for p in report["persons"]]
        found = {public_id: PersonAppearanceRequest(public_id).run(store) for public_id in people}
        victim = next(public_id for public_id, row in found.items() if row is not None)
        assert SimilarTracksRequest(appearance_id=found[victim]).run(store).example is not None
        writer = start_writer(store)
        data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
        erase_person(
            writer, FaceMemory(store, writer, REAL_CLOCK), victim, data, REAL_CLOCK, actor=ADMIN
        )
        assert PersonAppearanceRequest(victim).run(store) is None
        with store.sessions() as session:
            ids = set(session.scalars(select(TrackAppearance.id)))
        assert found[victim] not in ids
    finally:
        store.close()


def test_retention_forgets_how_tracks_looked_with_their_events(site: Site) -> None:
    seen(site, "gate", 1, record_of(RED, BLUE), 0)
    seen(site, "gate", 2, record_of(RED, BLUE), 60 * 24 * 400)  # 400 days later
    site.writer.execute(PurgeEvents(cutoff=T0 + timedelta(days=365)))
    hits = AppearanceSearchRequest("red top").run(site.store).hits
    assert [h.track_id for h in hits] == [2]


def test_tall_and_short_are_said_only_relative_to_a_camera_that_saw_enough_people(
    site: Site,
) -> None:
    """Box height grows with the foot's row on a fixed camera; a person whose box is in
    the top fifth of actual/predicted height is "tall" there. A camera with few people
    gets no size classes at all."""
    red, white = record_of(RED, BLUE), record_of(WHITE, BLACK)
    rng = np.random.default_rng(3)
    for track in range(1, 41):
        foot = float(rng.uniform(0.5, 0.95))
        ratio = 1.25 if track in (1, 2) else 0.75 if track == 3 else float(rng.uniform(0.95, 1.05))
        command = replace(
            recorded(site.cameras["gate"], track, red if track <= 3 else white, T0),
            height_frac=0.6 * foot * ratio,
            foot_y_frac=foot,
        )
        site.writer.execute(command)
    site.writer.execute(
        replace(recorded(site.cameras["yard"], 1, red, T0), height_frac=0.5, foot_y_frac=0.9)
    )
    hits = AppearanceSearchRequest("tall man in a red top").run(site.store).hits
    sizes = {(h.camera_key, h.track_id): h.height_class for h in hits}
    assert sizes[("gate", 1)] == sizes[("gate", 2)] == "tall"
    assert sizes[("gate", 3)] == "short" and sizes[("yard", 1)] is None
    assert [(h.camera_key, h.track_id) for h in hits[:2]] in (
        [("gate", 1), ("gate", 2)],
        [("gate", 2), ("gate", 1)],
    )
    assert hits[-1].height_class == "short"  # "tall" asked: the short one ranks last
