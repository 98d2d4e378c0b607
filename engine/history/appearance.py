"""Appearance search: find tracked people by a description ("red top", "dark jacket and
jeans") or by example (a track → the tracks that look most like it, on every camera and
day).

It ranks; it never merges identities. Two tracks ranked alike are a lead for a person to
check in replay, not the same person.

The stored appearances (``track_appearances``, see :mod:`engine.vision.appearance`) are
held in memory as numpy matrices by one :class:`AppearanceIndex` per database, loaded on
the first query and refreshed incrementally (rows above the highest id held; a full reload
when rows were removed or replaced), so a query over 100,000 tracks is a matrix product
and a few masks. Requests are frozen and run on the query service's pool
(:class:`AppearanceSearchRequest`, :class:`SimilarTracksRequest`); the index takes its own
lock, so two pool threads may query at once.

Scores, 0–1:

- **description**: for each part of the body the words name (torso, legs, or either when
  no garment is named), the share of that region's pixels that have one of the asked
  colours, divided by :data:`FULL_MATCH_SHARE` and capped at 1; parts multiply. "dark"
  means black, navy, grey or brown; "jeans" without a colour means blue or navy.
- **by example**: ``0.7 × cosine of the embeddings + 0.3 × colour agreement`` (histogram
  intersection of the named-colour fractions of torso and legs). A track seen on the same
  camera at the same time as the example (together for 2 s or more) is another person: its
  score is quartered.
- **height**: "tall"/"short" count only where the camera saw enough whole people
  (:data:`HEIGHT_MIN_TRACKS`) for box height to be predicted from the foot's row; a track is
  tall when its box is in the top fifth of that camera's ratio of actual to predicted height,
  short in the bottom fifth. It is relative to the people that camera sees, never a
  measurement, and left out elsewhere.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from engine.store.appearance_models import (
    COLOUR_NAMES,
    EMBEDDING_DIMS,
    FEATURE_VERSION,
    N_COLOURS,
    TrackAppearance,
)
from engine.store.database import Store
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person

MAX_RESULTS = 200
COUNT_CHECK_S = 10.0  # how often a refresh counts the rows to notice removed ones
DEFAULT_RESULTS = 20
FULL_MATCH_SHARE = 0.45  # a region this much of the asked colours counts as a full match
EMBEDDING_WEIGHT = 0.7  # by example: cosine weight; the rest is colour agreement
SAME_TIME_PENALTY = 0.25  # same camera, overlapping time: another person
SAME_TIME_MIN_S = 2.0  # ...when both were seen together this long (a broken track overlaps less)
HEIGHT_MIN_TRACKS = 30  # whole-person tracks a camera needs before "tall"/"short" count
HEIGHT_MIN_R2 = 0.3  # ... and how well foot row must predict box height
HEIGHT_QUANTILE = 0.2  # the top/bottom fifth are tall/short
HEIGHT_MISMATCH = 0.3  # score factor when a track's size class contradicts the words

_COLOUR_INDEX = {name: i for i, name in enumerate(COLOUR_NAMES)}

COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in COLOUR_NAMES},
    "gray": ("grey",),
    "silver": ("grey", "white"),
    "dark": ("black", "navy", "grey", "brown"),
    "light": ("white", "grey", "beige"),
    "pale": ("white", "grey", "beige"),
    "crimson": ("red",),
    "scarlet": ("red",),
    "maroon": ("red", "brown"),
    "burgundy": ("red", "brown", "purple"),
    "violet": ("purple",),
    "lilac": ("purple", "pink"),
    "magenta": ("pink", "purple"),
    "turquoise": ("blue", "green"),
    "teal": ("blue", "green"),
    "cyan": ("blue",),
    "denim": ("blue", "navy"),
    "khaki": ("beige", "green", "brown"),
    "tan": ("beige", "brown"),
    "cream": ("white", "beige"),
    "olive": ("green", "brown"),
    "gold": ("yellow", "orange"),
}
UPPER_WORDS = frozenset(
    "top tops shirt shirts tshirt tee jacket jackets coat coats hoodie hoody sweater "  # noqa: SIM905
    "jumper pullover blouse vest cardigan fleece parka anorak blazer sweatshirt jersey "
    "upper torso polo".split()
)
LOWER_WORDS = frozenset(
    "trousers pants jeans shorts skirt leggings joggers chinos slacks bottoms lower legs "  # noqa: SIM905
    "tracksuit".split()
)
BOTH_WORDS = frozenset(("dress", "overalls", "suit", "outfit"))
IMPLIED_COLOURS = {"jeans": ("blue", "navy")}
SHADE_WORDS = frozenset(("dark", "light", "pale", "bright", "deep"))
HEIGHT_WORDS = {"tall": "tall", "big": "tall", "short": "short", "small": "short"}


class AppearanceQueryError(ValueError):
    """A description that names no colour (nothing to search for), or an unknown track."""


@dataclass(frozen=True, slots=True)
class Description:
    """Colours asked for the torso, the legs and either part (empty: not asked), and a
    relative size (``tall``/``short``) or None."""

    upper: frozenset[str] = frozenset()
    lower: frozenset[str] = frozenset()
    anywhere: frozenset[str] = frozenset()
    height: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.upper or self.lower or self.anywhere)

    def as_text(self) -> str:
        parts = []
        if self.upper:
            parts.append("top: " + "/".join(sorted(self.upper)))
        if self.lower:
            parts.append("bottom: " + "/".join(sorted(self.lower)))
        if self.anywhere:
            parts.append("anywhere: " + "/".join(sorted(self.anywhere)))
        if self.height:
            parts.append(f"size: {self.height}")
        return "; ".join(parts) or "nothing"


def parse_description(text: str) -> Description:
    """Read colour and garment words: colours before a garment word belong to it ("red
    top", "dark jacket and blue jeans"); a garment word with no colour of its own takes the
    colours given just after it ("trousers black"); colours left over belong to either
    part. Unknown words are ignored ("man in a …")."""
    words = re.findall(r"[a-z]+(?:-[a-z]+)?", text.lower())
    upper: set[str] = set()
    lower: set[str] = set()
    anywhere: set[str] = set()
    pending: list[str] = []
    last_part: set[str] | None = None  # a garment that came without colours
    height: str | None = None
    for position, raw in enumerate(words):
        word = raw if raw in COLOUR_WORDS else raw.replace("-", "")
        following = words[position + 1] if position + 1 < len(words) else ""
        if word in SHADE_WORDS and following in COLOUR_WORDS and following not in SHADE_WORDS:
            if word == "dark" and following == "blue":
                pending.append("navy")
            continue  # "light blue" is blue, "dark green" green: the colour word decides
        if word in COLOUR_WORDS:
            pending.extend(COLOUR_WORDS[word])
            continue
        if word in HEIGHT_WORDS:
            height = HEIGHT_WORDS[word]
            continue
        target = (
            [upper]
            if word in UPPER_WORDS
            else [lower]
            if word in LOWER_WORDS
            else [upper, lower]
            if word in BOTH_WORDS
            else None
        )
        if target is None:
            continue
        colours = pending or list(IMPLIED_COLOURS.get(word, ()))
        for part in target:
            part.update(colours)
        last_part = target[0] if not colours and len(target) == 1 else None
        pending = []
    if pending:
        if last_part is not None:
            last_part.update(pending)
        else:
            anywhere.update(pending)
    return Description(frozenset(upper), frozenset(lower), frozenset(anywhere), height)


@dataclass(frozen=True, slots=True)
class AppearanceHit:
    """One ranked track: where and when, how it looked, its thumbnail, and its score."""

    appearance_id: int
    camera_id: int
    camera_key: str
    camera_name: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    upper_colour: str | None
    lower_colour: str | None
    height_class: str | None
    snapshot: str | None  # data-dir relative path of the thumbnail
    score: float

    def looks(self) -> str:
        """``red top, blue bottom`` (``?`` where no colour dominated), and the relative size
        where the camera allows it: how the CLI and the pane word a hit."""
        text = f"{self.upper_colour or '?'} top, {self.lower_colour or '?'} bottom"
        return f"{text}, {self.height_class}" if self.height_class else text

    def as_json(self) -> dict[str, Any]:
        return {
            "appearance_id": self.appearance_id,
            "camera": self.camera_key,
            "camera_name": self.camera_name,
            "track_id": self.track_id,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "upper_colour": self.upper_colour,
            "lower_colour": self.lower_colour,
            "height_class": self.height_class,
            "snapshot": self.snapshot,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True, slots=True)
class AppearanceResults:
    """What a search found, best first; ``searched`` is how many tracks were compared and
    ``understood`` how the words were read (descriptions) or the example track."""

    hits: tuple[AppearanceHit, ...]
    searched: int
    understood: str
    example: AppearanceHit | None = None


@dataclass(slots=True)
class _Matrix:
    ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    cameras: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    tracks: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    first: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    last: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    fractions: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 2 * N_COLOURS), np.float32)
    )
    embeddings: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, EMBEDDING_DIMS), np.float32)
    )
    height: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    foot: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    size_class: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))

    def __len__(self) -> int:
        return int(self.ids.size)


def _epoch(value: datetime) -> float:
    return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()


class AppearanceIndex:
    """The stored appearances of one database as matrices (see module doc). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._m = _Matrix()
        self._max_id = 0
        self._rows_seen = 0
        self._counted_at = -1e9

    def refresh(self, store: Store) -> int:
        """Load the rows stored since the last refresh; returns how many tracks are held.
        Rows only arrive with higher ids (a replaced row gets a new one), so a refresh is
        one indexed ``max(id)``; counting the rows (a scan) to notice removed ones is done
        at most every :data:`COUNT_CHECK_S`, and then everything is loaded again. A removed
        row found meanwhile is skipped when results are read. Any thread."""
        current = TrackAppearance.feature_version == FEATURE_VERSION
        with self._lock, store.engine.connect() as connection:
            max_id = int(connection.scalar(select(func.max(TrackAppearance.id))) or 0)
            now = time.monotonic()
            counting = now - self._counted_at >= COUNT_CHECK_S
            if max_id == self._max_id and not counting:
                return len(self._m)
            new = _matrix_of(
                connection.execute(_ROWS.where(current, TrackAppearance.id > self._max_id)).all()
            )
            merged = _concat(self._m, new)
            if counting:
                self._counted_at = now
                count = connection.scalar(select(func.count(TrackAppearance.id)).where(current))
                if len(merged) != int(count or 0):
                    merged = _matrix_of(connection.execute(_ROWS.where(current)).all())
            if merged is not self._m:
                _classify_sizes(merged)
                self._m = merged
            self._max_id = max(max_id, int(merged.ids.max()) if len(merged) else 0)
            return len(self._m)

    def snapshot(self) -> _Matrix:
        with self._lock:
            return self._m

    def rank_description(
        self,
        description: Description,
        *,
        camera_ids: Sequence[int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_RESULTS,
    ) -> tuple[list[tuple[int, float, int]], int]:
        """(row id, score, size class) of the best ``limit`` tracks, and how many were
        compared."""
        m = self.snapshot()
        mask = _window(m, camera_ids, since, until)
        score = np.ones(len(m), np.float32)
        for wanted, parts in (
            (description.upper, (slice(0, N_COLOURS),)),
            (description.lower, (slice(N_COLOURS, 2 * N_COLOURS),)),
            (description.anywhere, (slice(0, N_COLOURS), slice(N_COLOURS, 2 * N_COLOURS))),
        ):
            if not wanted:
                continue
            columns = [_COLOUR_INDEX[c] for c in wanted]
            shares = [m.fractions[:, part][:, columns].sum(axis=1) for part in parts]
            share = np.maximum.reduce(shares) if len(shares) > 1 else shares[0]
            score *= np.minimum(share / FULL_MATCH_SHARE, 1.0)
        score = _apply_height(score, m, description.height)
        return _top(m, score, mask, limit)

    def rank_similar(
        self,
        row_id: int,
        *,
        camera_ids: Sequence[int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_RESULTS,
    ) -> tuple[list[tuple[int, float, int]], int]:
        """The tracks most like the stored appearance ``row_id`` (itself left out)."""
        m = self.snapshot()
        where = np.flatnonzero(m.ids == row_id)
        if where.size == 0:
            raise AppearanceQueryError(f"no appearance stored with id {row_id}")
        i = int(where[0])
        score = similarity_scores(m.embeddings, m.fractions, m.embeddings[i], m.fractions[i])
        together = np.minimum(m.last, m.last[i]) - np.maximum(m.first, m.first[i])
        same_time = (m.cameras == m.cameras[i]) & (together >= SAME_TIME_MIN_S)
        score = np.where(same_time, score * SAME_TIME_PENALTY, score)
        mask = _window(m, camera_ids, since, until)
        mask[i] = False
        return _top(m, score, mask, limit)


def similarity_scores(
    embeddings: npt.NDArray[np.float32],
    fractions: npt.NDArray[np.float32],
    embedding: npt.NDArray[np.float32],
    fraction: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """By-example score of every row against one example (see module doc)."""
    cosine = embeddings @ embedding
    # Intersection of torso and of legs fractions, averaged: each region sums to 1. A product
    # with a vector of halves is several times faster than ``sum(axis=1)`` on narrow rows.
    agreement = np.minimum(fractions, fraction) @ np.full(fractions.shape[1], 0.5, np.float32)
    result: npt.NDArray[np.float32] = (
        EMBEDDING_WEIGHT * cosine + (1 - EMBEDDING_WEIGHT) * agreement
    ).astype(np.float32)
    return result


def _window(
    m: _Matrix,
    camera_ids: Sequence[int] | None,
    since: datetime | None,
    until: datetime | None,
) -> npt.NDArray[np.bool_]:
    mask = np.ones(len(m), bool)
    if camera_ids is not None:
        mask &= np.isin(m.cameras, np.asarray(list(camera_ids), np.int64))
    if since is not None:
        mask &= m.last >= _epoch(since)
    if until is not None:
        mask &= m.first <= _epoch(until)
    return mask


def _top(
    m: _Matrix, score: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_], limit: int
) -> tuple[list[tuple[int, float, int]], int]:
    candidates = np.flatnonzero(mask & (score > 0))
    compared = int(mask.sum())
    if candidates.size == 0:
        return [], compared
    limit = max(1, min(limit, MAX_RESULTS))
    chosen = candidates
    if candidates.size > limit:
        part = np.argpartition(-score[candidates], limit - 1)[:limit]
        chosen = candidates[part]
    # Best first; ties: the most recent first.
    order = np.lexsort((-m.last[chosen], -score[chosen]))
    chosen = chosen[order]
    return [(int(m.ids[j]), float(score[j]), int(m.size_class[j])) for j in chosen], compared


def _apply_height(
    score: npt.NDArray[np.float32], m: _Matrix, height: str | None
) -> npt.NDArray[np.float32]:
    if height is None:
        return score
    wanted = 1 if height == "tall" else -1
    contradicts = (m.size_class != 0) & (m.size_class != wanted) | (m.size_class == -wanted)
    return np.where(contradicts, score * HEIGHT_MISMATCH, score).astype(np.float32)


def _classify_sizes(m: _Matrix) -> None:
    """Per camera, fit box height against foot row over whole-person tracks; mark the top
    and bottom fifth of actual/predicted height as tall (1) and short (−1), others 0.
    Cameras with too few tracks or a poor fit get no classes (0)."""
    m.size_class = np.zeros(len(m), np.int8)
    if not len(m):
        return
    known = np.isfinite(m.height) & np.isfinite(m.foot) & (m.height > 0)
    for camera in np.unique(m.cameras[known]):
        rows = np.flatnonzero(known & (m.cameras == camera))
        if rows.size < HEIGHT_MIN_TRACKS:
            continue
        x, y = m.foot[rows].astype(np.float64), m.height[rows].astype(np.float64)
        a, b = np.polyfit(x, y, 1)
        predicted = a * x + b
        residual = y - predicted
        r2 = 1.0 - float(residual.var()) / max(float(y.var()), 1e-12)
        if r2 < HEIGHT_MIN_R2 or np.any(predicted <= 0):
            continue
        ratio = y / predicted
        low, high = np.quantile(ratio, [HEIGHT_QUANTILE, 1 - HEIGHT_QUANTILE])
        m.size_class[rows[ratio >= high]] = 1
        m.size_class[rows[ratio <= low]] = -1


def _matrix_of(rows: Sequence[Any]) -> _Matrix:
    n = len(rows)
    m = _Matrix(
        ids=np.fromiter((r[0] for r in rows), np.int64, n),
        cameras=np.fromiter((r[1] for r in rows), np.int64, n),
        tracks=np.fromiter((r[2] for r in rows), np.int64, n),
        first=np.fromiter((_epoch(r[3]) for r in rows), np.float64, n),
        last=np.fromiter((_epoch(r[4]) for r in rows), np.float64, n),
        fractions=(
            np.frombuffer(b"".join(r[5] for r in rows), np.float16)
            .reshape(n, 2 * N_COLOURS)
            .astype(np.float32)
            if n
            else np.zeros((0, 2 * N_COLOURS), np.float32)
        ),
        embeddings=(
            np.frombuffer(b"".join(r[6] for r in rows), np.float16)
            .reshape(n, EMBEDDING_DIMS)
            .astype(np.float32)
            if n
            else np.zeros((0, EMBEDDING_DIMS), np.float32)
        ),
        height=np.fromiter((np.nan if r[7] is None else r[7] for r in rows), np.float32, n),
        foot=np.fromiter((np.nan if r[8] is None else r[8] for r in rows), np.float32, n),
    )
    return m


def _concat(a: _Matrix, b: _Matrix) -> _Matrix:
    if not len(b):
        return a
    return _Matrix(
        ids=np.concatenate([a.ids, b.ids]),
        cameras=np.concatenate([a.cameras, b.cameras]),
        tracks=np.concatenate([a.tracks, b.tracks]),
        first=np.concatenate([a.first, b.first]),
        last=np.concatenate([a.last, b.last]),
        fractions=np.concatenate([a.fractions, b.fractions]),
        embeddings=np.concatenate([a.embeddings, b.embeddings]),
        height=np.concatenate([a.height, b.height]),
        foot=np.concatenate([a.foot, b.foot]),
    )


_ROWS = select(
    TrackAppearance.id,
    TrackAppearance.camera_id,
    TrackAppearance.track_id,
    TrackAppearance.first_seen,
    TrackAppearance.last_seen,
    TrackAppearance.colour_fractions,
    TrackAppearance.embedding,
    TrackAppearance.height_frac,
    TrackAppearance.foot_y_frac,
).order_by(TrackAppearance.id)

_INDEXES: dict[str, AppearanceIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(store: Store) -> AppearanceIndex:
    """The process's index of ``store``'s database (one per database URL)."""
    key = str(store.engine.url)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = AppearanceIndex()
        return index


_SIZE_NAMES = {1: "tall", -1: "short", 0: None}


def _hits(store: Store, ranked: list[tuple[int, float, int]]) -> tuple[AppearanceHit, ...]:
    """The rows of ``ranked`` read back with their camera and thumbnail, in rank order."""
    if not ranked:
        return ()
    ids = [row_id for row_id, _score, _size in ranked]
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                TrackAppearance.id,
                TrackAppearance.camera_id,
                Camera.key,
                Camera.name,
                TrackAppearance.track_id,
                TrackAppearance.first_seen,
                TrackAppearance.last_seen,
                TrackAppearance.upper_colour,
                TrackAppearance.lower_colour,
                Media.path,
            )
            .join(Camera, Camera.id == TrackAppearance.camera_id)
            .outerjoin(Media, Media.id == TrackAppearance.snapshot_media_id)
            .where(TrackAppearance.id.in_(ids))
        ).all()
    by_id = {int(r[0]): r for r in rows}
    hits = []
    for row_id, score, size in ranked:
        r = by_id.get(row_id)
        if r is None:  # removed since the index was refreshed
            continue
        hits.append(
            AppearanceHit(
                appearance_id=row_id,
                camera_id=int(r[1]),
                camera_key=r[2],
                camera_name=r[3],
                track_id=int(r[4]),
                first_seen=r[5],
                last_seen=r[6],
                upper_colour=r[7],
                lower_colour=r[8],
                height_class=_SIZE_NAMES.get(size),
                snapshot=r[9],
                score=score,
            )
        )
    return tuple(hits)


def _camera_ids(store: Store, keys: Sequence[str]) -> list[int]:
    with store.engine.connect() as connection:
        found = dict(
            connection.execute(select(Camera.key, Camera.id).where(Camera.key.in_(keys))).all()
        )
    missing = [k for k in keys if k not in found]
    if missing:
        raise AppearanceQueryError(f"no camera {', '.join(missing)}")
    return [int(v) for v in found.values()]


def find_appearance(store: Store, track_id: int, camera: str | None = None) -> int:
    """The appearance row id of ``track_id`` (on ``camera``, a camera key, when several
    cameras have a track of that number)."""
    stmt = (
        select(TrackAppearance.id, Camera.key)
        .join(Camera, Camera.id == TrackAppearance.camera_id)
        .where(TrackAppearance.track_id == track_id)
    )
    if camera is not None:
        stmt = stmt.where(Camera.key == camera)
    with store.engine.connect() as connection:
        rows = connection.execute(stmt).all()
    if not rows:
        where = f" on camera {camera}" if camera else ""
        raise AppearanceQueryError(f"no appearance recorded for track {track_id}{where}")
    if len(rows) > 1:
        cameras = ", ".join(sorted(str(r[1]) for r in rows))
        raise AppearanceQueryError(
            f"track {track_id} exists on several cameras ({cameras}): say which camera"
        )
    return int(rows[0][0])


@dataclass(frozen=True, slots=True)
class AppearanceSearchRequest:
    """Rank stored tracks against a description. ``cameras``: camera keys to search
    (empty: all); ``since``/``until``: UTC window the track must overlap."""

    text: str
    cameras: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_RESULTS

    def run(self, store: Store) -> AppearanceResults:
        description = parse_description(self.text)
        if description.empty:
            raise AppearanceQueryError(
                f"no colour in {self.text!r}: say a colour, e.g. 'red top' or 'dark jacket "
                f"and jeans' (colours: {', '.join(COLOUR_NAMES)}, dark, light)"
            )
        index = index_for(store)
        index.refresh(store)
        camera_ids = _camera_ids(store, self.cameras) if self.cameras else None
        ranked, compared = index.rank_description(
            description,
            camera_ids=camera_ids,
            since=self.since,
            until=self.until,
            limit=self.limit,
        )
        return AppearanceResults(_hits(store, ranked), compared, description.as_text())


@dataclass(frozen=True, slots=True)
class SimilarTracksRequest:
    """Rank stored tracks by how much they look like one track: ``appearance_id`` (a row
    id), else ``track_id`` on ``camera`` (a camera key; may be omitted when only one camera
    has that track number). ``cameras``/``since``/``until`` filter the results."""

    track_id: int | None = None
    camera: str | None = None
    appearance_id: int | None = None
    cameras: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_RESULTS

    def run(self, store: Store) -> AppearanceResults:
        if self.appearance_id is not None:
            row_id = self.appearance_id
        elif self.track_id is not None:
            row_id = find_appearance(store, self.track_id, self.camera)
        else:
            raise AppearanceQueryError("say which track to find similar people to")
        index = index_for(store)
        index.refresh(store)
        camera_ids = _camera_ids(store, self.cameras) if self.cameras else None
        ranked, compared = index.rank_similar(
            row_id, camera_ids=camera_ids, since=self.since, until=self.until, limit=self.limit
        )
        example = _hits(store, [(row_id, 1.0, 0)])
        understood = (
            f"looks like track {example[0].track_id} on {example[0].camera_name}"
            if example
            else f"looks like appearance {row_id}"
        )
        return AppearanceResults(
            _hits(store, ranked), compared, understood, example[0] if example else None
        )


@dataclass(frozen=True, slots=True)
class TrackAppearanceRequest:
    """The appearance row id of a camera's track (``camera_id`` database id), or None
    when that track has no appearance recorded (for "Find similar" on a person or event)."""

    camera_id: int
    track_id: int

    def run(self, store: Store) -> int | None:
        with store.engine.connect() as connection:
            value = connection.scalar(
                select(TrackAppearance.id).where(
                    TrackAppearance.camera_id == self.camera_id,
                    TrackAppearance.track_id == self.track_id,
                )
            )
        return int(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class PersonAppearanceRequest:
    """The appearance row id of a known person's most recent track that has one (their
    face was recognised on it), or None (for "Find similar" on a person)."""

    public_id: str

    def run(self, store: Store) -> int | None:
        with store.engine.connect() as connection:
            value = connection.scalar(
                select(TrackAppearance.id)
                .join(
                    Event,
                    (Event.camera_id == TrackAppearance.camera_id)
                    & (Event.track_id == TrackAppearance.track_id),
                )
                .join(Person, Person.id == Event.person_id)
                .where(Person.public_id == self.public_id)
                .order_by(TrackAppearance.last_seen.desc())
                .limit(1)
            )
        return int(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class LoadAppearanceIndex:
    """Load (or refresh) the database's appearance index ahead of the first search, and
    return how many tracks it holds: the console asks once when the pane is built, so the
    first search does not wait for the cold load (about 2 s per 100,000 tracks)."""

    def run(self, store: Store) -> int:
        return index_for(store).refresh(store)
