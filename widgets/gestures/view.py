"""The gestures pane: the gestures the cameras recognise, for admins to teach (the wizard,
:mod:`widgets.gestures.teach_dialog`), replay as a skeleton (:mod:`widgets.gestures.skeleton`),
rename, mark as alerting or mirror-invariant, and remove, with each gesture's usage (how often
it was recognised, and when last).

The pane touches no store, camera or thread: the console gives it a
:class:`~widgets.gestures.api.GestureActions` object (blocking calls made as the person logged
in, whose permission the engine checks) and a query client, and every call runs on the
client's workers; answers come back on the GUI thread. Refusals are shown in red as the engine
words them. Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.gestures.library import GestureView
from engine.gestures.templates import GestureTemplate
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip
from widgets.gestures.api import GestureActions
from widgets.gestures.skeleton import SkeletonView
from widgets.gestures.teach_dialog import COUNTDOWN_STEP_MS, TeachGestureDialog
from widgets.queries import QueryClient
from widgets.scrolling import scrolling_layout
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M"
NO_VALUE = "—"
NOT_ALLOWED_TEXT = (
    "Teaching, renaming and removing gestures need the manage_gestures permission (admins)."
)

COLUMN_NAME, COLUMN_EXAMPLES, COLUMN_TYPICAL, COLUMN_ALERTING = 0, 1, 2, 3
COLUMN_MIRROR, COLUMN_DETECTIONS, COLUMN_LAST_DETECTED = 4, 5, 6
_HEADERS = (
    "Gesture",
    "Examples",
    "Typical length",
    "Alerting",
    "Mirror",
    "Detections",
    "Last detected",
)

# MediaPipe's pose landmark connections (PoseLandmarksConnections.POSE_LANDMARKS), copied
# so that drawing a skeleton does not load mediapipe.


def _local_time(at: datetime) -> str:
    return display().local(at).strftime(TIME_FORMAT)


# -- the skeleton ---------------------------------------------------------------------------


# -- the pane ------------------------------------------------------------------------------


class _GesturesModel(RowsTableModel[GestureView]):
    """One row per taught gesture, in the engine's order (by name)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)

    def gestures(self) -> list[GestureView]:
        return list(self._rows)

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
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            COLUMN_EXAMPLES,
            COLUMN_TYPICAL,
            COLUMN_DETECTIONS,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COLUMN_NAME:
                return (
                    f"Taught by {printable(view.created_by)} on {_local_time(view.created_at)}; "
                    f"changed {_local_time(view.updated_at)}"
                ) + "".join(f"\n{printable(a)}" for a in view.advice)
            if column == COLUMN_ALERTING:
                return "Alerting gestures raise their camera's gesture alert rules"
            if column == COLUMN_MIRROR:
                return "Its mirror image counts too (either hand)"
            if column == COLUMN_DETECTIONS:
                return "How often cameras recognised it"
        return None

    @staticmethod
    def text(view: GestureView, column: int) -> str:
        if column == COLUMN_NAME:
            return printable(view.name)
        if column == COLUMN_EXAMPLES:
            return str(view.examples)
        if column == COLUMN_TYPICAL:
            return f"{view.typical_s:.1f} s"
        if column == COLUMN_ALERTING:
            return "yes" if view.alerting else "no"
        if column == COLUMN_MIRROR:
            return "yes" if view.mirror_invariant else "no"
        if column == COLUMN_DETECTIONS:
            return str(view.detections)
        return _local_time(view.last_detected_at) if view.last_detected_at else NO_VALUE


class GesturesPane(QWidget):
    """Taught gestures (name, examples, typical length, alerting, mirror, detections, last
    detected), with Teach… (the wizard), Replay (the selected gesture's examples as a
    skeleton), Rename…, Remove… (confirmed), and alerting / mirror toggles for the selected
    gesture.

    ``actions`` block: the pane runs them through ``client`` and lists again after each
    change. It loads when first shown (or on :meth:`refresh`). ``cameras`` are (id, name)
    pairs the wizard offers. The console says with :meth:`set_changes_allowed` whether the
    person at it may change the library; the engine refuses anyone else anyway."""

    sig_gestures_listed = Signal(int)
    """The gestures were listed (GUI thread): how many."""

    sig_action_finished = Signal(str, bool)
    """A change finished (GUI thread): what was being done, and whether it worked."""

    sig_gesture_taught = Signal(str)
    """A gesture was taught in the wizard (GUI thread): its name."""

    sig_gesture_renamed = Signal(str, str)
    """A gesture was renamed (GUI thread): old and new name."""

    sig_gesture_changed = Signal(str)
    """A gesture's options changed (GUI thread): its name."""

    sig_gesture_removed = Signal(str)
    """A gesture was removed (GUI thread): its name."""

    sig_template_loaded = Signal(str, int)
    """A gesture's examples arrived for replay (GUI thread): its name and how many."""

    def __init__(
        self,
        client: QueryClient,
        actions: GestureActions,
        cameras: Sequence[tuple[str, str]] = (),
        parent: QWidget | None = None,
        *,
        channel: str = "gestures",
        countdown_step_ms: int = COUNTDOWN_STEP_MS,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._cameras = list(cameras)
        self._channel = channel
        self._countdown_step_ms = countdown_step_ms
        self._changes_allowed = True
        self._loaded_once = False
        self._listing_failed = False
        self.teach_dialog: TeachGestureDialog | None = None
        self._select_after_listing: str | None = None

        self._model = _GesturesModel(self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.view.doubleClicked.connect(lambda _index: self._on_replay_requested())
        self.count_label = QLabel("Not loaded yet")
        self.teach_button = QPushButton("Teach…")
        self.teach_button.setToolTip(
            "Teach a new gesture from a camera or a recorded clip (3–5 examples)"
        )
        self.teach_button.clicked.connect(self._on_teach_requested)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.teach_button)
        top.addWidget(self.refresh_button)

        self.replay_button = QPushButton("Replay")
        self.replay_button.setToolTip("Replay the selected gesture's examples as a skeleton")
        self.replay_button.clicked.connect(self._on_replay_requested)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self._on_rename_requested)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip(
            "Forget the selected gesture (its past detections stay in the history)"
        )
        self.remove_button.clicked.connect(self._on_remove_requested)
        self.alerting_check = QCheckBox("Alerting")
        self.alerting_check.setToolTip("Recognising it raises the camera's gesture alert rules")
        self.alerting_check.clicked.connect(self._on_alerting_toggled)
        self.mirror_check = QCheckBox("Mirror image counts")
        self.mirror_check.setToolTip("Recognised performed with either hand")
        self.mirror_check.clicked.connect(self._on_mirror_toggled)
        row = QHBoxLayout()
        for widget in (
            self.replay_button,
            self.rename_button,
            self.remove_button,
            self.alerting_check,
            self.mirror_check,
        ):
            row.addWidget(widget)
        row.addStretch(1)

        self.skeleton = SkeletonView(placeholder="Select a gesture, then Replay")
        self.replay_label = QLabel("Select a gesture and press Replay to see its examples.")
        self.replay_label.setWordWrap(True)
        replay_layout = QVBoxLayout()
        replay_layout.addWidget(self.replay_label)
        replay_layout.addWidget(self.skeleton, 1)
        self.replay_box = QGroupBox("Replay")
        self.replay_box.setLayout(replay_layout)

        self.advice_label = QLabel()  # the selected gesture's advice about its examples
        self.advice_label.setWordWrap(True)
        self.advice_label.setAccessibleName("About its examples")
        self.advice_label.hide()
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
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
        self._runner.sig_action_finished.connect(self.sig_action_finished)
        self._runner.sig_action_finished.connect(self._on_action_finished)

        # In a scroll area, as the other admin panes: a tab in a crowded dock column must
        # not force the window taller than the screen.
        layout = scrolling_layout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.advice_label)
        layout.addLayout(row)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.strip)
        layout.addWidget(self.replay_box, 2)
        self._update_controls()

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the gestures again (on a worker); a newer refresh supersedes one underway.
        The selection is kept by name."""
        self._loaded_once = True
        self._client.submit(
            f"{self._channel}.list",
            CallRequest(self._actions.list_gestures, "list gestures"),
            self._on_gestures_listed,
        )

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody; an open teach wizard closes, saving
        nothing): teaching is for who may manage gestures."""
        self.set_changes_allowed(actor is not None and actor.may(Permission.MANAGE_GESTURES))

    def set_changes_allowed(self, allowed: bool, why_not: str = NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may teach, rename, change and remove: when
        not, those controls are disabled, ``why_not`` says so and an open wizard closes
        (saving nothing). The list and replays stay available."""
        self._changes_allowed = allowed
        self.permission_label.setText("" if allowed else why_not)
        self.permission_label.setVisible(not allowed and bool(why_not))
        if not allowed:
            self.close_dialogs()
        self._update_controls()

    @property
    def changes_allowed(self) -> bool:
        return self._changes_allowed

    def close_what_was_opened(self) -> None:
        """The person locked or logged out: the teach and rename dialogs close."""
        self.close_dialogs()

    def close_dialogs(self) -> None:
        """Cancel the teach wizard if it is open (a recording underway stops)."""
        if self.teach_dialog is not None and self.teach_dialog.isVisible():
            self.teach_dialog.reject()

    def gestures(self) -> list[GestureView]:
        return self._model.gestures()

    def gesture(self, name: str) -> GestureView | None:
        wanted = name.strip().lower()
        return next((g for g in self._model.gestures() if g.name.lower() == wanted), None)

    def cell_text(self, name: str, column: int) -> str:
        for row, view in enumerate(self._model.gestures()):
            if view.name.lower() == name.strip().lower():
                return str(self._model.index(row, column).data() or "")
        return ""

    def selected_gesture(self) -> GestureView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.row(rows[0].row()) if rows else None

    def select(self, name: str) -> None:
        self.view.clearSelection()
        for row, view in enumerate(self._model.gestures()):
            if view.name.lower() == name.strip().lower():
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                self.view.selectionModel().select(self._model.index(row, 0), flags)
                return

    def is_busy(self) -> bool:
        return self._runner.is_busy()

    def set_cameras(self, cameras: Sequence[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed):
        the wizard opened from now on offers them, by their names now. One already open
        keeps the cameras it opened with. GUI thread, memory only."""
        self._cameras = list(cameras)

    def open_teach_dialog(self) -> TeachGestureDialog | None:
        """Open the wizard (not modal to the console: the cameras stay live beside it)."""
        if not self._changes_allowed:
            return None
        if self.teach_dialog is not None:
            if self.teach_dialog.isVisible():
                self.teach_dialog.raise_()
                return self.teach_dialog
            self.teach_dialog.deleteLater()
        dialog = TeachGestureDialog(
            self._client,
            self._actions,
            self._cameras,
            existing=[g.name for g in self._model.gestures()],
            parent=self,
            channel=f"{self._channel}.teach",
            countdown_step_ms=self._countdown_step_ms,
        )
        dialog.sig_gesture_saved.connect(self._on_gesture_taught)
        self.teach_dialog = dialog
        dialog.show()
        return dialog

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # Dialogs: small methods, so tests (and callers) can replace them.

    def _confirm_remove(self, view: GestureView) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove gesture",
            f"Remove the gesture {printable(view.name)} and its {view.examples} examples? "
            "Cameras stop recognising it; alert rules naming it match nothing. Its past "
            "detections stay in the history.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _ask_new_name(self, view: GestureView) -> str | None:
        text, ok = QInputDialog.getText(
            self,
            "Rename gesture",
            f"New name for {printable(view.name)} (alert rules naming the old name need "
            "editing too):",
            QLineEdit.EchoMode.Normal,
            view.name,
        )
        return text if ok else None

    # -- handlers --------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        self._show_options()
        self._update_controls()

    def _on_teach_requested(self) -> None:
        self.open_teach_dialog()

    def _on_gesture_taught(self, name: str) -> None:
        self.strip.show_status(f"Taught {printable(name)}: cameras recognise it from now on.")
        self.sig_gesture_taught.emit(name)
        self.refresh()
        self._select_after_listing = name

    def _on_replay_requested(self) -> None:
        view = self.selected_gesture()
        if view is None:
            return
        self.replay_label.setText(f"Loading {printable(view.name)}…")
        self._client.submit(
            f"{self._channel}.template",
            CallRequest(partial(self._actions.template, view.name), "gesture template"),
            self._on_template_loaded,
        )

    def _on_template_loaded(self, result: QueryResult[Any]) -> None:
        template = result.value
        if result.error is not None or not isinstance(template, GestureTemplate):
            self.replay_label.setText("")
            message = f"Could not load the gesture: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.strip.show_error(message)
            return
        self.skeleton.set_sequences(
            list(zip(template.examples, template.durations_s, strict=True)), "example"
        )
        count = len(template.examples)
        self.replay_label.setText(
            f"{printable(template.name)}: its {count} examples, each at the pace it was "
            f"performed (typically {template.typical_s:.1f} s)."
        )
        self.sig_template_loaded.emit(template.name, count)

    def _on_rename_requested(self) -> None:
        view = self.selected_gesture()
        if view is None or not self._changes_allowed or self._runner.is_busy():
            return
        new_name = self._ask_new_name(view)
        if new_name is None or new_name.strip() == view.name:
            return

        def renamed(value: object) -> None:
            if isinstance(value, GestureView):
                self.strip.show_status(
                    f"Renamed {printable(view.name)} to {printable(value.name)}."
                )
                self._select_after_listing = value.name
                self.sig_gesture_renamed.emit(view.name, value.name)

        self._runner.run(
            f"Renaming {printable(view.name)}…",
            partial(self._actions.rename, view.name, new_name),
            renamed,
            failure=f"Could not rename {printable(view.name)}",
        )

    def _on_remove_requested(self) -> None:
        view = self.selected_gesture()
        if view is None or not self._changes_allowed or self._runner.is_busy():
            return
        if not self._confirm_remove(view):
            return

        def removed(_value: object) -> None:
            self.strip.show_status(f"Removed {printable(view.name)}.")
            self.skeleton.clear()
            self.replay_label.setText("")
            self.sig_gesture_removed.emit(view.name)

        self._runner.run(
            f"Removing {printable(view.name)}…",
            partial(self._actions.remove, view.name),
            removed,
            failure=f"Could not remove {printable(view.name)}",
        )

    def _on_alerting_toggled(self, checked: bool) -> None:
        self._change_option(alerting=checked)

    def _on_mirror_toggled(self, checked: bool) -> None:
        self._change_option(mirror=checked)

    def _change_option(self, *, alerting: bool | None = None, mirror: bool | None = None) -> None:
        view = self.selected_gesture()
        if view is None or not self._changes_allowed or self._runner.is_busy():
            self._show_options()
            return
        what = "alerting" if alerting is not None else "mirror image counts"
        on = alerting if alerting is not None else mirror

        def changed(value: object) -> None:
            if isinstance(value, GestureView):
                self.strip.show_status(f"{printable(value.name)}: {what} {'on' if on else 'off'}.")
                self.sig_gesture_changed.emit(value.name)

        self._runner.run(
            f"Changing {printable(view.name)}…",
            partial(self._actions.set_options, view.name, alerting, mirror),
            changed,
            failure=f"Could not change {printable(view.name)}",
        )

    def _on_gestures_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            self._listing_failed = True
            message = f"Could not list the gestures: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.strip.show_error(message)
            return
        if self._listing_failed:
            self._listing_failed = False
            self.strip.clear_error()
        selected = self._select_after_listing or (
            g.name if (g := self.selected_gesture()) is not None else None
        )
        self._select_after_listing = None
        views: Sequence[GestureView] = result.value
        self._model.set_rows(views)
        if selected is not None:
            self.select(selected)
        count = len(views)
        self.count_label.setText(
            f"{count} gesture{'' if count == 1 else 's'} taught" if count else
            "No gestures taught yet: press Teach… to teach one"
        )  # fmt: skip
        self._show_options()
        self._update_controls()
        if self.teach_dialog is not None:
            self.teach_dialog.set_existing([g.name for g in views])
        self.sig_gestures_listed.emit(count)

    def _on_action_finished(self, _what: str, _ok: bool) -> None:
        self.refresh()  # list again after every change, worked or refused

    # -- internals -------------------------------------------------------------------------
    def _show_options(self) -> None:
        """The toggles show the selected gesture's options (unticked with none)."""
        view = self.selected_gesture()
        self.alerting_check.setChecked(bool(view and view.alerting))
        self.mirror_check.setChecked(bool(view and view.mirror_invariant))
        advice = view.advice if view is not None else ()
        self.advice_label.setText(
            f"About {printable(view.name)}'s examples: " + " ".join(printable(a) for a in advice)
            if view is not None and advice
            else ""
        )
        self.advice_label.setVisible(bool(advice))

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        idle = not self._runner.is_busy()
        selected = self.selected_gesture() is not None
        self.teach_button.setEnabled(allowed)
        self.replay_button.setEnabled(selected)
        for widget in (
            self.rename_button,
            self.remove_button,
            self.alerting_check,
            self.mirror_check,
        ):
            widget.setEnabled(allowed and idle and selected)


# -- the teach wizard -----------------------------------------------------------------------
