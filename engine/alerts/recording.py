"""Alerts for recording that fails: "Recording failing on camera Gate: disk full",
"Recording failing in sensing room Lab sensing: disk full".

::

    MediaWriteFailed (a clip writer, camera worker, the face worker or a sensing recorder)
        └─▶ the place's first failure since its recording last worked: RaiseAlert
            (critical, kind "recording", source ``camera:<key>`` or ``sensing:<room>``,
            linked to its ``recording.failed`` event) ─▶ ``raised``
    MediaWriteRecovered (the first write that works again)
        └─▶ AcknowledgeAlert by the engine ("engine:recording-watch", with a note of what
            was lost) ─▶ ``cleared``
    RecordingGap at least the camera's ``gap_alert_s`` long (no continuous recording)
        └─▶ RaiseAlert (warning, linked to its ``recording.gap`` event) ─▶ ``raised``;
            an operator acknowledges it: the gap is over when it is reported

One alert per place per failing spell, however much it loses (its losses are stored events,
at most one a minute after the first): a full disk loses a clip every couple of seconds,
and an operator needs one alarm that says so, not a flood. The live engine runs this inside the
:class:`~engine.alerts.service.AlertService` (webhooks, escalation); ``watchfloor analyze``
runs it alone, so an analysis onto a full disk leaves the same alert behind.

Threads: :meth:`RecordingAlerts.on_event` runs on the publisher's thread and only submits
to the store writer; the callbacks run on the writer's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final

from engine.access import Actor, Role
from engine.alerts.records import AcknowledgeAlert, AlertView, RaiseAlert
from engine.clock import Clock
from engine.events import Event, MediaWriteFailed, MediaWriteRecovered, RecordingGap
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.commands import StoreCommand
from engine.store.writer import StoreWriter
from engine.text import printable
from engine.wording import duration_words

log = logging.getLogger(__name__)

RECORDING_WATCH: Final = Actor("recording-watch", frozenset({Role.ADMIN}), "engine")
ALERT_KIND: Final = "recording"


@dataclass(slots=True)
class _Failing:
    """A place whose recording alert is raised (``alert_id``) or on its way."""

    alert_id: int | None = None


class RecordingAlerts:
    """See the module docstring. ``camera_names``: camera key or room id → the name a
    person knows; ``raised``/``cleared`` get the stored alert; ``problem`` the words when
    the store refused a command."""

    def __init__(
        self,
        *,
        writer: StoreWriter,
        clock: Clock,
        raised: Callable[[AlertView], None],
        cleared: Callable[[AlertView], None],
        problem: Callable[[str], None],
        site: str | None = None,
        camera_names: Mapping[str, str] | None = None,
        site_time: SiteTime = UTC_TIME,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._raised = raised
        self._cleared = cleared
        self._problem = problem
        self._site = site
        self._camera_names = dict(camera_names or {})
        self._site_time = site_time
        self._lock = threading.Lock()
        self._failing: dict[str, _Failing] = {}  # by source: camera:<key>, sensing:<room>

    def on_event(self, event: Event) -> None:
        """Take a bus event (any thread); only media failures and recoveries, and gaps in
        the continuous recording, matter."""
        if isinstance(event, MediaWriteFailed):
            self._failed(event)
        elif isinstance(event, MediaWriteRecovered):
            self._recovered(event)
        elif isinstance(event, RecordingGap):
            self._gap(event)

    def _gap(self, gap: RecordingGap) -> None:
        if gap.alert_after_s is None or gap.seconds < gap.alert_after_s:
            return  # a short gap is an event in the history, not an alarm
        name = printable(self._camera_names.get(gap.camera) or gap.camera)
        command = RaiseAlert(
            raised_at=gap.at,
            kind=ALERT_KIND,
            source=f"camera:{gap.camera}",
            severity="warning",
            title=f"No recording on camera {name} for {duration_words(gap.seconds)}: {gap.reason}",
            detail={
                "camera": gap.camera,
                "started_at": gap.started_at.isoformat(),
                "ended_at": gap.ended_at.isoformat(),
                "seconds": round(gap.seconds, 1),
                "reason": gap.reason,
                "site": self._site,
            },
            event_kind="recording.gap",
        )
        self._submit(command, self._raised)

    def _where(self, event: MediaWriteFailed | MediaWriteRecovered) -> str:
        """``on camera Gate`` or ``in sensing room Lab sensing``."""
        if event.camera is not None:
            return f"on camera {printable(self._camera_names.get(event.camera) or event.camera)}"
        room = event.room or ""
        return f"in sensing room {printable(self._camera_names.get(room) or room)}"

    def _failed(self, event: MediaWriteFailed) -> None:
        source = event.source
        with self._lock:
            if source in self._failing:
                return  # raised (or being raised) for this spell already
            failing = self._failing[source] = _Failing()
        place = {"camera": event.camera} if event.camera is not None else {"room": event.room}
        command = RaiseAlert(
            raised_at=event.at,
            kind=ALERT_KIND,
            source=source,
            severity="critical",
            title=f"Recording failing {self._where(event)}: {event.reason}",
            detail={
                **place,
                "media": event.media,
                "reason": event.reason,
                "error": event.error,
                "since": event.since.isoformat(),
                "site": self._site,
            },
            event_kind="recording.failed",
        )
        where = self._where(event)
        self._submit(command, lambda alert: self._alert_stored(source, where, failing, alert))

    def _alert_stored(self, source: str, where: str, failing: _Failing, alert: AlertView) -> None:
        with self._lock:
            failing.alert_id = alert.alert_id
            still_failing = self._failing.get(source) is failing
        self._raised(alert)
        if not still_failing:  # it recovered while the alert was being stored
            self._clear(where, alert.alert_id, None, "file")

    def _recovered(self, event: MediaWriteRecovered) -> None:
        with self._lock:
            failing = self._failing.pop(event.source, None)
        if failing is not None and failing.alert_id is not None:
            unit = "file" if event.camera is not None else "record"
            self._clear(self._where(event), failing.alert_id, event.lost, unit)

    def _clear(self, where: str, alert_id: int, lost: int | None, unit: str) -> None:
        """The place's recording is written again: its alert is acknowledged by the engine,
        with a note saying so and what was lost (``lost`` of ``unit``: file, record)."""
        note = f"Recording {where} works again at {self._site_time.clock(self._clock.now())}"
        if lost:
            note += f"; {lost} {unit}{'s' if lost != 1 else ''} lost"
        command = AcknowledgeAlert(
            alert_id=alert_id, at=self._clock.now(), actor=RECORDING_WATCH, note=note
        )
        self._submit(command, self._cleared)

    def _submit(self, command: StoreCommand, then: Callable[[Any], None]) -> None:
        submit_then(self._writer, command, then, self._problem)


def submit_then(
    writer: StoreWriter,
    command: StoreCommand,
    then: Callable[[Any], None],
    problem: Callable[[str], None],
) -> None:
    """Submit ``command`` to ``writer`` and hand its result to ``then`` (on the writer's
    thread); a command the writer refuses or that fails is said to ``problem`` instead.
    The alert service and the recording alerts both write this way: never waiting."""
    try:
        future: Future[Any] = writer.submit(command)
    except Exception as exc:  # the writer refused it outright (stopping, failed)
        problem(f"{type(command).__name__}: {exc}")
        return

    def done(f: Future[Any]) -> None:
        try:
            result = f.result()
        except Exception as exc:
            problem(f"{type(command).__name__}: {exc}")
            return
        then(result)

    future.add_done_callback(done)
