"""The Alerts pane's declaration: its title, who is offered it, its place in each layout,
and how it is built and linked: the engine's alerts kept live, the chime (even while the
console is locked: nobody may act then, but someone should come and log in), a desktop
notification, and the pane's tab flagged (never brought forward) for a new or escalated
alert."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from engine.access import Permission
from engine.alerts.service import AlertChanged, AlertDelivered, AlertProblem, AlertRaised
from engine.text import printable
from widgets.alerts.view import AlertSound, AlertStreamPane, alerts_title
from widgets.pane import RIGHT, Layout, PaneContext, PaneSpec, Place

MUTED_KEY = "alerts/muted"  # this console's choice, whoever logs in


class DesktopNotifier:
    """A desktop notification per alert: the system tray's balloon where the desktop has
    a tray, and the status bar always."""

    def __init__(self, ctx: PaneContext) -> None:
        self._ctx = ctx
        self._tray: QSystemTrayIcon | None = None

    def notify(self, severity: str, title: str) -> None:
        if self._tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            window = self._ctx.window
            self._tray = QSystemTrayIcon(window.windowIcon(), window)
            self._tray.setToolTip("Watchfloor")
            self._tray.show()
        text = printable(title)
        if self._tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if severity == "critical"
                else QSystemTrayIcon.MessageIcon.Warning
            )
            self._tray.showMessage("Watchfloor alert", text, icon, 15_000)
        self._ctx.show_message(f"Alert: {text}", 15_000)


def build(ctx: PaneContext) -> QWidget:
    pane = AlertStreamPane(ctx.queries, ctx.backend, sound=AlertSound(ctx.window), now=ctx.now)
    pane.set_muted(str(ctx.settings.value(MUTED_KEY, "false")).lower() in ("true", "1"))
    pane.sig_mute_changed.connect(lambda muted: ctx.settings.setValue(MUTED_KEY, muted))
    pane.sig_open_count_changed.connect(
        lambda count: ctx.set_pane_title(ctx.name, alerts_title(count))
    )

    def attention(_alert_id: int) -> None:
        # The window system flags the window (a taskbar flash when it is not in front);
        # nothing moves on the wall: the pane's tab, if it is behind another, turns red
        # and blinks, and its title carries the count (a new alert never covers the
        # camera wall mid-replay).
        QApplication.alert(ctx.window)
        ctx.flag_pane(ctx.name)

    pane.sig_attention_requested.connect(attention)
    notifier = DesktopNotifier(ctx)

    def raised(event: AlertRaised) -> None:
        pane.on_alert_raised(event.alert)
        notifier.notify(event.alert.severity, event.alert.title)

    def changed(event: AlertChanged) -> None:
        pane.on_alert_changed(event.alert, event.change)

    def delivered(event: AlertDelivered) -> None:
        pane.on_alert_delivered(
            event.alert_id, event.escalation, event.url, event.delivered, event.error
        )

    def problem(event: AlertProblem) -> None:
        pane.on_alert_problem(event.message)

    ctx.events.on(AlertRaised, raised)
    ctx.events.on(AlertChanged, changed)
    ctx.events.on(AlertDelivered, delivered)
    ctx.events.on(AlertProblem, problem)
    pane.refresh()  # returns at once; the open count arrives when read
    return pane


PANE = PaneSpec(
    name="alerts",
    title="Alerts",
    permission=Permission.WATCH,
    build=build,
    places={
        Layout.OPERATOR: Place(RIGHT, width=3, height=2),
        Layout.INVESTIGATOR: Place(RIGHT, onto="cameras"),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)
