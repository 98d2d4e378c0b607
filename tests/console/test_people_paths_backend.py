"""The People pane's reader of paths across senses on real SQLite and PostgreSQL: a
person's recent paths newest first, and today's (the site's day, not UTC's) paths of people
nobody has named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.backends.people import PersonPaths
from engine.sitetime import SiteTime
from engine.store.commands import InsertEvent
from engine.store.writer import StoreWriter
from tests.person_paths import ADA, BO, OFFICE, open_store_with_paths, segment

pytestmark = pytest.mark.sql

# 14:00 UTC is 03:00 the next day in Auckland (UTC+13 in November): the site's day began
# at 11:00 UTC on the 26th.
BASE = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
AUCKLAND = SiteTime.named("Pacific/Auckland")


def test_a_person_s_paths_and_today_s_unnamed_ones(db_url: str, tmp_path: Path) -> None:
    store, ids = open_store_with_paths(db_url, tmp_path, BASE)
    try:
        # Someone unknown in the office at 10:50 UTC: 23:50 on the site's previous day.
        late = BASE - timedelta(hours=3, minutes=10)
        with StoreWriter.running(store) as writer:
            yesterday = writer.execute(
                InsertEvent(
                    ts=late + timedelta(minutes=5),
                    kind="person.path",
                    source=f"sensing:{OFFICE}",
                    detail={
                        "name": None,
                        "named_by": None,
                        "segments": [
                            segment("sensing", OFFICE, 30, late, late + timedelta(minutes=4))
                        ],
                    },
                )
            )
        paths = PersonPaths(store, AUCKLAND, lambda: BASE + timedelta(minutes=40))
        ada = paths.of_person(ADA)
        bo = paths.of_person(BO)
        unnamed = paths.unnamed_today()
        day_before = PersonPaths(store, AUCKLAND, lambda: BASE - timedelta(hours=3, minutes=5))
        unnamed_before = day_before.unnamed_today()
    finally:
        store.close()
    assert [p.event_id for p in ada] == [ids.ada, ids.ada_earlier]
    assert [p.event_id for p in bo] == [ids.bo]
    assert [p.event_id for p in unnamed] == [ids.auto, ids.unknown]
    assert [p.event_id for p in unnamed_before] == [yesterday]
