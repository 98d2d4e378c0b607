"""What the evidence export dialog asks of the console (:class:`EvidenceActions`), what
to export and what an export wrote.

No Qt here (``import widgets.evidence_export.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from engine.history.evidence import ExportResult


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """What to export: ``start``–``end`` (UTC), cameras and rooms (None: all), the folder,
    and a reason to lock the range against retention (None: no lock)."""

    start: datetime
    end: datetime
    cameras: tuple[str, ...] | None
    rooms: tuple[str, ...] | None
    folder: Path
    lock_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """What an export wrote, and the evidence lock made for it (its id, or None)."""

    result: ExportResult
    lock_id: int | None


class EvidenceActions(Protocol):
    def export(
        self, spec: ExportSpec, progress: Callable[[int, int], None], cancel: threading.Event
    ) -> ExportOutcome:
        """Export ``spec`` as the person signed in (blocks; a query worker), calling
        ``progress(done, total)`` with bytes copied; raises on failure or when ``cancel``
        is set, leaving nothing at the folder."""
        ...
