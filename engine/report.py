"""What a running engine says of itself: its subsystems' health, one line each in a fixed
order (:mod:`engine.health`), and the figures of ``watchfloor engine --report``. Read
from the hosts the runtime composes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.alerts.host import alerts_report
from engine.config import SiteConfig
from engine.events import HealthState
from engine.health import HealthReport, gathered, store_health, threads_health
from engine.sensing.host import sensing_rooms
from engine.store.database import display_url
from engine.supervise import supervised_health

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime


def engine_health(rt: EngineRuntime) -> list[HealthReport]:
    """Current health of each subsystem, for the status bar and ``--selftest``."""
    writer = rt.writer.health() if rt.writer is not None else None
    reports: list[HealthReport | None] = [
        HealthReport("engine", HealthState.OK, f"site {rt.site.name}"),
        store_health(rt.store, writer, *rt.upkeep.problems()),
        rt.shared.followed_cameras([c.id for c in rt.site.cameras])
        if rt.shared.follower is not None
        else rt.cameras.health(shared=rt.cluster is not None),
    ]
    if rt.store is not None and not rt.attached:  # attached: nothing is recorded here
        reports.append(rt.recording.health(place_names(rt.site)))
    problems = [p for p in (rt.faces_problem, rt.gestures.problem) if p]
    reports += [rt.cameras.analytics_health(problems), rt.sensing.health()]
    reports += [rt.floor.health(rt.cameras.sources), rt.speech.health()]
    reports += rt.shared.health(len(rt.site.cameras))
    reports += [rt.mqtt.health(), threads_health()]
    return [r for r in reports if r is not None] + gathered(rt.health_sources)


def heartbeat(rt: EngineRuntime) -> dict[str, Any]:
    """What a shared site's engine says of itself at each heartbeat, for other machines: its
    subsystems' health and each camera it runs (state, its reason, frames a second)."""
    return {
        "subsystems": [
            {"name": r.subsystem, "state": r.state.value, "detail": r.detail}
            for r in rt.health()
            if r.subsystem != "cluster"
        ],
        "cameras": rt.cameras.heartbeat(),
    }


def engine_report(rt: EngineRuntime) -> dict[str, Any]:
    """Per-camera figures for ``watchfloor engine --report``: frames, fps while online,
    offline periods (ISO times, seconds), and every service's."""
    end = rt.clock.now()
    rooms = rt.sensing.report()
    return {
        "site": rt.site.name,
        "site_file": str(rt.site.file),
        "started_at": rt.started_at.isoformat() if rt.started_at else None,
        "ended_at": end.isoformat(),
        "store": display_url(str(rt.store.engine.url)) if rt.store else None,
        "events_written": rt.writer.health().written if rt.writer else 0,
        "store_writer": rt.writer.health().as_dict() if rt.writer else None,
        "media_lost_count": rt.media.total_lost,
        "media_lost": [lost.as_dict() for lost in rt.media.lost()],
        "listening": rt.listeners.report(),
        # Each supervised background thread: restarts after a failure, the last error.
        "background_threads": [h.as_dict() for h in supervised_health()],
        "cameras": rt.cameras.report(end),
        "cluster": rt.shared.report(),
        # The site's first room running here (a one-room site's room), as before rooms
        # had ids; "sensing_rooms" has every room's, by id.
        "sensing": next(iter(rooms.values()), {}).get("sensing"),
        "sensing_recording": next(iter(rooms.values()), {}).get("recording"),
        "sensing_rooms": rooms,
        "mqtt": rt.mqtt.report(),
        "alerts": alerts_report(rt.alerts, rt.site),
    }


def place_names(site: SiteConfig) -> dict[str, str]:
    """What a person calls each place of ``site``: camera ids and its sensing rooms' ids to
    their names (the words of events, reports and answers use them)."""
    names = {camera.id: camera.name for camera in site.cameras}
    names.update({room.room_id: room.name for room in sensing_rooms(site)})
    return names
