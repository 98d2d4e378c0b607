"""The console on a real site: frames in tiles, role layouts, health, events."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.layouts import Layout
from engine.access import machine_actor
from engine.events import CameraStatus, HealthState
from tests.conftest import write_site


def plaza_site(tmp_path: Path, video: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{video}"\n'
        '[[cameras]]\nid = "dock"\nname = "Loading dock"\n'
        f'url = "{tmp_path / "missing.mp4"}"\n',
    )


def test_console_shows_live_frames_and_health(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    _host, window = open_console(plaza_site(tmp_path, vtest_avi))
    plaza, dock = window.camera_grid.tiles[0], window.camera_grid.tiles[1]
    qtbot.waitUntil(lambda: plaza.frames_shown >= 5, timeout=5000)
    assert plaza.status is CameraStatus.ONLINE and plaza.camera_name == "Plaza"
    qtbot.waitUntil(lambda: dock.status is CameraStatus.NO_FOOTAGE, timeout=5000)
    assert "file not found" in dock.status_detail
    qtbot.waitUntil(
        lambda: window.status.health_bar.states.get("cameras") is HealthState.DEGRADED, timeout=3000
    )
    assert window.status.health_bar.states["store"] is HealthState.OK
    assert "1/2 online" in window.status.health_bar.labels["cameras"].text()
    events = window.panes["events"]
    qtbot.waitUntil(lambda: events.row_count() >= 3, timeout=3000)
    kinds = {events.event_at(row).kind for row in range(events.row_count())}
    assert {"camera.online", "camera.no_footage"} <= kinds


@pytest.mark.slow
def test_layouts_switch_from_the_menu_and_persist(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    site = plaza_site(tmp_path, vtest_avi)
    settings = tmp_path / "layouts.ini"
    host, window = open_console(site, settings)
    assert window.current_layout is Layout.ADMIN  # an admin's first login: their role's layout
    window.layout_actions[Layout.OPERATOR].trigger()
    assert window.current_layout is Layout.OPERATOR
    assert window.docks["cameras"].isVisible() and window.docks["events"].isVisible()
    assert not window.admin_window.isVisible()  # configuration is not on the live wall

    with qtbot.waitSignal(window.sig_layout_changed) as changed:
        window.layout_actions[Layout.ADMIN].trigger()
    assert changed.args == ["Admin"]
    assert window.docks["cameras"].isVisible() and window.docks["sensing"].isVisible()
    assert window.status.layout_label.text() == "Layout: Admin"
    # The people share the sensing room's place, as a tab behind it.
    assert window.tabifiedDockWidgets(window.docks["sensing"]) == [window.docks["people"]]
    # The configuration is in the administration window, a page each, for an admin.
    admin = window.open_administration()
    assert admin is not None and admin.isVisible()
    assert admin.allowed_pages() == [
        "site",
        "camera_setup",
        "floor_calibration",
        "privacy_masks",
        "system",
        "accounts",
        "alert_rules",
        "ble_devices",
        "gestures",
        "audit",
    ]
    admin.close()

    window.layout_actions[Layout.INVESTIGATOR].trigger()
    assert window.docks["timeline"].isVisible() and window.docks["events"].isVisible()
    window.docks["cameras"].hide()  # the investigator closes the camera pane
    window.layout_actions[Layout.OPERATOR].trigger()
    assert window.docks["cameras"].isVisible()
    window.layout_actions[Layout.INVESTIGATOR].trigger()
    assert not window.docks["cameras"].isVisible()  # remembered per layout
    window.shut_down("end of test", machine_actor())
    host.close()  # one engine per data dir: stop this one before reopening

    _host2, reopened = open_console(site, settings)
    assert reopened.current_layout is Layout.INVESTIGATOR  # persisted for ada across restarts
    assert not reopened.docks["cameras"].isVisible()
    reopened.reset_layout()
    assert reopened.docks["cameras"].isVisible()


def test_grid_choice_persists(qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path) -> None:
    site = plaza_site(tmp_path, vtest_avi)
    host, window = open_console(site, login=None)
    assert window.locked  # the live view is for whoever stands at it: no login needed
    window.camera_grid.choose_tile_count(9)  # as the layout button does
    window.shut_down("end of test", machine_actor())
    host.close()  # one engine per data dir: stop this one before reopening
    _host2, reopened = open_console(site, login=None)
    assert reopened.camera_grid.tile_count == 9


@pytest.mark.slow
def test_panes_read_the_store_off_the_gui_thread(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    import threading

    from sqlalchemy import event as sa_event

    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    events = window.panes["events"]
    qtbot.waitUntil(lambda: events.row_count() >= 1 and not events.is_loading(), timeout=5000)
    gui_thread = threading.current_thread()
    readers: list[str] = []

    def on_statement(*_args: object) -> None:
        if threading.current_thread() is gui_thread:
            readers.append("GUI thread")
        elif threading.current_thread().name.startswith("query-"):
            readers.append("query")

    engine = host.store.engine
    sa_event.listen(engine, "before_cursor_execute", on_statement)
    try:
        with qtbot.waitSignal(events.sig_page_loaded, timeout=5000):
            events.refresh()
        for kind in ("camera.online", None, "camera.no_footage", None):
            events.set_filter(kind=kind)  # a storm of filter changes: the last one wins
        with qtbot.waitSignal(window.panes["people"].sig_people_listed, timeout=5000):
            window.panes["people"].refresh()
        qtbot.waitUntil(lambda: not events.is_loading(), timeout=5000)
        before = len(readers)
        window.panes["events"].on_clip_finalised()  # the clip lookup of the rows without one
        qtbot.waitUntil(lambda: len(readers) > before, timeout=5000)
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)
    assert "query" in readers
    assert "GUI thread" not in readers  # the old pane ran 2 + one per row here
    assert events.current_filter().kind is None and not events.is_loading()

    window.shut_down("end of test", machine_actor())
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


def test_admin_sees_system_health_and_changes_a_setting_off_the_gui_thread(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    from engine.recording_settings import read_stored_tiers
    from engine.settings import read_settings

    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    assert window.open_administration("system") is window.admin_window
    system = window.panes["system"]
    assert system.isVisible()
    qtbot.waitUntil(lambda: system.status is not None, timeout=5000)
    assert system.status is not None and system.status.writer is not None  # live counters
    qtbot.waitUntil(lambda: system.editors["retention.clips_days"].value() == 30, timeout=5000)
    system.editors["retention.clips_days"].setValue(60)
    system.editors["analytics.detect_interval_ms"].setValue(500)
    with qtbot.waitSignal(system.sig_settings_saved, timeout=5000):
        system.save_button.click()
    stored = {v.spec.key: v.value for v in read_settings(host.store)}
    assert stored["retention.clips_days"] == 60 and stored["analytics.detect_interval_ms"] == 500
    # The detector cadence applies to the running cameras at once.
    assert all(p.analyzer.detect_interval_s == 0.5 for p in host.runtime.cameras.pipelines.values())
    # How long the plaza's footage is kept: from the site file until an admin sets it here.
    tiers = system.tiers_group
    assert tiers is not None
    qtbot.waitUntil(lambda: tiers.tiers is not None and bool(tiers.rows), timeout=5000)
    assert tiers.isVisible() and tiers.source_labels["plaza"].text() == "site file"
    tiers.rows["plaza"]["keep_events_days"].setValue(60)
    tiers.save_button.click()
    qtbot.waitUntil(lambda: "Saved: " in tiers.strip.status(), timeout=5000)
    assert read_stored_tiers(host.store).cameras["plaza"].tiers == {"keep_events_days": 60}
    system.retention_button.click()
    qtbot.waitUntil(lambda: system.retention_button.isEnabled(), timeout=30000)
    assert "retention done" in system.retention_strip.status()
    qtbot.waitUntil(
        lambda: system.status is not None and system.status.last_retention_at is not None,
        timeout=10000,
    )


def test_a_camera_added_to_the_site_file_gets_a_tile_and_a_removed_one_loses_it(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    from engine.site_edit import open_site_file

    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    grid = window.camera_grid
    assert grid.camera_ids == ("plaza", "dock")
    edit = open_site_file(host.runtime.site.file)
    edit.add_camera({"id": "gate", "name": "Gate", "url": str(vtest_avi)})
    edit.remove_camera("dock")
    edit.save()
    change = host.runtime.reload_site_file()  # as the follower would within 2 s
    assert change is not None and change.added == ("gate",) and change.removed == ("dock",)
    qtbot.waitUntil(lambda: grid.camera_ids == ("plaza", "gate"), timeout=10000)
    gate = next(tile for tile in grid.tiles if tile.camera_id == "gate")
    # Its picture comes through the host's new frame getter.
    qtbot.waitUntil(lambda: window.host.frame_of("gate") is not None, timeout=20000)
    # A tile added to the shown wall is shown by Qt's queued call (QLayout::addChildWidget),
    # at the GUI thread's next turn: when the camera's first frame was already there, the
    # wait above returned before that turn (failed twice on a busy machine).
    qtbot.waitUntil(gate.isVisible, timeout=5000)


def test_view_new_wall_window_shows_the_cameras_on_another_window_until_the_console_stops(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    """View → New wall window: the site's cameras live in a window of their own (for a
    second monitor), numbered, following a camera added while it is open, and closed when
    the console stops."""
    from engine.site_edit import open_site_file

    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    action = window.menus.wall_window_action
    assert action is not None and action.shortcut().toString() == "Ctrl+Shift+W"
    action.trigger()
    (wall,) = window.wall_windows
    qtbot.waitExposed(wall)
    assert wall.windowTitle().endswith("wall 2")
    assert wall.grid.camera_ids == ("plaza", "dock")
    plaza = wall.grid.tiles[0]
    qtbot.waitUntil(lambda: plaza.frames_shown >= 3, timeout=20000)  # live, its own tiles

    edit = open_site_file(host.runtime.site.file)
    edit.add_camera({"id": "gate", "name": "Gate", "url": str(vtest_avi)})
    edit.save()
    assert host.runtime.reload_site_file() is not None
    qtbot.waitUntil(lambda: wall.grid.camera_ids == ("plaza", "dock", "gate"), timeout=10000)

    window.open_wall_window()  # a third monitor
    assert [w.number for w in window.wall_windows] == [2, 3]
    with qtbot.waitSignal(window.wall_windows[0].destroyed):
        window.wall_windows[0].close()
    assert [w.number for w in window.wall_windows] == [3]
    assert len(window.camera_grid.mirrors) == 1
