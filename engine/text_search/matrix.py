"""Every searchable text's vector in memory, ranked for a query by meaning and by words.

:class:`MeaningMatrix` keeps the unit vectors with each row's kind, id, time and text, and an
inverted index of the texts' words. A query against 100,000 full float32 vectors reads
150 MB: 16-24 ms on a busy core, memory bandwidth rather than arithmetic. So the vectors are
kept as float16 (768 bytes a text), and once there are :data:`COARSE_FROM` of them, also
projected on their first :data:`COARSE_DIMS` principal axes (float32, 256 bytes a text,
fitted once on the vectors present then): a query ranks the projections first, keeps the
best :data:`CANDIDATES` and ranks those again by their full vectors. About 100 MB and a
few milliseconds for 100,000 texts, with the same ten nearest texts as the exact ranking
(benchmarks/meaning_search.py measures both). numpy's BLAS runs on the calling thread for
a query (see :func:`_one_blas_thread`).

A query's score for a text is its cosine similarity plus :data:`KEYWORD_WEIGHT` times the
share of the query's words the text contains, each word weighed by its rarity (words in
more than :data:`COMMON_WORD_SHARE` of the texts count for nothing), so a plate number, a
name or a camera's key typed exactly still comes first, while "someone collapsed" finds
"man fell down on the stairs" by meaning alone.

Thread-safety: :meth:`MeaningMatrix.add` and :meth:`MeaningMatrix.remove` may run on the
indexer's thread while :meth:`MeaningMatrix.rank` runs on query workers; a lock guards the
bookkeeping, and ranking reads a snapshot of the rows that existed when it started.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from engine.text_search.encoder import DIMENSIONS
from engine.text_search.sources import KINDS, SearchableText, TextKind

KEYWORD_WEIGHT: Final = 0.15  # a text holding every query word gains this much cosine
_WORD: Final = re.compile(r"[^\W_]+(?:[_'][^\W_]+)*", re.UNICODE)
STOP_WORDS: Final = frozenset(
    """a an the and or but of to in on at by for with from into onto over under about as is
    are was were be been being it its this that these those there here who whom what which
    when where why how did do does done has have had not no any some someone something
    somebody anyone anything i me my we our you your he him his she her they them their
    near up down out off again then than so very just all also can could would should may
    might will shall one""".split()  # noqa: SIM905 - a list of words reads better as words
)


def words_of(text: str) -> list[str]:
    """The words of ``text`` as search matches them: lower case, without stop words,
    plurals folded (``doors`` → ``door``, ``batteries`` → ``battery``)."""
    found = []
    for match in _WORD.finditer(text.lower()):
        word = match.group().removesuffix("'s")
        if word in STOP_WORDS:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.append(word)
    return found


@dataclass(frozen=True, slots=True)
class Ranked:
    """One text a query found: the row and its ``score`` (cosine plus the words' bonus),
    ``cosine`` alone and ``words`` (the share of the query's words it contains, each weighed
    by its rarity, 0–1)."""

    text: SearchableText
    score: float
    cosine: float
    words: float


_KIND_CODE: Final = {kind: code for code, kind in enumerate(KINDS)}


COARSE_FROM: Final = 8_000  # texts; fewer are ranked by their full vectors directly
COARSE_DIMS: Final = 64  # principal axes of the first stage
CANDIDATES: Final = 2_000  # texts the first stage hands to the exact second one
FIT_SAMPLE: Final = 20_000  # vectors the principal axes are fitted on
COMMON_WORD_SHARE: Final = 0.1  # a word in more texts than this share gets no bonus


_blas: Any = None


def _one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on the calling thread only. A query is one
    matrix-vector product: memory-bound, and on a busy machine OpenBLAS's helper threads
    make it five times slower (20 ms instead of 4 ms for 100,000 texts, measured)."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


class MeaningMatrix:
    """The in-memory vectors of every indexed text (see the module's docstring)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._lock = threading.Lock()
        self._vectors = np.zeros((capacity, DIMENSIONS), dtype=np.float16)
        self._coarse: npt.NDArray[np.float32] | None = None  # (capacity, COARSE_DIMS)
        self._axes: npt.NDArray[np.float32] | None = None  # (DIMENSIONS, COARSE_DIMS)
        self._kinds = np.zeros(capacity, dtype=np.int8)
        self._times = np.zeros(capacity, dtype=np.float64)  # UTC epoch seconds
        self._alive = np.zeros(capacity, dtype=bool)
        self._texts: list[SearchableText | None] = []
        self._position: dict[tuple[str, int], int] = {}
        self._postings: dict[str, list[int]] = {}
        self._posting_arrays: dict[str, npt.NDArray[np.int64]] = {}  # made when first asked
        self._count = 0  # rows used (alive or not)

    def __len__(self) -> int:
        """How many texts are searchable."""
        with self._lock:
            return len(self._position)

    def __contains__(self, key: tuple[str, int]) -> bool:
        with self._lock:
            return key in self._position

    def add(self, texts: Sequence[SearchableText], vectors: npt.NDArray[np.floating]) -> None:
        """Make ``texts`` searchable with their unit ``vectors`` (one row each, in order);
        a text already present is replaced."""
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        with self._lock:
            first = self._count
            while self._count + len(texts) > len(self._vectors):
                self._grow()
            for offset, text in enumerate(texts):
                old = self._position.pop((text.kind, text.row_id), None)
                if old is not None:
                    self._alive[old] = False
                    self._texts[old] = None
                position = first + offset
                self._kinds[position] = _KIND_CODE[text.kind]
                self._times[position] = text.at.timestamp()
                self._alive[position] = True
                self._texts.append(text)
                self._position[(text.kind, text.row_id)] = position
                for word in set(words_of(text.text)):
                    self._postings.setdefault(word, []).append(position)
                    self._posting_arrays.pop(word, None)
            end = first + len(texts)
            self._vectors[first:end] = vectors
            if self._coarse is not None and self._axes is not None:
                self._coarse[first:end] = np.asarray(vectors, dtype=np.float32) @ self._axes
            self._count = end
            if self._axes is None and self._count >= COARSE_FROM:
                self._fit_axes()

    def remove(self, keys: Iterable[tuple[str, int]]) -> None:
        """Forget the texts ``(kind, row_id)`` (rows deleted from the store)."""
        with self._lock:
            for key in keys:
                position = self._position.pop(key, None)
                if position is not None:
                    self._alive[position] = False
                    self._texts[position] = None

    def _posting_array(self, word: str) -> npt.NDArray[np.int64]:
        """The positions of the texts holding ``word`` (under the lock)."""
        found = self._posting_arrays.get(word)
        if found is None:
            found = np.array(self._postings.get(word, ()), dtype=np.int64)
            if len(found):  # no entries for words typed but never written
                self._posting_arrays[word] = found
        return found

    def _grow(self) -> None:
        size = max(1024, 2 * len(self._vectors))
        for name in ("_vectors", "_coarse", "_kinds", "_times", "_alive"):
            old = getattr(self, name)
            if old is None:
                continue
            new = np.zeros((size, *old.shape[1:]), dtype=old.dtype)
            new[: self._count] = old[: self._count]
            setattr(self, name, new)

    def _fit_axes(self) -> None:
        """Principal axes of (a sample of) the vectors present, and every row's projection."""
        count = self._count
        step = max(1, count // FIT_SAMPLE)
        sample = self._vectors[:count:step].astype(np.float32)
        centred = sample - sample.mean(axis=0)
        # The covariance's eigenvectors (384 × 384: fast), largest eigenvalues last.
        _, eigenvectors = np.linalg.eigh(centred.T @ centred)
        # Uncentred projections: the dot products of projections approximate cosines.
        axes = eigenvectors[:, ::-1][:, :COARSE_DIMS]
        self._axes = np.ascontiguousarray(axes.astype(np.float32))
        coarse = np.zeros((len(self._vectors), COARSE_DIMS), dtype=np.float32)
        for chunk in range(0, count, 20_000):
            end = min(count, chunk + 20_000)
            coarse[chunk:end] = self._vectors[chunk:end].astype(np.float32) @ self._axes
        self._coarse = coarse

    def rank(
        self,
        query_vector: npt.NDArray[np.float32] | None,
        query_text: str,
        *,
        limit: int,
        kinds: Sequence[TextKind] = KINDS,
        since: datetime | None = None,
        until: datetime | None = None,
        keyword_weight: float = KEYWORD_WEIGHT,
    ) -> list[Ranked]:
        """The best ``limit`` texts for a query, best first: by the cosine of
        ``query_vector`` (None: words only) plus ``keyword_weight`` times the share of
        ``query_text``'s words a text holds. ``kinds``, ``since`` and ``until`` (UTC)
        narrow what is ranked. Any thread."""
        with self._lock:
            count = self._count
            vectors, coarse, axes = self._vectors, self._coarse, self._axes
            kind_codes, times = self._kinds[:count], self._times[:count]
            alive = self._alive[:count].copy()
            texts = self._texts  # appended to only: positions below count stay put
            query_words = sorted(set(words_of(query_text)))
            common = max(1, int(count * COMMON_WORD_SHARE))
            postings = [
                self._posting_array(w)
                for w in query_words
                if len(self._postings.get(w, ())) <= common
            ]
            weights = [math.log(1.0 + count / (1.0 + len(p))) for p in postings]
            # A word no text holds is in ``postings`` (empty, the highest weight): it
            # still counts against every text's share.
            weights_total = sum(weights)
        if count == 0 or limit < 1:
            return []
        with _one_blas_thread():
            return self._rank(
                query_vector,
                limit=limit,
                kinds=kinds,
                since=since,
                until=until,
                keyword_weight=keyword_weight,
                count=count,
                arrays=(vectors, coarse, axes, kind_codes, times, alive),
                texts=texts,
                postings=postings,
                weights=weights,
                weights_total=weights_total,
            )

    def _rank(
        self,
        query_vector: npt.NDArray[np.float32] | None,
        *,
        limit: int,
        kinds: Sequence[TextKind],
        since: datetime | None,
        until: datetime | None,
        keyword_weight: float,
        count: int,
        arrays: tuple[Any, ...],
        texts: list[SearchableText | None],
        postings: list[npt.NDArray[np.int64]],
        weights: list[float],
        weights_total: float,
    ) -> list[Ranked]:
        vectors, coarse, axes, kind_codes, times, alive = arrays
        share = np.zeros(count, dtype=np.float32)
        if postings and weights_total > 0:
            # Rare words weigh more (inverse document frequency): "quadcopter" or a plate
            # number decides, "man" or "car" barely counts.
            for positions, weight in zip(postings, weights, strict=True):
                share[positions[positions < count]] += weight
            share /= weights_total
        keep = alive
        if tuple(kinds) != KINDS:
            keep &= np.isin(kind_codes, [_KIND_CODE[k] for k in kinds])
        if since is not None:
            keep &= times >= since.astimezone(UTC).timestamp()
        if until is not None:
            keep &= times <= until.astimezone(UTC).timestamp()
        if query_vector is None:
            keep &= share > 0
        query = None if query_vector is None else np.asarray(query_vector, dtype=np.float32)
        if query is not None and coarse is not None and axes is not None and count > CANDIDATES:
            rough = coarse[:count] @ (query @ axes) + keyword_weight * share
            rough = np.where(keep, rough, -np.inf)
            candidates = np.argpartition(-rough, CANDIDATES - 1)[:CANDIDATES]
            candidates = candidates[keep[candidates]]
        else:
            candidates = np.flatnonzero(keep)
        if query is not None and len(candidates):
            cosine = vectors[candidates].astype(np.float32) @ query
        else:
            cosine = np.zeros(len(candidates), dtype=np.float32)
        score = cosine + keyword_weight * share[candidates]
        take = min(limit, len(candidates))
        if take == 0:
            return []
        best = np.argpartition(-score, take - 1)[:take] if take < len(score) else np.arange(take)
        # Ties (words-only search) go to the newest text.
        best = best[np.lexsort((-times[candidates[best]], -score[best]))]
        ranked = []
        for index in best:
            position = int(candidates[index])
            text = texts[position]
            if text is not None:
                ranked.append(
                    Ranked(text, float(score[index]), float(cosine[index]), float(share[position]))
                )
        return ranked
