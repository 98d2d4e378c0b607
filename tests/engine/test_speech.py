"""Speech: names people give when they introduce themselves, from real audio (the shared
test set), through the real Whisper recogniser (base, the default; tiny.en once), VAD and
speech service."""

from __future__ import annotations

import shutil
import struct
import subprocess
import threading
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from engine.bus import EventBus
from engine.speech.audio import SAMPLE_RATE_HZ, SpeechInputError, read_audio, to_mono_int16
from engine.speech.names import (
    MIN_UNLISTED_NAME_PROBABILITY,
    extract_name,
    load_first_names,
    similar_names,
    sound_key,
)
from engine.speech.recognise import MODELS, SpeechRecogniser, model_dir, parse_model
from engine.speech.service import NameHeard, SpeechService, names_in_file
from engine.speech.vad import split_utterances
from tests.conftest import TESTDATA

AUDIO = TESTDATA / "audio"


def manifest() -> list[tuple[str, str | None, str]]:
    rows = []
    for line in (AUDIO / "manifest.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            file, name, transcript = line.split("|", 2)
            rows.append((file, name or None, transcript))
    return rows


@pytest.fixture(scope="module")
def recogniser() -> Iterator[SpeechRecogniser]:
    with SpeechRecogniser() as loaded:
        yield loaded


# --- name extraction -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transcript", "name"),
    [
        ("Hello, my name is Sarah.", "Sarah"),
        ("hi there i'm john", "John"),
        ("HI, I’M JOHN", "John"),  # typographic apostrophe, capitals
        ("Good morning, my name's Maria, nice to meet you.", "Maria"),
        ("this is david speaking", "David"),
        ("please call me ahmed", "Ahmed"),
        ("i am oluwaseun no wait i am fatima", "Fatima"),  # no capitals: listed names only
        ("so um my name is uh sarah", "Sarah"),  # hesitations between phrase and name
        ("yeah well i'm um john hi", "John"),
        ("This is David Beacon.", "David"),  # a first name then more
    ],
)
def test_introduced_names_are_extracted(transcript: str, name: str) -> None:
    assert extract_name(transcript) == name


@pytest.mark.parametrize(
    ("transcript", "name"),
    [
        ("Hi, I'm Oluwaseun.", "Oluwaseun"),
        ("My name is Wanjiru, nice to meet you.", "Wanjiru"),
        ("Good evening, I'm Chinedu, here for the night shift.", "Chinedu"),
        ("I'm, um, Wojciech.", "Wojciech"),
        ("This is Thabo speaking.", "Thabo"),
        ("Please call me Jean-Luc.", "Jean-Luc"),
        ("Hello, I'm Dr. Okafor.", "Okafor"),  # a title before the name
        ("I'm Will.", "Will"),  # a word that is also a name, written as one
    ],
)
def test_a_capitalised_name_not_in_the_list_is_taken_after_an_introduction(
    transcript: str, name: str
) -> None:
    """Before: only the 561 listed first names were taken; "I'm Oluwaseun" named nobody."""
    assert name.lower() not in load_first_names()
    assert extract_name(transcript) == name


@pytest.mark.parametrize(
    "transcript",
    [
        # Whisper base's transcript of espeak-ng saying "My name is on the visitor list."
        "My name is Manda B. Little It.",
        # held out: written for this rule, not heard in the benchmark's sets
        "I'm Adaeze J. Pod Castle.",
        "Hi, this is Oyelaran Kay Tee Lo.",
        "Call me Zuberi Ann Della.",
        "My name is Tafadzwa R.",
    ],
)
def test_an_unlisted_name_followed_by_initials_or_more_fragments_is_not_taken(
    transcript: str,
) -> None:
    """Whisper writes sounds it cannot make into words as capitalised fragments and
    initials. Before: "My name is on the visitor list" named "Manda"."""
    assert extract_name(transcript) is None


@pytest.mark.parametrize(
    "transcript",
    [
        # Whisper tiny.en's transcript of flite's kal saying "My name is on the visitor list."
        "My name is Don't revisit our list.",
        "I'm Can't remember.",  # held out
        "This is We'll see about that.",
        "Call me They're here.",
    ],
)
def test_a_contraction_is_no_name(transcript: str) -> None:
    """Before: "My name is Don't revisit our list." named "Don't"."""
    assert extract_name(transcript) is None


@pytest.mark.parametrize(
    ("transcript", "name"),
    [("Hi, I'm D'Angelo.", "D'Angelo"), ("This is O'Shea speaking.", "O'Shea")],
)
def test_a_name_with_an_apostrophe_is_taken(transcript: str, name: str) -> None:
    assert extract_name(transcript) == name


@pytest.mark.parametrize(
    ("transcript", "name"),
    [
        ("Hi, I'm Oluwaseun Adeyemi.", "Oluwaseun"),  # one surname is fine
        ("My name is Wanjiru, I work in maintenance.", "Wanjiru"),  # "I" is no initial
        ("This is Thabo, Reception, can you hear me?", "Thabo"),  # a comma ends the name
        ("This is Mary J. Blige.", "Mary"),  # a listed name, whatever follows
        ("Hello, I'm Dr. Okafor Chukwuma.", "Okafor"),
    ],
)
def test_a_name_with_a_surname_or_a_clause_after_it_is_still_taken(
    transcript: str, name: str
) -> None:
    assert extract_name(transcript) == name


def test_an_unlisted_name_whisper_was_unsure_of_is_not_taken() -> None:
    """With the recogniser's word probabilities, an unlisted name below
    ``MIN_UNLISTED_NAME_PROBABILITY`` is not taken; a listed one is, however unsure."""
    low = MIN_UNLISTED_NAME_PROBABILITY / 2
    sure = {"Oluwaseun": 0.9, "Sarah": 0.9}
    unsure = {"Oluwaseun": low, "Sarah": low}
    assert extract_name("Hi, I'm Oluwaseun.", word_probabilities=sure) == "Oluwaseun"
    assert extract_name("Hi, I'm Oluwaseun.", word_probabilities=unsure) is None
    assert extract_name("Hi, I'm Sarah.", word_probabilities=unsure) == "Sarah"
    assert extract_name("Hi, I'm Oluwaseun.", word_probabilities={}) == "Oluwaseun"


@pytest.mark.parametrize(
    "transcript",
    [
        "I'm fine",
        "this is the front door",
        "call me later",
        "this is great",
        "I am here",
        "I'm fine, thank you.",
        "This is the front door.",
        "Call me later tonight.",
        "I am here to fix the heating.",
        "The package arrived at the front door this morning.",
        "John is at the door",  # a name, but no introduction
        "my name is",
        "",
        "This is Reception, how can I help?",  # capitalised, but a place
        "I'm English.",  # capitalised, but a nationality
        "This is BBC News.",  # an acronym
        "This is Sarah's desk.",  # a possessive introduces nobody
        "Call me. Later we can talk.",  # the sentence ended after the phrase
        "My name is on the visitor list.",
        "i am oluwaseun",  # no capitals to tell a name from a word: only listed names
    ],
)
def test_ordinary_sentences_give_no_name(transcript: str) -> None:
    assert extract_name(transcript) is None


def test_a_listed_name_spelled_by_its_sound_finds_the_listed_spellings() -> None:
    known = load_first_names()
    assert sound_key("Demetri") == sound_key("Dmitri") == sound_key("Dimitri")
    assert set(similar_names("Demetri", known)) == {"Dmitri", "Dimitri"}
    assert similar_names("Laila", known)[:3] == ("Layla", "Leila", "Lila")
    assert similar_names("Imeka", known) == ("Emeka",)
    assert similar_names("Naka", known) == ()  # Nick sounds alike, but is spelled too far
    assert similar_names("Sarah", known) == ()  # listed itself
    assert similar_names("Oluwaseun", known) == ()


def test_the_first_names_list_is_shipped_and_large() -> None:
    names = load_first_names()
    assert len(names) >= 1000  # many languages, not 561 mostly English names
    assert names["sarah"] == "Sarah" and names["ahmed"] == "Ahmed"
    assert {"siobhan", "hiroshi", "kwame", "mehmet", "priya"} <= names.keys()
    assert not {"fine", "here", "great", "later", "the"} & names.keys()


# --- audio input -----------------------------------------------------------------------


def test_a_wav_at_another_rate_and_in_stereo_is_read_as_16_khz_mono(tmp_path: Path) -> None:
    samples = read_audio(AUDIO / "intro_4.wav")
    resampled = np.repeat(samples, 3)  # 48 kHz of the same sound (crudely)
    path = tmp_path / "stereo48k.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48_000)
        wav.writeframes(np.stack([resampled, resampled], axis=1).astype("<i2").tobytes())
    read = read_audio(path)
    assert read.dtype == np.int16
    assert abs(read.size - samples.size) <= 2


def _write_flac(samples: np.ndarray, path: Path) -> Path:
    """``samples`` (16 kHz mono int16) as a FLAC file at ``path``, encoded with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("flac", rate=SAMPLE_RATE_HZ, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE_HZ
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_a_compressed_file_is_decoded_and_recognised(
    tmp_path: Path, recogniser: SpeechRecogniser
) -> None:
    samples = read_audio(AUDIO / "intro_4.wav")
    path = _write_flac(samples, tmp_path / "intro_4.flac")
    assert abs(read_audio(path).size - samples.size) < SAMPLE_RATE_HZ // 10
    assert (
        names_in_file(path, recogniser).name
        == names_in_file(AUDIO / "intro_4.wav", recogniser).name
    )


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"", "empty"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "corrupt WAV"),
        (b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunkjunkjunkjunkjunkjunk", "corrupt WAV"),
        (b"Hello, my name is Sarah. This is a text file, not audio.\n" * 20, "not an audio"),
    ],
    ids=["empty", "truncated-wav", "corrupt-wav", "text"],
)
def test_bad_files_are_refused_with_the_file_named(
    tmp_path: Path, content: bytes, complaint: str
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(SpeechInputError) as raised:
        read_audio(path)
    assert str(path) in str(raised.value)
    assert complaint in str(raised.value)


def test_a_missing_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(SpeechInputError, match="no such file"):
        read_audio(tmp_path / "nowhere.wav")


def test_a_wav_with_no_samples_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "silent.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE_HZ)
    with pytest.raises(SpeechInputError, match="no audio"):
        read_audio(path)


# --- recognition on the shared set -------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "name", "transcript"), [pytest.param(*row, id=row[0]) for row in manifest()]
)
def test_every_file_of_the_shared_set(
    recogniser: SpeechRecogniser, file: str, name: str | None, transcript: str
) -> None:
    """Before (pocketsphinx): 1 of 5 names (Sarah → Aaron, John → Ali, …)."""
    result = names_in_file(AUDIO / file, recogniser)
    assert result.transcript, f"{file}: nothing recognised"
    assert result.pass_used == "base"
    assert result.confidence is not None and 0.3 < result.confidence <= 1.0
    assert result.audio_s == pytest.approx(len(read_audio(AUDIO / file)) / SAMPLE_RATE_HZ)
    assert result.name == name, f"{file}: said {transcript!r}, heard {result.transcript!r}"


def test_whisper_writes_capitals_and_punctuation(recogniser: SpeechRecogniser) -> None:
    result = names_in_file(AUDIO / "intro_2.wav", recogniser)
    assert result.transcript == "Hi there, I'm John."


def test_the_smaller_model_is_chosen_by_name_and_hears_an_introduction() -> None:
    assert parse_model("tiny") == "tiny.en" and parse_model("Base") == "base"
    assert set(MODELS) == {"base", "tiny.en"}
    assert all((model_dir(model) / "model.bin").is_file() for model in MODELS)
    with SpeechRecogniser("tiny.en") as tiny:
        result = names_in_file(AUDIO / "intro_1.wav", tiny)
    assert result.name == "Sarah" and result.pass_used == "tiny.en"


def test_an_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match=r"expected one of base, tiny\.en"):
        parse_model("large-v3")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng synthesises the clip")
def test_a_listed_name_whisper_spells_by_sound_is_written_as_listed(
    tmp_path: Path, recogniser: SpeechRecogniser
) -> None:
    """Whisper base writes "Demetri" for this voice's Dmitri; the listed spellings that
    sound alike are offered back to it and one is taken. Before: "Demetri"."""
    path = tmp_path / "dmitri.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-029", "-s", "130", "-w", str(path), "My name is Dmitri."],
        check=True,
        capture_output=True,
    )
    result = recogniser.recognise(read_audio(path))
    assert result.respelled_from == "Demetri", result.transcript
    assert result.name in {"Dmitri", "Dimitri"}
    assert result.name in result.transcript


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng synthesises the clip")
def test_my_name_is_on_the_visitor_list_names_nobody(
    tmp_path: Path, recogniser: SpeechRecogniser
) -> None:
    """Whisper base hears this voice say "My name is Manda B. Little It."; before, that
    named "Manda"."""
    path = tmp_path / "visitor_list.wav"
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "en+f4",
            "-s",
            "175",
            "-w",
            str(path),
            "My name is on the visitor list.",
        ],
        check=True,
        capture_output=True,
    )
    result = recogniser.recognise(read_audio(path))
    assert result.transcript.lower().startswith("my name is")
    assert result.name is None, result.transcript


def test_each_word_comes_with_whispers_probability(recogniser: SpeechRecogniser) -> None:
    result = recogniser.recognise(read_audio(AUDIO / "intro_4.wav"))
    words = dict(result.words)
    # the transcript's words, punctuation left out (base hears "This is David Beaking.")
    assert [word for word, _p in result.words] == result.transcript.rstrip(".").split()
    assert [word for word, _p in result.words][:3] == ["This", "is", "David"]
    assert all(0.0 < p <= 1.0 for p in words.values())
    assert words["David"] > 0.5


def test_silence_and_hiss_are_heard_as_nothing(recogniser: SpeechRecogniser) -> None:
    hiss = np.random.default_rng(5).normal(0, 30, SAMPLE_RATE_HZ * 3).astype(np.int16)
    for samples in (np.zeros(SAMPLE_RATE_HZ * 2, np.int16), hiss):
        result = recogniser.recognise(samples)
        assert result.name is None


def test_a_closed_recogniser_says_so() -> None:
    recogniser = SpeechRecogniser()
    recogniser.close()
    with pytest.raises(RuntimeError, match="closed"):
        recogniser.recognise(read_audio(AUDIO / "intro_4.wav"))


# --- voice activity detection and the service --------------------------------------------


def _chunks(samples: np.ndarray, size: int = 1600) -> list[np.ndarray]:
    return [samples[i : i + size] for i in range(0, samples.size, size)]


def test_vad_splits_two_utterances_separated_by_silence() -> None:
    first = read_audio(AUDIO / "intro_1.wav")
    second = read_audio(AUDIO / "intro_4.wav")
    rng = np.random.default_rng(3)
    hiss = rng.normal(0, 20, SAMPLE_RATE_HZ * 2).astype(np.int16)  # 2 s of room noise
    stream = np.concatenate([hiss, first, hiss, second, hiss])
    utterances = list(split_utterances(_chunks(stream)))
    assert len(utterances) == 2
    # Each starts shortly before its speech (the files lead with 0.3 s of silence).
    first_speech = 2.0 + 0.3
    second_speech = 2.0 + first.size / SAMPLE_RATE_HZ + 2.0 + 0.3
    assert utterances[0].start_s == pytest.approx(first_speech, abs=0.3)
    assert utterances[1].start_s == pytest.approx(second_speech, abs=0.3)
    assert all(0.8 < u.duration_s < 4.0 for u in utterances)


def test_vad_finds_nothing_in_silence_and_hiss() -> None:
    hiss = np.random.default_rng(4).normal(0, 30, SAMPLE_RATE_HZ * 5).astype(np.int16)
    assert list(split_utterances(_chunks(np.concatenate([np.zeros(8000, np.int16), hiss])))) == []


def test_the_service_publishes_name_heard_from_a_files_chunks(
    recogniser: SpeechRecogniser,
) -> None:
    bus = EventBus()
    heard: list[NameHeard] = []
    got = threading.Event()

    def on_name_heard(event: NameHeard) -> None:
        heard.append(event)
        got.set()

    bus.subscribe(NameHeard, on_name_heard)
    service = SpeechService(bus, "mic-door", camera="door", recogniser=recogniser)
    service.start()
    samples = read_audio(AUDIO / "intro_4.wav")
    captured = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    try:
        # A 48 kHz float source, as a sound card delivers it, in 100 ms chunks.
        as_float = np.repeat(samples.astype(np.float32) / 32768.0, 3)
        for index, chunk in enumerate(_chunks(as_float, 4800)):
            assert service.push(chunk, 48_000, captured + timedelta(seconds=index * 0.1))
        service.push(np.zeros(48_000, np.int16), 48_000, captured + timedelta(seconds=5))
        assert got.wait(30), "no name heard"
    finally:
        service.stop()
    event = heard[0]
    assert event.name == "David"
    assert event.camera == "door" and event.microphone == "mic-door"
    assert captured <= event.at < captured + timedelta(seconds=1)
    record = event.record()
    assert record.kind == "speech.name_heard"
    assert record.source == "camera:door"
    assert record.detail["name"] == "David"
    assert record.detail["microphone"] == "mic-door"
    assert record.detail["pass"] == "base"
    assert "David" in record.detail["transcript"]
    assert 0.3 < record.detail["confidence"] <= 1.0


def test_a_microphone_without_a_camera_is_the_events_source() -> None:
    event = NameHeard(
        at=datetime(2026, 5, 1, tzinfo=UTC),
        name="Sarah",
        transcript="My name is Sarah.",
        pass_used="base",
        confidence=None,
        microphone="desk",
    )
    assert event.record().source == "microphone:desk"


def test_chunks_of_any_shape_become_mono_int16() -> None:
    tone = np.array([0, 1000, -1000, 32767], dtype=np.int16)
    assert to_mono_int16(tone).tolist() == tone.tolist()
    stereo = np.stack([tone, np.zeros_like(tone)], axis=1)  # int16 frames × channels
    assert to_mono_int16(stereo).tolist() == [0, 500, -500, 16384]
    floats = np.stack([tone / 32767.0, tone / 32767.0], axis=1).astype(np.float32)
    assert np.abs(to_mono_int16(floats).astype(int) - tone.astype(int)).max() <= 1


def _sparse_wav(path: Path, data_bytes: int, channels: int = 1, rate: int = 16_000) -> Path:
    """A PCM WAV whose header declares ``data_bytes`` of 16-bit samples, the file sparse
    (zeros the disk does not hold): hours of "audio" in a moment."""
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )
    with path.open("wb") as file:
        file.write(header)
        file.truncate(len(header) + data_bytes)
    return path


def test_audio_longer_than_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """Before: a 1 GiB WAV (9 h 19 min) was read whole, 3.3 GB of memory for `speech names`
    and 20 s; a WAV of many channels multiplies that. Now refused from its header."""
    long = _sparse_wav(tmp_path / "long.wav", 1 << 30)
    with pytest.raises(SpeechInputError, match=r"long\.wav: .*9 h 19 min.*longer than 10 min"):
        read_audio(long)
    wide = _sparse_wav(tmp_path / "wide.wav", 1 << 30, channels=1024)
    with pytest.raises(SpeechInputError, match=r"wide\.wav: .*longer than 10 min"):
        read_audio(wide)


def test_a_compressed_file_longer_than_the_limit_stops_decoding_there(tmp_path: Path) -> None:
    samples = read_audio(AUDIO / "intro_4.wav")
    path = _write_flac(samples, tmp_path / "intro_4.flac")
    limit_s = samples.size / SAMPLE_RATE_HZ / 2
    with pytest.raises(SpeechInputError, match=r"intro_4\.flac: longer than"):
        read_audio(path, max_s=limit_s)
    assert read_audio(path, max_s=2 * limit_s + 1).size > 0
