"""The incident report form: what someone saw, when (site time, its zone named beside it),
where, who reported it, and an optional photo or video, filed as the person logged in.

The form is a window of its own that does not block the console, so the operator can click
the risk map while it is open: the console connects the map's
``sig_location_picked(latitude, longitude)`` to :meth:`IncidentReportForm.set_place`. Filing
runs the console's blocking ``file_report`` on a query worker through the shared
:class:`~widgets.action_strip.ActionRunner`, the form's fields off meanwhile; its
:class:`~widgets.action_strip.ActionStrip` shows it busy, then whether the report opened a
new incident or joined one ("merged into incident 12 (3 reporters)"), with the category,
severity and classifier the engine chose. Problems are shown in the strip's red line, named
by field, from the form's own checks and from the engine's.

It also holds what the alert stream and the event history share to escalate an event:
:func:`ask_incident_description` and :func:`filed_text`. Every function and method here
runs on the GUI thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.incidents.records import Filed
from engine.incidents.reports import ReportInputError
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip
from widgets.incidents.api import ReportFormActions
from widgets.queries import QueryClient
from widgets.site_clock import from_qdatetime, qt_zone, to_qdatetime

PLACE_HINT: Final = "Click the map to set the place (or type latitude and longitude)."
MEDIA_FILTER: Final = (
    "Photos and videos (*.jpg *.jpeg *.png *.webp *.bmp *.heic *.mp4 *.mov *.avi *.mkv *.webm);;"
    "All files (*)"
)
TIME_DISPLAY_FORMAT: Final = "yyyy-MM-dd HH:mm:ss"
FUTURE_SLACK: Final = timedelta(minutes=5)  # a report from a phone whose clock runs ahead
DESCRIPTION_MAX_CHARS: Final = 500  # "a short description": the event itself carries the rest
FILING_TEXT: Final = "Filing the report…"
NOT_FILED: Final = "Not filed"  # heads a refusal in the strip's red line

# Field names as the engine's ReportInputError gives them -> as the form labels them.
FIELD_LABELS: Final = {
    "text": "Text",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "at": "Time",
    "reporter": "Reporter",
    "media": "Media",
}


def filed_text(filed: Filed) -> str:
    """What happened to a filed report, as people read it: ``new incident 12: fire,
    severity 3, classified by keywords`` or ``merged into incident 12 (3 reporters): …``."""
    incident = filed.incident
    if filed.merged:
        reporters = incident.reporter_count
        head = (
            f"merged into incident {incident.incident_id} "
            f"({reporters} reporter{'' if reporters == 1 else 's'})"
        )
    else:
        head = f"new incident {incident.incident_id}"
    pending = " (LLM pending)" if incident.llm_pending else ""
    return (
        f"{head}: {printable(incident.category)}, severity {incident.severity}, "
        f"classified by {printable(incident.classifier)}{pending}"
    )


def error_text(error: BaseException | None) -> str:
    """An engine error as the form shows it: a bad field is named by its label."""
    field = getattr(error, "field", None)
    if isinstance(field, str) and field in FIELD_LABELS and getattr(error, "line", None) is None:
        message = str(error).removeprefix(f"{field}: ")
        return f"{FIELD_LABELS[field]}: {printable(message)}"
    return printable(str(error) or type(error).__name__)


def ask_incident_description(parent: QWidget, what: str) -> str | None:
    """Ask (modal) for a short description of why ``what`` (``alert 3``, ``event 17``)
    becomes an incident; None if cancelled. An empty answer is allowed: the engine then
    describes the event itself."""
    text, accepted = QInputDialog.getText(
        parent,
        "Escalate to incident",
        f"Escalate {what} to an incident report.\nShort description of what happened:",
    )
    return text.strip()[:DESCRIPTION_MAX_CHARS] if accepted else None


def _parse_degrees(text: str, limit: float) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


def _file_report(call: Callable[[], Filed]) -> Filed | ReportInputError:
    """Query worker: file the report. The engine's refusal of a field is an answer, not a
    failure: the form names the field as it labels it and puts the cursor there."""
    try:
        return call()
    except ReportInputError as refused:
        return refused


class IncidentReportForm(QDialog):
    """A report to file: text (required), time (typed in site time, default now), place
    (latitude and longitude, set by clicking the map), reporter (optional) and a photo or video
    (optional). Not modal. ``actions.file_report`` runs through ``client``; ``now`` is the
    engine's clock (the default time)."""

    sig_report_filed = Signal(int)
    """A report filed from this form was stored (GUI thread): its incident's id."""

    sig_report_failed = Signal(str)
    """Filing was refused or failed (GUI thread): the message shown, without its "Not
    filed: " head."""

    def __init__(
        self,
        client: QueryClient,
        actions: ReportFormActions,
        parent: QWidget | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New incident report")
        self.setModal(False)
        self._client = client
        self._actions = actions
        self._now = now or (lambda: datetime.now(UTC))
        self._channel = f"incident-form-{id(self):x}"
        self._allowed = True
        self.last_filed: Filed | None = None

        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("What happened, what you saw (required)")
        self.text_edit.setAccessibleName("Report text")
        self.time_edit = QDateTimeEdit()
        self.site_time = display()
        self.time_edit.setTimeZone(qt_zone(self.site_time))  # typed on the site's clock
        self.time_edit.setDisplayFormat(TIME_DISPLAY_FORMAT)
        self.time_edit.setCalendarPopup(True)
        self.time_edit.setAccessibleName(f"Time ({self.site_time.name})")
        self.now_button = QPushButton("Now")
        self.now_button.setToolTip("Set the time to now")
        self.now_button.clicked.connect(self.reset_time)
        time_row = QHBoxLayout()
        time_row.addWidget(self.time_edit, 1)
        # The zone is said here, once: GMT or BST as the time typed falls.
        self.zone_label = QLabel()
        self.zone_label.setToolTip(f"Site time, {self.site_time.name}")
        self.time_edit.dateTimeChanged.connect(self._on_time_changed)
        time_row.addWidget(self.zone_label)
        time_row.addWidget(self.now_button)

        self.latitude_edit = QLineEdit()
        self.latitude_edit.setPlaceholderText("latitude, e.g. 51.5074")
        self.latitude_edit.setAccessibleName("Latitude")
        self.longitude_edit = QLineEdit()
        self.longitude_edit.setPlaceholderText("longitude, e.g. -0.1278")
        self.longitude_edit.setAccessibleName("Longitude")
        place_row = QHBoxLayout()
        place_row.addWidget(self.latitude_edit)
        place_row.addWidget(self.longitude_edit)
        self.place_hint = QLabel(PLACE_HINT)
        self.place_hint.setWordWrap(True)
        self.place_hint.setStyleSheet("font-style: italic;")

        self.reporter_edit = QLineEdit()
        self.reporter_edit.setPlaceholderText("who reported it (optional)")
        self.media_edit = QLineEdit()
        self.media_edit.setPlaceholderText("a photo or video (optional)")
        self.media_edit.setReadOnly(True)
        self.media_button = QPushButton("Choose…")
        self.media_button.clicked.connect(self._on_choose_media_clicked)
        self.media_clear_button = QPushButton("Clear")
        self.media_clear_button.clicked.connect(self.media_edit.clear)
        media_row = QHBoxLayout()
        media_row.addWidget(self.media_edit, 1)
        media_row.addWidget(self.media_button)
        media_row.addWidget(self.media_clear_button)

        form = QFormLayout()
        form.addRow("Text *", self.text_edit)
        form.addRow("Time", time_row)
        form.addRow("Place *", place_row)
        form.addRow("", self.place_hint)
        form.addRow("Reporter", self.reporter_edit)
        form.addRow("Media", media_row)

        self.strip = ActionStrip()
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.file",
            update_controls=self._update_controls,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self._on_filing_finished)
        self.submit_button = QPushButton("File report")
        self.submit_button.setDefault(True)
        self.submit_button.setMinimumWidth(self.submit_button.sizeHint().width())
        self.submit_button.clicked.connect(self.submit)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.strip)
        layout.addLayout(buttons)
        self.resize(460, 420)
        self.reset_time()

    # -- public API ------------------------------------------------------------------------
    def open_new(self) -> None:
        """Show the form for a new report: the time set to now, the place kept (the map
        may have been clicked already), the rest empty."""
        if not self.isVisible():
            self.text_edit.clear()
            self.reporter_edit.clear()
            self.media_edit.clear()
            self.reset_time()
            if not self._runner.is_busy():  # else the strip goes on saying it is filing
                self.strip.show_status("")
                self.strip.clear_error()
        self.show()
        self.raise_()
        self.activateWindow()
        self.text_edit.setFocus()

    def set_place(self, latitude: float, longitude: float) -> None:
        """The map was clicked at (``latitude``, ``longitude``) degrees: the report's place."""
        self.latitude_edit.setText(f"{latitude:.6f}")
        self.longitude_edit.setText(f"{longitude:.6f}")
        self.place_hint.setText(f"Place set from the map. {PLACE_HINT}")

    def place(self) -> tuple[float, float] | None:
        """The place typed or picked, or None while either field is not valid degrees."""
        latitude = _parse_degrees(self.latitude_edit.text(), 90.0)
        longitude = _parse_degrees(self.longitude_edit.text(), 180.0)
        return None if latitude is None or longitude is None else (latitude, longitude)

    def reset_time(self) -> None:
        self.time_edit.setDateTime(to_qdatetime(self._now(), self.site_time))

    def set_time(self, at: datetime) -> None:
        self.time_edit.setDateTime(to_qdatetime(at, self.site_time))

    def time(self) -> datetime:
        """The report's time as entered (timezone-aware UTC)."""
        return from_qdatetime(self.time_edit.dateTime())

    def _on_time_changed(self) -> None:
        self.zone_label.setText(self.site_time.zone_label(self.time()))

    def set_media(self, path: str | Path | None) -> None:
        self.media_edit.setText("" if path is None else str(path))

    def set_allowed(self, allowed: bool) -> None:
        """Whether the person at the console may file reports (when not, the form closes
        and filing is off; the engine refuses anyone without the permission anyway)."""
        self._allowed = allowed
        if not allowed:
            self.close()
        self._update_controls()

    def problems(self) -> list[str]:
        """What keeps the form from being filed, each naming its field (empty: ready)."""
        found = []
        if not self.text_edit.toPlainText().strip():
            found.append("Text: required (say what happened)")
        for label, edit, limit in (
            ("Latitude", self.latitude_edit, 90.0),
            ("Longitude", self.longitude_edit, 180.0),
        ):
            if not edit.text().strip():
                found.append(f"{label}: required: click the map to set the place")
            elif _parse_degrees(edit.text(), limit) is None:
                found.append(f"{label}: not degrees from -{limit:g} to {limit:g}")
        if self.time() > self._now().astimezone(UTC).replace(microsecond=0) + FUTURE_SLACK:
            found.append("Time: in the future")
        media = self.media_edit.text().strip()
        if media and not Path(media).is_file():
            found.append(f"Media: no such file {printable(media)}")
        return found

    def submit(self) -> bool:
        """File the report (on a worker) if the form is complete and nothing is underway;
        returns whether it was sent. Problems are shown, naming their fields."""
        if self._runner.is_busy() or not self._allowed:
            return False
        problems = self.problems()
        if problems:
            self._show_error("\n".join(problems))
            self._focus_first_bad(problems[0])
            return False
        place = self.place()
        assert place is not None
        media = self.media_edit.text().strip() or None
        call = partial(
            self._actions.file_report,
            text=self.text_edit.toPlainText().strip(),
            latitude=place[0],
            longitude=place[1],
            at=self.time(),
            reporter=self.reporter_edit.text().strip() or None,
            media=media,
        )
        return self._runner.run(
            FILING_TEXT, partial(_file_report, call), self._on_report_filed, failure=NOT_FILED
        )

    def is_busy(self) -> bool:
        """Whether a report is being filed (its answer has not arrived yet)."""
        return self._runner.is_busy()

    # -- handlers --------------------------------------------------------------------------
    def _on_choose_media_clicked(self) -> None:
        path = self._ask_media_path()
        if path is not None:
            self.set_media(path)

    def _ask_media_path(self) -> Path | None:
        name, _filter = QFileDialog.getOpenFileName(
            self, "Attach a photo or video", self.media_edit.text(), MEDIA_FILTER
        )
        return Path(name) if name else None

    def _on_report_filed(self, filed: object) -> None:
        """The engine answered: the report filed, or its refusal of a field (any other
        failure is the runner's to show, see :meth:`_on_filing_finished`)."""
        if not isinstance(filed, Filed):
            if isinstance(filed, ReportInputError):
                message = error_text(filed)
            else:  # an answer it should not have given
                message = f"unexpected answer {type(filed).__name__}"
            self._show_error(f"{NOT_FILED}: {message}")
            # The runner turns the fields back on after this; the cursor needs them now.
            self._update_controls()
            field = getattr(filed, "field", None)
            if isinstance(field, str) and field in FIELD_LABELS:
                self._focus_first_bad(FIELD_LABELS[field])
            self.sig_report_failed.emit(message)
            return
        self.last_filed = filed
        self.strip.show_status(f"Filed: {filed_text(filed)}.")
        # Ready for the next report from the same place and time: what was filed is not sent
        # twice, and the next report is not put down to this reporter by mistake.
        self.text_edit.clear()
        self.reporter_edit.clear()
        self.media_edit.clear()
        self.sig_report_filed.emit(filed.incident.incident_id)

    def _on_filing_finished(self, _what: str, ok: bool) -> None:
        if not ok:  # refused or failed: the strip shows "Not filed: why" in red
            self.sig_report_failed.emit(self.strip.error().removeprefix(f"{NOT_FILED}: "))

    # -- internals -------------------------------------------------------------------------
    def _update_controls(self) -> None:
        filing = self._runner.is_busy()
        # What is being filed stays as it was sent: a report filed is cleared from the form.
        for widget in self._fields():
            widget.setEnabled(not filing)
        self.submit_button.setEnabled(self._allowed and not filing)
        self.submit_button.setText("Filing…" if filing else "File report")
        self.submit_button.setToolTip(
            "" if self._allowed else "Filing reports needs the file_report permission."
        )

    def _focus_first_bad(self, problem: str) -> None:
        widgets: dict[str, QWidget] = {
            "Text": self.text_edit,
            "Latitude": self.latitude_edit,
            "Longitude": self.longitude_edit,
            "Time": self.time_edit,
            "Reporter": self.reporter_edit,
            "Media": self.media_button,
        }
        for label, widget in widgets.items():
            if problem.startswith(label):
                widget.setFocus()
                return

    def _fields(self) -> tuple[QWidget, ...]:
        return (
            self.text_edit,
            self.time_edit,
            self.now_button,
            self.latitude_edit,
            self.longitude_edit,
            self.reporter_edit,
            self.media_button,
            self.media_clear_button,
        )

    def _show_error(self, message: str) -> None:
        self.strip.show_status("")
        self.strip.show_error(message)
