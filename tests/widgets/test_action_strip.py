"""The shared action runner and strip: busy while a change runs on a real query worker, the
refusal in red, cleared by the next success, one change at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.query_service import QueryService
from widgets.action_strip import ActionProgress, ActionRunner, ActionStrip
from widgets.colours import ALARM_RED

WAIT_S = 5.0


class Pane(QWidget):
    """The smallest pane that runs changes: one button, disabled while a change runs."""

    def __init__(self, client: QtQueryClient) -> None:
        super().__init__()
        self.button = QPushButton("Change")
        self.strip = ActionStrip()
        self.runner = ActionRunner(
            client, self.strip, channel="test", update_controls=self.update_controls, parent=self
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.strip)

    def update_controls(self) -> None:
        self.button.setEnabled(not self.runner.is_busy())


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def pane(qtbot: QtBot, client: QtQueryClient) -> Pane:
    pane = Pane(client)
    qtbot.addWidget(pane)
    pane.show()
    return pane


def test_a_change_shows_busy_while_it_runs_on_a_worker_then_what_was_done(
    qtbot: QtBot, pane: Pane
) -> None:
    release = threading.Event()
    ran_on: list[str] = []
    values: list[object] = []

    def change() -> int:
        ran_on.append(threading.current_thread().name)
        assert release.wait(WAIT_S)
        return 42

    assert pane.runner.run("Renaming Alice…", change, values.append, done="Renamed Alice.")
    assert pane.runner.is_busy() and pane.runner.running() == "Renaming Alice…"
    assert pane.strip.busy_bar.isVisible() and not pane.button.isEnabled()
    assert pane.strip.status() == "Renaming Alice…" and not pane.strip.error_label.isVisible()

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000) as finished:
        release.set()
    assert finished.args == ["Renaming Alice…", True]
    assert ran_on and ran_on[0].startswith("query-")  # never on the GUI thread
    assert values == [42]
    assert not pane.runner.is_busy() and not pane.strip.busy_bar.isVisible()
    assert pane.button.isEnabled()
    assert pane.strip.status() == "Renamed Alice."


def test_a_failure_is_shown_in_red_naming_what_failed_and_the_next_success_clears_it(
    qtbot: QtBot, pane: Pane
) -> None:
    values: list[object] = []

    def refused() -> None:
        raise ValueError("the name \x1b[31mAlice\x1b[0m is taken")

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000) as finished:
        pane.runner.run("Renaming Bob…", refused, values.append)
    assert finished.args == ["Renaming Bob…", False]
    assert values == []  # on_done runs only for a change that worked
    # Named after what failed, in the engine's words without the terminal escapes.
    assert pane.strip.error() == "Renaming Bob failed: the name Alice is taken"
    assert pane.strip.error_label.isVisible() and not pane.strip.status_label.isVisible()
    assert pane.strip.error_label.property("role") == "error"
    assert ALARM_RED in pane.strip.error_label.styleSheet()
    assert pane.button.isEnabled() and not pane.strip.busy_bar.isVisible()

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000):
        pane.runner.run("Renaming Bob…", lambda: None, failure="Could not rename Bob")
    assert pane.strip.error() == "" and not pane.strip.error_label.isVisible()

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000):
        pane.runner.run("Erasing Bob…", lambda: 1 / 0, failure="Could not erase Bob")
    assert pane.strip.error() == "Could not erase Bob: division by zero"


def test_a_second_change_while_one_runs_is_refused(qtbot: QtBot, pane: Pane) -> None:
    release = threading.Event()
    second_ran = threading.Event()
    assert pane.runner.run("First…", lambda: release.wait(WAIT_S))
    assert not pane.runner.run("Second…", second_ran.set)
    assert pane.runner.running() == "First…" and pane.strip.status() == "First…"

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000) as finished:
        release.set()
    assert finished.args == ["First…", True]
    with qtbot.assertNotEmitted(pane.runner.sig_action_finished, wait=200):
        pass
    assert not second_ran.is_set()  # refused, not queued
    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000):
        assert pane.runner.run("Second…", second_ran.set)
    assert second_ran.is_set()


def test_a_closed_client_runs_nothing_and_leaves_the_pane_idle(
    pane: Pane, client: QtQueryClient
) -> None:
    client.close()
    assert not pane.runner.run("Late…", lambda: None)
    assert not pane.runner.is_busy() and pane.button.isEnabled()
    assert not pane.strip.busy_bar.isVisible() and pane.strip.status() == ""


def test_an_idle_strip_takes_no_room(pane: Pane) -> None:
    strip = pane.strip
    assert not any(w.isVisible() for w in (strip.busy_bar, strip.status_label, strip.error_label))
    strip.show_error("x")
    assert strip.error_label.isVisible()
    strip.show_error("")
    assert not strip.error_label.isVisible()


def test_long_work_fills_the_bar_with_what_the_action_reports(qtbot: QtBot, pane: Pane) -> None:
    reported = threading.Event()
    release = threading.Event()

    def work(progress: ActionProgress) -> str:
        progress.report(3, 0)  # not known yet
        progress.report(30, 120, "Imported")
        reported.set()
        assert release.wait(WAIT_S)
        return "imported"

    values: list[object] = []
    assert pane.runner.run_long(
        "Importing reports…",
        work,
        values.append,
        describe=lambda done, total, stage: f"{stage}: {done} of {total} reports",
    )
    assert pane.strip.cancel_button.isVisible()  # long work can be stopped
    assert reported.wait(WAIT_S)
    qtbot.waitUntil(lambda: pane.strip.status() == "Imported: 30 of 120 reports", timeout=5000)
    assert pane.strip.progress() == (30, 120) and pane.strip.busy_bar.isVisible()

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000) as finished:
        release.set()
    assert finished.args == ["Importing reports…", True] and values == ["imported"]
    assert not pane.strip.busy_bar.isVisible() and not pane.strip.cancel_button.isVisible()


def test_a_byte_count_beyond_an_int_fills_the_bar_in_proportion(pane: Pane) -> None:
    total = 6 * 1024**3  # a 6 GiB export: more than a QProgressBar's int
    pane.strip.show_progress(total // 2, total)
    value, maximum = pane.strip.progress()
    assert maximum > 0 and abs(value / maximum - 0.5) < 0.01


def test_cancel_stops_long_work_and_says_so_plainly_not_as_a_failure(
    qtbot: QtBot, pane: Pane
) -> None:
    started = threading.Event()

    def work(progress: ActionProgress) -> None:
        started.set()
        while not progress.cancelled():
            progress.report(1, 10)
            time_out = not progress.cancel_event.wait(0.01)
            assert time_out or progress.cancelled()
        progress.check()  # raises ActionCancelledError

    values: list[object] = []
    assert pane.runner.run_long("Exporting evidence…", work, values.append)
    assert started.wait(WAIT_S)
    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000) as finished:
        qtbot.mouseClick(pane.strip.cancel_button, Qt.MouseButton.LeftButton)
        assert pane.strip.status() == "Exporting evidence: stopping…"
        assert not pane.strip.cancel_button.isEnabled()
    assert finished.args == ["Exporting evidence…", False] and values == []
    assert pane.strip.error() == ""  # a person's own cancel is not an error
    assert pane.strip.status() == "Exporting evidence: stopped; nothing was kept"
    assert pane.button.isEnabled() and not pane.strip.cancel_button.isVisible()
    assert not pane.runner.cancel()  # nothing runs: nothing to cancel


def test_a_failure_of_long_work_is_red_and_a_late_report_is_ignored(
    qtbot: QtBot, pane: Pane
) -> None:
    leaked: list[ActionProgress] = []

    def work(progress: ActionProgress) -> None:
        leaked.append(progress)
        raise OSError("disk full")

    with qtbot.waitSignal(pane.runner.sig_action_finished, timeout=5000):
        pane.runner.run_long("Exporting evidence…", work)
    assert pane.strip.error() == "Exporting evidence failed: disk full"
    leaked[0].report(5, 10)  # a worker thread reporting after the end
    qtbot.wait(50)
    assert not pane.strip.busy_bar.isVisible() and pane.strip.progress() == (0, 0)


def test_refusals_of_changes_run_at_once_each_keep_a_line(pane: Pane) -> None:
    strip = pane.strip
    strip.add_error("Could not acknowledge alert 3: closed")
    strip.add_error("Could not acknowledge alert 4: closed")
    assert strip.error() == (
        "Could not acknowledge alert 3: closed\nCould not acknowledge alert 4: closed"
    )
    strip.clear_error()
    assert strip.error() == "" and not strip.error_label.isVisible()
    strip.add_error("one")
    assert strip.error() == "one"
