"""The System page's "How long footage is kept": each continuously recorded camera's tiers
from a real store (through the query service: tests/widgets/conftest.py's client and
writer), edited and saved through a real writer off the GUI thread, "Every camera" setting
all rows, shortening confirmed, a camera set back to the site file, an operator kept out,
and the disk warning."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.config import load_site
from engine.recording_settings import (
    ChangeRecordingTiers,
    RecordingTiersRequest,
    read_stored_tiers,
)
from engine.store import Store
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.conftest import write_site
from widgets.system.tiers import OFF_TEXT, RecordingTiersGroup, TierChange

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ALL, MOTION, EVENTS = "keep_all_days", "keep_motion_days", "keep_events_days"


def build(
    qtbot: QtBot, tmp_path: Path, writer: StoreWriter, client: QtQueryClient
) -> tuple[RecordingTiersGroup, list[threading.Thread]]:
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            cameras=(
                '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "gate.mp4"\n'
                "recording = { keep_all_days = 2 }\n"
                '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "yard.mp4"\n'
                '[[cameras]]\nid = "lobby"\nurl = "lobby.mp4"\n'
                "recording = { continuous = false }\n"
            ),
            extra="[recording]\nkeep_all_days = 7\nkeep_motion_days = 14\nkeep_events_days = 30\n",
        )
    )
    threads: list[threading.Thread] = []

    def change(cameras: tuple[str, ...], tiers: TierChange) -> list[str]:
        threads.append(threading.current_thread())
        changed: list[str] = writer.execute(
            ChangeRecordingTiers(cameras=cameras, tiers=tiers, at=T0, actor=ADMIN)
        )
        return changed

    group = RecordingTiersGroup(client, lambda: RecordingTiersRequest(site), change)
    qtbot.addWidget(group)
    qtbot.waitUntil(lambda: group.tiers is not None, timeout=5000)
    return group, threads


def test_each_camera_shows_its_tiers_and_a_save_stores_them_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, store: Store, writer: StoreWriter, client: QtQueryClient
) -> None:
    group, threads = build(qtbot, tmp_path, writer, client)
    assert not group.isHidden()
    # The lobby does not record continuously: no row.
    assert list(group.rows) == ["gate", "yard"]
    assert group.name_labels["gate"].text() == "Front gate"
    assert [group.rows["gate"][t].value() for t in (ALL, MOTION, EVENTS)] == [2, 14, 30]
    assert group.source_labels["gate"].text() == "site file"
    assert not group.reset_buttons["gate"].isEnabled()  # nothing set here to undo
    assert "site file says 2 days" in group.rows["gate"][ALL].toolTip()

    # Longer on every camera: no question asked.
    group.every_boxes[EVENTS].setValue(90)
    assert [group.rows[c][EVENTS].value() for c in ("gate", "yard")] == [90, 90]
    group.rows["yard"][ALL].setValue(10)
    assert group.rows["yard"][ALL].font().bold()  # an edit shows until saved
    assert group.edited() == {"gate": {EVENTS: 90}, "yard": {ALL: 10, EVENTS: 90}}
    group._confirm_shorter = lambda _lines: pytest.fail("nothing was shortened")  # type: ignore[method-assign]
    group.save_button.click()
    qtbot.waitUntil(lambda: "Saved: " in group.strip.status(), timeout=5000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    stored = read_stored_tiers(store).cameras
    assert stored["gate"].tiers == {EVENTS: 90}
    assert stored["yard"].tiers == {ALL: 10, EVENTS: 90}
    # Read back: where each value comes from, and nothing left marked as edited.
    qtbot.waitUntil(lambda: group.source_labels["yard"].text().startswith("here: "), timeout=5000)
    assert "(others: site file)" in group.source_labels["yard"].text()
    assert ADMIN.label in group.source_labels["yard"].text()
    assert not group.rows["yard"][ALL].font().bold()
    assert group.reset_buttons["yard"].isEnabled()
    assert group.edited() == {}


def test_shortening_a_tier_is_confirmed_first_and_a_camera_goes_back_to_the_site_file(
    qtbot: QtBot, tmp_path: Path, store: Store, writer: StoreWriter, client: QtQueryClient
) -> None:
    group, _threads = build(qtbot, tmp_path, writer, client)
    asked: list[list[str]] = []
    answer = [False]

    def confirm(lines: list[str]) -> bool:
        asked.append(lines)
        return answer[0]

    group._confirm_shorter = confirm  # type: ignore[method-assign]
    group.rows["gate"][ALL].setValue(0)
    assert group.rows["gate"][ALL].text() == OFF_TEXT
    group.save_button.click()
    assert asked == [["Front gate: everything 2 → 0 days"]]
    assert group.strip.status() == "not saved"
    assert read_stored_tiers(store).cameras == {}

    answer[0] = True
    group.save_button.click()
    qtbot.waitUntil(lambda: group.reset_buttons["gate"].isEnabled(), timeout=5000)
    assert read_stored_tiers(store).cameras["gate"].tiers == {ALL: 0}

    # Back to the site file: the file's 2 days is longer than 0, so no question.
    asked.clear()
    group.reset_buttons["gate"].click()
    qtbot.waitUntil(lambda: "Taken from the site file" in group.strip.status(), timeout=5000)
    assert asked == [] and read_stored_tiers(store).cameras == {}
    qtbot.waitUntil(lambda: group.rows["gate"][ALL].value() == 2, timeout=5000)
    assert group.source_labels["gate"].text() == "site file"


def test_an_operator_sees_the_tiers_but_may_not_change_them_and_the_disk_warning(
    qtbot: QtBot, tmp_path: Path, writer: StoreWriter, client: QtQueryClient
) -> None:
    group, _threads = build(qtbot, tmp_path, writer, client)
    group.set_changes_allowed(False)
    assert not group.save_button.isEnabled()
    assert not any(box.isEnabled() for boxes in group.rows.values() for box in boxes.values())
    assert not any(box.isEnabled() for box in group.every_boxes.values())

    # 30 days of events kept, but the disk holds 12 at today's rate: said in red.
    group.set_disk_days(12.4)
    assert not group.disk_label.isHidden()
    assert "holds about 12 days" in group.disk_label.text()
    assert "30 days a tier keeps" in group.disk_label.text()
    group.set_disk_days(45.0)
    assert group.disk_label.isHidden()
    group.set_disk_days(None)  # no camera recording now: nothing to say
    assert group.disk_label.isHidden()
