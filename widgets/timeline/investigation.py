"""The Timeline pane as the investigator uses it: the replay bar above the timeline, and
"Export range…" below it; it replays into the camera tiles and the sensing view.

- Scrubbing the timeline, or activating one of its markers, replays the visible range of
  every camera (and the sensing room, when it is recorded) at that moment: the camera tiles
  and the 3D view switch to their REPLAY state and the replay bar appears; the timeline's
  cursor follows the replay clock. "Back to live" on the bar ends it.
- :meth:`show_moment` (a cited event, a bookmark) shows ten minutes around a moment and
  replays from there; :meth:`show_path` (a path in the People pane) shows a person's path
  across senses whole, selected, and replays from its start. Clicking a path's bar on the
  timeline replays from that stretch's start.
- "Sensing settings…" on the replay bar (when the range has a sensing recording) opens the
  re-run dialog: the replayed range's sensing shown with other settings, or compared with
  the room's own (blobs both found, and those only one did; a row replays its moment).
- "Export…" opens the export dialog on a range (one at a time).

Nothing here reads the store or waits on I/O: the timeline and the replay go through the
query client, exports through the evidence actions (on query workers, as the person
logged in).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from engine.access import Actor, Permission
from engine.history.paths import PersonPath
from widgets.cameras.view import CameraGrid
from widgets.evidence_export.view import EvidenceExportDialog
from widgets.queries import QueryClient
from widgets.sensing.view import SensingPane
from widgets.timeline.api import TimelineSources
from widgets.timeline.replay import ReplayController
from widgets.timeline.replay_bar import ReplayBar
from widgets.timeline.sensing_rerun import SensingRerun
from widgets.timeline.view import TimelinePane

AROUND = timedelta(minutes=5)  # a cited event or bookmark is shown with this either side
PATH_MARGIN = timedelta(minutes=1)  # a path is shown with at least this either side


class InvestigationPane(QWidget):
    """The timeline with its replay bar and export button. The replay is made by
    :meth:`attach` (it needs the camera grid and the sensing pane, other panes)."""

    sig_moment_chosen = Signal(object)
    """The person scrubbed to, or activated a marker at, this moment (UTC datetime)."""

    sig_export_finished = Signal()
    """An export ended (a lock may have changed)."""

    def __init__(
        self,
        queries: QueryClient,
        sources: TimelineSources,
        *,
        cameras: list[tuple[str, str]],
        rooms: list[str],
        media_root: Path,
        parent: QWidget | None = None,
        room_names: Sequence[tuple[str, str]] = (),
        fetch_recording: Callable[[Path], Path] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch_recording = fetch_recording  # attached: clips kept on other machines
        self._queries = queries
        self._sources = sources
        self._cameras = cameras
        names = dict(room_names)
        self._rooms = [(room_id, names.get(room_id, room_id)) for room_id in rooms]
        self._media_root = media_root
        self._actor: Actor | None = None
        self._dialog: EvidenceExportDialog | None = None
        self.replay: ReplayController | None = None
        self.sensing_rerun: SensingRerun | None = None

        self.timeline = TimelinePane(
            queries, media_root, names={**dict(room_names), **dict(cameras)}, now=now
        )
        self.replay_bar = ReplayBar()
        self.replay_bar.setVisible(False)
        self.export_button = QPushButton("Export range…")
        self.export_button.setToolTip("Export the visible range as signed evidence")
        self.export_button.clicked.connect(lambda: self.open_export(*self.timeline.visible_range()))
        self.export_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.replay_bar)
        layout.addWidget(self.timeline, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        self.timeline.sig_time_scrubbed.connect(self._on_moment_chosen)
        self.timeline.sig_event_activated.connect(lambda marker: self._on_moment_chosen(marker.ts))
        self.timeline.sig_stretch_activated.connect(
            lambda _path, stretch: self._on_moment_chosen(stretch.start)
        )

    def attach(self, grid: CameraGrid, sensing: SensingPane | None) -> ReplayController:
        """Make the replay: into ``grid``'s tiles and ``sensing``'s 3D view."""
        sources = self._sources
        self.replay = ReplayController(
            self._queries,
            sources.clock,
            self._media_root,
            grid,
            self.replay_bar,
            sensing_pane=sensing,
            sensing_directory=sources.sensing_directory,
            room=sources.room,
            parent=self,
            fetch_recording=self._fetch_recording,
        )
        self.replay.sig_position_changed.connect(self.timeline.set_cursor)
        self.replay.sig_replay_started.connect(lambda *_args: self.replay_bar.setVisible(True))
        self.replay.sig_replay_stopped.connect(self._on_replay_stopped)
        self.sensing_rerun = SensingRerun(self.replay, self, parent=self)
        self.replay_bar.sig_sensing_requested.connect(self.sensing_rerun.open)
        if sensing is not None:
            sensing.sig_blob_clicked.connect(self.replay.explain_blob)
            sensing.sig_room_selected.connect(self._on_sensing_room_selected)
            if sensing.current_room_id is not None:
                self._on_sensing_room_selected(sensing.current_room_id)
        return self.replay

    def _on_sensing_room_selected(self, room_id: str) -> None:
        """The Sensing pane shows another room: a replay re-runs that room's recording."""
        # Backends written before sites had several rooms replay their one room.
        sensing_room = getattr(self._sources, "sensing_room", None)
        found = sensing_room(room_id) if sensing_room is not None else None
        if found is not None and self.replay is not None:
            self.replay.set_room(*found)

    # -- who is logged in ----------------------------------------------------------------
    def on_actor_changed(self, actor: Actor | None) -> None:
        self._actor = actor
        self.export_button.setEnabled(actor is not None and actor.may(Permission.EXPORT))
        if actor is None:
            if self.replay is not None:
                self.replay.stop()
        elif actor.may(Permission.REPLAY):
            self.timeline.refresh()

    def close_what_was_opened(self) -> None:
        """Close the export dialog and the sensing re-run dialog (the person who opened
        them locked or logged out)."""
        if self._dialog is not None:
            self._dialog.reject()
            self._dialog = None
        if self.sensing_rerun is not None:
            self.sensing_rerun.close()

    def shut_down(self) -> None:
        """Stop a replay (its decoder thread) and close the dialogs; once no query runs."""
        self.close_what_was_opened()
        if self.replay is not None:
            self.replay.close()

    # -- moving in time ------------------------------------------------------------------
    def replay_at(self, moment: datetime) -> None:
        """Replay the timeline's visible range (every camera) from ``moment``."""
        replay = self.replay
        if replay is None:
            return
        start, end = self.timeline.visible_range()
        if not start <= moment <= end:
            start, end = moment - AROUND, moment + AROUND
            self.timeline.set_range(start, end)
        if replay.active and replay.playback is not None:
            playback = replay.playback
            if playback.start <= moment <= playback.end:
                replay.seek(moment)
                return
        replay.start(start, end, None, at=moment)

    def show_moment(self, moment: datetime) -> None:
        """Show ten minutes around ``moment`` on the timeline and replay from there."""
        self.timeline.set_range(moment - AROUND, moment + AROUND)
        if self.replay is not None:
            self.replay.start(moment - AROUND, moment + AROUND, None, at=moment)

    def show_path(self, path: PersonPath) -> None:
        """Show ``path`` whole (at least ten minutes, centred on it) with it selected, and
        replay from its start."""
        middle = path.start + (path.end - path.start) / 2
        half = max(AROUND, (path.end - path.start) / 2 + PATH_MARGIN)
        self.timeline.select_path(path.event_id)
        self.timeline.set_range(middle - half, middle + half)
        if self.replay is not None:
            self.replay.start(middle - half, middle + half, None, at=path.start)

    def _on_moment_chosen(self, moment: datetime) -> None:
        self.timeline.stop_following()  # a replay from a moment: the range stays put
        self.sig_moment_chosen.emit(moment)
        self.replay_at(moment)

    def _on_replay_stopped(self) -> None:
        self.replay_bar.setVisible(False)
        self.timeline.set_cursor(None)

    # -- export --------------------------------------------------------------------------
    def open_export(self, start: datetime, end: datetime) -> EvidenceExportDialog | None:
        """Open the export dialog on ``start``–``end`` (one at a time); None if the person
        logged in may not export."""
        actor = self._actor
        if actor is None or not actor.may(Permission.EXPORT):
            return None
        if self._dialog is not None:
            self._dialog.reject()
        self._dialog = EvidenceExportDialog(
            self._queries,
            self._sources.evidence,
            cameras=self._cameras,
            rooms=self._rooms,
            start=start,
            end=end,
            lock_allowed=actor.may(Permission.LOCK_EVIDENCE),
            parent=self,
        )
        self._dialog.sig_export_finished.connect(lambda _outcome: self.sig_export_finished.emit())
        self._dialog.show()
        return self._dialog
