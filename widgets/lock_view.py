"""The lock view: what fills the console's window while nobody is logged in.

The live camera wall fills the window; the site's name and the login panel sit in a card
beside it, centred in the height, so the panel is in view at any window size (the dock
arrangement of the logged-in console plays no part in it). On a new install the card asks
for the first admin account and says why. Above the login form the card says which alerts
are open (how many, how many escalated, the newest one's title and time), so someone
walking past a locked console sees that it needs them: the console hands it the counts it
keeps in memory (:meth:`LockView.set_alerts`).

:class:`IdleWarningBanner` is the strip across the top of the logged-in window in the last
seconds before the idle lock ("Locking in 27 s — move the mouse or press a key to stay
logged in"). It floats over the panes, so showing it moves no pane and no camera tile.

GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.text import printable
from widgets.colours import (
    ALARM_FILL,
    ALARM_RED,
    CANVAS,
    MUTED_GREY,
    ON_ALARM_FILL,
    WARNING_AMBER,
)
from widgets.login_panel import LoginPanel

CARD_WIDTH_PX = 380  # wide enough for the first-admin form's labels and a 30-character name
_ALERTS_STYLE = f"color: {ALARM_RED}; font-size: 13pt; font-weight: 600;"
_ESCALATED_STYLE = (
    f"color: {ON_ALARM_FILL}; background: {ALARM_FILL}; font-size: 13pt; font-weight: 600; "
    "padding: 2px 6px; border-radius: 3px;"
)
_QUIET_STYLE = f"color: {MUTED_GREY};"
# Dark text on the console's amber (CANVAS on WARNING_AMBER: 7.5:1); the label states its
# background too, as the theme gives every widget the dark surface.
_BANNER_STYLE = (
    f"QFrame#idle-warning {{ background: {WARNING_AMBER}; }}"
    f"QFrame#idle-warning QLabel {{ background: {WARNING_AMBER}; color: {CANVAS}; "
    "font-size: 14pt; font-weight: 600; }"
)


@dataclass(frozen=True, slots=True)
class LockAlerts:
    """What the lock screen says about alerts: ``open`` alerts nobody acknowledged, of
    which ``escalated`` escalated; the newest open one's ``newest_title`` and when it was
    raised (``newest_at``, already in site time, e.g. ``22:08``)."""

    open: int = 0
    escalated: int = 0
    newest_title: str = ""
    newest_at: str = ""
    listed: bool = True  # False: the alerts were not read yet (nothing is claimed)
    muted: bool = False  # the chime is muted at this console (the Alerts pane's choice)


def lock_alerts_text(alerts: LockAlerts) -> tuple[str, str]:
    """The two lines the lock card shows: the counts, and the newest alert ("" when none)."""
    if not alerts.listed:
        return "Reading the alerts…", ""
    if alerts.open == 0:
        return "No open alerts", ""
    counts = f"{alerts.open} open alert{'' if alerts.open == 1 else 's'}"
    if alerts.escalated:
        counts += f", {alerts.escalated} escalated"
    newest = f"Newest: {printable(alerts.newest_title)}" if alerts.newest_title else ""
    if newest and alerts.newest_at:
        newest += f" ({alerts.newest_at})"
    return counts, newest


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
        # The open alerts: what someone walking past a locked console should see first.
        self.alerts_label = QLabel()
        self.alerts_label.setObjectName("lock-alerts")
        self.alerts_label.setWordWrap(True)
        self.alerts_label.setAccessibleName("Open alerts")
        self.newest_label = QLabel()
        self.newest_label.setObjectName("lock-newest-alert")
        self.newest_label.setStyleSheet("font-weight: 600;")
        self.newest_label.setWordWrap(True)
        self.alerts_hint = QLabel()
        self.alerts_hint.setWordWrap(True)
        self.alerts_hint.setStyleSheet(_QUIET_STYLE)
        card_layout = QVBoxLayout(self.card)
        card_layout.setContentsMargins(20, 20, 20, 12)
        card_layout.setSpacing(4)
        card_layout.addWidget(self.product_label)
        card_layout.addWidget(self.site_label)
        card_layout.addSpacing(8)
        card_layout.addWidget(self.alerts_label)
        card_layout.addWidget(self.newest_label)
        card_layout.addWidget(self.alerts_hint)
        card_layout.addWidget(panel)
        self._alerts = LockAlerts(listed=False)
        self.set_alerts(self._alerts)

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

    def set_alerts(self, alerts: LockAlerts) -> None:
        """Show ``alerts`` on the card (the console calls it as alerts are raised,
        escalated and acknowledged, locked or not, so the card is right when it locks)."""
        self._alerts = alerts
        counts, newest = lock_alerts_text(alerts)
        self.alerts_label.setText(counts)
        if alerts.escalated:
            style = _ESCALATED_STYLE
        elif alerts.open:
            style = _ALERTS_STYLE
        else:
            style = _QUIET_STYLE
        self.alerts_label.setStyleSheet(style)
        self.newest_label.setText(newest)
        self.newest_label.setVisible(bool(newest))
        self.alerts_hint.setText(
            "Log in to acknowledge them (the chime is muted at this console)."
            if alerts.muted
            else "Log in to acknowledge them; the chime sounds for each new one."
        )
        self.alerts_hint.setVisible(alerts.open > 0)

    @property
    def alerts(self) -> LockAlerts:
        """What the card says about alerts now."""
        return self._alerts

    def alerts_text(self) -> str:
        """The card's alert lines as shown, one per line ("" lines left out)."""
        lines = [self.alerts_label.text(), self.newest_label.text() if self._alerts.open else ""]
        return "\n".join(line for line in lines if line)


class IdleWarningBanner(QFrame):
    """An amber strip across the top of ``parent`` (the main window, below its menu bar)
    counting down to the idle lock. It floats over the panes (a child raised above them,
    following the parent's size), so showing it re-lays out nothing. Any input cancels
    the lock; the button says so too."""

    sig_stay_requested = Signal()
    """The person pressed "Stay logged in" (any input does the same)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("idle-warning")
        self.setStyleSheet(_BANNER_STYLE)
        self.setAutoFillBackground(True)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Idle lock warning")
        self.stay_button = QPushButton("Stay logged in")
        self.stay_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # takes no focus from work
        self.stay_button.clicked.connect(self.sig_stay_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.stay_button, 0)
        self.hide()
        parent.installEventFilter(self)

    def show_seconds(self, seconds: int) -> None:
        """Say the console locks in ``seconds`` s, and show the strip on top."""
        self.label.setText(
            f"Locking in {seconds} s — move the mouse or press a key to stay logged in"
        )
        self._place()
        self.show()
        self.raise_()

    def text(self) -> str:
        return self.label.text()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        top = 0
        menu_bar = getattr(parent, "menuBar", None)
        if callable(menu_bar):
            bar = menu_bar()
            if isinstance(bar, QWidget) and bar.isVisible():
                top = bar.geometry().bottom() + 1
        width = parent.width()
        height = max(self.sizeHint().height(), self.heightForWidth(width))
        self.setGeometry(0, top, width, height)
