"""The console's Sensing pane on a running engine: a simulated room's snapshots arrive, a
clicked blob is explained, and only an admin may open the node pairing window (audited)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.layouts import Layout
from engine.access import PermissionDeniedError
from engine.sensing import actions as sensing_actions
from tests.actors import OPERATOR
from tests.conftest import write_site
from tests.console.conftest import audit_entries, log_in

SECRET = "5e" * 32
ROOM = "[room]\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n"


def nodes(macs: bool) -> str:
    corners = [(0.1, 0.1, 0.8), (4.9, 0.1, 1.3), (4.9, 4.9, 0.8), (0.1, 4.9, 1.3)]
    tables = []
    for i, (x, y, z) in enumerate(corners, start=1):
        mac = f'mac = "AA:BB:CC:DD:EE:0{i}"\n' if macs else ""
        tables.append(
            f'[[sensing_nodes]]\nid = "n{i}"\nname = "Node {i}"\n{mac}'
            f"position = {{ x = {x}, y = {y}, z = {z} }}\n"
        )
    return "".join(tables)


def simulated_site(tmp_path: Path) -> Path:
    extra = ROOM + "[sensing]\nsimulate = true\nwalkers = 1\nseed = 2\n" + nodes(macs=False)
    return write_site(tmp_path / "sim.toml", extra=extra)


def real_site(tmp_path: Path) -> Path:
    extra = ROOM + '[sensing]\nhost = "127.0.0.1"\nport = 0\n' + nodes(macs=True)
    return write_site(tmp_path / "real.toml", extra=extra)


@pytest.mark.slow
def test_a_simulated_room_is_drawn_and_a_clicked_blob_is_explained(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    host, window = open_console(simulated_site(tmp_path))
    window.layout_actions[Layout.OPERATOR].trigger()
    dock = window.docks["sensing"]
    assert dock.toggleViewAction().isVisible()
    dock.show()
    dock.raise_()
    pane = window.panes["sensing"]
    sensing = host.runtime.sensing.service()
    assert sensing is not None and sensing.simulated
    # Simulated walkers enter after 5 s of calibration; a blob follows within a second.
    qtbot.waitUntil(lambda: (s := sensing.snapshot()) is not None and bool(s.blobs), timeout=20_000)
    snapshot = sensing.snapshot()
    assert snapshot is not None and snapshot.simulated
    qtbot.waitUntil(lambda: pane.node_table.model().rowCount() == 4, timeout=5000)
    assert "simulated" in pane.status_label.text().lower()
    # Pairing is for real nodes: a simulated room offers none, even to an admin.
    assert not pane.pairing_button.isEnabled()

    blob = snapshot.blobs[0]
    with qtbot.waitSignal(pane.sig_blob_clicked, timeout=2000) as clicked:
        pane.sig_blob_clicked.emit(snapshot.room_id, blob.track_id)
    assert clicked.args == [snapshot.room_id, blob.track_id]
    model = pane.explanation_table.model()
    assert model.rowCount() >= 1
    shares = [model.share_percent(row) for row in range(model.rowCount())]
    assert sum(shares) == pytest.approx(100.0, abs=0.2)
    health = {r.subsystem: r for r in host.runtime.health()}
    assert "simulated" in health["sensing"].detail


def test_only_an_admin_opens_the_pairing_window_and_it_is_audited(
    qtbot: QtBot, open_console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", SECRET)
    host, window = open_console(real_site(tmp_path))
    sensing = host.runtime.sensing.service()
    assert sensing is not None and not sensing.simulated
    pane = window.panes["sensing"]
    assert pane.pairing_button.isEnabled()  # ada is an admin
    provision = f"http://127.0.0.1:{sensing.port}/api/provision"

    def ask_for_token() -> int:
        body = json.dumps({"mac": "AA:BB:CC:DD:EE:09"}).encode()
        request = urllib.request.Request(provision, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    assert ask_for_token() != 200  # closed until an admin opens it
    pane.pairing_button.click()
    qtbot.waitUntil(lambda: sensing.server.pairing_open_until is not None, timeout=5000)
    assert ask_for_token() == 200
    opened = audit_entries(host, action="node.pairing_opened")
    assert [(e.actor, e.target, e.outcome) for e in opened] == [
        ("account:ada", "sensing:room", "ok")
    ]

    # The engine refuses an operator whatever the pane shows, and audits the refusal.
    with pytest.raises(PermissionDeniedError):
        rt = host.runtime
        sensing_actions.open_pairing(rt.sensing.services, rt.writer, rt.clock, OPERATOR, 60)
    refused = audit_entries(host, action="node.pairing_opened")
    assert [e.outcome for e in refused] == ["denied", "ok"]


@pytest.mark.slow
def test_locking_takes_the_3d_view_off_the_screen_and_a_login_brings_it_back(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    """The 3D view draws in a native window of its own, over whatever is beneath it: the
    lock must take that window off the screen, or the room would show through the lock."""
    _host, window = open_console(simulated_site(tmp_path))
    assert window.current_layout is Layout.ADMIN  # the admin layout shows the sensing pane
    view = window.panes["sensing"].view
    qtbot.waitUntil(lambda: view.gl_view is not None and view.gl_view.isExposed(), timeout=5000)
    gl_window = view.gl_view

    window.lock("menu")
    assert window.locked
    qtbot.waitUntil(lambda: not gl_window.isVisible() and not gl_window.isExposed(), timeout=3000)

    log_in(qtbot, window, "ada")
    qtbot.waitUntil(lambda: gl_window.isVisible() and gl_window.isExposed(), timeout=5000)
