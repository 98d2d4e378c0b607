"""The incident report form: text required, time in site time defaulting to now, the place from a
click on the map (or typed), an optional reporter and photo or video; problems named by
field (the form's own and the engine's); filing on a query worker, and the answer saying
"new incident N" or "merged into incident N (M reporters)" with category, severity and
classifier."""

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
from engine.history.query_service import QueryService
from engine.incidents.records import Filed
from engine.incidents.reports import ReportInputError
from engine.sitetime import SiteTime
from tests.widgets.test_incident_list import incident
from widgets.incidents.report_form import PLACE_HINT, IncidentReportForm, filed_text

NOW = datetime(2026, 2, 3, 10, 0, 0, tzinfo=UTC)


class FakeFiling:
    """The console's ``file_report``, recording what it was given and on which thread."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.threads: set[str] = set()
        self.gate: threading.Event | None = None  # when given, filing waits for it
        self.answer: Filed | Exception = Filed(
            report_id=71,
            incident=incident(12, 0, category="fire", severity=3, classifier="keywords"),
            merged=False,
        )

    def file_report(self, **fields: Any) -> Filed:
        self.calls.append(fields)
        self.threads.add(threading.current_thread().name)
        if self.gate is not None:
            assert self.gate.wait(5.0), "the test never let the filing finish"
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()


@pytest.fixture
def filing() -> FakeFiling:
    return FakeFiling()


@pytest.fixture
def form(qtbot: QtBot, client: QtQueryClient, filing: FakeFiling) -> IncidentReportForm:
    form = IncidentReportForm(client, filing, now=lambda: NOW)
    qtbot.addWidget(form)
    form.open_new()
    return form


def test_the_form_names_every_missing_or_bad_field(
    qtbot: QtBot, form: IncidentReportForm, filing: FakeFiling, tmp_path: Path
) -> None:
    assert form.place_hint.text() == PLACE_HINT  # "click the map to set the place"
    assert "Click the map" in PLACE_HINT
    assert not form.submit()
    assert form.strip.status() == "" and not form.is_busy()
    assert form.strip.error().splitlines() == [
        "Text: required (say what happened)",
        "Latitude: required: click the map to set the place",
        "Longitude: required: click the map to set the place",
    ]
    form.text_edit.setPlainText("Window smashed")
    form.latitude_edit.setText("north")
    form.longitude_edit.setText("200")
    form.set_time(NOW + timedelta(hours=2))
    form.set_media(tmp_path / "gone.jpg")
    assert not form.submit()
    assert form.strip.error().splitlines() == [
        "Latitude: not degrees from -90 to 90",
        "Longitude: not degrees from -180 to 180",
        "Time: in the future",
        f"Media: no such file {tmp_path / 'gone.jpg'}",
    ]
    assert filing.calls == []


def test_a_click_on_the_map_sets_the_place_and_the_time_defaults_to_now_in_utc(
    form: IncidentReportForm,
) -> None:
    assert form.time() == NOW
    assert form.time_edit.text() == "2026-02-03 10:00:00"  # this test's site is in UTC
    assert form.place() is None
    form.set_place(51.50123456, -0.14)  # what RiskMapPane.sig_location_picked carries
    assert form.latitude_edit.text() == "51.501235"
    assert form.longitude_edit.text() == "-0.140000"
    assert form.place() == (51.501235, -0.14)
    assert form.place_hint.text().startswith("Place set from the map.")
    form.latitude_edit.setText("51,5")  # a decimal comma is read too
    assert form.place() == (51.5, -0.14)


def test_the_time_is_typed_on_the_site_clock_with_its_zone_beside_it(
    qtbot: QtBot,
    client: QtQueryClient,
    filing: FakeFiling,
    shown_zone: Callable[[str], SiteTime],
) -> None:
    shown_zone("America/Los_Angeles")
    form = IncidentReportForm(client, filing, now=lambda: NOW)
    qtbot.addWidget(form)
    form.open_new()
    assert form.time_edit.text() == "2026-02-03 02:00:00"  # 10:00 UTC
    assert form.zone_label.text() == "PST"
    form.time_edit.lineEdit().setText("2025-07-01 21:30:00")
    form.time_edit.interpretText()
    assert form.time() == datetime(2025, 7, 2, 4, 30, tzinfo=UTC)  # PDT, UTC-7 in summer
    assert form.zone_label.text() == "PDT"


def test_filing_runs_on_a_worker_and_says_what_became_of_the_report(
    qtbot: QtBot, form: IncidentReportForm, filing: FakeFiling, tmp_path: Path
) -> None:
    photo = tmp_path / "bins.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    form.text_edit.setPlainText("  Smoke from the bins behind the shop  ")
    form.set_place(51.5, -0.14)
    form.set_time(NOW - timedelta(minutes=20))
    form.reporter_edit.setText("Sam")
    form.set_media(photo)
    with qtbot.waitSignal(form.sig_report_filed, timeout=5000) as filed:
        assert form.submit()
        assert form.is_busy() and not form.submit_button.isEnabled()
        assert form.strip.is_busy() and form.strip.status() == "Filing the report…"
    assert filed.args == [12]
    assert filing.calls == [
        {
            "text": "Smoke from the bins behind the shop",
            "latitude": 51.5,
            "longitude": -0.14,
            "at": NOW - timedelta(minutes=20),
            "reporter": "Sam",
            "media": str(photo),
        }
    ]
    assert filing.calls[0]["at"].tzinfo is not None
    assert all(t.startswith("query-worker") for t in filing.threads)
    assert form.strip.status() == (
        "Filed: new incident 12: fire, severity 3, classified by keywords."
    )
    assert form.strip.error() == "" and not form.strip.is_busy() and not form.is_busy()
    assert form.text_edit.toPlainText() == form.reporter_edit.text() == form.media_edit.text() == ""
    assert form.place() == (51.5, -0.14)  # the next report from the same place is quick
    # A report that joins an incident says so, with how many people reported it.
    filing.answer = Filed(
        report_id=72,
        incident=incident(12, 0, category="fire", severity=4, reporter_count=3, report_count=3),
        merged=True,
        matched_report_id=71,
    )
    form.text_edit.setPlainText("Fire!")
    with qtbot.waitSignal(form.sig_report_filed, timeout=5000):
        assert form.submit()
    assert form.strip.status() == (
        "Filed: merged into incident 12 (3 reporters): fire, severity 4, classified by keywords."
    )
    assert filing.calls[-1]["reporter"] is None and filing.calls[-1]["media"] is None


def test_the_engines_refusals_are_shown_naming_the_field(
    qtbot: QtBot, form: IncidentReportForm, filing: FakeFiling
) -> None:
    form.text_edit.setPlainText("Shouting in the car park")
    form.set_place(51.5, -0.14)
    filing.answer = ReportInputError("text", "empty once control characters are removed")
    with qtbot.waitSignal(form.sig_report_failed, timeout=5000) as failed:
        assert form.submit()
    assert failed.args == ["Text: empty once control characters are removed"]
    assert form.strip.error() == "Not filed: Text: empty once control characters are removed"
    assert form.strip.status() == "" and not form.strip.is_busy()
    assert form.text_edit.toPlainText() == "Shouting in the car park"  # kept to fix
    # Unusable media (the engine's MediaRejectedError is a ValueError) or a refusal.
    filing.answer = ValueError("media: not a photo or video (it looks like text)")
    with qtbot.waitSignal(form.sig_report_failed, timeout=5000) as failed:
        assert form.submit()
    assert failed.args == ["media: not a photo or video (it looks like text)"]
    assert form.strip.error() == "Not filed: media: not a photo or video (it looks like text)"
    assert form.strip.status() == "" and not form.strip.is_busy()
    assert form.submit_button.isEnabled()


def test_while_a_report_is_filed_the_form_waits_and_a_refusal_keeps_what_was_typed(
    qtbot: QtBot, form: IncidentReportForm, filing: FakeFiling, tmp_path: Path
) -> None:
    photo = tmp_path / "car.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    form.text_edit.setPlainText("Car alarm going off for an hour")
    form.set_place(51.5, -0.14)
    form.reporter_edit.setText("Kim")
    form.set_media(photo)
    filing.answer = ReportInputError("reporter", "too long")
    filing.gate = threading.Event()
    try:
        assert form.submit()
        assert form.is_busy() and form.strip.is_busy()
        assert form.strip.status() == "Filing the report…" and form.strip.error() == ""
        # Nothing the person could change while it is filed, nor filed twice.
        fields = (form.text_edit, form.latitude_edit, form.longitude_edit, form.time_edit)
        assert not any(w.isEnabled() for w in fields)
        assert not form.reporter_edit.isEnabled() and not form.media_button.isEnabled()
        assert not form.submit_button.isEnabled() and form.submit_button.text() == "Filing…"
        assert not form.submit()
        with qtbot.waitSignal(form.sig_report_failed, timeout=5000) as failed:
            filing.gate.set()
    finally:
        filing.gate.set()
    assert len(filing.calls) == 1
    assert failed.args == ["Reporter: too long"]
    assert form.strip.error() == "Not filed: Reporter: too long"
    assert form.strip.status() == "" and not form.strip.is_busy() and not form.is_busy()
    # What was typed is kept to fix, and the form can be used again.
    assert form.text_edit.toPlainText() == "Car alarm going off for an hour"
    assert form.reporter_edit.text() == "Kim" and form.media_edit.text() == str(photo)
    assert form.place() == (51.5, -0.14)
    assert all(w.isEnabled() for w in fields) and form.reporter_edit.isEnabled()
    assert form.submit_button.isEnabled() and form.submit_button.text() == "File report"
    # Fixed and filed: the refusal goes, what became of the report is said plainly.
    filing.gate = None
    filing.answer = Filed(
        report_id=73,
        incident=incident(14, 0, category="noise", severity=1, classifier="keywords"),
        merged=False,
    )
    form.reporter_edit.setText("K")
    with qtbot.waitSignal(form.sig_report_filed, timeout=5000):
        assert form.submit()
    assert form.strip.error() == ""
    assert form.strip.status().startswith("Filed: new incident 14: noise, severity 1")


def test_filing_is_off_without_the_permission(form: IncidentReportForm, filing: FakeFiling) -> None:
    form.text_edit.setPlainText("Smoke")
    form.set_place(51.5, -0.14)
    form.set_allowed(False)
    assert not form.isVisible() and not form.submit_button.isEnabled()
    assert not form.submit() and filing.calls == []
    assert "file_report permission" in form.submit_button.toolTip()


def test_filed_text() -> None:
    view = incident(4, 0, category="suspicious_activity", severity=2, llm_pending=True)
    filed = Filed(report_id=1, incident=replace(view, classifier="text_model"), merged=False)
    assert filed_text(filed) == (
        "new incident 4: suspicious_activity, severity 2, classified by text_model (LLM pending)"
    )
    one = Filed(report_id=2, incident=replace(view, reporter_count=1), merged=True)
    assert filed_text(one).startswith("merged into incident 4 (1 reporter):")
