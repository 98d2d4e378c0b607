"""The "Incidents" pane: incidents newest first, the reports of the selected one, and what an
operator does with them.

The list shows each incident's time, category, severity, how many people reported it and in
how many reports, who classified it (or "validated by ada"), and whether the LLM still has to
look at it; it is filtered by category and period (24 h, 7 days, 30 days, all) and read page
by page ("Load more", or scrolling to the bottom), so thousands of incidents cost one page at
a time. The detail under it lists the selected incident's reports: text, reporter, time, the
category and classifier of each report, why the LLM was not used (fallback), and how the
report was merged.

Actions, each offered only to people whose permissions allow it (:meth:`set_permissions`):
Validate (confirm the category, after a confirmation), Correct (another category and
severity), Un-merge the selected report (incidents of two reports or more, after a
confirmation), New report… (:class:`widgets.incidents.report_form.IncidentReportForm`) and
Import file… (a CSV or JSON-lines file; the strip's bar counts the reports filed; a refused
file lists every bad line under the list, and nothing is stored). The engine checks and
audits every change; its refusals are shown in the pane. Changes and imports run one at a
time through the shared :class:`~widgets.action_strip.ActionRunner` and its strip.

The pane never touches the store or starts threads: the console gives it a query client and
an :class:`IncidentListActions` object whose blocking methods run on query workers, and calls
:meth:`IncidentListPane.on_incidents_changed` when the engine says incidents were filed or
changed. :meth:`IncidentListPane.select_incident` and
:attr:`IncidentListPane.sig_incident_selected` keep it in step with the risk map. Every
method here runs on the GUI thread, except the import itself, which runs on a query worker
and reports through :class:`~widgets.action_strip.ActionProgress`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import CallRequest, QueryResult
from engine.incidents.records import Filed, IncidentView, ReportView
from engine.incidents.reports import ReportFileError
from engine.sitetime import display
from engine.text import printable
from engine.vocabulary import INCIDENT_CATEGORIES
from widgets.action_strip import ActionProgress, ActionRunner, ActionStrip
from widgets.colours import ALARM_RED
from widgets.incidents.api import IncidentListActions
from widgets.incidents.report_form import IncidentReportForm
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

PAGE_SIZE: Final = 200  # incidents per read: a screenful many times over, quick to draw
MAX_RELOAD: Final = 5000  # a reload after a change re-reads at most this many rows
CHANGE_DELAY_MS: Final = 250  # a burst of filings (an import, a busy night) reloads once
COMBO_MIN_CHARS: Final = 8  # the filters stay usable in a dock a third of the window wide
LONG_COLUMN_PX: Final = 160  # the fallback reason and merge columns, before the user resizes
TABLE_MIN_HEIGHT_PX: Final = 60  # a header and two rows: the pane fits a shared dock column
OK_GREEN: Final = "#3fb950"
SEVERE: Final = 4  # severities from here up are drawn in red
NOT_ALLOWED_LABEL: Final = (
    "Validating, correcting and un-merging incidents needs the label permission."
)
NOT_ALLOWED_FILE: Final = "Filing and importing reports needs the file_report permission."

PERIODS: Final[tuple[tuple[str, timedelta | None], ...]] = (
    ("Last 24 h", timedelta(hours=24)),
    ("Last 7 days", timedelta(days=7)),
    ("Last 30 days", timedelta(days=30)),
    ("All time", None),
)
DEFAULT_PERIOD: Final = 1  # 7 days: a week of incidents, the usual look back for a shift

COLUMN_TIME, COLUMN_CATEGORY, COLUMN_SEVERITY, COLUMN_REPORTERS = 0, 1, 2, 3
COLUMN_REPORTS, COLUMN_CLASSIFIER, COLUMN_LLM = 4, 5, 6
_HEADERS = ("Time", "Category", "Severity", "Reporters", "Reports", "Classified by", "LLM")
_NUMERIC = (COLUMN_SEVERITY, COLUMN_REPORTERS, COLUMN_REPORTS)

REPORT_TIME, REPORT_REPORTER, REPORT_TEXT, REPORT_CATEGORY = 0, 1, 2, 3
REPORT_CLASSIFIER, REPORT_FALLBACK, REPORT_MERGE = 4, 5, 6
_REPORT_HEADERS = ("Time", "Reporter", "Text", "Category", "Classifier", "Fallback", "Merged")


MEDIA_THUMB_WIDTH = 160  # px: four fit across the detail of a docked pane


# -- texts -------------------------------------------------------------------------------------


def _who(label: str | None) -> str:
    """``ada`` for ``account:ada``; other kinds keep their kind."""
    if not label:
        return "someone"
    kind, _, name = label.partition(":")
    return printable(name if kind == "account" and name else label)


def category_text(category: str) -> str:
    """``suspicious_activity`` → ``suspicious activity``."""
    return printable(category).replace("_", " ")


def classified_by_text(view: IncidentView) -> str:
    """Who decided the incident's category: ``validated by ada``, ``corrected by ada``, or
    the classifier (with how reports agreed when there were several)."""
    if view.validated_by:
        verb = "corrected" if view.category_basis == "corrected" else "validated"
        return f"{verb} by {_who(view.validated_by)}"
    basis = "" if view.category_basis in ("single", "") else f" ({view.category_basis})"
    return f"{printable(view.classifier)}{basis}"


def merge_text(report: ReportView) -> str:
    """How a report came to its incident: it opened it, joined a report near it in time and
    place, or was split off another incident."""
    merge = report.merge or {}
    if "unmerged_from" in merge:
        return f"split off incident {merge['unmerged_from']} by {_who(str(merge.get('by', '')))}"
    if "matched_report" in merge:
        parts = []
        if merge.get("distance_m") is not None:
            parts.append(f"{float(merge['distance_m']):.0f} m")
        if merge.get("seconds_apart") is not None:
            parts.append(f"{float(merge['seconds_apart']):.0f} s apart")
        how = f" ({', '.join(parts)})" if parts else ""
        return f"joined report {merge['matched_report']}{how}"
    return "opened the incident"


def problem_text(problem: BaseException) -> str:
    """One problem of a refused report file: ``line 4: latitude: missing``, or the file's
    own problem without a line."""
    line = getattr(problem, "line", None)
    text = printable(str(problem))
    return text.removeprefix("line 0: ") if line == 0 else text


def _aware(at: datetime) -> datetime:
    """``at`` with a zone to compare and sort by (a naive time from the store is UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _newest_first(view: IncidentView) -> tuple[float, int]:
    return (-_aware(view.occurred_at).timestamp(), -view.incident_id)


# -- models ------------------------------------------------------------------------------------


class _IncidentsModel(RowsTableModel[IncidentView]):
    """One row per incident, newest first (occurred time, then id)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_HEADERS, parent)

    def incidents(self) -> list[IncidentView]:
        return list(self._rows)

    def row_of(self, incident_id: int) -> int | None:
        return next((i for i, v in enumerate(self._rows) if v.incident_id == incident_id), None)

    def append(self, views: Sequence[IncidentView]) -> int:
        """Add an older page below (incidents listed already are skipped); how many added."""
        listed = {v.incident_id for v in self._rows}
        fresh = [v for v in views if v.incident_id not in listed]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()
        return len(fresh)

    def upsert(self, view: IncidentView) -> None:
        """Show ``view`` in its place (replacing what is shown of it)."""
        row = self.row_of(view.incident_id)
        if row is not None:
            self._rows[row] = view
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(_HEADERS) - 1))
            return
        key = _newest_first(view)
        at = next((i for i, v in enumerate(self._rows) if _newest_first(v) > key), len(self._rows))
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, view)
        self.endInsertRows()

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        view = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(view, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ForegroundRole and column == COLUMN_SEVERITY:
            return QBrush(QColor(ALARM_RED)) if view.severity >= SEVERE else None
        if role == Qt.ItemDataRole.FontRole and column == COLUMN_CLASSIFIER and view.validated_by:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(view, column)
        return None

    @staticmethod
    def text(view: IncidentView, column: int) -> str:
        if column == COLUMN_TIME:
            return display().full_minutes(view.occurred_at)
        if column == COLUMN_CATEGORY:
            return category_text(view.category)
        if column == COLUMN_SEVERITY:
            return str(view.severity)
        if column == COLUMN_REPORTERS:
            return str(view.reporter_count)
        if column == COLUMN_REPORTS:
            return str(view.report_count)
        if column == COLUMN_CLASSIFIER:
            return classified_by_text(view)
        return "pending" if view.llm_pending else ""

    @staticmethod
    def tooltip(view: IncidentView, column: int) -> str | None:
        if column == COLUMN_TIME:
            first = display().full(view.occurred_at)
            last = display().full_minutes(view.last_report_at)
            return f"Incident {view.incident_id}, first reported {first}; last report {last}"
        if column == COLUMN_CATEGORY:
            return (
                f"{category_text(view.category)}, confidence {view.confidence:.0%}\n"
                f"at {view.latitude:.5f}, {view.longitude:.5f}"
            )
        if column == COLUMN_SEVERITY:
            return "Severity 1 (for the record) to 5 (life in danger now)"
        if column == COLUMN_CLASSIFIER and view.validated_at is not None:
            return f"{classified_by_text(view)} at {display().full_minutes(view.validated_at)}"
        if column == COLUMN_LLM and view.llm_pending:
            return "Classified locally while the LLM was unavailable; the LLM looks again later"
        return None


class _ReportsModel(RowsTableModel[ReportView]):
    """The reports of one incident, oldest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_REPORT_HEADERS, parent)

    def reports(self) -> list[ReportView]:
        return list(self._rows)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        report = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(report, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == REPORT_TEXT:
                return printable(report.text)
            if column == REPORT_REPORTER:
                return (
                    f"Source: {printable(report.source)}, filed by {_who(report.filed_by)}\n"
                    f"at {report.latitude:.5f}, {report.longitude:.5f}"
                )
            if column == REPORT_TIME:
                return display().full(report.at)
            if column == REPORT_CATEGORY:
                return f"severity {report.severity}, confidence {report.confidence:.0%}"
            return self.text(report, column) or None
        return None

    @staticmethod
    def text(report: ReportView, column: int) -> str:
        if column == REPORT_TIME:
            return display().full_minutes(report.at)
        if column == REPORT_REPORTER:
            return printable(report.reporter) if report.reporter else "anonymous"
        if column == REPORT_TEXT:
            return " ".join(printable(report.text).split())
        if column == REPORT_CATEGORY:
            return f"{category_text(report.category)} ({report.severity})"
        if column == REPORT_CLASSIFIER:
            pending = ", LLM pending" if report.llm_pending else ""
            return f"{printable(report.classifier)}{pending}"
        if column == REPORT_FALLBACK:
            return printable(report.fallback_reason or "")
        return merge_text(report)


def import_progress_text(done: int, total: int) -> str:
    """What the strip says as an import files ``done`` of ``total`` reports."""
    return f"Imported {done} of {total} reports"


# -- the pane ----------------------------------------------------------------------------------


class IncidentListPane(QWidget):
    """Incidents newest first with their reports, filters, and the operator's actions (see
    the module). ``actions`` block: the pane runs them through ``client``. It lists when
    first shown (or on :meth:`refresh`); ``now`` is the engine's clock (periods, the form's
    default time)."""

    sig_incident_selected = Signal(int)
    """The operator selected an incident in the list (GUI thread): its id. Not emitted by
    :meth:`select_incident`, so the map and the list can follow each other without echo."""

    sig_incidents_listed = Signal(int)
    """A listing (a first page or a reload) is shown (GUI thread): rows listed now."""

    sig_reports_shown = Signal(int)
    """The detail shows the reports of an incident (GUI thread): its id."""

    sig_incident_changed = Signal(int)
    """A validation, correction or un-merge asked for here was stored (GUI thread): the
    incident's id (for an un-merge, the new incident's)."""

    sig_import_finished = Signal(bool, str)
    """An import ended (GUI thread): whether reports were stored, and what the pane says."""

    sig_action_failed = Signal(str)
    """A change asked for here was refused or failed (GUI thread): the message shown."""

    def __init__(
        self,
        client: QueryClient,
        actions: IncidentListActions,
        parent: QWidget | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._now = now or (lambda: datetime.now(UTC))
        self._channel = f"incidents-{id(self):x}"
        self._loaded_once = False
        self._loading = False
        self._has_more = False
        self._listing_error: str | None = None
        self._may_file = False
        self._may_label = False
        self._importing: Path | None = None  # the file the runner is importing
        self._detail_id: int | None = None
        self._syncing = False  # selecting for select_incident: no sig_incident_selected
        self._select_when_listed: int | None = None
        self.listings = 0
        """How many listings (first pages and reloads) have been shown."""

        # -- filters and the pane's own actions
        self.period_combo = QComboBox()
        self.period_combo.setAccessibleName("Period")
        for label, span in PERIODS:
            self.period_combo.addItem(label, span)
        self.period_combo.setCurrentIndex(DEFAULT_PERIOD)
        self.category_combo = QComboBox()
        self.category_combo.setAccessibleName("Category filter")
        self.category_combo.addItem("All categories", None)
        for category in INCIDENT_CATEGORIES:
            self.category_combo.addItem(category_text(category), category)
        self.refresh_button = QPushButton("Refresh")
        self.new_button = QPushButton("New report…")
        self.new_button.setToolTip(
            "File a report of what someone saw (click the map for the place)"
        )
        self.import_button = QPushButton("Import file…")
        self.import_button.setToolTip(
            "File every report of a CSV or JSON-lines file (text, latitude, longitude, at, "
            "reporter, media); a file with any bad line imports nothing"
        )
        for combo in (self.period_combo, self.category_combo):
            # Narrow docks: the combos may be narrower than their longest item.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        filters = QHBoxLayout()
        filters.addWidget(self.period_combo, 1)
        filters.addWidget(self.category_combo, 1)
        filters.addWidget(self.refresh_button)
        self.classifier_label = QLabel()
        self.classifier_label.setWordWrap(True)
        self.classifier_label.setObjectName("incidents-classifier")
        filing = QHBoxLayout()
        filing.addWidget(self.new_button)
        filing.addWidget(self.import_button)
        filing.addWidget(self.classifier_label, 1)

        # -- the list
        self._model = _IncidentsModel(self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view)
        self.view.setMinimumHeight(TABLE_MIN_HEIGHT_PX)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMN_CLASSIFIER, QHeaderView.ResizeMode.Stretch)
        self.count_label = QLabel()
        self.load_more_button = QPushButton("Load more")
        self.load_more_button.setToolTip("List the next older incidents")
        self.load_more_button.setEnabled(False)
        count_row = QHBoxLayout()
        count_row.addWidget(self.count_label, 1)
        count_row.addWidget(self.load_more_button)
        list_box = QWidget()
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.view, 1)
        list_layout.addLayout(count_row)

        # -- the detail: the selected incident's reports and what may be done with them
        self.detail_label = QLabel("Select an incident to see its reports.")
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._reports = _ReportsModel(self)
        self.reports_view = QTableView()
        self.reports_view.setModel(self._reports)
        show_rows_read_only(self.reports_view)
        self.reports_view.setMinimumHeight(TABLE_MIN_HEIGHT_PX)
        reports_header = self.reports_view.horizontalHeader()
        reports_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        reports_header.setSectionResizeMode(REPORT_TEXT, QHeaderView.ResizeMode.Stretch)
        for column in (REPORT_FALLBACK, REPORT_MERGE):  # long texts: elided, whole in tooltips
            reports_header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.reports_view.setColumnWidth(column, LONG_COLUMN_PX)
        self.validate_button = QPushButton("Validate")
        self.validate_button.setToolTip(
            "Confirm the incident's category: it keeps it, and the label trains the classifier"
        )
        self.correct_category = QComboBox()
        self.correct_category.setAccessibleName("Corrected category")
        for category in INCIDENT_CATEGORIES:
            self.correct_category.addItem(category_text(category), category)
        self.correct_severity = QSpinBox()
        self.correct_severity.setAccessibleName("Corrected severity")
        self.correct_severity.setRange(1, 5)
        self.correct_severity.setPrefix("severity ")
        self.correct_button = QPushButton("Correct")
        self.correct_button.setToolTip("Set the category and severity chosen here")
        self.unmerge_button = QPushButton("Un-merge report…")
        self.unmerge_button.setToolTip(
            "Split the selected report off into an incident of its own (it was wrongly merged)"
        )
        self.correct_category.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.correct_category.setMinimumContentsLength(COMBO_MIN_CHARS)
        # Two short rows rather than one long one: the pane fits a narrow dock column.
        detail_actions = QVBoxLayout()
        label_row = QHBoxLayout()
        label_row.addWidget(self.validate_button)
        label_row.addWidget(self.unmerge_button)
        label_row.addStretch(1)
        correct_row = QHBoxLayout()
        correct_row.addWidget(self.correct_category, 1)
        correct_row.addWidget(self.correct_severity)
        correct_row.addWidget(self.correct_button)
        detail_actions.addLayout(label_row)
        detail_actions.addLayout(correct_row)
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail_label)
        detail_layout.addWidget(self.reports_view, 1)
        self.media_strip = QWidget()
        self._media_layout = QHBoxLayout(self.media_strip)
        self._media_layout.setContentsMargins(0, 0, 0, 0)
        self._media_layout.addStretch(1)
        self.media_strip.hide()
        self._media_captions: list[str] = []
        detail_layout.addWidget(self.media_strip)
        detail_layout.addLayout(detail_actions)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(list_box)
        splitter.addWidget(detail_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        # -- status, import progress, refusals: changes and imports run through the shared
        # strip, one at a time; an import's bar counts the reports filed.
        self.strip = ActionStrip()
        self.status_label = self.strip.status_label
        self.error_label = self.strip.error_label
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.change",
            update_controls=self._update_controls,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self._on_action_finished)
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        self.problems_list = QListWidget()
        self.problems_list.setAccessibleName("Problems of the refused file")
        self.problems_list.setMaximumHeight(140)
        self.problems_list.hide()
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.hide()
        problems_row = QHBoxLayout()
        problems_row.addWidget(self.problems_list, 1)
        problems_row.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addLayout(filing)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.strip)
        layout.addWidget(self.permission_label)
        layout.addLayout(problems_row)

        self.report_form = IncidentReportForm(client, actions, self, now=self._now)
        self.report_form.sig_report_filed.connect(self._on_report_filed)

        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(CHANGE_DELAY_MS)
        self._change_timer.timeout.connect(self._reload)

        self.period_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.category_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.new_button.clicked.connect(self.open_report_form)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.load_more_button.clicked.connect(self.load_more)
        self.view.selectionModel().selectionChanged.connect(self._on_incident_selection_changed)
        self.view.verticalScrollBar().valueChanged.connect(self._on_scroll_position_changed)
        self.reports_view.selectionModel().selectionChanged.connect(self._update_controls)
        self.validate_button.clicked.connect(self.validate_selected)
        self.correct_button.clicked.connect(self.correct_selected)
        self.correct_category.currentIndexChanged.connect(self._update_controls)
        self.correct_severity.valueChanged.connect(self._update_controls)
        self.unmerge_button.clicked.connect(self.unmerge_selected_report)
        self.dismiss_button.clicked.connect(self._hide_problems)
        self._update_count_text()
        self.set_permissions(file_report=False, label=False)

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the first page again with the current filters (on a worker), and ask how
        reports are classified now."""
        self._loaded_once = True
        self._client.submit(
            f"{self._channel}.classifier",
            CallRequest(self._actions.llm_status, "incident classifier status"),
            self._on_classifier_status,
        )
        self._query(PAGE_SIZE)

    def on_incidents_changed(self) -> None:
        """The engine filed or changed incidents: re-read the rows listed (once a burst of
        changes settles), and the reports of the incident shown."""
        if self._loaded_once:
            self._change_timer.start()

    def load_more(self) -> bool:
        """Ask for the next older page; False if there is none or a read is underway."""
        if self._loading or not self._has_more:
            return False
        self._submit_page(offset=self._model.rowCount(), limit=PAGE_SIZE, replace=False)
        return True

    def set_filter(self, *, category: str | None = None, period: int | None = None) -> None:
        """Set the category (None: all) and the period (an index into :data:`PERIODS`;
        None: as it is) and list once. ValueError for an unknown category."""
        index = self.category_combo.findData(category) if category is not None else 0
        if index < 0:
            raise ValueError(f"unknown category {category!r}")
        for combo in (self.category_combo, self.period_combo):
            combo.blockSignals(True)
        self.category_combo.setCurrentIndex(index)
        if period is not None:
            self.period_combo.setCurrentIndex(period)
        for combo in (self.category_combo, self.period_combo):
            combo.blockSignals(False)
        self._on_filter_changed()

    def current_filter(self) -> tuple[datetime | None, str | None]:
        """(since, category) of the list as the filters stand now."""
        span = self.period_combo.currentData()
        since = self._now() - span if isinstance(span, timedelta) else None
        return since, self.category_combo.currentData()

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody; the report form closes): filing and
        labelling as their roles allow."""
        self.set_permissions(
            file_report=actor is not None and actor.may(Permission.FILE_REPORT),
            label=actor is not None and actor.may(Permission.LABEL),
        )

    def set_permissions(self, file_report: bool, label: bool) -> None:
        """What the person at the console may do: file and import reports, and label
        (validate, correct, un-merge). The engine refuses anyone without them anyway."""
        self._may_file = file_report
        self._may_label = label
        self.report_form.set_allowed(file_report)
        why = [
            text
            for allowed, text in ((file_report, NOT_ALLOWED_FILE), (label, NOT_ALLOWED_LABEL))
            if not allowed
        ]
        self.permission_label.setText(" ".join(why))
        self.permission_label.setVisible(bool(why))
        self._update_controls()

    @property
    def may_file(self) -> bool:
        return self._may_file

    @property
    def may_label(self) -> bool:
        return self._may_label

    def close_what_was_opened(self) -> None:
        """The person locked or logged out: the report form and its dialogs close."""
        self.close_dialogs()

    def close_dialogs(self) -> None:
        """Close the report form (the console locks or closes)."""
        self.report_form.close()

    def incidents(self) -> list[IncidentView]:
        """The incidents listed, newest first, as shown."""
        return self._model.incidents()

    def reports(self) -> list[ReportView]:
        """The reports shown in the detail, oldest first."""
        return self._reports.reports()

    def shown_incident(self) -> int | None:
        """The incident whose reports the detail shows (or is loading)."""
        return self._detail_id

    def cell_text(self, incident_id: int, column: int) -> str:
        """What the list shows for ``incident_id`` in ``column`` ("" if not listed)."""
        row = self._model.row_of(incident_id)
        return "" if row is None else str(self._model.index(row, column).data() or "")

    def report_cell_text(self, report_id: int, column: int) -> str:
        rows = [i for i, r in enumerate(self._reports.reports()) if r.report_id == report_id]
        return str(self._reports.index(rows[0], column).data() or "") if rows else ""

    def selected_incident(self) -> IncidentView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.row(rows[0].row()) if rows else None

    def selected_report(self) -> ReportView | None:
        rows = self.reports_view.selectionModel().selectedRows()
        return self._reports.row(rows[0].row()) if rows else None

    def select_incident(self, incident_id: int) -> None:
        """Show ``incident_id`` (the map selected it): its row selected if it is listed, and
        its reports in the detail either way. Does not emit :attr:`sig_incident_selected`."""
        self._show_incident(incident_id, announce=False)

    def select_report(self, report_id: int) -> None:
        rows = [i for i, r in enumerate(self._reports.reports()) if r.report_id == report_id]
        if rows:
            self.reports_view.selectRow(rows[0])

    def open_report_form(self) -> IncidentReportForm | None:
        """New report…: show the form (None if the person may not file reports)."""
        if not self._may_file:
            return None
        self.report_form.open_new()
        return self.report_form

    def validate_selected(self) -> bool:
        """Validate: confirm the shown incident's category, after asking; returns whether
        it was sent."""
        incident_id = self._detail_id
        if incident_id is None or not self._may_label or self._runner.is_busy():
            return False
        view = self._shown_view()
        what = (
            f"{category_text(view.category)}, severity {view.severity}"
            if view is not None
            else "its current category"
        )
        if not self._confirm(
            "Validate incident",
            f"Confirm incident {incident_id} as {what}?\n\n"
            "It keeps this category whatever reports join it later, and the label trains "
            "the classifier.",
        ):
            return False
        self._run_change(
            "validate",
            f"Validating incident {incident_id}…",
            partial(self._actions.validate, incident_id),
            partial(self._on_validated, incident_id, None),
            f"Could not update incident {incident_id}",
        )
        return True

    def correct_selected(self) -> bool:
        """Correct: set the shown incident's category and severity to those chosen beside
        the button; returns whether it was sent."""
        incident_id = self._detail_id
        if incident_id is None or not self._may_label or self._runner.is_busy():
            return False
        category = str(self.correct_category.currentData())
        severity = self.correct_severity.value()
        self._run_change(
            "correct",
            f"Correcting incident {incident_id} to {category_text(category)}…",
            partial(self._actions.validate, incident_id, category, severity),
            partial(self._on_validated, incident_id, category),
            f"Could not update incident {incident_id}",
        )
        return True

    def unmerge_selected_report(self) -> bool:
        """Un-merge: split the selected report off into an incident of its own, after
        asking (incidents of two reports or more); returns whether it was sent."""
        report = self.selected_report()
        if (
            report is None
            or not self._may_label
            or self._runner.is_busy()
            or len(self._reports.reports()) < 2
        ):
            return False
        if not self._confirm(
            "Un-merge report",
            f"Split report {report.report_id} ({printable(report.reporter or 'anonymous')}) "
            f"off incident {report.incident_id} into a new incident of its own?",
        ):
            return False
        self._run_change(
            "unmerge",
            f"Splitting report {report.report_id} off incident {report.incident_id}…",
            partial(self._actions.unmerge, report.report_id),
            partial(self._on_unmerged, report.report_id),
            f"Could not un-merge report {report.report_id}",
        )
        return True

    def import_path(self, path: str | Path) -> bool:
        """Import every report of ``path`` (on a worker), its progress on the strip; returns
        whether it was started (not while a change or another import runs)."""
        if not self._may_file or self._runner.is_busy():
            return False
        path = Path(path)
        self._hide_problems()
        self._importing = path  # before the runner asks the controls to update
        if not self._runner.run_long(
            f"Importing {path.name}…",
            partial(_import_reports, self._actions, path),
            partial(self._on_imported, path),
            describe=lambda done, total, _stage: import_progress_text(done, total),
            cancellable=False,  # the engine files all of a file or none and cannot stop
            failure=f"Nothing imported from {path.name}",
            channel=f"{self._channel}.import",
        ):
            self._importing = None
            self._update_controls()
            return False
        return True

    def is_busy(self) -> bool:
        """Whether a change or an import is still running."""
        return self._runner.is_busy()

    def is_loading(self) -> bool:
        return self._loading

    def has_more(self) -> bool:
        return self._has_more

    def problems(self) -> list[str]:
        """The lines of the last refused import file, as listed."""
        if self.problems_list.isHidden():
            return []
        return [self.problems_list.item(i).text() for i in range(self.problems_list.count())]

    def error_text(self) -> str:
        return self.strip.error()

    def status_text(self) -> str:
        return self.status_label.text()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # -- dialogs (tests replace these) -------------------------------------------------------
    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _ask_import_path(self) -> Path | None:
        name, _filter = QFileDialog.getOpenFileName(
            self,
            "Import incident reports",
            "",
            "Report files (*.csv *.jsonl *.ndjson);;All files (*)",
        )
        return Path(name) if name else None

    # -- handlers --------------------------------------------------------------------------
    def _on_filter_changed(self) -> None:
        self._query(PAGE_SIZE)

    def _on_import_clicked(self) -> None:
        if not self._may_file or self._runner.is_busy():
            return
        path = self._ask_import_path()
        if path is not None:
            self.import_path(path)

    def _on_scroll_position_changed(self, value: int) -> None:
        bar = self.view.verticalScrollBar()
        if value > 0 and value >= bar.maximum():
            self.load_more()  # scrolled to the bottom: continue with older incidents

    def _on_incident_selection_changed(self) -> None:
        view = self.selected_incident()
        if view is not None and view.incident_id != self._detail_id:
            self._load_detail(view.incident_id)
            if not self._syncing:
                self.sig_incident_selected.emit(view.incident_id)
        self._update_controls()

    def _on_classifier_status(self, result: QueryResult[Any]) -> None:
        if result.error is not None:
            status = f"unknown ({printable(str(result.error))})"
        else:
            status = printable(str(result.value))
        # The engine says what is used, then why ("local classifier only: <the reason>"):
        # the pane shows what, the tooltip why.
        self.classifier_label.setText(f"Classifier: {status.split(':', 1)[0]}")
        self.classifier_label.setToolTip(f"Classifier: {status}")

    def _on_page_loaded(self, replace: bool, limit: int, result: QueryResult[Any]) -> None:
        self._loading = False
        views = result.value
        if result.error is not None or not isinstance(views, list):
            self._listing_error = f"Could not list the incidents: {printable(str(result.error))}"
            if replace:  # a failed read must not leave a stale list looking current
                self._model.set_rows([])
                self._has_more = False
            self._show_error(self._listing_error)
            self._update_count_text()
            self._update_controls()
            return
        if self._listing_error is not None:  # a listing error is over once listing works
            self._listing_error = None
            self.strip.clear_error()
        self._has_more = len(views) >= limit
        if replace:
            shown = self._detail_id
            self._syncing = True
            try:
                self._model.set_rows(views)
                wanted = self._select_when_listed or shown
                self._select_when_listed = None
                if wanted is not None and self._model.row_of(wanted) is not None:
                    self._select_row(wanted)
            finally:
                self._syncing = False
            if self._detail_id is not None:
                self._load_detail(self._detail_id)  # its reports may have changed too
            self.listings += 1
        else:
            self._model.append(views)
        self._update_count_text()
        self._update_controls()
        if replace:
            self.sig_incidents_listed.emit(self._model.rowCount())

    def _on_reports_loaded(self, incident_id: int, result: QueryResult[Any]) -> None:
        if incident_id != self._detail_id:
            return  # another incident was selected meanwhile
        reports = result.value
        if result.error is not None or not isinstance(reports, list):
            self._reports.set_rows([])
            self.detail_label.setText(
                f"Incident {incident_id}: could not read its reports: "
                f"{printable(str(result.error))}"
            )
            self._update_controls()
            return
        selected = self.selected_report()
        self._reports.set_rows(reports)
        if selected is not None:
            self.select_report(selected.report_id)
        self._update_detail_label()
        self._update_controls()
        self.sig_reports_shown.emit(incident_id)

    def _on_media_loaded(self, incident_id: int, result: QueryResult[Any]) -> None:
        if incident_id != self._detail_id:
            return
        while self._media_layout.count() > 1:  # keep the trailing stretch
            item = self._media_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._media_captions = []
        media = result.value
        if result.error is not None:
            media = []
            self._media_captions.append(f"media not read: {printable(str(result.error))}")
        for shown in media if isinstance(media, list) else []:
            caption = f"report {shown.report_id}: {shown.summary}"
            self._media_captions.append(caption)
            tile = QLabel()
            tile.setToolTip(f"{caption}\n{shown.path}")
            image = QImage.fromData(shown.thumbnail) if shown.thumbnail else QImage()
            if image.isNull():
                tile.setText(caption + "\n(no thumbnail)")
            else:
                pixmap = QPixmap.fromImage(image).scaledToWidth(
                    MEDIA_THUMB_WIDTH, Qt.TransformationMode.SmoothTransformation
                )
                tile.setPixmap(pixmap)
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(tile)
            text = QLabel(caption)
            text.setWordWrap(True)
            text.setMaximumWidth(MEDIA_THUMB_WIDTH)
            column.addWidget(text)
            self._media_layout.insertWidget(self._media_layout.count() - 1, box)
        if not media and result.error is not None:
            note = QLabel(self._media_captions[0])
            self._media_layout.insertWidget(0, note)
        self.media_strip.setVisible(bool(self._media_captions))

    def media_captions(self) -> list[str]:
        """What the media strip of the shown incident says, one caption per file."""
        return list(self._media_captions)

    def _on_validated(self, incident_id: int, category: str | None, view: object) -> None:
        if not isinstance(view, IncidentView):
            self._change_failed(f"Could not update incident {incident_id}: {view!r}")
            return
        self._show_changed(view)
        verb = "corrected to" if category is not None else "validated as"
        self._show_status(
            f"Incident {incident_id} {verb} {category_text(view.category)}, "
            f"severity {view.severity}.",
        )
        self._update_controls()
        self.sig_incident_changed.emit(incident_id)

    def _on_unmerged(self, report_id: int, value: object) -> None:
        if not isinstance(value, tuple) or len(value) != 2:
            self._change_failed(f"Could not un-merge report {report_id}: {value!r}")
            return
        old, new = value
        self._show_changed(old)
        self._show_changed(new)
        self._show_status(
            f"Report {report_id} split off incident {old.incident_id} into new incident "
            f"{new.incident_id}."
        )
        self._update_controls()
        self.sig_incident_changed.emit(new.incident_id)

    def _on_imported(self, path: Path, answer: list[Filed] | ReportFileError) -> None:
        """The import ended without an exception: filed, or the file refused line by line."""
        self._importing = None
        if isinstance(answer, ReportFileError):
            problems = [problem_text(p) for p in answer.problems]
            self.problems_list.clear()
            self.problems_list.addItems(problems)
            self.problems_list.show()
            self.dismiss_button.show()
            count = len(problems)
            message = (
                f"Nothing imported from {path.name}: {count} problem"
                f"{'' if count == 1 else 's'} (listed below). Fix the file and import it again."
            )
            self._show_status("")
            self._show_error(message)
            self._update_controls()
            self.sig_import_finished.emit(False, message)
            return
        merged = sum(1 for f in answer if f.merged)
        message = (
            f"Imported {len(answer)} report{'' if len(answer) == 1 else 's'} from {path.name}: "
            f"{len(answer) - merged} new incident{'' if len(answer) - merged == 1 else 's'}, "
            f"{merged} merged into others."
        )
        self._show_status(message)
        self._update_controls()
        self._reload()
        self.sig_import_finished.emit(True, message)

    def _on_report_filed(self, incident_id: int) -> None:
        """A report from the form was stored: show its incident (and tell the map)."""
        self._select_when_listed = incident_id
        self._show_incident(incident_id, announce=True)
        self._reload()

    # -- internals -------------------------------------------------------------------------
    def _query(self, limit: int) -> None:
        self._submit_page(offset=0, limit=limit, replace=True)

    def _reload(self) -> None:
        """Re-read as many rows as are listed (a change may touch any of them)."""
        self._change_timer.stop()
        self._query(min(max(PAGE_SIZE, self._model.rowCount()), MAX_RELOAD))

    def _submit_page(self, *, offset: int, limit: int, replace: bool) -> None:
        # One channel for first pages, reloads and "more": a new filter supersedes a page
        # underway, and a stale page never lands below a newer list.
        self._loaded_once = True
        self._loading = True
        since, category = self.current_filter()
        self._client.submit(
            f"{self._channel}.page",
            CallRequest(
                partial(self._actions.incidents, since, None, category, limit, offset),
                "list incidents",
            ),
            partial(self._on_page_loaded, replace, limit),
        )
        self._update_count_text()

    def _show_incident(self, incident_id: int, *, announce: bool) -> None:
        self._syncing = not announce
        try:
            if self._model.row_of(incident_id) is not None:
                self._select_row(incident_id)
            else:
                self.view.clearSelection()
            if incident_id != self._detail_id:
                self._load_detail(incident_id)
                if announce and self._model.row_of(incident_id) is None:
                    self.sig_incident_selected.emit(incident_id)
        finally:
            self._syncing = False
        self._update_controls()

    def _select_row(self, incident_id: int) -> None:
        row = self._model.row_of(incident_id)
        if row is None:
            return
        index = self._model.index(row, 0)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)

    def _load_detail(self, incident_id: int) -> None:
        if incident_id != self._detail_id:
            self._reports.set_rows([])
        self._detail_id = incident_id
        self._update_detail_label(loading=True)
        self._sync_correct_controls()
        self._client.submit(
            f"{self._channel}.reports",
            CallRequest(partial(self._actions.incident_reports, incident_id), "incident reports"),
            partial(self._on_reports_loaded, incident_id),
        )
        self._client.submit(
            f"{self._channel}.media",
            CallRequest(partial(self._actions.incident_media, incident_id), "incident media"),
            partial(self._on_media_loaded, incident_id),
        )

    def _shown_view(self) -> IncidentView | None:
        if self._detail_id is None:
            return None
        row = self._model.row_of(self._detail_id)
        return None if row is None else self._model.row(row)

    def _show_changed(self, view: IncidentView) -> None:
        """Show a changed incident at once (the engine's event reloads the list too)."""
        if self._model.row_of(view.incident_id) is not None or self._passes_filter(view):
            self._model.upsert(view)
            self._update_count_text()
        if view.incident_id == self._detail_id:
            self._sync_correct_controls()
            self._load_detail(view.incident_id)

    def _passes_filter(self, view: IncidentView) -> bool:
        since, category = self.current_filter()
        if category is not None and view.category != category:
            return False
        return since is None or _aware(view.occurred_at) >= since

    def _run_change(
        self,
        kind: str,
        status: str,
        call: Callable[[], Any],
        on_done: Callable[[Any], None],
        failure: str,
    ) -> None:
        """Run a change ("validate", "correct", "unmerge") through the strip: ``status``
        while it runs, ``on_done(value)`` when it works, else ``failure: why`` in red."""
        self._runner.run(status, call, on_done, failure=failure, channel=f"{self._channel}.{kind}")

    def _on_action_finished(self, _what: str, ok: bool) -> None:
        importing, self._importing = self._importing, None
        if ok:
            return
        # The strip shows the refusal ("Nothing imported from …: why" for an import);
        # whoever listens hears it too.
        if importing is not None:
            self.sig_import_finished.emit(False, self.strip.error())
        else:
            self.sig_action_failed.emit(self.strip.error())

    def _change_failed(self, message: str) -> None:
        """A change answered with something it should not have (a refusal is the
        runner's to show)."""
        self._show_status("")
        self._show_error(message)
        self._update_controls()
        self.sig_action_failed.emit(message)

    def _sync_correct_controls(self) -> None:
        view = self._shown_view()
        if view is None:
            return
        for widget in (self.correct_category, self.correct_severity):
            widget.blockSignals(True)
        index = self.correct_category.findData(view.category)
        if index >= 0:
            self.correct_category.setCurrentIndex(index)
        self.correct_severity.setValue(view.severity)
        for widget in (self.correct_category, self.correct_severity):
            widget.blockSignals(False)

    def _update_detail_label(self, *, loading: bool = False) -> None:
        incident_id = self._detail_id
        if incident_id is None:
            self.detail_label.setText("Select an incident to see its reports.")
            return
        view = self._shown_view()
        reports = self._reports.reports()
        head = f"Incident {incident_id}"
        if view is not None:
            head += (
                f": {category_text(view.category)}, severity {view.severity}, "
                f"{classified_by_text(view)}, at {view.latitude:.5f}, {view.longitude:.5f}"
            )
        if loading:
            tail = "loading its reports…"
        else:
            count = len(reports)
            tail = f"{count} report{'' if count == 1 else 's'}"
            if view is None:
                tail += " (not in the list with these filters)"
        self.detail_label.setText(f"{head} — {tail}")

    def _update_count_text(self) -> None:
        rows = self._model.rowCount()
        self.load_more_button.setEnabled(not self._loading and self._has_more)
        if self._loading and rows == 0:
            text = "Listing incidents…"
        elif self._listing_error and rows == 0:
            text = "Incidents not listed"
        elif rows == 0:
            text = "No incidents in this period" if self._is_filtered() else "No incidents yet"
        else:
            text = f"{rows} incident{'' if rows == 1 else 's'}, newest first"
            if self._loading:
                text += " (reading…)"
            elif self._has_more:
                text += " (Load more for older ones)"
        self.count_label.setText(text)

    def _is_filtered(self) -> bool:
        since, category = self.current_filter()
        return since is not None or category is not None

    def _update_controls(self) -> None:
        shown = self._detail_id is not None
        busy = self._runner.is_busy()
        can_label = self._may_label and shown and not busy
        self.validate_button.setEnabled(can_label)
        view = self._shown_view()
        changed = view is None or (
            self.correct_category.currentData() != view.category
            or self.correct_severity.value() != view.severity
        )
        self.correct_button.setEnabled(can_label and changed)
        self.correct_category.setEnabled(self._may_label and shown)
        self.correct_severity.setEnabled(self._may_label and shown)
        self.unmerge_button.setEnabled(
            can_label and self.selected_report() is not None and len(self._reports.reports()) >= 2
        )
        self.new_button.setEnabled(self._may_file)
        importing = busy and self._importing is not None
        self.import_button.setEnabled(self._may_file and not busy)
        self.import_button.setText("Importing…" if importing else "Import file…")

    def _hide_problems(self) -> None:
        self.problems_list.clear()
        self.problems_list.hide()
        self.dismiss_button.hide()

    def _show_status(self, text: str) -> None:
        self.strip.show_status(text)

    def _show_error(self, message: str) -> None:
        _log.warning("%s", message)
        self.strip.show_error(message)


def _import_reports(
    actions: IncidentListActions, path: Path, progress: ActionProgress
) -> list[Filed] | ReportFileError:
    """Query worker: import ``path``, reporting each report filed. A refused file is an
    answer, not a failure: its problems are listed line by line."""
    try:
        return actions.import_file(path, progress.report)
    except ReportFileError as refused:
        return refused
