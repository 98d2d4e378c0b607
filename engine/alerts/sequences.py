"""Sequences: runs of triggering detections that belong together, stored and grouped into
alerts.

::

    PeopleDetected (camera worker) / SensingUpdated (fusion tick)
        └─▶ SequenceBuilder.observe*: which rules trigger (zone, loitering time, armed
            schedule); each detection joins a run of its rule and camera (same track, or a
            box overlapping the run's last one, within GAP_S), one detection per run per frame
              └─▶ the MIN_DETECTIONS-th detection: CreateSequence (store writer) — the run's
                  own max confidence; joins the site's open alert active within the grouping
                  window, or starts a new alert
              └─▶ later detections: ExtendSequence at most every EXTEND_EVERY_S, which raises
                  max_conf in SQL (``CASE WHEN max_conf < c THEN c``) and never lowers it

The builder is pure bookkeeping (no store, no threads): it returns the commands to submit.
Its methods are called from camera workers and the fusion thread, under one lock.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from sqlalchemy import and_, case, exists, insert, literal, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.alerts.records import AlertView, alert_view
from engine.alerts.rules import RuleSpec
from engine.alerts.snoozes import snoozed_sequence, snoozed_until
from engine.events import Sighting
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.alert_models import Alert, AlertSequence
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.models import Camera, Site, UTCDateTime
from engine.text import printable
from engine.vocabulary import SEQUENCE_LABELS

MIN_DETECTIONS: Final = 3  # a run becomes a sequence at its third detection
GAP_S: Final = 300.0  # detections further apart than 5 min never belong together
EXTEND_EVERY_S: Final = 1.0  # a live sequence is written at most once a second
LOITER_GAP_S: Final = 10.0  # unseen for longer, a loiterer's time in the zone starts over
GROUP_WINDOW_S: Final = 300.0  # sequences of a site within 5 min of an alert join it
MAX_RUNS_PER_CAMERA: Final = 64  # a crowd cannot grow the builder's memory without end


class UnknownSequenceError(LookupError):
    """No sequence has that id."""


@dataclass(frozen=True, slots=True)
class SequenceStored:
    """What :class:`CreateSequence` did: the sequence's id, its alert (new or joined) and
    whether that alert is new."""

    sequence_id: int
    seq_key: str
    alert: AlertView
    new_alert: bool
    camera: str | None = None
    max_conf: float | None = None
    snoozed_until: datetime | None = None  # its camera's alerts were snoozed until then


def _utc(value: datetime) -> Any:
    return literal(value, UTCDateTime())


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSequence(StoreCommand):
    """Store a sequence of ``detections`` detections (highest confidence ``max_conf``) of
    ``trigger`` by rule ``rule_id`` on camera ``camera`` (a key; None for a room) of site
    ``site`` (a name), and put it in the site's latest unacknowledged alert active within
    ``group_window_s`` of ``started_at``, or in a new alert; a camera whose alerts are not
    snoozed never joins an alert made only of snoozed sequences. Returns
    :class:`SequenceStored`, with its camera's snooze."""

    seq_key: str
    source: str
    camera: str | None
    site: str | None
    trigger: str
    rule_id: int | None
    track_id: int | None
    started_at: datetime
    last_seen_at: datetime
    detections: int
    max_conf: float | None
    snapshot: str | None
    severity: str
    title: str
    group_window_s: float = GROUP_WINDOW_S

    def apply(self, session: Session) -> SequenceStored:
        site_id = (
            session.scalar(select(Site.id).where(Site.name == self.site))
            if self.site is not None
            else None
        )
        camera_id = None
        if self.camera is not None:
            camera_q = select(Camera.id).where(Camera.key == self.camera)
            if site_id is not None:
                camera_q = camera_q.where(Camera.site_id == site_id)
            camera_id = session.scalar(camera_q.order_by(Camera.id).limit(1))
        window_start = self.started_at - timedelta(seconds=self.group_window_s)
        open_q = select(Alert.id).where(
            Alert.last_seen_at >= window_start,
            Alert.acknowledged_at.is_(None),
            Alert.site_id.is_(None) if site_id is None else Alert.site_id == site_id,
        )
        until = snoozed_until(session, camera_id, self.last_seen_at)
        if until is None:
            # A snoozed camera's alert (none of its sequences awake) gathers only snoozed
            # sequences: another camera's must not be told under its title.
            awake = and_(AlertSequence.alert_id == Alert.id, ~snoozed_sequence())
            open_q = open_q.where(exists(select(AlertSequence.id).where(awake)))
        alert_id = session.scalar(open_q.order_by(Alert.last_seen_at.desc()).limit(1))
        new_alert = alert_id is None
        if alert_id is None:
            alert_id = session.execute(
                insert(Alert).returning(Alert.id),
                [
                    {
                        "raised_at": self.started_at,
                        "last_seen_at": self.last_seen_at,
                        "kind": self.trigger,
                        "source": self.source,
                        "severity": self.severity,
                        "title": self.title[:300],
                        "site_id": site_id,
                        "detail": {"camera": self.camera, "rule_id": self.rule_id},
                    }
                ],
            ).scalar_one()
        else:
            session.execute(
                update(Alert)
                .where(Alert.id == alert_id)
                .values(
                    last_seen_at=case(
                        (Alert.last_seen_at < _utc(self.last_seen_at), _utc(self.last_seen_at)),
                        else_=Alert.last_seen_at,
                    )
                )
            )
        sequence_id = session.execute(
            insert(AlertSequence).returning(AlertSequence.id),
            [
                {
                    "seq_key": self.seq_key,
                    "alert_id": alert_id,
                    "rule_id": self.rule_id,
                    "camera_id": camera_id,
                    "source": self.source,
                    "trigger": self.trigger,
                    "track_id": self.track_id,
                    "started_at": self.started_at,
                    "last_seen_at": self.last_seen_at,
                    "detections": self.detections,
                    "max_conf": self.max_conf,
                    "snapshot": self.snapshot,
                }
            ],
        ).scalar_one()
        alert = session.get(Alert, int(alert_id))
        assert alert is not None
        return SequenceStored(
            int(sequence_id),
            self.seq_key,
            alert_view(session, alert),
            new_alert,
            self.camera,
            self.max_conf,
            until,
        )


@dataclass(frozen=True, slots=True)
class SequenceExtended:
    """What :class:`ExtendSequence` did: the sequence's ``max_conf`` now, and its alert's
    view when it was asked for."""

    max_conf: float | None
    alert: AlertView | None = None
    snoozed_until: datetime | None = None  # asked with the alert: its camera's snooze


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendSequence(StoreCommand):
    """``added`` more detections of sequence ``seq_key``, the latest at ``last_seen_at``,
    the best of them ``max_conf``: its ``max_conf`` becomes the larger of the stored one and
    this one, in one UPDATE (so concurrent extensions can only raise it), and its alert's
    latest activity follows. Returns :class:`SequenceExtended` (with the alert's view when
    ``want_alert``), or None when there is no such sequence (e.g. purged)."""

    seq_key: str
    last_seen_at: datetime
    added: int
    max_conf: float | None
    want_alert: bool = False

    def apply(self, session: Session) -> SequenceExtended | None:
        seq = AlertSequence
        values: dict[str, Any] = {
            "last_seen_at": case(
                (seq.last_seen_at < _utc(self.last_seen_at), _utc(self.last_seen_at)),
                else_=seq.last_seen_at,
            ),
            "detections": seq.detections + self.added,
        }
        if self.max_conf is not None:
            values["max_conf"] = case(
                (
                    seq.max_conf.is_(None) | (seq.max_conf < self.max_conf),
                    literal(self.max_conf),
                ),
                else_=seq.max_conf,
            )
        row = session.execute(
            update(seq)
            .where(seq.seq_key == self.seq_key)
            .values(values)
            .returning(seq.alert_id, seq.max_conf, seq.camera_id)
        ).first()
        if row is None:
            return None
        session.execute(
            update(Alert)
            .where(Alert.id == row.alert_id)
            .values(
                last_seen_at=case(
                    (Alert.last_seen_at < _utc(self.last_seen_at), _utc(self.last_seen_at)),
                    else_=Alert.last_seen_at,
                )
            )
        )
        view = until = None
        if self.want_alert:
            alert = session.get(Alert, int(row.alert_id))
            view = None if alert is None else alert_view(session, alert)
            until = snoozed_until(session, row.camera_id, self.last_seen_at)
        return SequenceExtended(None if row.max_conf is None else float(row.max_conf), view, until)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSequence(GuardedCommand, StoreCommand):
    """``actor`` labels sequence ``sequence_id`` a ``true_alarm`` or ``false_alarm`` (None
    clears it); kept with the sequence for training. Needs the label permission; audited.
    Returns the alert id."""

    permission: ClassVar[Permission] = Permission.LABEL
    action: ClassVar[str] = "alert_sequence.label"

    sequence_id: int
    label: str | None
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"alert_sequence:{self.sequence_id}"

    def apply(self, session: Session) -> int:
        if self.label is not None and self.label not in SEQUENCE_LABELS:
            raise ValueError(f"label {self.label!r} is not one of {', '.join(SEQUENCE_LABELS)}")
        seq = session.get(AlertSequence, self.sequence_id)
        if seq is None:
            raise UnknownSequenceError(f"no alert sequence {self.sequence_id}")
        before = seq.label
        seq.label = self.label
        seq.labelled_by = self.actor.label
        seq.labelled_at = self.at
        audit_command(session, self, {"label": self.label, "before": before})
        session.flush()
        return int(seq.alert_id)


# -- the builder ------------------------------------------------------------------------


@dataclass
class _Run:
    """Consecutive triggering detections of one rule on one camera or room."""

    key: str
    rule: RuleSpec
    track_id: int | None
    started_at: datetime
    last_seen_at: datetime
    box: tuple[float, float, float, float] | None
    count: int = 1
    max_conf: float | None = None
    snapshot: str | None = None
    stored: bool = False
    unflushed: int = 0  # detections since the last write
    unflushed_conf: float | None = None
    flushed_at: datetime | None = None
    seen_in_frame: datetime | None = None  # one detection per run per frame

    def take(self, at: datetime, confidence: float | None) -> None:
        self.count += 1
        self.last_seen_at = max(self.last_seen_at, at)
        if confidence is not None:
            self.max_conf = confidence if self.max_conf is None else max(self.max_conf, confidence)
            if self.stored:
                self.unflushed_conf = (
                    confidence
                    if self.unflushed_conf is None
                    else max(self.unflushed_conf, confidence)
                )
        if self.stored:
            self.unflushed += 1


@dataclass(frozen=True, slots=True)
class Detection:
    """One detection offered to the rules: a track (or blob) id, a box in pixels (None for a
    sensing blob), the foot point in fractions of the frame, and a confidence (None:
    unknown)."""

    track_id: int | None
    box: tuple[float, float, float, float] | None
    foot: tuple[float, float] | None
    confidence: float | None
    snapshot: str | None = None


@dataclass
class SequenceBuilder:
    """Turns detections into sequence commands by the rules (see the module docstring).
    ``site``: the site's name (alerts group per site); ``site_time``: its zone, in which
    rules' armed days and hours are read (UTC for a builder without a site)."""

    rules: Sequence[RuleSpec] = ()
    site: str | None = None
    site_time: SiteTime = UTC_TIME
    min_detections: int = MIN_DETECTIONS
    gap_s: float = GAP_S
    extend_every_s: float = EXTEND_EVERY_S
    group_window_s: float = GROUP_WINDOW_S
    # Camera keys and room ids to the names people know them by, for alert titles.
    place_names: Mapping[str, str] = field(default_factory=dict)
    _runs: dict[tuple[int, str], list[_Run]] = field(default_factory=dict)
    # (rule, camera, track) → [first, latest] sighting in the zone, for loitering.
    _dwell: dict[tuple[int, str, int], list[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_rules(self, rules: Iterable[RuleSpec]) -> None:
        """Replace the rules; runs of removed or changed rules are forgotten."""
        rules = tuple(rules)
        with self._lock:
            keep = {r.rule_id: r for r in rules}
            self.rules = rules
            gone = [
                key
                for key, runs in self._runs.items()
                if not runs or keep.get(key[0]) != runs[0].rule
            ]
            for key in gone:
                del self._runs[key]
            self._dwell = {k: v for k, v in self._dwell.items() if k[0] in keep}

    def observe_camera(
        self,
        camera: str,
        at: datetime,
        frame_size: tuple[int, int],
        sightings: Iterable[Sighting],
    ) -> list[StoreCommand]:
        """The detector's people on one frame of ``camera`` at ``at``."""
        width, height = frame_size
        detections = [
            Detection(
                s.track_id,
                s.box,
                ((s.box[0] + s.box[2] / 2) / max(width, 1), (s.box[1] + s.box[3]) / max(height, 1)),
                s.confidence,
                s.snapshot,
            )
            for s in sightings
        ]
        return self._observe("camera", camera, at, detections)

    def observe_sensed(
        self, camera: str, at: datetime, people: Iterable[tuple[int, tuple[float, float]]]
    ) -> list[StoreCommand]:
        """People the sensing rooms place in ``camera``'s picture where the camera does not
        see them (track id, foot point in fractions of the picture): its person and
        loitering rules take them as they take the detector's, by where their feet are
        (there is no box)."""
        detections = [Detection(track, None, foot, None) for track, foot in people]
        return self._observe("camera", camera, at, detections)

    def observe_room(self, room: str, at: datetime, blob_ids: Iterable[int]) -> list[StoreCommand]:
        """The blobs detected (not coasting) in sensing room ``room`` on one fusion tick."""
        detections = [Detection(b, None, None, None) for b in blob_ids]
        return self._observe("room", room, at, detections)

    def observe_gesture(
        self, camera: str, at: datetime, track_id: int, gesture: str, confidence: float
    ) -> list[StoreCommand]:
        """A gesture marked as alerting, recognised on ``camera`` at ``at``: each armed rule
        of that camera whose trigger is that gesture (its name compared case-insensitively)
        raises at once (one recognition is enough; the recogniser already waited for the
        whole movement), and the same person making it again within the gap extends it."""
        wanted = gesture.strip().casefold()
        detection = Detection(track_id, None, None, confidence)
        commands: list[StoreCommand] = []
        with self._lock:
            for rule in self.rules:
                if rule.trigger != "gesture" or rule.camera != camera:
                    continue
                if (rule.gesture or "").strip().casefold() != wanted:
                    continue
                commands += self._expire_rule(rule, camera, at)
                if not rule.armed(at, self.site_time):
                    continue
                command = self._join(rule, camera, at, detection)
                if command is not None:
                    commands.append(command)
        return commands

    def _observe(
        self, kind: str, where: str, at: datetime, detections: list[Detection]
    ) -> list[StoreCommand]:
        commands: list[StoreCommand] = []
        with self._lock:
            for rule in self.rules:
                if (rule.camera if kind == "camera" else rule.room) != where:
                    continue
                if kind == "camera" and rule.trigger not in ("person", "loitering"):
                    continue
                if kind == "room" and rule.trigger != "sensing_blob":
                    continue
                commands += self._expire_rule(rule, where, at)
                if not rule.armed(at, self.site_time):
                    continue
                triggering = [d for d in detections if self._triggers(rule, where, at, d)]
                # Detections whose track has a run claim it first; the rest may then join a
                # run by overlap (so a passer-by never takes a tracked person's run).
                runs = self._runs.get((rule.rule_id, where), [])
                tracked = {r.track_id for r in runs}
                triggering.sort(key=lambda d: d.track_id is None or d.track_id not in tracked)
                for detection in triggering:
                    command = self._join(rule, where, at, detection)
                    if command is not None:
                        commands.append(command)
        return commands

    def _triggers(self, rule: RuleSpec, where: str, at: datetime, d: Detection) -> bool:
        if d.foot is not None and not rule.in_zone(*d.foot):
            if d.track_id is not None:
                self._dwell.pop((rule.rule_id, where, d.track_id), None)
            return False
        if rule.trigger != "loitering":
            return True
        if d.track_id is None:
            return False
        key = (rule.rule_id, where, d.track_id)
        seen = self._dwell.get(key)
        if seen is None or (at - seen[1]).total_seconds() > LOITER_GAP_S:
            seen = self._dwell[key] = [at, at]  # (back) in the zone: the clock starts again
        seen[1] = max(seen[1], at)
        return (at - seen[0]).total_seconds() >= (rule.loiter_s or 0.0)

    def _join(self, rule: RuleSpec, where: str, at: datetime, d: Detection) -> StoreCommand | None:
        runs = self._runs.setdefault((rule.rule_id, where), [])
        free = [r for r in runs if r.seen_in_frame != at]
        run = next((r for r in free if d.track_id is not None and r.track_id == d.track_id), None)
        if run is None and d.box is not None:
            run = max(
                (r for r in free if r.box is not None and _overlap(r.box, d.box) > 0),
                key=lambda r: _overlap(r.box, d.box),  # type: ignore[arg-type]
                default=None,
            )
        if run is None:
            if len(runs) >= MAX_RUNS_PER_CAMERA:
                runs.sort(key=lambda r: r.last_seen_at)
                del runs[0]
            run = _Run(
                key=uuid.uuid4().hex,
                rule=rule,
                track_id=d.track_id,
                started_at=at,
                last_seen_at=at,
                box=d.box,
                max_conf=d.confidence,
                snapshot=d.snapshot,
                seen_in_frame=at,
            )
            runs.append(run)
            return self._create_if_due(run, where)
        run.take(at, d.confidence)
        run.seen_in_frame = at
        run.track_id = d.track_id if d.track_id is not None else run.track_id
        run.box = d.box or run.box
        run.snapshot = run.snapshot or d.snapshot
        if not run.stored:
            return self._create_if_due(run, where)
        if run.flushed_at is None or (at - run.flushed_at).total_seconds() >= self.extend_every_s:
            return self._flush(run)
        return None

    def _create_if_due(self, run: _Run, where: str) -> StoreCommand | None:
        if run.count < (1 if run.rule.trigger == "gesture" else self.min_detections):
            return None
        run.stored = True
        run.flushed_at = run.last_seen_at
        rule = run.rule
        camera = where if rule.camera is not None else None
        return CreateSequence(
            seq_key=run.key,
            source=rule.source,
            camera=camera,
            site=self.site,
            trigger=rule.trigger,
            rule_id=rule.rule_id,
            track_id=run.track_id,
            started_at=run.started_at,
            last_seen_at=run.last_seen_at,
            detections=run.count,
            max_conf=run.max_conf,
            snapshot=run.snapshot,
            severity=rule.severity,
            title=_title(rule, self.place_names.get(where) or where),
            group_window_s=self.group_window_s,
        )

    @staticmethod
    def _flush(run: _Run) -> StoreCommand | None:
        if not run.unflushed:
            return None
        command = ExtendSequence(
            seq_key=run.key,
            last_seen_at=run.last_seen_at,
            added=run.unflushed,
            max_conf=run.unflushed_conf,
        )
        run.unflushed, run.unflushed_conf, run.flushed_at = 0, None, run.last_seen_at
        return command

    def _expire_rule(self, rule: RuleSpec, where: str, now: datetime) -> list[StoreCommand]:
        runs = self._runs.get((rule.rule_id, where))
        if not runs:
            return []
        out: list[StoreCommand] = []
        keep: list[_Run] = []
        for run in runs:
            if (now - run.last_seen_at).total_seconds() > self.gap_s:
                command = self._flush(run) if run.stored else None
                if command is not None:
                    out.append(command)
                if run.track_id is not None:
                    self._dwell.pop((rule.rule_id, where, run.track_id), None)
            else:
                keep.append(run)
        self._runs[(rule.rule_id, where)] = keep
        return out

    def tick(self, now: datetime) -> list[StoreCommand]:
        """Write what live sequences gathered since their last write, and forget runs idle
        for longer than ``gap_s`` and people who left a loitering zone (call about once a
        second)."""
        commands: list[StoreCommand] = []
        with self._lock:
            self._dwell = {
                k: v for k, v in self._dwell.items() if (now - v[1]).total_seconds() <= self.gap_s
            }
            for (_, where), runs in list(self._runs.items()):
                if runs:
                    commands += self._expire_rule(runs[0].rule, where, now)
            for runs in self._runs.values():
                for run in runs:
                    if run.stored:
                        command = self._flush(run)
                        if command is not None:
                            commands.append(command)
        return commands

    def flush_all(self) -> list[StoreCommand]:
        """Write every live sequence's last detections (the engine is stopping)."""
        with self._lock:
            commands = [
                c
                for runs in self._runs.values()
                for run in runs
                if run.stored and (c := self._flush(run)) is not None
            ]
            self._runs.clear()
            self._dwell.clear()
        return commands


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _title(rule: RuleSpec, where: str) -> str:
    what = {
        "person": "Person",
        "loitering": f"Loitering over {rule.loiter_s or 0:g} s",
        "sensing_blob": "Someone sensed",
        "gesture": f"Gesture {rule.gesture}",
    }.get(rule.trigger, rule.trigger)
    return f"{what} {'on' if rule.camera is not None else 'in'} {printable(where)} ({rule.name})"
