"""The re-run of a replayed range's sensing with other settings, in the console: opens
:class:`~widgets.sensing.compare.SensingRerunDialog` on the range the replay controller
plays, hands its requests to the controller (whose query workers do the re-runs) and
shows the controller's progress, results and failures in it. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from engine.history.replay import SensingComparison, SensingTimeline
from engine.sensing.recording.replay import ReplaySettings
from widgets.sensing.compare import SensingRerunDialog
from widgets.timeline.replay import ReplayController


class SensingRerun(QObject):
    """One re-run dialog at a time for ``replay``'s range, parented to ``window``; it
    follows a replaced range and closes when the replay ends."""

    def __init__(
        self, replay: ReplayController, window: QWidget, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._replay = replay
        self._window = window
        self.dialog: SensingRerunDialog | None = None
        replay.sig_replay_started.connect(self._on_replay_started)
        replay.sig_replay_stopped.connect(self.close)
        replay.sig_sensing_progress.connect(self._on_progress)
        replay.sig_sensing_loaded.connect(self._on_loaded)
        replay.sig_sensing_failed.connect(self._on_failed)
        replay.sig_sensing_compared.connect(self._on_compared)
        replay.sig_sensing_compare_failed.connect(self._on_compare_failed)

    def open(self) -> SensingRerunDialog | None:
        """Open (or raise) the dialog on the replayed range; None when no replay with a
        sensing recording is running."""
        room, playback = self._replay.room, self._replay.playback
        if room is None or playback is None:
            return None
        if self.dialog is None:
            settings = {
                "motion_threshold": room.motion_threshold,
                "voxel_m": room.voxel_m,
                "max_zone": room.max_zone,
            }
            dialog = SensingRerunDialog(
                room.room_id, settings, playback.start, playback.end, self._window
            )
            dialog.sig_rerun_requested.connect(self._on_rerun_requested)
            dialog.sig_compare_requested.connect(self._on_compare_requested)
            dialog.sig_cancel_requested.connect(self._replay.cancel_compare)
            dialog.sig_moment_requested.connect(self._replay.seek)
            self.dialog = dialog
        self.dialog.set_range(playback.start, playback.end)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def close(self) -> None:
        """Close the dialog (the replay ended, or the console closes)."""
        if self.dialog is not None:
            self.dialog.reject()
            self.dialog.deleteLater()
            self.dialog = None

    def _on_replay_started(self, *_args: object) -> None:
        playback = self._replay.playback
        if self.dialog is not None and playback is not None:
            self.dialog.set_range(playback.start, playback.end)

    def _on_rerun_requested(self, settings: ReplaySettings) -> None:
        self._replay.rerun_sensing(settings)

    def _on_compare_requested(self, settings: ReplaySettings) -> None:
        self._replay.compare_sensing(settings)

    def _on_progress(self, text: str, fraction: float | None) -> None:
        if self.dialog is not None:
            self.dialog.set_progress(text, fraction, cancellable=self._replay.comparing)

    def _on_loaded(self, timeline: SensingTimeline) -> None:
        if self.dialog is None or self._replay.comparing:
            return
        report = timeline.report
        settings = report.settings if report is not None else {}
        shown = ", ".join(f"{key.replace('_', ' ')} {value:g}" for key, value in settings.items())
        self.dialog.show_message(
            f"The 3D view shows the range re-run with {shown or 'the room’s settings'} "
            f"({len(timeline)} moments)."
        )

    def _on_failed(self, message: str) -> None:
        if self.dialog is not None:
            self.dialog.show_error(message)

    def _on_compared(self, comparison: SensingComparison) -> None:
        if self.dialog is not None:
            self.dialog.show_comparison(comparison)

    def _on_compare_failed(self, message: str, cancelled: bool) -> None:
        if self.dialog is None:
            return
        if cancelled:
            self.dialog.show_message(message)
        else:
            self.dialog.show_error(message)
