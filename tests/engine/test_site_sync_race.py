"""Engines of a shared site started together on a new database each mirror the site from
its file (``SyncSite``) at once: every one of them gets the same site and camera ids, none
is refused with "duplicate key … sites_name_key" (which stopped an engine of the cluster
benchmark). Real SQLite and PostgreSQL, one store and writer per engine."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.config import load_site
from engine.store.database import Store
from engine.store.sites import SiteIds, SyncSite
from engine.store.writer import StoreWriter
from tests.conftest import write_site

pytestmark = pytest.mark.sql

ENGINES = 6


def test_engines_mirroring_one_site_at_once_all_get_its_ids(db_url: str, tmp_path: Path) -> None:
    cameras = "".join(
        f'[[cameras]]\nid = "cam{i}"\nurl = "rtsp://10.0.0.{i}/live"\n\n' for i in range(4)
    )
    site = load_site(write_site(tmp_path / "site.toml", cameras))
    stores = [Store(db_url) for _ in range(ENGINES)]
    results: list[SiteIds | BaseException] = []
    start = threading.Barrier(ENGINES)
    lock = threading.Lock()

    def engine(store: Store) -> None:
        with StoreWriter.running(store) as writer:
            start.wait()
            try:
                ids = writer.execute(SyncSite(site=site, at=datetime.now(UTC)), 60)
            except BaseException as exc:
                ids = exc
        with lock:
            results.append(ids)

    threads = [threading.Thread(target=engine, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for store in stores:
        store.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, failed
    assert len(results) == ENGINES
    assert len({(r.site_id, tuple(sorted(r.cameras.items()))) for r in results}) == 1
