"""The introductions pane: names people said on camera ("Hi, I'm John"), offered to the
person tracked nearest the camera whose microphone heard them, for an operator to give or
dismiss; the names given recently; each camera's microphone and whether it is listening; and
an audio file fed as if a camera's microphone had heard it.

The pane never touches the engine, the store or the sound card: the console gives it an
:class:`IntroductionActions` object (blocking calls made as the person logged in, whose
permission the engine checks) and query clients, runs every call on their workers and gets
the answers back on the GUI thread. It learns of new offers, given names and microphone
states from the console (:meth:`IntroductionsPane.on_name_offered`,
:meth:`~IntroductionsPane.on_name_given`,
:meth:`~IntroductionsPane.on_microphone_status_changed`), and reads the open offers again
from the engine (which owns them) on :meth:`~IntroductionsPane.refresh`. Giving or dismissing
a name and feeding a file each run through an :class:`~widgets.action_strip.ActionRunner` and
show their progress and outcome in its :class:`~widgets.action_strip.ActionStrip` (one for the
offers, one for the fed file: a file may be recognised while a name is given). Every method
here runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QElapsedTimer, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import CallRequest, QueryResult
from engine.introductions import NameGiven, NameOffered
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ERROR_ROLE, ActionRunner, ActionStrip, show_as_error
from widgets.introductions.api import RECENT_NAMES, GivenName, HeardInFile, IntroductionActions
from widgets.queries import QueryClient
from widgets.scrolling import scrolling_layout
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

TIME_FORMAT = "%H:%M:%S"
GIVEN_TIME_FORMAT = "%Y-%m-%d %H:%M"
FEED_TICK_MS = 500  # how often the elapsed time of a fed file is shown
NOT_ALLOWED_TEXT = "Giving or dismissing names and feeding audio need the label permission."
NO_RENAME_TEXT = (
    "This person already has a name: giving them another needs the manage_people "
    "permission (admins)."
)
NO_MICROPHONES_TEXT = (
    'No camera has a microphone (add microphone = "default" to a camera in the site file).'
)
NO_OFFERS_TEXT = "No introductions waiting."
NO_CAMERAS_TEXT = "This site has no cameras: an audio file is fed as a camera's microphone."
NOT_HEARD = "Not heard"
AUDIO_FILTER = "Audio (*.wav *.mp3 *.ogg *.flac *.m4a *.opus *.mp4 *.mkv);;All files (*)"
_OFFER_STYLE = "QFrame#introduction-offer { border: 1px solid #8b949e; border-radius: 4px; }"

GIVEN_TIME, GIVEN_CAMERA, GIVEN_WHO, GIVEN_NAME, GIVEN_BY = 0, 1, 2, 3, 4
_GIVEN_HEADERS = ("Given", "Camera", "Who", "Name", "By")


def introductions_title(open_offers: int) -> str:
    """The dock's title: how many introductions wait for an operator."""
    return f"Introductions ({open_offers})" if open_offers else "Introductions"


def actor_text(label: str) -> str:
    """How the pane names who gave a name: the account's name, "automatically" for the
    engine (the setting), else the audit label."""
    kind, _, name = label.partition(":")
    if kind == "engine":
        return "automatically (setting)"
    return printable(name if kind == "account" and name else label)


def _local(at: datetime, time_format: str = TIME_FORMAT) -> str:
    return display().local(at).strftime(time_format)


class _GivenModel(RowsTableModel[GivenName]):
    """Names given recently, newest first."""

    def __init__(self, camera_names: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(_GIVEN_HEADERS, parent)
        self._camera_names = camera_names

    def given(self) -> list[GivenName]:
        return list(self._rows)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        given = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == GIVEN_TIME:
                return _local(given.at, GIVEN_TIME_FORMAT)
            if column == GIVEN_CAMERA:
                camera = given.camera or ""
                return printable(self._camera_names.get(camera, camera))
            if column == GIVEN_WHO:
                who = given.person_id or "?"
                return f"{who} (was {printable(given.previous)})" if given.previous else who
            if column == GIVEN_NAME:
                return printable(given.name)
            return actor_text(given.by)
        if role == Qt.ItemDataRole.ToolTipRole and column == GIVEN_TIME:
            return display().local(given.at).isoformat(timespec="seconds")
        return None


class OfferRow(QFrame):
    """One open offer: when and where it was heard, the engine's sentence, Give name and
    Dismiss."""

    def __init__(self, offer: NameOffered, camera_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("introduction-offer")
        self.setStyleSheet(_OFFER_STYLE)
        self.offer = offer
        self.camera_name = camera_name
        self.heading_label = QLabel()
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.give_button = QPushButton("Give name")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Forget this introduction: nobody is named")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.give_button)
        buttons.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.heading_label)
        layout.addWidget(self.detail_label)
        layout.addLayout(buttons)
        self.show_offer(offer, camera_name)

    def show_offer(self, offer: NameOffered, camera_name: str) -> None:
        self.offer = offer
        self.camera_name = camera_name
        self.heading_label.setText(
            f"<b>{_local(offer.at)}</b> · {printable(camera_name)} · “{printable(offer.name)}”"
        )
        self.detail_label.setText(printable(offer.detail))

    def update_controls(self, give_allowed: bool, rename_allowed: bool, busy: bool) -> None:
        """``busy``: a give or dismiss (of any offer) is running."""
        offer = self.offer
        if not give_allowed:
            why = NOT_ALLOWED_TEXT
        elif offer.track_id is None:
            why = f"Nobody is tracked on {printable(self.camera_name)} to give the name to."
        elif offer.current_name and offer.current_name != offer.name and not rename_allowed:
            why = NO_RENAME_TEXT
        else:
            why = ""
        self.give_button.setEnabled(not why and not busy)
        self.give_button.setToolTip(
            why or f"Give “{printable(offer.name)}” to the person on track {offer.track_id}"
        )
        self.dismiss_button.setEnabled(give_allowed and not busy)


class IntroductionsPane(QWidget):
    """Microphones (one line per camera with one, red when it does not listen), the open
    offers (each with Give name and Dismiss), the names given recently, and Feed audio
    file… (a camera, a file, progress, then what was heard or why not).

    ``cameras``: (id, name) of every camera, to feed a file as; ``microphones``: camera id →
    the site file's ``microphone`` value, for the cameras that have one. ``actions`` block:
    the pane runs them through ``client`` (a fed file through ``feed_client``, if given: its
    recognition takes a while). It loads when first shown (or on :meth:`refresh`). The
    console says with :meth:`set_permissions` what the person at it may do; the engine
    refuses anyone else anyway."""

    sig_name_give_requested = Signal(int)
    """The operator asked to give an offer's name (GUI thread): the offer's id."""

    sig_offer_dismiss_requested = Signal(int)
    """The operator asked to dismiss an offer (GUI thread): the offer's id."""

    sig_audio_feed_requested = Signal(str, str)
    """The operator asked to feed an audio file (GUI thread): the camera id and the path
    as typed."""

    sig_name_given = Signal(str, str)
    """A name this pane asked for was given (GUI thread): the person's id and the name."""

    sig_offer_finished = Signal(int, bool)
    """A give or dismiss ended (GUI thread): the offer's id and whether it worked."""

    sig_audio_fed = Signal(bool)
    """A fed file was recognised (True) or refused (False) (GUI thread)."""

    sig_offers_changed = Signal(int)
    """The open offers shown changed (GUI thread): how many there are."""

    sig_recent_listed = Signal(int)
    """The names given recently were read (GUI thread): how many are shown."""

    def __init__(
        self,
        client: QueryClient,
        actions: IntroductionActions,
        cameras: Sequence[tuple[str, str]] = (),
        microphones: Mapping[str, str] | None = None,
        *,
        feed_client: QueryClient | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._feed_client = feed_client or client
        self._actions = actions
        self._cameras = list(cameras)
        self._camera_names = dict(self._cameras)
        self._channel = f"introductions-{id(self):x}"
        self._give_allowed = True
        self._rename_allowed = False
        self._loaded_once = False
        self._feeding = ""  # the name of the file being recognised
        self._offer_running: NameOffered | None = None  # the offer given or dismissed now
        self._feed_clock = QElapsedTimer()
        self._rows: dict[int, OfferRow] = {}
        self._live_given: list[GivenName] = []  # arrived since the last listing was asked
        self._live_offers: set[int] = set()  # likewise: a listing read before them lacks them

        # -- microphones ---------------------------------------------------------------------
        self.microphone_labels: dict[str, QLabel] = {}
        self._microphone_said: dict[str, str] = {}  # each label's words after the name
        microphones_layout = QVBoxLayout()
        for camera, wanted in (microphones or {}).items():
            self._microphone_said[camera] = f"opening microphone {wanted!r}…"
            label = QLabel(f"{printable(self._name(camera))}: {self._microphone_said[camera]}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.microphone_labels[camera] = label
            microphones_layout.addWidget(label)
        self.no_microphones_label = QLabel(NO_MICROPHONES_TEXT)
        self.no_microphones_label.setWordWrap(True)
        self.no_microphones_label.setVisible(not self.microphone_labels)
        microphones_layout.addWidget(self.no_microphones_label)
        self.microphones_box = QGroupBox("Microphones")
        self.microphones_box.setLayout(microphones_layout)

        # -- open offers ---------------------------------------------------------------------
        self.count_label = QLabel("Not loaded yet")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.refresh_button)
        self.no_offers_label = QLabel(NO_OFFERS_TEXT)
        self.offers_list = QWidget()  # each offer a row in it, the parent of its row
        self._offers_layout = QVBoxLayout(self.offers_list)
        self._offers_layout.setContentsMargins(0, 0, 0, 0)
        self._offers_layout.addWidget(self.no_offers_label)
        offers_layout = QVBoxLayout()
        offers_layout.addLayout(top)
        offers_layout.addWidget(self.offers_list)
        self.offers_box = QGroupBox("Heard introductions")
        self.offers_box.setLayout(offers_layout)

        # -- names given ---------------------------------------------------------------------
        self._given_model = _GivenModel(self._camera_names, self)
        self.given_view = QTableView()
        self.given_view.setModel(self._given_model)
        show_rows_read_only(self.given_view)
        header = self.given_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        given_layout = QVBoxLayout()
        given_layout.addWidget(self.given_view)
        self.given_box = QGroupBox("Names given recently")
        self.given_box.setLayout(given_layout)

        # -- feeding a file ------------------------------------------------------------------
        self.camera_combo = QComboBox()
        self.camera_combo.setAccessibleName("Camera")
        self.camera_combo.setToolTip("The camera whose microphone the file stands in for")
        for camera_id, name in self._cameras:
            self.camera_combo.addItem(printable(name), camera_id)
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("an audio file (WAV, MP3, OGG, FLAC, …)")
        self.file_edit.setAccessibleName("Audio file")
        self.file_edit.textChanged.connect(self._update_controls)
        self.file_edit.returnPressed.connect(self._on_feed_requested)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_requested)
        self.feed_button = QPushButton("Feed audio file…")
        self.feed_button.setToolTip(
            "Recognise the file as if the camera's microphone had heard it: an introduction "
            "in it is offered to the person nearest that camera"
        )
        self.feed_button.clicked.connect(self._on_feed_requested)
        self.no_cameras_label = QLabel(NO_CAMERAS_TEXT)
        self.no_cameras_label.setWordWrap(True)
        self.no_cameras_label.setVisible(not self._cameras)
        file_row = QHBoxLayout()
        file_row.addWidget(self.camera_combo)
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_button)
        # Recognition reports no progress of its own: the strip is busy, its line the time.
        self.feed_strip = ActionStrip()
        self._feeder = ActionRunner(
            self._feed_client,
            self.feed_strip,
            channel=f"{self._channel}.feed",
            update_controls=self._update_controls,
            parent=self,
        )
        self._feeder.sig_action_finished.connect(self._on_feed_finished)
        self._feed_timer = QTimer(self)
        self._feed_timer.setInterval(FEED_TICK_MS)
        self._feed_timer.timeout.connect(self._show_feeding)
        feed_buttons = QHBoxLayout()
        feed_buttons.addStretch(1)
        feed_buttons.addWidget(self.feed_button)
        feed_layout = QVBoxLayout()
        feed_layout.addWidget(self.no_cameras_label)
        feed_layout.addLayout(file_row)
        feed_layout.addLayout(feed_buttons)
        feed_layout.addWidget(self.feed_strip)
        self.feed_box = QGroupBox("Feed an audio file")
        self.feed_box.setLayout(feed_layout)

        # -- messages --------------------------------------------------------------------
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        self.strip = ActionStrip()
        self._offering = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.offer",
            update_controls=self._update_controls,
            parent=self,
        )
        self._offering.sig_action_finished.connect(self._on_offer_finished)

        layout = scrolling_layout(self)
        layout.addWidget(self.microphones_box)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.offers_box)
        layout.addWidget(self.strip)
        layout.addWidget(self.given_box, 1)
        layout.addWidget(self.feed_box)
        self._update_controls()

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the open offers and the names given recently again (on workers); a newer
        refresh supersedes one under way."""
        self._loaded_once = True
        self._live_given = []
        self._list_offers()
        self._client.submit(
            f"{self._channel}.given",
            CallRequest(self._actions.recent_names, "list names given"),
            self._on_recent_listed,
        )

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): giving a heard name needs the label
        permission, renaming the person managing people."""
        self.set_permissions(
            give=actor is not None and actor.may(Permission.LABEL),
            rename=actor is not None and actor.may(Permission.MANAGE_PEOPLE),
        )

    def set_permissions(self, give: bool, rename: bool = False) -> None:
        """Whether the person at the console may give and dismiss names and feed audio
        (``give``: the label permission), and give a name to someone already named
        (``rename``: manage_people). The engine refuses anyone else anyway."""
        self._give_allowed = give
        self._rename_allowed = rename
        self.permission_label.setText("" if give else NOT_ALLOWED_TEXT)
        self.permission_label.setVisible(not give)
        self._update_controls()

    @property
    def give_allowed(self) -> bool:
        return self._give_allowed

    def on_microphone_status_changed(self, camera: str, listening: bool, detail: str) -> None:
        """What ``camera``'s microphone does now (a sentence; red when it does not
        listen)."""
        label = self.microphone_labels.get(camera)
        if label is None:  # a camera the site file gave no microphone: shown anyway
            label = QLabel()
            label.setWordWrap(True)
            self.microphone_labels[camera] = label
            layout = self.microphones_box.layout()
            if layout is not None:
                layout.addWidget(label)
            self.no_microphones_label.hide()
        self._microphone_said[camera] = printable(detail)
        label.setText(f"{printable(self._name(camera))}: {printable(detail)}")
        show_as_error(label, not listening)

    def set_cameras(self, cameras: Sequence[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed): a
        file may be fed as an added camera's microphone, and offers, names given and
        microphones name cameras by their names now; a removed camera is no longer offered
        to feed as (its offers and names given keep its last name). GUI thread, memory
        only."""
        self._cameras = list(cameras)
        self._camera_names.update(cameras)  # the given names' model reads this mapping
        chosen = self.camera_combo.currentData()
        self.camera_combo.clear()
        for camera_id, name in self._cameras:
            self.camera_combo.addItem(printable(name), camera_id)
        self.camera_combo.setCurrentIndex(max(self.camera_combo.findData(chosen), 0))
        self.no_cameras_label.setVisible(not self._cameras)
        for row in self._rows.values():
            row.show_offer(row.offer, self._name(row.offer.camera))
        model = self._given_model
        if model.rowCount():
            last = model.index(model.rowCount() - 1, model.columnCount() - 1)
            model.dataChanged.emit(model.index(0, 0), last)
        for camera, label in self.microphone_labels.items():
            label.setText(f"{printable(self._name(camera))}: {self._microphone_said[camera]}")
        self._update_controls()

    def microphone_text(self, camera: str) -> str:
        """What the pane says of ``camera``'s microphone ("" if it has none)."""
        label = self.microphone_labels.get(camera)
        return label.text() if label is not None else ""

    def microphone_listening(self, camera: str) -> bool:
        label = self.microphone_labels.get(camera)
        return label is not None and label.property("role") != ERROR_ROLE

    def on_name_offered(self, offer: NameOffered) -> None:
        """A name was heard and offered (or an offer's sentence changed): show it."""
        if offer.given:
            return
        self._live_offers.add(offer.offer_id)
        self._show_offer(offer)
        self._offers_changed()

    def on_name_given(self, given: NameGiven) -> None:
        """A name was given (here, at another console, or by the setting): list it, and
        read the open offers again (the engine drops the offer it came from)."""
        self._add_given(GivenName.from_event(given))
        self._live_given.append(GivenName.from_event(given))
        if self._loaded_once:
            self._list_offers()

    def offers(self) -> list[NameOffered]:
        """The offers shown, oldest first."""
        return [row.offer for row in self._rows.values()]

    def offer_row(self, offer_id: int) -> OfferRow | None:
        return self._rows.get(offer_id)

    def given_names(self) -> list[GivenName]:
        """The names given recently, as listed (newest first)."""
        return self._given_model.given()

    def given_text(self, row: int, column: int) -> str:
        return str(self._given_model.index(row, column).data() or "")

    def is_feeding(self) -> bool:
        return self._feeder.is_busy()

    def give(self, offer_id: int) -> None:
        """Give offer ``offer_id``'s name (as its Give name button does)."""
        row = self._rows.get(offer_id)
        if row is None or not row.give_button.isEnabled():
            return
        self.sig_name_give_requested.emit(offer_id)
        self._run_offer(
            row.offer,
            partial(self._actions.give, offer_id),
            f"Giving “{printable(row.offer.name)}”…",
            f"“{printable(row.offer.name)}” not given",
        )

    def dismiss(self, offer_id: int) -> None:
        """Dismiss offer ``offer_id`` (as its Dismiss button does)."""
        row = self._rows.get(offer_id)
        if row is None or not row.dismiss_button.isEnabled():
            return
        self.sig_offer_dismiss_requested.emit(offer_id)
        self._run_offer(
            row.offer,
            partial(self._actions.dismiss, offer_id),
            f"Dismissing “{printable(row.offer.name)}”…",
            f"“{printable(row.offer.name)}” not dismissed",
        )

    def feed(self, camera: str, path: str) -> None:
        """Feed ``path`` as ``camera``'s microphone (as the form does)."""
        index = self.camera_combo.findData(camera)
        if index >= 0:
            self.camera_combo.setCurrentIndex(index)
        self.file_edit.setText(path)
        self._on_feed_requested()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    def _ask_audio_file(self) -> str:
        """The file the operator picks ("" when cancelled). Replaceable in tests."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "An audio file of someone introducing themselves", "", AUDIO_FILTER
        )
        return path

    # -- handlers --------------------------------------------------------------------------
    def _on_offers_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            message = f"Could not list introductions: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.strip.show_error(message)
            return
        offers: Sequence[NameOffered] = result.value
        # An offer that arrived after the engine was asked is open even if not listed.
        open_ids = {offer.offer_id for offer in offers if not offer.given} | self._live_offers
        for offer_id in [i for i in self._rows if i not in open_ids]:
            self._remove_row(offer_id)
        for offer in offers:
            if not offer.given:
                self._show_offer(offer)
        self._offers_changed()

    def _on_recent_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            _log.warning("cannot list the names given: %s", result.error)
            return
        stored: list[GivenName] = list(result.value)
        # Names given while the listing was read may not be stored yet: keep them.
        newer = [g for g in self._live_given if not any(g.same_as(s) for s in stored)]
        rows = sorted([*newer, *stored], key=lambda g: g.at, reverse=True)[:RECENT_NAMES]
        self._given_model.set_rows(rows)
        self.sig_recent_listed.emit(len(rows))

    def _on_offer_done(self, offer: NameOffered, value: object) -> None:
        """A give or dismiss worked (the strip clears its line; this says what was done)."""
        if isinstance(value, NameGiven):
            self._add_given(GivenName.from_event(value))
            self.strip.show_status(
                f"Gave “{printable(value.name)}” to {value.person_id}"
                + (f" (was {printable(value.previous)})." if value.previous else ".")
            )
            self.sig_name_given.emit(value.person_id, value.name)
        else:
            self.strip.show_status(f"Dismissed “{printable(offer.name)}”.")
        self._remove_row(offer.offer_id)
        self._offers_changed()

    def _on_offer_finished(self, _what: str, ok: bool) -> None:
        offer, self._offer_running = self._offer_running, None
        if not ok:
            # Given or dismissed elsewhere meanwhile, or the offer's person changed.
            self.refresh()
        if offer is not None:
            self.sig_offer_finished.emit(offer.offer_id, ok)

    def _on_browse_requested(self) -> None:
        path = self._ask_audio_file()
        if path:
            self.file_edit.setText(path)

    def _on_feed_requested(self) -> None:
        camera = self.camera_combo.currentData()
        path = self.file_edit.text().strip()
        if not self.feed_button.isEnabled() or not isinstance(camera, str) or not path:
            return
        self.sig_audio_feed_requested.emit(camera, path)
        file = path.replace("\\", "/").rsplit("/", 1)[-1]
        started = self._feeder.run(
            f"Listening to {printable(file)}…",
            partial(self._actions.feed_audio, camera, path),
            partial(self._on_audio_fed, file),
            failure=NOT_HEARD,
        )
        if started:
            self._feeding = file
            self._feed_clock.start()
            self._show_feeding()
            self._feed_timer.start()

    def _on_audio_fed(self, file: str, heard: HeardInFile) -> None:
        self._feed_timer.stop()
        self.feed_strip.show_status(heard_text(heard, file))
        self._update_controls()
        self.sig_audio_fed.emit(True)

    def _on_feed_finished(self, _what: str, ok: bool) -> None:
        self._feed_timer.stop()
        if not ok:  # the strip says why, in red
            self.sig_audio_fed.emit(False)

    def _show_feeding(self) -> None:
        if not self._feeder.is_busy():
            return
        elapsed = self._feed_clock.elapsed() / 1000 if self._feed_clock.isValid() else 0.0
        self.feed_strip.show_status(
            f"Listening to {printable(self._feeding)}… {elapsed:.0f} s "
            "(recognition takes about a third of the audio's length)"
        )

    # -- internals -------------------------------------------------------------------------
    def _list_offers(self) -> None:
        self._live_offers = set()
        self._client.submit(
            f"{self._channel}.offers",
            CallRequest(self._actions.offers, "list introductions"),
            self._on_offers_listed,
        )

    def _name(self, camera: str) -> str:
        return self._camera_names.get(camera, camera)

    def _show_offer(self, offer: NameOffered) -> None:
        row = self._rows.get(offer.offer_id)
        if row is not None:
            row.show_offer(offer, self._name(offer.camera))
        else:
            row = OfferRow(offer, self._name(offer.camera), self.offers_list)
            row.give_button.clicked.connect(partial(self.give, offer.offer_id))
            row.dismiss_button.clicked.connect(partial(self.dismiss, offer.offer_id))
            self._rows[offer.offer_id] = row
            self._offers_layout.addWidget(row)
        row.update_controls(self._give_allowed, self._rename_allowed, self._offering.is_busy())

    def _remove_row(self, offer_id: int) -> None:
        row = self._rows.pop(offer_id, None)
        if row is not None:
            # Not removeWidget: it hands the row back to Python while Qt still parents it,
            # and the two would both delete it. Deleted, it leaves the layout by itself.
            row.hide()
            row.deleteLater()

    def _offers_changed(self) -> None:
        count = len(self._rows)
        self.no_offers_label.setVisible(not count)
        self.count_label.setText(
            f"{count} introduction{'' if count == 1 else 's'} waiting" if count else ""
        )
        self.sig_offers_changed.emit(count)

    def _add_given(self, given: GivenName) -> None:
        rows = self._given_model.given()
        if any(given.same_as(row) for row in rows):
            return
        self._given_model.set_rows([given, *rows][:RECENT_NAMES])

    def _run_offer(
        self, offer: NameOffered, action: Callable[[], Any], what: str, failure: str
    ) -> None:
        if self._offering.run(what, action, partial(self._on_offer_done, offer), failure=failure):
            self._offer_running = offer

    def _update_controls(self) -> None:
        busy = self._offering.is_busy()
        for row in self._rows.values():
            row.update_controls(self._give_allowed, self._rename_allowed, busy)
        feeding = self._feeder.is_busy()
        may_feed = self._give_allowed and bool(self._cameras) and not feeding
        for widget in (self.camera_combo, self.file_edit, self.browse_button):
            widget.setEnabled(may_feed)
        self.feed_button.setEnabled(may_feed and bool(self.file_edit.text().strip()))
        self.feed_button.setText("Listening…" if feeding else "Feed audio file…")


def heard_text(heard: HeardInFile, file: str = "") -> str:
    """What a fed file's result says: ``heard: “…” → name John (offered)``, or that no
    introduction was heard in it."""
    said = f"“{printable(heard.transcript)}”" if heard.transcript else "nothing recognisable"
    if heard.name is None:
        return f"no introduction heard in {printable(file or heard.file)} (heard: {said})"
    outcome = f" ({printable(heard.outcome)})" if heard.outcome else ""
    return f"heard: {said} → name {printable(heard.name)}{outcome}"
