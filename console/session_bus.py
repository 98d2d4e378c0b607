"""The D-Bus session bus, where a machine has none: looked up without forking."""

from __future__ import annotations

import os

# What DBUS_SESSION_BUS_ADDRESS says where there is no session bus: an address libdbus
# cannot use, so that looking the bus up fails at once instead of autolaunching one.
NO_SESSION_BUS = "disabled:"


def no_dbus_autolaunch() -> None:
    """Where no D-Bus session bus is set (a control-room machine started without a desktop
    session, Xvfb), make sure nothing forks to look for one. Qt's accessibility bridge asks
    for the session bus when the first widget is made; libdbus, finding no address, forks
    to autolaunch one. A fork while an engine thread is inside OpenBLAS (a sensing room
    rating its layout) hung the console for good: OpenBLAS's fork handler waits for its
    worker threads, one of which never answered, while the GUI thread waited for the D-Bus
    thread (gdb, a console test under load). A desktop session's bus is left alone:
    screen readers need it, and there the lookup does not fork. Call before the
    QApplication is made."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = NO_SESSION_BUS
