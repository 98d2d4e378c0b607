"""The Incidents pane: incidents newest first with who classified them, filters by category
and period, page-by-page reading of thousands, the selected incident's reports, Validate /
Correct / Un-merge (only for people who may label, after a confirmation where it asks),
New report… and Import file… (only for people who may file; progress shown; a refused file
lists every bad line and stores nothing), and the engine's refusals shown in the pane.

Against a fake backend run through the console's real query client, so every call runs on a
query worker and answers on the GUI thread, as in the console."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.access import Actor, Permission, PermissionDeniedError
from engine.history.query_service import QueryService
from engine.incidents.records import Filed, IncidentView, ReportView, UnmergeError
from engine.incidents.reports import ReportFileError, ReportInputError
from engine.sitetime import SiteTime
from widgets.incidents.api import MediaShown
from widgets.incidents.view import (
    COLUMN_CATEGORY,
    COLUMN_CLASSIFIER,
    COLUMN_LLM,
    COLUMN_REPORTERS,
    COLUMN_REPORTS,
    COLUMN_SEVERITY,
    COLUMN_TIME,
    NOT_ALLOWED_FILE,
    NOT_ALLOWED_LABEL,
    PAGE_SIZE,
    REPORT_CATEGORY,
    REPORT_CLASSIFIER,
    REPORT_FALLBACK,
    REPORT_MERGE,
    REPORT_REPORTER,
    REPORT_TEXT,
    IncidentListPane,
)

NOW = datetime(2026, 2, 3, 10, 0, 0, tzinfo=UTC)  # 15:30 in the tests' local time


def incident(incident_id: int, hours_ago: float, **changes: Any) -> IncidentView:
    view = IncidentView(
        incident_id=incident_id,
        occurred_at=NOW - timedelta(hours=hours_ago),
        last_report_at=NOW - timedelta(hours=hours_ago),
        latitude=51.5,
        longitude=-0.14,
        cell=0,
        category="theft",
        severity=2,
        confidence=0.6,
        classifier="keywords",
        category_basis="single",
        llm_pending=False,
        report_count=1,
        reporter_count=1,
        validated_by=None,
        validated_at=None,
        report_ids=(incident_id * 10,),
        media_ids=(),
    )
    return replace(view, **changes)


def report(report_id: int, incident_id: int, minutes_ago: float, **changes: Any) -> ReportView:
    view = ReportView(
        report_id=report_id,
        incident_id=incident_id,
        at=NOW - timedelta(minutes=minutes_ago),
        latitude=51.5,
        longitude=-0.14,
        text=f"report {report_id}",
        reporter=None,
        source="form",
        filed_by="account:olga",
        received_at=NOW,
        category="theft",
        severity=2,
        confidence=0.6,
        classifier="keywords",
        fallback_reason=None,
        llm_pending=False,
        merge={},
    )
    return replace(view, **changes)


FIRE = incident(
    3,
    1,
    category="fire",
    severity=4,
    classifier="llm:claude",
    category_basis="majority",
    report_count=2,
    reporter_count=2,
    report_ids=(30, 31),
)
THEFT = incident(
    2,
    30,
    validated_by="account:ada",
    validated_at=NOW - timedelta(hours=2),
    category_basis="validated",
    classifier="operator:ada",
)
OLD = incident(1, 24 * 20, category="vandalism", llm_pending=True)

FIRE_REPORTS = [
    report(30, 3, 62, text="Smoke from the bins", reporter="Sam"),
    report(
        31,
        3,
        60,
        text="Fire behind the shop\nflames visible",
        reporter=None,
        category="fire",
        classifier="keywords",
        fallback_reason="LLM timed out after 10 s",
        merge={"matched_report": 30, "distance_m": 12.4, "seconds_apart": 120.0},
    ),
]


class FakeIncidents:
    """The console's incident actions over lists, recording every call and its thread."""

    def __init__(self, incidents: list[IncidentView] | None = None) -> None:
        self.rows = list(incidents if incidents is not None else [FIRE, THEFT, OLD])
        self.reports: dict[int, list[ReportView]] = {
            3: list(FIRE_REPORTS),
            2: [report(20, 2, 30 * 60, text="Bike stolen", reporter="Kim")],
            1: [report(10, 1, 20 * 24 * 60, text="Graffiti on the wall")],
        }
        self.media: dict[int, list[MediaShown]] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.threads: set[str] = set()
        self.refusal: Exception | None = None
        self.listing_error: Exception | None = None
        self.import_error: Exception | None = None
        self.import_total = 5
        self.release = threading.Event()
        self.release.set()
        # An import may stop after ``import_paused_at`` reports (paused set) until resumed.
        self.import_paused_at: int | None = None
        self.import_paused = threading.Event()
        self.import_resume = threading.Event()

    def _called(self, *call: Any) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == name]

    def incidents(
        self,
        since: datetime | None,
        until: datetime | None,
        category: str | None,
        limit: int,
        offset: int,
    ) -> list[IncidentView]:
        self._called("incidents", since, until, category, limit, offset)
        if self.listing_error is not None:
            raise self.listing_error
        rows = sorted(self.rows, key=lambda v: (v.occurred_at, v.incident_id), reverse=True)
        rows = [
            v
            for v in rows
            if (since is None or v.occurred_at >= since)
            and (category is None or v.category == category)
        ]
        return rows[offset : offset + limit]

    def incident_reports(self, incident_id: int) -> list[ReportView]:
        self._called("reports", incident_id)
        return list(self.reports[incident_id])

    def validate(
        self, incident_id: int, category: str | None = None, severity: int | None = None
    ) -> IncidentView:
        self._called("validate", incident_id, category, severity)
        if self.refusal is not None:
            raise self.refusal
        index = next(i for i, v in enumerate(self.rows) if v.incident_id == incident_id)
        old = self.rows[index]
        new = replace(
            old,
            category=category or old.category,
            severity=severity or old.severity,
            validated_by="account:olga",
            validated_at=NOW,
            category_basis="corrected" if category not in (None, old.category) else "validated",
            classifier="operator:olga",
        )
        self.rows[index] = new
        return new

    def unmerge(self, report_id: int) -> tuple[IncidentView, IncidentView]:
        self._called("unmerge", report_id)
        if self.refusal is not None:
            raise self.refusal
        moved = next(r for rs in self.reports.values() for r in rs if r.report_id == report_id)
        old_index = next(i for i, v in enumerate(self.rows) if v.incident_id == moved.incident_id)
        old = replace(self.rows[old_index], report_count=1, reporter_count=1)
        new = replace(old, incident_id=9, report_ids=(report_id,), occurred_at=moved.at)
        self.rows[old_index] = old
        self.rows.append(new)
        self.reports[old.incident_id] = [
            r for r in self.reports[old.incident_id] if r.report_id != report_id
        ]
        self.reports[9] = [replace(moved, incident_id=9, merge={"unmerged_from": old.incident_id})]
        return old, new

    def import_file(
        self, path: Path, progress: Callable[[int, int], None] | None = None
    ) -> list[Filed]:
        self._called("import", Path(path))
        self.release.wait(5)
        if self.import_error is not None:
            raise self.import_error
        filed = []
        for n in range(self.import_total):
            view = incident(100 + n, 0.5)
            filed.append(Filed(report_id=1000 + n, incident=view, merged=n % 2 == 1))
            if progress is not None:
                progress(n + 1, self.import_total)
            if n + 1 == self.import_paused_at:
                self.import_paused.set()
                self.import_resume.wait(5)
        self.rows += [f.incident for f in filed if not f.merged]
        return filed

    def file_report(self, **fields: Any) -> Filed:
        self._called("file", fields)
        view = incident(50, 0)
        self.rows.append(view)
        self.reports[50] = [report(500, 50, 0, text=fields["text"])]
        return Filed(report_id=500, incident=view, merged=False)

    def incident_media(self, incident_id: int) -> list[MediaShown]:
        self._called("media", incident_id)
        return list(self.media.get(incident_id, []))

    def llm_status(self) -> str:
        self._called("llm_status")
        return "local classifier only: no ANTHROPIC_API_KEY"


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> None:
    """The console shows a site at UTC+05:30 all year, far from this machine's zone."""
    shown_zone("Asia/Kolkata")


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def backend() -> FakeIncidents:
    return FakeIncidents()


def open_pane(
    qtbot: QtBot, client: QtQueryClient, backend: FakeIncidents, *, file: bool, label: bool
) -> IncidentListPane:
    pane = IncidentListPane(client, backend, now=lambda: NOW)
    qtbot.addWidget(pane)
    pane.set_permissions(file_report=file, label=label)
    pane.resize(1000, 700)
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        pane.show()  # the first showing lists
    qtbot.waitUntil(lambda: pane.classifier_label.text() != "", timeout=5000)
    return pane


@pytest.fixture
def pane(qtbot: QtBot, client: QtQueryClient, backend: FakeIncidents) -> IncidentListPane:
    return open_pane(qtbot, client, backend, file=True, label=True)


def all_time(qtbot: QtBot, pane: IncidentListPane) -> None:
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        pane.set_filter(period=3)


def show(qtbot: QtBot, pane: IncidentListPane, incident_id: int) -> None:
    """Select ``incident_id`` in the list as a click does, and wait for its reports."""
    row = [v.incident_id for v in pane.incidents()].index(incident_id)
    with qtbot.waitSignal(pane.sig_reports_shown, timeout=5000):
        pane.view.selectRow(row)


def test_incidents_are_listed_newest_first_with_who_classified_them(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents
) -> None:
    # The default period is a week: the incident of 20 days ago is not listed.
    assert [v.incident_id for v in pane.incidents()] == [3, 2]
    all_time(qtbot, pane)
    assert [v.incident_id for v in pane.incidents()] == [3, 2, 1]
    assert pane.cell_text(3, COLUMN_TIME) == "2026-02-03 14:30"  # site time
    assert pane.cell_text(3, COLUMN_CATEGORY) == "fire"
    assert pane.cell_text(3, COLUMN_SEVERITY) == "4"
    assert pane.cell_text(3, COLUMN_REPORTERS) == "2"
    assert pane.cell_text(3, COLUMN_REPORTS) == "2"
    assert pane.cell_text(3, COLUMN_CLASSIFIER) == "llm:claude (majority)"
    assert pane.cell_text(2, COLUMN_CLASSIFIER) == "validated by ada"
    assert pane.cell_text(1, COLUMN_LLM) == "pending"
    assert pane.cell_text(3, COLUMN_LLM) == ""
    # What classifies reports now; why (no LLM here) in the tooltip.
    assert pane.classifier_label.text() == "Classifier: local classifier only"
    assert pane.classifier_label.toolTip().endswith("only: no ANTHROPIC_API_KEY")
    assert pane.count_label.text() == "3 incidents, newest first"
    assert backend.threads and all(t.startswith("query-worker") for t in backend.threads)


def test_category_and_period_filters_ask_the_engine(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents
) -> None:
    _, since, until, category, limit, offset = backend.of("incidents")[-1]
    assert (since, until, category, limit, offset) == (NOW - timedelta(days=7), None, None, 200, 0)
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        pane.category_combo.setCurrentIndex(pane.category_combo.findData("fire"))
    assert [v.incident_id for v in pane.incidents()] == [3]
    assert backend.of("incidents")[-1][3] == "fire"
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        pane.period_combo.setCurrentIndex(0)  # last 24 h
    assert backend.of("incidents")[-1][1:4] == (NOW - timedelta(hours=24), None, "fire")
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        pane.set_filter(category="vandalism", period=3)  # all time
    assert backend.of("incidents")[-1][1:4] == (None, None, "vandalism")
    assert [v.incident_id for v in pane.incidents()] == [1]
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        pane.set_filter(category="medical")
    assert pane.incidents() == []
    assert pane.count_label.text() == "No incidents in this period"
    with pytest.raises(ValueError, match="unknown category"):
        pane.set_filter(category="aliens")


def test_thousands_of_incidents_are_read_a_page_at_a_time(
    qtbot: QtBot, client: QtQueryClient
) -> None:
    many = FakeIncidents([incident(i, i / 100) for i in range(1, 451)])
    pane = open_pane(qtbot, client, many, file=False, label=False)
    assert len(pane.incidents()) == PAGE_SIZE and pane.has_more()
    assert "Load more" in pane.count_label.text() and pane.load_more_button.isEnabled()
    with qtbot.waitSignal(pane.view.model().rowsInserted, timeout=5000):
        assert pane.load_more()
    qtbot.waitUntil(lambda: not pane.is_loading(), timeout=5000)
    assert len(pane.incidents()) == 2 * PAGE_SIZE
    assert many.of("incidents")[-1][4:] == (PAGE_SIZE, PAGE_SIZE)  # limit, offset
    # Scrolling to the bottom reads the rest.
    # At the bottom of the laid-out list, as a user gets there: a scroll bar maximum read
    # while Qt's layout of the rows just inserted is pending is the shorter list's, and
    # setting it makes Qt lay them out first, so the bottom moves away.
    pane.view.scrollToBottom()
    qtbot.waitUntil(lambda: len(pane.incidents()) == 450 and not pane.is_loading(), timeout=5000)
    assert not pane.has_more() and not pane.load_more()
    ids = [v.incident_id for v in pane.incidents()]
    assert ids == sorted(ids) and len(set(ids)) == 450  # newest first (the lowest id is newest)


def test_the_selected_incidents_reports_show_with_their_own_classification_and_merge(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents
) -> None:
    with qtbot.waitSignal(pane.sig_incident_selected, timeout=5000) as selected:
        show(qtbot, pane, 3)
    assert selected.args == [3]
    assert [r.report_id for r in pane.reports()] == [30, 31]
    assert pane.report_cell_text(30, REPORT_REPORTER) == "Sam"
    assert pane.report_cell_text(31, REPORT_REPORTER) == "anonymous"
    assert pane.report_cell_text(31, REPORT_TEXT) == "Fire behind the shop flames visible"
    assert pane.report_cell_text(31, REPORT_CATEGORY) == "fire (2)"
    assert pane.report_cell_text(30, REPORT_CATEGORY) == "theft (2)"
    assert pane.report_cell_text(31, REPORT_CLASSIFIER) == "keywords"
    assert pane.report_cell_text(31, REPORT_FALLBACK) == "LLM timed out after 10 s"
    assert pane.report_cell_text(30, REPORT_MERGE) == "opened the incident"
    assert pane.report_cell_text(31, REPORT_MERGE) == "joined report 30 (12 m, 120 s apart)"
    assert pane.detail_label.text().startswith("Incident 3: fire, severity 4")
    assert pane.detail_label.text().endswith("2 reports")
    # The map selecting an incident shows it without echoing the selection back.
    emitted: list[int] = []
    pane.sig_incident_selected.connect(emitted.append)
    with qtbot.waitSignal(pane.sig_reports_shown, timeout=5000):
        pane.select_incident(2)
    assert pane.selected_incident() is not None and pane.selected_incident().incident_id == 2
    assert [r.text for r in pane.reports()] == ["Bike stolen"]
    # One not listed with these filters still shows its reports.
    with qtbot.waitSignal(pane.sig_reports_shown, timeout=5000):
        pane.select_incident(1)
    assert pane.selected_incident() is None and pane.shown_incident() == 1
    assert "not in the list with these filters" in pane.detail_label.text()
    assert emitted == []


def jpeg(width: int, height: int) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(40, 120, 200))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG")
    return bytes(buffer.data().data())


def test_an_incident_shows_its_media_with_what_was_found_in_them(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents
) -> None:
    from PySide6.QtWidgets import QLabel

    backend.media[3] = [
        MediaShown(7, 30, "photo, 4 people; faces: Ann", "incidents/a.jpg", jpeg(320, 240)),
        MediaShown(8, 31, "video, 2 people", "incidents/b.mp4", None),
    ]
    show(qtbot, pane, 3)
    qtbot.waitUntil(lambda: len(pane.media_captions()) == 2, timeout=5000)
    assert pane.media_captions() == [
        "report 30: photo, 4 people; faces: Ann",
        "report 31: video, 2 people",
    ]
    assert pane.media_strip.isVisible()
    pixmaps = [
        label.pixmap()
        for label in pane.media_strip.findChildren(QLabel)
        if not label.pixmap().isNull()
    ]
    assert [p.width() for p in pixmaps] == [160]  # the one thumbnail, scaled to the strip
    assert ("media", 3) in backend.calls
    assert all(t.startswith("query-") for t in backend.threads)
    # an incident without media hides the strip
    show(qtbot, pane, 2)
    qtbot.waitUntil(lambda: not pane.media_captions(), timeout=5000)
    assert not pane.media_strip.isVisible()


def test_validate_and_correct_run_as_asked_after_a_confirmation(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents, monkeypatch: pytest.MonkeyPatch
) -> None:
    show(qtbot, pane, 3)
    questions: list[str] = []
    answer = [False]

    def confirm(_title: str, text: str) -> bool:
        questions.append(text)
        return answer[0]

    monkeypatch.setattr(pane, "_confirm", confirm)
    assert pane.validate_button.isEnabled()
    pane.validate_button.click()  # declined: nothing is sent
    assert "Confirm incident 3 as fire, severity 4?" in questions[0]
    assert backend.of("validate") == []
    answer[0] = True
    with qtbot.waitSignal(pane.sig_incident_changed, timeout=5000):
        pane.validate_button.click()
    assert backend.of("validate") == [("validate", 3, None, None)]
    assert pane.status_text() == "Incident 3 validated as fire, severity 4."
    assert pane.cell_text(3, COLUMN_CLASSIFIER) == "validated by olga"
    # Correct: another category and severity, chosen beside the button.
    assert not pane.correct_button.isEnabled()  # nothing changed yet
    pane.correct_category.setCurrentIndex(pane.correct_category.findData("vandalism"))
    pane.correct_severity.setValue(5)
    assert pane.correct_button.isEnabled()
    with qtbot.waitSignal(pane.sig_incident_changed, timeout=5000):
        pane.correct_button.click()
    assert backend.of("validate")[-1] == ("validate", 3, "vandalism", 5)
    assert pane.status_text() == "Incident 3 corrected to vandalism, severity 5."
    assert pane.cell_text(3, COLUMN_CATEGORY) == "vandalism"
    assert pane.cell_text(3, COLUMN_CLASSIFIER) == "corrected by olga"
    assert len(questions) == 2  # correcting does not ask again


def test_unmerge_splits_the_selected_report_after_a_confirmation(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pane, "_confirm", lambda _title, _text: True)
    show(qtbot, pane, 2)  # one report: nothing to split it from
    pane.reports_view.selectRow(0)
    assert not pane.unmerge_button.isEnabled() and not pane.unmerge_selected_report()
    show(qtbot, pane, 3)
    assert not pane.unmerge_button.isEnabled()  # no report selected yet
    pane.select_report(31)
    assert pane.unmerge_button.isEnabled()
    with qtbot.waitSignal(pane.sig_incident_changed, timeout=5000) as changed:
        pane.unmerge_button.click()
    assert changed.args == [9]
    assert backend.of("unmerge") == [("unmerge", 31)]
    assert pane.status_text() == "Report 31 split off incident 3 into new incident 9."
    assert 9 in [v.incident_id for v in pane.incidents()]
    qtbot.waitUntil(lambda: [r.report_id for r in pane.reports()] == [30], timeout=5000)


def test_the_engines_refusals_and_failures_are_shown_in_the_pane(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pane, "_confirm", lambda _title, _text: True)
    show(qtbot, pane, 3)
    olga = Actor("olga", frozenset())
    backend.refusal = PermissionDeniedError(olga, Permission.LABEL, "validate incidents")
    with qtbot.waitSignal(pane.sig_action_failed, timeout=5000):
        assert pane.validate_selected()
    assert pane.error_text().startswith("Could not update incident 3: olga (no role) may not")
    assert "label permission" in pane.error_text()
    backend.refusal = UnmergeError("report 31 is the only report of incident 3")
    pane.select_report(31)
    with qtbot.waitSignal(pane.sig_action_failed, timeout=5000):
        assert pane.unmerge_selected_report()
    assert "Could not un-merge report 31: report 31 is the only report" in pane.error_text()
    assert not pane.is_busy() and pane.validate_button.isEnabled()
    # A listing that fails empties the list (no stale rows look current) and says why.
    backend.listing_error = OSError("database is locked")
    pane.refresh_button.click()
    qtbot.waitUntil(lambda: "database is locked" in pane.error_text(), timeout=5000)
    assert pane.incidents() == [] and pane.count_label.text() == "Incidents not listed"


def test_actions_follow_the_permissions(
    qtbot: QtBot, client: QtQueryClient, backend: FakeIncidents
) -> None:
    pane = open_pane(qtbot, client, backend, file=False, label=False)
    show(qtbot, pane, 3)
    pane.select_report(31)
    buttons = (
        pane.validate_button,
        pane.correct_button,
        pane.unmerge_button,
        pane.new_button,
        pane.import_button,
    )
    assert not any(b.isEnabled() for b in buttons)
    assert pane.permission_label.text() == f"{NOT_ALLOWED_FILE} {NOT_ALLOWED_LABEL}"
    assert pane.open_report_form() is None and not pane.import_path("reports.csv")
    assert not pane.validate_selected() and not pane.unmerge_selected_report()
    assert not pane.correct_selected()
    pane.set_permissions(file_report=True, label=False)
    assert pane.new_button.isEnabled() and pane.import_button.isEnabled()
    assert not pane.validate_button.isEnabled()
    assert pane.permission_label.text() == NOT_ALLOWED_LABEL
    pane.set_permissions(file_report=False, label=True)
    assert pane.validate_button.isEnabled() and pane.unmerge_button.isEnabled()
    assert not pane.new_button.isEnabled() and not pane.import_button.isEnabled()
    pane.set_permissions(file_report=True, label=True)
    assert pane.permission_label.isHidden()
    # New report… opens the form; losing the permission (a lock) closes it.
    form = pane.open_report_form()
    assert form is not None and form.isVisible()
    pane.set_permissions(file_report=False, label=False)
    assert not form.isVisible()
    assert backend.of("validate") == [] and backend.of("import") == []


def test_a_refused_import_lists_every_bad_line_and_stores_nothing(
    qtbot: QtBot,
    pane: IncidentListPane,
    backend: FakeIncidents,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "night.csv"
    backend.import_error = ReportFileError(
        path,
        [
            ReportInputError("latitude", "missing", 3),
            ReportInputError("at", "no time zone in '2026-02-03 09:00'", 7),
            ReportInputError(None, "2 values for 4 columns", 9),
        ],
    )
    monkeypatch.setattr(pane, "_ask_import_path", lambda: path)
    before = list(backend.rows)
    with qtbot.waitSignal(pane.sig_import_finished, timeout=5000) as finished:
        pane.import_button.click()
    assert finished.args[0] is False
    assert pane.problems() == [
        "line 3: latitude: missing",
        "line 7: at: no time zone in '2026-02-03 09:00'",
        "line 9: 2 values for 4 columns",
    ]
    assert pane.error_text() == (
        "Nothing imported from night.csv: 3 problems (listed below). "
        "Fix the file and import it again."
    )
    assert backend.rows == before and pane.import_button.isEnabled()
    pane.dismiss_button.click()
    assert pane.problems() == []
    # A file that is not a report file at all: its own problem, without a line.
    backend.import_error = ReportFileError(
        path, [ReportInputError(None, "not a .csv, .jsonl or .ndjson file", 0)]
    )
    with qtbot.waitSignal(pane.sig_import_finished, timeout=5000):
        assert pane.import_path(path)
    assert pane.problems() == ["not a .csv, .jsonl or .ndjson file"]


def test_an_import_shows_its_progress_and_what_it_filed(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents, tmp_path: Path
) -> None:
    backend.release.clear()  # the import waits until the test has seen it underway
    backend.import_total = 4
    assert pane.import_path(tmp_path / "day.jsonl")
    assert pane.strip.busy_bar.isVisible() and pane.import_button.text() == "Importing…"
    assert not pane.import_button.isEnabled() and pane.is_busy()
    assert not pane.strip.cancel_button.isVisible()  # all of a file or none: no stopping
    assert not pane.import_path(tmp_path / "again.csv")  # one import at a time
    assert pane.status_text() == "Importing day.jsonl…"
    values: list[int] = []
    pane.strip.busy_bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(pane.sig_import_finished, timeout=5000) as finished:
        backend.release.set()
    assert finished.args == [True, pane.status_text()]
    assert 4 in values  # the bar filled: 4 of 4 reports
    assert pane.status_text() == (
        "Imported 4 reports from day.jsonl: 2 new incidents, 2 merged into others."
    )
    assert not pane.strip.is_busy() and pane.error_text() == ""
    assert pane.import_button.isEnabled() and pane.import_button.text() == "Import file…"
    qtbot.waitUntil(lambda: 100 in [v.incident_id for v in pane.incidents()], timeout=5000)
    assert backend.of("import") == [("import", tmp_path / "day.jsonl")]


def test_an_import_fills_the_strip_report_by_report_and_changes_wait_for_it(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents, tmp_path: Path
) -> None:
    show(qtbot, pane, 3)
    assert pane.validate_button.isEnabled()
    backend.import_total = 4
    backend.import_paused_at = 2
    assert pane.import_path(tmp_path / "day.jsonl")
    assert backend.import_paused.wait(5)
    qtbot.waitUntil(lambda: pane.strip.status() == "Imported 2 of 4 reports", timeout=5000)
    assert pane.strip.progress() == (2, 4) and pane.strip.is_busy()
    # One thing at a time in the pane: a validation waits until the import is done.
    assert not pane.validate_button.isEnabled() and not pane.validate_selected()
    with qtbot.waitSignal(pane.sig_import_finished, timeout=5000) as finished:
        backend.import_resume.set()
    assert finished.args[0] is True
    assert not pane.strip.is_busy() and pane.validate_button.isEnabled()
    assert backend.of("validate") == []


def test_an_import_that_fails_says_so_in_red_and_is_not_a_refused_change(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents, tmp_path: Path
) -> None:
    backend.import_error = OSError("permission denied")
    with (
        qtbot.assertNotEmitted(pane.sig_action_failed, wait=0),
        qtbot.waitSignal(pane.sig_import_finished, timeout=5000) as finished,
    ):
        assert pane.import_path(tmp_path / "day.jsonl")
    message = "Nothing imported from day.jsonl: permission denied"
    assert finished.args == [False, message]
    assert pane.error_text() == message and pane.strip.status() == ""
    assert pane.problems() == [] and not pane.is_busy()
    assert pane.import_button.isEnabled() and pane.import_button.text() == "Import file…"


def test_engine_changes_reload_the_list_once_and_keep_the_selection(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents
) -> None:
    show(qtbot, pane, 2)
    listed = len(backend.of("incidents"))
    backend.rows.append(incident(7, 0.1, category="medical"))
    with qtbot.waitSignal(pane.sig_incidents_listed, timeout=5000):
        for _ in range(5):  # a burst of IncidentFiled events
            pane.on_incidents_changed()
    assert len(backend.of("incidents")) == listed + 1
    assert [v.incident_id for v in pane.incidents()] == [7, 3, 2]
    assert pane.selected_incident() is not None and pane.selected_incident().incident_id == 2


def test_a_report_filed_from_the_form_is_selected_in_the_list(
    qtbot: QtBot, pane: IncidentListPane, backend: FakeIncidents
) -> None:
    form = pane.open_report_form()
    assert form is not None
    form.text_edit.setPlainText("Man collapsed at the bus stop")
    form.set_place(51.5001, -0.1402)
    with qtbot.waitSignal(pane.sig_incident_selected, timeout=5000) as selected:
        assert form.submit()
    assert selected.args == [50]
    qtbot.waitUntil(
        lambda: pane.selected_incident() is not None and pane.selected_incident().incident_id == 50,
        timeout=5000,
    )
    # The selected incident's reports are read after the selection: wait for them.
    qtbot.waitUntil(lambda: bool(pane.reports()), timeout=5000)
    assert [r.text for r in pane.reports()] == ["Man collapsed at the bus stop"]
