"""The add- and edit-camera dialog: the camera's address and password, a check of its stream
(codec, size, frame rate, bitrate, keyframes and a snapshot, measured over a few seconds),
then its name, id and recording.

The check runs through the page's query client (a probe blocks for seconds: never on the
GUI thread); its answer comes back here on the GUI thread. Save is offered once the stream
was checked, or when the admin says the camera is off now ("Save without checking"). The
dialog builds a :class:`~engine.vision.setup.CameraChange`; the page carries it out.

A password typed here goes to the OS keyring when saved (``password_keyring``); or the
engine reads it from an environment variable (``password_env``). The site file never holds
one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.text import printable
from engine.vision.onvif import DiscoveredDevice, OnvifDevice, main_and_sub
from engine.vision.probe import StreamProbe
from engine.vision.setup import CameraChange
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.camera_setup.api import CameraRow
from widgets.queries import QueryClient

SNAPSHOT_WIDTH: Final = 360
# Beside the snapshot, a stream's figures wrap onto two lines at most (px).
SUMMARY_MIN_WIDTH: Final = 340
RECORDING_CHOICES: Final = (
    ("continuous", "Every second (continuous recording)"),
    ("events", "Only clips around what was seen"),
)
NO_PASSWORD, KEYRING, ENVIRONMENT = "none", "keyring", "env"
ID_TEXT: Final = re.compile(r"[^a-z0-9_-]+")
ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

ProbeFn = Callable[[str, str | None, str | None], StreamProbe]
DiscoverFn = Callable[[], list[DiscoveredDevice]]
ReadOnvifFn = Callable[[str, str | None, str | None, str | None], OnvifDevice]


def suggested_id(name: str, taken: set[str]) -> str:
    """A camera id from its name: "Loading dock 2" → ``loading-dock-2`` (``-2``, ``-3``…
    when taken)."""
    base = ID_TEXT.sub("-", name.strip().lower()).strip("-_")[:56] or "camera"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def with_user(url: str, user: str) -> str:
    """``url`` with ``user`` as its user name (none when empty), its password dropped."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return url
    if not parts.scheme or not host:
        return url  # a file path, or not a URL a user name goes into
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}@{host}{port}" if user else f"{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class CameraDialog(QDialog):
    """Add a camera (``row`` None) or edit ``row``. ``probe(url, password, env)`` checks a
    stream (blocking; run on ``client``). After :meth:`exec` accepted, :attr:`change` is
    what to carry out."""

    def __init__(
        self,
        client: QueryClient,
        probe: ProbeFn,
        taken_ids: set[str],
        row: CameraRow | None = None,
        parent: QWidget | None = None,
        *,
        discover: DiscoverFn | None = None,
        read_onvif: ReadOnvifFn | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a camera" if row is None else f"Camera {row.name}")
        self._probe = probe
        self._discover = discover
        self._read_onvif = read_onvif
        self.found: list[DiscoveredDevice] = []
        self.device: OnvifDevice | None = None
        self._row = row
        self._taken = taken_ids - ({row.id} if row is not None else set())
        self.change: CameraChange | None = None
        self.probed: StreamProbe | None = None
        self._probed_for: tuple[str, str, str] | None = None  # what the last check checked

        layout = QVBoxLayout(self)
        # ONVIF: find the cameras on the network, read one's streams into the address.
        find_row = QHBoxLayout()
        self.find_button = QPushButton("Find cameras on the network", self)
        self.find_button.setToolTip(
            "Ask the local network for ONVIF cameras (WS-Discovery, a few seconds)"
        )
        self.find_button.clicked.connect(self._on_find)
        self.found_combo = QComboBox(self)
        self.found_combo.setMinimumWidth(260)
        self.found_combo.setEnabled(False)
        self.read_button = QPushButton("Read its streams", self)
        self.read_button.setToolTip(
            "Read the chosen camera's maker, model and streams over ONVIF with the user and "
            "password below"
        )
        self.read_button.clicked.connect(self._on_read)
        find_row.addWidget(self.find_button)
        find_row.addWidget(self.found_combo, 1)
        find_row.addWidget(self.read_button)
        if discover is None or read_onvif is None:
            self.find_button.hide()
            self.found_combo.hide()
            self.read_button.hide()
        layout.addLayout(find_row)
        form = QFormLayout()
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("rtsp://192.0.2.10:554/stream1, http://…, or a file")
        self.url_edit.setMinimumWidth(420)
        form.addRow("Address", self.url_edit)
        self.sub_edit = QLineEdit(self)
        self.sub_edit.setPlaceholderText(
            "optional: a smaller second stream to analyse (e.g. 640×360)"
        )
        self.sub_edit.setToolTip(
            "With a sub stream (about 640×360) the camera costs far less: it is analysed and "
            "shown on the wall, and the main stream is recorded as it comes, never decoded"
        )
        form.addRow("Sub stream", self.sub_edit)
        self.user_edit = QLineEdit(self)
        self.user_edit.setPlaceholderText("the camera's user name, if it asks for one")
        form.addRow("User", self.user_edit)

        secret = QWidget(self)
        secret_layout = QVBoxLayout(secret)
        secret_layout.setContentsMargins(0, 0, 0, 0)
        self.password_group = QButtonGroup(self)
        self.no_password = QRadioButton("No password", secret)
        self.keyring_password = QRadioButton("Password, kept in this computer's keyring", secret)
        self.password_edit = QLineEdit(secret)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(
            "typed here; stored in the OS keyring, never in the site file"
        )
        self.env_password = QRadioButton("Password from an environment variable", secret)
        self.env_edit = QLineEdit(secret)
        self.env_edit.setPlaceholderText("e.g. GATE_CAMERA_PASSWORD (set where the engine runs)")
        for button, value in (
            (self.no_password, NO_PASSWORD),
            (self.keyring_password, KEYRING),
            (self.env_password, ENVIRONMENT),
        ):
            button.setProperty("source", value)
            self.password_group.addButton(button)
        for widget in (
            self.no_password,
            self.keyring_password,
            self.password_edit,
            self.env_password,
            self.env_edit,
        ):
            secret_layout.addWidget(widget)
        self.password_group.buttonToggled.connect(lambda *_: self._update())
        form.addRow("Password", secret)
        layout.addLayout(form)

        check_row = QHBoxLayout()
        self.check_button = QPushButton("Check the stream", self)
        self.check_button.setToolTip(
            "Connect and read a few seconds of video: codec, size, frame rate, bitrate"
        )
        self.check_button.clicked.connect(self._on_check)
        self.strip = ActionStrip(self)
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.strip, 1)
        layout.addLayout(check_row)
        self.checking = ActionRunner(
            client,
            self.strip,
            channel="camera_setup.probe",
            update_controls=self._update,
            parent=self,
        )
        result = QHBoxLayout()
        self.snapshot = QLabel(self)
        self.snapshot.setFixedWidth(SNAPSHOT_WIDTH)
        self.snapshot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.snapshot.setText("No picture yet: check the stream")
        self.snapshot.setMinimumHeight(SNAPSHOT_WIDTH * 9 // 16)
        self.snapshot.setStyleSheet("border: 1px solid palette(mid);")
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(SUMMARY_MIN_WIDTH)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        result.addWidget(self.snapshot)
        result.addWidget(self.summary, 1)
        layout.addLayout(result)

        details = QFormLayout()
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("what people call it: Loading dock")
        self.name_edit.textEdited.connect(self._on_name_edited)
        details.addRow("Name", self.name_edit)
        self.id_edit = QLineEdit(self)
        self.id_edit.setToolTip(
            "Names the camera's recordings and history; it cannot be changed later"
        )
        details.addRow("Id", self.id_edit)
        self.recording_combo = QComboBox(self)
        for value, text in RECORDING_CHOICES:
            self.recording_combo.addItem(text, value)
        details.addRow("Recording", self.recording_combo)
        layout.addLayout(details)
        self.problem_label = QLabel(self)
        self.problem_label.setWordWrap(True)
        show_as_error(self.problem_label)
        self.problem_label.hide()
        layout.addWidget(self.problem_label)
        self.unchecked_box = QCheckBox("Save without checking (the camera is off now)", self)
        self.unchecked_box.toggled.connect(lambda _on: self._update())
        layout.addWidget(self.unchecked_box)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.url_edit.textChanged.connect(lambda _t: self._update())
        self.sub_edit.textChanged.connect(lambda _t: self._update())
        self.user_edit.textChanged.connect(lambda _t: self._update())
        self.env_edit.textChanged.connect(lambda _t: self._update())
        self.password_edit.textChanged.connect(lambda _t: self._update())
        self.id_edit.textChanged.connect(lambda _t: self._update())
        self._fill(row)
        self._update()

    def _fill(self, row: CameraRow | None) -> None:
        if row is None:
            self.no_password.setChecked(True)
            return
        self.url_edit.setText(with_user(row.url, ""))
        self.sub_edit.setText(with_user(row.sub_url, "") if row.sub_url else "")
        self.user_edit.setText(row.user)
        self.name_edit.setText(row.name)
        self.id_edit.setText(row.id)
        self.id_edit.setReadOnly(True)
        self.recording_combo.setCurrentIndex(0 if row.continuous else 1)
        if row.password == KEYRING:
            self.keyring_password.setChecked(True)
            self.password_edit.setPlaceholderText(
                "kept in the keyring; type a new one only to change it"
            )
        elif row.password == ENVIRONMENT:
            self.env_password.setChecked(True)
            self.env_edit.setText(row.password_env or "")
        else:
            self.no_password.setChecked(True)

    # -- what was typed ----------------------------------------------------------------------
    def source(self) -> str:
        button = self.password_group.checkedButton()
        return str(button.property("source")) if button is not None else NO_PASSWORD

    def url(self) -> str:
        """The address as the site file will hold it: with the user, never a password."""
        return with_user(self.url_edit.text().strip(), self.user_edit.text().strip())

    def sub_url(self) -> str:
        """The sub stream's address as the site file will hold it ("" for none)."""
        text = self.sub_edit.text().strip()
        return with_user(text, self.user_edit.text().strip()) if text else ""

    def _check_key(self) -> tuple[str, str, str]:
        return (
            f"{self.url()} {self.sub_url()}",
            self.source(),
            self.password_edit.text() + self.env_edit.text(),
        )

    def _update(self) -> None:
        source = self.source()
        self.password_edit.setEnabled(source == KEYRING)
        self.env_edit.setEnabled(source == ENVIRONMENT)
        busy = self.checking.is_busy()
        self.check_button.setText(
            "Check the streams" if self.sub_edit.text().strip() else "Check the stream"
        )
        self.check_button.setEnabled(bool(self.url_edit.text().strip()) and not busy)
        self.find_button.setEnabled(not busy)
        self.found_combo.setEnabled(bool(self.found) and not busy)
        self.read_button.setEnabled(bool(self.found) and not busy)
        checked = self._probed_for == self._check_key() and self.probed is not None
        unchanged = (
            self._row is not None
            and self._check_key()[:2]
            == (
                f"{with_user(self._row.url, self._row.user)} "
                f"{with_user(self._row.sub_url, self._row.user) if self._row.sub_url else ''}",
                self._row.password or NO_PASSWORD,
            )
            and not self.password_edit.text()
        )
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(
            not busy
            and bool(self.url_edit.text().strip())
            and bool(self.id_edit.text().strip())
            and (checked or unchanged or self.unchecked_box.isChecked())
        )

    def _on_name_edited(self, name: str) -> None:
        if self._row is None:  # a new camera's id follows its name until typed over
            self.id_edit.setText(suggested_id(name, self._taken))

    # -- ONVIF ---------------------------------------------------------------------------
    def _on_find(self) -> None:
        discover = self._discover
        if discover is None:
            return
        self.checking.run(
            "asking the network for ONVIF cameras (a few seconds)…",
            discover,
            self._on_found,
            failure="cannot look for cameras",
        )

    def _on_found(self, found: list[DiscoveredDevice]) -> None:
        self.found = list(found)
        self.found_combo.clear()
        for device in self.found:
            host = urlsplit(device.xaddrs[0]).hostname if device.xaddrs else device.responder
            words = " — ".join(printable(w) for w in (device.name, device.hardware) if w)
            self.found_combo.addItem(f"{words or 'ONVIF camera'} ({host})")
        count = len(self.found)
        self.strip.show_status(
            f"{count} camera{'s' if count != 1 else ''} answered: choose one, then Read its streams"
            if count
            else "No ONVIF camera answered: type its address below"
        )
        self._update()

    def _on_read(self) -> None:
        read = self._read_onvif
        index = self.found_combo.currentIndex()
        if read is None or not 0 <= index < len(self.found):
            return
        device = self.found[index]
        address = device.xaddrs[0] if device.xaddrs else device.responder
        user = self.user_edit.text().strip() or None
        source = self.source()
        password = self.password_edit.text() if source == KEYRING else None
        env = self.env_edit.text().strip() if source == ENVIRONMENT else None
        self.checking.run(
            "reading the camera over ONVIF…",
            lambda: read(address, user, password, env),
            lambda result: self._on_read_done(device, result),
            failure="cannot read the camera",
        )

    def _on_read_done(self, found: DiscoveredDevice, device: OnvifDevice) -> None:
        self.device = device
        if not device.profiles:
            self.strip.show_status("The camera gives no video profiles")
            return
        main, sub = main_and_sub(device.profiles)
        if main.stream_uri:
            self.url_edit.setText(with_user(main.stream_uri, ""))
        if sub is not None and sub.stream_uri:
            self.sub_edit.setText(with_user(sub.stream_uri, ""))
        if not self.name_edit.text().strip():
            name = found.name or " ".join(w for w in (device.manufacturer, device.model) if w)
            self.name_edit.setText(name)
            self._on_name_edited(name)
        maker = " ".join(w for w in (device.manufacturer, device.model) if w)
        lines = [f"{printable(maker) or 'ONVIF camera'}, firmware {printable(device.firmware)}"]
        lines.append(f"Recorded (main): {printable(main.summary())}")
        if sub is not None:
            lines.append(f"Analysed and on the wall (sub): {printable(sub.summary())}")
        self.summary.setText("\n\n".join(lines))
        self.strip.show_status(f"Read: now {self.check_button.text().lower()}")
        self._update()

    # -- the check ----------------------------------------------------------------------
    def _on_check(self) -> None:
        url, source = self.url(), self.source()
        password = self.password_edit.text() if source == KEYRING else None
        if source == KEYRING and not password and self._row is not None:
            password = None  # kept in the keyring: the engine's probe reads it there
        env = self.env_edit.text().strip() if source == ENVIRONMENT else None
        key = self._check_key()
        probe = self._probe
        sub = self.sub_url()
        self.probed = None

        def both() -> tuple[StreamProbe, StreamProbe | None]:
            return probe(url, password, env), probe(sub, password, env) if sub else None

        self.checking.run(
            "checking the stream (a few seconds)…",
            both,
            lambda result: self._on_checked(key, *result),
            failure="the stream cannot be used",
        )

    def _on_checked(
        self, key: tuple[str, str, str], probe: StreamProbe, sub: StreamProbe | None = None
    ) -> None:
        self.probed, self._probed_for = probe, key
        lines = [f"Main: {probe.summary()}" if sub is not None else probe.summary()]
        if sub is not None:
            lines.append(f"Sub (analysed, shown on the wall): {sub.summary()}")
            if not probe.recordable:
                self.probed = None  # not savable as it is
                lines.append(
                    f"The main stream is {probe.codec_name}: with a sub stream it must be "
                    "H.264 or H.265 (it is recorded without being decoded)."
                )
        elif not probe.recordable:
            lines.append(
                f"{probe.codec_name} is re-encoded to H.264 to be recorded (an H.264 or "
                "H.265 stream is recorded as it comes, for less CPU)."
            )
        lines += [printable(note) for note in probe.notes]
        self.summary.setText("\n\n".join(lines))
        if probe.snapshot_jpeg is not None:
            image = QImage.fromData(probe.snapshot_jpeg)  # a JPEG (read by its signature)
            if not image.isNull():
                self.snapshot.setPixmap(
                    QPixmap.fromImage(image).scaledToWidth(
                        SNAPSHOT_WIDTH, Qt.TransformationMode.SmoothTransformation
                    )
                )
        works = "The stream works" if sub is None else "Both streams work"
        unusable = "The main stream cannot be recorded: see below"
        self.strip.show_status(works if self.probed is not None else unusable)
        self._update()

    # -- saving --------------------------------------------------------------------------
    def _on_save(self) -> None:
        problem = self._problem()
        if problem:
            self.problem_label.setText(problem)
            self.problem_label.show()
            return
        self.change = self._change()
        self.accept()

    def _problem(self) -> str:
        camera_id = self.id_edit.text().strip()
        if self._row is None and camera_id in self._taken:
            return f"A camera {camera_id!r} is already there: give this one another id."
        source = self.source()
        variable = self.env_edit.text().strip()
        if source == ENVIRONMENT and not ENV_NAME.fullmatch(variable):
            return "Give the environment variable's name (letters, digits and _)."
        keep = self._row is not None and self._row.password == KEYRING
        if source == KEYRING and not self.password_edit.text() and not keep:
            return "Type the password (it is kept in the OS keyring), or choose No password."
        return ""

    def _change(self) -> CameraChange:
        source = self.source()
        fields: dict[str, Any] = {"url": self.url()}
        name = self.name_edit.text().strip()
        row = self._row
        sub = self.sub_url()
        if sub and (row is None or sub != (row.sub_url or "")):
            fields["sub_url"] = sub
        if name and (row is None or name != row.name):
            fields["name"] = name
        elif row is not None and not name:
            fields.pop("name", None)
        removed: list[str] = []
        if source == KEYRING:
            fields["password_keyring"] = True
            removed.append("password_env")
        elif source == ENVIRONMENT:
            fields["password_env"] = self.env_edit.text().strip()
            removed.append("password_keyring")
        else:
            removed += ["password_env", "password_keyring"]
        continuous = self.recording_combo.currentData() == "continuous"
        if row is None or continuous != row.continuous:
            fields["recording"] = {"continuous": continuous}
        password = self.password_edit.text() if source == KEYRING else None
        if row is not None and row.sub_url and not sub:
            removed.append("sub_url")
        if row is not None:
            # Only what changed: the file keeps everything else as the admin wrote it.
            if fields.get("url") == with_user(row.url, row.user):
                fields.pop("url")
            if source == (row.password or NO_PASSWORD):
                fields.pop("password_keyring", None)
                if fields.get("password_env") == row.password_env:
                    fields.pop("password_env", None)
                removed = [key for key in removed if key == "sub_url"]
            password = password or None
        return CameraChange(
            "add" if row is None else "edit",
            self.id_edit.text().strip(),
            fields,
            tuple(removed) if row is not None else (),
            password=password,
            probe=False,  # checked here already, or the admin said the camera is off
        )
