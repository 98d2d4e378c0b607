"""The Privacy masks and Floor calibration pages follow the site's cameras while the
console runs: the camera choice offers an added camera and names a renamed one by its new
name; the camera shown stays with its work; a page on a removed camera shows the first
camera, and the work on the removed one is dropped."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.config import load_site
from tests.conftest import write_site
from tests.widgets.test_activity_follows_cameras import CallsAtOnce, site_cameras_changed
from widgets.floor_calibration import plugin as floor_calibration_plugin
from widgets.floor_calibration.view import FloorCalibrationPane
from widgets.privacy_masks import plugin as privacy_masks_plugin
from widgets.privacy_masks.view import PrivacyMasksPane

GATE = '[[cameras]]\nid = "gate"\nname = "{gate}"\nurl = "a.mp4"\n'
YARD = '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "b.mp4"\n'
DOCK = '[[cameras]]\nid = "dock"\nname = "Loading dock"\nurl = "c.mp4"\n'


class _NothingStored:
    def stored_mask(self, _camera: str) -> None:
        return None

    def stored_calibration(self, _camera: str) -> None:
        return None


def _offered(pane: PrivacyMasksPane | FloorCalibrationPane) -> list[tuple[str, str]]:
    combo = pane.camera_combo
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


@pytest.mark.parametrize("page", ["privacy_masks", "floor_calibration"])
def test_a_camera_page_offers_the_sites_cameras_as_they_are_now(
    qtbot: QtBot, tmp_path: Path, page: str
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    file = tmp_path / "site.toml"
    picture = SimpleNamespace(image=np.zeros((240, 320, 3), np.uint8))  # a decoded frame
    ctx = SimpleNamespace(
        site=load_site(write_site(file, GATE.format(gate="Front gate") + YARD)),
        queries=CallsAtOnce(),
        backend=_NothingStored(),
        events=bridge,
        frame_of=lambda _camera: picture,
        camera_video_state=None,
    )
    plugin: Any = privacy_masks_plugin if page == "privacy_masks" else floor_calibration_plugin
    try:
        pane = plugin.build(ctx)
        assert isinstance(pane, PrivacyMasksPane | FloorCalibrationPane)
        qtbot.addWidget(pane)
        pane.select_camera("yard")

        def work() -> int:
            if isinstance(pane, PrivacyMasksPane):
                return len(pane.drawing())
            return len(pane.rows())

        if isinstance(pane, PrivacyMasksPane):
            pane.add_corner(0.2, 0.2)
        else:
            pane.add_point(0.2, 0.2)
        assert work() == 1

        ctx.site = load_site(write_site(file, GATE.format(gate="Main gate") + YARD + DOCK))
        site_cameras_changed(qtbot, bus, bridge, ctx, [], added=("dock",), renamed=("gate",))
        assert _offered(pane) == [("gate", "Main gate"), ("yard", "Yard"), ("dock", "Loading dock")]
        assert pane.camera() == "yard" and pane.camera_combo.currentText() == "Yard"
        assert work() == 1  # the work on the camera shown stays

        ctx.site = load_site(write_site(file, GATE.format(gate="Main gate") + DOCK))
        site_cameras_changed(qtbot, bus, bridge, ctx, [], removed=("yard",))
        assert _offered(pane) == [("gate", "Main gate"), ("dock", "Loading dock")]
        assert pane.camera() == "gate" and pane.camera_combo.currentText() == "Main gate"
        assert work() == 0
        pane.select_camera("dock")  # an added camera's picture is worked on
        assert pane.camera() == "dock"

        ctx.site = load_site(write_site(file))
        site_cameras_changed(qtbot, bus, bridge, ctx, [], removed=("gate", "dock"))
        assert _offered(pane) == [] and pane.camera() is None
        assert not pane.camera_combo.isEnabled()
    finally:
        bridge.close()
