"""People's paths across senses as the fusion service files them (``person.path`` events
with their segments), stored through the store writer, for the timeline's, the People
pane's and the screenshots' tests.

Three people cross camera ``plaza`` ("Plaza east") and rooms ``lobby`` ("Lobby") and
``office`` ("Front office") from ``base``: Ada named by her face, Bo by his registered
phone, and someone nobody knows; then someone the face memory knows only by an automatic
id. Ada also crossed the plaza the day before. Blob events in both rooms give each room
its timeline lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from engine.config import load_site
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.models import Camera
from engine.store.person_models import Person
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from tests.conftest import write_site

ADA, BO, AUTO = "Person_ADA00001", "Person_B0000002", "Person_C0FFEE01"
CAMERA, LOBBY, OFFICE = "plaza", "lobby", "office"
NAMES = {CAMERA: "Plaza east", LOBBY: "Lobby", OFFICE: "Front office"}
PLAZA_CAMERA = '[[cameras]]\nid = "plaza"\nname = "Plaza east"\nurl = "rtsp://cam/1"\n'


@dataclass(frozen=True, slots=True)
class SeededPaths:
    """The event ids of the paths filed."""

    ada_earlier: int
    ada: int
    bo: int
    unknown: int
    auto: int


def segment(
    sense: str, source: str, ident: int | None, start: datetime, end: datetime, label: str = ""
) -> dict[str, Any]:
    """One segment of a path's detail, as the fusion service writes it."""
    return {
        "sense": sense,
        "source": source,
        "label": label or NAMES.get(source, source),
        "id": ident,
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


def seed_people(store: Store) -> None:
    """Ada and Bo by name, and someone known only by an automatic id."""
    with store.transaction() as session:
        session.execute(
            insert(Person),
            [
                {"public_id": ADA, "name": "Ada", "appearances": 3},
                {"public_id": BO, "name": "Bo", "appearances": 1},
                {"public_id": AUTO, "name": None, "appearances": 1},
            ],
        )


def seed_person_paths(store: Store, writer: StoreWriter, base: datetime) -> SeededPaths:
    """File the paths (and the rooms' blob events) through ``writer``; the people must be
    stored (:func:`seed_people`) and camera ``plaza`` known to the store."""
    with store.sessions() as session:
        camera_id = session.scalar(select(Camera.id).where(Camera.key == CAMERA))
    assert camera_id is not None, "camera plaza is not in the store"

    def at(minutes: float) -> datetime:
        return base + timedelta(minutes=minutes)

    def file(
        person_key: int,
        name: str | None,
        named_by: str | None,
        segments: list[dict[str, Any]],
        *,
        person: str | None,
        source: str,
        track_id: int | None = None,
    ) -> int:
        ended = max(datetime.fromisoformat(s["to"]) for s in segments)
        started = min(datetime.fromisoformat(s["from"]) for s in segments)
        detail = {
            "person_key": person_key,
            "name": name,
            "named_by": named_by,
            "segments": segments,
            "started_at": started.isoformat(),
            "ended_at": ended.isoformat(),
        }
        event_id = writer.execute(
            InsertEvent(
                ts=ended + timedelta(seconds=30),  # filed a handover's time after its end
                kind="person.path",
                source=source,
                detail=detail,
                camera_id=camera_id if source.startswith("camera:") else None,
                track_id=track_id,
                person=person,
            )
        )
        assert isinstance(event_id, int)
        return event_id

    for room, blob, minutes in ((LOBBY, 12, 2.5), (OFFICE, 14, 8.0), (OFFICE, 18, 14.5)):
        writer.execute(
            InsertEvent(
                ts=at(minutes),
                kind="sensing.blob_appeared",
                source=f"sensing:{room}",
                detail={"blob_id": blob},
            )
        )
    yesterday = base - timedelta(days=1)
    ada_earlier = file(
        1,
        "Ada",
        "face",
        [
            segment("camera", CAMERA, 3, yesterday, yesterday + timedelta(minutes=2)),
            segment(
                "sensing",
                LOBBY,
                4,
                yesterday + timedelta(minutes=1.5),
                yesterday + timedelta(minutes=6),
            ),
        ],
        person=ADA,
        source=f"sensing:{LOBBY}",
    )
    ada = file(
        2,
        "Ada",
        "face",
        [
            segment("camera", CAMERA, 7, at(0), at(3)),
            segment("sensing", LOBBY, 12, at(2.5), at(8)),
            segment("sensing", OFFICE, 14, at(8), at(12)),
        ],
        person=ADA,
        source=f"sensing:{OFFICE}",
    )
    bo = file(
        3,
        "Bo",
        "ble",
        [
            segment("sensing", LOBBY, 16, at(5), at(9)),
            segment("camera", CAMERA, 9, at(9), at(11)),
            segment("ble", "02:57:46:42:00:02", None, at(5), at(11), label="Bo's phone"),
        ],
        person=BO,
        source=f"camera:{CAMERA}",
        track_id=9,
    )
    unknown = file(
        4,
        None,
        None,
        [
            segment("camera", CAMERA, 11, at(13), at(15)),
            segment("sensing", OFFICE, 18, at(14.5), at(19)),
        ],
        person=None,
        source=f"sensing:{OFFICE}",
    )
    auto = file(
        5,
        AUTO,
        "face",
        [
            segment("sensing", OFFICE, 20, at(20), at(22)),
            segment("camera", CAMERA, 13, at(22), at(23.5)),
        ],
        person=AUTO,
        source=f"camera:{CAMERA}",
        track_id=13,
    )
    return SeededPaths(ada_earlier, ada, bo, unknown, auto)


def open_store_with_paths(url: str, folder: Path, base: datetime) -> tuple[Store, SeededPaths]:
    """A store at ``url`` with camera ``plaza``, the people and their paths from ``base``
    (the caller closes it)."""
    site = load_site(write_site(folder / "paths-site.toml", PLAZA_CAMERA))
    store = Store(url)
    try:
        with StoreWriter.running(store) as writer:
            writer.execute(SyncSite(site=site, at=base))
            seed_people(store)
            seeded = seed_person_paths(store, writer, base)
    except BaseException:
        store.close()
        raise
    return store, seeded
