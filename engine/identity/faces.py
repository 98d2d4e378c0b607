"""Faces: find them in an image, turn each into a 128-d embedding, match against a gallery.

:class:`FaceEncoder` runs dlib's HOG frontal-face detector, its 5-point shape predictor and its
ResNet face-recognition network (the model files come from the ``face_recognition_models``
package, found by path). :class:`FaceGallery` holds known embeddings as one float32 matrix and
finds the nearest one with a single vectorised distance computation.

Two embeddings of the same person are close in Euclidean distance; dlib's published rule is
"same person if distance < 0.6" (99.38 % on LFW). See :data:`FACE_MATCH_THRESHOLD` for ours.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.inbound import OutsideFileError, read_outside_file

Image = npt.NDArray[np.uint8]
Embedding = npt.NDArray[np.float32]
Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels

EMBEDDING_DIM = 128
EMBEDDING_BYTES = EMBEDDING_DIM * 4  # float32

# Calibrated on ../shared/testdata/faces with this encoder (5-point landmarks, grayscale HOG
# detection): 13 faces of 5 people; tests/engine/test_faces.py recomputes these and fails if
# the threshold no longer separates them with at least 0.1 to spare on each side.
#   same person      (15 pairs): 0.067 – 0.432 (worst: obama3.jpg vs train/obama/obama2.jpg)
#   different people (63 pairs): 0.755 – 1.019 (closest: obama_partial_face.jpg vs
#                                               train/alex_lacamoire/img1.jpg)
# dlib's own rule is 0.6. We take 0.55: 0.12 above the worst same-person pair and 0.20 below
# the closest different pair. Erring strict is deliberate: a false match silently merges two
# people's histories, while a false reject only makes a second Person_XXXXXXXX that an admin
# can merge.
FACE_MATCH_THRESHOLD = 0.55

# HOG detection cost grows with the pixel count (×4 per upsample). Full-HD camera frames are
# searched at full resolution; larger photos (phones: 4000 px) are shrunk for detection only,
# and landmarks and embeddings are still computed on the full-resolution image.
DETECT_MAX_SIDE_PX = 1920

SHAPE_PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
RECOGNITION_MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"


class FaceModelsMissingError(RuntimeError):
    """dlib or the ``face_recognition_models`` data files are not installed."""


class ImageReadError(ValueError):
    """An image file is missing or cannot be decoded. The message names the file."""


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """One face found in an image.

    ``box`` is (left, top, right, bottom) in pixels of the image given to
    :meth:`FaceEncoder.encode`, clipped to the image. ``embedding`` is float32[128] (unit-free;
    compare with Euclidean distance). ``score`` is the HOG detector's confidence margin
    (> 0; higher is more face-like).
    """

    box: Box
    embedding: Embedding
    score: float


def face_models_dir() -> Path:
    """Folder holding dlib's ``.dat`` model files from the ``face_recognition_models``
    package. Found by path: importing that package imports ``pkg_resources``."""
    bundle = getattr(sys, "_MEIPASS", None)  # the PyInstaller app ships them as data
    if bundle is not None and (Path(bundle) / "face_recognition_models" / "models").is_dir():
        return Path(bundle) / "face_recognition_models" / "models"
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelsMissingError(
            "face_recognition_models is not installed (it carries dlib's face model files)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


# dlib's face models as loaded, per folder, shared by the process's encoders; and the lock
# that serialises their use (dlib's network keeps scratch buffers per instance).
_MODELS_LOCK = threading.Lock()
_LOADED_MODELS: dict[Path, tuple[Any, Any, Any]] = {}


def _load_models(folder: Path) -> tuple[Any, Any, Any]:
    dlib = _import_dlib()
    paths = [folder / SHAPE_PREDICTOR_FILE, folder / RECOGNITION_MODEL_FILE]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FaceModelsMissingError(f"face model file(s) missing: {', '.join(missing)}")
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(paths[0])),
        dlib.face_recognition_model_v1(str(paths[1])),
    )


class FaceEncoder:
    """Finds faces in BGR images and computes their dlib embeddings.

    The models (~35 MB in memory) load on first use, once per process and folder: encoders
    of one process share them (an engine restarted in the same process, a console's and its
    engine's; loading takes ~0.3 s of CPU). Thread-safe: any thread may call :meth:`encode`;
    calls on the encoders of one process take turns, because dlib's network keeps scratch
    buffers per instance. Cost on one core: detection ~50 ms per 0.25 MP at ``upsample=1``,
    plus ~75 ms per face for landmarks and embedding.
    """

    def __init__(
        self, models_dir: Path | None = None, detect_max_side_px: int | None = DETECT_MAX_SIDE_PX
    ) -> None:
        self._models_dir = models_dir
        self._detect_max_side_px = detect_max_side_px
        # One lock for every encoder of the process: they may share loaded models.
        self._lock = _MODELS_LOCK
        self._models: tuple[Any, Any, Any] | None = None

    def _load(self) -> tuple[Any, Any, Any]:
        # Called with self._lock held.
        if self._models is None:
            folder = self._models_dir or face_models_dir()
            models = _LOADED_MODELS.get(folder)
            if models is None:
                models = _LOADED_MODELS[folder] = _load_models(folder)
            self._models = models
        return self._models

    def load(self) -> None:
        """Load the models now rather than on the first :meth:`encode` (e.g. at start-up)."""
        with self._lock:
            self._load()

    def detect(self, image_bgr: Image, upsample: int = 1) -> list[tuple[Box, float]]:
        """Where the faces in ``image_bgr`` are, left to right, as (box, detector score), without
        computing embeddings (the ~75 ms per face part of :meth:`encode`)."""
        dlib = _import_dlib()
        with self._lock:
            detector, _, _ = self._load()
            rects, scores = self._detect(detector, dlib, image_bgr, upsample)
        height, width = image_bgr.shape[:2]
        found = [
            (_clip(rect, width, height), float(s)) for rect, s in zip(rects, scores, strict=True)
        ]
        return sorted(found, key=lambda face: face[0][0])

    def encode(self, image_bgr: Image, upsample: int = 1) -> list[FaceObservation]:
        """Every face in ``image_bgr`` (H×W×3 uint8 BGR, as OpenCV decodes), left to right.

        ``upsample`` doubles the image that many times before detection: 0 finds faces of
        about 80 px and up, 1 about 40 px, at four times the cost.
        """
        cv2 = import_cv2()
        dlib = _import_dlib()
        with self._lock:
            detector, predictor, network = self._load()
            rects, scores = self._detect(detector, dlib, image_bgr, upsample)
            if not rects:
                return []
            rgb = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
            shapes = dlib.full_object_detections()
            for rect in rects:
                shapes.append(predictor(rgb, rect))
            descriptors = network.compute_face_descriptor(rgb, shapes)
        height, width = image_bgr.shape[:2]
        faces = [
            FaceObservation(
                box=_clip(rect, width, height),
                embedding=np.asarray(descriptor, dtype=np.float32).reshape(EMBEDDING_DIM),
                score=float(score),
            )
            for rect, score, descriptor in zip(rects, scores, descriptors, strict=True)
        ]
        return sorted(faces, key=lambda face: face.box[0])

    def _detect(
        self, detector: Any, dlib: ModuleType, image_bgr: Image, upsample: int
    ) -> tuple[list[Any], list[float]]:
        """dlib rectangles in full-resolution pixels (unclipped: a face may run off the
        edge, and landmarks fit better on the whole box), and their scores."""
        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(
                f"expected an H×W×3 uint8 BGR image, got {image_bgr.dtype} {image_bgr.shape}"
            )
        if upsample < 0:
            raise ValueError(f"upsample must be 0 or more, got {upsample}")
        cv2 = import_cv2()
        height, width = image_bgr.shape[:2]
        scale = 1.0
        if self._detect_max_side_px is not None and max(height, width) > self._detect_max_side_px:
            scale = self._detect_max_side_px / max(height, width)
        # Grayscale HOG: ~30 % faster than RGB and finds the same faces.
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        rects, scores, _ = detector.run(np.ascontiguousarray(gray), upsample, 0.0)
        full = [
            dlib.rectangle(
                round(r.left() / scale),
                round(r.top() / scale),
                round(r.right() / scale),
                round(r.bottom() / scale),
            )
            for r in rects
        ]
        return full, [float(s) for s in scores]


def _clip(rect: Any, width: int, height: int) -> Box:
    return (
        max(0, int(rect.left())),
        max(0, int(rect.top())),
        min(width, int(rect.right())),
        min(height, int(rect.bottom())),
    )


def _import_dlib() -> ModuleType:
    # Imported on first use, not at start-up. A plain import statement (not importlib) so
    # that PyInstaller's analysis sees it; dlib ships no type information.
    try:
        import dlib  # type: ignore[import-untyped]
    except ImportError as exc:
        raise FaceModelsMissingError(f"dlib cannot be imported: {exc}") from exc
    module: ModuleType = dlib
    return module


MAX_IMAGE_PIXELS = 64_000_000  # 8000×8000: far more than a face photo needs (~190 MB BGR)
MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024  # a photo file; counted while read, not from stat


def read_image(path: Path) -> Image:
    """Decode an image file to BGR uint8. Raises :class:`ImageReadError` naming the file if
    it is missing, not a regular file (a FIFO or a device is never waited on or read), over
    :data:`MAX_IMAGE_FILE_BYTES`, not an image OpenCV can decode, or larger than
    :data:`MAX_IMAGE_PIXELS` (checked from the file's header before decoding: a
    30000×30000 PNG would take minutes and gigabytes)."""
    try:
        raw = read_outside_file(path, MAX_IMAGE_FILE_BYTES)
    except OutsideFileError as exc:
        raise ImageReadError(f"no such image file: {path}" if exc.missing else str(exc)) from None
    cv2 = import_cv2()
    # imdecode rather than imread: imread cannot open non-ASCII paths on Windows.
    data = np.frombuffer(raw, dtype=np.uint8)
    size = image_size_from_header(data[:65536].tobytes())
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise ImageReadError(
            f"{path} is {size[0]}×{size[1]} pixels; images up to {MAX_IMAGE_PIXELS:,} pixels "
            "are accepted (scale it down)"
        )
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as exc:  # e.g. beyond OpenCV's own pixel limit
        raise ImageReadError(f"cannot read {path} as an image: {exc.err}") from None
    if image is None:
        raise ImageReadError(f"cannot read {path} as an image")
    if image.shape[0] * image.shape[1] > MAX_IMAGE_PIXELS:
        raise ImageReadError(f"{path} is larger than {MAX_IMAGE_PIXELS:,} pixels")
    return np.asarray(image, dtype=np.uint8)


def image_size_from_header(head: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header without decoding, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24 and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head.startswith(b"\xff\xd8"):
        at = 2
        while at + 9 < len(head):
            if head[at] != 0xFF:
                return None
            marker = head[at + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
                at += 2
                continue
            length = int.from_bytes(head[at + 2 : at + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
                height = int.from_bytes(head[at + 5 : at + 7], "big")
                width = int.from_bytes(head[at + 7 : at + 9], "big")
                return width, height
            at += 2 + length
    return None


def embedding_to_bytes(embedding: Embedding) -> bytes:
    """The storage form: 128 little-endian float32 values, 512 bytes."""
    vector = np.asarray(embedding, dtype="<f4").reshape(-1)
    if vector.shape != (EMBEDDING_DIM,):
        raise ValueError(f"expected {EMBEDDING_DIM} values, got {vector.shape[0]}")
    return vector.tobytes()


def embedding_from_bytes(data: bytes) -> Embedding:
    """Inverse of :func:`embedding_to_bytes` (native-endian float32[128])."""
    if len(data) != EMBEDDING_BYTES:
        raise ValueError(f"a stored embedding is {EMBEDDING_BYTES} bytes, got {len(data)}")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


@dataclass(frozen=True, slots=True)
class Match:
    """The nearest known embedding's person and its Euclidean distance to the query."""

    person_id: int
    distance: float


@dataclass(frozen=True, slots=True)
class _GalleryState:
    matrix: npt.NDArray[np.float32]  # (N, 128), C-contiguous
    squared_norms: npt.NDArray[np.float32]  # (N,)
    person_ids: npt.NDArray[np.int64]  # (N,)


def _state(matrix: npt.NDArray[np.float32], person_ids: npt.NDArray[np.int64]) -> _GalleryState:
    own = np.ascontiguousarray(matrix, dtype=np.float32)
    state = _GalleryState(
        own, np.einsum("ij,ij->i", own, own), np.array(person_ids, dtype=np.int64)
    )
    for array in (state.matrix, state.squared_norms, state.person_ids):
        array.setflags(write=False)  # snapshots are shared between threads: never edited
    return state


_BLOCK_DISTANCES = 8_000_000  # (queries × gallery) distances computed at once: 32 MB
_EMPTY = _state(np.zeros((0, EMBEDDING_DIM), np.float32), np.zeros(0, np.int64))


class FaceGallery:
    """Known face embeddings (several per person allowed) and nearest-neighbour matching.

    Reads never block: every change builds a new immutable snapshot and swaps it in, so any
    number of threads may call :meth:`match` while one thread edits. Changes are serialised
    with a lock and copy the matrix (~15 ms at 200,000 embeddings). Matching is an exhaustive
    scan, memory-bound: one query costs ~0.2 ms per 10,000 embeddings (``benchmarks/faces.py``).
    """

    def __init__(self, threshold: float = FACE_MATCH_THRESHOLD) -> None:
        if threshold <= 0:
            raise ValueError(f"threshold must be positive, got {threshold}")
        self.threshold = threshold
        self._write_lock = threading.Lock()
        self._snapshot = _EMPTY

    def __len__(self) -> int:
        """Number of embeddings (not people)."""
        return int(self._snapshot.person_ids.shape[0])

    def person_ids(self) -> set[int]:
        """The people with at least one embedding in the gallery."""
        return {int(i) for i in np.unique(self._snapshot.person_ids)}

    def replace(self, embeddings: npt.ArrayLike, person_ids: Sequence[int]) -> None:
        """Replace the whole gallery: ``embeddings`` is (N, 128), ``person_ids`` N ints."""
        matrix = _as_matrix(embeddings)
        ids = np.asarray(person_ids, dtype=np.int64).reshape(-1)
        if ids.shape[0] != matrix.shape[0]:
            raise ValueError(f"{matrix.shape[0]} embeddings but {ids.shape[0]} person ids")
        with self._write_lock:
            self._snapshot = _state(matrix.copy(), ids.copy())  # never alias the caller's arrays

    def add(self, person_id: int, embeddings: npt.ArrayLike) -> None:
        """Add one (128,) or several (K, 128) embeddings of ``person_id``."""
        matrix = _as_matrix(embeddings)
        with self._write_lock:
            old = self._snapshot
            self._snapshot = _state(
                np.concatenate([old.matrix, matrix]),
                np.concatenate([old.person_ids, np.full(matrix.shape[0], person_id, np.int64)]),
            )

    def remove_person(self, person_id: int) -> int:
        """Forget every embedding of ``person_id``; returns how many there were."""
        with self._write_lock:
            old = self._snapshot
            keep = old.person_ids != person_id
            self._snapshot = _state(old.matrix[keep], old.person_ids[keep])
            return int(np.count_nonzero(~keep))

    def set_person(self, person_id: int, embeddings: npt.ArrayLike) -> None:
        """Make ``embeddings`` (K, 128) the only ones of ``person_id`` (K may be 0)."""
        matrix = _as_matrix(embeddings)
        with self._write_lock:
            old = self._snapshot
            keep = old.person_ids != person_id
            self._snapshot = _state(
                np.concatenate([old.matrix[keep], matrix]),
                np.concatenate(
                    [old.person_ids[keep], np.full(matrix.shape[0], person_id, np.int64)]
                ),
            )

    def nearest(self, embedding: npt.ArrayLike) -> Match | None:
        """The closest embedding's person and distance, whatever the distance; None if the
        gallery is empty."""
        query = _as_matrix(embedding).reshape(EMBEDDING_DIM)
        snapshot = self._snapshot
        if snapshot.person_ids.shape[0] == 0:
            return None
        # ‖g − q‖² = ‖g‖² − 2 g·q + ‖q‖²; ‖q‖² is the same for every row, so it is left out
        # of the argmin and the winner's distance is recomputed exactly (no cancellation).
        # einsum, not `@`: OpenBLAS splits this product over threads, and when another core is
        # busy (camera workers keep them busy) the hand-off stalls: p99 4–8 ms against 0.2 ms
        # for einsum's single-threaded SIMD loop (10,000 × 128, 2 cores, one loaded).
        partial = snapshot.squared_norms - 2.0 * np.einsum("ij,j->i", snapshot.matrix, query)
        best = int(np.argmin(partial))
        distance = float(np.linalg.norm(snapshot.matrix[best] - query))
        return Match(int(snapshot.person_ids[best]), distance)

    def match(self, embedding: npt.ArrayLike) -> Match | None:
        """The nearest known person if closer than :attr:`threshold`, else None."""
        found = self.nearest(embedding)
        return found if found is not None and found.distance < self.threshold else None

    def nearest_many(self, embeddings: npt.ArrayLike) -> list[Match | None]:
        """:meth:`nearest` for each row of (M, 128) ``embeddings``, as one (M, N) product."""
        queries = _as_matrix(embeddings)
        snapshot = self._snapshot
        if snapshot.person_ids.shape[0] == 0 or queries.shape[0] == 0:
            return [None] * queries.shape[0]
        # Blocks of queries keep the (block, N) distance matrix within _BLOCK_DISTANCES.
        block_rows = max(1, _BLOCK_DISTANCES // snapshot.person_ids.shape[0])
        best = np.concatenate(
            [
                np.argmin(snapshot.squared_norms - 2.0 * (block @ snapshot.matrix.T), axis=1)
                for block in np.array_split(queries, -(-queries.shape[0] // block_rows))
            ]
        )
        distances = np.linalg.norm(snapshot.matrix[best] - queries, axis=1)
        return [
            Match(int(snapshot.person_ids[b]), float(d))
            for b, d in zip(best, distances, strict=True)
        ]

    def match_many(self, embeddings: npt.ArrayLike) -> list[Match | None]:
        """:meth:`match` for each row of (M, 128) ``embeddings``."""
        return [
            m if m is not None and m.distance < self.threshold else None
            for m in self.nearest_many(embeddings)
        ]


def _as_matrix(embeddings: npt.ArrayLike) -> npt.NDArray[np.float32]:
    matrix = np.asarray(embeddings, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != EMBEDDING_DIM:
        raise ValueError(f"expected (N, {EMBEDDING_DIM}) embeddings, got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("embeddings contain NaN or infinity")
    return matrix
