"""The Sensing pane of a console attached to a shared site: the room's pictures arrive
from the engine holding it and are drawn as ever; what needs the live room in this process
(a blob's explanation, pairing) says it is done on that engine instead of showing nothing."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.access import Actor, Role
from engine.bus import EventBus
from engine.sensing.service import SensingUpdated
from tests.widgets.test_sensing_view import snapshot
from widgets.sensing import plugin as sensing_plugin
from widgets.sensing.view import SensingPane

ELSEWHERE = (
    "The room runs on engine server-a, not in this attached console: blob explanations and "
    "node pairing are done there"
)


class _AttachedActions:
    """An attached console's sensing backend: the site's room, run by server-a."""

    def rooms(self) -> list[tuple[str, str]]:
        return [("lab", "Lab")]

    def runs_elsewhere(self, room_id: str | None = None) -> str:
        return ELSEWHERE

    def pairing_unavailable(self) -> str:
        return "Pairing is opened on engine server-a"

    def explain(self, room_id: str, track_id: int) -> None:
        raise AssertionError("an attached console has no live room to ask")

    def open_pairing(self, seconds: int, room_id: str) -> datetime:
        raise AssertionError("not offered")


def test_an_attached_sensing_pane_draws_the_room_and_says_where_blobs_are_explained(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        backend=_AttachedActions(),
        events=bridge,
        queries=None,
        actor=None,
        settings=SimpleNamespace(
            value=lambda key, default=None: default, setValue=lambda key, value: None
        ),
        show_message=lambda *_: None,
    )
    pane = sensing_plugin.build(ctx)  # type: ignore[arg-type]
    assert isinstance(pane, SensingPane)
    qtbot.addWidget(pane)
    pane.resize(1200, 600)
    pane.show()
    try:
        assert pane.has_rooms()
        assert pane.explanation_label.text() == ELSEWHERE  # said before anyone clicks
        with qtbot.waitSignal(bridge.signal_of(SensingUpdated)):
            bus.publish(SensingUpdated(at=datetime.now().astimezone(), snapshot=snapshot()))
        assert pane.view.snapshot is not None
        assert "2 blobs" in pane.status_label.text()
        pane.sig_blob_clicked.emit("lab", 7)
        assert pane.explanation_label.text() == f"Blob #7: not explained here. {ELSEWHERE}."
        assert pane.explanation_table.explanation_model.rowCount() == 0
        pane.on_actor_changed(Actor("ada", frozenset({Role.ADMIN})))
        assert not pane.pairing_button.isEnabled()
        assert pane.pairing_button.toolTip() == "Pairing is opened on engine server-a"
    finally:
        bridge.close()
