"""The people an Ask answer counts come with their pictures: one per named person and per
unrecognised camera track, each with the snapshot kept of it; the pictures are read
bounded, regular files inside the data dir only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.ask_gold import build_store, load_gold, snapshot_of
from engine.clock import SimulatedClock
from engine.history.chat import ChatService, read_pictures
from engine.history.chat.service import MAX_PICTURE_BYTES
from engine.history.chat.tools import MAX_PICTURES
from engine.store import Store
from tests.actors import INVESTIGATOR

GOLD = load_gold()


@pytest.fixture
def gold_store(db_url: str) -> Iterator[Store]:
    store = build_store(db_url, GOLD)
    yield store
    store.close()


def test_an_answer_counting_people_carries_each_ones_picture(gold_store: Store) -> None:
    service = ChatService(
        gold_store, clock=SimulatedClock(GOLD.now), site_time=GOLD.site_time, api_key=""
    )
    answer = service.ask("Who was seen on the lobby today?", actor=INVESTIGATOR)
    assert answer.text.startswith(
        "At least 2 people were seen on Lobby (cam2) today: at most 2 at once, 2 known"
    )
    # John Carter named first, then the automatic id and each unrecognised track, newest
    # first (a picture per track: the operator sees which of them are one person).
    assert [(p.label, p.camera_name, p.snapshot) for p in answer.people] == [
        ("John Carter", "Lobby", snapshot_of("cam2", 203)),
        ("Not recognised", "Lobby", snapshot_of("cam2", 240)),
        ("Not recognised", "Lobby", snapshot_of("cam2", 241)),
        ("Person_0000A003", "Lobby", snapshot_of("cam2", 202)),
        ("Not recognised", "Lobby", snapshot_of("cam2", 201)),
    ]
    assert [p["label"] for p in answer.as_json()["people"]][:2] == [
        "John Carter",
        "Not recognised",
    ]
    everyone = service.ask("How many people were seen today?", actor=INVESTIGATOR)
    assert 10 < len(everyone.people) <= MAX_PICTURES  # the known ones and each track's
    nobody = service.ask("Was anyone seen on the loading yard today?", actor=INVESTIGATOR)
    assert nobody.people == ()


def test_pictures_are_read_bounded_and_only_from_the_data_dir(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "snapshots").mkdir(parents=True)
    (root / "snapshots" / "a.jpg").write_bytes(b"\xff\xd8jpeg")
    (root / "snapshots" / "big.jpg").write_bytes(b"x" * (MAX_PICTURE_BYTES + 1))
    os.mkfifo(root / "snapshots" / "fifo.jpg")
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"secret")
    (root / "snapshots" / "link.jpg").symlink_to(outside)
    got = read_pictures(
        root,
        [
            "snapshots/a.jpg",
            "snapshots/big.jpg",
            "snapshots/fifo.jpg",
            "snapshots/link.jpg",
            "../secret.jpg",
            str(outside),
            "snapshots/missing.jpg",
        ],
    )
    assert got == {"snapshots/a.jpg": b"\xff\xd8jpeg"}
