"""A wall window: the site's cameras in a window of their own, for another monitor.

View → New wall window opens one (as many as there are monitors, or more): a live grid of
the same cameras as the console's Cameras pane (:meth:`CameraGrid.mirror`), with its own
tile count, page, tour and zoom. Its bar puts it full screen on any of the machine's
screens ("Full screen on" with the screen's name; F11 toggles full screen, Escape leaves
it). Camera changes, statuses and recording problems reach it as they reach the pane.
Closing it stops its tiles; the console closes every wall window when it stops.

A widget: it never touches the store or starts threads.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QScreen, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.text import printable
from widgets.cameras.view import CameraGrid


class WallWindow(QMainWindow):
    """A window showing ``source``'s cameras (a mirror of it) for site ``site`` as wall
    number ``number``."""

    def __init__(self, source: CameraGrid, site: str, number: int) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)  # its tiles and timers go
        self._source = source
        self.grid = source.mirror()
        self.number = number
        self.setWindowTitle(f"Watchfloor — {printable(site)} — wall {number}")

        self.screen_combo = QComboBox()
        self.screen_combo.setAccessibleName("Screen")
        self.screen_combo.setToolTip("The screen to show this wall on, full screen")
        self.full_screen_button = QPushButton("Full screen on")
        self.full_screen_button.setToolTip("Show this wall full screen on the screen chosen (F11)")
        self.full_screen_button.clicked.connect(self.show_full_screen)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(QLabel(f"Wall {number}"))
        bar.addStretch(1)
        bar.addWidget(self.full_screen_button)
        bar.addWidget(self.screen_combo)
        self._bar = QWidget()
        self._bar.setLayout(bar)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._bar)
        layout.addWidget(self.grid, 1)
        self.setCentralWidget(body)
        self.resize(1280, 760)

        toggle = QShortcut(QKeySequence(Qt.Key.Key_F11), self)
        toggle.activated.connect(self.toggle_full_screen)
        leave = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        leave.activated.connect(self.leave_full_screen)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(lambda _screen: self._list_screens())
            app.screenRemoved.connect(lambda _screen: self._list_screens())
        self._list_screens()

    def _list_screens(self) -> None:
        """The machine's screens by name and size, the one this window is on chosen."""
        chosen = self.screen_combo.currentText()
        self.screen_combo.clear()
        for screen in QGuiApplication.screens():
            size = screen.geometry()
            self.screen_combo.addItem(
                f"{printable(screen.name()) or 'screen'} ({size.width()}×{size.height()})"
            )
        index = self.screen_combo.findText(chosen)
        if index < 0:
            current = self.screen()
            screens = QGuiApplication.screens()
            index = screens.index(current) if current in screens else 0
        self.screen_combo.setCurrentIndex(index)

    def chosen_screen(self) -> QScreen | None:
        screens = QGuiApplication.screens()
        index = self.screen_combo.currentIndex()
        return screens[index] if 0 <= index < len(screens) else None

    def show_full_screen(self) -> None:
        """Full screen on the screen chosen; the bar goes (F11 or Escape brings it back)."""
        screen = self.chosen_screen()
        if screen is not None:
            if self.isFullScreen():
                self.showNormal()
            self.setGeometry(screen.availableGeometry())
        self._bar.setVisible(False)
        self.showFullScreen()

    def leave_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        self._bar.setVisible(True)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.leave_full_screen()
        else:
            self.show_full_screen()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._source.forget(self.grid)
        self.grid.set_touring(False)
        self.grid.hide()  # a main stream it watched is let go (the grid's hide)
        super().closeEvent(event)
