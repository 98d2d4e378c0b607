"""The sensing re-run dialog on its own: the form starts from the room's settings and hands
the engine fractions, progress disables the buttons and enables Cancel, failures read red,
and a comparison lists matched blobs first; activating a row asks for that blob's moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from engine.history.replay import BlobMatch, SensingComparison
from engine.sensing.recording.replay import ReplayedBlob, ReplaySettings
from widgets.sensing.compare import MATCHED, ONLY_OTHER, ONLY_ROOM, SensingRerunDialog

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ROOM_SETTINGS = {"motion_threshold": 0.02, "voxel_m": 0.2, "max_zone": 3}


def blob(blob_id: int, appeared_s: float, left_s: float | None, x: float) -> ReplayedBlob:
    return ReplayedBlob(
        blob_id=blob_id,
        appeared=T0 + timedelta(seconds=appeared_s),
        left=None if left_s is None else T0 + timedelta(seconds=left_s),
        first_position=[x, 1.0, 1.0],
        last_position=[x + 0.5, 1.0, 1.0],
        duration_s=None if left_s is None else left_s - appeared_s,
        path_m=0.5,
        name=None,
    )


def make_dialog(qtbot: QtBot) -> SensingRerunDialog:
    dialog = SensingRerunDialog("lab", ROOM_SETTINGS, T0, T0 + timedelta(minutes=10))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_form_starts_from_the_rooms_settings_and_asks_in_engine_units(
    qtbot: QtBot,
) -> None:
    dialog = make_dialog(qtbot)
    assert dialog.settings() == ReplaySettings(motion_threshold=0.02, voxel_m=0.2, max_zone=3)
    assert "2026-03-01 12:00:00" in dialog.range_label.text()
    assert "12:10:00 UTC" in dialog.range_label.text()
    dialog.threshold.setValue(3.5)
    dialog.cell.setValue(0.4)
    dialog.zone.setValue(5)
    with qtbot.waitSignal(dialog.sig_compare_requested) as compare:
        dialog.compare_button.click()
    assert compare.args == [ReplaySettings(motion_threshold=0.035, voxel_m=0.4, max_zone=5)]
    with qtbot.waitSignal(dialog.sig_rerun_requested) as rerun:
        dialog.rerun_button.click()
    assert rerun.args[0].motion_threshold == 0.035
    dialog.reset_button.click()
    assert dialog.settings() == ReplaySettings(motion_threshold=0.02, voxel_m=0.2, max_zone=3)
    # Out of range input is held to what the engine accepts.
    dialog.cell.setValue(9.0)
    dialog.zone.setValue(0)
    assert dialog.settings().voxel_m == 2.0 and dialog.settings().max_zone == 1


def test_progress_failure_and_cancel(qtbot: QtBot) -> None:
    dialog = make_dialog(qtbot)
    strip = dialog.strip
    dialog.set_progress("Comparing: replaying with the room's settings…", 0.25)
    assert strip.busy_bar.isVisible() and strip.progress() == (25, 100)
    assert strip.status() == "Comparing: replaying with the room's settings…"
    assert not dialog.compare_button.isEnabled() and not dialog.rerun_button.isEnabled()
    assert strip.cancel_button.isVisible() and strip.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.sig_cancel_requested):
        strip.cancel_button.click()
    dialog.set_progress("Re-running the range's sensing…", None, cancellable=False)
    assert strip.busy_bar.isVisible() and strip.progress() == (0, 0)  # busy, no fraction yet
    # A replay with other settings leaves the form free: the next request replaces it.
    assert dialog.rerun_button.isEnabled() and dialog.compare_button.isEnabled()
    assert not strip.cancel_button.isVisible()
    dialog.show_error("Cannot compare sensing: no recording in lab")
    assert not strip.busy_bar.isVisible()
    assert dialog.compare_button.isEnabled() and not strip.cancel_button.isVisible()
    assert strip.error_label.isVisible() and "f85149" in strip.error_label.styleSheet()
    assert strip.error() == "Cannot compare sensing: no recording in lab"
    assert strip.status() == ""
    dialog.show_message("Comparison cancelled")
    assert strip.error() == "" and strip.status() == "Comparison cancelled"


def test_a_comparison_lists_matched_blobs_first_and_a_row_asks_for_its_moment(
    qtbot: QtBot,
) -> None:
    dialog = make_dialog(qtbot)
    both_a, both_b = blob(1, 30, 90, 1.0), blob(7, 31, 88, 1.2)
    room_only, other_only = blob(2, 10, 20, 3.0), blob(8, 200, None, 4.0)
    comparison = SensingComparison(
        room_id="lab",
        start=T0,
        end=T0 + timedelta(minutes=10),
        baseline_settings=ROOM_SETTINGS,
        other_settings={**ROOM_SETTINGS, "motion_threshold": 0.01},
        baseline_blobs=(room_only, both_a),
        other_blobs=(both_b, other_only),
        matches=(BlobMatch(both_a, both_b, 0.2, 57.0),),
        only_baseline=(room_only,),
        only_other=(other_only,),
    )
    dialog.set_progress("Comparing…", 0.9)
    dialog.show_comparison(comparison)
    assert not dialog.strip.busy_bar.isVisible() and dialog.compare_button.isEnabled()
    assert dialog.strip.status().startswith("Room's settings: 2 blobs; other settings: 2 blobs")
    table = dialog.table
    rows = [
        [table.item(row, column).text() for column in range(table.columnCount())]
        for row in range(table.rowCount())
    ]
    assert rows == [
        [MATCHED, "12:00:30", "12:01:30", "1.0, 1.0", "60 s", "0.20 m"],
        [ONLY_ROOM, "12:00:10", "12:00:20", "3.0, 1.0", "10 s", ""],
        [ONLY_OTHER, "12:03:20", "still there", "4.0, 1.0", "", ""],
    ]
    with qtbot.waitSignal(dialog.sig_moment_requested) as moment:
        table.itemActivated.emit(table.item(2, 3))
    assert moment.args == [T0 + timedelta(seconds=200)]
