"""Without a D-Bus session bus, making the console's first widget must not fork: Qt's
accessibility bridge looks the session bus up, and libdbus, finding no address, forked to
autolaunch one. A fork while an engine thread was inside OpenBLAS hung a console test for
good under load (the GUI thread waiting for the D-Bus thread, that one in OpenBLAS's fork
handler waiting for a BLAS worker; gdb)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.session_bus import NO_SESSION_BUS, no_dbus_autolaunch

REPO = Path(__file__).resolve().parents[2]


def test_without_a_session_bus_the_console_starts_qt_with_an_address_that_cannot_fork() -> None:
    """The console's own start (console.app.application) in a fresh process whose
    environment names no session bus: by the time its QApplication exists, the address is
    one libdbus refuses at once."""
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    script = (
        "import os\n"
        "from console.app import application\n"
        "application()\n"
        "print(os.environ.get('DBUS_SESSION_BUS_ADDRESS'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == NO_SESSION_BUS


def test_a_desktop_sessions_bus_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Screen readers talk through it; with an address set, the lookup does not fork."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus")
    no_dbus_autolaunch()
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == "unix:path=/run/user/1000/bus"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "")
    no_dbus_autolaunch()
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == NO_SESSION_BUS
