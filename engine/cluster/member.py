"""One engine's membership of a shared site: heartbeat, leases, balance.

A :class:`ClusterMember` thread, every :data:`~engine.cluster.leases.HEARTBEAT_S`:

1. renews the engine's heartbeat (and measures its clock against the database's); when
   another process has taken its name over (this one was paused or cut off past its lease
   and a new process of the same name joined), it stops everything it runs at once and
   says so (``on_name_lost``): two processes never run under one name;
2. renews the leases it holds; one it no longer holds (it stalled, or was cut off from the
   database, past :data:`~engine.cluster.leases.LEASE_TTL_S` and another engine took it) is
   stopped at once (``on_release``);
3. reads who runs what and decides (:func:`plan`, the same pure function on every engine,
   so they agree without talking): what it should hand back (a camera the site file pins to
   another engine that is alive, or more cameras than its share now that another engine
   joined) and what it should take (its pinned cameras; free cameras up to its share; a
   free room; the site-wide services when nobody runs them);
4. hands back, then takes (``on_acquire`` starts the camera, room or services).

The site's resources may change while it runs (:meth:`ClusterMember.change_wanted`: the
engine follows its site file, as every engine of the site does): a new camera's lease is
offered and taken in the next round (at once) by the engine whose share has room, as at
start, and the shares rebalance; a removed one is stopped by the engine running it and its
lease deleted (no engine takes it again); a changed one is restarted by its holder.

A lease whose engine died is free once it lapses, so another engine runs its cameras within
``LEASE_TTL_S + HEARTBEAT_S`` (20 s). A lease that cannot be believed (held by an engine that
never joined or that stopped, or stamped ahead of the database's clock: see
:func:`~engine.cluster.leases.lease_doubt`) is free at once; the engine taking it over
rewrites the row and logs what it found. On ``stop`` the member gives back everything it holds,
so a clean stop hands over at the other engines' next heartbeat (≤ 5 s).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SqlTimeoutError

from engine.clock import REAL_CLOCK, Clock
from engine.cluster.files import FileOptions
from engine.cluster.leases import (
    CLOCK_WARN_S,
    HEARTBEAT_S,
    LEASE_TTL_S,
    SITE_SERVICES,
    ClusterView,
    EngineNameLostError,
    LeaseBook,
    Resource,
)
from engine.cluster.media import MediaOptions
from engine.store.writer import describe_failure
from engine.supervise import FIRST_BACKOFF_S, SupervisedThread

log = logging.getLogger(__name__)

# Why a resource stops when the site file changes (``on_release``'s ``why``).
REMOVED_WHY: Final = "removed from the site file"
CHANGED_WHY: Final = "changed in the site file"
UNLIMITED: Final = 1_000_000  # an engine with no camera limit (rooms are never counted)
FAIR_WEIGHT: Final = 64  # a limit above this weighs as this when sharing cameras out


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """How an engine shares its site: its ``name`` (unique among the site's engines), the
    most cameras it may analyse (``capacity``; :data:`UNLIMITED` by default: after another
    engine stops, the rest share its cameras even past what runs in real time, each at a
    lower frame rate, rather than leave any unanalysed), the lease timing, and where it
    re-streams its cameras for attached consoles (``media``; None: it does not) and serves
    its recordings to them (``files``; None: it does not)."""

    name: str
    capacity: int = UNLIMITED
    heartbeat_s: float = HEARTBEAT_S
    lease_ttl_s: float = LEASE_TTL_S
    media: MediaOptions | None = None
    files: FileOptions | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What one engine should hand back and take now."""

    release: tuple[Resource, ...]
    acquire: tuple[Resource, ...]


def shares(
    keys: Sequence[str],
    pinned: Mapping[str, str | None],
    capacities: Mapping[str, int],
) -> dict[str, int]:
    """How many of ``keys`` each live engine (→ capacity: the most cameras it takes,
    :data:`UNLIMITED` for no limit) should run: a key pinned to a live engine is that
    engine's; the others are dealt one at a time to the engine with the lowest load for its
    capacity that has room (capacities above :data:`FAIR_WEIGHT` weigh as that, so engines
    with no limit share evenly; ties by name), so every engine computes the same shares from
    the same view."""
    load = {name: 0 for name in capacities}
    free = 0
    for key in keys:
        pin = pinned.get(key)
        if pin is not None and pin in load:
            load[pin] += 1
        else:
            free += 1
    for _ in range(free):
        open_ = [n for n in sorted(load) if load[n] < capacities[n]]
        if not open_:
            break
        chosen = min(open_, key=lambda n: (load[n] / max(min(capacities[n], FAIR_WEIGHT), 1), n))
        load[chosen] += 1
    return load


def plan(
    view: ClusterView,
    me: str,
    capacity: int,
    held: Mapping[Resource, int],
    wanted: Mapping[Resource, str | None],
    waiting: Mapping[Resource, str] | None = None,
) -> Plan:
    """What engine ``me`` (``capacity`` cameras, holding ``held``) should hand back and take
    of the ``wanted`` resources (→ pinned engine), given ``view``. ``waiting``: leases that
    have lapsed by the database's clock but that this engine has not yet watched go
    unrenewed for the lease time (→ their holder), treated as still held."""
    alive = {e.name: e.capacity for e in view.alive()}
    alive[me] = capacity  # this engine has just renewed its heartbeat
    holders = {lease.resource: lease.holder for lease in view.leases}
    holders.update(waiting or {})
    release: list[Resource] = []
    acquire: list[Resource] = []
    for kind, limit in (("camera", None), ("room", UNLIMITED)):
        keys = sorted(key for (k, key) in wanted if k == kind)
        pins = {key: wanted[(kind, key)] for key in keys}
        capacities = dict(alive) if limit is None else {name: limit for name in alive}
        share = shares(keys, pins, capacities).get(me, 0)
        mine_pinned = [k for k in keys if pins[k] == me]
        others_pinned = {k for k in keys if pins[k] not in (None, me) and pins[k] in alive}
        held_keys = sorted(key for (k, key) in held if k == kind)
        # A camera pinned to another live engine goes back to it.
        release += [(kind, k) for k in held_keys if k in others_pinned]
        kept = [k for k in held_keys if k not in others_pinned]
        # More than the share (another engine joined): hand back the excess, unpinned first
        # and the last in key order first, so the engines agree on which.
        unpinned_kept = [k for k in kept if pins.get(k) != me]
        excess = len(kept) - share
        if excess > 0:
            give = sorted(unpinned_kept, reverse=True)[:excess]
            release += [(kind, k) for k in give]
            kept = [k for k in kept if k not in give]
        # Pinned to this engine: take it whenever it is free (its other holder gives it back).
        room = share - len(kept)
        for key in mine_pinned:
            if key not in kept and holders.get((kind, key)) is None and room > 0:
                acquire.append((kind, key))
                room -= 1
        for key in keys:
            if room <= 0:
                break
            if key in kept or key in others_pinned or pins[key] == me:
                continue
            if holders.get((kind, key)) is None:
                acquire.append((kind, key))
                room -= 1
    if SITE_SERVICES in wanted and SITE_SERVICES not in held and holders.get(SITE_SERVICES) is None:
        acquire.append(SITE_SERVICES)
    return Plan(tuple(release), tuple(acquire))


class ClusterMember:
    """Keeps one engine's heartbeat and leases (``start`` … ``stop``).

    ``wanted``: every resource of the site (→ the engine the site file pins it to).
    ``on_acquire(resource)`` starts a resource, ``on_release(resource, why)`` stops it (the
    lease is given back after it returns). Both run on the member's ``cluster-work`` thread,
    one at a time, so starting or stopping a camera (a clip to finish, a model to load)
    never delays the heartbeat: the ``cluster-member`` thread keeps renewing every lease held,
    including one whose resource is still starting or stopping. ``on_release`` is also
    called for every held resource on ``stop``, before the leases are given back.
    ``on_name_lost(why)`` (on the heartbeat thread) is told when another process took this
    engine's name over: by then the member has stopped taking and renewing, and has queued
    the release of everything it held (``on_release`` with ``why``); the engine should stop."""

    def __init__(
        self,
        book: LeaseBook,
        wanted: Mapping[Resource, str | None],
        *,
        capacity: int,
        on_acquire: Callable[[Resource], None],
        on_release: Callable[[Resource, str], None],
        clock: Clock = REAL_CLOCK,
        heartbeat_s: float = HEARTBEAT_S,
        health: Callable[[], dict[str, Any]] | None = None,
        on_name_lost: Callable[[str], None] | None = None,
    ) -> None:
        """``health``: what the engine says of itself at each heartbeat (JSON-able)."""
        if capacity < 0:
            raise ValueError(f"capacity: expected 0 cameras or more, got {capacity}")
        self.book = book
        self.name = book.name
        self.wanted = dict(wanted)
        self.capacity = capacity
        self._on_acquire = on_acquire
        self._on_release = on_release
        self._health = health
        self._on_name_lost = on_name_lost
        self._clock = clock
        self._heartbeat_s = heartbeat_s
        self._held: dict[Resource, int] = {}  # leases held (renewed), resource → epoch
        self._busy: set[Resource] = set()  # starting or stopping on the work thread
        self._lock = threading.Lock()
        # What is wanted changes only between rounds: a round never takes a resource the
        # site has just dropped (change_wanted).
        self._plan_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a round now (stop, or the wanted resources changed)
        self._work: queue.Queue[tuple[str, Resource, int, str] | None] = queue.Queue()
        # Supervised: a heartbeat loop that died would leave the engine running cameras whose
        # leases lapse and pass to another engine. Its backoff never exceeds a heartbeat, so
        # a failing round is tried again at least as often as heartbeats are due.
        self._thread = SupervisedThread(
            self._run,
            name="cluster-member",
            stop=self._stop,
            clock=clock,
            first_backoff_s=min(FIRST_BACKOFF_S, heartbeat_s),
            max_backoff_s=heartbeat_s,
            on_restart=self._round_failed,
        )
        # The work thread ends on its queue's sentinel; the stop event only cuts short a
        # backoff after a failure (stop() gives back what is held itself).
        self._worker = SupervisedThread(
            self._work_on, name="cluster-work", stop=self._stop, clock=clock
        )
        # Per lease held by another engine: (holder, epoch, last renewal) as last read, and
        # when this engine first read exactly that (its own monotonic clock).
        self._watched: dict[Resource, tuple[tuple[str, int, object], float]] = {}
        self.clock_offset_ms = 0.0
        self.problem: str | None = None  # the database could not be reached for the lease work
        self._round_failures = 0  # heartbeat rounds that failed other than by the database
        self.name_lost: str | None = None  # why this process no longer holds its name
        self.view: ClusterView | None = None  # the last one read

    # -- life ------------------------------------------------------------------------
    def start(self) -> None:
        """Join the site (:class:`~engine.cluster.leases.EngineNameTakenError` if the name
        is taken), offer its resources, take a first share, then keep going on threads."""
        self.book.join(self.capacity, self._clock.now())
        self.book.offer(self.wanted)
        self._worker.start()
        self.tick()
        self._thread.start()

    def stop(self) -> None:
        """Stop what it holds, then give its leases back and mark the engine stopped."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._work.put(None)  # what is queued is done first
        if self._worker.is_alive():
            self._worker.join(timeout=120)
        with self._lock:
            held = dict(self._held)
        for resource in sorted(held):
            self._call_release(resource, "engine stopping")
        if self.name_lost is not None:
            return  # the row and the leases are another process's now
        try:
            self.book.leave(held)
        except Exception as exc:  # the leases lapse by themselves
            log.warning("could not give leases back on stop (they lapse in time): %s", exc)
        with self._lock:
            self._held.clear()

    def settle(self, timeout_s: float = 60.0) -> bool:
        """Wait until nothing is starting or stopping (tests and benchmarks)."""
        deadline = self._clock.monotonic() + timeout_s
        while self._clock.monotonic() < deadline:
            with self._lock:
                if not self._busy and self._work.empty():
                    return True
            self._clock.sleep(0.02)
        return False

    def change_wanted(
        self, wanted: Mapping[Resource, str | None], restart: Iterable[Resource] = ()
    ) -> None:
        """The site's resources are now ``wanted`` (→ pinned engine): its site file changed
        while it runs (any thread; it reads the database). New ones and new pins are offered
        at once and a round runs now, so the engine with room takes a new camera as at
        start; a resource no longer wanted is stopped here if held (``on_release`` with
        :data:`REMOVED_WHY`) and its lease deleted, or only deleted when nobody runs it;
        each of ``restart`` held here is stopped and started again (:data:`CHANGED_WHY`),
        on the work thread, after what is queued there."""
        wanted = dict(wanted)
        with self._plan_lock:
            if self._stop.is_set():
                return  # stopping: everything held is being stopped and given back
            old = self.wanted
            offered = {r: pin for r, pin in wanted.items() if r not in old or old[r] != pin}
            if offered:
                self.book.offer(offered)
            self.wanted = wanted
            with self._lock:
                held = dict(self._held)
                for resource in sorted(set(old) - set(wanted)):
                    self._busy.add(resource)
                    self._work.put(("retire", resource, held.get(resource, 0), REMOVED_WHY))
                for resource in sorted(set(restart)):
                    if resource in held and resource in wanted:
                        self._busy.add(resource)
                        self._work.put(("restart", resource, held[resource], CHANGED_WHY))
        self._wake.set()

    @property
    def held(self) -> dict[Resource, int]:
        with self._lock:
            return dict(self._held)

    @property
    def clock_problem(self) -> str | None:
        """Why this engine's clock is not to be trusted, or None."""
        if abs(self.clock_offset_ms) <= CLOCK_WARN_S * 1000.0:
            return None
        ahead = "ahead of" if self.clock_offset_ms > 0 else "behind"
        return (
            f"this machine's clock is {abs(self.clock_offset_ms) / 1000.0:.1f} s {ahead} the "
            "database's: event times from it are off by as much (set up NTP)"
        )

    # -- the heartbeat thread ----------------------------------------------------------
    def _run(self) -> None:
        """Heartbeat rounds until stopped (the ``cluster-member`` thread). The database
        being away is expected and waited out here, round after round; any other failure
        ends this run and the supervisor runs it again (logged, counted, in health)."""
        # Run again after a failed round: its backoff was the wait; try the round at once.
        wait_s = 0.0 if self._round_failures else self._heartbeat_s
        while not self._stop.is_set():
            self._clock.wait(self._wake, wait_s)  # a heartbeat, or woken (stop, a change)
            self._wake.clear()
            if self._stop.is_set():
                return
            wait_s = self._heartbeat_s
            try:
                self.tick()
            except (DBAPIError, SqlTimeoutError, OSError) as exc:  # keep what runs until it lapses
                self.problem = f"cannot reach the database for leases: {describe_failure(exc)}"
                log.warning("%s", self.problem)
                # Nobody could renew meanwhile: leases are watched afresh once it is back,
                # so their holders renew them before anyone takes them.
                self._watched.clear()

    def _round_failed(self, exc: BaseException) -> None:
        """A heartbeat round failed other than by the database being away (supervisor's
        listener, on the ``cluster-member`` thread): say so until a round succeeds."""
        self._round_failures += 1
        self.problem = f"the lease work failed: {type(exc).__name__}: {exc}"[:300]
        self._watched.clear()  # this round's watching may be half done

    def tick(self) -> None:
        """One round: heartbeat, renew, read, then queue what to hand back and take."""
        health = None
        if self._health is not None:
            try:
                health = self._health()
            except Exception:  # never let a report stop the heartbeat
                log.exception("engine health could not be read for the heartbeat")
        if self.name_lost is not None:
            return
        try:
            _, self.clock_offset_ms = self.book.heartbeat(self._clock.now(), health)
        except EngineNameLostError as exc:
            self._lose_name(str(exc))
            return
        with self._lock:
            held = dict(self._held)
        for resource in sorted(self.book.renew(held)):
            log.warning("lost the lease of %s %s to another engine", *resource)
            with self._lock:
                if self._held.get(resource) != held[resource]:
                    continue
                del self._held[resource]  # not ours: stopped, and not given back
                self._busy.add(resource)
            self._work.put(("lost", resource, held[resource], "taken over by another engine"))
        self.problem = None
        with self._plan_lock:
            self._decide()

    def _decide(self) -> None:
        """Read who runs what, then queue what to hand back and take (holding the plan
        lock: what is wanted does not change meanwhile)."""
        view = self.book.view()
        self.view = view
        with self._lock:
            held = dict(self._held)
            busy = set(self._busy)
        # A resource still starting or stopping is left out of this round's decisions; one
        # the site dropped, still stopping here, counts against no share.
        wanted = self.wanted
        planned = {r: epoch for r, epoch in held.items() if r in wanted}
        decided = plan(view, self.name, self.capacity, planned, wanted, self._waiting(view))
        for resource in decided.release:
            if resource in busy:
                continue
            with self._lock:
                self._busy.add(resource)
            self._work.put(("release", resource, held[resource], "handed to another engine"))
        for resource in decided.acquire:
            if self._stop.is_set():
                return
            if resource in busy:
                continue
            lease = next((x for x in view.leases if x.resource == resource), None)
            seen = None  # another engine's lease the view found not live: its state then
            if lease is not None and lease.engine is not None and lease.engine != self.name:
                seen = (lease.engine, lease.epoch)
            taken = self.book.acquire(*resource, seen=seen)
            if taken is None:
                continue  # another engine was quicker
            if lease is not None and lease.doubt is not None:
                log.warning("%s: not believed; taken over and the row rewritten", lease.doubt)
            with self._lock:
                self._held[resource] = taken
                self._busy.add(resource)
            self._work.put(("acquire", resource, taken, ""))

    def _waiting(self, view: ClusterView) -> dict[Resource, str]:
        """Leases lapsed by the database's clock that this engine has not itself watched go
        unrenewed for the lease time (less a heartbeat: it read the last renewal at most
        a heartbeat after it was made). After the database was away for everyone, the
        first engine back does not take the others' cameras: they renew them first."""
        now = self._clock.monotonic()
        needed = self.book.lease_ttl.total_seconds() - self._heartbeat_s
        waiting: dict[Resource, str] = {}
        seen: set[Resource] = set()
        for lease in view.leases:
            if lease.engine is None or lease.engine == self.name or lease.doubt is not None:
                continue  # (a lease not believed was not written by a running engine)
            seen.add(lease.resource)
            state = (lease.engine, lease.epoch, lease.heartbeat_at)
            watched = self._watched.get(lease.resource)
            if watched is None or watched[0] != state:
                watched = (state, now)
                self._watched[lease.resource] = watched
            if not lease.live and now - watched[1] < needed:
                waiting[lease.resource] = lease.engine
        for gone in set(self._watched) - seen:
            del self._watched[gone]
        return waiting

    def _lose_name(self, why: str) -> None:
        """Another process holds this engine's name: take and renew nothing more, stop
        everything held (on the work thread, after what it is doing), tell the engine."""
        self.name_lost = why
        self._stop.set()
        log.error("%s", why)
        with self._lock:
            held, self._held = dict(self._held), {}
            self._busy.update(held)
        for resource, epoch in sorted(held.items()):
            self._work.put(("lost", resource, epoch, "this engine's name was taken over"))
        if self._on_name_lost is not None:
            try:
                self._on_name_lost(why)
            except Exception:
                log.exception("the engine could not be told that it lost its name")

    # -- the work thread ---------------------------------------------------------------
    def _work_on(self) -> None:
        while (item := self._work.get()) is not None:
            action, resource, epoch, why = item
            try:
                if action == "acquire":
                    self._start(resource, epoch)
                elif action == "retire":
                    self._retire(resource, epoch, why)
                elif action == "restart":
                    self._restart(resource, epoch, why)
                else:
                    self._call_release(resource, why)
                    if action == "release":
                        with self._lock:
                            if self._held.get(resource) == epoch:
                                del self._held[resource]
                        self.book.release(*resource, epoch)
            except Exception:
                log.exception("%s of %s %s failed", action, *resource)
            finally:
                with self._lock:
                    self._busy.discard(resource)

    def _retire(self, resource: Resource, epoch: int, why: str) -> None:
        """A resource the site no longer has: stopped if it still runs here (at ``epoch``;
        0: it did not when it was dropped), then its lease deleted. Wanted again by now
        (dropped and added back): restarted instead, and its lease kept."""
        with self._lock:
            wanted_again = resource in self.wanted
            mine = epoch != 0 and self._held.get(resource) == epoch
            if mine and not wanted_again:
                del self._held[resource]
        if wanted_again:
            if mine:
                self._restart(resource, epoch, CHANGED_WHY)
            return
        if mine:
            self._call_release(resource, why)
        if not self.book.retire(*resource, epoch if mine else None):
            log.info("%s %s left the site file; its engine stops it", *resource)

    def _restart(self, resource: Resource, epoch: int, why: str) -> None:
        """Stop and start again a resource held here at ``epoch`` (its lease kept); one no
        longer held (handed back or lost meanwhile) is left alone."""
        with self._lock:
            if self._held.get(resource) != epoch:
                return
        self._call_release(resource, why)
        self._start(resource, epoch)

    def _start(self, resource: Resource, epoch: int) -> None:
        try:
            self._on_acquire(resource)
        except Exception:
            log.exception("could not start %s %s; giving its lease back", *resource)
            with self._lock:
                self._held.pop(resource, None)
            self.book.release(*resource, epoch)

    def _call_release(self, resource: Resource, why: str) -> None:
        try:
            self._on_release(resource, why)
        except Exception:
            log.exception("stopping %s %s failed", *resource)
