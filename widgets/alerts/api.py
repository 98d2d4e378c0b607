"""What the alert stream asks of the console (:class:`AlertActions`, :class:`SoundPlayer`),
the listing it is handed, and the texts the console and the Alerts list share with it.

No Qt here (``import widgets.alerts.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from engine.alerts.records import AlertView
from engine.alerts.snoozes import SnoozeView
from engine.incidents.records import Filed
from engine.record.tracks import TrackSample
from engine.wording import display_actor


def acknowledged_by_text(label: str | None) -> str:
    """Who acknowledged (or labelled), as people read it (:func:`engine.wording.
    display_actor`): ``ada`` for ``account:ada``, ``the system (camera-watch)`` for the
    engine, ``night-bot (service)`` for a service account."""
    return display_actor(label) if label else "someone"


def delivery_error_text(url: str, escalation: bool, error: str | None) -> str:
    """One failed webhook delivery as the tooltip lists it: the masked ``url``, whether it
    delivered the escalation, and the error."""
    return f"{url}{' (escalation)' if escalation else ''}: {error or 'failed'}"


@dataclass(frozen=True, slots=True)
class AlertListing:
    """What the pane lists: ``alerts`` (the recent ones and every open one, any order), the
    errors of their failed webhook deliveries by alert id (for the tooltip), how many
    webhooks the engine delivers to, the cameras whose alerts are snoozed now
    (``snoozes``; each ends by itself at its ``until``), and the site's names of its cameras
    and rooms by key (``camera_names``: "Front gate" for ``cam-3``)."""

    alerts: tuple[AlertView, ...]
    delivery_errors: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    webhooks: int = 0
    snoozes: tuple[SnoozeView, ...] = ()
    camera_names: Mapping[str, str] = field(default_factory=dict)


def camera_names_text(keys: tuple[str, ...] | list[str], names: Mapping[str, str]) -> str:
    """Cameras as the site names them ("Front gate, Yard"), a key where no name is known."""
    return ", ".join(names.get(key, key) for key in keys)


def note_line(kind: str, author: str, text: str) -> str:
    """One entry of an alert's history in words, without its time: "ada took it", "ada:
    checked gate 2", "ada closed it: a cat", "ada escalated it to incident 12"."""
    who = acknowledged_by_text(author)
    if kind == "took":
        return f"{who} took it" + (f" ({text})" if text else "")
    if kind == "closed":
        return f"{who} closed it" + (f": {text}" if text else "")
    if kind == "escalated":
        return f"{who} escalated it to {text}" if text else f"{who} escalated it"
    return f"{who}: {text}"


SNOOZE_CHOICES: tuple[int, ...] = (15, 30, 60, 120, 240, 480, 1440)
"""The lengths of a snooze the pane offers, in minutes (the engine takes 1-1440)."""


def snooze_choice_text(minutes: int) -> str:
    """``15 minutes``, ``1 hour``, ``8 hours``: a snooze's length as the menu offers it."""
    if minutes % 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = minutes // 60
    return f"{hours} hour{'' if hours == 1 else 's'}"


def alert_camera(alert: AlertView) -> str | None:
    """The camera (its key) whose sequence started ``alert``; None for an alert of no
    camera (a fall sensed in a room, a recording failing in one)."""
    camera = alert.detail.get("camera")
    return camera if isinstance(camera, str) and camera else None


@dataclass(frozen=True, slots=True)
class AlertEvidence:
    """What raised an alert, for the operator to judge it before acknowledging: the
    picture of its event (``snapshot``: the image file's bytes, read off the GUI thread;
    None without one), the clip covering it (``clip``: an absolute path, None without one)
    and where in it the event is, the camera to watch live (``camera``: a key), and the
    event in words (``caption``). The clip may be a view of the camera's continuous
    recording cut for this alert; for one raised just now it holds the footage up to about
    a second ago (``recording``) and asking again gives more."""

    alert_id: int
    caption: str
    snapshot: bytes | None = None
    clip: Path | None = None
    clip_offset_s: float = 0.0
    camera: str | None = None
    recording: bool = False  # the clip is the footage so far: its camera is still recording it
    # Where the person is on the picture: their box (x, y, w, h) in pixels of ``snapshot``
    # (the triggering detection's: the person.appeared snapshot, a crop around the person).
    box: tuple[float, float, float, float] | None = None
    # The rule's zone, a polygon of (x, y) fractions of the camera's frame (None: the whole
    # view, or no rule), and what places it on the picture: the frame's size in pixels and
    # where the picture's top-left corner lies in it (None: unknown, the zone is not drawn
    # on the picture).
    zone: tuple[tuple[float, float], ...] | None = None
    frame_size: tuple[int, int] | None = None
    picture_origin: tuple[float, float] | None = None
    # No clip yet but one is being recorded: about this many seconds until it is ready (the
    # clip recorder's post-roll, or the end of the continuous recording's segment; ≤ 0: due
    # now); None: none is on its way (a clip shown, or nothing of this alert was kept).
    clip_ready_in_s: float | None = None
    # While the clip plays: where the people are in it, frame by frame (its track sidecar,
    # engine.record.tracks): ``clip_boxes`` in time order, in seconds of the clip file
    # played and pixels of its picture ``clip_size``; the alert's person is track
    # ``track_id`` (drawn bold, the others thin; None: not known, all drawn alike).
    # ``boxes_note``: why no boxes are drawn over a clip that should have them (its sidecar
    # missing or damaged), said quietly; "" otherwise.
    clip_boxes: tuple[TrackSample, ...] = ()
    clip_size: tuple[int, int] | None = None
    track_id: int | None = None
    boxes_note: str = ""


@dataclass(frozen=True, slots=True)
class ClipPending:
    """No clip covers the moment asked for yet, but the camera is recording one: it should be
    ready in about ``ready_in_s`` seconds (≤ 0: any moment; ask again then)."""

    ready_in_s: float


CLIP_DUE = "Recording… the clip should be ready any moment"


def clip_pending_text(seconds: float) -> str:
    """``Recording… about 12 s until the clip is ready``: what a pane says while the clip of
    an alert is still being recorded (never that none was kept); :data:`CLIP_DUE` once it
    is due (``seconds`` ≤ 0)."""
    if seconds <= 0:
        return CLIP_DUE
    return f"Recording… about {math.ceil(seconds)} s until the clip is ready"


class AlertActions(Protocol):
    """What the pane asks of the console. Both calls block (a store read, a wait on the store
    writer): the pane runs them off the GUI thread."""

    def list_alerts(self) -> AlertListing:
        """The recent alerts and every open one."""
        ...

    def acknowledge(self, alert_id: int, note: str = "") -> AlertView:
        """Close ``alert_id`` as the person logged in, with the operator's closing comment
        ``note`` (may be empty unless the alert's rule requires one); the engine checks and
        audits it."""
        ...

    def take(self, alert_id: int) -> AlertView:
        """Take ``alert_id`` as the person logged in: it is in progress, theirs."""
        ...

    def note(self, alert_id: int, text: str) -> AlertView:
        """Write ``text`` on ``alert_id``'s history as the person logged in."""
        ...

    def evidence(self, alert: AlertView) -> AlertEvidence:
        """What raised ``alert``: its event's picture, clip and words."""
        ...

    def escalate_alert(self, alert_id: int, text: str) -> Filed:
        """File alert ``alert_id`` (in any state) as an incident report with the operator's
        ``text``, as the person logged in (its event when one is stored, else at its place);
        the engine checks the permission and keeps the escalation in the alert's history."""
        ...

    def snooze(self, camera: str, minutes: int) -> SnoozeView:
        """Snooze camera ``camera``'s alerts for ``minutes`` (1-1440) as the person logged
        in (acknowledge permission; audited): its detections are still recorded, nothing
        is raised for it meanwhile."""
        ...

    def unsnooze(self, camera: str) -> SnoozeView:
        """End camera ``camera``'s snooze now as the person logged in (audited)."""
        ...


class SoundPlayer(Protocol):
    """Sounds the chime (GUI thread). :class:`widgets.alerts.view.AlertSound` is the console's."""

    def play(self) -> str:
        """Sound it now; returns how (``"effect"`` or ``"beep"``)."""
        ...
