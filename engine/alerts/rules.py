"""Alert rules: what an admin says should raise an alert, where and when.

A rule names a camera (or a sensing room), an optional zone (a polygon drawn on the camera
view, stored in fractions of the frame so it survives a change of resolution), a trigger
(``person`` detected; ``loitering`` longer than N seconds; ``sensing_blob``: anyone in a room
that should be empty; ``gesture``: a gesture marked as alerting) and an armed schedule (days
of the week, and a span of the site's day that may wrap past midnight: hours on the site's
wall clock, so 22:00-06:00 stays 22:00-06:00 local across a change of clocks).

Each rule also says how its alerts are handled: ``instructions``, what the operator should
do (shown with every alert of the rule: "Call the site manager on 555-0100; check gate 2
first"), and ``comment_required``: its alerts are closed only with a comment
(:class:`SetRuleHandling` changes both on a stored rule).

Rules are added, changed (:class:`UpdateRule`) and removed through guarded store commands
(the configure-rules permission, audited); :func:`list_rules` reads them; :class:`RuleSpec`
is what the engine's sequence builder matches detections against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.sitetime import SiteTime
from engine.store.alert_models import AlertRule
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera
from engine.vocabulary import ALERT_SEVERITIES, RULE_TRIGGERS

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY: Final = 0b1111111
MINUTES_PER_DAY: Final = 1440
MAX_ZONE_POINTS: Final = 64
MAX_INSTRUCTIONS_CHARS: Final = 2000  # a few lines an operator reads at a glance


class RuleError(ValueError):
    """A rule was refused; the message names the field and what was wrong."""


class UnknownRuleError(LookupError):
    """No rule has that name or id."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule as the engine matches it. ``camera`` is the camera's key (None for a room
    rule), ``zone`` a polygon of (x, y) fractions of the frame (None: the whole view)."""

    rule_id: int
    name: str
    camera: str | None
    room: str | None
    trigger: str
    loiter_s: float | None = None
    gesture: str | None = None
    zone: tuple[tuple[float, float], ...] | None = None
    days: int = EVERY_DAY
    armed_from_min: int = 0
    armed_until_min: int = MINUTES_PER_DAY
    severity: str = "warning"
    enabled: bool = True
    created_by: str = ""
    instructions: str = ""  # what the operator should do with an alert of it
    comment_required: bool = False  # its alerts close only with a comment

    @property
    def source(self) -> str:
        return f"camera:{self.camera}" if self.camera is not None else f"sensing:{self.room}"

    def armed(self, at: datetime, site_time: SiteTime) -> bool:
        """Whether the rule is armed at instant ``at``, its days and hours read on the
        site's wall clock (``site_time``): its day is one of ``days`` and its minute of the
        day is within the armed span (a span past midnight counts from the day it started).
        On the night clocks change the span is still its local hours, so it lasts an hour
        less or more in UTC."""
        if not self.enabled:
            return False
        local = site_time.local(at)
        minute = local.hour * 60 + local.minute
        start, end = self.armed_from_min, self.armed_until_min
        weekday = local.weekday()
        if start <= end:
            return bool(self.days >> weekday & 1) and start <= minute < end
        if minute >= start:  # the evening part of an overnight span
            return bool(self.days >> weekday & 1)
        if minute < end:  # the morning after: it belongs to the previous day's span
            return bool(self.days >> ((weekday - 1) % 7) & 1)
        return False

    def in_zone(self, x: float, y: float) -> bool:
        """Whether the point (fractions of the frame) is inside the zone (ray casting)."""
        if self.zone is None:
            return True
        inside = False
        points = self.zone
        j = len(points) - 1
        for i in range(len(points)):
            xi, yi = points[i]
            xj, yj = points[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
        return inside

    def describe(self) -> str:
        what = {
            "person": "a person",
            "loitering": f"loitering over {self.loiter_s or 0:g} s",
            "sensing_blob": "anyone sensed",
            "gesture": f"gesture {self.gesture}",
        }[self.trigger]
        where = f"camera {self.camera}" if self.camera is not None else f"room {self.room}"
        zone = f" in a zone of {len(self.zone)} points" if self.zone else ""
        return f"{what} on {where}{zone}, armed {describe_schedule(self)}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "name": self.name,
            "camera": self.camera,
            "room": self.room,
            "trigger": self.trigger,
            "loiter_s": self.loiter_s,
            "gesture": self.gesture,
            "zone": [list(p) for p in self.zone] if self.zone else None,
            "days": [DAY_NAMES[d] for d in range(7) if self.days >> d & 1],
            "armed": format_span(self.armed_from_min, self.armed_until_min),
            "severity": self.severity,
            "enabled": self.enabled,
            "created_by": self.created_by,
            "instructions": self.instructions,
            "comment_required": self.comment_required,
        }


def format_span(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def describe_schedule(rule: RuleSpec) -> str:
    days = (
        "every day"
        if rule.days == EVERY_DAY
        else ",".join(DAY_NAMES[d] for d in range(7) if rule.days >> d & 1)
    )
    span = (
        "all day"
        if (rule.armed_from_min, rule.armed_until_min) == (0, MINUTES_PER_DAY)
        else format_span(rule.armed_from_min, rule.armed_until_min)  # site hours, as typed
    )
    return f"{days}, {span}"


def parse_days(text: str) -> int:
    """``mon-fri``, ``sat,sun``, ``all`` or ``every`` → a bit mask (bit 0 = Monday)."""
    text = text.strip().lower()
    if text in ("", "all", "every", "daily"):
        return EVERY_DAY
    mask = 0
    for part in text.split(","):
        part = part.strip()
        bounds = part.split("-")
        if len(bounds) > 2 or any(b.strip()[:3] not in DAY_NAMES for b in bounds):
            raise RuleError(
                f"days: {part!r} is not a day or a range of days (use {', '.join(DAY_NAMES)},"
                " e.g. mon-fri or sat,sun)"
            )
        first = DAY_NAMES.index(bounds[0].strip()[:3])
        last = DAY_NAMES.index(bounds[-1].strip()[:3])
        day = first
        while True:
            mask |= 1 << day
            if day == last:
                break
            day = (day + 1) % 7
    return mask


def parse_span(text: str) -> tuple[int, int]:
    """``22:00-06:00`` (site time; may wrap past midnight) or ``always`` → (from, until)
    minutes of the site's day."""
    text = text.strip().lower()
    if text in ("", "always", "all", "24h"):
        return 0, MINUTES_PER_DAY
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match:
        raise RuleError(f"armed: {text!r} is not a span like 22:00-06:00 (site time) or 'always'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise RuleError(f"armed: {text!r} is not a valid time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise RuleError(f"armed: {text!r} is an empty span (use 'always' for all day)")
    return start, end


def parse_zone(text: str) -> tuple[tuple[float, float], ...] | None:
    """``"0.1,0.2 0.5,0.2 0.5,0.9"``: points as fractions of the frame (0–1), at least
    three; empty → None (the whole view)."""
    text = text.strip()
    if not text:
        return None
    points: list[tuple[float, float]] = []
    for item in text.replace(";", " ").split():
        try:
            x_text, y_text = item.split(",")
            x, y = float(x_text), float(y_text)
        except ValueError:
            raise RuleError(f"zone: {item!r} is not a point x,y") from None
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise RuleError(f"zone: point {item!r} is outside the frame (fractions 0-1)")
        points.append((x, y))
    return validate_zone(points)


def validate_zone(points: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    if not 3 <= len(points) <= MAX_ZONE_POINTS:
        raise RuleError(f"zone: needs 3 to {MAX_ZONE_POINTS} points, got {len(points)}")
    cleaned = tuple((float(p[0]), float(p[1])) for p in points)
    area2 = sum(
        x1 * y2 - x2 * y1
        for (x1, y1), (x2, y2) in zip(cleaned, cleaned[1:] + cleaned[:1], strict=True)
    )
    if abs(area2) < 1e-6:
        raise RuleError("zone: the points enclose no area")
    return cleaned


def _spec(rule: AlertRule, camera: str | None) -> RuleSpec:
    return RuleSpec(
        rule_id=rule.id,
        name=rule.name,
        camera=camera,
        room=rule.room,
        trigger=rule.trigger,
        loiter_s=rule.loiter_s,
        gesture=rule.gesture,
        zone=tuple((float(x), float(y)) for x, y in rule.zone) if rule.zone else None,
        days=rule.days,
        armed_from_min=rule.armed_from_min,
        armed_until_min=rule.armed_until_min,
        severity=rule.severity,
        enabled=rule.enabled,
        created_by=rule.created_by,
        instructions=rule.instructions or "",
        comment_required=bool(rule.comment_required),
    )


def list_rules(store: Store) -> list[RuleSpec]:
    """Every rule, by name."""
    with store.sessions() as session:
        rows = session.execute(
            select(AlertRule, Camera.key)
            .outerjoin(Camera, Camera.id == AlertRule.camera_id)
            .order_by(AlertRule.name)
        ).all()
        return [_spec(rule, key) for rule, key in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class AddRule(GuardedCommand, StoreCommand):
    """Store a new rule (see :class:`RuleSpec` for the fields; ``camera`` by key). Needs the
    configure-rules permission; audited. :class:`RuleError` names what was wrong."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_RULES
    action: ClassVar[str] = "alert_rule.add"

    rule: RuleSpec
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"alert_rule:{self.rule.name}"

    def apply(self, session: Session) -> RuleSpec:
        rule = self.rule
        check_rule(rule)
        if session.scalar(select(AlertRule.id).where(AlertRule.name == rule.name)) is not None:
            raise RuleError(f"name: a rule named {rule.name!r} exists already")
        camera_id = None
        if rule.camera is not None:
            camera_id = session.scalar(
                select(Camera.id).where(Camera.key == rule.camera).order_by(Camera.id).limit(1)
            )
            if camera_id is None:
                known = session.scalars(select(Camera.key).order_by(Camera.key)).all()
                raise RuleError(
                    f"camera: no camera {rule.camera!r} (known: {', '.join(known) or 'none'})"
                )
        row = AlertRule(
            name=rule.name,
            camera_id=camera_id,
            room=rule.room,
            trigger=rule.trigger,
            loiter_s=rule.loiter_s,
            gesture=rule.gesture,
            zone=[list(p) for p in rule.zone] if rule.zone else None,
            days=rule.days,
            armed_from_min=rule.armed_from_min,
            armed_until_min=rule.armed_until_min,
            severity=rule.severity,
            enabled=rule.enabled,
            created_at=self.at,
            created_by=self.actor.label,
            instructions=rule.instructions.strip() or None,
            comment_required=rule.comment_required,
        )
        session.add(row)
        session.flush()
        stored = _spec(row, rule.camera)
        audit_command(session, self, stored.as_json())
        return stored


def _rule_named(session: Session, name: str) -> AlertRule:
    """The rule named ``name``; :class:`UnknownRuleError` naming the rules there are."""
    row = session.scalar(select(AlertRule).where(AlertRule.name == name))
    if row is None:
        known = session.scalars(select(AlertRule.name).order_by(AlertRule.name)).all()
        raise UnknownRuleError(f"no alert rule {name!r} (rules: {', '.join(known) or 'none'})")
    return row


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveRule(GuardedCommand, StoreCommand):
    """Remove the rule named ``name`` (sequences it made keep their alerts). Needs the
    configure-rules permission; audited. :class:`UnknownRuleError` for an unknown name."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_RULES
    action: ClassVar[str] = "alert_rule.remove"

    name: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"alert_rule:{self.name}"

    def apply(self, session: Session) -> None:
        row = _rule_named(session, self.name)
        session.delete(row)
        audit_command(session, self, {"name": self.name})
        session.flush()


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmRule(GuardedCommand, StoreCommand):
    """Arm (``armed``) or disarm the rule named ``name``: a disarmed rule raises nothing
    until armed again (its days and hours still apply when armed). Needs the
    configure-rules permission; audited. :class:`UnknownRuleError` for an unknown name.
    Returns the rule as it now stands."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_RULES
    action: ClassVar[str] = "alert_rule.arm"

    name: str
    armed: bool
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"alert_rule:{self.name}"

    def apply(self, session: Session) -> RuleSpec:
        row = _rule_named(session, self.name)
        was = row.enabled
        row.enabled = self.armed
        camera = (
            session.scalar(select(Camera.key).where(Camera.id == row.camera_id))
            if row.camera_id is not None
            else None
        )
        audit_command(session, self, {"name": self.name, "armed": self.armed, "was": was})
        session.flush()
        return _spec(row, camera)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRuleHandling(GuardedCommand, StoreCommand):
    """Set how the alerts of rule ``name`` are handled: its operating ``instructions`` (""
    for none; at most :data:`MAX_INSTRUCTIONS_CHARS`) and whether closing one needs a comment
    (``comment_required``). Applies to its open alerts at once (they read the rule). Needs the
    configure-rules permission; audited. Returns the rule as it now stands."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_RULES
    action: ClassVar[str] = "alert_rule.handling"

    name: str
    instructions: str
    comment_required: bool
    at: datetime
    actor: Actor

    def __post_init__(self) -> None:
        check_instructions(self.instructions)

    def audit_target(self) -> str:
        return f"alert_rule:{self.name}"

    def apply(self, session: Session) -> RuleSpec:
        row = _rule_named(session, self.name)
        row.instructions = self.instructions.strip() or None
        row.comment_required = self.comment_required
        camera = (
            session.scalar(select(Camera.key).where(Camera.id == row.camera_id))
            if row.camera_id is not None
            else None
        )
        audit_command(
            session,
            self,
            {
                "name": self.name,
                "instructions": self.instructions.strip(),
                "comment_required": self.comment_required,
            },
        )
        session.flush()
        return _spec(row, camera)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateRule(GuardedCommand, StoreCommand):
    """Change the stored rule named ``name`` to ``rule`` in one step: its name, camera or
    room, trigger, loitering seconds, gesture, zone, armed days and site hours, severity,
    whether it is switched on, and its handling (``rule_id`` and ``created_by`` are ignored;
    the rule keeps its id, so its sequences and alerts stay its own). Needs the
    configure-rules permission; audited with what it was and what it is now.
    :class:`RuleError` names the field that was wrong, :class:`UnknownRuleError` an unknown
    name. Returns the rule as it now stands."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_RULES
    action: ClassVar[str] = "alert_rule.update"

    name: str
    rule: RuleSpec
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"alert_rule:{self.name}"

    def apply(self, session: Session) -> RuleSpec:
        rule = self.rule
        check_rule(rule)
        row = _rule_named(session, self.name)
        if rule.name != self.name:
            taken = session.scalar(select(AlertRule.id).where(AlertRule.name == rule.name))
            if taken is not None:
                raise RuleError(f"name: a rule named {rule.name!r} exists already")
        before = _spec(row, _camera_key(session, row.camera_id)).as_json()
        row.camera_id = _camera_id(session, rule.camera)
        row.name = rule.name
        row.room = rule.room
        row.trigger = rule.trigger
        row.loiter_s = rule.loiter_s
        row.gesture = rule.gesture
        row.zone = [list(p) for p in rule.zone] if rule.zone else None
        row.days = rule.days
        row.armed_from_min = rule.armed_from_min
        row.armed_until_min = rule.armed_until_min
        row.severity = rule.severity
        row.enabled = rule.enabled
        row.instructions = rule.instructions.strip() or None
        row.comment_required = rule.comment_required
        session.flush()
        stored = _spec(row, rule.camera)
        audit_command(session, self, {"was": before, "now": stored.as_json()})
        return stored


def _camera_key(session: Session, camera_id: int | None) -> str | None:
    if camera_id is None:
        return None
    return session.scalar(select(Camera.key).where(Camera.id == camera_id))


def _camera_id(session: Session, camera: str | None) -> int | None:
    """The row id of the camera keyed ``camera`` (None for None); :class:`RuleError`
    naming the cameras there are when there is no such camera."""
    if camera is None:
        return None
    camera_id = session.scalar(
        select(Camera.id).where(Camera.key == camera).order_by(Camera.id).limit(1)
    )
    if camera_id is None:
        known = session.scalars(select(Camera.key).order_by(Camera.key)).all()
        raise RuleError(f"camera: no camera {camera!r} (known: {', '.join(known) or 'none'})")
    return camera_id


def check_instructions(text: str) -> None:
    """:class:`RuleError` for operating instructions longer than the limit."""
    if len(text.strip()) > MAX_INSTRUCTIONS_CHARS:
        raise RuleError(
            f"instructions: at most {MAX_INSTRUCTIONS_CHARS} characters, got {len(text.strip())}"
        )


def check_rule(rule: RuleSpec) -> None:
    """:class:`RuleError` naming the first field that is wrong."""
    if not rule.name.strip() or len(rule.name) > 100:
        raise RuleError("name: give a name of 1-100 characters")
    if (rule.camera is None) == (rule.room is None):
        raise RuleError("where: give a camera or a sensing room (one of them)")
    if rule.trigger not in RULE_TRIGGERS:
        raise RuleError(f"trigger: {rule.trigger!r} is not one of {', '.join(RULE_TRIGGERS)}")
    if rule.trigger == "sensing_blob" and rule.room is None:
        raise RuleError("trigger: sensing_blob needs a sensing room, not a camera")
    if rule.trigger in ("person", "loitering") and rule.camera is None:
        raise RuleError(f"trigger: {rule.trigger} needs a camera, not a sensing room")
    if rule.trigger == "loitering" and (rule.loiter_s is None or not 1 <= rule.loiter_s <= 86400):
        raise RuleError("loiter_s: loitering needs a time of 1-86400 s")
    if rule.trigger == "gesture" and not (rule.gesture or "").strip():
        raise RuleError("gesture: name the gesture that triggers it")
    if rule.zone is not None:
        if rule.camera is None:
            raise RuleError("zone: zones are drawn on a camera view; a room rule has none")
        validate_zone(rule.zone)
    if not 1 <= rule.days <= EVERY_DAY:
        raise RuleError("days: arm it on at least one day")
    if not (0 <= rule.armed_from_min < MINUTES_PER_DAY and 0 < rule.armed_until_min <= 1440):
        raise RuleError("armed: times must be within the day (00:00-24:00)")
    if rule.severity not in ALERT_SEVERITIES:
        raise RuleError(f"severity: {rule.severity!r} is not one of {', '.join(ALERT_SEVERITIES)}")
    check_instructions(rule.instructions)
