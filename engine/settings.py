"""Site-wide settings an admin may change: named, typed, bounded, and stored in one place.

Each :class:`SettingSpec` names a field of a row of the ``settings`` table (``retention``,
``analytics``, ``audit``, ``security``) with its type, bounds, default, unit and a sentence
for the operator; a :class:`RolesSettingSpec` is a list of role names instead of a number
(``security.idle_lock_exempt_roles``: the roles no console locks when idle).
Values are validated here, the same way for ``watchfloor settings set`` and the console's
settings pane, and written through the store writer with :class:`ChangeSetting`, which also
files a ``settings.changed`` audit event in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission, Role
from engine.store.audit import MIN_AUDIT_KEEP_DAYS, audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event, Setting

GIB = 1024**3
MAX_RETENTION_DAYS = 3650  # ten years: longer is a mistake, and overflows date arithmetic


class SettingError(ValueError):
    """A setting name or value was refused; the message names the setting and the reason."""


class _NamedSetting:
    """What every kind of setting says of its ``key`` (``<row>.<field>``)."""

    __slots__ = ()
    key: str

    @property
    def title(self) -> str:
        """The setting as a person reads it ("Keep clips"), where the key is for typing."""
        return SETTING_TITLES.get(self.key) or self.key.replace("_", " ").replace(".", ": ")

    @property
    def row(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.key.split(".", 1)[1]


@dataclass(frozen=True, slots=True)
class SettingSpec(_NamedSetting):
    """One setting: ``key`` is ``<row>.<field>``; values are ints within [minimum, maximum]."""

    key: str
    default: int
    minimum: int
    maximum: int
    unit: str
    description: str

    def parse(self, text: str) -> int:
        """The value ``text`` means (``2GiB`` and ``500MB`` for bytes), bounds checked."""
        raw = text.strip().replace("_", "")
        value: int
        if self.unit == "bytes":
            match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?", raw, re.IGNORECASE)
            if not match:
                raise SettingError(f"{self.key}: expected a size like 2GiB or 500MB, got {text!r}")
            number, suffix = float(match.group(1)), (match.group(2) or "B").upper()
            scale = {
                "B": 1,
                "KB": 10**3,
                "MB": 10**6,
                "GB": 10**9,
                "TB": 10**12,
                "KIB": 2**10,
                "MIB": 2**20,
                "GIB": 2**30,
                "TIB": 2**40,
            }[suffix]
            value = int(number * scale)
        else:
            try:
                value = int(raw)
            except ValueError:
                raise SettingError(f"{self.key}: expected a whole number, got {text!r}") from None
        return self.check(value)

    def check(self, value: object) -> int:
        """``value`` if it is an int within bounds, else :class:`SettingError`."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise SettingError(f"{self.key}: expected a whole number, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise SettingError(
                f"{self.key}: {value} is out of range ({self.minimum}–{self.maximum} {self.unit})"
            )
        return value


ROLE_NAMES = tuple(role.value for role in Role)  # in the order every list of roles uses


@dataclass(frozen=True, slots=True)
class RolesSettingSpec(_NamedSetting):
    """A setting whose value is a list of role names (each one of :data:`ROLE_NAMES`, each
    once, in that order), stored as a JSON list; ``()`` by default."""

    key: str
    description: str
    default: tuple[str, ...] = ()
    unit: ClassVar[str] = ""

    def parse(self, text: str) -> tuple[str, ...]:
        """The roles ``text`` names (``operator`` or ``operator,investigator``; ``none`` or
        nothing for none), each a known role, else :class:`SettingError` naming it."""
        raw = text.strip()
        if raw.casefold() in ("", "none", "-"):
            return ()
        return self.check([name.strip() for name in re.split(r"[,\s]+", raw) if name.strip()])

    def check(self, value: object) -> tuple[str, ...]:
        """``value`` (a list of role names) in :data:`ROLE_NAMES` order, else
        :class:`SettingError` naming the first name that is not a role."""
        if isinstance(value, str) or not isinstance(value, (list, tuple, frozenset, set)):
            raise SettingError(f"{self.key}: expected a list of role names, got {value!r}")
        names = set()
        for name in value:
            if not isinstance(name, str) or name not in ROLE_NAMES:
                raise SettingError(
                    f"{self.key}: {name!r} is not a role (roles: {', '.join(ROLE_NAMES)})"
                )
            names.add(name)
        return tuple(role for role in ROLE_NAMES if role in names)

    def roles(self, value: tuple[str, ...]) -> frozenset[Role]:
        """``value`` (checked) as roles."""
        return frozenset(Role(name) for name in self.check(value))


SETTING_TITLES: dict[str, str] = {
    "retention.clips_days": "Keep clips",
    "retention.events_days": "Keep events",
    "retention.person_archive_days": "Archive people unseen for",
    "retention.person_delete_days": "Delete archived people after",
    "retention.min_free_bytes": "Keep free on disk",
    "analytics.detect_interval_ms": "Look for people every",
    "analytics.gesture_confidence_pct": "Gesture certainty needed",
    "analytics.speech_names_auto": "Take heard names without asking",
    "analytics.speech_model_tiny": "Use the faster, less accurate speech model",
    "audit.keep_days": "Keep the audit trail",
    "sensing.recording_bytes": "Sensing recordings up to",
    "sensing.recording_days": "Keep sensing recordings",
    "incidents.correlate_window_s": "Same incident within",
    "incidents.correlate_distance_m": "Same incident within (distance)",
    "incidents.media_similarity_pct": "Same picture above",
    "incidents.llm_timeout_s": "Wait for the classifier",
    "risk.h3_resolution": "Risk map detail (cell level)",
    "risk.half_life_h": "Risk fades by half in",
    "risk.retrain_hour_utc": "Relearn risk at (UTC hour)",
    "security.idle_lock_s": "Lock an idle console after",
    "security.idle_lock_exempt_roles": "Never lock an idle console for",
}

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "retention.clips_days",
        30,
        1,
        MAX_RETENTION_DAYS,
        "days",
        "event clips older than this are deleted (locked evidence is kept)",
    ),
    SettingSpec(
        "retention.events_days",
        365,
        1,
        MAX_RETENTION_DAYS,
        "days",
        "events and their snapshots older than this are deleted",
    ),
    SettingSpec(
        "retention.person_archive_days",
        182,
        1,
        MAX_RETENTION_DAYS,
        "days",
        "people unseen this long are archived (hidden, still recognised)",
    ),
    SettingSpec(
        "retention.person_delete_days",
        730,
        1,
        MAX_RETENTION_DAYS,
        "days",
        "archived people are deleted with their face data after this long",
    ),
    SettingSpec(
        "retention.min_free_bytes",
        2 * GIB,
        0,
        2**50,
        "bytes",
        "free-space floor of the data dir: below it the oldest unlocked clips and recording "
        "segments are deleted",
    ),
    SettingSpec(
        "analytics.detect_interval_ms",
        300,
        0,
        5000,
        "ms",
        "the people detector runs this often while something moves or anyone is tracked "
        "(0: every frame)",
    ),
    SettingSpec(
        "analytics.gesture_confidence_pct",
        70,
        50,
        99,
        "%",
        "a taught gesture is recognised when its match is at least this confident",
    ),
    SettingSpec(
        "analytics.speech_names_auto",
        0,
        0,
        1,
        "",
        "a name heard in an introduction is given to the person nearest the microphone's "
        "camera at once (1), or offered to the operator to confirm (0)",
    ),
    SettingSpec(
        "analytics.speech_model_tiny",
        0,
        0,
        1,
        "",
        "speech is recognised with Whisper tiny.en (1: about 2.5 times faster, misses more "
        "names) or Whisper base (0); taken at the engine's next start",
    ),
    SettingSpec(
        "audit.keep_days",
        730,
        MIN_AUDIT_KEEP_DAYS,
        MAX_RETENTION_DAYS,
        "days",
        "audit entries are kept at least this long; older ones are pruned by retention, "
        "the chain stays verifiable",
    ),
    SettingSpec(
        "sensing.recording_bytes",
        512 * 2**20,
        0,
        2**44,
        "bytes",
        "what each sensing room's nodes sent is kept for replays up to this size, oldest "
        "dropped first (0: no recording; 512 MiB holds about 6 h of a 4-node room)",
    ),
    SettingSpec(
        "sensing.recording_days",
        7,
        1,
        MAX_RETENTION_DAYS,
        "days",
        "recorded sensing frames older than this are dropped",
    ),
    SettingSpec(
        "incidents.correlate_window_s",
        300,
        0,
        86400,
        "s",
        "a report within this long of an earlier one (and near it) joins its incident",
    ),
    SettingSpec(
        "incidents.correlate_distance_m",
        50,
        0,
        100_000,
        "m",
        "a report within this distance of an earlier one (and close in time) joins its incident",
    ),
    SettingSpec(
        "incidents.media_similarity_pct",
        70,
        0,
        100,
        "%",
        "when both reports carry a photo or video, they join only if the media look at "
        "least this alike",
    ),
    SettingSpec(
        "incidents.llm_timeout_s",
        10,
        1,
        120,
        "s",
        "the LLM classifier's answer is awaited this long; then the local classifier answers",
    ),
    SettingSpec(
        "risk.h3_resolution",
        9,
        5,
        12,
        "",
        "size of the risk grid's hexagons (H3 resolution: 9 is about 170 m a side, 8 about "
        "460 m, 10 about 65 m); takes effect for new incidents and the next retrain",
    ),
    SettingSpec(
        "risk.half_life_h",
        168,
        1,
        8760,
        "h",
        "an incident's contribution to the live risk halves after this long",
    ),
    SettingSpec(
        "risk.retrain_hour_utc",
        2,
        0,
        23,
        "h",
        "the nightly risk model is refitted at this hour (UTC); a missed run is caught up at start",
    ),
    SettingSpec(
        "security.idle_lock_s",
        300,
        0,
        86400,
        "s",
        "the console locks after this long without input (0: only on demand, Ctrl+L)",
    ),
)
IDLE_LOCK_EXEMPT_ROLES_KEY = "security.idle_lock_exempt_roles"
ROLE_SETTINGS: tuple[RolesSettingSpec, ...] = (
    RolesSettingSpec(
        IDLE_LOCK_EXEMPT_ROLES_KEY,
        "no console locks when idle for someone whose roles are all listed (a site of watch "
        "stations, where operators watch without touching anything); a workstation may "
        "spare more roles (Session: Idle lock at this workstation)",
    ),
)
AnySettingSpec = SettingSpec | RolesSettingSpec
ALL_SETTINGS: tuple[AnySettingSpec, ...] = (*SETTINGS, *ROLE_SETTINGS)
BY_KEY: dict[str, AnySettingSpec] = {spec.key: spec for spec in ALL_SETTINGS}


def spec_for(key: str) -> AnySettingSpec:
    try:
        return BY_KEY[key]
    except KeyError:
        known = ", ".join(BY_KEY)
        raise SettingError(f"unknown setting {key!r} (known: {known})") from None


@dataclass(frozen=True, slots=True)
class SettingValue:
    """A setting as stored now: ``value`` (the default when unset or invalid) and, for a
    stored value that fails validation, ``problem`` saying why it is not used."""

    spec: SettingSpec
    value: int
    is_default: bool
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        s = self.spec
        return {
            "key": s.key,
            "value": self.value,
            "default": s.default,
            "minimum": s.minimum,
            "maximum": s.maximum,
            "unit": s.unit,
            "description": s.description,
            "is_default": self.is_default,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class RolesSettingValue:
    """A list-of-roles setting as stored now, as :class:`SettingValue` says a number."""

    spec: RolesSettingSpec
    value: tuple[str, ...]
    is_default: bool
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        s = self.spec
        return {
            "key": s.key,
            "value": list(self.value),
            "default": list(s.default),
            "choices": list(ROLE_NAMES),
            "unit": s.unit,
            "description": s.description,
            "is_default": self.is_default,
            "problem": self.problem,
        }


AnySettingValue = SettingValue | RolesSettingValue


def read_settings(store: Store) -> list[SettingValue]:
    """Every numeric setting's current value (one statement). A stored value that is out
    of bounds is reported with a problem and the default is used, so a bad row never
    stops, say, disk-pressure purges."""
    return [v for v in read_all_settings(store) if isinstance(v, SettingValue)]


def read_all_settings(store: Store) -> list[AnySettingValue]:
    """Every setting's current value, the numbers then the lists of roles (one statement);
    an invalid stored value is reported and the default used, as :func:`read_settings`."""
    rows = {r.key: dict(r.value) for r in _setting_rows(store)}
    values: list[AnySettingValue] = []
    for spec in ALL_SETTINGS:
        stored = rows.get(spec.row, {})
        if spec.field not in stored:
            values.append(_value(spec, spec.default, True))
            continue
        try:
            values.append(_value(spec, spec.check(stored[spec.field]), False))
        except SettingError as exc:
            values.append(_value(spec, spec.default, True, f"{exc}; using the default"))
    return values


def _value(
    spec: AnySettingSpec, value: object, is_default: bool, problem: str | None = None
) -> AnySettingValue:
    if isinstance(spec, RolesSettingSpec):
        assert isinstance(value, tuple)
        return RolesSettingValue(spec, value, is_default, problem)
    assert isinstance(value, int)
    return SettingValue(spec, value, is_default, problem)


def role_setting(store: Store, key: str) -> frozenset[Role]:
    """The roles list-of-roles setting ``key`` names now (its default, none, when unset or
    invalid)."""
    spec = spec_for(key)
    if not isinstance(spec, RolesSettingSpec):
        raise SettingError(f"{key} is a number, not a list of roles")
    for value in read_all_settings(store):
        if isinstance(value, RolesSettingValue) and value.spec.key == key:
            return frozenset(Role(name) for name in value.value)
    return frozenset()


def setting_values(store: Store) -> dict[str, int]:
    """Every setting's value in use (defaults where unset or invalid), by key."""
    return {v.spec.key: v.value for v in read_settings(store)}


def _setting_rows(store: Store) -> list[Setting]:
    with store.sessions() as session:
        rows = {spec.row for spec in ALL_SETTINGS}
        return list(session.scalars(select(Setting).where(Setting.key.in_(rows))))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeSetting(GuardedCommand, StoreCommand):
    """Store one validated setting, as ``actor`` (who must hold the settings permission),
    with a ``settings.changed`` event and an audit entry (who, old, new) in the same
    transaction. ``value`` is a number, or role names for a list of roles (kept as a JSON
    list). Returns the previous value (None when it was unset)."""

    permission: ClassVar[Permission] = Permission.CHANGE_SETTINGS
    action: ClassVar[str] = "settings.change"

    key: str
    value: int | tuple[str, ...]
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.key

    def apply(self, session: Session) -> int | list[str] | None:
        spec = spec_for(self.key)
        checked = spec.check(self.value)
        value = list(checked) if isinstance(checked, tuple) else checked
        row = session.get(Setting, spec.row)
        current = dict(row.value) if row is not None else {}
        previous = current.get(spec.field)
        current[spec.field] = value
        if row is None:
            session.add(Setting(key=spec.row, value=current, updated_at=self.at))
        else:
            row.value, row.updated_at = current, self.at
        session.add(
            Event(
                ts=self.at,
                kind="settings.changed",
                source=self.actor.label,
                detail={"key": spec.key, "old": previous, "new": value},
            )
        )
        audit_command(session, self, {"old": previous, "new": value}, target=spec.key)
        return previous if isinstance(previous, (int, list)) else None


@dataclass(frozen=True, slots=True)
class SettingsRequest:
    """A query-service request for every setting's current value (pool thread)."""

    def run(self, store: Store) -> list[AnySettingValue]:
        return read_all_settings(store)
