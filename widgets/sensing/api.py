"""What the Sensing pane asks of the engine: the rooms it runs, the explanation of a live
blob, and a room's pairing window (:class:`SensingActions`). It shows the engine's sensing
snapshots (:mod:`engine.sensing.view`) the console hands it, and the re-run dialog a
:class:`~engine.history.replay.SensingComparison`.

The pane counts people, not blobs (a walker may show as two blobs, and a ghost of crossing
links as one more), as the Activity pane does (:class:`SensedPeople`): the people named when
every blob is (by the registered device a room's matching gives it, or the name fusion gives
its person across senses), else the most there can be at once, and says which.

No Qt here (``import widgets.sensing.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.sensing.view import BlobExplanation, BlobView
from engine.text import printable
from engine.wording import counted

UNKNOWN = "unknown"  # who a blob is when nothing names it


def blob_name(blob: BlobView, fused: str | None = None) -> str | None:
    """Who ``blob`` is: the name its person has across senses (``fused``: from
    :meth:`~engine.fusion.service.FusionUpdated.names_on`), else the owner of the registered
    device the room matched to it; None when nothing names it."""
    if fused is not None and printable(fused).strip():
        return printable(fused)
    if blob.identity is not None and printable(blob.identity.name).strip():
        return printable(blob.identity.name)
    return None


@dataclass(frozen=True, slots=True)
class SensedPeople:
    """The people a room senses now: ``known`` the distinct names on its blobs, ``unnamed``
    the blobs nothing names, ``blobs`` all of them. Two blobs that carry one name are one
    person."""

    blobs: int = 0
    known: int = 0
    unnamed: int = 0

    @property
    def at_once(self) -> int:
        """The most people there can be now: each name once, each unnamed blob one."""
        return self.known + self.unnamed

    @property
    def people(self) -> int:
        """The people the pane counts: the named where every blob is named, else
        :attr:`at_once`."""
        return self.known if self.unnamed == 0 else self.at_once

    def words(self) -> str:
        """How the pane says it, as the Activity pane does: ``2 people known (3 blobs)`` when
        every blob is named, ``at most 3 people at once (3 blobs)`` when none is, ``at most
        2 people at once, 1 known (3 blobs)`` between; ``nobody sensed`` for no blob."""
        if self.blobs == 0:
            return "nobody sensed"
        blobs = counted(self.blobs, "blob")
        if self.unnamed == 0:
            return f"{counted(self.known, 'person', 'people')} known ({blobs})"
        most = f"at most {counted(self.at_once, 'person', 'people')} at once"
        if self.known == 0:
            return f"{most} ({blobs})"
        return f"{most}, {self.known} known ({blobs})"


def sensed_people(
    blobs: Sequence[BlobView], fused_names: Mapping[int, str] | None = None
) -> SensedPeople:
    """Count the people behind ``blobs`` (``fused_names``: blob id → the name fusion gives
    its person)."""
    fused = fused_names or {}
    names = [blob_name(b, fused.get(b.track_id)) for b in blobs]
    known = {name.casefold() for name in names if name is not None}
    unnamed = sum(name is None for name in names)
    return SensedPeople(blobs=len(names), known=len(known), unnamed=unnamed)


class SensingActions(Protocol):
    def rooms(self) -> list[tuple[str, str]]:
        """The sensing rooms the engine runs, ``(id, name)``."""
        ...

    def runs_elsewhere(self, room_id: str | None = None) -> str:
        """Why the live room ``room_id`` (None: the site's rooms) is not in this process
        ("" when it is): a console attached to a shared site shows the pictures its engines
        send, and says which engine explanations and pairing are done on."""
        ...

    def pairing_unavailable(self) -> str:
        """Why no node can be paired here ("" when real nodes can)."""
        ...

    def explain(self, room_id: str, track_id: int) -> BlobExplanation | None:
        """A live blob's explanation (memory only: may be called on the GUI thread)."""
        ...

    def open_pairing(self, seconds: int, room_id: str) -> datetime:
        """Open room ``room_id``'s pairing window (blocking: on a query worker); when it
        closes."""
        ...
