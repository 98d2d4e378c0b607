"""A recording analysed into the site (``watchfloor analyze VIDEO``) is one of the site's
cameras in the console: the Events pane's camera filter offers it by name and lists its
events (before, its events were under a camera no filter offered)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from engine.analyze import analyze_video
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.store import Store
from tests.conftest import TESTDATA, cut_video, write_site
from tests.console.conftest import OpenConsole

TIMEOUT_MS = 30_000


def test_the_events_filter_offers_an_analysed_recordings_camera(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    site_file = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "dock"\nname = "Loading dock"\nurl = "{tmp_path / "none.mp4"}"\n',
    )
    video = cut_video(TESTDATA / "video" / "vtest.avi", tmp_path / "vtest.avi", 30)
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")  # the console's database
    try:
        report = analyze_video(
            video, clock=REAL_CLOCK, store=store, site=load_site(site_file), faces=False
        )
    finally:
        store.close()
    assert report["camera"] == "vtest" and report["tracks"]

    _host, window = open_console(site_file)
    events = window.panes["events"]
    combo = events.camera_combo
    offered = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    assert offered == [("All cameras", None), ("Loading dock", "dock"), ("vtest.avi", "vtest")]
    assert [name for _key, name in window.host.cameras] == ["Loading dock"]  # live tiles only

    events.set_summary(False)  # each track's rows: an analysis groups no activities
    combo.setCurrentIndex(offered.index(("vtest.avi", "vtest")))
    qtbot.waitUntil(
        lambda: (
            not events.is_loading()
            and any(v.kind == "person.appeared" for v in events.model.events())
        ),
        timeout=TIMEOUT_MS,
    )
    assert {v.source for v in events.model.events()} == {"camera:vtest"}
