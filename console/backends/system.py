"""What the System pane may do: read the engine's status, run retention now, change a
setting, read and set how long each camera's footage is kept. Blocking calls, run on
query workers as the person logged in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from console.session import ConsoleSession
from engine.recording_settings import (
    ChangeRecordingTiers,
    RecordingTierError,
    RecordingTiersRequest,
    StoredTiers,
    recording_tiers,
)
from engine.settings import ChangeSetting
from engine.status import SystemStatusRequest
from engine.text import printable

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime


LINKS = ("mqtt", "recordings", "media")  # the System pane's Connections group
STORAGE_MAX_AGE_S = 60.0  # the pane's media and footage figures may be this old (s)


class SystemBackend:
    """Satisfies what :class:`widgets.system.view.SystemPane` is given."""

    def __init__(self, runtime: EngineRuntime, session: ConsoleSession, data_root: Path) -> None:
        self._runtime = runtime
        self._session = session
        self._data_root = data_root

    def status_request(self) -> SystemStatusRequest:
        """A request for the status the pane shows (the writer's health and the last
        retention run are read now, the rest on a query worker)."""
        runtime = self._runtime
        writer = runtime.writer
        retention = runtime.upkeep.retention
        last = retention.last_run if retention is not None else None
        return SystemStatusRequest(
            self._data_root,
            runtime.clock.now(),
            writer.health().as_dict() if writer is not None else None,
            last.at if last is not None else None,
            links=tuple(
                (r.subsystem, r.state.value, r.detail)
                for r in runtime.health()
                if r.subsystem in LINKS
            ),
            # The pane asks every few seconds; sums over a month of recording, once a minute.
            storage_max_age_s=STORAGE_MAX_AGE_S,
        )

    def run_retention_now(self) -> str:
        """Run retention once (it waits on the store writer); what it freed, in words."""
        # The engine checks the permission "run it now" needs, and audits the run.
        actor = self._session.require_actor("run retention")
        retention = self._runtime.upkeep.retention
        if retention is None:
            raise RuntimeError(
                "retention runs on each of the site's engines (each for the clips it "
                "keeps), not in this attached console"
                if self._runtime.attached
                else "retention does not run in this engine"
            )
        run = retention.run_once(requested_by=actor)
        if run.retention is None:
            raise RuntimeError(run.problem or "retention failed")
        report = run.retention
        summary = (
            f"{report.clips_deleted + report.pressure_clips_deleted} clips, "
            f"{report.events_deleted} events deleted, {report.bytes_freed / 2**20:.0f} MiB freed"
        )
        return f"{summary}; {run.problem}" if run.problem else summary

    def change_setting(self, key: str, value: int | tuple[str, ...]) -> None:
        """Store a setting as the person logged in, then apply it to the running engine
        (the detector cadence changes on running cameras)."""
        actor = self._session.require_actor("change settings")
        writer = self._runtime.writer
        if writer is None:
            raise RuntimeError("the engine runs without a database")
        writer.execute(
            ChangeSetting(key=key, value=value, at=self._runtime.clock.now(), actor=actor)
        )
        self._runtime.apply_settings()

    def recording_tiers_request(self) -> RecordingTiersRequest:
        """A request for each continuously recorded camera's retention tiers."""
        return RecordingTiersRequest(self._runtime.site)

    def change_recording_tiers(
        self, cameras: tuple[str, ...], tiers: dict[str, int | None]
    ) -> list[str]:
        """Set ``cameras``' tiers (None: the site file's again) as the person logged in;
        the cameras that changed. Every engine of the site takes them at its next
        retention pass. A camera this site does not record continuously is refused."""
        actor = self._session.require_actor("change settings")
        writer = self._runtime.writer
        if writer is None:
            raise RuntimeError("the engine runs without a database")
        known = {c.camera for c in recording_tiers(self._runtime.site, StoredTiers({})).cameras}
        unknown = [camera for camera in cameras if camera not in known]
        if unknown:
            raise RecordingTierError(
                f"{', '.join(printable(c) for c in unknown)}: not a camera of this site "
                "that records continuously"
            )
        change = ChangeRecordingTiers(
            cameras=cameras, tiers=tiers, at=self._runtime.clock.now(), actor=actor
        )
        change.check()
        changed: list[str] = writer.execute(change)
        return changed
