"""Microphones of the cameras that have one (``microphone = "default"`` or part of an input
device's name in the site file), captured with QtMultimedia and handed to the engine's
speech service.

Capture runs in Qt's audio backend; the ``readyRead`` handler on the GUI thread only copies
the bytes that arrived, converts them to 16-bit mono and passes them to ``sink`` (which
queues them for the speech worker: it never blocks). Each camera's microphone has a status a
person can read ("listening on …", "no microphone on this computer", "no input device
matches 'usb'; inputs: …", "stopped: …"); the console shows it, so a room without sound is
never silently deaf.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QIODevice, QObject, Signal
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSource, QMediaDevices, QtAudio

log = logging.getLogger(__name__)

SPEECH_RATE_HZ = 16_000  # what the recogniser wants; other rates are resampled by the engine
BUFFER_S = 0.5  # the audio backend buffers this much before the GUI thread takes it

# (camera, samples int16 mono, sample rate, when the first sample was heard)
AudioSink = Callable[[str, npt.NDArray[np.int16], int, datetime], None]


@dataclass(frozen=True, slots=True)
class MicrophoneStatus:
    """One camera's microphone: ``listening`` and a sentence for the operator."""

    camera: str
    listening: bool
    detail: str


def find_input(wanted: str, inputs: Sequence[QAudioDevice]) -> QAudioDevice | None:
    """The input device ``wanted`` names: ``default`` is the system's default input (else
    the first one), anything else the first whose description contains it (any case)."""
    if not inputs:
        return None
    if wanted.strip().lower() == "default":
        default = QMediaDevices.defaultAudioInput()
        return default if not default.isNull() else inputs[0]
    needle = wanted.strip().casefold()
    return next((d for d in inputs if needle in d.description().casefold()), None)


def to_mono_int16(data: bytes, audio_format: QAudioFormat) -> npt.NDArray[np.int16]:
    """Raw interleaved samples in ``audio_format`` as 16-bit mono (channels averaged)."""
    sample = audio_format.sampleFormat()
    channels = max(1, audio_format.channelCount())
    if sample == QAudioFormat.SampleFormat.Int16:
        values = np.frombuffer(data, dtype=np.int16).astype(np.float32)
    elif sample == QAudioFormat.SampleFormat.Int32:
        values = np.frombuffer(data, dtype=np.int32).astype(np.float32) / 65536.0
    elif sample == QAudioFormat.SampleFormat.Float:
        values = np.frombuffer(data, dtype=np.float32) * 32767.0
    elif sample == QAudioFormat.SampleFormat.UInt8:
        values = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) * 256.0
    else:
        raise ValueError(f"audio format: unsupported sample format {sample}")
    usable = len(values) - len(values) % channels
    frames = values[:usable].reshape(-1, channels).mean(axis=1)
    result: npt.NDArray[np.int16] = np.clip(np.round(frames), -32768, 32767).astype(np.int16)
    return result


class _Capture(QObject):
    """One camera's open microphone (GUI thread)."""

    def __init__(
        self,
        camera: str,
        device: QAudioDevice,
        sink: AudioSink,
        now: Callable[[], datetime],
        on_stopped: Callable[[str, str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.camera = camera
        self.device = device
        self._sink = sink
        self._now = now
        self._on_stopped = on_stopped
        wanted = QAudioFormat()
        wanted.setSampleRate(SPEECH_RATE_HZ)
        wanted.setChannelCount(1)
        wanted.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self.format = wanted if device.isFormatSupported(wanted) else device.preferredFormat()
        self._source = QAudioSource(device, self.format, self)
        self._source.setBufferSize(int(self.format.bytesForDuration(int(BUFFER_S * 1_000_000))))
        self._source.stateChanged.connect(self._on_state)
        self._io: QIODevice | None = None

    def start(self) -> None:
        self._io = self._source.start()
        if self._io is not None:
            self._io.readyRead.connect(self._on_ready)

    def stop(self) -> None:
        self._source.stop()

    def _on_ready(self) -> None:
        if self._io is None:
            return
        data = bytes(self._io.readAll().data())
        if not data:
            return
        samples = to_mono_int16(data, self.format)
        seconds = len(samples) / max(self.format.sampleRate(), 1)
        heard_at = self._now()
        self._sink(
            self.camera, samples, self.format.sampleRate(), heard_at - timedelta(seconds=seconds)
        )

    def _on_state(self, state: QtAudio.State) -> None:
        if state == QtAudio.State.StoppedState:
            error = self._source.error()
            if error != QtAudio.Error.NoError:
                self._on_stopped(
                    self.camera, f"stopped: {error.name} on {self.device.description()}"
                )


class Microphones(QObject):
    """Opens the microphone of every camera that names one and reports their status.

    ``wanted``: camera → the site file's ``microphone`` value. ``sink`` receives the audio
    (GUI thread; must not block). ``inputs``: the input devices to choose from (None: the
    system's, from QtMultimedia)."""

    sig_status = Signal(object)  # MicrophoneStatus

    def __init__(
        self,
        wanted: dict[str, str],
        sink: AudioSink,
        now: Callable[[], datetime],
        inputs: Sequence[QAudioDevice] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._wanted = dict(wanted)
        self._sink = sink
        self._now = now
        self._inputs = list(QMediaDevices.audioInputs() if inputs is None else inputs)
        self._captures: dict[str, _Capture] = {}
        self.statuses: dict[str, MicrophoneStatus] = {}

    def start(self) -> list[MicrophoneStatus]:
        """Open each wanted microphone; every camera gets a status (also signalled)."""
        for camera, wanted in self._wanted.items():
            device = find_input(wanted, self._inputs)
            if device is None:
                if not self._inputs:
                    detail = "no microphone on this computer: introductions are not heard"
                else:
                    names = ", ".join(d.description() for d in self._inputs)
                    detail = f"no input device matches {wanted!r} (inputs: {names})"
                self._report(camera, False, detail)
                continue
            try:
                capture = _Capture(camera, device, self._sink, self._now, self._stopped, self)
                capture.start()
            except Exception as exc:  # the backend refused the device
                log.exception("microphone of %s could not be opened", camera)
                self._report(camera, False, f"cannot open {device.description()}: {exc}")
                continue
            self._captures[camera] = capture
            self._report(camera, True, f"listening on {device.description()}")
        return list(self.statuses.values())

    def stop(self) -> None:
        for capture in self._captures.values():
            capture.stop()
        self._captures.clear()

    def _stopped(self, camera: str, detail: str) -> None:
        self._captures.pop(camera, None)
        self._report(camera, False, detail)

    def _report(self, camera: str, listening: bool, detail: str) -> None:
        status = MicrophoneStatus(camera, listening, detail)
        self.statuses[camera] = status
        if not listening:
            log.warning("microphone of camera %s: %s", camera, detail)
        self.sig_status.emit(status)
