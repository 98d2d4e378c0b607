"""What the Bookmarks pane asks of the console (:class:`BookmarkActions`) and the new
bookmark its form hands over.

No Qt here (``import widgets.bookmarks.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.history.bookmarks import BookmarkView
from engine.history.locks import LockView


@dataclass(frozen=True, slots=True)
class NewBookmark:
    """What the form asks for: times (aware; the form types them in site time), padding
    in seconds; ``camera`` (key) or ``room`` or neither (the whole site)."""

    title: str
    note: str
    marked_at: datetime
    pre_s: float
    post_s: float
    camera: str | None
    room: str | None


class BookmarkActions(Protocol):
    """Blocking writes the pane runs on query workers, as the person signed in."""

    def add_bookmark(self, bookmark: NewBookmark) -> BookmarkView: ...

    def remove_bookmark(self, bookmark_id: int) -> BookmarkView: ...

    def lock_bookmark(self, bookmark_id: int, reason: str) -> LockView: ...

    def unlock(self, lock_id: int, reason: str) -> LockView: ...
