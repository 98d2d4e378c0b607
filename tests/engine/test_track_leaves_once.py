"""A track leaves once. When an engine hangs past its lease, the engine taking its camera
over ends the tracks it left open; should the hung engine wake, it ends them too. The
second ``person.left`` of a (camera, track) is not stored, and not announced, whoever
sends it. Real SQLite and PostgreSQL, real store writers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.store.commands import InsertEvent
from engine.store.database import Store
from engine.store.models import Camera, Event, Site
from engine.store.writer import StoreWriter

pytestmark = pytest.mark.sql

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _camera(store: Store) -> int:
    with store.write_transaction() as session:
        site = Site(name="Shared site", geo_lat=0.0, geo_lon=0.0, updated_at=AT)
        session.add(site)
        session.flush()
        camera = Camera(site_id=site.id, key="plaza", name="Plaza", url="x", source_kind="file")
        session.add(camera)
        session.flush()
        return camera.id


def _left(camera_id: int, track: int, engine: str, detail: dict[str, object]) -> InsertEvent:
    return InsertEvent(
        ts=AT + timedelta(seconds=track),
        kind="person.left",
        source="camera:plaza",
        detail=detail,
        camera_id=camera_id,
        track_id=track,
        engine=engine,
    )


def test_a_second_person_left_of_a_track_is_not_stored(store: Store) -> None:
    camera_id = _camera(store)
    with (
        StoreWriter.running(store, engine_name="server-b") as taker,
        StoreWriter.running(store, engine_name="server-a") as woken,
    ):
        first = taker.execute(_left(camera_id, 7, "server-b", {"ended": "server-a stopped"}))
        again = woken.execute(_left(camera_id, 7, "server-a", {}))
        other = woken.execute(_left(camera_id, 8, "server-a", {}))
    assert isinstance(first, int) and isinstance(other, int)
    assert again is None
    with store.transaction() as session:
        rows = session.execute(
            select(Event.track_id, Event.engine).where(Event.kind == "person.left")
        ).all()
    assert sorted((int(t), str(e)) for t, e in rows) == [(7, "server-b"), (8, "server-a")]


def test_other_kinds_of_a_track_are_all_stored(store: Store) -> None:
    camera_id = _camera(store)
    with StoreWriter.running(store, engine_name="server-a") as writer:
        for kind in ("person.appeared", "face.recognised", "face.recognised"):
            command = _left(camera_id, 3, "server-a", {})
            writer.execute(
                InsertEvent(
                    ts=command.ts,
                    kind=kind,
                    source=command.source,
                    detail={},
                    camera_id=camera_id,
                    track_id=3,
                )
            )
    with store.transaction() as session:
        kinds = list(session.scalars(select(Event.kind).where(Event.track_id == 3)))
    assert sorted(kinds) == ["face.recognised", "face.recognised", "person.appeared"]
