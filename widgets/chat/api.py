"""What the Ask pane asks of the console (:class:`ChatActions`) and the history it reads.

No Qt here (``import widgets.chat.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.history.chat import ChatAnswer, ChatTurn


@dataclass(frozen=True, slots=True)
class ChatHistory:
    """A user's conversation and the mode questions will be answered in."""

    turns: tuple[ChatTurn, ...]
    mode: str  # "llm" | "offline"
    mode_reason: str | None  # why offline (no key, keyring unreadable); None when online


class ChatActions(Protocol):
    """Blocking calls the pane runs on query workers (the console binds them to the engine
    and the person signed in)."""

    def history(self) -> ChatHistory:
        """The signed-in user's conversation, oldest first, and the answer mode."""
        ...

    def ask(self, question: str, offline: bool, on_text: Callable[[str], None]) -> ChatAnswer:
        """Answer ``question`` as the signed-in user (``offline``: never call the API),
        calling ``on_text`` (on the worker) with each piece of answer text as it streams,
        and keep both turns in the user's history."""
        ...

    def pictures(self, paths: Sequence[str]) -> dict[str, bytes]:
        """The snapshots at ``paths`` (relative to the data dir, as an answer's people give
        them), read bounded (:func:`engine.history.chat.read_pictures`), by path; those
        that cannot be read are left out."""
        ...
