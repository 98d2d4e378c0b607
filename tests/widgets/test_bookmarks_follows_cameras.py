"""The Bookmarks pane follows the site's cameras while the console runs: a new bookmark
may be on an added camera, bookmarks and locks name a renamed camera by its new name, and a
removed camera leaves the source choices while its bookmarks and locks keep its last name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.history.bookmarks import BookmarkListRequest, BookmarkView
from engine.history.locks import EvidenceLockListRequest, LockView
from tests.widgets.test_activity_follows_cameras import CallsAtOnce, site_cameras_changed
from widgets.bookmarks import plugin as bookmarks_plugin
from widgets.bookmarks.view import BookmarksPane

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
BOOKMARK = BookmarkView(
    1, "Fight", "", T0, 10, 20, T0 - timedelta(seconds=10), T0 + timedelta(seconds=20),
    "gate", None, "account:ian", T0,
)  # fmt: skip
LOCK = LockView(
    7, T0, T0 + timedelta(minutes=1), "police request", ("gate", "yard"), (), 1, None,
    "account:ian", T0, None, None, 2,
)  # fmt: skip


def _sources(pane: BookmarksPane) -> list[str]:
    combo = pane.source_combo
    return [combo.itemText(i) for i in range(combo.count())]


def test_bookmarks_offer_an_added_camera_rename_and_keep_a_removed_ones_name(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        cameras=[("gate", "Front gate"), ("yard", "Yard")],
        rooms=[("lab", "Lab")],
        queries=CallsAtOnce({BookmarkListRequest: [BOOKMARK], EvidenceLockListRequest: [LOCK]}),
        backend=None,
        events=bridge,
        now=lambda: T0,
    )
    try:
        pane = bookmarks_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, BookmarksPane)
        qtbot.addWidget(pane)
        pane.refresh()
        assert pane.bookmark_list.topLevelItem(0).text(2) == "camera Front gate"
        assert pane.lock_list.topLevelItem(0).text(1) == "Front gate, Yard"
        pane.source_combo.setCurrentIndex(pane.source_combo.findText("Camera Yard"))

        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("gate", "Main gate"), ("yard", "Yard"), ("dock", "Loading dock")],
            added=("dock",),
            renamed=("gate",),
        )
        assert _sources(pane) == [
            "Whole site",
            "Camera Main gate",
            "Camera Yard",
            "Camera Loading dock",
            "Room Lab",
        ]
        assert pane.source_combo.currentText() == "Camera Yard"  # the choice stays
        assert pane.bookmark_list.topLevelItem(0).text(2) == "camera Main gate"
        assert pane.lock_list.topLevelItem(0).text(1) == "Main gate, Yard"

        site_cameras_changed(
            qtbot, bus, bridge, ctx, [("dock", "Loading dock")], removed=("gate", "yard")
        )
        assert _sources(pane) == ["Whole site", "Camera Loading dock", "Room Lab"]
        assert pane.source_combo.currentText() == "Whole site"  # its camera is gone
        # History keeps the removed cameras' last names.
        assert pane.bookmark_list.topLevelItem(0).text(2) == "camera Main gate"
        assert pane.lock_list.topLevelItem(0).text(1) == "Main gate, Yard"
    finally:
        bridge.close()
