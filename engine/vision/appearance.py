"""How a tracked person looks: named clothing colours, a relative size, and a compact
colour/texture embedding, built from the track's best few crops.

No re-identification weights ship usable offline (and a plain HSV histogram beat an
ImageNet MobileNet on these cameras), so the features are made by hand:

- **Regions by box geometry**: the torso (upper body) is rows 20–50 % of the person box,
  the legs (lower body) rows 55–88 %, both narrowed to the middle of the box so that little
  background enters. Head and feet are left out.
- **Named colours** (:data:`COLOUR_NAMES`) per pixel from HSV after a mild grey-world
  white balance of the whole frame (gains clamped to ±25 %, so a warm or cold light shifts
  names less and a scene full of grass does not repaint people). A region's colour is the
  most frequent name, and its *colour fractions* (share of pixels per name) are kept for
  ranking descriptions.
- **Embedding** (:data:`EMBEDDING_DIMS` float16, L2-normalised): per region a hue ×
  saturation histogram of chromatic pixels plus a brightness histogram of grey pixels,
  the colour fractions, and a gradient-orientation histogram (stripes, checks, prints).
  Histograms are square-rooted first, so the cosine of two embeddings is close to the
  Bhattacharyya coefficient of their histograms.
- **Crops**: only detections on detector runs, wholly inside the frame, not overlapping
  another person, at least :data:`MIN_CROP_HEIGHT_PX` tall; ranked by size × detection
  confidence × sharpness; the best :data:`KEEP_CROPS` per track are kept (48 × 128 px each).

The size kept is the box height and foot position as fractions of the frame: whether a
person is tall or short can only be said relative to other people the same camera saw at
the same place in the frame (see :mod:`engine.history.appearance`), never in centimetres.

One :class:`AppearanceCollector` per camera analyzer, on that camera's worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.events import Event
from engine.store.appearance_models import (
    COLOUR_NAMES,
    EMBEDDING_DIMS,
    FEATURE_VERSION,
    N_COLOURS,
)
from engine.store.commands import RecordAppearance
from engine.vision.geometry import Box

Image = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]

_INDEX = {name: i for i, name in enumerate(COLOUR_NAMES)}

CROP_W, CROP_H = 48, 128  # every kept crop is resized to this (pixels)
UPPER_ROWS, UPPER_COLS = (0.20, 0.50), (0.25, 0.75)  # torso, as fractions of the box
LOWER_ROWS, LOWER_COLS = (0.55, 0.88), (0.30, 0.70)  # legs
MIN_CROP_HEIGHT_PX = 48
KEEP_CROPS = 5
EDGE_MARGIN_PX = 2  # a box this close to the frame's edge is cut off: not a whole person
OVERLAP_REFUSED = 0.10  # share of the box covered by another detection that spoils a crop
SHARPNESS_HALF = 60.0  # Laplacian variance at which the sharpness factor is one half
SIZE_CAP_PX = 220.0  # larger boxes rank no better than this
WHITE_BALANCE_LIMIT = 1.25  # grey-world gains are clamped to [1/limit, limit]
MIN_NAMED_SHARE = 0.20  # a region whose most frequent colour covers less is left unnamed

HUE_BINS, SAT_BINS, GREY_BINS, ORIENT_BINS = 8, 3, 4, 8
_REGION_DIMS = HUE_BINS * SAT_BINS + GREY_BINS + N_COLOURS + ORIENT_BINS + 1
if 2 * _REGION_DIMS != EMBEDDING_DIMS:  # the stored layout (engine.store.appearance_models)
    raise ImportError("the appearance embedding no longer matches the stored layout")
# Weights of each block inside a region's part of the embedding (before normalising).
_W_HIST, _W_NAMES, _W_TEXTURE = 1.0, 0.8, 0.5


@dataclass(frozen=True, slots=True)
class AppearanceRecord:
    """What a track looked like. ``upper_colour``/``lower_colour``: the most frequent
    named colour of torso and legs (None when no colour dominates); ``fractions``: share of
    each of :data:`COLOUR_NAMES` in the torso then the legs (2 × 13 values);
    ``embedding``: :data:`EMBEDDING_DIMS` L2-normalised float16; ``height_frac`` and
    ``foot_y_frac``: median box height and foot row as fractions of the frame height
    (None when no crop showed the whole person); ``crops``: how many crops it comes from."""

    upper_colour: str | None
    lower_colour: str | None
    fractions: npt.NDArray[np.float16]
    embedding: npt.NDArray[np.float16]
    height_frac: float | None
    foot_y_frac: float | None
    crops: int
    version: int = FEATURE_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class AppearanceSeen(Event):
    """A finished track's appearance, published on the camera's worker thread right after
    its ``person.left`` event. Not history by itself: the runtime stores it as a
    ``track_appearances`` row of the camera's track. ``snapshot``: the data-dir relative
    path of the track's best snapshot, its thumbnail (None if none was written)."""

    camera: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    snapshot: str | None
    appearance: AppearanceRecord


@dataclass(slots=True)
class _Candidate:
    quality: float
    crop: Image  # CROP_W × CROP_H BGR, white-balanced
    height_frac: float
    foot_y_frac: float


@dataclass(slots=True)
class _TrackCrops:
    candidates: list[_Candidate] = field(default_factory=list)


def colour_names_of(hsv: Image) -> npt.NDArray[np.intp]:
    """Index into :data:`COLOUR_NAMES` of each pixel of an OpenCV HSV image (H 0–179)."""
    h = hsv[..., 0].astype(np.float32) * 2.0  # degrees
    s = hsv[..., 1].astype(np.float32) / 255.0
    v = hsv[..., 2].astype(np.float32) / 255.0
    chroma = s * v
    names = np.full(h.shape, _INDEX["grey"], dtype=np.intp)
    hue_name = np.select(
        [
            (h < 15) | (h >= 340),
            h < 40,
            h < 70,
            h < 165,
            h < 255,
            h < 290,
        ],
        [
            _INDEX["red"],
            _INDEX["orange"],
            _INDEX["yellow"],
            _INDEX["green"],
            _INDEX["blue"],
            _INDEX["purple"],
        ],
        default=_INDEX["pink"],
    )
    chromatic = (chroma >= 0.14) & (s >= 0.22)
    names = np.where(chromatic, hue_name, names)
    warm = (hue_name == _INDEX["red"]) | (hue_name == _INDEX["orange"])
    names = np.where(chromatic & warm & (v < 0.50), _INDEX["brown"], names)
    names = np.where(
        chromatic
        & ((hue_name == _INDEX["orange"]) | (hue_name == _INDEX["yellow"]))
        & (s < 0.45)
        & (v >= 0.50),
        _INDEX["beige"],
        names,
    )
    names = np.where(
        chromatic & (hue_name == _INDEX["red"]) & (s < 0.50) & (v >= 0.60), _INDEX["pink"], names
    )
    names = np.where(chromatic & (hue_name == _INDEX["blue"]) & (v < 0.42), _INDEX["navy"], names)
    grey = ~chromatic
    names = np.where(grey & (v < 0.22), _INDEX["black"], names)
    names = np.where(grey & (v >= 0.72) & (s < 0.18), _INDEX["white"], names)
    # Very dark pixels of any hue read as black to a person.
    names = np.where(v < 0.16, _INDEX["black"], names)
    return names


def white_balance_gains(image: Image) -> npt.NDArray[np.float32]:
    """Grey-world gains (B, G, R) of a whole frame, clamped to ±25 %: multiplying a crop
    by them takes out most of a light's colour cast."""
    small = image[::8, ::8].reshape(-1, 3).astype(np.float32)
    means = small.mean(axis=0) + 1e-3
    gains = means.mean() / means
    clipped: npt.NDArray[np.float32] = np.clip(
        gains, 1 / WHITE_BALANCE_LIMIT, WHITE_BALANCE_LIMIT
    ).astype(np.float32)
    return clipped


def _region(crop: Image, rows: tuple[float, float], cols: tuple[float, float]) -> Image:
    h, w = crop.shape[:2]
    return crop[int(rows[0] * h) : int(rows[1] * h), int(cols[0] * w) : int(cols[1] * w)]


def _region_features(region_bgr: Image) -> tuple[Vector, Vector]:
    """(colour fractions, embedding part) of one region of a crop."""
    cv2 = import_cv2()
    hsv = cv2.cvtColor(region_bgr, cv2.COLOR_BGR2HSV)
    names = colour_names_of(hsv).ravel()
    count = max(names.size, 1)
    fractions = np.bincount(names, minlength=N_COLOURS).astype(np.float32) / count
    h = hsv[..., 0].ravel().astype(np.int32)
    s = hsv[..., 1].ravel().astype(np.float32) / 255.0
    v = hsv[..., 2].ravel().astype(np.float32) / 255.0
    chromatic = (s * v >= 0.14) & (s >= 0.22)
    hue_bin = np.minimum(h * HUE_BINS // 180, HUE_BINS - 1)
    sat_bin = np.minimum((s * SAT_BINS).astype(np.int32), SAT_BINS - 1)
    hs = np.bincount(
        (hue_bin * SAT_BINS + sat_bin)[chromatic], minlength=HUE_BINS * SAT_BINS
    ).astype(np.float32)
    grey_bin = np.minimum((v * GREY_BINS).astype(np.int32), GREY_BINS - 1)
    grey = np.bincount(grey_bin[~chromatic], minlength=GREY_BINS).astype(np.float32)
    hist = np.concatenate([hs, grey]) / count
    gray = cv2.cvtColor(region_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy).ravel()
    angle = (np.arctan2(gy, gx).ravel() % np.pi) / np.pi  # unsigned orientation, 0..1
    orient = np.bincount(
        np.minimum((angle * ORIENT_BINS).astype(np.int32), ORIENT_BINS - 1),
        weights=magnitude,
        minlength=ORIENT_BINS,
    ).astype(np.float32)
    total = float(magnitude.sum())
    orient = orient / total if total > 0 else orient
    busyness = np.float32(min(float(magnitude.mean()) / 60.0, 1.0))  # how textured, 0..1
    part = np.concatenate(
        [
            _W_HIST * np.sqrt(hist),
            _W_NAMES * np.sqrt(fractions),
            _W_TEXTURE * np.sqrt(orient),
            _W_TEXTURE * np.array([busyness], dtype=np.float32),
        ]
    )
    return fractions.astype(np.float32), part.astype(np.float32)


def crop_features(crop: Image) -> tuple[Vector, Vector]:
    """(colour fractions 2 × 13, unnormalised embedding) of one :data:`CROP_W` ×
    :data:`CROP_H` crop of a person box."""
    upper_f, upper_e = _region_features(_region(crop, UPPER_ROWS, UPPER_COLS))
    lower_f, lower_e = _region_features(_region(crop, LOWER_ROWS, LOWER_COLS))
    fractions: Vector = np.concatenate([upper_f, lower_f]).astype(np.float32)
    embedding: Vector = np.concatenate([upper_e, lower_e]).astype(np.float32)
    return fractions, embedding


def dominant_colour(fractions: Vector) -> str | None:
    """The most frequent named colour of one region's fractions, None if none dominates."""
    best = int(np.argmax(fractions))
    return COLOUR_NAMES[best] if float(fractions[best]) >= MIN_NAMED_SHARE else None


def record_from_crops(crops: list[Image], heights: list[tuple[float, float]]) -> AppearanceRecord:
    """The appearance of a track from its kept crops (and, per whole-person crop, box
    height and foot row as fractions of the frame height)."""
    fractions = np.zeros(2 * N_COLOURS, dtype=np.float32)
    embedding = np.zeros(EMBEDDING_DIMS, dtype=np.float32)
    for crop in crops:
        f, e = crop_features(crop)
        fractions += f
        norm = float(np.linalg.norm(e))
        embedding += e / norm if norm > 0 else e
    if crops:
        fractions /= len(crops)
    norm = float(np.linalg.norm(embedding))
    if norm > 0:
        embedding /= norm
    height = float(np.median([h for h, _ in heights])) if heights else None
    foot = float(np.median([f for _, f in heights])) if heights else None
    return AppearanceRecord(
        upper_colour=dominant_colour(fractions[:N_COLOURS]),
        lower_colour=dominant_colour(fractions[N_COLOURS:]),
        fractions=fractions.astype(np.float16),
        embedding=embedding.astype(np.float16),
        height_frac=height,
        foot_y_frac=foot,
        crops=len(crops),
    )


def sharpness(gray: Image) -> float:
    """Variance of the Laplacian of a grey crop: low for blurred (moving, defocused) crops."""
    cv2 = import_cv2()
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


class AppearanceCollector:
    """Keeps the best :data:`KEEP_CROPS` crops of every live track of one camera and turns
    them into an :class:`AppearanceRecord` when the track ends. Not thread-safe: the
    camera's worker thread only."""

    def __init__(self, keep: int = KEEP_CROPS) -> None:
        self.keep = max(1, keep)
        self._tracks: dict[int, _TrackCrops] = {}

    def observe(
        self, image: Image, people: list[tuple[int, Box, float]], others: list[Box]
    ) -> None:
        """Consider a crop of each ``(track id, detected box, confidence)`` seen by the
        detector in ``image``; ``others`` are all boxes detected in the frame (a person
        partly hidden by another gives no crop)."""
        if not people:
            return
        cv2 = import_cv2()
        frame_h, frame_w = image.shape[:2]
        gains: npt.NDArray[np.float32] | None = None
        for track_id, box, confidence in people:
            if box.h < MIN_CROP_HEIGHT_PX or box.w < 8:
                continue
            if (
                box.x < EDGE_MARGIN_PX
                or box.y < EDGE_MARGIN_PX
                or box.x + box.w > frame_w - EDGE_MARGIN_PX
                or box.y + box.h > frame_h - EDGE_MARGIN_PX
            ):
                continue
            if any(other is not box and _covered(box, other) > OVERLAP_REFUSED for other in others):
                continue
            x, y, w, h = box.as_ints()
            patch = image[y : y + h, x : x + w]
            if patch.size == 0:
                continue
            crop = cv2.resize(patch, (CROP_W, CROP_H), interpolation=cv2.INTER_AREA)
            sharp = sharpness(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))
            quality = (
                min(box.h, SIZE_CAP_PX) * max(confidence, 0.05) * sharp / (sharp + SHARPNESS_HALF)
            )
            held = self._tracks.setdefault(track_id, _TrackCrops())
            if len(held.candidates) >= self.keep and quality <= held.candidates[-1].quality:
                continue
            if gains is None:
                gains = white_balance_gains(image)
            balanced = np.clip(crop.astype(np.float32) * gains, 0, 255).astype(np.uint8)
            held.candidates.append(
                _Candidate(quality, balanced, box.h / frame_h, (box.y + box.h) / frame_h)
            )
            held.candidates.sort(key=lambda c: c.quality, reverse=True)
            del held.candidates[self.keep :]

    def finish(self, track_id: int) -> AppearanceRecord | None:
        """The record of an ended track (None if no good crop was ever seen); forgets it."""
        held = self._tracks.pop(track_id, None)
        if held is None or not held.candidates:
            return None
        return record_from_crops(
            [c.crop for c in held.candidates],
            [(c.height_frac, c.foot_y_frac) for c in held.candidates],
        )

    def crops_of(self, track_id: int) -> list[Image]:
        """The crops kept so far for a live track (for tests and annotation tools)."""
        held = self._tracks.get(track_id)
        return [c.crop for c in held.candidates] if held else []

    def retain(self, alive: set[int]) -> None:
        """Forget tracks that are gone without ending (tentative tracks that died)."""
        for track_id in [k for k in self._tracks if k not in alive]:
            del self._tracks[track_id]


def _covered(box: Box, other: Box) -> float:
    """Share of ``box``'s area covered by ``other``."""
    ix = max(0.0, min(box.x + box.w, other.x + other.w) - max(box.x, other.x))
    iy = max(0.0, min(box.y + box.h, other.y + other.h) - max(box.y, other.y))
    return ix * iy / max(box.area, 1.0)


def store_appearance(event: AppearanceSeen, camera_id: int) -> RecordAppearance:
    """The store command that files ``event`` for the camera whose database id is
    ``camera_id``."""
    record = event.appearance
    return RecordAppearance(
        camera_id=camera_id,
        track_id=event.track_id,
        first_seen=event.first_seen,
        last_seen=event.last_seen,
        snapshot=event.snapshot,
        upper_colour=record.upper_colour,
        lower_colour=record.lower_colour,
        fractions=record.fractions.astype(np.float16).tobytes(),
        embedding=record.embedding.astype(np.float16).tobytes(),
        feature_version=record.version,
        crops=record.crops,
        height_frac=record.height_frac,
        foot_y_frac=record.foot_y_frac,
    )
