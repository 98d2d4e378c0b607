"""System pane: status, settings and retention through a real query service and writer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.history.query_service import QueryService
from engine.media import MediaFile
from engine.settings import ALL_SETTINGS, SETTING_TITLES, ChangeSetting, read_settings
from engine.sitetime import display
from engine.status import SystemStatusRequest
from engine.store import Store
from engine.store.commands import InsertMedia
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.actors import ADMIN
from tests.store_helpers import sync_site
from widgets.system.view import GIB, SystemPane

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Store, StoreWriter, QtQueryClient]]:
    store = Store(f"sqlite:///{tmp_path / 'system.db'}")
    writer = StoreWriter(store)
    writer.start()
    client = QtQueryClient(QueryService(store))
    yield store, writer, client
    client.close()
    writer.stop()
    store.close()


def test_the_pane_shows_status_saves_settings_and_runs_retention_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, parts: tuple[Store, StoreWriter, QtQueryClient]
) -> None:
    store, writer, client = parts
    gui = threading.current_thread()
    retention_threads: list[threading.Thread] = []

    def run_retention() -> str:
        retention_threads.append(threading.current_thread())
        return "0 clips deleted"

    def change(key: str, value: int) -> None:
        assert threading.current_thread() is not gui  # waits on the writer: never on the GUI
        writer.execute(ChangeSetting(key=key, value=value, at=T0, actor=ADMIN))

    pane = SystemPane(
        client,
        lambda: SystemStatusRequest(tmp_path, T0, writer.health().as_dict()),
        run_retention,
        change,
    )
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.status is not None, timeout=5000)
    assert "sqlite" in pane.database_label.text()
    assert "0 queued" in pane.writer_label.text()
    assert "floor 2.00 GiB" in pane.disk_bar.format()
    qtbot.waitUntil(lambda: pane.editors["retention.clips_days"].value() == 30, timeout=5000)

    pane.editors["retention.clips_days"].setValue(45)
    pane.editors["retention.min_free_bytes"].setValue(5.0)
    assert pane.edited_values() == {
        "retention.clips_days": 45,
        "retention.min_free_bytes": 5 * GIB,
    }
    with qtbot.waitSignal(pane.sig_settings_saved, timeout=5000) as saved:
        pane.save_button.click()
    assert sorted(saved.args[0]) == ["retention.clips_days", "retention.min_free_bytes"]
    stored = {v.spec.key: v.value for v in read_settings(store)}
    assert stored["retention.clips_days"] == 45 and stored["retention.min_free_bytes"] == 5 * GIB

    pane.retention_button.click()
    assert not pane.retention_button.isEnabled()  # busy while it runs
    qtbot.waitUntil(lambda: pane.retention_button.isEnabled(), timeout=5000)
    assert "retention done: 0 clips deleted" in pane.retention_strip.status()
    assert retention_threads and retention_threads[0] is not gui


def test_a_failing_action_is_shown_in_the_pane(
    qtbot: QtBot, tmp_path: Path, parts: tuple[Store, StoreWriter, QtQueryClient]
) -> None:
    _store, _writer, client = parts

    def run_retention() -> str:
        raise RuntimeError("disk unreadable")

    pane = SystemPane(
        client, lambda: SystemStatusRequest(tmp_path, T0, None), run_retention, lambda k, v: None
    )
    qtbot.addWidget(pane)
    pane.retention_button.click()
    qtbot.waitUntil(lambda: "retention failed" in pane.retention_strip.error(), timeout=5000)
    assert "disk unreadable" in pane.retention_strip.error()
    # In the alarm red, as every pane shows a refusal (it was plain text before).
    assert pane.retention_strip.error_label.property("role") == "error"
    qtbot.waitUntil(lambda: pane.status is not None, timeout=5000)
    assert pane.writer_label.text() == "not running in this process"


def test_every_setting_is_named_in_words_where_the_pane_shows_it() -> None:
    """The pane labels each setting by its title; a setting without one showed its key
    ("risk: h3 resolution")."""
    untitled = [spec.key for spec in ALL_SETTINGS if spec.key not in SETTING_TITLES]
    assert untitled == []
    for spec in ALL_SETTINGS:
        assert "." not in spec.title and "_" not in spec.title, spec.title


def test_the_pane_shows_each_cameras_continuous_recording_and_the_days_the_disk_holds(
    qtbot: QtBot, tmp_path: Path, parts: tuple[Store, StoreWriter, QtQueryClient]
) -> None:
    """Two hours of 10 s segments of one camera (250 kB each: 200 kbit/s), stored as the
    recorder stores them: the pane says from when to when, how much, the bitrate, and how
    long the disk keeps footage at that rate."""
    store, writer, client = parts
    ids = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0))
    camera_id = ids.cameras["plaza"]
    first = T0 - timedelta(hours=2)
    for n in range(720):
        start = first + timedelta(seconds=10 * n)
        writer.submit(
            InsertMedia(
                file=MediaFile("segment", f"recordings/plaza/{n}.mp4", "0" * 64, 250_000),
                created_at=start,
                camera_id=camera_id,
                started_at=start,
                ended_at=start + timedelta(seconds=10),
            )
        )
    writer.flush(timeout_s=30)
    pane = SystemPane(
        client,
        lambda: SystemStatusRequest(tmp_path, T0, writer.health().as_dict()),
        lambda: "",
        lambda _key, _value: None,
    )
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.status is not None, timeout=5000)
    assert pane.status is not None and not pane.footage_group.isHidden()
    (row,) = pane.footage_rows
    start = display().local(first)
    name = load_site(DEMO_SITE).cameras[0].name
    assert [label.text() for label in row] == [
        name,
        f"{start:%Y-%m-%d %H:%M} to now",
        "180 MB in 720 segments",
        "0.20 Mbit/s",
    ]
    # 200 kbit/s is 2.16 GB a day; the disk holds what is kept plus its free space above
    # the floor.
    free_above_floor = pane.status.free_bytes - pane.status.free_floor_bytes
    days = (720 * 250_000 + max(free_above_floor, 0)) / (200_000 / 8 * 86400)
    assert pane.status.footage_days == pytest.approx(days)
    text = pane.footage_days_label.text()
    held = f"{days * 24:.0f} hours" if days < 2 else f"{days:.0f} days"
    assert f"holds about {held} of footage" in text and "(2.16 GB a day" in text


def test_the_panes_storage_sums_are_read_at_most_once_a_minute_when_it_says_so(
    tmp_path: Path, parts: tuple[Store, StoreWriter, QtQueryClient]
) -> None:
    """The pane refreshes every 5 s; summing a month of segment rows takes about a second,
    so its request lets those sums be a minute old. Fresh when asked with no age."""
    store, writer, _client = parts

    def add(path: str) -> None:
        writer.execute(
            InsertMedia(
                file=MediaFile("segment", path, "0" * 64, 1000),
                created_at=T0,
                started_at=T0,
                ended_at=T0 + timedelta(seconds=10),
            )
        )

    add("recordings/a.mp4")
    first = SystemStatusRequest(tmp_path, T0, storage_max_age_s=60).run(store)
    add("recordings/b.mp4")
    again = SystemStatusRequest(tmp_path, T0, storage_max_age_s=60).run(store)
    fresh = SystemStatusRequest(tmp_path, T0).run(store)
    assert first.media_files == again.media_files == {"segment": 1}
    assert fresh.media_files == {"segment": 2}
