"""The main window's status bar: who is logged in, the layout, the engine's health, and
the site's clock (the one place the site's zone is always shown: every pane shows plain
site times)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

from console.bridge import QtBridge
from engine.events import SubsystemHealth
from engine.health import HealthReport
from engine.sitetime import SiteTime
from widgets.health_bar import HealthBar


class StatusLine:
    """The permanent parts of ``bar``; messages still go to the bar itself."""

    def __init__(
        self,
        bar: QStatusBar,
        site_time: SiteTime,
        now: Callable[[], datetime],
        bridge: QtBridge,
        health: list[HealthReport],
    ) -> None:
        self._site_time = site_time
        self._now = now
        self.health_bar = HealthBar()
        bar.addPermanentWidget(self.health_bar)
        self.session_label = QLabel()
        self.session_label.setObjectName("session-label")
        bar.addWidget(self.session_label)
        self.layout_label = QLabel()
        bar.addWidget(self.layout_label)
        self.site_clock_label = QLabel()
        self.site_clock_label.setObjectName("site-clock")
        self.site_clock_label.setToolTip(
            f"Site time ({site_time.name}): every time shown is the site's"
        )
        bar.addPermanentWidget(self.site_clock_label)
        self._clock_timer = QTimer(bar)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._show_site_time)
        self._clock_timer.start()
        self._show_site_time()
        bridge.on(SubsystemHealth, self._on_health_changed)
        for report in health:
            self.health_bar.on_health_changed(report.subsystem, report.state, report.detail)

    def _show_site_time(self) -> None:
        now = self._now()
        self.site_clock_label.setText(
            f"{self._site_time.minutes(now)} {self._site_time.zone_label(now)}"
        )

    def _on_health_changed(self, event: SubsystemHealth) -> None:
        self.health_bar.on_health_changed(event.subsystem, event.state, event.detail)

    def stop(self) -> None:
        self._clock_timer.stop()
