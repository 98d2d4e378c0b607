"""Photos and videos attached to incident reports (engine.incidents.media): real frames of
vtest.avi and the shared test data, the real person detector and face memory."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import stat
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import func, select

from engine.clock import SimulatedClock
from engine.cv import import_cv2
from engine.identity.faces import FaceEncoder
from engine.identity.faces_store import FaceMemory
from engine.incidents.media import (
    MAX_PHOTO_BYTES,
    SIGNATURE_MAX_BYTES,
    THUMBNAIL_WIDTH_PX,
    MediaRejectedError,
    prepare_media,
    signature_of,
    similarity,
)
from engine.incidents.records import DEFAULT_MEDIA_SIMILARITY, MediaInput
from engine.store import Store
from engine.store.person_models import Person
from engine.store.writer import StoreWriter
from engine.vision.detect import PersonDetector, make_detector
from tests.actors import ADMIN
from tests.conftest import REPO, TESTDATA

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
DAY_FOLDER = "incidents/2026/11/22"
VTEST = TESTDATA / "video" / "vtest.avi"
HAMILTON = TESTDATA / "video" / "short_hamilton_clip.mp4"
FACES = TESTDATA / "faces"
GROUND_TRUTH = REPO / "tests" / "data" / "vtest_gt" / "segment.csv"
Image = np.ndarray[Any, np.dtype[np.uint8]]


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    """The cameras' default detector (YOLOv3-tiny, ~60 ms a frame), loaded once."""
    return make_detector(None, "yolov3-tiny")


def read_frames(path: Path, count: int) -> list[Image]:
    with av.open(str(path)) as container:
        return [
            np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
            for _, frame in zip(range(count), container.decode(video=0), strict=False)
        ]


@pytest.fixture(scope="module")
def vtest_frames() -> list[Image]:
    """The first 20 s of vtest.avi (10 fps), frame N as the N-th read in order (as the
    ground truth in tests/data/vtest_gt counts them)."""
    return read_frames(VTEST, 200)


@pytest.fixture(scope="module")
def hamilton_frames() -> list[Image]:
    """short_hamilton_clip.mp4: a stage and an audience, four shots, 275 frames."""
    return read_frames(HAMILTON, 275)


def data_dir(isolated: Path) -> Path:
    return isolated / "data"  # WATCHFLOOR_DATA_DIR, set by the isolated_dirs fixture


def stored_files(isolated: Path) -> list[Path]:
    root = data_dir(isolated) / "incidents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def write_image(path: Path, image: Image, *params: int) -> Path:
    cv2 = import_cv2()
    ok, encoded = cv2.imencode(path.suffix, image, list(params))
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def ground_truth_boxes(frame: int) -> list[tuple[int, int, int, int]]:
    with GROUND_TRUTH.open(newline="") as handle:
        return [
            (int(row["x"]), int(row["y"]), int(row["w"]), int(row["h"]))
            for row in csv.DictReader(handle)
            if int(row["frame"]) == frame and row["hard"] == "0"
        ]


def iou(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def people_found(media: MediaInput, truth: Sequence[tuple[int, ...]]) -> int:
    """How many ground-truth people one of the reported boxes finds (IoU ≥ 0.4)."""
    boxes = media.analysis["people"]["boxes"]
    return sum(1 for t in truth if any(iou(box, t) >= 0.4 for box in boxes))


def assert_stored(media: MediaInput, original: bytes, ext: str, isolated: Path) -> None:
    """The copy is the original byte for byte, named by its hash, private, complete (no
    temp file left), with its thumbnail beside it."""
    root = data_dir(isolated)
    digest = hashlib.sha256(original).hexdigest()
    assert (media.sha256, media.size_bytes) == (digest, len(original))
    assert media.path == f"{DAY_FOLDER}/{digest[:16]}.{ext}"
    copy = root / media.path
    assert copy.read_bytes() == original
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert media.thumbnail_path == f"{DAY_FOLDER}/{digest[:16]}.thumb.jpg"
    thumbnail = import_cv2().imread(str(root / media.thumbnail_path))
    assert thumbnail is not None and thumbnail.shape[1] == THUMBNAIL_WIDTH_PX
    assert stored_files(isolated) == sorted([copy, root / media.thumbnail_path])
    assert len(json.dumps(media.signature)) < SIGNATURE_MAX_BYTES
    json.dumps(media.analysis)  # stored as JSON as it is


# -- photos ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_photo_of_the_plaza_is_copied_and_its_pedestrians_counted(
    tmp_path: Path,
    isolated_dirs: Path,
    detector: PersonDetector,
    vtest_frames: list[Image],
    suffix: str,
) -> None:
    photo = write_image(tmp_path / f"plaza{suffix}", vtest_frames[50])
    media = prepare_media(photo, detector=detector, now=NOW)

    assert media.kind == "photo"
    assert media.analysis["format"] == {".jpg": "jpeg", ".png": "png"}[suffix]
    assert (media.analysis["width"], media.analysis["height"]) == (768, 576)
    assert media.analysis["detector"] == "yolov3-tiny"
    people = media.analysis["people"]
    truth = ground_truth_boxes(50)  # six people walk across the plaza in frame 50
    assert 4 <= people["count"] <= len(truth) + 1
    assert len(people["boxes"]) == len(people["confidences"]) == people["count"]
    assert people["confidences"] == sorted(people["confidences"], reverse=True)
    assert people_found(media, truth) >= 4
    assert media.analysis["faces"] is None  # no face memory given
    assert_stored(media, photo.read_bytes(), suffix.lstrip("."), isolated_dirs)


def test_a_large_photo_is_searched_shrunk_and_its_boxes_given_in_its_own_pixels(
    tmp_path: Path, isolated_dirs: Path, detector: PersonDetector, vtest_frames: list[Image]
) -> None:
    cv2 = import_cv2()
    big = cv2.resize(vtest_frames[50], None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    photo = write_image(tmp_path / "big.jpg", big, cv2.IMWRITE_JPEG_QUALITY, 90)
    media = prepare_media(photo, detector=detector, now=NOW)
    assert (media.analysis["width"], media.analysis["height"]) == (2304, 1728)
    truth = [tuple(3 * v for v in box) for box in ground_truth_boxes(50)]
    assert people_found(media, truth) >= 4


def test_the_kind_comes_from_the_content_not_the_name(
    tmp_path: Path, isolated_dirs: Path, detector: PersonDetector, vtest_frames: list[Image]
) -> None:
    png = write_image(tmp_path / "frame.png", vtest_frames[20])
    renamed = tmp_path / "frame.jpg"
    png.rename(renamed)
    media = prepare_media(renamed, detector=detector, now=NOW)
    assert media.analysis["format"] == "png" and media.path.endswith(".png")
    assert media.analysis["original_name"] == "frame.jpg"


# -- videos ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plaza_clip(tmp_path_factory: pytest.TempPathFactory, vtest_frames: list[Image]) -> Path:
    """Six seconds of vtest.avi (frames 100–159) cut into an H.264 MP4 with PyAV."""
    path = tmp_path_factory.mktemp("clip") / "plaza.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "20"}
        for image in vtest_frames[100:160]:
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_a_video_clip_is_analysed_on_frames_spread_over_it(
    isolated_dirs: Path, detector: PersonDetector, plaza_clip: Path, vtest_frames: list[Image]
) -> None:
    media = prepare_media(plaza_clip, detector=detector, now=NOW)

    assert media.kind == "video"
    analysis = media.analysis
    assert (analysis["format"], analysis["codec"]) == ("mp4", "h264")
    assert analysis["duration_s"] == pytest.approx(6.0, abs=0.2)
    times = analysis["frames_analysed"]
    assert 6 <= len(times) <= 8 and times == sorted(times)
    assert times[0] < 1.0 and times[-1] > 4.5  # spread over the clip, not its start
    counts = analysis["people_per_frame"]
    assert len(counts) == len(times) and min(counts) >= 3
    assert analysis["people"]["count"] == max(counts)  # the most people in one frame
    assert analysis["thumbnail_at_s"] == analysis["people"]["at_s"]
    assert times[counts.index(max(counts))] == analysis["thumbnail_at_s"]
    assert_stored(media, plaza_clip.read_bytes(), "mp4", isolated_dirs)

    # A second phone's photo of the plaza matches the video; the theatre does not.
    photo = signature_of([vtest_frames[180]])
    assert similarity(media.signature, photo) >= DEFAULT_MEDIA_SIMILARITY
    theatre = signature_of(read_frames(HAMILTON, 120)[100:101])
    assert similarity(media.signature, theatre) < DEFAULT_MEDIA_SIMILARITY


def test_an_avi_recording_is_accepted_as_it_is(
    isolated_dirs: Path, detector: PersonDetector
) -> None:
    media = prepare_media(VTEST, detector=detector, now=NOW)
    assert (media.kind, media.analysis["format"], media.analysis["codec"]) == (
        "video",
        "avi",
        "msmpeg4",
    )
    assert len(media.analysis["frames_analysed"]) == 8
    assert media.analysis["people"]["count"] >= 5
    assert len(media.signature["frames"]) == 1  # a fixed camera: one view stands for all


# -- refusals ----------------------------------------------------------------------------


def tiny_png(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width`` × ``height`` with almost no pixel data (how a
    decompression bomb starts)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def make_text_as_jpg(tmp: Path, frames: list[Image], clip: Path) -> Path:
    path = tmp / "notes.jpg"
    path.write_text("Saw two men near the gate at 9pm.\nOne had a red jacket.\n", "utf-8")
    return path


def make_truncated_jpeg(tmp: Path, frames: list[Image], clip: Path) -> Path:
    whole = write_image(tmp / "whole.jpg", frames[60]).read_bytes()
    path = tmp / "cut.jpg"
    path.write_bytes(whole[: len(whole) * 2 // 3])  # a download that stopped
    return path


def make_wav(tmp: Path, frames: list[Image], clip: Path) -> Path:
    path = tmp / "recording.mp4"  # named as a video: the content says otherwise
    shutil.copyfile(TESTDATA / "audio" / "intro_1.wav", path)
    return path


def make_empty(tmp: Path, frames: list[Image], clip: Path) -> Path:
    path = tmp / "empty.jpg"
    path.touch()
    return path


def make_missing(tmp: Path, frames: list[Image], clip: Path) -> Path:
    return tmp / "gone.jpg"


def make_truncated_video(tmp: Path, frames: list[Image], clip: Path) -> Path:
    path = tmp / "cut.mp4"
    path.write_bytes(clip.read_bytes()[:40_000])  # the index (moov) is written last
    return path


def make_too_large(tmp: Path, frames: list[Image], clip: Path) -> Path:
    path = tmp / "huge.jpg"
    with path.open("wb") as handle:  # sparse: no 50 MB written
        handle.write(write_image(tmp / "small.jpg", frames[0]).read_bytes())
        handle.truncate(MAX_PHOTO_BYTES + 1)
    return path


def make_bomb(tmp: Path, frames: list[Image], clip: Path) -> Path:
    path = tmp / "bomb.png"
    path.write_bytes(tiny_png(30_000, 30_000))
    return path


def make_strip(tmp: Path, frames: list[Image], clip: Path) -> Path:
    return write_image(tmp / "strip.png", np.zeros((100, 4000, 3), np.uint8))


def make_icon(tmp: Path, frames: list[Image], clip: Path) -> Path:
    return write_image(tmp / "icon.png", frames[0][:16, :16])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (make_text_as_jpg, "it is a text file; supported are photos: JPEG, PNG"),
        (make_truncated_jpeg, "the JPEG is truncated"),
        (make_wav, "it is a WAV audio file; supported are"),
        (make_empty, "the file is empty (0 bytes)"),
        (make_missing, "the file does not exist"),
        (make_truncated_video, "the MP4 file cannot be read as a video"),
        (make_too_large, "the photo is too large (50.0 MB); photos up to 50.0 MB"),
        (make_bomb, "the photo is 30000×30000 pixels; photos up to 200 megapixels"),
        (make_strip, "the photo is 4000×100 pixels, a strip rather than a scene"),
        (make_icon, "the photo is only 16×16 pixels; at least 32 px a side"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[5:] or None,
)
def test_files_that_cannot_be_used_are_refused_with_the_reason_and_nothing_stored(
    tmp_path: Path,
    isolated_dirs: Path,
    detector: PersonDetector,
    vtest_frames: list[Image],
    plaza_clip: Path,
    make: Callable[[Path, list[Image], Path], Path],
    reason: str,
) -> None:
    path = make(tmp_path, vtest_frames, plaza_clip)
    with pytest.raises(MediaRejectedError) as refused:
        prepare_media(path, detector=detector, now=NOW)
    assert refused.value.path == path
    assert str(refused.value).startswith(f"cannot attach {path}: ")
    assert reason in refused.value.reason
    assert stored_files(isolated_dirs) == []  # not even a temp file


def test_a_blank_frame_has_no_signature_to_compare() -> None:
    assert signature_of([np.zeros((480, 640, 3), np.uint8)]) == {}
    with pytest.raises(ValueError, match="signature"):
        similarity({}, {})


# -- similarity --------------------------------------------------------------------------


def second_phone(image: Image) -> Image:
    """The same scene as another phone sees it: 80 % of it, off-centre, 1.5× the pixels,
    brighter and with more contrast, saved as a mediocre JPEG."""
    cv2 = import_cv2()
    height, width = image.shape[:2]
    crop = image[height // 10 : height // 10 + height * 4 // 5, width // 5 : width]
    crop = cv2.resize(crop, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    crop = cv2.convertScaleAbs(crop, alpha=1.25, beta=15)
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert ok
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)


def test_the_same_scene_scores_at_least_the_threshold_and_other_scenes_below(
    vtest_frames: list[Image], hamilton_frames: list[Image]
) -> None:
    cv2 = import_cv2()
    sign = {}
    plaza = {i: vtest_frames[i] for i in (10, 25, 40, 70, 100, 130, 160, 190)}
    for i, image in plaza.items():
        sign[f"plaza{i}"] = signature_of([image])
    for i in (10, 100):
        sign[f"phone{i}"] = signature_of([second_phone(plaza[i])])
    for i in (10, 60, 150, 250):  # four shots: stage, audience, speaker, audience
        sign[f"theatre{i}"] = signature_of([hamilton_frames[i]])
    for name in ("two_people.jpg", "obama3.jpg"):
        sign[name] = signature_of([cv2.imread(str(FACES / name))])
    same = [
        ("plaza10", "plaza25"),  # 1.5 s apart
        ("plaza40", "plaza70"),  # 3 s apart
        ("plaza100", "plaza130"),
        ("plaza160", "plaza190"),
        ("plaza10", "plaza190"),  # the fixed camera 18 s later: other people, same place
        ("plaza10", "phone10"),
        ("plaza100", "phone100"),
        ("phone10", "plaza40"),
    ]
    different = [
        (a, b)
        for a in ("plaza10", "plaza100", "phone10")
        for b in ("theatre10", "theatre60", "theatre150", "theatre250", "two_people.jpg")
    ] + [("theatre60", "theatre150"), ("theatre10", "obama3.jpg"), ("two_people.jpg", "theatre150")]
    for a, b in same:
        assert similarity(sign[a], sign[b]) >= DEFAULT_MEDIA_SIMILARITY, (a, b)
    for a, b in different:
        assert similarity(sign[a], sign[b]) < DEFAULT_MEDIA_SIMILARITY, (a, b)


def test_signatures_are_deterministic_compact_and_similarity_symmetric(
    vtest_frames: list[Image], hamilton_frames: list[Image]
) -> None:
    a = signature_of([vtest_frames[30]])
    assert signature_of([vtest_frames[30].copy()]) == a
    b = signature_of([second_phone(vtest_frames[60])])
    assert similarity(a, b) == similarity(b, a)
    assert similarity(a, a) == 1.0
    assert 0.0 <= similarity(a, b) <= 1.0
    # A video of four shots keeps three views (sharing the keypoints), still under 4 KB.
    video = signature_of(hamilton_frames[17::34])
    assert len(video["frames"]) == 3
    for signature in (a, b, video):
        assert len(json.dumps(signature)) < SIGNATURE_MAX_BYTES
    stored = json.loads(json.dumps(video))  # as the database gives it back
    assert similarity(stored, a) == similarity(video, a)


# -- faces -------------------------------------------------------------------------------


@pytest.fixture
def face_memory(
    tmp_path: Path, start_writer: Callable[..., StoreWriter]
) -> Iterator[tuple[FaceMemory, Store]]:
    """A face memory that knows Obama (enrolled from one photo) and nobody else."""
    store = Store(f"sqlite:///{tmp_path / 'faces.db'}")
    memory = FaceMemory(store, start_writer(store), SimulatedClock(NOW), FaceEncoder())
    memory.enroll("Barack Obama", [FACES / "train" / "obama" / "obama.jpg"], actor=ADMIN)
    yield memory, store
    store.close()


def test_faces_are_matched_against_the_face_memory_without_changing_it(
    isolated_dirs: Path, detector: PersonDetector, face_memory: tuple[FaceMemory, Store]
) -> None:
    memory, store = face_memory
    obama = memory.identify(FACES / "obama3.jpg")[0]
    media = prepare_media(FACES / "two_people.jpg", detector=detector, faces=memory, now=NOW)
    faces = media.analysis["faces"]
    assert faces["found"] == 2
    assert [(k["public_id"], k["name"]) for k in faces["known"]] == [
        (obama.public_id, "Barack Obama")
    ]
    assert faces["unknown"] == 1  # Biden: not in the memory, and not added to it
    assert media.analysis["people"]["count"] >= 2
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
    assert len(memory.gallery) == 1


def test_now_must_carry_its_time_zone(tmp_path: Path, detector: PersonDetector) -> None:
    photo = tmp_path / "x.jpg"
    with pytest.raises(ValueError, match="timezone"):
        prepare_media(photo, detector=detector, now=datetime(2026, 11, 22, 9, 30))
    assert not os.path.exists(tmp_path / "data" / "incidents")
