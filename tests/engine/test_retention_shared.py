"""Retention on a site shared by several engines, each keeping its clips in its own data
dir: each engine's writer signs the media it stores, and an engine short of disk space (or
purging by age) deletes only its own files — never another server's evidence, whose
deletion would free nothing on its disk. Real SQLite and PostgreSQL, real store writers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import REAL_CLOCK
from engine.media import MediaFile
from engine.retention import RetentionPolicy, run_retention
from engine.store.commands import InsertMedia
from engine.store.database import Store
from engine.store.models import Media
from engine.store.writer import StoreWriter

pytestmark = pytest.mark.sql

LONG_AGO = datetime.now(UTC) - timedelta(days=400)


def _clip(writer: StoreWriter, data_dir: Path, name: str, age_days: float) -> None:
    path = f"clips/cam1/{name}.mp4"
    (data_dir / "clips" / "cam1").mkdir(parents=True, exist_ok=True)
    (data_dir / path).write_bytes(b"x" * 1000)
    writer.execute(
        InsertMedia(
            file=MediaFile("clip", path, "0" * 64, 1000),
            created_at=datetime.now(UTC) - timedelta(days=age_days),
        )
    )


def test_an_engine_short_of_space_deletes_only_its_own_clips(store: Store, tmp_path: Path) -> None:
    data_a, data_b = tmp_path / "server-a", tmp_path / "server-b"
    with (
        StoreWriter.running(store, engine_name="server-a") as a,
        StoreWriter.running(store, engine_name="server-b") as b,
    ):
        _clip(b, data_b, "b-oldest", 20)  # the site's oldest clip is server-b's
        _clip(a, data_a, "a-older", 10)
        _clip(a, data_a, "a-newer", 5)
        with store.sessions() as session:
            owners = dict(session.execute(select(Media.path, Media.engine)).all())
        assert owners == {
            "clips/cam1/b-oldest.mp4": "server-b",
            "clips/cam1/a-older.mp4": "server-a",
            "clips/cam1/a-newer.mp4": "server-a",
        }
        # server-a's disk stays full whatever it deletes: it goes as far as it may.
        report = run_retention(
            store,
            REAL_CLOCK,
            data_a,
            RetentionPolicy(min_free_bytes=10**9),
            writer=a,
            disk_free=lambda _path: 0,
        )
    assert sorted(report.deleted_paths) == ["clips/cam1/a-newer.mp4", "clips/cam1/a-older.mp4"]
    assert not report.floor_reached
    with store.sessions() as session:
        kept = list(session.scalars(select(Media.path)))
    assert kept == ["clips/cam1/b-oldest.mp4"]
    assert (data_b / "clips/cam1/b-oldest.mp4").is_file()


def test_an_engine_purges_only_its_own_clips_by_age(store: Store, tmp_path: Path) -> None:
    with (
        StoreWriter.running(store, engine_name="server-a") as a,
        StoreWriter.running(store, engine_name="server-b") as b,
    ):
        _clip(a, tmp_path / "a", "a-old", 60)
        _clip(b, tmp_path / "b", "b-old", 60)
        report = run_retention(
            store,
            REAL_CLOCK,
            tmp_path / "a",
            RetentionPolicy(clips_days=30, min_free_bytes=0),
            writer=a,
        )
    assert report.deleted_paths == ["clips/cam1/a-old.mp4"]
    with store.sessions() as session:
        assert list(session.scalars(select(Media.path))) == ["clips/cam1/b-old.mp4"]
