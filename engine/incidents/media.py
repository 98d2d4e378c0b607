"""Photos and videos attached to incident reports: checked, copied into the data dir,
analysed with the camera pipeline's parts, and given a visual signature.

:func:`prepare_media` turns a file someone attached into a
:class:`~engine.incidents.records.MediaInput`:

1. **Checked by content**, not by its name: photos are JPEG, PNG, BMP or WebP (what
   ``cv2.imdecode`` decodes), videos MP4, MOV (and 3GP), AVI, MKV or WebM (what PyAV opens).
   A missing, empty, oversized (:data:`MAX_PHOTO_BYTES`, :data:`MAX_VIDEO_BYTES`),
   unsupported (a WAV renamed ``.jpg`` is called a WAV), truncated or undecodable file, or one
   with absurd dimensions, is refused with :class:`MediaRejectedError` naming the file and why.
2. **Copied** to ``<data dir>/incidents/YYYY/MM/DD/<sha256[:16]>.<ext>`` (the extension of
   what the content is), written under a temp name in that folder and renamed when complete.
   The copy is what is checked and analysed, so the stored bytes are the analysed bytes.
3. **Analysed**: people found by the person detector the cameras use (count, boxes,
   confidences; for a video, up to :data:`VIDEO_SAMPLES` frames spread over the clip and the
   most people in one of them), faces matched against the face memory (read only), and a
   JPEG thumbnail :data:`THUMBNAIL_WIDTH_PX` wide next to the copy (for a video, of the frame
   with the most people).
4. **Signed**: a compact JSON signature (< :data:`SIGNATURE_MAX_BYTES`) that
   :func:`similarity` compares, so correlation (:mod:`engine.incidents.records`) can tell
   whether two reports' media show the same scene.

The similarity measure
----------------------
Two phones at one incident see the same place from a few metres apart, seconds apart, at
other exposures, crops and resolutions, with people moving in front of it. What stays is the
geometry of the scene (kerbs, windows, signs), so the measure is **geometric evidence**
first, with colour and layout only as support:

- Each frame is scaled to :data:`WORK_SIDE_PX` on its long side. ORB keypoints (OpenCV)
  are picked spread over a 4×4 grid, strongest first, preferring the coarser pyramid levels
  (fine-scale corners are the first to vanish in a rescaled or re-compressed copy);
  :data:`SIGNATURE_KEYPOINTS` are kept with the first :data:`DESCRIPTOR_BYTES` bytes (128
  bits) of their rBRIEF descriptors (ORB's tests were chosen greedily, most telling first)
  and their positions on a 256-step grid.
- Matches pass Lowe's ratio test (:data:`RATIO_TEST`) and a mutual nearest-neighbour check,
  then RANSAC fits a homography and a similarity transform (:data:`RANSAC_PX` px). The
  evidence is the inliers beyond each model's minimal sample (4 and 2 points fit whatever
  they are), the larger of the two: ``e = max(h − 4, s − 2)``; ``g = min(1, e / 6)`` (``e / 4``
  between a video's frames holding 42 keypoints, where chance matches are fewer too).
- Appearance ``a`` = intersection of HSV hue–saturation histograms (with 4 grey bins for
  unsaturated pixels) × correlation of 8×6 grey thumbnails (clipped at 0), in [0, 1].
- ``similarity = 1 − (1 − g)·(1 − 0.6·a)``: geometric evidence alone can reach 1;
  appearance alone never exceeds 0.6, below the 0.70 threshold, so colour never merges two
  places on its own. With all keypoints, ``e ≥ 5`` is enough alone; ``e = 4`` needs
  ``a ≥ 0.17``, ``e = 3`` ``a ≥ 0.67``, ``e = 2`` ``a ≥ 0.92``; ``e ≤ 1`` never passes.
- A video's signature holds up to :data:`MAX_SIGNATURE_FRAMES` of its sampled frames, those
  that stand for the most others (a frame stands for those it scores ≥ 0.70 with), sharing
  the keypoint budget; similarity is the best pair of frames.
- A frame with fewer than :data:`MIN_KEYPOINTS` keypoints (black, blank, out of focus)
  cannot be compared: media with no such frame get an empty signature, and correlation then
  relies on time and place alone (as for a report without media).

How the 0.70 threshold behaves, measured offline on real footage (November 2026, this code,
with a throwaway script; ``tests/engine/test_incident_media.py`` keeps 26 of the pairs).
Same scene, 135 pairs: 33 pairs of frames 1–3 s apart within one shot of ``vtest.avi``,
``short_hamilton_clip.mp4``, and OpenCV's ``Megamind.avi`` and ``tree.avi``; 4 pairs of
``vtest.avi`` frames a minute apart; 88 "second phone" copies (2 each of 44 frames and
photos: crop to 65–85 %, rescale ×0.5–1.5, brighter, darker (gamma), rotated ±8°, perspective
±8 %, JPEG quality 35–90, or several at once); 10 real two-view pairs from OpenCV's samples
(stereo, exposure, viewpoint). Different scenes, 988 pairs: every pair of one frame per shot
of those clips (10 shots) and 35 OpenCV sample photos, except frames of one fixed camera.

============================  =====  ======  ======================================
pairs                         min    median  below 0.70
============================  =====  ======  ======================================
frames 1–3 s apart (33)       0.769  1.000   0
frames a minute apart (4)     1.000  1.000   0
second phone (88)             0.419  1.000   1 (crop, rescale, brighter and JPEG at once)
real two-view pairs (10)      0.273  0.933   4 (wide stereo baselines, a large exposure step)
all same-scene (135)          0.273  1.000   5 (5th percentile 0.809)
============================  =====  ======  ======================================

Different scenes (988): max 0.511, 99th percentile 0.263, median 0.008; none at 0.70. The
highest is two shots of the theatre clip that share the broadcaster's logo in a corner.

So 0.70 separates with room on the different side (chance gives at most 2 inliers beyond
the minimal sample, with any keypoint budget) and misses mostly real viewpoint changes
larger than two phones a few metres apart. A video is weaker when it holds several views:
against a second phone's photo of one of its frames, the single-view clips (``vtest.avi``,
``tree.avi``) matched 11 of 12, the four-shot clips (theatre, Megamind) 3 of 12: 4 KB holds
3 views of 42 keypoints (and no different-scene pair of 262 reached 0.70: max 0.50).

Threads: :func:`prepare_media` blocks for about a second per photo and a few seconds per
video; run it off the GUI thread, with a detector of its own (detectors are not
thread-safe). :func:`similarity` takes about a millisecond and is thread-safe.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Protocol

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.data_dirs import data_dir as default_data_dir
from engine.data_dirs import open_private_file, private_dir, secure_data_dir
from engine.identity.faces import FaceModelsMissingError, image_size_from_header
from engine.inbound import OutsideFileError, open_regular_file
from engine.incidents.records import DEFAULT_MEDIA_SIMILARITY, MediaInput
from engine.instance import partial_path, write_private_file

if TYPE_CHECKING:  # engine.vision is a layer above incidents: named for types only
    from engine.identity.faces_store import Identification
    from engine.vision.detect import PersonDetector

Image = npt.NDArray[np.uint8]

# -- what is accepted ------------------------------------------------------------------

MAX_PHOTO_BYTES: Final = 50 * 1024 * 1024
"""A phone's largest photos (200 MP sensors) are 20–40 MB as JPEG; more is not a photo
someone took at an incident, and it is held in memory whole while checked."""
MAX_VIDEO_BYTES: Final = 2 * 1024 * 1024 * 1024
"""About 15 minutes of 1080p or 4 minutes of 4K phone video: longer recordings belong in
evidence storage, not in a report (and copying more would fill the data dir)."""
MIN_SIDE_PX: Final = 32
"""Smaller images show nothing that can be analysed (and are often icons or tracking
pixels)."""
MAX_PHOTO_PIXELS: Final = 200_000_000
"""The largest phone sensors (200 MP); beyond is a decompression bomb (a few kB of PNG can
declare gigapixels)."""
MAX_ASPECT_RATIO: Final = 20.0
"""Phone panoramas reach about 8:1; 20:1 is a strip, not a scene."""
MAX_VIDEO_SIDE_PX: Final = 8192
"""8K video (7680×4320) and below."""
SUPPORTED: Final = "photos: JPEG, PNG, BMP, WebP; videos: MP4, MOV, AVI, MKV, WebM"

# -- analysis --------------------------------------------------------------------------

VIDEO_SAMPLES: Final = 8
"""Frames of a video analysed, spread evenly over the clip."""
MAX_DECODE_PER_SAMPLE: Final = 250
"""Frames decoded forward from the keyframe a seek lands on before taking the frame reached
(videos with keyframes far apart: the sample is then early, not slow)."""
VIDEO_FRAME_MAX_SIDE_PX: Final = 1920
"""Video frames are analysed at most this big (a 4K or 8K frame adds nothing for people and
faces but memory); boxes are reported in the video's pixels."""
DETECT_MAX_SIDE_PX: Final = 1280
"""Photos are shrunk to this for the person detector (YOLO looks at 512 px anyway; HOG on a
12 MP photo would take seconds). Boxes are reported in the original's pixels."""
DECODE_TARGET_SIDE_PX: Final = 2048
"""Huge JPEGs are decoded at 1/2, 1/4 or 1/8 scale (libjpeg does it cheaply) while the long
side stays at least this: enough for people and faces, without 600 MB of pixels."""
FACE_UPSAMPLE_MAX_SIDE_PX: Final = 1000
"""Images up to this size are upsampled once for the face detector (finds faces of 40 px
rather than 80 px); larger ones are searched as they are."""
THUMBNAIL_WIDTH_PX: Final = 320
THUMBNAIL_JPEG_QUALITY: Final = 80
MAX_REPORTED_BOXES: Final = 50  # people boxes kept in the analysis (the count is exact)

# -- signature -------------------------------------------------------------------------

SIGNATURE_VERSION: Final = 1
SIGNATURE_MAX_BYTES: Final = 4096  # the signature as JSON, whatever the media
WORK_SIDE_PX: Final = 480
SIGNATURE_KEYPOINTS: Final = 128  # per signature: a video's frames share them
DESCRIPTOR_BYTES: Final = 16
MIN_KEYPOINTS: Final = 16
MAX_SIGNATURE_FRAMES: Final = 3
GRID_CELLS: Final = 4  # keypoints are spread over GRID_CELLS × GRID_CELLS cells
RATIO_TEST: Final = 0.85
RANSAC_PX: Final = 6.0  # at WORK_SIDE_PX
EVIDENCE_FULL: Final = 6  # inliers beyond the minimal sample that prove one scene alone...
EVIDENCE_FULL_FEW: Final = 4  # ...or fewer, between frames of a video holding few keypoints
FEW_KEYPOINTS: Final = SIGNATURE_KEYPOINTS // MAX_SIGNATURE_FRAMES  # 42
APPEARANCE_WEIGHT: Final = 0.6  # < 0.70: appearance alone never reaches the threshold
_HIST_BINS = (12, 4)  # hue × saturation of coloured pixels
_GREY_BINS = 4  # value of unsaturated or dark pixels
_LAYOUT = (8, 6)  # grey thumbnail, width × height


class MediaRejectedError(ValueError):
    """An attached file cannot be used: ``path`` is the file as given, ``reason`` says why
    in words for the person who attached it. Nothing was stored."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot attach {path}: {reason}")


class FaceIdentifier(Protocol):
    """Who the faces in an image are, without remembering anything:
    :class:`engine.identity.faces_store.FaceMemory` is one (its ``identify`` reads the
    gallery and the persons table and never writes)."""

    def identify(self, image: Image, upsample: int = 1) -> Sequence[Identification]: ...


@dataclass(frozen=True, slots=True)
class _Format:
    kind: str  # photo | video
    name: str  # jpeg, png, bmp, webp, mp4, mov, 3gp, avi, mkv, webm
    ext: str


@dataclass(frozen=True, slots=True)
class _Analysed:
    analysis: dict[str, Any]
    signature: dict[str, Any]
    thumbnail: bytes


def prepare_media(
    path: Path,
    *,
    detector: PersonDetector,
    faces: FaceIdentifier | None = None,
    data_dir: Path | None = None,
    now: datetime,
) -> MediaInput:
    """Check, copy, analyse and sign the photo or video at ``path`` (see the module).

    ``detector`` finds people: pass one made by
    :func:`engine.vision.detect.make_detector` with the site's settings, as the cameras
    use, and not shared with a camera worker. ``faces`` matches faces (the console's
    :class:`~engine.identity.faces_store.FaceMemory`; None: faces are not looked for).
    ``data_dir`` defaults to :func:`engine.data_dirs.data_dir`; ``now`` (timezone-aware) dates
    the folder the copy goes in. The returned paths are relative to the data dir. Raises
    :class:`MediaRejectedError` for a file that cannot be used; then no file is left in the
    data dir. Blocks (about a second a photo, a few a video): not on the GUI thread.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (use the engine clock)")
    source = Path(path)
    fmt = _check_file(source)
    root = secure_data_dir(data_dir if data_dir is not None else default_data_dir())
    day = now.astimezone(UTC)
    folder_rel = f"incidents/{day:%Y}/{day:%m}/{day:%d}"
    folder = private_dir(root / folder_rel)
    staged = partial_path(folder / f"incoming-{secrets.token_hex(6)}.{fmt.ext}")
    try:
        sha256, size = _stage_copy(source, staged, fmt)
        if fmt.kind == "photo":
            analysed = _analyse_photo(source, staged, fmt, detector, faces)
        else:
            analysed = _analyse_video(source, staged, fmt, detector, faces)
        analysed.analysis["original_name"] = source.name
        stem = sha256[:16]
        thumbnail_name = f"{stem}.thumb.jpg"
        write_private_file(folder / thumbnail_name, analysed.thumbnail)
        os.replace(staged, folder / f"{stem}.{fmt.ext}")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return MediaInput(
        kind=fmt.kind,
        path=f"{folder_rel}/{stem}.{fmt.ext}",
        sha256=sha256,
        size_bytes=size,
        thumbnail_path=f"{folder_rel}/{thumbnail_name}",
        analysis=analysed.analysis,
        signature=analysed.signature,
    )


# -- checks ----------------------------------------------------------------------------


def _check_file(path: Path) -> _Format:
    """What the file is, from its first bytes; refuses what cannot be used before copying."""
    try:
        with _open_media(path) as handle:
            info = os.fstat(handle.fileno())
            head = handle.read(4096)
    except OSError as exc:
        raise MediaRejectedError(path, f"the file cannot be read ({exc.strerror})") from exc
    if not head:
        raise MediaRejectedError(path, "the file is empty (0 bytes)")
    found = _sniff(head)
    if isinstance(found, str):
        raise MediaRejectedError(path, f"it is {found}; supported are {SUPPORTED}")
    limit = MAX_PHOTO_BYTES if found.kind == "photo" else MAX_VIDEO_BYTES
    if info.st_size > limit:
        raise MediaRejectedError(
            path,
            f"the {found.kind} is too large ({_size_text(info.st_size)}); "
            f"{found.kind}s up to {_size_text(limit)} are accepted",
        )
    return found


def _open_media(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (checked on the opened file, and
    a FIFO is never waited on), else :class:`MediaRejectedError` saying what it is."""
    try:
        return open_regular_file(path)
    except OutsideFileError as exc:
        if exc.missing:
            raise MediaRejectedError(path, "the file does not exist") from None
        raise MediaRejectedError(path, f"it {exc.problem}") from None


def _sniff(head: bytes) -> _Format | str:
    """The supported format the first bytes of a file (at least 64) show, or a description
    of what it is instead ("a WAV audio file", "a text file")."""
    if head.startswith(b"\xff\xd8\xff"):
        return _Format("photo", "jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _Format("photo", "png", "png")
    if (
        head.startswith(b"BM")
        and len(head) >= 26
        and _le(head, 14, 4) in (12, 40, 52, 56, 108, 124)
    ):
        return _Format("photo", "bmp", "bmp")
    if head.startswith(b"RIFF") and len(head) >= 12:
        riff = head[8:12]
        if riff == b"WEBP":
            return _Format("photo", "webp", "webp")
        if riff == b"AVI ":
            return _Format("video", "avi", "avi")
        if riff == b"WAVE":
            return "a WAV audio file"
        return f"a RIFF file of type {riff.decode('latin-1')!r}"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "):
            return "an M4A audio file"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "a HEIC photo (export it as JPEG)"
        if brand in (b"avif", b"avis"):
            return "an AVIF image (export it as JPEG)"
        if brand == b"qt  ":
            return _Format("video", "mov", "mov")
        if brand.startswith((b"3gp", b"3g2")):
            return _Format("video", "3gp", "3gp")
        return _Format("video", "mp4", "mp4")
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return _Format("video", "mov", "mov")  # QuickTime files from before the ftyp box
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return _Format("video", "webm", "webm")
        return _Format("video", "mkv", "mkv")
    for magic, what in _OTHER_FORMATS:
        if head.startswith(magic):
            return what
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "an MP3 audio file"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "an MPEG transport stream (convert it to MP4)"
    if _looks_like_text(head):
        return "a text file"
    return f"of an unknown type (it starts with {head[:8].hex(' ')})"


_OTHER_FORMATS: Final = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"FLV", "an FLV video (convert it to MP4)"),
    (b"\x00\x00\x01\xba", "an MPEG program stream (convert it to MP4)"),
    (b"\x00\x00\x01\xb3", "an MPEG video stream (convert it to MP4)"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    if text.count("\ufffd") > 1:  # one may be a character cut at the end of the head
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\t\r\n\f")
    return printable >= 0.95 * len(text)


def _le(data: bytes, at: int, size: int, *, signed: bool = False) -> int:
    return int.from_bytes(data[at : at + size], "little", signed=signed)


def _size_text(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    return f"{size / 1024**2:.1f} MB"


def _stage_copy(source: Path, staged: Path, fmt: _Format) -> tuple[str, int]:
    """Copy ``source`` to ``staged`` (0600, flushed to disk), hashing as it goes; returns
    the sha256 and the size. A file that cannot be read, or grows past its limit while
    copied, is refused; a failure to write (disk full) is the data dir's, raised as is."""
    limit = MAX_PHOTO_BYTES if fmt.kind == "photo" else MAX_VIDEO_BYTES
    digest = hashlib.sha256()
    size = 0
    reader = _open_media(source)  # again: it may have been swapped since it was checked
    with reader, os.fdopen(open_private_file(staged, os.O_WRONLY | os.O_TRUNC), "wb") as writer:
        while True:
            try:
                chunk = reader.read(1024 * 1024)
            except OSError as exc:
                raise MediaRejectedError(
                    source, f"the file cannot be read ({exc.strerror})"
                ) from exc
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise MediaRejectedError(
                    source,
                    f"the {fmt.kind} is too large (over {_size_text(limit)}); "
                    f"{fmt.kind}s up to {_size_text(limit)} are accepted",
                )
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    if size == 0:
        raise MediaRejectedError(source, "the file is empty (0 bytes)")
    return digest.hexdigest(), size


def _check_dimensions(source: Path, width: int, height: int, kind: str) -> None:
    if width < MIN_SIDE_PX or height < MIN_SIDE_PX:
        raise MediaRejectedError(
            source,
            f"the {kind} is only {width}×{height} pixels; at least {MIN_SIDE_PX} px a side "
            "is needed to see anything",
        )
    if kind == "video":
        if max(width, height) > MAX_VIDEO_SIDE_PX:
            raise MediaRejectedError(
                source,
                f"the video is {width}×{height} pixels; videos up to {MAX_VIDEO_SIDE_PX} px "
                "a side (8K) are accepted",
            )
        return
    if width * height > MAX_PHOTO_PIXELS:
        raise MediaRejectedError(
            source,
            f"the photo is {width}×{height} pixels; photos up to "
            f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels are accepted",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise MediaRejectedError(
            source,
            f"the photo is {width}×{height} pixels, a strip rather than a scene (sides up to "
            f"{MAX_ASPECT_RATIO:.0f}:1 are accepted)",
        )


# -- photos ----------------------------------------------------------------------------


def _photo_size_from_header(data: bytes, name: str) -> tuple[int, int] | None:
    """(width, height) as a photo's header declares them (before any EXIF rotation),
    without decoding it; None if the header does not say."""
    if name in ("jpeg", "png"):
        return image_size_from_header(data)
    if name == "bmp" and len(data) >= 26:
        if _le(data, 14, 4) == 12:  # OS/2 bitmap header: 16-bit sizes
            return _le(data, 18, 2), _le(data, 20, 2)
        return abs(_le(data, 18, 4, signed=True)), abs(_le(data, 22, 4, signed=True))
    if name == "webp" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
            return _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF
        if chunk == b"VP8L" and data[20] == 0x2F:
            bits = _le(data, 21, 4)
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return _le(data, 24, 3) + 1, _le(data, 27, 3) + 1
    return None


def _photo_truncation(data: bytes, name: str) -> str | None:
    """Why a photo's bytes stop before its end (a cut-off download or copy), or None when
    they look complete. Checked from the structure, before decoding."""
    if name == "jpeg" and not _jpeg_complete(data):
        return "the JPEG is truncated or damaged (it stops before its end-of-image marker)"
    if name == "png" and data.rfind(b"IEND") < 0:
        return "the PNG is truncated (it has no end chunk)"
    if name == "webp" and len(data) < _le(data, 4, 4) + 8:
        return "the WebP is truncated (shorter than its header says)"
    if name == "bmp" and len(data) < _le(data, 2, 4):
        return "the BMP is truncated (shorter than its header says)"
    return None


def _jpeg_complete(data: bytes) -> bool:
    """Walk the JPEG's segments to its first scan, then look for the end-of-image marker
    after it (entropy-coded data never holds FF D9; an EXIF thumbnail's EOI sits inside a
    segment skipped by its length)."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return False
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        if marker == 0xDA:
            return data.find(b"\xff\xd9", at + 2) >= 0
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return False


def _analyse_photo(
    source: Path,
    staged: Path,
    fmt: _Format,
    detector: PersonDetector,
    faces: FaceIdentifier | None,
) -> _Analysed:
    cv2 = import_cv2()
    data = staged.read_bytes()
    truncated = _photo_truncation(data, fmt.name)
    if truncated is not None:
        raise MediaRejectedError(source, truncated)
    declared = _photo_size_from_header(data, fmt.name)
    if declared is not None:
        _check_dimensions(source, *declared, "photo")
    reduce = 1
    if fmt.name == "jpeg" and declared is not None:
        for factor in (8, 4, 2):
            if max(declared) // factor >= DECODE_TARGET_SIDE_PX:
                reduce = factor
                break
    flags = {
        1: cv2.IMREAD_COLOR,
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8,
    }[reduce]
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise MediaRejectedError(source, f"the {fmt.name.upper()} cannot be decoded") from exc
    if image is None or image.ndim != 3 or image.shape[0] == 0:
        raise MediaRejectedError(
            source, f"the {fmt.name.upper()} cannot be decoded (damaged or truncated)"
        )
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    if declared is None:
        _check_dimensions(source, width, height, "photo")
        full = (width, height)
    else:  # the header's size, turned as the EXIF orientation turned the decoded image
        w, h = declared
        full = (w, h) if (w >= h) == (width >= height) else (h, w)
    scale = full[0] / width
    people = _find_people(detector, image)
    analysis: dict[str, Any] = {
        "kind": "photo",
        "format": fmt.name,
        "width": full[0],
        "height": full[1],
        "detector": detector.name,
        "people": _people_json(people, scale),
    }
    _add_faces(analysis, faces, [image])
    signature = signature_of([image])
    return _Analysed(analysis, signature, _thumbnail(image))


# -- videos ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sample:
    at_s: float  # from the start of the video
    image: Image  # upright, at most VIDEO_FRAME_MAX_SIDE_PX on its long side
    scale: float  # the video's pixels per pixel of ``image``
    size: tuple[int, int]  # the video's frame as shown (upright): width, height


def _analyse_video(
    source: Path,
    staged: Path,
    fmt: _Format,
    detector: PersonDetector,
    faces: FaceIdentifier | None,
) -> _Analysed:
    import av

    label = fmt.name.upper()
    try:
        with av.open(str(staged), metadata_errors="ignore") as container:
            if not container.streams.video:
                what = "audio only" if container.streams.audio else "no streams at all"
                raise MediaRejectedError(source, f"the {label} file has no video ({what})")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            width, height = stream.codec_context.width, stream.codec_context.height
            if width and height:
                _check_dimensions(source, width, height, "video")
            rate = float(stream.average_rate) if stream.average_rate else 0.0
            duration_s = _duration_s(container, stream)
            samples = _sample_frames(container, stream, duration_s)
    except MediaRejectedError:
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise MediaRejectedError(
            source, f"the {label} file cannot be read as a video ({reason})"
        ) from exc
    if not samples:
        raise MediaRejectedError(
            source, f"no frame of the {label} video can be decoded (damaged or truncated)"
        )
    shown = samples[0].size
    _check_dimensions(source, *shown, "video")
    found = [_find_people(detector, s.image) for s in samples]
    counts = [len(f) for f in found]
    best = max(range(len(samples)), key=lambda i: (counts[i], -i))
    analysis: dict[str, Any] = {
        "kind": "video",
        "format": fmt.name,
        "codec": codec,
        "width": shown[0],
        "height": shown[1],
        "duration_s": None if duration_s is None else round(duration_s, 3),
        "fps": round(rate, 3) if rate else None,
        "detector": detector.name,
        "frames_analysed": [round(s.at_s, 3) for s in samples],
        "people_per_frame": counts,
        "people": {
            "at_s": round(samples[best].at_s, 3),
            **_people_json(found[best], samples[best].scale),
        },
        "thumbnail_at_s": round(samples[best].at_s, 3),
    }
    _add_faces(analysis, faces, [s.image for s in samples])
    signature = signature_of([s.image for s in samples], lead=best)
    return _Analysed(analysis, signature, _thumbnail(samples[best].image))


def _duration_s(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000  # in av.time_base units
    return None


def _sample_frames(container: Any, stream: Any, duration_s: float | None) -> list[_Sample]:
    """Up to :data:`VIDEO_SAMPLES` frames spread over the video, found by seeking; the
    first frames read in order when its length is unknown or seeking finds nothing (a
    stream that cannot seek, a duration that overstates the content)."""
    start_s = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    samples: list[_Sample] = []
    if duration_s and duration_s > 0:
        frame_s = 1.0 / float(stream.average_rate) if stream.average_rate else 0.04
        for k in range(VIDEO_SAMPLES):
            target = start_s + (k + 0.5) * duration_s / VIDEO_SAMPLES
            got = _frame_at(container, stream, target, frame_s)
            if got is None:
                continue
            at = max(0.0, (got.time if got.time is not None else target) - start_s)
            if samples and abs(at - samples[-1].at_s) < 1e-6:
                continue  # landed on the same keyframe again
            samples.append(_sample(got, at))
    return samples or _first_frames(container, stream, start_s)


def _frame_at(container: Any, stream: Any, target_s: float, frame_s: float) -> Any:
    """The first frame at or after ``target_s`` (seconds, stream time), decoding at most
    :data:`MAX_DECODE_PER_SAMPLE` frames from the keyframe before it; None if none."""
    got = None
    try:
        container.seek(
            round(target_s / stream.time_base), stream=stream, backward=True, any_frame=False
        )
        for decoded, frame in enumerate(container.decode(stream)):
            got = frame
            if frame.time is not None and frame.time >= target_s - frame_s / 2:
                break
            if decoded >= MAX_DECODE_PER_SAMPLE:
                break
    except Exception:  # PyAV raises many kinds: keep what decoded before the damage
        pass
    return got


def _first_frames(container: Any, stream: Any, start_s: float) -> list[_Sample]:
    """Every 10th of a video's first frames, up to :data:`VIDEO_SAMPLES`."""
    samples: list[_Sample] = []
    try:
        container.seek(0)
        for index, frame in enumerate(container.decode(stream)):
            if index % 10 == 0:
                at = (frame.time - start_s) if frame.time is not None else index / 25
                samples.append(_sample(frame, max(0.0, at)))
            if len(samples) >= VIDEO_SAMPLES:
                break
    except Exception:  # PyAV raises many kinds: keep what decoded before the damage
        pass
    return samples


def _sample(frame: Any, at_s: float) -> _Sample:
    """A decoded frame as BGR, at most :data:`VIDEO_FRAME_MAX_SIDE_PX` on its long side,
    turned upright as its display matrix says (phones record portrait video as landscape
    frames plus a rotation)."""
    width, height = int(frame.width), int(frame.height)
    shrink = min(1.0, VIDEO_FRAME_MAX_SIDE_PX / max(width, height))
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    pixels = frame.to_ndarray(format="bgr24", width=size[0], height=size[1])
    image = np.ascontiguousarray(pixels, dtype=np.uint8)
    # FFmpeg's convention: the display matrix turns the frame `rotation`° counter-clockwise.
    quarter_turns = round(int(getattr(frame, "rotation", 0) or 0) / 90) % 4
    if quarter_turns:
        image = np.ascontiguousarray(np.rot90(image, quarter_turns))
        if quarter_turns % 2:
            width, height = height, width
    return _Sample(at_s, image, width / image.shape[1], (width, height))


# -- people, faces, thumbnails ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    box: tuple[float, float, float, float]  # x, y, w, h in the analysed image's pixels
    confidence: float


def _find_people(detector: PersonDetector, image: Image) -> list[_Person]:
    """People in ``image`` (boxes in its pixels), looked for on the whole frame (``regions``
    None) of a copy at most :data:`DETECT_MAX_SIDE_PX` on its long side."""
    cv2 = import_cv2()
    height, width = image.shape[:2]
    shrink = min(1.0, DETECT_MAX_SIDE_PX / max(height, width))
    if shrink < 1.0:
        size = (round(width * shrink), round(height * shrink))
        image = np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    return [
        _Person(
            (d.box.x / shrink, d.box.y / shrink, d.box.w / shrink, d.box.h / shrink),
            float(d.confidence),
        )
        for d in detector.detect(image, None)
    ]


def _people_json(found: Sequence[_Person], scale: float) -> dict[str, Any]:
    ranked = sorted(found, key=lambda p: -p.confidence)[:MAX_REPORTED_BOXES]
    return {
        "count": len(found),
        "boxes": [[round(v * scale) for v in p.box] for p in ranked],
        "confidences": [round(p.confidence, 3) for p in ranked],
    }


def _add_faces(
    analysis: dict[str, Any], faces: FaceIdentifier | None, images: Sequence[Image]
) -> None:
    """``analysis["faces"]``: the faces in ``images`` matched by ``faces`` (None when there
    is no face memory, or its models are missing: then ``faces_unavailable`` says why; a
    report is filed without faces rather than refused)."""
    analysis["faces"] = None
    if faces is None:
        return
    try:
        analysis["faces"] = _faces_json([_identify(faces, image) for image in images])
    except FaceModelsMissingError as exc:
        analysis["faces_unavailable"] = str(exc)


def _identify(faces: FaceIdentifier, image: Image) -> Sequence[Identification]:
    upsample = 1 if max(image.shape[:2]) <= FACE_UPSAMPLE_MAX_SIDE_PX else 0
    return faces.identify(image, upsample)


def _faces_json(per_frame: Sequence[Sequence[Identification]]) -> dict[str, Any]:
    """Faces over one photo or a video's frames: known people once each (at their closest
    match), unknown faces as the most in one frame (a stranger in two frames cannot be
    told from two strangers without remembering faces, which this must not do)."""
    known: dict[str, dict[str, Any]] = {}
    unknown = 0
    found = 0
    for faces in per_frame:
        found = max(found, len(faces))
        unknown = max(unknown, sum(1 for f in faces if f.public_id is None))
        for face in faces:
            if face.public_id is None:
                continue
            distance = None if face.distance is None else round(face.distance, 4)
            seen = known.get(face.public_id)
            if seen is None or (distance is not None and distance < (seen["distance"] or 9.0)):
                known[face.public_id] = {
                    "public_id": face.public_id,
                    "name": face.name,
                    "distance": distance,
                }
    return {
        "found": found,
        "known": sorted(known.values(), key=lambda k: str(k["public_id"])),
        "unknown": unknown,
    }


def _thumbnail(image: Image) -> bytes:
    cv2 = import_cv2()
    height, width = image.shape[:2]
    if width > THUMBNAIL_WIDTH_PX:
        size = (THUMBNAIL_WIDTH_PX, max(1, round(height * THUMBNAIL_WIDTH_PX / width)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, THUMBNAIL_JPEG_QUALITY])
    if not ok:
        raise ValueError("could not encode the thumbnail")
    return bytes(encoded.tobytes())


# -- signature and similarity ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Frame:
    """One frame's features at the working size: keypoint positions (N, 2) in pixels,
    descriptors (N, DESCRIPTOR_BYTES), colour histogram (sums to 1), zero-mean unit-norm
    layout thumbnail, and the working size (width, height)."""

    xy: npt.NDArray[np.float32]
    descriptors: npt.NDArray[np.uint8]
    histogram: npt.NDArray[np.float32]
    layout: npt.NDArray[np.float32]
    size: tuple[int, int]

    def first(self, count: int) -> _Frame:
        """The frame with its first ``count`` keypoints (still spread: they are chosen
        round-robin over the grid)."""
        return _Frame(
            self.xy[:count], self.descriptors[:count], self.histogram, self.layout, self.size
        )


def signature_of(frames: Sequence[Image], *, lead: int = 0) -> dict[str, Any]:
    """The signature of a photo (one frame) or a video (its sampled frames; ``lead`` is the
    index of the one preferred on a tie, the thumbnail's): JSON-serialisable, under
    :data:`SIGNATURE_MAX_BYTES`, deterministic. Empty when no frame has enough texture to
    be compared (see the module).

    A video keeps the frames that stand for the most others (greedy set cover: a frame
    stands for those it scores at least 0.70 with), at most :data:`MAX_SIGNATURE_FRAMES`,
    sharing :data:`SIGNATURE_KEYPOINTS` between them."""
    order = [lead, *(i for i in range(len(frames)) if i != lead)] if frames else []
    features = [f for f in (_features(frames[i]) for i in order) if f is not None]
    covers = [
        {
            j
            for j, other in enumerate(features)
            if j == i or _pair_score(frame, other) >= DEFAULT_MEDIA_SIMILARITY
        }
        for i, frame in enumerate(features)
    ]
    chosen: list[int] = []
    uncovered = set(range(len(features)))
    while uncovered and len(chosen) < MAX_SIGNATURE_FRAMES:
        best = max(range(len(features)), key=lambda i: (len(covers[i] & uncovered), -i))
        chosen.append(best)
        uncovered -= covers[best]
    if not chosen:
        return {}
    per_frame = SIGNATURE_KEYPOINTS // len(chosen)
    return {
        "v": SIGNATURE_VERSION,
        "frames": [_frame_json(features[i].first(per_frame)) for i in chosen],
    }


def similarity(sig_a: Mapping[str, Any], sig_b: Mapping[str, Any]) -> float:
    """How alike two media signatures look, 0–1: the best pair of their frames (see the
    module for the measure; 0.70 and above is the same scene). Symmetric and deterministic.
    Raises :class:`ValueError` for something that is not a signature :func:`signature_of`
    made (an empty one included: there is nothing to compare). Any thread; about 1 ms a
    pair of frames."""
    frames_a, frames_b = _parse(sig_a), _parse(sig_b)
    return max(_pair_score(a, b) for a in frames_a for b in frames_b)


_ORB_PARAMS = {"nfeatures": 2000, "fastThreshold": 10, "edgeThreshold": 15, "patchSize": 31}


def _features(image: Image) -> _Frame | None:
    cv2 = import_cv2()
    height, width = image.shape[:2]
    scale = WORK_SIDE_PX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(image, size, interpolation=interpolation)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    keypoints, descriptors = cv2.ORB_create(**_ORB_PARAMS).detectAndCompute(grey, None)
    if descriptors is None or len(keypoints) < MIN_KEYPOINTS:
        return None
    chosen = _spread(keypoints, size)
    xy = np.array([keypoints[i].pt for i in chosen], dtype=np.float32)
    return _Frame(
        xy=_quantised_xy(xy, size),
        descriptors=np.ascontiguousarray(descriptors[chosen, :DESCRIPTOR_BYTES]),
        histogram=_histogram(small),
        layout=_layout(grey),
        size=size,
    )


def _spread(keypoints: Sequence[Any], size: tuple[int, int]) -> list[int]:
    """Indexes of up to :data:`SIGNATURE_KEYPOINTS` keypoints taken round-robin over a
    grid, in each cell coarse pyramid levels first, then the strongest: the keypoints that
    a crop, a rescale or a re-compression are likeliest to leave in place."""
    width, height = size
    cells: dict[tuple[int, int], list[int]] = {}
    for index, keypoint in enumerate(keypoints):
        x, y = keypoint.pt
        cell = (
            min(GRID_CELLS - 1, int(x * GRID_CELLS / width)),
            min(GRID_CELLS - 1, int(y * GRID_CELLS / height)),
        )
        cells.setdefault(cell, []).append(index)
    ranked = [
        sorted(members, key=lambda i: (keypoints[i].octave == 0, -keypoints[i].response, i))
        for _, members in sorted(cells.items())
    ]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < SIGNATURE_KEYPOINTS and any(len(m) > depth for m in ranked):
        for members in ranked:
            if len(members) > depth and len(chosen) < SIGNATURE_KEYPOINTS:
                chosen.append(members[depth])
        depth += 1
    return chosen


def _quantised_xy(xy: npt.NDArray[np.float32], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Positions as the signature keeps them (256 steps a side), so that a frame compares
    the same before and after it is stored."""
    return _dequantise_xy(_quantise_xy(xy, size), size)


def _quantise_xy(xy: npt.NDArray[np.float32], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    span = np.array([max(1, size[0] - 1), max(1, size[1] - 1)], dtype=np.float32)
    quantised: npt.NDArray[np.uint8] = np.clip(np.rint(xy / span * 255), 0, 255).astype(np.uint8)
    return quantised


def _dequantise_xy(q: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    span = np.array([max(1, size[0] - 1), max(1, size[1] - 1)], dtype=np.float32)
    return (q.astype(np.float32) / 255 * span).astype(np.float32)


def _histogram(small: Image) -> npt.NDArray[np.float32]:
    """Hue × saturation of coloured pixels and brightness of grey ones, quantised as the
    signature keeps it (bytes, scaled to the largest bin), summing to 1."""
    cv2 = import_cv2()
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    coloured = cv2.inRange(hsv, (0, 40, 40), (180, 255, 255))
    hue_sat = cv2.calcHist([hsv], [0, 1], coloured, list(_HIST_BINS), [0, 180, 40, 256])
    grey = cv2.calcHist([hsv], [2], cv2.bitwise_not(coloured), [_GREY_BINS], [0, 256])
    counts = np.concatenate([hue_sat.ravel(), grey.ravel()]).astype(np.float64)
    return _histogram_from_bytes(_histogram_bytes(counts))


def _histogram_bytes(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    top = float(counts.max())
    if top <= 0:
        return np.zeros(counts.shape, np.uint8)
    return np.rint(counts / top * 255).astype(np.uint8)


def _histogram_from_bytes(q: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    total = float(q.sum())
    return (q.astype(np.float32) / total) if total > 0 else q.astype(np.float32)


def _layout(grey: Image) -> npt.NDArray[np.float32]:
    """An 8×6 grey thumbnail, zero-mean and unit-norm (brightness and contrast drop out),
    quantised as the signature keeps it."""
    cv2 = import_cv2()
    thumb = cv2.resize(grey, _LAYOUT, interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    return _layout_from_bytes(_layout_bytes(thumb))


def _layout_bytes(thumb: npt.NDArray[np.float32]) -> npt.NDArray[np.int8]:
    centred = thumb - thumb.mean()
    peak = float(np.abs(centred).max())
    if peak < 1e-6:
        return np.zeros(centred.shape, np.int8)
    quantised: npt.NDArray[np.int8] = np.rint(centred / peak * 127).astype(np.int8)
    return quantised


def _layout_from_bytes(q: npt.NDArray[np.int8]) -> npt.NDArray[np.float32]:
    values = q.astype(np.float32)
    norm = float(np.linalg.norm(values))
    return values / norm if norm > 0 else values


def _frame_json(frame: _Frame) -> dict[str, Any]:
    return {
        "size": [frame.size[0], frame.size[1]],
        "xy": _b64(_quantise_xy(frame.xy, frame.size)),
        "orb": _b64(frame.descriptors),
        "hist": _b64(_histogram_bytes(frame.histogram.astype(np.float64))),
        "layout": _b64(_layout_bytes(frame.layout)),
    }


def _b64(array: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


_HIST_LENGTH = _HIST_BINS[0] * _HIST_BINS[1] + _GREY_BINS
_LAYOUT_LENGTH = _LAYOUT[0] * _LAYOUT[1]


def _parse(signature: Mapping[str, Any]) -> list[_Frame]:
    if not isinstance(signature, Mapping) or signature.get("v") != SIGNATURE_VERSION:
        raise ValueError(
            f"not a version {SIGNATURE_VERSION} media signature: "
            f"{str(dict(signature) if isinstance(signature, Mapping) else signature)[:80]}"
        )
    raw_frames = signature.get("frames")
    if not isinstance(raw_frames, list) or not raw_frames:
        raise ValueError("a media signature without frames")
    frames = []
    for raw in raw_frames:
        try:
            size = (int(raw["size"][0]), int(raw["size"][1]))
            xy = _unb64(raw["xy"], np.uint8).reshape(-1, 2)
            descriptors = _unb64(raw["orb"], np.uint8).reshape(-1, DESCRIPTOR_BYTES)
            histogram = _unb64(raw["hist"], np.uint8)
            layout = _unb64(raw["layout"], np.int8)
        except (KeyError, TypeError, IndexError, ValueError, binascii.Error) as exc:
            raise ValueError(f"a damaged media signature frame: {exc}") from exc
        if (
            len(xy) != len(descriptors)
            or histogram.shape != (_HIST_LENGTH,)
            or layout.shape != (_LAYOUT_LENGTH,)
            or min(size) < 1
        ):
            raise ValueError("a damaged media signature frame: inconsistent lengths")
        frames.append(
            _Frame(
                _dequantise_xy(xy, size),
                np.ascontiguousarray(descriptors),
                _histogram_from_bytes(histogram),
                _layout_from_bytes(layout),
                size,
            )
        )
    return frames


def _unb64(text: Any, dtype: type[np.generic]) -> npt.NDArray[Any]:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    return np.frombuffer(base64.b64decode(text, validate=True), dtype=dtype)


def _pair_score(a: _Frame, b: _Frame) -> float:
    """The similarity of two frames (see the module): geometric evidence, helped by
    appearance. Computed in a fixed order of the two, so it is symmetric."""
    if a.descriptors.tobytes() > b.descriptors.tobytes():
        a, b = b, a
    evidence = _geometric_evidence(a, b)
    geometric = min(1.0, evidence / _evidence_full(min(len(a.xy), len(b.xy))))
    colour = float(np.minimum(a.histogram, b.histogram).sum())
    layout = max(0.0, float(a.layout @ b.layout))
    appearance = min(1.0, max(0.0, colour * layout))
    score = 1.0 - (1.0 - geometric) * (1.0 - APPEARANCE_WEIGHT * appearance)
    return min(1.0, max(0.0, score))


def _evidence_full(keypoints: int) -> float:
    """Evidence that proves one scene alone: :data:`EVIDENCE_FULL` between frames with all
    their keypoints, down to :data:`EVIDENCE_FULL_FEW` for a video's frames that share the
    budget (chance matches fall with the keypoints: the most seen between different scenes
    is 2 at every budget, 128, 64 or 42)."""
    share = (keypoints - FEW_KEYPOINTS) / (SIGNATURE_KEYPOINTS - FEW_KEYPOINTS)
    return EVIDENCE_FULL_FEW + (EVIDENCE_FULL - EVIDENCE_FULL_FEW) * min(1.0, max(0.0, share))


def _geometric_evidence(a: _Frame, b: _Frame) -> int:
    """Inliers beyond the minimal sample of the better of a homography (4 points) and a
    similarity transform (2 points) fitted by RANSAC to the mutual, ratio-tested matches."""
    cv2 = import_cv2()
    if len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return 0
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    forward = matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    backward = {
        m[0].queryIdx: m[0].trainIdx
        for m in matcher.knnMatch(b.descriptors, a.descriptors, k=1)
        if m
    }
    good = [
        pair[0]
        for pair in forward
        if len(pair) == 2
        and pair[0].distance < RATIO_TEST * pair[1].distance
        and backward.get(pair[0].trainIdx) == pair[0].queryIdx
    ]
    if len(good) < 4:
        return 0
    src = a.xy[[m.queryIdx for m in good]].reshape(-1, 1, 2)
    dst = b.xy[[m.trainIdx for m in good]].reshape(-1, 1, 2)
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX)
    homography = int(mask.sum()) - 4 if mask is not None else 0
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX
    )
    similar = 0
    if transform is not None and mask is not None:
        scale = math.sqrt(abs(float(np.linalg.det(transform[:, :2]))))
        if 0.2 < scale < 5.0:  # a plausible zoom between two phones
            similar = int(mask.sum()) - 2
    return max(0, homography, similar)
