"""Starting the GUI: QApplication, theme, engine host, main window."""

from __future__ import annotations

import gc
import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QDir, QObject, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from console import exit_codes
from console.host import EngineHost, console_settings
from console.main_window import MainWindow
from console.session_bus import no_dbus_autolaunch
from engine.access import machine_actor
from engine.cluster.live import NotAttachableError
from engine.config import SiteConfigError
from engine.instance import EngineAlreadyRunningError
from engine.secrets import install_secret_redaction
from engine.store import DatabaseError
from resources import RESOURCES_DIR, THEME_QSS
from widgets.colours import THEME_PALETTE, THEME_PALETTE_DISABLED

log = logging.getLogger(__name__)


def application() -> QApplication:
    """The one QApplication, created on first use with the Watchfloor theme."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    no_dbus_autolaunch()
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Watchfloor")
    app.setOrganizationName("Watchfloor")
    apply_theme(app)
    return app


def theme_palette() -> QPalette:
    """The dark palette behind the stylesheet: what it cannot colour (links in rich text,
    placeholders, what Fusion paints itself) reads on the theme's surfaces too."""
    palette = QPalette()
    for name, colour in THEME_PALETTE.items():
        palette.setColor(QPalette.ColorRole[name], QColor(colour))
    for name, colour in THEME_PALETTE_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole[name], QColor(colour))
    return palette


def apply_theme(app: QApplication) -> None:
    """The Watchfloor look: Fusion style, the dark palette and the control-room stylesheet."""
    app.setStyle("Fusion")
    app.setPalette(theme_palette())
    # The stylesheet names its images url(theme:check.svg): files beside it in resources/.
    QDir.addSearchPath("theme", str(RESOURCES_DIR))
    app.setStyleSheet(THEME_QSS.read_text(encoding="utf-8"))


# How often Python hands the GIL between threads. The default (5 ms) lets a query worker
# turning 500 rows into objects hold the GUI thread off for several periods in a row: in
# a storm of 50 filter changes over 300,000 events the longest GUI-thread stall was 23 ms
# (median of 3 runs; p99 14.6 ms), at 0.5 ms it was 9.5 ms (p99 6.3 ms), with the same
# query times (benchmarks/event_queries.py). The console's other threads spend their
# time in OpenCV, numpy and SQLite, which release the GIL.
GUI_SWITCH_INTERVAL_S = 0.0005


def prefer_gui_thread() -> None:
    """Let the GUI thread get the GIL back quickly from busy worker threads."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def settle_after_start() -> None:
    """Once the window is up: move everything allocated while starting (modules, models,
    Qt wrappers: hundreds of thousands of objects) out of the garbage collector's sight.
    A full collection otherwise walks them all on whichever thread triggers it, the GUI
    thread included: 70-93 ms stalls in the filter-storm benchmark, 6 ms without."""
    gc.collect()
    gc.freeze()


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collected on the GUI thread only.

    The collector runs on whichever thread allocates past its threshold: in a console, a
    query worker turning rows into objects. The garbage it finds may hold Qt wrappers (a
    closed dialog, a replaced model, a pane's timer) whose C++ objects are then destroyed
    on that worker, and Qt crashes: a console's process died so, in a query worker
    "Garbage-collecting" (the test suite at this stop's CI, a segmentation fault). While
    started, automatic collection is off and a timer on the GUI thread collects every
    :data:`INTERVAL_MS` whichever generations have passed their thresholds, as the
    automatic collector would have. :meth:`stop` collects everything and turns it back on.
    """

    INTERVAL_MS = 500

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._was_enabled = False

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start(self.INTERVAL_MS)

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect(self) -> int:
        """Collect the generations past their thresholds (none: 0 objects); GUI thread."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return 0
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 2 if counts[2] > thresholds[2] else 1
        return gc.collect(generation)


def run_gui(site_file: Path, db_url: str, *, attach: bool = False) -> int:
    """Open the console on ``site_file``; returns the process exit code. ``attach``: the
    site's engines run elsewhere (``watchfloor --attach``): this console follows them."""
    install_secret_redaction()  # cli.main does it too; a second call adds nothing
    prefer_gui_thread()
    app = application()
    try:
        host = EngineHost.open(site_file, db_url, attach=attach)
    except SiteConfigError as exc:
        log.error("%s", exc)
        QMessageBox.critical(
            None, "Watchfloor — site file", f"The site file cannot be used:\n\n{exc}"
        )
        return exit_codes.SITE
    except DatabaseError as exc:
        log.error("%s", exc)
        QMessageBox.critical(None, "Watchfloor — database", str(exc))
        return exit_codes.DATABASE
    except (NotAttachableError, ValueError) as exc:
        if not attach:
            raise
        log.error("%s", exc)
        QMessageBox.critical(None, "Watchfloor — attach", f"This console cannot attach:\n\n{exc}")
        return exit_codes.USAGE
    except EngineAlreadyRunningError as exc:
        log.error("%s", exc)
        QMessageBox.critical(
            None,
            "Watchfloor — already running",
            f"This console cannot start its engine:\n\n{exc}",
        )
        return exit_codes.FAILED
    window = MainWindow(host.runtime, host.bridge, console_settings())
    window.show()
    settle_after_start()
    collector = GuiThreadCollector()
    collector.start()
    # Ctrl+C / SIGTERM stop the console without asking (layouts saved, engine stopped),
    # audited as a stop by the operating-system account the signal had to come from (its
    # own or root). Python runs signal handlers only between bytecodes, so a timer lets it
    # look in.
    previous = {
        sig: signal.signal(
            sig,
            lambda number, _frame: window.shut_down(
                f"signal {signal.Signals(number).name}", machine_actor()
            ),
        )
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    wakeup = QTimer()
    wakeup.start(200)
    wakeup.timeout.connect(lambda: None)
    try:
        return app.exec()
    finally:
        wakeup.stop()
        collector.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        try:  # the event loop has ended: the writer may be waited on now
            window.session.logout("closed")
        except Exception:
            log.exception("could not audit the logout of the closed console")
        host.close()
