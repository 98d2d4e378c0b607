"""The Alert rules page follows the site's cameras while the console runs: a new rule may
be for an added camera, rules name a renamed camera by its new name, and a removed camera
leaves the form (its rules keep its last name); a form on it moves to another camera."""

from __future__ import annotations

from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.alerts.rules import RuleSpec
from engine.bus import EventBus
from tests.widgets.test_activity_follows_cameras import CallsAtOnce, site_cameras_changed
from widgets.alert_rules import plugin as alert_rules_plugin
from widgets.alert_rules.view import COLUMN_WHERE, AlertRulesPane

RULES = [
    RuleSpec(1, "Gate at night", "gate", None, "person"),
    RuleSpec(2, "Yard loitering", "yard", None, "loitering", loiter_s=30),
]


class _Rules:
    def list_rules(self) -> list[RuleSpec]:
        return list(RULES)


def _places(pane: AlertRulesPane) -> list[tuple[str, str]]:
    combo = pane.place_combo
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


def test_alert_rules_offer_an_added_camera_rename_and_drop_a_removed_one(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        cameras=[("gate", "Front gate"), ("yard", "Yard")],
        rooms=[("lab", "Lab")],
        queries=CallsAtOnce(),
        backend=_Rules(),
        events=bridge,
        frame_of=lambda _camera: None,
        site=SimpleNamespace(alerts=SimpleNamespace(camera_offline_s=60.0)),
    )
    try:
        pane = alert_rules_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, AlertRulesPane)
        qtbot.addWidget(pane)
        assert pane.cell_text("Gate at night", COLUMN_WHERE) == "Front gate"
        pane.place_combo.setCurrentIndex(pane.place_combo.findData("yard"))
        assert pane.zone_editor.camera() == "yard"

        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("gate", "Main gate"), ("yard", "Yard"), ("dock", "Loading dock")],
            added=("dock",),
            renamed=("gate",),
        )
        assert _places(pane) == [("gate", "Main gate"), ("yard", "Yard"), ("dock", "Loading dock")]
        assert pane.place_combo.currentData() == "yard"  # the form stays on its camera
        assert pane.cell_text("Gate at night", COLUMN_WHERE) == "Main gate"

        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("gate", "Main gate"), ("dock", "Loading dock")],
            removed=("yard",),
        )
        assert _places(pane) == [("gate", "Main gate"), ("dock", "Loading dock")]
        assert pane.place_combo.currentData() == "gate" and pane.zone_editor.camera() == "gate"
        assert pane.cell_text("Yard loitering", COLUMN_WHERE) == "Yard"  # its last name

        # No camera left: the form offers the rooms.
        site_cameras_changed(qtbot, bus, bridge, ctx, [], removed=("gate", "dock"))
        assert pane.room_radio.isChecked() and not pane.camera_radio.isEnabled()
        assert _places(pane) == [("lab", "Lab")] and pane.zone_editor.camera() is None
    finally:
        bridge.close()
