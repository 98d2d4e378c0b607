"""The console on a site of two sensing rooms of real nodes: the Sensing pane lists both by
name, its pairing button opens pairing in the room it shows (audited under that room), and
the timeline's replay follows the room the pane shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.conftest import write_site
from tests.console.conftest import audit_entries
from tests.console.test_sensing_console import SECRET

TWO_REAL_ROOMS = (
    '[sensing]\nhost = "127.0.0.1"\n'
    '[[rooms]]\nid = "lab"\nname = "Lab"\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n'
    "port = 0\n"
    '[[rooms]]\nid = "office"\nname = "Front office"\nwidth_m = 5.0\ndepth_m = 5.0\n'
    "height_m = 2.5\nport = 0\n"
    + "".join(
        f'[[sensing_nodes]]\nid = "{room}{i}"\nroom = "{room}"\n'
        f'mac = "AA:BB:CC:DD:{10 + k:02X}:0{i}"\n'
        f"position = {{ x = {x}, y = {y}, z = 1.0 }}\n"
        for k, room in enumerate(("lab", "office"))
        for i, (x, y) in enumerate([(0.1, 0.1), (4.9, 4.9)], start=1)
    )
)


def test_the_pane_pairs_in_the_room_it_shows_and_the_replay_follows_it(
    qtbot: QtBot, open_console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", SECRET)
    host, window = open_console(write_site(tmp_path / "rooms.toml", extra=TWO_REAL_ROOMS))
    services = host.runtime.sensing.services
    assert list(services) == ["lab", "office"]
    assert services["lab"].port != services["office"].port
    pane = window.panes["sensing"]
    combo = pane.room_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Lab", "Front office"]
    assert pane.pairing_button.isEnabled()  # ada is an admin; real nodes can pair

    replay = window.panes["timeline"].replay
    assert replay is not None and replay.room is not None and replay.room.room_id == "lab"
    combo.setCurrentIndex(1)
    assert replay.room is not None and replay.room.room_id == "office"

    pane.pairing_button.click()
    office, lab = services["office"], services["lab"]
    qtbot.waitUntil(lambda: office.server.pairing_open_until is not None, timeout=5000)
    assert lab.server.pairing_open_until is None
    opened = audit_entries(host, action="node.pairing_opened")
    assert [(e.actor, e.target, e.outcome) for e in opened] == [
        ("account:ada", "sensing:office", "ok")
    ]
