"""The idle lock's watch: input in any of the console's windows postpones the lock; the
rest of Qt's traffic does not reach Python."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot

from console.login_flow import IdleWatch

IDLE_MS = 60_000


def _idle_timer() -> QTimer:
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)  # remainingTime() to the millisecond
    timer.setInterval(IDLE_MS)
    return timer


def _restarted(timer: QTimer) -> bool:
    return timer.remainingTime() > IDLE_MS - 20


def _age(qtbot: QtBot, timer: QTimer) -> None:
    qtbot.wait(100)
    assert not _restarted(timer)


def test_input_in_the_main_window_and_in_a_dialog_restarts_the_idle_timer(qtbot: QtBot) -> None:
    timer = _idle_timer()
    timer.start()
    main = QWidget()
    qtbot.addWidget(main)
    with qtbot.waitExposed(main):
        main.show()
    watch = IdleWatch(timer)
    watch.watch(main.windowHandle())

    _age(qtbot, timer)
    QTest.keyClick(main.windowHandle(), Qt.Key.Key_Shift)
    assert _restarted(timer)

    _age(qtbot, timer)
    QTest.mouseMove(main.windowHandle(), main.rect().center())
    assert _restarted(timer)

    # A dialog (another top-level window) is watched once it has the focus.
    dialog = QDialog(main)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.windowHandle() is not None and dialog.isActiveWindow())
    _age(qtbot, timer)
    QTest.keyClick(dialog.windowHandle(), Qt.Key.Key_A)
    assert _restarted(timer)


def test_a_stopped_timer_stays_stopped(qtbot: QtBot) -> None:
    timer = _idle_timer()
    main = QWidget()
    qtbot.addWidget(main)
    with qtbot.waitExposed(main):
        main.show()
    watch = IdleWatch(timer)
    watch.watch(main.windowHandle())
    QTest.keyClick(main.windowHandle(), Qt.Key.Key_Shift)
    assert not timer.isActive()  # locked: nothing to postpone


def test_the_watch_sees_a_windows_traffic_not_every_widgets(qtbot: QtBot) -> None:
    """An application-wide filter is called for every event of every widget; the watch is
    called only for what reaches the window (it was an application filter before)."""
    timer = _idle_timer()
    seen: list[QEvent.Type] = []

    class Counting(IdleWatch):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            seen.append(event.type())
            return super().eventFilter(watched, event)

    main = QWidget()
    labels = [QLabel(f"row {i}", main) for i in range(50)]
    qtbot.addWidget(main)
    with qtbot.waitExposed(main):
        main.show()
    watch = Counting(timer)
    watch.watch(main.windowHandle())
    seen.clear()
    for label in labels:
        label.setText(label.text() + "!")
        label.hide()
        label.show()
    qtbot.wait(50)
    # 50 labels re-laid out and repainted: a handful of window events, not hundreds.
    assert len(seen) < 20, seen
