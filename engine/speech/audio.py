"""Audio in the form the recogniser wants: 16 kHz, mono, signed 16-bit samples.

WAV files (PCM 8/16/24/32-bit) are read with the standard library; anything else (MP3, OGG,
FLAC, M4A, a video's sound track) is decoded with PyAV. A file that cannot be turned into
audio raises :class:`SpeechInputError`, whose message names the file and what was wrong.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]

SAMPLE_RATE_HZ = 16_000  # what Whisper's feature extractor expects
MIN_AUDIO_S = 0.1  # shorter than this is no speech at all: refused as empty
# Longer than this is refused: a file of introductions is seconds to minutes long, and the
# whole file is held in memory (10 min at 16 kHz is 19 MB; a 48 kHz stereo WAV of 10 min
# read whole is 115 MB). Unbounded, a 1 GiB WAV took 3.3 GB and a header may declare more.
MAX_AUDIO_S = 600.0
# A WAV's sample data is read whole: at most this much (10 min of 48 kHz, 8 channels, 32 bit
# is 737 MB, so the duration alone does not bound it when a header declares many channels).
MAX_WAV_DATA_BYTES = 256 * 1024 * 1024


class SpeechInputError(ValueError):
    """Audio that cannot be used: missing, unreadable, corrupt, empty or not audio at all.
    The message names the file (or the source) and says what was wrong."""


def read_audio(path: Path, *, max_s: float = MAX_AUDIO_S) -> Samples:
    """The whole file as 16 kHz mono int16 samples (channels averaged, resampled).

    Raises :class:`SpeechInputError` for a missing, unreadable, corrupt, silent-length
    (under ``MIN_AUDIO_S``) or non-audio file, and for one longer than ``max_s`` seconds
    (a WAV from its header, before its samples are read; anything else when decoding
    passes that point)."""
    if not path.exists():
        raise SpeechInputError(f"{path}: no such file")
    if not path.is_file():
        raise SpeechInputError(f"{path}: not a file")
    try:
        with path.open("rb") as handle:
            header = handle.read(12)
    except OSError as exc:
        raise SpeechInputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not header:
        raise SpeechInputError(f"{path}: the file is empty (0 bytes)")
    if header[:4] == b"RIFF" and header[8:12] == b"WAVE":
        samples, rate = _read_wav(path, max_s)
    else:
        samples, rate = _read_with_av(path, max_s)
    if samples.size < MIN_AUDIO_S * rate:
        raise SpeechInputError(
            f"{path}: no audio in the file ({samples.size / rate:.2f} s of samples)"
        )
    return resample(samples, rate)


def _read_wav(path: Path, max_s: float) -> tuple[Samples, int]:
    """Samples (mono int16) and the sample rate of a PCM WAV file."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            frames = wav.getnframes()
            if rate > 0 and (
                frames > max_s * rate or frames * channels * width > MAX_WAV_DATA_BYTES
            ):
                raise SpeechInputError(
                    f"{path}: {_duration_text(frames / rate)} of audio at {rate} Hz in "
                    f"{channels} channel{'s' if channels != 1 else ''}, longer than "
                    f"{_duration_text(max_s)} or {MAX_WAV_DATA_BYTES // (1024 * 1024)} MiB "
                    "of samples: cut it shorter"
                )
            raw = wav.readframes(frames)
    except (wave.Error, EOFError, RuntimeError, struct.error) as exc:  # malformed chunks
        raise SpeechInputError(f"{path}: corrupt WAV file ({exc})") from exc
    except OSError as exc:
        raise SpeechInputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if rate <= 0 or channels <= 0:
        raise SpeechInputError(f"{path}: corrupt WAV header ({channels} channels at {rate} Hz)")
    usable = len(raw) - len(raw) % (width * channels)
    if width == 1:  # 8-bit WAV is unsigned
        data = (np.frombuffer(raw[:usable], np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw[:usable], "<i2").astype(np.int16)
    elif width == 3:
        triples = np.frombuffer(raw[:usable], np.uint8).reshape(-1, 3)
        data = (triples[:, 2].astype(np.int8).astype(np.int16) << 8) | triples[:, 1]
    elif width == 4:
        data = (np.frombuffer(raw[:usable], "<i4") >> 16).astype(np.int16)
    else:
        raise SpeechInputError(f"{path}: unsupported WAV sample width ({width} bytes)")
    return _mono(data.reshape(-1, channels)), rate


def _read_with_av(path: Path, max_s: float) -> tuple[Samples, int]:
    """Decode the first audio stream of any container FFmpeg knows, as 16 kHz mono s16,
    stopping with :class:`SpeechInputError` once it passes ``max_s`` seconds."""
    import av
    import av.error

    chunks: list[Samples] = []
    limit = max_s * SAMPLE_RATE_HZ
    decoded = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise SpeechInputError(f"{path}: no audio stream in the file")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE_HZ)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
                    decoded += chunks[-1].size
                if decoded > limit:
                    raise SpeechInputError(
                        f"{path}: longer than {_duration_text(max_s)} of audio: cut it shorter"
                    )
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
    except SpeechInputError:
        raise
    except av.error.InvalidDataError as exc:
        raise SpeechInputError(f"{path}: not an audio file, or corrupt ({exc})") from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise SpeechInputError(f"{path}: cannot be decoded as audio ({exc})") from exc
    if not chunks:
        return np.zeros(0, np.int16), SAMPLE_RATE_HZ
    return np.concatenate(chunks), SAMPLE_RATE_HZ


def _duration_text(seconds: float) -> str:
    """``seconds`` as a person reads a length of audio: "9 h 19 min", "10 min", "2.5 s"."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _mono(frames: npt.NDArray[np.int16]) -> Samples:
    if frames.shape[1] == 1:
        mono: Samples = frames[:, 0].copy()
        return mono
    averaged: Samples = frames.mean(axis=1).round().astype(np.int16)
    return averaged


def to_mono_int16(samples: npt.ArrayLike) -> Samples:
    """Samples from an audio source as mono int16: int16 as is, floats in −1…1 scaled, 2-D
    arrays (frames × channels) averaged over channels."""
    array = np.asarray(samples)
    floats = array.dtype.kind == "f"  # before averaging turns integers into floats too
    if array.ndim == 2:
        array = array.mean(axis=1)
    elif array.ndim != 1:
        raise ValueError(f"audio samples must be 1-D or frames × channels, got {array.shape}")
    array = np.round(array * 32767.0) if floats else np.round(array)
    out: Samples = np.clip(array, -32768, 32767).astype(np.int16)
    return out


def resample(samples: Samples, rate_hz: int) -> Samples:
    """``samples`` at ``rate_hz`` resampled to ``SAMPLE_RATE_HZ`` (polyphase, anti-aliased)."""
    if rate_hz == SAMPLE_RATE_HZ or samples.size == 0:
        return samples
    if rate_hz <= 0:
        raise ValueError(f"sample rate must be positive, got {rate_hz}")
    from scipy.signal import resample_poly

    common = math.gcd(rate_hz, SAMPLE_RATE_HZ)
    out = resample_poly(samples.astype(np.float32), SAMPLE_RATE_HZ // common, rate_hz // common)
    resampled: Samples = np.clip(np.round(out), -32768, 32767).astype(np.int16)
    return resampled


def duration_s(samples: Samples) -> float:
    """Seconds of 16 kHz audio in ``samples``."""
    return samples.size / SAMPLE_RATE_HZ
