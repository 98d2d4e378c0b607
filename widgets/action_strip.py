"""One busy indicator, progress and error strip for every pane's changes.

A pane that changes something (registers a device, renames a gesture, resets a password)
runs the blocking engine call through an :class:`ActionRunner` on the console's query client
and shows its progress and outcome in an :class:`ActionStrip`: a thin busy bar while it
runs, what is being done or what was done in plain text, and a refusal in the alarm red,
selectable so it can be copied into a ticket. The strip's look is the theme's
(``resources/theme.qss``: ``#action-strip``, ``#action-busy`` and ``QLabel[role="error"]``).

One change runs at a time per pane: while one runs, :meth:`ActionRunner.run` refuses
another (the pane disables its buttons meanwhile, so the next change acts on what the list
shows after this one). Long work (an import, an export, learning a gesture from a file) runs
through :meth:`ActionRunner.run_long`: the action is handed an :class:`ActionProgress` to say
how far it is and to ask whether the person cancelled; the strip's bar then fills, the line
says what the action reports, and a Stop button ends it. Everything here runs on the GUI
thread, except :meth:`ActionProgress.report` and :meth:`ActionProgress.cancelled`, which the
action calls on its worker.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from engine.history.query_service import QueryResult
from engine.text import printable
from widgets.colours import ERROR_STYLE
from widgets.queries import QueryClient

_log = logging.getLogger(__name__)

ERROR_ROLE = "error"
"""The ``role`` property of a label showing an error; the theme colours it."""


def show_as_error(label: QLabel, error: bool = True) -> None:
    """Give ``label`` the error look (the alarm red) or take it away.

    The theme colours ``QLabel[role="error"]``; the label also carries the red in its own
    style sheet so it reads red where no theme is applied (a pane shown on its own, in a
    test), and both come from :mod:`widgets.colours`'s one red.
    """
    label.setProperty("role", ERROR_ROLE if error else "")
    label.setStyleSheet(ERROR_STYLE if error else "")


def error_text(error: BaseException | None) -> str:
    """What an action's exception says, safe to show: its message without control
    characters, or its type's name when it says nothing."""
    if error is None:
        return ""
    return printable(str(error)) or type(error).__name__


class ActionStrip(QWidget):
    """A busy bar, one plain line (what runs, or what was done) and one error line.

    Each part is hidden while it has nothing to show, so an idle strip takes no room. The
    lines wrap and their text can be selected.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("action-strip")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("action-busy")
        self.busy_bar.setRange(0, 0)  # busy: how long a change takes is not known
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumHeight(self.fontMetrics().height())
        self.busy_bar.hide()
        self.status_label = _line("action-status")
        self.error_label = _line("action-error")
        show_as_error(self.error_label)
        # "Stop", not "Cancel": a dialog's own Cancel closes the dialog; this stops the work.
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setObjectName("action-cancel")
        self.cancel_button.setToolTip("Stop what is running; nothing half-done is kept")
        self.cancel_button.hide()
        status_row = QHBoxLayout()
        status_row.setContentsMargins(0, 0, 0, 0)
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.busy_bar)
        layout.addLayout(status_row)
        layout.addWidget(self.error_label)

    def set_busy(self, busy: bool) -> None:
        """Show the bar as busy (how long is not known) or hide it."""
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setVisible(busy)

    def show_progress(self, done: int, total: int, text: str = "") -> None:
        """Fill the bar to ``done`` of ``total`` (busy while the total is not known, 0) and
        show ``text`` (when given) on the plain line."""
        if total > 0:
            # A bar counts in ints: scale a large total (bytes) to at most a million steps.
            scale = max(1, total // 1_000_000)
            self.busy_bar.setRange(0, max(total // scale, 1))
            self.busy_bar.setValue(min(max(done, 0), total) // scale)
        else:
            self.busy_bar.setRange(0, 0)
        self.busy_bar.show()
        if text:
            self.show_status(text)

    def progress(self) -> tuple[int, int]:
        """The bar's (value, maximum): (0, 0) while busy without a known total."""
        return self.busy_bar.value() if self.busy_bar.maximum() else 0, self.busy_bar.maximum()

    def set_cancellable(self, cancellable: bool) -> None:
        """Offer the Cancel button (while a long action that can stop runs) or hide it."""
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(cancellable)

    def is_busy(self) -> bool:
        return not self.busy_bar.isHidden()

    def show_status(self, text: str) -> None:
        """Show ``text`` plainly ("" hides the line)."""
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def status(self) -> str:
        return "" if self.status_label.isHidden() else self.status_label.text()

    def show_error(self, message: str) -> None:
        """Show ``message`` in the alarm red ("" hides the line)."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def add_error(self, message: str) -> None:
        """Add ``message`` in the alarm red as a line of its own under those shown: changes
        a pane runs at once (acknowledging several alerts) each keep their refusal."""
        shown = self.error()
        self.show_error(f"{shown}\n{message}" if shown else message)

    def clear_error(self) -> None:
        self.show_error("")

    def error(self) -> str:
        """The error shown ("" when none is)."""
        return "" if self.error_label.isHidden() else self.error_label.text()


class ActionCancelledError(Exception):
    """A long action stopped because the person cancelled it (raised by the action, or by
    :meth:`ActionProgress.check`)."""


class ActionProgress:
    """Handed to a long action on its worker: how far it is, and whether to stop.

    :meth:`report` may be called from any thread as often as the action likes; the strip
    shows the latest report. :attr:`cancel_event` is set when the person presses Cancel (or
    the pane closes); an action that takes a ``threading.Event`` can be given it directly.
    """

    __slots__ = ("_emit", "cancel_event")

    def __init__(self, emit: Callable[[int, int, str], None]) -> None:
        self._emit = emit
        self.cancel_event = threading.Event()

    def report(self, done: int, total: int, stage: str = "") -> None:
        """``done`` of ``total`` (total 0: not known yet), in ``stage`` (for work that goes
        through stages, such as recording then reading the poses; the runner's ``describe``
        gets it with the counts). Thread-safe."""
        self._emit(int(done), int(total), stage)

    def cancelled(self) -> bool:
        """Whether the person asked to stop. Thread-safe."""
        return self.cancel_event.is_set()

    def check(self) -> None:
        """Raise :class:`ActionCancelledError` if the person asked to stop."""
        if self.cancel_event.is_set():
            raise ActionCancelledError("cancelled")


class _ProgressRelay(QObject):
    """Carries an action's reports from its worker to the GUI thread."""

    sig_reported = Signal(int, object, object, str)  # generation, done, total, stage


class ActionRunner(QObject):
    """Runs a pane's blocking changes on its query client and shows them in its strip.

    ``run`` marks the pane busy (the strip's bar and ``what``), calls ``update_controls``
    so the pane disables what may not be used meanwhile (it asks :meth:`is_busy`), and on
    the answer shows the refusal or clears the last one, calls ``update_controls`` again
    and emits :attr:`sig_action_finished`.
    """

    sig_action_finished = Signal(str, bool)
    """An action ended (GUI thread): its ``what`` and whether it worked. Emitted after the
    strip shows the outcome, ``on_done`` ran and the controls were updated."""

    def __init__(
        self,
        client: QueryClient,
        strip: ActionStrip,
        *,
        channel: str,
        update_controls: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._strip = strip
        self._channel = channel
        self._update_controls = update_controls or (lambda: None)
        self._running: str | None = None
        # What to do with the running action's answer. One action runs at a time, so the
        # answer's callback can be this runner's bound method, which the client skips once
        # the runner (the pane) is deleted.
        self._pending: tuple[str | None, str | None, Callable[[Any], object] | None] = (
            None,
            None,
            None,
        )
        self._progress: ActionProgress | None = None
        self._describe: Callable[[int, int, str], str] | None = None
        self._generation = 0
        self._relay = _ProgressRelay(self)
        self._relay.sig_reported.connect(
            self._on_progress_reported, Qt.ConnectionType.QueuedConnection
        )
        strip.cancel_button.clicked.connect(self.cancel)

    @property
    def strip(self) -> ActionStrip:
        return self._strip

    def is_busy(self) -> bool:
        """Whether an action is running (its answer has not arrived yet)."""
        return self._running is not None

    def running(self) -> str:
        """The ``what`` of the action running ("" when none is)."""
        return self._running or ""

    def run(
        self,
        what: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object] | None = None,
        *,
        failure: str | None = None,
        done: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Run the blocking ``fn()`` on a query worker, showing ``what`` until it answers.

        On success the strip shows ``done`` (when given; else ``on_done`` may show its own
        line) and ``on_done(value)`` runs; on failure the strip shows ``failure: message``
        in red (``failure`` defaults to "``what`` failed"). Returns False, running nothing,
        while another action runs or when the client is closed.
        """
        return self._start(what, fn, on_done, failure, done, channel)

    def run_long(
        self,
        what: str,
        fn: Callable[[ActionProgress], Any],
        on_done: Callable[[Any], object] | None = None,
        *,
        describe: Callable[[int, int, str], str] | None = None,
        cancellable: bool = True,
        failure: str | None = None,
        done: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Like :meth:`run`, for work that reports how far it is: ``fn(progress)`` runs on
        a worker and may call ``progress.report(done, total, stage)``; the bar fills and the
        line shows ``describe(done, total, stage)`` (default: ``what`` and "done of total"). With
        ``cancellable`` the strip offers Stop, which sets ``progress.cancel_event``; an
        action that then stops by raising (:class:`ActionCancelledError` or any error) is shown
        as stopped ("…: stopped; nothing was kept"), not as failed.
        """
        self._generation += 1
        generation = self._generation
        relay = self._relay

        def emit(done_: int, total: int, stage: str) -> None:
            with contextlib.suppress(RuntimeError):  # the pane was deleted meanwhile
                relay.sig_reported.emit(generation, done_, total, stage)

        progress = ActionProgress(emit)
        self._describe = describe
        started = self._start(what, lambda: fn(progress), on_done, failure, done, channel)
        if started:
            self._progress = progress
            self._strip.set_cancellable(cancellable)
        return started

    def cancel(self) -> bool:
        """Ask the running long action to stop; returns whether one was asked."""
        progress = self._progress
        if progress is None or progress.cancelled():
            return False
        progress.cancel_event.set()
        self._strip.cancel_button.setEnabled(False)
        self._strip.show_status(f"{(self._running or '').rstrip('…')}: stopping…")
        return True

    def _start(
        self,
        what: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object] | None,
        failure: str | None,
        done: str | None,
        channel: str | None,
    ) -> bool:
        if self._running is not None:
            _log.info("%s refused: %s is still running", what, self._running)
            return False
        self._running = what
        self._pending = (failure, done, on_done)
        self._strip.clear_error()
        self._strip.show_status(what)
        self._strip.set_busy(True)
        self._update_controls()
        generation = self._client.submit_action(
            channel or self._channel,
            fn,
            self._on_action_finished,
            name=what,
        )
        if not generation:  # the client is closed: no answer will come
            self._running = None
            self._strip.show_status("")
            self._strip.set_busy(False)
            self._update_controls()
            return False
        return True

    def _on_progress_reported(self, generation: int, done: int, total: int, stage: str) -> None:
        if generation != self._generation or self._progress is None:
            return  # a report of an action that has ended
        if self._progress.cancelled():
            return  # "Cancelling…" stays until the action stops
        describe = self._describe
        what = (self._running or "").rstrip("…")
        text = describe(done, total, stage) if describe is not None else _counted(what, done, total)
        self._strip.show_progress(done, total, text)

    def _on_action_finished(self, result: QueryResult[Any]) -> None:
        what = self._running or ""
        failure, done, on_done = self._pending
        progress = self._progress
        self._running = None
        self._pending = (None, None, None)
        self._progress = None
        self._strip.set_busy(False)
        self._strip.set_cancellable(False)
        ok = result.error is None
        if not ok and (
            isinstance(result.error, ActionCancelledError)
            or (progress is not None and progress.cancelled())
        ):
            _log.info("%s cancelled: %s", what, error_text(result.error))
            self._strip.clear_error()
            self._strip.show_status(f"{what.rstrip('…')}: stopped; nothing was kept")
        elif not ok:
            message = f"{failure or what.rstrip('…') + ' failed'}: {error_text(result.error)}"
            _log.warning("%s", message, exc_info=result.error)
            self._strip.show_status("")
            self._strip.show_error(message)
        else:
            self._strip.clear_error()
            if done is not None:
                self._strip.show_status(done)
            if on_done is not None:
                on_done(result.value)
        self._update_controls()
        self.sig_action_finished.emit(what, ok)


def _counted(what: str, done: int, total: int) -> str:
    if total <= 0:
        return f"{what}…"
    return f"{what}… {done:,} of {total:,}"


def _line(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label
