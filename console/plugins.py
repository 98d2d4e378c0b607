"""The console's plugin list: every pane, in order, with the engine-side actions it is given.

Wall panes first, in the order they are placed (within a column, earlier is higher; tabs
are added in this order), then the administration window's pages in sidebar order. A pane
is a package under ``widgets/`` whose ``plugin.py`` declares it (title, permission, places,
how it is built and linked); adding one is that package and one line here (and, if it
needs the engine to do something no backend does yet, a module in ``console/backends/``).

The layouts this produces (each pane's ``plugin.py`` says its own place):
- Operator: cameras fill the left (the risk map behind them); the alert stream on the
  right (incidents and the alert list behind it) above live events (the sensing room, the
  introductions and the people behind them).
- Investigator: the event history on the left (incidents, risk map, alert list behind it)
  above the timeline with its replay bar (Ask and bookmarks behind it); the cameras on the
  right (the alert stream behind them) above the people.
- Admin: the cameras on the left (the risk map behind them); the sensing room on the right
  (the people behind it) above the events (alerts, alert list, incidents, introductions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.backends.alerts import AlertListBackend, AlertRulesBackend, AlertsBackend
from console.backends.camera_setup import CameraSetupBackend
from console.backends.cameras import FloorCalibrationBackend, PrivacyMasksBackend
from console.backends.chat import ChatBackend
from console.backends.devices import BleDevicesBackend
from console.backends.evidence import EvidenceBackend, TimelineBackend
from console.backends.gestures import GesturesBackend
from console.backends.incidents import IncidentsBackend
from console.backends.introductions import IntroductionsBackend
from console.backends.people import PeopleBackend
from console.backends.sensing import SensingBackend
from console.backends.system import SystemBackend
from console.remote_media import RemoteMedia
from console.session import ConsoleSession
from engine.data_dirs import sensing_recording_dir
from engine.frames import Frame
from engine.runtime import place_names
from widgets.accounts.plugin import PANE as ACCOUNTS
from widgets.activity.plugin import PANE as ACTIVITY
from widgets.alert_list.plugin import PANE as ALERT_LIST
from widgets.alert_rules.plugin import PANE as ALERT_RULES
from widgets.alerts.plugin import PANE as ALERTS
from widgets.appearance.plugin import PANE as APPEARANCE
from widgets.audit.plugin import PANE as AUDIT
from widgets.ble_devices.plugin import PANE as BLE_DEVICES
from widgets.bookmarks.plugin import PANE as BOOKMARKS
from widgets.camera_setup.plugin import PANE as CAMERA_SETUP
from widgets.cameras.plugin import PANE as CAMERAS
from widgets.chat.plugin import PANE as CHAT
from widgets.events.plugin import PANE as EVENTS
from widgets.floor_calibration.plugin import PANE as FLOOR_CALIBRATION
from widgets.gestures.plugin import PANE as GESTURES
from widgets.incidents.plugin import PANE as INCIDENTS
from widgets.introductions.plugin import PANE as INTRODUCTIONS
from widgets.meaning_search.plugin import PANE as MEANING_SEARCH
from widgets.pane import PaneSpec
from widgets.people.plugin import PANE as PEOPLE
from widgets.privacy_masks.plugin import PANE as PRIVACY_MASKS
from widgets.risk_map.plugin import PANE as RISK_MAP
from widgets.sensing.plugin import PANE as SENSING
from widgets.site.plugin import PANE as SITE
from widgets.system.plugin import PANE as SYSTEM
from widgets.timeline.plugin import PANE as TIMELINE

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime
    from engine.store.database import Store


@dataclass(frozen=True, slots=True)
class EngineParts:
    """What a backend is made from: the running engine, its store, the person at this
    console, where media live, and the cameras' newest frames."""

    runtime: EngineRuntime
    store: Store
    session: ConsoleSession
    media_root: Path
    frame_of: Callable[[str], Frame | None]
    # Attached: fetches other machines' recordings into media_root (None: all are local).
    recordings: RemoteMedia | None = None
    # This console's data dir, where media_root is not (attached: its cache is below it).
    data_root: Path | None = None


def _evidence(parts: EngineParts) -> EvidenceBackend:
    writer = parts.runtime.writer
    if writer is None:
        raise ValueError("the investigator's panes need the store writer")
    return EvidenceBackend(
        parts.store,
        writer,
        parts.runtime.clock,
        parts.session.require_actor,
        media_root=parts.media_root,
        # The signing key lives in the data dir, never in an attached console's cache.
        key_dir=parts.data_root or parts.media_root,
        fetch=parts.recordings.fetch_file if parts.recordings is not None else None,
        site_time=parts.runtime.site.site_time,  # report.html is on the site's clock
        place_names=place_names(parts.runtime.site),
    )


def _timeline(parts: EngineParts) -> TimelineBackend:
    # A replay re-runs the recording of the room the Sensing pane shows: any room running
    # here (the first, until the pane says otherwise).
    site = parts.runtime.site
    rooms = {
        room_id: (sensing.room, sensing_recording_dir(site.name, room_id))
        for room_id, sensing in parts.runtime.sensing.services.items()
    }
    room, directory = next(iter(rooms.values()), (None, None))
    return TimelineBackend(_evidence(parts), room, directory, parts.runtime.clock, rooms)


def _standard(kind: Callable[[EngineRuntime, Store, ConsoleSession], object]) -> MakeBackend:
    return lambda parts: kind(parts.runtime, parts.store, parts.session)


MakeBackend = Callable[[EngineParts], object]


@dataclass(frozen=True, slots=True)
class Plugin:
    """A pane and how its backend is made (None: it needs none)."""

    pane: PaneSpec
    backend: MakeBackend | None = None


PLUGINS: tuple[Plugin, ...] = (
    Plugin(CAMERAS),
    Plugin(
        ALERTS, lambda p: AlertsBackend(p.runtime, p.store, p.session, p.media_root, p.recordings)
    ),
    Plugin(SENSING, lambda parts: SensingBackend(parts.runtime, parts.session)),
    Plugin(EVENTS, _standard(IncidentsBackend)),
    Plugin(PEOPLE, _standard(PeopleBackend)),
    Plugin(INTRODUCTIONS, _standard(IntroductionsBackend)),
    Plugin(ACTIVITY),
    Plugin(RISK_MAP, _standard(IncidentsBackend)),
    Plugin(INCIDENTS, _standard(IncidentsBackend)),
    Plugin(
        ALERT_LIST,
        lambda p: AlertListBackend(p.runtime, p.store, p.session, p.media_root, p.recordings),
    ),
    Plugin(TIMELINE, _timeline),
    Plugin(CHAT, lambda p: ChatBackend(p.runtime, p.store, p.session, p.media_root, p.recordings)),
    Plugin(BOOKMARKS, _evidence),
    Plugin(APPEARANCE),
    Plugin(MEANING_SEARCH),
    Plugin(SITE),
    Plugin(CAMERA_SETUP, lambda parts: CameraSetupBackend(parts.runtime, parts.session)),
    Plugin(FLOOR_CALIBRATION, _standard(FloorCalibrationBackend)),
    Plugin(PRIVACY_MASKS, _standard(PrivacyMasksBackend)),
    Plugin(
        SYSTEM,
        lambda parts: SystemBackend(
            parts.runtime, parts.session, parts.data_root or parts.media_root
        ),
    ),
    Plugin(ACCOUNTS, lambda parts: parts.session),
    Plugin(ALERT_RULES, _standard(AlertRulesBackend)),
    Plugin(BLE_DEVICES, _standard(BleDevicesBackend)),
    Plugin(
        GESTURES,
        lambda p: GesturesBackend(p.runtime, p.store, p.session, p.frame_of),
    ),
    Plugin(AUDIT, lambda parts: parts.session),
)

PANES: tuple[PaneSpec, ...] = tuple(plugin.pane for plugin in PLUGINS)
