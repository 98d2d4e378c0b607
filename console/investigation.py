"""The investigator's panes, wired together: the timeline with the replay bar above it, the
chat pane, the bookmarks pane and the evidence export dialog.

How they follow each other (all on the GUI thread):

- Scrubbing the timeline, or activating one of its markers, replays the visible range of
  every camera (and the sensing room, when it is recorded) at that moment: the camera tiles
  and the 3D view switch to their REPLAY state and the replay bar appears; the timeline's
  cursor follows the replay clock. "Back to live" on the bar ends it.
- Activating an event the chat cited, or a bookmark, shows ten minutes around it on the
  timeline and replays from that moment; a cited event with a clip also opens the clip in
  the Events pane (:attr:`Investigation.sig_clip_requested`).
- "Sensing settings…" on the replay bar (when the range has a sensing recording) opens the
  re-run dialog: the replayed range's sensing shown with other settings, or compared with
  the room's own (blobs both found, and those only one did; a row replays its moment).
- The bookmarks pane's new bookmarks mark the timeline's cursor; a change redraws the
  timeline's bookmark lane; "Export…" (there, or under the timeline) opens the export
  dialog on the bookmark's or the visible range.

Nothing here reads the store or waits on I/O: the panes go through the query client and
the backends (:mod:`console.chat_backend`, :mod:`console.evidence_backend`), whose calls run
on query workers as the person signed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from console.chat_backend import ChatBackend
from console.evidence_backend import EvidenceBackend
from console.queries import QtQueryClient
from console.replay_controller import ReplayController
from console.sensing_rerun import SensingRerun
from console.session import ConsoleSession
from engine.access import Actor, Permission
from engine.history.bookmarks import BookmarkView
from engine.history.chat import Citation
from engine.history.timeline import TimelineMarker
from engine.paths import sensing_recording_dir
from engine.runtime import EngineRuntime
from engine.store.database import Store
from widgets.bookmarks.view import BookmarksPane
from widgets.cameras.view import CameraGrid
from widgets.chat.view import ChatPane
from widgets.evidence_export.view import EvidenceExportDialog
from widgets.sensing.view import SensingPane
from widgets.timeline.replay_bar import ReplayBar
from widgets.timeline.view import TimelinePane

AROUND = timedelta(minutes=5)  # a cited event or bookmark is shown with this either side


class Investigation(QObject):
    """Builds and connects the investigator's panes for one console window."""

    sig_clip_requested = Signal(str)
    """Play this clip (a path under the data dir) in the Events pane. GUI thread."""

    def __init__(
        self,
        runtime: EngineRuntime,
        store: Store,
        session: ConsoleSession,
        queries: QtQueryClient,
        *,
        grid: CameraGrid,
        sensing: SensingPane,
        media_root: Path,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runtime = runtime
        self._queries = queries
        self._media_root = media_root
        self._actor: Actor | None = None
        self._dialog: EvidenceExportDialog | None = None
        self._cameras = [(cam_id, s.camera.name) for cam_id, s in runtime.sources.items()]
        room = runtime.sensing.room if runtime.sensing is not None else None
        self._rooms = [room.room_id] if room is not None else []

        self.timeline = TimelinePane(queries, media_root)
        self.replay_bar = ReplayBar()
        self.replay_bar.setVisible(False)
        self.export_button = QPushButton("Export range…")
        self.export_button.setToolTip("Export the visible range as signed evidence")
        self.export_button.clicked.connect(self._on_export_range_clicked)
        self.export_button.setEnabled(False)
        self.timeline_widget = QWidget()
        layout = QVBoxLayout(self.timeline_widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.replay_bar)
        layout.addWidget(self.timeline, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)

        self.replay = ReplayController(
            queries,
            runtime.clock,
            media_root,
            grid,
            self.replay_bar,
            sensing_pane=sensing,
            sensing_directory=(
                None if room is None else sensing_recording_dir(runtime.site.name, room.room_id)
            ),
            room=room,
            parent=self,
        )
        self.chat_backend = ChatBackend(runtime, store, session)
        self.chat = ChatPane(queries, self.chat_backend)
        writer = runtime.writer
        if writer is None:
            raise ValueError("the investigator's panes need the store writer")
        self.evidence = EvidenceBackend(
            store,
            writer,
            runtime.clock,
            session.require_actor,
            media_root=media_root,
            key_dir=media_root,
            site_time=runtime.site.site_time,  # report.html is on the site's clock
        )
        self.bookmarks = BookmarksPane(
            queries, self.evidence, cameras=self._cameras, rooms=self._rooms, now=runtime.clock.now
        )

        self.timeline.sig_time_scrubbed.connect(self._on_time_scrubbed)
        self.timeline.sig_event_activated.connect(self._on_marker_activated)
        self.replay.sig_position_changed.connect(self.timeline.set_cursor)
        self.replay.sig_replay_started.connect(self._on_replay_started)
        self.replay.sig_replay_stopped.connect(self._on_replay_stopped)
        self.sensing_rerun = SensingRerun(self.replay, self.timeline_widget, parent=self)
        self.replay_bar.sig_sensing_requested.connect(self.sensing_rerun.open)
        self.chat.sig_citation_activated.connect(self._on_citation_activated)
        self.bookmarks.sig_bookmark_activated.connect(self._on_bookmark_activated)
        self.bookmarks.sig_export_requested.connect(self._on_bookmark_export_requested)
        self.bookmarks.sig_bookmarks_changed.connect(self.timeline.refresh)

    # -- who is signed in ----------------------------------------------------------------

    def set_actor(self, actor: Actor | None) -> None:
        """Someone signed in (their conversation and permissions), or nobody (cleared)."""
        previous, self._actor = self._actor, actor
        if actor is None:
            self.chat.clear()
            self.bookmarks.set_permissions(bookmark=False, lock=False)
            self.export_button.setEnabled(False)
            self.replay.stop()
            return
        self.bookmarks.set_permissions(
            bookmark=actor.may(Permission.BOOKMARK), lock=actor.may(Permission.LOCK_EVIDENCE)
        )
        self.export_button.setEnabled(actor.may(Permission.EXPORT))
        if previous is None or previous.name != actor.name:
            self.chat.clear()
            if actor.may(Permission.CHAT_HISTORY):
                self.chat.reload()
        if actor.may(Permission.REPLAY):
            self.bookmarks.refresh()
            self.timeline.refresh()

    def close_dialogs(self) -> None:
        """Close the export dialog and the sensing re-run dialog (the person who opened
        them locked or logged out)."""
        if self._dialog is not None:
            self._dialog.reject()
            self._dialog = None
        self.sensing_rerun.close()

    def close(self) -> None:
        """Stop a replay (its decoder thread), close the export dialog, and release the
        chat's HTTP client. Call after the query service has stopped (no question runs)."""
        self.replay.close()
        if self._dialog is not None:
            self._dialog.reject()
        self.sensing_rerun.close()
        self.chat_backend.close()

    # -- following each other ------------------------------------------------------------

    def replay_at(self, moment: datetime) -> None:
        """Replay the timeline's visible range (every camera) from ``moment``."""
        start, end = self.timeline.visible_range()
        if not start <= moment <= end:
            start, end = moment - AROUND, moment + AROUND
            self.timeline.set_range(start, end)
        if self.replay.active and self.replay.playback is not None:
            playback = self.replay.playback
            if playback.start <= moment <= playback.end:
                self.replay.seek(moment)
                return
        self.replay.start(start, end, None, at=moment)

    def show_moment(self, moment: datetime) -> None:
        """Show ten minutes around ``moment`` on the timeline and replay from there."""
        self.timeline.set_range(moment - AROUND, moment + AROUND)
        self.replay.start(moment - AROUND, moment + AROUND, None, at=moment)

    def _on_time_scrubbed(self, moment: datetime) -> None:
        self.bookmarks.set_moment(moment)
        self.replay_at(moment)

    def _on_marker_activated(self, marker: TimelineMarker) -> None:
        self.bookmarks.set_moment(marker.ts)
        self.replay_at(marker.ts)

    def _on_citation_activated(self, citation: Citation) -> None:
        self.bookmarks.set_moment(citation.ts)
        self.show_moment(citation.ts)
        if citation.clip_path:
            self.sig_clip_requested.emit(str(self._media_root / citation.clip_path))

    def _on_bookmark_activated(self, bookmark: BookmarkView) -> None:
        self.show_moment(bookmark.marked_at)

    def _on_replay_started(self, *_args: object) -> None:
        self.replay_bar.setVisible(True)

    def _on_replay_stopped(self) -> None:
        self.replay_bar.setVisible(False)
        self.timeline.set_cursor(None)

    # -- export --------------------------------------------------------------------------

    def _on_export_range_clicked(self) -> None:
        start, end = self.timeline.visible_range()
        self.open_export(start, end)

    def _on_bookmark_export_requested(self, bookmark: BookmarkView) -> None:
        self.open_export(bookmark.started_at, bookmark.ended_at)

    def open_export(self, start: datetime, end: datetime) -> EvidenceExportDialog | None:
        """Open the export dialog on ``start``–``end`` (one at a time); None if the person
        signed in may not export."""
        actor = self._actor
        if actor is None or not actor.may(Permission.EXPORT):
            return None
        if self._dialog is not None:
            self._dialog.reject()
        self._dialog = EvidenceExportDialog(
            self._queries,
            self.evidence,
            cameras=self._cameras,
            rooms=self._rooms,
            start=start,
            end=end,
            lock_allowed=actor.may(Permission.LOCK_EVIDENCE),
            parent=self.timeline_widget,
        )
        self._dialog.sig_export_finished.connect(self._on_export_finished)
        self._dialog.show()
        return self._dialog

    def _on_export_finished(self, _outcome: object) -> None:
        self.bookmarks.refresh_locks()
