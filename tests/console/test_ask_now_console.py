"""In the console, Ask's "how many people are on the plaza now?" counts the people in view
on the live picture of the camera this engine runs (issue 68), the boxes the wall draws."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from engine.history.chat.service import ChatAnswer
from tests.console.conftest import OpenConsole
from tests.console.test_shift_journey import plaza_site
from widgets.chat.view import ChatPane


def test_ask_now_counts_the_people_in_view_on_the_live_picture(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    cameras = host.runtime.cameras
    qtbot.waitUntil(lambda: cameras.people_in_view().get("plaza", 0) > 0, timeout=30_000)
    chat = window.panes["chat"]
    assert isinstance(chat, ChatPane)
    answers: list[ChatAnswer] = []
    chat.sig_answer_received.connect(answers.append)
    qtbot.waitUntil(lambda: not chat.busy, timeout=10_000)
    chat.ask("How many people are on the plaza now?")
    qtbot.waitUntil(lambda: bool(answers), timeout=30_000)
    text = answers[0].text
    assert "in view on Plaza east" in text and "(Counted on the live picture.)" in text, text
    said = int(text.split()[0]) if text.split()[0].isdigit() else 0
    # Asked and counted on the wall's moving picture: the people in view then.
    assert said >= 1, text
