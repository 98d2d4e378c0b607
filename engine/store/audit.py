"""The audit trail: who did what, when, to what, and whether it was allowed, as a hash chain.

Every sensitive action appends one entry in the same transaction as the change it records
(:func:`append_audit`, called from the action's store command), so the trail never says
something happened that did not, nor misses something that did. A refusal is appended on
its own (:class:`AppendAudit`). Entry ``n`` stores ``prev_hash`` (entry ``n - 1``'s hash)
and ``hash`` = SHA-256 of its canonical JSON (sequence number, time, actor, action,
target, outcome, detail, prev_hash). :func:`verify_audit` recomputes the chain and names
the first entry that was altered, removed or inserted; the head row (the newest seq and
hash) also catches entries cut off the end.

Retention prunes entries older than ``audit.keep_days`` (never under a year) with
:class:`PruneAudit`: a prefix of the chain is checked, deleted, and replaced by the
*anchor* in the head row (the seq and hash of the newest pruned entry), and the prune is
itself an entry, naming the seq it pruned through. Verification then starts at the anchor.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine.access import ENGINE, Actor, GuardedCommand, Permission
from engine.audit_records import AuditProblem, AuditRecord, AuditVerification
from engine.store.audit_models import AUDIT_OUTCOMES, AuditEntry, AuditHead
from engine.store.commands import StoreCommand
from engine.store.database import Store

GENESIS_HASH = "0" * 64  # prev_hash of the first entry
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
VERIFY_BATCH = 20_000  # rows fetched per round trip while verifying
MIN_AUDIT_KEEP_DAYS = 365  # entries younger than a year are never pruned, whatever is asked
PRUNE_BATCH = 50_000  # entries checked and deleted per PruneAudit (one transaction, ~0.3 s)
PRUNE_ACTION = "audit.prune"


def entry_hash(
    seq: int,
    ts_us: int,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    detail_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry: its fields joined by the unit separator (U+001F), which
    none of them can hold (text fields refuse control characters; JSON escapes them)."""
    line = "\x1f".join(
        (str(seq), str(ts_us), actor, action, target, outcome, detail_json, prev_hash)
    )
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def canonical_json(detail: dict[str, Any]) -> str:
    """The detail as stored and hashed: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_us(ts: datetime) -> int:
    """UTC microseconds since 1970 of an aware datetime."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime given to the audit trail; use the engine clock (UTC)")
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(ts_us: int) -> datetime:
    """The aware UTC datetime of ``ts_us`` microseconds since 1970."""
    return EPOCH + timedelta(microseconds=ts_us)


def _checked_text(name: str, value: str) -> str:
    if CONTROL.search(value):
        raise ValueError(f"audit {name} holds a control character: {value!r}")
    return value


def append_audit(
    session: Session,
    *,
    at: datetime,
    actor: Actor | str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in ``session`` (the caller's transaction). Locks the chain's head
    row until the transaction ends, so concurrent appenders queue instead of forking."""
    if outcome not in AUDIT_OUTCOMES:
        raise ValueError(f"audit outcome must be one of {AUDIT_OUTCOMES}, not {outcome!r}")
    who = _checked_text("actor", actor.label if isinstance(actor, Actor) else actor)
    _checked_text("action", action)
    _checked_text("target", target)
    body = canonical_json(detail or {})
    ts_us = to_us(at)
    # Take the head's row lock first (an UPDATE), then read it: two transactions cannot
    # both read the same head.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    seq, prev_hash = int(head.seq), str(head.hash)
    digest = entry_hash(seq, ts_us, who, action, target, outcome, body, prev_hash)
    entry = AuditEntry(
        seq=seq,
        ts_us=ts_us,
        actor=who,
        action=action,
        target=target,
        outcome=outcome,
        detail=body,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    session.flush()
    return entry


def audit_command(
    session: Session,
    command: GuardedCommand,
    detail: dict[str, Any],
    *,
    target: str | None = None,
) -> AuditEntry:
    """Append the entry of a guarded command that was carried out: its actor, action and
    time, to ``target`` (default: the command's own :meth:`~GuardedCommand.audit_target`).
    Call it from the command's ``apply``, in its transaction."""
    return append_audit(
        session,
        at=command.at,
        actor=command.actor,
        action=command.action,
        target=command.audit_target() if target is None else target,
        detail=detail,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendAudit(StoreCommand):
    """An entry on its own: a refusal, a failed login, a question asked of the history."""

    at: datetime
    actor: Actor | str
    action: str
    target: str = ""
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)

    def apply(self, session: Session) -> int:
        entry = append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.target,
            outcome=self.outcome,
            detail=self.detail,
        )
        return entry.seq


class AuditChainBrokenError(ValueError):
    """The entries a prune would delete do not verify: they are kept, as evidence."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneAudit(StoreCommand):
    """Delete the oldest entries, those older than ``keep_days`` days before ``at`` (days,
    at least :data:`MIN_AUDIT_KEEP_DAYS`; fewer raises :class:`ValueError`), keeping the
    chain verifiable. Returns how many were deleted.

    Only a prefix of the chain goes: entries ``anchor_seq + 1 .. S``, where every entry up
    to ``S`` is older than the cutoff (so an entry written with a clock set back never
    takes younger ones with it), at most ``limit`` of them per command. Before deleting,
    that prefix is verified from the current anchor; if it does not verify, nothing is
    deleted and :class:`AuditChainBrokenError` says where it breaks, so pruning never
    launders tampering. The head row's anchor becomes (``S``, hash of entry ``S``), and an
    ``audit.prune`` entry by the engine, with ``{"pruned", "through_seq", "keep_days"}``,
    is appended in the same transaction. With nothing to prune it writes nothing, not even
    that entry. Takes the head row's lock first, so it queues with appenders."""

    at: datetime
    keep_days: int
    limit: int = PRUNE_BATCH

    def __post_init__(self) -> None:
        _check_keep_days(self.keep_days)
        if self.limit < 1:
            raise ValueError(f"PruneAudit limit must be at least 1, got {self.limit}")

    def apply(self, session: Session) -> int:
        _check_keep_days(self.keep_days)
        cutoff_us = to_us(self.at - timedelta(days=self.keep_days))
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
        head = session.execute(
            select(AuditHead.anchor_seq, AuditHead.anchor_hash).where(AuditHead.id == 1)
        ).one()
        anchor_seq, anchor_hash = int(head.anchor_seq), str(head.anchor_hash)
        first_young = session.scalar(
            select(func.min(AuditEntry.seq)).where(
                AuditEntry.seq > anchor_seq, AuditEntry.ts_us >= cutoff_us
            )
        )
        prefix = select(AuditEntry.seq).where(AuditEntry.seq > anchor_seq)
        if first_young is not None:
            prefix = prefix.where(AuditEntry.seq < first_young)
        prefix = prefix.order_by(AuditEntry.seq).limit(self.limit)
        newest_old = session.scalar(select(func.max(prefix.subquery().c.seq)))
        if newest_old is None:
            return 0
        through = int(newest_old)
        problems: list[AuditProblem] = []
        walk = _ChainWalk(anchor_seq, anchor_hash)
        walk.run(_stream(session, after=anchor_seq, through=through), problems, 1)
        if problems:
            first = problems[0]
            raise AuditChainBrokenError(
                f"audit entries not pruned: the chain is broken at entry {first.seq} "
                f"({first.reason}); see `watchfloor audit verify`"
            )
        session.execute(
            delete(AuditEntry)
            .where(AuditEntry.seq > anchor_seq, AuditEntry.seq <= through)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(anchor_seq=through, anchor_hash=walk.expected_prev)
        )
        append_audit(
            session,
            at=self.at,
            actor=ENGINE,
            action=PRUNE_ACTION,
            detail={"pruned": walk.count, "through_seq": through, "keep_days": self.keep_days},
        )
        return walk.count


def _check_keep_days(keep_days: int) -> None:
    if keep_days < MIN_AUDIT_KEEP_DAYS:
        raise ValueError(
            f"audit.keep_days must be at least {MIN_AUDIT_KEEP_DAYS} days, got {keep_days}: "
            "audit entries younger than that are never pruned"
        )


def verify_audit(store: Store, max_problems: int = 20) -> AuditVerification:
    """Recompute the chain (streamed, in batches of VERIFY_BATCH) and report every entry
    whose hash does not match its fields, whose ``prev_hash`` is not its predecessor's
    hash, or whose seq leaves a gap; and a head that does not match the newest entry
    (entries cut off the end). Runs on the caller's thread: not the GUI's.

    After pruning, the chain starts at the head row's anchor: the entry after it must
    carry ``anchor_hash`` as its ``prev_hash`` (a changed anchor hash, or a changed first
    kept entry, is named), entries missing right after it are reported as missing, and
    the newest ``audit.prune`` entry must record the anchor's seq (an anchor moved forward
    over deleted entries is named). Any entry at or before the anchor is reported: it
    cannot be verified.

    What a pruned chain cannot prove: the pruned entries are gone, and so is any way to
    check what they said; they were verified only when pruned. The anchor lives in the
    same database as the chain, so, as for the head, someone who can write the database
    and is willing to rewrite and rehash every entry after the newest prune entry (and
    the head) is not caught by this check alone; signed checkpoints of the head kept
    outside the database (:mod:`engine.history.audit_checkpoints`, checked with
    :func:`chain_extends`) catch it up to the newest checkpoint.
    """
    started = time.perf_counter()
    problems: list[AuditProblem] = []
    with store.sessions() as session:
        head = session.execute(
            select(AuditHead.seq, AuditHead.hash, AuditHead.anchor_seq, AuditHead.anchor_hash)
        ).one_or_none()
        anchor_seq = int(head.anchor_seq) if head is not None else 0
        anchor_hash = str(head.anchor_hash) if head is not None else GENESIS_HASH
        if anchor_seq > 0:
            stray = session.scalar(
                select(func.min(AuditEntry.seq)).where(AuditEntry.seq <= anchor_seq)
            )
            if stray is not None:
                problems.append(
                    AuditProblem(
                        int(stray),
                        f"lies in the pruned range (entries up to {anchor_seq}) and cannot be "
                        "verified: written after pruning, or the anchor was moved",
                    )
                )
        walk = _ChainWalk(anchor_seq, anchor_hash)
        complete = walk.run(_stream(session, after=anchor_seq), problems, max_problems)
    head_seq = int(head.seq) if head is not None else 0
    if complete and len(problems) < max_problems:
        if head is None:
            problems.append(AuditProblem(0, "the chain's head row is missing"))
        elif head_seq != walk.expected_seq - 1 or head.hash != walk.expected_prev:
            problems.append(
                AuditProblem(
                    head_seq,
                    f"the newest entry should be {head_seq}; the chain ends at "
                    f"{walk.expected_seq - 1} (entries removed from the end, or the head "
                    "altered)",
                )
            )
        if walk.pruned_through != anchor_seq:
            recorded = (
                f"the newest audit.prune entry says through {walk.pruned_through}"
                if walk.pruned_through
                else "no audit.prune entry records a prune"
            )
            problems.append(
                AuditProblem(
                    anchor_seq,
                    f"the anchor says entries up to {anchor_seq} were pruned, but {recorded} "
                    "(the anchor was moved or reset)",
                )
            )
    return AuditVerification(
        walk.count, head_seq, tuple(problems), time.perf_counter() - started, anchor_seq
    )


@dataclass(frozen=True, slots=True)
class ChainExtension:
    """What :func:`chain_extends` found: the head it checked up to (``head_seq``,
    ``head_hash``) and, if the chain does not extend the earlier head, why (a sentence)."""

    head_seq: int
    head_hash: str
    problem: str | None


def chain_extends(store: Store, seq: int | None = None, head_hash: str = "") -> ChainExtension:
    """Whether the stored chain still extends an earlier head: entry ``seq`` with hash
    ``head_hash``, as a signed checkpoint recorded it (``seq`` None: from the pruning
    anchor, i.e. the whole kept chain). Reads the head row, entry ``seq`` (or the anchor
    when ``seq`` is the anchor) and every entry after it up to the head, checking each
    link and hash, so it costs the entries written since ``seq``, not the whole chain. A
    ``seq`` before the anchor cannot be checked (its entries were pruned): said as such.
    One read transaction, so the head it reports is the one it checked. Caller's thread,
    not the GUI's."""
    with store.sessions() as session:
        head = session.execute(
            select(AuditHead.seq, AuditHead.hash, AuditHead.anchor_seq, AuditHead.anchor_hash)
        ).one_or_none()
        if head is None:
            return ChainExtension(0, GENESIS_HASH, "the chain's head row is missing")
        head_seq, anchor_seq = int(head.seq), int(head.anchor_seq)

        def broken(problem: str) -> ChainExtension:
            return ChainExtension(head_seq, str(head.hash), problem)

        if seq is None:
            seq, head_hash = anchor_seq, str(head.anchor_hash)
        if seq > head_seq:
            return broken(
                f"the chain now ends at entry {head_seq}, before entry {seq}: entries were "
                "removed from the end, or the chain was replaced"
            )
        if seq < anchor_seq:
            return broken(
                f"entries up to {anchor_seq} were pruned by retention, so entry {seq} can no "
                "longer be checked; use a newer checkpoint"
            )
        stored: str | None
        if seq == anchor_seq:
            stored = str(head.anchor_hash)  # the genesis hash while nothing was pruned
        else:
            stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
        if stored is None:
            return broken(f"entry {seq} is missing from the chain")
        if stored != head_hash:
            return broken(
                f"entry {seq}'s stored hash is {stored[:16]}…, not the {head_hash[:16]}… "
                "that was signed: the chain up to it was rewritten"
            )
        problems: list[AuditProblem] = []
        walk = _ChainWalk(seq, head_hash)
        walk.run(_stream(session, after=seq, through=head_seq), problems, 1)
    if problems:
        first = problems[0]
        return broken(f"after entry {seq}, entry {first.seq} {first.reason}")
    if walk.expected_seq - 1 != head_seq or walk.expected_prev != head.hash:
        return broken(
            f"the head row (entry {head_seq}) does not match the chain after entry {seq}, "
            f"which ends at {walk.expected_seq - 1}"
        )
    return ChainExtension(head_seq, str(head.hash), None)


class _ChainWalk:
    """Walks entries in seq order from an anchor (``anchor_seq``, ``anchor_hash``; 0 and the
    genesis hash for an unpruned chain), checking each link and hash. Afterwards
    ``expected_seq``/``expected_prev`` are the seq after the last entry and its hash,
    ``count`` the entries read, ``pruned_through`` the ``through_seq`` of the newest
    ``audit.prune`` entry by the engine (0 if none)."""

    __slots__ = ("anchor_seq", "count", "expected_prev", "expected_seq", "pruned_through")

    def __init__(self, anchor_seq: int, anchor_hash: str) -> None:
        self.anchor_seq = anchor_seq
        self.expected_seq = anchor_seq + 1
        self.expected_prev = anchor_hash
        self.count = 0
        self.pruned_through = 0

    def run(self, rows: Iterable[Any], problems: list[AuditProblem], max_problems: int) -> bool:
        """Check ``rows`` (as :func:`_stream` yields them), appending to ``problems``; False
        if it stopped early because ``max_problems`` were found."""
        expected_prev, expected_seq, count = self.expected_prev, self.expected_seq, self.count
        first_seq, engine_label = self.anchor_seq + 1, ENGINE.label
        complete = True
        for row in rows:
            count += 1
            seq = row[0]
            if seq != expected_seq:
                problems.append(
                    AuditProblem(expected_seq, f"entries {expected_seq}–{seq - 1} are missing")
                )
            elif row[7] != expected_prev:
                problems.append(AuditProblem(seq, self._not_following(seq == first_seq)))
            if entry_hash(*row[:8]) != row[8]:
                problems.append(AuditProblem(seq, "was altered: its hash does not match"))
            elif row[3] == PRUNE_ACTION and row[2] == engine_label and row[5] == "ok":
                self.pruned_through = _through_seq(row[6])
            expected_prev, expected_seq = row[8], seq + 1
            if len(problems) >= max_problems:
                complete = False
                break
        self.expected_prev, self.expected_seq, self.count = expected_prev, expected_seq, count
        return complete

    def _not_following(self, first_kept: bool) -> str:
        if first_kept and self.anchor_seq > 0:
            return (
                f"does not follow the pruning anchor (entry {self.anchor_seq}, pruned): "
                "its prev_hash is not the anchor's hash, so the anchor or this entry was "
                "altered"
            )
        return "does not follow the entry before it"


def _through_seq(detail_json: str) -> int:
    """``through_seq`` of an ``audit.prune`` entry's detail (0 if it has none)."""
    try:
        value = json.loads(detail_json).get("through_seq")
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _stream(session: Session, *, after: int = 0, through: int | None = None) -> Iterator[Any]:
    """Every entry with ``after`` < seq (<= ``through``) in seq order, by keyset pages
    (constant memory, any database)."""
    last = after
    columns = (
        AuditEntry.seq,
        AuditEntry.ts_us,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.outcome,
        AuditEntry.detail,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    connection = session.connection()
    while True:
        query = select(*columns).where(AuditEntry.seq > last)
        if through is not None:
            query = query.where(AuditEntry.seq <= through)
        rows = connection.execute(query.order_by(AuditEntry.seq).limit(VERIFY_BATCH)).all()
        if not rows:
            return
        yield from rows
        last = int(rows[-1][0])


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditListRequest:
    """A page of the trail, newest first: entries with seq below ``before`` (None: from
    the newest), optionally one actor's or one action's. A query-service request that
    only a ``reader`` who may read the audit trail can run (the engine checks it)."""

    reader: Actor
    limit: int = 100
    before: int | None = None
    actor: str | None = None
    action: str | None = None

    def run(self, store: Store) -> list[AuditRecord]:
        self.reader.require(Permission.READ_AUDIT, "read the audit trail")
        query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(self.limit)
        if self.before is not None:
            query = query.where(AuditEntry.seq < self.before)
        if self.actor is not None:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action is not None:
            query = query.where(AuditEntry.action == self.action)
        with store.sessions() as session:
            return [
                AuditRecord(
                    e.seq,
                    from_us(e.ts_us),
                    e.actor,
                    e.action,
                    e.target,
                    e.outcome,
                    json.loads(e.detail),
                )
                for e in session.scalars(query)
            ]
