"""People's paths read back on real SQLite and PostgreSQL: by range, by person, and only
those of people nobody has named (an automatic id is no name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.history.paths import PathsRequest, path_sentence
from engine.sitetime import SiteTime
from tests.person_paths import ADA, AUTO, BO, open_store_with_paths

pytestmark = pytest.mark.sql

BASE = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
LONDON = SiteTime.named("Europe/London")


def test_paths_of_people_nobody_named_are_found_apart(db_url: str, tmp_path: Path) -> None:
    store, seeded = open_store_with_paths(db_url, tmp_path, BASE)
    try:
        everyone = PathsRequest(LONDON, after=BASE, before=BASE + timedelta(hours=1)).run(store)
        unnamed = PathsRequest(LONDON, after=BASE, unnamed=True).run(store)
        bo = PathsRequest(LONDON, person=BO).run(store)
        ada = PathsRequest(LONDON, person=ADA).run(store)
    finally:
        store.close()
    assert [p.event_id for p in everyone] == [seeded.auto, seeded.unknown, seeded.ada, seeded.bo]
    # Someone nobody knows, and someone known only by the face memory's automatic id.
    assert [p.event_id for p in unnamed] == [seeded.auto, seeded.unknown]
    assert [p.named for p in unnamed] == [False, False]
    assert unnamed[0].person_public_id == AUTO and unnamed[1].label == "Someone unknown"
    assert [(p.event_id, p.named, p.named_by) for p in bo] == [(seeded.bo, True, "ble")]
    assert [p.event_id for p in ada] == [seeded.ada, seeded.ada_earlier]
    assert path_sentence(bo[0]) == (
        "Bo: sensed in Lobby 14:05–14:09, seen by Plaza east 14:09–14:11, "
        "device ‘Bo's phone’ throughout"
    )
