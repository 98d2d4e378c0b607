"""The Activity pane on a real console: it lists every camera, counts what the engine
stores as it is stored, and agrees with the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.history.chat.presence import presence
from tests.conftest import write_site
from tests.console.conftest import OpenConsole
from widgets.activity.view import ActivityPane


@pytest.mark.slow
def test_the_activity_pane_counts_what_is_stored_per_camera(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_avi}"\n'
        f'[[cameras]]\nid = "door"\nname = "Door"\nurl = "{tmp_path / "missing.avi"}"\n',
    )
    host, window = open_console(site, accounts={"olga": "operator"}, login="olga")
    pane = window.pane("activity", ActivityPane)
    # The operator finds it as a tab behind the live events.
    assert "activity" in {
        d.objectName().removeprefix("dock-")
        for d in window.tabifiedDockWidgets(window.docks["events"])
    }
    assert [row.name for row in pane.rows()] == ["Plaza", "Door"]

    writer = host.runtime.writer
    assert writer is not None

    def people_stored() -> tuple[int, int]:
        """The people the store's rows of the hour prove (the engine's own count, as Ask
        says it) and the tracks they made."""
        assert writer.flush(10)
        now = host.runtime.clock.now()
        found = presence(host.store, low=now - timedelta(hours=1), high=now)
        return found.people, found.tracks

    def agrees() -> bool:
        pane.show_counts()
        shown = pane.rows()[0].counts[0]
        people, tracks = people_stored()
        # People, not tracks: the pane's count is the store's, however many tracks.
        return tracks >= 2 and shown == people and "at once" in str(pane.model.index(0, 1).data())

    qtbot.waitUntil(agrees, timeout=60_000)
    plaza, door = pane.rows()
    assert plaza.last is not None and not plaza.at_least
    assert door.counts == (0, 0, 0, 0, 0) and door.last is None
    assert pane.model.index(1, 6).data() == "nothing this hour"
