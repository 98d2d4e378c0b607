"""Microphones of cameras: every camera that names one gets a status a person can read (this
machine and CI have no input device, which must say so rather than stay silent), and captured
bytes in any of Qt's sample formats become 16-bit mono."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from PySide6.QtMultimedia import QAudioFormat, QMediaDevices
from pytestqt.qtbot import QtBot

from widgets.introductions.microphones import (
    Microphones,
    MicrophoneStatus,
    find_input,
    to_mono_int16,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_without_an_input_device_each_camera_says_it_hears_nothing(qtbot: QtBot) -> None:
    heard: list[object] = []
    seen: list[MicrophoneStatus] = []
    microphones = Microphones(
        {"gate": "default", "lobby": "usb"}, lambda *a: heard.append(a), lambda: T0, inputs=[]
    )
    microphones.sig_status.connect(seen.append)
    statuses = microphones.start()
    assert {s.camera for s in statuses} == {"gate", "lobby"} == {s.camera for s in seen}
    assert all(not s.listening for s in statuses)
    assert all("no microphone on this computer" in s.detail for s in statuses)
    microphones.stop()
    assert heard == []


def test_the_systems_inputs_give_every_camera_a_status(qtbot: QtBot) -> None:
    inputs = QMediaDevices.audioInputs()
    microphones = Microphones({"gate": "default"}, lambda *a: None, lambda: T0)
    (status,) = microphones.start()
    microphones.stop()
    if inputs:
        assert status.listening or "cannot open" in status.detail
    else:
        assert not status.listening and "no microphone" in status.detail
        assert find_input("default", inputs) is None


def formatted(sample: QAudioFormat.SampleFormat, channels: int) -> QAudioFormat:
    audio_format = QAudioFormat()
    audio_format.setSampleRate(48_000)
    audio_format.setChannelCount(channels)
    audio_format.setSampleFormat(sample)
    return audio_format


def test_every_sample_format_becomes_16_bit_mono() -> None:
    tone = np.array([0, 1000, -1000, 32767, -32768], dtype=np.int16)
    same = to_mono_int16(tone.tobytes(), formatted(QAudioFormat.SampleFormat.Int16, 1))
    assert same.tolist() == tone.tolist()
    stereo = np.stack([tone, np.zeros_like(tone)], axis=1).astype(np.int16)
    mixed = to_mono_int16(stereo.tobytes(), formatted(QAudioFormat.SampleFormat.Int16, 2))
    assert mixed.tolist() == [0, 500, -500, 16384, -16384]
    floats = (tone.astype(np.float32) / 32767.0).astype(np.float32)
    from_float = to_mono_int16(floats.tobytes(), formatted(QAudioFormat.SampleFormat.Float, 1))
    assert np.abs(from_float.astype(int) - tone.astype(int)).max() <= 1
    wide = tone.astype(np.int32) * 65536
    from_int32 = to_mono_int16(wide.tobytes(), formatted(QAudioFormat.SampleFormat.Int32, 1))
    assert from_int32.tolist() == tone.tolist()
    bytes_ = (tone.astype(np.int32) // 256 + 128).astype(np.uint8)
    from_uint8 = to_mono_int16(bytes_.tobytes(), formatted(QAudioFormat.SampleFormat.UInt8, 1))
    assert np.abs(from_uint8.astype(int) - tone.astype(int)).max() < 256
