"""The Sensing pane of a site with several rooms: a room selector lists the rooms by name,
shows one room at a time, keeps the room chosen at this desk for the next time the pane is
built, names the engine holding the selected room (attached), and pairs nodes in the
selected room."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.access import Actor, Role
from engine.bus import EventBus
from engine.sensing.service import SensingUpdated
from tests.settings import MemorySettings
from tests.widgets.test_sensing_view import snapshot
from widgets.sensing import plugin as sensing_plugin
from widgets.sensing.view import PAIRING_SECONDS, SensingPane

ROOMS = [("lab", "Lab"), ("office", "Front office")]


class _TwoRooms:
    """A backend of two rooms: each held by its own engine when ``attached``."""

    def __init__(self, attached: bool = False) -> None:
        self.attached = attached
        self.paired: list[tuple[int, str]] = []

    def rooms(self) -> list[tuple[str, str]]:
        return list(ROOMS)

    def runs_elsewhere(self, room_id: str | None = None) -> str:
        if not self.attached:
            return ""
        engine = {"lab": "server-a", "office": "server-b"}.get(room_id or "", "server-a")
        return f"The room runs on engine {engine}, not in this attached console"

    def pairing_unavailable(self) -> str:
        return ""

    def explain(self, room_id: str, track_id: int) -> None:
        return None

    def open_pairing(self, seconds: int, room_id: str) -> datetime:
        self.paired.append((seconds, room_id))
        return datetime.now().astimezone()


class _Queries:
    """Runs an action at once and hands its result on (as the query service would, later)."""

    def submit_action(
        self, channel: str, run: Callable[[], Any], done: Callable[..., None]
    ) -> None:
        done(SimpleNamespace(value=run(), error=None))


def _build(
    qtbot: QtBot, bridge: QtBridge, backend: _TwoRooms, settings: MemorySettings
) -> SensingPane:
    ctx = SimpleNamespace(
        backend=backend,
        events=bridge,
        queries=_Queries(),
        actor=Actor("ada", frozenset({Role.ADMIN})),
        settings=settings,
        show_message=lambda *_: None,
    )
    pane = sensing_plugin.build(ctx)  # type: ignore[arg-type]
    assert isinstance(pane, SensingPane)
    qtbot.addWidget(pane)
    pane.resize(1200, 600)
    with qtbot.waitExposed(pane):
        pane.show()
    return pane


def test_the_room_selector_lists_room_names_and_keeps_the_choice(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    settings = MemorySettings()
    try:
        pane = _build(qtbot, bridge, _TwoRooms(), settings)
        combo = pane.room_combo
        assert combo.isVisible() and pane.room_label.isVisible()
        assert pane.room_label.text() == "Room" and pane.room_label.buddy() is combo
        assert [combo.itemText(i) for i in range(combo.count())] == ["Lab", "Front office"]
        assert pane.current_room_id == "lab"
        # Both rooms' pictures arrive; the selected one is drawn.
        for room_id in ("lab", "office"):
            with qtbot.waitSignal(bridge.signal_of(SensingUpdated)):
                bus.publish(
                    SensingUpdated(
                        at=datetime.now().astimezone(), snapshot=snapshot(room_id=room_id)
                    )
                )
        assert pane.view.snapshot is not None and pane.view.snapshot.room_id == "lab"

        combo.setCurrentIndex(1)
        assert pane.view.snapshot is not None and pane.view.snapshot.room_id == "office"
        assert settings.values[sensing_plugin.ROOM_KEY] == "office"
        # Another room's picture does not take the view away from the chosen room.
        bus.publish(SensingUpdated(at=datetime.now().astimezone(), snapshot=snapshot()))
        qtbot.wait(50)
        assert pane.current_room_id == "office"
        assert pane.view.snapshot is not None and pane.view.snapshot.room_id == "office"

        # Built again (the console restarted): the chosen room is shown, and pairing opens
        # in it.
        backend = _TwoRooms()
        again = _build(qtbot, bridge, backend, settings)
        assert again.current_room_id == "office"  # kept from last time at this desk
        again.on_actor_changed(Actor("ada", frozenset({Role.ADMIN})))
        again.pairing_button.click()
        assert backend.paired == [(PAIRING_SECONDS, "office")]
    finally:
        bridge.close()


def test_an_attached_pane_names_the_engine_holding_the_selected_room(qtbot: QtBot) -> None:
    bridge = QtBridge(EventBus())
    try:
        pane = _build(qtbot, bridge, _TwoRooms(attached=True), MemorySettings())
        assert "engine server-a" in pane.explanation_label.text()
        pane.room_combo.setCurrentIndex(1)
        assert "engine server-b" in pane.explanation_label.text()
        pane.sig_blob_clicked.emit("office", 3)
        assert pane.explanation_label.text().startswith("Blob #3: not explained here.")
        assert "engine server-b" in pane.explanation_label.text()
    finally:
        bridge.close()


def test_a_saved_room_no_longer_in_the_site_is_ignored(qtbot: QtBot) -> None:
    bridge = QtBridge(EventBus())
    settings = MemorySettings()
    settings.values[sensing_plugin.ROOM_KEY] = "attic"
    try:
        pane = _build(qtbot, bridge, _TwoRooms(), settings)
        assert pane.current_room_id == "lab"
    finally:
        bridge.close()
