"""How long each camera's continuous recording is kept, as set in Administration.

The site file gives every camera its retention tiers (``[recording]``, and a camera's own
``recording = { ... }`` over it: see :class:`~engine.config.RecordingConfig`). An admin may
set them in the console (or ``watchfloor recording tiers``) as well: those values are
stored in the ``settings`` table's ``recording`` row, per camera (by the camera's id in the
site file), and are taken over the file's, by every engine of the site at its next
retention pass, without a restart. A tier set back to the site file's is removed from the
row, so the file rules again.

The row is ``{"cameras": {"<camera id>": {"tiers": {"keep_all_days": 14, ...}, "by":
"<who>", "at": "<ISO time>"}}}``. A stored value that is not a whole number of days within
bounds is ignored (the file's is used) and reported, so a bad row never stops retention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.config import RECORDING_DAYS, RECORDING_DAYS_MAX, RecordingConfig, SiteConfig
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event, Setting
from engine.text import printable

ROW: Final = "recording"  # the settings row the tiers are stored in
TIERS: Final = RECORDING_DAYS  # keep_all_days, keep_motion_days, keep_events_days
TIER_TITLES: Final = {
    "keep_all_days": "Everything",
    "keep_motion_days": "With motion",
    "keep_events_days": "With people, events or alerts",
}
TIER_MEANING: Final = {
    "keep_all_days": "every segment is kept this many days",
    "keep_motion_days": "a segment in which something moved is kept this many days",
    "keep_events_days": (
        "a segment in which people were seen, or that overlaps an event or alert of its "
        "camera, is kept this many days"
    ),
}


class RecordingTierError(ValueError):
    """A tier change was refused; the message names the camera, the tier and why."""


@dataclass(frozen=True, slots=True)
class AdminTiers:
    """What Administration set for one camera: ``tiers`` (a subset of :data:`TIERS`),
    who set them last (``by``, an actor's label) and when (``at``, UTC; None if unknown)."""

    tiers: Mapping[str, int]
    by: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredTiers:
    """The ``recording`` row read: each camera's :class:`AdminTiers` by its site-file id,
    and what in the row was ignored and why."""

    cameras: Mapping[str, AdminTiers]
    problems: tuple[str, ...] = ()

    def policy(self, camera: str, site_file: RecordingConfig) -> RecordingConfig:
        """Camera ``camera``'s policy: the site file's with Administration's tiers over it."""
        admin = self.cameras.get(camera)
        if admin is None:
            return site_file
        days: dict[str, Any] = dict(admin.tiers)
        return replace(site_file, **days)


def check_days(camera: str, tier: str, value: object) -> int:
    """``value`` if it is a whole number of days a tier may keep, else
    :class:`RecordingTierError` naming the camera and the tier."""
    if tier not in TIERS:
        known = ", ".join(TIERS)
        raise RecordingTierError(f"{printable(camera)}: unknown tier {tier!r} (known: {known})")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordingTierError(
            f"{printable(camera)}: {tier} must be a whole number of days, got {value!r}"
        )
    if not 0 <= value <= RECORDING_DAYS_MAX:
        raise RecordingTierError(
            f"{printable(camera)}: {tier} = {value} is outside 0..{RECORDING_DAYS_MAX} days"
        )
    return value


def parse_row(value: Mapping[str, Any] | None) -> StoredTiers:
    """The tiers a stored ``recording`` row holds; whatever is malformed is left out and
    named in ``problems``."""
    cameras: dict[str, AdminTiers] = {}
    problems: list[str] = []
    raw_cameras = (value or {}).get("cameras", {})
    if not isinstance(raw_cameras, Mapping):
        return StoredTiers({}, ("the stored recording tiers are not a table; none is used",))
    for camera, entry in raw_cameras.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("tiers"), Mapping):
            problems.append(f"{printable(str(camera))}: stored tiers are not a table; ignored")
            continue
        tiers: dict[str, int] = {}
        for tier, days in entry["tiers"].items():
            try:
                tiers[tier] = check_days(str(camera), str(tier), days)
            except RecordingTierError as exc:
                problems.append(f"{exc}; the site file's is used")
        at: datetime | None = None
        if isinstance(entry.get("at"), str):
            try:
                at = datetime.fromisoformat(entry["at"])
            except ValueError:
                at = None
        by = entry.get("by")
        cameras[str(camera)] = AdminTiers(tiers, by if isinstance(by, str) else "", at)
    return StoredTiers(cameras, tuple(problems))


def read_stored_tiers(store: Store) -> StoredTiers:
    """The ``recording`` row as stored now (one read)."""
    with store.sessions() as session:
        row = session.scalar(select(Setting).where(Setting.key == ROW))
        return parse_row(dict(row.value) if row is not None else None)


@dataclass(frozen=True, slots=True)
class CameraTiers:
    """One camera's retention as the console shows it: its site-file id and name, the
    tiers the site file gives, those Administration set over them, and so the ones in use."""

    camera: str
    name: str
    site_file: Mapping[str, int]
    admin: AdminTiers | None

    def days(self, tier: str) -> int:
        """The days ``tier`` keeps this camera's segments now."""
        if self.admin is not None and tier in self.admin.tiers:
            return self.admin.tiers[tier]
        return self.site_file[tier]

    def set_here(self, tier: str) -> bool:
        """Whether ``tier`` is Administration's value rather than the site file's."""
        return self.admin is not None and tier in self.admin.tiers


@dataclass(frozen=True, slots=True)
class RecordingTiers:
    """Every continuously recorded camera's :class:`CameraTiers`, in site-file order, and
    what in the stored row was ignored."""

    cameras: tuple[CameraTiers, ...]
    problems: tuple[str, ...] = ()


def recording_tiers(site: SiteConfig, stored: StoredTiers) -> RecordingTiers:
    """The tiers of each camera of ``site`` that records continuously."""
    cameras = []
    for camera in site.cameras:
        policy = site.recording_of(camera.id)
        if not policy.continuous:
            continue
        cameras.append(
            CameraTiers(
                camera.id,
                camera.name or camera.id,
                {tier: getattr(policy, tier) for tier in TIERS},
                stored.cameras.get(camera.id),
            )
        )
    return RecordingTiers(tuple(cameras), stored.problems)


@dataclass(frozen=True, slots=True)
class RecordingTiersRequest:
    """A query-service request for :func:`recording_tiers` (pool thread)."""

    site: SiteConfig

    def run(self, store: Store) -> RecordingTiers:
        return recording_tiers(self.site, read_stored_tiers(store))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRecordingTiers(GuardedCommand, StoreCommand):
    """Set the retention tiers of ``cameras`` (site-file ids) as ``actor`` (who must hold
    the settings permission): ``tiers`` maps a tier to its days, or to None to take the
    site file's again. One ``settings.changed`` event (every camera's old and new values)
    and one audit entry, in the same transaction. Returns the cameras whose tiers changed."""

    permission: ClassVar[Permission] = Permission.CHANGE_SETTINGS
    action: ClassVar[str] = "settings.change"

    cameras: tuple[str, ...]
    tiers: Mapping[str, int | None]
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"{ROW}: {', '.join(self.cameras)}"

    def check(self) -> None:
        """Refuse a change that names no camera, no tier, or days out of bounds."""
        if not self.cameras:
            raise RecordingTierError("no camera named: say which cameras' tiers to set")
        if not self.tiers:
            raise RecordingTierError(
                "no tier given: set keep_all_days, keep_motion_days or keep_events_days"
            )
        for camera in self.cameras:
            for tier, days in self.tiers.items():
                if days is not None:
                    check_days(camera, tier, days)
                elif tier not in TIERS:
                    check_days(camera, tier, 0)  # names the unknown tier

    def apply(self, session: Session) -> list[str]:
        self.check()
        row = session.get(Setting, ROW)
        value = dict(row.value) if row is not None else {}
        cameras = dict(value.get("cameras") or {}) if isinstance(value.get("cameras"), dict) else {}
        old: dict[str, dict[str, int]] = {}
        new: dict[str, dict[str, int]] = {}
        changed = []
        for camera in self.cameras:
            entry = cameras.get(camera)
            before = (
                {k: v for k, v in entry["tiers"].items() if k in TIERS}
                if isinstance(entry, dict) and isinstance(entry.get("tiers"), dict)
                else {}
            )
            after = dict(before)
            for tier, days in self.tiers.items():
                if days is None:
                    after.pop(tier, None)
                else:
                    after[tier] = days
            if after == before:
                continue
            changed.append(camera)
            old[camera], new[camera] = before, after
            if after:
                cameras[camera] = {
                    "tiers": after,
                    "by": self.actor.label,
                    "at": self.at.isoformat(),
                }
            else:
                cameras.pop(camera, None)
        if not changed:
            return []
        value["cameras"] = cameras
        if row is None:
            session.add(Setting(key=ROW, value=value, updated_at=self.at))
        else:
            row.value, row.updated_at = value, self.at
        detail = {"key": f"{ROW}.tiers", "cameras": changed, "old": old, "new": new}
        session.add(
            Event(ts=self.at, kind="settings.changed", source=self.actor.label, detail=detail)
        )
        audit_command(session, self, {"old": old, "new": new}, target=self.audit_target())
        return changed
