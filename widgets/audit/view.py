"""The Audit pane: the admins' view of the audit trail, who did what, when and whether it
was allowed, and a check that nobody has altered it.

The pane never reads the store: the console gives it two blocking callables (a page of
entries, the chain's verification) and a query client, and the pane runs them on the
client's workers. Pages are newest first; "Older…" asks for the entries before the oldest
one shown. Refusals and failures stand out, and so do the entries a verification names.
Every method here runs on the GUI thread.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.audit_records import AuditRecord, AuditVerification
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from engine.text import printable
from engine.wording import (
    actor_filter_text,
    actor_key,
    audit_action,
    audit_action_key,
    audit_target,
    display_actor,
    fields_of,
)
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.audit.api import ListAudit, VerifyAudit
from widgets.colours import ALARM_FILL, ALARM_RED, ALARM_TINT, OK_GREEN, ON_ALARM_FILL
from widgets.queries import QueryClient
from widgets.table_model import EXTENDED, RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

PAGE_SIZE = 200
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
HIGHLIGHTED_OUTCOMES = ("denied", "failed")

COLUMN_SEQ, COLUMN_TIME, COLUMN_ACTOR, COLUMN_ACTION = 0, 1, 2, 3
COLUMN_TARGET, COLUMN_OUTCOME, COLUMN_DETAIL = 4, 5, 6
_HEADERS = ("#", "Time", "Actor", "Action", "Target", "Outcome", "Detail")

# Opaque fills whose text is chosen with them: a see-through red over the alternating rows
# left red and grey text at 2.0-2.2:1 (tampered) and 3.6-4.3:1 (refused).
_REFUSED_BACKGROUND = QColor(ALARM_TINT)
_TAMPERED_BACKGROUND = QColor(ALARM_FILL)
_TAMPERED_FOREGROUND = QColor(ON_ALARM_FILL)
_INTACT_STYLE = f"color: {OK_GREEN}; font-weight: 600; font-size: 12pt;"
_TAMPERED_STYLE = f"color: {ALARM_RED}; font-weight: 700; font-size: 12pt;"


class _AuditModel(RowsTableModel[AuditRecord]):
    """The entries loaded so far, newest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)
        self._problems: dict[int, str] = {}

    def set_records(self, records: list[AuditRecord]) -> None:
        self.set_rows(records)

    def append_records(self, records: list[AuditRecord]) -> None:
        if not records:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(records) - 1)
        self._rows.extend(records)
        self.endInsertRows()

    def set_problems(self, problems: dict[int, str]) -> None:
        self._problems = dict(problems)
        if self._rows:
            last = self.index(len(self._rows) - 1, len(_HEADERS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def records(self) -> list[AuditRecord]:
        return list(self._rows)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        record = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(record, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            problem = self._problems.get(record.seq)
            if problem is not None:
                return f"Entry {record.seq} {problem}"
            if column == COLUMN_TIME:
                return display().with_zone(record.ts)
            if column == COLUMN_DETAIL:
                return "\n".join(f"{label}: {value}" for label, value in fields_of(record.detail))
            if column in (COLUMN_ACTOR, COLUMN_ACTION, COLUMN_TARGET):
                # As the filters take it: an account by its name ("ada", not "account:ada").
                raw = {COLUMN_ACTOR: actor_filter_text(record.actor), COLUMN_ACTION: record.action}
                return printable(raw.get(column, record.target))
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if record.seq in self._problems:
                return _TAMPERED_BACKGROUND
            if record.outcome in HIGHLIGHTED_OUTCOMES:
                return _REFUSED_BACKGROUND
            return None
        if role == Qt.ItemDataRole.ForegroundRole and record.seq in self._problems:
            return _TAMPERED_FOREGROUND  # whatever the theme's text, it must read on the red
        if role == Qt.ItemDataRole.FontRole and (
            record.outcome in HIGHLIGHTED_OUTCOMES or record.seq in self._problems
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COLUMN_SEQ:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _text(record: AuditRecord, column: int) -> str:
    if column == COLUMN_SEQ:
        return str(record.seq)
    if column == COLUMN_TIME:
        return display().local(record.ts).strftime(TIME_FORMAT)
    if column == COLUMN_ACTOR:
        return display_actor(record.actor)
    if column == COLUMN_ACTION:
        return audit_action(record.action)
    if column == COLUMN_TARGET:
        return audit_target(record.target)
    if column == COLUMN_OUTCOME:
        return record.outcome
    return "; ".join(f"{label}: {value}" for label, value in fields_of(record.detail))


def entry_json(record: AuditRecord) -> str:
    """The entry as stored (the raw record an admin may copy into a ticket)."""
    return json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True, indent=2)


class AuditPane(QWidget):
    """The audit trail, newest first, with actor and action filters, "Older…" paging and
    a Verify button. ``list_entries(limit, before, actor, action)`` and ``verify()`` block:
    the pane runs them through ``client``. It loads when first shown (and on Refresh)."""

    sig_entries_loaded = Signal(int)
    """A page arrived and is shown (GUI thread): how many entries are shown in all."""

    sig_verified = Signal(bool)
    """A verification finished (GUI thread): whether the trail is intact. Not emitted when
    the verification itself failed to run (that is shown as an error)."""

    def __init__(
        self,
        client: QueryClient,
        list_entries: ListAudit,
        verify: VerifyAudit,
        *,
        page_size: int = PAGE_SIZE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._list_entries = list_entries
        self._verify = verify
        self._page_size = page_size
        self._channel = f"audit-{id(self):x}"
        self._loaded_once = False
        self._more = False
        self._loading = False
        self.verification: AuditVerification | None = None

        self.actor_filter = QLineEdit()
        self.actor_filter.setPlaceholderText("Who, e.g. ada")
        self.actor_filter.setClearButtonEnabled(True)
        self.actor_filter.setAccessibleName("Filter by actor")
        self.action_filter = QLineEdit()
        self.action_filter.setPlaceholderText("What, e.g. Logged in")
        self.action_filter.setClearButtonEnabled(True)
        self.action_filter.setAccessibleName("Filter by action")
        for edit in (self.actor_filter, self.action_filter):
            edit.returnPressed.connect(self.refresh)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the newest entries again (with the filters)")
        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip(
            "Recompute the hash chain: names every entry that was altered, removed or inserted"
        )
        self.verify_button.clicked.connect(self._on_verify_requested)
        top = QHBoxLayout()
        top.addWidget(self.actor_filter, 1)
        top.addWidget(self.action_filter, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.verify_button)

        # Verification runs through the shared strip: its line says what runs, then the
        # verdict (green intact, red tampered); a verification that could not run is its
        # error line.
        self.verify_strip = ActionStrip()
        self.verify_label = self.verify_strip.status_label
        self.verify_progress = self.verify_strip.busy_bar
        self._verify_runner = ActionRunner(
            client,
            self.verify_strip,
            channel=f"{self._channel}.verify",
            update_controls=self._update_verify_button,
            parent=self,
        )

        self._model = _AuditModel(self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view, selection=EXTENDED)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COLUMN_SEQ, 60)
        header.resizeSection(COLUMN_TIME, 150)
        header.resizeSection(COLUMN_ACTOR, 150)
        header.resizeSection(COLUMN_ACTION, 140)
        header.resizeSection(COLUMN_TARGET, 140)
        header.resizeSection(COLUMN_OUTCOME, 70)
        header.setStretchLastSection(True)
        # The raw entry, as stored, one click away (for a ticket or a forensic report).
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.copy_action = QAction("Copy entry as stored (JSON)", self.view)
        self.copy_action.triggered.connect(self.copy_selected)
        self.view.addAction(self.copy_action)

        self.count_label = QLabel()
        self.older_button = QPushButton("Older…")
        self.older_button.setToolTip("Show the entries before the oldest one listed")
        self.older_button.clicked.connect(self.load_older)
        self.older_button.setEnabled(False)
        self.error_label = QLabel()
        show_as_error(self.error_label)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.older_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.verify_strip)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.error_label)

    # -- public API ------------------------------------------------------------------------
    def on_page_shown(self) -> None:
        """Its administration page came into view: read what may have changed."""
        self.refresh()

    def refresh(self) -> None:
        """Read the newest page again with the current filters (replaces the rows)."""
        self._loaded_once = True
        self._request(None, replace=True)

    def load_older(self) -> None:
        """Append the page before the oldest entry shown."""
        records = self._model.records()
        if not records or self._loading:
            return
        self._request(min(r.seq for r in records), replace=False)

    def verify(self) -> None:
        """Recompute the chain on a worker; the answer is shown above the table."""
        self._on_verify_requested()

    def copy_selected(self) -> str:
        """Put the selected entries, as stored, on the clipboard; returns the text."""
        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        records = self._model.records()
        text = "\n".join(entry_json(records[row]) for row in rows if row < len(records))
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def records(self) -> list[AuditRecord]:
        """The entries shown, newest first."""
        return self._model.records()

    def row_count(self) -> int:
        return self._model.rowCount()

    def is_loading(self) -> bool:
        return self._loading

    def is_verifying(self) -> bool:
        return self._verify_runner.is_busy()

    def model(self) -> QAbstractTableModel:
        return self._model

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # -- handlers --------------------------------------------------------------------------
    def _request(self, before: int | None, *, replace: bool) -> None:
        actor_text = self.actor_filter.text().strip()
        action_text = self.action_filter.text().strip()
        actor = actor_key(actor_text) if actor_text else None
        action = audit_action_key(action_text) if action_text else None
        self._loading = True
        self.older_button.setEnabled(False)
        self.count_label.setText("loading…")
        call = partial(self._list_entries, self._page_size, before, actor, action)
        self._client.submit(
            f"{self._channel}.page",
            CallRequest(call, "audit page"),
            partial(self._on_entries_loaded, replace),
        )

    def _on_entries_loaded(self, replace: bool, result: QueryResult[Any]) -> None:
        self._loading = False
        if result.error is not None or result.value is None:
            self._show_error(f"cannot read the audit trail: {result.error}")
            self._update_count()
            return
        self.error_label.hide()
        records: list[AuditRecord] = list(result.value)
        if replace:
            self._model.set_records(records)
        else:
            self._model.append_records(records)
        self._more = len(records) >= self._page_size
        self._update_count()
        self.sig_entries_loaded.emit(self._model.rowCount())

    def _on_verify_requested(self) -> None:
        if self._verify_runner.is_busy():
            return
        self.verify_label.setStyleSheet("")  # the last verdict's colour goes with it
        self._verify_runner.run(
            "verifying the audit trail…",
            self._verify,
            self._on_verified,
            failure="could not verify the audit trail",
        )

    def _on_verified(self, value: object) -> None:
        if not isinstance(value, AuditVerification):
            self.verify_strip.show_status("")
            self.verify_strip.show_error(f"could not verify the audit trail: {value!r}")
            return
        verification = self.verification = value
        if verification.ok:
            self.verify_label.setStyleSheet(_INTACT_STYLE)
            self.verify_label.setText(
                f"Audit trail intact: {verification.entries} entries "
                f"(checked in {verification.seconds:.2f} s)"
            )
        else:
            self.verify_label.setStyleSheet(_TAMPERED_STYLE)
            lines = [
                f"AUDIT TRAIL TAMPERED: {len(verification.problems)} problem"
                f"{'s' if len(verification.problems) != 1 else ''} "
                f"({verification.entries} entries read)"
            ]
            lines += [f"entry {p.seq}: {p.reason}" for p in verification.problems]
            self.verify_label.setText("\n".join(lines))
        self._model.set_problems({p.seq: p.reason for p in verification.problems})
        self.sig_verified.emit(verification.ok)

    # -- internals -------------------------------------------------------------------------
    def _update_verify_button(self) -> None:
        self.verify_button.setEnabled(not self._verify_runner.is_busy())

    def _update_count(self) -> None:
        shown = self._model.rowCount()
        noun = "entry" if shown == 1 else "entries"
        more = "; older ones exist" if self._more else ""
        self.count_label.setText(f"{shown} {noun} shown{more}")
        self.older_button.setEnabled(self._more and not self._loading)

    def _show_error(self, message: str) -> None:
        _log.warning("%s", message)
        self.error_label.setText(message)
        self.error_label.show()
