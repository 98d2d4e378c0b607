"""Face memory: people enrolled by name or met on camera, kept in the database.

:class:`FaceMemory` owns the ``persons`` and ``face_embeddings`` tables and an in-memory
:class:`~engine.identity.faces.FaceGallery` loaded from them. Every write is a command to the
store writer (the one write path, with its retries); the gallery is updated only after the
command committed, so a failed write leaves both as they were. The gallery is this
process's view: another process writing the same database is seen after :meth:`reload`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.clock import Clock
from engine.identity.faces import (
    EMBEDDING_DIM,
    FACE_MATCH_THRESHOLD,
    Embedding,
    FaceEncoder,
    FaceGallery,
    Image,
    ImageReadError,
    embedding_from_bytes,
    embedding_to_bytes,
    read_image,
)
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event
from engine.store.person_models import BleDevice, FaceEmbedding, Person
from engine.store.writer import StoreWriter
from engine.text import control_character_at

PUBLIC_ID_PREFIX = "Person_"  # then 8 uppercase hex digits: Person_3FA1C09B
NAME_MAX_CHARS = 200  # persons.name is String(200)
# Observed embeddings kept per person (newest win); enrolled ones are always kept. Enough for
# a spread of poses and lighting. Matching cost grows with the total: 10,000 embeddings match
# in ~0.2 ms, 200,000 (10,000 people at the cap) in ~5 ms (benchmarks/faces.py).
MAX_OBSERVED_PER_PERSON = 20
# An observed face this close to one already stored adds nothing new (two crops of one photo
# are 0.07 apart, consecutive video frames closer still; other photos of the same person
# 0.23–0.43), so it counts as an appearance but is not stored. Keeps galleries small.
OBSERVED_MIN_NOVELTY = 0.12


class EnrollmentError(ValueError):
    """Photos given to :meth:`FaceMemory.enroll` cannot be used. The message names the file
    and is meant for the operator. Nothing was stored."""


class UnknownPersonError(LookupError):
    """No person has the given public id."""


@dataclass(frozen=True, slots=True)
class _Written:
    """What a face-memory command changed: the person (detached row) and, when their
    embeddings changed, all of them now stored (for the gallery)."""

    person: Person
    embeddings: npt.NDArray[np.float32] | None = None
    removed_person_id: int | None = None


@dataclass(frozen=True, slots=True)
class Identification:
    """One face found by :meth:`FaceMemory.identify`.

    ``box`` is (left, top, right, bottom) in image pixels. ``public_id`` and ``name`` are
    None for a face nobody in the memory matches (``name`` is also None for a known person
    nobody has named yet). ``distance`` is the Euclidean distance to the nearest known
    embedding, matched or not, and None only when the memory is empty. ``score`` is the
    detector's confidence.
    """

    box: tuple[int, int, int, int]
    public_id: str | None
    name: str | None
    distance: float | None
    score: float


def new_public_id() -> str:
    """A fresh automatic person id, ``Person_`` and 8 random uppercase hex digits."""
    return PUBLIC_ID_PREFIX + secrets.token_hex(4).upper()


class FaceMemory:
    """People and their faces, persisted in ``store``, matched with an in-memory gallery.

    ``writer`` applies every write; ``clock`` stamps stored embeddings. ``encoder`` may be
    shared between memories (it loads ~35 MB of models once). Thread-safe: writes (enroll,
    observe, rename, merge, erase) are serialised by a lock and block until the writer has
    committed them, so never call them on the GUI thread; :meth:`identify` and gallery reads
    run concurrently with them.
    """

    def __init__(
        self,
        store: Store,
        writer: StoreWriter,
        clock: Clock,
        encoder: FaceEncoder | None = None,
        *,
        threshold: float = FACE_MATCH_THRESHOLD,
        max_observed_per_person: int = MAX_OBSERVED_PER_PERSON,
    ) -> None:
        if max_observed_per_person < 1:
            raise ValueError("max_observed_per_person must be at least 1")
        self._store = store
        self._writer = writer
        self._clock = clock
        self.encoder = encoder or FaceEncoder()
        self.gallery = FaceGallery(threshold)
        self._max_observed = max_observed_per_person
        self._write_lock = threading.Lock()
        self.reload()

    @property
    def threshold(self) -> float:
        """Largest embedding distance (exclusive) that still counts as the same person."""
        return self.gallery.threshold

    def reload(self) -> None:
        """Rebuild the gallery from the database (every person not archived)."""
        with self._write_lock, self._store.sessions() as session:
            rows = session.execute(
                select(FaceEmbedding.person_id, FaceEmbedding.embedding)
                .join(Person, Person.id == FaceEmbedding.person_id)
                .where(Person.archived_at.is_(None))
                .order_by(FaceEmbedding.id)
            ).all()
            self.gallery.replace(
                _matrix_from_blobs([row.embedding for row in rows]),
                [row.person_id for row in rows],
            )

    def get(self, public_id: str) -> Person:
        """The person with ``public_id`` (a detached row); :class:`UnknownPersonError` if none."""
        with self._store.sessions() as session:
            return _person(session, public_id)

    def enroll(self, name: str, images: Sequence[Path | str], *, actor: Actor) -> Person:
        """Teach the memory ``name``'s face from photos of that one person.

        Each photo must show exactly one face, and all of them the same person; otherwise
        :class:`EnrollmentError` names the offending file and nothing is stored. The photos
        are added to the person already called ``name`` if there is one; else to the unnamed
        person they all match (someone the cameras met, who now gets a name and keeps their
        history); else to a new person. All in one transaction.
        """
        clean_name = clean_person_name(name)
        if not images:
            raise EnrollmentError("give at least one photo of the person to enroll")
        paths = [Path(image) for image in images]
        embeddings: list[Embedding] = []
        for path in paths:
            try:
                faces = self.encoder.encode(read_image(path))
            except ImageReadError as exc:
                raise EnrollmentError(str(exc)) from None
            if not faces:
                raise EnrollmentError(f"no face found in {path}")
            if len(faces) > 1:
                raise EnrollmentError(f"{len(faces)} faces in {path}; use a photo of one person")
            embeddings.append(faces[0].embedding)
        matrix = np.stack(embeddings)
        self._check_one_person(matrix, paths)
        self._check_same_as_named(clean_name, matrix, paths)
        now = self._clock.now()
        with self._write_lock:
            written: _Written = self._writer.execute(
                _Enroll(
                    name=clean_name,
                    blobs=tuple(embedding_to_bytes(row) for row in matrix),
                    candidate_ids=self._unnamed_candidates(matrix),
                    at=now,
                    actor=actor,
                )
            )
            self.gallery.add(written.person.id, matrix)
        return written.person

    def identify(self, image: Image | Path | str, upsample: int = 1) -> list[Identification]:
        """Every face in ``image`` (a BGR array or an image file), left to right, with the
        known person it matches, if any. Reads only; raises
        :class:`~engine.identity.faces.ImageReadError` for an unreadable file."""
        bgr = image if isinstance(image, np.ndarray) else read_image(Path(image))
        faces = self.encoder.encode(bgr, upsample)
        if not faces:
            return []
        nearest = self.gallery.nearest_many(np.stack([face.embedding for face in faces]))
        matched = [m if m is not None and m.distance < self.threshold else None for m in nearest]
        ids = {m.person_id for m in matched if m is not None}
        known: dict[int, tuple[str, str | None]] = {}
        if ids:
            with self._store.sessions() as session:
                rows = session.execute(
                    select(Person.id, Person.public_id, Person.name).where(Person.id.in_(ids))
                )
                known = {row.id: (row.public_id, row.name) for row in rows}
        results = []
        for face, near, match in zip(faces, nearest, matched, strict=True):
            person = known.get(match.person_id) if match is not None else None
            results.append(
                Identification(
                    box=face.box,
                    public_id=person[0] if person else None,
                    name=person[1] if person else None,
                    distance=near.distance if near is not None else None,
                    score=face.score,
                )
            )
        return results

    def observe(
        self, embedding: npt.ArrayLike, seen_at: datetime, media_id: int | None = None
    ) -> Person:
        """Record that a camera saw this face at ``seen_at`` (UTC); returns who it was.

        A face matching a known person counts as another appearance of them; any other face
        becomes a new unnamed ``Person_XXXXXXXX``. Unless it is a near-copy of one already
        stored (:data:`OBSERVED_MIN_NOVELTY`), the embedding is remembered (at most
        :data:`MAX_OBSERVED_PER_PERSON` observed ones per person, oldest dropped) so later
        sightings in other poses match too. ``media_id`` (a snapshot) becomes the person's
        picture if they have none.
        """
        if seen_at.tzinfo is None:
            raise ValueError("seen_at must be timezone-aware (use the engine clock)")
        seen_at = seen_at.astimezone(UTC)
        blob = embedding_to_bytes(np.asarray(embedding, dtype=np.float32))
        vector = embedding_from_bytes(blob)
        with self._write_lock:
            match = self.gallery.match(vector)
            written: _Written = self._writer.execute(
                _Observe(
                    blob=blob,
                    matched_person_id=match.person_id if match is not None else None,
                    novel=match is None or match.distance >= OBSERVED_MIN_NOVELTY,
                    seen_at=seen_at,
                    media_id=media_id,
                    max_observed=self._max_observed,
                    at=self._clock.now(),
                )
            )
            if written.embeddings is not None:
                self.gallery.set_person(written.person.id, written.embeddings)
        return written.person

    def rename(self, public_id: str, name: str | None, *, actor: Actor) -> Person:
        """Give the person a name (None clears it; the public id never changes)."""
        clean_name = None if name is None else clean_person_name(name)
        with self._write_lock:
            written: _Written = self._writer.execute(
                _Rename(public_id=public_id, name=clean_name, at=self._clock.now(), actor=actor)
            )
        return written.person

    def merge(self, keep: str, absorb: str, *, actor: Actor) -> Person:
        """Fold person ``absorb`` into ``keep`` (two ids that turned out to be one person).

        ``keep`` gets ``absorb``'s embeddings (still at most :data:`MAX_OBSERVED_PER_PERSON`
        observed ones, newest kept), events and face pictures, the sum of both appearance
        counts, the earlier ``first_seen`` and the later ``last_seen``, and ``absorb``'s name
        and snapshot where it has none, all in one transaction. ``absorb`` is deleted.
        """
        if keep == absorb:
            raise ValueError(f"cannot merge {keep} into itself")
        with self._write_lock:
            written: _Written = self._writer.execute(
                _Merge(
                    keep=keep,
                    absorb=absorb,
                    max_observed=self._max_observed,
                    at=self._clock.now(),
                    actor=actor,
                )
            )
            if written.removed_person_id is not None:
                self.gallery.remove_person(written.removed_person_id)
            if written.person.archived_at is None and written.embeddings is not None:
                self.gallery.set_person(written.person.id, written.embeddings)
        return written.person

    def forget(self, person_id: int) -> None:
        """Drop a person deleted from the store (erased) from the gallery, so their face can
        never match again."""
        with self._write_lock:
            self.gallery.remove_person(person_id)

    def _unnamed_candidates(self, matrix: npt.NDArray[np.float32]) -> tuple[int, ...]:
        """The person all of ``matrix``'s faces match, if exactly one (for enrollment)."""
        matches = self.gallery.match_many(matrix)
        ids = {m.person_id if m is not None else None for m in matches}
        if len(ids) != 1 or None in ids:
            return ()
        only = ids.pop()
        return (only,) if only is not None else ()

    def _check_same_as_named(
        self, name: str, matrix: npt.NDArray[np.float32], paths: list[Path]
    ) -> None:
        """Refuse photos enrolled under the name of someone whose face they do not show
        (before, a photo of Biden was added to "obama" and then identified as him)."""
        with self._store.sessions() as session:
            named = session.scalars(
                select(Person.id).where(Person.name == name, Person.archived_at.is_(None))
            ).first()
            if named is None:
                return
            known = _embeddings_of(session, named)
        if len(known) == 0:
            return
        distances = np.linalg.norm(matrix[:, np.newaxis, :] - known[np.newaxis, :, :], axis=2)
        nearest = distances.min(axis=1)
        worst = int(np.argmax(nearest))
        if nearest[worst] >= self.threshold:
            raise EnrollmentError(
                f"{paths[worst]} does not look like the {name} already enrolled (face "
                f"distance {nearest[worst]:.2f}, same person is below {self.threshold}); "
                "enroll them under another name"
            )

    def _check_one_person(self, matrix: npt.NDArray[np.float32], paths: list[Path]) -> None:
        """Refuse an enrollment whose photos show different people."""
        if len(paths) < 2:
            return
        distances = np.linalg.norm(matrix[:, np.newaxis, :] - matrix[np.newaxis, :, :], axis=2)
        first, second = (
            int(i) for i in np.unravel_index(int(np.argmax(distances)), distances.shape)
        )
        worst = float(distances[first, second])
        if worst >= self.threshold:
            raise EnrollmentError(
                f"{paths[first]} and {paths[second]} do not look like the same person "
                f"(face distance {worst:.2f}, same person is below {self.threshold}); "
                "enroll them separately"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Enroll(GuardedCommand, StoreCommand):
    """Add enrolled embeddings to the person called ``name``, else to the one unnamed person
    they all match (``candidate_ids``), else to a new person; name them."""

    permission: ClassVar[Permission] = Permission.MANAGE_PEOPLE
    action: ClassVar[str] = "person.enrol"

    name: str
    blobs: tuple[bytes, ...]
    candidate_ids: tuple[int, ...]
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.name

    def apply(self, session: Session) -> _Written:
        person = session.scalars(
            select(Person)
            .where(Person.name == self.name, Person.archived_at.is_(None))
            .order_by(Person.id)
            .limit(1)
        ).first()
        if person is None and self.candidate_ids:
            candidate = session.get(Person, self.candidate_ids[0])
            if candidate is not None and candidate.name is None:
                person = candidate
        if person is None:
            person = Person(public_id=unused_public_id(session), appearances=0)
            session.add(person)
        person.name = self.name
        session.flush()
        session.add_all(
            FaceEmbedding(
                person_id=person.id, embedding=blob, source="enrolled", created_at=self.at
            )
            for blob in self.blobs
        )
        audit_command(
            session, self, {"name": self.name, "photos": len(self.blobs)}, target=person.public_id
        )
        session.flush()
        return _Written(person)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Observe(StoreCommand):
    """A camera saw a face: another appearance of the matched person, or a new person."""

    blob: bytes
    matched_person_id: int | None
    novel: bool
    seen_at: datetime
    media_id: int | None
    max_observed: int
    at: datetime

    def apply(self, session: Session) -> _Written:
        remember = self.novel
        # A person deleted by another process since our last reload: meet them anew.
        person = (
            session.get(Person, self.matched_person_id)
            if self.matched_person_id is not None
            else None
        )
        if person is None:
            person = Person(public_id=unused_public_id(session), appearances=0)
            session.add(person)
            remember = True
        seen_at = self.seen_at
        person.appearances += 1
        person.archived_at = None  # seen again: back among the active people
        person.first_seen = min(person.first_seen or seen_at, seen_at)
        person.last_seen = max(person.last_seen or seen_at, seen_at)
        if person.snapshot_media_id is None:
            person.snapshot_media_id = self.media_id
        session.flush()
        if not remember:
            return _Written(person)
        session.add(
            FaceEmbedding(
                person_id=person.id,
                embedding=self.blob,
                source="observed",
                created_at=self.at,
                media_id=self.media_id,
            )
        )
        session.flush()
        _drop_surplus_observed(session, person.id, self.max_observed)
        return _Written(person, _embeddings_of(session, person.id))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rename(GuardedCommand, StoreCommand):
    permission: ClassVar[Permission] = Permission.MANAGE_PEOPLE
    action: ClassVar[str] = "person.rename"

    public_id: str
    name: str | None
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.public_id

    def apply(self, session: Session) -> _Written:
        person = _person(session, self.public_id)
        old = person.name
        person.name = self.name
        audit_command(session, self, {"old": old, "new": self.name})
        session.flush()
        return _Written(person)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Merge(GuardedCommand, StoreCommand):
    """Move ``absorb``'s embeddings, events, face pictures and BLE devices to ``keep``;
    delete ``absorb``."""

    permission: ClassVar[Permission] = Permission.MERGE_PEOPLE
    action: ClassVar[str] = "person.merge"

    keep: str
    absorb: str
    max_observed: int
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.keep

    def apply(self, session: Session) -> _Written:
        kept, absorbed = _person(session, self.keep), _person(session, self.absorb)
        session.execute(
            update(FaceEmbedding)
            .where(FaceEmbedding.person_id == absorbed.id)
            .values(person_id=kept.id)
        )
        session.execute(
            update(Event).where(Event.person_id == absorbed.id).values(person_id=kept.id)
        )
        session.execute(  # the BLE devices they carry
            update(BleDevice).where(BleDevice.person_id == absorbed.id).values(person_id=kept.id)
        )
        kept.colour = kept.colour or absorbed.colour
        kept.appearances += absorbed.appearances
        kept.first_seen = _earliest(kept.first_seen, absorbed.first_seen)
        kept.last_seen = _latest(kept.last_seen, absorbed.last_seen)
        kept.name = kept.name or absorbed.name
        kept.snapshot_media_id = kept.snapshot_media_id or absorbed.snapshot_media_id
        absorbed_id = absorbed.id
        session.delete(absorbed)
        audit_command(session, self, {"absorbed": self.absorb})
        session.flush()
        _drop_surplus_observed(session, kept.id, self.max_observed)
        return _Written(kept, _embeddings_of(session, kept.id), removed_person_id=absorbed_id)


def _drop_surplus_observed(session: Session, person_id: int, keep: int) -> None:
    surplus = session.scalars(
        select(FaceEmbedding.id)
        .where(FaceEmbedding.person_id == person_id, FaceEmbedding.source == "observed")
        .order_by(FaceEmbedding.id.desc())
        .offset(keep)
    ).all()
    if surplus:
        session.execute(delete(FaceEmbedding).where(FaceEmbedding.id.in_(surplus)))


def _person(session: Session, public_id: str) -> Person:
    person = session.scalars(select(Person).where(Person.public_id == public_id)).first()
    if person is None:
        raise UnknownPersonError(f"no person {public_id}")
    return person


def unused_public_id(session: Session) -> str:
    """A fresh automatic person id no stored person has (call inside the writer's
    transaction)."""
    while True:  # 2^32 ids: a clash is rare, two in a row rarer still
        candidate = new_public_id()
        if session.scalar(select(Person.id).where(Person.public_id == candidate)) is None:
            return candidate


def _embeddings_of(session: Session, person_id: int) -> npt.NDArray[np.float32]:
    blobs = session.scalars(
        select(FaceEmbedding.embedding)
        .where(FaceEmbedding.person_id == person_id)
        .order_by(FaceEmbedding.id)
    ).all()
    return _matrix_from_blobs(list(blobs))


def _matrix_from_blobs(blobs: list[bytes]) -> npt.NDArray[np.float32]:
    if not blobs:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return np.stack([embedding_from_bytes(bytes(blob)) for blob in blobs])


def clean_person_name(name: str) -> str:
    """``name`` with its whitespace collapsed, or ``ValueError`` when it is empty, too long or
    holds control characters."""
    # Whitespace (tabs and newlines included) becomes single spaces; any other control
    # character is refused: in a terminal it would be obeyed, not shown.
    clean = " ".join(name.split())
    if not clean:
        raise ValueError("a person's name cannot be empty")
    bad = control_character_at(clean)
    if bad is not None:
        raise ValueError(
            f"a person's name cannot contain control characters (U+{ord(clean[bad]):04X} "
            f"in {name!r})"
        )
    if len(clean) > NAME_MAX_CHARS:
        raise ValueError(f"a person's name is at most {NAME_MAX_CHARS} characters")
    return clean


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a is not None and b is not None else a or b


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b
