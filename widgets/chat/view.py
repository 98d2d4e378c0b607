"""The "Ask" pane: questions about recorded history in plain language, answered from the
records, with the events each answer cites.

The operator or investigator types a question ("When did I last see John?", "Who was on
camera 2 between 9 and 10?", "Were there any falls this week?") and presses Enter. The
answer streams into the transcript as it is written; below it the pane says which mode
answered: Claude through the API (with the tools that query the store), or the offline
answerer (no API key, the API failed or timed out, or "Offline only" is ticked), and why.
Every event an answer cites is a link in the transcript and a row in the citation list;
activating one emits :attr:`ChatPane.sig_citation_activated`, which the console connects to
the timeline (jump there) and the clip player (play it). A question the records cannot
answer is said to be so, with the forms that can be answered; the pane never shows a guess.
The conversation is the signed-in user's own, kept in the store and reloaded at sign-in.

The pane reads and writes only through a :class:`~widgets.queries.QueryClient` and a
:class:`ChatActions` object the console gives it; questions run on query workers as the
person signed in. Every method here runs on the GUI thread except the ``on_text`` callback
handed to :meth:`ChatActions.ask`, which hops to the GUI thread through a queued signal.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.chat import ChatAnswer, ChatTurn, Citation, SeenPerson
from engine.history.query_service import QueryResult
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import error_text, show_as_error
from widgets.chat.api import ChatActions, ChatHistory
from widgets.colours import MUTED_GREY, WARNING_AMBER
from widgets.queries import QueryClient

_OFFLINE_STYLE: Final = f"color: {WARNING_AMBER};"  # 6.9:1 on the pane (#b26a00 was 4.1:1)
_STREAM_REDRAW_MS: Final = 50  # redraw the growing answer at most 20 times a second
MAX_QUESTION_CHARS: Final = 2000
CITE_SCHEME: Final = "cite"
PICTURE_PX: Final = 72  # a counted person's picture, square


def person_text(person: SeenPerson) -> str:
    """A counted person under their picture: who, and when and where last seen (site
    time, to the minute)."""
    where = f" on {person.camera_name}" if person.camera_name else ""
    return f"{printable(person.label)}\n{display().minutes(person.ts)}{where}"


def mode_text(mode: str, reason: str | None) -> str:
    """What the pane says about the mode: who answers, and why offline."""
    if mode == "llm":
        return "Answers by Claude, from the site's records"
    why = f" ({reason})" if reason else ""
    return f"Offline answers from the site's records{why}"


def answer_footer(answer_mode: str | None, fallback_reason: str | None) -> str:
    """The line under an answer that says which mode answered it."""
    if answer_mode == "llm":
        return "answered by Claude"
    if fallback_reason:
        return f"answered offline: {fallback_reason}"
    return "answered offline"


def citation_text(citation: Citation) -> str:
    """One citation as the list shows it: time (site time), what happened and where, in
    the words every pane uses, and whether a clip shows it."""
    when = display().full(citation.ts)
    clip = "  ▶ clip" if citation.clip_path else ""
    return f"{when}  {printable(citation.summary)}{clip}"


class ChatPane(QWidget):
    """Question box, streamed transcript and cited events. See the module docstring."""

    sig_citation_activated = Signal(object)
    """An investigator activated a cited event (a :class:`Citation`): jump the timeline
    to it and play its clip. GUI thread."""

    sig_answer_received = Signal(object)
    """An answer (a :class:`ChatAnswer`) arrived and was shown. GUI thread."""

    sig_question_failed = Signal(str)
    """A question could not be answered at all (the text says why). GUI thread."""

    sig_pictures_loaded = Signal(int)
    """The pictures of the people an answer counted were read and shown (the question's
    number). GUI thread."""

    sig_history_loaded = Signal(int)
    """The user's conversation was loaded (how many turns). GUI thread."""

    _sig_text_streamed = Signal(int, str)
    """Internal hop: (question generation, text piece), emitted on a query worker."""

    def __init__(
        self, client: QueryClient, actions: ChatActions, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._actor: Actor | None = None
        self._turns: list[ChatTurn] = []
        self._citations: dict[int, Citation] = {}  # event id -> citation, for the links
        self._pending_question: str | None = None
        self._streamed: list[str] = []
        self._generation = 0  # numbers questions; streamed text of an older one is dropped
        self._mode = "offline"
        self._mode_reason: str | None = None

        self.mode_label = QLabel(self)
        self.mode_label.setWordWrap(True)
        self.offline_box = QCheckBox("Offline only", self)
        self.offline_box.setToolTip("Answer from the local records without calling the API")
        top = QHBoxLayout()
        top.addWidget(self.mode_label, 1)
        top.addWidget(self.offline_box)

        self.transcript = QTextBrowser(self)
        self.transcript.setOpenLinks(False)
        self.transcript.anchorClicked.connect(self._on_transcript_link_activated)
        # The people an answer counted, each with the picture kept of them (read by the
        # backend on a query worker; the list shows names until the pictures arrive).
        self.people_list = QListWidget(self)
        self.people_list.setViewMode(QListView.ViewMode.IconMode)
        self.people_list.setFlow(QListView.Flow.LeftToRight)
        self.people_list.setWrapping(False)
        self.people_list.setMovement(QListView.Movement.Static)
        self.people_list.setIconSize(QSize(PICTURE_PX, PICTURE_PX))
        self.people_list.setGridSize(QSize(PICTURE_PX * 2, PICTURE_PX + 44))
        self.people_list.setWordWrap(True)
        self.people_list.setFixedHeight(PICTURE_PX + 64)
        self.people_list.setToolTip("The people this answer counted, with their pictures")
        self.people_list.hide()
        self._people: tuple[SeenPerson, ...] = ()
        self.citation_list = QListWidget(self)
        self.citation_list.itemActivated.connect(self._on_citation_item_activated)
        self.citation_list.itemClicked.connect(self._on_citation_item_activated)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.transcript)
        split.addWidget(self.citation_list)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)

        self.question_edit = QLineEdit(self)
        self.question_edit.setPlaceholderText(
            "Ask about the records: “When did I last see John?”, “Any falls this week?”"
        )
        self.question_edit.setMaxLength(MAX_QUESTION_CHARS)
        self.question_edit.returnPressed.connect(self.ask)
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.clicked.connect(self.ask)
        bottom = QHBoxLayout()
        bottom.addWidget(self.question_edit, 1)
        bottom.addWidget(self.ask_button)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.people_list)
        layout.addLayout(bottom)
        layout.addWidget(self.status_label)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(_STREAM_REDRAW_MS)
        self._redraw_timer.timeout.connect(self._render)
        self._sig_text_streamed.connect(self._on_text_streamed, Qt.ConnectionType.QueuedConnection)
        self._show_mode()
        self._render()

    # -- public ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a question is being answered."""
        return self._pending_question is not None

    @property
    def turns(self) -> tuple[ChatTurn, ...]:
        return tuple(self._turns)

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Nobody (locked): the conversation is cleared. Someone else: theirs is loaded
        (if they may ask); the same person again: theirs stays as it was."""
        previous, self._actor = self._actor, actor
        if actor is None:
            self.clear()
        elif previous is None or previous.name != actor.name:
            self.clear()
            if actor.may(Permission.CHAT_HISTORY):
                self.reload()

    def reload(self) -> None:
        """Load the signed-in user's conversation (on a worker); call at sign-in."""
        self._show_status("Loading the conversation…")
        self._client.submit("chat.history", _HistoryCall(self._actions), self._on_history_loaded)

    def clear(self) -> None:
        """Forget the shown conversation (at sign-out); the store keeps it."""
        self._generation += 1
        self._pending_question = None
        self._turns.clear()
        self._citations.clear()
        self._streamed.clear()
        self.citation_list.clear()
        self._fill_people((), generation=self._generation)
        self._show_status("")
        self._set_busy(False)
        self._render()

    def ask(self, question: str | None = None) -> None:
        """Send ``question`` (default: the text in the box) unless one is pending."""
        text = (question if isinstance(question, str) else self.question_edit.text()).strip()
        if not text or self.busy:
            return
        self._generation += 1
        generation = self._generation
        self._pending_question = text
        self._streamed = []
        self.question_edit.clear()
        self._set_busy(True)
        self._show_status("Answering…")
        self._render()
        self._client.submit_action(
            "chat.ask",
            partial(
                self._actions.ask,
                text,
                self.offline_box.isChecked(),
                partial(self._emit_streamed, generation),
            ),
            partial(self._on_answered, generation, text),
            name="chat.ask",
        )

    # -- worker side -------------------------------------------------------------------

    def _emit_streamed(self, generation: int, piece: str) -> None:
        """Query worker: hand a piece of streamed text to the GUI thread."""
        with contextlib.suppress(RuntimeError):  # the pane was deleted while it streamed
            self._sig_text_streamed.emit(generation, piece)

    # -- GUI side ----------------------------------------------------------------------

    def _on_text_streamed(self, generation: int, piece: str) -> None:
        if generation != self._generation or self._pending_question is None:
            return
        self._streamed.append(piece)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_history_loaded(self, result: QueryResult[Any]) -> None:
        if not result.ok or not isinstance(result.value, ChatHistory):
            self._show_error(f"Could not load the conversation: {error_text(result.error)}")
            return
        history = result.value
        self._mode, self._mode_reason = history.mode, history.mode_reason
        self._turns = list(history.turns)
        self._citations = {c.event_id: c for t in self._turns for c in t.citations}
        last_answer = next((t for t in reversed(self._turns) if t.role == "assistant"), None)
        self._fill_citations(last_answer.citations if last_answer else ())
        self._show_status("")
        self._show_mode()
        self._render()
        self.sig_history_loaded.emit(len(self._turns))

    def _on_answered(self, generation: int, question: str, result: QueryResult[Any]) -> None:
        if generation != self._generation:
            return  # signed out (or cleared) meanwhile
        self._pending_question = None
        self._streamed = []
        self._set_busy(False)
        if not result.ok or not isinstance(result.value, ChatAnswer):
            self._show_error(f"The question could not be answered: {error_text(result.error)}")
            self.question_edit.setText(question)  # nothing lost: ask again
            self._render()
            self.sig_question_failed.emit(str(result.error))
            return
        answer = result.value
        self._turns.append(_turn("user", question, None, ()))
        self._turns.append(_turn("assistant", answer.text, answer.mode, answer.citations))
        for citation in answer.citations:
            self._citations[citation.event_id] = citation
        self._fill_citations(answer.citations)
        self._fill_people(answer.people, generation=generation)
        if answer.answered:
            self._show_status(
                answer_footer(answer.mode, answer.fallback_reason),
                _OFFLINE_STYLE if answer.fallback_reason else "",
            )
        else:
            self._show_status("No answer in the records; see the forms above.", _OFFLINE_STYLE)
        self._render()
        self.sig_answer_received.emit(answer)

    def _on_transcript_link_activated(self, url: QUrl) -> None:
        if url.scheme() != CITE_SCHEME:
            return
        try:
            citation = self._citations.get(int(url.path()))
        except ValueError:
            return
        if citation is not None:
            self.sig_citation_activated.emit(citation)

    def _on_citation_item_activated(self, item: QListWidgetItem) -> None:
        citation = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(citation, Citation):
            self.sig_citation_activated.emit(citation)

    # -- drawing -----------------------------------------------------------------------

    def _fill_citations(self, citations: Sequence[Citation]) -> None:
        self.citation_list.clear()
        site = display()
        for citation in citations:
            item = QListWidgetItem(citation_text(citation))
            item.setData(Qt.ItemDataRole.UserRole, citation)
            # The zone is said here, once per event, not on every row of the list.
            item.setToolTip(
                f"{site.with_zone(citation.ts)} ({site.name})\n"
                "Activate to show it on the timeline and play its clip"
            )
            self.citation_list.addItem(item)

    def _fill_people(self, people: Sequence[SeenPerson], *, generation: int) -> None:
        """Show ``people`` by name and time, and ask the backend (on a worker) for their
        pictures; an empty list hides the strip."""
        self._people = tuple(people)
        self.people_list.clear()
        self.people_list.setVisible(bool(people))
        site = display()
        for person in people:
            item = QListWidgetItem(person_text(person))
            where = f" on {person.camera_name}" if person.camera_name else ""
            item.setToolTip(f"{person.label}, last seen {site.with_zone(person.ts)}{where}")
            item.setData(Qt.ItemDataRole.UserRole, person.snapshot)
            self.people_list.addItem(item)
        paths = [p.snapshot for p in people if p.snapshot]
        if paths:
            self._client.submit(
                "chat.pictures",
                _PicturesCall(self._actions, tuple(paths)),
                partial(self._on_pictures_loaded, generation),
            )

    def _on_pictures_loaded(self, generation: int, result: QueryResult[Any]) -> None:
        if generation != self._generation or not result.ok or not isinstance(result.value, dict):
            return  # a newer answer (or sign-out) replaced these people; or none could be read
        for row in range(self.people_list.count()):
            item = self.people_list.item(row)
            data = result.value.get(item.data(Qt.ItemDataRole.UserRole))
            if not isinstance(data, bytes):
                continue
            pixmap = QPixmap()
            if pixmap.loadFromData(data):
                item.setIcon(
                    QIcon(
                        pixmap.scaled(
                            PICTURE_PX,
                            PICTURE_PX,
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        )
                    )
                )
        self.sig_pictures_loaded.emit(generation)

    def _set_busy(self, busy: bool) -> None:
        self.ask_button.setEnabled(not busy)
        self.question_edit.setEnabled(not busy)
        if not busy:
            self.question_edit.setFocus()

    def _show_mode(self) -> None:
        self.mode_label.setText(mode_text(self._mode, self._mode_reason))
        self.mode_label.setStyleSheet("" if self._mode == "llm" else _OFFLINE_STYLE)

    def _show_status(self, text: str, style: str = "") -> None:
        """``text`` on the status line: plain, or in ``style`` (the offline amber)."""
        show_as_error(self.status_label, False)
        self.status_label.setStyleSheet(style)
        self.status_label.setText(text)

    def _show_error(self, text: str) -> None:
        """``text`` on the status line in the one error red (selectable, for a ticket)."""
        self.status_label.setText(text)
        show_as_error(self.status_label)

    def _render(self) -> None:
        """Rebuild the transcript: every turn, then the question being answered."""
        parts: list[str] = []
        for turn in self._turns:
            parts.append(_turn_html(turn))
        if self._pending_question is not None:
            parts.append(f"<p><b>You:</b> {_text_html(self._pending_question)}</p>")
            streamed = "".join(self._streamed)
            parts.append(f"<p>{_text_html(streamed) if streamed else '<i>Answering…</i>'}</p>")
        if not parts:
            parts.append(
                "<p><i>Ask about what the site recorded: when someone was last seen, who was "
                "on a camera in a time range, how many events of a kind, what happened "
                "around a time, falls or alerts in a period.</i></p>"
            )
        self.transcript.setHtml("".join(parts))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())


@dataclass(frozen=True, slots=True)
class _HistoryCall:
    """The history read as a query request (supersedable: a newer sign-in wins)."""

    actions: ChatActions

    def run(self, store: object) -> ChatHistory:
        return self.actions.history()


@dataclass(frozen=True, slots=True)
class _PicturesCall:
    """The snapshots of the people an answer counted, read by the backend on a worker."""

    actions: ChatActions
    paths: tuple[str, ...]

    def run(self, store: object) -> dict[str, bytes]:
        return self.actions.pictures(self.paths)


def _turn(role: str, text: str, mode: str | None, citations: tuple[Citation, ...]) -> ChatTurn:
    """A turn shown before the store's copy is read back (its id is 0 until then)."""
    return ChatTurn(
        id=0,
        role=role,
        text=text,
        mode=mode,
        citations=citations,
        created_at=datetime.now(UTC),
    )


def _text_html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _turn_html(turn: ChatTurn) -> str:
    if turn.role == "user":
        return f"<p><b>You:</b> {_text_html(turn.text)}</p>"
    links = ", ".join(
        f'<a href="{CITE_SCHEME}:{c.event_id}">#{c.event_id}</a>' for c in turn.citations
    )
    cited = f"<br><small>Cited: {links}</small>" if links else ""
    footer = html.escape(answer_footer(turn.mode, None))
    footnote = f"<small style='color:{MUTED_GREY}'>{footer}</small>"  # 6.2:1 on the transcript
    return f"<p>{_text_html(turn.text)}{cited}<br>{footnote}</p>"
