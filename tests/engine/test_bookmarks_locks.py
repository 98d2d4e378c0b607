"""Bookmarks and evidence locks on real databases (SQLite and PostgreSQL): validation that
names the field, search with literal wildcards, locks that mark exactly the overlapping
media of their sources, retention that keeps what a lock covers, releases that respect other
locks, media recorded later inside a lock stored locked, the audit trail, and refusals."""

from __future__ import annotations

import functools
import hashlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.access import Actor, PermissionDeniedError, Role
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.config import load_site
from engine.data_dirs import sensing_recording_dir
from engine.history.bookmarks import (
    AddBookmark,
    BookmarkError,
    BookmarkListRequest,
    BookmarkOwnerError,
    RemoveBookmark,
    UnknownBookmarkError,
)
from engine.history.locks import (
    EvidenceLockListRequest,
    LockError,
    LockEvidence,
    UnknownLockError,
    UnlockEvidence,
    recording_is_locked,
)
from engine.media import MediaFile
from engine.retention import RetentionPolicy, RetentionReport, run_retention
from engine.sensing.recording.recorder import RecordingReader, SensingRecorder, kept_segments
from engine.sim.nodes import Room, Simulator, perimeter_nodes, random_walkers
from engine.store import Store
from engine.store.audit import AuditListRequest, verify_audit
from engine.store.commands import InsertEvent, InsertMedia
from engine.store.models import Event, Media
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site

pytestmark = pytest.mark.sql

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # "now" for retention
OLD = T0 - timedelta(days=400)  # older than every default retention period
IVY = Actor("ivy", frozenset({Role.INVESTIGATOR}))


@dataclass
class Site:
    store: Store
    writer: StoreWriter
    cameras: dict[str, int]
    data: Path


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    """A store with cameras ``gate`` and ``yard`` and a running writer."""
    store = Store(db_url)
    config = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )
    ids = sync_site(store, load_site(config), REAL_CLOCK)
    try:
        with StoreWriter.running(store) as writer:
            yield Site(store, writer, ids.cameras, tmp_path / "data")
    finally:
        store.close()


def add_media(
    s: Site,
    name: str,
    *,
    camera: str | None,
    created_at: datetime,
    span: tuple[datetime, datetime] | None = None,
    kind: str = "clip",
) -> int:
    """A media file on disk and its row, written through the store writer."""
    path = f"{kind}s/{name}"
    file = s.data / path
    file.parent.mkdir(parents=True, exist_ok=True)
    body = name.encode() * 10
    file.write_bytes(body)
    media_id: int = s.writer.execute(
        InsertMedia(
            file=MediaFile(kind, path, hashlib.sha256(body).hexdigest(), len(body)),
            created_at=created_at,
            camera_id=None if camera is None else s.cameras[camera],
            started_at=None if span is None else span[0],
            ended_at=None if span is None else span[1],
        )
    )
    return media_id


def add_event(s: Site, ts: datetime, source: str) -> int:
    camera = source.removeprefix("camera:") if source.startswith("camera:") else None
    event_id: int = s.writer.execute(
        InsertEvent(
            ts=ts,
            kind="person.appeared",
            source=source,
            detail={},
            camera_id=None if camera is None else s.cameras[camera],
        )
    )
    return event_id


def locked_paths(store: Store) -> set[str]:
    with store.sessions() as session:
        return set(session.scalars(select(Media.path).where(Media.locked)).all())


def all_paths(store: Store) -> set[str]:
    with store.sessions() as session:
        return set(session.scalars(select(Media.path)).all())


def lock(
    s: Site,
    start: datetime,
    end: datetime,
    *,
    cameras: tuple[str, ...] | None = None,
    rooms: tuple[str, ...] | None = None,
    reason: str = "case 17",
) -> int:
    """Lock ``start``–``end`` of these sources as the investigator; the lock's id."""
    view = s.writer.execute(
        LockEvidence(
            start=start,
            end=end,
            cameras=cameras,
            rooms=rooms,
            reason=reason,
            at=T0,
            actor=INVESTIGATOR,
        )
    )
    return int(view.id)


# -- bookmarks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": "   "}, "title: empty"),
        ({"title": "x" * 201}, "title: 201 characters, at most 200"),
        ({"camera": "gaet"}, "camera: no camera 'gaet' \\(known: gate, yard\\)"),
        ({"pre_s": 3601.0}, "pre_s: 3601.0 seconds must be 0–3600"),
        ({"post_s": -1.0}, "post_s: -1.0 seconds must be 0–3600"),
        ({"post_s": float("nan")}, "post_s: nan seconds must be 0–3600"),
        ({"camera": "gate", "room": "lab"}, "camera/room: .* not both"),
        ({"camera": None, "room": " "}, "room: give a room name"),
        ({"marked_at": datetime(2026, 6, 1, 12, 0)}, "marked_at: give a time with its zone"),
    ],
)
def test_a_bad_bookmark_is_refused_naming_the_field(
    site: Site, change: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {"title": "Van at the gate", "marked_at": T0, "camera": "gate"}
    fields.update(change)
    with pytest.raises(BookmarkError, match=message):
        site.writer.execute(AddBookmark(at=T0, actor=INVESTIGATOR, **fields))  # type: ignore[arg-type]
    assert BookmarkListRequest().run(site.store) == ()


def test_bookmarks_list_by_overlap_newest_first_and_search_takes_wildcards_literally(
    site: Site,
) -> None:
    def add(title: str, minutes: int, note: str = "", **kw: object) -> int:
        view = site.writer.execute(
            AddBookmark(
                title=title,
                note=note,
                marked_at=T0 + timedelta(minutes=minutes),
                pre_s=60,
                post_s=60,
                at=T0,
                actor=INVESTIGATOR,
                **kw,  # type: ignore[arg-type]
            )
        )
        return int(view.id)

    gate = add("Van at the GATE", 0, "plate 50% visible", camera="gate")
    lab = add("Fall in lab", 10, "500 lux; a_b", room="lab")
    site_wide = add("Power cut", 20, "axb")
    first = BookmarkListRequest().run(site.store)
    assert [b.id for b in first] == [site_wide, lab, gate]
    assert (first[2].camera, first[1].room, first[0].camera, first[0].room) == (
        "gate",
        "lab",
        None,
        None,
    )
    assert first[2].author == "account:ian" and first[2].pre_s == 60.0
    assert first[2].started_at == T0 - timedelta(minutes=1)
    assert first[2].ended_at == T0 + timedelta(minutes=1)
    # Overlap: the gate bookmark's range ends at +1 min, so a range from +30 s catches it.
    ranged = BookmarkListRequest(start=T0 + timedelta(seconds=30), end=T0 + timedelta(minutes=8))
    assert [b.id for b in ranged.run(site.store)] == [gate]
    later = BookmarkListRequest(start=T0 + timedelta(minutes=9, seconds=30))
    assert [b.id for b in later.run(site.store)] == [site_wide, lab]

    def search(text: str) -> list[int]:
        return [b.id for b in BookmarkListRequest(text=text).run(site.store)]

    assert search("gate") == [gate]  # case-insensitive, in the title
    assert search("50%") == [gate]  # "%" is a percent sign, not "anything" (500 lux)
    assert search("a_b") == [lab]  # "_" is an underscore, not "any character" (axb)
    assert search("%") == [gate]
    assert search("LUX") == [lab]  # in the note
    assert search("nothing like it") == []


def test_only_the_author_or_an_admin_removes_a_bookmark(site: Site) -> None:
    first = site.writer.execute(AddBookmark(title="one", marked_at=T0, at=T0, actor=INVESTIGATOR))
    second = site.writer.execute(AddBookmark(title="two", marked_at=T0, at=T0, actor=INVESTIGATOR))
    with pytest.raises(BookmarkOwnerError, match="only its author or an admin may remove it"):
        site.writer.execute(RemoveBookmark(bookmark_id=first.id, at=T0, actor=IVY))
    site.writer.execute(RemoveBookmark(bookmark_id=first.id, at=T0, actor=INVESTIGATOR))
    site.writer.execute(RemoveBookmark(bookmark_id=second.id, at=T0, actor=ADMIN))
    assert BookmarkListRequest().run(site.store) == ()
    with pytest.raises(UnknownBookmarkError, match=f"no bookmark {first.id}"):
        site.writer.execute(RemoveBookmark(bookmark_id=first.id, at=T0, actor=ADMIN))


# -- locks ----------------------------------------------------------------------------------


def test_a_lock_marks_exactly_the_overlapping_media_of_its_cameras(site: Site) -> None:
    start, end = T0 - timedelta(hours=1), T0
    minute = timedelta(minutes=1)
    add_media(
        site,
        "across-start.mp4",
        camera="gate",
        created_at=start + minute,
        span=(start - minute, start + minute),
    )
    add_media(
        site,
        "across-end.mp4",
        camera="gate",
        created_at=end + minute,
        span=(end - minute, end + minute),
    )
    add_media(
        site,
        "before.mp4",
        camera="gate",
        created_at=start - minute,
        span=(start - 3 * minute, start - minute),
    )
    add_media(
        site,
        "after.mp4",
        camera="gate",
        created_at=end + 3 * minute,
        span=(end + minute, end + 3 * minute),
    )
    add_media(site, "no-span-inside.mp4", camera="gate", created_at=start + 5 * minute)
    add_media(site, "inside.jpg", camera="gate", created_at=start + minute, kind="snapshot")
    add_media(site, "outside.jpg", camera="gate", created_at=end + minute, kind="snapshot")
    add_media(
        site, "yard.mp4", camera="yard", created_at=start + minute, span=(start, start + minute)
    )
    add_media(site, "no-camera.jpg", camera=None, created_at=start + minute, kind="snapshot")
    assert locked_paths(site.store) == set()

    view = site.writer.execute(
        LockEvidence(
            start=start, end=end, cameras=("gate",), reason="case 17", at=T0, actor=INVESTIGATOR
        )
    )
    expected = {
        "clips/across-start.mp4",
        "clips/across-end.mp4",
        "clips/no-span-inside.mp4",
        "snapshots/inside.jpg",
    }
    assert locked_paths(site.store) == expected
    assert view.media_locked == 4 and view.active and view.cameras == ("gate",)
    assert (view.rooms, view.created_by, view.reason) == ((), "account:ian", "case 17")
    # A lock of rooms only keeps their events; it has no media to lock.
    rooms_only = site.writer.execute(
        LockEvidence(start=start, end=end, rooms=("lab",), reason="fall", at=T0, actor=INVESTIGATOR)
    )
    assert rooms_only.media_locked == 0 and rooms_only.cameras == ()
    # The whole site (no sources): every camera's, and media with no camera.
    whole = site.writer.execute(
        LockEvidence(start=start, end=end, reason="whole site", at=T0, actor=INVESTIGATOR)
    )
    assert whole.whole_site and whole.media_locked == 6
    assert locked_paths(site.store) == expected | {"clips/yard.mp4", "snapshots/no-camera.jpg"}
    listed = EvidenceLockListRequest().run(site.store)
    assert [v.id for v in listed] == [whole.id, rooms_only.id, view.id]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"reason": "  "}, "reason: empty"),
        ({"end": T0 - timedelta(hours=2)}, "end: the range ends .* before it starts"),
        ({"start": None}, "start/end: give the range's start and end, or a bookmark"),
        ({"cameras": ("gate", "gaet")}, "cameras: no camera 'gaet' \\(known: gate, yard\\)"),
        ({"cameras": ()}, "cameras: empty"),
        ({"bookmark_id": 1}, "bookmark: give a bookmark or a range .* not both"),
        ({"start": None, "end": None, "bookmark_id": 999}, "bookmark: no bookmark 999"),
    ],
)
def test_a_bad_lock_is_refused_naming_the_field(
    site: Site, fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "start": T0 - timedelta(hours=1),
        "end": T0,
        "reason": "case 17",
    }
    values.update(fields)
    with pytest.raises(LockError, match=message):
        site.writer.execute(LockEvidence(at=T0, actor=INVESTIGATOR, **values))  # type: ignore[arg-type]
    assert EvidenceLockListRequest(active_only=False).run(site.store) == ()


def test_a_lock_from_a_bookmark_takes_its_range_and_source(site: Site) -> None:
    add_media(
        site, "yard.jpg", camera="yard", created_at=T0 + timedelta(seconds=5), kind="snapshot"
    )
    add_media(
        site, "gate.jpg", camera="gate", created_at=T0 + timedelta(seconds=5), kind="snapshot"
    )
    mark = site.writer.execute(
        AddBookmark(
            title="Yard",
            marked_at=T0,
            pre_s=10,
            post_s=20,
            camera="yard",
            at=T0,
            actor=INVESTIGATOR,
        )
    )
    view = site.writer.execute(
        LockEvidence(bookmark_id=mark.id, reason="from the bookmark", at=T0, actor=INVESTIGATOR)
    )
    assert (view.started_at, view.ended_at) == (mark.started_at, mark.ended_at)
    assert view.cameras == ("yard",) and view.bookmark_id == mark.id
    assert locked_paths(site.store) == {"snapshots/yard.jpg"}
    # Removing the bookmark leaves the lock whole.
    site.writer.execute(RemoveBookmark(bookmark_id=mark.id, at=T0, actor=INVESTIGATOR))
    (kept,) = EvidenceLockListRequest().run(site.store)
    assert kept.bookmark_id is None and kept.cameras == ("yard",) and kept.media_locked == 1


def test_retention_deletes_what_is_unlocked_and_keeps_what_a_lock_covers(site: Site) -> None:
    start, end = OLD, OLD + timedelta(hours=1)
    inside = OLD + timedelta(minutes=30)
    add_media(
        site,
        "gate-old.mp4",
        camera="gate",
        created_at=inside,
        span=(inside, inside + timedelta(seconds=10)),
    )
    add_media(
        site,
        "yard-old.mp4",
        camera="yard",
        created_at=inside,
        span=(inside, inside + timedelta(seconds=10)),
    )
    add_media(site, "gate-older.mp4", camera="gate", created_at=OLD - timedelta(days=1))
    kept_events = {
        add_event(site, inside, "camera:gate"),
        add_event(site, inside, "sensing:lab"),
        add_event(site, T0 - timedelta(days=1), "camera:yard"),  # recent
    }
    gone_events = {
        add_event(site, inside, "camera:yard"),  # not a locked source
        add_event(site, inside, "sensing:hall"),
        add_event(site, OLD - timedelta(days=1), "camera:gate"),  # outside the range
    }
    lock(site, start, end, cameras=("gate",), rooms=("lab",))

    report = run_retention(
        site.store,
        SimulatedClock(T0),
        site.data,
        RetentionPolicy(),
        writer=site.writer,
        disk_free=lambda _path: 10**15,
    )

    assert all_paths(site.store) == {"clips/gate-old.mp4"}
    assert (site.data / "clips/gate-old.mp4").exists()
    assert not (site.data / "clips/yard-old.mp4").exists()
    assert report.clips_deleted == 2 and report.locked_kept == 1
    with site.store.sessions() as session:
        events = set(session.scalars(select(Event.id)).all())
    assert kept_events <= events and not gone_events & events

    # A whole-site lock keeps every source's events in its range.
    other = OLD - timedelta(days=10)
    survivors = {add_event(site, other, "camera:yard"), add_event(site, other, "sensing:hall")}
    lock(site, other - timedelta(minutes=1), other + timedelta(minutes=1))
    run_retention(
        site.store,
        SimulatedClock(T0),
        site.data,
        RetentionPolicy(),
        writer=site.writer,
        disk_free=lambda _path: 10**15,
    )
    with site.store.sessions() as session:
        assert survivors <= set(session.scalars(select(Event.id)).all())


def test_a_release_unlocks_only_media_no_other_active_lock_covers(site: Site) -> None:
    a = T0 - timedelta(hours=2)
    add_media(
        site, "first.jpg", camera="gate", created_at=a + timedelta(minutes=10), kind="snapshot"
    )
    add_media(
        site, "both.jpg", camera="gate", created_at=a + timedelta(minutes=50), kind="snapshot"
    )
    add_media(
        site, "second.jpg", camera="gate", created_at=a + timedelta(minutes=90), kind="snapshot"
    )
    first = lock(site, a, a + timedelta(hours=1), cameras=("gate",))
    second = lock(site, a + timedelta(minutes=40), a + timedelta(hours=2))  # whole site
    assert locked_paths(site.store) == {
        "snapshots/first.jpg",
        "snapshots/both.jpg",
        "snapshots/second.jpg",
    }
    with pytest.raises(LockError, match="reason: empty"):
        site.writer.execute(UnlockEvidence(lock_id=first, reason=" ", at=T0, actor=INVESTIGATOR))
    released = site.writer.execute(
        UnlockEvidence(lock_id=first, reason="case closed", at=T0, actor=IVY)
    )
    assert not released.active and released.released_by == "account:ivy"
    assert released.released_at == T0 and released.media_locked == 1  # both.jpg, by second
    assert locked_paths(site.store) == {"snapshots/both.jpg", "snapshots/second.jpg"}
    with pytest.raises(LockError, match=f"lock {first} was released already, by account:ivy"):
        site.writer.execute(UnlockEvidence(lock_id=first, reason="again", at=T0, actor=ADMIN))
    with pytest.raises(UnknownLockError, match="no evidence lock 999"):
        site.writer.execute(UnlockEvidence(lock_id=999, reason="x", at=T0, actor=ADMIN))
    site.writer.execute(UnlockEvidence(lock_id=second, reason="done", at=T0, actor=ADMIN))
    assert locked_paths(site.store) == set()
    assert [v.id for v in EvidenceLockListRequest().run(site.store)] == []
    every = EvidenceLockListRequest(active_only=False).run(site.store)
    assert [v.id for v in every] == [second, first]


def test_media_recorded_later_inside_an_active_lock_is_stored_locked(site: Site) -> None:
    """A lock on a range still being recorded keeps what is recorded after it was made."""
    start = T0 - timedelta(minutes=5)
    lock_id = lock(site, start, T0 + timedelta(hours=1), cameras=("gate",))
    later = T0 + timedelta(minutes=10)
    add_media(
        site,
        "gate-live.mp4",
        camera="gate",
        created_at=later,
        span=(later - timedelta(seconds=5), later),
    )
    add_media(
        site,
        "yard-live.mp4",
        camera="yard",
        created_at=later,
        span=(later - timedelta(seconds=5), later),
    )
    add_media(
        site,
        "gate-next-day.mp4",
        camera="gate",
        created_at=T0 + timedelta(days=1),
        span=(T0 + timedelta(days=1), T0 + timedelta(days=1, seconds=5)),
    )
    path = "snapshots/gate-event.jpg"
    site.writer.execute(
        InsertEvent(
            ts=later,
            kind="person.appeared",
            source="camera:gate",
            detail={},
            camera_id=site.cameras["gate"],
            media=(MediaFile("snapshot", path, "0" * 64, 10),),
        )
    )
    assert locked_paths(site.store) == {"clips/gate-live.mp4", path}
    (view,) = EvidenceLockListRequest().run(site.store)
    assert view.media_locked == 2
    site.writer.execute(UnlockEvidence(lock_id=lock_id, reason="done", at=T0, actor=ADMIN))
    add_media(
        site,
        "gate-after-release.mp4",
        camera="gate",
        created_at=later,
        span=(later, later + timedelta(seconds=5)),
    )
    assert locked_paths(site.store) == set()


def test_bookmarks_and_locks_are_audited(site: Site) -> None:
    mark = site.writer.execute(
        AddBookmark(title="Van", marked_at=T0, camera="gate", at=T0, actor=INVESTIGATOR)
    )
    lock_id = lock(site, T0 - timedelta(hours=1), T0, cameras=("gate",), reason="case 9")
    site.writer.execute(
        UnlockEvidence(lock_id=lock_id, reason="case closed", at=T0, actor=INVESTIGATOR)
    )
    site.writer.execute(RemoveBookmark(bookmark_id=mark.id, at=T0, actor=INVESTIGATOR))
    entries = {r.action: r for r in AuditListRequest(reader=ADMIN, limit=100).run(site.store)}
    added, locked = entries["bookmark.add"], entries["evidence.lock"]
    unlocked, removed = entries["evidence.unlock"], entries["bookmark.remove"]
    assert {r.actor for r in (added, locked, unlocked, removed)} == {"account:ian"}
    assert added.target == f"bookmark:{mark.id}" and added.detail["title"] == "Van"
    assert locked.target == unlocked.target == f"evidence_lock:{lock_id}"
    assert locked.detail["reason"] == "case 9" and locked.detail["cameras"] == ["gate"]
    assert unlocked.detail["reason"] == "case closed"
    assert removed.target == f"bookmark:{mark.id}"
    assert verify_audit(site.store).ok


def test_an_operator_may_neither_bookmark_nor_lock(site: Site) -> None:
    with pytest.raises(
        PermissionDeniedError,
        match=r"olga \(operator\) may not add bookmarks: it needs the bookmark permission",
    ):
        site.writer.submit(AddBookmark(title="x", marked_at=T0, at=T0, actor=OPERATOR))
    with pytest.raises(PermissionDeniedError, match="needs the lock_evidence permission"):
        site.writer.submit(
            LockEvidence(start=T0 - timedelta(hours=1), end=T0, reason="x", at=T0, actor=OPERATOR)
        )
    with pytest.raises(PermissionDeniedError, match="needs the lock_evidence permission"):
        site.writer.submit(UnlockEvidence(lock_id=1, reason="x", at=T0, actor=OPERATOR))
    site.writer.flush()
    denied = [
        r.action
        for r in AuditListRequest(reader=ADMIN, limit=100).run(site.store)
        if r.outcome == "denied"
    ]
    assert sorted(denied) == ["bookmark.add", "evidence.lock", "evidence.unlock"]
    assert BookmarkListRequest().run(site.store) == ()
    assert EvidenceLockListRequest(active_only=False).run(site.store) == ()


def record_room(directory: Path, keep: Callable[[float, float], bool], start_wall_s: float) -> None:
    """About 30 s of a simulated room's CSI from ``start_wall_s`` into a ring so small that
    most of it is pushed out (into ``kept/`` where ``keep`` says so)."""
    room = Room(5.0, 5.0, 2.5)
    sim = Simulator(room, perimeter_nodes(room, 4), random_walkers(room, 2, seed=1), seed=3)
    recorder = SensingRecorder(
        directory,
        max_bytes=32 * 1024,
        block_bytes=2048,
        monotonic_anchor=start_wall_s,
        wall_clock=lambda: start_wall_s,
        keep=keep,
    )
    try:
        t_s = 0.0
        while t_s < 30.0:
            for _, raw in sim.frames_at(t_s):
                recorder.append_frame(t_s, raw)
            recorder.append_tick(t_s)
            t_s += 0.05
    finally:
        recorder.close()


@pytest.mark.slow
def test_a_rooms_lock_keeps_its_sensing_recording_until_released(site: Site) -> None:
    start = OLD
    directory = sensing_recording_dir("site", "lab", root=site.data)
    keep = functools.partial(recording_is_locked, site.store, "lab")
    # Camera and other rooms' locks do not keep the lab's recording.
    lock(site, start, start + timedelta(minutes=5), cameras=("gate",))
    lock(site, start, start + timedelta(minutes=5), rooms=("hall",))
    record_room(directory, keep, start.timestamp())
    assert not kept_segments(directory)

    # Locked: the seconds 10–20 leave the ring for kept/, and retention keeps them.
    lock_id = lock(
        site, start + timedelta(seconds=10), start + timedelta(seconds=20), rooms=("lab",)
    )
    shutil.rmtree(directory)
    record_room(directory, keep, start.timestamp())
    kept = kept_segments(directory)
    assert kept and all(
        k.first_wall_s is not None
        and k.last_wall_s is not None
        and k.first_wall_s <= start.timestamp() + 20
        and k.last_wall_s >= start.timestamp() + 10
        for k in kept
    )
    replayed = [i.wall_s for i in RecordingReader(directory).records()]
    assert any(start.timestamp() + 10 <= t <= start.timestamp() + 20 for t in replayed)

    def retention() -> RetentionReport:
        return run_retention(
            site.store,
            SimulatedClock(T0),
            site.data,
            RetentionPolicy(),
            writer=site.writer,
            disk_free=lambda _path: 10**15,
        )

    assert retention().recordings_released == 0
    assert [k.path for k in kept_segments(directory)] == [k.path for k in kept]

    # Released: the next retention run deletes them.
    site.writer.execute(UnlockEvidence(lock_id=lock_id, reason="case closed", at=T0, actor=IVY))
    report = retention()
    assert report.recordings_released == len(kept)
    assert report.bytes_freed >= sum(k.size for k in kept)
    assert not kept_segments(directory)

    # A whole-site lock keeps every room's recording too.
    assert recording_is_locked(site.store, "lab", start.timestamp(), start.timestamp() + 1) is False
    lock(site, start, start + timedelta(seconds=1))
    assert recording_is_locked(site.store, "lab", start.timestamp(), start.timestamp() + 1)
