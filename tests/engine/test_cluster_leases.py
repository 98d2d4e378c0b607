"""Leases of a shared site (engine.cluster): taken by exactly one engine, renewed only by
the epoch that took them, lapsed ones taken over, shares balanced by capacity and pins.
Real SQLite and PostgreSQL; engines here are LeaseBooks in one process (the processes
themselves are tested in test_cluster_engines)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.cluster.leases import (
    SITE_SERVICES,
    ClusterView,
    EngineNameTakenError,
    EngineState,
    LeaseBook,
    LeaseState,
    resources_of,
)
from engine.cluster.member import UNLIMITED, ClusterMember, plan, shares
from engine.cluster.names import check_engine_name
from engine.store.cluster_models import EngineRow, Lease
from engine.store.database import Store
from engine.store.models import Site

pytestmark = pytest.mark.sql


def _site(store: Store, name: str = "Shared site") -> int:
    with store.transaction() as session:
        row = Site(name=name, geo_lat=0.0, geo_lon=0.0, updated_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row.id


def _book(store: Store, site_id: int, name: str, ttl: float = 15.0) -> LeaseBook:
    book = LeaseBook(store, site_id, name, lease_ttl_s=ttl, engine_ttl_s=ttl)
    book.pid = hash(name) & 0xFFFF  # several "processes" in one test
    return book


def test_engine_names_are_checked() -> None:
    assert check_engine_name("server-a.1") == "server-a.1"
    with pytest.raises(ValueError, match="only letters"):
        check_engine_name("server a")
    with pytest.raises(ValueError, match="1–64"):
        check_engine_name("")


def test_only_one_of_many_racing_engines_takes_a_free_lease(store: Store) -> None:
    site = _site(store)
    books = [_book(store, site, f"e{i}") for i in range(6)]
    for book in books:
        book.join(4, datetime.now(UTC))
    books[0].offer({("camera", "plaza"): None})
    won: list[tuple[str, int | None]] = []
    start = threading.Barrier(len(books))

    def race(book: LeaseBook) -> None:
        start.wait()
        won.append((book.name, book.acquire("camera", "plaza")))

    threads = [threading.Thread(target=race, args=(b,)) for b in books]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [name for name, epoch in won if epoch is not None]
    assert len(winners) == 1, won
    view = books[0].view()
    assert view.holder_of("camera", "plaza") == winners[0]


def test_a_lapsed_lease_is_taken_over_and_its_old_holder_cannot_renew_it(store: Store) -> None:
    site = _site(store)
    a, b = _book(store, site, "a", ttl=0.5), _book(store, site, "b", ttl=0.5)
    for book in (a, b):
        book.join(4, datetime.now(UTC))
    a.offer({("camera", "plaza"): None})
    epoch_a = a.acquire("camera", "plaza")
    assert epoch_a is not None
    assert b.acquire("camera", "plaza") is None  # held and fresh
    assert a.renew({("camera", "plaza"): epoch_a}) == set()
    time.sleep(0.7)  # a stalls past its lease
    b.heartbeat(datetime.now(UTC))  # (a holder counts while its engine is heard from)
    epoch_b = b.acquire("camera", "plaza")
    assert epoch_b == epoch_a + 1
    # a wakes up: its renewal fails, so it stops the camera rather than run it beside b.
    assert a.renew({("camera", "plaza"): epoch_a}) == {("camera", "plaza")}
    a.release("camera", "plaza", epoch_a)  # a stale release changes nothing
    assert b.view().holder_of("camera", "plaza") == "b"


def test_a_second_live_engine_of_the_same_name_is_refused(store: Store) -> None:
    site = _site(store)
    first = _book(store, site, "server-a")
    first.join(4, datetime.now(UTC))
    second = _book(store, site, "server-a")
    second.pid = first.pid + 1
    with pytest.raises(EngineNameTakenError, match="already running"):
        second.join(4, datetime.now(UTC))
    first.leave({})
    second.join(4, datetime.now(UTC))  # once it stopped, the name is free


def test_clock_offset_is_measured_against_the_database(store: Store) -> None:
    site = _site(store)
    book = _book(store, site, "skewed")
    book.join(4, datetime.now(UTC))
    _, offset = book.heartbeat(datetime.now(UTC) + timedelta(seconds=3))
    assert 2500 < offset < 3500
    (engine,) = book.view().engines
    assert 2500 < engine.clock_offset_ms < 3500


def test_offer_keeps_one_row_per_resource_and_follows_the_files_pins(store: Store) -> None:
    site = _site(store)
    book = _book(store, site, "a")
    wanted = resources_of([("plaza", "a"), ("gate", None)], ["lab"])
    book.offer(wanted)
    book.offer(wanted)
    book.offer({**wanted, ("camera", "plaza"): None})
    with store.transaction() as session:
        rows = {(r.kind, r.key): r.pinned for r in session.query(Lease)}
    assert rows == {
        ("camera", "plaza"): None,
        ("camera", "gate"): None,
        ("room", "lab"): None,
        SITE_SERVICES: None,
    }


def _view(engines: dict[str, int], holders: dict[tuple[str, str], str | None]) -> ClusterView:
    now = datetime.now(UTC)
    return ClusterView(
        now=now,
        engines=tuple(
            EngineState(n, "h", 1, c, now, now, 0.0, None, True) for n, c in engines.items()
        ),
        leases=tuple(
            LeaseState(k, key, h, None, 1, now, now, h is not None)
            for (k, key), h in holders.items()
        ),
    )


def test_shares_follow_capacity_and_pins() -> None:
    keys = [f"c{i}" for i in range(12)]
    assert shares(keys, {}, {"a": 8, "b": 8, "c": 8}) == {"a": 4, "b": 4, "c": 4}
    assert shares(keys, {}, {"a": 2, "b": 8}) == {"a": 2, "b": 8}  # 2 cameras left over
    pinned = dict.fromkeys(keys[:5], "a")
    assert shares(keys, pinned, {"a": 8, "b": 8}) == {"a": 6, "b": 6}
    assert shares(keys, {"c0": "gone"}, {"a": 8, "b": 8}) == {"a": 6, "b": 6}
    # No limit (the default): an even split, and the survivors share a stopped one's cameras.
    assert shares(keys, {}, dict.fromkeys("abc", UNLIMITED)) == {"a": 4, "b": 4, "c": 4}
    assert shares(keys, {}, dict.fromkeys("ab", UNLIMITED)) == {"a": 6, "b": 6}


def test_plan_hands_back_the_excess_when_an_engine_joins() -> None:
    wanted = {("camera", f"c{i}"): None for i in range(6)}
    held = {r: 1 for r in wanted}
    alone = plan(_view({"a": 8}, dict.fromkeys(wanted, "a")), "a", 8, held, wanted)
    assert alone.release == () and alone.acquire == ()
    joined = _view({"a": 8, "b": 8}, dict.fromkeys(wanted, "a"))
    decided = plan(joined, "a", 8, held, wanted)
    assert decided.release == (("camera", "c5"), ("camera", "c4"), ("camera", "c3"))
    # b takes nothing held; once a gave them back, b takes exactly those.
    assert plan(joined, "b", 8, {}, wanted).acquire == ()
    after = _view({"a": 8, "b": 8}, {**dict.fromkeys(wanted, "a"), **dict.fromkeys(
        [("camera", "c3"), ("camera", "c4"), ("camera", "c5")], None)})  # fmt: skip
    assert plan(after, "b", 8, {}, wanted).acquire == (
        ("camera", "c3"), ("camera", "c4"), ("camera", "c5"),
    )  # fmt: skip


def test_plan_gives_a_pinned_camera_back_to_its_engine_and_takes_it_when_that_is_gone() -> None:
    wanted = {("camera", "plaza"): "a", ("camera", "gate"): None}
    holders = {("camera", "plaza"): "b", ("camera", "gate"): None}
    decided = plan(_view({"a": 4, "b": 4}, holders), "b", 4, {("camera", "plaza"): 1}, wanted)
    assert decided.release == (("camera", "plaza"),)
    assert ("camera", "gate") in decided.acquire
    # a is gone: its pinned camera is anyone's.
    gone = plan(_view({"b": 4}, {("camera", "plaza"): None}), "b", 4, {}, wanted)
    assert ("camera", "plaza") in gone.acquire


def test_members_split_a_site_and_take_over_a_silent_one(store: Store) -> None:
    """Three members on one database: the cameras are split 4/4/4; one goes silent (as a
    killed process does: no release) and its cameras run on the other two within the
    lease's time."""
    site = _site(store)
    wanted = resources_of([(f"cam{i:02d}", None) for i in range(12)], ["lab"])
    running: dict[str, set[tuple[str, str]]] = {}
    lock = threading.Lock()

    def member(name: str) -> ClusterMember:
        running[name] = set()

        def acquire(resource: tuple[str, str]) -> None:
            with lock:
                for other, held in running.items():
                    assert resource not in held, f"{resource} already runs on {other}"
                running[name].add(resource)

        def release(resource: tuple[str, str], why: str) -> None:
            with lock:
                running[name].discard(resource)

        return ClusterMember(
            _book(store, site, name, ttl=1.0),
            wanted,
            capacity=8,
            on_acquire=acquire,
            on_release=release,
            heartbeat_s=0.2,
        )

    members = [member(n) for n in ("a", "b", "c")]
    for m in members:
        m.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                cams = {n: sum(k == "camera" for k, _ in r) for n, r in running.items()}
            if sorted(cams.values()) == [4, 4, 4]:
                break
            time.sleep(0.1)
        assert sorted(cams.values()) == [4, 4, 4], running
        with lock:
            everything = set().union(*running.values())
        assert everything == set(wanted)
        # c goes silent: its thread stops without giving anything back.
        silent = members[2]
        silent._stop.set()
        silent._thread.join()
        with lock:  # ...and, like a killed process, runs nothing any more
            orphaned, running["c"] = running["c"], set()
        stopped_at = time.monotonic()
        while time.monotonic() - stopped_at < 10:
            with lock:
                taken = set().union(running["a"], running["b"])
            if orphaned <= taken:
                break
            time.sleep(0.05)
        took = time.monotonic() - stopped_at
        assert orphaned <= taken, (orphaned, running)
        assert took < 1.0 + 0.2 + 1.0  # the lease's time, a heartbeat, slack for the machine
        with lock:
            cams = {n: sum(k == "camera" for k, _ in running[n]) for n in ("a", "b")}
        assert cams == {"a": 6, "b": 6}
    finally:
        for m in members[:2]:
            m.stop()
    assert running["a"] == running["b"] == set()
    assert not any(e.alive for e in members[0].book.view().engines if e.name in ("a", "b"))


def test_after_the_database_was_away_the_first_engine_back_leaves_the_others_cameras(
    store: Store,
) -> None:
    """Nobody can renew while the database is away, so every lease lapses by its clock.
    The engine that reaches it first must not take the others' cameras: it waits until it
    has itself watched them go unrenewed for the lease time, and their holder renews them
    first."""
    site = _site(store)
    wanted = resources_of([("c1", None), ("c2", None)], [], services=False)
    running: dict[str, set[tuple[str, str]]] = {"a": set(), "b": set()}

    def member(name: str) -> ClusterMember:
        return ClusterMember(
            _book(store, site, name, ttl=1.0),
            wanted,
            capacity=2,
            on_acquire=running[name].add,
            on_release=lambda r, why: running[name].discard(r),
            heartbeat_s=0.2,
        )

    a, b = member("a"), member("b")
    a.book.join(2, datetime.now(UTC))
    a.book.offer(wanted)
    b.book.join(2, datetime.now(UTC))
    for m in (a, b):
        m._worker.start()  # starts and stops; the ticks are by hand
    for _ in range(3):
        a.tick()
        assert a.settle(10)
        b.tick()
        assert b.settle(10)
    assert len(a.held) == 1 and len(b.held) == 1
    b._watched.clear()  # b's tick failed while the database was away...
    time.sleep(1.3)  # ...for longer than the lease: every lease has lapsed
    b.tick()  # b is back first
    assert b.settle(10)
    assert len(b.held) == 1, b.held  # it did not take a's camera
    a.tick()  # a renews what it holds
    assert a.settle(10)
    assert len(a.held) == 1
    b.tick()
    assert b.settle(10)
    assert len(b.held) == 1 and not set(a.held) & set(b.held)
    for m in (a, b):
        m._work.put(None)


def test_what_an_engine_says_at_its_heartbeat_reaches_every_machine(store: Store) -> None:
    from engine.cluster.status import engines_status

    site = _site(store)
    book = _book(store, site, "server-a")
    book.join(4, datetime.now(UTC))
    book.offer({("camera", "plaza"): None, ("camera", "gate"): None, ("camera", "door"): None})
    assert book.acquire("camera", "plaza") and book.acquire("camera", "gate")
    health = {
        "subsystems": [
            {"name": "store", "state": "degraded", "detail": "retrying: connection lost"},
            {"name": "cameras", "state": "ok", "detail": "1/2 online"},
        ],
        "cameras": {
            "plaza": {"status": "online", "detail": "", "fps": 10.0},
            "gate": {"status": "offline", "detail": "no frames for 12 s", "fps": 0.0},
            # It ran "door" until a rebalance gave it to another engine (not running here).
            "door": {"status": "offline", "detail": "stopped (lease released)", "fps": 0.0},
        },
    }
    book.heartbeat(datetime.now(UTC), health)
    (line,) = engines_status(store).engines
    assert set(line.camera_states) == {"plaza", "gate"}  # before: "door" too
    assert line.troubles == (
        "store degraded: retrying: connection lost",
        "camera gate offline (no frames for 12 s)",
    )
    problems = engines_status(store).problems
    assert "engine server-a: camera gate offline (no frames for 12 s)" in problems
    book.heartbeat(datetime.now(UTC))  # no report this time: the last one stays
    assert engines_status(store).engines[0].camera_states["plaza"]["fps"] == 10.0
    book.leave({})
    assert engines_status(store).engines[0].troubles == ()  # a stopped engine has none


def _silence(store: Store, site_id: int, name: str, seconds: float) -> None:
    """Make engine ``name``'s heartbeat and leases ``seconds`` older, as if its process had
    been paused (SIGSTOP) that long: the database's rows are what the others judge by."""
    age = timedelta(seconds=seconds)
    with store.write_transaction() as session:
        for row in session.scalars(
            select(EngineRow).where(EngineRow.site_id == site_id, EngineRow.name == name)
        ):
            row.heartbeat_at -= age
        for lease in session.scalars(
            select(Lease).where(Lease.site_id == site_id, Lease.engine == name)
        ):
            assert lease.heartbeat_at is not None
            lease.heartbeat_at -= age


class Runs:
    """What each member runs, as its on_acquire/on_release see it; a resource never runs
    on two members at once. Members here never start their heartbeat thread: each tick is
    by hand, with no time passing between them unless the test ages rows."""

    def __init__(self, *, exclusive: bool = True) -> None:
        self.exclusive = exclusive
        self.lock = threading.Lock()
        self.by: dict[str, set[tuple[str, str]]] = {}
        self.why: list[tuple[str, tuple[str, str], str]] = []

    def member(self, book: LeaseBook, who: str, wanted: dict, **kwargs: Any) -> ClusterMember:  # type: ignore[type-arg]
        self.by[who] = set()

        def acquire(resource: tuple[str, str]) -> None:
            with self.lock:
                for other, held in self.by.items():
                    assert not self.exclusive or resource not in held, f"already on {other}"
                self.by[who].add(resource)

        def release(resource: tuple[str, str], why: str) -> None:
            with self.lock:
                self.by[who].discard(resource)
                self.why.append((who, resource, why))

        member = ClusterMember(
            book,
            wanted,
            capacity=8,
            on_acquire=acquire,
            on_release=release,
            **kwargs,
        )
        book.join(8, datetime.now(UTC))
        book.offer(wanted)
        member._worker.start()
        return member

    def tick(self, *members: ClusterMember) -> None:
        for m in members:
            m.tick()
            assert m.settle(30)


@pytest.mark.hostile(7)
def test_a_process_resumed_after_its_name_was_taken_over_stops_everything_it_ran(
    store: Store,
) -> None:
    """Scenario 7: server-a's process is paused (SIGSTOP) past its lease; a new process of
    the same name joins and takes its camera, room and site services; the old one resumes.
    At its next heartbeat it finds its name held by another instance: it stops all it ran,
    says why, and cannot write the name's row or leases any more. ``engines`` shows the
    takeover."""
    from engine.cluster.status import engines_status

    site = _site(store)
    wanted = resources_of([("plaza", None)], ["lab"])
    runs = Runs(exclusive=False)  # a paused process still "runs" what it held
    lost: list[str] = []
    old_book = _book(store, site, "server-a")
    old = runs.member(old_book, "old", wanted, on_name_lost=lost.append)
    runs.tick(old)
    assert runs.by["old"] == set(wanted)
    _silence(store, site, "server-a", 70)  # paused for 70 s
    new_book = _book(store, site, "server-a")
    new_book.pid = old_book.pid + 1  # another process, as after a restart by a supervisor
    new = runs.member(new_book, "new", wanted)
    runs.tick(new)
    assert runs.by["new"] == set(wanted)
    held_by_old = old.held
    assert held_by_old  # the paused process still thinks it runs them
    # Nothing it writes as server-a counts now.
    assert old_book.acquire("camera", "plaza") is None
    assert old_book.renew(held_by_old) == set(held_by_old)
    old_book.release("camera", "plaza", held_by_old[("camera", "plaza")])
    assert new_book.view().holder_of("camera", "plaza") == "server-a"
    # It resumes: its next heartbeat finds the name taken, and it stops all it ran.
    runs.tick(old)
    assert runs.by["old"] == set() and old.held == {}
    assert {(r, why) for who, r, why in runs.why if who == "old"} == {
        (r, "this engine's name was taken over") for r in wanted
    }
    assert len(lost) == 1 and old.name_lost == lost[0]
    assert "engine 'server-a' was taken over" in lost[0]
    assert f"pid {new_book.pid}" in lost[0] and "was not heard from for 70 s" in lost[0]
    old.tick()  # a member that lost its name does nothing more
    old.stop()  # ...nor marks the name's row stopped, nor gives back the new one's leases
    runs.tick(new)
    assert runs.by["new"] == set(wanted)
    (line,) = engines_status(store).engines
    assert (line.state, line.pid, line.cameras, line.rooms) == (
        "running", new_book.pid, ("plaza",), ("lab",),
    )  # fmt: skip
    assert line.replaced is not None and line.replaced["pid"] == old_book.pid
    new.stop()
    (line,) = engines_status(store).engines
    assert line.state == "stopped"
    # A clean stop frees the name: the next process takes it without naming a takeover.
    again = _book(store, site, "server-a")
    again.join(8, datetime.now(UTC))
    assert engines_status(store).engines[0].replaced is None


@pytest.mark.hostile(8)
@pytest.mark.parametrize(
    ("engine", "heartbeat"),
    [
        ("ghost", "9999-12-31"),  # unknown, and stamped far ahead (the scenario)
        ("ghost", None),  # unknown, renewed "now"
        ("server-b", "9999-12-31"),  # a real engine's name, stamped far ahead
        ("ghost", "infinity"),  # a time Python cannot hold (PostgreSQL's; text on SQLite)
    ],
)
def test_a_lease_no_running_engine_wrote_is_taken_over_and_named(
    store: Store, engine: str, heartbeat: str | None
) -> None:
    """Scenario 8: a lease row edited to be held by an engine that never joined the site,
    or stamped far ahead of the database's clock, is not believed: the engines take the
    camera over at their next heartbeat (no waiting for a lapse that would never come),
    rewriting the row, and ``engines`` names the row meanwhile."""
    from engine.cluster.status import engines_status

    site = _site(store)
    wanted = resources_of([("plaza", None), ("gate", None)], [], services=False)
    runs = Runs()
    a = runs.member(_book(store, site, "server-a"), "a", wanted)
    b = runs.member(_book(store, site, "server-b"), "b", wanted)
    runs.tick(a, b, a, b)
    assert sorted(len(held) for held in runs.by.values()) == [1, 1]
    with store.write_transaction() as session:
        now = session.scalar(
            select(Lease.heartbeat_at).where(Lease.site_id == site, Lease.key == "plaza")
        )
        session.execute(
            text(
                "UPDATE leases SET engine = :engine, heartbeat_at = "
                + (f"'{heartbeat}'" if heartbeat else ":now")
                + " WHERE site_id = :site AND key = 'plaza'"
            ),
            {"engine": engine, "site": site, "now": now},
        )
    status = engines_status(store)
    assert status.unowned == ("Shared site: camera plaza",)
    (doubt,) = (p for p in status.problems if "lease is held" in p)
    assert doubt.startswith("Shared site: camera plaza's lease is held by ")
    if engine == "ghost":
        assert "unknown engine 'ghost'" in doubt
    if heartbeat:  # ('infinity' is read as the latest time kept: 9999-12-31)
        assert "renewed as of 9999-12-31 00:00:00 UTC: ahead of the database's clock" in doubt
    assert doubt.endswith("not believed; the other engines take it over (and rewrite the row)")
    # With no time passing, within two heartbeats (the holder stops the camera it lost at
    # the first, and takes the free lease at the next): it runs again, on one engine.
    runs.tick(a, b, a, b)
    running = [who for who, held in runs.by.items() if ("camera", "plaza") in held]
    assert len(running) == 1, runs.by
    view = a.book.view()
    (lease,) = (x for x in view.leases if x.key == "plaza")
    assert lease.live and lease.doubt is None and lease.engine == f"server-{running[0]}"
    assert lease.heartbeat_at is not None and lease.heartbeat_at <= view.now
    status = engines_status(store)
    assert status.problems == () and status.unowned == ()
    for m in (a, b):
        m.stop()


@pytest.mark.hostile(8)
@pytest.mark.parametrize("heartbeat", ["9999-12-31", "infinity"])
def test_an_engine_row_stamped_far_ahead_is_not_believed(store: Store, heartbeat: str) -> None:
    """An engine row edited to a heartbeat in the year 9999 does not keep its name taken
    nor count as running; ``engines`` says so."""
    from engine.cluster.status import engines_status

    site = _site(store)
    phantom = _book(store, site, "phantom")
    phantom.join(4, datetime.now(UTC))
    with store.write_transaction() as session:
        session.execute(
            text(f"UPDATE engines SET heartbeat_at = '{heartbeat}' WHERE name = 'phantom'")
        )
    (line,) = engines_status(store).engines
    assert line.state == "silent"
    (problem,) = engines_status(store).problems
    assert "engine phantom on" in problem and "ahead of the database's clock" in problem
    assert not any(e.alive for e in phantom.view().engines)
    other = _book(store, site, "phantom")
    other.pid = phantom.pid + 1
    other.join(4, datetime.now(UTC))  # the name is free: its row was not believed


@pytest.mark.hostile(8)
def test_a_lease_kept_fresh_for_an_engine_not_heard_from_is_taken_over(store: Store) -> None:
    """A lease renewed (by hand) in the name of an engine whose heartbeat stopped is not
    believed: the lease counts only while its engine is heard from. Another engine takes
    the camera once it has watched it unheld for the lease time less a heartbeat (none
    here: heartbeat_s is the lease time); an engine heard from again keeps its own."""
    site = _site(store)
    wanted = resources_of([("plaza", None)], [], services=False)
    runs = Runs(exclusive=False)  # a, not heard from, still "runs" it until it comes back
    a = runs.member(_book(store, site, "server-a"), "a", wanted, heartbeat_s=15.0)
    runs.tick(a)
    b = runs.member(_book(store, site, "server-b"), "b", wanted, heartbeat_s=15.0)
    runs.tick(b)
    assert runs.by == {"a": {("camera", "plaza")}, "b": set()}
    _silence(store, site, "server-a", 60)  # a is not heard from...
    with store.write_transaction() as session:  # ...yet its lease looks renewed just now
        session.execute(text("UPDATE leases SET heartbeat_at = :now"), {"now": datetime.now(UTC)})
    assert a.book.view().holder_of("camera", "plaza") is None
    runs.tick(b)
    assert runs.by["b"] == {("camera", "plaza")}
    runs.tick(a)  # a comes back: the lease it held was taken, so it stops the camera
    assert runs.by["a"] == set()
    assert [why for who, _, why in runs.why if who == "a"] == ["taken over by another engine"]
    for m in (a, b):
        m.stop()


def test_a_heartbeat_round_that_fails_is_run_again_and_the_restart_shown(store: Store) -> None:
    """The heartbeat loop is supervised: a round that fails other than by the database being
    away (here what the engine says of itself cannot be stored: a set is not JSON) is logged,
    counted and shown, and the next round comes after a backoff no longer than a heartbeat,
    so the leases are renewed again before they lapse."""
    from engine.clock import SimulatedClock
    from engine.supervise import FIRST_BACKOFF_S, supervised_health
    from tests.waiting import wait_for

    site = _site(store)
    clock = SimulatedClock(datetime.now(UTC))
    said: list[int] = []

    def health() -> dict[str, Any]:
        said.append(1)
        if len(said) == 2:  # the first round on the thread: a report the store refuses
            return {"cameras": {"plaza"}}
        return {"subsystems": []}

    wanted = {("camera", "plaza"): None}
    member = ClusterMember(
        _book(store, site, "server-a"), wanted, capacity=UNLIMITED, on_acquire=lambda r: None,
        on_release=lambda r, why: None, clock=clock, heartbeat_s=5.0, health=health,
    )  # fmt: skip
    member.start()
    try:
        # (not settle(): it sleeps on the member's clock, which would move the simulated one)
        wait_for(lambda: not member._busy and member._work.empty(), what="the camera started")
        assert member.held.keys() == {("camera", "plaza")} and clock.monotonic() == 0.0
        first_beat = member.book.last_heartbeat_at
        assert clock.wait_for_waiters(1)  # the heartbeat's wait
        clock.advance(5.0)
        wait_for(lambda: member._thread.health().backing_off, what="the failed round's backoff")
        # (SQLite's driver wraps the TypeError in a StatementError; psycopg raises it as is.)
        assert member.problem is not None and member.problem.startswith("the lease work failed")
        assert "Object of type set is not JSON serializable" in member.problem
        assert member.book.last_heartbeat_at == first_beat and member._thread.restarts == 0
        assert clock.wait_for_waiters(1)
        assert clock.next_deadline_in() == FIRST_BACKOFF_S  # within a heartbeat
        clock.advance(FIRST_BACKOFF_S)
        wait_for(lambda: member.problem is None, what="the round run again")
        assert member.book.last_heartbeat_at is not None and first_beat is not None
        assert member.book.last_heartbeat_at > first_beat  # the heartbeat is renewed again
        assert member.held.keys() == {("camera", "plaza")}
        [row] = [h for h in supervised_health() if h.name == "cluster-member" and h.alive]
        assert row.restarts == 1 and row.last_error is not None
        assert "Object of type set is not JSON serializable" in row.last_error
    finally:
        member.stop()
    assert not member._thread.is_alive() and not member._worker.is_alive()
