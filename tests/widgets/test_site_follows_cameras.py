"""The Site page follows the site's cameras while the console runs: an added camera is
listed (starting), a renamed one by its new name with its status kept, and a removed one
is no longer listed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.config import load_site
from engine.events import CameraStatus
from tests.conftest import write_site
from tests.widgets.test_activity_follows_cameras import site_cameras_changed
from widgets.site import plugin as site_plugin
from widgets.site.view import SiteOverview

GATE = '[[cameras]]\nid = "gate"\nname = "{gate}"\nurl = "a.mp4"\n'
YARD = '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "b.mp4"\n'
DOCK = '[[cameras]]\nid = "dock"\nname = "Loading dock"\nurl = "c.mp4"\n'


def _listed(overview: SiteOverview) -> list[tuple[str, str]]:
    root = overview.topLevelItem(0)
    (cameras,) = [
        root.child(i)
        for i in range(root.childCount())
        if root.child(i).text(0).startswith("Cameras")
    ]
    assert cameras.isExpanded()
    shown = [cameras.child(i) for i in range(cameras.childCount())]
    return [(cameras.text(0), "")] + [(item.text(0), item.text(1)) for item in shown]


def test_the_site_page_lists_the_sites_cameras_as_they_are_now(
    qtbot: QtBot, tmp_path: Path
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    file = tmp_path / "site.toml"
    ctx = SimpleNamespace(
        site=load_site(write_site(file, GATE.format(gate="Front gate") + YARD)), events=bridge
    )
    try:
        overview = site_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(overview, SiteOverview)
        qtbot.addWidget(overview)
        overview.on_camera_status_changed("gate", CameraStatus.ONLINE, "15 fps")
        assert _listed(overview) == [
            ("Cameras (2)", ""),
            ("Front gate", "online"),
            ("Yard", "starting"),
        ]

        ctx.site = load_site(write_site(file, GATE.format(gate="Main gate") + DOCK))
        site_cameras_changed(
            qtbot, bus, bridge, ctx, [], added=("dock",), removed=("yard",), renamed=("gate",)
        )
        assert _listed(overview) == [
            ("Cameras (2)", ""),
            ("Main gate", "online"),  # it ran on under its new name
            ("Loading dock", "starting"),
        ]
        overview.on_camera_status_changed("dock", CameraStatus.ONLINE, "15 fps")
        assert _listed(overview)[2] == ("Loading dock", "online")
    finally:
        bridge.close()
