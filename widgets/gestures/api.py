"""What the Gestures page and its teaching wizard ask of the console
(:class:`GestureActions`), with the progress and cancel callbacks and the live test's
result.

No Qt here (``import widgets.gestures.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.gestures.library import GestureView
from engine.gestures.teach import RecordedExample
from engine.gestures.templates import GestureTemplate
from engine.text import printable

TeachProgress = Callable[[str, float], None]
"""Progress of a blocking recording or read: the phase (``recording``, ``posing``,
``reading``) and the fraction done (0–1). Called on the worker thread."""


Cancelled = Callable[[], bool]
"""Asked by a blocking recording or read between frames: stop now (any thread)."""


@dataclass(frozen=True, slots=True)
class LiveTestResult:
    """A live test of a gesture being taught (``candidate``): the gesture that matched
    the camera's recording best (the candidate, a taught one, or None when nothing
    matched at all), its ``confidence`` (0–1), and the ``threshold`` the cameras
    recognise a gesture at."""

    candidate: str
    best_gesture: str | None
    confidence: float
    threshold: float

    @property
    def recognised(self) -> str | None:
        """The gesture a camera would report, or None."""
        return self.best_gesture if self.confidence >= self.threshold else None

    def text(self) -> str:
        """``recognised as wave (0.83)`` or ``not recognised (best 0.41)``."""
        if self.recognised is not None:
            return f"recognised as {printable(self.recognised)} ({self.confidence:.2f})"
        return f"not recognised (best {self.confidence:.2f})"


class GestureActions(Protocol):
    """What the pane and the wizard ask of the console. Every call blocks (a store read, a
    wait on the store writer, seconds of a camera): they are run off the GUI thread."""

    def list_gestures(self) -> list[GestureView]:
        """Every taught gesture with its usage."""
        ...

    def template(self, name: str) -> GestureTemplate:
        """Gesture ``name``'s normalised examples."""
        ...

    def record_example(
        self,
        camera: str,
        seconds: float,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> RecordedExample:
        """Record ``camera`` for ``seconds``: the one repetition performed in it."""
        ...

    def examples_from_file(
        self,
        path: str,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> list[RecordedExample]:
        """Every repetition in a recorded clip or video file."""
        ...

    def test_live(
        self,
        camera: str,
        seconds: float,
        examples: Sequence[RecordedExample],
        name: str,
        mirror: bool,
        progress: TeachProgress | None = None,
        cancelled: Cancelled | None = None,
    ) -> LiveTestResult:
        """Record ``camera`` and match it against the gesture being taught and the taught
        ones."""
        ...

    def save(
        self,
        name: str,
        examples: Sequence[RecordedExample],
        alerting: bool,
        mirror: bool,
        replace: bool,
    ) -> GestureView:
        """Teach gesture ``name`` from ``examples`` (whole or not at all)."""
        ...

    def rename(self, name: str, new_name: str) -> GestureView: ...

    def set_options(
        self, name: str, alerting: bool | None = None, mirror: bool | None = None
    ) -> GestureView: ...

    def remove(self, name: str) -> GestureView: ...
