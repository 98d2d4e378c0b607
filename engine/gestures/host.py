"""Taught gestures as the runtime runs them: the worker matching each camera's poses, and
the set of gestures it matches, read from the store at start and on :meth:`reload` (the
worker asks for the current set on every pose, so a swap needs no restart)."""

from __future__ import annotations

import logging

from engine.bus import EventBus
from engine.gestures.library import RecordGestureDetection, load_gesture_set
from engine.gestures.templates import EMPTY_SET, GestureSet
from engine.gestures.worker import GestureDetected, GestureWorker
from engine.settings import setting_values
from engine.store.database import Store
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)


class GestureHost:
    """``enabled``: match gestures at all (analytics on, a store); ``blocking``: a file
    analysis, whose poses are all matched (none dropped)."""

    def __init__(
        self,
        bus: EventBus,
        store: Store | None,
        writer: StoreWriter | None,
        *,
        enabled: bool,
        blocking: bool,
    ) -> None:
        self._bus = bus
        self._store = store
        self._writer = writer
        self._set: GestureSet = EMPTY_SET
        self._problem: str | None = None
        self.worker: GestureWorker | None = None
        if enabled:
            try:
                self.worker = GestureWorker(self.current, bus, blocking=blocking)
            except Exception as exc:  # mediapipe or the pose model missing: people still tracked
                log.exception("gesture recognition unavailable")
                self._problem = f"gestures unavailable: {exc}"

    def current(self) -> GestureSet:
        """The taught gestures cameras match now (empty: none taught, or none loaded). Any
        thread."""
        return self._set

    def reload(self) -> int:
        """Read the taught gestures from the store and match them from the next pose on
        (after teaching, renaming, removing a gesture or changing its options). Returns how
        many. Reads the store: call it off the GUI thread."""
        if self._store is None or self.worker is None:
            return 0
        percent = setting_values(self._store)["analytics.gesture_confidence_pct"]
        gestures = load_gesture_set(self._store, min_confidence=percent / 100)
        self._set = gestures
        return len(gestures.names)

    def apply_confidence(self, wanted: float) -> None:
        """The confidence a gesture needs was changed to ``wanted``: reload if it differs."""
        if self.worker is not None and self._set.min_confidence != wanted:
            self.reload()

    def start(self) -> None:
        """Load the taught gestures, count each detection for the gesture's usage
        statistics, start the worker. Templates that cannot be loaded leave gestures off
        (said in the analytics health); people are still tracked."""
        if self.worker is None:
            return
        try:
            count = self.reload()
        except Exception as exc:
            log.exception("taught gestures could not be loaded")
            self._problem = f"gestures off: {exc}"
        else:
            log.info("cameras match %d taught gestures", count)
        if self._writer is not None:
            writer = self._writer
            self._bus.subscribe(
                GestureDetected,
                lambda event: writer.post(
                    RecordGestureDetection(gesture=event.gesture, at=event.at)
                ),
            )
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()  # queued poses matched; landmarkers closed

    @property
    def problem(self) -> str | None:
        """Why gestures are not matched (None: they are, or were never asked for)."""
        return self._problem or (self.worker.problem if self.worker is not None else None)
