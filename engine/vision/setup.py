"""Adding, changing and removing a camera, as the CLI (``watchfloor cameras add | edit |
remove``) and the console's Cameras page both do it: one use case.

:func:`change_camera` checks the actor may configure cameras, edits the site file in memory
(:mod:`engine.site_edit`) and validates the result, stores a typed password in the OS
keyring (``password_keyring``), probes the camera's URL (:mod:`engine.vision.probe`) unless
told not to, then saves the file (atomic, the previous version kept) and records the change
(an event and an audit entry) through ``record`` (the store writer). Nothing is saved when
any step before the save fails; a save whose record fails is said so
(:class:`CameraChangeNotRecordedError`), since the file changed. A running engine alone on
its site follows the file (:mod:`engine.site_reload`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from engine.access import Actor, Permission
from engine.clock import REAL_CLOCK, Clock
from engine.config import CameraSecretError, SiteConfig, store_camera_password
from engine.secrets import KeyringUnavailableError
from engine.site_edit import (
    CameraAdded,
    CameraChanged,
    CameraChangeRecord,
    CameraRemoved,
    SiteEditError,
    open_site_file,
)
from engine.vision.probe import PROBE_SECONDS, ProbeError, StreamProbe, probe_stream
from resources import DEMO_SITE

Action = Literal["add", "edit", "remove"]
RECORDS: Final[dict[str, type[CameraChangeRecord]]] = {
    "add": CameraAdded,
    "edit": CameraChanged,
    "remove": CameraRemoved,
}
# What in a change makes the camera's stream worth probing again.
PROBED_FIELDS: Final = frozenset({"url", "sub_url", "password_env", "password_keyring"})


class CameraChangeError(ValueError):
    """A change refused before anything was saved: the message names what was wrong.
    ``no_video``: the probe found no video (the camera may just be off now)."""

    def __init__(self, message: str, *, no_video: bool = False) -> None:
        super().__init__(message)
        self.no_video = no_video


@dataclass(frozen=True, slots=True)
class CameraChange:
    """One change: ``fields`` to set (None in ``removed`` takes a field out); ``password``
    for a camera whose password goes into the OS keyring (stored before the probe, which
    uses it); ``probe``: check the stream first."""

    action: Action
    camera: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    password: str | None = None
    probe: bool = True
    probe_seconds: float = PROBE_SECONDS


@dataclass(frozen=True, slots=True)
class CameraChangeDone:
    """A saved change: the file, where its previous version was kept, the site as it now
    loads, the camera's name, and what the probe found (None when not probed)."""

    change: CameraChange
    file: Path
    previous: Path
    site: SiteConfig
    name: str
    probe: StreamProbe | None


class CameraChangeNotRecordedError(RuntimeError):
    """The file was saved (``done``) but the change could not be recorded in the store."""

    def __init__(self, done: CameraChangeDone, reason: str) -> None:
        super().__init__(f"the site file was saved, but the change could not be recorded: {reason}")
        self.done = done


def built_in_site(site_file: Path | str) -> str:
    """Why ``site_file`` is not changed here ("" when it may be): the demo site ships with
    Watchfloor (a changed copy would be lost at the next update, or cannot be written)."""
    try:
        if Path(site_file).resolve() == DEMO_SITE.resolve():
            return (
                f"the demo site file ({DEMO_SITE.name}) ships with Watchfloor and is never "
                "changed here: copy it to a file of your own and start with --site FILE to "
                "add cameras"
            )
    except OSError:
        pass
    return ""


def change_camera(
    site_file: Path,
    change: CameraChange,
    actor: Actor,
    record: Callable[[CameraChangeRecord], object],
    clock: Clock = REAL_CLOCK,
) -> CameraChangeDone:
    """Carry out ``change`` on ``site_file`` as ``actor`` (see the module). Blocks for the
    probe (seconds) and the store: call it from a worker. Raises
    :class:`~engine.access.PermissionDeniedError`, :class:`CameraChangeError` (nothing
    saved) or :class:`CameraChangeNotRecordedError` (saved, not recorded)."""
    actor.require(Permission.CONFIGURE_CAMERAS, RECORDS[change.action].action)
    why_not = built_in_site(site_file)
    if why_not:
        raise CameraChangeError(why_not)
    try:
        edit = open_site_file(site_file)
        if change.action == "add":
            edit.add_camera({"id": change.camera, **change.fields})
        elif change.action == "edit":
            if not change.fields and not change.removed:
                raise SiteEditError(
                    "nothing to change: give an address, a name, a password, the recording, "
                    "or switch it off or on"
                )
            fields = dict(change.fields)
            if isinstance(fields.get("recording"), Mapping):
                # Merged: the camera's other recording values (its tiers) stay.
                current = edit.camera(change.camera).get("recording")
                kept = dict(current) if isinstance(current, Mapping) else {}
                fields["recording"] = {**kept, **fields["recording"]}
            edit.edit_camera(change.camera, {**fields, **dict.fromkeys(change.removed)})
        name = str(edit.camera(change.camera).get("name", change.camera))
        if change.action == "remove":
            edit.remove_camera(change.camera)
        pending = edit.check()
    except SiteEditError as exc:
        raise CameraChangeError(str(exc)) from None
    camera = next((c for c in pending.cameras if c.id == change.camera), None)
    probe: StreamProbe | None = None
    if camera is not None:
        try:
            if change.password is not None:
                if not change.password:
                    raise CameraChangeError(f"camera {camera.id}: no password given")
                store_camera_password(camera, change.password)
            probed = change.action == "add" or bool(PROBED_FIELDS & set(change.fields))
            if change.probe and (probed or change.password is not None):
                probe = probe_stream(
                    camera.connect_url(), shown_url=camera.url, seconds=change.probe_seconds
                )
                sub_url = camera.connect_sub_url()
                if sub_url is not None:
                    if not probe.recordable:
                        raise CameraChangeError(
                            f"camera {camera.id}: its main stream is {probe.codec_name}; with "
                            "a sub stream the main one is recorded as it comes, which needs "
                            "H.264 or H.265 (set the camera's main stream so, or give no sub "
                            "stream)"
                        )
                    assert camera.sub_url is not None
                    probe_stream(sub_url, shown_url=camera.sub_url, seconds=change.probe_seconds)
        except (CameraSecretError, KeyringUnavailableError) as exc:
            raise CameraChangeError(f"{exc}; nothing changed") from None
        except ProbeError as exc:
            raise CameraChangeError(f"{exc}; nothing changed", no_video=True) from None
    try:
        saved = edit.save()
    except SiteEditError as exc:
        raise CameraChangeError(str(exc)) from None
    done = CameraChangeDone(change, edit.file, saved.previous, saved.site, name, probe)
    command = RECORDS[change.action](
        site=saved.site.name,
        file=str(saved.site.file),
        camera=change.camera,
        name=name,
        fields=dict(change.fields),
        removed=change.removed,
        at=clock.now(),
        actor=actor,
    )
    try:
        record(command)
    except Exception as exc:  # the file is saved: say what could not be recorded
        raise CameraChangeNotRecordedError(done, str(exc) or type(exc).__name__) from exc
    return done
