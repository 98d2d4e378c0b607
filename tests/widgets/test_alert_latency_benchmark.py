"""The alert latency benchmark's set-up: its plaza raises a new alert whenever someone
appears after a quiet moment (no grouping window, nothing hidden, no camera warnings), and
its watch on the pane notices a pane that goes or comes forward."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from benchmarks.alert_latency import MoveCounter, plaza_site
from engine.config import load_site


def test_the_plaza_groups_no_alerts_and_hides_none(tmp_path: Path) -> None:
    site = load_site(plaza_site(tmp_path))
    assert [camera.id for camera in site.cameras] == ["plaza"]
    assert site.alerts.group_window_s == 0
    assert site.alerts.risk_provider == "none"
    assert site.alerts.camera_offline_s == 0


def test_the_move_counter_counts_a_pane_hidden_and_shown(qtbot: QtBot) -> None:
    pane = QWidget()
    qtbot.addWidget(pane)
    pane.show()
    counter = MoveCounter()
    pane.installEventFilter(counter)
    assert counter.counts == {}
    pane.hide()
    pane.show()
    assert counter.counts["hide"] == 1
    assert counter.counts["show"] == 1
