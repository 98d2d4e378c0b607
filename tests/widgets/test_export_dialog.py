"""The evidence export dialog over a real store and real recordings: a real query service
(QtQueryClient) runs the engine's own ``export_evidence`` on a worker; the console's role
(:class:`EvidenceActions`) is played by a small class that calls it."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.evidence import export_evidence, verify_evidence
from engine.history.query_service import QueryService
from engine.sitetime import SiteTime, display
from engine.store import Store
from tests.engine.test_evidence import recorded, whole_range
from widgets.colours import ALARM_RED
from widgets.evidence_export.api import ExportOutcome, ExportSpec
from widgets.evidence_export.view import EvidenceExportDialog

__all__ = ["recorded"]  # the fixture, used by name below
TIMEOUT_MS = 60_000


class Exporter:
    """The console's part: export as someone, optionally holding each file until told."""

    def __init__(self, store: Store, data: Path) -> None:
        self.store = store
        self.data = data
        self.specs: list[ExportSpec] = []
        self.hold = threading.Event()
        self.held = threading.Event()
        self.holding = False

    def export(
        self, spec: ExportSpec, progress: Callable[[int, int], None], cancel: threading.Event
    ) -> ExportOutcome:
        self.specs.append(spec)

        def report(done: int, total: int) -> None:
            progress(done, total)
            if self.holding and done > 0:
                self.held.set()
                assert self.hold.wait(30)

        result = export_evidence(
            self.store,
            start=spec.start,
            end=spec.end,
            out_dir=spec.folder,
            media_root=self.data,
            key_dir=self.data,
            exporter="account:ivy",
            now=datetime.now(UTC),
            site_time=display(),
            cameras=spec.cameras,
            rooms=spec.rooms,
            progress=report,
            cancel=cancel,
        )
        return ExportOutcome(result, None)


@pytest.fixture
def world(
    recorded: tuple[str, Path], qtbot: QtBot
) -> Iterator[tuple[EvidenceExportDialog, Exporter, datetime, datetime]]:
    db_url, data = recorded
    start, end = whole_range(db_url)
    store = Store(db_url)
    client = QtQueryClient(QueryService(store))
    exporter = Exporter(store, data)
    dialog = EvidenceExportDialog(
        client,
        exporter,
        cameras=[("plaza", "Plaza"), ("gate", "gate")],
        rooms=[("lab", "Lab")],
        start=start,
        end=end,
        lock_allowed=False,
    )
    qtbot.addWidget(dialog)
    yield dialog, exporter, start, end
    exporter.hold.set()
    client.close()
    store.close()


@pytest.mark.slow
def test_the_dialog_exports_the_chosen_sources_with_progress_and_says_how_to_verify(
    world: tuple[EvidenceExportDialog, Exporter, datetime, datetime], tmp_path: Path, qtbot: QtBot
) -> None:
    dialog, exporter, start, end = world
    assert not dialog.lock_box.isEnabled()  # no lock permission: offered, not usable
    assert dialog.room_list.item(0).text() == "Lab"  # a room by its name, never its id
    dialog.camera_list.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.folder_edit.setText(str(tmp_path / "case-7"))
    with qtbot.waitSignal(dialog.sig_export_finished, timeout=TIMEOUT_MS) as finished:
        dialog.export_button.click()
        assert dialog.busy and not dialog.export_button.isEnabled()
    outcome = finished.args[0]
    spec = exporter.specs[0]
    assert spec.cameras == ("plaza",) and spec.rooms is None
    assert (spec.start, spec.end) == (start.replace(microsecond=0), end.replace(microsecond=0))
    assert verify_evidence(tmp_path / "case-7").ok
    assert outcome.result.clips >= 1
    text = dialog.strip.status()
    assert f"watchfloor verify {tmp_path / 'case-7'}" in text and "clips" in text
    assert dialog.strip.error() == ""
    assert not dialog.busy and dialog.export_button.isEnabled()
    assert not dialog.strip.is_busy()


@pytest.mark.slow
def test_bad_input_is_named_and_a_failed_export_is_shown_in_red(
    world: tuple[EvidenceExportDialog, Exporter, datetime, datetime], tmp_path: Path, qtbot: QtBot
) -> None:
    dialog, exporter, _start, _end = world
    dialog.export_button.click()
    assert dialog.strip.error() == "Folder: choose where to write the evidence"
    dialog.folder_edit.setText(str(tmp_path / "x"))
    dialog.to_edit.setDateTime(dialog.from_edit.dateTime().addSecs(-60))
    dialog.export_button.click()
    assert dialog.strip.error() == "To: the range must end after it starts"
    assert exporter.specs == []
    dialog.to_edit.setDateTime(dialog.from_edit.dateTime().addSecs(3600))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("someone else's")
    dialog.folder_edit.setText(str(busy))
    with qtbot.waitSignal(dialog.sig_export_failed, timeout=TIMEOUT_MS) as failed:
        dialog.export_button.click()
    assert "not an empty folder" in failed.args[0]
    assert failed.args[0].startswith("Export failed: ") and dialog.strip.error() == failed.args[0]
    assert ALARM_RED in dialog.strip.error_label.styleSheet()  # the theme's one red
    assert dialog.strip.error_label.property("role") == "error"
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_cancel_stops_an_export_and_leaves_nothing(
    world: tuple[EvidenceExportDialog, Exporter, datetime, datetime], tmp_path: Path, qtbot: QtBot
) -> None:
    dialog, exporter, _start, _end = world
    exporter.holding = True
    dialog.folder_edit.setText(str(tmp_path / "case-8"))
    dialog.export_button.click()
    assert exporter.held.wait(30)  # the first file is copied; the export waits here
    qtbot.waitUntil(lambda: dialog.strip.progress()[1] > 0, timeout=TIMEOUT_MS)
    assert re.fullmatch(r"Exporting… \d+\.\d of \d+\.\d MB", dialog.strip.status())
    assert dialog.cancel_button.text() == "Cancel"
    with qtbot.waitSignal(dialog.sig_export_failed, timeout=TIMEOUT_MS) as failed:
        dialog.cancel_button.click()
        assert dialog.strip.status() == "Exporting evidence: stopping…"
        exporter.hold.set()
    # Said plainly, not as a failure: the person asked for it.
    assert failed.args[0] == "Exporting evidence: stopped; nothing was kept"
    assert dialog.strip.status() == failed.args[0] and dialog.strip.error() == ""
    assert not (tmp_path / "case-8").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".case-8")]
    assert dialog.cancel_button.text() == "Close"


@pytest.mark.slow
def test_closing_the_dialog_during_an_export_cancels_it_and_leaves_nothing(
    world: tuple[EvidenceExportDialog, Exporter, datetime, datetime], tmp_path: Path, qtbot: QtBot
) -> None:
    dialog, exporter, _start, _end = world
    dialog.show()
    exporter.holding = True
    dialog.folder_edit.setText(str(tmp_path / "case-9"))
    dialog.export_button.click()
    assert exporter.held.wait(30)
    assert dialog.strip.busy_bar.isVisible()  # a person sees it working
    with qtbot.waitSignal(dialog.sig_export_failed, timeout=TIMEOUT_MS) as failed:
        dialog.close()  # the window's close button: reject
        assert not dialog.isVisible()
        exporter.hold.set()
    assert failed.args[0] == "Exporting evidence: stopped; nothing was kept"
    assert not dialog.busy
    assert not (tmp_path / "case-9").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".case-9")]


def test_the_range_is_typed_on_the_sites_clock_and_names_its_zone(
    db_url: str, qtbot: QtBot, shown_zone: Callable[[str], SiteTime]
) -> None:
    """A site in Los Angeles: 17:00 UTC shows as 09:00 PST, "From (PST/PDT)" says which
    clock, and a range typed there is handed on as the UTC instants it names."""
    shown_zone("America/Los_Angeles")
    start = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    store = Store(db_url)
    client = QtQueryClient(QueryService(store))
    try:
        dialog = EvidenceExportDialog(
            client,
            Exporter(store, Path()),
            cameras=[("gate", "gate")],
            rooms=[],
            start=start,
            end=start + timedelta(hours=1),
            lock_allowed=False,
        )
        qtbot.addWidget(dialog)
        assert dialog.from_edit.text().startswith("2026-11-23 09:00")
        labels = {
            label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None
        }
        assert {"From (PST/PDT)", "To (PST/PDT)"} <= labels
        dialog.to_edit.setDateTime(dialog.from_edit.dateTime().addSecs(30 * 60))
        dialog.folder_edit.setText("/tmp/case")
        spec = dialog.spec()
        assert (spec.start, spec.end) == (start, datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
    finally:
        client.close()
        store.close()
