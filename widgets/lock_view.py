"""The lock view: what fills the console's window while nobody is logged in.

The live camera wall fills the window; the site's name and the login panel sit in a card
beside it, centred in the height, so the panel is in view at any window size (the dock
arrangement of the logged-in console plays no part in it). On a new install the card asks
for the first admin account and says why. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from engine.text import printable
from widgets.login_panel import LoginPanel

CARD_WIDTH_PX = 380  # wide enough for the first-admin form's labels and a 30-character name


class LockView(QWidget):
    """The camera wall (given with :meth:`show_wall`, taken back with :meth:`take_wall`)
    and a card holding ``site_name`` and ``panel``."""

    def __init__(self, site_name: str, panel: LoginPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lock-view")
        self.panel = panel
        self._wall: QWidget | None = None

        self.wall_area = QFrame()
        self.wall_area.setObjectName("lock-wall")
        self._wall_layout = QVBoxLayout(self.wall_area)
        self._wall_layout.setContentsMargins(0, 0, 0, 0)

        self.site_label = QLabel(printable(site_name))
        self.site_label.setObjectName("lock-site")
        self.site_label.setWordWrap(True)
        self.product_label = QLabel("Watchfloor")
        self.product_label.setObjectName("lock-product")
        self.card = QFrame()
        self.card.setObjectName("lock-card")
        self.card.setFixedWidth(CARD_WIDTH_PX)
        self.card.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        card_layout = QVBoxLayout(self.card)
        card_layout.setContentsMargins(20, 20, 20, 12)
        card_layout.setSpacing(4)
        card_layout.addWidget(self.product_label)
        card_layout.addWidget(self.site_label)
        card_layout.addWidget(panel)

        column = QVBoxLayout()
        column.setContentsMargins(16, 16, 16, 16)
        column.addStretch(1)
        column.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.wall_area, 1)
        layout.addLayout(column, 0)

    def show_wall(self, wall: QWidget) -> None:
        """Show ``wall`` (the console's camera grid) beside the card; it is reparented here
        until :meth:`take_wall`."""
        if self._wall is wall:
            return
        self._wall = wall
        self._wall_layout.addWidget(wall)
        wall.show()

    def take_wall(self) -> QWidget | None:
        """Give the wall back (its new parent takes it); None if none was shown."""
        wall, self._wall = self._wall, None
        if wall is not None:
            self._wall_layout.removeWidget(wall)
        return wall
