"""The Gestures page follows the site's cameras while the console runs: the teach wizard
opened after a change offers an added camera, names a renamed one by its new name, and no
longer offers a removed one."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from tests.widgets.test_activity_follows_cameras import CallsAtOnce, site_cameras_changed
from widgets.gestures import plugin as gestures_plugin
from widgets.gestures.view import GesturesPane


class _NoGestures:
    def list_gestures(self) -> list[Any]:
        return []


def _wizard_cameras(pane: GesturesPane) -> list[tuple[str, str]]:
    dialog = pane.open_teach_dialog()
    assert dialog is not None
    combo = dialog.camera_combo
    offered = [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]
    dialog.reject()
    return offered


def test_the_teach_wizard_offers_the_sites_cameras_as_they_are_now(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        cameras=[("gate", "Front gate"), ("yard", "Yard")],
        queries=CallsAtOnce(),
        backend=_NoGestures(),
        events=bridge,
        when_closing=lambda **_: None,
    )
    try:
        pane = gestures_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, GesturesPane)
        qtbot.addWidget(pane)
        assert _wizard_cameras(pane) == [("gate", "Front gate"), ("yard", "Yard")]
        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("gate", "Main gate"), ("dock", "Loading dock")],
            added=("dock",),
            removed=("yard",),
            renamed=("gate",),
        )
        assert _wizard_cameras(pane) == [("gate", "Main gate"), ("dock", "Loading dock")]
    finally:
        bridge.close()
