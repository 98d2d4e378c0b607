"""The shared action runner and strip: busy while a change runs on a real query worker, the
refusal in red, cleared by the next success, one change at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.query_service import QueryService
from widgets.action_strip import ActionRunner, ActionStrip
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
